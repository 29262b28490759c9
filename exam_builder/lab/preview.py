"""An item as the candidate will see it, for the author's preview panel: one HTML page per item.

Contract:

- The question is built by the exam app's own code (``delivery.candidate_app.question_widgets`` and
  ``question_box``: the heading, the stem through ``ui.page.md``, the kind's note, the kind's own
  ``control``, "Clear my answer", the flag, the scenario beside it) from the item as a released form
  would show it (``item_view``: number 1, the choices in the authored order labelled A, B, C...).
  Those widgets are then written out as static HTML (``widget_html``): ipywidgets' own DOM classes
  for its core widgets, and the app's anywidgets (``ChoiceGroup``...) rendered in the page by their
  own ES modules (``ui/*.js``) over a small stand-in for a widget model. The page carries the app's
  own styles (``ui.page.style_css`` at the normal text size and ``ui/widgets.css``), so a change to
  the exam's rendering is a change to the preview: it cannot drift.
- Only what ipywidgets' own stylesheet would add is written here (``BOX_CSS``: the boxes' flex layout),
  because that stylesheet ships inside the widget manager's JavaScript bundle, not as a file.
- The author's layer sits outside the candidate's page (``.eb-author``): the key marked on the
  choices, a short answer's accepted answers, the rationale, and an open response's rubric. It is
  shown with the "Show key and rationale" toggle (or ``key=True``); the candidate's part never holds it.
- Every text is escaped (``md`` escapes HTML; the author's layer escapes everything it writes).
"""
from __future__ import annotations

import html
import json
from pathlib import Path

import anywidget
import ipywidgets as w

from ..bank.parse import parse_cell
from ..course import Course
from ..delivery.candidate_app import question_box, question_widgets
from ..delivery.form_view import ChoiceView, ItemView
from ..kinds import kind_for
from ..model.item import LABELS, Item, Scenario, Where, points_text
from ..model.rubric import Rubric
from ..safeload import read_text
from ..ui.page import md, style_css
from ..ui.screens import TEXT_SIZES

UI = Path(__file__).resolve().parents[1] / "ui"

#: ipywidgets' box layout (its stylesheet is inside the widget manager's bundle): boxes are flex columns or rows.
BOX_CSS = """
.widget-box { display: flex; box-sizing: border-box; margin: 0; }
.widget-vbox { flex-direction: column; }
.widget-hbox, .widget-inline-hbox { flex-direction: row; }
.widget-inline-hbox { align-items: baseline; box-sizing: border-box; }
.widget-label-basic { display: flex; align-items: center; gap: 0.4em; }
.jupyter-button { font: inherit; cursor: pointer; }
"""

PAGE_CSS = """
html, body { margin: 0; background: #fff; color: #111; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
.eb-author-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.3em 1em; padding: 0.4em 0.8em;
  background: #f3f3f3; border-bottom: 2px solid #6b6b6b; font-size: 16px; }
.eb-author-bar h1 { font-size: 1em; margin: 0; }
.eb-author-bar button { font: inherit; color: #111; background: #fff; border: 2px solid #6b6b6b; border-radius: 4px;
  padding: 0.15em 0.7em; min-height: 2.2em; cursor: pointer; }
.eb-author-bar button[aria-pressed="true"] { background: #0b4f8a; border-color: #0b4f8a; color: #fff; }
.eb-author-bar button:focus-visible { outline: 3px solid #b34700; outline-offset: 2px; }
.eb-preview { display: flex; flex-wrap: wrap; gap: 1em 2em; padding: 0.8em; align-items: flex-start; }
.eb-preview > main { flex: 3 1 20em; min-width: 0; }
.eb-preview > .eb-author { flex: 2 1 16em; min-width: 0; font-size: 16px; line-height: 1.5; border: 2px dashed #8a4600;
  padding: 0.4em 0.8em; background: #fffaf2; }
.eb-author h2 { font-size: 1.1em; margin: 0.3em 0; }
.eb-author table { border-collapse: collapse; }
.eb-author th, .eb-author td { border: 1px solid #6b6b6b; padding: 0.2em 0.4em; text-align: left; vertical-align: top; }
.eb-key-mark { display: inline-block; flex: none; white-space: nowrap; margin-left: 0.5em; padding: 0 0.4em;
  border-radius: 4px; background: #1d6b31;
  color: #fff; font-weight: bold; }
body:not(.eb-show-key) .eb-key-mark, body:not(.eb-show-key) .eb-author { display: none; }
.eb-empty { padding: 1em; font-size: 16px; }
"""

#: Renders the anywidgets of the page with their own ES modules over a stand-in for a widget model.
SCRIPT = """
const modules = JSON.parse(document.getElementById("eb-modules").textContent);
const keys = JSON.parse(document.getElementById("eb-keys").textContent);
function model(state) {
  const listeners = {};
  return {
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; (listeners["change:" + k] || []).forEach((f) => f()); },
    on: (e, f) => { (listeners[e] = listeners[e] || []).push(f); },
    off: () => {}, save_changes: () => {}, send: () => {},
  };
}
function markKeys() {
  for (const input of document.querySelectorAll("main fieldset.eb-choices input")) {
    if (keys.includes(input.value) && !input.closest("label").querySelector(".eb-key-mark")) {
      const mark = document.createElement("span");
      mark.className = "eb-key-mark";
      mark.textContent = "key";
      input.closest("label").append(mark);
    }
  }
}
async function renderAll() {
  for (const el of document.querySelectorAll("[data-eb-widget]")) {
    const url = URL.createObjectURL(new Blob([modules[el.dataset.ebWidget]], { type: "text/javascript" }));
    const mod = await import(url);
    const widget = mod.default || mod;
    await widget.render({ model: model(JSON.parse(el.dataset.state)), el });
  }
  markKeys();
  document.body.dataset.ready = "true";
}
const toggle = document.getElementById("eb-key-toggle");
if (toggle) {
  toggle.addEventListener("click", () => {
    const on = toggle.getAttribute("aria-pressed") !== "true";
    toggle.setAttribute("aria-pressed", String(on));
    document.body.classList.toggle("eb-show-key", on);
  });
}
renderAll();
"""


def item_view(item: Item) -> ItemView:
    """The item as question 1 of a released form shows it: the choices in the authored order, labelled."""
    kind = kind_for(item.kind)
    authored = tuple(range(len(kind.choice_texts(item))))  # a form may shuffle; the author sees the order written
    offered = tuple(ChoiceView(lab, text) for lab, text in kind.options(item, authored)) \
        if kind.offers_options else ()
    return ItemView(1, item.id, item.kind.value, float(item.points), item.stem, offered, item.scenario)


def _classes(widget: w.DOMWidget, *own: str) -> str:
    return " ".join(["lm-Widget", "jupyter-widgets", *own, *widget._dom_classes])


def widget_html(widget: w.Widget, modules: dict[str, str]) -> str:
    """A widget of the exam app as static HTML (see the module); ``modules`` collects the anywidgets' ES modules."""
    if isinstance(widget, anywidget.AnyWidget):
        name = type(widget).__name__
        modules[name] = str(widget._esm)  # anywidget holds the module's text (read from ui/*.js)
        state = {k: getattr(widget, k) for k in widget.trait_names(sync=True) if not k.startswith("_")
                 and k not in ("layout", "tabbable", "tooltip", "keys", "comm", "log")}
        state = json.loads(json.dumps(state, default=lambda o: None))
        return (f"<div class='{_classes(widget)}' data-eb-widget='{html.escape(name)}' "
                f"data-state='{html.escape(json.dumps(state), quote=True)}'></div>")
    if isinstance(widget, w.Box):
        kind = "widget-vbox" if isinstance(widget, w.VBox) else "widget-hbox"
        inner = "".join(widget_html(c, modules) for c in widget.children)
        return f"<div class='{_classes(widget, 'widget-container', 'widget-box', kind)}'>{inner}</div>"
    if isinstance(widget, w.HTML):
        return (f"<div class='{_classes(widget, 'widget-inline-hbox', 'widget-html')}'>"
                f"<div class='widget-html-content'>{widget.value}</div></div>")
    if isinstance(widget, w.Button):
        return (f"<button type='button' class='{_classes(widget, 'jupyter-button', 'widget-button')}' "
                f"title='{html.escape(widget.tooltip or '')}'>{html.escape(widget.description)}</button>")
    if isinstance(widget, w.Checkbox):
        checked = " checked" if widget.value else ""
        return (f"<div class='{_classes(widget, 'widget-inline-hbox', 'widget-checkbox')}'>"
                f"<label class='widget-label-basic'><input type='checkbox'{checked}>"
                f"<span>{html.escape(widget.description)}</span></label></div>")
    if isinstance(widget, (w.Text, w.Textarea)):
        ident = f"eb-field-{widget.model_id[:8]}"
        cls = "widget-text" if isinstance(widget, w.Text) else "widget-textarea"
        field = (f"<input type='text' id='{ident}' placeholder='{html.escape(widget.placeholder)}' "
                 f"value='{html.escape(widget.value)}'>" if isinstance(widget, w.Text) else
                 f"<textarea id='{ident}' rows='{widget.rows or 10}' placeholder='{html.escape(widget.placeholder)}'>"
                 f"{html.escape(widget.value)}</textarea>")
        return (f"<div class='{_classes(widget, 'widget-inline-hbox', cls)}'>"
                f"<label class='widget-label' for='{ident}'>{html.escape(widget.description)}</label>{field}</div>")
    raise TypeError(f"the preview cannot show a {type(widget).__name__}; add it to exam_builder.lab.preview")


def _rubric_html(rubric: Rubric | None, rubric_id: str) -> str:
    if rubric is None:
        return f"<p>No rubric <code>{html.escape(rubric_id)}</code> in rubrics/ yet.</p>"
    rows = []
    for c in rubric.criteria:
        levels = "".join(f"<li><b>{points_text(float(lv.points))} point(s)</b>"
                         f"{' (' + html.escape(lv.label) + ')' if lv.label else ''}: {html.escape(lv.descriptor)}</li>"
                         for lv in c.levels)
        rows.append(f"<tr><th scope='row'>{html.escape(c.name)}</th><td><ul>{levels}</ul></td></tr>")
    notes = f"<p>{html.escape(rubric.notes)}</p>" if rubric.notes else ""
    return (f"<table><caption>Rubric {html.escape(rubric.id)}</caption><thead><tr><th scope='col'>Criterion</th>"
            f"<th scope='col'>Levels</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{notes}")


def _author_html(item: Item, rubrics: dict[str, Rubric]) -> str:
    """What only the author sees: the key, the accepted answers, the rationale, the rubric."""
    kind = kind_for(item.kind)
    parts = [f"<h2>For the author: {html.escape(item.id)}</h2>",
             f"<p>{html.escape(kind.name)} · {html.escape(item.status.value)} · {item.points:g} point(s)</p>"]
    if kind.offers_options and kind.choice_texts(item):
        keys = ", ".join(LABELS[i] for i in item.keys) or "none marked"
        parts.append(f"<p><b>Key:</b> {html.escape(keys)}</p>")
    own = kind.own_text(item)
    if own:
        parts.append("<dl>" + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in own.items())
                     + "</dl>")
    if item.rationale:
        parts.append(f"<h2>Rationale</h2>{md(item.rationale)}")
    if kind.rated:
        parts.append(_rubric_html(rubrics.get(item.rubric_id), item.rubric_id))
    return "".join(parts)


def _page(title: str, body: str, modules: dict[str, str], keys: list[str], show_key: bool, toggle: bool) -> str:
    script_json = lambda v: json.dumps(v).replace("</", "<\\/")  # noqa: E731 (inside <script>)
    button = (f"<button type='button' id='eb-key-toggle' aria-pressed='{str(show_key).lower()}'>"
              "Show key and rationale</button>") if toggle else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{BOX_CSS}{PAGE_CSS}{read_text(UI / "widgets.css", "widgets.css", max_bytes=1_000_000)}</style>
{style_css(TEXT_SIZES["Normal"])}
</head><body class="{'eb-show-key' if show_key else ''}">
<header class="eb-author-bar"><h1>{html.escape(title)}</h1>{button}</header>
{body}
<script type="application/json" id="eb-modules">{script_json(modules)}</script>
<script type="application/json" id="eb-keys">{script_json(keys)}</script>
<script type="module">{SCRIPT}</script>
</body></html>"""


def empty_page(message: str) -> str:
    """The panel's page when the cursor is on no item (a note, a code cell) or the item cannot be read."""
    return _page("Preview", f"<main class='eb-empty'><p>{html.escape(message)}</p></main>", {}, [], False, False)


def preview_page(item: Item, scenario: Scenario | None, rubrics: dict[str, Rubric], show_key: bool = False) -> str:
    """The whole preview page of one item (see the module)."""
    q = question_widgets(item_view(item), 1)
    box = question_box(q, scenario.text if scenario else None)
    modules: dict[str, str] = {}
    candidate = widget_html(box, modules)
    keys = [LABELS[i] for i in item.keys] if kind_for(item.kind).offers_options else []
    body = (f"<div class='eb-preview'><main class='eb-app' aria-label='The question as the candidate sees it'>"
            f"{candidate}</main><aside class='eb-author' aria-label='Key and rationale'>"
            f"{_author_html(item, rubrics)}</aside></div>")
    return _page(f"Preview of {item.id}", body, modules, keys, show_key, True)


def preview_source(course: Course, label_: str, cell: int, source: str, show_key: bool = False) -> str:
    """The preview of a cell's markdown as typed (saved or not), in its course: its scenario and rubric."""
    from ..bank import load_bank
    from ..model.rubric import load_rubrics
    from ..safeload import safe_rel

    parsed, problems = parse_cell(source, Where(file=label_, cell=cell))
    if parsed is None:
        why = "; ".join(p.message for p in problems) or "this cell is not an item"
        return empty_page(f"Nothing to preview: {why}. Put the cursor in an item's cell.")
    label = lambda p: safe_rel(p, course.root)  # noqa: E731
    # the notebook itself first (a scenario and its items sit together): the whole bank only when needed,
    # as the panel asks again at each pause in typing
    own = course.root / label_
    banks = [lambda: load_bank([own], label) if own.is_file() else None, lambda: load_bank([course.source_dir], label)]
    if isinstance(parsed, Scenario):
        for read in banks:
            bank = read()
            members = [i for i in bank.items.values() if i.scenario == parsed.id] if bank else []
            if members:
                return preview_page(members[0], parsed, {}, show_key)
        return empty_page(f"Scenario {parsed.id}: no item joins it yet (add 'scenario: {parsed.id}' to an item).")
    rubrics: dict[str, Rubric] = {}
    if kind_for(parsed.kind).rated and course.rubrics_dir.is_dir():
        rubrics, _ = load_rubrics([course.rubrics_dir], label)
    scenario = None
    if parsed.scenario:
        for read in banks:
            bank = read()
            if bank and parsed.scenario in bank.scenarios:
                scenario = bank.scenarios[parsed.scenario]
                break
    return preview_page(parsed, scenario, rubrics, show_key)
