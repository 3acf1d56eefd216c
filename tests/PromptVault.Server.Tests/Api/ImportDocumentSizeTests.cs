using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core;
using PromptVault.Core.Registry;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>Runs alone: the process's managed memory is what it measures, and other tests' servers would add to it.</summary>
[CollectionDefinition(nameof(ImportDocumentSizeTests), DisableParallelization = true)]
public sealed class ImportDocumentSizeCollection;

/// <summary>
/// <c>POST /api/import</c> with large documents: read a row at a time (never the whole body as one buffer), within a limit of
/// its own (<c>PromptVault:Import:MaxDocumentBytes</c>) that a larger document is told by name.
/// </summary>
[Collection(nameof(ImportDocumentSizeTests))]
public sealed class ImportDocumentSizeTests
{
    private const string At = "2026-12-01T06:00:00.0000000+00:00";

    [Fact]
    public async Task Import_LargerThanOtherRequestsMayBe_IsImportedWhole()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var name = UniqueName("big");
        const int events = 40_000;
        var document = new GeneratedDocument(name, events, invalidSecondPrompt: false);
        using var content = new StreamContent(document);
        content.Headers.ContentType = new("application/json");

        var response = await client.PostAsync("/api/import?merge=true", content, TestContext.Current.CancellationToken);

        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.True(document.BytesRead > PromptVault.Server.Hosting.ServerDefaults.MaxRequestBodyBytes, $"{document.BytesRead} bytes");
        Assert.Equal(events, JsonNode.Parse(body)!["counts"]!["metricEvents"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, $"/api/prompts/{name}")).Status);
    }

    [Fact]
    public async Task Import_AnInvalidRow_IsRefusedWithoutReadingTheRest_AndWritesNothing()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        var name = UniqueName("half");
        var document = new GeneratedDocument(name, 100_000, invalidSecondPrompt: true);

        var refused = await Assert.ThrowsAsync<InvalidInputException>(() => server.Services.GetRequiredService<RegistryTransfer>()
            .ImportAsync(document, merge: true, "admin", TestContext.Current.CancellationToken));

        Assert.Equal("$.prompts[1].id", refused.Field);
        // Refused at its row: the 30 MB of events after it were never read, let alone held.
        Assert.True(document.BytesRead < 1024 * 1024, $"{document.BytesRead} bytes read");
        using var client = server.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(client, $"/api/prompts/{name}")).Status);
    }

    [Fact]
    public async Task Import_LargerThanItsConfiguredLimit_Is413NamingTheLimit_AndWritesNothing()
    {
        await using var server = await RunningServer.StartAsync(new ServerSetup(["--PromptVault:Import:MaxDocumentBytes=1048576"]),
            TestContext.Current.CancellationToken);
        // The length is sent and the body held back until the server asks for it (Expect: 100-continue): refused before it
        // reads, the server answers without the body ever being sent. A body sent while it answers could break the
        // connection before the client reads the answer.
        using var client = server.CreateAskingClient();
        var name = UniqueName("over");
        using var document = new MemoryStream();
        await new GeneratedDocument(name, 10_000, invalidSecondPrompt: false).CopyToAsync(document, TestContext.Current.CancellationToken);
        Assert.True(document.Length > 1048576, $"{document.Length} bytes");
        using var content = new ByteArrayContent(document.ToArray());
        content.Headers.ContentType = new("application/json");

        var response = await client.PostAsync("/api/import?merge=true", content, TestContext.Current.CancellationToken);

        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, body);
        var problem = JsonNode.Parse(body)!;
        Assert.Equal("payload_too_large", problem.Str("code"));
        Assert.Contains("(1 MB, PromptVault:Import:MaxDocumentBytes)", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(client, $"/api/prompts/{name}")).Status);
    }

    /// <summary>
    /// What an import holds at its peak, sampled while it runs: the rows (kept for the include checks and the one transaction)
    /// and one row's text, not the document's text besides. Measured alone: 99.7 MB above the start for a 52.8 MB document
    /// (1.9×); a reader that buffered the whole body again would hold its 53 MB on top, over the bound.
    /// </summary>
    [Fact]
    public async Task Import_PeakManagedHeap_IsTheRowsNotTheTextBesides()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        var transfer = server.Services.GetRequiredService<RegistryTransfer>();
        var document = new GeneratedDocument(UniqueName("peak"), 100_000, invalidSecondPrompt: false);
        var start = GC.GetTotalMemory(forceFullCollection: true);
        var peak = start;
        var importing = true;
        var sampler = new Thread(() =>
        {
            while (Volatile.Read(ref importing))
            {
                Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), GC.GetTotalMemory(forceFullCollection: false)));
                Thread.Yield();
            }
        });
        sampler.Start();

        await transfer.ImportAsync(document, merge: true, "admin", TestContext.Current.CancellationToken);

        Volatile.Write(ref importing, false);
        sampler.Join();
        var held = peak - start;
        Assert.True(held < document.BytesRead * 5 / 2,
            $"the import of a {document.BytesRead / 1_000_000.0:F1} MB document peaked at {held / 1_000_000.0:F1} MB of managed heap above its start");
    }

    /// <summary>The default limit is one a few-GB server can take (an import peaks near 8× the text): it was 4 GB.</summary>
    [Fact]
    public async Task Import_OverTheDefaultLimitOf256MB_Is413NamingIt_BeforeTheBodyIsSent()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var client = server.CreateAskingClient();
        // Only the length is sent: refused on it, the server never asks for the body.
        using var content = new StreamContent(new GeneratedDocument(UniqueName("default"), 1, invalidSecondPrompt: false));
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentLength = 256L * 1024 * 1024 + 1;

        var response = await client.PostAsync("/api/import?merge=true", content, TestContext.Current.CancellationToken);

        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, body);
        Assert.Contains("(256 MB, PromptVault:Import:MaxDocumentBytes)", JsonNode.Parse(body)!.Str("detail"), StringComparison.Ordinal);
    }

    /// <summary>
    /// An export document made as it is read (chunked on the wire, no length sent): a prompt with one version and
    /// <c>events</c> metric events of it; with <c>invalidSecondPrompt</c>, a second prompt whose id is a number, before the events.
    /// </summary>
    private sealed class GeneratedDocument(string name, int events, bool invalidSecondPrompt) : Stream
    {
        private readonly string _versionId = Guid.NewGuid().ToString("N");
        private readonly byte[] _tail = "]}"u8.ToArray();
        private byte[]? _head;
        private byte[] _pending = [];
        private int _pendingAt;
        private int _next = -1;

        public long BytesRead { get; private set; }

        public override long Length => throw new NotSupportedException();

        private string Head()
        {
            var promptId = Guid.NewGuid().ToString("N");
            var prompt = new
            {
                id = promptId, name, description = "", type = "system", tags = Array.Empty<string>(), category = (string?)null,
                createdAt = At, createdBy = "alice", updatedAt = At, updatedBy = "alice",
            };
            var version = new
            {
                id = _versionId, promptId, sequence = 1, major = 1, minor = 0, patch = 0, content = "Hello.", variables = Array.Empty<object>(),
                metadata = new { }, changeDescription = "Initial version", createdBy = "alice", createdAt = At, status = "draft",
            };
            var prompts = JsonSerializer.Serialize(prompt) + (invalidSecondPrompt ? ",{\"id\":5}" : "");
            return $"{{\"format\":\"promptvault-export\",\"formatVersion\":1,\"prompts\":[{prompts}],\"versions\":[{JsonSerializer.Serialize(version)}],\"metricEvents\":[";
        }

        private byte[] Event(int i) => Encoding.UTF8.GetBytes((i == 0 ? "" : ",") + JsonSerializer.Serialize(new
        {
            id = $"event-{i:D8}-{new string('x', 200)}", versionId = _versionId, experimentId = (string?)null, variantId = (string?)null,
            unitId = (string?)null, timestamp = At, latencyMs = 120.5, inputTokens = 10, outputTokens = 20, cost = 0.001, qualityScore = (double?)null,
            userFeedback = (double?)null, converted = (bool?)null, error = (string?)null, metadata = (object?)null,
        }));

        public override int Read(Span<byte> buffer)
        {
            while (_pendingAt == _pending.Length)
            {
                if (_next > events) return 0;
                _pending = _next == -1 ? _head ??= Encoding.UTF8.GetBytes(Head()) : _next < events ? Event(_next) : _tail;
                _pendingAt = 0;
                _next++;
            }
            var count = Math.Min(buffer.Length, _pending.Length - _pendingAt);
            _pending.AsSpan(_pendingAt, count).CopyTo(buffer);
            _pendingAt += count;
            BytesRead += count;
            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
