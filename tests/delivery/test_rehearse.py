"""``exam-builder rehearse``: a small room end to end, and the arithmetic it reports with."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from exam_builder.errors import ExamBuilderError
from exam_builder.loadtest.rehearse import arrivals, parse_first_wave, percentile

EXE = Path(sys.executable).parent / "exam-builder"


def test_arrivals_follow_the_first_wave():
    times = arrivals(60, 60.0, (0.5, 10.0), random.Random(3))
    assert len(times) == 60 and times == sorted(times)
    assert sum(1 for t in times if t <= 10) >= 30 and max(times) <= 60
    assert arrivals(60, 60.0, (0.5, 10.0), random.Random(3)) == times  # seeded
    assert all(t <= 2 for t in arrivals(5, 2.0, (0.5, 10.0), random.Random(1)))  # a window shorter than the wave


def test_percentiles_and_the_first_wave_option():
    assert percentile([], 95) is None
    assert percentile([3.0], 99) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile(list(map(float, range(1, 101))), 95) == pytest.approx(95.05)
    assert parse_first_wave("0.5:10") == (0.5, 10.0)
    for bad in ("half", "2:10", "0.5:-1"):
        with pytest.raises(ExamBuilderError):
            parse_first_wave(bad)


def test_the_candidates_server_never_imports_the_load_testing_tools():
    """``loadtest`` sits above ``delivery`` (beside the CLI): no module of delivery imports it, not even inside
    a function or under TYPE_CHECKING."""
    import ast

    package = Path(__file__).resolve().parents[2] / "exam_builder"
    upward = []
    for path in sorted((package / "delivery").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")] + [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if any("loadtest" in n for n in names):
                upward.append(f"{path.relative_to(package)}:{node.lineno}")
    assert upward == []
    assert (package / "loadtest" / "rehearse.py").is_file() and (package / "loadtest" / "pageclient.py").is_file()
    assert not (package / "delivery" / "rehearse.py").exists() and not (package / "delivery" / "pageclient.py").exists()


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_a_small_room_loses_no_answer(course_dir, tmp_path):
    """``exam-builder rehearse`` as a person runs it: its options, its table, its ``--json`` figures, and the
    course's own folder untouched. A room of two page-protocol candidates arriving apart (the smallest room:
    two sittings saving at once); a chromium candidate and the benchmark's bars are
    tests/test_benchmarks.py's smoke run. The server's waits are made short in the course's settings (the
    scratch copy takes them): the pool refilled 0.2 s after a page is taken (not 3 s), closed pages looked for
    every 0.5 s (not 5 s), one spare kernel (not two), open responses saved 0.3 s after typing (not 1 s)."""
    if not EXE.exists():
        pytest.skip("the exam-builder console script is not installed")
    out = tmp_path / "figures.json"
    with open(course_dir / "nbgrader_config.py", "a") as fh:  # the scratch copy takes the course's settings:
        fh.write("\nc.DeliverySettings.max_saves_per_minute = 1200\n"  # candidates pace saves under this cap
                 "c.DeliverySettings.save_delay_seconds = 0.3\nc.ServerSettings.refill_quiet_seconds = 0.2\n"
                 "c.ServerSettings.cull_interval_seconds = 0.5\nc.ServerSettings.spare_kernels = 1\n"
                 "c.ServerSettings.reattach_seconds = 2\n")
    env = {k: v for k, v in os.environ.items() if k not in ("EXAM_BUILDER_DB_URL", "EXAM_BUILDER_COURSE")}
    proc = subprocess.run([str(EXE), "--course", str(course_dir), "rehearse", "cps", "--candidates", "2", "--window",
                           "3",
                           "--first-wave", "0.5:1", "--pace", "1000", "--alone", "1", "--json", str(out)],
                          capture_output=True, text=True, timeout=280, env={**env, "COLUMNS": "250"})
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-4000:]
    for field in ("sign-in screen usable", "alone", "p50", "p95", "p99", "max", "p95/alone",
                  "usable again after a reload", "answer durable", "MB per seat", "kernels left", "answers lost",
                  "0 of", "submitted", "2 of 2"):
        assert field in text, (field, text[-3000:])
    figures = json.loads(out.read_text())
    assert figures["answers_lost"] == 0 and figures["answers_sent"] >= 2 * 40
    assert figures["submitted"] == 2 and figures["failed"] == []
    assert figures["kernels_left"] == 0
    assert figures["sign_in"]["n"] == 2 and figures["reload_sign_in"]["n"] == 2
    assert figures["reload_own_kernel"] == 2  # each reload came back to its own kernel: no sign-in again
    assert figures["sign_in_alone_median"] > 0 and figures["rss_peak_mb"] > 0
    assert figures["durable"]["p99"] is not None
    # the same saves until told "saved" (a line already on screen when sent is not timed): the line comes
    # before the kernel's idle, so never later, save by save
    assert 0 < figures["told_saved"]["n"] <= figures["durable"]["n"]
    assert figures["told_saved"]["max"] <= figures["durable"]["max"]
    assert figures["loop_lag"]["n"] > 0 and "until told" in text and "the room's loop late by" in text
    # the course's own folder was not used: no database, no forms, no sittings there
    assert not (course_dir / "gradebook.db").exists() and not (course_dir / "release").exists()
