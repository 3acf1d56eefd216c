using Npgsql;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>`serve --postgres`, PromptVault:Postgres and DATABASE_URL: a connection string or a postgresql:// URL, bad ones named.</summary>
public sealed class PostgresConnectionStringTests
{
    [Fact]
    public void Parse_DatabaseUrl_BecomesTheNpgsqlSettings()
    {
        var parsed = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Parse(
            "postgresql://pv%40corp:p%3Ass%2Fw0rd@db.example.com:6432/prompt%20vault?sslmode=verify-full&application_name=pv-east&connect_timeout=7&Maximum%20Pool%20Size=40"));

        Assert.Equal(("db.example.com", 6432, "pv@corp", "p:ss/w0rd", "prompt vault"), (parsed.Host, parsed.Port, parsed.Username, parsed.Password, parsed.Database));
        Assert.Equal((SslMode.VerifyFull, "pv-east", 7, 40), (parsed.SslMode, parsed.ApplicationName, parsed.Timeout, parsed.MaxPoolSize));
    }

    [Theory]
    [InlineData("a+b", "a+b")]
    [InlineData("a%2Bb", "a+b")]
    [InlineData("a%20b", "a b")]
    public void Parse_DatabaseUrl_PercentDecodesOnly_APlusStaysAPlus_AsLibpqReadsIt(string encoded, string decoded)
    {
        var parsed = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Parse(
            $"postgresql://{encoded}:{encoded}@db.example.com/{encoded}?application_name={encoded}"));

        Assert.Equal((decoded, decoded, decoded, decoded), (parsed.Username, parsed.Password, parsed.Database, parsed.ApplicationName));
    }

    [Fact]
    public void Parse_PostgresSchemeWithIPv6AndNoPort_TakesTheDefaultPort()
    {
        var parsed = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Parse("postgres://pv@[::1]/promptvault"));

        Assert.Equal(("::1", 5432, "pv", null, "promptvault"), (parsed.Host, parsed.Port, parsed.Username, parsed.Password, parsed.Database));
    }

    [Fact]
    public void Parse_ConnectionString_IsKeptAsNpgsqlReadsIt()
    {
        var parsed = PostgresConnectionString.Parse(" Host=db;Database=promptvault;Username=pv;Password=s3cret;SSL Mode=Require ");

        Assert.Equal(new NpgsqlConnectionStringBuilder("Host=db;Database=promptvault;Username=pv;Password=s3cret;SSL Mode=Require").ConnectionString, parsed);
    }

    [Theory]
    [InlineData("postgresql://pv:s3cret@db/promptvault?sslmode=sometimes", "sslmode 'sometimes'")]
    [InlineData("postgresql://pv:s3cret@db/promptvault?colour=blue", "parameter 'colour' is unknown")]
    [InlineData("postgresql://pv:s3cret@db/promptvault/extra", "one database name")]
    [InlineData("postgresql://pv:s3cret@/promptvault", "malformed")]
    [InlineData("mysql://pv:s3cret@db/promptvault", "postgresql://")]
    [InlineData("Host=db;Colour=blue", "colour")]
    [InlineData("  ", "empty")]
    public void Parse_Malformed_NamesTheProblem_NeverThePassword(string value, string problem)
    {
        var e = Assert.Throws<FormatException>(() => PostgresConnectionString.Parse(value));

        Assert.Contains(problem, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("s3cret", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=db;Password=ab;cd=ef")]
    [InlineData("Host=db;Username=pv;Password=ab;cd=ef;Database=promptvault")]
    [InlineData("Host=db;PWD=ab;Port=cd=ef")]
    [InlineData("Host=db;Password=ab;Port=cdef")]
    [InlineData("Host=db;SSL Password=ab;cd=ef")]
    public void Parse_PasswordWithAnUnquotedSemicolon_RepeatsNoPieceOfIt_AndSaysToQuoteIt(string value)
    {
        var e = Assert.Throws<FormatException>(() => PostgresConnectionString.Parse(value));

        Assert.Contains("not a valid Npgsql connection string", e.Message, StringComparison.Ordinal);
        Assert.Contains("Quote a value that contains ';'", e.Message, StringComparison.Ordinal);
        Assert.Null(e.InnerException);
        foreach (var piece in new[] { "cd", "ef", "port" })
            Assert.DoesNotContain(piece, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Describe_NamesHostPortAndDatabase_WithoutCredentials()
    {
        var described = PostgresConnectionString.Describe("Host=db.example.com;Port=6432;Database=promptvault;Username=pv;Password=s3cret");

        Assert.Equal("PostgreSQL database 'promptvault' on db.example.com:6432", described);
    }
}
