"""The safe loaders (issue 11): hostile files give a located error, never a traceback or a silent drop.

Cases that cannot live as one file in ``corpus/`` (a symbolic link loop, a folder named like a
notebook, a pipe, a 20 MB file) are made here in the same tiny course, each with the exact output
of ``exam-builder check`` and its exit code; ``bank sync`` (a command that writes) changes nothing.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from bank_helpers import CORPUS, problem_lines, run_cli

from exam_builder import files, safeload
from exam_builder.bank import load_bank
from exam_builder.errors import ExamBuilderError
from exam_builder.safeload import LoadError, json_depth_over, load_yaml, read_json, read_notebook, walk_files

SUMMARY = "checked {n} notebook(s) ({i} items, 1 scenarios), 1 rubric(s), 0 blueprint(s): {e} error(s), {w} warning(s)"


def _check(course: Path, *args: str) -> tuple[int, list[str], str]:
    result = run_cli(course, "check", *args)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, problem_lines(result.stdout), result.stdout.strip().splitlines()[-1]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink() and p.suffix in (".ipynb", ".yaml")}


# -- file-system oddities under source/ ----------------------------------------------------------
def test_symlink_loops_are_reported_not_followed(mini_course):
    cps = mini_course / "source/cps"
    (cps / "again").symlink_to("../cps")  # a folder link back into itself
    (cps / "self").symlink_to("self")  # a link to itself
    (cps / "a.ipynb").symlink_to("b.ipynb")  # two notebook links pointing at each other
    (cps / "b.ipynb").symlink_to("a.ipynb")
    before = _snapshot(mini_course)
    code, lines, summary = _check(mini_course)
    assert lines == [
        "source/cps/a.ipynb: a symbolic link that loops or points nowhere; it is not read: remove it or point it at a "
        "file",
        "source/cps/again: warning: a symbolic link back to a folder already read (a loop); not followed",
        "source/cps/b.ipynb: a symbolic link that loops or points nowhere; it is not read: remove it or point it at a "
        "file",
        "source/cps/self: warning: a symbolic link that loops or points nowhere; it is not read: remove it or point "
        "it at a file",
    ]
    assert code == 1 and summary == SUMMARY.format(n=1, i=5, e=2, w=2)
    result = run_cli(mini_course, "bank", "sync")
    assert result.exit_code == 1 and "Traceback" not in result.stdout + result.stderr
    assert "nothing was written" in result.stdout + result.stderr
    assert _snapshot(mini_course) == before


def test_folder_loop_alone_is_a_warning(mini_course):
    (mini_course / "source/cps/again").symlink_to("../cps")
    code, lines, summary = _check(mini_course)
    assert lines == ["source/cps/again: warning: a symbolic link back to a folder already read (a loop); not followed"]
    assert code == 0 and summary == SUMMARY.format(n=1, i=5, e=0, w=1)


def test_link_out_of_the_course_is_not_followed(mini_course, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy(CORPUS / "two-keys.ipynb", outside / "two-keys.ipynb")
    (mini_course / "source/cps/shared").symlink_to(outside)
    code, lines, _ = _check(mini_course)
    assert lines == [f"source/cps/shared: a symbolic link out of source/ ({outside.resolve()}); links out of it are "
                     "not "
                     "followed: copy the files in instead"]
    assert code == 1


def test_explicit_looping_link(mini_course):
    (mini_course / "source/cps/loop.ipynb").symlink_to("loop.ipynb")
    code, lines, summary = _check(mini_course, str(mini_course / "source/cps/loop.ipynb"))
    assert lines == ["source/cps/loop.ipynb: a symbolic link that loops or points nowhere; remove it or point it at a "
                     "file"]
    assert code == 1 and summary.endswith("1 error(s), 0 warning(s)")


def test_folder_named_like_a_notebook(mini_course):
    (mini_course / "source/cps/extra.ipynb").mkdir()
    code, lines, summary = _check(mini_course)
    assert lines == ["source/cps/extra.ipynb: a folder named like a notebook (.ipynb) file; rename the folder (only "
                     "files are read)"]
    assert code == 1 and summary == SUMMARY.format(n=1, i=5, e=1, w=0)
    code, lines, _ = _check(mini_course, str(mini_course / "source/cps/extra.ipynb"))
    assert lines == ["source/cps/extra.ipynb: a folder named like a notebook (.ipynb) file; rename the folder (only "
                     "files are read)"]
    assert code == 1


def test_folder_named_like_a_rubric(mini_course):
    (mini_course / "rubrics/extra.yaml").mkdir()
    code, lines, _ = _check(mini_course)
    assert lines == ["rubrics/extra.yaml: a folder named like a YAML (.yaml) file; rename the folder (only files are "
                     "read)"]
    assert code == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_pipe_named_like_a_notebook_is_not_read(mini_course):
    os.mkfifo(mini_course / "source/cps/pipe.ipynb")  # reading it would block for ever
    code, lines, _ = _check(mini_course)
    assert lines == ["source/cps/pipe.ipynb: not a regular file (a pipe or device?); it is not read: remove it"]
    assert code == 1


def test_huge_notebook(mini_course):
    big = mini_course / "source/cps/huge.ipynb"
    nb = json.loads((CORPUS / "two-keys.ipynb").read_text())
    nb["metadata"]["padding"] = "x" * (safeload.MAX_JSON_BYTES + 10)
    big.write_text(json.dumps(nb))
    size = big.stat().st_size / 1024 / 1024
    code, lines, _ = _check(mini_course)
    assert lines == [f"source/cps/huge.ipynb: the file is {size:.1f} MB, over the 20.0 MB limit; "
                     "open it in JupyterLab or restore it from git"]
    assert code == 1


def test_huge_rubric(mini_course):
    (mini_course / "rubrics/huge.yaml").write_text("id: huge\nnotes: '" + "x" * (safeload.MAX_YAML_BYTES + 10) + "'\n")
    code, lines, _ = _check(mini_course)
    assert lines == ["rubrics/huge.yaml: the file is 1.0 MB, over the 1.0 MB limit; a rubric or blueprint is a few KB: "
                     "is it the right file?"]
    assert code == 1


def test_load_bank_walk_reports_loops(mini_course):
    """What `build` reads (load_bank of the exam folder) gets the same problems, no exception."""
    (mini_course / "source/cps/a.ipynb").symlink_to("a.ipynb")
    bank = load_bank([mini_course / "source/cps"], lambda p: str(p.relative_to(mini_course)))
    assert [str(p) for p in bank.problems] == [
        "source/cps/a.ipynb: a symbolic link that loops or points nowhere; it is not read: remove it or point it at a "
        "file"
    ]
    assert len(bank.items) == 5


# -- the loaders themselves ---------------------------------------------------------------------
def test_depth_scan_is_iterative_and_skips_strings():
    assert json_depth_over("[" * 1_000_000, 100) == 1
    assert json_depth_over('{"a": "[[[[[[[[[[[[[["}', 3) is None
    assert json_depth_over('{"a": "\\"[[[["}', 2) is None
    assert json_depth_over("[\n[\n[\n]]]", 2) == 3


def _depth_byte_by_byte(data: bytes, limit: int) -> int | None:
    """The scan's meaning, one byte at a time (its first version): the fast scan must agree with it."""
    depth, line, in_str, escaped = 0, 1, False, False
    for b in data:
        if in_str:
            if escaped:
                escaped = False
            elif b == 0x5C:
                escaped = True
            elif b == 0x22:
                in_str = False
        elif b == 0x22:
            in_str = True
        elif b in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return line
        elif b in (0x5D, 0x7D):
            depth -= 1
        if b == 0x0A:
            line += 1
    return None


def test_depth_scan_agrees_with_a_byte_by_byte_scan():
    """Strings with escaped quotes and backslashes, newlines inside strings, a string that never closes, a
    trailing backslash, closing brackets before opening ones, non-ASCII text: the same line, or None, as a
    byte-by-byte scan, on 3,000 seeded texts and a real notebook."""
    import random

    rng = random.Random(24)
    alphabet = ["[", "]", "{", "}", '"', "\\", "\n", "a", " ", "é", ","]
    checked = 0
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        for limit in (0, 1, 2, 4):
            data = text.encode("utf-8")
            assert json_depth_over(data, limit) == json_depth_over(text, limit) == _depth_byte_by_byte(data, limit), \
                (text, limit)
            checked += json_depth_over(data, limit) is not None
    assert checked > 1000  # many texts go over the limit (the line is compared, not only None)
    notebook = (Path(__file__).resolve().parents[2] / "source" / "cps" / "01-recovery-and-hope.ipynb").read_bytes()
    for limit in (3, 4, 5, 100):
        assert json_depth_over(notebook, limit) == _depth_byte_by_byte(notebook, limit)


def test_read_json_errors_are_located():
    with pytest.raises(LoadError) as exc:
        read_json("[" * 100_000 + "]" * 100_000, "sub.ipynb")
    assert str(exc.value) == ("sub.ipynb:line 1: JSON nested more than 100 levels deep, which no real file is; is it "
                              "the right file?")
    with pytest.raises(ExamBuilderError) as exc:
        read_json('{"a":\n 1,,}', "x.json")
    assert str(exc.value) == ("x.json:line 2: not valid JSON (Expecting property name enclosed in double quotes, "
                              "column 4); is it the right file?")
    with pytest.raises(LoadError) as exc:
        read_json(b"{}" + b" " * 50, "x.json", max_bytes=10)
    assert str(exc.value) == "x.json: 52 bytes of JSON, over the 10 bytes limit; is it the right file?"
    with pytest.raises(LoadError) as exc:
        read_json(b'"\xff"', "x.json")
    assert str(exc.value) == "x.json:line 1: cannot read the file (not UTF-8 text at byte 2); is it the right file?"
    assert read_json(b'{"a": [1, 2]}', "x.json") == {"a": [1, 2]}


@pytest.mark.parametrize("mutate,expected", [
    (lambda nb: nb.__setitem__("cells", {"0": {}}),
     "nb.ipynb: not a notebook (the file has no list of cells); re-save it from JupyterLab"),
    (lambda nb: nb["cells"].__setitem__(0, ["x"]),
     "nb.ipynb:cell 1: the cell is a list, not a mapping; re-save the notebook from JupyterLab"),
    (lambda nb: nb["cells"][1].__setitem__("source", ["ok", 3]),
     "nb.ipynb:cell 2: the cell's source is a list, not text; re-save the notebook from JupyterLab"),
    (lambda nb: nb["cells"][1].__setitem__("metadata", None),
     "nb.ipynb:cell 2: the cell's metadata is null, not a mapping; re-save the notebook from JupyterLab"),
    (lambda nb: nb["cells"][1]["metadata"].__setitem__("exam_builder", 7),
     "nb.ipynb:cell 2: the cell's metadata.exam_builder is a number, not a mapping; re-save the notebook from "
     "JupyterLab"),
    (lambda nb: nb.__setitem__("nbformat", "4"),
     "nb.ipynb: not a notebook this tool reads (nbformat '4', expected 4); re-save it from JupyterLab"),
], ids=["cells-mapping", "cell-list", "source-list-of-number", "metadata-null", "exam-builder-number", "nbformat-text"])
def test_read_notebook_structure(tmp_path, mutate, expected):
    nb = json.loads((CORPUS / "two-keys.ipynb").read_text())
    mutate(nb)
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(LoadError) as exc:
        read_notebook(path, where="nb.ipynb")
    assert str(exc.value) == expected


def test_read_notebook_joins_multiline_source(tmp_path):
    nb = read_notebook(CORPUS / "two-keys.ipynb")
    assert isinstance(nb.cells[1].source, str) and nb.nbformat == 4


def _yaml(tmp_path: Path, text: str):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    data, problems = load_yaml(path, "rubrics/r.yaml")
    return data, [str(p) for p in problems]


def test_yaml_refuses_aliases_duplicates_depth(tmp_path):
    assert _yaml(tmp_path, "a: 1\nb: *x\n")[1] == [
        "rubrics/r.yaml:line 2: alias '*x' is not allowed; rubrics and blueprints do not use YAML anchors (&) or "
        "aliases (*): write the value out in full"
    ]
    assert _yaml(tmp_path, "a:\n  x: 1\n  y: 2\n  x: 3\n")[1] == [
        "rubrics/r.yaml:line 4: key 'x' is given twice (lines 2 and 4); YAML would keep only the second and silently "
        "drop the first: merge them into one"
    ]
    assert _yaml(tmp_path, "a: " + "[" * 10_000 + "]" * 10_000 + "\n")[1] == [
        "rubrics/r.yaml:line 1: nested more than 50 levels deep; a rubric or blueprint needs fewer than 10"
    ]
    assert _yaml(tmp_path,
                 "? [a]\n: 1\n")[1] == ["rubrics/r.yaml:line 1: a key must be a plain name, not a list or a mapping"]
    data, problems = _yaml(tmp_path, "a: 1\nb: [1, {c: 2}]\n")
    assert problems == [] and data == {"a": 1, "b": [1, {"c": 2}]}  # the lines are beside the data, not in it
    assert data.lines == {"a": 1, "b": 2} and data.line == 1 and data["b"][1].lines == {"c": 2}


def test_walk_files_lists_each_real_file_once(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/x.ipynb").write_text("{}")
    (tmp_path / "link").symlink_to("sub")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints/x.ipynb").write_text("{}")
    files, problems = walk_files(tmp_path, (".ipynb",),
                                 lambda p: str(p.relative_to(tmp_path)) if p != tmp_path else ".")
    assert [str(f.relative_to(tmp_path)) for f in files] == ["link/x.ipynb"]
    assert problems == []  # the real folder, reached second, is simply not read again


# -- issue 23: every reader through the one loader ----------------------------------------------------
def _v3(cells: list[dict]) -> dict:
    return {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""}, "worksheets": [{"cells": cells}]}


@pytest.mark.parametrize("make, expected", [
    (lambda nb: _v3([{"cell_type": "markdown", "metadata": {}, "source": nb["cells"][1]["source"]}]),
     "source/cps/old.ipynb: an nbformat 3 notebook (saved by IPython 2 or older); this tool reads nbformat 4: open it "
     "in JupyterLab and save it, which converts it"),
    (lambda nb: _v3([{"cell_type": "markdown", "metadata": [], "source": "x"}]),  # broken inside too: same one rule
     "source/cps/old.ipynb: an nbformat 3 notebook (saved by IPython 2 or older); this tool reads nbformat 4: open it "
     "in JupyterLab and save it, which converts it"),
    (lambda nb: {**nb, "cells": [*nb["cells"][:2], {"cell_type": "code", "id": "c3", "metadata": {}, "source": "",
                                                    "execution_count": None, "outputs": [{"output_type": "bogus"}]}]},
     "source/cps/old.ipynb:cell 3: not a valid notebook ({'output_type': 'bogus'} is not valid under any of the given "
     "schemas); re-save it from JupyterLab"),
    (lambda nb: {**nb, "cells": [nb["cells"][0], {**nb["cells"][1], "attachments": 5}]},
     "source/cps/old.ipynb:cell 2: not a valid notebook ('int' object has no attribute 'values'); re-save it from "
     "JupyterLab"),
], ids=["nbformat-3", "nbformat-3-broken", "v4-bad-output", "v4-attachments-number"])
def test_a_notebook_nbformat_refuses_is_refused_by_our_rule_and_names_the_cell(mini_course, make, expected):
    nb = json.loads((CORPUS / "two-keys.ipynb").read_text())
    (mini_course / "source/cps/old.ipynb").write_text(json.dumps(make(nb)))
    code, lines, _ = _check(mini_course)
    assert code == 1 and lines == [expected]


@pytest.mark.timeout(60)
def test_the_small_readers_refuse_what_is_no_regular_file_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "dir").mkdir()
    (tmp_path / "gone").symlink_to("nowhere")
    (tmp_path / "ok").write_text("2026-11-20 14:03:00.123456 UTC\n")
    (tmp_path / "big").write_bytes(b"x" * 300)
    (tmp_path / "bom").write_bytes("\ufeffid\n".encode("utf-8"))
    for name, message in [("pipe", "pipe: not a regular file (a pipe or device?); remove it"),
                          ("zero", "zero: not a regular file (a pipe or device?); remove it"),
                          ("dir", "dir: a folder named like a file; rename the folder (only files are read)"),
                          ("gone", "gone: cannot read the file (No such file or directory); fix it"),
                          ("big", "big: the file is 300 bytes, over the 256 bytes limit; fix it")]:
        with pytest.raises(LoadError) as exc:
            safeload.read_text(tmp_path / name, name, max_bytes=256, hint="fix it")
        assert str(exc.value) == message
    assert safeload.read_text(tmp_path / "ok", "ok", max_bytes=256) == "2026-11-20 14:03:00.123456 UTC\n"
    assert safeload.read_text(tmp_path / "bom", "bom", max_bytes=256, bom=True) == "id\n"
    # holds: "already written?" never reads through a pipe, a device or a link
    assert safeload.holds(tmp_path / "ok", "2026-11-20 14:03:00.123456 UTC\n")
    assert not safeload.holds(tmp_path / "ok", "2026-11-20")
    (tmp_path / "link").symlink_to("ok")
    assert not any(safeload.holds(tmp_path / n, "") for n in ("pipe", "zero", "dir", "gone", "link", "missing"))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("odd, message", [
    ("pipe", "src/sub/odd.png: not a regular file (a pipe or device?); it is not read: remove it"),
    ("zero", "src/sub/odd.png: a symbolic link out of src/ (/dev/zero); links out of it are not followed: copy the "
             "files in instead"),
    ("loop", "src/sub/odd.png: a symbolic link that loops or points nowhere; it is not read: remove it or point it at "
             "a file"),
    ("out", "src/sub/odd.png: a symbolic link out of src/ ({out}); links out of it are not followed: copy the files in "
            "instead"),
], ids=["pipe", "dev-zero", "loop", "out"])
def test_copy_tree_refuses_what_a_copy_would_read_through_and_copies_nothing(tmp_path, odd, message):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "items.ipynb").write_text("{}")
    (src / "sub" / "figure.png").write_bytes(b"\x89PNG")
    (src / "zz-again").symlink_to("sub")  # a folder reached twice: copied once (the first way), not an error
    odd_path = src / "sub" / "odd.png"
    outside = tmp_path / "secret.txt"
    outside.write_text("not the course's")
    {"pipe": lambda: os.mkfifo(odd_path), "zero": lambda: odd_path.symlink_to("/dev/zero"),
     "loop": lambda: odd_path.symlink_to("odd.png"), "out": lambda: odd_path.symlink_to(outside)}[odd]()
    label = lambda p: str(p.relative_to(tmp_path))  # noqa: E731
    with pytest.raises(ExamBuilderError) as exc:
        files.copy_tree(src, tmp_path / "dest", tmp_path, label)
    assert str(exc.value).splitlines()[0] == message.format(out=outside)
    assert not (tmp_path / "dest").exists()
    odd_path.unlink()
    # the copy is written through files: never through a link planted where it goes
    (tmp_path / "dest").symlink_to(outside.parent / "src")
    with pytest.raises(files.UnsafePath, match="^dest: a symbolic link"):
        files.copy_tree(src, tmp_path / "dest", tmp_path, label)
    (tmp_path / "dest").unlink()
    written = files.copy_tree(src, tmp_path / "dest", tmp_path, label)
    assert sorted(str(p.relative_to(tmp_path / "dest")) for p in written) == ["items.ipynb", "sub/figure.png"]
    assert (tmp_path / "dest" / "sub" / "figure.png").read_bytes() == b"\x89PNG"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("odd", ["pipe", "dev-zero", "folder"])
def test_a_course_configuration_that_is_no_file_is_named_not_waited_on(mini_course, odd):
    from hostilekit import endless, fifo, run_cmd

    config = mini_course / "nbgrader_config.py"
    config.unlink()
    {"pipe": lambda: fifo(config), "dev-zero": lambda: endless(config), "folder": config.mkdir}[odd]()
    out = run_cmd(mini_course, "check")  # every command reads it first: a pipe used to hang them all
    assert out.returncode == 1 and "Traceback" not in out.stderr
    what = {"folder": "a folder named like a file; rename the folder (only files are read). Fix the file and run "
                      "again.",
            "pipe": "not a regular file (a pipe or device?); remove it. Fix the file and run again.",
            # the link rule of every command comes first: a link to a device is a link out of the course
            "dev-zero": "a symbolic link out of the course (/dev/zero); links out of it are not followed: copy the "
                        "file in instead"}[odd]
    assert f"error: {config}: {what}" in out.stderr
