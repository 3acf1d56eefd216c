using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Models;
using PromptVault.Server.Api;
using PromptVault.Server.Auth;
using PromptVault.Server.Webhooks;

namespace PromptVault.Server.Tests.Hosting;

/// <summary>
/// docs/deployment.md's configuration table lists every setting of the server's options classes, with the default the class
/// gives it, and no setting the server does not read. Settings read without an options class are listed in <see cref="ReadDirectly"/>.
/// </summary>
public sealed partial class ConfigurationDocTests
{
    private static readonly (string Section, object Defaults)[] Options =
    [
        (ImportOptions.SectionName, new ImportOptions()),
        ("PromptVault:Sdk", new SdkStreamOptions()),
        (FailedAuthentication.ConfigurationSection, new FailedAuthenticationOptions()),
        (KeyLimitsOptions.ConfigurationSection, new KeyLimitsOptions()),
        ("PromptVault:Webhooks", new WebhookOptions()),
        (EvaluationsOptions.SectionName, new EvaluationsOptions()),
        ($"{ModelOptions.SectionName}:{{name}}", new ModelOptions()),
    ];

    private static readonly string[] ReadDirectly = ["PromptVault:Postgres", "PromptVault:Metrics:Prometheus", "PromptVault:Prices:{model}"];

    [Fact]
    public void EveryOptionsSetting_IsInTheConfigurationTable_WithItsDefault()
    {
        var expected = Options.SelectMany(o => o.Defaults.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.CanWrite)
                .Select(p => (Key: $"{o.Section}:{p.Name}", Default: Format(p.GetValue(o.Defaults)))))
            .ToDictionary(e => e.Key, e => e.Default, StringComparer.Ordinal);
        var documented = Documented();
        Assert.NotEmpty(documented);

        var wrong = expected.Where(e => !documented.TryGetValue(e.Key, out var d) || d != e.Value)
            .Select(e => $"{e.Key} (default {e.Value}, documented {(documented.TryGetValue(e.Key, out var d) ? d : "not at all")})")
            .Concat(documented.Keys.Where(k => !expected.ContainsKey(k) && !ReadDirectly.Contains(k)).Select(k => $"{k} (not read by the server)"))
            .ToList();
        Assert.True(wrong.Count == 0, "docs/deployment.md's configuration table is wrong: " + string.Join("; ", wrong));
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
