"""Benchmark: assemble 3 parallel forms of 60 items from a synthetic 1,000-item bank (bar: under 2 s).

The baseline, measured in the same run on the same bank, is the time to merely read the bank
from its notebooks and hash every item (what any build must do anyway). Printed: the median
time of each, their ratio, and whether the bar is met. Nothing here is a test; nothing asserts.

    python benchmarks/assemble.py [--smoke]   # --smoke: a 400-item bank, one run (tests/test_benchmarks.py)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from exam_builder.assembly.assemble import assemble
from exam_builder.assembly.blueprint import Blueprint
from exam_builder.assembly.synthetic import COMPETENCIES, synthetic_bank, write_bank
from exam_builder.bank import Kind, load_bank
from exam_builder.settings.policy import ProgramPolicy

BAR_SECONDS = 2.0
RUNS = 5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true",
                    help="a small run that proves the benchmark works (no figures to quote)")
    args = ap.parse_args()
    size, runs = (400, 1) if args.smoke else (1000, RUNS)
    policy = ProgramPolicy()
    bank, rubrics = synthetic_bank(size, 2024)
    bp = Blueprint(
        title="Benchmark exam", seed=7, forms=3, cut_score="70%", max_overlap=6, anchors=["it-0001"],
        points={Kind.true_false: 1, Kind.multiple_choice: 1, Kind.open_response: 6},
        counts={c: {Kind.true_false: 5, Kind.multiple_choice: 14, Kind.open_response: 1} for c in COMPETENCIES},
        difficulty_tolerance=0.01,
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "source" / "bench"
        write_bank(bank, rubrics, folder, Path(tmp) / "rubrics")
        baseline, work, total = [], [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            read = load_bank([folder])
            for item in read.items.values():
                item.content_hash()
            t1 = time.perf_counter()
            result = assemble("bench", bp, read, rubrics, policy)
            t2 = time.perf_counter()
            baseline.append(t1 - t0)
            work.append(t2 - t1)
            total.append(t2 - t0)
    items = sum(len(m.items) for m in result.manifests)
    b, w, t = statistics.median(baseline), statistics.median(work), statistics.median(total)
    print(f"{'smoke run (small, figures not to quote); ' if args.smoke else ''}bank: {len(bank.items)} items "
          f"({len(bank.live())} live); forms: {len(result.manifests)} x "
          f"{len(result.manifests[0].items)} items ({items} placed); expected-score spread {result.spread:.2%}")
    print(f"baseline (read the bank's notebooks and hash every item): {b:.3f} s")
    print(f"assemble 3 forms of 60 items:                             {w:.3f} s  ({w / b:.2f}x the baseline)")
    print(f"read + assemble:                                          {t:.3f} s")
    print(f"bar (a 1,000-item bank): assembling under {BAR_SECONDS:g} s: {'met' if w < BAR_SECONDS else 'NOT met'} "
          f"(with reading the bank: {'met' if t < BAR_SECONDS else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
