using System.Globalization;
using System.Text;

namespace PromptVault.Core.Templates;

/// <summary>
/// Collects one render's output and ends the render as soon as it passes <see cref="TemplateLimits.MaxOutputLength"/>
/// or <see cref="TemplateLimits.MaxRenderTime"/>, so a small request cannot make the server build an unbounded string
/// or loop for ever (nested <c>#each</c> multiply). Time is checked at every write and, through <see cref="CheckTime"/>,
/// at every item an <c>#each</c> visits, since a body may write nothing. Not thread-safe: one render, one thread.
/// </summary>
internal sealed class RenderOutput : StringWriter
{
    // Handlebars.Net hands iterators its own writer, not this one, so the render on this thread is found here.
    [ThreadStatic] private static RenderOutput? t_current;

    private readonly RenderOutput? _outer;
    private readonly TimeProvider _time;
    private readonly long _started;

    public RenderOutput(TimeProvider time) : base(CultureInfo.InvariantCulture)
    {
        _time = time;
        _started = time.GetTimestamp();
        _outer = t_current;
        t_current = this;
    }

    /// <summary>Ends the render running on this thread, if any, once it has run out of time.</summary>
    public static void CheckTime() => t_current?.CheckDeadline();

    public override void Write(char value)
    {
        Adding(1);
        base.Write(value);
    }

    public override void Write(char[] buffer, int index, int count)
    {
        Adding(count);
        base.Write(buffer, index, count);
    }

    public override void Write(ReadOnlySpan<char> buffer)
    {
        Adding(buffer.Length);
        base.Write(buffer);
    }

    public override void Write(string? value)
    {
        Adding(value?.Length ?? 0);
        base.Write(value);
    }

    public override void Write(StringBuilder? value)
    {
        Adding(value?.Length ?? 0);
        base.Write(value);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && t_current == this) t_current = _outer;
        base.Dispose(disposing);
    }

    private void Adding(int count)
    {
        if (GetStringBuilder().Length + (long)count > TemplateLimits.MaxOutputLength)
            throw new InvalidInputException("render_too_large",
                $"the rendered output would be longer than the render output size limit of {TemplateLimits.MaxOutputLength:N0} characters; send fewer or smaller values.",
                "variables");
        CheckDeadline();
    }

    private void CheckDeadline()
    {
        if (_time.GetElapsedTime(_started) > TemplateLimits.MaxRenderTime)
            throw new InvalidInputException("render_timeout",
                $"the render ran longer than the render time limit of {TemplateLimits.MaxRenderTime.TotalMilliseconds:N0} ms; send fewer or smaller values.",
                "variables");
    }
}
