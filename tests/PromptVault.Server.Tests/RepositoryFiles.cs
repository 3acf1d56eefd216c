namespace PromptVault.Server.Tests;

/// <summary>Files of the repository the tests check against (docs), found from the test's output folder.</summary>
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string Docs(string file) => Path.Combine(Root, "docs", file);

    /// <summary>The Markdown a user reads: the READMEs (the repository's, the SDK package's, the samples') and docs/*.md.</summary>
    public static IEnumerable<string> MarkdownDocuments =>
        new[] { Path.Combine(Root, "README.md"), Path.Combine(Root, "src", "PromptVault.Client", "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md"))
            .Concat(Directory.GetFiles(Path.Combine(Root, "samples"), "README.md", SearchOption.AllDirectories));

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PromptVault.slnx"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("PromptVault.slnx not found above the test folder.");
    }
}
