using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using PromptVault.Core;

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
        var root = Program.CreateRootCommand(context);
        var parseResult = root.Parse(args);
        var mistyped = MistypedOptions(parseResult);
        if (mistyped.Count > 0 || parseResult.Action is ParseErrorAction)
        {
            // System.CommandLine reports parse errors with exit code 1; the contract (SPEC §6) says bad usage is 2.
            context.JsonErrors = args.Contains("--json");
            var path = CommandPath(parseResult);
            // The other errors are those of the line without the mistyped options (and their values), which the parser may
            // have given to an argument: 'pull --verison 1.0 p' then says only what is wrong with 'pull p'.
            var rest = mistyped.Count == 0 ? parseResult : root.Parse(parseResult.Tokens
                .Where((_, i) => !mistyped.Any(option => i == option.Position || (i == option.Position + 1 && option.HasValue))).Select(t => t.Value).ToArray());
            foreach (var error in UsageErrors(mistyped, rest, path))
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

    /// <summary>What is wrong with a line that did not parse, in the order to fix it; <paramref name="rest"/> is the line without its mistyped options.</summary>
    private static IEnumerable<string> UsageErrors(List<MistypedOption> mistyped, ParseResult rest, string path)
    {
        var typos = mistyped.Select(option => option.Message);
        var commandError = CommandErrorOf(rest, path);
        // A mistyped command is said first, whatever else is wrong ('pushh --hlep'): every word typed wrong is named.
        if (commandError is { IsMistyped: true })
            return typos.Prepend(commandError.Message);
        // A mistyped option close to one that acts alone ('--verison': --version) is said alone: typed right, it would have
        // answered without the command or arguments the rest of the errors would ask for.
        if (mistyped.Any(option => option.SuggestionActsAlone))
            return typos;
        // A command left out is said first: until it is known, the options and arguments cannot be judged, so the parser's own
        // errors about the line ("Required command was not provided.") are not repeated.
        return commandError is not null
            ? typos.Prepend(commandError.Message)
            : typos.Concat(rest.Errors.Select(error => MissingArgument(error, path) ?? error.Message));
    }

    /// <summary>What is wrong with the command of a line: <paramref name="IsMistyped"/> when a word was given that is none of the commands, else it was left out.</summary>
    private sealed record CommandError(string Message, bool IsMistyped);

    /// <summary>
    /// A command that only holds commands (the root, <c>experiment</c>, <c>keys</c>, <c>webhooks</c>) given none: its first word that
    /// is no option is an unknown command, said with the closest of its commands if one is close (<c>webhooks redelivr</c>), and
    /// with no such word its commands are listed (<c>experiment needs a command: create, list, …</c>); null when a command matched.
    /// </summary>
    private static CommandError? CommandErrorOf(ParseResult parseResult, string path)
    {
        var group = parseResult.CommandResult.Command;
        if (group.Subcommands.Count == 0 || group.Action is not null)
            return null;
        var names = group.Subcommands.Where(command => !command.Hidden).Select(command => command.Name).ToList();
        if (parseResult.UnmatchedTokens.FirstOrDefault(token => !LooksLikeOption(token)) is { } word)
            return new CommandError($"Unrecognized command '{word}'{(Suggestions.Closest(word, names) is { } suggestion ? $"; did you mean '{suggestion}'?" : ".")}", IsMistyped: true);
        // The root's commands are too many for one line; its --help lists them.
        return new CommandError(path.Length == 0 ? "Required command was not provided." : $"{path} needs a command: {string.Join(", ", names)}.", IsMistyped: false);
    }

    /// <summary>
    /// Whether a word is written as an option (<c>--unit</c>, <c>-x</c>): it starts with '-' and is neither '-' alone (standard
    /// input, by custom) nor a negative number.
    /// </summary>
    private static bool LooksLikeOption(string word) =>
        word.Length > 1 && word[0] == '-' && !double.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>A token that looks like an option but is none of the command's, at <paramref name="Position"/> in the parsed tokens.</summary>
    /// <param name="HasValue">Whether the token after it is the value of <paramref name="Suggestion"/>, which needs one (a flag such as --json
    /// takes 'true' or 'false' at most, so a word after it is an argument).</param>
    /// <param name="SuggestionActsAlone">Whether <paramref name="Suggestion"/> answers by itself, needing no command or argument (--help, --version).</param>
    internal sealed record MistypedOption(int Position, string Token, string? Suggestion, bool HasValue, bool SuggestionActsAlone)
    {
        public string Message => $"Unrecognized option '{Token}'{(Suggestion is null ? "." : $"; did you mean {Suggestion}?")}";
    }

    /// <summary>
    /// The tokens before any <c>--</c> that look like an option (<c>--unti</c>, <c>-x</c>) and are not an option of the command nor an option's value. The parser gives
    /// such a token to an open-ended argument (push's FILE...) or to an argument still empty (pull's NAME), else leaves it unmatched; a
    /// file named <c>--x</c> is passed after <c>--</c>. Each comes with the command's option closest to it, by the CLI's one rule.
    /// </summary>
    internal static List<MistypedOption> MistypedOptions(ParseResult parseResult)
    {
        // The command's options (and its parents' recursive ones) by each of their spellings (--output, -o), and the tokens taken as their values.
        var options = new Dictionary<string, Option>(StringComparer.Ordinal);
        var optionValues = new HashSet<Token>(ReferenceEqualityComparer.Instance);
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as CommandResult)
        {
            foreach (var option in result.Command.Options.Where(option => result == parseResult.CommandResult || option.Recursive))
            foreach (var name in option.Aliases.Prepend(option.Name).Where(n => n.StartsWith('-')))
                options.TryAdd(name, option);
            optionValues.UnionWith(result.Children.OfType<OptionResult>().SelectMany(option => option.Tokens));
        }

        var tokens = parseResult.Tokens;
        var end = tokens.TakeWhile(token => token.Type != TokenType.DoubleDash).Count();
        var mistyped = new List<MistypedOption>();
        for (var i = 0; i < end; i++)
        {
            if (tokens[i] is not { Type: TokenType.Argument } token || !LooksLikeOption(token.Value) || optionValues.Contains(token))
                continue;
            // --unti=u1 is one token: the parser splits NAME=VALUE only for an option it knows.
            var (name, hasInlineValue) = token.Value.IndexOf('=') is > 0 and var equals ? (token.Value[..equals], true) : (token.Value, false);
            var suggestion = ClosestOption(name, options);
            var hasValue = !hasInlineValue && suggestion is not null && options[suggestion].Arity.MinimumNumberOfValues > 0
                && i + 1 < end && tokens[i + 1] is { Type: TokenType.Argument } next && !LooksLikeOption(next.Value) && !optionValues.Contains(next);
            mistyped.Add(new MistypedOption(i, name, suggestion is null ? null : Spellings(suggestion, options[suggestion]), hasValue,
                suggestion is not null && options[suggestion].Action is not null));
        }
        return mistyped;
    }

    /// <summary>
    /// The spelling in <paramref name="options"/> closest to <paramref name="token"/>, in the form it was typed: a one-letter token
    /// (<c>-x</c>) is compared with the short aliases (<c>-o</c>, not help's <c>-h</c>, which every command has), any other with the
    /// long names, a single dash read as the long form's two (<c>-lable</c> is <c>--lable</c>, two edits from <c>--label</c>).
    /// </summary>
    private static string? ClosestOption(string token, Dictionary<string, Option> options)
    {
        var isShort = token.Length == 2;
        var names = options.Where(o => IsShortAlias(o.Key) == isShort && !(isShort && o.Value is HelpOption)).Select(o => o.Key);
        return Suggestions.Closest(isShort || token.StartsWith("--", StringComparison.Ordinal) ? token : "-" + token, names);
    }

    private static bool IsShortAlias(string spelling) => !spelling.StartsWith("--", StringComparison.Ordinal);

    /// <summary>How a suggested option is said: a short alias with its long name, which says what the letter means (<c>'-o' (--output)</c>).</summary>
    private static string Spellings(string spelling, Option option) =>
        IsShortAlias(spelling) ? $"'{spelling}' ({option.Name})" : $"'{spelling}'";

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
