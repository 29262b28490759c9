"""The author's desk's server extension over real HTTP, on a real `jupyter lab` with a course: the check by
cell with the fix and the bank's problems, review state, the preview built by the exam app's own code,
a new item's header, nbgrader's Validate answered by the real check, and exam-builder on the terminal's PATH."""
from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from labkit import GOOD, TOKEN, TWO_KEYS, Lab, make_course, write_cells

from exam_builder.bank.parse import parse_cell
from exam_builder.model.item import Item, Where

DESK = "source/cps/desk.ipynb"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("lab") / "course")
    server = Lab(root).start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def desk(lab):
    """``source/cps/desk.ipynb`` with one good item, as each test starts."""
    write_cells(lab.root / DESK, ["# Desk items\n\nA note for authors.", GOOD], module=1)
    return lab.root / DESK


def test_a_broken_item_is_reported_at_its_cell_with_the_fix(lab, desk):
    clean = lab.json(f"exam-builder/api/check?path={DESK}")
    assert clean["bank_notebook"] and clean["ok"] and clean["cells"] == [] and clean["bank"] == []

    write_cells(desk, ["# Desk items", GOOD, TWO_KEYS.replace("lab-mc-01", "lab-mc-02")], module=1)
    report = lab.json(f"exam-builder/api/check?path={DESK}")
    assert not report["ok"] and report["errors"] == 1
    [cell] = report["cells"]
    nb = nbformat.read(desk, as_version=4)
    assert (cell["index"], cell["id"], cell["item"]) == (3, nb.cells[2].id, "lab-mc-02")
    [problem] = cell["problems"]
    assert problem["severity"] == "error" and "2 choices are marked as the key" in problem["message"], problem
    assert problem["fix"] and problem["message"].endswith(problem["fix"])
    assert problem["where"] == "source/cps/desk.ipynb:cell 3 [lab-mc-02]"


def test_whole_bank_problems_are_reported_apart(lab, desk):
    other = lab.root / "source/cps/base.ipynb"
    base = nbformat.read(other, as_version=4)
    write_cells(desk, ["# Desk items", GOOD.replace("lab-mc-01", "base-mc-01")], module=1)  # an id in use
    blueprint = lab.root / "source/cps/blueprint.yaml"
    kept = blueprint.read_text()
    blueprint.write_text(kept.replace("multiple_choice: 1}\n", "multiple_choice: 5}\n"))
    try:
        report = lab.json(f"exam-builder/api/check?path={DESK}")
    finally:
        blueprint.write_text(kept)
    messages = [p["message"] for c in report["cells"] for p in c["problems"]]
    assert any("base-mc-01" in m and "source/cps/base.ipynb" in m for m in messages), messages
    bank = [p["where"] + ": " + p["message"] for p in report["bank"]]
    assert any(b.startswith("source/cps/blueprint.yaml") and "the blueprint needs 5" in b for b in bank), bank
    assert nbformat.read(other, as_version=4) == base  # nothing written


def test_review_state_per_item_cell(lab, desk):
    from exam_builder.course import Course

    course = Course(lab.root)
    course.db.upgrade()
    course.db.dispose()
    review = lab.json(f"exam-builder/api/check?path={DESK}")["review"]
    cell_id = nbformat.read(desk, as_version=4).cells[1].id
    assert review == {"2": {"item": "lab-mc-01", "id": cell_id, "status": "draft", "state": "waiting",
                            "label": "waiting for review"}}
    done = subprocess.run([str(Path(sys.executable).parent / "exam-builder"), "--course", str(lab.root), "bank",
                           "review", "lab-mc-01", "--decision", "approve", "--by", "R. Viewer"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    after = lab.json(f"exam-builder/api/check?path={DESK}")["review"]["2"]
    assert after["state"] == "approved" and re.fullmatch(r"approved by R\. Viewer on \d{4}-\d\d-\d\d", after["label"])
    write_cells(desk, ["# Desk items", GOOD.replace("Listening", "Listening well")], module=1)
    edited = lab.json(f"exam-builder/api/check?path={DESK}")["review"]["2"]
    assert edited["state"] == "changed" and edited["label"].startswith("changed since approval by R. Viewer")


def test_a_notebook_outside_the_bank_and_paths_outside_the_root(lab):
    assert lab.json("exam-builder/api/check?path=scratch.ipynb") == {"bank_notebook": False,
                                                                      "notebook": "scratch.ipynb"}
    assert lab.request("exam-builder/api/check?path=../../etc/passwd")[0] == 403
    assert lab.request("exam-builder/api/check?path=nowhere.ipynb")[0] == 404
    assert lab.request(f"exam-builder/api/check?path={DESK}", token=False)[0] == 403
    code, page, _ = lab.request(f"exam-builder/preview?path={DESK}&cell=2", token=False)  # redirected to sign in
    assert "What helps most" not in page and "login" in page.lower()


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).strip()


def test_the_preview_is_the_exam_apps_question(lab, desk):
    code, page, headers = lab.get(f"exam-builder/preview?path={DESK}&cell=2")
    assert code == 200 and headers["Content-Type"].startswith("text/html")
    # the exam app's own widgets, from its own code, with its own styles
    from exam_builder.delivery.candidate_app import question_box, question_widgets
    from exam_builder.lab.preview import item_view, widget_html

    item, _ = parse_cell(GOOD, Where(file=DESK, cell=2))
    assert isinstance(item, Item)
    expected = widget_html(question_box(question_widgets(item_view(item), 1), None), {})
    assert expected in page
    assert "Question 1 of 1" in _text(expected) and "What helps most on a first visit?" in _text(expected)
    state = json.loads(re.search(r"data-eb-widget='ChoiceGroup' data-state='([^']*)'", page).group(1)
                       .replace("&quot;", '"'))
    assert state["options"] == [["A", "A. Advice"], ["B", "B. Listening"], ["C", "C. A pamphlet"]]
    assert state["legend"] == "Answer to question 1" and state["multiple"] is False
    assert (Path(__file__).resolve().parents[2] / "exam_builder/ui/choice.js").read_text()[:60] in \
        page.replace("\\n", "\n").replace('\\"', '"')
    assert ".eb-app .jupyter-button" in page  # ui.page.style_css
    # the author's layer: outside the candidate's part, shown with the toggle
    assert "<b>Key:</b> B" in page and "Listening builds trust." in page and 'id="eb-keys">["B"]' in page
    candidate = page.split("<aside", 1)[0]
    assert "Listening builds trust" not in candidate and "Key:" not in candidate
    assert "aria-pressed='false'" in page and "eb-show-key" not in page.split("<body", 1)[1][:40]
    assert "class=\"eb-show-key\"" in lab.get(f"exam-builder/preview?path={DESK}&cell=2&key=1")[1]


def test_the_preview_follows_unsaved_text_and_shows_the_rubric(lab, desk):
    typed = GOOD.replace("What helps most on a first visit?", "What helps <b>most</b> now?")
    code, page, _ = lab.request("exam-builder/preview", {"path": DESK, "cell": 2, "source": typed, "key": True})
    assert code == 200 and "What helps &lt;b&gt;most&lt;/b&gt; now?" in page  # escaped, never markup
    code, page, _ = lab.get("exam-builder/preview?path=source/cps/base.ipynb&cell=7&key=1")
    assert code == 200 and "<caption>Rubric base-or-01</caption>" in page
    assert "widget-textarea" in page and "Answer to question 1" in page
    code, page, _ = lab.get("exam-builder/preview?path=source/cps/base.ipynb&cell=5")
    assert "class='eb-story'" in page and "Dana joins a peer support group" in page  # its scenario beside it
    code, page, _ = lab.get(f"exam-builder/preview?path={DESK}&cell=1")
    assert code == 200 and "Nothing to preview" in page


def test_a_new_item_is_filled_from_the_notebook(lab, desk):
    made = lab.json(f"exam-builder/api/new-item?path={DESK}&kind=SA")
    assert made["id"] == "lab-sa-01" and made["kind"] == "SA"
    header = made["source"].split("\n", 1)[0]
    assert header.startswith("**[SA] lab-sa-01** | competency: peer-support | module: 1 | points: 1 | accept: ")
    item, problems = parse_cell(made["source"], Where(file=DESK, cell=3))
    assert isinstance(item, Item) and problems == []
    write_cells(desk, ["# Desk items", GOOD, made["source"]], module=1)
    assert lab.json(f"exam-builder/api/check?path={DESK}")["errors"] == 0
    assert lab.request(f"exam-builder/api/new-item?path={DESK}&kind=XX")[0] == 400


def _validate(lab, path: str) -> dict:
    code, text, _ = lab.request("assignments/validate", {"path": path}, method="POST")
    assert code == 200, text
    return json.loads(text)


def test_nbgraders_validate_runs_the_real_check_on_a_bank_notebook(lab, desk):
    write_cells(desk, ["# Desk items", GOOD, TWO_KEYS.replace("lab-mc-01", "lab-mc-02")], module=1)
    result = _validate(lab, DESK)
    assert result["success"] is True and "failed" in result["value"], result  # never "Success!"
    [failed] = result["value"]["failed"]
    assert failed["source"].startswith("cell 3:\n**[MC] lab-mc-02**")
    assert "exam-builder check: 2 choices are marked as the key" in failed["error"]
    write_cells(desk, ["# Desk items", GOOD], module=1)
    assert _validate(lab, DESK) == {"success": True, "value": {}}
    other = _validate(lab, "scratch.ipynb")  # not a bank notebook: nbgrader's own validator answers
    assert other["success"] is True and "failed" not in json.dumps(other["value"])


def test_the_terminal_has_exam_builder_on_its_path(lab):
    """A terminal JupyterLab opens (its server started by full path, PATH without the venv) finds the command."""
    from tornado.websocket import websocket_connect

    name = lab.json("api/terminals", {})["name"]

    async def run() -> str:
        ws = await websocket_connect(f"ws://127.0.0.1:{lab.port}/terminals/websocket/{name}?token={TOKEN}")
        ws.write_message(json.dumps(["stdin", "command -v exam-builder; echo END-$((40+2))\r"]))
        seen = ""
        while "END-42" not in seen:
            msg = await asyncio.wait_for(ws.read_message(), 30)
            assert msg is not None, seen
            kind, *data = json.loads(msg)
            if kind == "stdout":
                seen += data[0]
        ws.close()
        return seen

    out = asyncio.run(run())
    assert f"{Path(sys.executable).parent}/exam-builder" in out, out
