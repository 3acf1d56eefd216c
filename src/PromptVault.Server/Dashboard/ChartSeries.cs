namespace PromptVault.Server.Dashboard;

/// <summary>One line of a <see cref="Shared.LineChart"/>: a value per hour, null where the hour has no data.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double?> Values);
