"""nbgrader's own formgrader, in a real browser, after a default ``exam-builder grade`` and rating.

The course of the grading kit is graded with the defaults (key-free copies in autograded/),
blank answers settled, every written answer rated by two scripted graders (adjudicated where
needed), and graded again (a re-run must not undo the decisions). Then ``jupyter server`` with
only nbgrader's formgrader extension serves it on 127.0.0.1 with a token, and Debian's chromium
(Playwright) reads the formgrader's pages as a coordinator would.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import gradingkit as kit
import pytest

from exam_builder.course import Course
from exam_builder.demo.stages.grading import GRADERS, _rate
from exam_builder.grading.objective import grade_exam
from exam_builder.grading.queue import RatingQueue, open_items
from exam_builder.grading.results import compute_results

ADJUDICATOR = "Grader Cy"  # a third grader: this course keeps the default adjudicator (third_grader)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

from browserkit import CHROMIUM, CHROMIUM_ARGS as ARGS  # noqa: E402

TOKEN = "formgrader-test-token-5678"
JUPYTER = Path(sys.executable).parent / "jupyter"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def formgrader(graded_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("formgrader") / "course"
    shutil.copytree(graded_template, root)
    course = Course(root)
    grade_exam(course, kit.EXAM, actor="tester", workers=1)  # the default: copies for the formgrader
    for item, _rubric in open_items(course, kit.EXAM):
        q = RatingQueue(course, kit.EXAM, item)
        q.settle_blanks("tester")
        _rate(course, kit.EXAM, item, GRADERS)
        if q.status().get("adjudication"):
            _rate(course, kit.EXAM, item, (ADJUDICATOR,))
    grade_exam(course, kit.EXAM, actor="tester", workers=1)  # again, after rating
    results = {r.candidate_id: r for r in compute_results(course, kit.EXAM)}
    course.db.dispose()

    port = _free_port()
    log = root / "formgrader.log"
    env = {k: v for k, v in os.environ.items() if k != "EXAM_BUILDER_DB_URL"}
    env["JUPYTER_CONFIG_DIR"] = str(root / ".jupyter-config")  # no user config
    cmd = [str(JUPYTER), "server", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
           "--ServerApp.jpserver_extensions={'nbgrader.server_extensions.formgrader': True}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            assert proc.poll() is None, log.read_text()
            assert time.time() < deadline, log.read_text()
            time.sleep(0.3)
    try:
        yield course, url, results
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@pytest.fixture(scope="module")
def page(formgrader):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = b.new_page()
        pg.goto(f"{formgrader[1]}/formgrader?token={TOKEN}")  # the token sets the login cookie
        yield pg
        b.close()


def rows(pg, url: str, min_rows: int = 1) -> list[list[str]]:
    pg.goto(url)
    pg.wait_for_function(f"document.querySelectorAll('table tbody tr td').length >= {min_rows}", timeout=30_000)
    pg.wait_for_function("window.models && window.models.loaded === true", timeout=30_000)  # nbgrader's flag: drawn
    return pg.eval_on_selector_all("table tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.innerText.trim()))")


def pts(x: float) -> str:
    return f"{round(x, 2):g}"


def test_formgrader_shows_every_candidates_scores_per_form(formgrader, page):
    course, url, results = formgrader
    assert results and all(r.status != "pending" for r in results.values())
    assert (course.autograded_dir / "cand001").is_dir()

    # the submission list of each form: every candidate who sat it, graded, with the form's total
    for form in sorted({r.assignment for r in results.values()}):
        sat = {c: r for c, r in results.items() if r.assignment == form}
        table = rows(page, f"{url}/formgrader/manage_submissions/{form}", len(sat))
        listed = {row[1]: row for row in table if len(row) > 4}
        assert set(listed) == set(sat), table
        for cand, r in sat.items():
            row = " | ".join(listed[cand])
            assert "graded" in row and "needs manual grading" not in row and "needs autograding" not in row, row
            assert f"{pts(r.total.score)} / {pts(r.total.max)}" in row, row

    cand, r = "cand001", results["cand001"]
    # the students list: the candidate's overall is their one form's score (nothing from other forms)
    table = rows(page, f"{url}/formgrader/manage_students", len(results))
    row = next(x for x in table if cand in " ".join(x))
    assert re.search(rf"\b{re.escape(pts(r.total.score))} / ", " | ".join(row)), row

    # the candidate's page: their form graded with its total, the other forms "no submission"
    table = rows(page, f"{url}/formgrader/manage_students/{cand}")
    by_form = {x[0].split(" ")[0]: x for x in table}
    assert f"{pts(r.total.score)} / {pts(r.total.max)}" == by_form[r.assignment][1]
    for form, x in by_form.items():
        if form != r.assignment:
            assert "(no submission)" in x[0] and x[1].startswith("0 / ")

    # the notebook row: no "file missing", no manual grading asked, failed tests only for lost objective points
    table = rows(page, f"{url}/formgrader/manage_students/{cand}/{r.assignment}")
    assert len(table) == 1 and "file missing" not in page.content()
    name, score, code, written, _task, needs, failed, _flag = table[0]
    assert name == r.assignment and score == f"{pts(r.total.score)} / {pts(r.total.max)}"
    assert code == f"{pts(r.objective.score)} / {pts(r.objective.max)}"
    assert written == f"{pts(r.open_response.score)} / {pts(r.open_response.max)}"
    assert needs == ""
    lost = r.objective.score < r.objective.max
    assert page.locator("table tbody tr td").nth(6).get_attribute("data-search") == ("tests failed" if lost else "")

    # the submission itself: objective points from the key, rubric scores and the raters' comments
    page.click(f"a:text-is('{r.assignment}')")
    page.wait_for_selector("input.score", timeout=30_000)
    page.wait_for_function("window.formgrader && formgrader.grades && formgrader.grades.loaded "  # scores filled in
                           "&& formgrader.comments && formgrader.comments.loaded", timeout=30_000)
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        nbsub = gb.find_submission_notebook(r.assignment, r.assignment, cand)
        grades = {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade) for g in nbsub.grades}
        comments = {c.name: c.manual_comment for c in nbsub.comments}
    assert not any(n for _a, _m, n in grades.values())
    shown = page.eval_on_selector_all("input.score", "xs => xs.map(x => [x.id, x.placeholder, x.value])")
    assert {gid for gid, _p, _v in shown} == set(grades)
    manual_seen = 0
    for gid, placeholder, value in shown:
        auto, manual, _needs = grades[gid]
        if manual is not None:
            assert float(value) == pytest.approx(manual)
            manual_seen += 1
            text = page.locator(f"textarea#{gid}-comment").input_value()
            if comments.get(gid):
                assert text == comments[gid] and text
        else:
            assert float(placeholder) == pytest.approx(auto)
    written_items = len(open_items(course, kit.EXAM))
    assert manual_seen >= 1 or written_items == 0
    assert "file missing" not in page.content()
