using PromptVault.Core.Storage;

namespace PromptVault.Core.Tests.Storage;

/// <summary>The fixed slots that let a unit's repeat renders queue no exposure.</summary>
public sealed class RecentExposuresTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Add_KnowsAUnitOncePerExperiment_WhateverItsVariantOrTime()
    {
        var recent = new RecentExposures(1024);

        Assert.True(recent.Add(Exposure("e1", "unit-1")));
        Assert.False(recent.Add(Exposure("e1", "unit-1") with { VariantId = "v2", At = Now.AddHours(1) }));
        Assert.True(recent.Add(Exposure("e2", "unit-1")));
        Assert.True(recent.Add(Exposure("e1", "unit-2")));
        // The experiment and unit ids are hashed apart: "e1"+"1unit" is not "e11"+"unit".
        Assert.True(recent.Add(Exposure("e11", "unit")));
        Assert.True(recent.Add(Exposure("e1", "1unit")));
    }

    [Fact]
    public void Forget_ClearsOnlyTheForgottenUnits_SoTheirNextRenderQueuesThemAgain()
    {
        var recent = new RecentExposures(1024);
        recent.Add(Exposure("e1", "unit-1"));
        recent.Add(Exposure("e1", "unit-2"));

        recent.Forget([Exposure("e1", "unit-1"), Exposure("e1", "never-added")]);

        Assert.True(recent.Add(Exposure("e1", "unit-1")));
        Assert.False(recent.Add(Exposure("e1", "unit-2")));
    }

    [Fact]
    public void Add_OneSlot_RemembersTheLastUnitOnly_AndForgetLeavesAnotherUnitsSlot()
    {
        var recent = new RecentExposures(1);
        recent.Add(Exposure("e1", "unit-1"));
        recent.Add(Exposure("e1", "unit-2"));

        // unit-2 took the slot: unit-1 is new again, and forgetting unit-1 must not clear unit-2.
        recent.Forget([Exposure("e1", "unit-1")]);
        Assert.False(recent.Add(Exposure("e1", "unit-2")));
        Assert.True(recent.Add(Exposure("e1", "unit-1")));
    }

    [Fact]
    public void Add_ManyUnits_EachNewUnitIsNewAndAnImmediateRepeatIsNot()
    {
        var recent = new RecentExposures(65_536);
        for (var i = 0; i < 200_000; i++)
        {
            var exposure = Exposure("e1", $"load-{i}");
            Assert.True(recent.Add(exposure));
            Assert.False(recent.Add(exposure));
        }
    }

    private static Exposure Exposure(string experimentId, string unitId) => new(experimentId, "v1", unitId, Now);
}
