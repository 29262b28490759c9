"""Eligibility at the edges: attendance, attempts, waiting period, tutoring, voids."""
from __future__ import annotations

import datetime as dt

import pytest
from records_kit import EXAM, ZONE, add_candidates, add_exam, add_past_sitting, policy, set_attendance

from exam_builder.errors import ExamBuilderError
from exam_builder.records.eligibility import evaluate
from exam_builder.records.ledger import record_tutoring, void_sitting

TODAY = dt.date(2026, 12, 1)


def _one(s, pol, cid, today=TODAY):
    [e] = evaluate(s, pol, EXAM, [cid], today=today, zone=ZONE)
    return e


def test_three_late_or_absent_modules_is_still_eligible(rcourse):
    with rcourse.db.transaction() as s:
        add_candidates(s, "ann")
        set_attendance(s, "ann", {"2.1": "late", "3.3": "absent", "5.2": "late"})
        e = _one(s, rcourse.policy, "ann")
    assert e.eligible and e.reasons == []
    assert e.late_or_absent == ["2.1", "3.3", "5.2"]


@pytest.mark.parametrize("marks", [
    {"2.1": "late", "3.3": "absent", "5.2": "late", "6.1": "absent"},  # mixed
    {"2.1": "late", "3.3": "late", "5.2": "late", "6.1": "late"},  # all late
    {"2.1": "absent", "3.3": "absent", "5.2": "absent", "6.1": "absent"},  # all absent
])
def test_four_late_or_absent_modules_disqualify_with_every_module_named(rcourse, marks):
    with rcourse.db.transaction() as s:
        add_candidates(s, "bo")
        set_attendance(s, "bo", marks)
        e = _one(s, rcourse.policy, "bo")
    assert not e.eligible
    assert e.reasons == ["late or absent for 4 modules: 2.1, 3.3, 5.2, 6.1"]
    assert e.next_allowed_on is None


def test_the_threshold_is_the_policy_setting(rcourse):
    marks = {"1.1": "late", "1.2": "absent", "4.3": "late", "6.3": "absent"}
    with rcourse.db.transaction() as s:
        add_candidates(s, "cy")
        set_attendance(s, "cy", marks)
        assert not _one(s, rcourse.policy, "cy").eligible
        assert _one(s, policy(disqualify_late_or_absent=5), "cy").eligible


def test_everyone_is_listed_in_id_order(rcourse):
    with rcourse.db.transaction() as s:
        add_candidates(s, "zed", "amy", "kim")
        set_attendance(s, "kim", {"1.1": "absent", "1.2": "absent", "1.3": "absent", "2.1": "absent"})
        rows = evaluate(s, rcourse.policy, EXAM, today=TODAY, zone=ZONE)
    assert [(r.candidate_id, r.eligible) for r in rows] == [("amy", True), ("kim", False), ("zed", True)]


def test_unknown_candidate_is_an_error(rcourse):
    with rcourse.db.read() as s, pytest.raises(ExamBuilderError, match="no candidate 'ghost'"):
        evaluate(s, rcourse.policy, EXAM, ["ghost"], zone=ZONE)


def test_attempts_used_up(rcourse):
    with rcourse.db.transaction() as s:
        forms = add_exam(s)
        add_candidates(s, "dee")
        for n, label in enumerate("ABC", start=1):
            add_past_sitting(s, "dee", forms[label], n, n, "fail", dt.date(2026, 1, n))
        e = _one(s, rcourse.policy, "dee")
    assert not e.eligible
    assert e.reasons == ["no attempts left (3 of 3 used)"]
    assert (e.attempts_used, e.attempts_left) == (3, 0)


def test_voided_sittings_do_not_count(rcourse):
    with rcourse.db.transaction() as s:
        forms = add_exam(s)
        add_candidates(s, "eve")
        add_past_sitting(s, "eve", forms["A"], 1, 1, "fail", dt.date(2026, 1, 1))
        add_past_sitting(s, "eve", forms["B"], 2, 2, "fail", dt.date(2026, 2, 1))
        third = add_past_sitting(s, "eve", forms["C"], 3, 3, None, dt.date(2026, 3, 1), status="in_progress")
        assert not _one(s, rcourse.policy, "eve").eligible  # attempt 3 is under way
        void_sitting(s, third.id, "proctor Ray", "fire alarm: building evacuated")
        e = _one(s, rcourse.policy, "eve")
    assert e.eligible, e.reasons
    assert (e.attempts_used, e.attempts_left) == (2, 1)


def test_waiting_period_after_a_failed_attempt(rcourse):
    with rcourse.db.transaction() as s:
        forms = add_exam(s)
        add_candidates(s, "fay")
        add_past_sitting(s, "fay", forms["A"], 1, 1, "fail", dt.date(2026, 11, 24))
        e = _one(s, rcourse.policy, "fay", today=dt.date(2026, 12, 7))
        assert not e.eligible
        assert e.reasons == ["waiting period after a failed attempt: not before 2026-12-08"]
        assert e.next_allowed_on == dt.date(2026, 12, 8)
        assert _one(s, rcourse.policy, "fay", today=dt.date(2026, 12, 8)).eligible
        assert _one(s, policy(waiting_period_days=0), "fay", today=dt.date(2026, 11, 24)).eligible


def test_tutoring_required_before_the_next_attempt(rcourse):
    required = policy(tutoring_after_failure="required")
    with rcourse.db.transaction() as s:
        forms = add_exam(s)
        add_candidates(s, "gus")
        add_past_sitting(s, "gus", forms["A"], 1, 1, "fail", dt.date(2026, 10, 1))
        assert _one(s, rcourse.policy, "gus").eligible  # "offered" (the CPS default) does not block
        e = _one(s, required, "gus")
        assert e.reasons == ["tutoring required before the next attempt"]
        record_tutoring(s, "gus", EXAM, offered_on=dt.date(2026, 10, 5), actor="coordinator", zone=ZONE)
        assert not _one(s, required, "gus").eligible  # offered, not yet attended
        record_tutoring(s, "gus", EXAM, attended_on=dt.date(2026, 10, 20), actor="coordinator", zone=ZONE)
        assert _one(s, required, "gus").eligible


def test_every_reason_at_once(rcourse):
    required = policy(tutoring_after_failure="required")
    with rcourse.db.transaction() as s:
        forms = add_exam(s)
        add_candidates(s, "hal")
        set_attendance(s, "hal", {"2.1": "late", "3.3": "absent", "5.2": "late", "6.1": "absent"})
        add_past_sitting(s, "hal", forms["A"], 1, 1, "fail", dt.date(2026, 11, 30))
        e = _one(s, required, "hal")
    assert e.reasons == [
        "late or absent for 4 modules: 2.1, 3.3, 5.2, 6.1",
        "waiting period after a failed attempt: not before 2026-12-14",
        "tutoring required before the next attempt",
    ]


def test_a_pass_ends_the_attempts(rcourse):
    with rcourse.db.transaction() as s:
        forms = add_exam(s)
        add_candidates(s, "ida")
        add_past_sitting(s, "ida", forms["A"], 1, 1, "pass", dt.date(2026, 5, 1))
        e = _one(s, rcourse.policy, "ida")
    assert e.reasons == ["already passed (attempt 1 on 2026-05-01)"]
