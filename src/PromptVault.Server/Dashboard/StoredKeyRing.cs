using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using PromptVault.Core.Storage;

namespace PromptVault.Server.Dashboard;

/// <summary>
/// The Data Protection key ring in the server's database (<see cref="IKeyRingStore"/>), not in the files of the machine's
/// user: every server on one PostgreSQL database reads the cookies and antiforgery tokens of the others, and a restarted
/// server (a new container) those it issued before.
/// </summary>
/// <remarks>
/// The framework calls it synchronously, rarely (a key ring read at start and then once a day or on an unknown key, a new key
/// every 90 days). The store's calls run on the thread pool, away from a Blazor circuit's synchronization context, whose
/// thread blocking on them would wait for itself.
/// </remarks>
internal sealed class StoredKeyRing(IKeyRingStore store) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() =>
        Task.Run(() => store.GetKeyRingElementsAsync()).GetAwaiter().GetResult().Select(xml => XElement.Parse(xml)).ToList();

    public void StoreElement(XElement element, string friendlyName) =>
        Task.Run(() => store.AddKeyRingElementAsync(friendlyName, element.ToString(SaveOptions.DisableFormatting))).GetAwaiter().GetResult();
}
