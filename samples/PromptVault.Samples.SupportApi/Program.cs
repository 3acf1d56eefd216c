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
var model = new OpenAIClient(new ApiKeyCredential(chatApiKey), new OpenAIClientOptions { Endpoint = new Uri(chat["Endpoint"]!) })
    .GetChatClient(chat["Model"]!)
    .AsIChatClient();
builder.Services.AddChatClient(model).UsePromptVault(o => o.PromptName = "customer-support");

var app = builder.Build();

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
    var response = await client.GetResponseAsync(question.Question, options, cancellationToken);
    return new SupportAnswer(response.Text, response.AdditionalProperties?[PromptVaultChatClient.ResolutionIdProperty] as string);
});

// "Was this helpful?" arrives later, maybe through another instance: the resolution id carries what it needs.
app.MapPost("/support/feedback", async (SupportFeedback feedback, IPromptVault vault, CancellationToken cancellationToken) =>
{
    await vault.RecordFeedbackAsync(feedback.ResolutionId, new PromptOutcome { UserFeedback = feedback.Helpful ? 1 : 0 }, cancellationToken);
    return Results.Accepted();
});

app.Run();

internal sealed record SupportQuestion(string CustomerId, string? CustomerName, string Question);

internal sealed record SupportAnswer(string Answer, string? ResolutionId);

internal sealed record SupportFeedback(string ResolutionId, bool Helpful);
