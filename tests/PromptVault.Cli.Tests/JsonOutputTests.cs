using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PromptVault.Server.Tests;
using PromptVault.Server.Tests.Webhooks;

namespace PromptVault.Cli.Tests;

/// <summary>Every command that takes <c>--json</c> prints exactly one JSON document on stdout (SPEC §6: JSON for scripts).</summary>
public sealed class JsonOutputTests
{
    /// <summary>
    /// The commands come from the command tree itself: a command added with <c>--json</c> and no case here fails the test,
    /// named. The cases run in order, later ones using what earlier ones made.
    /// </summary>
    [Fact]
    public async Task EveryJsonCommand_PrintsOneJsonDocument_AndExitsZero()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: ct);
        await using var server = await RunningServer.StartAsync(new ServerSetup(WebhookTests.FastRetries), ct);
        using var folder = new TempFolder();
        var name = ApiCalls.UniqueName("json-all");
        var file = folder.Write("p.md", CommandTests.PromptFile(name, extraVariables: "tests:\n  - name: greets\n    variables: { who: Ann }\n    expect:\n      - { type: contains, value: Hello }"));
        var changed = folder.Write("changed.md", CommandTests.PromptFile(name, "Hi {{who}}.", "tests:\n  - name: greets\n    variables: { who: Ann }\n    expect:\n      - { type: contains, value: Hi }"));
        var exported = Path.Combine(folder.Path, "export.json");
        string keyId = "", webhookId = "", deliveryId = "", experimentId = "", cancelledId = "";

        var cases = new (string Command, Func<Task<string[]>> Args)[]
        {
            ("webhooks add", () => Args("webhooks", "add", receiver.Url.AbsoluteUri, "--events", "version.created")),
            ("push", () => Args("push", file)),
            ("pull", () => Args("pull", name)),
            ("list", () => Args("list")),
            ("history", async () =>
            {
                await Run(server, "push", changed, "-m", "Say hi");
                return ["history", name];
            }),
            ("diff", () => Args("diff", name, "1.0.0", "1.0.1")),
            ("status", () => Args("status", name, "1.0.1", "review")),
            ("promote", () => Args("promote", name, "1.0.1")),
            ("rollback", () => Args("rollback", name, "1.0.0")),
            ("render", () => Args("render", name, "--var", "who=Ann")),
            ("test", () => Args("test", name)),
            ("metrics", () => Args("metrics", name)),
            ("audit", () => Args("audit", name)),
            ("keys create", () => Args("keys", "create", "--role", "reader")),
            ("keys list", () => Args("keys", "list")),
            ("keys revoke", () => Args("keys", "revoke", keyId)),
            ("webhooks list", () => Args("webhooks", "list")),
            ("webhooks deliveries", async () =>
            {
                deliveryId = (await receiver.NextAcceptedAsync(TimeSpan.FromSeconds(20))).DeliveryId.ToString(CultureInfo.InvariantCulture);
                return ["webhooks", "deliveries", webhookId];
            }),
            ("webhooks redeliver", () => Args("webhooks", "redeliver", webhookId, deliveryId)),
            ("webhooks enable", () => Args("webhooks", "enable", webhookId)),
            ("webhooks remove", () => Args("webhooks", "remove", webhookId)),
            ("export", () => Args("export")),
            ("import", () => Args("import", exported, "--merge")),
            ("experiment create", () => Args("experiment", "create", "tone", "--prompt", name, "--variant", "a=1.0.0:50", "--variant", "b=1.0.1:50")),
            ("experiment list", () => Args("experiment", "list", "--prompt", name)),
            ("experiment start", () => Args("experiment", "start", experimentId)),
            ("experiment results", () => Args("experiment", "results", experimentId)),
            ("experiment pause", () => Args("experiment", "pause", experimentId)),
            ("experiment complete", () => Args("experiment", "complete", experimentId)),
            ("experiment cancel", async () =>
            {
                var created = await Run(server, "experiment", "create", "other", "--prompt", name, "--variant", "a=1.0.0:50", "--variant", "b=1.0.1:50", "--json");
                using var document = JsonDocument.Parse(created.Out);
                cancelledId = document.RootElement.GetProperty("id").GetString()!;
                return ["experiment", "cancel", cancelledId];
            }),
            ("demo", () => Args("demo", "--prompt", ApiCalls.UniqueName("json-demo"), "--users", "40")),
            ("admin-key", () => Args("admin-key", "--db", server.DatabasePath)),
        };

        var withJson = JsonCommands(Program.CreateRootCommand(NewContext()), "").ToList();
        Assert.True(withJson.All(command => cases.Any(c => c.Command == command)),
            $"No case in {nameof(JsonOutputTests)} for: {string.Join(", ", withJson.Where(command => cases.All(c => c.Command != command)))}.");
        Assert.Equal(withJson.Order(StringComparer.Ordinal), cases.Select(c => c.Command).Order(StringComparer.Ordinal));

        var failures = new List<string>();
        foreach (var (command, args) in cases)
        {
            var result = await Cli.RunAsync(server, null, [.. await args(), "--json"]);
            if (OneJsonDocument(result.Out) is not { } document || result.ExitCode != 0)
            {
                failures.Add($"promptvault {command} --json: {result}");
                continue;
            }
            using (document) Remember(command, document.RootElement);
            if (command == "export") await File.WriteAllTextAsync(exported, result.Out, ct);
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));

        void Remember(string command, JsonElement root)
        {
            if (command == "keys create") keyId = root.GetProperty("id").GetString()!;
            if (command == "webhooks add") webhookId = root.GetProperty("id").GetString()!;
            if (command == "experiment create") experimentId = root.GetProperty("id").GetString()!;
        }
    }

    /// <summary>A refusal the CLI makes before sending the request carries the code the server gives the same problem, not <c>cli_error</c>.</summary>
    [Fact]
    public async Task RefusalsCheckedBeforeTheRequest_CarryTheServersCode()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var folder = new TempFolder();
        var name = ApiCalls.UniqueName("json-codes");
        await Run(server, "push", folder.Write("p.md", CommandTests.PromptFile(name, extraVariables: "  - name: count\n    type: number")));

        var noMessage = await Cli.RunAsync(server, null, "push", folder.Write("changed.md", CommandTests.PromptFile(name, "Hi {{who}}.", "  - name: count\n    type: number")), "--json");
        var badTemplate = await Cli.RunAsync(server, null, "push", folder.Write("bad.md", CommandTests.PromptFile(name, "Hi {{#if who}}.")), "-m", "x", "--json");
        var undeclared = await Cli.RunAsync(server, null, "push", folder.Write("typo.md", CommandTests.PromptFile(name, "Hi {{whom}}.")), "-m", "x", "--json");
        var notANumber = await Cli.RunAsync(server, null, "render", name, "--var", "who=Ann", "--var", "count=many", "--json");
        var badName = await Cli.RunAsync(server, null, "push", folder.Write("name.md", CommandTests.PromptFile("Bad Name")), "--json");
        var noName = await Cli.RunAsync(server, null, "push", folder.Write("noname.md", "---\ntype: template\n---\nHi.\n"), "--json");
        var badMessages = await Cli.RunAsync(server, null, "push", folder.Write("chat.md", "---\nname: x\ntype: chat\n---\nHi.\n"), "--json");

        Assert.Equal("missing_change_description", ErrorCode(noMessage));
        Assert.Equal("invalid_template", ErrorCode(badTemplate));
        Assert.Equal("unknown_variable", ErrorCode(undeclared));
        Assert.Equal("invalid_variable", ErrorCode(notANumber));
        Assert.Equal("invalid_name", ErrorCode(badName));
        Assert.Equal("invalid_name", ErrorCode(noName));
        Assert.Equal("invalid_messages", ErrorCode(badMessages));
    }

    [Theory]
    [InlineData("---\nname: p\nvariables: who\n---\nHi.\n", "invalid_variable")]
    [InlineData("---\nname: p\nvariables:\n  - type: string\n---\nHi.\n", "invalid_variable")]
    [InlineData("---\nname: p\ntype: poem\n---\nHi.\n", "invalid_type")]
    [InlineData("---\nname: p\ntags: support\n---\nHi.\n", "invalid_tag")]
    [InlineData("---\nname: p\nmetadata:\n  maxTokens: 1.5\n---\nHi.\n", "invalid_metadata")]
    [InlineData("---\nname: p\nmetadata:\n  tools: x\n---\nHi.\n", "invalid_tool")]
    [InlineData("---\nname: p\ntests: x\n---\nHi.\n", "invalid_test")]
    [InlineData("---\nname: p\nvariabels: []\n---\nHi.\n", "unknown_field")]
    [InlineData("---\nname: p\n---\n", "missing_content")]
    [InlineData("---\nname: p\ndescription: [a]\n---\nHi.\n", "invalid_front_matter")]
    [InlineData("Hi.\n", "invalid_front_matter")]
    [InlineData("---\nname: [p\n---\nHi.\n", "invalid_front_matter")]
    public async Task FrontMatterRefusals_NameTheProblemsCode(string file, string code)
    {
        using var folder = new TempFolder();
        var result = await Cli.RunAsync(Cli.NoEnvironment, "push", folder.Write("p.md", file), "--json");
        Assert.Equal(code, ErrorCode(result));
    }

    /// <summary>
    /// Every command with <c>--json</c> given one argument too many (and so no required option) is bad usage: exit 2, nothing on
    /// stdout, one JSON document with the error on stderr; no stack trace.
    /// </summary>
    [Fact]
    public async Task EveryJsonCommand_WithAnArgumentTooMany_ExitsTwo_WithOneJsonError()
    {
        var root = Program.CreateRootCommand(new CliContext(TextWriter.Null, TextWriter.Null, _ => null, isTerminal: false, isErrorTerminal: false));
        var wrong = new List<string>();
        var checkedCount = 0;
        foreach (var (path, command) in CliDocTests.Walk(root, ""))
        {
            if (command.Options.All(option => option.Name != "--json") || command.Arguments.Any(argument => argument.Arity.MaximumNumberOfValues > 1))
                continue;
            var args = path.Split(' ').Concat(command.Arguments.Select(_ => "1")).Append("extra").Append("--json").ToArray();
            var result = await Cli.RunAsync(Cli.NoEnvironment, args);
            checkedCount++;
            if (result.ExitCode != 2 || result.Out != "" || !IsOneJsonError(result.Error))
                wrong.Add($"promptvault {string.Join(' ', args)}: {result}");
        }

        Assert.True(checkedCount > 25, $"only {checkedCount} commands were checked");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    private static bool IsOneJsonError(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.TryGetProperty("error", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    [Fact]
    public async Task SeveralErrors_AreOneJsonDocumentOnOneLine_TheFirstAsErrorAndAllAsErrors()
    {
        using var folder = new TempFolder();
        var unreachable = new Dictionary<string, string?> { ["PROMPTVAULT_URL"] = "http://127.0.0.1:1" };
        var cases = new[]
        {
            // The server is down and the file's template is refused: the connection failure, then the template's problem.
            (await Cli.RunAsync(unreachable, "push", folder.Write("t.md", CommandTests.PromptFile("p", "Hi {{#if who}}.")), "--json"), new[] { "cli_error", "invalid_template" }),
            (await Cli.RunAsync(Cli.NoEnvironment, "push", folder.Write("a.md", "Hi.\n"), folder.Write("b.md", "---\nname: p\ntype: poem\n---\nHi.\n"), "--json"),
                new[] { "invalid_front_matter", "invalid_type" }),
            (await Cli.RunAsync(Cli.NoEnvironment, "render", "p", "--unti", "u1", "--lable", "x", "--json"), new[] { "cli_error", "cli_error" }),
        };

        foreach (var (result, codes) in cases)
        {
            Assert.True(result.ExitCode != 0 && result.Out == "" && result.Error.TrimEnd('\n').Split('\n').Length == 1, result.ToString());
            using var document = JsonDocument.Parse(result.Error);
            Assert.Equal(codes[0], document.RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.Equal(codes, document.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("code").GetString()));
        }
    }

    [Fact]
    public async Task OneError_HasNoErrorsList()
    {
        var result = await Cli.RunAsync(new Dictionary<string, string?> { ["PROMPTVAULT_URL"] = "http://127.0.0.1:1" }, "list", "--json");
        using var document = JsonDocument.Parse(result.Error);
        Assert.Equal("cli_error", document.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.False(document.RootElement.TryGetProperty("errors", out _), result.ToString());
    }

    private static string? ErrorCode(CliResult result)
    {
        Assert.True(result.ExitCode != 0 && result.Out == "", result.ToString());
        using var document = JsonDocument.Parse(result.Error);
        return document.RootElement.GetProperty("error").GetProperty("code").GetString();
    }

    private static Task<string[]> Args(params string[] args) => Task.FromResult(args);

    private static async Task<CliResult> Run(RunningServer server, params string[] args)
    {
        var result = await Cli.RunAsync(server, null, args);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    /// <summary>The document when <paramref name="stdout"/> is one JSON value and nothing else; null otherwise.</summary>
    private static JsonDocument? OneJsonDocument(string stdout)
    {
        try
        {
            return JsonDocument.Parse(stdout);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The path (e.g. <c>keys create</c>) of each command under <paramref name="command"/> that has a <c>--json</c> option.</summary>
    private static IEnumerable<string> JsonCommands(Command command, string path)
    {
        if (command.Options.Any(option => option.Name == "--json")) yield return path;
        foreach (var sub in command.Subcommands)
            foreach (var found in JsonCommands(sub, (path + " " + sub.Name).Trim()))
                yield return found;
    }

    private static CliContext NewContext() =>
        new(TextWriter.Null, TextWriter.Null, _ => null, isTerminal: false, isErrorTerminal: false, requestTimeout: null);
}
