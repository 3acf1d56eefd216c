namespace PromptVault.Core;

/// <summary>
/// What a client is told when the server's URL reaches PromptVault but none of its routes (404 <c>not_found</c>): most often a
/// URL with a path such as /api, to which the client adds its own /api/…. The CLI and the SDK word it the same way, each naming its own setting.
/// </summary>
public static class ServerUrls
{
    /// <summary>The hint for <paramref name="setting"/> (e.g. <c>PromptVault:ServerUrl</c>), naming <paramref name="defaultUrl"/> where the setting has one.</summary>
    public static string RootUrlHint(string setting, string? defaultUrl = null) =>
        $"{setting} takes the root URL 'promptvault serve' prints{(defaultUrl is null ? "" : $" (default {defaultUrl})")}, with no path such as /api.";
}
