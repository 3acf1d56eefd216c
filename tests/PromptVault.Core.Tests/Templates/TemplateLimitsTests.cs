using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Templates;

/// <summary>The limits of <see cref="TemplateLimits"/>: refused when passed, by name, and not one step earlier.</summary>
public sealed class TemplateLimitsTests
{
    private static readonly VariableDefinition[] Variables =
        [new("x"), new("a", VariableType.Boolean), new("items", VariableType.Array)];

    private static string Repeat(string text, int count) => string.Concat(Enumerable.Repeat(text, count));

    private static string Nested(string open, string close, int depth) => Repeat(open, depth) + "x" + Repeat(close, depth);

    /// <summary>Each template nests exactly <c>depth</c> levels, the way Handlebars.Net's compiler will.</summary>
    public static TheoryData<string, Func<int, string>> NestingShapes => new()
    {
        { "#if", depth => Nested("{{#if a}}", "{{/if}}", depth) },
        { "#each", depth => Nested("{{#each items}}", "{{/each}}", depth) },
        { "#with", depth => Nested("{{#with items}}", "{{/with}}", depth) },
        { "section", depth => Nested("{{#items}}", "{{/items}}", depth) },
        { "inverted section", depth => Nested("{{^items}}", "{{/items}}", depth) },
        { "else if chain", depth => "{{#if a}}" + Repeat("{{else if a}}", depth - 1) + "{{/if}}" },
        { "sub-expressions", depth => "{{#if " + Repeat("(lookup ", depth) + "items" + Repeat(" 0)", depth) + "}}x{{/if}}" },
        { "mixed", depth => Nested("{{#if a}}{{#each items}}", "{{/each}}{{/if}}", depth / 2) },
    };

    [Theory]
    [MemberData(nameof(NestingShapes))]
    public void Validate_NestingAtTheLimit_Accepted(string shape, Func<int, string> template)
    {
        var error = Record.Exception(() => new TemplateEngine().Validate(template(TemplateLimits.MaxNestingDepth), Variables));

        Assert.True(error is null, $"{shape}: {error?.Message}");
    }

    [Theory]
    [MemberData(nameof(NestingShapes))]
    public void Validate_NestingOneDeeper_RefusedNamingTheLimit(string shape, Func<int, string> template)
    {
        var error = Assert.Throws<InvalidInputException>(() => new TemplateEngine().Validate(template(TemplateLimits.MaxNestingDepth + 2), Variables));

        Assert.True(("template_too_deep", "content") == (error.Code, error.Field), shape);
        Assert.Contains($"nesting depth limit is {TemplateLimits.MaxNestingDepth}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SiblingBlocks_DoNotAddUp()
    {
        var content = Repeat("{{#each items}}{{#if a}}x{{/if}}{{/each}}", 200);

        Assert.Null(Record.Exception(() => new TemplateEngine().Validate(content, Variables)));
    }

    [Fact]
    public void Validate_ParenthesesInAStringLiteral_AreNotNesting()
    {
        var content = "{{#if (lookup items \"" + new string('(', 100) + "\")}}x{{/if}}";

        Assert.Null(Record.Exception(() => new TemplateEngine().Validate(content, Variables)));
    }

    [Fact]
    public void Validate_TagsAtTheLimit_Accepted() =>
        Assert.Null(Record.Exception(() => new TemplateEngine().Validate(Repeat("{{x}}", TemplateLimits.MaxTags), Variables)));

    [Fact]
    public void Validate_OneTagTooMany_RefusedNamingTheLimit()
    {
        var error = Assert.Throws<InvalidInputException>(() => new TemplateEngine().Validate(Repeat("{{x}}", TemplateLimits.MaxTags + 1), Variables));

        Assert.Equal(("template_too_large", "content"), (error.Code, error.Field));
        Assert.Contains($"the limit is {TemplateLimits.MaxTags:N0} tags", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OneCharacterTooLong_RefusedNamingTheLimit()
    {
        var error = Assert.Throws<InvalidInputException>(() => new TemplateEngine().Validate(new string('x', TemplateLimits.MaxSize + 1), Variables));

        Assert.Equal(("template_too_large", "content"), (error.Code, error.Field));
        Assert.Contains("template size limit (after partials)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Hello {{")]
    [InlineData("Hello {{x")]
    [InlineData("Hello {{{x}}")]
    [InlineData("Hello {{!-- note")]
    public void Validate_UnclosedTag_RefusedAsInvalidTemplate(string content)
    {
        var error = Assert.Throws<InvalidInputException>(() => new TemplateEngine().Validate(content, Variables));

        Assert.Equal(("invalid_template", "content"), (error.Code, error.Field));
        Assert.Contains("never closed", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Five nested loops over the same array: 20 items of 10 characters would write 32,000,000 characters.</summary>
    private const string FiveLoops =
        "{{#each items}}{{#each @root.items}}{{#each @root.items}}{{#each @root.items}}{{#each @root.items}}{{this}}{{/each}}{{/each}}{{/each}}{{/each}}{{/each}}";

    private static IReadOnlyDictionary<string, JsonElement> Items(int count, string item) =>
        Inputs(("items", JsonSerializer.Serialize(Enumerable.Repeat(item, count))));

    [Fact]
    public void Render_OutputPastTheLimit_RefusedNamingTheLimit()
    {
        // A clock that stands still: on a loaded machine the real one can pass the time limit first.
        var prompt = new TemplateEngine(new FakeTimeProvider()).For(Version("v1", FiveLoops, Variables));

        var error = Assert.Throws<InvalidInputException>(() => prompt.Render(Items(20, "0123456789")));

        Assert.Equal(("render_too_large", "variables"), (error.Code, error.Field));
        Assert.Contains($"render output size limit of {TemplateLimits.MaxOutputLength:N0} characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_OutputAtTheLimit_Rendered()
    {
        // 10^5 iterations of 10 characters: exactly the limit.
        var prompt = new TemplateEngine(new FakeTimeProvider()).For(Version("v1", FiveLoops, Variables));

        var output = prompt.Render(Items(10, "0123456789"));

        Assert.Equal(TemplateLimits.MaxOutputLength, output.Length);
    }

    [Fact]
    public void Render_OutputOneCharacterPastTheLimit_Refused()
    {
        // The last growth stops at the limit, so the character after it has no room.
        var prompt = new TemplateEngine(new FakeTimeProvider()).For(Version("v1", FiveLoops + "!", Variables));

        var error = Assert.Throws<InvalidInputException>(() => prompt.Render(Items(10, "0123456789")));

        Assert.Equal(("render_too_large", "variables"), (error.Code, error.Field));
    }

    [Fact]
    public void Render_LongOutput_ReturnsNoLargeBufferToTheSharedPool()
    {
        // The shared pool keeps what it is given per thread and per core: 8 renders near the output limit, each growing
        // its buffer to 2 MB through every size below, once left tens of megabytes in it (RenderMemoryTests).
        var prompt = new TemplateEngine(new FakeTimeProvider()).For(Version("v1", "{{x}}{{x}}", Variables));
        var inputs = Inputs(("x", JsonSerializer.Serialize(new string('x', 100_000))));
        using var pool = new SharedPoolEvents(); // after the inputs, whose serializing rents large byte arrays

        var output = prompt.Render(inputs);

        Assert.Equal(200_000, output.Length);
        Assert.Contains(pool.Rented, size => size <= 64 * 1024); // the render's first buffer, so the listener hears this thread
        Assert.DoesNotContain(pool.Returned, size => size > 64 * 1024);
    }

    /// <summary>The sizes of the arrays this thread rents from and returns to the shared pools, from their event source.</summary>
    private sealed class SharedPoolEvents : System.Diagnostics.Tracing.EventListener
    {
        private readonly int _thread = Environment.CurrentManagedThreadId;

        public List<int> Rented { get; } = [];

        public List<int> Returned { get; } = [];

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            if (source.Name == "System.Buffers.ArrayPoolEventSource")
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose);
        }

        // Called on the thread that rents or returns.
        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            if (Environment.CurrentManagedThreadId != _thread || e.Payload is null) return;
            var size = (int)e.Payload[e.PayloadNames!.IndexOf("bufferSize")]!;
            if (e.EventName == "BufferRented") Rented.Add(size);
            else if (e.EventName == "BufferReturned") Returned.Add(size);
        }
    }

    [Fact]
    public void Render_LoopsThatWriteNothing_StopAtTheTimeLimit()
    {
        // Every reading of the clock moves it on 1 ms, so the limit is passed after a known number of #each items.
        var time = new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };
        var empty = FiveLoops.Replace("{{this}}", "", StringComparison.Ordinal);
        var prompt = new TemplateEngine(time).For(Version("v1", empty, Variables));

        var error = Assert.Throws<InvalidInputException>(() => prompt.Render(Items(100, "x")));

        Assert.Equal(("render_timeout", "variables"), (error.Code, error.Field));
        Assert.Contains($"render time limit of {TemplateLimits.MaxRenderTime.TotalMilliseconds:N0} ms", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_IncludeFanOutThatWritesNothing_StopsAtTheTimeLimit()
    {
        // p0 includes p1 10 times, p1 includes p2 10 times, p2 p3, and p3 writes nothing: 1,110 included renders, no write,
        // no loop. Every reading of the clock moves it on 1 s, so a second reading passes the limit.
        var time = new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromSeconds(1) };
        var engine = new TemplateEngine(time);
        var compiled = new Dictionary<string, CompiledPrompt>();
        for (var level = 3; level >= 0; level--)
            compiled[$"p{level}"] = engine.CompileDraft(level == 3 ? "{{! nothing }}" : Repeat($"{{{{> p{level + 1}}}}}", 10), []);
        var includes = PromptIncludes.Resolve("p0", compiled["p0"].References,
            r => new IncludedPrompt(new ReferencedVersion(r.Name, "1.0.0", "id-" + r.Name), compiled[r.Name]));

        var error = Assert.Throws<InvalidInputException>(() => compiled["p0"].Render(null, includes));

        Assert.Equal(("render_timeout", "variables"), (error.Code, error.Field));
    }

    [Fact]
    public void Render_AfterARefusedRender_NextRenderOnTheThreadIsUnaffected()
    {
        var time = new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };
        var engine = new TemplateEngine(time);
        var empty = FiveLoops.Replace("{{this}}", "", StringComparison.Ordinal);
        Assert.Throws<InvalidInputException>(() => engine.For(Version("v1", empty, Variables)).Render(Items(100, "x")));

        var output = engine.For(Version("v2", "{{#each items}}{{this}}{{/each}}", Variables)).Render(Items(3, "ab"));

        Assert.Equal("ababab", output);
    }
}
