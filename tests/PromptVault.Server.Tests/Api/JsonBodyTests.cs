using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>The hot routes read their JSON body from the request's own buffers (JsonBody): whole, however it arrives.</summary>
public sealed class JsonBodyTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    private static byte[] RenderBody(int messages) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        version = "1.0.0",
        variables = new
        {
            company_name = "Acme",
            previous_messages = Enumerable.Range(0, messages).Select(i => new { role = i % 2 == 0 ? "user" : "assistant", content = $"Message {i} about order #{1000 + i}, é ✓." }),
        },
    });

    [Fact]
    public async Task Render_BodyArrivingInSmallPiecesOverTime_ReadWhole()
    {
        var name = await CreateSupportPromptAsync(_client);
        var body = RenderBody(300); // about 20 KB: several reads of the request's buffers

        var whole = await RenderAsync(name, new ByteArrayContent(body));
        var inPieces = await RenderAsync(name, new StreamContent(new TricklingStream(body, pieceBytes: 1000)));

        Assert.Contains("Message 299 about order #1299, é ✓.", whole, StringComparison.Ordinal);
        Assert.Equal(whole, inPieces);
    }

    [Fact]
    public async Task Render_BodyStartingWithAUtf8ByteOrderMark_ReadAsWithout()
    {
        var name = await CreateSupportPromptAsync(_client);
        var body = RenderBody(2);

        var withMark = await RenderAsync(name, new ByteArrayContent([0xEF, 0xBB, 0xBF, .. body]));

        Assert.Equal(await RenderAsync(name, new ByteArrayContent(body)), withMark);
    }

    [Theory]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, (byte)'{' }, 4, true)]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, (byte)'{' }, 1, true)]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, (byte)'{' }, 2, true)]
    [InlineData(new byte[] { 0xEF, 0xBB, (byte)'{' }, 1, false)]
    [InlineData(new byte[] { 0xEF, 0xBB }, 1, false)]
    [InlineData(new byte[] { (byte)'{', (byte)'}' }, 1, false)]
    public void StartsWithBom_MarkSplitAcrossSegments_Found(byte[] bytes, int firstSegmentBytes, bool expected)
    {
        var first = new Segment(bytes.AsMemory(0, firstSegmentBytes));
        var last = first.Append(bytes.AsMemory(firstSegmentBytes));

        Assert.Equal(expected, PromptVault.Server.Api.JsonBody.StartsWithBom(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length)));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }

    private async Task<string> RenderAsync(string name, HttpContent content)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _client.PostAsync($"/api/prompts/{name}/render", content, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text).Str("content");
    }

    /// <summary>A body of unknown length (sent chunked) that gives out a piece at a time, with a pause before each.</summary>
    private sealed class TricklingStream(byte[] bytes, int pieceBytes) : Stream
    {
        private int _position;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position == bytes.Length) return 0;
            await Task.Delay(5, cancellationToken);
            var count = Math.Min(Math.Min(pieceBytes, buffer.Length), bytes.Length - _position);
            bytes.AsMemory(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
