using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;
using PromptVault.Client;
using PromptVault.Client.Chat;

// A support-question API: each answer comes from the model with the prompt PromptVault serves the customer (the
// production version, or their variant of a running experiment), and every call is measured for that version.
var builder = WebApplication.CreateBuilder(args);

builder.Services.AddPromptVault(); // settings from the "PromptVault" section of appsettings.json
var chat = builder.Configuration.GetSection("Chat");
// A local Ollama takes any key, but the OpenAI client refuses an empty one, as appsettings.json leaves it.
var chatApiKey = string.IsNullOrEmpty(chat["ApiKey"]) ? "none" : chat["ApiKey"]!;
var modelEndpoint = new Uri(chat["Endpoint"]!);
var model = new OpenAIClient(new ApiKeyCredential(chatApiKey), new OpenAIClientOptions { Endpoint = modelEndpoint })
    .GetChatClient(chat["Model"]!)
    .AsIChatClient();
builder.Services.AddChatClient(model).UsePromptVault(o => o.PromptName = "customer-support");
builder.Services.AddProblemDetails(); // errors are answered as application/problem+json

var app = builder.Build();
app.UseExceptionHandler();

app.MapHealthChecks("/health");

app.MapPost("/support", async (SupportQuestion question, IChatClient client, CancellationToken cancellationToken) =>
{
    var options = new ChatOptions
    {
        AdditionalProperties = new()
        {
            [PromptVaultChatClient.UnitIdProperty] = question.CustomerId,
            [PromptVaultChatClient.VariablesProperty] = new Dictionary<string, object?>
            {
                ["company_name"] = "Acme",
                ["customer_name"] = question.CustomerName,
            },
        },
    };
    try
    {
        var response = await client.GetResponseAsync(question.Question, options, cancellationToken);
        return Results.Ok(new SupportAnswer(response.Text, response.AdditionalProperties?[PromptVaultChatClient.ResolutionIdProperty] as string));
    }
    catch (Exception e) when (Unreached(e) is { } reason)
    {
        return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The model could not be reached",
            detail: $"The model at {modelEndpoint} could not be reached ({reason}). Start it (by default a local Ollama), or set " +
                "Chat:Endpoint, Chat:Model and Chat:ApiKey to an OpenAI-compatible endpoint in appsettings.json or on the command line.");
    }

    // Why no attempt got an answer at all (nothing listens there, or the connection failed); null if one did. After its
    // retries the OpenAI client throws every attempt's failure together.
    static string? Unreached(Exception e) => e switch
    {
        ClientResultException { Status: 0 } => e.Message,
        AggregateException all when all.InnerExceptions.All(attempt => Unreached(attempt) is not null) => Unreached(all.InnerExceptions[^1]),
        _ => null,
    };
});

// "Was this helpful?" arrives later, maybe through another instance: the resolution id carries what it needs.
app.MapPost("/support/feedback", async (SupportFeedback feedback, IPromptVault vault, CancellationToken cancellationToken) =>
{
    try
    {
        await vault.RecordFeedbackAsync(feedback.ResolutionId, new PromptOutcome { UserFeedback = feedback.Helpful ? 1 : 0 }, cancellationToken);
    }
    catch (ArgumentException e) // not an id a /support answer gave out; the SDK's message says what is wrong with it
    {
        return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a resolution id", detail: e.Message);
    }
    return Results.Accepted();
});

app.Run();

internal sealed record SupportQuestion(string CustomerId, string? CustomerName, string Question);

internal sealed record SupportAnswer(string Answer, string? ResolutionId);

internal sealed record SupportFeedback(string ResolutionId, bool Helpful);
