using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenAI;
using PromptVault.Core;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Models;

/// <summary>A configured model: its name under <c>PromptVault:Models</c>, the model id used when a version names none, and its client.</summary>
public sealed record ConfiguredModel(string Name, string DefaultModelId, IChatClient Client);

/// <summary>
/// The models configured under <see cref="ModelOptions.SectionName"/>, each an <see cref="IChatClient"/> registered in DI under its
/// name (a keyed service) by <c>AddPromptVaultModels</c>. Thread-safe.
/// </summary>
public sealed class ModelCatalog
{
    private readonly IServiceProvider _services;

    internal ModelCatalog(IReadOnlyList<string> names, IServiceProvider services)
    {
        Names = names;
        _services = services;
    }

    /// <summary>The configured models' names, in configuration order; empty when none is configured.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>What an operator does when no model is configured, for every message that says so.</summary>
    public const string HowToConfigure = $"set {ModelOptions.SectionName}:{ModelDefaults.DefaultName}:Endpoint and :Model (an OpenAI-compatible endpoint) in the server's configuration";

    /// <summary>The model named <paramref name="name"/>; when it is null, the one named <c>default</c>, else the first.</summary>
    /// <exception cref="InvalidInputException"><paramref name="name"/> is blank or too long, or no model of that name is configured.</exception>
    /// <exception cref="NotConfiguredException">No model is configured: the server's configuration lacks one, whatever the caller names.</exception>
    public ConfiguredModel Require(string? name)
    {
        if (name is not null && string.IsNullOrWhiteSpace(name))
            throw new InvalidInputException("blank_field", Names.Count == 0
                ? "model is blank; leave it out: no model is configured."
                : $"model is blank; leave it out for the default model, or name one of {string.Join(", ", Names)}.", "model");
        // The caller's mistake is named whatever the configuration, before a 503 says the server has no model.
        PromptRules.ValidateLength(name, ModelDefaults.MaxNameLength, "model");
        if (Names.Count == 0)
            throw new NotConfiguredException("model_not_configured",
                $"No model is configured: {HowToConfigure}.");
        var chosen = name is null
            ? Names.FirstOrDefault(n => n.Equals(ModelDefaults.DefaultName, StringComparison.OrdinalIgnoreCase)) ?? Names[0]
            : Names.FirstOrDefault(n => n.Equals(name, StringComparison.OrdinalIgnoreCase))
              ?? throw new InvalidInputException("model_not_found",
                  $"model '{PromptRules.Shorten(name)}' is not configured; the configured models are {string.Join(", ", Names)}.", "model");
        var options = _services.GetRequiredService<IOptionsMonitor<ModelOptions>>().Get(chosen);
        return new ConfiguredModel(chosen, options.Model!, _services.GetRequiredKeyedService<IChatClient>(chosen));
    }

    /// <summary>The names of the models in <paramref name="configuration"/>.</summary>
    /// <exception cref="InvalidOperationException">A key sits directly under the section, without a model name, or a name is too long for a request to give.</exception>
    internal static IReadOnlyList<string> NamesIn(IConfiguration configuration)
    {
        var models = configuration.GetSection(ModelOptions.SectionName).GetChildren().ToList();
        if (models.FirstOrDefault(m => m.Value is not null) is { } unnamed)
            throw new InvalidOperationException(
                $"configuration {unnamed.Path} has a value, but models are named: use {ModelOptions.SectionName}:{ModelDefaults.DefaultName}:{unnamed.Key} (or another name).");
        if (models.FirstOrDefault(m => m.Key.Length > ModelDefaults.MaxNameLength) is { } overlong)
            throw new InvalidOperationException(
                $"configuration {ModelOptions.SectionName}:{PromptRules.Shorten(overlong.Key)} names a model with {overlong.Key.Length:N0} characters; a model's name is at most {ModelDefaults.MaxNameLength}.");
        return models.Select(m => m.Key).ToList();
    }

    /// <summary>An OpenAI-compatible chat client for model <paramref name="name"/>'s <paramref name="options"/> (already validated).</summary>
    internal static IChatClient CreateClient(string name, ModelOptions options)
    {
        var setting = $"{ModelOptions.SectionName}:{name}";
        var credential = new ApiKeyCredential(string.IsNullOrEmpty(options.ApiKey) ? ModelDefaults.NoApiKey : options.ApiKey);
        var client = new OpenAIClient(credential, new OpenAIClientOptions
        {
            Endpoint = new Uri(options.Endpoint!),
            NetworkTimeout = options.Timeout,
            RetryPolicy = new ProviderRetryPolicy(options.MaxRetries, options.Timeout, $"{setting}:Timeout"),
            Transport = new HttpClientPipelineTransport(AnswerSizeLimitHandler.CreateClient(options.MaxAnswerBytes, $"{setting}:MaxAnswerBytes")),
        });
        return new ProviderCallGuard(client.GetChatClient(options.Model).AsIChatClient(), options.Timeout, $"{setting}:Timeout");
    }
}
