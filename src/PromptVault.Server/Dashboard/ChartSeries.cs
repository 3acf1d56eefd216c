namespace PromptVault.Server.Dashboard;

/// <summary>One line of a <see cref="Shared.LineChart"/>: a value per time of its X (an hour, a look), null where that time has no data.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double?> Values);
