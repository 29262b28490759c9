"""The author's desk in a real JupyterLab, in Debian's chromium: the path an author takes.

One course serves both sides: a small authored bank (true/false, multiple choice, multiple select)
built into a form by ``exam-builder build`` and served to candidates by the real ``exam-builder serve``
(Voila), and the same folder opened in a real ``jupyter lab`` with exam-builder's server extension and
its prebuilt lab extension (``labkit.Lab``). Checked: a new item inserted from the command palette with
its header filled from the notebook, broken, is marked at its cell with the message after a save, and
fixing it clears the mark; nbgrader's Validate is hidden in a bank notebook (shown in another) and, even
when clicked, lists the check's errors instead of "Success!"; the preview panel shows the multiple-select
item as the exam app shows it to a signed-in candidate (heading, stem, note, group name, choices, buttons,
compared with the candidate's own page); review state at the cell; axe-core passes on the panel and on
the preview page at desktop and phone size. With ``EB_README_SHOTS=1`` it also writes the README's
screenshots.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import sys
from pathlib import Path

import a11y
import nbformat
import pytest
from axe_playwright_python.sync_playwright import Axe
from coursekit import approve_offered_items, new_course_dir
from labkit import TOKEN, Lab, write_cells
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))  # the exam server's test kit
from serverkit import Server, make_site, new_page, open_sign_in  # noqa: E402

from exam_builder.assembly.build import build  # noqa: E402
from exam_builder.course import Course  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

EXAM = "cps"
LOAD = 90_000
REPO = Path(__file__).resolve().parents[2]
README_SHOT = REPO / "docs" / "images" / "authors-desk.png"  # the README's screenshots, made here
README_CHECK_SHOT = REPO / "docs" / "images" / "authors-desk-check.png"
#: `EB_README_SHOTS=1 pytest tests/lab/test_lab_browser.py` writes them again (else only into screenshots/).
WRITE_README_SHOTS = os.environ.get("EB_README_SHOTS") == "1"


def readme_shot(page, screen: str, target: Path) -> None:
    shot = a11y.shot(page, "author-desk", "desktop", screen)
    if WRITE_README_SHOTS:
        shutil.copy(shot, target)
HEAD = "competency: {comp} | module: 2 | difficulty: medium | status: live | author: A. Author | reviewer: R. Reviewer"
BANK = [
    "# Module 2 items\n\nA note for authors: this cell is not an item.",
    f"**[TF] desk-tf-01** | {HEAD.format(comp='peer-support')}\n\n"
    "A peer specialist shares their own recovery story when it may help the other person.\n\n"
    "- [x] True\n- [ ] False\n\n> **Rationale:** Sharing is done with purpose, for the other person.",
    f"**[MC] desk-mc-01** | {HEAD.format(comp='peer-support')}\n\n"
    "What makes peer support mutual?\n\n"
    "- [x] Both people learn from each other\n- [ ] The peer gives advice\n- [ ] The staff decide\n\n"
    "> **Rationale:** Mutuality means both people give and receive.",
    f"**[MS] desk-ms-01** | {HEAD.format(comp='peer-support')} | points: 2 | scoring: partial\n\n"
    "Which of these are signs that a conversation is **mutual**?\n\n"
    "- [x] Both people decide what to talk about\n- [ ] The specialist steers toward the treatment plan\n"
    "- [x] Each person can say no to a question\n- [ ] Only one person asks questions\n\n"
    "> **Rationale:** Mutual conversations share power over topic and pace.",
]
MS_CELL = 4
BLUEPRINT = """\
title: The author's desk exam
forms: 1
seed: 7
time_limit_minutes: 60
cut_score: 70%
points: {true_false: 1, multiple_choice: 1, multiple_select: 2}
counts:
  peer-support: {true_false: 1, multiple_choice: 1, multiple_select: 1}
shuffle: {items: false, choices: false}
"""
DRAFTS = "source/cps/drafts.ipynb"
CREATE_ASSIGNMENT_TAB = ".jp-SideBar .lm-TabBar-tab[data-id='nbgrader-create_assignemnt']"  # nbgrader's own id


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built course, its exam server and its JupyterLab."""
    template = new_course_dir(tmp_path_factory.mktemp("desk-template") / "course")
    (template / "source" / EXAM).mkdir(parents=True, exist_ok=True)
    write_cells(template / "source" / EXAM / "items.ipynb", BANK, module=2)
    (template / "source" / EXAM / "blueprint.yaml").write_text(BLUEPRINT)
    course = Course(template)
    course.db.upgrade()
    approve_offered_items(course)
    build(course, EXAM, actor="test-author", console=Console(file=io.StringIO()))
    course.db.dispose()
    root = tmp_path_factory.mktemp("desk") / "course"
    course, codes = make_site(template, root, [("c001", 60)], config="c.DeliverySettings.sign_in_delay_seconds = 0.1")
    write_cells(root / DRAFTS, ["# Drafts, module 2\n\nNew items start here."], module=2)
    scratch = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(scratch, root / "scratch.ipynb")
    config = root.parent / "jupyter-config" / "labconfig"
    config.mkdir(parents=True)
    (config / "page_config.json").write_text('{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": '
                                             'true}}')
    server, lab = Server(root), Lab(root)
    server.start()
    lab.start()
    try:
        yield course, server, lab, codes
    finally:
        lab.kill()
        server.kill()
        course.db.dispose()


@pytest.fixture(scope="module")
def desk_page(browser, site):
    _course, _server, lab, _codes = site
    ctx, page, _outside = new_page(browser, **a11y.SIZES["desktop"])
    page.set_default_timeout(60_000)
    page.goto(f"{lab.url}lab?token={TOKEN}")
    page.locator(".jp-LabShell").wait_for(timeout=LOAD)
    yield page
    ctx.close()


def open_notebook(page, lab, path: str) -> None:
    """Open ``path`` and wait until it is the current tab (JupyterLab restores the notebooks open before, and
    one of them can be current for a moment)."""
    page.goto(f"{lab.url}lab/tree/{path}?token={TOKEN}")
    name = path.rsplit("/", 1)[-1]
    page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel",
                 has_text=re.compile(rf"^{re.escape(name)}$")).wait_for(timeout=LOAD)
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").first.wait_for(timeout=LOAD)


def active_panel(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def replace_active_cell_text(page, text: str) -> None:
    """Put the cursor in the active cell's editor, select all of it, type ``text`` over it."""
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell.jp-mod-active .cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)


def run_from_palette(page, label: str) -> None:
    """Run a command from JupyterLab's command palette as a person does: open it, type its name, Enter once the
    palette's chosen row is that command (typed before the palette had focus, or Enter before it filtered, ran
    nothing or another command on a busy machine)."""
    page.keyboard.press("Control+Shift+c")
    box = page.locator(".lm-CommandPalette-input")
    page.wait_for_function("() => document.activeElement?.classList.contains('lm-CommandPalette-input')")
    box.fill(label)
    page.locator(".lm-CommandPalette-item.lm-mod-active").filter(has_text=label).wait_for()
    page.keyboard.press("Enter")


def save(page) -> None:
    page.keyboard.press("Control+s")


def test_a_broken_item_is_marked_at_its_cell_after_save_and_the_fix_clears_it(desk_page, site):
    page, lab = desk_page, site[2]
    open_notebook(page, lab, DRAFTS)
    panel = active_panel(page)
    panel.locator(".eb-check-button").wait_for()  # a bank notebook: the desk's own check button
    page.wait_for_function("() => document.body.classList.contains('eb-bank-active')")
    assert not page.locator(CREATE_ASSIGNMENT_TAB).is_visible()  # nbgrader's Create Assignment: not for items
    panel.locator(".jp-Cell").first.click()
    page.keyboard.press("Escape")
    run_from_palette(page, "Insert a new multiple choice item")
    editor = panel.locator(".jp-Cell").nth(1).locator(".cm-content")
    editor.wait_for()
    header = editor.inner_text().split("\n", 1)[0]
    assert header.startswith("**[MC] drafts-mc-01** | competency: peer-support | module: 2 | points: 1"), header

    typed = re.sub(r"\n{3,}", "\n\n", editor.inner_text())  # an empty editor line reads as two line breaks
    broken = typed.replace("- [ ] A distractor", "- [x] A distractor")
    replace_active_cell_text(page, broken)
    save(page)
    cell = panel.locator(".jp-Cell").nth(1)
    mark = cell.locator(".eb-problems .eb-problem.eb-error")
    mark.wait_for()
    assert "eb-cell-error" in cell.get_attribute("class")
    assert mark.inner_text().startswith("Error: 2 choices are marked as the key (A and B); an item has one key: "
                                        "keep one '- [x]'")
    assert cell.locator(".eb-review").inner_text() == "Review: waiting for review"
    cell.scroll_into_view_if_needed()
    readme_shot(page, "broken-item-marked", README_CHECK_SHOT)

    # nbgrader's Validate: hidden here; made visible and clicked, it lists the check's errors
    validate = panel.locator(".validate-button")
    assert validate.count() == 1 and not validate.is_visible()
    page.evaluate("() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)')"
                  ".classList.remove('eb-bank-notebook')")
    validate.click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("The following cell failed:").first.wait_for()
    text = dialog.inner_text()
    assert "Success" not in text and "exam-builder check: 2 choices are marked as the key" in text
    dialog.get_by_role("button", name=re.compile("ok", re.I)).click()
    page.evaluate("() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)')"
                  ".classList.add('eb-bank-notebook')")

    replace_active_cell_text(page, broken.replace("- [x] A distractor", "- [ ] A distractor"))
    save(page)
    page.wait_for_function("() => !document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .eb-cell-error')")
    assert cell.locator(".eb-problems").count() == 0
    assert cell.locator(".eb-review").inner_text() == "Review: waiting for review"
    saved = nbformat.read(lab.root / DRAFTS, as_version=4)
    assert saved.cells[1].source.startswith("**[MC] drafts-mc-01**") and "- [ ] A distractor" in saved.cells[1].source


def test_validate_is_shown_outside_the_bank(desk_page, site):
    page, lab = desk_page, site[2]
    open_notebook(page, lab, "scratch.ipynb")
    validate = active_panel(page).locator(".validate-button")
    validate.wait_for()
    assert validate.is_visible()
    page.wait_for_function("() => !document.body.classList.contains('eb-bank-active')")
    assert page.locator(CREATE_ASSIGNMENT_TAB).is_visible()
    assert active_panel(page).locator(".eb-check-button").count() == 0


#: What a person reads of one question, from the box that holds it (the exam page or the preview), less the
#: exam app's comment box (``.eb-comment``: the app's own, the same under every question, not the item's).
FACTS_JS = """root => {
  const text = (e) => (e ? e.innerText : '').replace(/\\u200b/g, '').replace(/\\s+/g, ' ').trim();
  const box = root.querySelector('h2.eb-heading').closest('.widget-vbox');
  box.querySelectorAll('.eb-comment').forEach(e => e.remove());
  return {
    heading: text(box.querySelector('h2.eb-heading')),
    html: [...box.querySelectorAll('.widget-html-content')].map(text).filter(Boolean),
    legend: text(box.querySelector('fieldset.eb-choices legend')),
    choices: [...box.querySelectorAll('fieldset.eb-choices label.eb-choice')].map(text).filter(Boolean),
    inputs: [...box.querySelectorAll('fieldset.eb-choices input')].map(i => i.type + ':' + i.value),
    buttons: [...box.querySelectorAll('button')].map(text).filter(Boolean),
    checkboxes: [...box.querySelectorAll('.widget-checkbox label')].map(text).filter(Boolean),
  };
}"""


def _numbered(facts: dict, number: int, total: int) -> dict:
    """The facts with this question's number and the form's length put back to 1 of 1, as the preview shows."""
    out = {}
    for k, v in facts.items():
        swap = lambda s: s.replace(f"Question {number} of {total}", "Question 1 of 1").replace(  # noqa: E731
            f"question {number}", "question 1")
        out[k] = swap(v) if isinstance(v, str) else [swap(x) for x in v]
    return out


def test_the_preview_shows_the_item_as_the_exam_app_does(browser, desk_page, site):
    course, server, lab, codes = site
    page = desk_page
    open_notebook(page, lab, "source/cps/items.ipynb")
    panel = active_panel(page)
    panel.locator(".eb-check-button").wait_for()
    try:
        page.get_by_role("tab", name="Item preview").click()
    except Exception as exc:  # a JupyterLab dialog covered the tab on a loaded CI machine: say which one
        shown = [d.inner_text()[:300] for d in page.locator(".jp-Dialog").all()]
        raise AssertionError(f"the Item preview tab could not be pressed; JupyterLab dialogs open: {shown}") from exc
    panel.locator(".jp-Cell").nth(MS_CELL - 1).click()
    phone = page.frame_locator("iframe[title='Preview at phone width (390 pixels)']")
    phone.locator("body[data-ready='true'] h2.eb-heading").wait_for()
    page.wait_for_function(f"() => document.getElementById('exam-builder-preview').dataset.previewOf === '{MS_CELL}'")
    assert page.locator("#exam-builder-preview .eb-summary").inner_text().startswith(
        "source/cps/items.ipynb: checked 1 notebook(s) (3 items, 0 scenarios)")
    preview = phone.locator("main.eb-app").evaluate(FACTS_JS)
    assert preview["heading"] == "Question 1 of 1 (2 points)"
    assert preview["legend"] == "Answer to question 1 (select all that apply)"
    assert preview["choices"][0] == "A. Both people decide what to talk about"

    # the candidate's own page: the real exam server, signed in, at the same question
    ctx, exam, _outside = open_sign_in(browser, server.url, a11y.SIZES["desktop"], LOAD)
    try:
        exam.get_by_label("Access code").fill(codes["c001"][1])
        exam.get_by_role("button", name="Sign in").click()
        exam.get_by_role("button", name="Yes, this is me").click()
        exam.get_by_role("button", name="Start the exam").click()
        number = None
        for n in (1, 2, 3):  # the question list, to the select-all-that-apply question
            exam.locator("nav.eb-nav button.eb-nav-item").nth(n - 1).click()
            exam.locator("h2.eb-heading", has_text=f"Question {n} of 3").wait_for()
            if exam.get_by_role("group", name=f"Answer to question {n} (select all that apply)").count():
                number = n
                break
        assert number is not None
        candidate = exam.locator(".eb-app").first.evaluate(FACTS_JS)
    finally:
        ctx.close()
    assert _numbered(candidate, number, 3) == preview

    # the key and rationale, for the author only, with the panel's toggle
    frame = phone.locator("body")
    assert not phone.locator(".eb-author").is_visible()
    page.locator("#exam-builder-preview").get_by_label("Show key and rationale").check()
    phone.locator("body.eb-show-key .eb-author").wait_for()
    assert "Mutual conversations share power over topic and pace." in phone.locator(".eb-author").inner_text()
    assert [m.inner_text() for m in phone.locator("main .eb-key-mark").all()] == ["key", "key"]
    assert frame.evaluate("b => [...b.querySelectorAll('main label.eb-choice')].filter(l => l.querySelector("
                          "'.eb-key-mark')).map(l => l.querySelector('input').value)") == ["A", "C"]

    # the review state at each item cell
    assert panel.locator(".jp-Cell").nth(MS_CELL - 1).locator(".eb-review").inner_text().startswith(
        "Review: approved by Kit Reviewer on ")

    # axe-core on the panel (JupyterLab's own chrome is not ours to judge here)
    found = Axe().run(page, context={"include": [["#exam-builder-preview"]]},
                      options={"runOnly": {"type": "tag", "values": a11y.WCAG_TAGS}, "resultTypes": ["violations"],
                               "iframes": False}).response["violations"]
    assert not found, [(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in found]
    readme_shot(page, "preview-panel", README_SHOT)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_preview_page_passes_axe(browser, site, size):
    lab = site[2]
    ctx, page, _outside = new_page(browser, **a11y.SIZES[size])
    try:
        page.goto(f"{lab.url}exam-builder/preview?path=source/cps/items.ipynb&cell={MS_CELL}&key=1&token={TOKEN}")
        page.locator("body[data-ready='true']").wait_for(timeout=LOAD)
        a11y.check_screen(page, "author-desk", size, "preview-ms-with-key")
        page.get_by_role("button", name="Show key and rationale").click()  # the page's own toggle
        assert page.get_by_role("button", name="Show key and rationale").get_attribute("aria-pressed") == "false"
        assert not page.locator(".eb-author").is_visible()
    finally:
        ctx.close()
