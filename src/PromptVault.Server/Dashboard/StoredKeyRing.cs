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
/// <para>
/// Servers starting at once on a new database each read an empty ring and make a first key, which each would use at once and
/// alone until it read the ring again, refusing the other's cookies. So a key made after reading an empty ring is stored only
/// while the ring is still empty (<see cref="IKeyRingStore.AddFirstKeyRingElementAsync"/>): the other servers' keys are dropped,
/// and the framework, which reads the ring again after making a key, uses the one stored.
/// </para>
/// </remarks>
internal sealed class StoredKeyRing(IKeyRingStore store) : IXmlRepository
{
    private volatile bool _readEmpty;

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        var elements = Task.Run(() => store.GetKeyRingElementsAsync()).GetAwaiter().GetResult().Select(xml => XElement.Parse(xml)).ToList();
        _readEmpty = elements.Count == 0;
        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        var xml = element.ToString(SaveOptions.DisableFormatting);
        if (_readEmpty)
            Task.Run(() => store.AddFirstKeyRingElementAsync(friendlyName, xml)).GetAwaiter().GetResult();
        else
            Task.Run(() => store.AddKeyRingElementAsync(friendlyName, xml)).GetAwaiter().GetResult();
    }
}
