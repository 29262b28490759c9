"""No-shows: a sitting whose window closes unstarted becomes absent (stored, audited), counted as
an attempt or not as the policy says; a proctor may mark absent early, with a reason."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from records_kit import EXAM, add_candidates, add_exam, policy

from exam_builder.errors import ExamBuilderError
from exam_builder.model.states import SittingStatus
from exam_builder.records import absence, audit
from exam_builder.records.eligibility import evaluate
from exam_builder.records.ledger import open_sitting, record_outcome
from exam_builder.records.models import AuditEntry, Sitting, SittingEvent

ZONE = ZoneInfo("America/New_York")
DAY = dt.date(2026, 12, 15)
OPENS, CLOSES = dt.datetime(2026, 12, 15, 14, 0), dt.datetime(2026, 12, 15, 17, 0)  # 9:00 to 12:00 in New York


def _scheduled(s, pol, cid: str, closes: dt.datetime | None = CLOSES, on: dt.date | None = DAY) -> Sitting:
    sit = open_sitting(s, pol, cid, EXAM, "coordinator-lee", room="101", today=DAY, zone=ZONE)
    sit.scheduled_on, sit.opens_at, sit.closes_at = on, OPENS if closes else None, closes
    s.flush()
    return sit


def test_the_pure_decision_at_the_window_close():
    sit = Sitting(status=SittingStatus.scheduled, scheduled_on=DAY, opens_at=OPENS, closes_at=CLOSES)
    assert not absence.is_no_show(sit, CLOSES - dt.timedelta(seconds=1), ZONE)
    assert absence.is_no_show(sit, CLOSES, ZONE)
    sit.started_at = OPENS  # started: the clock decides, never absent
    assert not absence.is_no_show(sit, CLOSES + dt.timedelta(days=1), ZONE)
    # no closing time: the end of its date in the room's zone (midnight in New York is 05:00 UTC)
    day_only = Sitting(status=SittingStatus.scheduled, scheduled_on=DAY)
    assert absence.closed_at(day_only, ZONE) == dt.datetime(2026, 12, 16, 5, 0)
    assert not absence.is_no_show(day_only, dt.datetime(2026, 12, 16, 4, 59), ZONE)
    assert absence.is_no_show(day_only, dt.datetime(2026, 12, 16, 5, 0), ZONE)
    assert not absence.is_no_show(Sitting(status=SittingStatus.scheduled), dt.datetime(2030, 1, 1), ZONE)  # no window
    for status in (SittingStatus.in_progress, SittingStatus.submitted, SittingStatus.voided):
        assert not absence.is_no_show(Sitting(status=status, closes_at=CLOSES), CLOSES, ZONE)


def test_a_no_show_becomes_absent_at_the_window_close_stored_and_audited(any_course):
    pol = policy()
    with any_course.db.transaction() as s:
        add_exam(s)
        add_candidates(s, "ann")
        sid = _scheduled(s, pol, "ann").id
        [e] = evaluate(s, pol, EXAM, ["ann"], today=DAY, zone=ZONE)
        assert e.reasons == ["attempt 1 has no result yet (scheduled)"]  # before the close: waiting
        assert absence.settle(s, pol, ZONE, CLOSES - dt.timedelta(minutes=1)) == []
    with any_course.db.transaction() as s:
        assert [x.id for x in absence.settle(s, pol, ZONE, CLOSES)] == [sid]
        assert absence.settle(s, pol, ZONE, CLOSES + dt.timedelta(hours=1)) == []  # once
    with any_course.db.read() as s:
        sit = s.get(Sitting, sid)
        assert sit.status == SittingStatus.absent and sit.attempt_no is None  # CPS: not an attempt
        [entry] = [a for a in s.query(AuditEntry).all() if a.action == "sitting.absent"]
        assert entry.actor == "exam-builder"
        assert entry.reason == ("the sign-in window closed at 2026-12-15 12:00 EST and the candidate never started")
        [event] = [ev for ev in s.query(SittingEvent).filter_by(sitting_id=sid).all() if ev.kind == "absent"]
        assert event.details["by"] == "exam-builder"
        assert audit.verify(s).ok
        [e] = evaluate(s, pol, EXAM, ["ann"], today=DAY, zone=ZONE)
        assert e.eligible and e.attempts_used == 0 and e.attempts_left == 3


@pytest.mark.parametrize("counts", [False, True])
def test_the_policy_decides_whether_absent_is_an_attempt(rcourse, counts):
    pol = policy(absent_counts_as_attempt=counts)
    with rcourse.db.transaction() as s:
        add_exam(s)
        add_candidates(s, "bo")
        first = _scheduled(s, pol, "bo")
        absence.settle(s, pol, ZONE, CLOSES)
        assert first.status == SittingStatus.absent and first.attempt_no == (1 if counts else None)
        [e] = evaluate(s, pol, EXAM, ["bo"], today=DAY, zone=ZONE)
        assert e.eligible, e.reasons  # never "a result still pending"
        assert (e.attempts_used, e.attempts_left) == ((1, 2) if counts else (0, 3))
        second = open_sitting(s, pol, "bo", EXAM, "coordinator-lee", room="101", today=DAY, zone=ZONE)
        assert second.attempt_no == (2 if counts else 1)
        with pytest.raises(ExamBuilderError, match="absent .* has no outcome"):
            record_outcome(s, first.id, True, "grading", zone=ZONE)


def test_absent_counting_as_attempts_uses_them_up(rcourse):
    pol = policy(absent_counts_as_attempt=True, max_attempts=2)
    with rcourse.db.transaction() as s:
        add_exam(s)
        add_candidates(s, "cy")
        for _ in range(2):
            _scheduled(s, pol, "cy")
            absence.settle(s, pol, ZONE, CLOSES)
        [e] = evaluate(s, pol, EXAM, ["cy"], today=DAY, zone=ZONE)
        assert e.reasons == ["no attempts left (2 of 2 used)"]


def test_open_sitting_settles_a_closed_no_show_first(rcourse):
    """`sitting open` on a later day: yesterday's no-show does not block as "pending"."""
    pol = policy()
    with rcourse.db.transaction() as s:
        add_exam(s)
        add_candidates(s, "di")
        old = _scheduled(s, pol, "di")
        with pytest.raises(ExamBuilderError, match="attempt 1 has no result yet"):
            open_sitting(s, pol, "di", EXAM, "coordinator-lee", room="101", today=DAY, zone=ZONE,
                         now=CLOSES - dt.timedelta(hours=1))  # before the window closed: not settled
        new = open_sitting(s, pol, "di", EXAM, "coordinator-lee", room="101", today=DAY + dt.timedelta(days=1),
                           zone=ZONE, now=CLOSES + dt.timedelta(days=1))
        assert old.status == SittingStatus.absent and new.attempt_no == 1


def test_a_proctor_marks_absent_early_with_a_reason(any_course):
    pol = policy()
    with any_course.db.transaction() as s:
        add_exam(s)
        add_candidates(s, "eve", "fay")
        sid = _scheduled(s, pol, "eve").id
        started = _scheduled(s, pol, "fay")
        started.status, started.started_at = SittingStatus.in_progress, OPENS
        fid = started.id
    for reason, actor, msg in [("", "proctor-kim", "say why"), ("  ", "proctor-kim", "say why"),
                               ("called in sick", "", "say who"), ("called in sick", "eve", "is a candidate"),
                               ("called in sick", "exam-builder", "say who you are")]:
        with pytest.raises(ExamBuilderError, match=msg):
            with any_course.db.transaction() as s:
                absence.mark_absent(s, pol, sid, actor, reason, now=OPENS)
    with pytest.raises(ExamBuilderError, match="in progress: the candidate has started"):
        with any_course.db.transaction() as s:
            absence.mark_absent(s, pol, fid, "proctor-kim", "not here", now=OPENS)
    with any_course.db.transaction() as s:
        absence.mark_absent(s, pol, sid, "proctor-kim", "called in sick", now=OPENS)
    with pytest.raises(ExamBuilderError, match="already absent"):
        with any_course.db.transaction() as s:
            absence.mark_absent(s, pol, sid, "proctor-kim", "called in sick", now=OPENS)
    with any_course.db.read() as s:
        assert s.get(Sitting, sid).status == SittingStatus.absent
        assert s.get(Sitting, fid).status == SittingStatus.in_progress
        entries = [(a.actor, a.action, a.reason, a.details.get("early")) for a in s.query(AuditEntry).all()
                   if a.action == "sitting.absent"]
        assert entries == [("proctor-kim", "sitting.absent", "called in sick", True)]
        # a proctor's absence is not one the window made: reopening the sign-in does not bring it back
        assert not absence.absent_by_window(s, s.get(Sitting, sid))


def test_a_hub_signed_app_settles_no_shows_as_exam_builder_noticed_by_its_user(rcourse):
    """The window's close is exam-builder's decision even in an app where only the hub user may act;
    the entry says who noticed it, and a person still acts only as themself."""
    from exam_builder.records import identity

    pol = policy()
    with rcourse.db.transaction() as s:
        add_exam(s)
        add_candidates(s, "gus", "hal")
        sid = _scheduled(s, pol, "gus").id
        other = _scheduled(s, pol, "hal").id
    identity.reset()
    identity.from_hub("cora", ["coordinators"])
    try:
        with rcourse.db.transaction() as s:
            absence.settle(s, pol, ZONE, CLOSES, candidate_ids=["gus"])
        with pytest.raises(ExamBuilderError, match="signed in as cora"):
            with rcourse.db.transaction() as s:
                absence.mark_absent(s, pol, other, "kim", "not coming", now=OPENS)
    finally:
        identity.reset()
    with rcourse.db.read() as s:
        [entry] = [a for a in s.query(AuditEntry).all() if a.action == "sitting.absent"]
        assert (entry.actor, entry.entity_id, entry.details["noticed_by"]) == ("exam-builder", str(sid), "cora")
        assert s.get(Sitting, other).status == SittingStatus.scheduled
