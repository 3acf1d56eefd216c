using System.Net;
using System.Text.Json;
using PromptVault.Cli.PromptFiles;
using PromptVault.Client;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Prompts;
using PromptVault.Core.Versioning;

namespace PromptVault.Cli.Commands;

/// <summary>
/// <c>push FILE... [-m MESSAGE] [--bump B]</c>: creates each file's prompt, or a new version of it when the file changed.
/// Every file is read and checked, and every needed <c>-m</c> known, before anything is written.
/// </summary>
internal sealed class PushCommand(CliContext context)
{
    public async Task<int> InvokeAsync(RemoteSettings remote, IReadOnlyList<string> paths, string? message, VersionBump? bump, CancellationToken cancellationToken)
    {
        var unusable = paths.Select(CliException.NotAFile).OfType<string>().ToList();
        if (unusable.Count > 0)
        {
            foreach (var why in unusable) context.WriteError(why);
            return ExitCodes.Usage;
        }

        var files = new List<(string Path, PromptFile File)>();
        var unreadable = false;
        foreach (var path in paths)
        {
            try
            {
                files.Add((path, PromptFileReader.Parse(await CliException.ReadAllTextAsync(path, cancellationToken), path)));
            }
            catch (CliException e) // a PromptFileException too
            {
                context.WriteError(e.Message, code: e.Code);
                unreadable = true;
            }
        }
        if (unreadable) return ExitCodes.Refused;

        var duplicate = files.GroupBy(f => f.File.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            context.WriteError($"{string.Join(" and ", duplicate.Select(f => f.Path))} both hold prompt '{duplicate.Key}'; push one of them.");
            return ExitCodes.Usage;
        }

        var plans = new List<Plan>();
        var exit = await context.CallServerAsync(remote, async client =>
        {
            var refused = false;
            foreach (var (path, file) in files)
            {
                try
                {
                    plans.Add(await PlanAsync(client, path, file, cancellationToken));
                }
                catch (PromptVaultApiException e)
                {
                    context.WriteError(e, path);
                    refused = true;
                }
            }
            if (refused) return ExitCodes.Refused;

            // A template the server refuses only matters when it would be saved: an unchanged file may say what a version saved
            // before the rule says.
            var refusedTemplates = plans.Where(p => p.Action != PushAction.Unchanged && p.File.TemplateProblem is not null).ToList();
            if (refusedTemplates.Count > 0)
            {
                foreach (var plan in refusedTemplates) context.WriteError(plan.File.TemplateProblem!.Message, code: plan.File.TemplateProblem.Code);
                return ExitCodes.Refused;
            }

            var needMessage = plans.Where(p => p.Action == PushAction.NewVersion && string.IsNullOrWhiteSpace(message)).ToList();
            if (needMessage.Count > 0)
            {
                foreach (var plan in needMessage)
                    context.WriteError($"{plan.Path}: prompt '{plan.File.Name}' exists and the file differs from its latest version {plan.Existing!.LatestVersion.Version}; -m MESSAGE is required to describe the new version.",
                        code: "missing_change_description");
                // Refused, not bad usage: the same command line is right for a new prompt; the server's state makes the
                // description required (a version without one is missing_change_description). Checked before any file is sent.
                return ExitCodes.Refused;
            }

            var results = new List<PushResult>();
            var exitCode = ExitCodes.Success;
            for (var i = 0; i < plans.Count; i++)
            {
                var plan = plans[i];
                try
                {
                    results.Add(await PushAsync(client, plan, message, bump, cancellationToken));
                }
                catch (PromptVaultApiException e)
                {
                    context.WriteError(e, plan.Path);
                    exitCode = ExitCodes.Refused;
                }
                catch (Exception e) when (e is HttpRequestException { StatusCode: null } or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    // The server went away mid-push: what it stored is printed, and what it may not have is named.
                    Print(results, remote.Json);
                    context.WriteWarning($"push stopped at {plan.Path}, which may or may not have been stored; {FilesAfter(plans.Count - i - 1)}. " +
                        "Run the same push again when the server answers: what was stored reports unchanged.");
                    throw;
                }
            }
            Print(results, remote.Json);
            return exitCode;
        }, cancellationToken);

        // A file the server could not be asked about (unreachable, or it refused the question) keeps its template problem,
        // which the connection failure alone would hide.
        foreach (var (_, file) in files.Where(f => f.File.TemplateProblem is not null && plans.All(p => p.File != f.File)))
            context.WriteError(file.TemplateProblem!.Message, "the server refuses this template unless the file says what the prompt's latest version says, which could not be checked.",
                file.TemplateProblem.Code);
        return exit;
    }

    private async Task<Plan> PlanAsync(PromptVaultClient client, string path, PromptFile file, CancellationToken cancellationToken)
    {
        PromptResponse existing;
        try
        {
            existing = await client.GetPromptAsync(file.Name, cancellationToken);
        }
        catch (PromptVaultApiException e) when (e.StatusCode == HttpStatusCode.NotFound && e.Code == "prompt_not_found")
        {
            return new Plan(path, file, null, PushAction.Create);
        }

        WarnAboutPromptFields(path, file, existing);
        return new Plan(path, file, existing, SameVersionBody(file, existing) ? PushAction.Unchanged : PushAction.NewVersion);
    }

    private async Task<PushResult> PushAsync(PromptVaultClient client, Plan plan, string? message, VersionBump? bump, CancellationToken cancellationToken)
    {
        var file = plan.File;
        switch (plan.Action)
        {
            case PushAction.Create:
                if (bump is not null) context.WriteWarning($"{plan.Path}: --bump does not apply to a new prompt; its first version is 1.0.0.");
                var created = await client.CreatePromptAsync(new CreatePromptRequest(file.Name, file.Description, file.Type, ContentOf(file),
                    file.Variables, file.Metadata, file.Tags, file.Category, file.Messages, file.RequireApproval, file.RequireTests, file.Tests), cancellationToken);
                return new PushResult(plan.Path, file.Name, created.LatestVersion.Version, created.LatestVersion.Id, "created", null);

            case PushAction.NewVersion:
                try
                {
                    var version = await client.CreateVersionAsync(file.Name,
                        new CreateVersionRequest(ContentOf(file), file.Variables, file.Metadata, message, bump, file.Messages, file.Tests), cancellationToken);
                    return new PushResult(plan.Path, file.Name, version.Version, version.Id, "new-version", plan.Existing!.LatestVersion.Version);
                }
                catch (PromptVaultApiException e) when (e.StatusCode == HttpStatusCode.Conflict && e.Code == "version_unchanged")
                {
                    // The server decides what "the same" is; its word wins over the local comparison.
                    return await NoNewVersionAsync(client, plan, bump, cancellationToken);
                }

            default:
                return await NoNewVersionAsync(client, plan, bump, cancellationToken);
        }
    }

    /// <summary>The file makes no new version: its tests may still replace the latest version's, and a --bump has nothing to raise, which is said.</summary>
    private async Task<PushResult> NoNewVersionAsync(PromptVaultClient client, Plan plan, VersionBump? bump, CancellationToken cancellationToken)
    {
        var result = await UpdateTestsAsync(client, plan, cancellationToken) ?? Unchanged(plan);
        if (bump is { } asked)
            context.WriteWarning($"{plan.Path}: {result.Result}: --bump {Names.Of(asked)} not applied; the content, variables and metadata are unchanged, so no new version was made ({result.Version} stays the latest).");
        return result;
    }

    /// <summary>
    /// Test cases are not part of a version's body: when only the file's <c>tests</c> block changed, they replace the latest
    /// version's (result <c>tests-updated</c>). Null when the file has no block or the same cases.
    /// </summary>
    private static async Task<PushResult?> UpdateTestsAsync(PromptVaultClient client, Plan plan, CancellationToken cancellationToken)
    {
        if (plan.File.Tests is not { } tests) return null;
        var latest = plan.Existing!.LatestVersion;
        var stored = await client.GetTestsAsync(plan.File.Name, latest.Id, cancellationToken);
        if (SameTests(tests, stored.Tests ?? [])) return null;
        await client.PutTestsAsync(plan.File.Name, latest.Id, new VersionTests(tests), cancellationToken);
        return new PushResult(plan.Path, plan.File.Name, latest.Version, latest.Id, "tests-updated", null);
    }

    private static bool SameTests(IReadOnlyList<TestCase> file, IReadOnlyList<TestCase> stored)
    {
        try
        {
            return JsonSerializer.Serialize(TestCaseRules.ValidateWithoutVersion(file).ToList(), PromptVaultJson.Options) == JsonSerializer.Serialize(stored.ToList(), PromptVaultJson.Options);
        }
        catch (InvalidInputException)
        {
            return false; // The server refuses them, naming the case at fault.
        }
    }

    private static PushResult Unchanged(Plan plan) =>
        new(plan.Path, plan.File.Name, plan.Existing!.LatestVersion.Version, plan.Existing.LatestVersion.Id, "unchanged", null);

    /// <summary>
    /// Whether the file says what the latest version says. A file cannot say all a version made through the API may (the
    /// reader normalises CRLF line ends and trims trailing whitespace), so the version is also compared as pull writes
    /// it and the reader reads it back: pushing a pulled file unchanged is a no-op.
    /// </summary>
    private static bool SameVersionBody(PromptFile file, PromptResponse existing)
    {
        // A file holds the variables the version declared (PromptFileWriter), not those its includes joined.
        var latest = existing.LatestVersion;
        if (file.Body.SameAs(latest.Body with { Variables = latest.Declared })) return true;
        try
        {
            return file.Body.SameAs(PromptFileReader.Parse(PromptFileWriter.Write(existing, existing.LatestVersion), existing.Name).Body);
        }
        catch (PromptFileException)
        {
            return false; // A version no file can hold (pull would write one that does not read back).
        }
    }

    /// <summary>A chat prompt sends messages, and no content.</summary>
    private static string? ContentOf(PromptFile file) => file.Messages is null ? file.Content : null;

    /// <summary>Push versions content, variables and metadata; the prompt's own fields (the gates too) are set when it is created.</summary>
    private void WarnAboutPromptFields(string path, PromptFile file, PromptResponse existing)
    {
        var differ = new List<string>();
        if (file.Type is { } type && type != existing.Type) differ.Add("type");
        if (file.Description is { } description && description != existing.Description) differ.Add("description");
        if (file.Tags is { } tags && !tags.SequenceEqual(existing.Tags)) differ.Add("tags");
        if (file.Category is { } category && category != existing.Category) differ.Add("category");
        if (file.RequireApproval is { } approval && approval != existing.RequireApproval) differ.Add("requireApproval");
        if (file.RequireTests is { } gated && gated != existing.RequireTests) differ.Add("requireTests");
        if (differ.Count == 1)
            context.WriteWarning($"{path}: {differ[0]} differs from prompt '{existing.Name}' on the server and was left unchanged; push versions only the template, variables and metadata.");
        else if (differ.Count > 1)
            context.WriteWarning($"{path}: {string.Join(", ", differ)} differ from prompt '{existing.Name}' on the server and were left unchanged; push versions only the template, variables and metadata.");
    }

    private void Print(List<PushResult> results, bool json) =>
        context.Print(json, results, () =>
        {
            foreach (var result in results)
            {
                var what = result.Result switch
                {
                    "created" => "created",
                    "new-version" => $"new version (was {result.PreviousVersion})",
                    "tests-updated" => "test cases updated",
                    _ => "unchanged",
                };
                context.Out.WriteLine($"{result.Prompt} {result.Version} {what}");
            }
        });

    private static string FilesAfter(int count) => count switch
    {
        0 => "it was the last file",
        1 => "the file after it was not pushed",
        _ => $"the {count} files after it were not pushed",
    };

    private enum PushAction { Create, NewVersion, Unchanged }

    private sealed record Plan(string Path, PromptFile File, PromptResponse? Existing, PushAction Action);
}

/// <summary>One file's outcome, as <c>push --json</c> prints it. <c>Result</c> is <c>created</c>, <c>new-version</c>, <c>tests-updated</c> or <c>unchanged</c>.</summary>
internal sealed record PushResult(string File, string Prompt, string Version, string VersionId, string Result, string? PreviousVersion);
