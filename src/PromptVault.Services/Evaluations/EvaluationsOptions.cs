using System.ComponentModel.DataAnnotations;

namespace PromptVault.Core.Evaluations;

/// <summary>How evaluation runs call the model (configuration section <c>PromptVault:Evaluations</c>), validated at start.</summary>
public sealed class EvaluationsOptions
{
    public const string SectionName = "PromptVault:Evaluations";

    /// <summary>Cases of one run checked at once (each may be a paid model call). Default: 4.</summary>
    [Range(1, 64)]
    public int MaxConcurrency { get; set; } = EvaluationsDefaults.MaxConcurrency;

    /// <summary>The longest one case may take: its answer and its judge. A case past it is <c>error</c>; the others still run.
    /// Default: 2 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan CaseTimeout { get; set; } = EvaluationsDefaults.CaseTimeout;
}

/// <summary>The defaults of <see cref="EvaluationsOptions"/>, in one place.</summary>
public static class EvaluationsDefaults
{
    public const int MaxConcurrency = 4;

    /// <summary>Longer than one model call's own default timeout (100 s), so a slow provider's answer still has its judge's turn.</summary>
    public static readonly TimeSpan CaseTimeout = TimeSpan.FromMinutes(2);
}
