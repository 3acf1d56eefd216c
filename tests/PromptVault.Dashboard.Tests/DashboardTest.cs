namespace PromptVault.Dashboard.Tests;

/// <summary>A test class of the dashboard: each test's browser pages (<see cref="DashboardFixture.OpenAsync"/>) are closed when it ends.</summary>
public abstract class DashboardTest : IClassFixture<DashboardFixture>, IAsyncDisposable
{
    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return DashboardFixture.CloseTestPagesAsync(TestContext.Current.Test!.UniqueID);
    }
}
