namespace PromptVault.Server.Tests;

/// <summary>Files of the repository the tests check against (docs), found from the test's output folder.</summary>
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string Docs(string file) => Path.Combine(Root, "docs", file);

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PromptVault.slnx"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("PromptVault.slnx not found above the test folder.");
    }
}
