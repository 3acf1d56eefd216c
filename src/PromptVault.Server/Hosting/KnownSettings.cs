using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.FileProviders;
using PromptVault.Core;

namespace PromptVault.Server.Hosting;

/// <summary>
/// Refuses, as <c>serve</c> starts and before <c>admin-key</c> opens a database, a key under <see cref="Section"/> that nothing
/// reads (<see cref="ReadSetting"/>): a misspelt key (<c>PromptVault__Webhook__MaxAttempts</c>) would otherwise leave its
/// setting at the default, unsaid.
/// The framework's <c>BinderOptions.ErrorOnUnknownConfiguration</c> does not do it: it looks only inside a section bound to an
/// options class, so a misspelt section (<c>PromptVault:Webhook</c>) and the keys read directly (<c>PromptVault:Postgres</c>,
/// <c>PromptVault:Prices</c>) go unseen, and its refusal names the .NET type, not where the key was set nor the key meant.
/// </summary>
internal static class KnownSettings
{
    public const string Section = "PromptVault";

    /// <exception cref="InvalidOperationException">A key under <see cref="Section"/> is set that none of <paramref name="read"/> covers; the message names each such key, where it was set, and the closest known key.</exception>
    public static void RefuseUnknown(IConfiguration configuration, IEnumerable<ReadSetting> read)
    {
        var known = read.SelectMany(setting => setting.Keys).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var refusals = KeysSet(configuration.GetSection(Section))
            .Where(key => !known.Any(pattern => Matches(pattern, key)))
            .Select(key => $"configuration {key} ({WhereSet(configuration, key)}) is not a setting of the server; " +
                (Closest(key, known) is { } meant ? $"did you mean {meant}? " : "") + "docs/deployment.md lists the settings.")
            .ToList();
        if (refusals.Count > 0)
            throw new InvalidOperationException(string.Join(" ", refusals));
    }

    /// <summary>The keys under <paramref name="section"/> that have a value (an empty section, <c>{}</c> or <c>null</c> in JSON, sets nothing).</summary>
    private static IEnumerable<string> KeysSet(IConfigurationSection section) =>
        section.GetChildren().SelectMany(child => child.Value is null ? KeysSet(child) : KeysSet(child).Prepend(child.Path));

    /// <summary>Whether <paramref name="key"/> is <paramref name="pattern"/>, in any case, a segment in braces standing for any name.</summary>
    private static bool Matches(string pattern, string key)
    {
        var patternSegments = pattern.Split(':');
        var keySegments = key.Split(':');
        return patternSegments.Length == keySegments.Length && patternSegments.Zip(keySegments)
            .All(pair => IsAnyName(pair.First) || string.Equals(pair.First, pair.Second, StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsAnyName(string segment) => segment.StartsWith('{');

    /// <summary>The known key closest to <paramref name="key"/>, its names in braces taken from <paramref name="key"/> (<c>PromptVault:Models:default:Endpoint</c>).</summary>
    private static string? Closest(string key, IEnumerable<string> known)
    {
        var keySegments = key.Split(':');
        return Suggestions.Closest(key, known.Select(pattern => string.Join(':', pattern.Split(':')
            .Select((segment, i) => IsAnyName(segment) && i < keySegments.Length ? keySegments[i] : segment))), ignoreCase: true);
    }

    /// <summary>The environment variable that sets <paramref name="key"/> (<c>PromptVault__Postgres</c>; read in any case).</summary>
    public static string AsEnvironmentVariable(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>
    /// The variable of the process environment that sets <paramref name="key"/>, spelt as it is set there: configuration hands a
    /// key back in another case (<c>PromptVault:WEBHOOKS:…</c> for <c>PROMPTVAULT__WEBHOOKS__…</c>). A provider may read the
    /// environment under a prefix (<c>DOTNET_</c>), whose variables end the same way; the shortest name is the one without.
    /// </summary>
    private static string AsSetInTheEnvironment(string key)
    {
        var variable = AsEnvironmentVariable(key);
        return Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(name => name.EndsWith(variable, StringComparison.OrdinalIgnoreCase))
            .MinBy(name => name.Length) ?? variable;
    }

    /// <summary>Where <paramref name="key"/>'s value comes from, for the operator to find it: the last source that sets it, as <see cref="PromptVaultServer.StorageSettingSources"/> names them.</summary>
    private static string WhereSet(IConfiguration configuration, string key)
    {
        var provider = (configuration as IConfigurationRoot)?.Providers.LastOrDefault(p => p.TryGet(key, out var value) && value is not null);
        return provider switch
        {
            CommandLineConfigurationProvider => "set on the command line",
            EnvironmentVariablesConfigurationProvider => $"set in the environment as {AsSetInTheEnvironment(key)}",
            FileConfigurationProvider { Source: { FileProvider: PhysicalFileProvider files } source } =>
                $"set in {source.Path} in {Path.TrimEndingDirectorySeparator(files.Root)}",
            null => "set",
            _ => $"set by {provider}",
        };
    }
}
