using System.Buffers.Text;
using System.Text;

namespace PromptVault.Client;

/// <summary>What a <see cref="ResolvedPrompt.ResolutionId"/> carries: enough to attach a later metric event to the call.</summary>
internal sealed record Resolution(string PromptName, string VersionId, string? ExperimentId, string? VariantId, string? UnitId);

/// <summary>
/// Encodes a <see cref="Resolution"/> as <c>pv1.</c> + base64url of its fields. Each field is written as a 16-byte GUID when it
/// is one (the server's version, experiment and variant ids are), else as length-prefixed UTF-8, so an id stays near 100 characters.
/// </summary>
internal static class ResolutionIds
{
    private const string Prefix = "pv1.";
    private const byte Null = 0, Guid16 = 1, Text = 2;

    public static string Encode(Resolution resolution)
    {
        using var stream = new MemoryStream(128);
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            foreach (var field in (ReadOnlySpan<string?>)[resolution.PromptName, resolution.VersionId, resolution.ExperimentId, resolution.VariantId, resolution.UnitId])
                Write(writer, field);
        }
        return Prefix + Base64Url.EncodeToString(stream.GetBuffer().AsSpan(0, (int)stream.Length));
    }

    /// <exception cref="ArgumentException"><paramref name="resolutionId"/> is not one this SDK made.</exception>
    public static Resolution Decode(string resolutionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(resolutionId);
        try
        {
            if (!resolutionId.StartsWith(Prefix, StringComparison.Ordinal)) throw new FormatException();
            using var reader = new BinaryReader(new MemoryStream(Base64Url.DecodeFromChars(resolutionId.AsSpan(Prefix.Length))), Encoding.UTF8);
            var resolution = new Resolution(Read(reader) ?? throw new FormatException(), Read(reader) ?? throw new FormatException(),
                Read(reader), Read(reader), Read(reader));
            if (reader.BaseStream.Position != reader.BaseStream.Length) throw new FormatException();
            return resolution;
        }
        catch (Exception e) when (e is FormatException or EndOfStreamException or IOException)
        {
            throw new ArgumentException("resolutionId is not a PromptVault resolution id (ResolvedPrompt.ResolutionId).", nameof(resolutionId), e);
        }
    }

    private static void Write(BinaryWriter writer, string? field)
    {
        // Only the canonical lower-case "N" form (32 hex digits, as the server makes ids) is packed, so decoding gives back the very same text.
        if (field is null)
        {
            writer.Write(Null);
        }
        else if (field.Length == 32 && Guid.TryParseExact(field, "N", out var guid) && guid.ToString("N") == field)
        {
            writer.Write(Guid16);
            writer.Write(guid.ToByteArray(bigEndian: true));
        }
        else
        {
            writer.Write(Text);
            writer.Write(field);
        }
    }

    private static string? Read(BinaryReader reader) => reader.ReadByte() switch
    {
        Null => null,
        Guid16 => new Guid(reader.ReadBytes(16) is { Length: 16 } bytes ? bytes : throw new EndOfStreamException(), bigEndian: true).ToString("N"),
        Text => reader.ReadString(),
        _ => throw new FormatException(),
    };
}
