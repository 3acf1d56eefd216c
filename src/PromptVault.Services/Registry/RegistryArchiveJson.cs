using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Templates;

namespace PromptVault.Core.Registry;

/// <summary>
/// The export document (docs/export-format.md): <c>{ "format": "promptvault-export", "formatVersion": 1, "exportedAt": ...,
/// "prompts": [ { ... } ], ... }</c>, one array of row objects per <see cref="RegistryArchiveSchema"/> section.
/// </summary>
public static class RegistryArchiveJson
{
    private const int FlushThreshold = 32 * 1024;
    private static readonly TemplateEngine Templates = new();

    /// <summary>Writes rows to a stream as they come, flushing every few kilobytes, so no document is held whole.</summary>
    public sealed class Writer : IRegistryArchiveWriter, IAsyncDisposable
    {
        private readonly Utf8JsonWriter _json;
        private readonly Stream _stream;
        private ArchiveSection? _section;

        public Writer(Stream stream, DateTimeOffset exportedAt)
        {
            _stream = stream;
            // Relaxed escaping keeps text readable; the document is served as application/json, never embedded in HTML.
            _json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false });
            _json.WriteStartObject();
            _json.WriteString("format", RegistryArchiveSchema.Format);
            _json.WriteNumber("formatVersion", RegistryArchiveSchema.FormatVersion);
            _json.WriteString("exportedAt", exportedAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        }

        public ValueTask BeginSectionAsync(ArchiveSection section, CancellationToken cancellationToken)
        {
            _section = section;
            _json.WriteStartArray(section.Name);
            return ValueTask.CompletedTask;
        }

        public async ValueTask WriteRowAsync(object?[] values, CancellationToken cancellationToken)
        {
            var columns = _section!.Columns;
            _json.WriteStartObject();
            for (var i = 0; i < columns.Count; i++)
            {
                _json.WritePropertyName(columns[i].Name);
                switch (values[i])
                {
                    case null: _json.WriteNullValue(); break;
                    case string json when columns[i].Kind == ArchiveValueKind.Json: _json.WriteRawValue(json); break;
                    case string text: _json.WriteStringValue(text); break;
                    case long number: _json.WriteNumberValue(number); break;
                    case double number: _json.WriteNumberValue(number); break;
                    case bool flag: _json.WriteBooleanValue(flag); break;
                    case byte[] bytes: _json.WriteBase64StringValue(bytes); break;
                    default: throw new InvalidOperationException($"{_section.Name}.{columns[i].Name} holds a {values[i]!.GetType().Name}.");
                }
            }
            _json.WriteEndObject();
            if (_json.BytesPending > FlushThreshold) await _json.FlushAsync(cancellationToken);
        }

        public ValueTask EndSectionAsync(ArchiveSection section, CancellationToken cancellationToken)
        {
            _json.WriteEndArray();
            return ValueTask.CompletedTask;
        }

        /// <summary>Ends the document and flushes it.</summary>
        public async Task CompleteAsync(CancellationToken cancellationToken)
        {
            _json.WriteEndObject();
            await _json.FlushAsync(cancellationToken);
            await _stream.FlushAsync(cancellationToken);
        }

        public ValueTask DisposeAsync() => _json.DisposeAsync();
    }

    /// <summary>
    /// Reads and checks a whole document as it arrives: the text is read a row at a time, so no more of it is held than one
    /// row (the rows themselves are kept, for the import to check and write them in one transaction).
    /// </summary>
    /// <exception cref="InvalidInputException"><c>invalid_export_document</c>, naming the JSON path of the first problem.</exception>
    public static async Task<RegistryArchive> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var json = new JsonValueReader(stream);
        var path = "$";
        try
        {
            if (await json.ReadAsync(cancellationToken) != JsonTokenType.StartObject) throw Invalid("$", "must be a JSON object");
            var sections = RegistryArchiveSchema.Sections.ToDictionary(s => s.Name);
            var rows = new Dictionary<ArchiveSection, IReadOnlyList<object?[]>>();
            var given = new HashSet<string>(StringComparer.Ordinal);
            while (await json.ReadAsync(cancellationToken) == JsonTokenType.PropertyName)
            {
                var name = json.PropertyName!;
                path = "$." + name;
                if (!given.Add(name)) throw Invalid(path, "is given twice");
                if (sections.TryGetValue(name, out var section))
                {
                    rows[section] = await ReadSectionAsync(json, section, p => path = p, cancellationToken);
                    continue;
                }
                if (name is not ("format" or "formatVersion" or "exportedAt"))
                    throw Invalid(path, $"is not part of format version {RegistryArchiveSchema.FormatVersion}; its sections are {string.Join(", ", sections.Keys)}");
                using var value = await json.ReadValueAsync(cancellationToken);
                if (name == "format") CheckFormat(value?.RootElement);
                else if (name == "formatVersion") CheckFormatVersion(value?.RootElement);
            }
            path = "$";
            if (await json.ReadAsync(cancellationToken) != JsonTokenType.None) throw Invalid(path, "holds more than one JSON value");
            if (!given.Contains("format")) CheckFormat(null);
            if (!given.Contains("formatVersion")) CheckFormatVersion(null);
            var archive = new RegistryArchive(rows);
            CheckVersions(archive);
            CheckVariants(archive);
            CheckRollups(archive);
            return archive;
        }
        catch (JsonException e)
        {
            // The reader's message already ends with where it stopped ("LineNumber: 0 | BytePositionInLine: 4.") and its own period.
            throw Invalid(path, $"is not valid JSON: {e.Message.TrimEnd('.')}");
        }
    }

    private static void CheckFormat(JsonElement? format)
    {
        if (format is not { ValueKind: JsonValueKind.String } text || text.GetString() != RegistryArchiveSchema.Format)
            throw Invalid("$.format", $"must be \"{RegistryArchiveSchema.Format}\"");
    }

    private static void CheckFormatVersion(JsonElement? version)
    {
        if (version is not { ValueKind: JsonValueKind.Number } number || !number.TryGetInt32(out var value) || value != RegistryArchiveSchema.FormatVersion)
            throw Invalid("$.formatVersion", $"must be {RegistryArchiveSchema.FormatVersion}: this server reads format version {RegistryArchiveSchema.FormatVersion} only");
    }

    /// <param name="at">Told the path of each row before it is read, for a JSON error's path.</param>
    private static async Task<List<object?[]>> ReadSectionAsync(JsonValueReader json, ArchiveSection section, Action<string> at, CancellationToken cancellationToken)
    {
        var path = "$." + section.Name;
        if (await json.ReadAsync(cancellationToken) != JsonTokenType.StartArray) throw Invalid(path, "must be an array");
        var rows = new List<object?[]>();
        var ordinals = section.Columns.Select((c, i) => (c.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        var firstRows = section.UniqueKeys.Select(_ => new Dictionary<string, int>(StringComparer.Ordinal)).ToList();
        while (true)
        {
            var rowPath = $"{path}[{rows.Count}]";
            at(rowPath);
            using var item = await json.ReadValueAsync(cancellationToken);
            if (item is null) return rows;
            var row = ReadRow(section, ordinals, item.RootElement, rowPath);
            for (var k = 0; k < section.UniqueKeys.Count; k++)
                CheckUnique(section, section.UniqueKeys[k], row, rows.Count, firstRows[k]);
            rows.Add(row);
        }
    }

    /// <summary>Refuses a row that repeats a unique key of an earlier one, naming both rows and the repeated values.</summary>
    /// <param name="firstRows">The key values seen so far, with the row that holds each.</param>
    private static void CheckUnique(ArchiveSection section, string[] key, object?[] row, int index, Dictionary<string, int> firstRows)
    {
        var values = key.Select(c => row[section.IndexOf(c)] is string text
            ? JsonSerializer.Serialize(text) : Convert.ToString(row[section.IndexOf(c)], CultureInfo.InvariantCulture)).ToList();
        var joined = string.Join('\0', values);
        if (firstRows.TryAdd(joined, index)) return;
        var path = $"$.{section.Name}[{index}]";
        throw Invalid(key.Length == 1 ? $"{path}.{key[0]}" : path,
            $"repeats the {string.Join(", ", key.Zip(values, (c, v) => $"{c} {v}"))} of $.{section.Name}[{firstRows[joined]}]: no two {section.Name} may share it");
    }

    private static object?[] ReadRow(ArchiveSection section, Dictionary<string, int> ordinals, JsonElement item, string rowPath)
    {
        if (item.ValueKind != JsonValueKind.Object) throw Invalid(rowPath, "must be an object");
        try
        {
            InvalidJsonTextException.ThrowIfIn(item);
        }
        catch (InvalidJsonTextException e)
        {
            // The API refuses such text in every request; read here, a lone surrogate threw on GetString (a 500).
            throw Invalid(e.At(rowPath)!, InvalidJsonTextException.Describe("", e.Fault).TrimStart());
        }
        var values = new object?[section.Columns.Count];
        var given = new bool[section.Columns.Count];
        foreach (var property in item.EnumerateObject())
        {
            var fieldPath = $"{rowPath}.{property.Name}";
            if (!ordinals.TryGetValue(property.Name, out var i))
                throw Invalid(fieldPath, $"is not a field of {section.Name}; its fields are {string.Join(", ", ordinals.Keys)}");
            if (given[i]) throw Invalid(fieldPath, "is given twice");
            values[i] = ReadValue(section.Columns[i], property.Value, fieldPath);
            given[i] = true;
        }
        for (var i = 0; i < values.Length; i++)
        {
            if (given[i]) continue;
            if (!section.Columns[i].Added) throw Invalid($"{rowPath}.{section.Columns[i].Name}", "is missing");
            values[i] = section.Columns[i].Absent;
        }
        try
        {
            section.RowRule?.Invoke(values);
        }
        catch (InvalidInputException e)
        {
            throw Refused(e.Field is null ? rowPath : $"{rowPath}.{e.Field}", e);
        }
        return values;
    }

    private static object? ReadValue(ArchiveColumn column, JsonElement value, string path)
    {
        if (value.ValueKind == JsonValueKind.Null)
            return column.Nullable ? null : throw Invalid(path, "must not be null");
        switch (column.Kind)
        {
            case ArchiveValueKind.Text when value.ValueKind == JsonValueKind.String:
                var text = value.GetString()!;
                if (column.Allowed is not null && !column.Allowed.Contains(text))
                    throw Invalid(path, $"must be one of {string.Join(", ", column.Allowed)}");
                return Checked(column, text, path);
            case ArchiveValueKind.Time when value.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time):
                return time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
            case ArchiveValueKind.Integer when value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var integer):
                return integer;
            case ArchiveValueKind.Real when value.ValueKind == JsonValueKind.Number:
                return value.GetDouble();
            case ArchiveValueKind.Boolean when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                return value.GetBoolean();
            case ArchiveValueKind.Json:
                return Checked(column, value.GetRawText(), path);
            case ArchiveValueKind.Blob when value.ValueKind == JsonValueKind.String && value.TryGetBytesFromBase64(out var bytes):
                return bytes;
            default:
                throw Invalid(path, column.Kind switch
                {
                    ArchiveValueKind.Time => "must be a time in ISO 8601 (2026-01-31T12:00:00.0000000+00:00)",
                    ArchiveValueKind.Integer => "must be a whole number (64-bit)",
                    ArchiveValueKind.Real => "must be a number",
                    ArchiveValueKind.Boolean => "must be true or false",
                    ArchiveValueKind.Blob => "must be base64",
                    _ => "must be a string",
                });
        }
    }

    /// <summary>
    /// Holds each version to the rules of the API's create-version (<see cref="VersionBodyRules"/>: its template or messages,
    /// declared variables and metadata, by its prompt's type) and its test cases to <see cref="TestCaseRules"/> with the version's
    /// variables. These read more than one column, and sections the document may give in any order, so they run on the whole document.
    /// </summary>
    private static void CheckVersions(RegistryArchive archive)
    {
        var prompts = RegistryArchiveSchema.Prompts;
        var types = archive[prompts].ToDictionary(r => (string)r[prompts.IndexOf("id")]!, r => (string)r[prompts.IndexOf("type")]!, StringComparer.Ordinal);
        var versions = RegistryArchiveSchema.Versions;
        var contracts = new Dictionary<string, IReadOnlyList<VariableDefinition>>(StringComparer.Ordinal);
        for (var i = 0; i < archive[versions].Count; i++)
        {
            var row = archive[versions][i];
            var path = $"$.{versions.Name}[{i}]";
            var variables = Parse<List<VariableDefinition>>(versions, row, "variables", path, "an array of variables");
            var declared = row[versions.IndexOf("declaredVariables")] is null ? null
                : Parse<List<VariableDefinition>>(versions, row, "declaredVariables", path, "an array of variables");
            var messages = row[versions.IndexOf("messages")] is null ? null
                : Parse<List<PromptMessage>>(versions, row, "messages", path, "an array of messages (role, content)");
            var metadata = Parse<PromptMetadata>(versions, row, "metadata", path, "an object");
            // Its body is checked by its prompt's type: a version of no prompt is refused as the import refuses any row of nothing, first.
            var promptId = (string)row[versions.IndexOf("promptId")]!;
            if (!types.TryGetValue(promptId, out var name) || !Names.TryParse<PromptType>(name, out var type))
                throw new InvalidInputException("import_invalid_reference",
                    $"{path}.promptId refers to a prompt that is not in the document (no id '{promptId}' in $.{prompts.Name}); nothing was imported.", $"{path}.promptId");
            // A version that records what it declared was checked with those; the joined contract adds its includes' variables.
            Refused(path, declared is null ? null : "declaredVariables",
                () => VersionBodyRules.Validate(Templates, type, (string)row[versions.IndexOf("content")]!, messages, declared ?? variables, metadata));
            Refused(path, null, () => VariableContract.ValidateDefinitions(variables));
            if (declared is not null && PromptIncludes.JoinedContractProblem(declared, variables,
                    TemplateEngine.IncludesIn((string)row[versions.IndexOf("content")]!, messages).Count > 0) is { } problem)
                throw Invalid($"{path}.variables", $"{problem} (variables is declaredVariables joined with those of the versions it includes)");
            contracts[(string)row[versions.IndexOf("id")]!] = variables;
        }
        var tests = RegistryArchiveSchema.VersionTests;
        for (var i = 0; i < archive[tests].Count; i++)
        {
            var row = archive[tests][i];
            var path = $"$.{tests.Name}[{i}]";
            var cases = Parse<List<TestCase>>(tests, row, "tests", path, "an array of test cases");
            Refused(path, null, () => _ = contracts.TryGetValue((string)row[tests.IndexOf("versionId")]!, out var variables)
                ? TestCaseRules.Validate(cases, variables) : TestCaseRules.ValidateWithoutVersion(cases));
        }
    }

    /// <summary>
    /// Refuses a metric rollup of a version the document does not hold: its table has no key to the version, so the row would be
    /// kept by a full import, of nothing, and left out by a merge without a word. An export's rollups are of its own versions.
    /// </summary>
    private static void CheckRollups(RegistryArchive archive)
    {
        var versions = RegistryArchiveSchema.Versions;
        var ids = archive[versions].Select(r => (string)r[versions.IndexOf("id")]!).ToHashSet(StringComparer.Ordinal);
        var rollups = RegistryArchiveSchema.MetricRollups;
        for (var i = 0; i < archive[rollups].Count; i++)
        {
            var scopeId = (string)archive[rollups][i][rollups.IndexOf("scopeId")]!;
            if (ids.Contains(scopeId)) continue;
            var path = $"$.{rollups.Name}[{i}].scopeId";
            throw new InvalidInputException("import_invalid_reference",
                $"{path} refers to a version that is not in the document (no id '{PromptRules.Shorten(scopeId)}' in $.{versions.Name}); nothing was imported.", path);
        }
    }

    /// <summary>
    /// Holds exposures and metric events of the document's experiments to the rules of <c>POST /api/exposures</c> and
    /// <c>POST /api/metrics</c>, and their statistics (exposure counts, unit sums and stats, sequential history) to what the
    /// service writes: each names a variant of its experiment; an exposure's is the one <see cref="Assignment"/> gives
    /// its unit (an experiment's variants, weights and seed never change), an event's version is its variant's. Rows of an
    /// experiment not in the document are left to the store's references.
    /// </summary>
    private static void CheckVariants(RegistryArchive archive)
    {
        var experiments = RegistryArchiveSchema.Experiments;
        var byId = new Dictionary<string, (List<Variant> Variants, ulong Seed, int[] BucketEnds)>(StringComparer.Ordinal);
        foreach (var r in archive[experiments])
        {
            // A repeated id is refused by the store's key, as import_conflict.
            var variants = JsonSerializer.Deserialize<List<Variant>>((string)r[experiments.IndexOf("variants")]!, PromptVaultJson.Options)!;
            byId.TryAdd((string)r[experiments.IndexOf("id")]!,
                (variants, unchecked((ulong)(long)r[experiments.IndexOf("hashSeed")]!), Assignment.BucketEnds(variants.ConvertAll(v => v.Weight))));
        }
        (Variant Variant, (List<Variant> Variants, ulong Seed, int[] BucketEnds) Experiment)? VariantOf(ArchiveSection section, object?[] row, string path)
        {
            if (row[section.IndexOf("experimentId")] is not string experimentId || !byId.TryGetValue(experimentId, out var experiment)) return null;
            var variantId = (string?)row[section.IndexOf("variantId")] ?? "";
            var variant = experiment.Variants.FirstOrDefault(v => v.Id == variantId)
                ?? throw new InvalidInputException("import_invalid_reference",
                    $"{path}.variantId '{PromptRules.Shorten(variantId)}' is not a variant of experiment '{experimentId}' in $.{experiments.Name}; nothing was imported.", $"{path}.variantId");
            return (variant, experiment);
        }
        foreach (var section in new[] { RegistryArchiveSchema.ExposureCounts, RegistryArchiveSchema.UnitSums, RegistryArchiveSchema.VariantUnitStats, RegistryArchiveSchema.SequentialHistory })
        {
            for (var i = 0; i < archive[section].Count; i++)
                VariantOf(section, archive[section][i], $"$.{section.Name}[{i}]");
        }
        var exposures = RegistryArchiveSchema.Exposures;
        for (var i = 0; i < archive[exposures].Count; i++)
        {
            var row = archive[exposures][i];
            var path = $"$.{exposures.Name}[{i}]";
            if (VariantOf(exposures, row, path) is not { } exposed) continue;
            var unitId = (string)row[exposures.IndexOf("unitId")]!;
            var (variants, seed, bucketEnds) = exposed.Experiment;
            var assigned = variants[Assignment.VariantIndex(seed, unitId, bucketEnds)];
            if (assigned.Id != exposed.Variant.Id)
                throw Invalid($"{path}.variantId", $"is variant '{exposed.Variant.Name}', but the experiment assigns unit '{PromptRules.Shorten(unitId)}' to '{assigned.Name}' (assignment version {Assignment.AlgorithmVersion})");
        }
        var events = RegistryArchiveSchema.MetricEvents;
        for (var i = 0; i < archive[events].Count; i++)
        {
            var row = archive[events][i];
            var path = $"$.{events.Name}[{i}]";
            if (VariantOf(events, row, path) is { } measured && measured.Variant.VersionId != (string)row[events.IndexOf("versionId")]!)
                throw Invalid($"{path}.versionId", $"is not the version of variant '{measured.Variant.Name}' of its experiment ('{PromptRules.Shorten(measured.Variant.VersionId)}')");
        }
    }

    /// <summary>A JSON column's value read as the store reads it.</summary>
    private static T Parse<T>(ArchiveSection section, object?[] row, string column, string path, string shape) where T : class
    {
        try
        {
            if (JsonSerializer.Deserialize<T>((string)row[section.IndexOf(column)]!, PromptVaultJson.Options) is { } value) return value;
        }
        catch (JsonException)
        {
        }
        throw Invalid($"{path}.{column}", $"must be {shape}");
    }

    /// <summary>Runs a rule of the API on a row, refusing it at the field the rule names (<c>content</c>, <c>variables[0].type</c>, <c>tests[1].expect</c>).</summary>
    /// <param name="variables">The column the rule's <c>variables</c> came from, when not <c>variables</c>.</param>
    private static void Refused(string path, string? variables, Action rule)
    {
        try
        {
            rule();
        }
        catch (InvalidInputException e)
        {
            var field = variables is not null && e.Field?.StartsWith("variables", StringComparison.Ordinal) == true ? variables + e.Field["variables".Length..] : e.Field;
            throw Invalid(field is null ? path : $"{path}.{field}", $"is refused as the API would refuse it: {e.Message.TrimEnd('.')}");
        }
    }

    /// <summary>The value, if the column's rule of the API takes it.</summary>
    private static string Checked(ArchiveColumn column, string value, string path)
    {
        try
        {
            column.Rule?.Invoke(value);
        }
        catch (InvalidInputException e)
        {
            throw Refused(path, e);
        }
        return value;
    }

    private static InvalidInputException Refused(string path, InvalidInputException refusal) =>
        Invalid(path, $"is refused as the API would refuse it: {refusal.Message.TrimEnd('.')}");

    /// <summary>The refusal of a document, naming the JSON path of its problem.</summary>
    internal static InvalidInputException Invalid(string path, string problem) =>
        new("invalid_export_document", $"The export document is invalid: {path} {problem}.", path);
}
