using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Auth;
using PromptVault.Core.Storage;
using PromptVault.Storage.Sqlite;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// Render and authentication read registry state from memory (the RegistryCache), and every change made through the API
/// is seen by the very next request. The stores are wrapped in counting proxies inside a real server.
/// </summary>
/// <remarks>
/// The tests share two servers, one whose stores count their calls and a plain one, and use prompts of their own; a test
/// of the counts clears them after its own setup, and the class's tests run one at a time.
/// </remarks>
public sealed class RegistryCacheTests(RegistryCacheTests.CountedServerFixture counted, ServerFixture plain)
    : IClassFixture<RegistryCacheTests.CountedServerFixture>, IClassFixture<ServerFixture>
{
    private static readonly object Variables = new { company_name = "Acme" };

    public sealed class Counters
    {
        public CountingProxy<IPromptStore> Prompts { get; set; } = null!;
        public CountingProxy<IExperimentStore> Experiments { get; set; } = null!;
        public CountingProxy<IApiKeyStore> Keys { get; set; } = null!;

        public void Clear()
        {
            Prompts.Calls.Clear();
            Experiments.Calls.Clear();
            Keys.Calls.Clear();
        }
    }

    /// <summary>A server whose prompt, experiment and key stores count their calls (<see cref="Counters"/>).</summary>
    public sealed class CountedServerFixture : ServerFixture
    {
        public Counters Counters { get; } = new();

        protected override ServerSetup Setup() => new([], builder =>
        {
            builder.Services.AddSingleton(sp => Wrap<IPromptStore>(sp, c => Counters.Prompts = c));
            builder.Services.AddSingleton(sp => Wrap<IExperimentStore>(sp, c => Counters.Experiments = c));
            builder.Services.AddSingleton(sp => Wrap<IApiKeyStore>(sp, c => Counters.Keys = c));
        });
    }

    private static T Wrap<T>(IServiceProvider services, Action<CountingProxy<T>> keep) where T : class
    {
        var (store, counter) = CountingProxy<T>.Wrap((T)(object)services.GetRequiredService<SqlitePromptStore>());
        keep(counter);
        return store;
    }

    private static async Task<JsonNodeResult> RenderAsync(HttpClient client, string name, object body)
    {
        var (status, rendered) = await PostAsync(client, $"/api/prompts/{name}/render", body);
        Assert.True(status == HttpStatusCode.OK, rendered?.ToJsonString());
        return new JsonNodeResult(rendered.Str("version"), rendered!["experimentId"]?.GetValue<string>());
    }

    private sealed record JsonNodeResult(string Version, string? ExperimentId);

    [Fact]
    public async Task Render_AfterWarmUp_ReadsNoRegistryStateFromTheStores()
    {
        var (server, counters) = (counted.Server, counted.Counters);
        using var client = server.CreateClient();
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(client);
        var experiment = await Experiments.CreateAsync(client, Experiments.ThreeWay(name, versionIds));
        await Experiments.MoveAsync(client, experiment.Str("id"), "start");
        // Until every variant has been served: which one a unit gets depends on the experiment's random hash seed, so a fixed
        // number of warm-up units can miss one (about 1 seed in 2,800 misses one of the 25% variants in 30 units), and the first unit given it
        // below would read its version from the store.
        var served = new HashSet<string>();
        for (var unit = 0; served.Count < versionIds.Length; unit++)
        {
            Assert.True(unit < 1000, $"1,000 units were served only {string.Join(", ", served)}");
            served.Add((await RenderAsync(client, name, new { variables = Variables, unitId = $"warm-{unit}" })).Version);
        }
        await RenderAsync(client, name, new { variables = Variables, label = "production" });
        counters.Clear();

        for (var unit = 0; unit < 20; unit++)
        {
            Assert.Equal(experiment.Str("id"), (await RenderAsync(client, name, new { variables = Variables, unitId = $"unit-{unit}" })).ExperimentId);
            Assert.Equal("1.0.0", (await RenderAsync(client, name, new { variables = Variables, label = "production" })).Version);
        }

        Assert.True(counters.Prompts.Total == 0, $"prompt store calls: {string.Join(", ", counters.Prompts.Calls)}");
        Assert.True(counters.Keys.Total == 0, $"key store calls: {string.Join(", ", counters.Keys.Calls)}");
        Assert.Equal(["QueueExposure"], counters.Experiments.Calls.Keys);
        Assert.Equal(20, counters.Experiments.Calls["QueueExposure"]);
    }

    [Fact]
    public async Task RenderOfAnExactVersion_AfterWarmUp_ReadsNoRegistryStateFromTheStores()
    {
        var (server, counters) = (counted.Server, counted.Counters);
        using var client = server.CreateClient();
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(client);
        string[] references = ["1.0.1", versionIds[2], "latest"];
        foreach (var reference in references)
            await RenderAsync(client, name, new { variables = Variables, version = reference });
        counters.Clear();

        for (var i = 0; i < 10; i++)
            Assert.Equal(["1.0.1", "1.0.2", "1.0.2"], await Task.WhenAll(references.Select(async reference =>
                (await RenderAsync(client, name, new { variables = Variables, version = reference })).Version)));

        Assert.True(counters.Prompts.Total == 0, $"prompt store calls: {string.Join(", ", counters.Prompts.Calls)}");
    }

    [Fact]
    public async Task RenderWithIncludes_AfterWarmUp_ReadsNoRegistryStateFromTheStores()
    {
        var (server, counters) = (counted.Server, counted.Counters);
        using var client = server.CreateClient();
        var guard = UniqueName("guard");
        var includer = UniqueName("includer");
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(client, "/api/prompts", new { name = guard, type = "system", content = "Be kind to {{company_name}}'s customers.", variables = new[] { new { name = "company_name" } } })).Status);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(client, $"/api/prompts/{guard}/labels/staging", new { version = "1.0.0" })).Status);
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(client, "/api/prompts", new { name = includer, type = "system", content = $"{{{{> {guard}@staging}}}} Hi." })).Status);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(client, $"/api/prompts/{includer}/labels/production", new { version = "1.0.0" })).Status);
        await RenderAsync(client, includer, new { variables = Variables });
        counters.Clear();

        for (var i = 0; i < 10; i++)
            Assert.Equal("1.0.0", (await RenderAsync(client, includer, new { variables = Variables })).Version);

        Assert.True(counters.Prompts.Total == 0, $"prompt store calls: {string.Join(", ", counters.Prompts.Calls)}");
    }

    [Fact]
    public async Task MetricEvents_AfterWarmUp_ReadNoVersionFromTheStore()
    {
        var (server, counters) = (counted.Server, counted.Counters);
        using var client = server.CreateClient();
        var (_, versionIds) = await Experiments.CreatePromptWithChallengersAsync(client);
        var batch = new { events = versionIds.Select(id => new { versionId = id, latencyMs = 5, inputTokens = 10 }).ToArray() };
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, "/api/metrics", batch)).Status);
        counters.Clear();

        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, "/api/metrics", batch)).Status);

        Assert.True(!counters.Prompts.Calls.ContainsKey(nameof(IPromptStore.FindAnyVersionAsync)),
            $"prompt store calls: {string.Join(", ", counters.Prompts.Calls)}");
    }

    [Fact]
    public async Task RenderOfAnExactVersion_SeesNewVersionsAndStatusChangesOnTheNextRequest()
    {
        var server = plain.Server;
        using var client = server.CreateClient();
        var (name, _) = await Experiments.CreatePromptWithChallengersAsync(client);
        var first = new { variables = Variables, version = "1.0.0" };
        Assert.Equal("1.0.0", (await RenderAsync(client, name, first)).Version);
        Assert.Equal("1.0.2", (await RenderAsync(client, name, new { variables = Variables, version = "latest" })).Version);

        await NewVersionAsync(client, name, new { content = "Newest, for {{company_name}}.", changeDescription = "newest" });
        Assert.Equal("1.0.3", (await RenderAsync(client, name, new { variables = Variables, version = "latest" })).Version);
        Assert.Equal("1.0.3", (await RenderAsync(client, name, new { variables = Variables, version = "1.0.3" })).Version);

        // Promoting 1.0.1 moves the production label and deprecates 1.0.0, which may then be archived: it never serves again.
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(client, $"/api/prompts/{name}/labels/production", new { version = "1.0.1" })).Status);
        Assert.Equal("1.0.0", (await RenderAsync(client, name, first)).Version);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "archived" })).Status);
        var (status, problem) = await PostAsync(client, $"/api/prompts/{name}/render", first);
        Assert.Equal((HttpStatusCode.Conflict, "version_archived"), (status, problem.Str("code")));
    }

    [Fact]
    public async Task Changes_AreSeenByTheNextRequest()
    {
        var server = counted.Server;
        using var client = server.CreateClient();
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(client);
        var production = new { variables = Variables };
        Assert.Equal("1.0.0", (await RenderAsync(client, name, production)).Version);

        var (moved, _) = await PutAsync(client, $"/api/prompts/{name}/labels/production", new { version = "1.0.1" });
        Assert.Equal(HttpStatusCode.OK, moved);
        Assert.Equal("1.0.1", (await RenderAsync(client, name, production)).Version);

        var (promoted, _) = await PostAsync(client, $"/api/prompts/{name}/versions/1.0.2/status", new { status = "production" });
        Assert.Equal(HttpStatusCode.OK, promoted);
        Assert.Equal("1.0.2", (await RenderAsync(client, name, production)).Version);

        var (rolledBack, _) = await PostAsync(client, $"/api/prompts/{name}/rollback", new { version = "1.0.0", reason = "test" });
        Assert.Equal(HttpStatusCode.OK, rolledBack);
        Assert.Equal("1.0.3", (await RenderAsync(client, name, production)).Version);

        var unit = new { variables = Variables, unitId = "user-1" };
        Assert.Null((await RenderAsync(client, name, unit)).ExperimentId);
        var experiment = await Experiments.CreateAsync(client, Experiments.ThreeWay(name, versionIds));
        await Experiments.MoveAsync(client, experiment.Str("id"), "start");
        Assert.Equal(experiment.Str("id"), (await RenderAsync(client, name, unit)).ExperimentId);
        await Experiments.MoveAsync(client, experiment.Str("id"), "pause");
        Assert.Null((await RenderAsync(client, name, unit)).ExperimentId);
        await Experiments.MoveAsync(client, experiment.Str("id"), "start");
        Assert.Equal(experiment.Str("id"), (await RenderAsync(client, name, unit)).ExperimentId);
        await Experiments.MoveAsync(client, experiment.Str("id"), "cancel");
        Assert.Null((await RenderAsync(client, name, unit)).ExperimentId);
    }

    [Fact]
    public async Task KeyRecheck_ReadsTheOneKey_SeesAnActiveKeyAsActive_AndARevokedOneAsNot()
    {
        var (server, counters) = (counted.Server, counted.Counters);
        using var admin = server.CreateClient();
        var (_, kept) = await PostAsync(admin, "/api/keys", new { name = "kept", role = "reader" });
        var (_, revoked) = await PostAsync(admin, "/api/keys", new { name = "revoked", role = "reader" });
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(admin, HttpMethod.Delete, $"/api/keys/{revoked.Str("id")}")).Status);
        var keys = server.Services.GetRequiredService<ApiKeyService>();
        counters.Clear();

        var keptIsActive = await keys.IsActiveAsync(kept.Str("id"), TestContext.Current.CancellationToken);
        var revokedIsActive = await keys.IsActiveAsync(revoked.Str("id"), TestContext.Current.CancellationToken);
        var unknownIsActive = await keys.IsActiveAsync("no-such-key", TestContext.Current.CancellationToken);

        Assert.True(keptIsActive);
        Assert.False(revokedIsActive);
        Assert.False(unknownIsActive);
        Assert.Equal(["FindActiveByIdAsync"], counters.Keys.Calls.Keys);
    }

    [Fact]
    public async Task RevokedKey_IsRefusedOnTheNextRequest()
    {
        var (server, counters) = (counted.Server, counted.Counters);
        using var admin = server.CreateClient();
        var (created, key) = await PostAsync(admin, "/api/keys", new { name = "reader", role = "reader" });
        Assert.Equal(HttpStatusCode.Created, created);
        using var reader = server.CreateClient(key.Str("key"));
        counters.Clear();
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(reader, "/api/prompts")).Status);
        Assert.True(counters.Keys.Calls.GetValueOrDefault("FindActiveByHashAsync") == 1, "the key's lookups should come from memory after the first");

        var (revoked, _) = await SendAsync(admin, HttpMethod.Delete, $"/api/keys/{key.Str("id")}");
        Assert.Equal(HttpStatusCode.NoContent, revoked);

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(reader, "/api/prompts")).Status);
    }

    [Fact]
    public async Task KeyMadeByAnotherProcess_WorksAtOnce()
    {
        var server = plain.Server;
        using var warm = server.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(warm, "/api/prompts")).Status);

        var recovered = await PromptVault.Server.Hosting.PromptVaultServer.CreateRecoveryAdminKeyAsync(server.DatabasePath, TestContext.Current.CancellationToken);

        using var client = server.CreateClient(recovered.Key);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/api/prompts")).Status);
    }

    [Fact]
    public async Task Render_WhileLabelsMove_NeverServesAVersionTheLabelLeft()
    {
        var server = plain.Server;
        using var client = server.CreateClient();
        var (name, _) = await Experiments.CreatePromptWithChallengersAsync(client);
        var staging = new { variables = Variables, label = "staging" };
        string[] versions = ["1.0.0", "1.0.1", "1.0.2"];
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" })).Status);

        using var stop = new CancellationTokenSource();
        var background = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
                await RenderAsync(client, name, staging);
        })).ToList();

        for (var move = 1; move <= 150; move++)
        {
            var target = versions[move % versions.Length];
            Assert.Equal(HttpStatusCode.OK, (await PutAsync(client, $"/api/prompts/{name}/labels/staging", new { version = target })).Status);
            var after = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => RenderAsync(client, name, staging)));
            Assert.All(after, r => Assert.Equal(target, r.Version));
        }
        await stop.CancelAsync();
        await Task.WhenAll(background);
    }
}
