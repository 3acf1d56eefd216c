using System.Text.Json;
using System.Text.RegularExpressions;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// Every API route the docs write as a method and a path (<c>GET /api/prompts/{name}</c>, or a request line of
/// docs/PromptVault.http) is an operation of docs/openapi.json with that method, a <c>{parameter}</c> of the document matching
/// any one segment (OpenApiDocumentTests ties the document to the running server).
/// </summary>
public sealed partial class DocsRoutesTests
{
    /// <summary>Written in docs/benchmarks.md as the route that does not exist, to measure a 404.</summary>
    private static readonly string[] AbsentOnPurpose = ["GET /api/none"];

    [Fact]
    public void EveryRouteTheDocsName_IsAnOperationOfTheOpenApiDocument()
    {
        using var openApi = JsonDocument.Parse(File.ReadAllText(RepositoryFiles.Docs("openapi.json")));
        var operations = openApi.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(method => (Method: method.Name.ToUpperInvariant(), Segments: path.Name.Split('/'))))
            .ToList();
        var wrong = new List<string>();
        var found = 0;

        foreach (var document in RepositoryFiles.MarkdownDocuments.Append(RepositoryFiles.Docs("PromptVault.http")))
        foreach (Match route in Route().Matches(File.ReadAllText(document)))
        {
            var (method, segments) = (route.Groups["method"].Value, route.Groups["path"].Value.TrimEnd('.').Split('/'));
            found++;
            if (AbsentOnPurpose.Contains($"{method} {string.Join('/', segments)}")) continue;
            if (!operations.Any(o => o.Method == method && o.Segments.Length == segments.Length
                    && o.Segments.Zip(segments).All(s => s.First == s.Second || (s.First.StartsWith('{') && s.Second.Length > 0))))
                wrong.Add($"{Path.GetRelativePath(RepositoryFiles.Root, document)}: {method} {string.Join('/', segments)}");
        }

        Assert.True(found > 100, $"only {found} routes were found in the docs");
        Assert.True(wrong.Count == 0, $"routes the docs name that docs/openapi.json has not (with that method):\n{string.Join("\n", wrong)}");
    }

    [GeneratedRegex(@"\b(?<method>GET|POST|PUT|PATCH|DELETE) +(?:\{\{\w+\}\})?(?<path>/api(?:/[\w{}.%-]+)+)")]
    private static partial Regex Route();
}
