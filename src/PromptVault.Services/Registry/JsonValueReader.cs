using System.Text.Json;

namespace PromptVault.Core.Registry;

/// <summary>
/// Reads a JSON document from a stream token by token, or a whole value (a row) at a time, holding only the text not yet
/// read and at most one value: a document of any size is never one buffer. It checks the document as
/// <see cref="JsonDocument"/> does (one value, no comments or trailing commas, a UTF-8 byte order mark skipped).
/// </summary>
internal sealed class JsonValueReader(Stream stream)
{
    private static ReadOnlySpan<byte> ByteOrderMark => [0xEF, 0xBB, 0xBF];

    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private bool _final;
    private bool _started;
    private JsonReaderState _state;

    /// <summary>The name read by the last <see cref="ReadAsync"/> that returned <see cref="JsonTokenType.PropertyName"/>.</summary>
    public string? PropertyName { get; private set; }

    /// <summary>The next token (its value not read further); <see cref="JsonTokenType.None"/> after the document's end.</summary>
    /// <exception cref="JsonException">The text is not valid JSON, or ends early.</exception>
    public async ValueTask<JsonTokenType> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryRead(out var token)) return token;
            await FillAsync(cancellationToken);
        }
    }

    /// <summary>The next value, whole; null when the next token ends the array or object being read (that token is read).</summary>
    /// <exception cref="JsonException">The text is not valid JSON, or ends early.</exception>
    public async ValueTask<JsonDocument?> ReadValueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryReadValue(out var value)) return value;
            await FillAsync(cancellationToken);
        }
    }

    private bool TryRead(out JsonTokenType token)
    {
        token = JsonTokenType.None;
        if (!_started) return false;
        var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _final, _state);
        if (!reader.Read()) return _final;
        PropertyName = reader.TokenType == JsonTokenType.PropertyName ? reader.GetString() : null;
        token = reader.TokenType;
        Consumed(ref reader);
        return true;
    }

    private bool TryReadValue(out JsonDocument? value)
    {
        value = null;
        if (!_started) return false;
        var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _final, _state);
        if (!reader.Read()) return _final ? throw new JsonException("The document ends where a value was expected.") : false;
        if (reader.TokenType is not (JsonTokenType.EndArray or JsonTokenType.EndObject) && !JsonDocument.TryParseValue(ref reader, out value))
            return false;
        Consumed(ref reader);
        return true;
    }

    private void Consumed(ref Utf8JsonReader reader)
    {
        _start += (int)reader.BytesConsumed;
        _state = reader.CurrentState;
    }

    /// <summary>Reads more of the stream after what is left, growing the buffer when what is left fills half of it (one large row).</summary>
    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        var left = _end - _start;
        if (left > _buffer.Length / 2)
        {
            var larger = new byte[_buffer.Length * 2];
            _buffer.AsSpan(_start, left).CopyTo(larger);
            _buffer = larger;
        }
        else
        {
            _buffer.AsSpan(_start, left).CopyTo(_buffer);
        }
        _start = 0;
        _end = left;
        var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        _final = read == 0;
        if (!_started && (_end >= ByteOrderMark.Length || _final))
        {
            _started = true;
            if (_buffer.AsSpan(0, _end).StartsWith(ByteOrderMark)) _start = ByteOrderMark.Length;
        }
    }
}
