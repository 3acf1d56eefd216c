using System.Net;
using Microsoft.Data.Sqlite;
using PromptVault.Core;
using PromptVault.Core.Auth;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

public sealed class AuthTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task AnyApiRoute_WithoutKey_Returns401Problem()
    {
        using var anonymous = fixture.Server.CreateClient(apiKey: "");

        var (list, problem) = await GetAsync(anonymous, "/api/prompts");
        var (create, _) = await PostAsync(anonymous, "/api/prompts", SupportPrompt(UniqueName()));

        Assert.Equal(HttpStatusCode.Unauthorized, list);
        Assert.Equal("unauthorized", problem.Str("code"));
        // The header at fault, as any other refused input is named.
        Assert.Equal("Authorization", problem.Str("field"));
        Assert.Equal(HttpStatusCode.Unauthorized, create);
    }

    [Fact]
    public async Task AnyApiRoute_WithUnknownKey_Returns401()
    {
        using var client = fixture.Server.CreateClient("pv_not-a-real-key");

        var (status, problem) = await GetAsync(client, "/api/prompts");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Authorization", problem.Str("field"));
    }

    [Fact]
    public async Task ReaderKey_CanReadAndRenderButNotWrite()
    {
        using var admin = fixture.Server.CreateClient();
        var name = await CreateSupportPromptAsync(admin);
        using var reader = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("dashboard", ApiKeyRole.Reader, TestContext.Current.CancellationToken));

        var (read, _) = await GetAsync(reader, $"/api/prompts/{name}");
        var (render, _) = await PostAsync(reader, $"/api/prompts/{name}/render", new { version = "1.0.0", variables = new { company_name = "Acme" } });
        var (write, problem) = await PostAsync(reader, $"/api/prompts/{name}/versions", new { content = "x", changeDescription = "x" });
        var (create, _) = await PostAsync(reader, "/api/prompts", SupportPrompt(UniqueName()));

        Assert.Equal(HttpStatusCode.OK, read);
        Assert.Equal(HttpStatusCode.OK, render);
        Assert.Equal(HttpStatusCode.Forbidden, write);
        Assert.Equal("forbidden", problem.Str("code"));
        Assert.Equal("This API key's role (reader) may not do this; it needs a key whose role is writer or admin.", problem.Str("detail"));
        Assert.Equal(HttpStatusCode.Forbidden, create);
    }

    [Fact]
    public async Task WriterKey_CanVersionButNotPromoteRollBackOrManageKeys()
    {
        using var writer = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("author", ApiKeyRole.Writer, TestContext.Current.CancellationToken));
        var name = await CreateSupportPromptAsync(writer);

        var (review, _) = await PostAsync(writer, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "review" });
        var (promote, promoteProblem) = await PutAsync(writer, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        var (statusPromote, _) = await PostAsync(writer, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "production" });
        var (rollback, _) = await PostAsync(writer, $"/api/prompts/{name}/rollback", new { version = "1.0.0" });
        var (keys, _) = await PostAsync(writer, "/api/keys", new { name = "x", role = "admin" });

        Assert.Equal(HttpStatusCode.OK, review);
        Assert.Equal(HttpStatusCode.Forbidden, promote);
        // The group asks for reader and the route for admin: the refusal names the stronger.
        Assert.Equal("This API key's role (writer) may not do this; it needs a key whose role is admin.", promoteProblem.Str("detail"));
        Assert.Equal(HttpStatusCode.Forbidden, statusPromote);
        Assert.Equal(HttpStatusCode.Forbidden, rollback);
        Assert.Equal(HttpStatusCode.Forbidden, keys);
    }

    [Fact]
    public async Task RevokedKey_IsRefused()
    {
        using var admin = fixture.Server.CreateClient();
        var (_, created) = await PostAsync(admin, "/api/keys", new { name = "temp", role = "reader" });
        using var temp = fixture.Server.CreateClient(created.Str("key"));
        var (before, _) = await GetAsync(temp, "/api/prompts");

        var (revoke, _) = await SendAsync(admin, HttpMethod.Delete, $"/api/keys/{created.Str("id")}");
        var (after, _) = await GetAsync(temp, "/api/prompts");
        var (again, _) = await SendAsync(admin, HttpMethod.Delete, $"/api/keys/{created.Str("id")}");

        Assert.Equal(HttpStatusCode.OK, before);
        Assert.Equal(HttpStatusCode.NoContent, revoke);
        Assert.Equal(HttpStatusCode.Unauthorized, after);
        Assert.Equal(HttpStatusCode.NotFound, again);
    }

    [Fact]
    public async Task Keys_AreStoredHashedNeverInTheClear()
    {
        var key = await fixture.Server.CreateKeyAsync("hash-check", ApiKeyRole.Reader, TestContext.Current.CancellationToken);

        var bytes = await File.ReadAllBytesAsync(fixture.Server.DatabasePath, TestContext.Current.CancellationToken);
        var wal = fixture.Server.DatabasePath + "-wal";
        var walBytes = File.Exists(wal) ? await File.ReadAllBytesAsync(wal, TestContext.Current.CancellationToken) : [];
        await using var connection = new SqliteConnection($"Data Source={fixture.Server.DatabasePath};Mode=ReadOnly");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM api_keys WHERE key_hash = $hash";
        command.Parameters.AddWithValue("$hash", ApiKeySecret.Hash(key));
        var matches = (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;

        Assert.Equal(1, matches);
        var secretPart = System.Text.Encoding.UTF8.GetBytes(key[10..]);
        Assert.False(bytes.AsSpan().IndexOf(secretPart) >= 0, "the key's secret part is in the database file");
        Assert.False(walBytes.AsSpan().IndexOf(secretPart) >= 0, "the key's secret part is in the write-ahead log");
    }

    [Theory]
    [InlineData(ApiKeyRole.Reader)]
    [InlineData(ApiKeyRole.Writer)]
    [InlineData(ApiKeyRole.Admin)]
    public async Task CurrentKey_AnyRole_ReadsItsOwnIdNameAndRoleButNoSecret(ApiKeyRole role)
    {
        var name = $"current-{Names.Of(role)}";
        var key = await fixture.Server.CreateKeyAsync(name, role, TestContext.Current.CancellationToken);
        using var client = fixture.Server.CreateClient(key);
        using var admin = fixture.Server.CreateClient();

        var (status, body) = await GetAsync(client, "/api/keys/current");
        var (_, list) = await GetAsync(admin, "/api/keys?limit=500");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain(key, body!.ToJsonString());
        // The same key as the admin's list shows, field for field.
        var listed = list!["keys"]!.AsArray().Single(k => k.Str("name") == name);
        Assert.Equal(listed!.ToJsonString(), body.ToJsonString());
        Assert.Equal(Names.Of(role), body.Str("role"));
        Assert.StartsWith(body.Str("prefix"), key);
    }

    [Fact]
    public async Task CurrentKey_WithoutKeyOrRevoked_Returns401()
    {
        using var admin = fixture.Server.CreateClient();
        using var anonymous = fixture.Server.CreateClient(apiKey: "");
        var (_, created) = await PostAsync(admin, "/api/keys", new { name = "current-revoked", role = "writer" });
        using var revoked = fixture.Server.CreateClient(created.Str("key"));
        await SendAsync(admin, HttpMethod.Delete, $"/api/keys/{created.Str("id")}");

        var (none, _) = await GetAsync(anonymous, "/api/keys/current");
        var (after, _) = await GetAsync(revoked, "/api/keys/current");

        Assert.Equal(HttpStatusCode.Unauthorized, none);
        Assert.Equal(HttpStatusCode.Unauthorized, after);
    }

    [Fact]
    public async Task ListKeys_ShowsPrefixAndRoleButNoSecret()
    {
        var key = await fixture.Server.CreateKeyAsync("lister", ApiKeyRole.Writer, TestContext.Current.CancellationToken);
        using var admin = fixture.Server.CreateClient();

        var (status, body) = await GetAsync(admin, "/api/keys");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain(key, body!.ToJsonString());
        var listed = body["keys"]!.AsArray().Single(k => k.Str("name") == "lister");
        Assert.Equal("writer", listed.Str("role"));
        Assert.StartsWith(listed.Str("prefix"), key);
    }

    [Fact]
    public async Task HealthAndOpenApi_NeedNoKey()
    {
        using var anonymous = fixture.Server.CreateClient(apiKey: "");

        var (health, _) = await GetAsync(anonymous, "/healthz");
        var (openApi, document) = await GetAsync(anonymous, "/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, health);
        Assert.Equal(HttpStatusCode.OK, openApi);
        Assert.NotNull(document!["paths"]!["/api/prompts/{name}/render"]);
        Assert.NotNull(document["paths"]!["/api/prompts/{name}/rollback"]);
    }
}
