using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;

namespace PromptVault.Client.Tests;

/// <summary>What the SDK serves follows the server: moved labels soon, older snapshots never, removed labels no more.</summary>
public sealed class FreshnessTests(SdkServerFixture fixture) : IClassFixture<SdkServerFixture>
{
    private SdkServer Server => fixture.Server;

    [Fact]
    public async Task GetPromptAsync_LabelMovedWithStream_ServedFromTheStream()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("stream");
        await Prompts.CreateAsync(Server.Api, name, "one", cancellationToken: ct);
        var two = await Prompts.AddVersionAsync(Server.Api, name, "two", ct);
        await using var host = await StartStreamingAsync(ct);

        await Server.Api.MoveLabelAsync(name, Label.Production, two, ct);
        await Eventually(async () => (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId, id => id == two, StreamWait);
    }

    [Fact]
    public async Task GetPromptAsync_LabelMovedWithoutStream_ServedWithinOneInterval()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("poll");
        await Prompts.CreateAsync(Server.Api, name, "one", cancellationToken: ct);
        var two = await Prompts.AddVersionAsync(Server.Api, name, "two", ct);
        var interval = TimeSpan.FromMilliseconds(500);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => { o.UseStream = false; o.RefreshInterval = interval; }, cancellationToken: ct);

        await Server.Api.MoveLabelAsync(name, Label.Production, two, ct);
        // Served within one interval plus the refresh request. On a loaded machine that request alone took longer than the
        // 300 ms once allowed, so the bound is a sixth of the default interval (30 s): what fails it is an interval not kept.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Eventually(async () => (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId, id => id == two);
        var took = clock.Elapsed;

        Assert.True(took < PromptVaultDefaults.RefreshInterval / 6, $"served {took} after the move");
    }

    [Fact]
    public async Task GetPromptAsync_OlderSnapshotOfferedAfterNewer_NeverServesTheOldVersion()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("older");
        var one = await Prompts.CreateAsync(Server.Api, name, "one", cancellationToken: ct);
        var two = await Prompts.AddVersionAsync(Server.Api, name, "two", ct);
        var old = (await Server.Api.GetSnapshotAsync(cancellationToken: ct)).Snapshot!;
        await Server.Api.MoveLabelAsync(name, Label.Production, two, ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        Assert.Equal(two, (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId);

        // A stale replica (or a lagging cache) answers with the snapshot from before the move.
        var taken = host.Sdk.Snapshots.Offer(old, "stale replica");
        var served = await host.Vault.GetPromptAsync(name, cancellationToken: ct);

        Assert.False(taken);
        Assert.Equal(two, served.VersionId);
        Assert.NotEqual(one, served.VersionId);
    }

    [Fact]
    public async Task GetPromptAsync_LabelRemovedInNewerSnapshot_NotServedAnyMore()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("removed");
        await Prompts.CreateAsync(Server.Api, name, "one", cancellationToken: ct);
        var two = await Prompts.AddVersionAsync(Server.Api, name, "two", ct);
        await Server.Api.MoveLabelAsync(name, "beta", two, ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        Assert.Equal(two, (await host.Vault.GetPromptAsync(name, label: "beta", cancellationToken: ct)).VersionId);
        var current = (await Server.Api.GetSnapshotAsync(cancellationToken: ct)).Snapshot!;

        var withoutBeta = current with
        {
            Sequence = current.Sequence + 1,
            Prompts = current.Prompts.Select(p => p.Name != name ? p
                : p with { Labels = p.Labels.Where(l => l.Key != "beta").ToDictionary() }).ToList(),
        };
        Assert.True(host.Sdk.Snapshots.Offer(withoutBeta, "server"));
        var error = await Assert.ThrowsAsync<NotFoundException>(async () => await host.Vault.GetPromptAsync(name, label: "beta", cancellationToken: ct));

        Assert.Equal("label_not_found", error.Code);
    }

    [Fact]
    public async Task GetPromptAsync_LabelRemovedOnServerWithStream_NotFoundFromTheStreamAndProductionStillServed()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("unlabel");
        var one = await Prompts.CreateAsync(Server.Api, name, "one", cancellationToken: ct);
        var two = await Prompts.AddVersionAsync(Server.Api, name, "two", ct);
        await Server.Api.MoveLabelAsync(name, "staging", two, ct);
        await using var host = await StartStreamingAsync(ct);
        Assert.Equal(two, (await host.Vault.GetPromptAsync(name, label: "staging", cancellationToken: ct)).VersionId);

        await Server.Api.RemoveLabelAsync(name, "staging", ct);
        await Eventually(async () =>
        {
            try { await host.Vault.GetPromptAsync(name, label: "staging", cancellationToken: ct); return false; }
            catch (NotFoundException) { return true; }
        }, StreamWait);
        var error = await Assert.ThrowsAsync<NotFoundException>(async () => await host.Vault.GetPromptAsync(name, label: "staging", cancellationToken: ct));
        Assert.Equal("label_not_found", error.Code);
        Assert.Equal(one, (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId);
    }

    [Fact]
    public async Task RemoveLabelAsync_Production_RefusedWith409AndStillServed()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("keepprod");
        var one = await Prompts.CreateAsync(Server.Api, name, "one", cancellationToken: ct);

        var error = await Assert.ThrowsAsync<PromptVaultApiException>(() => Server.Api.RemoveLabelAsync(name, Label.Production, ct));

        Assert.Equal(System.Net.HttpStatusCode.Conflict, error.StatusCode);
        Assert.Equal("production_label_required", error.Code);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        Assert.Equal(one, (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId);
    }

    [Fact]
    public async Task GetPromptAsync_ExperimentPausedOnServer_VariantNoLongerServed()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("paused");
        (var one, var two, var experiment) = await Prompts.SplitAsync(Server.Api, name, ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.RefreshInterval = TimeSpan.FromHours(1), cancellationToken: ct);
        var unit = Enumerable.Range(0, 100).Select(i => $"u{i}").First(u => PromptVaultSdk.Resolve(host.Sdk.Snapshots.Current!, name, null, u, null, null).VersionId == two);
        Assert.Equal(two, (await host.Vault.GetPromptAsync(name, unitId: unit, cancellationToken: ct)).VersionId);

        await Server.Api.ChangeExperimentAsync(experiment.Id, ExperimentCommand.Pause, ct);
        await Eventually(async () => (await host.Vault.GetPromptAsync(name, unitId: unit, cancellationToken: ct)).VersionId, id => id == one, StreamWait);
        Assert.Null((await host.Vault.GetPromptAsync(name, unitId: unit, cancellationToken: ct)).ExperimentId);
    }

    [Fact]
    public async Task GetPromptAsync_LabelNamedAsAVersionId_LabelAndVersionNeverCollide()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("collide");
        var one = await Prompts.CreateAsync(Server.Api, name, "one", cancellationToken: ct);
        var two = await Prompts.AddVersionAsync(Server.Api, name, "two", ct);
        // A label whose name is version one's id, pointing at version two.
        await Server.Api.MoveLabelAsync(name, one, two, ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);

        var byLabel = await host.Vault.GetPromptAsync(name, label: one, cancellationToken: ct);
        var byVersionId = await host.Vault.GetPromptAsync(name, version: one, cancellationToken: ct);
        var byNumber = await host.Vault.GetPromptAsync(name, version: "1.0.0", cancellationToken: ct);

        Assert.Equal(two, byLabel.VersionId);
        Assert.Equal(one, byVersionId.VersionId);
        Assert.Equal(one, byNumber.VersionId);
    }

    [Fact]
    public async Task GetPromptAsync_VersionLatest_ServesTheNewestVersionAsTheServerDoesAndALabelNamedLatestStaysALabel()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("latest");
        var one = await Prompts.CreateAsync(Server.Api, name, "one", cancellationToken: ct);
        var two = await Prompts.AddVersionAsync(Server.Api, name, "two", ct); // the newest, under no label
        await Server.Api.MoveLabelAsync(name, "latest", one, ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);

        var byVersion = await host.Vault.GetPromptAsync(name, version: "latest", cancellationToken: ct);
        var byLabel = await host.Vault.GetPromptAsync(name, label: "latest", cancellationToken: ct);
        var serverByVersion = await Server.Api.RenderAsync(name, new RenderRequest(Version: "latest"), ct);
        var serverByLabel = await Server.Api.RenderAsync(name, new RenderRequest(Label: "latest"), ct);

        Assert.Equal(two, serverByVersion.VersionId);
        Assert.Equal((two, "two"), (byVersion.VersionId, byVersion.Content));
        Assert.Equal(one, serverByLabel.VersionId);
        Assert.Equal((one, "one"), (byLabel.VersionId, byLabel.Content));
    }

    /// <summary>
    /// How long a test waits for a change the stream brings: far less than the streaming SDK's refresh interval (an hour), so
    /// only the stream can have brought it. It arrives within milliseconds; a second was a bound a loaded machine broke.
    /// </summary>
    private static readonly TimeSpan StreamWait = TimeSpan.FromSeconds(30);

    /// <summary>An SDK whose refresh interval is far longer than a test: only the stream can bring a change.</summary>
    private async Task<SdkHost> StartStreamingAsync(CancellationToken cancellationToken)
    {
        var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.RefreshInterval = TimeSpan.FromHours(1), cancellationToken: cancellationToken);
        // Start loaded the snapshot from before the test's change. Whether the stream connects before or after the change
        // does not matter: on connecting it names the current snapshot, so either way only the stream can bring the change.
        Assert.True(host.Sdk.Snapshots.ServerReachable);
        Assert.NotNull(host.Sdk.Snapshots.Current);
        return host;
    }
}
