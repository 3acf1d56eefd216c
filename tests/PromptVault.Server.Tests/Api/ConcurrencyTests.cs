using System.Net;
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
}
