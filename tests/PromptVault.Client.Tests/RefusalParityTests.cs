using System.Net;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;

namespace PromptVault.Client.Tests;

/// <summary>The SDK refuses what the server's render refuses, with the same code and field.</summary>
public sealed class RefusalParityTests(SdkServerFixture fixture) : IClassFixture<SdkServerFixture>
{
    private SdkServer Server => fixture.Server;

    [Fact]
    public async Task GetPromptAsync_VariableHoldingNul_RefusedAsTheServerRefusesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("nul");
        await Prompts.CreateAsync(Server.Api, name, "{{s}} {{o.k}}", [new VariableDefinition("s"), new VariableDefinition("o", VariableType.Object)],
            cancellationToken: ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);

        // Also for a prompt that does not exist: the server refuses the text while reading the request, before it looks.
        foreach (var prompt in new[] { name, Prompts.NewName("missing") })
        {
            await AssertSameRefusalAsync(HttpStatusCode.BadRequest, "invalid_text", "variables.s",
                () => Server.Api.RenderAsync(prompt, new RenderRequest(new Dictionary<string, System.Text.Json.JsonElement> { ["s"] = Prompts.Json("\"a\\u0000\"") }), ct),
                () => host.Vault.GetPromptAsync(prompt, new Dictionary<string, object?> { ["s"] = "a\0" }, cancellationToken: ct).AsTask());
            await AssertSameRefusalAsync(HttpStatusCode.BadRequest, "invalid_text", "variables.o.k[1]",
                () => Server.Api.RenderAsync(prompt, new RenderRequest(new Dictionary<string, System.Text.Json.JsonElement> { ["o"] = Prompts.Json("""{ "k": ["x", "\u0000"] }""") }), ct),
                () => host.Vault.GetPromptAsync(prompt, new Dictionary<string, object?> { ["o"] = new Dictionary<string, object?> { ["k"] = new[] { "x", "\0" } } },
                    cancellationToken: ct).AsTask());
            // A lone surrogate: the JSON writer escapes it, and the server refuses it as text that is not valid UTF-16.
            await AssertSameRefusalAsync(HttpStatusCode.BadRequest, "invalid_text", "variables.s",
                () => PostRawRenderAsync(prompt, """{"variables":{"s":"a\ud800"}}""", ct),
                () => host.Vault.GetPromptAsync(prompt, new Dictionary<string, object?> { ["s"] = "a\ud800" }, cancellationToken: ct).AsTask());
        }
    }

    /// <summary>
    /// A render's refusal says which prompt and version refused it, in its words and as members (the REST problem's
    /// <c>promptName</c> and <c>version</c>, the SDK exception's properties): in an experiment, the unit's variant's version.
    /// </summary>
    [Fact]
    public async Task GetPromptAsync_MissingVariable_RefusalNamesThePromptAndTheVersionRendered()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("names");
        VariableDefinition[] who = [new VariableDefinition("who", Required: true)];
        var one = await Prompts.CreateAsync(Server.Api, name, "one {{who}}", who, cancellationToken: ct);
        var two = await Server.Api.CreateVersionAsync(name, new CreateVersionRequest("two {{who}}", who, ChangeDescription: "test"), ct);
        await Prompts.StartExperimentAsync(Server.Api, name, [(one, 50m), (two.Id, 50m)], ct);
        // A unit the experiment serves version two, found by rendering as it would be served.
        var unit = Enumerable.Range(0, 100).Select(i => $"unit-{i}").First(u =>
            Server.Api.RenderAsync(name, new RenderRequest(new Dictionary<string, System.Text.Json.JsonElement> { ["who"] = Prompts.Json("\"x\"") }, UnitId: u), ct)
                .GetAwaiter().GetResult().Version == two.Version);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);

        var byLabel = await AssertSameRefusalAsync(HttpStatusCode.BadRequest, "missing_variable", "variables.who",
            () => Server.Api.RenderAsync(name, new RenderRequest(), ct),
            () => host.Vault.GetPromptAsync(name, cancellationToken: ct).AsTask());
        var byVariant = await AssertSameRefusalAsync(HttpStatusCode.BadRequest, "missing_variable", "variables.who",
            () => Server.Api.RenderAsync(name, new RenderRequest(UnitId: unit), ct),
            () => host.Vault.GetPromptAsync(name, unitId: unit, cancellationToken: ct).AsTask());
        var remote = await Assert.ThrowsAsync<PromptVaultApiException>(() => Server.Api.RenderAsync(name, new RenderRequest(UnitId: unit), ct));

        Assert.StartsWith($"prompt '{name}' version 1.0.0 refused the render: variable 'who'", byLabel, StringComparison.Ordinal);
        Assert.StartsWith($"prompt '{name}' version {two.Version} refused the render: variable 'who'", byVariant, StringComparison.Ordinal);
        Assert.Equal((name, two.Version), (remote.PromptName, remote.Version));
    }

    /// <summary>
    /// A .NET value that holds itself (which no JSON request can) is refused where the SDK first walks the variables, naming
    /// where the depth limit was crossed, rather than overflowing the stack and ending the caller's process.
    /// </summary>
    [Fact]
    public async Task GetPromptAsync_ValueThatHoldsItself_RefusedNamingWhereTheDepthLimitIsCrossed()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("self");
        await Prompts.CreateAsync(Server.Api, name, "{{order}}", [new VariableDefinition("order", VariableType.Object)], cancellationToken: ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var items = new List<object?>();
        items.Add(items);
        var order = new Dictionary<string, object?> { ["items"] = items };
        var self = new Dictionary<string, object?>();
        self["self"] = self;

        var inList = await Assert.ThrowsAsync<InvalidInputException>(async () =>
            await host.Vault.GetPromptAsync(name, new Dictionary<string, object?> { ["order"] = order }, cancellationToken: ct));
        var inDictionary = await Assert.ThrowsAsync<InvalidInputException>(async () =>
            await host.Vault.GetPromptAsync(name, new Dictionary<string, object?> { ["order"] = self }, cancellationToken: ct));

        // The path names the first levels, then '…': it once repeated items[0] 63 times.
        Assert.Equal(("invalid_variable", "variables.order.items[0][0][0]…"), (inList.Code, inList.Field));
        Assert.Equal(("invalid_variable", "variables.order.self.self.self.self…"), (inDictionary.Code, inDictionary.Field));
        Assert.Equal($"'variables.order.items[0][0][0]…' holds itself or nests arrays and objects more than {TemplateLimits.MaxValueDepth} deep; "
            + $"the value depth limit is {TemplateLimits.MaxValueDepth}.", inList.Message);
        Assert.EndsWith($"the value depth limit is {TemplateLimits.MaxValueDepth}.", inDictionary.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public async Task GetPromptAsync_UnknownPromptWithEmptyUnitId_RefusesTheUnitIdAsTheServerDoes(string unitId)
    {
        var ct = TestContext.Current.CancellationToken;
        await Prompts.CreateAsync(Server.Api, Prompts.NewName("present"), "x", cancellationToken: ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var missing = Prompts.NewName("missing");

        var detail = await AssertSameRefusalAsync(HttpStatusCode.BadRequest, "invalid_unit_id", "unitId",
            () => Server.Api.RenderAsync(missing, new RenderRequest(UnitId: unitId), ct),
            () => host.Vault.GetPromptAsync(missing, unitId: unitId, cancellationToken: ct).AsTask());
        // A render's unit id is optional: it once said "unitId is required and must not be empty".
        Assert.StartsWith("unitId is blank;", detail, StringComparison.Ordinal);
        // A name no prompt could have is refused as such, not as missing.
        await AssertSameRefusalAsync(HttpStatusCode.BadRequest, "invalid_name", "name",
            () => Server.Api.RenderAsync("Not A Name", new RenderRequest(), ct),
            () => host.Vault.GetPromptAsync("Not A Name", cancellationToken: ct).AsTask());
    }

    /// <summary>A blank unit id is refused whether or not an experiment would assign it: by a label or a version, it was once
    /// served as "no unit" by both, skipping the experiment unsaid.</summary>
    [Theory]
    [InlineData("", "staging", null)]
    [InlineData("  ", null, "1.0.0")]
    public async Task GetPromptAsync_BlankUnitIdWithALabelOrVersion_RefusedAsTheServerRefusesIt(string unitId, string? label, string? version)
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("blank-unit");
        await Prompts.CreateAsync(Server.Api, name, "x", cancellationToken: ct);
        await Server.Api.MoveLabelAsync(name, "staging", "1.0.0", ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);

        var detail = await AssertSameRefusalAsync(HttpStatusCode.BadRequest, "invalid_unit_id", "unitId",
            () => Server.Api.RenderAsync(name, new RenderRequest(UnitId: unitId, Label: label, Version: version), ct),
            () => host.Vault.GetPromptAsync(name, unitId: unitId, label: label, version: version, cancellationToken: ct).AsTask());
        Assert.StartsWith("unitId is blank;", detail, StringComparison.Ordinal);
    }

    /// <summary>An outcome recorded for a resolution with a blank unit id (one a caller made) is refused to its caller: the server
    /// would refuse the event later, and its batch's other events with it.</summary>
    [Fact]
    public async Task RecordAsync_ResolutionWithABlankUnitId_Refused()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var resolution = new ResolvedPrompt("p", "x", Microsoft.Extensions.AI.ChatRole.System, "1.0.0", "v", null, null, " ",
            new Microsoft.Extensions.AI.ChatOptions(), "pv1.x");

        var refused = await Assert.ThrowsAsync<InvalidInputException>(async () => await host.Vault.RecordAsync(resolution, new PromptOutcome(), ct));

        Assert.Equal(("invalid_unit_id", "resolution.UnitId"), (refused.Code, refused.Field));
    }

    /// <summary>A prompt with no label is in the snapshot (label_not_found), so prompt_not_found says only that there is no such prompt.</summary>
    [Fact]
    public async Task GetPromptAsync_UnknownPromptOrNoLabel_ErrorSaysWhichAndWhy()
    {
        var ct = TestContext.Current.CancellationToken;
        var unlabelled = Prompts.NewName("unlabelled");
        await Server.Api.CreatePromptAsync(new CreatePromptRequest(unlabelled, Type: PromptType.System, Content: "x"), ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var missing = Prompts.NewName("missing");

        var noLabel = await Assert.ThrowsAsync<NotFoundException>(async () => await host.Vault.GetPromptAsync(unlabelled, cancellationToken: ct));
        var noPrompt = await Assert.ThrowsAsync<NotFoundException>(async () => await host.Vault.GetPromptAsync(missing, cancellationToken: ct));

        Assert.Equal("label_not_found", noLabel.Code);
        Assert.Equal("prompt_not_found", noPrompt.Code);
        // It once said "it does not exist or has no labelled version", sending the reader after a label.
        Assert.DoesNotContain("label", noPrompt.Message, StringComparison.Ordinal);
        Assert.Contains($"prompt '{missing}' does not exist in snapshot {host.Sdk.Snapshots.Current!.Sequence}", noPrompt.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A unit id the server cannot read as text (a lone surrogate: a user name cut in the middle of an emoji, say) is refused
    /// by the SDK too, rather than served and then lost with its exposure and events, which the server refuses.
    /// </summary>
    [Theory]
    [InlineData(@"user-\ud83d")]
    [InlineData(@"\ude00user")]
    [InlineData(@"user\u0000")]
    public async Task GetPromptAsync_UnitIdThatIsNotText_RefusedAsTheServerRefusesIt(string unitIdInJson)
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("unit");
        await Prompts.CreateAsync(Server.Api, name, "x", cancellationToken: ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var unitId = System.Text.RegularExpressions.Regex.Unescape(unitIdInJson);

        await AssertSameRefusalAsync(HttpStatusCode.BadRequest, "invalid_text", "unitId",
            () => PostRawRenderAsync(name, $$"""{"unitId":"{{unitIdInJson}}"}""", ct),
            () => host.Vault.GetPromptAsync(name, unitId: unitId, cancellationToken: ct).AsTask());
        // Also when a version is named, and the experiment does not pick it: the unit id still goes with the call's events.
        await AssertSameRefusalAsync(HttpStatusCode.BadRequest, "invalid_text", "unitId",
            () => PostRawRenderAsync(name, $$"""{"unitId":"{{unitIdInJson}}","version":"1.0.0"}""", ct),
            () => host.Vault.GetPromptAsync(name, unitId: unitId, version: "1.0.0", cancellationToken: ct).AsTask());
    }

    /// <summary>A blank version is refused like an empty label, not read as "no version" (which would serve production unasked).</summary>
    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public async Task GetPromptAsync_BlankVersion_RefusedAsTheServerRefusesIt(string version)
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("blank-version");
        await Prompts.CreateAsync(Server.Api, name, "one", cancellationToken: ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);

        await AssertSameRefusalAsync(HttpStatusCode.BadRequest, "blank_field", "version",
            () => Server.Api.RenderAsync(name, new RenderRequest(Version: version), ct),
            () => host.Vault.GetPromptAsync(name, version: version, cancellationToken: ct).AsTask());
    }

    /// <summary>A label and a version both given are refused, not resolved by dropping the label, before the prompt is looked up.</summary>
    [Fact]
    public async Task GetPromptAsync_LabelAndVersion_RefusedAsTheServerRefusesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("label-and-version");
        await Prompts.CreateAsync(Server.Api, name, "one", cancellationToken: ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);

        foreach (var prompt in new[] { name, Prompts.NewName("missing") })
        {
            await AssertSameRefusalAsync(HttpStatusCode.BadRequest, "label_and_version", "label",
                () => Server.Api.RenderAsync(prompt, new RenderRequest(Label: "production", Version: "1.0.0"), ct),
                () => host.Vault.GetPromptAsync(prompt, label: "production", version: "1.0.0", cancellationToken: ct).AsTask());
        }
    }

    /// <summary>
    /// A version the prompt does not have is refused in the server's words (a label's name given as a version says where the
    /// label is); one the server may hold outside the snapshot (an unlabelled older version) is said to be missing from the snapshot.
    /// </summary>
    [Fact]
    public async Task GetPromptAsync_MissingVersion_MessageIsTheServers()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("missing-version");
        await Prompts.CreateAsync(Server.Api, name, "one", cancellationToken: ct);
        await Prompts.AddVersionAsync(Server.Api, name, "two", ct);
        await Prompts.AddVersionAsync(Server.Api, name, "three", ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);

        foreach (var version in new[] { "9.9.9", Label.Production })
        {
            var detail = await AssertSameRefusalAsync(HttpStatusCode.NotFound, "version_not_found", null,
                () => Server.Api.RenderAsync(name, new RenderRequest(Version: version), ct),
                () => host.Vault.GetPromptAsync(name, version: version, cancellationToken: ct).AsTask());
            var read = await Assert.ThrowsAsync<PromptVaultApiException>(() => Server.Api.GetVersionAsync(name, version, ct));
            Assert.Equal(detail, read.Detail);
        }
        var unlabelled = await Assert.ThrowsAsync<NotFoundException>(async () => await host.Vault.GetPromptAsync(name, version: "1.0.1", cancellationToken: ct));
        Assert.Equal($"prompt '{name}' has no version '1.0.1' in the snapshot (it carries the labelled versions, those of running experiments and the newest).",
            unlabelled.Message);
    }

    /// <summary>An archived version that no label or variant points at is not in the snapshot's versions, but in its <c>archived</c>.</summary>
    [Fact]
    public async Task GetPromptAsync_ArchivedVersionByNumberOrId_RefusedAsArchivedAsTheServerRefusesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("archived");
        await Prompts.CreateAsync(Server.Api, name, "one", cancellationToken: ct);
        var archivedId = await Prompts.AddVersionAsync(Server.Api, name, "two", ct);
        await Prompts.AddVersionAsync(Server.Api, name, "three", ct);
        var archived = await Server.Api.ChangeStatusAsync(name, archivedId, VersionStatus.Archived, ct);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.UseStream = false, cancellationToken: ct);

        foreach (var version in new[] { archived.Version, archivedId })
        {
            await AssertSameRefusalAsync(HttpStatusCode.Conflict, "version_archived", "version",
                () => Server.Api.RenderAsync(name, new RenderRequest(Version: version), ct),
                () => host.Vault.GetPromptAsync(name, version: version, cancellationToken: ct).AsTask());
        }
    }

    /// <summary>
    /// An include of a version archived since it was saved is refused as the other render refusals are: still 409
    /// version_archived, worded as the prompt and version rendered refusing it, which the problem also carries. Only an
    /// unlabelled version can still include it (a label there keeps it from being archived), which the SDK's snapshot does not hold.
    /// </summary>
    [Fact]
    public async Task Render_IncludeOfAnArchivedVersion_RefusedAsARender()
    {
        var ct = TestContext.Current.CancellationToken;
        var guard = Prompts.NewName("guard");
        await Prompts.CreateAsync(Server.Api, guard, "old guard", cancellationToken: ct);
        var newer = await Prompts.AddVersionAsync(Server.Api, guard, "new guard", ct);
        await Server.Api.MoveLabelAsync(guard, Label.Production, newer, ct);
        var includer = Prompts.NewName("includer");
        await Prompts.CreateAsync(Server.Api, includer, $"Hi. {{{{> {guard}@1.0.0}}}}", cancellationToken: ct);
        await Server.Api.MoveLabelAsync(includer, Label.Production, await Prompts.AddVersionAsync(Server.Api, includer, "Hi.", ct), ct);
        await Server.Api.ChangeStatusAsync(guard, (await Server.Api.GetVersionAsync(guard, "1.0.0", ct)).Id, VersionStatus.Archived, ct);

        var refusal = await Assert.ThrowsAsync<PromptVaultApiException>(() => Server.Api.RenderAsync(includer, new RenderRequest(Version: "1.0.0"), ct));

        Assert.Equal((HttpStatusCode.Conflict, "version_archived", "content"), (refusal.StatusCode, refusal.Code, refusal.Field));
        Assert.Equal((includer, "1.0.0"), (refusal.PromptName, refusal.Version));
        Assert.Equal($"prompt '{includer}' version 1.0.0 refused the render: content includes {{{{> {guard}@1.0.0}}}}, "
            + $"but version 1.0.0 of '{guard}' is archived and can never serve traffic.", refusal.Detail);
    }

    /// <summary>A render request written by hand: the client's JSON writer cannot write a lone surrogate.</summary>
    private async Task PostRawRenderAsync(string prompt, string body, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = Server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/prompts/{prompt}/render")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Server.AdminKey);
        using var response = await http.SendAsync(request, cancellationToken);
        using var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var root = problem.RootElement;
        throw new PromptVaultApiException(response.StatusCode, root.GetProperty("code").GetString()!, root.GetProperty("detail").GetString()!,
            root.TryGetProperty("field", out var field) ? field.GetString() : null);
    }

    /// <summary>The server's refusal over HTTP and the SDK's in process agree on code, field and explanation.</summary>
    /// <returns>The server's detail, which the SDK's message equals.</returns>
    private static async Task<string?> AssertSameRefusalAsync(HttpStatusCode status, string code, string? field, Func<Task> server, Func<Task> sdk)
    {
        var remote = await Assert.ThrowsAsync<PromptVaultApiException>(server);
        Assert.Equal((status, code, field), (remote.StatusCode, remote.Code, remote.Field));
        var local = await Assert.ThrowsAnyAsync<PromptVaultException>(sdk);
        Assert.Equal((code, field, remote.Detail), (local.Code, local.Field, local.Message));
        Assert.Equal((remote.PromptName, remote.Version), (local.PromptName, local.Version));
        return remote.Detail;
    }
}
