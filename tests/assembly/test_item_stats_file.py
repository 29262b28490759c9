"""`build --item-stats FILE` reads the CSV through the one CSV reader (issue 23): whatever the file
is, a located error (file and line or row) and exit 1 with nothing built, or a build; never a
traceback and never a hang.

The command runs in this process (click's runner, in the course folder, ``run_here``): what the cases prove is
the reading of the file, not a new Python's start-up. The pipe, the one that could hang, runs as a person runs
it, its own process with a timeout (``run_cmd``)."""
from __future__ import annotations

import os
import subprocess

import pytest
from hostilekit import endless, fifo, run_cmd, snapshot

from exam_builder.assembly.forms import load_forms

HEAD = "item_id,p_value\n"
FIX = "save the sheet as 'CSV UTF-8' and try again"


def stored(course) -> dict:
    with course.db.read() as s:
        return {f.assignment: m for f, m in load_forms(s, "syn")}


def course_files(course) -> dict:
    """Everything but the lock's own folder and the database (checked through ``stored``)."""
    return {k: v for k, v in snapshot(course.root).items() if not k.startswith(".exam-builder") and ".db" not in k}


def run_here(root, *args: str) -> subprocess.CompletedProcess:
    """``exam-builder --course ROOT ARGS`` run in the course folder in this process (click's runner); an exception
    escapes and fails the test (never a traceback shown to a person)."""
    from click.testing import CliRunner

    from exam_builder.cli import cli

    here = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner(env={"COLUMNS": "250", "EXAM_BUILDER_LOCK_WAIT": "5"}).invoke(
            cli, ["--course", str(root), *args], catch_exceptions=False)
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def _write(path, how: str) -> None:
    if how == "latin-1":
        path.write_bytes((HEAD + "it-0002,0.8\nit-0003,0.5 \xe9t\xe9\n").encode("latin-1"))
    elif how == "utf-16":
        path.write_bytes((HEAD + "it-0002,0.8\n").encode("utf-16"))
    elif how == "pipe":
        fifo(path)
    elif how == "dev-zero":
        endless(path)
    elif how == "loop":
        path.symlink_to(path.name)
    else:
        path.write_text(how, encoding="utf-8")


CASES = [
    ("latin-1", "stats.csv:line 3: cannot read the file (not UTF-8 text at byte 41); " + FIX),
    ("utf-16", "stats.csv: cannot read the file (UTF-16 text, not UTF-8); " + FIX),
    ("pipe", "stats.csv: not a regular file (a pipe or device?); remove it"),
    # the link rule of every command comes first: a link to a device is a link out of the course
    ("dev-zero", "stats.csv: a symbolic link out of the course (/dev/zero); links out of it are not followed: copy the "
                 "file in instead"),
    (HEAD + "it-0002,0_5\n",
     "stats.csv:row 1:column p_value [it-0002]: p_value '0_5' is not a proportion between 0 and 1"),
    (HEAD + "it-0002,\u0660.\u0665\n",
     "stats.csv:row 1:column p_value [it-0002]: p_value '\u0660.\u0665' is not a proportion between 0 and 1"),
    (HEAD + "it-0002,nan\nit-0003,1e309\n",
     "stats.csv:row 1:column p_value [it-0002]: p_value 'nan' is not a proportion between 0 and 1\n"
     "in/stats.csv:row 2:column p_value [it-0003]: p_value '1e309' is not a proportion between 0 and 1"),
    (HEAD + "it-0002,0.8\nit-0003,0.4\nit-0002,0.7\n",
     "stats.csv:row 3:column item_id: item 'it-0002' is given twice (rows 1 and 3); keep one"),
    (HEAD + ",0.8\n", "stats.csv:row 1:column item_id: the item id is missing; fill it in or remove the row"),
    ("item_id,facility_index\nit-0002,0.8\n",
     "stats.csv:header row: the header has no 'p_value' column "
     "(accepted spellings: 'p_value', 'p', 'p value', 'facility')"),
    ("", "stats.csv:header row: the file is empty; it needs a header row"),
    (HEAD + "it-0002,0.8\u202e\n", "stats.csv:row 1:column p_value: the cell "),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("how, message", CASES, ids=["latin-1", "utf-16", "pipe", "dev-zero", "underscore",
                                                      "arabic-indic", "nan-inf", "twice", "no-id", "no-column",
                                                      "empty", "bidi"])
def test_a_bad_item_statistics_file_is_a_located_error_and_nothing_is_built(syn_course, how, message):
    stats = syn_course.root / "in" / "stats.csv"
    stats.parent.mkdir()
    _write(stats, how)
    before = course_files(syn_course)
    out = (run_cmd if how == "pipe" else run_here)(syn_course.root, "build", "syn", "--item-stats", "in/stats.csv")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert f"error: in/{message}" in out.stderr, out.stderr
    assert stored(syn_course) == {} and not syn_course.release_dir.exists()
    assert course_files(syn_course) == before


@pytest.mark.timeout(120)
def test_a_folder_given_as_item_statistics_is_refused_by_name(syn_course):
    (syn_course.root / "in" / "stats.csv").mkdir(parents=True)
    out = run_here(syn_course.root, "build", "syn", "--item-stats", "in/stats.csv")
    assert out.returncode == 2 and "'in/stats.csv' is a directory" in out.stderr
    assert stored(syn_course) == {}


@pytest.mark.timeout(300)
def test_a_sheet_saved_by_a_spreadsheet_is_read(syn_course):
    """UTF-8 with a byte-order mark, headers as people write them: read, and the forms are built on it."""
    stats = syn_course.root / "in" / "stats.csv"
    stats.parent.mkdir()
    stats.write_bytes("\ufeffItem ID,P Value\r\nit-0002,0.8\r\nit-0003,.35\r\n".encode("utf-8"))
    out = run_here(syn_course.root, "build", "syn", "--item-stats", "in/stats.csv", "--by", "tester")
    assert out.returncode == 0, out.stdout + out.stderr
    assert set(stored(syn_course)) == {"syn-A", "syn-B"}
