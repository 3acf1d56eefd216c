namespace PromptVault.Client;

/// <summary>
/// The SDK cannot start: it has no snapshot to serve from (the server could not be reached, or refused, within the request
/// timeout, and no fallback snapshot file was configured or readable), or it is to record events with an API key whose role
/// may not (<c>PromptVault:RecordEvents</c> with a reader key). The message says which, and what to change.
/// </summary>
public sealed class PromptVaultUnavailableException : Exception
{
    /// <summary>Creates the exception with its explanation and the failure that caused it.</summary>
    public PromptVaultUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
