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
    public void AnIPv6AddressCarryingARefusedIPv4One_IsRefusedForThatAddress(string address, string refusal) =>
        Assert.StartsWith(refusal, WebhookDestinations.Refusal(IPAddress.Parse(address), allowLoopback: false));

    [Theory]
    [InlineData("::ffff:93.184.216.34")]
    [InlineData("64:ff9b::5db8:d822")]
    [InlineData("2002:5db8:d822::1")]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946")]
    [InlineData("93.184.216.34")]
    public void APublicAddress_InAnyForm_IsAllowed(string address) =>
        Assert.Null(WebhookDestinations.Refusal(IPAddress.Parse(address), allowLoopback: false));

    [Fact]
    public void AnIPv6FormOfLoopback_IsAllowedWhenLoopbackIs() =>
        Assert.Null(WebhookDestinations.Refusal(IPAddress.Parse("64:ff9b::7f00:1"), allowLoopback: true));
}
