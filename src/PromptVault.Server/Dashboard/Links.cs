namespace PromptVault.Server.Dashboard;

/// <summary>Dashboard URLs; prompt names may hold '/', which travels escaped in a path segment.</summary>
internal static class Links
{
    public static string Prompt(string name) => "/prompts/" + Uri.EscapeDataString(name);

    public static string Edit(string name) => Prompt(name) + "/edit";

    public static string Compare(string name, string a, string b) => $"{Prompt(name)}/compare?a={Uri.EscapeDataString(a)}&b={Uri.EscapeDataString(b)}";

    public static string CompareRuns(string name, string a, string b) => $"{Prompt(name)}/evaluations?a={Uri.EscapeDataString(a)}&b={Uri.EscapeDataString(b)}";

    public static string Playground(string name) => "/playground?prompt=" + Uri.EscapeDataString(name);
    public static string NewExperiment(string name) => "/experiments/new?prompt=" + Uri.EscapeDataString(name);

    public static string Experiment(string id) => "/experiments/" + Uri.EscapeDataString(id);

    /// <summary>The page a missing dashboard address, prompt, version or experiment shows, with status 404.</summary>
    public const string NotFound = "/not-found";

    /// <summary>The sign-in page saying the sign-in ended, back to <paramref name="returnUrl"/> once signed in again.</summary>
    public static string SignInEnded(string returnUrl) => "/login?ended=true&ReturnUrl=" + Uri.EscapeDataString(returnUrl);
}
