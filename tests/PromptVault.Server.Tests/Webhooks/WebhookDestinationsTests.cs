using System.Net;
using PromptVault.Server.Webhooks;

namespace PromptVault.Server.Tests.Webhooks;

public sealed class WebhookDestinationsTests
{
    [Theory]
    [InlineData("::ffff:127.0.0.1", "an IPv6 form of 127.0.0.1, a loopback address")]
    [InlineData("::ffff:169.254.169.254", "an IPv6 form of 169.254.169.254, a link-local")]
    [InlineData("64:ff9b::7f00:1", "an IPv6 form of 127.0.0.1, a loopback address")]
    [InlineData("64:ff9b::169.254.169.254", "an IPv6 form of 169.254.169.254, a link-local")]
    [InlineData("64:ff9b::100.100.100.200", "an IPv6 form of 100.100.100.200, a cloud metadata service")]
    [InlineData("2002:7f00:1::", "an IPv6 form of 127.0.0.1, a loopback address")]
    [InlineData("2002:a9fe:a9fe:1::1", "an IPv6 form of 169.254.169.254, a link-local")]
    [InlineData("2002:0:0::1", "an IPv6 form of 0.0.0.0, a link-local, unspecified")]
    [InlineData("2001:0:4136:e378:8000:63bf:5601:5601", "an IPv6 form of 169.254.169.254, a link-local")]
    [InlineData("2001:0:4136:e378:8000:63bf:80ff:fffe", "an IPv6 form of 127.0.0.1, a loopback address")]
    public void AnIPv6AddressCarryingARefusedIPv4One_IsRefusedForThatAddress(string address, string refusal) =>
        Assert.StartsWith(refusal, WebhookDestinations.Refusal(IPAddress.Parse(address), Defaults));

    [Theory]
    [InlineData("::ffff:93.184.216.34")]
    [InlineData("64:ff9b::5db8:d822")]
    [InlineData("2002:5db8:d822::1")]
    [InlineData("2001:0:4136:e378:8000:63bf:a247:29dd")]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946")]
    [InlineData("93.184.216.34")]
    public void APublicAddress_InAnyForm_IsAllowed(string address) =>
        Assert.Null(WebhookDestinations.Refusal(IPAddress.Parse(address), Defaults));

    [Fact]
    public void AnIPv6FormOfLoopback_IsAllowedWhenLoopbackIs() =>
        Assert.Null(WebhookDestinations.Refusal(IPAddress.Parse("64:ff9b::7f00:1"), new WebhookOptions { AllowLoopback = true }));

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.254")]
    [InlineData("192.168.1.10")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.254")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456:789a::1")]
    [InlineData("::ffff:10.1.2.3")]
    [InlineData("2002:c0a8:10a::1")]
    public void APrivateNetworkAddress_IsAllowedByDefault_AndRefusedNamingTheSettingWhenPrivateNetworksAreNot(string address)
    {
        Assert.Null(WebhookDestinations.Refusal(IPAddress.Parse(address), Defaults));
        Assert.Contains("a private network address, refused while PromptVault:Webhooks:AllowPrivateNetworks is false",
            WebhookDestinations.Refusal(IPAddress.Parse(address), new WebhookOptions { AllowPrivateNetworks = false }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("172.32.0.1")]
    [InlineData("172.15.255.255")]
    [InlineData("100.128.0.1")]
    [InlineData("192.169.0.1")]
    [InlineData("fe00::1")]
    public void AnAddressBesideAPrivateRange_IsAllowedWhenPrivateNetworksAreNot(string address) =>
        Assert.Null(WebhookDestinations.Refusal(IPAddress.Parse(address), new WebhookOptions { AllowPrivateNetworks = false }));

    private static readonly WebhookOptions Defaults = new();
}
