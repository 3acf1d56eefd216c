namespace PromptVault.Core.Metrics;

/// <summary>The price of tokens on a version's model, for an event that carries tokens but no cost; null when it has none
/// (<see cref="PriceTable.Find"/>).</summary>
public delegate ModelPrice? TokenPrice(string versionId);
