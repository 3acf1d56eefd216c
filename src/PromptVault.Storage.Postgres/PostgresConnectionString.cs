using Npgsql;

namespace PromptVault.Storage.Postgres;

/// <summary>
/// Reads where the PostgreSQL database is: an Npgsql connection string (<c>Host=db;Database=promptvault;Username=pv</c>) or a
/// URL as <c>DATABASE_URL</c> holds it (<c>postgresql://user:password@host:5432/promptvault?sslmode=require</c>).
/// </summary>
public static class PostgresConnectionString
{
    /// <summary>The URL's query parameters (libpq's names) and the Npgsql setting each becomes; other names must be Npgsql's own.</summary>
    private static readonly Dictionary<string, string> UrlParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["sslpassword"] = "SSL Password",
        ["application_name"] = "Application Name",
        ["connect_timeout"] = "Timeout",
        ["options"] = "Options",
        ["target_session_attrs"] = "Target Session Attributes",
    };

    /// <summary>Turns <paramref name="value"/> (a connection string or a <c>postgres://</c>/<c>postgresql://</c> URL) into an Npgsql connection string.</summary>
    /// <exception cref="FormatException">The value is neither; the message names the problem and never repeats a password.</exception>
    public static string Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        value = value.Trim();
        if (value.Length == 0)
            throw new FormatException("the PostgreSQL connection string is empty.");
        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return FromUrl(value);
        if (value.Contains("://", StringComparison.Ordinal))
            throw new FormatException("a PostgreSQL URL starts with postgresql:// or postgres://.");
        try
        {
            return new NpgsqlConnectionStringBuilder(value).ConnectionString;
        }
        catch (ArgumentException e)
        {
            // Npgsql names the setting it could not set, and its inner exception the value. When the string holds a password,
            // either may be a piece of it (an unquoted ';' makes Password=ab;cd=ef a setting 'cd'), so neither is repeated or chained.
            var problem = IsSecret(value) ? "a setting's name is unknown or its value is not valid (not repeated here: it may be part of the password)" : e.Message;
            throw new FormatException($"not a valid Npgsql connection string (Host=...;Database=...;Username=...;Password=...): {problem}. Quote a value that contains ';' in single or double quotes.");
        }
    }

    /// <summary>Where <paramref name="connectionString"/> points, for messages: host, port and database, no credentials.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"PostgreSQL database '{builder.Database ?? builder.Username}' on {builder.Host ?? "localhost"}:{builder.Port}";
    }

    private static string FromUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            throw new FormatException("the PostgreSQL URL is malformed: expected postgresql://user:password@host:port/database?sslmode=...");
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host,
        };
        if (uri.Port > 0)
            builder.Port = uri.Port;
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            builder.Username = Decode(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
                builder.Password = Decode(uri.UserInfo[(colon + 1)..]);
        }
        var database = Decode(uri.AbsolutePath.TrimStart('/'));
        if (database.Contains('/'))
            throw new FormatException($"the PostgreSQL URL's path must be one database name, not '{database}'.");
        if (database.Length > 0)
            builder.Database = database;

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var name = Decode(equals < 0 ? pair : pair[..equals]);
            var setting = Decode(equals < 0 ? "" : pair[(equals + 1)..]);
            var keyword = UrlParameters.GetValueOrDefault(name, name);
            if (!IsKeyword(keyword))
                throw new FormatException($"the PostgreSQL URL's parameter '{name}' is unknown (use sslmode, sslrootcert, application_name, connect_timeout, ... or an Npgsql setting).");
            var typed = keyword == "SSL Mode" ? SslModeOf(setting) : setting;
            try
            {
                builder[keyword] = typed;
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
            {
                throw new FormatException($"the PostgreSQL URL's parameter '{name}' has a value Npgsql refuses{(IsSecret(keyword) ? "" : $": '{setting}'")}.", e);
            }
        }
        return builder.ConnectionString;
    }

    /// <summary>
    /// Percent-decoding only, as libpq reads a URL: a <c>+</c> stays a <c>+</c>. Form decoding (WebUtility.UrlDecode) made
    /// it a space, so a password <c>a+b</c> was sent as <c>a b</c>.
    /// </summary>
    private static string Decode(string value) => Uri.UnescapeDataString(value);

    /// <summary>libpq's sslmode values (verify-ca, verify-full) spelled as Npgsql's SslMode.</summary>
    private static object SslModeOf(string value) => value.ToLowerInvariant() switch
    {
        "disable" => SslMode.Disable,
        "allow" => SslMode.Allow,
        "prefer" => SslMode.Prefer,
        "require" => SslMode.Require,
        "verify-ca" => SslMode.VerifyCA,
        "verify-full" => SslMode.VerifyFull,
        _ => throw new FormatException($"sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full."),
    };

    private static bool IsKeyword(string keyword)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder()[keyword];
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Whether <paramref name="text"/> (a keyword, or a whole connection string) names a password: Npgsql's Password (or PSW, PWD) or SSL Password.</summary>
    private static bool IsSecret(string text) =>
        new[] { "password", "pwd", "psw" }.Any(name => text.Contains(name, StringComparison.OrdinalIgnoreCase));
}
