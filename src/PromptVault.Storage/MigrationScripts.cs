using System.Globalization;
using System.Reflection;

namespace PromptVault.Storage;

/// <summary>A store's numbered schema scripts, embedded as <c>Migrations/NNN_name.sql</c>.</summary>
internal static class MigrationScripts
{
    private const string ResourceFolder = ".Migrations.";

    /// <summary>The scripts embedded in <paramref name="assembly"/>, by version.</summary>
    /// <exception cref="InvalidOperationException">A script is not numbered, or the numbers are not 1, 2, 3, ... without gaps.</exception>
    public static IReadOnlyList<MigrationScript> Load(Assembly assembly)
    {
        var scripts = new List<MigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var folder = resource.IndexOf(ResourceFolder, StringComparison.Ordinal);
            if (folder < 0 || !resource.EndsWith(".sql", StringComparison.Ordinal)) continue;

            var name = resource[(folder + ResourceFolder.Length)..^".sql".Length];
            var digits = name.Split('_')[0];
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
                throw new InvalidOperationException($"Migration script '{resource}' must start with its number, e.g. 002_add_x.sql.");

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            scripts.Add(new MigrationScript(version, name, reader.ReadToEnd()));
        }
        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < scripts.Count; i++)
        {
            if (scripts[i].Version != i + 1)
                throw new InvalidOperationException($"Migration scripts must be numbered 1, 2, 3, ... without gaps or repeats; found {string.Join(", ", scripts.Select(s => s.Name))}.");
        }
        return scripts;
    }

    /// <exception cref="InvalidOperationException">Always: the database was migrated by a newer PromptVault.</exception>
    public static InvalidOperationException NewerThanKnown(string database, int stored, int known) =>
        new($"The database {database} has schema version {stored}, newer than this PromptVault knows ({known}); upgrade PromptVault.");
}

internal sealed record MigrationScript(int Version, string Name, string Sql);
