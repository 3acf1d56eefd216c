using PromptVault.Core.Templates;
using PromptVault.Core.Webhooks;

namespace PromptVault.Core.Tests.Webhooks;

public sealed class IncludeDependentsTests
{
    private static LabelledIncludes Labelled(string prompt, string label, params string[] references) =>
        new(prompt, label, references.Select(PromptReference.Parse).ToList());

    [Fact]
    public void Of_LabelMoved_FindsIncludersThroughLabelsTransitively_EachOnce()
    {
        LabelledIncludes[] labelled =
        [
            Labelled("direct", "production", "guard"),
            Labelled("direct", "staging", "guard@production"),
            Labelled("outer", "production", "direct@staging"),
            Labelled("outermost", "preview", "outer"),
            Labelled("pinned", "production", "guard@1.0.0"),
            Labelled("elsewhere", "production", "guard@staging"),
            Labelled("not-served", "production", "outer@staging"),
        ];

        var includers = IncludeDependents.Of("guard", "production", labelled);

        Assert.Equal(["direct", "outer", "outermost"], includers);
    }

    [Fact]
    public void Of_NothingIncludesTheLabel_IsEmpty()
    {
        Assert.Empty(IncludeDependents.Of("guard", "staging", [Labelled("direct", "production", "guard")]));
    }
}
