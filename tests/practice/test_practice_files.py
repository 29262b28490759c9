"""Practice set files are read through the one loader (issue 23): every broken file under practice/
is named by `exam-builder practice list` (exit 1), none hangs it or ends in a traceback, and the
readable sets are still listed and still served."""
from __future__ import annotations

import json
import os

import pytest
from coursekit import approve_offered_items
from hostilekit import endless, fifo, run_cmd, snapshot

from exam_builder.errors import ExamBuilderError, ValidationFailed
from exam_builder.practice.sets import build_practice, load_set, scan_sets

REBUILD = "build it again with exam-builder practice build"


@pytest.fixture
def with_a_set(course):
    approve_offered_items(course)
    pset, path = build_practice(course, "good", "cps", modules=[3], actor="t")
    course.db.dispose()
    return course, pset, path


def _good_json(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.timeout(120)
def test_practice_list_names_every_broken_set_file_and_lists_the_good_one(with_a_set):
    course, pset, good = with_a_set
    folder = course.practice_dir
    data = _good_json(good)
    fifo(folder / "pipe.json")  # `practice list` used to wait on it forever
    endless(folder / "zero.json")
    (folder / "folder.json").mkdir()
    (folder / "loop.json").symlink_to("loop.json")
    (folder / "alias.json").symlink_to(good.name)  # a link to a good set: sets are the program's own, never linked
    (folder / "deep.json").write_text('{"name": "deep", "items": ' + "[" * 50_000 + "]" * 50_000 + "}")
    (folder / "latin.json").write_bytes('{"name": "latin", "title": "Pr\xe1ctica"}'.encode("latin-1"))
    (folder / "wide.json").write_bytes(json.dumps(data).encode("utf-16"))
    broken = json.loads(json.dumps(data))
    broken["items"][1]["points"] = "lots"
    (folder / "no-stem.json").write_text(json.dumps(broken))
    (folder / "Bad Name.json").write_text(json.dumps(data))
    (folder / "huge.json").write_bytes(b" " * (9 * 1024 * 1024))
    before = snapshot(course.root / "practice")

    out = run_cmd(course.root, "practice", "list")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert "good" in out.stdout and pset.title in out.stdout  # the readable set is still listed
    errors = out.stderr
    # practice sets are the program's own files (practice build writes them): any link, or anything
    # but a regular file, is named by files.check_owned; what is in a file, by safeload
    expected = [
        "practice/alias.json: a symbolic link (to good.json) where exam-builder writes a file; it never writes or "
        "clears anything through a link: remove the link (exam-builder makes the file itself)",
        "practice/Bad Name.json: not a practice set's name (lower-case letters, digits and '-', at most 48); it is "
        "not offered: rename or remove it",
        "practice/deep.json:line 1: practice set JSON nested more than 100 levels deep, which no real file "
        "is; " + REBUILD,
        "practice/folder.json: a folder where exam-builder writes a file; move it away (exam-builder writes the file "
        "itself)",
        "practice/huge.json: the file is 9.0 MB, over the 8.0 MB limit; " + REBUILD,
        "practice/latin.json:line 1: cannot read the file (not UTF-8 text at byte 31); " + REBUILD,
        "practice/loop.json: a symbolic link (to loop.json) where exam-builder writes a file; it never writes or "
        "clears anything through a link: remove the link (exam-builder makes the file itself)",
        f"practice/no-stem.json:column items.1.points: not a practice set file (Input should be a valid number, unable "
        f"to parse string as a number); {REBUILD}",
        "practice/pipe.json: a pipe where exam-builder writes a file; move it away (exam-builder writes the file "
        "itself)",
        "practice/wide.json: cannot read the file (UTF-16 text, not UTF-8); " + REBUILD,
        "practice/zero.json: a symbolic link (to /dev/zero) where exam-builder writes a file; it never writes or "
        "clears anything through a link: remove the link (exam-builder makes the file itself)",
    ]
    for line in expected:
        assert line in errors, (line, errors)
    assert "11 error(s)" in errors
    assert snapshot(course.root / "practice") == before  # a listing changes nothing

    # the practice app offers only the readable set; the broken ones are named by load_set too
    sets, problems = scan_sets(course)
    assert [s.name for s in sets] == ["good"] and len(problems) == 11
    with pytest.raises(ValidationFailed) as exc:
        load_set(course, "deep")
    assert str(exc.value).startswith("practice/deep.json:line 1: practice set JSON nested more than 100 levels deep")
    with pytest.raises(ExamBuilderError, match="practice/nothing.json: no such practice set"):
        load_set(course, "nothing")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("what", ["file", "loop", "pipe"])
def test_a_practice_folder_that_is_no_folder_is_named(course, what):
    path = course.practice_dir
    if what == "file":
        path.write_text("not a folder")
    elif what == "loop":
        path.symlink_to("practice")
    else:
        os.mkfifo(path)
    out = run_cmd(course.root, "practice", "list")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert ("practice: not a folder (practice sets are files in the folder practice/); remove it, then build the "
            "sets again") in out.stderr
    served = run_cmd(course.root, "practice", "serve", "--port", "1")
    assert served.returncode == 1 and "has no practice set" in served.stderr
    assert "warning: practice: not a folder" in served.stdout
