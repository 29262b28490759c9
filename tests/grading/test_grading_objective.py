"""Objective scoring: from the key, idempotent, equal to nbgrader autograde, tamper-proof."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import gradingkit as kit
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from exam_builder.cli import cli
from exam_builder.grading.gradebook_sync import BASE_CELL, COMMENT, GRADE, SUBMISSION, SUBMITTED_NB
from exam_builder.grading.objective import grade_exam
from exam_builder.kinds import keyed_entries, rated_entries
from exam_builder.model.manifest import grade_ids
from exam_builder.records.models import AuditEntry, Response, ScoreFlag, Sitting

VENV_BIN = Path(sys.executable).parent


def gradebook_rows(course) -> dict:
    """Every grade and comment row: (student, cell, table) -> values."""
    out = {}
    with course.db.read() as s:
        conn = s.connection()
        for student, name, auto, manual, needs in conn.execute(
            select(SUBMISSION.c.student_id, BASE_CELL.c.name, GRADE.c.auto_score, GRADE.c.manual_score,
                   GRADE.c.needs_manual_grade)
            .select_from(GRADE).join(SUBMITTED_NB, SUBMITTED_NB.c.id == GRADE.c.notebook_id)
            .join(SUBMISSION, SUBMISSION.c.id == SUBMITTED_NB.c.assignment_id)
            .join(BASE_CELL, BASE_CELL.c.id == GRADE.c.cell_id)
        ):
            out[(student, name, "grade")] = (auto, manual, bool(needs))
        for student, name, auto_c in conn.execute(
            select(SUBMISSION.c.student_id, BASE_CELL.c.name, COMMENT.c.auto_comment)
            .select_from(COMMENT).join(SUBMITTED_NB, SUBMITTED_NB.c.id == COMMENT.c.notebook_id)
            .join(SUBMISSION, SUBMISSION.c.id == SUBMITTED_NB.c.assignment_id)
            .join(BASE_CELL, BASE_CELL.c.id == COMMENT.c.cell_id)
        ):
            out[(student, name, "comment")] = auto_c
        for student, ts in conn.execute(select(SUBMISSION.c.student_id, SUBMISSION.c.timestamp)):
            out[(student, "", "timestamp")] = ts
    return out


def journal_answers(course, sitting_id: int) -> dict[str, str | None]:
    with course.db.read() as s:
        return {r.item_id: r.value
                for r in s.execute(select(Response).where(Response.sitting_id == sitting_id)).scalars()}


def test_scores_every_objective_answer_from_the_key_and_is_idempotent(gcourse, manifests):
    report = grade_exam(gcourse, kit.EXAM, actor="tester", workers=1, write_copies=True)
    assert report.submissions == 6 and report.flagged == 0
    rows = gradebook_rows(gcourse)
    from exam_builder.records.models import Form, Sitting

    with gcourse.db.read() as s:
        sittings = s.execute(select(Sitting.id, Sitting.candidate_id, Form.assignment)
                             .join(Form, Form.id == Sitting.form_id)).all()
    checked = 0
    for sid, cand, assignment in sittings:
        m = manifests[assignment]
        answers = journal_answers(gcourse, sid)
        for e in keyed_entries(m):
            auto, manual, needs = rows[(cand, grade_ids(e.number)["grade"], "grade")]
            assert auto == (e.points if answers.get(e.item_id) == e.key else 0.0), (cand, e.number)
            assert manual is None and needs is False
            checked += 1
        for e in rated_entries(m):  # written answers wait for graders (blank ones score 0 later)
            auto, _manual, needs = rows[(cand, grade_ids(e.number)["grade"], "grade")]
            assert auto is None and needs is True
    assert checked == 6 * 15

    before = rows
    import io

    from rich.console import Console

    shown = io.StringIO()
    again = grade_exam(gcourse, kit.EXAM, actor="tester", workers=2, console=Console(file=shown, width=100))
    assert "scoring cps-A" in shown.getvalue() and "3/3" in shown.getvalue()  # progress is shown
    assert again.forms[0].updated == 3 and again.forms[0].created == 0 and not again.forms[0].changed
    assert gradebook_rows(gcourse) == before
    with gcourse.db.read() as s:
        assert s.scalar(select(func.count()).select_from(GRADE)) == 6 * 18
        actors = s.execute(select(AuditEntry.actor).where(AuditEntry.action == "score_objective")).scalars().all()
    assert len(actors) == 4 and set(actors) == {"tester"}
    # key-free copies for nbgrader's formgrader and feedback
    copy = gcourse.autograded_dir / "cand001" / "cps-A" / "cps-A.ipynb"
    assert copy.exists() and "assert q" not in copy.read_text()


@pytest.mark.slow
def test_gradebook_equals_stock_nbgrader_autograde(graded_template, tmp_path):
    """The same submissions graded by exam-builder and by `nbgrader autograde` in two course copies."""
    ours, stock = tmp_path / "ours", tmp_path / "stock"
    shutil.copytree(graded_template, ours)
    # two more honest cases: a notebook left exactly as released, and one with every answer None
    from exam_builder.course import Course

    base = Course(ours)
    rel_a = kit.released(base, "cps-A")
    kit.write_submission(base, "cand007", "cps-A", rel_a)
    kit.write_submission(base, "cand008", "cps-A", kit.fill(rel_a, {n: None for n in range(1, 19)}, {}))
    kit.enrol(base, "cand007", "cand008")  # only candidates on the roster are graded
    base.db.dispose()
    shutil.copytree(ours, stock)

    c1 = Course(ours)
    grade_exam(c1, kit.EXAM, actor="tester")
    for assignment in ("cps-A", "cps-B"):
        proc = subprocess.run([str(VENV_BIN / "nbgrader"), "autograde", assignment], cwd=stock,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
    c2 = Course(stock)
    ours_rows, stock_rows = gradebook_rows(c1), gradebook_rows(c2)
    assert set(ours_rows) == set(stock_rows)
    assert len([k for k in ours_rows if k[2] == "grade"]) == 8 * 18
    diffs = {k: (ours_rows[k], stock_rows[k]) for k in stock_rows if ours_rows[k] != stock_rows[k]}
    assert not diffs
    total = sum((v[0] or 0) for k, v in ours_rows.items() if k[2] == "grade")
    assert total > 0
    c1.db.dispose()
    c2.db.dispose()


def tamper(course, candidate: str, assignment: str, edit) -> None:
    path = course.submitted_dir / candidate / assignment / f"{assignment}.ipynb"
    nb = json.loads(path.read_text())
    result = edit(nb)
    path.write_text(result if isinstance(result, str) else json.dumps(nb))


def cell(nb: dict, grade_id: str) -> dict:
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def src(c: dict) -> str:
    return "".join(c["source"]) if isinstance(c["source"], list) else c["source"]


def test_tampered_submissions_are_scored_from_the_truth_and_flagged(gcourse, manifests, tmp_path, monkeypatch):
    m = manifests["cps-A"]
    q1 = m.items[0]
    pwned = tmp_path / "PWNED"

    def edited_locked(nb):  # rewrite a question and the (emptied) check cell
        cell(nb, "q01-question")["source"] = "Question 1: the answer is obviously A"
        cell(nb, "q01")["source"] = "q01 = 'anything'"

    def changed_points(nb):  # claim 100 points for the first answer
        cell(nb, "q01")["metadata"]["nbgrader"]["points"] = 100
        cell(nb, "q01-answer")["source"] = f'q01 = "{q1.key}"'

    def duplicated(nb):  # two answer cells for question 1: the last counts
        dup = json.loads(json.dumps(cell(nb, "q01-answer")))
        wrong = next(lab for lab in "ABCDE" if lab != q1.key)
        cell(nb, "q01-answer")["source"] = f'q01 = "{q1.key}"'
        dup["source"] = f'q01 = "{wrong}"'
        nb["cells"].append(dup)

    def deleted(nb):
        nb["cells"] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != "q01-answer"]

    def junk(nb):  # code that would run under nbgrader autograde; here it is only text
        cell(nb, "q01-answer")["source"] = f'q01 = "{q1.key}"; open({str(pwned)!r}, "w").write("x")'
        cell(nb, "q02-answer")["source"] = 'q02 = "Z"'

    def invalid(nb):
        return '{"cells": [ this is not json'

    # cand001, cand003, cand005 sat form A; put every kind of tampering on them and one more copy
    tamper(gcourse, "cand001", "cps-A", edited_locked)
    tamper(gcourse, "cand003", "cps-A", changed_points)
    tamper(gcourse, "cand005", "cps-A", junk)
    extra = {"t-dup": duplicated, "t-del": deleted, "t-bad": invalid}
    kit.enrol(gcourse, *extra, "t-stamp")  # only candidates on the roster are graded
    rel_nb = kit.released(gcourse, "cps-A")
    for cand, edit in extra.items():
        kit.write_submission(gcourse, cand, "cps-A", kit.fill(rel_nb, {e.number: e.key for e in keyed_entries(m)}, {}))
        tamper(gcourse, cand, "cps-A", edit)
    (gcourse.submitted_dir / "t-stamp" / "cps-A").mkdir(parents=True)
    (gcourse.submitted_dir / "t-stamp" / "cps-A" / "timestamp.txt").write_text("not a time")  # and no notebook

    # through the worker pool, as a real cohort is (10 submissions would otherwise be read in-process)
    import exam_builder.grading.objective as objective

    monkeypatch.setattr(objective, "SERIAL_BELOW", 0)
    report = grade_exam(gcourse, kit.EXAM, actor="tester", workers=2, write_copies=True)
    assert report.submissions == 10
    assert not pwned.exists()
    rows = gradebook_rows(gcourse)
    with gcourse.db.read() as s:
        flags = {tuple(r) for r in s.execute(select(ScoreFlag.candidate_id, ScoreFlag.kind))}
    expected = {("cand001", "edited_locked_cell"), ("cand003", "changed_points"), ("cand005", "junk_answer"),
                ("cand005", "unknown_label"), ("t-dup", "duplicated_cell"), ("t-del", "deleted_cell"),
                ("t-bad", "invalid_notebook"), ("t-stamp", "missing_notebook"), ("t-stamp", "bad_timestamp")}
    assert expected <= flags
    assert not {c for c, _k in flags} & {"cand002", "cand004", "cand006"}  # honest candidates are not flagged
    for cand in ("cand002", "cand004", "cand006"):  # ...and are scored beside the tampered ones
        with gcourse.db.read() as s:
            sid = s.execute(select(Sitting.id).where(Sitting.candidate_id == cand)).scalar_one()
        answers = journal_answers(gcourse, sid)
        for e in keyed_entries(manifests["cps-B"]):
            assert rows[(cand, grade_ids(e.number)["grade"], "grade")][0] == (e.points
                                                                              if answers.get(e.item_id) == e.key
                                                                              else 0.0)

    def auto(cand, gid):
        return rows[(cand, gid, "grade")][0]

    assert auto("cand003", "q01") == q1.points == 1.0  # the gradebook's points, not the claimed 100
    assert auto("cand005", "q01") == 0.0 and auto("cand005", "q02") == 0.0  # junk and an unknown label
    assert auto("t-dup", "q01") == 0.0  # the last duplicate (a wrong answer) counts, as in nbgrader
    assert auto("t-dup", "q02") == 1.0 or m.items[1].kind.value == "open_response"
    assert auto("t-del", "q01") == 0.0 and auto("t-del", "q02") == m.items[1].points
    # an unreadable notebook is set aside: no score at all (pending), never a 0 it did not earn
    assert all(auto("t-bad", grade_ids(e.number)["grade"]) is None for e in m.items)
    assert all(auto("t-stamp", grade_ids(e.number)["grade"]) == 0.0 for e in m.items)
    # edited locked cells do not change the score: cand001's answer is judged against the key
    answers = journal_answers(gcourse, 1)
    assert auto("cand001", "q01") == (1.0 if answers.get(q1.item_id) == q1.key else 0.0)
    # the formgrader's copy of a tampered submission has the released text back
    copy = json.loads((gcourse.autograded_dir / "cand001" / "cps-A" / "cps-A.ipynb").read_text())
    assert src(cell(copy, "q01-question")) == src(cell(rel_nb, "q01-question"))

    # re-running replaces the flags instead of adding more
    def flag_rows():
        with gcourse.db.read() as s:
            return sorted(s.execute(select(ScoreFlag.candidate_id, ScoreFlag.kind, ScoreFlag.grade_id,
                                           ScoreFlag.details)).all())

    first_run = flag_rows()
    grade_exam(gcourse, kit.EXAM, actor="tester", workers=1)
    assert flag_rows() == first_run and len(set(first_run)) == len(first_run)


def test_grade_command_reports_a_form_that_was_never_released(gcourse):
    shutil.rmtree(gcourse.release_dir / "cps-B")
    runner = CliRunner()
    res = runner.invoke(cli, ["--course", str(gcourse.root), "grade", "cps", "--by", "tester"])
    assert res.exit_code == 1
    assert "cps-B" in res.output and "not been released" in res.output
    assert "Traceback" not in res.output
    with gcourse.db.read() as s:  # nothing half-written: no form was scored
        assert s.scalar(select(func.count()).select_from(GRADE)) == 0


def test_grade_command_scores_and_settles_blank_written_answers(gcourse):
    runner = CliRunner()
    res = runner.invoke(cli, ["--course", str(gcourse.root), "grade", "cps", "--by", "tester"])
    assert res.exit_code == 0, res.output
    assert "objective scoring" in res.output and "blank written answer(s) scored 0" in res.output
    rows = gradebook_rows(gcourse)
    blanks = [k for k, v in rows.items() if k[2] == "grade" and v[1] == 0.0]
    assert blanks  # manual score 0 for blank answers, as a decided "no response"
