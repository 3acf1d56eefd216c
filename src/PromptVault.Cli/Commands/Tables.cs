using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace PromptVault.Cli.Commands;

/// <summary>The tables the commands print for people; cells are plain text, never markup.</summary>
internal static class Tables
{
    public static Table Create(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns) table.AddColumn(new TableColumn(new Text(column, new Style(decoration: Decoration.Bold))));
        return table;
    }

    public static IRenderable[] Cells(params string?[] values) => values.Select(v => (IRenderable)new Text(v ?? "")).ToArray();

    /// <summary>Prints <paramref name="table"/>, or, when it has no rows, <paramref name="empty"/> on stderr instead of a table of headers alone.</summary>
    public static void Write(CliContext context, Table table, string empty)
    {
        if (table.Rows.Count == 0) context.Error.WriteLine(empty);
        else context.Console.Write(table);
    }

    /// <summary>Says on stderr when a table shows only the newest of the items (<c>--limit</c>).</summary>
    public static void WriteShown(CliContext context, int shown, int total, string what)
    {
        if (shown < total) context.Error.WriteLine($"Showing the newest {shown:N0} of {total:N0} {what}.");
    }

    public static string Time(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
