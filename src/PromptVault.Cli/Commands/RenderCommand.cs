using System.Globalization;
using System.Text.Json;
using PromptVault.Client;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;

namespace PromptVault.Cli.Commands;

/// <summary>
/// <c>render NAME [--var k=v]... [--vars FILE.json] [--unit ID] [--label L] [--version V]</c>: resolves and renders on the
/// server and prints the text. <c>--vars</c> holds typed JSON values; a <c>--var</c> value is text, read as JSON when the
/// version served declares the variable a number, boolean, array or object (so <c>--var max_items=3</c> sends 3), and
/// refused (exit 2) when it is not one, saying how to pass it; with
/// <c>--unit</c> and a running experiment, that is the version of the unit's variant.
/// <c>--var</c> wins over <c>--vars</c>. A <c>--var</c> the version does not declare is refused (exit 2), naming the declared ones.
/// </summary>
internal sealed class RenderCommand(CliContext context)
{
    public async Task<int> InvokeAsync(RemoteSettings remote, string name, IReadOnlyList<string> vars, string? varsFile,
        string? unitId, string? label, string? version, CancellationToken cancellationToken)
    {
        var pairs = new List<(string Name, string Value)>();
        foreach (var pair in vars)
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            if (at <= 0)
            {
                context.WriteError($"--var '{pair}' must be NAME=VALUE.");
                return ExitCodes.Usage;
            }
            pairs.Add((pair[..at], pair[(at + 1)..]));
        }

        Dictionary<string, JsonElement> variables;
        try
        {
            variables = varsFile is null ? new(StringComparer.Ordinal) : await ReadVarsFileAsync(varsFile, cancellationToken);
        }
        catch (CliException e)
        {
            context.WriteError(e.Message, code: e.Code);
            return e.ExitCode;
        }

        return await context.CallServerAsync(remote, async client =>
        {
            if (pairs.Count > 0)
            {
                var (served, types) = await DeclaredTypesAsync(client, name, unitId, label, version, cancellationToken);
                foreach (var (key, value) in pairs)
                    variables[key] = types.TryGetValue(key, out var type) ? ToJson(key, value, type) : throw UnknownVariable(key, served, types.Keys);
            }

            var rendered = await client.RenderAsync(name, new RenderRequest(variables, unitId, label, version), cancellationToken);
            // The answer names the variant an experiment chose but not the unit it chose for: that is what was sent.
            var json = JsonSerializer.SerializeToNode(rendered, CliJson.Options)!.AsObject();
            json.Insert(json.IndexOf("variantId") + 1, "unitId", unitId);
            return context.Print(remote.Json, json, () =>
                context.Out.WriteLine(rendered.Messages is null ? rendered.Content : ChatMarkdown.Format(rendered.Messages).TrimEnd('\n')));
        }, cancellationToken);
    }

    private static async Task<Dictionary<string, JsonElement>> ReadVarsFileAsync(string path, CancellationToken cancellationToken)
    {
        if (CliException.NotAFile(path) is { } why) throw CliException.Usage($"--vars {why}");
        try
        {
            using var document = JsonDocument.Parse(await CliException.ReadAllTextAsync(path, cancellationToken), Unambiguous);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw CliException.Usage($"--vars {path}: must hold a JSON object of variable names and values.");
            return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
        }
        catch (JsonException e)
        {
            throw CliException.Usage($"--vars {path}: not valid JSON: {e.Message}");
        }
    }

    /// <summary>
    /// The variable types of the version the render will serve: the version named; else, when the prompt's running experiment
    /// picks it (<see cref="Serving.ByExperiment"/>), the unit's variant as the server assigns it; else the label's (or the
    /// latest, when the label names none, for the server to refuse).
    /// </summary>
    private static async Task<(VersionResponse Served, Dictionary<string, VariableType> Types)> DeclaredTypesAsync(PromptVaultClient client, string name, string? unitId, string? label, string? version,
        CancellationToken cancellationToken)
    {
        VersionResponse target;
        if (version is not null)
        {
            target = await client.GetVersionAsync(name, version, cancellationToken);
        }
        else if (Serving.ByExperiment(unitId, version, label) && await AssignedVersionAsync(client, name, unitId, cancellationToken) is { } assigned)
        {
            target = await client.GetVersionAsync(name, assigned, cancellationToken);
        }
        else
        {
            var prompt = await client.GetPromptAsync(name, cancellationToken);
            target = prompt.Labels.TryGetValue(label ?? Label.Production, out var labelled) && labelled != prompt.LatestVersion.Version
                ? await client.GetVersionAsync(name, labelled, cancellationToken)
                : prompt.LatestVersion;
        }
        return (target, target.Variables.ToDictionary(v => v.Name, v => v.Type, StringComparer.Ordinal));
    }

    /// <summary>
    /// A <c>--var</c> the version does not declare. The server ignores a variable it does not declare (a caller may send one set of
    /// variables to several prompts), so a misspelt name would render with the default, or fail as missing: the CLI refuses it.
    /// </summary>
    private static CliException UnknownVariable(string key, VersionResponse served, IReadOnlyCollection<string> declared)
    {
        var closest = Suggestions.Closest(key, declared);
        var known = declared.Count == 0 ? "it declares no variables" : $"it declares {string.Join(", ", declared.Order(StringComparer.Ordinal))}";
        return CliException.Usage($"--var {key}: {served.PromptName} {served.Version} has no variable '{key}' ({known})" +
            (closest is null ? "." : $"; did you mean '{closest}'?") +
            " The server would ignore it, so the CLI refuses it; a --vars FILE.json may hold variables a prompt does not declare.");
    }

    /// <summary>The version id the prompt's running experiment assigns <paramref name="unitId"/>; null when none is running.</summary>
    private static async Task<string?> AssignedVersionAsync(PromptVaultClient client, string name, string unitId, CancellationToken cancellationToken)
    {
        var running = (await client.ListExperimentsAsync(name, cancellationToken)).Experiments.FirstOrDefault(e => e.Status == ExperimentStatus.Running);
        return running is null ? null : (await client.GetAssignmentAsync(running.Id, unitId, cancellationToken)).VersionId;
    }

    /// <summary>A <c>--var</c> value as the declared type wants it.</summary>
    /// <exception cref="CliException">The variable is declared a number, boolean, array or object and the text is not one (sent as a string,
    /// the server's refusal said the value was a string, not that the CLI had not read it as JSON).</exception>
    private static JsonElement ToJson(string key, string value, VariableType type)
    {
        var parsed = type switch
        {
            VariableType.Boolean when bool.TryParse(value, out var flag) => flag ? "true" : "false",
            VariableType.Number when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) => TryJson(value, JsonValueKind.Number),
            VariableType.Array => TryJson(value, JsonValueKind.Array),
            VariableType.Object => TryJson(value, JsonValueKind.Object),
            _ => null,
        };
        if (parsed is not null) return JsonElement.Parse(parsed);
        if (type == VariableType.String) return JsonSerializer.SerializeToElement(value, PromptVaultJson.Options);
        var (wanted, example) = type switch
        {
            VariableType.Boolean => ("true or false", $"--var {key}=true"),
            VariableType.Number => ("a JSON number", $"--var {key}=3"),
            VariableType.Array => ("a JSON array", $"--var '{key}=[\"a\", \"b\"]'"),
            _ => ("a JSON object", $"--var '{key}={{\"key\": \"value\"}}'"),
        };
        throw CliException.Usage($"--var {key}: '{value}' is not {wanted}, as {key} is declared ({Names.Of(type)}); " +
            $"pass one (quoted for the shell), e.g. {example}, or put it in a --vars FILE.json.", "invalid_variable");
    }

    // A name given twice is refused here, as the server refuses it, rather than sent (or, in --vars, a crash building the dictionary).
    private static readonly JsonDocumentOptions Unambiguous = new() { AllowDuplicateProperties = false };

    private static string? TryJson(string text, JsonValueKind kind)
    {
        try
        {
            using var document = JsonDocument.Parse(text, Unambiguous);
            return document.RootElement.ValueKind == kind ? text : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
