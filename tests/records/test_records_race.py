"""Two real processes start an attempt for the same candidate at the same moment, many times:
exactly one opens, the other is refused with the reason, and the cap always holds."""
from __future__ import annotations

import datetime as dt
import multiprocessing as mp

import pytest
import records_race_worker
from records_kit import EXAM, add_candidates, add_exam, add_past_sitting
from sqlalchemy import func, select

from exam_builder.records.models import Sitting

ROUNDS = 30  # per database; each round is two rounds of racing (first attempt, last attempt)


def _race(course, rounds: int = ROUNDS) -> None:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    queues = [ctx.Queue(), ctx.Queue()]
    workers = [ctx.Process(target=records_race_worker.serve,
                           args=(str(course.root), course.db_url, barrier, q, results), daemon=True)
               for q in queues]
    for w in workers:
        w.start()
    try:
        assert [results.get(timeout=120)[0] for _ in workers] == ["ready", "ready"]
        with course.db.transaction() as s:
            forms = add_exam(s, labels="ABCDE")
            ids = [f"race{n:02d}" for n in range(rounds)]
            add_candidates(s, *ids)
            # half of them have used 2 of their 3 attempts (failed): the race is for the last one
            for cid in ids[::2]:
                add_past_sitting(s, cid, forms["A"], 1, 1, "fail", dt.date(2026, 1, 5))
                add_past_sitting(s, cid, forms["B"], 2, 2, "fail", dt.date(2026, 2, 5))
        for cid in ids:
            for q in queues:
                q.put(cid)
            got = sorted((results.get(timeout=120) for _ in workers), key=lambda r: r[0])
            kinds = [g[0] for g in got]
            assert kinds == ["opened", "refused"], got  # never two, never a crash or a constraint error
            used_before = 2 if ids.index(cid) % 2 == 0 else 0
            assert got[0][2] == used_before + 1
            reasons = got[1][2]
            assert f"attempt {used_before + 1} has no result yet (scheduled)" in reasons or \
                "no attempts left (3 of 3 used)" in reasons, reasons
        with course.db.read() as s:
            counted = dict(s.execute(
                select(Sitting.candidate_id, func.count(Sitting.id))
                .where(Sitting.exam_id == EXAM, Sitting.attempt_no.is_not(None))
                .group_by(Sitting.candidate_id)).all())
        assert max(counted.values()) <= 3
        assert counted == {cid: (3 if n % 2 == 0 else 1) for n, cid in enumerate(ids)}
    finally:
        for q in queues:
            q.put(None)
        for w in workers:
            w.join(timeout=30)
            if w.is_alive():
                w.kill()


def test_concurrent_start_sqlite(rcourse):
    _race(rcourse)


@pytest.mark.postgres
def test_concurrent_start_postgres(pg_course):
    _race(pg_course)
