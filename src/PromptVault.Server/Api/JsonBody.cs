using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using PromptVault.Core.Contracts;

namespace PromptVault.Server.Api;

/// <summary>
/// A hot route's JSON body read into a document over the request's own buffers (or pooled ones, for a body in several
/// segments), released when it is disposed, with the refusals a body bound by the framework gets. Bound, the body's
/// values were copied into new arrays on every request: a metric batch of 500 events (about 130 KB), a render's
/// variables (a second document per render; docs/benchmarks.md).
/// </summary>
internal static class JsonBody
{
    /// <returns>The document; null when the body is not JSON, which the route answers with <see cref="UnsupportedMediaType"/>.</returns>
    /// <exception cref="InvalidInputException">No body (<see cref="ProblemExceptionHandler.MissingBody"/>).</exception>
    /// <exception cref="BadHttpRequestException">A body that is not JSON or holds invalid text: the 400 of a bound body.</exception>
    public static async ValueTask<Document?> ReadAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        // In the framework's order for a bound body: none at all, then not JSON.
        EnsurePresent(http);
        if (!http.HasJsonContentType())
            return null;
        var reader = http.BodyReader;
        var read = await reader.ReadAsync(cancellationToken);
        while (!read.IsCompleted)
        {
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End); // examined all, consumed nothing: wait for the rest
            read = await reader.ReadAsync(cancellationToken);
        }
        var body = read.Buffer;
        if (StartsWithBom(body)) body = body.Slice(Utf8Bom.Length); // the framework's reading skips it too
        JsonDocument? document = null;
        try
        {
            // A body in one segment (most) is parsed where it lies; the request's buffers are released with the document.
            document = JsonDocument.Parse(body);
            InvalidJsonTextException.ThrowIfIn(document.RootElement); // bound by the framework, the body was checked as it was read
            return new Document(document, reader, read.Buffer.End);
        }
        catch (JsonException e)
        {
            document?.Dispose();
            // The parser (no document) names only the line and byte of what it could not read; a bound body's 400 names the field.
            var located = document is null ? new JsonException(e.Message, PathOfError(body), e.LineNumber, e.BytePositionInLine, e) : e;
            reader.AdvanceTo(read.Buffer.End);
            throw Invalid(located);
        }
    }

    /// <summary>
    /// Where reading <paramref name="body"/> fails, as System.Text.Json's serializer writes a path (<c>$.events[0].latencyMs</c>):
    /// the body read again, token by token, up to the error.
    /// </summary>
    internal static string PathOfError(ReadOnlySequence<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        var open = new List<(bool Array, int Index, string? Member)>();
        try
        {
            while (reader.Read())
            {
                var token = reader.TokenType;
                if (token == JsonTokenType.PropertyName) { open[^1] = (false, 0, reader.GetString()); continue; }
                if (token is JsonTokenType.EndObject or JsonTokenType.EndArray) open.RemoveAt(open.Count - 1);
                else if (open.Count > 0 && open[^1].Array) open[^1] = (true, open[^1].Index + 1, null);
                if (token is JsonTokenType.StartObject or JsonTokenType.StartArray) open.Add((token == JsonTokenType.StartArray, -1, null));
                // A member's value is read whole: what fails after it (a trailing comma) is the object's.
                else if (open.Count > 0 && !open[^1].Array) open[^1] = (false, 0, null);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Within an array the reader failed on the element after the last it read.
            if (open.Count > 0 && open[^1].Array) open[^1] = (true, open[^1].Index + 1, null);
        }
        var path = new StringBuilder("$");
        foreach (var (array, index, member) in open)
        {
            if (array) path.Append(index >= 0 ? $"[{index}]" : "");
            else if (member is not null)
                path.Append(member.AsSpan().IndexOfAny(". '[]") < 0 ? $".{member}" : $"['{member.Replace("'", "\\'", StringComparison.Ordinal)}']");
        }
        return path.ToString();
    }

    /// <summary>Refuses a request with no body, as the framework refuses one with no body to bind (<see cref="ProblemExceptionHandler.MissingBody"/>).</summary>
    public static void EnsurePresent(HttpRequest http)
    {
        if (IsAbsent(http))
            throw ProblemExceptionHandler.MissingBody;
    }

    /// <summary>The request has no body at all (no bytes, as the framework sees it), as opposed to one that is JSON <c>null</c>.</summary>
    public static bool IsAbsent(HttpRequest http) =>
        http.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false };

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    // The body may start at the end of one of the request's buffers, so its first bytes can lie in two segments.
    internal static bool StartsWithBom(ReadOnlySequence<byte> body)
    {
        if (body.Length < Utf8Bom.Length) return false;
        Span<byte> start = stackalloc byte[3];
        body.Slice(0, start.Length).CopyTo(start);
        return start.SequenceEqual(Utf8Bom);
    }

    /// <summary>The body's document; disposing it returns its buffers and the request's.</summary>
    public sealed class Document(JsonDocument document, PipeReader reader, SequencePosition end) : IDisposable
    {
        public JsonElement RootElement => document.RootElement;

        public void Dispose()
        {
            document.Dispose();
            reader.AdvanceTo(end);
        }
    }

    /// <summary>A bare 415, as the framework answers a bound body of another media type (Problems words it).</summary>
    public static StatusCodeHttpResult UnsupportedMediaType() => TypedResults.StatusCode(StatusCodes.Status415UnsupportedMediaType);

    /// <summary><paramref name="body"/> bound to <typeparamref name="T"/> with the API's settings; a mismatch is the 400 of a bound body.</summary>
    public static T Read<T>(JsonElement body)
    {
        try
        {
            return body.Deserialize<T>(PromptVaultJson.Requests)!;
        }
        catch (JsonException e)
        {
            e.Data[ReadAs] = typeof(T);
            throw Invalid(e);
        }
    }

    /// <summary>The key of a <see cref="JsonException"/>'s data naming the type <see cref="Read{T}"/> was reading, which the 400 describes the field by.</summary>
    internal const string ReadAs = "PromptVault.ReadAs";

    // The same 400 naming the field as a body bound by the framework.
    private static BadHttpRequestException Invalid(JsonException e) => new("The request body is invalid.", StatusCodes.Status400BadRequest, e);
}
