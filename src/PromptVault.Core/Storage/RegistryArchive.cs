using System.Text.Json;
using PromptVault.Core.Analysis;
using PromptVault.Core.Contracts;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Storage;

/// <summary>How a column's value is carried: in rows as string, long, double, bool or byte[] (null when absent).</summary>
public enum ArchiveValueKind
{
    /// <summary>A string.</summary>
    Text,

    /// <summary>A UTC time as ISO 8601 text (<c>"O"</c> format), held as a string.</summary>
    Time,

    /// <summary>A 64-bit integer (long).</summary>
    Integer,

    /// <summary>A double.</summary>
    Real,

    /// <summary>A bool.</summary>
    Boolean,

    /// <summary>A JSON value, held as its JSON text (a string) and embedded as JSON in the document.</summary>
    Json,

    /// <summary>Bytes (byte[]): a codec's blob, base64 in the document.</summary>
    Blob,
}

/// <summary>What a section's rows belong to, so a merge can leave out everything of a prompt it skips.</summary>
public enum ArchiveOwner
{
    /// <summary>Nothing (API keys); merged by the key's id and hash.</summary>
    None,

    /// <summary>The owner column holds a prompt id.</summary>
    Prompt,

    /// <summary>The owner column holds a version id.</summary>
    Version,

    /// <summary>The owner column holds an experiment id.</summary>
    Experiment,

    /// <summary>The owner column holds a prompt name, or null for entries of no prompt (the audit log).</summary>
    PromptName,
}

/// <param name="Name">The property name in the document (camelCase).</param>
/// <param name="Allowed">For an enum's column: its wire names, the only texts it may hold.</param>
/// <param name="Added">Added to format version 1 later: a document written before may leave it out, and then it reads as
/// <see cref="Absent"/> (false or null).</param>
public sealed record ArchiveColumn(string Name, ArchiveValueKind Kind, bool Nullable = false, IReadOnlySet<string>? Allowed = null, bool Added = false)
{
    /// <summary>The API's rule for the column's text (a prompt's or label's name), or for a JSON column's JSON text (a prompt's tags),
    /// throwing <see cref="InvalidInputException"/> for a value it refuses.</summary>
    public Action<string>? Rule { get; init; }

    /// <summary>The value of an <see cref="Added"/> column a document leaves out.</summary>
    public object? Absent => Kind == ArchiveValueKind.Boolean ? false : null;
}

/// <summary>One table of the registry as it travels: its rows are arrays of values in the order of <see cref="Columns"/>.</summary>
/// <param name="Name">The section's property name in the document.</param>
/// <param name="OwnerColumn">The index of the column <see cref="Owner"/> refers to.</param>
public sealed record ArchiveSection(string Name, IReadOnlyList<ArchiveColumn> Columns, ArchiveOwner Owner, int OwnerColumn = 0)
{
    /// <summary>The sets of columns no two of the section's rows may share (a prompt's name, a version's number in its prompt).</summary>
    public IReadOnlyList<string[]> UniqueKeys { get; init; } = [];

    /// <summary>The API's rule for a whole row, read (an experiment's weights and numbers, a metric event's values), throwing
    /// <see cref="InvalidInputException"/> whose field is the row's field at fault.</summary>
    public Action<object?[]>? RowRule { get; init; }

    public int IndexOf(string column)
    {
        for (var i = 0; i < Columns.Count; i++)
            if (Columns[i].Name == column) return i;
        throw new ArgumentException($"Section {Name} has no column {column}.", nameof(column));
    }
}

/// <summary>
/// The engine-neutral shape of a whole registry (docs/export-format.md): every section, in an order where rows only refer
/// to rows of earlier sections. Every store exports and imports exactly these columns, whatever its own schema.
/// </summary>
public static class RegistryArchiveSchema
{
    /// <summary>A full import replaces the target's keys: a document without an active admin key would leave a server no one can administer.</summary>
    /// <exception cref="InvalidInputException">The archive has no active admin key (<c>import_no_admin_key</c>).</exception>
    public static void RequireActiveAdminKey(RegistryArchive archive)
    {
        ArgumentNullException.ThrowIfNull(archive);
        int role = ApiKeys.IndexOf("role"), revoked = ApiKeys.IndexOf("revokedAt");
        if (archive[ApiKeys].Any(r => (string?)r[role] == Names.Of(Auth.ApiKeyRole.Admin) && r[revoked] is null)) return;
        throw new InvalidInputException("import_no_admin_key",
            "$.apiKeys holds no active admin key, and a full import replaces this server's keys with the document's: no one could administer it. " +
            "Merge instead (--merge), or export from a server with an admin key.", "$.apiKeys");
    }

    public const string Format = "promptvault-export";
    public const int FormatVersion = 1;

    private static ArchiveColumn Text(string name, bool nullable = false) => new(name, ArchiveValueKind.Text, nullable);
    private static ArchiveColumn Time(string name, bool nullable = false) => new(name, ArchiveValueKind.Time, nullable);
    private static ArchiveColumn Integer(string name) => new(name, ArchiveValueKind.Integer);
    private static ArchiveColumn Real(string name, bool nullable = false) => new(name, ArchiveValueKind.Real, nullable);
    private static ArchiveColumn Json(string name, bool nullable = false) => new(name, ArchiveValueKind.Json, nullable);
    private static ArchiveColumn Blob(string name) => new(name, ArchiveValueKind.Blob);
    /// <summary>A JSON column's rule: its value read as the store reads it, then held to <paramref name="rule"/>.</summary>
    /// <param name="shape">What the value must be, for the message when it is not.</param>
    private static Action<string> Parsed<T>(string shape, Action<T> rule) where T : class => json => rule(Parse<T>(json, shape));

    /// <summary>A JSON column's value read as the store reads it.</summary>
    /// <param name="field">The column, for a row's rule.</param>
    private static T Parse<T>(string json, string shape, string? field = null) where T : class
    {
        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(json, PromptVaultJson.Options);
        }
        catch (JsonException)
        {
            value = null;
        }
        return value ?? throw new InvalidInputException("invalid_json", $"{(field is null ? "it" : field)} must be {shape}.", field);
    }

    private static ArchiveColumn Enum<TEnum>(string name) where TEnum : struct, System.Enum =>
        new(name, ArchiveValueKind.Text, Allowed: System.Enum.GetValues<TEnum>().Select(Names.Of).ToHashSet(StringComparer.Ordinal));

    public static readonly ArchiveSection Prompts = new("prompts",
        [Text("id"), Text("name") with { Rule = name => PromptRules.ValidatePromptName(name) },
         Text("description") with { Rule = description => PromptRules.ValidateDescription(description) }, Enum<Prompts.PromptType>("type"),
         Json("tags") with { Rule = Parsed<List<string>>("an array of strings", tags => PromptRules.ValidateTags(tags, "tags")) },
         Text("category", true) with { Rule = category => PromptRules.ValidateCategory(category) },
         Time("createdAt"), Text("createdBy"), Time("updatedAt"), Text("updatedBy"),
         new("requireApproval", ArchiveValueKind.Boolean, Added: true), new("requireTests", ArchiveValueKind.Boolean, Added: true)], ArchiveOwner.Prompt)
    { UniqueKeys = [["id"], ["name"]] };

    public static readonly ArchiveSection Versions = new("versions",
        [Text("id"), Text("promptId"), Integer("sequence"), Integer("major"), Integer("minor"), Integer("patch"), Text("content"),
         Json("variables"), Json("metadata"), Text("changeDescription") with { Rule = PromptRules.ValidateChangeDescription }, Text("createdBy"), Time("createdAt"), Enum<Prompts.VersionStatus>("status"),
         Json("messages", true) with { Added = true }, new("approvedBy", ArchiveValueKind.Text, true, Added: true), new("approvedAt", ArchiveValueKind.Time, true, Added: true),
         Json("declaredVariables", true) with { Added = true }], ArchiveOwner.Prompt, 1)
    { UniqueKeys = [["id"], ["promptId", "major", "minor", "patch"], ["promptId", "sequence"]], RowRule = ValidateVersionNumbers };

    public static readonly ArchiveSection VersionTests = new("versionTests", [Text("versionId"), Json("tests")], ArchiveOwner.Version);

    public static readonly ArchiveSection EvaluationRuns = new("evaluationRuns",
        [Text("id"), Text("versionId"), Enum<Evaluations.EvaluationStatus>("status"), Time("createdAt"), Text("createdBy"), Json("run")], ArchiveOwner.Version, 1)
    { RowRule = ValidateEvaluationRun };

    public static readonly ArchiveSection Labels = new("labels",
        [Text("promptId"), Text("name") with { Rule = PromptRules.ValidateLabel }, Text("versionId"), Time("updatedAt"), Text("updatedBy")], ArchiveOwner.Prompt)
    { UniqueKeys = [["promptId", "name"]] };

    public static readonly ArchiveSection Experiments = new("experiments",
        [Text("id"), Text("promptId"), Text("name"), Text("description"), Json("variants"), Enum<MetricName>("targetMetric"), Integer("minimumSampleSize"),
         Real("confidenceLevel"), Real("minimumDetectableEffect"), Real("power"), Json("guardrails"), new("promoteWinner", ArchiveValueKind.Boolean),
         Enum<Experiments.ExperimentStatus>("status"), Integer("hashSeed"), Text("winner", true), Text("statusReason", true), Time("createdAt"), Text("createdBy"),
         Time("updatedAt"), Time("startedAt", true), Time("endedAt", true), new("promotionRefused", ArchiveValueKind.Text, true, Added: true)], ArchiveOwner.Prompt, 1)
    { RowRule = ValidateExperiment };

    public static readonly ArchiveSection Exposures = new("exposures",
        [Text("experimentId"), Text("unitId") with { Rule = unitId => Serving.ValidateUnitId(unitId) }, Text("variantId"), Time("at")], ArchiveOwner.Experiment);

    public static readonly ArchiveSection ExposureCounts = new("exposureCounts",
        [Text("experimentId"), Text("variantId"), Integer("units")], ArchiveOwner.Experiment);

    public static readonly ArchiveSection UnitSums = new("unitSums",
        [Text("experimentId"), Text("unitId"), Text("variantId"), Blob("sums")], ArchiveOwner.Experiment)
    { RowRule = row => Decoded(row, "sums", blob => UnitStatisticsCodec.DecodeUnitSums(blob)) };

    public static readonly ArchiveSection VariantUnitStats = new("variantUnitStats",
        [Text("experimentId"), Text("variantId"), Blob("stats")], ArchiveOwner.Experiment)
    { RowRule = row => Decoded(row, "stats", blob => UnitStatisticsCodec.DecodeVariantUnitStats(blob)) };

    public static readonly ArchiveSection SequentialStates = new("sequentialStates",
        [Text("experimentId"), Json("state")], ArchiveOwner.Experiment);

    public static readonly ArchiveSection SequentialHistory = new("sequentialHistory",
        [Text("experimentId"), Text("variantId"), Text("metric"), Time("at"), Real("estimate"), Real("low"), Real("high")], ArchiveOwner.Experiment);

    public static readonly ArchiveSection MetricEvents = new("metricEvents",
        [Text("id", true), Text("versionId"), Text("experimentId", true), Text("variantId", true), Text("unitId", true), Time("timestamp"),
         Real("latencyMs", true), new("inputTokens", ArchiveValueKind.Integer, true), new("outputTokens", ArchiveValueKind.Integer, true),
         Real("cost", true), Real("qualityScore", true), Real("userFeedback", true), new("converted", ArchiveValueKind.Boolean, true),
         Text("error", true), Json("metadata", true)], ArchiveOwner.Version, 1)
    { RowRule = ValidateMetricEvent };

    /// <summary>The <c>scope</c> of a version's metric rollup row: the only rollups stores keep, and the only ones an export has held
    /// (experiments' variant rollups, scope <c>variant</c>, were deleted by SQLite's migration 004, before export existed).</summary>
    public const string VersionRollupScope = "version";

    /// <summary>A version's rollup rows, as the store writes them: its reads take every row of the version's scope, whatever its
    /// <c>variantId</c>, so a row of another scope would be kept unread and one with a variant counted twice.</summary>
    public static readonly ArchiveSection MetricRollups = new("metricRollups",
        [new("scope", ArchiveValueKind.Text, Allowed: new HashSet<string>(StringComparer.Ordinal) { VersionRollupScope }), Text("scopeId"), Integer("hour"),
         Text("variantId") with { Rule = ValidateRollupVariant }, Blob("aggregate")], ArchiveOwner.Version, 1)
    { RowRule = ValidateRollup };

    public static readonly ArchiveSection Audit = new("audit",
        [Integer("id"), Time("timestamp"), Text("actor"), Text("action"), Text("promptName", true), Text("subject", true),
         Json("before", true), Json("after", true)], ArchiveOwner.PromptName, 4);

    public static readonly ArchiveSection ApiKeys = new("apiKeys",
        [Text("id"), Text("name") with { Rule = Auth.ApiKeyNames.Validate }, Enum<Auth.ApiKeyRole>("role"), Text("prefix"), Text("keyHash"), Time("createdAt"), Text("createdBy"), Time("revokedAt", true)],
        ArchiveOwner.None);

    /// <summary>A version's numbers as the API writes them: sequence 1, then the next; 1.0.0, then bumps. The store reads them as
    /// 32-bit integers.</summary>
    private static void ValidateVersionNumbers(object?[] row)
    {
        foreach (var (column, least) in new[] { ("sequence", 1L), ("major", 1L), ("minor", 0L), ("patch", 0L) })
        {
            var value = (long)row[Versions.IndexOf(column)]!;
            if (value < least || value > int.MaxValue)
                throw new InvalidInputException("invalid_version", $"{column} must be between {least} and {int.MaxValue}, got {value}.", column);
        }
    }

    /// <summary>A run as the evaluation service writes it: an id it makes, and the run's JSON, read as the store reads it, of the same
    /// id, version, status and author as the row's columns.</summary>
    private static void ValidateEvaluationRun(object?[] row)
    {
        object? Value(string column) => row[EvaluationRuns.IndexOf(column)];
        var id = (string)Value("id")!;
        if (!Ids.IsId(id))
            throw new InvalidInputException("invalid_evaluation_run", $"id must be an id as PromptVault makes them (32 lowercase hex digits), got '{PromptRules.Shorten(id)}'.", "id");
        var run = Parse<EvaluationRun>((string)Value("run")!, "an evaluation run (id, promptName, version, versionId, status, cases, createdAt, createdBy)", "run");
        if (run.PromptName is null || run.Version is null || run.Cases is null || run.Cases.Any(c => c is null))
            throw new InvalidInputException("invalid_evaluation_run", "run must hold promptName, version and cases.", "run");
        foreach (var (column, value) in new[] { ("id", run.Id), ("versionId", run.VersionId), ("status", Names.Of(run.Status)), ("createdBy", run.CreatedBy) })
        {
            if (value != (string)Value(column)!)
                throw new InvalidInputException("invalid_evaluation_run", $"run.{column} must be the row's {column}, '{PromptRules.Shorten((string)Value(column)!)}'.", $"run.{column}");
        }
    }

    /// <summary>An experiment held to the rules of the API's create (<see cref="ExperimentRules"/>), but for its prompt, which it names by id.</summary>
    private static void ValidateExperiment(object?[] row)
    {
        object? Value(string column) => row[Experiments.IndexOf(column)];
        var minimumSampleSize = (long)Value("minimumSampleSize")!;
        if (minimumSampleSize > int.MaxValue)
            throw new InvalidInputException("invalid_experiment", $"minimumSampleSize must be at most {int.MaxValue}, got {minimumSampleSize}.", "minimumSampleSize");
        var variants = Parse<List<Variant>>((string)Value("variants")!, "an array of variants (id, name, versionId, weight)", "variants");
        var guardrails = Parse<List<Guardrail>>((string)Value("guardrails")!, "an array of guardrails (metric, threshold)", "guardrails");
        Names.TryParse((string)Value("targetMetric")!, out MetricName targetMetric);
        ExperimentRules.ValidateExperiment(new CreateExperimentRequest((string)Value("name")!, null,
            variants.Select(v => v is null ? null! : new VariantRequest(v.Name, v.VersionId, v.Weight)).ToList(), targetMetric, (string)Value("description")!,
            (int)Math.Max(minimumSampleSize, int.MinValue), (double)Value("confidenceLevel")!, (double)Value("minimumDetectableEffect")!, (double)Value("power")!,
            guardrails.Select(g => g is null ? null! : new GuardrailRequest(g.Metric, g.Threshold)).ToList(), (bool)Value("promoteWinner")!), stored: true);
        // The service makes each variant's id anew; a repeated one would make exposures and results of the two one.
        for (var i = 1; i < variants.Count; i++)
        {
            if (variants.FindIndex(0, i, v => v.Id == variants[i].Id) is >= 0 and var first)
                throw new InvalidInputException("invalid_experiment",
                    $"variants[{i}].id repeats the id '{PromptRules.Shorten(variants[i].Id)}' of variants[{first}]: no two variants of an experiment may share one.", $"variants[{i}].id");
        }
        // The service completes an experiment with one of its variants' ids, or none.
        if (Value("winner") is string winner && !variants.Any(v => v.Id == winner))
            throw new InvalidInputException("invalid_experiment",
                $"winner '{PromptRules.Shorten(winner)}' is not the id of a variant of the experiment; its variants are {string.Join(", ", variants.Select(v => v.Id))}.", "winner");
    }

    /// <summary>A rollup row as the store writes it: its <c>hour</c> the start of an hour in Unix seconds (<see cref="MetricPeriods.HourOf"/>),
    /// one a <see cref="DateTimeOffset"/> holds since reads turn it back into one, or -1 for all time; its aggregate one that reads decode.</summary>
    private static void ValidateRollup(object?[] row)
    {
        var hour = (long)row[MetricRollups.IndexOf("hour")]!;
        long first = DateTimeOffset.MinValue.ToUnixTimeSeconds(), last = MetricPeriods.HourOf(DateTimeOffset.MaxValue).ToUnixTimeSeconds();
        if (hour != AllTimeHour && (hour % SecondsPerHour != 0 || hour < first || hour > last))
            throw new InvalidInputException("invalid_metric_rollup",
                $"hour must be the start of an hour in Unix seconds (a multiple of {SecondsPerHour} from {first} to {last}) or {AllTimeHour} for all time, got {hour}.", "hour");
        Decoded(row, "aggregate", blob => MetricAggregateCodec.Decode(blob));
    }

    /// <summary>The <c>hour</c> of a version's all-time rollup row: not a multiple of 3600, so never an hour's start.</summary>
    public const long AllTimeHour = -1;

    private const long SecondsPerHour = 3600;

    /// <summary>Refuses a row's blob, its last column, that <paramref name="decode"/>, the code that reads it from the store, refuses.</summary>
    private static void Decoded(object?[] row, string column, Action<byte[]> decode)
    {
        try
        {
            decode((byte[])row[^1]!);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidInputException("invalid_blob", $"{column} is not a blob PromptVault reads: {e.Message.TrimEnd('.')}.", column);
        }
    }

    private static void ValidateRollupVariant(string variantId)
    {
        if (variantId.Length > 0)
            throw new InvalidInputException("invalid_metric_rollup",
                $"a version's rollup row holds no variant: variantId must be empty, got '{PromptRules.Shorten(variantId)}'.");
    }

    /// <summary>A metric event held to the rules of <c>POST /api/metrics</c> (<see cref="MetricEventRules"/>), but for its timestamp:
    /// a document's times are when things happened, not held to this server's clock.</summary>
    private static void ValidateMetricEvent(object?[] row)
    {
        object? Value(string column) => row[MetricEvents.IndexOf(column)];
        var metadata = Value("metadata") is string json ? JsonSerializer.Deserialize<JsonElement>(json) : (JsonElement?)null;
        MetricEventRules.Validate(new MetricEventRequest((string?)Value("id"), (string)Value("versionId")!, (string?)Value("experimentId"),
            (string?)Value("variantId"), (string?)Value("unitId"), null, (double?)Value("latencyMs"), (long?)Value("inputTokens"), (long?)Value("outputTokens"),
            (double?)Value("cost"), (double?)Value("qualityScore"), (double?)Value("userFeedback"), (bool?)Value("converted"), (string?)Value("error"), metadata),
            DateTimeOffset.UnixEpoch);
    }

    /// <summary>Every section, in document and import order.</summary>
    public static readonly IReadOnlyList<ArchiveSection> Sections =
    [
        Prompts, Versions, VersionTests, EvaluationRuns, Labels, Experiments, Exposures, ExposureCounts, UnitSums, VariantUnitStats, SequentialStates, SequentialHistory,
        MetricEvents, MetricRollups, Audit, ApiKeys,
    ];
}

/// <summary>A whole registry read from a document: each section's rows (every section present, maybe empty).</summary>
public sealed class RegistryArchive
{
    private readonly IReadOnlyDictionary<ArchiveSection, IReadOnlyList<int>>? _documentRows;

    /// <param name="documentRows">When the rows are some of a document's (<see cref="RegistryMerge.Plan"/>): each row's index in
    /// the document's section, so that an error names the row where the document has it.</param>
    public RegistryArchive(IReadOnlyDictionary<ArchiveSection, IReadOnlyList<object?[]>> rows,
        IReadOnlyDictionary<ArchiveSection, IReadOnlyList<int>>? documentRows = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        Rows = rows;
        _documentRows = documentRows;
    }

    public IReadOnlyDictionary<ArchiveSection, IReadOnlyList<object?[]>> Rows { get; }

    public IReadOnlyList<object?[]> this[ArchiveSection section] => Rows.TryGetValue(section, out var rows) ? rows : [];

    /// <summary>The JSON path of a row of a section (<c>$.versions[3]</c>), by its index in the document it came from.</summary>
    public string PathOf(ArchiveSection section, int row) =>
        $"$.{section.Name}[{(_documentRows is not null && _documentRows.TryGetValue(section, out var indices) ? indices[row] : row)}]";
}

/// <summary>Receives a registry's rows as a store reads them: each section once, in <see cref="RegistryArchiveSchema.Sections"/> order.</summary>
public interface IRegistryArchiveWriter
{
    ValueTask BeginSectionAsync(ArchiveSection section, CancellationToken cancellationToken);

    /// <param name="values">The row's values in column order; the writer must not keep the array.</param>
    ValueTask WriteRowAsync(object?[] values, CancellationToken cancellationToken);

    ValueTask EndSectionAsync(ArchiveSection section, CancellationToken cancellationToken);
}

/// <summary>What an import wrote and left out.</summary>
/// <param name="Counts">Rows written per section name.</param>
/// <param name="AddedPrompts">The prompts imported, by name.</param>
/// <param name="SkippedPrompts">(Merge) prompts left out, with everything of theirs, because a prompt of that name exists.</param>
/// <param name="SkippedKeys">(Merge) ids of API keys left out because a key with that id or hash exists.</param>
/// <param name="SkippedAuditEntries">(Merge) audit entries left out: those of skipped prompts and of no prompt.</param>
/// <param name="ReplacedKeys">(Full import) the target's own API keys (those of its set-up), replaced by the document's.</param>
/// <param name="ReplacedAuditEntries">(Full import) the target's own audit entries, replaced by the document's.</param>
public sealed record RegistryImportReport(
    bool Merge,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyList<string> AddedPrompts,
    IReadOnlyList<string> SkippedPrompts,
    IReadOnlyList<string> SkippedKeys,
    int SkippedAuditEntries,
    int ReplacedKeys,
    int ReplacedAuditEntries);
