using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.WebUtilities;
using PromptVault.Client;
using PromptVault.Core;
using PromptVault.Core.Prompts;
using PromptVault.Server.Hosting;
using Spectre.Console;

namespace PromptVault.Cli;

/// <summary>What every command writes to and reads from: stdout (data), stderr (diagnostics), the environment.</summary>
internal sealed class CliContext
{
    private readonly Func<string, string?> _environment;
    private readonly List<CliError> _jsonErrors = [];
    private readonly List<string> _jsonWarnings = [];

    /// <param name="isTerminal">Whether stdout is a terminal.</param>
    /// <param name="isErrorTerminal">Whether stderr is a terminal (it may be while stdout is redirected, and the other way round).</param>
    public CliContext(TextWriter stdout, TextWriter stderr, Func<string, string?> environment, bool isTerminal, bool isErrorTerminal,
        TimeSpan? requestTimeout = null)
    {
        RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(100);
        Out = stdout;
        Error = stderr;
        _environment = environment;
        IsTerminal = isTerminal;
        Console = CreateConsole(stdout, isTerminal);
        ErrorConsole = CreateConsole(stderr, isErrorTerminal);
    }

    private static IAnsiConsole CreateConsole(TextWriter writer, bool isTerminal)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = isTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        // Piped output has no window to wrap to; a wide page keeps table rows on one line for grep.
        if (!isTerminal) console.Profile.Width = 240;
        return console;
    }

    /// <summary>Data: tables, rendered prompts, JSON.</summary>
    public TextWriter Out { get; }

    /// <summary>Diagnostics: errors, warnings, notes.</summary>
    public TextWriter Error { get; }

    /// <summary>A Spectre console over <see cref="Out"/>, without colours unless it is a terminal.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>A Spectre console over <see cref="Error"/>, without colours unless stderr is a terminal, for progress, which is no data (piped, it would precede <c>--json</c>'s document).</summary>
    public IAnsiConsole ErrorConsole { get; }

    public bool IsTerminal { get; }

    /// <summary>The longest a command waits for the server's answer, unless it passes its own to <see cref="CallServerAsync"/>.</summary>
    public TimeSpan RequestTimeout { get; }

    public string? GetEnvironmentVariable(string name) => _environment(name);

    /// <summary>Whether errors go to stderr as JSON (<c>--json</c>): <c>{ "error": { status?, title?, code, detail, field?, hint? } }</c>.</summary>
    public bool JsonErrors { get; set; }

    /// <summary>Where the API key came from (<c>--api-key</c> or <c>PROMPTVAULT_API_KEY</c>); null when none was given.</summary>
    public string? ApiKeySource { get; set; }

    /// <summary>A failure found by the CLI itself (bad usage, a local file, an unreachable server).</summary>
    /// <param name="code">With <c>--json</c>, the server's code for the same problem, for a refusal the CLI makes before sending it.</param>
    public void WriteError(string message, string? hint = null, string code = CliErrorCode)
    {
        if (JsonErrors)
        {
            WriteJsonError(new CliError(null, null, code, message, null, hint));
            return;
        }
        Error.WriteLine($"error: {message}");
        if (hint is not null) Error.WriteLine($"hint: {hint}");
    }

    /// <summary>The <c>--json</c> code of a failure found by the CLI itself that the server has no code for.</summary>
    public const string CliErrorCode = "cli_error";

    /// <summary>What to try when the server named by --server (or PROMPTVAULT_URL) is not there, or is not PromptVault's root.</summary>
    private static readonly string ServerHint = ServerUrls.RootUrlHint("--server (or PROMPTVAULT_URL)", ServerDefaults.Urls);

    /// <summary>A warning on stderr; with <c>--json</c>, kept for the one document <see cref="WriteJsonErrors"/> writes.</summary>
    public void WriteWarning(string message)
    {
        if (JsonErrors) _jsonWarnings.Add(message);
        else Error.WriteLine($"warning: {message}");
    }

    public void WriteJson<T>(T value) => Out.WriteLine(CliJson.Serialize(value));

    /// <summary>
    /// Prints a command's result, the one place that decides between JSON and text: with <c>--json</c> <paramref name="value"/> as
    /// the API's JSON, else what <paramref name="writeText"/> writes for people. Returns <paramref name="exitCode"/>.
    /// </summary>
    public int Print<T>(bool json, T value, Action writeText, int exitCode = ExitCodes.Success)
    {
        if (json) WriteJson(value);
        else writeText();
        return exitCode;
    }

    /// <summary>
    /// Runs a command against the server: creates the client, and turns the failures a user can act on into a message on
    /// stderr and an exit code (1 refused or unreachable, 2 bad usage).
    /// </summary>
    /// <param name="target">The version the command moves (promote, status, rollback), which a lifecycle refusal's hint names.</param>
    /// <param name="timeout">The longest wait for the server's answer (default <see cref="RequestTimeout"/>).</param>
    public async Task<int> CallServerAsync(RemoteSettings remote, Func<PromptVaultClient, Task<int>> command, CancellationToken cancellationToken,
        TargetVersion? target = null, TimeSpan? timeout = null)
    {
        if (!Uri.TryCreate(remote.Server, UriKind.Absolute, out var server) || server.Scheme is not ("http" or "https"))
        {
            WriteError($"--server '{remote.Server}' is not an http:// or https:// URL.");
            return ExitCodes.Usage;
        }

        using var http = new HttpClient(SafeRetries.CreateHandler(new SocketsHttpHandler())) { BaseAddress = server, Timeout = timeout ?? RequestTimeout };
        var client = new PromptVaultClient(http, remote.ApiKey);
        try
        {
            return await command(client);
        }
        catch (CliException e)
        {
            WriteError(e.Message, code: e.Code);
            return e.ExitCode;
        }
        catch (PromptVaultApiException e)
        {
            if (e.Code == "approval_required" && target is not null) target = await WithStatusAsync(client, target, cancellationToken);
            if (e.Code == "label_moved" && target is not null) target = await WithLabelNowAsync(client, target, cancellationToken);
            WriteError(e, target: target);
            return ExitCodes.Refused;
        }
        catch (HttpRequestException e) when (e.StatusCode is null)
        {
            WriteError($"cannot reach the server at {server}: {e.Message}", $"is 'promptvault serve' running there? {ServerHint}");
            return ExitCodes.Refused;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            WriteError($"the server at {server} did not answer within {http.Timeout.TotalSeconds:0} seconds.");
            return ExitCodes.Refused;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A local file that could not be written (pull -o) or read.
            WriteError(e.Message);
            return ExitCodes.Refused;
        }
    }

    /// <summary>
    /// Prints a refused request as <c>error (code): [subject: ]detail</c>, with a hint for the first mistakes: a missing or weak
    /// key (401, <c>forbidden</c>), a server URL with a path (<c>not_found</c>: no route), a misspelt prompt name
    /// (<c>prompt_not_found</c>), a file past the server's body limit (<c>payload_too_large</c>), a prompt that exists
    /// (<c>prompt_exists</c>: push adds a version), an include of a version not yet labelled (<c>reference_not_found</c>), a
    /// variable the render was not given (<c>missing_variable</c>), a version with no tests (<c>no_tests</c>); and, for a
    /// refusal of the lifecycle's gates on <paramref name="target"/> (<c>approval_required</c>, <c>self_approval</c>,
    /// <c>tests_required</c>, <c>tests_failed</c>), the CLI commands that meet them (the server's detail names its HTTP routes);
    /// a <c>label_moved</c> refusal of <paramref name="target"/> is told in the CLI's words (the server's speaks of its If-Match
    /// header) with the <c>--expect</c> to run again with.
    /// </summary>
    /// <param name="hint">The caller's own hint, in place of the one for the code.</param>
    public void WriteError(PromptVaultApiException e, string? subject = null, TargetVersion? target = null, string? hint = null)
    {
        var detail = e.Code == "label_moved" && target is not null ? LabelMovedDetail(target) : e.Detail;
        detail = subject is null ? detail : $"{subject}: {detail}";
        hint ??= (e.StatusCode, e.Code) switch
        {
            (HttpStatusCode.Unauthorized, _) => ApiKeySource is null
                ? "pass --api-key KEY or set PROMPTVAULT_API_KEY."
                : $"the key given by {ApiKeySource} was refused: it is mistyped, revoked or from another server (an import of another server's export replaces the keys: then that server's keys work here, and the ones from before do not); pass a valid one with --api-key KEY or PROMPTVAULT_API_KEY.",
            // Only the role refusal: another 403 (self_approval) is not cured by a stronger key, and its detail says what is.
            (HttpStatusCode.Forbidden, "forbidden") => "this needs a key with a stronger role (reader < writer < admin).",
            (_, "not_found") => ServerHint,
            (_, "prompt_not_found") => "'promptvault list' shows the prompts there are.",
            // A prompt file is sent whole, its template, description and tests in one request; nothing of it was stored.
            (_, "payload_too_large") => "nothing was stored; the file is sent in one request, which the server's limit bounds: shorten its template, description or tests.",
            // The server's detail names its HTTP route (a push that lost the race to create the prompt, or the demo's).
            (_, "prompt_exists") => "'promptvault push FILE' adds a new version to a prompt that exists.",
            (_, "reference_not_found") =>
                "an include finds the version its label points to (production unless it names another): push the included prompt first, " +
                "give its version that label with 'promptvault promote NAME VERSION', then run this again; or include a version: {{> NAME@VERSION}}.",
            (_, "missing_variable") when e.Field?.StartsWith(VariablesField, StringComparison.Ordinal) == true =>
                $"pass --var {e.Field[VariablesField.Length..]}=VALUE, or put it in a --vars FILE.json.",
            (_, "approval_required") when target is { Status: { } status } => ApprovalHint(target, status),
            (_, "self_approval") when target is var (name, version, _) =>
                $"whoever approves it runs 'promptvault status {name} {version} approved' with their own key (--api-key).",
            (_, "label_moved") when target is { LabelNow: { } now } =>
                $"to make this change from where the label is now, run the command again with --expect {now.Version ?? "none"}; 'promptvault audit {target.Name}' shows who moved it.",
            (_, "label_moved") when target is not null =>
                $"'promptvault history {target.Name}' shows where the label points now; run the command again with --expect that version (none: not set).",
            // The server's detail names its HTTP route; from the CLI a prompt file's tests: block adds them.
            (_, "no_tests") =>
                "add a tests: block to the prompt's file (docs/evaluations.md#test-cases) and run 'promptvault push FILE': new test cases alone update the latest version's; then run this again.",
            (_, "tests_required" or "tests_failed") when target is var (name, version, _) =>
                $"'promptvault test {name} --version {version}' runs its tests and shows what fails; once they pass, run this command again.",
            _ => null,
        };
        if (JsonErrors)
        {
            var status = (int)e.StatusCode;
            WriteJsonError(new CliError(status, ReasonPhrases.GetReasonPhrase(status), e.Code, detail, e.Field, hint));
            return;
        }
        Error.WriteLine($"error ({e.Code}): {detail}");
        if (hint is not null) Error.WriteLine($"hint: {hint}");
    }

    private const string VariablesField = "variables.";

    /// <summary>The CLI commands that take <paramref name="target"/> from <paramref name="status"/> through the approval gate; null when it can no longer pass it (the detail says what to do instead).</summary>
    private static string? ApprovalHint(TargetVersion target, VersionStatus status)
    {
        var steps = ApprovalRules.StepsToApproval(status);
        if (steps is null) return null;
        var commands = steps.Select(step => step == VersionStatus.Approved
            ? $"'promptvault status {target.Name} {target.Version} approved', run with a key of another name (--api-key), approves it"
            : $"'promptvault status {target.Name} {target.Version} {Names.Of(step)}' moves it to {Names.Of(step)}");
        return $"from the CLI: {string.Join(", and ", commands)}; then run this command again.";
    }

    /// <summary><paramref name="target"/> with the status it has now, which the approval hint starts from; without one when it cannot be read.</summary>
    private static async Task<TargetVersion> WithStatusAsync(PromptVaultClient client, TargetVersion target, CancellationToken cancellationToken)
    {
        try
        {
            return target with { Status = (await client.GetVersionAsync(target.Name, target.Version, cancellationToken)).Status };
        }
        catch (Exception e) when (e is PromptVaultApiException or HttpRequestException)
        {
            return target;
        }
    }

    /// <summary>A <c>label_moved</c> refusal of <paramref name="target"/>'s label move, saying where the label is and what <c>--expect</c> wanted.</summary>
    private static string LabelMovedDetail(TargetVersion target)
    {
        var where = target.LabelNow switch
        {
            null => "is elsewhere",
            { Version: null } => "is not set",
            { Version: var version } => $"points at version {version}",
        };
        var wanted = target.Expect is null ? "" : $"; --expect wants it {target.Expect}";
        return $"label '{target.Label}' of '{target.Name}' {where}{wanted}: someone else moved it, and this command changed nothing.";
    }

    /// <summary><paramref name="target"/> with where its label points now, which a <c>label_moved</c> refusal names; without it when it cannot be read.</summary>
    private static async Task<TargetVersion> WithLabelNowAsync(PromptVaultClient client, TargetVersion target, CancellationToken cancellationToken)
    {
        try
        {
            var labels = (await client.GetPromptAsync(target.Name, cancellationToken)).Labels;
            return target with { LabelNow = new LabelPosition(labels.GetValueOrDefault(target.Label)) };
        }
        catch (Exception e) when (e is PromptVaultApiException or HttpRequestException)
        {
            return target;
        }
    }

    private void WriteJsonError(CliError error) => _jsonErrors.Add(error);

    /// <summary>
    /// Writes the <c>--json</c> errors and warnings the command found as one document on one line, so a script reads exactly one:
    /// the first error as <c>error</c> and, when there were more (two bad files, a template error behind an unreachable server),
    /// all of them in order as <c>errors</c>; the warnings as <c>warnings</c>, alone when the command succeeded. Called once, when
    /// the command ends.
    /// </summary>
    public void WriteJsonErrors()
    {
        if (_jsonErrors.Count == 0 && _jsonWarnings.Count == 0) return;
        Error.WriteLine(JsonSerializer.Serialize(new CliErrorDocument(_jsonErrors.FirstOrDefault(), _jsonErrors.Count > 1 ? [.. _jsonErrors] : null,
            _jsonWarnings.Count > 0 ? [.. _jsonWarnings] : null), CliJson.ErrorDocument));
        _jsonErrors.Clear();
        _jsonWarnings.Clear();
    }
}

/// <summary>
/// The version a command moves through the lifecycle, as the user named it; its status once a refusal has read it; the label
/// the command moves with the <c>--expect</c> it was given, and where that label points once a <c>label_moved</c> refusal has read it.
/// </summary>
internal sealed record TargetVersion(string Name, string Version, VersionStatus? Status = null)
{
    public string Label { get; init; } = PromptVault.Core.Prompts.Label.Production;
    public LabelExpectation? Expect { get; init; }
    public LabelPosition? LabelNow { get; init; }
}

/// <summary>Where a label points: a version number, or null when it is not set.</summary>
internal sealed record LabelPosition(string? Version);

/// <summary>An error as <c>--json</c> prints it on stderr; <c>status</c> and <c>title</c> are the server's, when it refused.</summary>
internal sealed record CliError(int? Status, string? Title, string Code, string Detail, string? Field, string? Hint);

/// <summary>
/// What <c>--json</c> prints on stderr when a command fails: its first error, and every error when it found more than one;
/// and its warnings, which are all it prints there when the command succeeded with some.
/// </summary>
internal sealed record CliErrorDocument(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] CliError? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<CliError>? Errors = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Warnings = null);

/// <summary>Where a command sends its requests, with which key, and whether it prints JSON.</summary>
internal sealed record RemoteSettings(string Server, string? ApiKey, bool Json);

/// <summary>A failure a command reports with a message and an exit code instead of a stack trace.</summary>
/// <param name="code">The server's code for the same problem, when it has one (see <see cref="CliContext.WriteError(string, string?, string)"/>).</param>
internal class CliException(int exitCode, string message, string code = CliContext.CliErrorCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public string Code { get; } = code;

    public static CliException Usage(string message, string code = CliContext.CliErrorCode) => new(ExitCodes.Usage, message, code);

    /// <summary>Refuses an output file (<paramref name="option"/> <paramref name="output"/>) whose folder does not exist, before anything is asked of the server.</summary>
    public static void ThrowIfFolderMissing(string option, string output)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(output));
        if (folder is not null && !Directory.Exists(folder))
            throw Usage($"{option} {output}: the folder {folder} does not exist.");
    }

    public static CliException Refused(string message) => new(ExitCodes.Refused, message);

    /// <summary>
    /// Opens <paramref name="path"/> to read. A file that exists but that the system will not open (no permission, a symlink
    /// loop) is refused naming it; it crashed with a stack trace.
    /// </summary>
    public static FileStream OpenRead(string path)
    {
        try
        {
            return File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Refused($"{path}: cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// The text of <paramref name="path"/> (see <see cref="OpenRead"/>): UTF-8, or the encoding its byte order mark names. Bytes that
    /// are not UTF-8 are refused, naming them; they were read as U+FFFD and pushed, so the stored text silently differed from the file.
    /// </summary>
    public static async Task<string> ReadAllTextAsync(string path, CancellationToken cancellationToken)
    {
        byte[] bytes;
        await using (var file = OpenRead(path))
        {
            // Read whole, then decoded once into the string: a reader's growing buffer held the text twice over. A pipe
            // (`--vars <(…)`, a FIFO) has no length to read up to.
            if (file.CanSeek)
            {
                bytes = new byte[file.Length];
                await file.ReadExactlyAsync(bytes, cancellationToken);
            }
            else
            {
                using var copy = new MemoryStream();
                await file.CopyToAsync(copy, cancellationToken);
                bytes = copy.ToArray();
            }
        }
        try
        {
            if (!NamesUtf16OrUtf32(bytes))
                return StrictUtf8.GetString(bytes.AsSpan(bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0));
            using var reader = new StreamReader(new MemoryStream(bytes), StrictUtf8);
            return await reader.ReadToEndAsync(cancellationToken);
        }
        catch (DecoderFallbackException e)
        {
            throw Refused($"{path}: is not UTF-8 text: it holds the byte(s) {Convert.ToHexString(e.BytesUnknown ?? [])}, which UTF-8 does not use; save the file as UTF-8.");
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Whether the bytes start with a UTF-16 or UTF-32 byte order mark, which a <see cref="StreamReader"/> reads by.</summary>
    private static bool NamesUtf16OrUtf32(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || bytes.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]);

    /// <summary>Why <paramref name="path"/>, named as a file to read, cannot be read as one; null when it can.</summary>
    public static string? NotAFile(string path) =>
        File.Exists(path) ? null
        : Directory.Exists(path) ? $"{path}: a folder, not a file (name the files in it, e.g. {Path.Combine(path, "*.md")})."
        : $"{path}: no such file.";
}
