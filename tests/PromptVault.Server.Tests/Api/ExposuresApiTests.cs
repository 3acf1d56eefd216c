using System.Net;
using PromptVault.Core.Auth;
using static PromptVault.Server.Tests.ApiCalls;
using static PromptVault.Server.Tests.Experiments;

namespace PromptVault.Server.Tests.Api;

/// <summary><c>POST /api/exposures</c> (SPEC §5): exposures an SDK resolved locally count exactly like a render's.</summary>
public sealed class ExposuresApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    [Fact]
    public async Task Exposures_CountPerVariantByUnit_OnceEach_AndBringInTheUnitsEarlierEvents()
    {
        var (id, units) = await RunningExperimentWithUnitsAsync(12);
        await RecordAsync(_client, units.Select(u => (object)new { versionId = u.VersionId, experimentId = id, variantId = u.VariantId, unitId = u.UnitId, converted = true }));

        var (status, answer) = await PostAsync(_client, "/api/exposures", new { exposures = units.Select(Exposure).Append(Exposure(units[0])).ToArray() });
        var (again, repeated) = await PostAsync(_client, "/api/exposures", new { exposures = new[] { Exposure(units[0]) } });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(13, answer!["received"]!.GetValue<int>());
        Assert.Equal(12, answer["recorded"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(0, repeated!["recorded"]!.GetValue<int>());
        var (_, results) = await GetAsync(_client, $"/api/experiments/{id}/results");
        foreach (var variant in results!["variants"]!.AsArray())
        {
            var expected = units.Count(u => u.VariantId == variant.Str("variantId"));
            Assert.Equal(expected, variant!["exposures"]!.GetValue<long>());
            Assert.Equal(expected, variant["metrics"]!["conversionRate"]!["n"]!.GetValue<long>());
            Assert.Equal(0, variant["unattributedEvents"]?.GetValue<long>() ?? 0);
        }
    }

    [Fact]
    public async Task AnExposureAlreadyRecordedByARender_CountsOnce()
    {
        var (id, units) = await RunningExperimentWithUnitsAsync(1);
        var (_, experiment) = await GetAsync(_client, $"/api/experiments/{id}");
        var (rendered, _) = await PostAsync(_client, $"/api/prompts/{experiment.Str("prompt")}/render", new { variables = new { company_name = "Acme" }, unitId = units[0].UnitId });
        Assert.Equal(HttpStatusCode.OK, rendered);

        var (_, answer) = await PostAsync(_client, "/api/exposures", new { exposures = new[] { Exposure(units[0]) } });

        Assert.Equal(0, answer!["recorded"]!.GetValue<int>());
        var (_, results) = await GetAsync(_client, $"/api/experiments/{id}/results");
        Assert.Equal(1, results!["variants"]!.AsArray().Sum(v => v!["exposures"]!.GetValue<long>()));
    }

    public static TheoryData<string, string, string> BadBatches => new()
    {
        { """{ "exposures": [] }""", "exposures", "empty_batch" },
        { """{ }""", "exposures", "missing_exposures" },
        { """{ "exposures": [ null ] }""", "exposures[0]", "missing_exposure" },
        { """{ "exposures": [ { "variantId": "v", "unitId": "u" } ] }""", "exposures[0].experimentId", "missing_field" },
        { """{ "exposures": [ { "experimentId": "EXP", "variantId": "VAR", "unitId": "UNIT" }, { "experimentId": "EXP", "variantId": "VAR", "unitId": " " } ] }""", "exposures[1].unitId", "invalid_unit_id" },
        { """{ "exposures": [ { "experimentId": "EXP", "variantId": "VAR", "unitId": "UNIT", "timestamp": "2999-01-01T00:00:00Z" } ] }""", "exposures[0].timestamp", "timestamp_in_future" },
        { """{ "exposures": [ { "experimentId": "nope", "variantId": "VAR", "unitId": "UNIT" } ] }""", "exposures[0].experimentId", "invalid_exposure" },
        { """{ "exposures": [ { "experimentId": "EXP", "variantId": "nope", "unitId": "UNIT" } ] }""", "exposures[0].variantId", "invalid_exposure" },
        { """{ "exposures": [ { "experimentId": "EXP", "variantId": "OTHER", "unitId": "UNIT" } ] }""", "exposures[0].variantId", "invalid_exposure" },
    };

    [Theory]
    [MemberData(nameof(BadBatches))]
    public async Task ABadBatch_Is400NamingTheField_AndStoresNothing(string body, string field, string code)
    {
        var (id, units) = await RunningExperimentWithUnitsAsync(1);
        var unit = units[0];
        var (_, experiment) = await GetAsync(_client, $"/api/experiments/{id}");
        var other = experiment!["variants"]!.AsArray().Select(v => v.Str("id")).First(v => v != unit.VariantId);
        body = body.Replace("EXP", id).Replace("OTHER", other).Replace("VAR", unit.VariantId).Replace("UNIT", unit.UnitId);

        var (status, problem) = await PostAsync(_client, "/api/exposures", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, problem.Str("field"));
        Assert.Equal(code, problem.Str("code"));
        Assert.Equal(0, await ExposuresAsync(id));
    }

    [Fact]
    public async Task TooManyExposures_Is400()
    {
        var exposures = Enumerable.Range(0, 1_001).Select(i => new { experimentId = "e", variantId = "v", unitId = $"u{i}" }).ToArray();

        var (status, problem) = await PostAsync(_client, "/api/exposures", new { exposures });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("too_many", "exposures"), (problem.Str("code"), problem.Str("field")));
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Conflict)]
    [InlineData("cancel", HttpStatusCode.Conflict)]
    [InlineData("pause", HttpStatusCode.OK)]
    [InlineData("complete", HttpStatusCode.OK)]
    public async Task DraftAndCancelledExperiments_Refuse409_PausedAndCompletedTakeLateExposures(string? verb, HttpStatusCode expected)
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var experiment = await CreateAsync(_client, ThreeWay(name, versions));
        var id = experiment.Str("id");
        if (verb is not null)
        {
            await MoveAsync(_client, id, "start");
            await MoveAsync(_client, id, verb);
        }
        var (_, assignment) = await GetAsync(_client, $"/api/experiments/{id}/assignment?unitId=late");

        var (status, body) = await PostAsync(_client, "/api/exposures", new { exposures = new[] { new { experimentId = id, variantId = assignment.Str("variantId"), unitId = "late" } } });

        Assert.Equal(expected, status);
        if (expected == HttpStatusCode.Conflict)
            Assert.Equal(("experiment_not_accepting_events", "exposures[0].experimentId"), (body.Str("code"), body.Str("field")));
        Assert.Equal(expected == HttpStatusCode.OK ? 1 : 0, await ExposuresAsync(id));
    }

    [Fact]
    public async Task AWriterKeyMaySend_AReaderKeyMayNot_AndAnIdempotencyKeyIsAccepted()
    {
        var (id, units) = await RunningExperimentWithUnitsAsync(2);
        using var reader = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("sdk-reader", ApiKeyRole.Reader, TestContext.Current.CancellationToken));
        using var writer = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("sdk-writer", ApiKeyRole.Writer, TestContext.Current.CancellationToken));
        using var anonymous = fixture.Server.CreateClient("");
        var body = new { exposures = units.Select(Exposure).ToArray() };

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(anonymous, "/api/exposures", body)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(reader, "/api/exposures", body)).Status);
        writer.DefaultRequestHeaders.Add("Idempotency-Key", "batch-1");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(writer, "/api/exposures", body)).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(writer, "/api/exposures", body)).Status);
        Assert.Equal(2, await ExposuresAsync(id));
        writer.DefaultRequestHeaders.Remove("Idempotency-Key");
        writer.DefaultRequestHeaders.TryAddWithoutValidation("Idempotency-Key", new string('k', 256));
        var (malformed, problem) = await PostAsync(writer, "/api/exposures", body);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_idempotency_key"), (malformed, problem.Str("code")));
    }

    private static object Exposure(Unit unit) => new { experimentId = unit.ExperimentId, variantId = unit.VariantId, unitId = unit.UnitId };

    /// <summary>A running three-way experiment and <paramref name="count"/> units with their assigned variants.</summary>
    private async Task<(string Id, List<Unit> Units)> RunningExperimentWithUnitsAsync(int count)
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var id = (await CreateAsync(_client, ThreeWay(name, versions))).Str("id");
        await MoveAsync(_client, id, "start");
        var units = new List<Unit>();
        for (var u = 0; u < count; u++)
        {
            var (_, assignment) = await GetAsync(_client, $"/api/experiments/{id}/assignment?unitId=sdk-{u}");
            units.Add(new Unit(id, $"sdk-{u}", assignment.Str("variantId"), assignment.Str("versionId")));
        }
        return (id, units);
    }

    private async Task<long> ExposuresAsync(string id)
    {
        var (_, results) = await GetAsync(_client, $"/api/experiments/{id}/results");
        return results!["variants"]!.AsArray().Sum(v => v!["exposures"]!.GetValue<long>());
    }

    private sealed record Unit(string ExperimentId, string UnitId, string VariantId, string VersionId);

    /// <summary>A route whose body the framework binds says what is wrong with a timestamp, as POST /api/metrics does.</summary>
    [Theory]
    [InlineData("0001-01-01T00:00:00+01:00", "'exposures[0].timestamp' is invalid: 0001-01-01T00:00:00+01:00 is out of range: a date and time must fall within the years 1 to 9999 in UTC.")]
    [InlineData("10000-01-01T00:00:00Z", "'exposures[0].timestamp' is invalid: 10000-01-01T00:00:00Z is out of range: a date and time must fall within the years 1 to 9999 in UTC.")]
    [InlineData("0000-12-31T00:00:00Z", "'exposures[0].timestamp' is invalid: 0000-12-31T00:00:00Z is out of range: a date and time must fall within the years 1 to 9999 in UTC.")]
    [InlineData("10000-13-01T00:00:00Z", "'exposures[0].timestamp' is invalid: 10000-13-01T00:00:00Z is not an ISO 8601 date and time such as 2026-01-31T12:00:00Z.")]
    [InlineData("yesterday", "'exposures[0].timestamp' is invalid: yesterday is not an ISO 8601 date and time such as 2026-01-31T12:00:00Z.")]
    public async Task ATimestampItCannotRead_IsRefusedSayingWhatIsWrong(string timestamp, string detail)
    {
        var (status, problem) = await PostAsync(_client, "/api/exposures",
            new { exposures = new[] { new { experimentId = "e", variantId = "v", unitId = "u", timestamp } } });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("invalid_json", "exposures[0].timestamp", detail), (problem.Str("code"), problem.Str("field"), problem.Str("detail")));
    }
}
