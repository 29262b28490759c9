// A one-box form: a visible <label>, the box and its button in a real <form>, so Enter in the box
// and the button both submit, and the text travels inside the submit message itself (a widget's
// value may still be on its way when a button's click arrives).
let serial = 0;

function render({ model, el }) {
  el.classList.add("eb-host"); // its box must not clip the focus ring drawn outside the control
  const form = document.createElement("form");
  form.className = "eb-textform";
  form.noValidate = true;
  const id = `eb-textform-${++serial}-${Math.random().toString(36).slice(2, 8)}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  const input = document.createElement("input");
  input.id = id;
  input.type = "text";
  input.autocomplete = "off";
  input.spellcheck = false;
  const button = document.createElement("button");
  button.type = "submit";
  const row = document.createElement("div");
  row.className = "eb-textform-row";
  row.append(input, button);
  form.append(label, row);

  function draw() {
    label.textContent = model.get("label");
    button.textContent = model.get("button");
    input.placeholder = model.get("placeholder");
    if (input.value !== model.get("value")) input.value = model.get("value");
    input.disabled = button.disabled = model.get("disabled");
  }
  input.addEventListener("input", () => { model.set("value", input.value); model.save_changes(); });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!model.get("disabled")) model.send({ submit: input.value });
  });
  for (const name of ["label", "button", "placeholder", "value", "disabled"]) model.on(`change:${name}`, draw);
  draw();
  el.append(form);
}

export default { render };
