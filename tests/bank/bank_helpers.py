"""Helpers of the bank tests: paths, running the CLI, writing notebooks."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
from click.testing import CliRunner

from exam_builder.cli import cli

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BASE = HERE / "base_course"
CORPUS = HERE / "corpus"
SCRIPT = Path(sys.executable).parent / "exam-builder"


def run_cli(course: Path, *args: str):
    """Run ``exam-builder --course COURSE ARGS`` in process; the result has stdout, stderr, exit_code."""
    return CliRunner().invoke(cli, ["--course", str(course), *args], catch_exceptions=False)


def run_script(course: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed console script, as a user would."""
    return subprocess.run(
        [str(SCRIPT), "--course", str(course), *args], capture_output=True, text=True, cwd=cwd or course, timeout=120
    )


def write_notebook(path: Path, *cells: str | tuple[str, str]) -> Path:
    """A notebook of markdown cells (or ``("code", source)`` cells)."""
    nb = nbformat.v4.new_notebook()
    for c in cells:
        if isinstance(c, tuple):
            nb.cells.append(nbformat.v4.new_code_cell(c[1]))
        else:
            nb.cells.append(nbformat.v4.new_markdown_cell(c))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def problem_lines(output: str) -> list[str]:
    """The problem lines of a check's output (without the summary line)."""
    return [line for line in output.splitlines() if line and not line.startswith("checked ")]
