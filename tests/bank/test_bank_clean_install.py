"""The console script works from a clean install: a wheel of the repository in a fresh venv.

To stay fast and offline-friendly the fresh venv borrows the current venv's third-party packages
(a ``.pth`` line; editable-install hooks there are not run, so the repository itself is not
importable), and the wheel is installed with ``--no-deps --no-index``.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from bank_helpers import BASE, REPO, problem_lines

pytestmark = pytest.mark.timeout(600)


def run(*cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("clean-install")
    src = tmp / "src"  # a copy, so the build leaves nothing (build/, *.egg-info) in the repository
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "exam_builder", src / "exam_builder", ignore=shutil.ignore_patterns("__pycache__"))
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", tmp / "dist", src)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("exam_builder-*.whl")

    venv = tmp / "venv"
    made = run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    py = venv / "bin" / "python"
    site = Path(run(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = run(sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index", "--quiet", wheel)
    assert installed.returncode == 0, installed.stderr
    return venv


def test_console_script_from_a_wheel(clean_venv, tmp_path):
    script = clean_venv / "bin" / "exam-builder"
    assert script.exists()
    where = run(clean_venv / "bin" / "python", "-c", "import exam_builder; print(exam_builder.__file__)", cwd=tmp_path)
    # the wheel, not the repository
    assert where.stdout.strip().startswith(str(clean_venv)), where.stdout + where.stderr

    course = tmp_path / "course"
    shutil.copytree(BASE, course)
    shutil.copy(REPO / "nbgrader_config.py", course)
    checked = run(script, "check", cwd=course)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == (
        "checked 1 notebook(s) (5 items, 1 scenarios), 1 rubric(s), 0 blueprint(s): 0 error(s), 0 warning(s)"
    )
    listed = run(script, "--course", course, "bank", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["kind"]) for r in rows][:2] == [("base-tf-01", "true_false"), ("base-mc-01", "multiple_choice")]

    (course / "source/cps/broken.ipynb").write_text("{")
    broken = run(script, "check", cwd=course)
    assert broken.returncode == 1 and "Traceback" not in broken.stdout + broken.stderr
    assert problem_lines(broken.stdout) == [
        "source/cps/broken.ipynb:line 1: not valid notebook JSON (Expecting property name enclosed in double quotes, "
        "column 2); open it in JupyterLab or restore it from git"
    ]
