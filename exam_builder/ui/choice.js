// A real radio group: <fieldset> named by its <legend>, native radios (arrow keys, one tab stop),
// or, with appearance "buttons", a named group of toggle buttons that say aria-pressed, or, with
// "multiple" (select all that apply), the same fieldset of native checkboxes; value is then a list.
let serial = 0;

function render({ model, el }) {
  el.classList.add("eb-host"); // its box must not clip the focus ring drawn outside the control
  const group = document.createElement("fieldset");
  group.className = "eb-choices";
  const name = `eb-choice-${++serial}-${Math.random().toString(36).slice(2, 8)}`;

  function draw() {
    const legend = document.createElement("legend");
    legend.textContent = model.get("legend");
    group.replaceChildren(legend);
    group.dataset.appearance = model.get("appearance");
    for (const [value, label] of model.get("options")) {
      if (model.get("appearance") === "buttons") {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "eb-toggle";
        b.textContent = label;
        b.dataset.value = value;
        b.addEventListener("click", () => model.get("multiple") ? toggle(value, !isChosen(value)) : choose(value));
        group.append(b);
      } else {
        const row = document.createElement("label");
        row.className = "eb-choice";
        const input = document.createElement("input");
        input.type = model.get("multiple") ? "checkbox" : "radio";
        input.name = name;
        input.value = value;
        input.addEventListener("change", () => {
          if (model.get("multiple")) toggle(value, input.checked);
          else if (input.checked) choose(value);
        });
        const text = document.createElement("span");
        text.textContent = label;
        row.append(input, text);
        group.append(row);
      }
    }
    sync();
  }

  function choose(value) {
    if (model.get("disabled")) return;
    model.set("value", value);
    model.save_changes();
    sync();
  }

  function toggle(value, on) {
    if (model.get("disabled")) return;
    const now = new Set(model.get("value") || []);
    if (on) now.add(value); else now.delete(value);
    // option order, as the kernel keeps it
    model.set("value", model.get("options").map(([v]) => v).filter((v) => now.has(v)));
    model.save_changes();
    sync();
  }

  function isChosen(v) {
    const value = model.get("value");
    return model.get("multiple") ? Array.isArray(value) && value.includes(v) : v === value;
  }

  function sync() {
    const disabled = model.get("disabled");
    for (const input of group.querySelectorAll("input")) {
      input.checked = isChosen(input.value);
      input.disabled = disabled;
      input.closest("label").classList.toggle("eb-chosen", input.checked);
    }
    for (const b of group.querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(isChosen(b.dataset.value)));
      b.disabled = disabled;
    }
  }

  model.on("change:options", draw);
  model.on("change:legend", draw);
  model.on("change:appearance", draw);
  model.on("change:multiple", draw);
  model.on("change:value", sync);
  model.on("change:disabled", sync);
  draw();
  el.append(group);
}

export default { render };
