using PromptVault.Server.Tests;
using System.Text.Json;

namespace PromptVault.Cli.Tests;

/// <summary>The customer-support prompt's life through the command line: push, version, diff, promote, render, roll back, audit, pull.</summary>
public sealed class CustomerSupportTourTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string FrontMatter = """
        ---
        name: customer-support
        type: system
        description: The support assistant's system prompt
        tags: [support, chat]
        category: support
        variables:
          - name: company_name
            type: string
            description: The company the assistant speaks for
            required: true
          - name: customer_name
            type: string
            description: The customer's name, when known
          - name: previous_messages
            type: array
            description: Earlier messages, each with role and content
        metadata:
          model: gpt-4o
          temperature: 0.7
          maxTokens: 500
        ---
        """;

    private const string Body = """
        You are a helpful support assistant for {{company_name}}.
        {{#if customer_name}}The customer's name is {{customer_name}}.{{/if}}
        {{#each previous_messages}}{{role}}: {{content}}
        {{/each}}
        """;

    private const string ToneVariable = """
          - name: tone
            type: string
            description: How the assistant sounds
            defaultValue: friendly
        metadata:
        """;

    [Fact]
    public async Task Tour_CustomerSupportPrompt_EveryStepWorksThroughTheCli()
    {
        var server = fixture.Server;
        using var folder = new TempFolder();
        var file = folder.Write("customer-support.md", FrontMatter + "\n" + Body + "\n");

        var created = await Cli.RunAsync(server, null, "push", file);
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal("customer-support 1.0.0 created", created.Out.Trim());

        folder.Write("customer-support.md", FrontMatter + "\n" + Body.Replace("a helpful", "a friendly", StringComparison.Ordinal) + "\n");
        var patched = await Cli.RunAsync(server, null, "push", file, "-m", "Friendlier greeting");
        Assert.True(patched.ExitCode == 0, patched.ToString());
        Assert.Equal("customer-support 1.0.1 new version (was 1.0.0)", patched.Out.Trim());

        var withTone = FrontMatter.Replace("metadata:", ToneVariable, StringComparison.Ordinal).Replace("temperature: 0.7", "temperature: 0.5", StringComparison.Ordinal) + "\n"
            + Body.Replace("a helpful", "a friendly", StringComparison.Ordinal) + "\nAnswer in a {{tone}} tone.\n";
        folder.Write("customer-support.md", withTone);
        var minor = await Cli.RunAsync(server, null, "push", file, "-m", "Add an optional tone");
        Assert.True(minor.ExitCode == 0, minor.ToString());
        Assert.Equal("customer-support 1.1.0 new version (was 1.0.1)", minor.Out.Trim());

        var unchanged = await Cli.RunAsync(server, null, "push", file);
        Assert.True(unchanged.ExitCode == 0, unchanged.ToString());
        Assert.Equal("customer-support 1.1.0 unchanged", unchanged.Out.Trim());
        // With -m the server decides (409 version_unchanged), which is still not an error.
        var unchangedWithMessage = await Cli.RunAsync(server, null, "push", file, "-m", "Nothing really");
        Assert.True(unchangedWithMessage.ExitCode == 0, unchangedWithMessage.ToString());
        Assert.Equal("customer-support 1.1.0 unchanged", unchangedWithMessage.Out.Trim());

        var history = await Cli.RunAsync(server, null, "history", "customer-support");
        Assert.True(history.ExitCode == 0, history.ToString());
        var rows = history.Out.Split('\n').Where(line => line.Contains("admin", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Contains("1.1.0", rows[0]);
        Assert.Contains("Add an optional tone", rows[0]);
        Assert.Contains("1.0.1", rows[1]);
        Assert.Contains("Friendlier greeting", rows[1]);
        Assert.Contains("1.0.0", rows[2]);
        Assert.Contains("Initial version", rows[2]);

        var diff = await Cli.RunAsync(server, null, "diff", "customer-support", "1.0.0", "1.0.1");
        Assert.True(diff.ExitCode == 0, diff.ToString());
        Assert.Contains("\n-You are a helpful support assistant for {{company_name}}.\n", diff.Out);
        Assert.Contains("\n+You are a friendly support assistant for {{company_name}}.\n", diff.Out);
        Assert.DoesNotContain("\u001b[", diff.Out); // no colour codes when stdout is not a terminal
        var variablesDiff = await Cli.RunAsync(server, null, "diff", "customer-support", "1.0.1", "1.1.0");
        Assert.Contains("+ tone", variablesDiff.Out);
        Assert.Contains("+Answer in a {{tone}} tone.", variablesDiff.Out);
        Assert.Contains("~ temperature: 0.7 → 0.5", variablesDiff.Out);

        var promoted = await Cli.RunAsync(server, null, "promote", "customer-support", "1.0.1");
        Assert.True(promoted.ExitCode == 0, promoted.ToString());
        Assert.Equal("Promoted customer-support 1.0.1 to production.", promoted.Out.Trim());

        var vars = folder.Write("vars.json", """{ "previous_messages": [ { "role": "user", "content": "My order is late" }, { "role": "assistant", "content": "Sorry! Let me check." } ] }""");
        var rendered = await Cli.RunAsync(server, null, "render", "customer-support", "--var", "company_name=Acme", "--var", "customer_name=Dana", "--vars", vars);
        Assert.True(rendered.ExitCode == 0, rendered.ToString());
        Assert.Equal(
            "You are a friendly support assistant for Acme.\nThe customer's name is Dana.\nuser: My order is late\nassistant: Sorry! Let me check.",
            rendered.Out.TrimEnd('\n'));
        var latest = await Cli.RunAsync(server, null, "render", "customer-support", "--version", "1.1.0", "--var", "company_name=Acme");
        Assert.True(latest.ExitCode == 0, latest.ToString());
        Assert.StartsWith("You are a friendly support assistant for Acme.\n", latest.Out);
        Assert.EndsWith("Answer in a friendly tone.\n", latest.Out); // the declared default fills the optional variable

        var rollback = await Cli.RunAsync(server, null, "rollback", "customer-support", "1.0.0", "--reason", "The new greeting confused customers");
        Assert.True(rollback.ExitCode == 0, rollback.ToString());
        // 1.0.0 lacks 1.1.0's 'tone' variable: removing a variable is a major change.
        Assert.Equal("Rolled back customer-support to 1.0.0: new version 2.0.0 is in production.", rollback.Out.Trim());
        var afterRollback = await Cli.RunAsync(server, null, "render", "customer-support", "--var", "company_name=Acme");
        Assert.Equal("You are a helpful support assistant for Acme.", afterRollback.Out.Trim());

        var historyJson = await Cli.RunAsync(server, null, "history", "customer-support", "--json");
        Assert.True(historyJson.ExitCode == 0, historyJson.ToString());
        using (var document = JsonDocument.Parse(historyJson.Out))
        {
            var versions = document.RootElement.GetProperty("versions").EnumerateArray().ToDictionary(v => v.GetProperty("version").GetString()!);
            Assert.Equal(["1.0.0", "1.0.1", "1.1.0", "2.0.0"], versions.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("production", versions["2.0.0"].GetProperty("status").GetString());
            Assert.Equal("production", Assert.Single(versions["2.0.0"].GetProperty("labels").EnumerateArray()).GetString());
            Assert.Equal("deprecated", versions["1.0.1"].GetProperty("status").GetString());
            Assert.Equal("Rollback to version 1.0.0", versions["2.0.0"].GetProperty("changeDescription").GetString());
        }

        var audit = await Cli.RunAsync(server, null, "audit", "customer-support");
        Assert.True(audit.ExitCode == 0, audit.ToString());
        foreach (var action in new[] { "prompt.created", "version.created", "version.promoted", "prompt.rolled_back" })
            Assert.Contains(action, audit.Out);
        var auditJson = await Cli.RunAsync(server, null, "audit", "customer-support", "--json");
        using (var document = JsonDocument.Parse(auditJson.Out))
        {
            var entries = document.RootElement.GetProperty("entries").EnumerateArray().ToList();
            Assert.Equal(7, entries.Count); // created + 3 versions + promote + rollback's version and rollback
            Assert.All(entries, e => Assert.Equal("admin", e.GetProperty("actor").GetString()));
            Assert.Contains(entries, e => e.GetProperty("action").GetString() == "prompt.rolled_back"
                && e.GetProperty("after").GetProperty("reason").GetString() == "The new greeting confused customers");
        }

        var pulledPath = folder.File("pulled.md");
        var pulled = await Cli.RunAsync(server, null, "pull", "customer-support", "-o", pulledPath);
        Assert.True(pulled.ExitCode == 0, pulled.ToString());
        var pulledText = await File.ReadAllTextAsync(pulledPath, TestContext.Current.CancellationToken);
        Assert.StartsWith("---\n", pulledText);
        Assert.Contains("name: customer-support\n", pulledText);
        Assert.Contains("You are a helpful support assistant for {{company_name}}.", pulledText);
        var roundTrip = await Cli.RunAsync(server, null, "push", pulledPath);
        Assert.True(roundTrip.ExitCode == 0, roundTrip.ToString());
        Assert.Equal("customer-support 2.0.0 unchanged", roundTrip.Out.Trim());

        var pulledOld = await Cli.RunAsync(server, null, "pull", "customer-support", "--version", "1.1.0");
        Assert.Contains("# customer-support 1.1.0", pulledOld.Out);
        Assert.Contains("defaultValue: \"friendly\"", pulledOld.Out);
        var pushedOld = folder.Write("old.md", pulledOld.Out);
        var reapplied = await Cli.RunAsync(server, null, "push", pushedOld, "-m", "Bring the tone back");
        Assert.True(reapplied.ExitCode == 0, reapplied.ToString());
        Assert.Equal("customer-support 2.1.0 new version (was 2.0.0)", reapplied.Out.Trim());
    }
}
