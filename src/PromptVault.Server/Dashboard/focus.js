// Routes.razor's FocusOnNavigate gives the keyboard's first focus to the page's error, else its heading. On an interactive page
// that element is in the prerendered copy, which Blazor replaces when the page turns interactive: the focused element leaves
// the document and the focus falls to the body, so a screen reader never announces the heading. When the element that took
// that focus is removed and the focus is left on the body (the user has not moved it since), give it to the new one.
(() => {
    const selector = () => document.querySelector('blazor-focus-on-navigate')?.getAttribute('selector');
    let first = null; // the element that holds the first focus, while it holds it

    addEventListener('focusin', event => {
        const wanted = selector();
        first = wanted && event.target instanceof Element && event.target.matches(wanted) ? event.target : null;
    });
    // A click moves the focus whatever it lands on: on a blank part of the page it leaves the focus on the body (and the next
    // Tab starts where it was clicked) with no focusin, so the body's focus is then the user's and is not given back.
    addEventListener('pointerdown', () => { first = null; });

    new MutationObserver(() => {
        if (first === null || first.isConnected) return;
        first = null;
        const wanted = selector();
        const element = wanted ? document.querySelector(wanted) : null;
        if (element === null || document.activeElement !== document.body) return;
        if (!element.hasAttribute('tabindex')) element.tabIndex = -1; // as FocusOnNavigate does: a heading takes no focus without it
        element.focus({ preventScroll: true });
    }).observe(document, { childList: true, subtree: true });
})();
