using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PromptVault.Server.Tests;

namespace PromptVault.Client.Tests;

/// <summary>
/// Every ```csharp block of the READMEs and docs/*.md (<see cref="RepositoryFiles.MarkdownDocuments"/>) compiles, as a user would paste it
/// into a project with the SDK's implicit usings (System, System.Collections.Generic, System.IO, System.Linq,
/// System.Net.Http, System.Threading, System.Threading.Tasks) and nullable on. A block is top-level code: its own
/// <c>using</c> lines first, then statements, which become the body of an async method. The variables a block assumes
/// (an app's <c>builder</c>, a resolved <c>vault</c>) are declared on the line just before its fence, as that method's
/// parameters, with full type names:
/// <code>&lt;!-- compile: PromptVault.Client.IPromptVault vault, string userId --&gt;</code>
/// A block that is a fragment by design is marked <c>&lt;!-- compile: skip, REASON --&gt;</c>. Failures name the doc file
/// and line (through #line) with the compiler's messages.
/// </summary>
public sealed partial class DocsSnippetsTests
{
    private static readonly string[] ImplicitUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    [Fact]
    public void EveryCSharpBlockInTheDocs_Compiles()
    {
        var root = RepositoryFiles.Root;
        var blocks = RepositoryFiles.MarkdownDocuments.SelectMany(document => Blocks(Path.GetRelativePath(root, document), File.ReadAllText(document))).ToList();
        var problems = blocks.Where(b => b.Skip && b.Context.Length == 0)
            .Select(b => $"{b.File}({b.Line}): 'compile: skip' needs a reason after a comma").ToList();

        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = blocks.Where(b => !b.Skip).Select(b => CSharpSyntaxTree.ParseText(Wrap(b, parse), parse, path: b.File, cancellationToken: TestContext.Current.CancellationToken)).ToList();
        trees.Add(CSharpSyntaxTree.ParseText(string.Concat(ImplicitUsings.Select(u => $"global using {u};\n")), parse, cancellationToken: TestContext.Current.CancellationToken));
        var compilation = CSharpCompilation.Create("DocsSnippets", trees, References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable,
                // The wrapper's async method may not await (a block that only declares a function); a local function is not called.
                specificDiagnosticOptions: new Dictionary<string, ReportDiagnostic> { ["CS1998"] = ReportDiagnostic.Suppress, ["CS8321"] = ReportDiagnostic.Suppress }));
        problems.AddRange(compilation.GetDiagnostics(TestContext.Current.CancellationToken)
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .Select(d => d.ToString()));

        Assert.True(trees.Count > 6, $"only {trees.Count - 1} C# blocks were found in the docs");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private sealed record Block(string File, int Line, string Code, bool Skip, string Context);

    /// <summary>The ```csharp blocks of a Markdown document, with the line of their first code line.</summary>
    private static IEnumerable<Block> Blocks(string file, string markdown)
    {
        var lines = markdown.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimEnd() != "```csharp") continue;
            var end = Array.FindIndex(lines, i + 1, l => l.TrimEnd() == "```");
            if (end < 0) throw new InvalidDataException($"{file}({i + 1}): the ```csharp block is not closed");
            var marker = i > 0 ? Marker().Match(lines[i - 1]) : Match.Empty;
            var context = marker.Success ? marker.Groups[1].Value.Trim() : "";
            var skip = context.StartsWith("skip", StringComparison.Ordinal);
            yield return new Block(file, i + 2, string.Join('\n', lines[(i + 1)..end]), skip,
                skip ? context["skip".Length..].TrimStart(',', ' ') : context);
            i = end;
        }
    }

    /// <summary>The block as a file: its using lines, then its statements in an async method whose parameters are its context.</summary>
    private static string Wrap(Block block, CSharpParseOptions parse)
    {
        var usings = ((CompilationUnitSyntax)CSharpSyntaxTree.ParseText(block.Code, parse, cancellationToken: TestContext.Current.CancellationToken).GetRoot()).Usings;
        var split = usings.Count == 0 ? 0 : usings[^1].FullSpan.End;
        var bodyLine = block.Line + block.Code[..split].Count(c => c == '\n');
        return new StringBuilder()
            .Append($"#line {block.Line} \"{block.File}\"\n").Append(block.Code[..split])
            .Append("#line default\nfile static class Snippet\n{\n")
            .Append($"    public static async System.Threading.Tasks.Task Run({block.Context})\n    {{\n")
            .Append($"#line {bodyLine} \"{block.File}\"\n").Append(block.Code[split..])
            .Append("\n#line default\n    }\n}\n")
            .ToString();
    }

    /// <summary>What a user of the SDK compiles against: the runtime, ASP.NET Core and the SDK's dependencies, not the server.</summary>
    private static readonly Lazy<MetadataReference[]> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(path => !Path.GetFileName(path).StartsWith("PromptVault.", StringComparison.Ordinal)
                           || Path.GetFileName(path) is "PromptVault.Client.dll" or "PromptVault.Core.dll")
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path)).ToArray());

    [GeneratedRegex(@"^\s*<!--\s*compile:(.*?)-->\s*$")]
    private static partial Regex Marker();
}
