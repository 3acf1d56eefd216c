using PromptVault.Core.Evaluations;

namespace PromptVault.Server.Dashboard;

/// <summary>One case of two versions' latest runs, matched by name, and what changed from A to B.</summary>
internal sealed record CaseComparison(string Name, CaseResult? A, CaseResult? B)
{
    /// <summary>The case passed in A and fails in B: the change a reviewer must see first.</summary>
    public bool Regressed => A is { Passed: true } && B is { Passed: false };

    public bool Fixed => A is { Passed: false } && B is { Passed: true };

    public string Change => (A, B) switch
    {
        (null, _) => "new in B",
        (_, null) => "not in B",
        _ when Regressed => "passed → failed",
        _ when Fixed => "failed → passed",
        _ => string.Join(", ", new[]
        {
            A.Passed ? null : "still failing",
            A.Render == B.Render ? null : "render changed",
            A.Output == B.Output ? null : "answer changed",
        }.OfType<string>().DefaultIfEmpty("unchanged")),
    };

    /// <summary>A's cases in their order, then those only B has.</summary>
    public static IReadOnlyList<CaseComparison> Of(EvaluationRun a, EvaluationRun b)
    {
        var inB = b.Cases.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var names = a.Cases.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        return
        [
            .. a.Cases.Select(c => new CaseComparison(c.Name, c, inB.GetValueOrDefault(c.Name))),
            .. b.Cases.Where(c => !names.Contains(c.Name)).Select(c => new CaseComparison(c.Name, null, c)),
        ];
    }
}
