// exam-builder's author's desk in JupyterLab (the server side is exam_builder/lab/__init__.py).
//
// In a bank notebook (a notebook in a course's source/, as the server says):
// - on save, and from the toolbar's "Check items" button or the palette, the notebook is checked with
//   exam-builder's own rules; each problem is shown at its cell (a mark and the message with its fix),
//   the marks are cleared when the check finds nothing there any more, and the bank's own problems
//   (duplicate ids elsewhere, a blueprint that can no longer be filled) are listed in the side panel;
// - each item cell shows its review state (waiting, approved by whom, changed since approval, retired);
// - nbgrader's Validate button and Create Assignment panel are hidden (Validate would only run code
//   cells; the server answers it with the real check anyway);
// - the "Item preview" panel shows the item under the cursor as the candidate will see it, at phone
//   and desktop width, rendered by the exam app's own code on the server, with a key and rationale
//   toggle; it follows the text as it is typed, saved or not;
// - "Insert a new ... item" commands add an item of a kind with its header filled from the notebook.
import { ICommandPalette, ToolbarButton } from "@jupyterlab/apputils";
import { ILabShell } from "@jupyterlab/application";
import { PageConfig, URLExt } from "@jupyterlab/coreutils";
import { INotebookTracker, NotebookActions } from "@jupyterlab/notebook";
import { ServerConnection } from "@jupyterlab/services";
import { Widget } from "@lumino/widgets";

const KINDS = [
  ["MC", "multiple choice"], ["TF", "true/false"], ["MS", "multiple select"], ["SA", "short answer"],
  ["OR", "open response"],
];
const PHONE = [390, 844];
const DESKTOP = [1366, 768];

async function api(path, init = {}) {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, "exam-builder", path);
  const response = await ServerConnection.makeRequest(url, init, settings);
  const text = await response.text();
  if (!response.ok) {
    let reason = text;
    try { reason = JSON.parse(text).message || text; } catch (e) { /* a page, not JSON */ }
    throw new Error(reason);
  }
  return text;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

/** The check's marks on one notebook: problems and review state at their cells. */
class Desk {
  constructor(panel, preview) {
    this.panel = panel;
    this.preview = preview;
    this.report = null;
    this.isBank = false;
  }

  get path() { return this.panel.context.path; }

  async check() {
    const report = JSON.parse(await api(`api/check?path=${encodeURIComponent(this.path)}`));
    this.isBank = report.bank_notebook;
    this.panel.node.classList.toggle("eb-bank-notebook", this.isBank);
    if (!this.isBank) return report;
    this.report = report;
    this.mark();
    this.preview.showReport(this);
    return report;
  }

  mark() {
    const cells = this.panel.content.widgets;
    for (const cell of cells) {
      cell.node.classList.remove("eb-cell-error", "eb-cell-warning");
      cell.node.querySelectorAll(":scope > .eb-desk-note").forEach((n) => n.remove());
    }
    const report = this.report;
    if (!report) return;
    // by the cell's id (cells inserted or moved since the check keep their marks), else by position
    const byId = new Map(report.cells.filter((c) => c.id).map((c) => [c.id, c]));
    const byIndex = new Map(report.cells.map((c) => [c.index, c]));
    const reviews = Object.values(report.review);
    cells.forEach((cell, i) => {
      const n = i + 1;
      const id = cell.model.id;
      const found = byId.size ? byId.get(id) : byIndex.get(n);
      const review = reviews.find((r) => r.id && r.id === id) || (!reviews.some((r) => r.id) && report.review[String(n)]);
      if (!found && !review) return;
      const note = el("div", { class: "eb-desk-note", "data-eb-cell": String(n) });
      if (found) {
        const errors = found.problems.filter((p) => p.severity === "error");
        cell.node.classList.add(errors.length ? "eb-cell-error" : "eb-cell-warning");
        const list = el("ul", { class: "eb-problems", "aria-label": `exam-builder check, cell ${n}` });
        for (const p of found.problems) {
          list.append(el("li", { class: `eb-problem eb-${p.severity}` },
            el("strong", { text: p.severity === "error" ? "Error: " : "Warning: " }),
            el("span", { class: "eb-message", text: p.message })));
        }
        note.append(list);
      }
      if (review) {
        note.append(el("p", { class: `eb-review eb-review-${review.state || "unknown"}`,
          text: `Review: ${review.label}` + (review.status === "live" && review.state !== "approved"
            ? " (live in the header, but not drawn until approved)" : "") }));
      }
      cell.node.append(note);
    });
  }
}

/** The side panel: the check's summary and the bank's problems, and the preview at two widths. */
class PreviewPanel extends Widget {
  constructor() {
    super();
    this.id = "exam-builder-preview";
    this.addClass("eb-preview-panel");
    this.title.label = "Item preview";
    this.title.caption = "The item under the cursor as the candidate sees it";
    this.desk = null;
    this.cellIndex = null;
    this.timer = null;
    const heading = el("h2", { text: "Item preview" });
    this.summary = el("div", { class: "eb-summary", role: "status" });
    this.bank = el("ul", { class: "eb-bank-problems", "aria-label": "Problems of the whole bank" });
    this.keyToggle = el("input", { type: "checkbox", id: "eb-key-toggle-panel" });
    this.keyToggle.addEventListener("change", () => this.refresh());
    const toggle = el("label", { for: "eb-key-toggle-panel", class: "eb-key-label" }, this.keyToggle,
      " Show key and rationale");
    this.phone = this.frame("Phone width (390 pixels)", PHONE);
    this.desktop = this.frame("Desktop width (1366 pixels)", DESKTOP);
    this.node.append(heading, this.summary, this.bank, toggle, this.phone.box, this.desktop.box);
  }

  frame(label, [width, height]) {
    const frame = el("iframe", { title: `Preview at ${label.toLowerCase()}`, width: String(width),
      height: String(height), class: "eb-frame" });
    const holder = el("div", { class: "eb-frame-holder" }, frame);
    const box = el("section", { class: "eb-frame-box", "aria-label": label }, el("h3", { text: label }), holder);
    return { frame, holder, box, width, height };
  }

  onResize() { this.fit(); }
  onAfterShow() { this.fit(); this.refresh(); }

  fit() {
    const room = Math.max(this.node.clientWidth - 24, 120);
    for (const f of [this.phone, this.desktop]) {
      const scale = Math.min(1, room / f.width);
      f.frame.style.transform = `scale(${scale})`;
      f.holder.style.width = `${Math.round(f.width * scale)}px`;
      f.holder.style.height = `${Math.round(f.height * scale)}px`;
    }
  }

  showReport(desk) {
    const r = desk.report;
    if (desk !== this.desk || !r) return;
    this.summary.textContent = `${r.notebook}: ${r.summary}`;
    this.bank.replaceChildren(...[...r.bank, ...r.notes.map((n) => ({ severity: "note", where: "", message: n }))]
      .map((p) => el("li", { class: `eb-problem eb-${p.severity}` },
        el("strong", { text: p.severity === "error" ? "Error: " : p.severity === "warning" ? "Warning: " : "Note: " }),
        el("span", { text: (p.where ? p.where + ": " : "") + p.message }))));
  }

  follow(desk, cellIndex) {
    this.desk = desk;
    this.cellIndex = cellIndex;
    if (desk && desk.report) this.showReport(desk);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 400);
  }

  async refresh() {
    const desk = this.desk;
    if (!this.isVisible || !desk || !desk.isBank || this.cellIndex === null) return;
    const cell = desk.panel.content.widgets[this.cellIndex];
    if (!cell) return;
    const body = { path: desk.path, cell: this.cellIndex + 1, key: this.keyToggle.checked,
      source: cell.model.type === "markdown" ? cell.model.sharedModel.getSource() : "" };
    try {
      const page = await api("preview", { method: "POST", body: JSON.stringify(body) });
      if (page !== this.shown) {  // a frame reloads only when what it shows changed (no flicker, no lost scroll)
        this.shown = page;
        for (const f of [this.phone, this.desktop]) f.frame.srcdoc = page;
      }
      this.node.dataset.previewOf = String(body.cell);
    } catch (e) {
      this.summary.textContent = `The preview failed: ${e.message}`;
    }
  }
}

const plugin = {
  id: "exam-builder-lab:desk",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ILabShell],
  activate: (app, tracker, palette, labShell) => {
    const preview = new PreviewPanel();
    app.shell.add(preview, "right", { rank: 50 });
    const desks = new WeakMap();
    const deskOf = (panel) => {
      if (!desks.has(panel)) desks.set(panel, new Desk(panel, preview));
      return desks.get(panel);
    };

    const checkCurrent = async () => {
      const panel = tracker.currentWidget;
      if (!panel) return;
      await panel.context.save();  // the check reads the saved notebook (saving checks it)
    };

    app.commands.addCommand("exam-builder:check", {
      label: "Check items (exam-builder)",
      caption: "Check this bank notebook with exam-builder's rules and mark each problem at its cell",
      isEnabled: () => !!tracker.currentWidget,
      execute: checkCurrent,
    });
    app.commands.addCommand("exam-builder:open-preview", {
      label: "Show the item preview (exam-builder)",
      execute: () => app.shell.activateById(preview.id),
    });
    for (const [tag, name] of KINDS) {
      app.commands.addCommand(`exam-builder:insert-${tag.toLowerCase()}`, {
        label: `Insert a new ${name} item (exam-builder)`,
        isEnabled: () => !!tracker.currentWidget,
        execute: async () => {
          const panel = tracker.currentWidget;
          if (!panel) return;
          const made = JSON.parse(await api(`api/new-item?path=${encodeURIComponent(panel.context.path)}&kind=${tag}`));
          const notebook = panel.content;
          NotebookActions.insertBelow(notebook);
          NotebookActions.changeCellType(notebook, "markdown");
          notebook.activeCell.model.sharedModel.setSource(made.source);
          notebook.mode = "edit";
        },
      });
      if (palette) palette.addItem({ command: `exam-builder:insert-${tag.toLowerCase()}`, category: "exam-builder" });
    }
    if (palette) {
      palette.addItem({ command: "exam-builder:check", category: "exam-builder" });
      palette.addItem({ command: "exam-builder:open-preview", category: "exam-builder" });
    }

    const bankActive = () => {
      const panel = tracker.currentWidget;
      const isBank = !!(panel && desks.has(panel) && deskOf(panel).isBank && app.shell.currentWidget === panel);
      document.body.classList.toggle("eb-bank-active", isBank);
      if (isBank && app.shell.currentWidget === panel) {
        const createAssignment = document.getElementById("nbgrader-create_assignemnt");
        if (createAssignment && createAssignment.isConnected && !createAssignment.classList.contains("lm-mod-hidden")) {
          app.shell.collapseRight();  // nbgrader's Create Assignment is not for the item bank
          app.shell.activateById(preview.id);
        }
      }
    };

    tracker.widgetAdded.connect(async (_, panel) => {
      await panel.context.ready;
      const desk = deskOf(panel);
      const button = new ToolbarButton({
        className: "eb-check-button",
        label: "Check items",
        tooltip: "Check this bank notebook with exam-builder's rules (also on every save)",
        onClick: () => { void checkCurrent(); },
      });
      try {
        await desk.check();
      } catch (e) {
        console.warn("exam-builder: cannot check", panel.context.path, e);
        return;
      }
      if (!desk.isBank) return;
      panel.toolbar.insertItem(10, "exam-builder-check", button);
      panel.context.saveState.connect((_ctx, state) => {
        if (state === "completed") void desk.check().then(bankActive);
      });
      panel.content.activeCellChanged.connect(() => preview.follow(desk, panel.content.activeCellIndex));
      panel.content.model.contentChanged.connect(() => {
        if (tracker.currentWidget === panel) preview.follow(desk, panel.content.activeCellIndex);
      });
      panel.content.model.cells.changed.connect(() => desk.mark());
      if (tracker.currentWidget === panel) preview.follow(desk, panel.content.activeCellIndex);
      bankActive();
    });
    tracker.currentChanged.connect((_, panel) => {
      if (panel && desks.has(panel)) preview.follow(deskOf(panel), panel.content.activeCellIndex);
      bankActive();
    });
    if (labShell) labShell.currentChanged.connect(bankActive);
  },
};

export default plugin;
