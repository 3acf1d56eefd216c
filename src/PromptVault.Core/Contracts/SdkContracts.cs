using System.Text.Json.Serialization;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Contracts;

/// <summary>
/// Everything an SDK needs to resolve and render prompts in process (<c>GET /api/sdk/snapshot</c>, SPEC §8): each prompt's
/// labelled versions and every running experiment's variants, with their versions.
/// </summary>
/// <param name="Sequence">The registry change feed's sequence number the snapshot reflects. It only grows: a client that
/// has seen a snapshot never takes one with a smaller sequence (SPEC §8: never serve a version whose label moved away).
/// The response's ETag is derived from it.</param>
/// <param name="AssignmentVersion">The assignment algorithm's version (<c>Assignment.AlgorithmVersion</c>); a client that
/// does not know it must refuse the snapshot rather than assign units differently from the server.</param>
/// <param name="GeneratedAt">When the server built it; a client reports its age from this.</param>
public sealed record SdkSnapshot(
    long Sequence,
    int AssignmentVersion,
    DateTimeOffset GeneratedAt,
    IReadOnlyList<SdkPrompt> Prompts,
    IReadOnlyList<SdkExperiment> Experiments);

/// <summary>A prompt as the SDK sees it.</summary>
/// <param name="Labels">Label name → version id (<c>production</c>, <c>staging</c>, …). A label absent here is not served.</param>
/// <param name="Versions">Every version a label or a running experiment's variant points at, the newest version, and the versions these include by number (<c>{{&gt; name@1.2.0}}</c>), each once.</param>
public sealed record SdkPrompt(
    string Name,
    PromptType Type,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<SdkVersion> Versions)
{
    /// <summary>The id of the prompt's newest version, served for the version reference <c>latest</c> as the server's render
    /// serves it; absent in snapshots from servers before it was added.</summary>
    public string? Latest { get; init; }

    /// <summary>Version number → version id of every archived version of the prompt: never served, so the SDK refuses one
    /// named by number or id with <c>version_archived</c>, as the server's render does; absent in snapshots from servers
    /// before it was added.</summary>
    public IReadOnlyDictionary<string, string>? Archived { get; init; }
}

/// <summary>One immutable version: what a render needs (template, input contract) and the model settings.</summary>
public sealed record SdkVersion(
    string Id,
    string Version,
    string Content,
    IReadOnlyList<VariableDefinition> Variables,
    PromptMetadata Metadata)
{
    /// <summary>The version's lifecycle status; an <c>archived</c> version (a running experiment's variant can be one) is never
    /// served, as the server's render refuses it (<c>version_archived</c>).</summary>
    public VersionStatus Status { get; init; }

    /// <summary>A chat prompt's messages (then <see cref="Content"/> is empty); absent for a text prompt.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<PromptMessage>? Messages { get; init; }
}

/// <summary>A running experiment: the prompt it splits, its assignment seed and its variants in order (control first).</summary>
public sealed record SdkExperiment(
    string Id,
    string Prompt,
    ulong HashSeed,
    IReadOnlyList<SdkVariant> Variants);

/// <summary>A variant: its weight in percent and the version it serves.</summary>
public sealed record SdkVariant(string Id, string Name, string VersionId, decimal Weight);

/// <summary>The data of a <c>snapshot</c> event on <c>GET /api/sdk/stream</c>: the snapshot changed (or, on connect, what it is now).</summary>
/// <param name="Sequence">The new snapshot's <see cref="SdkSnapshot.Sequence"/>.</param>
/// <param name="ETag">The ETag <c>GET /api/sdk/snapshot</c> answers with for it, quotes included.</param>
public sealed record SdkSnapshotEvent(long Sequence, [property: JsonPropertyName("etag")] string ETag);

/// <summary>Exposures recorded by an SDK that resolved locally (<c>POST /api/exposures</c>, SPEC §5).</summary>
public sealed record ExposureBatchRequest(IReadOnlyList<ExposureRequest> Exposures);

/// <summary>One exposure: the unit saw the variant. <paramref name="Timestamp"/> defaults to the time the server received it.</summary>
public sealed record ExposureRequest(string ExperimentId, string VariantId, string UnitId, DateTimeOffset? Timestamp = null);

/// <summary>The answer to <c>POST /api/exposures</c>, sent once every exposure is stored.</summary>
/// <param name="Received">Exposures in the batch.</param>
/// <param name="Recorded">Those that were their unit's first exposure in the experiment; the rest were already stored and count once.</param>
public sealed record ExposureRecordResponse(int Received, int Recorded);
