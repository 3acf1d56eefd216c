using System.Text.Json;

namespace PromptVault.Server.Dashboard;

/// <summary>
/// Typed work an interactive page would lose by leaving: what it holds now against what it last loaded or saved, compared
/// as JSON. The page renders <see cref="Marker"/> as <c>data-unsaved</c>, which unsaved.js asks about before a link or an
/// unload leaves it.
/// </summary>
internal sealed class UnsavedWork
{
    private string _stored = "null";

    /// <summary>Takes <paramref name="typed"/> as stored: just loaded, or just saved.</summary>
    public void Stored(object? typed) => _stored = JsonSerializer.Serialize(typed);

    /// <summary>Whether <paramref name="typed"/> differs from what was stored.</summary>
    public bool Differs(object? typed) => JsonSerializer.Serialize(typed) != _stored;

    /// <summary>The <c>data-unsaved</c> attribute's value: "yes" while there is unsaved work, otherwise none.</summary>
    public static string? Marker(bool unsaved) => unsaved ? "yes" : null;
}
