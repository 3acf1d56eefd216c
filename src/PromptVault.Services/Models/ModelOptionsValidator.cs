using Microsoft.Extensions.Options;

namespace PromptVault.Core.Models;

/// <summary>Checks every named <see cref="ModelOptions"/> at start, each problem naming its configuration key.</summary>
internal sealed class ModelOptionsValidator : IValidateOptions<ModelOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelOptions options)
    {
        var section = $"{ModelOptions.SectionName}:{name}";
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Endpoint))
            failures.Add($"{section}:Endpoint is required: the model's OpenAI-compatible base URL, e.g. https://api.openai.com/v1.");
        else if (!Uri.TryCreate(options.Endpoint, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            failures.Add($"{section}:Endpoint must be an absolute http(s) URL, got '{options.Endpoint}'.");
        if (string.IsNullOrWhiteSpace(options.Model))
            failures.Add($"{section}:Model is required: the model id used when a version's metadata names none, e.g. gpt-4o-mini.");
        if (options.Timeout <= TimeSpan.Zero)
            failures.Add($"{section}:Timeout must be a positive time span, e.g. 00:01:40.");
        if (options.MaxRetries < 0)
            failures.Add($"{section}:MaxRetries must be 0 or more.");
        if (options.MaxAnswerBytes <= 0)
            failures.Add($"{section}:MaxAnswerBytes must be a positive number of bytes, e.g. 1048576.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
