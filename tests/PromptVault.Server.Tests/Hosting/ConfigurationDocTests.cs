using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Tests.Hosting;

/// <summary>
/// docs/deployment.md's configuration table lists every setting the server reads, as whatever reads one registers it
/// (<see cref="ReadSetting"/>), with the default its options class gives it, and no setting the server does not read.
/// </summary>
public sealed partial class ConfigurationDocTests
{
    [Fact]
    public async Task EverySettingRead_IsInTheConfigurationTable_WithItsDefault()
    {
        var expected = (await SettingsRead()).SelectMany(Defaults).ToDictionary(e => e.Key, e => e.Default, StringComparer.Ordinal);
        var documented = Documented();
        Assert.NotEmpty(documented);

        var wrong = expected.Where(e => !documented.TryGetValue(e.Key, out var d) || (e.Value is not null && d != e.Value))
            .Select(e => $"{e.Key} (default {e.Value ?? "not the class's"}, documented {(documented.TryGetValue(e.Key, out var d) ? d : "not at all")})")
            .Concat(documented.Keys.Where(k => !expected.ContainsKey(k)).Select(k => $"{k} (not read by the server)"))
            .ToList();
        Assert.True(wrong.Count == 0, "docs/deployment.md's configuration table is wrong: " + string.Join("; ", wrong));
    }

    /// <summary>The settings registered as the server is built, the ones it refuses any other key beside.</summary>
    private static async Task<List<ReadSetting>> SettingsRead()
    {
        await using var app = PromptVaultServer.Build(new ServerOptions { DatabasePath = Path.Combine(Path.GetTempPath(), "unused.db"), Urls = "http://127.0.0.1:0" });
        return app.Services.GetServices<ReadSetting>().ToList();
    }

    /// <summary>
    /// Each key of <paramref name="setting"/> with the default its options class gives it, as the table writes it: none when the class
    /// has no defaults (<see cref="PromptVault.Core.Metrics.ModelPrice"/>, whose values are all given); null, not checked, for a key read directly.
    /// </summary>
    private static IEnumerable<(string Key, string? Default)> Defaults(ReadSetting setting)
    {
        if (setting.Options is not { } options)
            return [(setting.Key, null)];
        var defaults = options.GetConstructor(Type.EmptyTypes) is null ? null : Activator.CreateInstance(options);
        return setting.Keys.Select(key => (key, (string?)Format(defaults is null ? null : options.GetProperty(key.Split(':')[^1])!.GetValue(defaults))));
    }

    /// <summary>The keys of docs/deployment.md's configuration table, each with its default as written there.</summary>
    private static Dictionary<string, string> Documented()
    {
        var documented = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(RepositoryFiles.Docs("deployment.md")))
            if (Row().Match(line) is { Success: true } row) documented[row.Groups["key"].Value] = row.Groups["default"].Value.Trim();
        return documented;
    }

    public static IEnumerable<string> DocumentedKeys() => Documented().Keys;

    /// <summary>The default docs/deployment.md gives <paramref name="key"/>, as a configuration value (no backticks).</summary>
    public static string DocumentedDefault(string key) => Documented()[key].Trim('`');

    /// <summary>A default as the table writes it: a time span as .NET reads it back (<c>00:00:15</c>), no value as <c>none</c>.</summary>
    private static string Format(object? value) => value switch
    {
        null => "none",
        bool b => b ? "`true`" : "`false`",
        TimeSpan t => $"`{t.ToString("c", CultureInfo.InvariantCulture)}`",
        IFormattable f => $"`{f.ToString(null, CultureInfo.InvariantCulture)}`",
        _ => $"`{value}`",
    };

    [GeneratedRegex(@"^\|\s*`(?<key>PromptVault:[^`]+)`\s*\|(?<default>[^|]*)\|")]
    private static partial Regex Row();
}
