"""Benchmark: `exam-builder check` on a synthetic 1,000-item bank (20 notebooks, rubrics).

The baseline, measured in the same run on the same files, is the time to merely open every
notebook with nbformat (what any tool reading the bank pays). Printed: the median time of each
and their ratio, i.e. what parsing and every validation rule cost on top of reading the files.
Nothing here is a test; nothing asserts.

    python benchmarks/bank_check.py [--smoke]   # --smoke: a 100-item bank, one run (tests/test_benchmarks.py)
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

from exam_builder.assembly.blueprint import check_blueprint
from exam_builder.assembly.synthetic import synthetic_bank, write_bank
from exam_builder.bank import notebook_files
from exam_builder.bank.check import check
from exam_builder.course import Course

REPO = Path(__file__).resolve().parents[1]
RUNS = 5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true",
                    help="a small run that proves the benchmark works (no figures to quote)")
    args = ap.parse_args()
    size, runs = (100, 1) if args.smoke else (1000, RUNS)
    bank, rubrics = synthetic_bank(size, 2024)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
        write_bank(bank, rubrics, root / "source" / "bench", root / "rubrics")
        course = Course(root)
        files = notebook_files([root / "source"])
        baseline, work = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for f in files:
                    nbformat.read(str(f), as_version=4)
            baseline.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            report = check(course, blueprint_check=check_blueprint)
            work.append(time.perf_counter() - t0)
        if report.checked["items"] != size or report.errors:
            print(f"the check did not read the {size}-item bank cleanly: {report.summary()}")
            return 1
    b, w = statistics.median(baseline), statistics.median(work)
    print(f"{'smoke run (small, figures not to quote); ' if args.smoke else ''}bank check, {size:,} items in "
          f"{len(files)} notebooks + {len(rubrics)} rubrics: {report.summary()}")
    print(f"  baseline (nbformat.read of every notebook): {b:.3f} s")
    print(f"  exam-builder check (read, parse, validate):  {w:.3f} s")
    print(f"  ratio check / baseline: {w / b:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
