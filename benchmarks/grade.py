"""Benchmark: objective scoring (`exam-builder grade`) against stock `nbgrader autograde`.

Builds a 40-item form from a made-up bank with the real builder (released by nbgrader; a
made-up reviewer first approves the bank's live items, as forms draw only approved items), puts
the made-up candidates on the roster (grade scores only candidates it knows), writes 1,000
filled submissions, times exam-builder's objective scoring on all of them and stock
`nbgrader autograde` on a sample of them (autograde runs every notebook in a kernel, about 2 s
each, so all 1,000 would take most of an hour: its time is measured on the sample and
extrapolated per notebook, as printed), checks that the gradebook points are identical on the
sample, then times 10,000 submissions. Prints ratios and times and whether each bar is met; it fails only when points
differ or a run
is incomplete, never on a time.

    .venv/bin/python benchmarks/grade.py [--sample 8] [--submissions 1000] [--big 10000] [--keep] [--smoke]

``--smoke``: 20 submissions, 1 through autograde, 100 in the big run (tests/test_benchmarks.py: it
works, figures not to quote).
"""
from __future__ import annotations

import argparse
import copy
import html
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from exam_builder.kinds import keyed_entries

REPO = Path(__file__).resolve().parents[1]
EXAM = "cps"
REVIEWER = "Benchmark Reviewer"  # not the synthetic bank's author
BLUEPRINT = """title: Benchmark exam (made up)
forms: 1
seed: 3
cut_score: 70%
points: {true_false: 1, multiple_choice: 1, open_response: 6}
counts:
  peer-support: {true_false: 4, multiple_choice: 9, open_response: 1}
  in-but-not-of: {true_false: 4, multiple_choice: 9}
  change-agent: {true_false: 4, multiple_choice: 9}
difficulty_tolerance: 1.0
"""


def make_course(root: Path):
    from exam_builder.assembly.build import build
    from exam_builder.assembly.forms import load_forms
    from exam_builder.assembly.synthetic import synthetic_bank, write_bank
    from exam_builder.bank import load_bank
    from exam_builder.bank.review import approve_offered
    from exam_builder.course import Course

    root.mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    bank, rubrics = synthetic_bank(300, seed=9, open_share=0.05)
    write_bank(bank, rubrics, root / "source" / EXAM, root / "rubrics")
    (root / "source" / EXAM / "blueprint.yaml").write_text(BLUEPRINT, encoding="utf-8")
    course = Course(root)
    course.db.upgrade()
    approve_offered(course, load_bank([root / "source" / EXAM]), REVIEWER, "approved for the grading benchmark")
    build(course, EXAM, actor="bench", console=Console(file=io.StringIO()))
    with course.db.read() as s:
        [(form, manifest)] = load_forms(s, EXAM)
    return course, manifest


def enrol(course, names: list[str]) -> None:
    """Put the made-up candidates on the course's roster (``grade`` leaves strangers' folders aside)."""
    from exam_builder.records.models import Candidate

    with course.db.transaction() as s:
        s.add_all(Candidate(id=name, first_name="Bench", last_name=name) for name in names)


def filled(released: dict, manifest, rng: random.Random) -> str:
    nb = copy.deepcopy(released)
    labels = {}
    for cell in nb["cells"]:
        meta = cell["metadata"].get("exam_builder", {})
        if "choices" in meta:
            labels[meta["number"]] = [c["label"] for c in meta["choices"]]
    keys = {e.number: e.key for e in manifest.items}
    for cell in nb["cells"]:
        meta = cell["metadata"].get("exam_builder", {})
        if meta.get("role") != "answer":
            continue
        n = meta["number"]
        if cell["cell_type"] == "code":
            r = rng.random()
            label = keys[n] if r < 0.7 else None if r < 0.75 else rng.choice(labels[n])
            cell["source"] = f"q{n:02d} = None" if label is None else f'q{n:02d} = "{label}"'
        else:
            cell["source"] = html.escape("I would listen first, then ask what the person wants to happen next.")
    return json.dumps(nb, indent=1)


def write_submissions(course, manifest, names: list[str], seed: int) -> None:
    released = json.loads((course.release_dir / manifest.assignment / f"{manifest.assignment}.ipynb").read_text())
    rng = random.Random(seed)
    variants = [filled(released, manifest, rng) for _ in range(min(200, len(names)))]
    for i, name in enumerate(names):
        folder = course.submitted_dir / name / manifest.assignment
        folder.mkdir(parents=True)
        (folder / f"{manifest.assignment}.ipynb").write_text(variants[i % len(variants)], encoding="utf-8")
        (folder / "timestamp.txt").write_text("2026-11-20 14:03:00.000000 UTC", encoding="utf-8")


def points(course, students: list[str]) -> dict:
    from sqlalchemy import select

    from exam_builder.grading.gradebook_sync import BASE_CELL, GRADE, SUBMISSION, SUBMITTED_NB

    with course.db.read() as s:
        rows = s.execute(
            select(SUBMISSION.c.student_id, BASE_CELL.c.name, GRADE.c.auto_score, GRADE.c.needs_manual_grade)
            .select_from(GRADE).join(SUBMITTED_NB, SUBMITTED_NB.c.id == GRADE.c.notebook_id)
            .join(SUBMISSION, SUBMISSION.c.id == SUBMITTED_NB.c.assignment_id)
            .join(BASE_CELL, BASE_CELL.c.id == GRADE.c.cell_id).where(SUBMISSION.c.student_id.in_(students))
        ).all()
    return {(a, b): (c, bool(d)) for a, b, c, d in rows}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=8, help="submissions graded by stock nbgrader autograde")
    ap.add_argument("--submissions", type=int, default=1000, help="graded by exam-builder and compared with the sample")
    ap.add_argument("--big", type=int, default=10_000, help="submissions in the last run (copies of the first ones)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--smoke", action="store_true",
                    help="a small run that proves the benchmark works (no figures to quote)")
    args = ap.parse_args()
    if args.smoke:
        args.submissions, args.sample, args.big = 20, 1, 100
        print("smoke run (small, figures not to quote)")
    n = args.submissions
    from exam_builder.course import Course
    from exam_builder.grading.objective import grade_exam

    work = Path(tempfile.mkdtemp(prefix="eb-bench-grade-"))
    quiet = Console(file=io.StringIO())
    try:
        t = time.perf_counter()
        course, manifest = make_course(work / "pristine")
        print(f"form {manifest.assignment}: {len(manifest.items)} items "
              f"({len(keyed_entries(manifest))} objective), built and released in {time.perf_counter() - t:.1f} s")
        names = [f"b{i:05d}" for i in range(n)]
        copies = max(1, args.big // n)  # the big run: copy k of each name is NAME-k
        enrol(course, names + [f"{name}-{k}" for k in range(1, copies) for name in names])
        course.db.dispose()

        # n submissions: exam-builder on all of them, stock autograde on a sample
        ours = work / "ours"
        shutil.copytree(work / "pristine", ours)
        c1 = Course(ours)
        write_submissions(c1, manifest, names, seed=1)
        sample = names[:: max(1, len(names) // args.sample)][: args.sample]
        stock = work / "stock"
        shutil.copytree(work / "pristine", stock)
        for name in sample:
            shutil.copytree(ours / "submitted" / name, stock / "submitted" / name)

        t = time.perf_counter()
        report = grade_exam(c1, EXAM, "bench", console=quiet)
        t_ours = time.perf_counter() - t
        if report.submissions != n:
            print(f"exam-builder grade scored {report.submissions} of the {n} submissions")
            return 1
        t = time.perf_counter()
        cli = subprocess.run([str(Path(sys.executable).parent / "exam-builder"), "--course", str(ours), "grade", EXAM,
                              "--by", "bench"], capture_output=True, text=True)
        t_cli = time.perf_counter() - t
        print(f"exam-builder grade, {n:,} submissions: {t_ours:.2f} s in-process "
              f"({t_ours / n * 1000:.2f} ms per submission); the CLI re-run, start-up included: {t_cli:.1f} s "
              f"(exit {cli.returncode})")
        if cli.returncode:
            print(cli.stdout[-2000:] + cli.stderr[-3000:])
            return 1

        t = time.perf_counter()
        proc = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", manifest.assignment],
                              cwd=stock, capture_output=True, text=True)
        t_stock = time.perf_counter() - t
        if proc.returncode:
            print(proc.stderr[-3000:])
            return 1
        per_nb = t_stock / len(sample)
        est = per_nb * n
        print(f"nbgrader autograde on a sample of {len(sample)}: {t_stock:.1f} s, {per_nb:.2f} s per notebook; "
              f"extrapolated to {n:,} notebooks: {est:.0f} s (not run on all {n:,}: it would take that long)")
        print(f"ratio (autograde extrapolated / exam-builder grade, same {n:,}): {est / t_ours:.0f}x  "
              f"(bar: at least 100x: {'met' if est / t_ours >= 100 else 'NOT met'})")
        c2 = Course(stock)
        mine, theirs = points(c1, sample), points(c2, sample)
        same = mine == theirs and len(mine) == len(sample) * len(manifest.items)
        print(f"gradebook points on the {len(sample)} compared submissions ({len(mine)} grade cells): "
              f"{'identical' if same else 'DIFFERENT'}")
        c1.db.dispose()
        c2.db.dispose()
        shutil.rmtree(stock)

        # args.big submissions (copies of the n above) on a fresh gradebook
        big = work / "big"
        shutil.copytree(work / "pristine", big)
        shutil.copytree(ours / "submitted", big / "submitted")
        src = big / "submitted"
        for k in range(1, copies):
            for name in names:
                shutil.copytree(src / name, src / f"{name}-{k}")
        c3 = Course(big)
        t = time.perf_counter()
        report = grade_exam(c3, EXAM, "bench", console=quiet)
        t_big = time.perf_counter() - t
        bar = ("met" if t_big < 30 else "NOT met") if report.submissions >= 10_000 else "not measured at this size"
        print(f"exam-builder grade, {report.submissions:,} submissions of a {len(manifest.items)}-item form: "
              f"{t_big:.1f} s on {os.cpu_count()} CPU(s) (bar: 10,000 under 30 s: {bar})")
        if report.submissions != copies * n:
            print(f"exam-builder grade scored {report.submissions} of the {copies * n} submissions")
            return 1
        c3.db.dispose()
        return 0 if same else 1
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
