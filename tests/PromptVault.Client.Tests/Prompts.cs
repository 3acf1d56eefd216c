using System.Text.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;

namespace PromptVault.Client.Tests;

/// <summary>Prompts and experiments made through the real API, as a team would make them.</summary>
internal static class Prompts
{
    public static string NewName(string stem) => $"{stem}-{Guid.CreateVersion7():N}"[..(stem.Length + 13)];

    /// <summary>Creates a prompt whose version 1.0.0 is labelled production; returns its version id.</summary>
    public static async Task<string> CreateAsync(PromptVaultClient api, string name, string content, IReadOnlyList<VariableDefinition>? variables = null,
        PromptMetadata? metadata = null, PromptType type = PromptType.System, CancellationToken cancellationToken = default)
    {
        var created = await api.CreatePromptAsync(new CreatePromptRequest(name, Type: type, Content: content, Variables: variables, Metadata: metadata), cancellationToken);
        await api.MoveLabelAsync(name, Label.Production, created.LatestVersion.Id, cancellationToken);
        return created.LatestVersion.Id;
    }

    /// <summary>Adds a version; returns its id.</summary>
    public static async Task<string> AddVersionAsync(PromptVaultClient api, string name, string content, CancellationToken cancellationToken = default) =>
        (await api.CreateVersionAsync(name, new CreateVersionRequest(content, ChangeDescription: "test"), cancellationToken)).Id;

    /// <summary>A running experiment over the given versions (control first) with the given weights.</summary>
    public static async Task<ExperimentResponse> StartExperimentAsync(PromptVaultClient api, string prompt, IReadOnlyList<(string VersionId, decimal Weight)> variants,
        CancellationToken cancellationToken = default)
    {
        var experiment = await api.CreateExperimentAsync(new CreateExperimentRequest(NewName("exp"), prompt,
            variants.Select((v, i) => new VariantRequest(i == 0 ? "control" : $"variant-{i}", v.VersionId, v.Weight)).ToList()), cancellationToken);
        return await api.ChangeExperimentAsync(experiment.Id, ExperimentCommand.Start, cancellationToken);
    }

    /// <summary>A prompt with versions "one" (production) and "two", and a running 50/50 experiment between them.</summary>
    public static async Task<(string One, string Two, ExperimentResponse Experiment)> SplitAsync(PromptVaultClient api, string name,
        CancellationToken cancellationToken = default)
    {
        var one = await CreateAsync(api, name, "one", cancellationToken: cancellationToken);
        var two = await AddVersionAsync(api, name, "two", cancellationToken);
        return (one, two, await StartExperimentAsync(api, name, [(one, 50m), (two, 50m)], cancellationToken));
    }

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
