using System.Net;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Server.Hosting;

namespace PromptVault.Benchmarks;

/// <summary>
/// Each dashboard page over loopback HTTP, signed in, against a registry of 200 prompts of 50 versions each (10,000
/// versions, 10,200 audit entries) plus a running experiment. The time is the whole request (client, loopback and
/// server), so it bounds the server's time from above.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[Config(typeof(InProcessConfig))]
public partial class DashboardBenchmarks
{
    // In process: building a separate benchmark project with the server in it passes BenchmarkDotNet's two-minute build
    // limit on the shared machine, and the server under test is hosted in-process either way.
    private sealed class InProcessConfig : ManualConfig
    {
        public InProcessConfig() =>
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(15));
    }

    private const int Prompts = 200, VersionsPerPrompt = 50;
    private static readonly string Busy = Name(107), BusyPath = "/prompts/" + Uri.EscapeDataString(Busy);

    // Seeding 10,000 versions takes a while: the database is kept between the benchmark processes of one run.
    private static readonly string Folder = Path.Combine(Path.GetTempPath(), "promptvault-dashboard-bench");

    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private string _experimentId = "";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var database = Path.Combine(Folder, "promptvault.db");
        var seeded = File.Exists(Path.Combine(Folder, "seeded"));
        if (!seeded && Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
        Directory.CreateDirectory(Folder);
        _app = PromptVaultServer.Build(new ServerOptions { DatabasePath = database, Urls = "http://127.0.0.1:0" }, ["--Logging:LogLevel:Default=Warning"]);
        await PromptVaultServer.MigrateAsync(_app);
        var keys = _app.Services.GetRequiredService<PromptVault.Core.Auth.ApiKeyService>();
        var admin = await keys.CreateRecoveryAdminKeyAsync();
        if (!seeded) await SeedAsync(admin.Name);
        var experiments = _app.Services.GetRequiredService<ExperimentService>();
        _experimentId = (await experiments.ListAsync(Busy, new(1))).Experiments[0].Id;
        await _app.StartAsync();

        _client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(_app.Urls.First()) };
        var login = await _client.GetStringAsync("/login");
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = Token().Match(login).Groups[1].Value,
            ["Input.ApiKey"] = admin.Key,
        });
        var signedIn = await _client.PostAsync("/login", form);
        if (!(await signedIn.Content.ReadAsStringAsync()).Contains("Sign out", StringComparison.Ordinal))
            throw new InvalidOperationException("Signing in to the dashboard failed.");
    }

    private async Task SeedAsync(string actor)
    {
        var registry = _app.Services.GetRequiredService<PromptRegistry>();
        var variables = new List<VariableDefinition> { new("customer"), new("question", Required: true) };
        for (var p = 0; p < Prompts; p++)
        {
            var name = Name(p);
            await registry.CreatePromptAsync(new CreatePromptRequest(name, "A benchmark prompt", PromptType.System, Template(p, 0), variables,
                Tags: ["bench", $"t{p % 7}"], Category: $"c{p % 5}"), actor);
            for (var v = 1; v < VersionsPerPrompt; v++)
                await registry.CreateVersionAsync(name, new CreateVersionRequest(Template(p, v), ChangeDescription: $"Revision {v}"), actor);
            await registry.MoveLabelAsync(name, Label.Production, "1.0.40", actor);
        }
        var versions = await registry.ListVersionsAsync(Busy, new(2));
        await _app.Services.GetRequiredService<ExperimentService>().CreateAsync(new CreateExperimentRequest("bench", Busy,
            [new("control", versions.Versions[1].Id, 50), new("treatment", versions.Versions[0].Id, 50)]), actor);
        await File.WriteAllTextAsync(Path.Combine(Folder, "seeded"), "");
    }

    private static string Name(int prompt) => $"team-{prompt / 20:00}/prompt-{prompt:000}";

    private static string Template(int prompt, int version) =>
        $"You are support agent {prompt} (revision {version}).\nGreet {{{{customer}}}} warmly.\nAnswer: {{{{question}}}}\n" +
        string.Concat(Enumerable.Range(0, 20).Select(i => $"Rule {i}: be precise about topic {i * version}.\n"));

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Benchmark(Baseline = true)]
    public Task<string> PromptTree() => _client.GetStringAsync("/");

    [Benchmark]
    public Task<string> PromptSearch() => _client.GetStringAsync("/?q=prompt-1&tag=bench");

    [Benchmark]
    public Task<string> PromptHistory() => _client.GetStringAsync(BusyPath);

    [Benchmark]
    public Task<string> Editor() => _client.GetStringAsync(BusyPath + "/edit");

    [Benchmark]
    public Task<string> Compare() => _client.GetStringAsync(BusyPath + "/compare?a=1.0.0&b=1.0.49");

    [Benchmark]
    public Task<string> PromoteConfirmation() => _client.GetStringAsync(BusyPath + "/deploy?action=promote&version=1.0.49");

    [Benchmark]
    public Task<string> ExperimentList() => _client.GetStringAsync("/experiments");

    [Benchmark]
    public Task<string> Experiment() => _client.GetStringAsync("/experiments/" + _experimentId);

    [Benchmark]
    public Task<string> AuditLog() => _client.GetStringAsync("/audit");

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
