// Focus and speech for the screens: moves focus to a new screen's heading (so a keyboard or
// screen-reader user starts there, not at the top of the page), says short news in a polite
// live region.
function render({ model, el }) {
  const live = document.createElement("div");
  live.className = "eb-sr-only";
  live.setAttribute("role", "status");
  live.setAttribute("aria-live", "polite");
  el.append(live);

  function find(selector, tries, then) {
    // widget views render asynchronously: wait for the element to exist and be visible
    const node = document.querySelector(selector);
    if (node && node.getClientRects().length) return then(node);
    if (tries > 0) setTimeout(() => find(selector, tries - 1, then), 50);
  }

  const moveFocus = (onlyIfIdle = false) => {
    const { selector } = model.get("focus");
    if (!selector) return;
    find(selector, 60, (node) => {
      // on first drawing, never take focus from a box the person is already typing in
      if (onlyIfIdle && document.activeElement && document.activeElement !== document.body) return;
      if (!node.hasAttribute("tabindex") && !/^(BUTTON|INPUT|TEXTAREA|SELECT|A)$/.test(node.tagName)) {
        node.setAttribute("tabindex", "-1");
      }
      node.focus({ preventScroll: true });
      node.scrollIntoView({ block: "start" });
    });
  };
  // tell the kernel which link opened this page (a study group's ?set=...): it cannot see the URL
  const query = window.location.search.slice(0, 512);
  if (query && model.get("page_query") !== query) {
    model.set("page_query", query);
    model.save_changes();
  }

  model.on("change:focus", () => moveFocus());
  moveFocus(true);  // a screen drawn before this widget was

  model.on("change:announcement", () => {
    const { text } = model.get("announcement");
    live.textContent = "";
    setTimeout(() => { live.textContent = text || ""; }, 100);  // a repeated text is said again
  });
}

export default { render };
