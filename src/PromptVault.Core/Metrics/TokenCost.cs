namespace PromptVault.Core.Metrics;

/// <summary>What tokens cost on a version, for an event that carries tokens but no cost (<see cref="PriceTable.CostOf"/>).</summary>
public delegate double? TokenCost(string versionId, long? inputTokens, long? outputTokens);
