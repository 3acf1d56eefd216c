using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;

namespace PromptVault.Client.Tests;

/// <summary>Prompts that include other prompts (SPEC §7), resolved and rendered by the SDK from its snapshot alone.</summary>
public sealed class IncludesTests(SdkServerFixture fixture) : IClassFixture<SdkServerFixture>
{
    private static readonly Dictionary<string, object?> Variables = new() { ["name"] = "Ada", ["policy"] = "30 days" };

    [Fact]
    public async Task GetPromptAsync_ServerDown_RendersIncludesByLabelAndPinnedVersionFromTheSnapshot()
    {
        var ct = TestContext.Current.CancellationToken;
        // A server of its own: the test stops it.
        await using var server = await SdkServer.StartAsync(ct);
        var guard = Prompts.NewName("guard");
        var tone = Prompts.NewName("tone");
        await Prompts.CreateAsync(server.Api, guard, "Old policy: {{policy}}.", [new("policy", Required: true)], cancellationToken: ct);
        // 1.0.1, neither labelled nor the newest: the snapshot carries it because the includer pins it.
        var pinned = await Prompts.AddVersionAsync(server.Api, guard, "Policy: {{policy}}.", ct);
        await Prompts.AddVersionAsync(server.Api, guard, "Newest policy: {{policy}}.", ct);
        var toneOne = (await server.Api.CreatePromptAsync(new CreatePromptRequest(tone, Type: PromptType.System, Content: "Be warm."), ct)).LatestVersion.Id;
        await server.Api.MoveLabelAsync(tone, "staging", toneOne, ct);
        var includer = Prompts.NewName("includer");
        var includerOne = await Prompts.CreateAsync(server.Api, includer, $"Hi {{{{name}}}}.\n{{{{> {guard}@1.0.1}}}}\n{{{{> {tone}@staging}}}}", [new("name")], cancellationToken: ct);
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var online = await host.Vault.GetPromptAsync(includer, Variables, cancellationToken: ct);

        await server.StopAsync();
        var offline = await host.Vault.GetPromptAsync(includer, Variables, cancellationToken: ct);

        Assert.Equal(includerOne, offline.VersionId);
        Assert.Equal("Hi Ada.\nPolicy: 30 days.\nBe warm.", offline.Content);
        Assert.Equal([(guard, "1.0.1", pinned), (tone, "1.0.0", toneOne)], offline.References.Select(r => (r.Name, r.Version, r.VersionId)));
        Assert.Equal(online.Content, offline.Content);
    }

    [Fact]
    public async Task GetPromptAsync_IncludedVariableMissing_RefusedNamingItAsTheServerDoes()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var guard = Prompts.NewName("guard");
        await Prompts.CreateAsync(server.Api, guard, "Policy: {{policy}}.", [new("policy", Required: true)], cancellationToken: ct);
        var includer = Prompts.NewName("includer");
        await Prompts.CreateAsync(server.Api, includer, $"{{{{> {guard}}}}}", cancellationToken: ct);
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);

        var error = await Assert.ThrowsAsync<Core.InvalidInputException>(async () => await host.Vault.GetPromptAsync(includer, cancellationToken: ct));

        Assert.Equal(("missing_variable", "variables.policy"), (error.Code, error.Field));
    }

    [Fact]
    public async Task GetPromptAsync_IncludersDefaultOrOptionalDeclaration_RendersAsTheServerAndTheContractSay()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var guard = Prompts.NewName("guard");
        await Prompts.CreateAsync(server.Api, guard, "Policy: {{policy}}.", [new("policy", Required: true)], cancellationToken: ct);
        var defaulted = Prompts.NewName("defaulted");
        await Prompts.CreateAsync(server.Api, defaulted, $"{{{{> {guard}}}}}",
            [new("policy", DefaultValue: System.Text.Json.JsonDocument.Parse("\"14 days\"").RootElement.Clone())], cancellationToken: ct);
        var optional = Prompts.NewName("optional");
        await Prompts.CreateAsync(server.Api, optional, $"{{{{> {guard}}}}}", [new("policy")], cancellationToken: ct);
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);

        var rendered = await host.Vault.GetPromptAsync(defaulted, cancellationToken: ct);
        var error = await Assert.ThrowsAsync<Core.InvalidInputException>(async () => await host.Vault.GetPromptAsync(optional, cancellationToken: ct));
        var contract = (await server.Api.GetVersionAsync(optional, "1.0.0", ct)).Variables;

        Assert.Equal("Policy: 14 days.", rendered.Content);
        Assert.Equal(("missing_variable", "variables.policy"), (error.Code, error.Field));
        Assert.True(Assert.Single(contract).Required);
    }

    [Fact]
    public async Task GetPromptAsync_LabelMovedOnTheIncludedPrompt_ServedFromTheStream()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var guard = Prompts.NewName("guard");
        await Prompts.CreateAsync(server.Api, guard, "Policy one.", cancellationToken: ct);
        var two = await Prompts.AddVersionAsync(server.Api, guard, "Policy two.", ct);
        var includer = Prompts.NewName("includer");
        await Prompts.CreateAsync(server.Api, includer, $"Rules: {{{{> {guard}}}}}", cancellationToken: ct);
        // Refreshing once an hour, only the stream can bring the change within the wait (1 s was a bound a loaded machine broke).
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.RefreshInterval = TimeSpan.FromHours(1), cancellationToken: ct);
        Assert.Equal("Rules: Policy one.", (await host.Vault.GetPromptAsync(includer, cancellationToken: ct)).Content);

        await server.Api.MoveLabelAsync(guard, Label.Production, two, ct);
        await Eventually(async () => (await host.Vault.GetPromptAsync(includer, cancellationToken: ct)).Content, content => content == "Rules: Policy two.");
    }

    [Fact]
    public async Task GetPromptAsync_ChatMessagesIncludePrompts_ServerDown_RendersThemFromTheSnapshot()
    {
        var ct = TestContext.Current.CancellationToken;
        // A server of its own: the test stops it.
        await using var server = await SdkServer.StartAsync(ct);
        var guard = Prompts.NewName("guard");
        await Prompts.CreateAsync(server.Api, guard, "Old policy: {{policy}}.", [new("policy", Required: true)], cancellationToken: ct);
        var pinned = await Prompts.AddVersionAsync(server.Api, guard, "Policy: {{policy}}.", ct);
        var chat = Prompts.NewName("chat");
        var created = await server.Api.CreatePromptAsync(new CreatePromptRequest(chat, Type: PromptType.Chat, Variables: [new("name")],
            Messages: [new(MessageRole.System, $"Rules: {{{{> {guard}@1.0.1}}}}"), new(MessageRole.User, "I am {{name}}. {{> " + guard + "}}")]), ct);
        await server.Api.MoveLabelAsync(chat, Label.Production, created.LatestVersion.Id, ct);
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        await host.Vault.GetPromptAsync(chat, Variables, cancellationToken: ct);

        await server.StopAsync();
        var offline = await host.Vault.GetPromptAsync(chat, Variables, cancellationToken: ct);

        Assert.Equal(["Rules: Policy: 30 days.", "I am Ada. Old policy: 30 days."], offline.Messages.Select(m => m.Text));
        Assert.Equal([(guard, "1.0.1"), (guard, "1.0.0")], offline.References.Select(r => (r.Name, r.Version)));
        Assert.Equal(pinned, offline.References[0].VersionId);
        Assert.Equal(["name", "policy"], created.LatestVersion.Variables.Select(v => v.Name));
    }
}
