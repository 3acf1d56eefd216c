using System.Text.Json;
using PromptVault.Core.Audit;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;

namespace PromptVault.Storage.Testing;

/// <summary>Prompts, versions, experiments, metric events and audit entries to store, and a JSON form to compare what comes back.</summary>
public static class Samples
{
    // Seven fractional digits, so a lossy timestamp format would show.
    public static readonly DateTimeOffset Now = new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero).AddTicks(1_234_567);

    private static readonly JsonSerializerOptions CompareOptions = new(JsonSerializerDefaults.Web);

    public static IReadOnlyList<VariableDefinition> Variables { get; } =
    [
        new("customer", VariableType.String, "Who is asking", Required: true, Validation: "^[A-Za-z ]+$"),
        new("greeting", VariableType.String, DefaultValue: Element("\"Hello\"")),
        new("temperature", VariableType.Number, DefaultValue: Element("0.70")),
        new("formal", VariableType.Boolean, DefaultValue: Element("false")),
        new("items", VariableType.Array, DefaultValue: Element("""[1, "two", {"three": null}]""")),
        new("context", VariableType.Object, Required: true, DefaultValue: Element("""{"tier": "gold", "nested": {"ok": true}}""")),
    ];

    public static PromptMetadata Metadata { get; } = new()
    {
        Model = "gpt-4o", Temperature = 0.3, MaxTokens = 512, TopP = 0.95, FrequencyPenalty = 0.1, PresencePenalty = -0.25,
        Tags = ["support", "email"], Category = "support",
    };

    public static Prompt Prompt(string name, PromptType type = PromptType.Template, string? category = null, params string[] tags) =>
        new(NewId(), name, $"The {name} prompt", type, tags, category, Now, "alice", Now, "alice");

    /// <summary>Version <paramref name="sequence"/> of the prompt, numbered 1.0.(sequence − 1) unless given.</summary>
    public static PromptVersion Version(Prompt prompt, int sequence, SemanticVersion? number = null, VersionStatus status = VersionStatus.Draft) =>
        new(NewId(), prompt.Id, sequence, number ?? new SemanticVersion(1, 0, sequence - 1), $"Hello {{{{customer}}}}, take {sequence}.",
            Variables, Metadata, $"change {sequence}", "bob", Now.AddMinutes(sequence), status);

    public static AuditEntry Audit(string action, string? promptName, string? subject = null) =>
        new(0, Now, "alice", action, promptName, subject,
            new Dictionary<string, string?> { ["status"] = "draft", ["previous"] = null },
            new Dictionary<string, string?> { ["status"] = "review", ["note"] = "ünïcode ✓" });

    /// <summary>The audit entry an import is given (the store adds what it imported).</summary>
    public static AuditEntry Imported => new(0, Now, "importer", AuditActions.RegistryImported, null, null, null, new Dictionary<string, string?> { ["merge"] = "false" });

    /// <summary>What creating a prompt writes: the prompt, its first version and two audit entries.</summary>
    public static PromptChanges Created(Prompt prompt, PromptVersion first) => new()
    {
        NewPrompt = prompt,
        NewVersion = first,
        Audit = [Audit(AuditActions.PromptCreated, prompt.Name), Audit(AuditActions.VersionCreated, prompt.Name, first.Version.ToString())],
    };

    public static LabelChange Label(Prompt prompt, string label, string? from, string? to) => new(prompt.Id, label, from, to, Now, "carol");

    /// <summary>A stored prompt with two versions, for experiments and metrics to refer to.</summary>
    public static async Task<(Prompt Prompt, PromptVersion First, PromptVersion Second)> SeedPromptAsync(IPromptStore store, string name)
    {
        var prompt = Prompt(name);
        var first = Version(prompt, 1);
        var second = Version(prompt, 2);
        await store.SaveAsync(Created(prompt, first), TestContext.Current.CancellationToken);
        await store.SaveAsync(new PromptChanges { NewVersion = second }, TestContext.Current.CancellationToken);
        return (prompt, first, second);
    }

    /// <summary>A three-variant experiment (control on the first version) with every optional field set except the outcome.</summary>
    public static Experiment Experiment(Prompt prompt, PromptVersion control, PromptVersion challenger, string name = "headline",
        ExperimentStatus status = ExperimentStatus.Draft, DateTimeOffset? createdAt = null) =>
        new(NewId(), prompt.Id, prompt.Name, name, $"Which {name} converts better",
            [new Variant(NewId(), "control", control.Id, 33.33m), new Variant(NewId(), "shorter", challenger.Id, 33.33m),
                new Variant(NewId(), "warmer", challenger.Id, 33.34m)],
            MetricName.ConversionRate, 1_000, 0.95, 0.10, 0.8, [new Guardrail(MetricName.ErrorRate, 0.10), new Guardrail(MetricName.AvgLatencyMs, 0.25)],
            PromoteWinner: true, status, HashSeed: ulong.MaxValue - 42, Winner: null, StatusReason: null,
            createdAt ?? Now, "alice", createdAt ?? Now, StartedAt: null, EndedAt: null);

    /// <summary>A stored prompt with two versions and a running <see cref="Experiment"/> on them, the first version its control's.</summary>
    public static async Task<(PromptVersion Control, Experiment Experiment)> SeedRunningExperimentAsync<TStore>(TStore store, string name)
        where TStore : IPromptStore, IExperimentStore
    {
        var (prompt, first, second) = await SeedPromptAsync(store, name);
        var experiment = Experiment(prompt, first, second, status: ExperimentStatus.Running);
        await store.CreateExperimentAsync(experiment, [], TestContext.Current.CancellationToken);
        return (first, experiment);
    }

    /// <summary>The unit's exposure, at <see cref="Now"/>, to the variant the experiment assigns it.</summary>
    public static Exposure Exposure(Experiment experiment, string unit) => new(experiment.Id, Assignment.VariantFor(experiment, unit).Id, unit, Now);

    /// <summary>A metric event of the version at <paramref name="timestamp"/> with a latency and a conversion, outside any experiment.</summary>
    public static MetricEvent Event(string versionId, DateTimeOffset timestamp, string? id = null) =>
        new(id, versionId, null, null, null, timestamp, 120, 10, 20, 0.001, null, null, true, null, null);

    /// <summary>A JSON form that compares lists, dictionaries and <see cref="JsonElement"/> values by content.</summary>
    public static string Json<T>(T value) => JsonSerializer.Serialize(value, CompareOptions);

    public static string NewId() => Guid.NewGuid().ToString("N");

    public static JsonElement Element(string json) => JsonSerializer.Deserialize<JsonElement>(json);
}
