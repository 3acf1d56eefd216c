using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;

namespace PromptVault.Core.Registry;

/// <summary>The rules a version's body must keep to be saved, whether it comes from the API or from an import's document.</summary>
public static class VersionBodyRules
{
    /// <summary>Checks a new version's body: a chat prompt's messages (SPEC §7), any other prompt's content; and its metadata.</summary>
    /// <param name="variables">The variables the version declares (not those its includes add).</param>
    /// <exception cref="InvalidInputException">A rule is broken; the exception's field names where (<c>content</c>, <c>messages[1].content</c>, <c>variables[0].type</c>, <c>metadata.temperature</c>).</exception>
    public static VersionBody Validate(TemplateEngine templates, PromptType type, string? content, IReadOnlyList<PromptMessage>? messages,
        IReadOnlyList<VariableDefinition> variables, PromptMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(templates);
        MetadataRules.Validate(metadata);
        ToolSchemaRules.Validate(metadata);
        if (type == PromptType.Chat)
        {
            if (!string.IsNullOrEmpty(content))
                throw new InvalidInputException("content_not_allowed", "a chat prompt has messages instead of content: send messages, a list of { role, content }.", "content");
            templates.ValidateChat(messages, variables);
            return new VersionBody("", variables, metadata, messages);
        }
        if (messages is not null)
            throw new InvalidInputException("messages_not_allowed", $"messages are for chat prompts (type chat); this prompt's type is {Names.Of(type)}: send content.", "messages");
        if (string.IsNullOrWhiteSpace(content))
            throw new InvalidInputException("missing_content", "content is required and must not be empty.", "content");
        templates.Validate(content, variables);
        return new VersionBody(content, variables, metadata);
    }
}
