using System.Text.Json.Nodes;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// The OpenAPI document is committed (docs/openapi.json) so API changes show in review. This test fails when the served
/// document drifts from it; run with PROMPTVAULT_UPDATE_OPENAPI=1 to rewrite the committed copy.
/// </summary>
public sealed class OpenApiDocumentTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task ServedDocument_MatchesTheCommittedOne()
    {
        using var client = fixture.Server.CreateClient(apiKey: "");
        var served = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken))!;
        served["servers"] = null; // the test server's port changes every run
        var text = served.ToJsonString(new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
        var committed = Path.Combine(RepositoryRoot(), "docs", "openapi.json");

        if (Environment.GetEnvironmentVariable("PROMPTVAULT_UPDATE_OPENAPI") == "1")
            await File.WriteAllTextAsync(committed, text, TestContext.Current.CancellationToken);

        Assert.True(File.Exists(committed), $"{committed} is missing: run the tests once with PROMPTVAULT_UPDATE_OPENAPI=1.");
        Assert.True(text == await File.ReadAllTextAsync(committed, TestContext.Current.CancellationToken),
            "The API changed: review the difference and run the tests with PROMPTVAULT_UPDATE_OPENAPI=1 to update docs/openapi.json.");
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PromptVault.slnx"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("PromptVault.slnx not found above the test folder.");
    }
}
