// The question list: a <nav> of buttons, the current one aria-current="step", each saying in
// words whether it is answered or flagged. On narrow screens it folds behind a "Questions" button.
function render({ model, el }) {
  el.classList.add("eb-host"); // its box must not clip the focus ring drawn outside the control
  const nav = document.createElement("nav");
  nav.className = "eb-nav";
  nav.setAttribute("aria-label", "Questions");
  const list = document.createElement("ul");
  list.id = `eb-nav-${Math.random().toString(36).slice(2, 10)}`;
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "eb-nav-toggle";
  toggle.setAttribute("aria-controls", list.id);
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    nav.dataset.open = String(open);
  });
  toggle.setAttribute("aria-expanded", "false");
  nav.dataset.open = "false";
  const legend = document.createElement("p");
  legend.className = "eb-nav-legend";
  legend.textContent = "All questions (✓ answered, ⚑ flagged):";
  nav.append(toggle, legend, list);

  function word(text, cls) {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    if (cls === "eb-mark") s.setAttribute("aria-hidden", "true");  // said in words beside it
    return s;
  }

  function draw() {
    const entries = model.get("entries");
    const current = model.get("current");
    const answered = entries.filter((e) => e.answered).length;
    toggle.textContent = `Questions (${answered} of ${entries.length} answered)`;
    list.replaceChildren();
    for (const e of entries) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "eb-nav-item" + (e.answered ? " eb-answered" : "");
      b.append(word(String(e.n), "eb-nav-n"));
      if (e.answered) b.append(word(" ✓", "eb-mark"), word(" answered", "eb-sr-only"));
      if (e.flagged) b.append(word(" ⚑", "eb-mark"), word(" flagged", "eb-sr-only"));
      if (e.n === current) b.setAttribute("aria-current", "step");
      b.disabled = model.get("disabled");
      b.addEventListener("click", () => {
        model.send({ go: e.n });
        if (window.matchMedia("(max-width: 50em)").matches) {
          toggle.setAttribute("aria-expanded", "false");
          nav.dataset.open = "false";
        }
      });
      const li = document.createElement("li");
      li.append(b);
      list.append(li);
    }
  }

  model.on("change:entries", draw);
  model.on("change:current", draw);
  model.on("change:disabled", draw);
  draw();
  el.append(nav);
}

export default { render };
