"""One bad submission never stops the others: unreadable files are set aside, strangers are not graded.

Every kind of damage goes through the real commands (`exam-builder grade`, `ratings`, `flags`) and
the grader queue, next to honest submissions that must come out exactly as in a course without
the damaged ones.
"""
from __future__ import annotations

import json
from pathlib import Path

import gradingkit as kit
import pytest
from click.testing import CliRunner, Result
from coursekit import cloned
from sqlalchemy import select
from test_grading_objective import gradebook_rows

from exam_builder.cli import cli
from exam_builder.grading.gradebook_sync import STUDENT
from exam_builder.grading.queue import RatingQueue, open_items
from exam_builder.grading.results import compute_results
from exam_builder.kinds import keyed_entries, rated_entries
from exam_builder.model.manifest import grade_ids
from exam_builder.records.models import ItemScore, ScoreFlag

HONEST = [f"cand{i:03d}" for i in range(1, 7)]
FORM = "cps-A"
NB = f"{FORM}.ipynb"
SET_ASIDE = (". Set aside: no score is given (results stay pending) and its written answers are not rated until "
             "the file is replaced (`exam-builder collect cps` writes it again from the response journal) and "
             "`exam-builder grade cps` is run again")


def run(course, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--course", str(course.root), *args], catch_exceptions=False)


def damaged(released: dict) -> dict[str, tuple[bytes, str]]:
    """candidate -> (the file's bytes, the problem ``grade`` must report, before ``SET_ASIDE``)."""
    text = json.dumps(released, indent=1)
    cut = text[: len(text) // 2]
    try:
        json.loads(cut)
    except json.JSONDecodeError as exc:
        trunc = f"line {exc.lineno}: not valid notebook JSON ({exc.msg}, column {exc.colno})"

    def where(cand: str) -> str:
        return f"submitted/{cand}/{FORM}/{NB}"

    return {
        "bad-json": (b'{"cells": [ this is not json',
                     f"{where('bad-json')}:line 1: not valid notebook JSON (Expecting value, column 13); the file is "
                     "damaged"),
        "bad-deep": (b'{"cells": ' + b"[" * 5000 + b"]" * 5000 + b"}",
                     f"{where('bad-deep')}:line 1: notebook JSON nested more than 100 levels deep, which no real file "
                     "is; the file is damaged"),
        "bad-list": (b"[1, 2, 3]", f"{where('bad-list')}: not a notebook (the file holds a list); the file is damaged"),
        "bad-cells": (b'{"cells": {"q01": 1}, "metadata": {}}',
                      f"{where('bad-cells')}: not a notebook (the file holds a mapping with no list of cells); "
                      "the file is damaged"),
        "bad-trunc": (cut.encode(), f"{where('bad-trunc')}:{trunc}; the file is damaged"),
        "bad-bin": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
                    f"{where('bad-bin')}:line 1: cannot read the file (not UTF-8 text at byte 1); the file is damaged"),
    }


def add_damaged(course, manifests, with_journal: set[str]) -> dict[str, str]:
    """The damaged submissions, each of a candidate on the roster with a submitted sitting on form A.

    Candidates in ``with_journal`` have their written answers in the response journal (the queue
    would not need the file); the others only in the (damaged) notebook. -> candidate: message
    """
    m = manifests[FORM]
    rel_nb = kit.released(course, FORM)
    out = {}
    for cand, (data, problem) in damaged(rel_nb).items():
        texts = {e.number: "A written answer." for e in rated_entries(m)} if cand in with_journal else {}
        kit.add_sitting(course, cand, FORM, {e.number: e.key for e in keyed_entries(m)}, texts)
        path = kit.write_submission(course, cand, FORM, "")
        path.write_bytes(data)
        out[cand] = problem + SET_ASIDE
    return out


def add_odd_cell(course, manifests) -> None:
    """A notebook whose first answer cell has metadata of the wrong type: scored from the rest."""
    m = manifests[FORM]
    rel_nb = kit.released(course, FORM)
    nb = kit.fill(rel_nb, {e.number: e.key for e in keyed_entries(m)}, {})
    q1 = keyed_entries(m)[0]
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_ids(q1.number)["answer"]:
            cell["metadata"] = ["not", "a", "mapping"]
    kit.add_sitting(course, "odd-cell", FORM, {e.number: e.key for e in keyed_entries(m)}, {})
    kit.write_submission(course, "odd-cell", FORM, nb)


def decided(course) -> dict:
    with course.db.read() as s:
        return {(r.sitting_id, r.item_id): (r.status, r.score, r.rule)
                for r in s.execute(select(ItemScore)).scalars()}


def flags_of(course) -> dict[str, list[tuple[str | None, str, str]]]:
    out: dict[str, list] = {}
    with course.db.read() as s:
        for f in s.execute(select(ScoreFlag).order_by(ScoreFlag.id)).scalars():
            out.setdefault(f.candidate_id, []).append((f.grade_id, f.kind, f.details))
    return out


def honest_rows(course) -> dict:
    return {k: v for k, v in gradebook_rows(course).items() if k[0] in HONEST}


def test_damaged_submissions_are_set_aside_and_everyone_else_is_graded(gcourse, manifests, graded_template, tmp_path):
    # the queue before `grade` has run: it reads the damaged notebooks itself and must not raise
    expected = add_damaged(gcourse, manifests, with_journal={"bad-json", "bad-bin"})
    add_odd_cell(gcourse, manifests)
    items_a = [e.item_id for e in rated_entries(manifests[FORM])]
    q = RatingQueue(gcourse, kit.EXAM, items_a[0])
    early = q.set_aside()
    assert early == {(c, FORM): msg for c, msg in expected.items() if c not in {"bad-json", "bad-bin"}}

    res = run(gcourse, "grade", "cps", "--by", "tester", "--workers", "1")
    assert res.exit_code == 3, res.output  # graded everyone it could; staff must look at the rest
    assert "Traceback" not in res.output
    for cand, message in expected.items():  # each located message, in full
        assert f"warning: {message}" in res.stderr, cand
    assert ("6 submission(s) set aside and 0 entr(ies) under submitted/ not graded (not on the roster, or no "
            "candidate's folder); everyone else is graded (exit code 3). See `exam-builder flags cps`.") in res.stderr

    # recorded: exactly one set-aside flag each, with the message (what `flags` and the coordinator see)
    flags = flags_of(gcourse)
    for cand, message in expected.items():
        assert flags[cand] == [(None, "invalid_notebook", message)], cand
    odd = {kind: details for _g, kind, details in flags["odd-cell"]}
    q1 = keyed_entries(manifests[FORM])[0]
    assert odd["malformed_cell"] == (f"submitted/odd-cell/{FORM}/{NB}:cell {_cell_no(gcourse, q1)}: "
                                     "the cell's metadata is a list, not a mapping; scored from what can be read "
                                     "(a question whose cells cannot be read scores 0)")
    assert "deleted_cell" in odd and "invalid_notebook" not in odd
    shown = run(gcourse, "flags", "cps")
    assert shown.exit_code == 0 and all(c in shown.output for c in expected) and "invalid_notebook" in shown.output

    # set aside: no score at all (pending, never a 0 the candidate did not earn); the odd one is scored
    rows = gradebook_rows(gcourse)
    m = manifests[FORM]
    for cand in expected:
        assert all(rows[(cand, grade_ids(e.number)["grade"], "grade")][0] is None for e in m.items), cand
    assert rows[("odd-cell", grade_ids(q1.number)["grade"], "grade")][0] == 0.0  # its cell could not be read
    assert all(rows[("odd-cell", grade_ids(e.number)["grade"], "grade")][0] == e.points for e in keyed_entries(m)[1:])
    results = {r.candidate_id: r for r in compute_results(gcourse, kit.EXAM)}
    assert all(results[c].status == "pending" and results[c].flags == 1 for c in expected)

    # everyone else exactly as in a course without the damaged files: scores, blanks settled
    with cloned(graded_template, tmp_path / "clean") as clean:
        assert run(clean, "grade", "cps", "--by", "tester", "--workers", "1").exit_code == 0
        assert honest_rows(gcourse) == honest_rows(clean)
        clean_decided = decided(clean)
    assert clean_decided and {k: v for k, v in decided(gcourse).items() if k in clean_decided} == clean_decided
    set_aside_sittings = _sittings_of(gcourse, expected)
    assert not any(sid in set_aside_sittings for sid, _item in decided(gcourse))  # not settled, not decided

    # `ratings` reports them (with the file and why) instead of crashing
    rep = run(gcourse, "ratings", "cps")
    assert rep.exit_code == 0, rep.output
    for message in expected.values():
        assert f"set aside: {message}" in rep.output
    row = next(line for line in rep.output.splitlines() if items_a[0] in line)
    assert row.split("│")[-2].strip() == "6"

    # the queue: every grader gets every other response and is never handed a damaged one
    for item_id, _rubric in open_items(gcourse, kit.EXAM):
        queue = RatingQueue(gcourse, kit.EXAM, item_id)
        aside = queue.set_aside()
        assert aside == ({(c, FORM): msg for c, msg in expected.items()} if item_id in items_a else {})
        anon_aside = {r.anon_id for r in queue.responses() if r.set_aside}
        assert len(anon_aside) == len(aside)
        taken = set()
        while (claim := queue.claim("Ann Grader")) is not None:
            assert claim.anon_id not in anon_aside
            taken.add(claim.anon_id)
            queue.save("Ann Grader", claim.rating_id, {c.id: c.max_points for c in queue.rubric.criteria})
        open_ones = {r.anon_id for r in queue.responses() if not r.blank and not r.set_aside}
        assert taken == open_ones
        progress = queue.progress("Ann Grader")
        assert progress.set_aside == len(aside) and progress.open_for_me == 0
    from exam_builder.grading.grader_app import progress_text

    assert "6 set aside until the coordinator replaces an unreadable file" in progress_text(
        RatingQueue(gcourse, kit.EXAM, items_a[0]).progress("Ben Grader"))

    # fixed (the honest file back): graded on the next run, the flag gone
    for cand in expected:
        kit.write_submission(gcourse, cand, FORM, kit.fill(kit.released(gcourse, FORM),
                                                           {e.number: e.key for e in keyed_entries(m)}, {}))
    again = run(gcourse, "grade", "cps", "--by", "tester", "--workers", "1")
    assert again.exit_code == 0, again.output
    rows = gradebook_rows(gcourse)
    assert all(rows[("bad-deep", grade_ids(e.number)["grade"], "grade")][0] == e.points for e in keyed_entries(m))
    assert not any(k == "invalid_notebook" for c in expected for _g, k, _d in flags_of(gcourse).get(c, []))


def _cell_no(course, q) -> int:
    nb = kit.released(course, FORM)
    return 1 + next(i for i, c in enumerate(nb["cells"])
                    if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_ids(q.number)["answer"])


def _sittings_of(course, cands) -> set[int]:
    from exam_builder.records.models import Sitting

    with course.db.read() as s:
        return set(s.execute(select(Sitting.id).where(Sitting.candidate_id.in_(list(cands)))).scalars())


def test_a_submission_of_someone_not_on_the_roster_is_flagged_and_not_graded(gcourse, manifests):
    rel_nb = kit.released(gcourse, FORM)
    m = manifests[FORM]
    kit.write_submission(gcourse, "stranger", FORM, kit.fill(rel_nb, {e.number: e.key for e in keyed_entries(m)}, {}))
    odd_name = "x\nnew line " + "y" * 80  # any folder name must be safe to show and store
    kit.write_submission(gcourse, odd_name, FORM, kit.fill(rel_nb, {}, {}))

    res = run(gcourse, "grade", "cps", "--by", "tester", "--workers", "1")
    assert res.exit_code == 3, res.output
    message = (f"submitted/stranger/{FORM}/: 'stranger' is not on the roster; not graded and no nbgrader student was "
               "made. Add the candidate (`exam-builder roster import`) and run `exam-builder grade cps` again, or "
               "remove the folder")
    assert f"warning: {message}" in res.stderr
    assert "0 submission(s) set aside and 2 entr(ies) under submitted/ not graded" in res.stderr
    flags = flags_of(gcourse)
    assert flags["stranger"] == [(None, "unknown_candidate", message)]
    odd_flag = next(c for c in flags if c.startswith("x\\nnew line"))
    assert len(odd_flag) <= 64 and odd_flag.isprintable()
    with gcourse.db.read() as s:
        students = set(s.connection().execute(select(STUDENT.c.id)).scalars())
    assert "stranger" not in students and odd_name not in students  # no nbgrader student made
    rows = gradebook_rows(gcourse)
    assert not any(k[0] in ("stranger", odd_name) for k in rows)
    assert {k[0] for k in rows} == set(HONEST)  # everyone on the roster is graded

    # on the roster now: graded on the next run, the flag replaced
    kit.enrol(gcourse, "stranger")
    (gcourse.submitted_dir / odd_name).rename(gcourse.submitted_dir / ".set-aside-by-staff")
    again = run(gcourse, "grade", "cps", "--by", "tester", "--workers", "1")
    assert again.exit_code == 0, again.output
    assert "stranger" not in flags_of(gcourse) and not any(c.startswith("x\\n") for c in flags_of(gcourse))
    rows = gradebook_rows(gcourse)
    assert all(rows[("stranger", grade_ids(e.number)["grade"], "grade")][0] == e.points for e in keyed_entries(m))


@pytest.mark.parametrize("kind", ["metadata", "source", "cell"])
def test_cells_of_the_wrong_type_are_scored_from_what_can_be_read(gcourse, manifests, kind):
    """Structure where data was expected, inside one cell: that question scores 0, the rest count."""
    from exam_builder.grading.objective import grade_exam

    m = manifests[FORM]
    rel_nb = kit.released(gcourse, FORM)
    nb = kit.fill(rel_nb, {e.number: e.key for e in keyed_entries(m)}, {})
    q1 = keyed_entries(m)[0]
    index = next(i for i, c in enumerate(nb["cells"])
                 if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_ids(q1.number)["answer"])
    if kind == "metadata":
        nb["cells"][index]["metadata"]["nbgrader"] = [1, 2]
    elif kind == "source":
        nb["cells"][index]["source"] = [{"deep": [[[]]]}, 7]
    else:
        nb["cells"][index] = "just text"
    kit.write_submission(gcourse, "cand001", FORM, nb)
    report = grade_exam(gcourse, kit.EXAM, actor="tester", workers=1)
    assert report.complete
    rows = gradebook_rows(gcourse)
    assert rows[("cand001", grade_ids(q1.number)["grade"], "grade")][0] == 0.0
    assert all(rows[("cand001", grade_ids(e.number)["grade"], "grade")][0] == e.points for e in keyed_entries(m)[1:])
    kinds = {k for _g, k, _d in flags_of(gcourse)["cand001"]}
    assert "malformed_cell" in kinds and "invalid_notebook" not in kinds


def test_a_folder_or_a_link_loop_named_like_the_notebook_is_set_aside(gcourse, manifests):
    import os
    import shutil

    from exam_builder.grading.objective import grade_exam

    m = manifests[FORM]
    for cand in ("bad-dir", "bad-loop"):
        kit.add_sitting(gcourse, cand, FORM, {e.number: e.key for e in keyed_entries(m)}, {})
        path = kit.write_submission(gcourse, cand, FORM, "")
        path.unlink()
        if cand == "bad-dir":
            path.mkdir()
        else:
            os.symlink(path.name, path)  # a link to itself
    shutil.rmtree(gcourse.submitted_dir / "cand001")  # and one with no notebook at all: scored 0, as nbgrader does
    kit.write_submission(gcourse, "cand001", FORM, "").unlink()
    report = grade_exam(gcourse, kit.EXAM, actor="tester", workers=1)
    aside = {c: msg for _f, c, msg in report.set_aside}
    assert set(aside) == {"bad-dir", "bad-loop"}
    for cand, msg in aside.items():
        assert msg.startswith(f"submitted/{cand}/{FORM}/{NB}: ") and msg.endswith(SET_ASIDE), msg
    assert "folder" in aside["bad-dir"]
    item = rated_entries(m)[0].item_id
    queue = RatingQueue(gcourse, kit.EXAM, item)
    assert set(queue.set_aside()) == {("bad-dir", FORM), ("bad-loop", FORM)}
    rows = gradebook_rows(gcourse)
    assert all(rows[("cand001", grade_ids(e.number)["grade"], "grade")][0] == 0.0 for e in m.items)


def test_collect_again_leaves_no_temporary_file(gcourse, tmp_path):
    """A killed collect leaves ``.<name>.*.tmp`` beside a submission; the next run removes it."""
    from exam_builder.delivery.collect import collect

    collect(gcourse, kit.EXAM)
    folder = gcourse.submitted_dir / "cand001" / FORM
    stale = [folder / f".{NB}.k1ll3d.tmp", folder / ".timestamp.txt.k1ll3d.tmp"]
    for p in stale:  # what a run killed between writing and renaming leaves
        p.write_text("half a file")
    other = folder / "notes.tmp"  # not ours: kept
    other.write_text("staff notes")
    again = collect(gcourse, kit.EXAM)
    assert again.written == [] and len(again.unchanged) == 6
    assert not any(p.exists() for p in stale) and other.exists()
    assert not [p for p in gcourse.submitted_dir.rglob(".*.tmp")]


# -- kill -9 -------------------------------------------------------------------------------
#: Candidates added to the six honest ones: enough that, once the first batch of ``BATCH`` is stored, hundreds are
#: still to read (``grade`` is killed then, mid-run), few enough that three runs of it stay short.
COHORT = 600
BATCH = 25


def _cohort(root: Path) -> None:
    """``COHORT`` more candidates on the roster with copies of honest submissions; two workers."""
    import shutil

    from sqlalchemy import insert

    from exam_builder.course import Course
    from exam_builder.records.models import Candidate

    course = Course(root)
    ids = [f"coh{i:05d}" for i in range(COHORT)]
    with course.db.transaction() as s:
        s.execute(insert(Candidate.__table__),
                  [{"id": c, "first_name": "Co", "last_name": c, "cohort": "load"} for c in ids])
    for i, cand in enumerate(ids):
        model = HONEST[i % len(HONEST)]
        form = "cps-A" if int(model[-3:]) % 2 else "cps-B"
        src = course.submitted_dir / model / form
        dest = course.submitted_dir / cand / form
        dest.mkdir(parents=True)
        for f in src.iterdir():
            shutil.copyfile(f, dest / f.name)
    cfg = root / "nbgrader_config.py"
    cfg.write_text(cfg.read_text() + f"\nc.GradingSettings.workers = 2\nc.GradingSettings.batch_size = {BATCH}\n")
    course.db.dispose()


def _grade_cmd(root: Path) -> list[str]:
    import sys

    return [str(Path(sys.executable).parent / "exam-builder"), "--course", str(root), "grade", "cps", "--by", "tester"]


def _stored_submissions(root: Path) -> int:
    """Submissions in the gradebook now, read straight from SQLite (a poll of a running ``grade``)."""
    import contextlib
    import sqlite3

    from exam_builder.records.queries.gradebook import SUBMISSION

    try:
        with contextlib.closing(sqlite3.connect(f"file:{root / 'gradebook.db'}?mode=ro", uri=True,
                                                timeout=0.05)) as conn:
            return conn.execute(f"SELECT count(*) FROM {SUBMISSION.name}").fetchone()[0]
    except sqlite3.Error:  # locked mid-commit
        return 0


def _alive(procs) -> list:
    import psutil

    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.mark.timeout(600)
def test_kill_9_of_grade_leaves_no_worker_and_a_rerun_finishes_the_job(graded_template, tmp_path):
    """``grade`` (a real process: a kill -9 is the point) is killed once its workers run and its first batch is
    stored (a state, never a time); its workers go with it, and the run again stores exactly what one
    uninterrupted run stores. The uninterrupted run is the same command in this process, one worker (click's
    runner: its start-up is not the point; the scores do not depend on the workers)."""
    import os
    import shutil
    import signal
    import subprocess
    import time

    psutil = pytest.importorskip("psutil")
    from exam_builder.course import Course

    killed, clean = tmp_path / "killed", tmp_path / "clean"
    shutil.copytree(graded_template, killed)
    _cohort(killed)
    shutil.copytree(killed, clean)

    # the same job, uninterrupted
    done = CliRunner().invoke(cli, ["--course", str(clean), "grade", "cps", "--by", "tester", "--workers", "1"])
    assert done.exit_code == 0, done.output[-2000:]

    proc = subprocess.Popen(_grade_cmd(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        parent = psutil.Process(proc.pid)
        workers: list = []
        deadline = time.monotonic() + 300
        while (len(workers) < 2 or not _stored_submissions(killed)) and time.monotonic() < deadline \
                and proc.poll() is None:
            try:
                workers = parent.children(recursive=True) if len(workers) < 2 else workers
            except psutil.NoSuchProcess:
                break
            time.sleep(0.005)
        assert len(workers) >= 2, "grade finished before its workers could be seen: raise COHORT"
        assert proc.poll() is None and len(_alive(workers)) >= 2  # mid-run: a batch stored, the others not
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    gone_by = time.monotonic() + 5
    while _alive(workers) and time.monotonic() < gone_by:
        time.sleep(0.05)
    survivors = _alive(workers)
    for p in survivors:  # leave nothing behind even when the assertion fails
        p.kill()
    assert not survivors, f"{len(survivors)} worker(s) outlived `grade`"

    partial = _stored_submissions(killed)
    assert 0 < partial < COHORT + len(HONEST)  # it was killed mid-run

    again = subprocess.run(_grade_cmd(killed), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    a, b = Course(killed), Course(clean)
    try:
        assert gradebook_rows(a) == gradebook_rows(b)
        assert decided(a) == decided(b) and flags_of(a) == flags_of(b)
    finally:
        a.db.dispose()
        b.db.dispose()
