"""50 candidates answering at once: is every answer durable within 1 s, and is nothing lost?

Each candidate is a thread with its own ``CandidateSession`` and its own database connection
(the code path the exam app's widgets take; in production each candidate has a kernel of their
own). Every ``answer`` returns after its transaction committed, so the time it takes is the
time for the answer to become durable. Afterwards every candidate's answers are read back
from a fresh connection and compared with the last value each sent. The baseline is one
candidate alone, measured in the same run; the ratio is p99(50 at once) / p99(alone).

    python benchmarks/delivery_load.py [--candidates 50] [--answers 40] [--db-url URL] [--smoke]

``--smoke``: 4 candidates x 5 answers, quick pauses (tests/test_benchmarks.py: it works, figures not to quote).
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "delivery"))  # the small hand-built form of the delivery tests

import delivery_formkit as formkit  # noqa: E402

from exam_builder.course import Course  # noqa: E402
from exam_builder.delivery.session import CandidateSession  # noqa: E402
from exam_builder.records.models import Candidate  # noqa: E402


def make_course(where: Path, n: int, db_url: str | None) -> tuple[Course, int, list[tuple[str, str]]]:
    where.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", where / "nbgrader_config.py")
    with open(where / "nbgrader_config.py", "a") as fh:  # scripted candidates answer far faster than people
        fh.write("\nc.DeliverySettings.max_saves_per_minute = 100_000\n")
    (where / "source").mkdir()
    course = Course(where, db_url=db_url)
    course.db.upgrade()
    form_id = formkit.build_form(course)
    people = [(f"load{i:03d}", f"LOAD-{i:04d}") for i in range(n + 1)]
    with course.db.transaction() as s:
        for cid, _ in people:
            s.add(Candidate(id=cid, first_name="Load", last_name=cid))
    for cid, code in people:
        formkit.add_sitting(course, cid, code, form_id)
    return course, form_id, people


def candidate(course_root: Path, db_url: str | None, code: str, answers: int, think: float, seed: int,
              start: threading.Barrier,
              latencies: list[float], sent: dict, errors: list) -> None:
    try:
        course = Course(course_root, db_url=db_url)
        rng = random.Random(seed)
        cs = CandidateSession(course).sign_in(code)
        cs.confirm_identity()
        cs.start()
        last: dict[str, str] = {}
        start.wait()
        for k in range(answers):
            it = rng.choice(cs.form.items)
            value = rng.choice(it.labels) if it.labels else f"answer {k} " + "words " * rng.randint(5, 80)
            t = time.perf_counter()
            cs.answer(it.item_id, value)
            latencies.append(time.perf_counter() - t)
            last[it.item_id] = value
            time.sleep(rng.uniform(0, think))  # far faster than a person reads a question
        sent[cs.sitting_id] = last
        course.db.dispose()
    except Exception as exc:  # noqa: BLE001 (reported below)
        errors.append(repr(exc))


def run(course: Course, db_url: str | None, people: list[tuple[str, str]], answers: int,
        think: float) -> tuple[list[float], dict, list]:
    latencies: list[float] = []
    sent: dict = {}
    errors: list = []
    start = threading.Barrier(len(people))
    threads = [threading.Thread(target=candidate,
                                args=(course.root, db_url, code, answers, think, i, start, latencies, sent,
                                                       errors))
               for i, (_cid, code) in enumerate(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, sent, errors


def p99(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=100)[98] if len(xs) >= 100 else max(xs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--candidates", type=int, default=50)
    ap.add_argument("--answers", type=int, default=40, help="answers (and changes) per candidate")
    ap.add_argument("--think", type=float, default=0.5,
                    help="longest pause between two answers of a candidate, seconds (a person takes 30 s or more)")
    ap.add_argument("--db-url", default=None, help="a PostgreSQL URL (default: SQLite in a temporary course)")
    ap.add_argument("--smoke", action="store_true",
                    help="a small run that proves the benchmark works (no figures to quote)")
    args = ap.parse_args()
    if args.smoke:
        args.candidates, args.answers, args.think = 4, 5, 0.05
        print("smoke run (small, figures not to quote)")
    tmp = Path(tempfile.mkdtemp(prefix="eb-delivery-load-"))
    try:
        course, _form, people = make_course(tmp / "course", args.candidates, args.db_url)
        base, base_sent, base_err = run(course, args.db_url, people[:1], args.answers * 3, args.think)
        t0 = time.perf_counter()
        lat, sent, errors = run(course, args.db_url, people[1:], args.answers, args.think)
        elapsed = time.perf_counter() - t0
        if errors or base_err:
            print("errors:", (base_err + errors)[:5])
            return 1
        lost = 0
        check = CandidateSession(Course(course.root, db_url=args.db_url))
        for sitting_id, last in {**base_sent, **sent}.items():
            check.sitting_id = sitting_id
            stored = {k: a.value for k, a in check.reload().items()}
            lost += sum(1 for k, v in last.items() if stored.get(k) != v)
        total = len(lat) + len(base)
        print(f"database: {course.db.safe_url.split(':')[0]}; {args.candidates} candidates x {args.answers} answers "
              f"at once ({len(lat)} answers, {len(lat) / elapsed:.0f} per second), baseline 1 candidate x {len(base)}")
        print(f"lost answers: {lost} of {total} (every last answer read back from the database)")
        print(f"durable within: p50 {statistics.median(lat) * 1000:.1f} ms, p99 {p99(lat) * 1000:.1f} ms, "
              f"max {max(lat) * 1000:.1f} ms (bar: p99 under 1000 ms)")
        print(f"baseline alone: p50 {statistics.median(base) * 1000:.1f} ms, p99 {p99(base) * 1000:.1f} ms")
        print(f"ratio p99 at once / p99 alone: {p99(lat) / p99(base):.1f}x")
        ok = lost == 0 and p99(lat) < 1.0
        print("bar met" if ok else "BAR NOT MET")
        return 0 if lost == 0 else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
