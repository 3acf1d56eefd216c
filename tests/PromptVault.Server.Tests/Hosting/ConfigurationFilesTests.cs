using Microsoft.Extensions.Configuration;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Tests.Hosting;

public sealed class ConfigurationFilesTests
{
    [Fact]
    public async Task AppSettingsFiles_AreReadAtStartUp_NotWatched()
    {
        var options = new ServerOptions { DatabasePath = Path.Combine(Path.GetTempPath(), "unused.db"), Urls = "http://127.0.0.1:0" };

        await using var app = PromptVaultServer.Build(options);

        // A watched file makes the framework watch the whole content root, the database's directory by default, with
        // its subdirectories: every write of the database would wake the watcher.
        var files = ((IConfigurationRoot)app.Configuration).Providers.OfType<FileConfigurationProvider>().ToList();
        Assert.NotEmpty(files);
        Assert.All(files, file => Assert.False(file.Source.ReloadOnChange, $"{file.Source.Path} is watched for changes"));
    }
}
