using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.AI.Evaluation;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Evaluations;

/// <summary>The rubric and passing score of a <c>judge</c> check, handed to <see cref="RubricEvaluator"/>.</summary>
internal sealed class RubricContext(string rubric, int passingScore) : EvaluationContext(RubricEvaluator.ContextName, rubric)
{
    public string Rubric { get; } = rubric;

    public int PassingScore { get; } = passingScore;
}

/// <summary>
/// The <c>judge</c> check (SPEC §10) as a Microsoft.Extensions.AI.Evaluation evaluator: the configured model grades an answer
/// against a rubric from 1 to 5 and gives its reason as JSON. The <see cref="NumericMetric"/> keeps both, and its
/// interpretation fails below the passing score. Stateless and thread-safe.
/// </summary>
internal sealed class RubricEvaluator : IEvaluator
{
    public const string ScoreMetricName = "score";
    public const string ContextName = "Rubric";
    public const int MinScore = 1;
    public const int MaxScore = 5;

    /// <summary>The grade's JSON Schema; also its name in the request (<c>judge_grade</c>), by which a provider log can tell grades apart.</summary>
    internal const string GradeFormatName = "judge_grade";

    private static readonly ChatOptions GradingOptions = new()
    {
        Temperature = 0,
        ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonDocument.Parse($$"""
            { "type": "object", "additionalProperties": false, "required": ["score", "reason"],
              "properties": { "score": { "type": "integer", "minimum": {{MinScore}}, "maximum": {{MaxScore}} }, "reason": { "type": "string" } } }
            """).RootElement, GradeFormatName, "A score of the answer against the rubric, and why."),
    };

    private const string Instructions = """
        You grade an AI assistant's answer against a rubric. Score it from 1 (does not meet the rubric at all) to 5 (meets it fully).
        Answer with JSON only: {"score": <1-5>, "reason": "<one or two sentences>"}.
        """;

    public IReadOnlyCollection<string> EvaluationMetricNames { get; } = [ScoreMetricName];

    /// <exception cref="ArgumentException">No chat configuration, or no <see cref="RubricContext"/> in <paramref name="additionalContext"/>.</exception>
    public async ValueTask<EvaluationResult> EvaluateAsync(IEnumerable<ChatMessage> messages, ChatResponse modelResponse,
        ChatConfiguration? chatConfiguration = null, IEnumerable<EvaluationContext>? additionalContext = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(modelResponse);
        var judge = chatConfiguration?.ChatClient ?? throw new ArgumentException("the judge needs a chat configuration: the model that grades.", nameof(chatConfiguration));
        var rubric = additionalContext?.OfType<RubricContext>().FirstOrDefault()
            ?? throw new ArgumentException("the judge needs a RubricContext: the rubric and its passing score.", nameof(additionalContext));

        var grading = await judge.GetResponseAsync(
            [new(ChatRole.System, Instructions), new(ChatRole.User, Question(messages, modelResponse.Text, rubric.Rubric))],
            GradingOptions.Clone(), cancellationToken);
        return new EvaluationResult(Grade(grading.Text, rubric.PassingScore));
    }

    private static string Question(IEnumerable<ChatMessage> messages, string answer, string rubric)
    {
        var question = new StringBuilder().Append("Rubric:\n").Append(rubric).Append("\n\nThe conversation the assistant answered:\n");
        foreach (var message in messages)
            question.Append('[').Append(message.Role.Value).Append("] ").Append(message.Text).Append('\n');
        return question.Append("\nThe assistant's answer:\n").Append(answer).ToString();
    }

    /// <summary>The judge's answer as a score with its reason, interpreted against <paramref name="passingScore"/>.</summary>
    internal static NumericMetric Grade(string judgeAnswer, int passingScore)
    {
        var (score, reason) = Read(judgeAnswer);
        var metric = new NumericMetric(ScoreMetricName, score, reason);
        if (score is null)
        {
            metric.AddDiagnostics(EvaluationDiagnostic.Error(reason));
            metric.Interpretation = new EvaluationMetricInterpretation(EvaluationRating.Inconclusive, failed: true, reason);
            return metric;
        }
        var passed = score >= passingScore;
        metric.Interpretation = new EvaluationMetricInterpretation(Rating((int)score), failed: !passed,
            $"scored {score} of {MaxScore}, {(passed ? "at least" : "below")} the passing score {passingScore}: {reason}");
        return metric;
    }

    private static (double? Score, string Reason) Read(string judgeAnswer)
    {
        try
        {
            using var grade = JsonDocument.Parse(judgeAnswer);
            if (grade.RootElement is { ValueKind: JsonValueKind.Object } root
                && root.TryGetProperty("score", out var score) && score.ValueKind == JsonValueKind.Number && score.TryGetInt32(out var value) && value is >= MinScore and <= MaxScore)
                return (value, root.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString()! : "(no reason given)");
        }
        catch (JsonException)
        {
            // Not JSON: reported below like any other answer that is not a grade.
        }
        return (null, $"the judge did not answer a score of {MinScore}–{MaxScore} as JSON: '{PromptRules.Shorten(judgeAnswer)}'");
    }

    private static EvaluationRating Rating(int score) => score switch
    {
        5 => EvaluationRating.Exceptional,
        4 => EvaluationRating.Good,
        3 => EvaluationRating.Average,
        2 => EvaluationRating.Poor,
        _ => EvaluationRating.Unacceptable,
    };
}
