// Asks before leaving a page that holds unsaved work: an element marked data-unsaved (an interactive page's changed draft,
// test values or test cases, which the page marks itself through UnsavedWork), or a static form marked
// data-unsaved-if-filled while any of its text fields holds something (the new-prompt form: nothing in it is stored before
// it is sent; this script marks it).
// The header's links sit in the static layout, and Blazor's enhanced navigation swaps the page without consulting an
// interactive component's NavigationLock, so a link's click is confirmed here, before Blazor sees it; beforeunload covers
// reload, close, the address bar and forms that load a page. The dashboard's own moves (after Save, at sign-out) are
// enhanced navigations with no click, and a form sending the unsaved work itself is what stores it, so neither is asked about.
(() => {
    const isText = field => field instanceof HTMLTextAreaElement || (field instanceof HTMLInputElement && field.type === 'text');
    const markFilledForms = () => {
        for (const form of document.querySelectorAll('form[data-unsaved-if-filled]'))
            form.toggleAttribute('data-unsaved', [...form.elements].some(field => isText(field) && field.value !== ''));
    };
    const unsaved = () => {
        markFilledForms(); // a form re-rendered after a refused send holds what was typed before any input event
        return document.querySelector('[data-unsaved]') !== null;
    };
    let leaving = false; // a confirmed link may still load a whole page, and a form sending the work loads one: do not ask

    addEventListener('input', markFilledForms);

    addEventListener('click', event => {
        leaving = false;
        if (!unsaved() || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
        const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
        if (link === null || (link.target !== '' && link.target !== '_self') || link.hasAttribute('download')) return;
        const to = new URL(link.href, location.href);
        if (to.origin === location.origin && to.pathname === location.pathname && to.search === location.search && to.hash !== '') return; // a jump within the page
        leaving = confirm('Leave this page? The draft you have not saved will be lost.');
        if (!leaving) {
            event.preventDefault();
            event.stopImmediatePropagation();
        }
    }, { capture: true });

    addEventListener('submit', event => {
        const form = event.target;
        markFilledForms();
        if (form instanceof HTMLFormElement && (form.hasAttribute('data-unsaved') || form.querySelector('[data-unsaved]') !== null)) leaving = true;
    });

    addEventListener('beforeunload', event => {
        if (!unsaved() || leaving) return;
        event.preventDefault();
        event.returnValue = true; // older browsers ask only when this is set
    });
})();
