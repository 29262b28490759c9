"""The attempt ledger: forms never repeated, the cap, voids, outcomes, tutoring, history."""
from __future__ import annotations

import datetime as dt

import pytest
from records_kit import EXAM, ZONE, add_candidates, add_exam, add_past_sitting, policy, set_attendance
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from exam_builder import clock
from exam_builder.errors import ExamBuilderError
from exam_builder.records import accommodations, audit
from exam_builder.records.ledger import (
    NotEligible,
    history,
    open_sitting,
    record_outcome,
    record_tutoring,
    void_sitting,
)
from exam_builder.records.models import AuditEntry, Sitting, Tutoring

NO_WAIT = policy(waiting_period_days=0)


def _take(s, pol, cid, **kw):
    """Open the next attempt and fail it (so the next one may open)."""
    sitting = open_sitting(s, pol, cid, EXAM, "proctor", room="101", **kw, zone=ZONE)
    record_outcome(s, sitting.id, False, "grader", zone=ZONE)
    return sitting


def test_each_attempt_gets_a_form_not_sat_before_and_the_cap_holds(any_course):
    with any_course.db.transaction() as s:
        forms = add_exam(s, labels="ABCD")
        add_candidates(s, "ann")
        seen = [_take(s, NO_WAIT, "ann") for _ in range(3)]
        assert [x.attempt_no for x in seen] == [1, 2, 3]
        assert [x.seq for x in seen] == [1, 2, 3]
        assert len({x.form_id for x in seen}) == 3
        with pytest.raises(NotEligible) as exc:
            open_sitting(s, NO_WAIT, "ann", EXAM, "proctor", zone=ZONE)
        assert exc.value.reasons == ["no attempts left (3 of 3 used)"]
        assert set(forms.values()) >= {x.form_id for x in seen}


def test_a_voided_sitting_frees_the_attempt_but_its_form_stays_seen(any_course):
    with any_course.db.transaction() as s:
        forms = add_exam(s, labels="ABC")
        add_candidates(s, "bo")
        first = open_sitting(s, NO_WAIT, "bo", EXAM, "proctor", zone=ZONE)
        assert first.form_id == forms["A"]
        void_sitting(s, first.id, "proctor Ray", "fire alarm")
        assert first.attempt_no is None and first.status == "voided"
        second = open_sitting(s, NO_WAIT, "bo", EXAM, "proctor", zone=ZONE)
        assert (second.seq, second.attempt_no, second.form_id) == (2, 1, forms["B"])
        record_outcome(s, second.id, False, "grader", zone=ZONE)
        third = _take(s, NO_WAIT, "bo")
        assert (third.seq, third.attempt_no, third.form_id) == (3, 2, forms["C"])
        with pytest.raises(NotEligible, match=r"every form of cps already sat \(A, B, C\)"):
            open_sitting(s, NO_WAIT, "bo", EXAM, "proctor", zone=ZONE)


def test_form_choice_is_the_least_used_then_by_label(rcourse):
    with rcourse.db.transaction() as s:
        forms = add_exam(s, labels="CAB")
        add_candidates(s, "p1", "p2", "p3", "p4")
        got = [open_sitting(s, NO_WAIT, p, EXAM, "proctor", zone=ZONE).form_id for p in ("p1", "p2", "p3", "p4")]
    assert got == [forms["A"], forms["B"], forms["C"], forms["A"]]


def test_a_chosen_form_must_be_new_to_the_candidate(rcourse):
    with rcourse.db.transaction() as s:
        forms = add_exam(s, labels="AB")
        add_candidates(s, "cy")
        first = _take(s, NO_WAIT, "cy")
        with pytest.raises(ExamBuilderError, match="already sat form A"):
            open_sitting(s, NO_WAIT, "cy", EXAM, "proctor", form_id=first.form_id, zone=ZONE)
        assert open_sitting(s, NO_WAIT, "cy", EXAM, "proctor", form_id=forms["B"], zone=ZONE).form_id == forms["B"]


def test_no_forms_is_a_clear_error(rcourse):
    with rcourse.db.transaction() as s:
        add_candidates(s, "dee")
        with pytest.raises(ExamBuilderError, match="exam 'cps' has no forms yet"):
            open_sitting(s, NO_WAIT, "dee", EXAM, "proctor", zone=ZONE)


def test_not_eligible_by_attendance_opens_nothing(rcourse):
    with rcourse.db.transaction() as s:
        add_exam(s)
        add_candidates(s, "eve")
        set_attendance(s, "eve", {"1.1": "late", "2.2": "absent", "3.3": "late", "4.1": "absent"})
    with pytest.raises(NotEligible) as exc, rcourse.db.transaction() as s:
        open_sitting(s, rcourse.policy, "eve", EXAM, "proctor", zone=ZONE)
    assert exc.value.reasons == ["late or absent for 4 modules: 1.1, 2.2, 3.3, 4.1"]
    assert "eve may not sit cps" in str(exc.value)
    with rcourse.db.read() as s:
        assert s.execute(select(Sitting)).first() is None


def test_time_limit_uses_approved_extended_time_only(rcourse):
    with rcourse.db.transaction() as s:
        add_exam(s)
        add_candidates(s, "fay", "gus")
        acc = accommodations.request(s, rcourse.policy, "fay", "extended_time", "coordinator",
                                     letter_on_file=dt.date(2026, 1, 5), zone=ZONE)
        accommodations.request(s, rcourse.policy, "gus", "extended_time", "coordinator",
                               letter_on_file=dt.date(2026, 1, 5), zone=ZONE)  # requested, never approved
        accommodations.approve(s, acc.id, "coordinator Lee", zone=ZONE)
        fay = open_sitting(s, rcourse.policy, "fay", EXAM, "proctor", zone=ZONE)
        gus = open_sitting(s, rcourse.policy, "gus", EXAM, "proctor", zone=ZONE)
    assert (fay.time_limit_minutes, gus.time_limit_minutes) == (270, 180)


def test_the_waiting_period_is_enforced_when_opening(rcourse):
    with rcourse.db.transaction() as s:
        forms = add_exam(s)
        add_candidates(s, "hal")
        add_past_sitting(s, "hal", forms["A"], 1, 1, "fail", dt.date(2026, 11, 24))
        with pytest.raises(NotEligible, match="not before 2026-12-08"):
            open_sitting(s, rcourse.policy, "hal", EXAM, "proctor", today=dt.date(2026, 12, 1), zone=ZONE)
        sitting = open_sitting(s, rcourse.policy, "hal", EXAM, "proctor", today=dt.date(2026, 12, 8), zone=ZONE)
    assert sitting.attempt_no == 2


def test_void_needs_staff_and_a_reason_and_is_audited(rcourse):
    with rcourse.db.transaction() as s:
        add_exam(s)
        add_candidates(s, "ida")
        sitting = open_sitting(s, NO_WAIT, "ida", EXAM, "proctor", zone=ZONE)
        with pytest.raises(ExamBuilderError, match="say why"):
            void_sitting(s, sitting.id, "proctor", "  ")
        with pytest.raises(ExamBuilderError, match="only staff"):
            void_sitting(s, sitting.id, "ida", "I want another go")
        void_sitting(s, sitting.id, "proctor Ray", "power cut")
        with pytest.raises(ExamBuilderError, match="already voided"):
            void_sitting(s, sitting.id, "proctor Ray", "again")
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "sitting.void")).scalar_one()
    assert (entry.actor, entry.reason, entry.details["attempt_no"]) == ("proctor Ray", "power cut", 1)


def test_outcome_is_audited_and_a_fail_offers_tutoring(rcourse):
    with rcourse.db.transaction() as s:
        add_exam(s)
        add_candidates(s, "jo")
        sitting = open_sitting(s, NO_WAIT, "jo", EXAM, "proctor", zone=ZONE)
        record_outcome(s, sitting.id, False, "grading", reason="score 41 of 60, cut 45", zone=ZONE)
        record_outcome(s, sitting.id, False, "grading", zone=ZONE)  # the same again changes nothing
        tutoring = s.execute(select(Tutoring)).scalars().all()
        actions = [e.action for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]
        assert sitting.outcome == "fail" and sitting.outcome_at is not None
        assert len(tutoring) == 1 and tutoring[0].sitting_id == sitting.id and tutoring[0].attended_on is None
        assert actions == ["sitting.open", "sitting.outcome", "tutoring.offer"]
        record_outcome(s, sitting.id, True, "grading", reason="rescored after appeal", zone=ZONE)
        changed = s.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        assert (changed.details["was"], changed.details["outcome"]) == ("fail", "pass")
        assert audit.verify(s).ok


def test_outcome_of_a_voided_sitting_is_refused(rcourse):
    with rcourse.db.transaction() as s:
        add_exam(s)
        add_candidates(s, "kay")
        sitting = open_sitting(s, NO_WAIT, "kay", EXAM, "proctor", zone=ZONE)
        void_sitting(s, sitting.id, "proctor", "fire alarm")
        with pytest.raises(ExamBuilderError, match="was voided"):
            record_outcome(s, sitting.id, True, "grading", zone=ZONE)


def test_tutoring_needs_a_failed_attempt(rcourse):
    with rcourse.db.transaction() as s:
        add_exam(s)
        add_candidates(s, "lu")
        with pytest.raises(ExamBuilderError, match="no failed attempt"):
            record_tutoring(s, "lu", EXAM, actor="coordinator", zone=ZONE)


def test_history_shows_sittings_forms_outcomes_voids_and_tutoring(rcourse):
    with rcourse.db.transaction() as s:
        add_exam(s, labels="ABC")
        add_candidates(s, "max")
        a = open_sitting(s, NO_WAIT, "max", EXAM, "proctor", zone=ZONE)
        void_sitting(s, a.id, "proctor", "fire alarm")
        b = _take(s, NO_WAIT, "max")
        record_tutoring(s, "max", EXAM, attended_on=clock.today(ZONE), actor="tutor", zone=ZONE)
        c = open_sitting(s, NO_WAIT, "max", EXAM, "proctor", zone=ZONE)
        record_outcome(s, c.id, True, "grading", zone=ZONE)
    with rcourse.db.read() as s:
        rows = history(s, "max")
    assert [(r.seq, r.attempt_no, r.form, r.status, r.outcome) for r in rows] == [
        (1, None, "A", "voided", None), (2, 1, "B", "scheduled", "fail"), (3, 2, "C", "scheduled", "pass")]
    assert rows[0].void_reason == "fire alarm"
    assert rows[1].tutoring_offered_on is not None and rows[1].tutoring_attended_on == clock.today(ZONE)
    assert (b.id, c.id) == (rows[1].sitting_id, rows[2].sitting_id)


def test_the_unique_constraint_backs_the_cap(any_course):
    """Even a writer that skipped the ledger cannot record a second attempt 1."""
    with any_course.db.transaction() as s:
        forms = add_exam(s, labels="AB")
        add_candidates(s, "ned")
        add_past_sitting(s, "ned", forms["A"], 1, 1, None, dt.date(2026, 1, 1))
    with pytest.raises(IntegrityError), any_course.db.transaction() as s:
        add_past_sitting(s, "ned", forms["B"], 2, 1, None, dt.date(2026, 1, 2))
