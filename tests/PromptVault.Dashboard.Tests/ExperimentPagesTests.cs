using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using PromptVault.Core.Analysis;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using PromptVault.Server.Dashboard.Shared;
using PromptVault.Server.Tests;

namespace PromptVault.Dashboard.Tests;

/// <summary>Create and start an experiment in the browser, then watch its page follow traffic sent through the API, without a reload.</summary>
public sealed class ExperimentPagesTests(DashboardFixture fixture) : DashboardTest
{
    /// <summary>The prompt page had no way to start an experiment, and /experiments/new ignored ?prompt=: the form now starts on that prompt, its versions offered.</summary>
    [Fact]
    public async Task PromptPage_StartExperiment_OpensTheFormOnThatPromptWithItsVersions()
    {
        using var api = fixture.Server.CreateClient();
        await CreatePromptOfTwoVersionsAsync(api, "start/from-prompt", "Hello", "Hello there");
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync("/prompts/start%2Ffrom-prompt");

        await page.GetByRole(AriaRole.Link, new() { Name = "Start experiment" }).ClickAsync();

        await fixture.WaitForPageAsync(page, "/experiments/new?prompt=start%2Ffrom-prompt");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToHaveValueAsync("start/from-prompt");
        await Assertions.Expect(page.Locator("#variant-0-version-suggested option")).ToHaveCountAsync(2);
    }

    [Fact]
    public async Task Experiment_CreateStartAndMetricEvents_PageUpdatesWithoutReload()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        await CreatePromptOfTwoVersionsAsync(api, "checkout/upsell", "Buy more", "Buy more, save more");
        var page = await OpenNewExperimentFormAsync("upsell-wording", "checkout/upsell");

        await page.GetByLabel("Weight of variant 2 (%)").FillAsync("40");
        await Assertions.Expect(page.GetByText("Weights sum to 90%; they must sum to 100.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Create experiment" })).ToBeDisabledAsync();
        await page.GetByLabel("Weight of variant 2 (%)").FillAsync("50");
        await Assertions.Expect(page.GetByTestId("sample-size")).ToContainTextAsync("units per variant");
        await DashboardFixture.ScreenshotAsync(page, "experiment-new");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
        await page.GetByRole(AriaRole.Button, new() { Name = "Create experiment" }).ClickAsync();

        await fixture.WaitForPageAsync(page, new Regex("/experiments/[^/?]+$"));
        await page.Locator("[data-testid=experiment-status]").WaitForAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Start" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("experiment-status")).ToHaveTextAsync("running");
        await Assertions.Expect(page.GetByTestId("exposures-control")).ToHaveTextAsync("0");
        var experimentId = page.Url[(page.Url.LastIndexOf('/') + 1)..];

        // Traffic through the API: renders expose units, metric events report conversions.
        var events = new List<MetricEventRequest>();
        for (var unit = 0; unit < 40; unit++)
        {
            var render = await api.PostAsJsonAsync("/api/prompts/checkout%2Fupsell/render", new RenderRequest(UnitId: $"user-{unit}"), PromptVaultJson.Options, cancellationToken);
            render.EnsureSuccessStatusCode();
            var rendered = (await render.Content.ReadFromJsonAsync<RenderResponse>(PromptVaultJson.Options, cancellationToken))!;
            events.Add(new MetricEventRequest(VersionId: rendered.VersionId, ExperimentId: rendered.ExperimentId, VariantId: rendered.VariantId,
                UnitId: $"user-{unit}", LatencyMs: 100 + unit, Converted: unit % 3 == 0));
        }
        var recorded = await api.PostAsJsonAsync("/api/metrics", new MetricBatchRequest(events), PromptVaultJson.Options, cancellationToken);
        Assert.True(recorded.IsSuccessStatusCode, await recorded.Content.ReadAsStringAsync(cancellationToken));
        var results = await api.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/experiments/{experimentId}/results", cancellationToken);
        var controlExposures = results.GetProperty("variants").EnumerateArray().Single(v => v.GetProperty("name").GetString() == "control").GetProperty("exposures").GetInt64();

        // The open page follows without a reload.
        Assert.True(controlExposures > 0);
        await Assertions.Expect(page.GetByTestId("exposures-control")).ToHaveTextAsync(controlExposures.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(page.GetByTestId("value-control")).Not.ToHaveTextAsync("– (n = 0)");
        await DashboardFixture.ScreenshotAsync(page, "experiment");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));

        // A page opened now charts the interval from the stored looks: its first render (before any live update) has it.
        var fresh = await fixture.OpenAsync(fixture.Server.AdminKey);
        await fresh.GotoAsync($"/experiments/{experimentId}");
        // It is the interval of the difference, as the card's "Always-valid interval", in its unit: percentage points for a rate
        // (it was titled a lift, a relative change, and read as bare fractions: 0.05 where the card says +5.0 pp).
        var narrowing = fresh.Locator("figure.chart", new() { Has = fresh.Locator("figcaption", new() { HasTextString = "difference interval" }) });
        Assert.Equal(1, await narrowing.CountAsync());
        await Assertions.Expect(narrowing.Locator("svg")).ToHaveAttributeAsync("aria-label", new Regex(@"lower latest [+-]?\d+\.\d+? pp; upper latest [+-]?\d+\.\d+? pp$"));

        // The same events feed the per-version metrics charts of the prompt's page.
        var history = await fixture.OpenAsync(fixture.Server.AdminKey);
        await history.GotoAsync("/prompts/checkout%2Fupsell?metrics=1.0.0&period=day");
        await Assertions.Expect(history.GetByText($"{controlExposures} requests")).ToBeVisibleAsync();
        await Assertions.Expect(history.Locator("figure.chart polyline").First).ToBeAttachedAsync();
        await DashboardFixture.ScreenshotAsync(history, "prompt-metrics");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(history));

        await page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("experiment-status")).ToHaveTextAsync("paused");
        await page.GotoAsync("/experiments");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "upsell-wording" })).ToBeVisibleAsync();
        await DashboardFixture.ScreenshotAsync(page, "experiments");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
        await page.GotoAsync("/audit?action=experiment.started");
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "experiment.started" }).First).ToBeVisibleAsync();
        await DashboardFixture.ScreenshotAsync(page, "audit");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
        // The time window is applied by the store: a window before any entry matches none of them.
        await page.GotoAsync("/audit?action=experiment.started&to=2000-01-01T00:00");
        await Assertions.Expect(page.GetByText("0 matching entries.")).ToBeVisibleAsync();
        await page.GotoAsync("/audit?action=experiment.started&from=tomorrow");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "From 'tomorrow'" })).ToBeVisibleAsync();
    }

    /// <summary>Create refused on the New experiment page: its error is announced once per try by its role=alert alone (it took
    /// the focus too, announced twice), and the same error again is a new element, announced again (<c>FormError</c>).</summary>
    [Fact]
    public async Task NewExperiment_CreateRefusedFromTheKeyboard_AnnouncesTheErrorOncePerTry()
    {
        var page = await OpenEmptyNewExperimentFormAsync();

        var error = page.GetByRole(AriaRole.Alert);
        await DashboardFixture.CountInsertionsAsync(page, "[role=alert]");
        foreach (var tries in new[] { 1, 2 })
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Create experiment" }).FocusAsync();
            await page.Keyboard.PressAsync("Enter");
            await DashboardFixture.ExpectInsertionsAsync(page, tries);
            await DashboardFixture.ExpectAnnouncedOnceAsync(page, error, "");
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Create experiment" })).ToBeFocusedAsync();
        }
    }

    /// <summary>
    /// The statistics fields' bounds were written into the form: confidence at most 99.9% in steps of 0.1 (the server takes up
    /// to 99.99%), no most for the detectable effect (the server's is 1000%) and no bounds for a guardrail's threshold (0 to
    /// 10), so the browser marked a confidence the server accepts as invalid and passed an effect and thresholds it refuses;
    /// steps the server does not have (power in whole percents) marked 85.5% wrong. Each field now marks invalid exactly
    /// what the rule refuses.
    /// </summary>
    [Fact]
    public async Task NewExperiment_StatisticsFields_MarkInvalidExactlyWhatTheServerRefuses()
    {
        var page = await OpenEmptyNewExperimentFormAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add guardrail" }).ClickAsync();
        await page.GetByLabel("Guardrail 1 metric").SelectOptionAsync(nameof(MetricName.AvgLatencyMs)); // lower is better: any threshold in range

        await DashboardFixture.ExpectValidAsTheServerSaysAsync(page, "confidence", ["49.99", "50", "95.5", "99.95", "99.99", "99.995"],
            percent => Validate(Valid with { ConfidenceLevel = percent / 100 }));
        await DashboardFixture.ExpectValidAsTheServerSaysAsync(page, "mde", ["0.05", "0.1", "2.55", "1000", "1000.1", "2000"],
            percent => Validate(Valid with { MinimumDetectableEffect = percent / 100 }));
        await DashboardFixture.ExpectValidAsTheServerSaysAsync(page, "power", ["49", "50", "85.5", "99", "100"],
            percent => Validate(Valid with { Power = percent / 100 }));
        await DashboardFixture.ExpectValidAsTheServerSaysAsync(page, "guardrail-0-threshold", ["-0.1", "0", "0.25", "10", "10.5"],
            threshold => Validate(Valid with { Guardrails = [new(MetricName.AvgLatencyMs, threshold)] }));

        // What the browser marks shows once the user leaves the field.
        await page.Locator("#mde").FillAsync("2000");
        await page.Locator("#mde").BlurAsync();
        Assert.Equal("rgb(164, 14, 38)", await page.Locator("#mde").EvaluateAsync<string>("e => getComputedStyle(e).borderTopColor"));

        static void Validate(CreateExperimentRequest request) => ExperimentRules.ValidateExperiment(request, stored: false);
    }

    private static readonly CreateExperimentRequest Valid = new("bounds", "p",
        [new VariantRequest("a", "v1", 50), new VariantRequest("b", "v2", 50)]);

    /// <summary>An experiment's name is a display name: one holding a bidi override, typed in the New experiment page, is refused
    /// as through the API (PromptRules.ValidateDisplayName), named next to the form, and nothing is created.</summary>
    [Fact]
    public async Task NewExperiment_ANameWithABidiOverride_IsRefusedNamingIt_CreatesNothing()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        await CreatePromptOfTwoVersionsAsync(api, "bidi/pick", "Pick", "Pick one");
        var page = await OpenNewExperimentFormAsync("pick\u202Egnidrow", "bidi/pick");

        await page.GetByRole(AriaRole.Button, new() { Name = "Create experiment" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("name holds U+202E, an invisible format character, at character 5");
        Assert.EndsWith("/experiments/new", page.Url, StringComparison.Ordinal);
        var listed = await api.GetStringAsync("/api/experiments", cancel);
        Assert.DoesNotContain("gnidrow", listed, StringComparison.Ordinal);
    }

    /// <summary>The New experiment page had no way to set promoteWinner (the API, CLI and MCP have), so an experiment created in the
    /// dashboard never promoted its winner. Its checkbox is passed through, and the experiment's page says so.</summary>
    [Fact]
    public async Task NewExperiment_PromoteTheWinnerChecked_CreatesAnExperimentThatPromotesIt()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest("promote/pick", Content: "Pick"), PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync("/api/prompts/promote%2Fpick/versions", new CreateVersionRequest("Pick one", ChangeDescription: "Shorter"), PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
        var page = await OpenNewExperimentFormAsync("pick-wording", "promote/pick");

        await page.GetByLabel("Promote the winner on completion").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create experiment" }).ClickAsync();

        await fixture.WaitForPageAsync(page, new Regex("/experiments/[^/?]+$"));
        await Assertions.Expect(page.GetByText("promotes its winner to production on completion")).ToBeVisibleAsync();
        var experimentId = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        var stored = (await api.GetFromJsonAsync<ExperimentResponse>($"/api/experiments/{experimentId}", PromptVaultJson.Options, cancel))!;
        Assert.True(stored.PromoteWinner);
    }

    /// <summary>
    /// The form's second variant was a group named "Variant 1" holding the fields "Name of variant 2", "Version of variant 2"
    /// and "Weight of variant 2"; each group is now named by its fields' number. The "Promote the winner on completion"
    /// checkbox sat alone in the middle of the form, stretched across its field's column: it now lines up under its label.
    /// </summary>
    [Fact]
    public async Task NewExperiment_GroupsNumberedAsTheirFields_CheckboxUnderItsLabel()
    {
        var page = await OpenEmptyNewExperimentFormAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add variant" }).ClickAsync();

        foreach (var (group, number) in new[] { ("Variant 1 (control)", 1), ("Variant 2", 2), ("Variant 3", 3) })
            await Assertions.Expect(page.GetByRole(AriaRole.Group, new() { Name = group, Exact = true }).GetByLabel($"Name of variant {number}")).ToBeVisibleAsync();
        // Stretched, its box was as wide as the form's column and the browser drew the box in the middle of it.
        var label = (await page.Locator("label[for=promote-winner]").BoundingBoxAsync())!;
        var checkbox = (await page.GetByLabel("Promote the winner on completion").BoundingBoxAsync())!;
        Assert.True(checkbox.Width < 2 * checkbox.Height && Math.Abs(checkbox.X - label.X) < checkbox.Width,
            $"the checkbox is {checkbox.Width} px wide at x = {checkbox.X}, its label at x = {label.X}");
    }

    /// <summary>
    /// The page re-read the experiment and ran its analysis every two seconds for as long as it was open, also once the
    /// experiment was completed or cancelled, and for an id that does not exist. The store's reads are counted: after the
    /// prerender's and the circuit's loads, a page with nothing to follow reads no more.
    /// </summary>
    [Fact]
    public async Task Experiment_CompletedOrMissing_PageStopsRereadingIt()
    {
        var cancel = TestContext.Current.CancellationToken;
        var clock = new PollClock();
        var (started, store) = await DashboardFixture.StartCountedServerAsync<IExperimentStore>(clock: clock);
        await using var server = started;
        Func<string, int> reads = method => store.Calls.GetValueOrDefault(method);
        using var api = server.CreateClient();
        var experiment = await CreateUrgeExperimentAsync(api, "finished", "finished");
        (await api.PostAsync($"/api/experiments/{experiment.Id}/start", null, cancel)).EnsureSuccessStatusCode();
        (await api.PostAsync($"/api/experiments/{experiment.Id}/complete", null, cancel)).EnsureSuccessStatusCode();

        var page = await fixture.OpenAsync(server.AdminKey, server: server);
        var analyses = reads("ReadSequentialStateAsync");
        await page.GotoAsync($"/experiments/{experiment.Id}");
        await Assertions.Expect(page.GetByTestId("experiment-status")).ToHaveTextAsync("completed");
        await LoadedAsync(() => reads("ReadSequentialStateAsync"), analyses + 2, "analyses of the completed experiment");
        // The circuit's poll ends (its timer disposed) while the page stays open: the clock never moved, so it did not end by
        // a tick; nothing is left to read the experiment again.
        await clock.PollEndedAsync();
        Assert.Equal(analyses + 2, reads("ReadSequentialStateAsync"));
        await page.CloseAsync();

        var missing = await fixture.OpenAsync(server.AdminKey, server: server);
        var lookups = reads("FindExperimentAsync");
        var response = await missing.GotoAsync("/experiments/no-such-experiment");
        // What the user sees: a 404 titled Not found that names the experiment and leads back, and no experiment's parts.
        Assert.Equal((int)HttpStatusCode.NotFound, response!.Status);
        await Assertions.Expect(missing.GetByRole(AriaRole.Heading, new() { Name = "Not found", Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(missing.GetByRole(AriaRole.Alert)).ToHaveTextAsync("experiment 'no-such-experiment' does not exist.");
        await Assertions.Expect(missing.GetByRole(AriaRole.Link, new() { Name = "Back to the prompts" })).ToHaveAttributeAsync("href", "/");
        await Assertions.Expect(missing.GetByTestId("experiment-status")).ToHaveCountAsync(0);
        await Assertions.Expect(missing).ToHaveTitleAsync("Not found · PromptVault");
        // The load looks it up once, refused; the not-found page opens no circuit.
        await LoadedAsync(() => reads("FindExperimentAsync"), lookups + 1, "look-ups of the missing experiment");
        await missing.CloseAsync();
        Assert.False(clock.AnyPollStarted, "the not-found page started a poll");
        Assert.Equal(lookups + 1, reads("FindExperimentAsync"));
    }

    /// <summary>
    /// A poll's load still reading when Pause was clicked finished after the load that followed the pause, and showed the
    /// experiment running again (its Pause button back) until the next poll. The earlier load's answer is now dropped.
    /// </summary>
    [Fact]
    public async Task Experiment_PollReadingWhenPaused_ItsAnswerDoesNotUndoThePause()
    {
        var clock = new PollClock();
        var (started, store) = await DashboardFixture.StartCountedServerAsync<IExperimentStore>(clock: clock);
        await using var server = started;
        using var api = server.CreateClient();
        var experiment = await StartExperimentAsync(api, "poll/paused", MetricName.ConversionRate, [50, 50]);
        var page = await fixture.OpenAsync(server.AdminKey, server: server);
        await page.GotoAsync($"/experiments/{experiment.Id}");
        var status = page.GetByTestId("experiment-status");
        await Assertions.Expect(status).ToHaveTextAsync("running");
        await Eventually(() => clock.AnyPollStarted);
        var picked = 0;
        var poll = store.Hold(nameof(IExperimentStore.FindExperimentAsync), _ => Interlocked.Exchange(ref picked, 1) == 0); // the poll's read only

        clock.Advance(TimeSpan.FromSeconds(2));
        await poll.Arrived.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Assertions.Expect(status).ToHaveTextAsync("paused");
        // The poll after it is held too: once it reads, the held poll has ended, its answer shown or dropped.
        var next = store.Hold(nameof(IExperimentStore.FindExperimentAsync), _ => true);
        poll.Release();
        clock.Advance(TimeSpan.FromSeconds(2));
        await next.Arrived.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        await Assertions.Expect(status).ToHaveTextAsync("paused");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Pause" })).ToHaveCountAsync(0);
        next.Release();
    }

    /// <summary>
    /// A running experiment's page read the experiment's whole history of looks at every two-second poll, however long it had
    /// grown; it now reads it only when a look was stored since its last read (the results' state counts them), and draws it
    /// as a page opened later does.
    /// </summary>
    [Fact]
    public async Task Experiment_Running_PollReadsTheHistoryOnlyAfterANewLook()
    {
        var cancel = TestContext.Current.CancellationToken;
        var clock = new PollClock();
        var (started, store) = await DashboardFixture.StartCountedServerAsync<IExperimentStore>(clock: clock);
        await using var server = started;
        Func<string, int> calls = method => store.Calls.GetValueOrDefault(method);
        using var api = server.CreateClient();
        var experiment = await StartExperimentAsync(api, "narrowing/idle", MetricName.ConversionRate, [50, 50]);
        int HistoryReads() => calls("ReadSequentialHistoryAsync");

        var page = await fixture.OpenAsync(server.AdminKey, server: server);
        var reads = HistoryReads();
        await page.GotoAsync($"/experiments/{experiment.Id}");
        var status = page.GetByTestId("live-status");
        await Assertions.Expect(status).ToHaveTextAsync("Updated: 0 units exposed, no winner yet.");
        await LoadedAsync(HistoryReads, reads + 2, "history reads of the prerender and the circuit");
        await Eventually(() => clock.AnyPollStarted);

        // A poll that follows a poll with no look between them: the page is updated (the time it shows), its history not read.
        async Task PolledAsync()
        {
            clock.Advance(TimeSpan.FromSeconds(2));
            var now = clock.GetUtcNow().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
            await Assertions.Expect(page.GetByText($"Updated {now} UTC, live.")).ToBeVisibleAsync();
        }
        var lookups = calls("FindExperimentAsync");
        await PolledAsync();
        Assert.Equal(reads + 2, HistoryReads());
        Assert.Equal(lookups + 1, calls("FindExperimentAsync")); // one lookup of the experiment a poll, for its state and its results

        // Each batch stores a look: the next poll reads the history once and draws it; the poll after it reads nothing more.
        await SendUnitsAsync(api, experiment, [60, 60], (arm, k) => new MetricEventRequest(Converted: k % (arm == 0 ? 4 : 3) == 0));
        await PolledAsync();
        await Assertions.Expect(status).ToHaveTextAsync("Updated: 120 units exposed, no winner yet.");
        Assert.Equal(reads + 3, HistoryReads());
        await SendUnitsAsync(api, experiment, [90, 90], (arm, k) => new MetricEventRequest(Converted: k % (arm == 0 ? 4 : 3) == 0));
        await PolledAsync();
        await PolledAsync();
        await Assertions.Expect(status).ToHaveTextAsync("Updated: 180 units exposed, no winner yet.");
        Assert.Equal(reads + 4, HistoryReads());

        var reloaded = await fixture.OpenAsync(server.AdminKey, server: server);
        await reloaded.GotoAsync($"/experiments/{experiment.Id}");
        var stored = await DrawnAsync(reloaded);
        Assert.Matches(@"\| [\d.]+,[\d.]+ [\d.]+,[\d.]+ \| [\d.]+,[\d.]+ [\d.]+,[\d.]+$", stored);
        Assert.Equal(stored, await DrawnAsync(page));
    }

    /// <summary>
    /// A running experiment's page spoke each refresh at length and a sample ratio mismatch twice: the warning (role=alert) sat in
    /// the progress block's polite live region, and the variant cards were one live region read again at every update. The
    /// warning is now an alert outside any live region, its text fixed (announced once, when it appears); the cards and the
    /// progress are not live; a refresh is announced by one short status line.
    /// </summary>
    [Fact]
    public async Task Experiment_RefreshWithNewTraffic_AnnouncedByOneStatusLine_AndTheMismatchOnce()
    {
        using var api = fixture.Server.CreateClient();
        var experiment = await StartExperimentAsync(api, "announce/once", MetricName.ConversionRate, [50, 50]);
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync($"/experiments/{experiment.Id}");
        await page.Locator("[data-testid=experiment-status]").WaitForAsync();
        var status = page.GetByRole(AriaRole.Status);
        await Assertions.Expect(status).ToHaveTextAsync("Updated: 0 units exposed, no winner yet.");
        const string LiveAncestor = "e => e.closest('[aria-live], [role=status], [role=log], [role=alert]') !== null";
        Assert.False(await page.Locator(".cards").EvaluateAsync<bool>(LiveAncestor), "The variant cards are in a live region.");
        Assert.False(await page.GetByTestId("progress").EvaluateAsync<bool>(LiveAncestor), "The progress is in a live region.");
        Assert.Equal(0, await page.Locator("[aria-live]").CountAsync());
        await DashboardFixture.CountInsertionsAsync(page, "[role=alert]");

        // 120 units all on control, none on v1: the exposures do not follow the 50/50 weights.
        await SendUnitsAsync(api, experiment, [120, 0], (_, _) => new MetricEventRequest(Converted: false));

        await Assertions.Expect(status).ToHaveTextAsync("Updated: 120 units exposed, no winner yet.");
        var alert = page.GetByRole(AriaRole.Alert);
        await Assertions.Expect(alert).ToHaveTextAsync(new Regex("^Sample ratio mismatch: exposures do not follow the weights"));
        Assert.False(await alert.EvaluateAsync<bool>("e => e.parentElement.closest('[aria-live], [role=status], [role=log], [role=alert]') !== null"),
            "The mismatch alert is inside another live region.");
        // More traffic, more updates (the page re-reads every two seconds; the first 120 units again are repeats): the alert
        // stays the one element added.
        await SendUnitsAsync(api, experiment, [150, 0], (_, _) => new MetricEventRequest(Converted: false));
        await Assertions.Expect(status).ToHaveTextAsync("Updated: 150 units exposed, no winner yet.");
        await DashboardFixture.ExpectInsertionsAsync(page, 1);
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
    }

    /// <summary>A cancelled experiment's page said only its status and "No winner: it was cancelled." beside figures that may
    /// lean one way: it now says when and by whom it was cancelled and that the figures are as they stood then, above the
    /// decision's "No winner: it was cancelled."</summary>
    [Fact]
    public async Task Experiment_Cancelled_PageSaysWhenAndByWhom_AndThatItDeclaresNoWinner()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        var experiment = await CreateUrgeExperimentAsync(api, "cancelled/halfway", "cancelled-halfway");
        (await api.PostAsync($"/api/experiments/{experiment.Id}/start", null, cancel)).EnsureSuccessStatusCode();
        await SendUnitsAsync(api, experiment, [30, 30], (arm, k) => new MetricEventRequest(Converted: arm == 1 && k % 2 == 0));
        var actor = await CancelAsync(api, experiment);
        var cancelled = (await api.GetFromJsonAsync<ExperimentResponse>($"/api/experiments/{experiment.Id}", PromptVaultJson.Options, cancel))!;

        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync($"/experiments/{experiment.Id}");

        await Assertions.Expect(page.GetByTestId("cancelled")).ToHaveTextAsync(
            $"Cancelled {cancelled.EndedAt!.Value.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC by {actor}; the figures below are as they stood then.");
        await Assertions.Expect(page.GetByTestId("decision")).ToHaveTextAsync("No winner: it was cancelled.");
        await Assertions.Expect(page.GetByTestId("live-status")).ToHaveTextAsync("Updated: 60 units exposed, no winner.");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
    }

    /// <summary>The page found its canceller among the prompt's newest 100 cancellations only: one cancelled before 100 more of the
    /// prompt's experiments said no one. It now asks for the experiment's own entry.</summary>
    [Fact]
    public async Task Experiment_CancelledBefore100More_PageStillSaysByWhom()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        var first = await CreateUrgeExperimentAsync(api, "cancelled/many", "cancelled-first");
        var actor = await CancelAsync(api, first);
        var variants = first.Variants.Select(v => new VariantRequest(v.Name, v.VersionId, v.Weight)).ToList();
        for (var i = 0; i < 100; i++)
        {
            var posted = await api.PostAsJsonAsync("/api/experiments", new CreateExperimentRequest($"cancelled-{i}", "cancelled/many", variants), PromptVaultJson.Options, cancel);
            var later = (await posted.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<ExperimentResponse>(PromptVaultJson.Options, cancel))!;
            (await api.PostAsync($"/api/experiments/{later.Id}/cancel", null, cancel)).EnsureSuccessStatusCode();
        }

        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync($"/experiments/{first.Id}");

        await Assertions.Expect(page.GetByTestId("cancelled")).ToContainTextAsync($" UTC by {actor}; the figures below are as they stood then.");
    }

    /// <summary>Cancels <paramref name="experiment"/>; returns who did, as the audit log's newest cancellation of its prompt says.</summary>
    private static async Task<string?> CancelAsync(HttpClient api, ExperimentResponse experiment)
    {
        var cancel = TestContext.Current.CancellationToken;
        (await api.PostAsync($"/api/experiments/{experiment.Id}/cancel", null, cancel)).EnsureSuccessStatusCode();
        var audit = await api.GetFromJsonAsync<System.Text.Json.JsonElement>(
            $"/api/audit?action=experiment.cancelled&prompt={Uri.EscapeDataString(experiment.Prompt)}", cancel);
        return audit.GetProperty("entries")[0].GetProperty("actor").GetString();
    }

    /// <summary>
    /// An A/A experiment (every variant serves one version, a check of the assignment and the statistics) read as any other,
    /// its cards' figures inviting a winner. The page now says it is an A/A test, that a winner would be a false positive and
    /// how often, and that nothing is promoted for one (an A/A cannot set promoteWinner); the cards keep their figures.
    /// </summary>
    [Fact]
    public async Task Experiment_AaTest_PageSaysSoAndWhatAWinnerWouldDo_AndKeepsTheFigures()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest("aa/greeting", Content: "Hello"), PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
        var versioned = await api.PostAsJsonAsync("/api/prompts/aa%2Fgreeting/versions", new CreateVersionRequest("Hello there", ChangeDescription: "Second"),
            PromptVaultJson.Options, cancel);
        var version = (await versioned.Content.ReadFromJsonAsync<VersionResponse>(PromptVaultJson.Options, cancel))!.Id;
        var posted = await api.PostAsJsonAsync("/api/experiments", new CreateExperimentRequest("aa-greeting", "aa/greeting",
            [new VariantRequest("control", version, 50), new VariantRequest("v1", version, 50)], MinimumSampleSize: 100_000, PromoteWinner: false),
            PromptVaultJson.Options, cancel);
        Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync(cancel));
        var experiment = (await posted.Content.ReadFromJsonAsync<ExperimentResponse>(PromptVaultJson.Options, cancel))!;
        (await api.PostAsync($"/api/experiments/{experiment.Id}/start", null, cancel)).EnsureSuccessStatusCode();
        await SendUnitsAsync(api, experiment, [80, 80], (arm, k) => new MetricEventRequest(Converted: k % (arm == 0 ? 4 : 3) == 0));
        var v1 = await ComparisonAsync(api, experiment, "v1");

        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync($"/experiments/{experiment.Id}");

        await Assertions.Expect(page.GetByTestId("aa-test")).ToHaveTextAsync(UndecidedAaTest("1.0.1", "Nothing is promoted for it."));
        await Assertions.Expect(page.GetByTestId("lift-v1")).ToHaveTextAsync(SignedPercent(v1.RelativeDifference!.Value));
        await Assertions.Expect(page.GetByTestId("fixed-p-v1")).ToHaveTextAsync(P(v1.AdjustedPValue!.Value));
        await Assertions.Expect(page.GetByTestId("sequential-p-v1")).ToHaveTextAsync(P(v1.AdjustedSequentialPValue!.Value));
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
    }

    /// <summary>An A/A experiment that promotes its winner (the API refuses to create one; an import keeps the rules it was stored
    /// under, so it is written to the store here) says what completing on a false positive would do.</summary>
    [Fact]
    public async Task Experiment_AaTestThatPromotesItsWinner_PageSaysCompletingPutsTheVersionInProduction()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        var created = await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest("aa/imported", Content: "Hello"), PromptVaultJson.Options, cancel);
        var prompt = (await created.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<PromptResponse>(PromptVaultJson.Options, cancel))!;
        var version = prompt.LatestVersion.Id;
        var now = DateTimeOffset.UtcNow;
        var experiment = new Experiment(Guid.NewGuid().ToString("N"), prompt.Id, prompt.Name, "aa-imported", "",
            [new Variant(Guid.NewGuid().ToString("N"), "control", version, 50), new Variant(Guid.NewGuid().ToString("N"), "v1", version, 50)],
            MetricName.ConversionRate, 100, 0.95, 0.05, 0.8, [], PromoteWinner: true, ExperimentStatus.Draft, 42, null, null, now, "importer", now, null, null);
        await fixture.Server.Services.GetRequiredService<IExperimentStore>().CreateExperimentAsync(experiment, [], cancel);

        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync($"/experiments/{experiment.Id}");

        await Assertions.Expect(page.GetByTestId("aa-test")).ToHaveTextAsync(UndecidedAaTest("1.0.0",
            "As this experiment promotes its winner, completing on a false positive puts version 1.0.0 in production (nothing changes if it is there already)."));
    }

    /// <summary>What the page says of an A/A test of <paramref name="version"/> that has no winner yet, ending with <paramref name="promotion"/>.</summary>
    private static string UndecidedAaTest(string version, string promotion) =>
        $"A/A test: every variant serves version {version}, so the differences below are chance, and the figures show whether the assignment and "
        + "the statistics are honest. A winner here would be a false positive, as happens in at most 5% of A/A tests, the 95% confidence level's "
        + $"rate; a running experiment completes itself on one as on any winner. {promotion}";

    /// <summary>The New experiment form with every variant on one version says it is an A/A test and what a winner of it would be.</summary>
    [Fact]
    public async Task NewExperiment_EveryVariantOnOneVersion_SaysItIsAnAaTest()
    {
        using var api = fixture.Server.CreateClient();
        await CreatePromptOfTwoVersionsAsync(api, "aa/form", "Hello", "Hello there");
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync("/experiments/new?prompt=aa%2Fform");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await Assertions.Expect(page.Locator("#variant-0-version-suggested option")).ToHaveCountAsync(2);
        // Each change waits for the server's answer to show before the next: a render of an earlier change that lands while
        // the next is typed sets the field back, and its blur then sends no change (a loaded run saw variant 2 stay at 1.0.1).
        await page.GetByLabel("Version of variant 1").FillAsync("1.0.0");
        await page.GetByLabel("Version of variant 1").BlurAsync();
        await page.GetByLabel("Version of variant 2").FillAsync("1.0.0");
        await page.GetByLabel("Version of variant 2").BlurAsync();
        await Assertions.Expect(page.GetByTestId("aa-test")).ToHaveCountAsync(1);
        await page.GetByLabel("Version of variant 2").FillAsync("1.0.1");
        await page.GetByLabel("Version of variant 2").BlurAsync();
        await Assertions.Expect(page.GetByTestId("aa-test")).ToHaveCountAsync(0);

        await page.GetByLabel("Version of variant 2").FillAsync("1.0.0");
        await page.GetByLabel("Version of variant 2").BlurAsync();

        await Assertions.Expect(page.GetByTestId("aa-test")).ToHaveTextAsync("Every variant serves version 1.0.0: an A/A test, which checks the assignment "
            + "and the statistics. A winner of it can only be a false positive, so it cannot promote one: leave \"Promote the winner on completion\" unchecked.");

        await page.GetByLabel("Experiment name").FillAsync("aa-form-promoting");
        await page.GetByLabel("Promote the winner on completion").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create experiment" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("promoteWinner is true, but every variant serves version 1.0.0: an A/A test");
        Assert.Empty((await api.GetFromJsonAsync<ExperimentListResponse>("/api/experiments?prompt=aa%2Fform", PromptVaultJson.Options, TestContext.Current.CancellationToken))!.Experiments);
    }

    /// <summary>
    /// The narrowing chart's time axis: a page opened later drew the looks the server stored, a live page a point at its own
    /// read every two seconds, so the same experiment showed two charts. Both now draw the stored looks, the live page a new
    /// one only when the server stores it (after a batch of metric events).
    /// </summary>
    [Fact]
    public async Task Experiment_NarrowingChart_LivePageAndReloadDrawTheSameLooks()
    {
        using var api = fixture.Server.CreateClient();
        var experiment = await StartExperimentAsync(api, "narrowing/same", MetricName.ConversionRate, [50, 50]);
        var live = await fixture.OpenAsync(fixture.Server.AdminKey);
        await live.GotoAsync($"/experiments/{experiment.Id}");
        var status = live.GetByTestId("live-status");
        await Assertions.Expect(status).ToHaveTextAsync("Updated: 0 units exposed, no winner yet.");
        await Assertions.Expect(live.GetByTestId("aa-test")).ToHaveCountAsync(0);

        // Two batches, two looks stored, each after the live page had been following for a while.
        await SendUnitsAsync(api, experiment, [60, 60], (arm, k) => new MetricEventRequest(Converted: k % (arm == 0 ? 4 : 3) == 0));
        await Assertions.Expect(status).ToHaveTextAsync("Updated: 120 units exposed, no winner yet.");
        await SendUnitsAsync(api, experiment, [90, 90], (arm, k) => new MetricEventRequest(Converted: k % (arm == 0 ? 4 : 3) == 0));
        await Assertions.Expect(status).ToHaveTextAsync("Updated: 180 units exposed, no winner yet.");

        var reloaded = await fixture.OpenAsync(fixture.Server.AdminKey);
        await reloaded.GotoAsync($"/experiments/{experiment.Id}");
        var stored = await DrawnAsync(reloaded);
        // Two looks: the lower and the upper line (drawn last) have two points each.
        Assert.Matches(@"\| [\d.]+,[\d.]+ [\d.]+,[\d.]+ \| [\d.]+,[\d.]+ [\d.]+,[\d.]+$", stored);
        await Eventually(async () => await DrawnAsync(live) == stored);
        Assert.Equal(stored, await DrawnAsync(live));
    }

    /// <summary>The narrowing chart spaced its looks evenly, as if taken at equal intervals, while its axis is labelled by the first
    /// and last times: looks a minute apart and two hours apart now lie that far apart.</summary>
    [Fact]
    public async Task Experiment_NarrowingChart_PlacesLooksByTheirTimes()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        var experiment = await StartExperimentAsync(api, "narrowing/uneven", MetricName.ConversionRate, [50, 50]);
        var first = new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero);
        var treatment = experiment.Variants[1].Id;
        await fixture.Server.Services.GetRequiredService<IExperimentStore>().SaveSequentialStateAsync(experiment.Id, SequentialState.Empty,
            [.. new[] { 0, 1, 121 }.Select(minutes => new SequentialHistoryPoint(treatment, "conversionRate", first.AddMinutes(minutes), 0.1, -0.2, 0.4))], cancel);

        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync($"/experiments/{experiment.Id}");

        var lines = page.Locator("figure.chart polyline");
        await Assertions.Expect(lines).ToHaveCountAsync(2);
        // The axis runs from x 56 (8 + 6 a character of the longer value label, "-20.0 pp" or "+40.0 pp", left of it) to 312:
        // the second look, 1 minute of 121 in, at 56 + 256 / 121.
        await Assertions.Expect(page.Locator("figure.chart svg text").First).ToHaveTextAsync("+40.0 pp");
        foreach (var points in await lines.EvaluateAllAsync<string[]>("lines => lines.map(l => l.getAttribute('points'))"))
            Assert.Equal(["56", "58.1", "312"], points.Split(' ').Select(p => p.Split(',')[0]));
        // Neither value label runs off the chart's left edge or over the axis (their left edges, then their gaps to the axis).
        var room = await page.Locator("figure.chart svg").EvaluateAsync<double[]>("""
            svg => {
              const axis = Number(svg.querySelectorAll('line.axis')[1].getAttribute('x1'));
              return [...svg.querySelectorAll('text')].slice(0, 2).flatMap(t => { const box = t.getBBox(); return [box.x, axis - box.x - box.width]; });
            }
            """);
        Assert.All(room, space => Assert.True(space >= 0, $"a value label overruns by {-space:0.#} units: {string.Join(", ", room)}"));
        // On a phone 320 px wide the cards and the charts stay within their rows (a 300 px track stuck out of a 296 px row).
        await page.SetViewportSizeAsync(320, 900);
        var widths = await page.Locator(".cards, .charts").EvaluateAllAsync<int[][]>("rows => rows.map(row => [row.scrollWidth, row.clientWidth])");
        Assert.Equal(2, widths.Length);
        Assert.All(widths, row => Assert.True(row[0] <= row[1], $"a row of cards or charts is {row[0]} px wide in {row[1]} px"));
        await Assertions.Expect(page.Locator("figure.chart svg text").Last).ToHaveTextAsync("12-01 08:01");
    }

    /// <summary>
    /// The narrowing charts came in the order their variants first had a look stored (then by id), not the cards' order: a
    /// variant whose interval was stored first was charted first. They now follow the cards.
    /// </summary>
    [Fact]
    public async Task Experiment_NarrowingCharts_FollowTheCardsOrder()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        var experiment = await StartExperimentAsync(api, "narrowing/order", MetricName.ConversionRate, [25, 25, 25, 25]);
        var (v1, v2, v3) = (experiment.Variants[1].Id, experiment.Variants[2].Id, experiment.Variants[3].Id);
        var first = new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero);
        SequentialHistoryPoint Look(string variant, int minutes) => new(variant, "conversionRate", first.AddMinutes(minutes), 0.1, -0.2, 0.4);
        await fixture.Server.Services.GetRequiredService<IExperimentStore>().SaveSequentialStateAsync(experiment.Id, SequentialState.Empty,
            [Look(v3, 0), Look(v2, 1), Look(v1, 1), Look(v3, 1)], cancel);

        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync($"/experiments/{experiment.Id}");

        await Assertions.Expect(page.Locator("figure.chart figcaption")).ToHaveTextAsync(
            [new Regex("^v1: difference interval"), new Regex("^v2: difference interval"), new Regex("^v3: difference interval")]);
        Assert.Equal(["variant-control", "variant-v1", "variant-v2", "variant-v3"],
            await page.Locator("article.card").EvaluateAllAsync<string[]>("cards => cards.map(c => c.dataset.testid)"));
    }

    /// <summary>The sample-ratio check's result was shown only on a mismatch, so a page without it did not say whether it was
    /// checked; it now says so always, briefly: not checked before any exposure, and passing with its p-value.</summary>
    [Fact]
    public async Task Experiment_SampleRatioCheck_IsShownWhenItPassesToo()
    {
        using var api = fixture.Server.CreateClient();
        var experiment = await StartExperimentAsync(api, "srm/passing", MetricName.ConversionRate, [50, 50]);
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync($"/experiments/{experiment.Id}");
        await Assertions.Expect(page.GetByTestId("srm")).ToHaveTextAsync("Sample ratio: not checked yet, no units exposed.");

        await SendUnitsAsync(api, experiment, [60, 60], (_, _) => new MetricEventRequest(Converted: false));
        await page.GotoAsync($"/experiments/{experiment.Id}");

        await Assertions.Expect(page.GetByTestId("srm")).ToHaveTextAsync(new Regex(@"^Sample ratio: exposures follow the weights \(always-valid p (=|<) [\d.]+\)\.$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveCountAsync(0);
    }

    /// <summary>
    /// A version not among those suggested is read when typed. Another typed while that read was out was overwritten when the read
    /// returned: the field showed the later version, and the experiment was created on the earlier one. The late answer is dropped.
    /// </summary>
    [Fact]
    public async Task NewExperiment_AVersionReadReturningAfterALaterChoice_LeavesTheLaterOne()
    {
        var cancel = TestContext.Current.CancellationToken;
        var (server, store) = await DashboardFixture.StartCountedServerAsync<IPromptStore>();
        await using var _ = server;
        using var api = server.CreateClient();
        var name = await DashboardFixture.CreateVersionsAsync(server, "late-read-", ShowMore.DefaultStep + 1); // 1.0.0 is not suggested
        const string newest = "1.0.100";
        var page = await fixture.OpenAsync(server.AdminKey, server: server);
        await page.GotoAsync($"/experiments/new?prompt={name}");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await Assertions.Expect(page.Locator($"#variant-0-version-suggested option[value='{newest}']")).ToHaveCountAsync(1);
        var held = store.Hold(nameof(IPromptStore.FindVersionAsync), args => args[1]?.ToString() == "1.0.0");

        var first = page.GetByLabel("Version of variant 1");
        await first.FillAsync("1.0.0");
        await first.BlurAsync();
        await held.Arrived.Task.WaitAsync(TimeSpan.FromSeconds(30), cancel);
        // The render that says so shows 1.0.0 in the field: typed over before it arrives, it would set the field back.
        await Assertions.Expect(first).ToHaveAttributeAsync("aria-busy", "true");
        await first.FillAsync(newest);
        await first.BlurAsync();
        await page.GetByLabel("Version of variant 2").FillAsync(newest);
        await page.GetByLabel("Version of variant 2").BlurAsync();
        await Assertions.Expect(page.GetByTestId("aa-test")).ToHaveCountAsync(1); // both on the newest while 1.0.0's read is out
        held.Release();
        await Assertions.Expect(first).Not.ToHaveAttributeAsync("aria-busy", "true"); // the late answer has come back
        await page.GetByLabel("Experiment name").FillAsync("late-read");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create experiment" }).ClickAsync();

        await fixture.WaitForPageAsync(page, new Regex("/experiments/[^/?]+$"));
        var experimentId = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        var stored = (await api.GetFromJsonAsync<ExperimentResponse>($"/api/experiments/{experimentId}", PromptVaultJson.Options, cancel))!;
        Assert.Equal([newest, newest], stored.Variants.Select(v => v.Version));
    }

    /// <summary>The New experiment page, signed in as an admin, with <paramref name="name"/>, <paramref name="prompt"/> (of two
    /// versions) and its variants' versions 1.0.0 and 1.0.1 filled in.</summary>
    /// <summary>The New experiment page, for an admin, once it takes input.</summary>
    private async Task<IPage> OpenEmptyNewExperimentFormAsync()
    {
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync("/experiments/new");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        return page;
    }

    private async Task<IPage> OpenNewExperimentFormAsync(string name, string prompt)
    {
        var page = await OpenEmptyNewExperimentFormAsync();
        await page.GetByLabel("Experiment name").FillAsync(name);
        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync(prompt);
        await page.GetByLabel("Prompt", new() { Exact = true }).BlurAsync();
        await Assertions.Expect(page.Locator("#variant-0-version-suggested option")).ToHaveCountAsync(2);
        await page.GetByLabel("Version of variant 1").FillAsync("1.0.0");
        await page.GetByLabel("Version of variant 2").FillAsync("1.0.1");
        return page;
    }

    /// <summary>What the narrowing chart draws: its summary, each line's points and its axis labels (the looks' times).</summary>
    private static Task<string> DrawnAsync(IPage page) =>
        page.Locator("figure.chart svg").EvaluateAsync<string>(
            "svg => [svg.getAttribute('aria-label'), ...[...svg.querySelectorAll('polyline, text')].map(e => e.getAttribute('points') ?? e.textContent)].join(' | ')");

    /// <summary>Waits for <paramref name="count"/> to reach <paramref name="loaded"/> (the prerender's and the circuit's loads).</summary>
    private static async Task LoadedAsync(Func<int> count, int loaded, string what)
    {
        await Eventually(() => count() >= loaded);
        Assert.True(count() == loaded, $"{what}: {count()} after the page loaded, expected {loaded}");
    }

    /// <summary>A clock that never moves by itself and reports the end of each of the experiment page's two-second polls (its
    /// PeriodicTimer disposed).</summary>
    private sealed class PollClock() : FakeTimeProvider(DateTimeOffset.UtcNow)
    {
        private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);
        private readonly Channel<Task> _polls = Channel.CreateUnbounded<Task>();

        public bool AnyPollStarted => _polls.Reader.TryPeek(out _);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            if (period != PollInterval) return timer;
            var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _polls.Writer.TryWrite(ended.Task);
            return new EndReported(timer, ended);
        }

        /// <summary>Waits for the next poll to start and then end; fails the test after ten seconds.</summary>
        public async Task PollEndedAsync()
        {
            var ended = await _polls.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            await ended.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }

        private sealed class EndReported(ITimer timer, TaskCompletionSource ended) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => timer.Change(dueTime, period);

            public void Dispose()
            {
                timer.Dispose();
                ended.TrySetResult();
            }

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }

    /// <summary>
    /// A promoteWinner experiment completed from its page while a gate (requireTests) refuses its winner: the experiment stores
    /// why (promotionRefused) and the CLI says "It was NOT promoted to production", but the page only said who won, as if the
    /// winner were serving. It now says the winner was not promoted, and why.
    /// </summary>
    [Fact]
    public async Task Experiment_CompletedWithAWinnerAGateRefuses_PageSaysItWasNotPromotedAndWhy()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        var experiment = await CreateUrgeExperimentAsync(api, "gated/offer", "gated-offer", promoteWinner: true);
        var urge = experiment.Variants.Single(v => v.Name == "urge").Id;
        (await api.PostAsync($"/api/experiments/{experiment.Id}/start", null, cancel)).EnsureSuccessStatusCode();
        // A clear winner, paused before a look completes it, so the page's Complete decides.
        var events = new List<MetricEventRequest>();
        for (var unit = 0; unit < 600; unit++)
        {
            var render = await api.PostAsJsonAsync("/api/prompts/gated%2Foffer/render", new RenderRequest(UnitId: $"u{unit}"), PromptVaultJson.Options, cancel);
            var rendered = (await render.Content.ReadFromJsonAsync<RenderResponse>(PromptVaultJson.Options, cancel))!;
            events.Add(new MetricEventRequest(VersionId: rendered.VersionId, ExperimentId: rendered.ExperimentId, VariantId: rendered.VariantId,
                UnitId: $"u{unit}", Converted: unit % 10 < (rendered.VariantId == urge ? 6 : 1)));
        }
        (await api.PostAsync($"/api/experiments/{experiment.Id}/pause", null, cancel)).EnsureSuccessStatusCode();
        foreach (var chunk in events.Chunk(500))
            (await api.PostAsJsonAsync("/api/metrics", new MetricBatchRequest(chunk), PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
        (await api.PatchAsJsonAsync("/api/prompts/gated%2Foffer", new UpdatePromptRequest(RequireTests: true), PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync($"/experiments/{experiment.Id}");
        await Assertions.Expect(page.GetByTestId("experiment-status")).ToHaveTextAsync("paused");

        await page.GetByRole(AriaRole.Button, new() { Name = "Complete", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("confirm-move")).ToContainTextAsync("Its winner, if it has one, is promoted to production.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Complete the experiment" }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("experiment-status")).ToHaveTextAsync("completed");
        await Assertions.Expect(page.GetByTestId("decision")).ToContainTextAsync("urge wins");
        var promotion = page.GetByTestId("promotion");
        await Assertions.Expect(promotion).ToContainTextAsync("urge (1.0.1) was NOT promoted to production: ");
        await Assertions.Expect(promotion).ToContainTextAsync("requires tests");
        var stored = (await api.GetFromJsonAsync<ExperimentResponse>($"/api/experiments/{experiment.Id}", PromptVaultJson.Options, cancel))!;
        Assert.Contains(stored.PromotionRefused!, await promotion.InnerTextAsync());
        // A page opened later says the same: it is the experiment's, not the click's.
        var later = await fixture.OpenAsync(fixture.ReaderKey);
        await later.GotoAsync($"/experiments/{experiment.Id}");
        await Assertions.Expect(later.GetByTestId("promotion")).ToContainTextAsync("was NOT promoted to production");
    }

    /// <summary>
    /// Complete and Cancel end an experiment for good (it cannot be started again), yet one click on either did it. They now ask
    /// first, saying what cannot be undone; "Keep it" leaves the experiment running. The question takes the keyboard's focus
    /// (it stayed on the button that opened it, so a keyboard user had to hunt for it): Enter answers it.
    /// </summary>
    [Fact]
    public async Task Experiment_CancelOrComplete_AsksFirst_KeepItLeavesItRunning()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        var experiment = await StartExperimentAsync(api, "confirm/" + Guid.NewGuid().ToString("N")[..8], MetricName.ConversionRate, [50, 50]);
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync($"/experiments/{experiment.Id}");
        await page.Locator("[data-testid=experiment-status]").WaitForAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("confirm-move")).ToContainTextAsync("cannot be started again");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel the experiment" })).ToBeFocusedAsync();
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
        await page.GetByRole(AriaRole.Button, new() { Name = "Keep it" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("confirm-move")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true })).ToBeFocusedAsync();
        await Assertions.Expect(page.GetByTestId("experiment-status")).ToHaveTextAsync("running");
        Assert.Equal(ExperimentStatus.Running, (await api.GetFromJsonAsync<ExperimentResponse>($"/api/experiments/{experiment.Id}", PromptVaultJson.Options, cancel))!.Status);

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel the experiment" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("experiment-status")).ToHaveTextAsync("cancelled");
        Assert.Equal(ExperimentStatus.Cancelled, (await api.GetFromJsonAsync<ExperimentResponse>($"/api/experiments/{experiment.Id}", PromptVaultJson.Options, cancel))!.Status);
    }

    /// <summary>
    /// A refused Start (the prompt already runs another experiment) showed its error for at most two seconds: the page's
    /// next live update, a load that succeeded, cleared it, so a user who looked away saw the button do nothing.
    /// </summary>
    [Fact]
    public async Task Experiment_StartRefused_ErrorStaysThroughTheLiveUpdates()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        var running = await CreateUrgeExperimentAsync(api, "refused/start", "first");
        (await api.PostAsync($"/api/experiments/{running.Id}/start", null, cancel)).EnsureSuccessStatusCode();
        var posted = await api.PostAsJsonAsync("/api/experiments", new CreateExperimentRequest("second", "refused/start",
            [.. running.Variants.Select(v => new VariantRequest(v.Name, v.VersionId, v.Weight))]), PromptVaultJson.Options, cancel);
        var second = (await posted.Content.ReadFromJsonAsync<ExperimentResponse>(PromptVaultJson.Options, cancel))!;
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync($"/experiments/{second.Id}");
        var updated = page.GetByText(new Regex("^Updated .* UTC, live\\.$"));
        await Assertions.Expect(updated).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Start" }).ClickAsync();

        var refused = page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "already has a running experiment" });
        await Assertions.Expect(refused).ToBeVisibleAsync();
        // Two live updates later (each re-reads the experiment and changes the time shown), the error is still there.
        for (var update = 0; update < 2; update++)
        {
            var shown = await updated.InnerTextAsync();
            await Assertions.Expect(updated).Not.ToHaveTextAsync(shown);
        }
        await Assertions.Expect(refused).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("experiment-status")).ToHaveTextAsync("draft");
    }

    /// <summary>
    /// The page formatted every figure to four decimals: a cost of 0.000075 read 0.0001 and a difference of 0.00003 read 0,
    /// a conversion rate read 0.1 where the CLI prints 10% (and differences in pp), p-values below 0.00005 read 0 where the
    /// CLI prints &lt;0.0001, and its "Fixed-horizon p" was a Holm-adjusted p-value under the label the CLI gave the
    /// unadjusted one. The page now shows the CLI's strings (ResultsText) under the CLI's labels.
    /// </summary>
    [Fact]
    public async Task Experiment_CostConversionAndThreeVariants_PageShowsTheFiguresAsTheCliPrintsThem()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();

        // Cost: 20 units an arm, 0.000125 ± 0.00001 against 0.000075 ± 0.00001.
        var cost = await StartExperimentAsync(api, "format/cost", MetricName.AvgCost, [50, 50], minimumSampleSize: 10);
        await SendUnitsAsync(api, cost, [20, 20], (arm, k) => new MetricEventRequest(Cost: (arm == 0 ? 0.000125 : 0.000075) + (k % 2 == 0 ? 0.00001 : -0.00001)));
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        await page.GotoAsync($"/experiments/{cost.Id}");
        await Assertions.Expect(page.GetByTestId("value-control")).ToHaveTextAsync("$0.000125 (n = 20)");
        await Assertions.Expect(page.GetByTestId("value-v1")).ToHaveTextAsync("$0.000075 (n = 20)");
        await Assertions.Expect(page.GetByTestId("difference-v1")).ToHaveTextAsync("-$0.00005");
        var costResults = await ComparisonAsync(api, cost, "v1");
        await Assertions.Expect(page.GetByTestId("sequential-ci-v1")).ToHaveTextAsync(
            $"{Signed(costResults.SequentialCi![0], "$0.######")} to {Signed(costResults.SequentialCi[1], "$0.######")}");
        Assert.True(costResults.AdjustedSequentialPValue < 0.00005, $"sequential p {costResults.AdjustedSequentialPValue}");
        await Assertions.Expect(page.GetByTestId("sequential-p-v1")).ToHaveTextAsync("<0.0001");
        // 20 units an arm are above the experiment's minimum sample size (10) but below the 50 every settled figure needs:
        // the card says its figures are not a result yet, and names 50.
        Assert.False(costResults.Settled);
        await Assertions.Expect(page.GetByTestId("unsettled-v1")).ToContainTextAsync("below minimum sample of 50 units: not a result yet");
        await Assertions.Expect(page.GetByTestId("unsettled-control")).ToHaveCountAsync(0);
        // That threshold and the planned sample size are two sizes: each is labelled (they were "Sample" and a bare "20 of N").
        await Assertions.Expect(page.GetByTestId("variant-v1").Locator("dt", new() { HasText = "Threshold for a result" })).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("progress")).ToContainTextAsync(
            $"Planned sample size: 20 of {(await ResultsAsync(api, cost)).RequiredSampleSize!.Value.ToString("N0", CultureInfo.InvariantCulture)} units per variant (the smallest variant counts), the size that detects the minimum detectable effect with the planned power.");
        await Assertions.Expect(page.GetByRole(AriaRole.Progressbar, new() { Name = "Progress to the planned sample size" })).ToHaveCountAsync(1);

        // Every arm at the minimum sample size (50): no such note.
        var settled = await StartExperimentAsync(api, "format/settled", MetricName.ConversionRate, [50, 50], minimumSampleSize: 50);
        await SendUnitsAsync(api, settled, [50, 50], (arm, k) => new MetricEventRequest(Converted: k % 10 < 2));
        await page.GotoAsync($"/experiments/{settled.Id}");
        await Assertions.Expect(page.GetByTestId("value-v1")).ToHaveTextAsync("20% (n = 50)");
        Assert.True((await ComparisonAsync(api, settled, "v1")).Settled);
        await Assertions.Expect(page.GetByTestId("unsettled-v1")).ToHaveCountAsync(0);

        // Conversion: 10 of 100 units against 60 of 100, with a latency guardrail 10% worse (100 ± 5 ms against 110 ± 5).
        var conversion = await StartExperimentAsync(api, "format/conversion", MetricName.ConversionRate, [50, 50], [new GuardrailRequest(MetricName.AvgLatencyMs, 0.5)]);
        await SendUnitsAsync(api, conversion, [100, 100], (arm, k) =>
            new MetricEventRequest(Converted: k % 10 < (arm == 0 ? 1 : 6), LatencyMs: (arm == 0 ? 100 : 110) + (k % 2 == 0 ? 5 : -5)));
        await page.GotoAsync($"/experiments/{conversion.Id}");
        await Assertions.Expect(page.GetByTestId("value-control")).ToHaveTextAsync("10% (n = 100)");
        await Assertions.Expect(page.GetByTestId("value-v1")).ToHaveTextAsync("60% (n = 100)");
        await Assertions.Expect(page.GetByTestId("difference-v1")).ToHaveTextAsync("+50.0 pp");
        var conversionResults = await ComparisonAsync(api, conversion, "v1");
        await Assertions.Expect(page.GetByTestId("sequential-ci-v1")).ToHaveTextAsync(
            $"{Points(conversionResults.SequentialCi![0])} to {Points(conversionResults.SequentialCi[1])}");
        await Assertions.Expect(page.GetByTestId("sequential-p-v1")).ToHaveTextAsync(P(conversionResults.AdjustedSequentialPValue!.Value));
        await Assertions.Expect(page.GetByTestId("fixed-p-v1")).ToHaveTextAsync("<0.0001");
        await Assertions.Expect(page.GetByTestId("lift-v1")).ToHaveTextAsync("+500.0%");
        var guardrail = await GuardrailAsync(api, conversion);
        await Assertions.Expect(page.GetByRole(AriaRole.Listitem).Filter(new() { HasTextString = "avgLatencyMs on v1" })).ToContainTextAsync(
            $"change +10.0% (always-valid {SignedPercent(guardrail.RelativeChangeCi![0])} to {SignedPercent(guardrail.RelativeChangeCi[1])}), limit 50%");

        // Three variants: Holm changes the fixed-horizon p-values, and the page shows the adjusted one, labelled so.
        var three = await StartExperimentAsync(api, "format/three", MetricName.ConversionRate, [50, 25, 25]);
        await SendUnitsAsync(api, three, [80, 40, 40], (arm, k) => new MetricEventRequest(Converted: k % 20 < arm switch { 0 => 2, 1 => 5, _ => 3 }));
        await page.GotoAsync($"/experiments/{three.Id}");
        var v1 = await ComparisonAsync(api, three, "v1");
        Assert.NotEqual(P(v1.PValue!.Value), P(v1.AdjustedPValue!.Value)); // the data make Holm matter
        await Assertions.Expect(page.GetByTestId("fixed-p-v1")).ToHaveTextAsync(P(v1.AdjustedPValue.Value));
        await Assertions.Expect(page.GetByTestId("variant-v1").Locator("dt", new() { HasTextString = "p (fixed, Holm)" })).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("variant-v1").Locator("dt", new() { HasTextString = "Sequential p (Holm)" })).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("value-v2")).ToHaveTextAsync("15% (n = 40)");
        await Assertions.Expect(page.GetByTestId("difference-v2")).ToHaveTextAsync("+5.0 pp");
    }

    // The CLI's rules, written out here so the test does not check the formatter against itself.
    private static string Signed(double value, string digits) => value.ToString($"+{digits};-{digits};0", System.Globalization.CultureInfo.InvariantCulture);

    private static string Points(double rateDifference) => Signed(rateDifference * 100, "0.0#") + " pp";

    private static string SignedPercent(double value) => value.ToString("+0.0%;-0.0%;0.0%", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// An experiment that completed itself with a winner: its page said the status reason twice (after the status and in the
    /// decision) and showed a progress bar "372 of 30,589 units per variant", as if it still waited for units it will never
    /// take. The reason is said once, in the decision, and the progress says how many units it ended with and what was planned.
    /// </summary>
    [Fact]
    public async Task Experiment_CompletedByItsWinner_SaysTheReasonOnce_AndTheUnitsItEndedWith()
    {
        using var api = fixture.Server.CreateClient();
        var experiment = await StartExperimentAsync(api, "finished/winner", MetricName.ConversionRate, [50, 50], minimumSampleSize: 10);
        await SendUnitsAsync(api, experiment, [300, 300], (arm, k) => new MetricEventRequest(Converted: k % 10 < (arm == 0 ? 1 : 6)));
        var results = await ResultsAsync(api, experiment);
        Assert.Equal(ExperimentStatus.Completed, results.Status);
        var reason = Assert.IsType<string>(results.StatusReason);

        var page = await fixture.OpenAsync(fixture.ReaderKey);
        await page.GotoAsync($"/experiments/{experiment.Id}");
        await Assertions.Expect(page.GetByTestId("decision")).ToContainTextAsync(reason);
        Assert.Single(Regex.Matches(await page.Locator("main").InnerTextAsync(), Regex.Escape(reason)));
        var progress = page.GetByTestId("progress");
        // Stopped before the planned size, it says why that is sound (it did not).
        await Assertions.Expect(progress).ToContainTextAsync("It ended with 300 units per variant (the smallest variant counts), before the "
            + $"{results.RequiredSampleSize!.Value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} planned to detect the minimum detectable effect "
            + "with the planned power: the sequential test allows stopping as soon as the evidence is strong enough");
        await Assertions.Expect(progress.GetByRole(AriaRole.Progressbar)).ToHaveCountAsync(0);
    }

    private static string P(double p) => p < 0.0001 ? "<0.0001" : p.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Creates a prompt with one version per weight and starts an experiment of them (control, v1, v2, …) on
    /// <paramref name="target"/>, by default with a minimum sample size nothing reaches, so no look completes it.</summary>
    private static async Task CreatePromptOfTwoVersionsAsync(HttpClient api, string name, string first, string second)
    {
        var cancel = TestContext.Current.CancellationToken;
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest(name, Content: first), PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync($"/api/prompts/{Uri.EscapeDataString(name)}/versions", new CreateVersionRequest(second, ChangeDescription: "Second"),
            PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
    }

    private static async Task<ExperimentResponse> StartExperimentAsync(HttpClient api, string prompt, MetricName target, int[] weights,
        IReadOnlyList<GuardrailRequest>? guardrails = null, int minimumSampleSize = 100_000)
    {
        var cancel = TestContext.Current.CancellationToken;
        var created = await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest(prompt, Content: "Answer 0"), PromptVaultJson.Options, cancel);
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync(cancel));
        var versions = new List<string> { (await created.Content.ReadFromJsonAsync<PromptResponse>(PromptVaultJson.Options, cancel))!.LatestVersion.Id };
        for (var i = 1; i < weights.Length; i++)
        {
            var versioned = await api.PostAsJsonAsync($"/api/prompts/{Uri.EscapeDataString(prompt)}/versions", new CreateVersionRequest($"Answer {i}", ChangeDescription: $"v{i}"),
                PromptVaultJson.Options, cancel);
            versions.Add((await versioned.Content.ReadFromJsonAsync<VersionResponse>(PromptVaultJson.Options, cancel))!.Id);
        }
        var posted = await api.PostAsJsonAsync("/api/experiments", new CreateExperimentRequest(prompt.Replace('/', '-'), prompt,
            [.. weights.Select((w, i) => new VariantRequest(i == 0 ? "control" : $"v{i}", versions[i], w))], TargetMetric: target, MinimumSampleSize: minimumSampleSize,
            Guardrails: guardrails),
            PromptVaultJson.Options, cancel);
        Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync(cancel));
        var experiment = (await posted.Content.ReadFromJsonAsync<ExperimentResponse>(PromptVaultJson.Options, cancel))!;
        (await api.PostAsync($"/api/experiments/{experiment.Id}/start", null, cancel)).EnsureSuccessStatusCode();
        return experiment;
    }

    /// <summary>Exposes exactly <paramref name="units"/>[i] units to the i-th variant (found through the assignment route) and
    /// sends each one event, <paramref name="eventOf"/>(variant index, units it had before).</summary>
    private static async Task SendUnitsAsync(HttpClient api, ExperimentResponse experiment, int[] units, Func<int, int, MetricEventRequest> eventOf)
    {
        var cancel = TestContext.Current.CancellationToken;
        var index = experiment.Variants.Select((v, i) => (v.Id, i)).ToDictionary(p => p.Id, p => p.i);
        var counts = new int[units.Length];
        var exposures = new List<ExposureRequest>();
        var events = new List<MetricEventRequest>();
        for (var u = 0; counts.Where((c, i) => c < units[i]).Any(); u++)
        {
            var unitId = $"{experiment.Id}-{u}";
            var assigned = (await api.GetFromJsonAsync<AssignmentResponse>($"/api/experiments/{experiment.Id}/assignment?unitId={unitId}", PromptVaultJson.Options, cancel))!;
            var arm = index[assigned.VariantId];
            if (counts[arm] == units[arm]) continue;
            exposures.Add(new ExposureRequest(experiment.Id, assigned.VariantId, unitId));
            events.Add(eventOf(arm, counts[arm]++) with { VersionId = assigned.VersionId, ExperimentId = experiment.Id, VariantId = assigned.VariantId, UnitId = unitId });
        }
        (await api.PostAsJsonAsync("/api/exposures", new ExposureBatchRequest(exposures), PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
        var recorded = await api.PostAsJsonAsync("/api/metrics", new MetricBatchRequest(events), PromptVaultJson.Options, cancel);
        Assert.True(recorded.IsSuccessStatusCode, await recorded.Content.ReadAsStringAsync(cancel));
    }

    private static async Task<MetricResult> ComparisonAsync(HttpClient api, ExperimentResponse experiment, string variant)
    {
        var results = await ResultsAsync(api, experiment);
        return results.Variants.Single(v => v.Name == variant).Metrics[PromptVault.Core.Names.Of(results.TargetMetric)];
    }

    private static async Task<GuardrailResult> GuardrailAsync(HttpClient api, ExperimentResponse experiment) => Assert.Single((await ResultsAsync(api, experiment)).Guardrails);

    private static async Task<ExperimentResults> ResultsAsync(HttpClient api, ExperimentResponse experiment) =>
        (await api.GetFromJsonAsync<ExperimentResults>($"/api/experiments/{experiment.Id}/results", PromptVaultJson.Options, TestContext.Current.CancellationToken))!;

    /// <summary>
    /// A prompt's cost chart wrote three decimals, so a call's cost of 0.00012 read 0 (the summary too), where the results show
    /// six; it now formats a cost, and the error rate, by the results' rule (ResultsText). Latency percentiles are histogram
    /// buckets, marked approximate as the CLI marks them (ResultsText.Percentile). The cost had no unit ("cost 0.00012"); it
    /// reads in dollars, as the CLI writes it (ResultsText.Cost), and says it is the total.
    /// </summary>
    [Fact]
    public async Task PromptMetrics_SmallCost_ReadsAsTheResultsWriteIt()
    {
        var cancel = TestContext.Current.CancellationToken;
        var name = "costly-" + Guid.NewGuid().ToString("N")[..8];
        using var api = fixture.Server.CreateClient();
        var created = await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest(name, Content: "Hi"), PromptVaultJson.Options, cancel);
        var version = (await created.Content.ReadFromJsonAsync<PromptResponse>(PromptVaultJson.Options, cancel))!.LatestVersion.Id;
        (await api.PostAsJsonAsync("/api/metrics", new MetricBatchRequest([new MetricEventRequest(VersionId: version, LatencyMs: 500, Cost: 0.00012, Error: "timeout")]),
            PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);

        await page.GotoAsync($"/prompts/{name}?metrics=1.0.0&period=day");
        await Assertions.Expect(page.GetByText("1 request, error rate 100%")).ToContainTextAsync("total cost $0.00012,");
        await Assertions.Expect(page.Locator("svg[aria-label='Cost: total latest $0.00012']")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("svg[aria-label='Error rate: errors latest 100%']")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByText("1 request, error rate 100%")).ToContainTextAsync("latency p95 ≈");
        await Assertions.Expect(page.Locator("svg[aria-label^='Latency (ms): p50 latest ≈']")).ToHaveCountAsync(1);
    }

    /// <summary>A version with no metric events said "latency p95 – ms", a unit on no figure; it now says "latency p95 –", as
    /// it says "error rate –". The count read "1 requests"; one request is now singular.</summary>
    [Fact]
    public async Task PromptMetrics_NoEvents_NoUnitOnAMissingLatency()
    {
        var name = "quiet-" + Guid.NewGuid().ToString("N")[..8];
        await fixture.CreatePromptAsync(name);
        var page = await fixture.OpenAsync(fixture.ReaderKey);

        await page.GotoAsync($"/prompts/{name}");
        await Assertions.Expect(page.GetByText("0 requests, error rate –")).ToContainTextAsync("latency p95 –, total cost –,");
    }

    /// <summary>The experiments list read the newest 1,000 with no way to see more; it now shows 100, and 100 more per "Show more".</summary>
    [Fact]
    public async Task ExperimentList_MoreThanAPage_ShowMoreReachesTheOldest()
    {
        var cancel = TestContext.Current.CancellationToken;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        using var api = fixture.Server.CreateClient();
        var oldest = await CreateUrgeExperimentAsync(api, "paged/" + suffix, "oldest-" + suffix);
        for (var i = 0; i < ShowMore.DefaultStep; i++)
            (await api.PostAsJsonAsync("/api/experiments", new CreateExperimentRequest($"newer-{i}-{suffix}", oldest.Prompt,
                [.. oldest.Variants.Select(v => new VariantRequest(v.Name, v.VersionId, v.Weight))]), PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        var link = page.GetByRole(AriaRole.Link, new() { Name = oldest.Name, Exact = true });

        await page.GotoAsync("/experiments");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = $"newer-99-{suffix}" })).ToBeVisibleAsync();
        await Assertions.Expect(link).ToHaveCountAsync(0);
        await page.GetByTestId("show-more").GetByRole(AriaRole.Link).ClickAsync();
        await Assertions.Expect(link).ToBeVisibleAsync();
    }

    /// <summary>Creates <paramref name="prompt"/> ("Buy", then "Buy now") and a draft experiment of its two versions, control and urge, half each,
    /// on the default target metric (conversionRate).</summary>
    internal static async Task<ExperimentResponse> CreateUrgeExperimentAsync(HttpClient api, string prompt, string name, bool promoteWinner = false)
    {
        var cancel = TestContext.Current.CancellationToken;
        var created = await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest(prompt, Content: "Buy"), PromptVaultJson.Options, cancel);
        var control = (await created.Content.ReadFromJsonAsync<PromptResponse>(PromptVaultJson.Options, cancel))!.LatestVersion.Id;
        var versioned = await api.PostAsJsonAsync($"/api/prompts/{Uri.EscapeDataString(prompt)}/versions", new CreateVersionRequest("Buy now", ChangeDescription: "Urge"),
            PromptVaultJson.Options, cancel);
        var challenger = (await versioned.Content.ReadFromJsonAsync<VersionResponse>(PromptVaultJson.Options, cancel))!.Id;
        var posted = await api.PostAsJsonAsync("/api/experiments", new CreateExperimentRequest(name, prompt,
            [new VariantRequest("control", control, 50), new VariantRequest("urge", challenger, 50)], PromoteWinner: promoteWinner), PromptVaultJson.Options, cancel);
        Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync(cancel));
        return (await posted.Content.ReadFromJsonAsync<ExperimentResponse>(PromptVaultJson.Options, cancel))!;
    }

    [Fact]
    public async Task Reader_ExperimentPagesOfferNoControlsAndCreateIsForbidden()
    {
        var page = await fixture.OpenAsync(fixture.ReaderKey);

        await page.GotoAsync("/experiments");
        var create = await page.GotoAsync("/experiments/new");

        Assert.Equal((int)HttpStatusCode.Forbidden, create!.Status);
        await page.GotoAsync("/experiments");
        Assert.Equal(0, await page.GetByRole(AriaRole.Link, new() { Name = "New experiment", Exact = true }).CountAsync());
    }
}
