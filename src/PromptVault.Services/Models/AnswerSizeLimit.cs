namespace PromptVault.Core.Models;

/// <summary>The provider's answer body grew past the model's <see cref="ModelOptions.MaxAnswerBytes"/>. Not an <see cref="IOException"/>,
/// which the OpenAI SDK's retry policy would take for a dropped connection and ask again for the same answer.</summary>
internal sealed class AnswerTooLargeException(long maxBytes, string setting)
    : Exception($"the model's answer exceeded {maxBytes} bytes ({setting})");

/// <summary>
/// The HTTP handler of a model's client: every answer body is read through a stream that fails with an
/// <see cref="AnswerTooLargeException"/> before handing out a byte past <paramref name="maxBytes"/>, so nothing buffers more.
/// An error answer's body is cut there instead: the call fails because of the provider's HTTP error, reported with the start of
/// its body, not because of the error page's size.
/// Redirects are not followed and the client sets no timeout of its own, as with the OpenAI SDK's default transport.
/// </summary>
/// <param name="setting">The configuration key of <paramref name="maxBytes"/>, which the failure names.</param>
internal sealed class AnswerSizeLimitHandler(long maxBytes, string setting) : DelegatingHandler(new SocketsHttpHandler { AllowAutoRedirect = false })
{
    public static HttpClient CreateClient(long maxBytes, string setting) =>
        new(new AnswerSizeLimitHandler(maxBytes, setting)) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = base.Send(request, cancellationToken);
        return Bounded(response, response.Content.ReadAsStream(cancellationToken));
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        return Bounded(response, await response.Content.ReadAsStreamAsync(cancellationToken));
    }

    private HttpResponseMessage Bounded(HttpResponseMessage response, Stream body)
    {
        var bounded = new StreamContent(new BoundedStream(body, maxBytes, setting, Cut: !response.IsSuccessStatusCode));
        foreach (var header in response.Content.Headers) bounded.Headers.TryAddWithoutValidation(header.Key, header.Value);
        response.Content = bounded;
        return response;
    }

    /// <summary>A read-only stream over <paramref name="inner"/> that fails when a read would go past <paramref name="maxBytes"/>,
    /// or, when <paramref name="Cut"/>, ends there.</summary>
    private sealed class BoundedStream(Stream inner, long maxBytes, string setting, bool Cut) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer[..Allowed(buffer.Length)]));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer[..Allowed(buffer.Length)], cancellationToken));

        /// <summary>Up to one byte past the limit, enough to tell an answer of exactly the limit from a longer one (none when cutting).</summary>
        private int Allowed(int wanted) => (int)Math.Min(wanted, maxBytes - _read + (Cut ? 0 : 1));

        private int Count(int read)
        {
            _read += read;
            if (_read > maxBytes) throw new AnswerTooLargeException(maxBytes, setting);
            return read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
