namespace PromptVault.Core;

/// <summary>New entity ids: time-ordered (UUID v7) so ids sort by creation, as 32 hex digits.</summary>
internal static class Ids
{
    public static string New(DateTimeOffset now) => Guid.CreateVersion7(now).ToString("N");

    /// <summary>Whether <paramref name="text"/> is an id as <see cref="New"/> writes it.</summary>
    public static bool IsId(string text) => Guid.TryParseExact(text, "N", out var id) && id.ToString("N") == text;
}
