// What a request costs on this machine before PromptVault does anything: Kestrel reads the render request's body and
// answers with a fixed reply the size of a render's (no authentication, JSON, logging or storage).
//   dotnet PromptVault.Floor.dll --urls http://127.0.0.1:PORT
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
var reply = FloorReply.Utf8();
app.MapPost("/api/prompts/{name}/render", async (HttpContext context) =>
{
    var body = context.Request.BodyReader;
    while (true)
    {
        var read = await body.ReadAsync();
        body.AdvanceTo(read.Buffer.End);
        if (read.IsCompleted) break;
    }
    context.Response.ContentType = "application/json";
    context.Response.ContentLength = reply.Length;
    await context.Response.Body.WriteAsync(reply);
});
await app.StartAsync();
Console.WriteLine("floor peer listening"); // run.sh starts the load on this line, so only once Kestrel listens
await app.WaitForShutdownAsync();

internal static class FloorReply
{
    /// <summary>About the size of PromptVault's answer to the load's render (the customer-support template, 10 messages).</summary>
    public const int Length = 950;

    public static byte[] Utf8() =>
        System.Text.Encoding.UTF8.GetBytes($$"""{"content":"{{new string('x', Length - 16)}}"}""");
}
