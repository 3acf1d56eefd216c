using PromptVault.Core.Metrics;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Tests.Api;

public sealed class PriceConfigurationTests
{
    [Fact]
    public async Task ConfiguredPrices_ExtendTheDefaultTable()
    {
        var options = new ServerOptions { DatabasePath = Path.Combine(Path.GetTempPath(), "unused.db"), Urls = "http://127.0.0.1:0" };

        await using var app = PromptVaultServer.Build(options,
            ["--PromptVault:Prices:house-model:InputPerMillion=2", "--PromptVault:Prices:house-model:OutputPerMillion=3"]);

        Assert.Equal(new ModelPrice(2, 3), options.Prices.Find("house-model"));
        Assert.NotNull(options.Prices.Find("gpt-4o-mini"));
    }

    [Theory]
    [InlineData("--PromptVault:Prices:house-model:InputPerMillion=2", "OutputPerMillion")]
    [InlineData("--PromptVault:Prices:house-model:InputPerMillion=-1", "InputPerMillion")]
    public void AMissingOrBadPrice_StopsStartUp_NamingTheKey(string setting, string key)
    {
        var options = new ServerOptions { DatabasePath = Path.Combine(Path.GetTempPath(), "unused.db"), Urls = "http://127.0.0.1:0" };

        var error = Assert.Throws<InvalidOperationException>(() => PromptVaultServer.Build(options, [setting]));

        Assert.Contains("house-model", error.Message);
        Assert.Contains(key, error.Message);
    }
}
