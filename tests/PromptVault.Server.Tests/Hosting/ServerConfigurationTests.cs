using Microsoft.Extensions.Configuration;
using PromptVault.Core.Metrics;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Tests.Hosting;

/// <summary>What the server takes from its configuration (appsettings.json, the environment, the command line) as it is built.</summary>
public sealed class ServerConfigurationTests
{
    private static ServerOptions Options() => new() { DatabasePath = Path.Combine(Path.GetTempPath(), "unused.db"), Urls = "http://127.0.0.1:0" };

    [Fact]
    public async Task ConfiguredPrices_ExtendTheDefaultTable()
    {
        var options = Options();

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
        var error = Assert.Throws<InvalidOperationException>(() => PromptVaultServer.Build(Options(), [setting]));

        Assert.Contains("house-model", error.Message);
        Assert.Contains(key, error.Message);
    }

    /// <summary>
    /// <c>PromptVault__Prices__gpt-x=5</c> (a bare value where the model's section belongs) was refused naming
    /// <c>PromptVault:Prices:gpt-x:InputPerMillion</c>, a key the operator never set.
    /// </summary>
    [Fact]
    public void ABareValueWhereAModelsPricesBelong_StopsStartUp_NamingTheKeySet()
    {
        var error = Assert.Throws<InvalidOperationException>(() => PromptVaultServer.Build(Options(), ["--PromptVault:Prices:gpt-x=5"]));

        Assert.Equal("configuration PromptVault:Prices:gpt-x is '5', but a model's prices belong there: PromptVault:Prices:gpt-x:InputPerMillion " +
            "and PromptVault:Prices:gpt-x:OutputPerMillion, each a price per million tokens (a number ≥ 0).", error.Message);
    }

    /// <summary>A blank model in appsettings.json ("", null or {}) was refused naming <c>…:InputPerMillion</c>, a key the operator never set; it is refused as a bare value is.</summary>
    [Theory]
    [InlineData("\"\"")]
    [InlineData("null")]
    [InlineData("{}")]
    public void ABlankModelInAppSettings_StopsStartUp_NamingTheKeySet(string blank)
    {
        var directory = Directory.CreateTempSubdirectory("promptvault-prices-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "appsettings.json"), $$"""{ "PromptVault": { "Prices": { "gpt-x": {{blank}} } } }""");

            var error = Assert.Throws<InvalidOperationException>(() => PromptVaultServer.Build(Options(), [$"--contentRoot={directory}"]));

            Assert.Equal("configuration PromptVault:Prices:gpt-x is blank, but a model's prices belong there: PromptVault:Prices:gpt-x:InputPerMillion " +
                "and PromptVault:Prices:gpt-x:OutputPerMillion, each a price per million tokens (a number ≥ 0).", error.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A value out of its range is refused in a sentence naming its key as written, not the .NET options type
    /// ("DataAnnotation validation failed for 'WebhookOptions'") nor the framework's "The field …".</summary>
    [Theory]
    [InlineData("--PromptVault:Webhooks:MaxAttempts=0", "PromptVault:Webhooks:MaxAttempts must be between 1 and 100; it is 0.")]
    [InlineData("--PromptVault:KeyLimits:WindowSeconds=0", "PromptVault:KeyLimits:WindowSeconds must be between 1 and 86400; it is 0.")]
    [InlineData("--PromptVault:FailedAuthentication:PermitLimit=0", "PromptVault:FailedAuthentication:PermitLimit must be between 1 and 1000000; it is 0.")]
    [InlineData("--PromptVault:Evaluations:CaseTimeout=00:00:00", "PromptVault:Evaluations:CaseTimeout must be between 00:00:00.01 and 01:00:00; it is 00:00:00.")]
    public void AnOptionOutOfRange_StopsStartUp_NamingItsKey(string setting, string refusal)
    {
        var error = Assert.Throws<InvalidOperationException>(() => PromptVaultServer.Build(Options(), [setting]));

        Assert.Equal($"configuration {refusal}", error.Message);
    }

    /// <summary>Two settings that contradict each other are refused together, naming both.</summary>
    [Theory]
    [InlineData("--PromptVault:Webhooks:Timeout=00:02:00", "PromptVault:Webhooks:LeaseDuration must be longer than Timeout, or a slow receiver could get a delivery twice.")]
    [InlineData("--PromptVault:Webhooks:MaxBackoff=00:00:01", "PromptVault:Webhooks:MaxBackoff must be at least InitialBackoff, or every wait between attempts would be MaxBackoff.")]
    public void ContradictoryWebhookSettings_StopStartUp_NamingBoth(string setting, string refusal)
    {
        var error = Assert.Throws<InvalidOperationException>(() => PromptVaultServer.Build(Options(), [setting]));

        Assert.Equal($"configuration {refusal}", error.Message);
    }

    [Fact]
    public async Task AppSettingsFiles_AreReadAtStartUp_NotWatched()
    {
        await using var app = PromptVaultServer.Build(Options());

        // A watched file makes the framework watch the whole content root, the database's directory by default, with
        // its subdirectories: every write of the database would wake the watcher.
        var files = ((IConfigurationRoot)app.Configuration).Providers.OfType<FileConfigurationProvider>().ToList();
        Assert.NotEmpty(files);
        Assert.All(files, file => Assert.False(file.Source.ReloadOnChange, $"{file.Source.Path} is watched for changes"));
    }
}
