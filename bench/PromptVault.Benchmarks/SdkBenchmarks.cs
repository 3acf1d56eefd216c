using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using PromptVault.Client;
using PromptVault.Client.Events;
using PromptVault.Client.Snapshots;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;

namespace PromptVault.Benchmarks;

/// <summary>
/// The SDK's own costs (issue 11): <c>GetPromptAsync</c> of the customer-support template in a running 50/25/25 experiment
/// against Core's resolve + render with the same .NET values (the baseline, as in <see cref="ResolveBenchmarks"/>), the
/// assignment alone, queueing a metric event, and starting from a fallback file with the server down.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class SdkBenchmarks
{
    private const string UnitId = "3f2b8c1e-7a4d-4e2b-9c1f-5d6e7a8b9c0d";

    private readonly TemplateEngine _engine = new();
    private readonly Dictionary<string, PromptVersion> _versionsById = new(StringComparer.Ordinal);
    private SdkSnapshot _snapshot = null!;
    private SdkExperiment _experiment = null!;
    private int[] _bucketEnds = null!;
    private Dictionary<string, object?> _values = null!;
    private PromptVaultSdk _sdk = null!;
    private ResolvedPrompt _resolved = null!;
    private PromptOutcome _outcome = null!;
    private string _file = null!;
    private Uri _downServer = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var versions = new[] { CustomerSupportPrompt.Version("v1"), CustomerSupportPrompt.Version("v2", "Keep answers short.\n"), CustomerSupportPrompt.Version("v3", "Be warm and patient.\n") };
        foreach (var version in versions) _versionsById[version.Id] = version;
        _experiment = new SdkExperiment("e1", "customer-support", 0x9E3779B97F4A7C15,
            [new("control", "control", "v1", 50m), new("concise", "concise", "v2", 25m), new("warm", "warm", "v3", 25m)]);
        _snapshot = new SdkSnapshot(1, Assignment.AlgorithmVersion, DateTimeOffset.UnixEpoch,
            [new SdkPrompt("customer-support", PromptType.System, new Dictionary<string, string> { [Label.Production] = "v1" },
                versions.Select((v, i) => new SdkVersion(v.Id, $"1.0.{i}", v.Content, v.Variables, new PromptMetadata { Model = "gpt-4o-mini", Temperature = 0.3 })).ToList())],
            [_experiment]);
        _bucketEnds = Assignment.BucketEnds(_experiment.Variants.Select(v => v.Weight).ToList());
        _values = CustomerSupportPrompt.Values();

        _downServer = new Uri($"http://127.0.0.1:{FreePort()}/");
        // A long retry delay: the queue's sender meets a server that is down and should stay out of the measurements.
        var options = new PromptVaultOptions { ServerUrl = _downServer, EventRetryMaxDelay = TimeSpan.FromHours(1), EventQueueCapacity = 1_000_000 };
        var snapshots = NewSource(options);
        snapshots.Offer(_snapshot, "benchmark");
        _sdk = new PromptVaultSdk(snapshots, new EventQueue(() => new PromptVaultClient(new HttpClient { BaseAddress = _downServer }), options, TimeProvider.System, NullLogger.Instance),
            TimeProvider.System, null);
        _resolved = await _sdk.GetPromptAsync("customer-support", _values, UnitId);
        if (_resolved.Content != _engine.For(_versionsById[_resolved.VersionId]).RenderValues(_values))
            throw new InvalidOperationException("The SDK renders differently from Core.");
        _outcome = new PromptOutcome { Latency = TimeSpan.FromMilliseconds(820), InputTokens = 1_200, OutputTokens = 300 };
        _file = Path.Combine(Path.GetTempPath(), $"pv-bench-snapshot-{Environment.ProcessId}.json");
        await File.WriteAllTextAsync(_file, JsonSerializer.Serialize(_snapshot, PromptVaultJson.Options));
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _sdk.DisposeAsync();
        File.Delete(_file);
    }

    /// <summary>Core's resolve + render with .NET values: the baseline.</summary>
    [Benchmark(Baseline = true)]
    public string CoreResolveRenderValues()
    {
        var variant = _experiment.Variants[Assignment.VariantIndex(_experiment.HashSeed, UnitId, _bucketEnds)];
        return _engine.For(_versionsById[variant.VersionId]).RenderValues(_values);
    }

    /// <summary>The SDK: resolve from the snapshot, render, build the resolution (options, id) and queue the exposure.</summary>
    [Benchmark]
    public ValueTask<ResolvedPrompt> GetPromptAsync() => _sdk.GetPromptAsync("customer-support", _values, UnitId);

    /// <summary>The unit's variant alone, as the SDK computes it: no allocation.</summary>
    [Benchmark]
    public int Assign() => Assignment.VariantIndex(_experiment.HashSeed, UnitId, _bucketEnds);

    /// <summary>What recording an event costs the caller: the event copied into the queue's ring (the sender makes its id and request).</summary>
    [Benchmark]
    public ValueTask RecordAsync() => _sdk.RecordAsync(_resolved, _outcome);

    /// <summary>Start-up with the server down (connection refused) and a fallback file: the first snapshot ready to serve.</summary>
    [Benchmark]
    public async Task<long> StartFromFallbackFile()
    {
        var source = NewSource(new PromptVaultOptions { ServerUrl = _downServer, FallbackSnapshotPath = _file });
        return (await source.EnsureLoadedAsync(CancellationToken.None)).Sequence;
    }

    private static SnapshotSource NewSource(PromptVaultOptions options) =>
        new(() => new PromptVaultClient(new HttpClient { BaseAddress = options.ServerUrl }, null),
            () => new HttpClient { BaseAddress = options.ServerUrl }, options, TimeProvider.System, NullLogger.Instance);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
