using System.Text.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Storage;
using PromptVault.Core.Registry;

namespace PromptVault.Core.Tests.Contracts;

[CollectionDefinition(nameof(RequestTimeTests), DisableParallelization = true)]
public sealed class RequestTimeCollection;

/// <summary>
/// A request's date and time without an offset is UTC wherever it is read, whatever the server's time zone. Each test runs
/// with the process's local zone set to Tokyo (UTC+9), alone, as the zone is the whole process's.
/// </summary>
[Collection(nameof(RequestTimeTests))]
public sealed class RequestTimeTests : IDisposable
{
    private readonly string? _zone = Environment.GetEnvironmentVariable("TZ");

    public RequestTimeTests()
    {
        Environment.SetEnvironmentVariable("TZ", "Asia/Tokyo");
        TimeZoneInfo.ClearCachedData();
        Assert.Equal(TimeSpan.FromHours(9), TimeZoneInfo.Local.BaseUtcOffset);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("TZ", _zone);
        TimeZoneInfo.ClearCachedData();
    }

    private static readonly DateTimeOffset Noon = new(2026, 1, 31, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("2026-01-31T12:00:00")]
    [InlineData("2026-01-31T12:00:00.000")]
    [InlineData("2026-01-31T12:00")]
    public void BodyTimestampWithoutOffset_IsUtc_AsTheAuditFilterReadsIt(string text)
    {
        var body = JsonSerializer.Deserialize<MetricEventRequest>($$"""{"timestamp": "{{text}}"}""", PromptVaultJson.Requests)!;

        Assert.Equal((Noon, TimeSpan.Zero), (body.Timestamp, body.Timestamp!.Value.Offset));
        Assert.Equal(AuditQuery.ParseTime(text, "from"), body.Timestamp);
    }

    [Theory]
    [InlineData("2026-01-31T12:00:00Z")]
    [InlineData("2026-01-31T21:00:00+09:00")]
    [InlineData("2026-01-31T07:00-05:00")]
    public void TimestampWithAnOffset_KeepsIt_InABodyAndTheAuditFilter(string text)
    {
        var body = JsonSerializer.Deserialize<MetricEventRequest>($$"""{"timestamp": "{{text}}"}""", PromptVaultJson.Requests)!;

        Assert.Equal(Noon, body.Timestamp);
        Assert.Equal(Noon, AuditQuery.ParseTime(text, "from"));
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("9999-12-31T23:30-01:00")]
    [InlineData("0000-01-01")]
    [InlineData("10000-01-01T00:00:00Z")]
    public void AuditFilterOutOfRange_SaysSo_AsABodyDoes(string text)
    {
        var refused = Assert.Throws<InvalidInputException>(() => AuditQuery.ParseTime(text, "from"));

        Assert.Equal(($"from '{text}' is out of range: a date and time must fall within the years 1 to 9999 in UTC.", "invalid_time", "from"),
            (refused.Message, refused.Code, refused.Field));
    }

    [Fact]
    public void AuditFilterDateWithoutTime_IsMidnightUtc() =>
        Assert.Equal((new DateTimeOffset(2026, 1, 31, 0, 0, 0, TimeSpan.Zero), TimeSpan.Zero),
            (AuditQuery.ParseTime("2026-01-31", "to"), AuditQuery.ParseTime("2026-01-31", "to")!.Value.Offset));

    [Fact]
    public async Task ImportedTimeWithoutOffset_IsUtc_AsARequestsIs()
    {
        var document = $$"""
            {"format": "{{RegistryArchiveSchema.Format}}", "formatVersion": {{RegistryArchiveSchema.FormatVersion}},
             "labels": [{"promptId": "p", "name": "production", "versionId": "v", "updatedAt": "2026-01-31T12:00:00", "updatedBy": "admin"}]}
            """;

        var archive = await RegistryArchiveJson.ReadAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(document)), CancellationToken.None);

        var updatedAt = archive[RegistryArchiveSchema.Labels].Single()[RegistryArchiveSchema.Labels.IndexOf("updatedAt")];
        Assert.Equal(Noon, DateTimeOffset.Parse((string)updatedAt!, System.Globalization.CultureInfo.InvariantCulture));
    }
}
