using PromptVault.Core.Webhooks;

namespace PromptVault.Core.Tests.Webhooks;

public sealed class WebhookUrlTests
{
    [Theory]
    [InlineData("https://user:secret@hooks.example.com/hook", "https://user:***@hooks.example.com/hook")]
    [InlineData("https://ci:p%40ss:word@hooks.example.com:8443/a?b=c", "https://ci:***@hooks.example.com:8443/a?b=c")]
    [InlineData("https://user:secret@hooks.example.com", "https://user:***@hooks.example.com")]
    [InlineData("https://token@hooks.example.com/hook", "https://***@hooks.example.com/hook")]
    [InlineData("https://t%40ken@hooks.example.com:8443", "https://***@hooks.example.com:8443")]
    [InlineData("https://hooks.example.com:8443/hook?to=a@b:c", "https://hooks.example.com:8443/hook?to=a@b:c")]
    [InlineData("http://user:secret@127.0.0.1:9000/path@x", "http://user:***@127.0.0.1:9000/path@x")]
    public void MaskCredentials_MasksThePasswordOfTheUserInfo_OrTheUserNameWhenItIsAlone(string url, string shown) =>
        Assert.Equal(shown, Webhook.MaskCredentials(url));
}
