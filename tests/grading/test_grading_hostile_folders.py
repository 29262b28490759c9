"""Issue 23: what stands in a submission's place never hangs `grade`, never vanishes, and one bad cell
never costs a whole notebook.

Through the real commands, in a process of their own wherever something hostile stands
(``hostilekit.run_cmd``: a hang is a timeout), in this process before and after (``run_here``):
a pipe, a link to ``/dev/zero``, a folder or foreign bytes as ``timestamp.txt`` are flagged and the
notebook scored (and the formgrader's copy is what was read); a file, a link loop, a pipe or a
device where a candidate's folder should be is set aside and named (earlier scores withdrawn,
never kept silently); `collect` refuses what stands where it writes (anything but a folder where a
folder goes, anything but a regular file where a file goes, any link: ``files.check_owned``), names
every one and changes nothing; malformed cells are named and the rest of the notebook is scored.
"""
from __future__ import annotations

import json
import os
import shutil

import gradingkit as kit
import pytest
from click.testing import CliRunner
from hostilekit import endless, fifo, run_cmd, snapshot
from sqlalchemy import select
from test_grading_objective import gradebook_rows

from exam_builder.cli import cli
from exam_builder.kinds import keyed_entries
from exam_builder.model.manifest import grade_ids
from exam_builder.records.models import ScoreFlag

FORM_OF = {f"cand{i:03d}": ("cps-A" if i % 2 else "cps-B") for i in range(1, 7)}
SET_ASIDE = (". Set aside: no score is given (results stay pending) and its written answers are not rated until "
             "the file is replaced (`exam-builder collect cps` writes it again from the response journal) and "
             "`exam-builder grade cps` is run again")


def flags_of(course) -> dict[str, list[tuple[str | None, str, str]]]:
    out: dict[str, list] = {}
    with course.db.read() as s:
        for f in s.execute(select(ScoreFlag).order_by(ScoreFlag.id)).scalars():
            out.setdefault(f.candidate_id, []).append((f.grade_id, f.kind, f.details))
    return out


def scores(course, cand: str) -> dict[str, float | None]:
    """Grade cell -> auto score of one candidate (objective and open cells)."""
    return {name: v[0] for (student, name, table), v in gradebook_rows(course).items()
            if student == cand and table == "grade"}


def run_here(course, *args: str) -> int:
    """The same command in this process (click's runner), once nothing hostile is left: its exit code."""
    return CliRunner().invoke(cli, ["--course", str(course.root), *args], catch_exceptions=False).exit_code


def lines_of(stderr: str) -> list[str]:
    """The lines of a command's errors, without the ``error: `` the first one starts with."""
    return [line.removeprefix("error: ") for line in stderr.splitlines()]


def folder(course, cand: str):
    return course.submitted_dir / cand / FORM_OF[cand]


# -- timestamp.txt ---------------------------------------------------------------------------------
TIMESTAMPS = {
    "cand001": ("pipe", "not a regular file (a pipe or device?); remove it"),
    "cand002": ("dev-zero", "not a regular file (a pipe or device?); remove it"),
    "cand003": ("folder", "a folder named like a file; rename the folder (only files are read)"),
    "cand004": ("latin-1", "line 1: cannot read the file (not UTF-8 text at byte 21); a timestamp is one short line"),
    "cand005": ("big", "the file is 4096 bytes, over the 256 bytes limit; a timestamp is one short line"),
    "cand006": ("dangling", "cannot read the file (No such file or directory); a timestamp is one short line"),
}


def _spoil_timestamp(path, how: str) -> None:
    path.unlink()
    if how == "pipe":
        fifo(path)
    elif how == "dev-zero":
        endless(path)
    elif how == "folder":
        path.mkdir()
        (path / "x").write_text("2026-11-20 14:03:00.123456 UTC")
    elif how == "latin-1":
        path.write_bytes("2026-11-20 14:03:00 \xe9t\xe9".encode("latin-1"))
    elif how == "big":
        path.write_bytes(b"2" * 4096)
    else:
        path.symlink_to("gone.txt")


@pytest.mark.timeout(300)
def test_a_timestamp_that_is_no_small_text_file_is_flagged_and_the_notebook_scored(gcourse, graded_template, tmp_path):
    from coursekit import cloned

    for cand, (how, _msg) in TIMESTAMPS.items():
        _spoil_timestamp(folder(gcourse, cand) / "timestamp.txt", how)
    out = run_cmd(gcourse.root, "grade", "cps", "--by", "tester", "--workers", "1")
    assert out.returncode == 0, out.stderr  # everyone scored: a bad time is a flag, nothing is set aside
    assert "Traceback" not in out.stderr
    flags = flags_of(gcourse)
    for cand, (how, message) in TIMESTAMPS.items():
        where = f"submitted/{cand}/{FORM_OF[cand]}/timestamp.txt"
        sep = ":" if message.startswith("line") else ": "
        assert (None, "bad_timestamp", f"{where}{sep}{message}; scored without a submission time") in flags[cand], how
        assert not [k for _g, k, _d in flags[cand] if k == "invalid_notebook"], how
        copy = gcourse.autograded_dir / cand / FORM_OF[cand]
        nb = f"{FORM_OF[cand]}.ipynb"
        assert (copy / nb).read_bytes() == (folder(gcourse, cand) / nb).read_bytes()  # the formgrader's copy: as read
        assert not (copy / "timestamp.txt").exists() and not (copy / "timestamp.txt").is_symlink(), how
    # scores exactly as without the damage
    with cloned(graded_template, tmp_path / "clean") as clean:
        assert CliRunner().invoke(cli, ["--course", str(clean.root), "grade", "cps", "--by", "t", "--workers", "1"]
                                  ).exit_code == 0
        for cand in TIMESTAMPS:
            assert scores(gcourse, cand) == scores(clean, cand), cand

    # collect writes only where the program may (files.check_owned, issue 23: no link, the type expected):
    # a pipe, a link (to a device, to nothing) or a folder in a timestamp's place is named, all at once,
    # and nothing at all is written; once they are removed, collect writes every timestamp again
    before = snapshot(gcourse.submitted_dir)
    refused = run_cmd(gcourse.root, "collect", "cps")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    link = ("where exam-builder writes a file; it never writes or clears anything through a link: remove the link "
            "(exam-builder makes the file itself)")
    for cand, what in [("cand001", "a pipe where exam-builder writes a file; move it away (exam-builder writes the "
                                   "file itself)"),
                       ("cand002", f"a symbolic link (to /dev/zero) {link}"),
                       ("cand003", "a folder where exam-builder writes a file; move it away (exam-builder writes the "
                                   "file itself)"),
                       ("cand006", f"a symbolic link (to gone.txt) {link}")]:
        assert f"submitted/{cand}/{FORM_OF[cand]}/timestamp.txt: {what}" in lines_of(refused.stderr), refused.stderr
    assert "4 error(s); nothing was written" in refused.stderr
    assert snapshot(gcourse.submitted_dir) == before
    shutil.rmtree(folder(gcourse, "cand003") / "timestamp.txt")
    for cand in ("cand001", "cand002", "cand006"):
        (folder(gcourse, cand) / "timestamp.txt").unlink()
    assert run_here(gcourse, "collect", "cps") == 0
    for cand in TIMESTAMPS:
        stamp = folder(gcourse, cand) / "timestamp.txt"
        assert not stamp.is_symlink() and stamp.is_file() and stamp.read_text().endswith(" UTC"), cand
    assert run_here(gcourse, "grade", "cps", "--by", "tester", "--workers", "1") == 0
    assert not [k for f in flags_of(gcourse).values() for _g, k, _d in f if k == "bad_timestamp"]


# -- submissions that vanish -----------------------------------------------------------------------
@pytest.mark.timeout(300)
def test_anything_in_a_submissions_place_is_set_aside_and_named_never_skipped(gcourse, manifests):
    assert run_here(gcourse, "grade", "cps", "--by", "tester", "--workers", "1") == 0  # nothing hostile yet
    earlier = {c: scores(gcourse, c) for c in FORM_OF}
    assert all(v is not None for c in FORM_OF for g, v in earlier[c].items() if g.endswith(("01", "02")))

    sub = gcourse.submitted_dir
    shutil.rmtree(sub / "cand001" / "cps-A")
    (sub / "cand001" / "cps-A").write_text("not a folder")  # a file where the form's folder should be
    shutil.rmtree(sub / "cand002" / "cps-B")
    (sub / "cand002" / "cps-B").symlink_to("cps-B")  # a link loop
    shutil.rmtree(sub / "cand003")
    (sub / "cand003").write_text("not a folder")  # a file where the candidate's folder should be
    shutil.rmtree(sub / "cand004" / "cps-B")
    fifo(sub / "cand004" / "cps-B")  # a pipe
    shutil.rmtree(sub / "cand005")
    endless(sub / "cand005")  # a device
    (sub / "notes.txt").write_text("staff notes")  # no candidate's folder, claimed by no form
    kit.enrol(gcourse, "cand007")
    (sub / "cand007").symlink_to("nowhere")  # on the roster, nothing sat: a dangling link
    (sub / "stranger").mkdir()
    (sub / "stranger" / "cps-B").write_text("x")  # not on the roster
    (sub / ".kept-by-staff").write_text("not read")  # staff's own: names starting with '.' are not read
    (sub / os.fsdecode(b"bad\xffname")).write_text("x")  # a name that is not UTF-8: shown escaped, stored

    out = run_cmd(gcourse.root, "grade", "cps", "--by", "tester", "--workers", "1")
    assert out.returncode == 3, out.stderr
    assert "Traceback" not in out.stderr
    aside = {
        "cand001": "submitted/cand001/cps-A: a file where a folder should be; remove it",
        "cand002": "submitted/cand002/cps-B: a symbolic link that loops or points nowhere, where a folder should be; "
                   "remove it",
        "cand003": "submitted/cand003: a file where a folder should be; remove it",
        "cand004": "submitted/cand004/cps-B: a pipe, socket or device where a folder should be; remove it",
        "cand005": "submitted/cand005: a pipe, socket or device where a folder should be; remove it",
    }
    for cand, problem in aside.items():
        assert f"warning: {problem}{SET_ASIDE}" in out.stderr, cand
    loose = ("no candidate's submission folder (no submitted sitting or earlier score of this exam has that name), "
             "so nothing in it is graded")
    assert (f"warning: submitted/notes.txt: a file where a folder should be; remove it, or rename it to start with "
            f"'.' to keep it: it is {loose}") in out.stderr
    assert (f"warning: submitted/cand007: a symbolic link that loops or points nowhere, where a folder should be; "
            f"remove it, or rename it to start with '.' to keep it: it is {loose}") in out.stderr
    assert ("warning: submitted/stranger/cps-B/: 'stranger' is not on the roster (a file where a folder should be; "
            "remove it); not graded") in out.stderr
    assert (f"warning: submitted/bad\\udcffname: a file where a folder should be; remove it, or rename it to start "
            f"with '.' to keep it: it is {loose}") in out.stderr
    assert ("5 submission(s) set aside and 4 entr(ies) under submitted/ not graded (not on the roster, or no "
            "candidate's folder); everyone else is graded (exit code 3)") in out.stderr
    assert ".kept-by-staff" not in out.stderr
    table = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
             for line in out.stdout.splitlines() if line.startswith("│ cps-")}
    # form, submissions, new, re-scored, points changed, flagged, set aside, not on roster
    assert table["cps-A"][0] == "3" and table["cps-A"][5:] == ["3", "3"]
    assert table["cps-B"][0] == "3" and table["cps-B"][5:] == ["2", "1"]

    # recorded: a set-aside flag each, the earlier scores withdrawn (pending), never kept silently
    flags = flags_of(gcourse)
    for cand, problem in aside.items():
        assert flags[cand] == [(None, "invalid_notebook", problem + SET_ASIDE)], cand
        assert scores(gcourse, cand) and all(v is None for v in scores(gcourse, cand).values()), cand
    assert [k for _g, k, _d in flags["notes.txt"]] == ["unknown_candidate"]
    assert scores(gcourse, "cand006") == earlier["cand006"]  # everyone else exactly as before
    shown = CliRunner().invoke(cli, ["--course", str(gcourse.root), "flags", "cps"])
    assert shown.exit_code == 0 and all(c in shown.output for c in [*aside, "notes.txt", "stranger", "cand007"])

    # collect cannot write into them (files.check_owned): each named, and nothing is written
    before = snapshot(sub)
    refused = run_cmd(gcourse.root, "collect", "cps")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    moved = "where exam-builder makes a folder; move it away (exam-builder makes the folder itself)"
    link = ("where exam-builder writes a folder; it never writes or clears anything through a link: remove the link "
            "(exam-builder makes the folder itself)")
    for where, what in [("submitted/cand001/cps-A", f"a file {moved}"),
                        ("submitted/cand002/cps-B", f"a symbolic link (to cps-B) {link}"),
                        ("submitted/cand003", f"a file {moved}"),
                        ("submitted/cand004/cps-B", f"a pipe {moved}"),
                        ("submitted/cand005", f"a symbolic link (to /dev/zero) {link}")]:
        assert f"{where}: {what}" in lines_of(refused.stderr), refused.stderr
    assert "5 error(s); nothing was written" in refused.stderr, refused.stderr
    assert snapshot(sub) == before

    # removed: collected again from the journal, graded, nothing left to look at
    for name in ("cand001/cps-A", "cand002/cps-B", "cand003", "cand004/cps-B", "cand005", "cand007", "notes.txt",
                 os.fsdecode(b"bad\xffname")):
        (sub / name).unlink()
    shutil.rmtree(sub / "stranger")
    assert run_here(gcourse, "collect", "cps") == 0
    assert run_here(gcourse, "grade", "cps", "--by", "tester", "--workers", "1") == 0
    for cand in FORM_OF:
        objective = [grade_ids(e.number)["grade"] for e in keyed_entries(manifests[FORM_OF[cand]])]
        assert [scores(gcourse, cand)[g] for g in objective] == [earlier[cand][g] for g in objective], cand
    assert not [k for f in flags_of(gcourse).values() for _g, k,
                _d in f if k in ("invalid_notebook", "unknown_candidate")]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("what", ["file", "loop", "pipe"])
def test_a_submitted_folder_that_is_no_folder_stops_grade_by_name(gcourse, what):
    sub = gcourse.submitted_dir
    shutil.rmtree(sub)
    if what == "file":
        sub.write_text("x")
    elif what == "loop":
        sub.symlink_to("submitted")
    else:
        fifo(sub)
    if what == "pipe":  # a reader could wait on it for ever: a process of its own, with a timeout
        out = run_cmd(gcourse.root, "grade", "cps", "--by", "tester")
        code, stderr = out.returncode, out.stderr
    else:
        res = CliRunner().invoke(cli, ["--course", str(gcourse.root), "grade", "cps", "--by", "tester"])
        code, stderr = res.exit_code, res.stderr
    assert code == 1 and "Traceback" not in stderr
    assert "error: submitted: " in stderr and "nothing was graded" in stderr
    assert gradebook_rows(gcourse) == {}


# -- one malformed cell ----------------------------------------------------------------------------
def _answer_index(nb: dict, number: int, role: str = "answer") -> int:
    gid = grade_ids(number)[role]
    return next(i for i, c in enumerate(nb["cells"]) if c["metadata"].get("nbgrader", {}).get("grade_id") == gid)


MALFORMED = ["gid-list", "gid-mapping", "gid-number", "points-400-digits", "lone-surrogate", "solution-list",
             "cell-type-list", "source-number", "nbformat-3"]


@pytest.mark.timeout(300)
def test_one_malformed_cell_is_named_and_the_rest_of_the_notebook_is_scored(gcourse, manifests):
    m = manifests["cps-A"]
    rel_nb = kit.released(gcourse, "cps-A")
    keys = {e.number: e.key for e in keyed_entries(m)}
    q1 = keyed_entries(m)[0]
    cell_no = {}
    for case in MALFORMED:
        cand = f"odd-{case}"
        nb = kit.fill(rel_nb, keys, {})
        i = _answer_index(nb, q1.number)
        cell = nb["cells"][i]
        cell_no[case] = i + 1
        if case == "gid-list":
            cell["metadata"]["nbgrader"]["grade_id"] = [grade_ids(q1.number)["answer"]]
        elif case == "gid-mapping":
            cell["metadata"]["nbgrader"]["grade_id"] = {"id": grade_ids(q1.number)["answer"]}
        elif case == "gid-number":
            cell["metadata"]["nbgrader"]["grade_id"] = 7
        elif case == "points-400-digits":
            g = _answer_index(nb, q1.number, "grade")
            nb["cells"][g]["metadata"]["nbgrader"]["points"] = 10 ** 400
            cell_no[case] = g + 1
        elif case == "lone-surrogate":
            cell["source"] = f'{grade_ids(q1.number)["variable"]} = "\ud800"'
        elif case == "solution-list":
            cell["metadata"]["nbgrader"]["solution"] = [1, 2]
        elif case == "cell-type-list":
            cell["cell_type"] = ["code"]
        elif case == "source-number":
            cell["source"] = 12
        kit.add_sitting(gcourse, cand, "cps-A", keys, {})
        if case == "nbformat-3":
            nb = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": nb["cells"]}]}
        kit.write_submission(gcourse, cand, "cps-A", nb)

    out = run_cmd(gcourse.root, "grade", "cps", "--by", "tester", "--workers", "1")
    assert out.returncode == 3, out.stderr  # only the nbformat-3 file is set aside
    assert "Traceback" not in out.stderr
    where = "submitted/odd-nbformat-3/cps-A/cps-A.ipynb"
    assert (f"warning: {where}: an nbformat 3 notebook (saved by IPython 2 or older); this tool reads nbformat 4: "
            f"open it in JupyterLab and save it, which converts it{SET_ASIDE}") in out.stderr
    assert "1 submission(s) set aside and 0 entr(ies)" in out.stderr
    flags = flags_of(gcourse)
    q1_grade = grade_ids(q1.number)["grade"]
    for case in MALFORMED[:-1]:
        cand = f"odd-{case}"
        kinds = [k for _g, k, _d in flags.get(cand, [])]
        assert "invalid_notebook" not in kinds, (case, flags[cand])
        got = scores(gcourse, cand)
        # every other objective question scores its points: one bad cell costs at most its question
        assert all(got[grade_ids(e.number)["grade"]] == e.points for e in keyed_entries(m)[1:]), case
        # read as the gradebook says (points, flags, type): scored; no answer that can be read: 0
        scored = case in ("points-400-digits", "solution-list", "cell-type-list")
        assert got[q1_grade] == (q1.points if scored else 0.0), case
        copy = gcourse.autograded_dir / cand / "cps-A" / "cps-A.ipynb"
        assert isinstance(json.loads(copy.read_text(encoding="utf-8")), dict), case  # the formgrader's copy
    at = lambda case: f"submitted/odd-{case}/cps-A/cps-A.ipynb:cell {cell_no[case]}: "  # noqa: E731
    details = {case: "\n".join(d for _g, _k, d in flags.get(f"odd-{case}", [])) for case in MALFORMED}
    answer = grade_ids(q1.number)["answer"]
    assert f"{at('gid-list')}the cell's grade id is a list (['{answer}']), not text; the cell is not scored" \
        in details["gid-list"]
    assert (f"{at('gid-mapping')}the cell's grade id is a mapping ({{'id': '{answer}'}}), not "
            "text") in details["gid-mapping"]
    assert f"{at('gid-number')}the cell's grade id is a number (7), not text" in details["gid-number"]
    assert f"cell {cell_no['points-400-digits']} claims 1000000" in details["points-400-digits"]
    assert f"{at('cell-type-list')}the cell's cell_type is a list, not text" in details["cell-type-list"]
    assert f"{at('source-number')}the cell's source is a number, not text" in details["source-number"]
    assert any(k in ("junk_answer", "unknown_label") for _g, k, _d in flags["odd-lone-surrogate"])
    assert "odd-solution-list" not in flags  # a true-ish flag is a flag nbgrader reads as set: nothing to say
