using System.CommandLine;
using System.Globalization;
using System.Numerics;
using PromptVault.Cli.Commands;
using PromptVault.Core;
using PromptVault.Client;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;
using PromptVault.Server.Hosting;

namespace PromptVault.Cli;

/// <summary>Declares the verbs and options of `promptvault`; each verb's work is in its <c>XxxCommand</c>.</summary>
internal static class Program
{
    public static Task<int> Main(string[] args) => CliApp.RunAsync(args, Console.Out, Console.Error);

    public static RootCommand CreateRootCommand(CliContext context)
    {
        var remote = new RemoteOptions(context);
        return new RootCommand("PromptVault: a self-hosted prompt registry. 'serve' runs the server; the other commands talk to one.")
        {
            Serve(context),
            AdminKey(context),
            Push(context, remote),
            Pull(context, remote),
            List(context, remote),
            History(context, remote),
            Diff(context, remote),
            Promote(context, remote),
            Status(context, remote),
            Rollback(context, remote),
            Render(context, remote),
            Keys(context, remote),
            Webhooks(context, remote),
            Audit(context, remote),
            Export(context, remote),
            Import(context, remote),
            Experiment(context, remote),
            Metrics(context, remote),
            Test(context, remote),
            Demo(context, remote),
        };
    }

    private static Command Serve(CliContext context)
    {
        var db = new Option<string?>("--db")
        {
            Description = $"The SQLite database file (created when missing). Default: {ServerDefaults.DatabasePath}, unless PromptVault:Postgres or DATABASE_URL is set.",
            HelpName = "FILE",
        };
        var urls = new Option<string>("--urls") { Description = "The URL(s) to listen on, separated by ';'.", DefaultValueFactory = _ => ServerDefaults.Urls, HelpName = "URL" };
        var postgres = new Option<string?>("--postgres") { Description = PostgresDescription, HelpName = "CONNSTRING" };
        var command = new Command("serve", "Run the PromptVault server until Ctrl+C; prints a new admin key when the database has no active one (a new database).") { db, urls, postgres };
        command.SetAction((result, ct) => new ServeCommand(context).InvokeAsync(result.GetValue(db), result.GetValue(urls)!, result.GetValue(postgres), ct));
        return command;
    }

    private const string PostgresDescription =
        "The PostgreSQL database, instead of SQLite: an Npgsql connection string (Host=...;Database=...) or a postgresql://user:password@host/db URL.";

    private static Command AdminKey(CliContext context)
    {
        var db = new Option<string?>("--db") { Description = "The server's SQLite database file.", HelpName = "FILE" };
        var postgres = new Option<string?>("--postgres") { Description = PostgresDescription, HelpName = "CONNSTRING" };
        var json = new Option<bool>("--json") { Description = "Print JSON for scripts." };
        var command = new Command("admin-key",
            "Run on the server's machine when every admin key is lost or revoked: create a new admin key in the database and print it (shown once).")
            { db, postgres, json };
        command.SetAction((result, ct) => new AdminKeyCommand(context).InvokeAsync(result.GetValue(db), result.GetValue(postgres), result.GetValue(json), ct));
        return command;
    }

    private static Command Push(CliContext context, RemoteOptions remote)
    {
        var files = new Argument<string[]>("FILE") { Description = "Prompt files: Markdown with YAML front matter.", Arity = ArgumentArity.OneOrMore };
        var message = new Option<string?>("--message", "-m") { Description = "The change description of a new version (required when a prompt changed).", HelpName = "MESSAGE" };
        var bump = new Option<string?>("--bump") { Description = "Ask for a larger version bump than the change needs.", HelpName = "major|minor|patch" };
        bump.AcceptOnlyFromAmong("major", "minor", "patch");
        var command = new Command("push", "Create each file's prompt, or a new version when the file changed.") { files, message, bump };
        remote.AddTo(command);
        command.SetAction((result, ct) => new PushCommand(context).InvokeAsync(remote.Read(result), result.GetValue(files)!, result.GetValue(message),
            Parse<VersionBump>(result.GetValue(bump)), ct));
        return command;
    }

    private static Command Pull(CliContext context, RemoteOptions remote)
    {
        var name = new Argument<string>("NAME") { Description = "The prompt's name." };
        var version = new Option<string?>("--version") { Description = "The version to pull (default: the latest).", HelpName = "V" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the prompt file here instead of stdout.", HelpName = "FILE" };
        var command = new Command("pull", "Print a version as a prompt file (front matter + template).") { name, version, output };
        remote.AddTo(command);
        command.SetAction((result, ct) => new PullCommand(context).InvokeAsync(remote.Read(result), result.GetValue(name)!, result.GetValue(version), result.GetValue(output), ct));
        return command;
    }

    private static Command Test(CliContext context, RemoteOptions remote)
    {
        var name = new Argument<string>("NAME") { Description = "The prompt's name." };
        var version = new Option<string?>("--version") { Description = "The version to test (default: the latest).", HelpName = "V" };
        var command = new Command("test", "Run a version's test cases; exit 1 when one fails (for CI).") { name, version };
        remote.AddTo(command);
        command.SetAction((result, ct) => new TestCommand(context).InvokeAsync(remote.Read(result), result.GetValue(name)!, result.GetValue(version), ct));
        return command;
    }

    private static Command List(CliContext context, RemoteOptions remote)
    {
        var type = new Option<string?>("--type") { Description = "Only prompts of this type.", HelpName = "TYPE" };
        type.AcceptOnlyFromAmong(Enum.GetValues<PromptType>().Select(t => Names.Of(t)).ToArray());
        var category = new Option<string?>("--category") { Description = "Only prompts in this category.", HelpName = "CATEGORY" };
        var tag = new Option<string?>("--tag") { Description = "Only prompts with this tag.", HelpName = "TAG" };
        var command = new Command("list", "List the prompts with their latest version and labels.") { type, category, tag };
        remote.AddTo(command);
        command.SetAction((result, ct) => new ListCommand(context).InvokeAsync(remote.Read(result), Parse<PromptType>(result.GetValue(type)),
            result.GetValue(category), result.GetValue(tag), ct));
        return command;
    }

    private static Command History(CliContext context, RemoteOptions remote)
    {
        var name = new Argument<string>("NAME") { Description = "The prompt's name." };
        var limit = Limit("versions");
        var command = new Command("history", "List a prompt's versions, newest first.") { name, limit };
        remote.AddTo(command);
        command.SetAction((result, ct) => new HistoryCommand(context).InvokeAsync(remote.Read(result), result.GetValue(name)!, result.GetValue(limit), ct));
        return command;
    }

    private static Command Diff(CliContext context, RemoteOptions remote)
    {
        var name = new Argument<string>("NAME") { Description = "The prompt's name." };
        var a = new Argument<string>("A") { Description = "The older version (e.g. 1.0.0)." };
        var b = new Argument<string>("B") { Description = "The newer version (e.g. 1.0.1)." };
        var command = new Command("diff", "Compare two versions: template diff, variable and metadata changes.") { name, a, b };
        remote.AddTo(command);
        command.SetAction((result, ct) => new DiffCommand(context).InvokeAsync(remote.Read(result), result.GetValue(name)!, result.GetValue(a)!, result.GetValue(b)!, ct));
        return command;
    }

    private static Command Promote(CliContext context, RemoteOptions remote)
    {
        var name = new Argument<string>("NAME") { Description = "The prompt's name." };
        var version = new Argument<string>("VERSION") { Description = "The version to deploy." };
        var label = new Option<string>("--label") { Description = "The label to move.", DefaultValueFactory = _ => Label.Production, HelpName = "LABEL" };
        var expect = ExpectOption("Move the label only if it still points at this version (else nothing changes).");
        var command = new Command("promote", "Point a label (default production) at a version.") { name, version, label, expect };
        remote.AddTo(command);
        command.SetAction((result, ct) => new PromoteCommand(context).InvokeAsync(remote.Read(result), result.GetValue(name)!, result.GetValue(version)!, result.GetValue(label)!,
            result.GetValue(expect), ct));
        return command;
    }

    private static Command Status(CliContext context, RemoteOptions remote)
    {
        var name = new Argument<string>("NAME") { Description = "The prompt's name." };
        var version = new Argument<string>("VERSION") { Description = "The version to move." };
        // HelpName keeps the usage lines short; the accepted values are in the description.
        var status = new Argument<string>("STATUS")
        {
            Description = $"The new status: {Names.AllOf<VersionStatus>()}; approved needs a key other than the version's author's, production promotes.",
            HelpName = "STATUS",
        };
        status.AcceptOnlyFromAmong(Enum.GetValues<VersionStatus>().Select(s => Names.Of(s)).ToArray());
        var expect = ExpectOption("With status production: promote only if production still points at this version (else nothing changes).");
        var command = new Command("status", "Move a version through the lifecycle (review, approved, ...).") { name, version, status, expect };
        remote.AddTo(command);
        command.SetAction((result, ct) => new StatusCommand(context).InvokeAsync(remote.Read(result), result.GetValue(name)!, result.GetValue(version)!,
            Parse<VersionStatus>(result.GetValue(status))!.Value, result.GetValue(expect), ct));
        return command;
    }

    private static Command Rollback(CliContext context, RemoteOptions remote)
    {
        var name = new Argument<string>("NAME") { Description = "The prompt's name." };
        var version = new Argument<string>("VERSION") { Description = "The earlier version to return to." };
        var reason = new Option<string?>("--reason") { Description = "Why, for the audit log.", HelpName = "REASON" };
        var expect = ExpectOption("Roll back only if production still points at this version (else nothing changes).");
        var command = new Command("rollback", "Create a new version from an earlier one and promote it.") { name, version, reason, expect };
        remote.AddTo(command);
        command.SetAction((result, ct) => new RollbackCommand(context).InvokeAsync(remote.Read(result), result.GetValue(name)!, result.GetValue(version)!, result.GetValue(reason),
            result.GetValue(expect), ct));
        return command;
    }

    /// <summary>
    /// <c>--expect VERSION</c>: the version the label (production for rollback and status) was read at, sent as <c>If-Match</c>;
    /// <c>--expect none</c>: the label was read unset, sent as <c>If-None-Match: *</c> (docs/api.md). Anything else is bad usage.
    /// </summary>
    private static Option<LabelExpectation?> ExpectOption(string description) => new("--expect")
    {
        Description = description + " none: only if it is not set yet.",
        HelpName = "VERSION|none",
        CustomParser = result =>
        {
            var value = result.Tokens.Single().Value;
            if (value == "none") return LabelExpectation.Absent;
            if (SemanticVersion.TryParse(value, out _)) return value;
            result.AddError($"--expect must be a version number such as 1.0.1, or none, got '{value}'.");
            return null;
        },
    };

    private static Command Render(CliContext context, RemoteOptions remote)
    {
        var name = new Argument<string>("NAME") { Description = "The prompt's name." };
        var vars = new Option<string[]>("--var") { Description = "A variable, NAME=VALUE; repeat for more. Read as JSON for number, boolean, array and object variables.", HelpName = "NAME=VALUE" };
        var varsFile = new Option<string?>("--vars") { Description = "A JSON object of variables; --var values win.", HelpName = "FILE.json" };
        var unit = new Option<string?>("--unit") { Description = "The unit (user) id, for experiment assignment.", HelpName = "ID" };
        var label = new Option<string?>("--label") { Description = "Render the version under this label (default production).", HelpName = "LABEL" };
        var version = new Option<string?>("--version") { Description = "Render this exact version.", HelpName = "V" };
        var command = new Command("render", "Render a prompt on the server and print the text.") { name, vars, varsFile, unit, label, version };
        // The server would serve the version and ignore the label without a word.
        command.Validators.Add(result =>
        {
            if (result.GetValue(label) is not null && result.GetValue(version) is not null)
                result.AddError(Serving.LabelAndVersion("--label", "--version"));
        });
        remote.AddTo(command);
        command.SetAction((result, ct) => new RenderCommand(context).InvokeAsync(remote.Read(result), result.GetValue(name)!, result.GetValue(vars) ?? [],
            result.GetValue(varsFile), result.GetValue(unit), result.GetValue(label), result.GetValue(version), ct));
        return command;
    }

    private static Command Keys(CliContext context, RemoteOptions remote)
    {
        var name = new Option<string?>("--name") { Description = "Who or what will use the key (default: the role's name); recorded as the author of its changes.", HelpName = "NAME" };
        var role = new Option<string>("--role") { Description = "What the key may do.", Required = true, HelpName = "reader|writer|admin" };
        role.AcceptOnlyFromAmong(Enum.GetValues<ApiKeyRole>().Select(r => Names.Of(r)).ToArray());
        var create = new Command("create", "Create an API key and print it (shown once).") { name, role };
        remote.AddTo(create);
        create.SetAction((result, ct) => new KeysCreateCommand(context).InvokeAsync(remote.Read(result), result.GetValue(name),
            Parse<ApiKeyRole>(result.GetValue(role))!.Value, ct));

        var list = new Command("list", "List the API keys.");
        remote.AddTo(list);
        list.SetAction((result, ct) => new KeysListCommand(context).InvokeAsync(remote.Read(result), ct));

        var id = new Argument<string>("ID") { Description = "The key's id (see 'keys list')." };
        var revoke = new Command("revoke", "Revoke an API key.") { id };
        remote.AddTo(revoke);
        revoke.SetAction((result, ct) => new KeysRevokeCommand(context).InvokeAsync(remote.Read(result), result.GetValue(id)!, ct));

        return new Command("keys", "Manage API keys (admin).") { create, list, revoke };
    }

    private static Command Webhooks(CliContext context, RemoteOptions remote)
    {
        var commands = new WebhookCommands(context);
        var list = new Command("list", "List the webhooks (never their secrets).");
        remote.AddTo(list);
        list.SetAction((result, ct) => commands.ListAsync(remote.Read(result), ct));

        var url = new Argument<string>("URL") { Description = "The absolute http or https URL that receives the deliveries." };
        var events = new Option<string[]>("--events")
        {
            Description = "The events to deliver; repeat or list several.", Required = true, HelpName = "EVENT", AllowMultipleArgumentsPerToken = true,
        };
        events.AcceptOnlyFromAmong([.. Core.Webhooks.WebhookEvents.All]);
        var add = new Command("add", "Register a webhook and print its signing secret (shown once).") { url, events };
        remote.AddTo(add);
        add.SetAction((result, ct) => commands.AddAsync(remote.Read(result), result.GetValue(url)!, result.GetValue(events)!, ct));

        var id = new Argument<string>("ID") { Description = "The webhook's id (see 'webhooks list')." };
        var remove = new Command("remove", "Delete a webhook and its delivery history.") { id };
        remote.AddTo(remove);
        remove.SetAction((result, ct) => commands.RemoveAsync(remote.Read(result), result.GetValue(id)!, ct));

        var deliveries = new Command("deliveries", "A webhook's deliveries, newest first, with their last answer.") { id };
        remote.AddTo(deliveries);
        deliveries.SetAction((result, ct) => commands.DeliveriesAsync(remote.Read(result), result.GetValue(id)!, ct));

        var enable = new Command("enable", "Tie a webhook to this key, so it sends again after the key it was tied to was revoked.") { id };
        remote.AddTo(enable);
        enable.SetAction((result, ct) => commands.EnableAsync(remote.Read(result), result.GetValue(id)!, ct));

        var deliveryId = new Argument<long>("DELIVERY_ID") { Description = "The delivery's id (see 'webhooks deliveries')." };
        var redeliver = new Command("redeliver", "Send a delivery's event again, as a new delivery.") { id, deliveryId };
        remote.AddTo(redeliver);
        redeliver.SetAction((result, ct) => commands.RedeliverAsync(remote.Read(result), result.GetValue(id)!, result.GetValue(deliveryId), ct));

        return new Command("webhooks", "Manage webhooks (admin).") { list, add, remove, deliveries, enable, redeliver };
    }

    private static Command Audit(CliContext context, RemoteOptions remote)
    {
        var name = new Argument<string?>("NAME") { Description = "Only this prompt's entries.", Arity = ArgumentArity.ZeroOrOne };
        var limit = Limit("entries");
        var command = new Command("audit", "Show the audit log: who did what, when.") { name, limit };
        remote.AddTo(command);
        command.SetAction((result, ct) => new AuditCommand(context).InvokeAsync(remote.Read(result), result.GetValue(name), result.GetValue(limit), ct));
        return command;
    }

    private static Command Export(CliContext context, RemoteOptions remote)
    {
        var output = new Option<string?>("--out") { Description = "Write the document to FILE (default: stdout).", HelpName = "FILE" };
        var command = new Command("export", "Export the whole registry as one JSON document (admin; docs/export-format.md).") { output };
        remote.AddTo(command);
        command.SetAction((result, ct) => new ExportCommand(context).InvokeAsync(remote.Read(result), result.GetValue(output), ct));
        return command;
    }

    private static Command Import(CliContext context, RemoteOptions remote)
    {
        var file = new Argument<string>("FILE") { Description = "An export document." };
        var merge = new Option<bool>("--merge") { Description = "Into a registry that has prompts: add those it lacks (by name), skip the rest, and report both." };
        var command = new Command("import", "Import an export document, all or nothing (admin); refused into a registry that has prompts unless --merge.") { file, merge };
        remote.AddTo(command);
        command.SetAction((result, ct) => new ImportCommand(context).InvokeAsync(remote.Read(result), result.GetValue(file)!, result.GetValue(merge), ct));
        return command;
    }

    private static Option<int?> Limit(string what) =>
        new Option<int?>("--limit") { Description = $"Only the newest N {what} (1–{PageRequest.MaxLimit}); all of them by default.", HelpName = "N" }
            .Within(1, PageRequest.MaxLimit);

    private static Command Experiment(CliContext context, RemoteOptions remote)
    {
        var commands = new ExperimentCommands(context);
        var name = new Argument<string>("NAME") { Description = "The experiment's name (unique per prompt)." };
        var prompt = new Option<string>("--prompt") { Description = "The prompt the experiment runs on.", Required = true, HelpName = "PROMPT" };
        var variants = new Option<string[]>("--variant")
        {
            Description = "A variant as NAME=VERSION:WEIGHT (weight in percent); the first is the control. Repeat for each (at least two).",
            Required = true, HelpName = "NAME=VERSION:WEIGHT", AllowMultipleArgumentsPerToken = false,
        };
        var target = new Option<string>("--target") { Description = "The metric that decides the winner.", DefaultValueFactory = _ => Names.Of(MetricName.ConversionRate), HelpName = "METRIC" };
        target.AcceptOnlyFromAmong(Enum.GetValues<MetricName>().Select(m => Names.Of(m)).ToArray());
        var description = new Option<string?>("--description") { Description = "What the experiment tests.", HelpName = "TEXT" };
        var minimumSampleSize = new Option<int?>("--min-samples") { Description = "Units (users) per variant with the target metric before it may complete by itself (default 100, never fewer than 50).", HelpName = "N" }
            .Within(ExperimentRules.MinMinimumSampleSize);
        var confidence = new Option<double?>("--confidence") { Description = "Confidence level (default 0.95).", HelpName = "LEVEL" }
            .Within(ExperimentRules.MinConfidenceLevel, ExperimentRules.MaxConfidenceLevel);
        var mde = new Option<double?>("--mde") { Description = "Minimum detectable effect, relative (default 0.10).", HelpName = "EFFECT" }
            .Within(ExperimentRules.MinMinimumDetectableEffect, ExperimentRules.MaxMinimumDetectableEffect);
        var power = new Option<double?>("--power") { Description = "Power for the sample size (default 0.8).", HelpName = "POWER" }
            .Within(ExperimentRules.MinPower, ExperimentRules.MaxPower);
        var guardrails = new Option<string[]>("--guardrail") { Description = "METRIC=THRESHOLD: pause if METRIC worsens by more than THRESHOLD (relative). Repeatable.", HelpName = "METRIC=THRESHOLD" };
        var promoteWinner = new Option<bool>("--promote-winner") { Description = "Promote the winner to production when the experiment completes." };
        var create = new Command("create", "Create an experiment (in draft) that splits a prompt's traffic between versions.")
            { name, prompt, variants, target, description, minimumSampleSize, confidence, mde, power, guardrails, promoteWinner };
        remote.AddTo(create);
        create.SetAction((result, ct) => commands.CreateAsync(remote.Read(result),
            new CreateExperimentRequest(result.GetValue(name), result.GetValue(prompt), null, Parse<MetricName>(result.GetValue(target)),
                result.GetValue(description), result.GetValue(minimumSampleSize), result.GetValue(confidence), result.GetValue(mde),
                result.GetValue(power), null, result.GetValue(promoteWinner)),
            result.GetValue(variants) ?? [], result.GetValue(guardrails) ?? [], ct));

        var listPrompt = new Option<string?>("--prompt") { Description = "Only this prompt's experiments.", HelpName = "PROMPT" };
        var list = new Command("list", "List experiments, newest first.") { listPrompt };
        remote.AddTo(list);
        list.SetAction((result, ct) => commands.ListAsync(remote.Read(result), result.GetValue(listPrompt), ct));

        var experiment = new Command("experiment", "Run A/B experiments between versions of a prompt.") { create, list };
        foreach (var (verb, help) in new[]
                 {
                     (ExperimentCommand.Start, "Start (or resume) an experiment: traffic with a unit id is split between its variants."),
                     (ExperimentCommand.Pause, "Pause an experiment: traffic goes back to the production version."),
                     (ExperimentCommand.Complete, "Complete an experiment, recording the winner the sequential test supports (if any)."),
                     (ExperimentCommand.Cancel, "Cancel an experiment without a winner."),
                 })
        {
            var id = new Argument<string>("ID") { Description = "The experiment's id." };
            var command = new Command(Names.Of(verb), help) { id };
            remote.AddTo(command);
            command.SetAction((result, ct) => commands.ChangeAsync(remote.Read(result), result.GetValue(id)!, verb, ct));
            experiment.Subcommands.Add(command);
        }

        var resultsId = new Argument<string>("ID") { Description = "The experiment's id." };
        var results = new Command("results", "Show each variant against control: rates, lift with interval, p-values, chance to beat control, SRM, winner.") { resultsId };
        remote.AddTo(results);
        results.SetAction((result, ct) => commands.ResultsAsync(remote.Read(result), result.GetValue(resultsId)!, ct));
        experiment.Subcommands.Add(results);
        return experiment;
    }

    private static Command Metrics(CliContext context, RemoteOptions remote)
    {
        var name = new Argument<string>("NAME") { Description = "The prompt's name." };
        var version = new Option<string?>("--version") { Description = "The version (default: the production version, else the latest).", HelpName = "V" };
        var period = new Option<string>("--period") { Description = "The window: the current hour, the last 24 hours, the last 168 hours, or all time.", DefaultValueFactory = _ => Names.Of(MetricPeriod.All), HelpName = "hour|day|week|all" };
        period.AcceptOnlyFromAmong(Enum.GetValues<MetricPeriod>().Select(p => Names.Of(p)).ToArray());
        var command = new Command("metrics", "Show a version's metrics: error and conversion rates, latency percentiles, tokens, cost, quality.") { name, version, period };
        remote.AddTo(command);
        command.SetAction((result, ct) => new MetricsCommand(context).InvokeAsync(remote.Read(result), result.GetValue(name)!, result.GetValue(version),
            Parse<MetricPeriod>(result.GetValue(period))!.Value, ct));
        return command;
    }

    private static Command Demo(CliContext context, RemoteOptions remote)
    {
        var prompt = new Option<string>("--prompt") { Description = "The prompt to experiment on (created when missing).", DefaultValueFactory = _ => "customer-support", HelpName = "NAME" };
        var users = new Option<int>("--users") { Description = "The most users to simulate; it stops sooner once the experiment completes or pauses itself.", DefaultValueFactory = _ => DemoCommand.DefaultUsers, HelpName = "N" }.Within(1);
        var seed = new Option<int>("--seed") { Description = "The simulation's random seed.", DefaultValueFactory = _ => 1, HelpName = "N" };
        var command = new Command("demo", "Run the customer-support experiment (control 50%, casual 25%, structured 25%) on simulated users against a running server, and print the results.")
            { prompt, users, seed };
        remote.AddTo(command);
        command.SetAction((result, ct) => new DemoCommand(context).InvokeAsync(remote.Read(result), result.GetValue(prompt)!, result.GetValue(users), result.GetValue(seed), ct));
        return command;
    }

    /// <summary>
    /// Refuses a value of <paramref name="option"/> outside <paramref name="min"/>..<paramref name="max"/> as bad usage (exit 2),
    /// naming the option and the range; the bounds are the server's, so it is never sent a value it would refuse.
    /// </summary>
    private static TOption Within<TOption, TNumber>(this TOption option, TNumber min, TNumber? max = null)
        where TOption : Option where TNumber : struct, INumber<TNumber>
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<TNumber?>() is { } value && !(value >= min && (max is null || value <= max.Value)))
                result.AddError(string.Create(CultureInfo.InvariantCulture,
                    $"{option.Name} must be {(max is null ? $"at least {min}" : $"between {min} and {max}")}, got {value}."));
        });
        return option;
    }

    private static TEnum? Parse<TEnum>(string? text) where TEnum : struct, Enum =>
        text is not null && Names.TryParse<TEnum>(text, out var value) ? value : null;

    /// <summary>The options every command that talks to a server takes, with their environment fallbacks.</summary>
    private sealed class RemoteOptions(CliContext context)
    {
        private const string DefaultServer = ServerDefaults.Urls;

        private readonly Option<string?> _server = new("--server") { Description = $"The server's URL (or PROMPTVAULT_URL; default {DefaultServer}).", HelpName = "URL" };
        private readonly Option<string?> _apiKey = new("--api-key") { Description = "The API key (or PROMPTVAULT_API_KEY).", HelpName = "KEY" };
        private readonly Option<bool> _json = new("--json") { Description = "Print JSON for scripts instead of tables." };

        public void AddTo(Command command)
        {
            command.Options.Add(_server);
            command.Options.Add(_apiKey);
            command.Options.Add(_json);
        }

        public RemoteSettings Read(ParseResult result)
        {
            // Every error the command prints from here on, local or the server's, follows --json.
            context.JsonErrors = result.GetValue(_json);
            var flagKey = NonEmpty(result.GetValue(_apiKey));
            var environmentKey = NonEmpty(context.GetEnvironmentVariable("PROMPTVAULT_API_KEY"));
            context.ApiKeySource = flagKey is not null ? "--api-key" : environmentKey is not null ? "PROMPTVAULT_API_KEY" : null;
            return new RemoteSettings(
                NonEmpty(result.GetValue(_server)) ?? NonEmpty(context.GetEnvironmentVariable("PROMPTVAULT_URL")) ?? DefaultServer,
                flagKey ?? environmentKey,
                context.JsonErrors);
        }

        private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
    }
}
