using System.Diagnostics.CodeAnalysis;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;

namespace PromptVault.Core.Prompts;

/// <summary>
/// Which version a render serves (SPEC §3) and the errors it refuses with: one set of rules for the server's render and the
/// SDK's resolve from a snapshot, so the two agree on every request.
/// </summary>
public static class Serving
{
    /// <summary>The version reference that names a prompt's newest version, wherever a version number (<c>1.0.2</c>) or id is
    /// accepted. Labels are passed apart from versions, so a label named <c>latest</c> is still only a label.</summary>
    public const string LatestVersion = "latest";

    /// <summary>Whether the prompt's running experiment (if any) picks the version: a unit id is given, and neither a version
    /// nor a label other than production is named.</summary>
    public static bool ByExperiment([NotNullWhen(true)] string? unitId, string? version, string? label) =>
        unitId is not null && string.IsNullOrWhiteSpace(version) && label is null or Label.Production;

    /// <summary>
    /// A render's first step, before the prompt is looked up (the server's and the SDK's alike): <see cref="ByExperiment"/>,
    /// with the unit id then validated, so an invalid one is refused whether or not the prompt exists.
    /// </summary>
    /// <exception cref="InvalidInputException">The unit id is given but blank (<see cref="RefuseBlankUnitId"/>), a version is given
    /// but blank (it would serve the label's version unasked), a label and a version are both given (one of them would be dropped
    /// unsaid: <c>label_and_version</c>), or the experiment would pick the version and the unit id is invalid
    /// (<see cref="ValidateUnitId"/>).</exception>
    public static bool ByExperimentValidated([NotNullWhen(true)] string? unitId, string? version, string? label)
    {
        RefuseBlankUnitId(unitId);
        if (version is not null && string.IsNullOrWhiteSpace(version))
            throw new InvalidInputException("blank_field", "version is blank; leave it out to serve the label's version, or name one (1.0.2, an id, latest).", "version");
        if (version is not null && label is not null)
            throw new InvalidInputException("label_and_version", LabelAndVersion("label", "version"), "label");
        if (!ByExperiment(unitId, version, label)) return false;
        ValidateUnitId(unitId);
        return true;
    }

    /// <summary>Why a render takes a label or a version, not both, with the two named as the caller wrote them (the API's fields,
    /// the CLI's options).</summary>
    public static string LabelAndVersion(string label, string version) =>
        $"{label} and {version} cannot be given together: {version} renders that exact version, {label} the version under the label.";

    /// <exception cref="InvalidInputException">The unit id is missing, blank, too long, or not text (<see cref="EnsureUnitIdIsText"/>).</exception>
    public static void ValidateUnitId([NotNull] string? unitId, string field = "unitId")
    {
        if (unitId is null)
            throw new InvalidInputException("invalid_unit_id", $"{field} is required.", field);
        RefuseBlankUnitId(unitId, field);
        PromptRules.ValidateLength(unitId, Assignment.MaxUnitIdLength, field);
        EnsureUnitIdIsText(unitId, field);
    }

    /// <summary>
    /// The one rule for a unit id given but blank (<c>""</c>, only spaces), wherever one is taken (a render with or without a running
    /// experiment, the assignment route, exposures, metric events, the SDK): it is refused, as a caller sending one has a bug that
    /// would otherwise skip the experiment unsaid. An absent (null) unit id is "no unit". A plain test: no allocation.
    /// </summary>
    public static bool IsBlankUnitId([NotNullWhen(true)] string? unitId) => unitId is not null && string.IsNullOrWhiteSpace(unitId);

    /// <exception cref="InvalidInputException"><c>invalid_unit_id</c> naming <paramref name="field"/> when <see cref="IsBlankUnitId"/>.</exception>
    public static void RefuseBlankUnitId(string? unitId, string field = "unitId")
    {
        if (IsBlankUnitId(unitId))
            throw BlankUnitId(field);
    }

    // "Required" would mislead a render, whose unit id is optional.
    public static InvalidInputException BlankUnitId(string field) => new("invalid_unit_id",
        $"{field} is blank; a unit id names the user (or other unit) an experiment assigns, and is used exactly as given: send one, or leave it out for no unit.", field);

    /// <summary>
    /// Refuses a unit id holding U+0000 or a lone surrogate (a name cut in the middle of an emoji) as the server refuses it
    /// while reading a render request (400 <c>invalid_text</c>), whatever else the request names: the SDK, which takes the id
    /// in process, would otherwise serve it and then lose the exposures and events that carry it to the server.
    /// </summary>
    /// <exception cref="InvalidInputException"><c>invalid_text</c>, naming <paramref name="field"/>.</exception>
    public static void EnsureUnitIdIsText(string? unitId, string field = "unitId")
    {
        if (InvalidJsonTextException.FaultIn(unitId) is { } fault)
            throw new InvalidJsonTextException("", fault).Refusal(field);
    }

    public static NotFoundException LabelNotFound(string promptName, string label) => new("label_not_found",
        $"prompt '{promptName}' has no version labelled '{label}'" + (label == Label.Production ? "; promote a version first, or name a version or label." : "."));

    /// <summary>
    /// A version reference (a number, an id, <c>latest</c>) that names none of the prompt's versions: the server's and the SDK's
    /// words for it. A label's name given as a version says where that label is (<paramref name="labelledAt"/>); where the
    /// caller looked in part of the versions only (the SDK's snapshot) and the version may be elsewhere, <paramref name="lookedIn"/> says so.
    /// </summary>
    public static NotFoundException VersionNotFound(string promptName, string version, string? labelledAt = null, string? lookedIn = null) => new("version_not_found",
        $"prompt '{promptName}' has no version '{PromptRules.Echo(version)}'{(lookedIn is null ? "" : $" in {lookedIn}")}"
        + (labelledAt is null ? "" : $": '{PromptRules.Echo(version)}' is a label, at version {labelledAt}; a version is named by its number, its id or latest") + ".");

    /// <param name="includedAs">The include tag that names the version (<c>{{> guard@1.0.0}}</c>) when a template includes it: the
    /// include is then at fault, not a version the request names, and the refusal names the tag and the template's field.</param>
    /// <exception cref="ConflictException">The version is archived: archived versions never serve traffic.</exception>
    public static void EnsureServable(string promptName, string version, VersionStatus status, string? includedAs = null)
    {
        if (status == VersionStatus.Archived)
            throw VersionArchived(promptName, version, includedAs);
    }

    public static ConflictException VersionArchived(string promptName, string version, string? includedAs = null) => new("version_archived",
        $"{(includedAs is null ? "" : $"content includes {includedAs}, but ")}version {version} of '{promptName}' is archived and can never serve traffic.",
        includedAs is null ? "version" : "content");

    /// <summary>
    /// A render's refusal (a required variable missing, a value of the wrong type or nested too deep, an include that does not
    /// resolve) said of the prompt and version rendered (an experiment's variant's), in its message and as
    /// <see cref="PromptVaultException.PromptName"/> and <see cref="PromptVaultException.Version"/>: the server's render and
    /// the SDK's both refuse through this, so they say it alike.
    /// </summary>
    public static InvalidInputException RenderRefused(InvalidInputException refusal, string promptName, string version) =>
        new(refusal.Code, RenderRefusal(refusal, promptName, version), refusal.Field)
        {
            Location = refusal.Location,
            PromptName = promptName,
            Version = version,
        };

    /// <summary>The same for a refusal with a conflict's status (409): an include of an archived version, includes that form a cycle.</summary>
    public static ConflictException RenderRefused(ConflictException refusal, string promptName, string version) =>
        new(refusal.Code, RenderRefusal(refusal, promptName, version), refusal.Field) { PromptName = promptName, Version = version };

    private static string RenderRefusal(PromptVaultException refusal, string promptName, string version) =>
        $"prompt '{promptName}' version {version} refused the render: {refusal.Message}";
}
