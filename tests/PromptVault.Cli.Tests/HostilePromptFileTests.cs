namespace PromptVault.Cli.Tests;

/// <summary>
/// Front matter built to hurt the reader: each is refused naming the file, the line and the problem, before any server is asked
/// (none is given here), where it crashed with a stack trace, overflowed the stack or ran out of memory.
/// </summary>
public sealed class HostilePromptFileTests
{
    /// <summary>Anchors of anchors: ten levels of ten copies is 10^10 values once expanded.</summary>
    private static string AliasBomb()
    {
        var lines = new List<string> { "---", "name: bomb", "metadata:", "  responseFormat:", "    a0: &a0 [x, x, x, x, x, x, x, x, x, x]" };
        for (var i = 1; i < 10; i++)
            lines.Add($"    a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]");
        lines.AddRange(["---", "hi"]);
        return string.Join('\n', lines);
    }

    public static TheoryData<string, string, string> Files => new()
    {
        { "alias bomb", AliasBomb(), "p.md: the front matter (line 5): the value expands to more than 8 MB (aliases repeating aliases?)." },
        { "alias inside its anchor", "---\nname: p\nmetadata:\n  responseFormat: &a [*a]\n---\nhi", "p.md: the front matter (line 4): the value nests deeper than 64 levels (an alias inside its own anchor?)." },
        { "nesting deeper than JSON reads", $"---\nname: p\nmetadata:\n  responseFormat: {new string('[', 70)}{new string(']', 70)}\n---\nhi",
            "p.md: the front matter is not valid YAML (line 4): lists and mappings nest deeper than 64 levels." },
        { "nesting deep enough to overflow the stack", $"---\nname: p\nvariables: {new string('[', 100_000)}{new string(']', 100_000)}\n---\nhi",
            "p.md: the front matter is not valid YAML (line 3): lists and mappings nest deeper than 64 levels." },
        { "a list as a key", "---\nname: p\nmetadata:\n  responseFormat:\n    ? [a]\n    : b\n---\nhi", "p.md: the front matter (line 5): mapping keys must be plain text." },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Push_HostileFrontMatter_ExitsOneNamingTheFileLineAndProblem(string what, string text, string expected)
    {
        using var folder = new TempFolder();
        var path = folder.Write("p.md", text);

        var result = await Cli.RunAsync(Cli.NoEnvironment, "push", path);

        Assert.True(result.ExitCode == 1, $"{what}: {result}");
        Assert.Equal("", result.Out);
        Assert.Equal($"error: {path[..^"p.md".Length]}{expected}\n", result.Error.ReplaceLineEndings("\n"));
    }

    /// <summary>A symlink loop exists to File.Exists but cannot be opened: push and import crashed with a stack trace.</summary>
    [Theory]
    [InlineData("push")]
    [InlineData("import")]
    public async Task ReadingASymlinkLoop_ExitsOneNamingTheFile(string command)
    {
        using var folder = new TempFolder();
        var path = folder.File("loop.md");
        File.CreateSymbolicLink(path, path);

        var result = await Cli.RunAsync(Cli.NoEnvironment, command, path);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.StartsWith($"error: {path}: cannot be read: ", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    /// <summary>Bytes that are not UTF-8 were read as U+FFFD and pushed: the stored description and template differed from the file.</summary>
    [Fact]
    public async Task Push_FileThatIsNotUtf8_ExitsOneNamingTheFileAndTheBytes()
    {
        using var folder = new TempFolder();
        var path = folder.File("p.md");
        File.WriteAllBytes(path, [.. "---\nname: p\ndescription: caf"u8, 0xE9, .. "\n---\nhi\n"u8]);

        var result = await Cli.RunAsync(Cli.NoEnvironment, "push", path);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal($"error: {path}: is not UTF-8 text: it holds the byte(s) E9, which UTF-8 does not use; save the file as UTF-8.\n", result.Error.ReplaceLineEndings("\n"));
    }

    /// <summary>
    /// A pipe (`push <(…)`, `render --vars <(…)`, a FIFO) has no length: reading the file whole by its length failed with
    /// "Stream does not support seeking" and a stack trace.
    /// </summary>
    [Fact]
    public async Task ReadAllTextAsync_APipe_ReadsWhatIsWrittenToIt()
    {
        const string text = "---\nname: piped\n---\nHello {{name}}.\n";
        using var folder = new TempFolder();
        var path = folder.File("fifo.md");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path])) await mkfifo.WaitForExitAsync(TestContext.Current.CancellationToken);
        var writer = Task.Run(() => File.WriteAllText(path, text), TestContext.Current.CancellationToken);

        var read = await CliException.ReadAllTextAsync(path, TestContext.Current.CancellationToken);

        await writer;
        Assert.Equal(text, read);
    }

    /// <summary>A byte order mark names the encoding (UTF-8's is dropped, UTF-16's is decoded by): the text reads the same as plain UTF-8.</summary>
    [Theory]
    [InlineData("utf-8 bom")]
    [InlineData("utf-16le")]
    [InlineData("utf-16be")]
    public async Task ReadAllTextAsync_ByteOrderMark_ReadsTheSameText(string encoding)
    {
        const string text = "---\nname: caf\u00e9\n---\nHello {{name}}.\n";
        using var folder = new TempFolder();
        var path = folder.File("p.md");
        File.WriteAllBytes(path, encoding switch
        {
            "utf-8 bom" => [.. System.Text.Encoding.UTF8.Preamble, .. System.Text.Encoding.UTF8.GetBytes(text)],
            "utf-16le" => [.. System.Text.Encoding.Unicode.Preamble, .. System.Text.Encoding.Unicode.GetBytes(text)],
            _ => [.. System.Text.Encoding.BigEndianUnicode.Preamble, .. System.Text.Encoding.BigEndianUnicode.GetBytes(text)],
        });

        Assert.Equal(text, await CliException.ReadAllTextAsync(path, TestContext.Current.CancellationToken));
    }
}
