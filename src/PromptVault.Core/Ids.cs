namespace PromptVault.Core;

/// <summary>New entity ids: time-ordered (UUID v7) so ids sort by creation, as 32 hex digits.</summary>
internal static class Ids
{
    public static string New(DateTimeOffset now) => Guid.CreateVersion7(now).ToString("N");
}
