"""Wrong access codes and lockouts in the database (SQLite and PostgreSQL), attempt rules that
leave out the sitting being started, and the journal count the limits use."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from records_kit import EXAM, ZONE, add_candidates, add_exam, add_past_sitting, policy
from sqlalchemy import func, select

from exam_builder.errors import ExamBuilderError
from exam_builder.records import access, audit
from exam_builder.records.db import Database
from exam_builder.records.eligibility import evaluate
from exam_builder.records.models import AuditEntry, Lockout, Response, WrongCode

T0 = dt.datetime(2026, 12, 15, 14, 0)
LIMITS = access.Limits(per_source=3, window_minutes=15, lockout_minutes=30, per_minute=5)


def _wrong(course, source: str, at: dt.datetime) -> Lockout | None:
    with course.db.transaction() as s:
        return access.record_wrong_code(s, source, at, LIMITS)


def _gate(course, source: str, at: dt.datetime) -> str | None:
    with course.db.transaction() as s:
        return access.gate(s, source, at, LIMITS)


def test_a_source_is_locked_after_too_many_wrong_codes_in_the_window(any_course):
    c = any_course
    assert _wrong(c, "10.0.0.1", T0) is None
    assert _wrong(c, "10.0.0.1", T0 + dt.timedelta(minutes=16)) is None  # the first fell out of the window
    assert _wrong(c, "10.0.0.2", T0 + dt.timedelta(minutes=16)) is None  # another source counts apart
    assert _wrong(c, "10.0.0.1", T0 + dt.timedelta(minutes=17)) is None
    lock = _wrong(c, "10.0.0.1", T0 + dt.timedelta(minutes=18))
    assert lock is not None and lock.wrong_codes == 3 and lock.until == T0 + dt.timedelta(minutes=48)
    assert _gate(c, "10.0.0.1", T0 + dt.timedelta(minutes=47)) == "locked"
    assert _gate(c, "10.0.0.2", T0 + dt.timedelta(minutes=47)) is None
    assert _gate(c, "10.0.0.1", T0 + dt.timedelta(minutes=48)) is None  # it ended by itself
    with c.db.read() as s:
        assert s.execute(select(WrongCode.source)).scalars().all().count("10.0.0.1") == 4
        assert [x.source for x in access.current_lockouts(s, T0 + dt.timedelta(minutes=20))] == ["10.0.0.1"]


def test_the_proctor_lifts_a_lockout_with_who_and_why(any_course):
    c = any_course
    for n in range(3):
        _wrong(c, "lab-3", T0 + dt.timedelta(seconds=n))
    with c.db.transaction() as s:
        with pytest.raises(ExamBuilderError, match="not locked out"):
            access.lift(s, "lab-4", "proctor-kim", "x", T0 + dt.timedelta(minutes=1))
        access.lift(s, "lab-3", "proctor-kim", "typed O for 0", T0 + dt.timedelta(minutes=1))
    assert _gate(c, "lab-3", T0 + dt.timedelta(minutes=2)) is None
    # earlier wrong codes no longer count: it takes three new ones to lock it again
    assert _wrong(c, "lab-3", T0 + dt.timedelta(minutes=2)) is None
    assert _wrong(c, "lab-3", T0 + dt.timedelta(minutes=3)) is None
    assert _wrong(c, "lab-3", T0 + dt.timedelta(minutes=4)) is not None
    with c.db.read() as s:
        [entry] = s.execute(select(AuditEntry)).scalars().all()
        assert (entry.actor, entry.action, entry.entity, entry.entity_id, entry.reason) == (
            "proctor-kim", "sign_in.unlock", "source", "lab-3", "typed O for 0")
        assert audit.verify(s).ok
        lifted = s.execute(select(Lockout).where(Lockout.lifted_at.is_not(None))).scalar_one()
        assert (lifted.lifted_by, lifted.lift_reason) == ("proctor-kim", "typed O for 0")


def test_a_flood_from_every_source_closes_the_gate_for_the_minute(any_course):
    c = any_course
    for n in range(6):  # six sources, one wrong code each: none is locked
        _wrong(c, f"s{n}", T0 + dt.timedelta(seconds=n))
    assert _gate(c, "fresh", T0 + dt.timedelta(seconds=30)) == "busy"
    assert _gate(c, "fresh", T0 + dt.timedelta(seconds=61)) is None  # the first fell out of the minute


def test_wrong_codes_from_many_connections_at_once_lock_exactly_once(any_course):
    """Four connections (as four server processes) record wrong codes of one source at the same moment."""
    c = any_course
    start = threading.Barrier(4)
    errors: list[str] = []

    def guesser(n: int) -> None:
        db = Database(c.db_url)
        try:
            start.wait()
            for k in range(3):
                with db.transaction() as s:
                    access.record_wrong_code(s, "10.9.9.9", T0 + dt.timedelta(milliseconds=n * 10 + k), LIMITS)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))
        finally:
            db.dispose()

    threads = [threading.Thread(target=guesser, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with c.db.read() as s:
        assert s.execute(select(func.count()).select_from(WrongCode)).scalar_one() == 12
        [lock] = s.execute(select(Lockout)).scalars().all()
        assert lock.wrong_codes == 3  # decided once, at the third code, whoever sent it


def test_eligibility_can_leave_out_the_sitting_being_started(any_course):
    c = any_course
    with c.db.transaction() as s:
        forms = add_exam(s)
        add_candidates(s, "ana")
        failed = add_past_sitting(s, "ana", forms["A"], 1, 1, "fail", dt.date(2026, 12, 10))
        opened = add_past_sitting(s, "ana", forms["B"], 2, 2, None, dt.date(2026, 12, 14), status="scheduled")
    with c.db.read() as s:
        [with_it] = evaluate(s, policy(), EXAM, ["ana"], today=dt.date(2026, 12, 15), zone=ZONE)
        [without] = evaluate(s, policy(), EXAM, ["ana"], today=dt.date(2026, 12, 15), ignore_sittings=[opened.id],
                             zone=ZONE)
        [later] = evaluate(s, policy(), EXAM, ["ana"], today=dt.date(2026, 12, 24), ignore_sittings=[opened.id],
                           zone=ZONE)
    assert "attempt 2 has no result yet (scheduled)" in with_it.reasons
    assert without.reasons == ["waiting period after a failed attempt: not before 2026-12-24"]
    assert later.eligible and later.attempts_used == 1 and failed.id != opened.id


def test_the_journal_count_of_the_limits(any_course):
    from exam_builder.delivery.session import journal_counts

    c = any_course
    with c.db.transaction() as s:
        forms = add_exam(s)
        add_candidates(s, "bo")
        sit = add_past_sitting(s, "bo", forms["A"], 1, 1, None, dt.date(2026, 12, 15), status="in_progress")
        other = add_past_sitting(s, "bo", forms["B"], 2, 2, None, dt.date(2026, 12, 15), status="in_progress")
        for n in range(7):
            s.add(Response(sitting_id=sit.id, item_id="tf-a", value="A", recorded_at=T0 + dt.timedelta(seconds=20 * n)))
        s.add(Response(sitting_id=other.id, item_id="tf-b", value="A", recorded_at=T0))
    with c.db.read() as s:
        assert journal_counts(s, sit.id, T0 + dt.timedelta(seconds=60)) == (7, 3)  # at 80, 100, 120 s
        assert journal_counts(s, other.id, T0 - dt.timedelta(seconds=1)) == (1, 1)
