using PromptVault.Core.Templates;

namespace PromptVault.Core.Registry;

/// <summary>Version <paramref name="Version"/> of prompt <paramref name="Prompt"/> includes <paramref name="Reference"/>.</summary>
public sealed record IncludeLink(string Prompt, string Version, PromptReference Reference);

/// <summary>What a prompt's newest and labelled versions include, and which other prompts' newest and labelled versions include it.</summary>
public sealed record IncludeGraph(IReadOnlyList<IncludeLink> Includes, IReadOnlyList<IncludeLink> IncludedBy);
