using PromptVault.Core.Prompts;
using PromptVault.Core.Contracts;
using PromptVault.Core.Models;
using PromptVault.Core.Registry;

namespace PromptVault.Core.Playground;

/// <summary>
/// The playground (SPEC §10): renders several versions of a prompt with the same variables and, when a model is configured,
/// asks it each one at once, so the answers can be compared side by side. The API and the dashboard both call this.
/// </summary>
public sealed class PlaygroundService(PromptRegistry registry, ModelCatalog models, ModelCaller caller)
{
    /// <summary>The most versions and drafts one request may run: each is a paid model call.</summary>
    public const int MaxVersions = 4;

    /// <exception cref="InvalidInputException">The request is malformed, a variable is missing or invalid, or the model is not configured.</exception>
    /// <exception cref="NotFoundException">The prompt, a version or a label does not exist.</exception>
    /// <exception cref="NotConfiguredException">A model was named and none is configured.</exception>
    /// <exception cref="UpstreamFailedException">The model failed for every run (one that answered is kept, the others carry their error).</exception>
    public async Task<PlaygroundResponse> RunAsync(PlaygroundRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Prompt))
            throw new InvalidInputException("missing_prompt", "prompt is required: the name of the prompt to run.", "prompt");
        var versions = request.Versions ?? [];
        var drafts = request.Drafts ?? [];
        if (versions.Count + drafts.Count is 0 or > MaxVersions)
            throw new InvalidInputException("invalid_versions",
                $"versions and drafts together must list 1 to {MaxVersions} runs: versions each {{ \"version\" }} or {{ \"label\" }}, drafts each {{ \"content\" }} or {{ \"messages\" }}; this request lists {versions.Count + drafts.Count}.", "versions");
        // A named model that is not there is refused before anything runs; with none named and none configured, only renders.
        var model = request.Model is null && models.Names.Count == 0 ? null : models.Require(request.Model);

        var prompt = await registry.RequireServedPromptAsync(request.Prompt, cancellationToken);
        var renders = new List<(RenderResponse Render, bool Draft)>(versions.Count + drafts.Count);
        for (var i = 0; i < versions.Count; i++)
        {
            var named = RequireNamed(versions[i], i);
            var render = new RenderRequest(request.Variables, Label: named.Label, Version: named.Version);
            var version = await registry.ServedVersionAsync(prompt, render, cancellationToken);
            if (version.Status == VersionStatus.Archived)
                throw new ConflictException("version_archived",
                    $"versions[{i}] is version {version.Version} of '{prompt.Name}', which is archived, so the playground cannot run it (an archived version never renders); " +
                    "run a version that is not archived, or paste its content as a draft to try it.", $"versions[{i}]");
            renders.Add((await registry.RenderAsync(prompt, version, render, cancellationToken: cancellationToken), false));
        }
        for (var i = 0; i < drafts.Count; i++)
        {
            var draft = drafts[i] ?? throw new InvalidInputException("invalid_draft", $"drafts[{i}] is null; a draft is an object with content or messages.", $"drafts[{i}]");
            renders.Add((await registry.RenderDraftAsync(prompt, draft, request.Variables, $"drafts[{i}]", cancellationToken), true));
        }
        if (model is null)
            return new PlaygroundResponse(prompt.Name, null, renders.Select(r => Result(r.Render, r.Draft, null, null)).ToList());

        var answers = await Task.WhenAll(renders.Select(r => AnswerOrFailureAsync(model, r.Render, cancellationToken)));
        // One failed call does not drop the answers already paid for: each run carries its answer or its error; with none, it is the 502.
        if (answers.All(a => a.Failure is not null))
            throw answers[0].Failure!;
        return new PlaygroundResponse(prompt.Name, model.Name, renders.Select((r, i) => Result(r.Render, r.Draft, answers[i].Answer, answers[i].Failure)).ToList());
    }

    private async Task<(ModelAnswer? Answer, UpstreamFailedException? Failure)> AnswerOrFailureAsync(
        ConfiguredModel model, RenderResponse render, CancellationToken cancellationToken)
    {
        try
        {
            return (await caller.AnswerAsync(model, render, cancellationToken), null);
        }
        catch (UpstreamFailedException e)
        {
            return (null, e);
        }
    }

    /// <summary>
    /// An entry that names no version would render as a render with neither does, the production version: a typo (<c>versoin</c>)
    /// or an empty value would silently run the wrong version, or be a 404 for a production label the caller never asked for.
    /// One naming both would run the version and drop the label unsaid, which a render refuses too (<see cref="Serving.LabelAndVersion"/>).
    /// </summary>
    private static PlaygroundVersion RequireNamed(PlaygroundVersion? version, int index)
    {
        var entry = $"versions[{index}]";
        if (version is { Version: not null, Label: not null })
            throw new InvalidInputException("label_and_version", Serving.LabelAndVersion($"{entry}.label", $"{entry}.version"), entry);
        return version is { Version: null or { Length: > 0 }, Label: null or { Length: > 0 } } && (version.Version ?? version.Label) is not null
            ? version
            : throw new InvalidInputException("invalid_versions",
                $"{entry} names no version: each entry is {{ \"version\": \"1.0.2\" }} (a number, an id or latest) or {{ \"label\": \"production\" }}.",
                entry);
    }

    // A chat render shows in its readable text form (`## role` headings), the one prompt files and compare use.
    private static PlaygroundResult Result(RenderResponse render, bool draft, ModelAnswer? answer, UpstreamFailedException? failure) =>
        new(render.Version, draft ? null : render.VersionId, render.Content ?? ChatMarkdown.Format(render.Messages ?? []), render.Metadata,
            answer?.Output, answer?.ModelId, answer?.LatencyMs, answer?.InputTokens, answer?.OutputTokens, answer?.Cost, draft ? true : null,
            failure?.Message);
}
