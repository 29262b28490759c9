"""Run every benchmark in this folder, one after another, and show what each printed.

Each benchmark measures its own baseline in the same run and prints a ratio against it, so
results compare across machines; none of them is a test and none asserts a time. A benchmark
fails (exit 1) only when its run is incomplete or wrong (an answer lost, points that differ).

    python benchmarks/run_all.py [--smoke]   # --smoke: each at a small size (what tests/test_benchmarks.py runs)
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def scripts() -> list[Path]:
    """Every benchmark: each script of this folder but this one and private ``_*.py`` helpers."""
    return [p for p in sorted(HERE.glob("*.py")) if p.name != Path(__file__).name and not p.name.startswith("_")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="run each benchmark at a small size (figures not to quote)")
    args = ap.parse_args()
    failed = []
    for script in scripts():
        print(f"== {script.name}", flush=True)
        started = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script), *(["--smoke"] if args.smoke else [])], cwd=HERE.parent)
        print(f"== {script.name}: exit {rc}, {time.perf_counter() - started:.0f} s", flush=True)
        if rc:
            failed.append(script.name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
