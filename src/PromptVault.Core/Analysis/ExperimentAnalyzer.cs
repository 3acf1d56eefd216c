using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;

namespace PromptVault.Core.Analysis;

// TEMPORARY placeholder until the analysis branch merges; replaced by its implementation.
public static class ExperimentAnalyzer
{
    public static ExperimentResults Analyze(Experiment experiment, IReadOnlyDictionary<string, long> exposuresByVariantId,
        IReadOnlyDictionary<string, MetricAggregate> aggregatesByVariantId) => throw new NotSupportedException();
}
