using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace PromptVault.Server.Api;

/// <summary>
/// A 200 JSON answer serialized straight into the response's pipe, which Kestrel sends when the request ends. The framework's
/// JSON result serializes asynchronously and flushes the pipe itself: machinery that a small answer, written whole in one go,
/// does not need. For the hot route (issue 9; docs/benchmarks.md, stop 40).
/// </summary>
internal sealed class JsonAnswer<T>(T value, JsonTypeInfo<T> typeInfo) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        using var writer = new Utf8JsonWriter(response.BodyWriter, new JsonWriterOptions { Encoder = typeInfo.Options.Encoder, SkipValidation = true });
        JsonSerializer.Serialize(writer, value, typeInfo);
        return Task.CompletedTask;
    }
}
