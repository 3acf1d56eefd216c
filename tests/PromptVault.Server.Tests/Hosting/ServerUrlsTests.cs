using PromptVault.Server.Hosting;

namespace PromptVault.Server.Tests.Hosting;

public sealed class ServerUrlsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:notaport", "notaport")]
    [InlineData("127.0.0.1:5180", "no scheme")]
    [InlineData("ftp://127.0.0.1:5180", "ftp")]
    [InlineData("http://127.0.0.1:-1", "'-1'")]
    [InlineData("http://127.0.0.1:65536", "65536")]
    [InlineData("http://127.0.0.1:5180/base", "path")]
    [InlineData("http://:5180", "not a valid URL")]
    [InlineData("http://127.0.0.1:5180;nonsense", "nonsense")]
    [InlineData(" ; ", "empty")]
    public void Validate_BadUrl_ThrowsNamingIt(string urls, string named)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ServerUrls.Validate(urls));

        Assert.Contains("--urls", error.Message);
        Assert.Contains(named, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5180")]
    [InlineData("https://localhost:8443")]
    [InlineData("http://[::1]:5180")]
    [InlineData("http://*:5180")]
    [InlineData("http://+:5180")]
    [InlineData("http://localhost")]
    [InlineData("http://127.0.0.1:0")]
    [InlineData("http://127.0.0.1:5180/;http://[::1]:5181")]
    public void Validate_GoodUrls_Pass(string urls)
    {
        Assert.Equal(urls.Split(';').Length, ServerUrls.Validate(urls).Split(';').Length);
    }
}
