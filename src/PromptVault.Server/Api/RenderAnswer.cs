using PromptVault.Core.Contracts;

namespace PromptVault.Server.Api;

/// <summary>
/// A render's 200 answer, written by the source generator's fast path straight into the response's pipe
/// (<see cref="PromptVaultJson.WriteRenderResponse"/>), which Kestrel sends as the request ends. The framework's JSON result
/// takes its encoder from the serializer's options, which turns the fast path off, and serializes asynchronously with flushes
/// of its own (docs/benchmarks.md, stop 41). The answer is held whole until then; the render already holds its text whole,
/// and the framework's writer holds a string value whole too.
/// </summary>
internal sealed class RenderAnswer(RenderResponse rendered) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        PromptVaultJson.WriteRenderResponse(response.BodyWriter, rendered);
        return Task.CompletedTask;
    }
}
