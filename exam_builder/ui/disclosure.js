// A disclosure button: says aria-expanded, names what it shows with aria-controls, and tells the
// kernel (which shows or hides that part of the page) when it is pressed.
function render({ model, el }) {
  el.classList.add("eb-host"); // its box must not clip the focus ring drawn outside the control
  const button = document.createElement("button");
  button.type = "button";
  button.className = "eb-disclosure";

  function draw() {
    button.textContent = model.get("label");
    button.setAttribute("aria-expanded", String(model.get("expanded")));
    const target = model.get("controls") && document.querySelector(model.get("controls"));
    if (target) {
      if (!target.id) target.id = `eb-shown-${Math.random().toString(36).slice(2, 10)}`;
      button.setAttribute("aria-controls", target.id);
    }
  }
  button.addEventListener("click", () => {
    model.set("expanded", !model.get("expanded"));
    model.save_changes();
    draw();
  });
  model.on("change:label", draw);
  model.on("change:expanded", draw);
  draw();
  el.append(button);
}

export default { render };
