using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace PromptVault.Core.Versioning;

/// <summary>A <c>major.minor.patch</c> version number.</summary>
public readonly record struct SemanticVersion(int Major, int Minor, int Patch) : IComparable<SemanticVersion>
{
    /// <summary>The first version of every prompt.</summary>
    public static SemanticVersion Initial { get; } = new(1, 0, 0);

    public SemanticVersion Bump(VersionBump bump) => bump switch
    {
        VersionBump.Major => new(Major + 1, 0, 0),
        VersionBump.Minor => new(Major, Minor + 1, 0),
        _ => new(Major, Minor, Patch + 1),
    };

    public int CompareTo(SemanticVersion other) =>
        Major != other.Major ? Major.CompareTo(other.Major)
        : Minor != other.Minor ? Minor.CompareTo(other.Minor)
        : Patch.CompareTo(other.Patch);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Patch}");

    public static bool TryParse([NotNullWhen(true)] string? text, out SemanticVersion version)
    {
        version = default;
        var parts = text?.Split('.');
        if (parts is not { Length: 3 }) return false;
        var numbers = new int[3];
        for (var i = 0; i < 3; i++)
        {
            if (parts[i].Length == 0 || parts[i].Length > 9 || !parts[i].All(char.IsAsciiDigit)) return false;
            if (parts[i].Length > 1 && parts[i][0] == '0') return false;
            numbers[i] = int.Parse(parts[i], CultureInfo.InvariantCulture);
        }
        version = new(numbers[0], numbers[1], numbers[2]);
        return true;
    }
}
