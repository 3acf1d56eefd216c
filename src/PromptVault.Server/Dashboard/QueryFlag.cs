namespace PromptVault.Server.Dashboard;

/// <summary>
/// A true/false value of a page's address (<c>?expired=true</c>), read from text: bound as a <c>bool</c>, Blazor answered a
/// value it could not parse (<c>?expired=yes</c>) with a 500 instead of the page. Anything but "true" is not set.
/// </summary>
internal static class QueryFlag
{
    public static bool IsSet(string? value) => bool.TryParse(value, out var set) && set;
}
