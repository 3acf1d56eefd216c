using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

namespace PromptVault.Cli;

/// <summary>The `promptvault` entry point with its console and environment injected, so tests run real commands in-process.</summary>
internal static class CliApp
{
    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code (0 success, 1 refused, 2 bad usage).</summary>
    /// <param name="environment">The environment variables to read (<c>PROMPTVAULT_URL</c>, <c>PROMPTVAULT_API_KEY</c>); the process's when null.</param>
    /// <param name="requestTimeout">The longest a command waits for the server (default 100 s); tests shorten it.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr,
        IReadOnlyDictionary<string, string?>? environment = null, CancellationToken cancellationToken = default, TimeSpan? requestTimeout = null)
    {
        var isProcessConsole = ReferenceEquals(stdout, Console.Out);
        var context = new CliContext(stdout, stderr,
            environment is null ? Environment.GetEnvironmentVariable : name => environment.GetValueOrDefault(name),
            isTerminal: IsTerminal(stdout, Console.Out, Console.IsOutputRedirected),
            isErrorTerminal: IsTerminal(stderr, Console.Error, Console.IsErrorRedirected), requestTimeout);

        try
        {
            return await RunAsync(context, args, isProcessConsole, cancellationToken);
        }
        finally
        {
            context.WriteJsonErrors();
        }
    }

    private static async Task<int> RunAsync(CliContext context, string[] args, bool isProcessConsole, CancellationToken cancellationToken)
    {
        var parseResult = Program.CreateRootCommand(context).Parse(args);
        if (parseResult.Action is ParseErrorAction)
        {
            // System.CommandLine reports parse errors with exit code 1; the contract (SPEC §6) says bad usage is 2.
            context.JsonErrors = args.Contains("--json");
            var path = CommandPath(parseResult);
            var options = MistypedOptions(parseResult);
            var values = ValuesOfMistypedOptions(parseResult, options);
            foreach (var error in UnrecognizedCommand(parseResult) ?? parseResult.Errors.Where(error => !values.Any(value => IsAbout(error, value)))
                         .Select(error => MissingArgument(error, path) ?? MistypedOption(error, options) ?? error.Message))
                context.WriteError(error);
            if (!context.JsonErrors) context.Error.WriteLine($"Run 'promptvault{(path.Length > 0 ? " " + path : "")} --help' for usage.");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            // Only the real process owns Ctrl+C; in-process callers (tests) cancel through the token.
            ProcessTerminationTimeout = isProcessConsole ? TimeSpan.FromSeconds(5) : null,
        };
        return await parseResult.InvokeAsync(invocation, cancellationToken);
    }

    /// <summary>Whether <paramref name="writer"/> is a terminal: the process's own stream (<paramref name="processWriter"/>), not
    /// <paramref name="redirected"/>. Each stream by its own flag: <c>promptvault … &gt; out.json</c> leaves stderr a terminal.</summary>
    internal static bool IsTerminal(TextWriter writer, TextWriter processWriter, bool redirected) =>
        ReferenceEquals(writer, processWriter) && !redirected;

    /// <summary>
    /// A required argument left out, named with what it is (<c>diff needs B: the newer version (e.g. 1.0.1).</c>), where
    /// System.CommandLine says only <c>Required argument missing for command: 'diff'.</c>; null for any other error.
    /// </summary>
    private static string? MissingArgument(ParseError error, string path)
    {
        if (error.SymbolResult is not ArgumentResult { Argument: var argument } result || result.Tokens.Count >= argument.Arity.MinimumNumberOfValues)
            return null;
        var what = argument.Description is { Length: > 0 } description ? $": {char.ToLowerInvariant(description[0])}{description[1..]}" : ".";
        return $"{path} needs {argument.Name}{what}";
    }

    /// <summary>
    /// <c>promptvault pushh</c>: the first word is not a command, said alone (System.CommandLine also says "Required command was
    /// not provided.", but one was) with the library's typo correction when it finds one command close; null when a command matched.
    /// </summary>
    private static string[]? UnrecognizedCommand(ParseResult parseResult)
    {
        if (parseResult.CommandResult.Parent is not null || parseResult.UnmatchedTokens is not [var token, ..] || token.StartsWith('-'))
            return null;
        var suggestions = TypoCorrections(parseResult, token);
        return [$"Unrecognized command '{token}'{(suggestions is [var command] ? $"; did you mean '{command}'?" : ".")}"];
    }

    /// <summary>
    /// <c>promptvault render p --unti u1</c>: the option System.CommandLine's typo correction finds close to each unmatched
    /// <c>-</c> token (only when it finds exactly one), where the library says only "Unrecognized command or argument".
    /// </summary>
    private static Dictionary<string, string> MistypedOptions(ParseResult parseResult) =>
        parseResult.UnmatchedTokens.Where(token => token.StartsWith('-')).Distinct()
            .Select(token => (Token: token, Suggestions: TypoCorrections(parseResult, token)))
            .Where(mistyped => mistyped.Suggestions is [_])
            .ToDictionary(mistyped => mistyped.Token, mistyped => mistyped.Suggestions[0]);

    private static string? MistypedOption(ParseError error, Dictionary<string, string> options) =>
        options.FirstOrDefault(option => IsAbout(error, option.Key)) is { Key: { } token, Value: var option }
            ? $"Unrecognized option '{token}'; did you mean '{option}'?"
            : null;

    private static bool IsAbout(ParseError error, string token) => error.Message.Contains($"'{token}'", StringComparison.Ordinal);

    /// <summary>
    /// <c>u1</c> in <c>render p --unti u1</c>: the unmatched token right after a mistyped option whose suggestion takes a value is
    /// that value, which System.CommandLine reports as one more unrecognized argument; the option's own error says it all.
    /// </summary>
    private static HashSet<string> ValuesOfMistypedOptions(ParseResult parseResult, Dictionary<string, string> options)
    {
        var tokens = parseResult.Tokens;
        var command = parseResult.CommandResult.Command;
        return tokens.Skip(1).Where((value, i) => options.TryGetValue(tokens[i].Value, out var suggested)
                && command.Options.FirstOrDefault(o => o.Name == suggested || o.Aliases.Contains(suggested)) is { Arity.MaximumNumberOfValues: > 0 }
                && !value.Value.StartsWith('-') && parseResult.UnmatchedTokens.Contains(value.Value))
            .Select(value => value.Value).ToHashSet();
    }

    /// <summary>
    /// The commands and options System.CommandLine suggests for <paramref name="token"/>, among those of the command it was given to. It offers them only as text, a line naming each
    /// unmatched token followed by the names it suggests for it.
    /// </summary>
    private static string[] TypoCorrections(ParseResult parseResult, string token)
    {
        if (parseResult.Action is not ParseErrorAction action) return [];
        action.ShowHelp = false;
        action.ShowTypoCorrections = true;
        using var output = new StringWriter();
        parseResult.Invoke(new InvocationConfiguration { Output = output, Error = TextWriter.Null });
        var command = parseResult.CommandResult.Command;
        var names = command.Subcommands.Select(subcommand => subcommand.Name)
            .Concat(command.Options.SelectMany(option => option.Aliases.Prepend(option.Name))).ToHashSet();
        return output.ToString().Split('\n', StringSplitOptions.TrimEntries)
            .SkipWhile(line => names.Contains(line) || !line.Contains($"'{token}'", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(names.Contains).ToArray();
    }

    private static string CommandPath(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as CommandResult)
            names.Insert(0, result.Command.Name);
        return string.Join(' ', names.Skip(1));
    }
}

internal static class ExitCodes
{
    public const int Success = 0;
    public const int Refused = 1;
    public const int Usage = 2;
}
