using Microsoft.Extensions.Configuration;
using PromptVault.Core;
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

    /// <summary>
    /// A misspelt key under PromptVault (a section's name or a setting's) was read by nothing: the server started on the defaults,
    /// without a word. It stops start-up naming the key, where it was set, and the known key closest to it.
    /// </summary>
    [Theory]
    [InlineData("--PromptVault:Webhook:MaxAttempts=3", "configuration PromptVault:Webhook:MaxAttempts (set on the command line) is not a setting of the server; did you mean PromptVault:Webhooks:MaxAttempts? docs/deployment.md lists the settings.")]
    [InlineData("--PromptVault:Models:default:Endpiont=http://127.0.0.1:1/v1", "configuration PromptVault:Models:default:Endpiont (set on the command line) is not a setting of the server; did you mean PromptVault:Models:default:Endpoint? docs/deployment.md lists the settings.")]
    [InlineData("--PromptVault:Databse:Provider=postgres", "configuration PromptVault:Databse:Provider (set on the command line) is not a setting of the server; docs/deployment.md lists the settings.")]
    public void AnUnknownKey_StopsStartUp_NamingItWhereItWasSetAndTheClosestKnownKey(string setting, string refusal)
    {
        var error = Assert.Throws<InvalidOperationException>(() => PromptVaultServer.Build(Options(), [setting]));

        Assert.Equal(refusal, error.Message);
    }

    [Fact]
    public void AnUnknownKeyInAppSettings_StopsStartUp_NamingTheFile()
    {
        var directory = Directory.CreateTempSubdirectory("promptvault-unknown-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "appsettings.json"), """{ "PromptVault": { "KeyLimits": { "SdkStream": 5 } } }""");

            var error = Assert.Throws<InvalidOperationException>(() => PromptVaultServer.Build(Options(), [$"--contentRoot={directory}"]));

            Assert.Equal($"configuration PromptVault:KeyLimits:SdkStream (set in appsettings.json in {directory}) is not a setting of the server; " +
                "did you mean PromptVault:KeyLimits:SdkStreams? docs/deployment.md lists the settings.", error.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// The environment's names come in any case; the refusal names the variable as it is set, with its prefix and in its case
    /// (it named <c>PromptVault__WEBHOOKS__MAXATTEMPT</c>, the case configuration hands the key back in).
    /// </summary>
    [Fact]
    public void AnUnknownKeyInTheEnvironment_IsRefusedNamingTheVariable()
    {
        // A prefix of this test's own keeps the variable out of the other tests' servers, which read the whole environment.
        const string prefix = "PROMPTVAULT_UNKNOWN_KEY_TEST_";
        Environment.SetEnvironmentVariable(prefix + "PROMPTVAULT__WEBHOOKS__MAXATTEMPT", "3");
        try
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables(prefix).Build();

            var error = Assert.Throws<InvalidOperationException>(() => KnownSettings.RefuseUnknown(configuration, [new ReadSetting("PromptVault:Webhooks", typeof(PromptVault.Server.Webhooks.WebhookOptions))]));

            Assert.Equal($"configuration PromptVault:WEBHOOKS:MAXATTEMPT (set in the environment as {prefix}PROMPTVAULT__WEBHOOKS__MAXATTEMPT) is not a setting of the server; " +
                "did you mean PromptVault:Webhooks:MaxAttempts? docs/deployment.md lists the settings.", error.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(prefix + "PROMPTVAULT__WEBHOOKS__MAXATTEMPT", null);
        }
    }

    /// <summary>Every key of docs/deployment.md's table, set at once (each at its default, or a working value where it has none), is taken.</summary>
    [Fact]
    public async Task EveryDocumentedKey_IsKnown()
    {
        var settings = ConfigurationDocTests.DocumentedKeys()
            .Where(key => key != "PromptVault:Postgres")
            .Select(key => $"--{key.Replace("{name}", "default", StringComparison.Ordinal).Replace("{model}", "house-model", StringComparison.Ordinal)}={WorkingValue(key)}")
            .ToArray();

        await using var app = PromptVaultServer.Build(Options(), settings);

        Assert.Equal("http://127.0.0.1:1/v1", app.Configuration["PromptVault:Models:default:Endpoint"]);
    }

    private static string WorkingValue(string key) => key.Split(':')[^1] switch
    {
        "Endpoint" => "http://127.0.0.1:1/v1",
        "ApiKey" => "sk-test",
        "Model" => "house-model",
        "InputPerMillion" or "OutputPerMillion" => "1",
        _ => ConfigurationDocTests.DocumentedDefault(key),
    };

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
