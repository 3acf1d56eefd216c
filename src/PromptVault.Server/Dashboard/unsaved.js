// Asks before leaving a page that holds unsaved work: an element marked data-unsaved (the editor's changed draft).
// The header's links sit in the static layout, and Blazor's enhanced navigation swaps the page without consulting an
// interactive component's NavigationLock, so a link's click is confirmed here, before Blazor sees it; beforeunload covers
// reload, close, the address bar and forms that load a page. The dashboard's own moves (after Save, at sign-out) are
// enhanced navigations with no click, so they are not asked about.
(() => {
    const unsaved = () => document.querySelector('[data-unsaved]') !== null;
    let confirmed = false; // a link already confirmed may still load a whole page: do not ask twice

    addEventListener('click', event => {
        confirmed = false;
        if (!unsaved() || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
        const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
        if (link === null || (link.target !== '' && link.target !== '_self') || link.hasAttribute('download')) return;
        const to = new URL(link.href, location.href);
        if (to.origin === location.origin && to.pathname === location.pathname && to.search === location.search && to.hash !== '') return; // a jump within the page
        confirmed = confirm('Leave this page? The draft you have not saved will be lost.');
        if (!confirmed) {
            event.preventDefault();
            event.stopImmediatePropagation();
        }
    }, { capture: true });

    addEventListener('beforeunload', event => {
        if (!unsaved() || confirmed) return;
        event.preventDefault();
        event.returnValue = true; // older browsers ask only when this is set
    });
})();
