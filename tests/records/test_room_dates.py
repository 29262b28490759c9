"""Dates are the room's: a thing done on Sunday evening in Boston (after 19:00 EST, already Monday in UTC)
is dated Sunday everywhere a person reads a date or a rule counts days (``clock.date_of``, ``clock.today``).

Each path that derives a date from a stored time or from "now" is held here at 22:30 EST on
Sunday 6 December 2026 (03:30 UTC on Monday 7 December): the waiting period and the retake day,
tutoring offered after a fail, accommodation dates, an item review's date, the program report's
day counts, and the commands that print them.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from click.testing import CliRunner
from records_kit import EXAM, ZONE, add_candidates, add_exam, policy

from exam_builder import clock
from exam_builder.cli import cli
from exam_builder.errors import ExamBuilderError
from exam_builder.model.review import Decision
from exam_builder.model.states import ReviewDecision
from exam_builder.records import accommodations
from exam_builder.records.eligibility import evaluate, retake_on, sitting_date
from exam_builder.records.ledger import record_outcome
from exam_builder.records.models import Accommodation, Candidate, Sitting, Tutoring

EVENING = dt.datetime(2026, 12, 7, 3, 30)  # naive UTC, as stored: 22:30 EST on Sunday 6 December
SUNDAY = dt.date(2026, 12, 6)  # the room's date then
ROSTER = "candidate id,first name,last name,email,cohort\nc1,Ada,Ashgrove,ada@example.org,s26\n"


@pytest.fixture
def evening(monkeypatch):
    """The clock at 22:30 in Boston on Sunday evening (``clock.utcnow``: the one time source "today" reads)."""
    monkeypatch.setattr(clock, "utcnow", lambda: EVENING)
    return EVENING


def _sat_in_the_evening(s, cid: str, form_id: int, attempt_no: int = 1) -> Sitting:
    """An attempt started at 20:30 and submitted at 22:30 in Boston (01:30 and 03:30 UTC the next day)."""
    sitting = Sitting(candidate_id=cid, exam_id=EXAM, seq=attempt_no, attempt_no=attempt_no, form_id=form_id,
                      status="submitted", time_limit_minutes=180, extra_minutes=0,
                      opened_at=EVENING - dt.timedelta(hours=3), started_at=EVENING - dt.timedelta(hours=2),
                      submitted_at=EVENING)
    s.add(sitting)
    s.flush()
    return sitting


def test_the_rooms_date_of_a_stored_time_and_today(evening):
    assert clock.date_of(EVENING, "America/New_York") == SUNDAY
    assert clock.date_of(EVENING, ZONE) == SUNDAY
    assert clock.today(ZONE) == SUNDAY
    assert clock.today("UTC") == dt.date(2026, 12, 7)
    assert clock.today(ZONE, dt.datetime(2026, 12, 7, 5, 0)) == dt.date(2026, 12, 7)  # midnight EST: Monday
    assert clock.date_of(dt.datetime(2026, 12, 6, 20, 0), "Asia/Kolkata") == dt.date(2026, 12, 7)  # ahead of UTC


def test_the_waiting_period_counts_from_the_rooms_date_of_the_attempt(rcourse):
    """Failed on Sunday evening: 14 days' wait means another attempt from Sunday 20 December, not the 21st."""
    pol = policy(waiting_period_days=14)
    with rcourse.db.transaction() as s:
        forms = add_exam(s)
        add_candidates(s, "ann")
        sitting = _sat_in_the_evening(s, "ann", forms["A"])
        sitting.outcome = "fail"
        assert sitting_date(sitting, ZONE) == SUNDAY
        assert retake_on(sitting, pol, ZONE) == dt.date(2026, 12, 20)
        [before] = evaluate(s, pol, EXAM, ["ann"], today=dt.date(2026, 12, 19), zone=ZONE)
        [on_the_day] = evaluate(s, pol, EXAM, ["ann"], today=dt.date(2026, 12, 20), zone=ZONE)
        sitting.outcome = "pass"
        [passed] = evaluate(s, pol, EXAM, ["ann"], today=dt.date(2026, 12, 20), zone=ZONE)
    assert before.reasons == ["waiting period after a failed attempt: not before 2026-12-20"]
    assert before.next_allowed_on == dt.date(2026, 12, 20)
    assert on_the_day.eligible, on_the_day.reasons
    assert passed.reasons == ["already passed (attempt 1 on 2026-12-06)"]


def test_tutoring_after_an_evening_fail_is_offered_on_the_rooms_date(rcourse, evening):
    with rcourse.db.transaction() as s:
        forms = add_exam(s)
        add_candidates(s, "bo")
        sitting = _sat_in_the_evening(s, "bo", forms["A"])
        record_outcome(s, sitting.id, False, "grading", zone=ZONE)
        tutoring = s.query(Tutoring).filter_by(sitting_id=sitting.id).one()
        assert tutoring.offered_on == SUNDAY


def test_accommodation_dates_are_the_rooms(rcourse, evening):
    with rcourse.db.transaction() as s:
        add_candidates(s, "cy", "di")
        acc = accommodations.request(s, rcourse.policy, "cy", "extended_time", "intake",
                                     letter_on_file=SUNDAY, zone=ZONE)  # the letter of today is not "future"
        accommodations.approve(s, acc.id, "coordinator Lee", zone=ZONE)
        other = accommodations.request(s, rcourse.policy, "di", "scribe", "intake", zone=ZONE)
        accommodations.revoke(s, other.id, "coordinator Lee", "withdrawn by the candidate", zone=ZONE)
        assert (acc.requested_on, acc.approved_on) == (SUNDAY, SUNDAY)
        assert (other.requested_on, other.revoked_on) == (SUNDAY, SUNDAY)
        with pytest.raises(ExamBuilderError, match="the letter date 2026-12-07 is in the future"):
            accommodations.request(s, rcourse.policy, "di", "scribe", "intake", letter_on_file=dt.date(2026, 12, 7),
                                   zone=ZONE)


def test_an_item_reviews_date_is_the_rooms():
    d = Decision("ps-mc-05", "0" * 64, ReviewDecision.approve, "T. Nguyen", EVENING, zone=ZONE)
    assert d.when == "2026-12-06"


def test_the_program_reports_days_from_training_are_counted_on_the_rooms_calendar(rcourse):
    """Training ended Friday 20 November; first sat on Sunday evening 6 December: 16 days, not 17."""
    from exam_builder.analysis.report import ReportData, _standing, standing_section

    with rcourse.db.transaction() as s:
        forms = add_exam(s)
        add_candidates(s, "eve", cohort="s26")
        s.get(Candidate, "eve").training_ended_on = dt.date(2026, 11, 20)
        sitting = _sat_in_the_evening(s, "eve", forms["A"])
        sitting.outcome = "pass"
        s.flush()
        frame, _scope = _standing(s, rcourse.policy, EXAM, None, set(), everyone=True, zone=ZONE)
    assert frame.first_sat_on.tolist() == [SUNDAY] and frame.passed_on.tolist() == [SUNDAY]
    section = standing_section(ReportData(EXAM, "CPS", "all time", pd.DataFrame(), standing=frame))
    [per] = [t for title, t in section.tables if title == "Days from the end of training, per cohort"]
    assert per.median_days_to_first_sitting.tolist() == [16]
    assert "median 16 days" in " ".join(section.text)


def _run(course, *args):
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--course", str(course.root), *args],
                                                    catch_exceptions=False)


def test_the_commands_print_the_rooms_dates_on_sunday_evening(rcourse, evening, monkeypatch):
    """What a coordinator runs at 22:30 in Boston: an approval, an evening fail, the standing and eligibility."""
    monkeypatch.chdir(rcourse.root)
    (rcourse.root / "roster.csv").write_text(ROSTER)
    assert _run(rcourse, "roster", "import", "roster.csv", "--by", "coordinator").exit_code == 0
    out = _run(rcourse, "accommodation", "request", "c1", "--kind", "extended_time", "--letter-on-file", "2026-12-06",
               "--by", "intake")
    assert out.exit_code == 0, out.output
    with rcourse.db.read() as s:
        acc_id = s.query(Accommodation.id).filter_by(candidate_id="c1").scalar()
    assert _run(rcourse, "accommodation", "approve", str(acc_id), "--by", "Coordinator Lee").exit_code == 0
    out = _run(rcourse, "accommodation", "list")
    assert "Coordinator Lee 2026-12-06" in out.output and "2026-12-07" not in out.output, out.output

    with rcourse.db.transaction() as s:
        forms = add_exam(s)
        sitting = _sat_in_the_evening(s, "c1", forms["A"])
        record_outcome(s, sitting.id, False, "grading", zone=rcourse.zone)
    out = _run(rcourse, "attempts", "c1")
    assert (f"may sit {EXAM} again: not before 2026-12-20 (waiting period after a failed attempt); 2 attempts left; "
            "tutoring offered 2026-12-06, not yet attended") in out.output, out.output
    out = _run(rcourse, "eligibility", EXAM, "--date", "2026-12-19")
    assert "not before 2026-12-20" in out.output, out.output
    out = _run(rcourse, "eligibility", EXAM, "--date", "2026-12-20")
    assert "(1 of 1 eligible)" in out.output and "waiting period" not in out.output, out.output
