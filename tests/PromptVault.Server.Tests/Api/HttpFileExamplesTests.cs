using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// docs/PromptVault.http, run top to bottom on a fresh server as a reader would run it: every request answers what its
/// title says. A title starting "Fails (400 code, field f)" expects that status (one of them when it says "or"), code and
/// field; any other request a 2xx. A value the reader pastes (<c>@experiment = paste-…</c>) is taken from the answer before
/// it (its <c>key</c>, else its <c>id</c>), and <c>paste-version-id</c>/<c>paste-variant-id</c> from the last render that
/// an experiment chose.
/// </summary>
public sealed partial class HttpFileExamplesTests
{
    [Fact]
    public async Task EveryRequest_RunInOrderOnAFreshServer_AnswersAsItsTitleSays()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync(cancellationToken);
        using var client = new HttpClient();
        var values = new Dictionary<string, string> { ["base"] = server.BaseAddress.ToString().TrimEnd('/'), ["key"] = server.AdminKey };
        var pasted = new Dictionary<string, string>();
        JsonElement previous = default;
        var wrong = new List<string>();
        var sent = 0;

        foreach (var block in (await File.ReadAllTextAsync(RepositoryFiles.Docs("PromptVault.http"), cancellationToken)).Split("\n###").Skip(1))
        {
            var lines = block.Split('\n');
            var title = lines[0].Trim();
            var rest = new List<string>();
            foreach (var line in lines.Skip(1))
            {
                var definition = VariableDefinition().Match(line);
                if (definition.Success)
                {
                    var name = definition.Groups[1].Value;
                    values[name] = previous.TryGetProperty("key", out var key) ? key.GetString()! : previous.GetProperty("id").GetString()!;
                }
                else if (rest.Count > 0 || (line.Trim().Length > 0 && !line.StartsWith('#'))) rest.Add(line);
            }
            if (rest.Count == 0) continue;

            string Fill(string text)
            {
                text = Placeholder().Replace(text, m => values.TryGetValue(m.Groups[1].Value, out var value) ? value : m.Value);
                foreach (var (placeholder, value) in pasted) text = text.Replace(placeholder, value, StringComparison.Ordinal);
                return text;
            }

            var requestLine = Fill(rest[0]).Split(' ', 2);
            using var request = new HttpRequestMessage(new HttpMethod(requestLine[0]), requestLine[1].Trim());
            var contentType = "application/json";
            var index = 1;
            for (; index < rest.Count && rest[index].Trim().Length > 0; index++)
            {
                var (header, value) = (rest[index][..rest[index].IndexOf(':', StringComparison.Ordinal)].Trim(), Fill(rest[index][(rest[index].IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()));
                if (header.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) contentType = value;
                else request.Headers.TryAddWithoutValidation(header, value);
            }
            var body = string.Join('\n', rest.Skip(index)).Trim();
            if (body.Length > 0) request.Content = new StringContent(Fill(body), Encoding.UTF8, contentType);

            using var response = await client.SendAsync(request, cancellationToken);
            sent++;
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            previous = text.StartsWith('{') ? JsonDocument.Parse(text).RootElement.Clone() : default;
            if (previous.ValueKind == JsonValueKind.Object && previous.TryGetProperty("experimentId", out var experimentId) && experimentId.ValueKind == JsonValueKind.String
                && previous.TryGetProperty("variantId", out var variantId) && previous.TryGetProperty("versionId", out var versionId))
            {
                pasted["paste-version-id"] = versionId.GetString()!;
                pasted["paste-variant-id"] = variantId.GetString()!;
            }

            var failure = ExpectedFailure().Match(title);
            var status = (int)response.StatusCode;
            if (!failure.Success)
            {
                if (status is < 200 or > 299) wrong.Add($"'{title}' answered {status}, not 2xx: {text}");
                continue;
            }
            var expected = StatusAndCode().Matches(failure.Groups[1].Value).Select(m => (Status: int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Code: m.Groups[2].Value)).ToList();
            var code = previous.ValueKind == JsonValueKind.Object && previous.TryGetProperty("code", out var c) ? c.GetString() : null;
            if (!expected.Any(e => e.Status == status && (e.Code.Length == 0 || e.Code == code)))
                wrong.Add($"'{title}' answered {status} {code}: {text}");
            var field = FieldName().Match(failure.Groups[1].Value);
            if (field.Success && !(previous.TryGetProperty("field", out var f) && f.GetString() == field.Groups[1].Value))
                wrong.Add($"'{title}' named another field: {text}");
        }

        Assert.True(sent > 40, $"only {sent} requests were found in docs/PromptVault.http");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [GeneratedRegex(@"^@(\w+)\s*=\s*paste-")]
    private static partial Regex VariableDefinition();

    [GeneratedRegex(@"\{\{(\w+)\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^Fails \(([^)]*)\)")]
    private static partial Regex ExpectedFailure();

    [GeneratedRegex(@"(\d{3})(?: ([a-z_]+))?")]
    private static partial Regex StatusAndCode();

    [GeneratedRegex(@"field ""?([\w.\[\]]+)""?")]
    private static partial Regex FieldName();
}
