using System.Globalization;
using System.Text.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;

namespace PromptVault.Core.Registry;

/// <summary>
/// The prompts an import adds, with their versions, labels and experiments, read from the document's rows: what the include
/// checks see of them before anything is stored (<see cref="PromptRegistry.EnsureImportCanServeAsync"/>).
/// </summary>
internal sealed class ImportedPrompts
{
    private readonly Dictionary<string, Prompt> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Row, PromptVersion Version)> _versions = new(StringComparer.Ordinal);
    private readonly ILookup<string, Label> _labels;
    private readonly ILookup<string, Experiment> _experiments;

    private ImportedPrompts(RegistryArchive document, IReadOnlySet<string> added, bool alone)
    {
        Alone = alone;
        var prompts = RegistryArchiveSchema.Prompts;
        foreach (var row in document[prompts].Where(r => added.Contains(Text(r, prompts, "name"))))
            _byName.TryAdd(Text(row, prompts, "name"), new Prompt(Text(row, prompts, "id"), Text(row, prompts, "name"), Text(row, prompts, "description"),
                Names.TryParse<PromptType>(Text(row, prompts, "type"), out var type) ? type : PromptType.Template, [], null,
                default, Text(row, prompts, "createdBy"), default, Text(row, prompts, "updatedBy")));
        var ids = _byName.Values.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);

        var versions = RegistryArchiveSchema.Versions;
        for (var row = 0; row < document[versions].Count; row++)
            if (ids.Contains(Text(document[versions][row], versions, "promptId")))
                _versions.TryAdd(Text(document[versions][row], versions, "id"), (row, Version(document[versions][row], $"$.{versions.Name}[{row}]")));

        var labels = RegistryArchiveSchema.Labels;
        _labels = document[labels].Where(r => ids.Contains(Text(r, labels, "promptId"))).ToLookup(r => Text(r, labels, "promptId"),
            r => new Label(Text(r, labels, "promptId"), Text(r, labels, "name"), Text(r, labels, "versionId"), default, default, Text(r, labels, "updatedBy")),
            StringComparer.Ordinal);

        var experiments = RegistryArchiveSchema.Experiments;
        var live = new List<Experiment>();
        for (var row = 0; row < document[experiments].Count; row++)
        {
            var r = document[experiments][row];
            if (!ids.Contains(Text(r, experiments, "promptId"))) continue;
            live.Add(new Experiment(Text(r, experiments, "id"), Text(r, experiments, "promptId"), "", Text(r, experiments, "name"), "",
                Json<List<Variant>>(r, experiments, "variants", $"$.{experiments.Name}[{row}]"), default, 0, 0, 0, 0, [], false,
                Names.TryParse<ExperimentStatus>(Text(r, experiments, "status"), out var status) ? status : ExperimentStatus.Draft, 0, null, null,
                default, "", default, null, null));
        }
        _experiments = live.ToLookup(e => e.PromptId, StringComparer.Ordinal);
    }

    /// <summary>What a full import (<paramref name="merge"/> false) writes, or a merge that adds the prompts of <paramref name="added"/>.</summary>
    public static ImportedPrompts Of(RegistryArchive document, IReadOnlySet<string> added, bool merge) => new(document, added, !merge);

    /// <summary>A full import: the registry after it holds these prompts only, so a name not here names no prompt.</summary>
    public bool Alone { get; }

    public IEnumerable<Prompt> Prompts => _byName.Values;

    /// <summary>The imported prompt named <paramref name="name"/>; null when the import adds none of that name.</summary>
    public Prompt? Find(string name) => _byName.GetValueOrDefault(name);

    public IReadOnlyList<Label> Labels(Prompt prompt) => _labels[prompt.Id].ToList();

    public IReadOnlyList<Experiment> Experiments(Prompt prompt) => _experiments[prompt.Id].ToList();

    public PromptVersion? FindVersionById(Prompt prompt, string id) =>
        _versions.TryGetValue(id, out var found) && found.Version.PromptId == prompt.Id ? found.Version : null;

    public PromptVersion? FindVersion(Prompt prompt, SemanticVersion number) =>
        _versions.Values.Select(v => v.Version).FirstOrDefault(v => v.PromptId == prompt.Id && v.Version == number);

    public PromptVersion? FindLabelledVersion(Prompt prompt, string label) =>
        Labels(prompt).FirstOrDefault(l => l.Name == label) is { } found ? FindVersionById(prompt, found.VersionId) : null;

    /// <summary>Whether <paramref name="version"/> comes from the document: its template was never stored, so it is not compiled into the engine's cache.</summary>
    public bool Holds(PromptVersion version) => _versions.TryGetValue(version.Id, out var held) && ReferenceEquals(held.Version, version);

    /// <summary>The document's path of the version's row (<c>$.versions[3]</c>).</summary>
    public string PathOf(PromptVersion version) => $"$.{RegistryArchiveSchema.Versions.Name}[{_versions[version.Id].Row}]";

    private static PromptVersion Version(object?[] values, string path)
    {
        var versions = RegistryArchiveSchema.Versions;
        var number = new SemanticVersion((int)(long)values[versions.IndexOf("major")]!, (int)(long)values[versions.IndexOf("minor")]!, (int)(long)values[versions.IndexOf("patch")]!);
        return new PromptVersion(Text(values, versions, "id"), Text(values, versions, "promptId"), (int)(long)values[versions.IndexOf("sequence")]!, number, Text(values, versions, "content"),
            Json<List<VariableDefinition>>(values, versions, "variables", path), PromptMetadata.Empty, Text(values, versions, "changeDescription"),
            Text(values, versions, "createdBy"), DateTimeOffset.Parse(Text(values, versions, "createdAt"), CultureInfo.InvariantCulture),
            Names.TryParse<VersionStatus>(Text(values, versions, "status"), out var status) ? status : VersionStatus.Draft)
        {
            Messages = values[versions.IndexOf("messages")] is null ? null : Json<List<PromptMessage>>(values, versions, "messages", path),
            DeclaredVariables = values[versions.IndexOf("declaredVariables")] is null ? null : Json<List<VariableDefinition>>(values, versions, "declaredVariables", path),
        };
    }

    private static string Text(object?[] row, ArchiveSection section, string column) => (string)row[section.IndexOf(column)]!;

    /// <exception cref="InvalidInputException">The JSON does not hold what the column carries (<c>invalid_export_document</c>).</exception>
    private static T Json<T>(object?[] row, ArchiveSection section, string column, string path)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(Text(row, section, column), PromptVaultJson.Options) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("invalid_export_document", $"{path}.{column} is not what the column holds: {e.Message}", $"{path}.{column}");
        }
    }
}
