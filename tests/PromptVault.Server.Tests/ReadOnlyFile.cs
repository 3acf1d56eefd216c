using System.Diagnostics;

namespace PromptVault.Server.Tests;

/// <summary>
/// Makes a file read-only for this process and its children until disposed. Permissions do not bind root, so as root the
/// file is made immutable (chattr +i), which does.
/// </summary>
public sealed class ReadOnlyFile : IDisposable
{
    private readonly string path;

    private ReadOnlyFile(string path) => this.path = path;

    private static bool IsRoot => Environment.UserName == "root";

    public static ReadOnlyFile Make(string path)
    {
        var file = new ReadOnlyFile(path);
        File.SetAttributes(path, FileAttributes.ReadOnly);
        if (IsRoot) Chattr("+i", path);
        return file;
    }

    public void Dispose()
    {
        if (IsRoot) Chattr("-i", path);
        File.SetAttributes(path, FileAttributes.Normal);
    }

    private static void Chattr(string flag, string path)
    {
        using var chattr = Process.Start(new ProcessStartInfo("chattr", [flag, path]) { RedirectStandardError = true })!;
        var error = chattr.StandardError.ReadToEnd();
        chattr.WaitForExit();
        Assert.True(chattr.ExitCode == 0, $"chattr {flag} {path}: {error}");
    }
}
