using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PromptVault.Core.Auth;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

public sealed class ConcurrencyTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task CreateVersion_SixtyParallelClients_GetDistinctConsecutiveNumbers()
    {
        const int clients = 60;
        using var admin = fixture.Server.CreateClient();
        var name = await CreateSupportPromptAsync(admin);

        var results = await Task.WhenAll(Enumerable.Range(1, clients).Select(async i =>
        {
            using var client = fixture.Server.CreateClient();
            return await PostAsync(client, $"/api/prompts/{name}/versions", new { content = $"{SupportTemplate}\nVariant {i}", changeDescription = $"client {i}" });
        }));
        var (_, history) = await GetAsync(admin, $"/api/prompts/{name}/versions");

        Assert.All(results, r => Assert.Equal(HttpStatusCode.Created, r.Status));
        var numbers = results.Select(r => r.Body.Str("version")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Enumerable.Range(1, clients).Select(i => $"1.0.{i}").Order(StringComparer.Ordinal), numbers);
        var stored = history!["versions"]!.AsArray();
        Assert.Equal(clients + 1, stored.Count);
        Assert.Equal(Enumerable.Range(1, clients).Select(i => $"client {i}").Order(), stored.Select(v => v.Str("changeDescription")).Where(d => d.StartsWith("client")).Order());
    }

    [Fact]
    public async Task ArchiveRacingALabelMove_NeverLeavesALabelOnAnArchivedVersion()
    {
        using var admin = fixture.Server.CreateClient();
        using var other = fixture.Server.CreateClient();
        // Rounds, so the two requests overlap whatever the scheduling; each answer is the 200 or the 409 of one order.
        for (var round = 0; round < 20; round++)
        {
            var name = await CreateSupportPromptAsync(admin);
            await NewVersionAsync(admin, name, new { content = $"{SupportTemplate}\nRound {round}", changeDescription = "second" });

            var (archive, label) = (PostAsync(admin, $"/api/prompts/{name}/versions/1.0.1/status", new { status = "archived" }),
                PutAsync(other, $"/api/prompts/{name}/labels/staging", new { version = "1.0.1" }));
            var answers = await Task.WhenAll(archive, label);
            var (_, version) = await GetAsync(admin, $"/api/prompts/{name}/versions/1.0.1");

            var archived = version.Str("status") == "archived";
            var labelled = version!["labels"]!.AsArray().Count > 0;
            Assert.True(archived != labelled, $"round {round}: status {version.Str("status")}, labels {version["labels"]!.ToJsonString()}");
            var (won, lost) = archived ? (answers[0], answers[1]) : (answers[1], answers[0]);
            Assert.Equal(HttpStatusCode.OK, won.Status);
            Assert.Equal(HttpStatusCode.Conflict, lost.Status);
            Assert.Equal(archived ? "version_archived" : "version_labelled", lost.Body.Str("code"));
        }
    }

    [Fact]
    public async Task TwoPatchesOfOnePromptAtOnce_BothChangesStay()
    {
        using var admin = fixture.Server.CreateClient();
        using var writer = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("describer", ApiKeyRole.Writer, TestContext.Current.CancellationToken));
        // Rounds, so the two requests overlap whatever the scheduling.
        for (var round = 0; round < 20; round++)
        {
            var name = await CreateSupportPromptAsync(admin);

            var answers = await Task.WhenAll(
                SendAsync(admin, HttpMethod.Patch, $"/api/prompts/{name}", new { requireApproval = true }),
                SendAsync(writer, HttpMethod.Patch, $"/api/prompts/{name}", new { description = $"round {round}" }));
            var (_, prompt) = await GetAsync(admin, $"/api/prompts/{name}");
            var (_, audit) = await GetAsync(admin, $"/api/audit?prompt={name}&action=prompt.updated");

            Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
            Assert.True(prompt!["requireApproval"]!.GetValue<bool>(), $"round {round}: requireApproval was lost");
            Assert.Equal($"round {round}", prompt.Str("description"));
            Assert.Equal(2, audit!["entries"]!.AsArray().Count);
        }
    }

    [Fact]
    public async Task TwoPromotesAtOnceThatWouldCloseACycleOfIncludes_OneIsRefused()
    {
        using var admin = fixture.Server.CreateClient();
        using var other = fixture.Server.CreateClient();
        // Rounds, so the two promotes overlap whatever the scheduling.
        for (var round = 0; round < 20; round++)
        {
            var (a, b) = (UniqueName("a"), UniqueName("b"));
            foreach (var name in new[] { a, b })
            {
                var (created, body) = await PostAsync(admin, "/api/prompts", new { name, type = "system", content = $"plain {name}" });
                Assert.True(created == HttpStatusCode.Created, body?.ToJsonString());
                await PutAsync(admin, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
            }
            await NewVersionAsync(admin, a, new { content = $"a with {{{{> {b}}}}}", changeDescription = "include b" });
            await NewVersionAsync(admin, b, new { content = $"b with {{{{> {a}}}}}", changeDescription = "include a" });

            var answers = await Task.WhenAll(
                PutAsync(admin, $"/api/prompts/{a}/labels/production", new { version = "1.0.1" }),
                PutAsync(other, $"/api/prompts/{b}/labels/production", new { version = "1.0.1" }));
            var renders = await Task.WhenAll(PostAsync(admin, $"/api/prompts/{a}/render", new { variables = new { } }),
                PostAsync(admin, $"/api/prompts/{b}/render", new { variables = new { } }));

            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], answers.Select(x => x.Status).Order());
            Assert.Equal("reference_cycle", answers.Single(x => x.Status == HttpStatusCode.Conflict).Body.Str("code"));
            Assert.All(renders, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        }
    }
    [Fact]
    public async Task ArchiveAndPromoteOfAnIncluderPinningItAtOnce_NeverServeAnArchivedInclude()
    {
        using var admin = fixture.Server.CreateClient();
        using var other = fixture.Server.CreateClient();
        // Rounds, so the two writes overlap whatever the scheduling; one of them is refused.
        for (var round = 0; round < 20; round++)
        {
            var (guard, includer) = (UniqueName("guard"), UniqueName("includer"));
            await PostAsync(admin, "/api/prompts", new { name = guard, type = "system", content = "Be kind." });
            await NewVersionAsync(admin, guard, new { content = "Be kinder.", changeDescription = "kinder" });
            await PostAsync(admin, "/api/prompts", new { name = includer, type = "system", content = "Hello." });
            await NewVersionAsync(admin, includer, new { content = $"Hello. {{{{> {guard}@1.0.0}}}}", changeDescription = "pin the guard" });

            var answers = await Task.WhenAll(
                PostAsync(admin, $"/api/prompts/{guard}/versions/1.0.0/status", new { status = "archived" }),
                PutAsync(other, $"/api/prompts/{includer}/labels/production", new { version = "1.0.1" }));
            var (rendered, render) = await PostAsync(admin, $"/api/prompts/{includer}/render", new { variables = new { } });

            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], answers.Select(x => x.Status).Order());
            Assert.Contains(answers.Single(x => x.Status == HttpStatusCode.Conflict).Body.Str("code"), new[] { "version_included", "version_archived" });
            Assert.True(rendered == (answers[1].Status == HttpStatusCode.OK ? HttpStatusCode.OK : HttpStatusCode.NotFound), render?.ToJsonString());
        }
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> SendIfMatchAsync(HttpClient client, HttpMethod method, string path, object? body, string? ifMatch)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static async Task<int> AuditCountAsync(HttpClient client, string prompt, string action)
    {
        var (_, audit) = await GetAsync(client, $"/api/audit?prompt={prompt}&action={action}");
        return audit!["total"]!.GetValue<int>();
    }

    [Fact]
    public async Task ThirtyLabelMovesFromOneReading_OneMoves_TheRestAre412_AndOneIsAudited()
    {
        using var admin = fixture.Server.CreateClient();
        var name = await CreateSupportPromptAsync(admin);
        for (var i = 1; i <= 30; i++) await NewVersionAsync(admin, name, new { content = $"{SupportTemplate}\nV{i}", changeDescription = $"v{i}" });
        await PutAsync(admin, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" });
        var before = await AuditCountAsync(admin, name, "label.moved");

        var answers = await Task.WhenAll(Enumerable.Range(1, 30).Select(async i =>
        {
            using var client = fixture.Server.CreateClient();
            return await SendIfMatchAsync(client, HttpMethod.Put, $"/api/prompts/{name}/labels/staging", new { version = $"1.0.{i}" }, "\"1.0.0\"");
        }));
        var after = await AuditCountAsync(admin, name, "label.moved");
        var (_, prompt) = await GetAsync(admin, $"/api/prompts/{name}");

        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.PreconditionFailed, $"{a.Status} {a.Body?.ToJsonString()}"));
        Assert.Single(answers, a => a.Status == HttpStatusCode.OK);
        Assert.All(answers.Where(a => a.Status != HttpStatusCode.OK), a => Assert.Equal("label_moved", a.Body.Str("code")));
        Assert.Equal(before + 1, after);
        var winner = answers.Select((a, i) => (a, i)).Single(x => x.a.Status == HttpStatusCode.OK).i + 1;
        Assert.Equal($"1.0.{winner}", prompt!["labels"].Str("staging"));
    }

    [Fact]
    public async Task ThirtyLabelMovesWithoutIfMatch_AllMove_AndEachIsAudited()
    {
        using var admin = fixture.Server.CreateClient();
        var name = await CreateSupportPromptAsync(admin);
        for (var i = 1; i <= 30; i++) await NewVersionAsync(admin, name, new { content = $"{SupportTemplate}\nV{i}", changeDescription = $"v{i}" });
        var before = await AuditCountAsync(admin, name, "label.moved");

        var answers = await Task.WhenAll(Enumerable.Range(1, 30).Select(async i =>
        {
            using var client = fixture.Server.CreateClient();
            return await PutAsync(client, $"/api/prompts/{name}/labels/staging", new { version = $"1.0.{i}" });
        }));
        var after = await AuditCountAsync(admin, name, "label.moved");
        var (_, audit) = await GetAsync(admin, $"/api/audit?prompt={name}&action=label.moved&limit=1");
        var (_, prompt) = await GetAsync(admin, $"/api/prompts/{name}");

        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.OK, $"{a.Status} {a.Body?.ToJsonString()}"));
        Assert.Equal(before + 30, after);
        Assert.Contains(prompt!["labels"].Str("staging"), audit!["entries"]![0]!["after"]!.ToJsonString());
    }

    [Fact]
    public async Task TwentyPromotesAtOnce_LeaveOneProductionVersion_WhereTheLabelIs()
    {
        using var admin = fixture.Server.CreateClient();
        var name = await CreateSupportPromptAsync(admin);
        await PutAsync(admin, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        for (var i = 1; i <= 20; i++) await NewVersionAsync(admin, name, new { content = $"{SupportTemplate}\nV{i}", changeDescription = $"v{i}" });

        var answers = await Task.WhenAll(Enumerable.Range(1, 20).Select(async i =>
        {
            using var client = fixture.Server.CreateClient();
            return await PutAsync(client, $"/api/prompts/{name}/labels/production", new { version = $"1.0.{i}" });
        }));
        var (_, versions) = await GetAsync(admin, $"/api/prompts/{name}/versions?limit=100");
        var (_, prompt) = await GetAsync(admin, $"/api/prompts/{name}");

        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.OK, $"{a.Status} {a.Body?.ToJsonString()}"));
        var production = versions!["versions"]!.AsArray().Where(v => v.Str("status") == "production").Select(v => v.Str("version")).ToList();
        Assert.Equal([prompt!["labels"].Str("production")], production);
    }

    [Fact]
    public async Task RollbackRacingAPromoteFromOneReading_OneWins_TheOtherIs412_AndCreatesNothing()
    {
        using var admin = fixture.Server.CreateClient();
        for (var round = 0; round < 15; round++)
        {
            var name = await CreateSupportPromptAsync(admin);
            await PutAsync(admin, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
            await NewVersionAsync(admin, name, new { content = $"{SupportTemplate}\nV1", changeDescription = "v1" });
            await PutAsync(admin, $"/api/prompts/{name}/labels/production", new { version = "1.0.1" });
            await NewVersionAsync(admin, name, new { content = $"{SupportTemplate}\nV2", changeDescription = "v2" });

            using var a = fixture.Server.CreateClient();
            using var b = fixture.Server.CreateClient();
            var answers = await Task.WhenAll(
                SendIfMatchAsync(a, HttpMethod.Post, $"/api/prompts/{name}/rollback", new { version = "1.0.0", reason = "bad" }, "\"1.0.1\""),
                SendIfMatchAsync(b, HttpMethod.Post, $"/api/prompts/{name}/versions/1.0.2/status", new { status = "production" }, "\"1.0.1\""));
            var (_, versions) = await GetAsync(admin, $"/api/prompts/{name}/versions?limit=100");
            var (_, prompt) = await GetAsync(admin, $"/api/prompts/{name}");

            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed], answers.Select(x => x.Status).Order());
            var production = versions!["versions"]!.AsArray().Where(v => v.Str("status") == "production").Select(v => v.Str("version")).ToList();
            Assert.Equal([prompt!["labels"].Str("production")], production);
            var rolled = answers[0].Status == HttpStatusCode.OK;
            Assert.Equal(rolled ? 4 : 3, versions["versions"]!.AsArray().Count);
        }
    }

    [Fact]
    public async Task OneNameCreatedTwentyTimesAtOnce_OnePrompt_TheRestAre409()
    {
        using var admin = fixture.Server.CreateClient();
        for (var round = 0; round < 10; round++)
        {
            var name = UniqueName("dup");
            var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
            {
                using var client = fixture.Server.CreateClient();
                return await PostAsync(client, "/api/prompts", SupportPrompt(name));
            }));
            Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.Created or HttpStatusCode.Conflict, $"{a.Status} {a.Body?.ToJsonString()}"));
            Assert.Single(answers, a => a.Status == HttpStatusCode.Created);
            Assert.All(answers.Where(a => a.Status != HttpStatusCode.Created), a => Assert.Equal(HttpStatusCode.Conflict, a.Status));
            Assert.Equal(1, await AuditCountAsync(admin, name, "prompt.created"));
        }
    }

    [Fact]
    public async Task FiveExperimentsOfOnePromptStartedAtOnce_OneRuns_TheRestAre409()
    {
        using var admin = fixture.Server.CreateClient();
        for (var round = 0; round < 10; round++)
        {
            var (name, ids) = await Experiments.CreatePromptWithChallengersAsync(admin);
            var experiments = new List<JsonNode>();
            for (var i = 0; i < 5; i++) experiments.Add(await Experiments.CreateAsync(admin, Experiments.ThreeWay(name, ids)));
            var answers = await Task.WhenAll(experiments.Select(async e =>
            {
                using var client = fixture.Server.CreateClient();
                return await PostAsync(client, $"/api/experiments/{e.Str("id")}/start", null);
            }));
            var (_, list) = await GetAsync(admin, $"/api/experiments?prompt={name}");

            Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.Conflict, $"{a.Status} {a.Body?.ToJsonString()}"));
            Assert.Single(answers, a => a.Status == HttpStatusCode.OK);
            Assert.Single(list!["experiments"]!.AsArray(), e => e.Str("status") == "running");
            Assert.Equal(1, await AuditCountAsync(admin, name, "experiment.started"));
        }
    }

    [Fact]
    public async Task AdminKeysRevokingEachOtherAtOnce_LeaveAnAdminKey()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var root = server.CreateClient();
        var ids = new List<string>();
        var keys = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var (_, created) = await PostAsync(root, "/api/keys", new { name = $"admin{i}", role = "admin" });
            ids.Add(created.Str("id"));
            keys.Add(created.Str("key"));
        }
        var (_, all) = await GetAsync(root, "/api/keys");
        var rootId = all!["keys"]!.AsArray().Select(k => k.Str("id")).Except(ids).Single();
        ids.Add(rootId);
        keys.Add(server.AdminKey);

        // Each admin key revokes the next one (a cycle), all at once: the last-admin-key rule must hold for one of them.
        var answers = await Task.WhenAll(ids.Select(async (id, i) =>
        {
            using var client = server.CreateClient(keys[(i + 1) % keys.Count]);
            return await SendAsync(client, HttpMethod.Delete, $"/api/keys/{id}");
        }));
        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.NoContent or HttpStatusCode.Conflict or HttpStatusCode.Unauthorized, $"{a.Status} {a.Body?.ToJsonString()}"));
        var alive = 0;
        foreach (var k in keys)
        {
            using var c = server.CreateClient(k);
            if ((await GetAsync(c, "/api/keys")).Status == HttpStatusCode.OK) alive++;
        }
        Assert.True(alive >= 1, string.Join(",", answers.Select(a => a.Status)));
    }

    [Fact]
    public async Task OneKeyRevokedTwentyTimesAtOnce_IsRevokedAndAuditedOnce()
    {
        using var admin = fixture.Server.CreateClient();
        var (_, created) = await PostAsync(admin, "/api/keys", new { name = "temp", role = "reader" });
        var id = created.Str("id");
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var client = fixture.Server.CreateClient();
            return await SendAsync(client, HttpMethod.Delete, $"/api/keys/{id}");
        }));
        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.NoContent or HttpStatusCode.NotFound or HttpStatusCode.Conflict, $"{a.Status} {a.Body?.ToJsonString()}"));
        var (_, audit) = await GetAsync(admin, "/api/audit?action=api_key.revoked&limit=100");
        Assert.Single(audit!["entries"]!.AsArray(), e => e!.ToJsonString().Contains(id));
    }

    [Fact]
    public async Task TenEvaluationsOfOneVersionAtOnce_EachAnsweredRunIsStored()
    {
        using var admin = fixture.Server.CreateClient();
        var name = await CreateSupportPromptAsync(admin);
        await PutAsync(admin, $"/api/prompts/{name}/versions/1.0.0/tests", new { tests = new[] { new { name = "c", variables = new { company_name = "Acme" }, expect = new[] { new { type = "contains", value = "Acme" } } } } });
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            using var client = fixture.Server.CreateClient();
            return await PostAsync(client, $"/api/prompts/{name}/versions/1.0.0/evaluate", null);
        }));
        Assert.All(answers, a => Assert.True((int)a.Status < 500, $"{a.Status} {a.Body?.ToJsonString()}"));
        var (_, runs) = await GetAsync(admin, $"/api/prompts/{name}/versions/1.0.0/evaluations");
        Assert.Equal(answers.Count(a => a.Status is HttpStatusCode.OK or HttpStatusCode.Created), runs!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task BatchesRepeatingEventIdsAtOnce_CountEachEventOnce()
    {
        using var admin = fixture.Server.CreateClient();
        var name = await CreateSupportPromptAsync(admin);
        var versionId = (await GetAsync(admin, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            using var client = fixture.Server.CreateClient();
            return await PostAsync(client, "/api/metrics", new { events = Enumerable.Range(0, 50).Select(j => new { id = $"{name}-{(i + j) % 60}", versionId, latencyMs = 10, cost = 0.5 }).ToArray() });
        }));
        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.OK, $"{a.Status} {a.Body?.ToJsonString()}"));
        var (_, metrics) = await GetAsync(admin, $"/api/prompts/{name}/versions/1.0.0/metrics");
        Assert.Equal(60, metrics!["summary"]!["count"]!.GetValue<long>());
        Assert.Equal(60, answers.Sum(a => a.Body!["stored"]!.GetValue<int>()));
        Assert.Equal(30.0, metrics["summary"]!["cost"]!["total"]!.GetValue<double>(), 6);
    }

    [Fact]
    public async Task EventsRacingTheirExperimentsCancel_AreStoredOrRefused409_NeverAFault()
    {
        using var admin = fixture.Server.CreateClient();
        var (name, ids) = await Experiments.CreatePromptWithChallengersAsync(admin);
        for (var round = 0; round < 10; round++)
        {
            var e = await Experiments.CreateAsync(admin, Experiments.ThreeWay(name, ids));
            var id = e.Str("id");
            await Experiments.MoveAsync(admin, id, "start");
            var variantId = Experiments.VariantId(e, "control");
            var tasks = Enumerable.Range(0, 20).Select(async i =>
            {
                using var client = fixture.Server.CreateClient();
                if (i == 10) return await PostAsync(client, $"/api/experiments/{id}/cancel", null);
                return await PostAsync(client, "/api/metrics", new { events = new[] { new { versionId = ids[0], experimentId = id, variantId, unitId = $"u{i}", latencyMs = 5, converted = true } } });
            });
            var answers = await Task.WhenAll(tasks);
            Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.Conflict, $"{a.Status} {a.Body?.ToJsonString()}"));
            var (rs, results) = await GetAsync(admin, $"/api/experiments/{id}/results");
            Assert.True(rs == HttpStatusCode.OK, results?.ToJsonString());
        }
    }
}
