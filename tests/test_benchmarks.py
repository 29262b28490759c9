"""`make benchmarks` works: every benchmark `benchmarks/run_all.py` runs completes at a small size
(``--smoke``) as a process of its own, exits 0 and prints its figures.

Nothing here asserts a time: the figures are matched by their form (a number where a number
goes), never by their value. Facts that are not times are checked: no answer lost, the same
points as stock nbgrader. The rehearsal runs the real exam server, the page protocol (the baseline and one
candidate) and a chromium candidate, with the server's waits made short (``SMOKE_SETTINGS``): it is where
a browser in the room is proved; tests/delivery/test_rehearse.py proves the ``exam-builder rehearse``
command itself (its options, table and ``--json``) with two page-protocol candidates.
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browserkit import CHROMIUM

REPO = Path(__file__).resolve().parents[1]
N = r"\d[\d,]*(?:\.\d+)?"  # a figure


def _run_all():
    spec = importlib.util.spec_from_file_location("run_all", REPO / "benchmarks" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCHMARKS = [p.name for p in _run_all().scripts()]

#: What each benchmark must print at its smoke size: one pattern per figure line.
FIGURES = {
    "assemble.py": [
        rf"bank: 400 items \({N} live\); forms: 3 x 60 items \(180 placed\); expected-score spread {N}%",
        rf"baseline \(read the bank's notebooks and hash every item\): +{N} s",
        rf"assemble 3 forms of 60 items: +{N} s +\({N}x the baseline\)",
        rf"read \+ assemble: +{N} s",
        r"bar \(a 1,000-item bank\): assembling under 2 s: (met|NOT met) \(with reading the bank: (met|NOT met)\)",
    ],
    "bank_check.py": [
        r"bank check, 100 items in \d+ notebooks \+ \d+ rubrics: checked \d+ notebook\(s\) \(100 items, \d+ scenarios\)"
        r".*: 0 error\(s\), 0 warning\(s\)",
        rf"baseline \(nbformat.read of every notebook\): {N} s",
        rf"exam-builder check \(read, parse, validate\): +{N} s",
        rf"ratio check / baseline: {N}x",
    ],
    "delivery_load.py": [
        rf"database: sqlite; 4 candidates x 5 answers at once \(20 answers, {N} per second\), baseline 1 candidate x "
        r"15",
        r"lost answers: 0 of 35 \(every last answer read back from the database\)",
        rf"durable within: p50 {N} ms, p99 {N} ms, max {N} ms \(bar: p99 under 1000 ms\)",
        rf"baseline alone: p50 {N} ms, p99 {N} ms",
        rf"ratio p99 at once / p99 alone: {N}x",
        r"^(bar met|BAR NOT MET)$",
    ],
    "grade.py": [
        rf"form cps-A: 40 items \(\d+ objective\), built and released in {N} s",
        rf"exam-builder grade, 20 submissions: {N} s in-process \({N} ms per submission\); the CLI re-run, "
        rf"start-up included: {N} s \(exit 0\)",
        rf"nbgrader autograde on a sample of 1: {N} s, {N} s per notebook; extrapolated to 20 notebooks: {N} s",
        rf"ratio \(autograde extrapolated / exam-builder grade, same 20\): {N}x +\(bar: at least 100x: (met|NOT met)\)",
        r"gradebook points on the 1 compared submissions \(40 grade cells\): identical",
        rf"exam-builder grade, 100 submissions of a 40-item form: {N} s on \d+ CPU\(s\) "
        r"\(bar: 10,000 under 30 s: not measured at this size\)",
    ],
    "paper_scan.py": [
        rf"room of 8 sheets x 40 questions \(320 marks\), printed in {N} s, conditions: clean, skew \+3, skew -3",
        rf"read right: {N} \({N}%\)",
        rf"sent to verification: {N} \({N}%\)",
        r"^read wrong: 0$",  # the bar: never a silent wrong read (the run exits 1 otherwise)
        rf"sheets per second: {N} \({N} ms a sheet at 200 dpi\); baseline \(decoding the images alone\): "
        rf"{N} per second",
    ],
    "rehearse.py": [
        rf"database: sqlite; 2 candidates \(1 in chromium\), {N} answers, {N} s",
        rf"(holds|DOES NOT HOLD): sign-in p95 <= 1.5 x alone \(p95 {N} s, alone {N} s, ratio {N}\)",
        rf"(holds|DOES NOT HOLD): usable again after a reload: p95 <= 1.5 x first sign-in p95 \(reload p95 {N} s, "
        rf"first p95 {N} s, 1 reloads within {N} s, 1 back to their own kernel\)",
        r"holds: every candidate finishes \(2 of 2 submitted, 0 failed\)",
        r"holds: 0 answers lost \(0 of \d+\)",
        rf"(holds|DOES NOT HOLD): durable p99 < 250 ms \(p99 {N} ms; until told saved p99 {N} ms\)",
        rf"(holds|DOES NOT HOLD): durable p99 < 250 ms while the room reloads \((p99 {N} ms over \d+ saves|no data)\)",
        rf"(holds|DOES NOT HOLD): <= 100 MB per seat \({N} MB \({N} MB peak\)\)",
        r"(holds|DOES NOT HOLD): 0 kernels left \(\d+\)",
        r"^(every bar holds|SOME BARS DO NOT HOLD)$",
    ],
}


def test_every_benchmark_has_its_figures_here():
    assert sorted(FIGURES) == sorted(BENCHMARKS)


@pytest.mark.parametrize("script", BENCHMARKS)
def test_benchmark_smoke_run(script):
    if script == "rehearse.py" and not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    env = {k: v for k, v in os.environ.items() if k not in ("EXAM_BUILDER_COURSE", "EXAM_BUILDER_DB_URL")}
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), "--smoke"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "Traceback" not in out, out[-6000:]
    assert proc.stdout.startswith("smoke run (small, figures not to quote)"), out[-3000:]  # the size asked for
    lines = [line.strip() for line in proc.stdout.splitlines()]
    for figure in FIGURES[script]:
        assert any(re.search(figure, line) for line in lines), f"{script} did not print {figure!r}:\n{out[-4000:]}"
