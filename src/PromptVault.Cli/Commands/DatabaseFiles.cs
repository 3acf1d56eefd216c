namespace PromptVault.Cli.Commands;

/// <summary>Checks a <c>--db FILE</c> before anything opens it.</summary>
internal static class DatabaseFiles
{
    /// <param name="mustExist">True when the command must not create a database (admin-key).</param>
    /// <returns>A one-line problem naming the option, or null when the path can be used.</returns>
    public static string? Check(string database, bool mustExist = false)
    {
        var path = Path.GetFullPath(database);
        if (Directory.Exists(path)) return $"--db {database}: {path} is a folder, not a database file.";
        var folder = Path.GetDirectoryName(path);
        if (folder is not null && !Directory.Exists(folder)) return $"--db {database}: the folder {folder} does not exist.";
        if (mustExist && !File.Exists(path)) return $"--db {database}: no database file at {path}.";
        return null;
    }
}
