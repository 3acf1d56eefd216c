using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace PromptVault.Core.Templates;

/// <summary>
/// Collects one render's output (a chat's messages one after another) in a pooled buffer and ends the render as soon as it passes
/// <see cref="TemplateLimits.MaxOutputLength"/> or <see cref="TemplateLimits.MaxRenderTime"/>, so a small request cannot
/// make the server build an unbounded string or loop for ever (nested <c>#each</c> multiply). Not thread-safe: one
/// render, one thread.
/// </summary>
/// <remarks>
/// The clock is read once every <see cref="StepsPerClockReading"/> steps (a write, an item a loop visits or an included
/// prompt, since a body or an included prompt may write nothing), and the render's time counts from the first reading: reading it at every step cost
/// more than the rest of a typical render, and a typical render ends before its first reading. Between two readings a
/// render does a bounded amount of work (at most that many writes, each within the output limit), so it still stops
/// within microseconds of the time limit.
/// </remarks>
internal sealed class RenderOutput : IDisposable
{
    private const int StepsPerClockReading = 64;

    // Most prompts render to fewer characters: a pooled array costs the same at any size, and growing one copies what was written.
    private const int InitialLength = 4096;

    // Larger buffers are the GC's, not the shared pool's: the pool keeps arrays of each size per thread and per core, so
    // renders near the output limit on many threads left megabytes of pooled arrays behind them. A pooled buffer (at most
    // this long) and an allocated one (at most the limit long) are both filled whole.
    private const int MaxPooledLength = 64 * 1024;

    private readonly TimeProvider _time;
    private char[] _buffer;
    private int _length;
    private int _steps;
    private long _started;
    private bool _clockStarted;

    public RenderOutput(TimeProvider time)
    {
        _time = time;
        _buffer = ArrayPool<char>.Shared.Rent(InitialLength);
    }

    public void Write(string? value)
    {
        if (value is not null) Write(value.AsSpan());
    }

    public void Write(char value)
    {
        Reserve(1);
        _buffer[_length++] = value;
    }

    public void Write(ReadOnlySpan<char> value)
    {
        Reserve(value.Length);
        value.CopyTo(_buffer.AsSpan(_length));
        _length += value.Length;
    }

    /// <summary>Writes UTF-8 text (a JSON string's, read in place) without making a string of it first.</summary>
    public void WriteUtf8(ReadOnlySpan<byte> value)
    {
        // A UTF-8 text never has more UTF-16 characters than bytes; count exactly only near the limit.
        Reserve(_length + value.Length > TemplateLimits.MaxOutputLength ? Encoding.UTF8.GetCharCount(value) : value.Length);
        var destination = _buffer.AsSpan(_length);
        // Most prompt text is ASCII, which widening copies faster than the general transcoder; it stops at the first other byte.
        if (Ascii.ToUtf16(value, destination, out var written) != OperationStatus.Done)
        {
            Utf8.ToUtf16(value[written..], destination[written..], out _, out var rest);
            written += rest;
        }
        _length += written;
    }

    /// <summary>Writes a number (a long or a double) in the invariant culture without making a string of it first.</summary>
    public void Write<T>(T value) where T : ISpanFormattable
    {
        Span<char> digits = stackalloc char[32];
        value.TryFormat(digits, out var written, default, CultureInfo.InvariantCulture);
        Write(digits[..written]);
    }

    /// <summary>Counts a step that may write nothing (an item of a loop, an included prompt) towards the next reading of the clock.</summary>
    public void Step()
    {
        if (++_steps >= StepsPerClockReading) CheckTime();
    }

    /// <summary>How many characters are written.</summary>
    public int Length => _length;

    /// <summary>Trims white space from both ends of what was written from <paramref name="start"/> on (an included prompt's text).</summary>
    public void TrimFrom(int start)
    {
        var written = _buffer.AsSpan(start, _length - start);
        var trimmed = written.Trim();
        if (trimmed.Length == written.Length) return;
        trimmed.CopyTo(written);
        _length = start + trimmed.Length;
    }

    /// <summary>What was written from <paramref name="start"/> on, without surrounding white space.</summary>
    public string ToTrimmedString(int start) => new(_buffer.AsSpan(start, _length - start).Trim());

    public void Dispose()
    {
        Release(_buffer);
        _buffer = [];
    }

    private void Reserve(int count)
    {
        // Small enough to inline into each write: most writes fit the buffer and are no step to read the clock at.
        if (_length + (long)count > _buffer.Length) Grow(count);
        Step();
    }

    /// <summary>Makes room for <paramref name="count"/> more characters, or ends the render when they pass the limit.</summary>
    private void Grow(int count)
    {
        if (_length + (long)count > TemplateLimits.MaxOutputLength)
            throw new InvalidInputException("render_too_large",
                $"the rendered output would be longer than the render output size limit of {TemplateLimits.MaxOutputLength:N0} characters; send fewer or smaller values.",
                "variables");
        var length = Math.Min(Math.Max(_buffer.Length * 2, _length + count), TemplateLimits.MaxOutputLength);
        var larger = length <= MaxPooledLength ? ArrayPool<char>.Shared.Rent(length) : GC.AllocateUninitializedArray<char>(length);
        _buffer.AsSpan(0, _length).CopyTo(larger);
        Release(_buffer);
        _buffer = larger;
    }

    private static void Release(char[] buffer)
    {
        if (buffer.Length <= MaxPooledLength) ArrayPool<char>.Shared.Return(buffer);
    }

    private void CheckTime()
    {
        _steps = 0;
        if (!_clockStarted)
        {
            _started = _time.GetTimestamp();
            _clockStarted = true;
        }
        else if (_time.GetElapsedTime(_started) > TemplateLimits.MaxRenderTime)
            throw new InvalidInputException("render_timeout",
                $"the render ran longer than the render time limit of {TemplateLimits.MaxRenderTime.TotalMilliseconds:N0} ms; send fewer or smaller values.",
                "variables");
    }
}
