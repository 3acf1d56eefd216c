using PromptVault.Core.Contracts;

namespace PromptVault.Client;

/// <summary>The answer to <see cref="PromptVaultClient.GetSnapshotAsync"/>.</summary>
/// <param name="Snapshot">The snapshot; null when <paramref name="NotModified"/>.</param>
/// <param name="ETag">The snapshot's ETag, to send as <c>If-None-Match</c> next time.</param>
/// <param name="NotModified">The server answered 304: the snapshot of the ETag sent is still current.</param>
public sealed record SnapshotResult(SdkSnapshot? Snapshot, string? ETag, bool NotModified);
