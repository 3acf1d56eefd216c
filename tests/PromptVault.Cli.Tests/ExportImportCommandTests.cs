using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PromptVault.Core.Auth;
using PromptVault.Server.Tests;
using PromptVault.Server.Tests.Postgres;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Cli.Tests;

/// <summary>`export` and `import` (SPEC §6): a registry moves from one server's SQLite file to another's, or to PostgreSQL and back, and nothing changes.</summary>
/// <remarks>
/// A test whose assertions read the whole registry (what an export holds, where a repeated row sits) has servers of its own; the
/// others, which store no prompt, share one.
/// </remarks>
public sealed partial class ExportImportCommandTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task ExportImport_ToANewServer_EverythingReadsTheSame_AndExportsTheSameBytes()
    {
        using var folder = new TempFolder();
        await using var a = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        var registry = await FillAsync(a);
        var readerKey = await a.CreateKeyAsync("reader-bot", ApiKeyRole.Reader, TestContext.Current.CancellationToken);
        var first = folder.File("a.json");
        await ExportAsync(a, first);

        await using var b = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        var imported = await Cli.RunAsync(b, null, "import", first, "--json");
        Assert.True(imported.ExitCode == 0, imported.ToString());
        var report = JsonNode.Parse(imported.Out)!;
        Assert.Equal(1, report["replacedKeys"]!.GetValue<int>());
        Assert.Equal(registry.Prompts.Order(StringComparer.Ordinal), report["addedPrompts"]!.AsArray().Select(n => n!.GetValue<string>()));

        // B now holds A's keys: A's admin key and reader key work on B with the same strings; B's own first key is gone.
        using var onA = a.CreateClient();
        using var onB = b.CreateClient(a.AdminKey);
        foreach (var path in ReadPaths(registry))
            Assert.Equal(path + " " + await ReadAsync(onA, path), path + " " + await ReadAsync(onB, path));
        using var reader = b.CreateClient(readerKey);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(reader, "/api/prompts")).Status);
        using var replaced = b.CreateClient(b.AdminKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(replaced, "/api/prompts")).Status);

        var second = folder.File("b.json");
        await ExportAsync(b, second, a.AdminKey);
        Assert.Equal(Comparable(await File.ReadAllTextAsync(first, TestContext.Current.CancellationToken)),
            Comparable(await File.ReadAllTextAsync(second, TestContext.Current.CancellationToken)));
    }

    [Fact]
    public async Task Import_IntoARegistryWithPrompts_IsRefused_OrMergedByNameWithAReport()
    {
        using var folder = new TempFolder();
        await using var a = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        var registry = await FillAsync(a);
        var document = folder.File("a.json");
        await ExportAsync(a, document);

        await using var b = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var onB = b.CreateClient();
        var taken = registry.Prompts[0];
        await CreateSupportPromptAsync(onB, taken);
        var before = await ReadAsync(onB, $"/api/prompts/{taken}/versions");

        var refused = await Cli.RunAsync(b, null, "import", document);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("registry_not_empty", refused.Error);
        Assert.Contains("1 prompt(s)", refused.Error);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(onB, $"/api/prompts/{registry.Prompts[1]}")).Status);

        var merged = await Cli.RunAsync(b, null, "import", document, "--merge", "--json");
        Assert.True(merged.ExitCode == 0, merged.ToString());
        var report = JsonNode.Parse(merged.Out)!;
        Assert.Equal([taken], report["skippedPrompts"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal([registry.Prompts[1]], report["addedPrompts"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(before, await ReadAsync(onB, $"/api/prompts/{taken}/versions"));
        using var onA = a.CreateClient();
        Assert.Equal(await ReadAsync(onA, $"/api/prompts/{registry.Prompts[1]}/versions"), await ReadAsync(onB, $"/api/prompts/{registry.Prompts[1]}/versions"));
        // The merge is in B's audit log under the importing key, naming what it added (A's admin key among them).
        var (_, audit) = await GetAsync(onB, "/api/audit?action=registry.imported");
        var entry = Assert.Single(audit!["entries"]!.AsArray())!;
        Assert.Equal("admin", entry["actor"]!.GetValue<string>());
        Assert.Equal(registry.Prompts[1], entry["after"]!["prompts"]!.GetValue<string>());
        Assert.Equal("true", entry["after"]!["merge"]!.GetValue<string>());
        // A's keys were added beside B's: both admin keys work.
        using var withAKey = b.CreateClient(a.AdminKey);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(withAKey, "/api/prompts")).Status);

        var table = await Cli.RunAsync(b, null, "import", document, "--merge");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("Skipped prompts", table.Out);
        Assert.Contains(registry.Prompts[1], table.Out);
    }

    /// <summary>Between the engines (issue 12): a registry leaves SQLite for PostgreSQL and comes back unchanged.</summary>
    [Fact]
    public async Task ExportImport_SqliteToPostgresToSqlite_EverythingReadsTheSame_AndExportsTheSameDocument()
    {
        using var folder = new TempFolder();
        await using var sqlite = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        var registry = await FillAsync(sqlite);
        var fromSqlite = folder.File("sqlite.json");
        await ExportAsync(sqlite, fromSqlite);

        await using var postgres = await SharedDatabaseServers.StartAsync(count: 1, cancellationToken: TestContext.Current.CancellationToken);
        var imported = await Cli.RunAsync(Remote(postgres.BaseAddress(0), postgres.AdminKey), "import", fromSqlite, "--json");
        Assert.True(imported.ExitCode == 0, imported.ToString());
        Assert.Equal(registry.Prompts.Order(StringComparer.Ordinal), JsonNode.Parse(imported.Out)!["addedPrompts"]!.AsArray().Select(n => n!.GetValue<string>()));
        var onPostgres = Remote(postgres.BaseAddress(0), sqlite.AdminKey); // the SQLite registry's keys came along
        var fromPostgres = folder.File("postgres.json");
        var exported = await Cli.RunAsync(onPostgres, "export", "--out", fromPostgres);
        Assert.True(exported.ExitCode == 0, exported.ToString());

        await using var back = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, (await Cli.RunAsync(back, null, "import", fromPostgres)).ExitCode);
        var fromBack = folder.File("back.json");
        await ExportAsync(back, fromBack, sqlite.AdminKey);

        using var sqliteClient = sqlite.CreateClient();
        using var postgresClient = postgres.CreateClient(0, sqlite.AdminKey);
        using var backClient = back.CreateClient(sqlite.AdminKey);
        foreach (var path in ReadPaths(registry))
        {
            var expected = path + " " + await ReadAsync(sqliteClient, path);
            Assert.Equal(expected, path + " " + await ReadAsync(postgresClient, path));
            Assert.Equal(expected, path + " " + await ReadAsync(backClient, path));
        }
        var document = Comparable(await File.ReadAllTextAsync(fromSqlite, TestContext.Current.CancellationToken));
        Assert.Equal(document, Comparable(await File.ReadAllTextAsync(fromPostgres, TestContext.Current.CancellationToken)));
        Assert.Equal(document, Comparable(await File.ReadAllTextAsync(fromBack, TestContext.Current.CancellationToken)));
    }

    private static Dictionary<string, string?> Remote(Uri server, string apiKey) =>
        new() { ["PROMPTVAULT_URL"] = server.ToString(), ["PROMPTVAULT_API_KEY"] = apiKey };

    [Theory]
    [InlineData("{\"format\":\"promptvault-export\",\"formatVersion\":1,\"prompts\":[{\"id\":5}]}", "$.prompts[0].id", "invalid_export_document")]
    [InlineData("{\"format\":\"promptvault-export\",\"formatVersion\":2}", "$.formatVersion", "invalid_export_document")]
    [InlineData("{\"format\":\"other\",\"formatVersion\":1}", "$.format", "invalid_export_document")]
    [InlineData("{\"format\":\"promptvault-export\",\"formatVersion\":1,\"prompt\":[]}", "$.prompt", "invalid_export_document")]
    [InlineData("{\"format\":\"promptvault-export\",\"formatVersion\":1,\"apiKeys\":[{\"id\":\"k\",\"name\":\"n\",\"role\":\"admin\",\"prefix\":\"pv_\",\"keyHash\":\"h\",\"createdAt\":\"yesterday\",\"createdBy\":\"x\",\"revokedAt\":null}]}", "$.apiKeys[0].createdAt", "invalid_export_document")]
    [InlineData("{\"format\":\"promptvault-export\",\"formatVersion\":1,\"versions\":[", "$", "invalid_export_document")]
    [InlineData("{\"format\":\"promptvault-export\",\"formatVersion\":1,\"apiKeys\":[{\"id\":\"k\",\"name\":\"n\",\"role\":\"root\",\"prefix\":\"pv_\",\"keyHash\":\"h\",\"createdAt\":\"2026-01-01T00:00:00Z\",\"createdBy\":\"x\",\"revokedAt\":null}]}", "$.apiKeys[0].role", "invalid_export_document")]
    // A key's name holding a bidi override: refused by the rule every display name is held to, as the API's would be.
    [InlineData("{\"format\":\"promptvault-export\",\"formatVersion\":1,\"apiKeys\":[{\"id\":\"k\",\"name\":\"ops\\u202Etxt.exe\",\"role\":\"admin\",\"prefix\":\"pv_\",\"keyHash\":\"h\",\"createdAt\":\"2026-01-01T00:00:00Z\",\"createdBy\":\"x\",\"revokedAt\":null}]}", "$.apiKeys[0].name", "invalid_export_document")]
    [InlineData("{\"format\":\"promptvault-export\",\"formatVersion\":1,\"prompts\":[],\"prompts\":[]}", "$.prompts", "invalid_export_document")]
    [InlineData("{\"format\":\"promptvault-export\",\"formatVersion\":1,\"apiKeys\":[]}", "$.apiKeys", "import_no_admin_key")]
    public async Task Import_MalformedDocument_Is400NamingThePath_AndWritesNothing(string document, string path, string code)
    {
        var server = fixture.Server;
        using var client = server.CreateClient();
        using var content = new StringContent(document, Encoding.UTF8, "application/json");

        var response = await client.PostAsync("/api/import", content, TestContext.Current.CancellationToken);

        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        var problem = JsonNode.Parse(body)!;
        Assert.Equal(code, problem.Str("code"));
        Assert.StartsWith(path, problem.Str("field"), StringComparison.Ordinal);
        Assert.Contains(path, problem.Str("detail"), StringComparison.Ordinal);
        Assert.False(problem.Str("detail").EndsWith("..", StringComparison.Ordinal), problem.Str("detail"));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/api/keys")).Status);
    }

    [Theory]
    [InlineData("prompts", "id", "$.prompts[1].name", "name \"{0}\"")]
    [InlineData("versions", "id", "$.versions[1]", "major 1, minor 0, patch 0")]
    [InlineData("labels", null, "$.labels[1]", "name \"production\"")]
    public async Task Import_RepeatedName_Is400NamingItAndWhereItRepeats_AndWritesNothing(string section, string? newId, string path, string repeated)
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var name = await CreateSupportPromptAsync(client);
        var (labelled, labelProblem) = await PutAsync(client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        Assert.True(labelled == HttpStatusCode.OK, labelProblem?.ToJsonString());
        var exported = await client.GetStringAsync("/api/export", TestContext.Current.CancellationToken);
        var document = JsonNode.Parse(exported)!;
        // The section's first row again, under another id where it has one: only its name (or number) repeats.
        var copy = document[section]![0]!.DeepClone();
        if (newId is not null) copy[newId] = "repeat-" + Guid.NewGuid().ToString("N");
        document[section]!.AsArray().Add(copy);
        using var content = new StringContent(document.ToJsonString(), Encoding.UTF8, "application/json");

        var response = await client.PostAsync("/api/import?merge=true", content, TestContext.Current.CancellationToken);

        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        var problem = JsonNode.Parse(body)!;
        Assert.Equal(("invalid_export_document", path), (problem.Str("code"), problem.Str("field")));
        Assert.Contains($"{path} repeats the ", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Contains(string.Format(System.Globalization.CultureInfo.InvariantCulture, repeated, name), problem.Str("detail"), StringComparison.Ordinal);
        Assert.Contains($"of $.{section}[0]", problem.Str("detail"), StringComparison.Ordinal);
        var after = JsonNode.Parse(await client.GetStringAsync("/api/export", TestContext.Current.CancellationToken))!.AsObject();
        var before = JsonNode.Parse(exported)!.AsObject();
        before.Remove("exportedAt");
        after.Remove("exportedAt");
        Assert.Equal(before.ToJsonString(), after.ToJsonString());
    }

    [Fact]
    public async Task Export_WithoutOut_PrintsTheDocument_WithKeyHashesButNeverAKey()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        var reader = await server.CreateKeyAsync("reader-bot", ApiKeyRole.Reader, TestContext.Current.CancellationToken);

        var result = await Cli.RunAsync(server, null, "export");

        Assert.True(result.ExitCode == 0, result.ToString());
        var document = JsonNode.Parse(result.Out)!;
        Assert.Equal("promptvault-export", document.Str("format"));
        Assert.Equal(1, document["formatVersion"]!.GetValue<int>());
        Assert.Equal(new[] { ApiKeySecret.Hash(server.AdminKey), ApiKeySecret.Hash(reader) }.Order(StringComparer.Ordinal),
            document["apiKeys"]!.AsArray().Select(k => k.Str("keyHash")).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(server.AdminKey, result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(reader, result.Out, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Export_WithoutOut_ItsTemporaryFileIsTheUsersOnly_AndGoneWhenStdoutCloses()
    {
        var server = fixture.Server;
        var before = TemporaryExports();
        using var stdout = new ClosedPipe(() => TemporaryExports().Except(before).Select(File.GetUnixFileMode).ToList());
        using var stderr = new StringWriter();
        var environment = new Dictionary<string, string?> { ["PROMPTVAULT_URL"] = server.BaseAddress.ToString(), ["PROMPTVAULT_API_KEY"] = server.AdminKey };

        var exitCode = await CliApp.RunAsync(["export"], stdout, stderr, environment, TestContext.Current.CancellationToken);

        Assert.NotEqual(0, exitCode);

        // While it was copied to stdout, the export (the whole registry) was a file in the shared temporary folder.
        Assert.Equal([UnixFileMode.UserRead | UnixFileMode.UserWrite], stdout.ModesAtFirstWrite);
        Assert.Empty(TemporaryExports().Except(before));
    }

    private static HashSet<string> TemporaryExports() => Directory.GetFiles(Path.GetTempPath(), "promptvault-export-*").ToHashSet();

    /// <summary>Standard output whose reader has gone (<c>promptvault export | head</c> ended, or Ctrl+C): the first write fails.</summary>
    private sealed class ClosedPipe(Func<List<UnixFileMode>> onFirstWrite) : StringWriter
    {
        public List<UnixFileMode>? ModesAtFirstWrite { get; private set; }

        public override Task WriteAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default)
        {
            ModesAtFirstWrite ??= onFirstWrite();
            throw new IOException("Broken pipe");
        }
    }

    [Fact]
    public async Task ExportAndImport_NeedAnAdminKey()
    {
        using var folder = new TempFolder();
        var server = fixture.Server;
        var writer = await server.CreateKeyAsync("writer-bot", ApiKeyRole.Writer, TestContext.Current.CancellationToken);
        using var client = server.CreateClient(writer);

        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(client, "/api/export")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(client, "/api/import", new { format = "promptvault-export", formatVersion = 1 })).Status);
        var cli = await Cli.RunAsync(server, writer, "export", "--out", folder.File("x.json"));
        Assert.Equal(1, cli.ExitCode);
    }

    [Fact]
    public async Task Import_MissingFile_ExitsTwoNamingIt()
    {
        using var folder = new TempFolder();
        var server = fixture.Server;
        var missing = folder.File("missing.json");

        var result = await Cli.RunAsync(server, null, "import", missing);
        var json = await Cli.RunAsync(server, null, "import", missing, "--json");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: {missing}: no such file.", result.Error.Trim());
        Assert.Equal(2, json.ExitCode);
        Assert.Equal("cli_error", JsonNode.Parse(json.Error)!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Export_OutInAMissingFolder_ExitsTwoNamingTheFolder()
    {
        using var folder = new TempFolder();
        var server = fixture.Server;
        var output = Path.Combine(folder.Path, "no-such-folder", "registry.json");

        var result = await Cli.RunAsync(server, null, "export", "--out", output);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: --out {output}: the folder {Path.GetDirectoryName(output)} does not exist.", result.Error.Trim());
    }

    private sealed record Registry(string[] Prompts, string ExperimentId, string[] VersionIds);

    /// <summary>Two prompts (one with three versions and two labels), a running experiment with exposures, unit-level events and
    /// results, events of a version outside it, and the audit entries all of that wrote.</summary>
    private static async Task<Registry> FillAsync(RunningServer server)
    {
        using var client = server.CreateClient();
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(client);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.2" })).Status);
        var other = await CreateSupportPromptAsync(client);
        // An approval gate and an approved version, so the document carries requireApproval, requireTests, approvedBy and approvedAt.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, HttpMethod.Patch, $"/api/prompts/{other}", new { requireApproval = true, requireTests = true })).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, $"/api/prompts/{other}/versions/1.0.0/status", new { status = "review" })).Status);
        using var approver = server.CreateClient(await server.CreateKeyAsync("approver-bot", ApiKeyRole.Writer, TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(approver, $"/api/prompts/{other}/versions/1.0.0/status", new { status = "approved" })).Status);
        var experiment = await Experiments.CreateAsync(client, Experiments.ThreeWay(name, versionIds));
        var id = experiment.Str("id");
        await Experiments.MoveAsync(client, id, "start");

        var events = new List<object>();
        for (var unit = 0; unit < 40; unit++)
        {
            var unitId = $"unit-{unit}";
            var (status, rendered) = await PostAsync(client, $"/api/prompts/{name}/render", new { variables = new { company_name = "Acme" }, unitId });
            Assert.True(status == HttpStatusCode.OK, rendered?.ToJsonString());
            events.Add(new
            {
                versionId = rendered.Str("versionId"), experimentId = id, variantId = rendered.Str("variantId"), unitId,
                converted = unit % 3 == 0, latencyMs = 100.0 + unit, inputTokens = 10 + unit, outputTokens = 20, qualityScore = (unit % 5) / 4.0,
            });
        }
        events.Add(new { versionId = versionIds[2], latencyMs = 42.5, error = "timeout", timestamp = DateTimeOffset.UtcNow.AddHours(-3) });
        await Experiments.RecordAsync(client, events);
        return new Registry([name, other], id, versionIds);
    }

    /// <summary>Runs <c>export --out <paramref name="file"/></c> on <paramref name="server"/> (its admin key unless told) and checks that it succeeded.</summary>
    /// <summary>
    /// A document over the server's import limit: sent with its length and held back until the server asks for it
    /// (Expect: 100-continue), so the 413 is read and told, naming the limit and its setting, instead of a lost connection.
    /// </summary>
    [Fact]
    public async Task Import_DocumentOverTheServersImportLimit_IsThe413NamingTheSetting_NothingImported()
    {
        using var folder = new TempFolder();
        await using var a = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        var name = UniqueName("cli-big-import");
        var pushed = await Cli.RunAsync(a, null, "push", folder.Write("p.md", $"---\nname: {name}\n---\nHello.\n"));
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        var document = folder.File("a.json");
        await ExportAsync(a, document);
        // Trailing whitespace keeps it one valid document, 16 times the limit: far more than the server reads past a refused
        // body before it closes the connection, which a body sent unasked runs into.
        await File.AppendAllTextAsync(document, new string(' ', 16 * 1024 * 1024), TestContext.Current.CancellationToken);
        await using var b = await RunningServer.StartAsync(new ServerSetup(["--PromptVault:Import:MaxDocumentBytes=1048576"]), TestContext.Current.CancellationToken);

        var imported = await Cli.RunAsync(b, null, "import", document);

        Assert.True(imported.ExitCode == 1, imported.ToString());
        Assert.Equal("", imported.Out);
        Assert.Equal($"error (payload_too_large): {document}: The request body is larger than the server accepts here (1 MB, PromptVault:Import:MaxDocumentBytes).\n" +
            "hint: nothing was imported; the document is sent in one request, which the server's setting named above bounds: whoever runs the server can raise it.\n",
            imported.Error.ReplaceLineEndings("\n"));
        // An import replaces the keys: B's own admin key still working, and no prompt of A's, say nothing was imported.
        var list = await Cli.RunAsync(b, null, "list", "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.DoesNotContain(name, list.Out);
    }

    private static async Task ExportAsync(RunningServer server, string file, string? apiKey = null)
    {
        var exported = await Cli.RunAsync(server, apiKey, "export", "--out", file);
        Assert.True(exported.ExitCode == 0, exported.ToString());
    }

    private static IEnumerable<string> ReadPaths(Registry registry) =>
    [
        "/api/prompts", "/api/audit", "/api/keys", "/api/experiments", $"/api/experiments/{registry.ExperimentId}/results",
        $"/api/prompts/{registry.Prompts[0]}", $"/api/prompts/{registry.Prompts[1]}/versions", $"/api/prompts/{registry.Prompts[0]}/versions",
        .. new[] { "1.0.0", "1.0.1", "1.0.2" }.Select(v => $"/api/prompts/{registry.Prompts[0]}/versions/{v}/metrics"),
        $"/api/prompts/{registry.Prompts[0]}/versions/1.0.2/metrics?period=day",
    ];

    private static async Task<string> ReadAsync(HttpClient client, string path)
    {
        var (status, body) = await GetAsync(client, path);
        Assert.True(status == HttpStatusCode.OK, $"{path}: {status} {body?.ToJsonString()}");
        if (path == "/api/audit")
            WithoutImportEntries(body!.AsObject(), "entries");
        // A version's metrics name the period they cover, which ends at the time of the request.
        if (path.Contains("/metrics", StringComparison.Ordinal))
        {
            body!.AsObject().Remove("from");
            body.AsObject().Remove("to");
        }
        return body!.ToJsonString();
    }

    /// <summary>The document without its export time, nor the audit entries of the imports that made the registry exported.</summary>
    private static string Comparable(string document)
    {
        var parsed = JsonNode.Parse(ExportedAt().Replace(document, "\"exportedAt\":\"\"", 1))!.AsObject();
        WithoutImportEntries(parsed, "audit");
        return parsed.ToJsonString();
    }

    /// <summary>Drops the entries of <paramref name="member"/> that an import wrote of itself (and the total counting them).</summary>
    private static void WithoutImportEntries(JsonObject holder, string member)
    {
        var entries = holder[member]!.AsArray();
        foreach (var entry in entries.Where(e => e!["action"]!.GetValue<string>() == "registry.imported").ToList())
            entries.Remove(entry);
        holder.Remove("total");
    }

    [GeneratedRegex("\"exportedAt\":\"[^\"]*\"")]
    private static partial Regex ExportedAt();
}
