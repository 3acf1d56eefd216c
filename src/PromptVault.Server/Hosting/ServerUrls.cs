using System.Globalization;

namespace PromptVault.Server.Hosting;

/// <summary>
/// Checks the URLs to listen on before anything is created. Kestrel's own parser is lenient: it reads
/// <c>http://127.0.0.1:notaport</c> as <c>http://[::]:80</c>, every interface on port 80.
/// </summary>
internal static class ServerUrls
{
    /// <returns>The URLs, trimmed, separated by ';'.</returns>
    /// <exception cref="InvalidOperationException">A URL is not http(s)://HOST:PORT; the message names it.</exception>
    public static string Validate(string urls)
    {
        var list = (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length == 0) throw new InvalidOperationException("--urls is empty: give a URL such as http://127.0.0.1:5180.");
        foreach (var url in list)
        {
            if (Problem(url) is { } problem)
                throw new InvalidOperationException($"--urls '{url}' {problem}; expected a URL such as http://127.0.0.1:5180.");
        }
        return string.Join(';', list);
    }

    private static string? Problem(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return "has no scheme (http:// or https://)";
        if (url[..scheme] is not ("http" or "https")) return $"has the scheme '{url[..scheme]}', not http or https";
        // Kestrel's wildcards (*, +) listen on every interface; System.Uri reads neither as a host.
        var rest = url[(scheme + 3)..];
        if (rest.StartsWith('*') || rest.StartsWith('+')) rest = "0.0.0.0" + rest[1..];
        var port = PortText(rest);
        // Port 0 asks the system for a free port (tests use it).
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > 65535))
            return $"has the port '{port}', not a number from 1 to 65535";
        if (!Uri.TryCreate($"{url[..scheme]}://{rest}", UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            return "is not a valid URL (host and port)";
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0) return "has a path or query; give only scheme, host and port";
        return null;
    }

    /// <summary>The port as written after the host (IPv6 hosts are in brackets), or null when none is given.</summary>
    private static string? PortText(string rest)
    {
        var authority = rest.Split('/', 2)[0];
        var hostEnd = authority.StartsWith('[') ? authority.IndexOf(']') : 0;
        var colon = authority.IndexOf(':', Math.Max(hostEnd, 0));
        return colon < 0 ? null : authority[(colon + 1)..];
    }
}
