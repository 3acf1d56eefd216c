namespace PromptVault.Cli.Tests;

/// <summary>A temporary folder for prompt files, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("promptvault-cli-test-").FullName;

    public string Write(string fileName, string text)
    {
        var path = System.IO.Path.Combine(Path, fileName);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    public string File(string fileName) => System.IO.Path.Combine(Path, fileName);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { /* best effort: a temp folder */ }
    }
}
