namespace PromptVault.Core.Idempotency;

/// <summary>An <c>Idempotency-Key</c> as sent by one caller: the same value from another API key is another key.</summary>
public sealed record IdempotencyKey
{
    /// <summary>The HTTP header that carries the key.</summary>
    public const string HeaderName = "Idempotency-Key";

    /// <summary>The longest key accepted: 255 characters.</summary>
    public const int MaxLength = 255;

    private IdempotencyKey(string owner, string value)
    {
        Owner = owner;
        Value = value;
    }

    /// <summary>Who sent the key: the API key's id.</summary>
    public string Owner { get; }

    public string Value { get; }

    /// <summary>Checks <paramref name="value"/>: 1 to 255 printable ASCII characters, no spaces (a UUID fits).</summary>
    /// <exception cref="InvalidInputException">The value breaks that rule (<c>invalid_idempotency_key</c>).</exception>
    public static IdempotencyKey Create(string owner, string? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength || !value.All(c => c is > ' ' and <= '~'))
            throw new InvalidInputException("invalid_idempotency_key",
                $"the {HeaderName} header must be 1 to {MaxLength} printable ASCII characters without spaces, such as a UUID.", HeaderName);
        return new IdempotencyKey(owner, value);
    }
}
