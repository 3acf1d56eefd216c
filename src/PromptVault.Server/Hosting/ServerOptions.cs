using PromptVault.Core.Metrics;

namespace PromptVault.Server.Hosting;

/// <summary>Where the server keeps its data and listens.</summary>
public sealed class ServerOptions
{
    /// <summary>The SQLite database file. Default: null, which <see cref="ServerStorage.Resolve"/> settles: PostgreSQL when configured,
    /// else <c>promptvault.db</c> in the working directory.</summary>
    public string? DatabasePath { get; set; }

    /// <summary>The PostgreSQL database shared by several servers, instead of SQLite: an Npgsql connection string or a
    /// <c>postgresql://</c> URL. Default: null, then the configuration's <c>PromptVault:Postgres</c> or the environment's
    /// <c>DATABASE_URL</c> when <see cref="DatabasePath"/> is not set either (<see cref="ServerStorage.Resolve"/>).</summary>
    public string? Postgres { get; set; }

    /// <summary>The URLs to listen on, separated by ';': http(s)://HOST:PORT only, checked before anything starts. Default: <c>http://127.0.0.1:5180</c>.</summary>
    public string Urls { get; set; } = ServerDefaults.Urls;

    /// <summary>Model prices for costing metric events sent without a cost. Default: <see cref="PriceTable.Default"/>,
    /// extended by the configuration section <c>PromptVault:Prices:{model}:{InputPerMillion|OutputPerMillion}</c>.</summary>
    public PriceTable Prices { get; set; } = PriceTable.Default;
}

/// <summary>Where `serve` keeps data and listens unless told otherwise; also where the CLI looks for a server.</summary>
public static class ServerDefaults
{
    public const string DatabasePath = "promptvault.db";
    public const string Urls = "http://127.0.0.1:5180";

    /// <summary>The largest request body accepted: room for a maximal template, bounded so no request can exhaust memory.</summary>
    public const long MaxRequestBodyBytes = 8 * 1024 * 1024;

    /// <summary>Refused keys a client address may send per window before it gets 429 (docs/security.md).</summary>
    public const int FailedAuthenticationPermitLimit = 20;

    public const int FailedAuthenticationWindowSeconds = 60;

    /// <summary>SDK streams one API key may hold open at once (docs/security.md): one per process that resolves locally.</summary>
    public const int SdkStreamsPerKey = 100;
}
