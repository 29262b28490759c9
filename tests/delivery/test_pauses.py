"""Pauses and breaks without a browser: the clock stops to the second, changes are refused while it is
stopped, nothing is submitted at the old deadline, every stop is audited and logged; the CLI commands."""
from __future__ import annotations

import datetime as dt

import delivery_formkit as formkit
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from exam_builder.cli import cli
from exam_builder.delivery import sittings as ops
from exam_builder.delivery.session import CandidateSession, SittingPaused
from exam_builder.errors import ExamBuilderError
from exam_builder.records import accommodations
from exam_builder.records.models import AuditEntry, Sitting, SittingEvent, utcnow


class Clock:
    """A server clock the test moves forward (whole seconds, like the proctor's watch)."""

    def __init__(self):
        self.now = utcnow().replace(microsecond=0)
        self.day = self.now.date()  # the room's day, fixed when the test starts (its clock may pass midnight)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += dt.timedelta(**kw)


def _started(course, form_id, clock: Clock, candidate="c001", code="ABCD-EFGH", minutes=180) -> CandidateSession:
    formkit.add_sitting(course, candidate, code, form_id, minutes=minutes, on=clock.day)
    cs = CandidateSession(course, clock=clock).sign_in(code)
    cs.confirm_identity()
    cs.start()
    return cs


def _events(course, sitting_id: int) -> list[tuple[str, dict]]:
    with course.db.read() as s:
        return [(e.kind, e.details) for e in s.execute(select(SittingEvent).where(
            SittingEvent.sitting_id == sitting_id).order_by(SittingEvent.id)).scalars()]


def test_a_room_pause_stops_the_clock_to_the_second_and_refuses_changes(dcourse, form_id):
    clock = Clock()
    a = _started(dcourse, form_id, clock)
    b = _started(dcourse, form_id, clock, "c002", "BCDE-FGHJ")
    clock.advance(minutes=20, seconds=7)
    a.answer("tf-hope", "A")
    before = a.time_left()
    assert before == dt.timedelta(minutes=160 - 1, seconds=60 - 7)
    day = clock.day
    paused = ops.pause_room(dcourse, formkit.EXAM, "101", "R. Proctor", "fire alarm", on=day, now=clock())
    assert sorted(p.id for p in paused) == sorted([a.sitting_id, b.sitting_id])
    clock.advance(minutes=17, seconds=41)
    assert a.time_left() == before  # the clock stands still
    status, _deadline = a.refresh()
    assert a.stopped is not None and a.stopped.kind == "pause" and a.stopped.reason == "fire alarm"
    assert a.stopped.left == before and "paused: fire alarm" in a.stopped.message
    with pytest.raises(SittingPaused, match="paused: fire alarm"):
        a.answer("tf-hope", "B")
    with pytest.raises(SittingPaused):
        a.flag("tf-hope")
    with pytest.raises(SittingPaused):
        a.submit()
    clock.advance(hours=5)  # long past the old deadline: still not submitted
    assert a.check_deadline() is None and a.status() == "in_progress"
    with pytest.raises(ExamBuilderError, match="already paused"):
        ops.pause(dcourse, a.sitting_id, "R. Proctor", "again", now=clock())
    resumed = ops.resume_room(dcourse, formkit.EXAM, "101", "R. Proctor", "all clear", on=day, now=clock())
    assert len(resumed) == 2
    assert a.time_left() == before and b.time_left() == before  # exactly the time they had
    a.refresh()
    assert a.stopped is None
    assert a.answer("tf-hope", "B").value == "B"
    assert a.answers()["tf-hope"].value == "B"
    with pytest.raises(ExamBuilderError, match="is not paused"):
        ops.resume_room(dcourse, formkit.EXAM, "101", "R. Proctor", "all clear", on=day, now=clock())
    kinds = [k for k, _ in _events(dcourse, a.sitting_id)]
    assert kinds.count("paused") == 1 and kinds.count("resumed") == 1
    assert ("refused_change", {"item": "tf-hope", "what": "answer", "why": "while paused"}) in _events(
        dcourse, a.sitting_id)
    with dcourse.db.read() as s:
        audits = s.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.reason).where(
            AuditEntry.entity_id == str(a.sitting_id))).all()
    assert ("sitting.pause", "R. Proctor", "fire alarm") in audits
    assert ("sitting.resume", "R. Proctor", "all clear") in audits
    # the new deadline is reached to the second, and then submits
    clock.advance(seconds=before.total_seconds() - 1)
    assert a.check_deadline() is None
    clock.advance(seconds=1)
    assert a.check_deadline() is not None and a.status() == "submitted"


def test_one_candidate_paused_stays_paused_when_the_room_resumes(dcourse, form_id):
    clock = Clock()
    a = _started(dcourse, form_id, clock)
    b = _started(dcourse, form_id, clock, "c002", "BCDE-FGHJ")
    ops.pause(dcourse, a.sitting_id, "R. Proctor", "feels unwell", now=clock())
    clock.advance(minutes=1)
    with pytest.raises(ExamBuilderError, match="give a reason"):
        ops.pause_room(dcourse, formkit.EXAM, "101", "R. Proctor", " ", on=clock.day, now=clock())
    ops.pause_room(dcourse, formkit.EXAM, "101", "R. Proctor", "fire alarm", on=clock.day, now=clock())
    clock.advance(minutes=2)
    [back] = ops.resume_room(dcourse, formkit.EXAM, "101", "R. Proctor", "all clear", on=clock.day, now=clock())
    assert back.id == b.sitting_id
    with pytest.raises(SittingPaused, match="feels unwell"):
        a.answer("tf-hope", "A")
    clock.advance(minutes=4)
    _sit, stood = ops.resume(dcourse, a.sitting_id, "R. Proctor", "feels better", now=clock())
    assert stood == 7 * 60
    assert a.time_left() == dt.timedelta(minutes=180) and b.time_left() == dt.timedelta(minutes=180 - 1 - 4)


def _breaks(course, candidate: str, count=2, minutes=10) -> None:
    with course.db.transaction() as s:
        acc = accommodations.request(s, course.policy, candidate, "breaks", "A. Coordinator", break_count=count,
                                     break_minutes=minutes, letter_on_file=dt.date(2026, 1, 5), zone=course.zone)
        accommodations.approve(s, acc.id, "A. Coordinator", zone=course.zone)


def test_a_break_stops_the_clock_for_at_most_its_length(dcourse, form_id):
    clock = Clock()
    cs = _started(dcourse, form_id, clock)
    assert cs.breaks_left() == (0, 0)
    with pytest.raises(ExamBuilderError, match="no breaks"):
        cs.take_break()
    _breaks(dcourse, "c001", 2, 10)
    assert cs.breaks_left() == (2, 10)
    clock.advance(minutes=30)
    left = cs.time_left()
    stop = cs.take_break()
    assert stop.kind == "break" and stop.until == clock() + dt.timedelta(minutes=10)
    clock.advance(minutes=4)
    assert cs.time_left() == left
    with pytest.raises(SittingPaused, match="on a break"):
        cs.answer("tf-hope", "A")
    assert cs.end_break() is True  # back after 4 minutes
    assert cs.time_left() == left and cs.breaks_left() == (1, 10)
    cs.answer("tf-hope", "A")
    clock.advance(minutes=5)
    left = cs.time_left()
    cs.take_break()
    clock.advance(minutes=25)  # the break ends by itself after 10 minutes: 15 minutes of exam time ran since
    assert cs.time_left() == left - dt.timedelta(minutes=15)
    cs.refresh()
    assert cs.stopped is None
    cs.answer("tf-hope", "B")
    assert cs.breaks_left() == (0, 10)
    with pytest.raises(ExamBuilderError, match="taken all your breaks"):
        cs.take_break()
    kinds = [(k, d.get("why")) for k, d in _events(dcourse, cs.sitting_id) if k.startswith("break")]
    assert kinds == [("break_started", None), ("break_ended", "candidate"), ("break_started", None),
                     ("break_ended", "time")]
    with dcourse.db.read() as s:
        actions = s.execute(select(AuditEntry.action).where(AuditEntry.entity == "sitting",
                                                            AuditEntry.entity_id == str(cs.sitting_id))).scalars().all()
    assert actions.count("sitting.break") == 2 and actions.count("sitting.break_end") == 2


def test_a_break_is_never_submitted_at_the_old_deadline(dcourse, form_id):
    clock = Clock()
    cs = _started(dcourse, form_id, clock, minutes=10)
    _breaks(dcourse, "c001", 1, 5)
    clock.advance(minutes=9)
    cs.take_break()
    clock.advance(minutes=3)  # past the old deadline, inside the break
    assert cs.check_deadline() is None and cs.status() == "in_progress"
    clock.advance(minutes=2, seconds=59)
    assert cs.check_deadline() is None
    clock.advance(minutes=1, seconds=1)  # break over (5 min) + the minute that was left
    assert cs.check_deadline() is not None


def test_breaks_accommodation_needs_a_number_and_a_length(dcourse):
    with dcourse.db.transaction() as s:
        with pytest.raises(ExamBuilderError, match="needs how many breaks"):
            accommodations.request(s, dcourse.policy, "c001", "breaks", "A. Coordinator", zone=dcourse.zone)
        with pytest.raises(ExamBuilderError, match="minutes of a break must be from 1 to 60"):
            accommodations.request(s, dcourse.policy, "c001", "breaks", "A. Coordinator", break_count=2,
                                   break_minutes=90, zone=dcourse.zone)
        with pytest.raises(ExamBuilderError, match="apply to breaks only"):
            accommodations.request(s, dcourse.policy, "c001", "scribe", "A. Coordinator", break_count=2,
                                   zone=dcourse.zone)


def test_the_coordinator_sees_a_breaks_request_with_its_number_and_length(dcourse):
    from exam_builder.desks.coordinator_app import CoordinatorSession

    with dcourse.db.transaction() as s:
        accommodations.request(s, dcourse.policy, "c001", "breaks", "A. Coordinator", break_count=2, break_minutes=10,
                               zone=dcourse.zone)
    [request] = CoordinatorSession(dcourse, formkit.EXAM).waiting()
    assert request.label == "Pat0 Example0 (c001): Breaks with the clock stopped (2 breaks of 10 minutes)"


def test_the_accommodations_sheet_takes_breaks(dcourse, tmp_path):
    sheet = tmp_path / "acc.csv"
    sheet.write_text("candidate id,kind,breaks,break minutes,letter on file,status,approved by\n"
                     "c001,breaks,2,10,2026-01-05,approved,A. Coordinator\n")
    report = accommodations.import_accommodations(dcourse, sheet, "A. Coordinator")
    assert len(report.approved) == 1
    with dcourse.db.read() as s:
        assert accommodations.break_allowance(s, "c001") == (2, 10)
    listed = CliRunner(env={"COLUMNS": "250"}).invoke(cli, ["--course", str(dcourse.root), "accommodation", "list"])
    assert listed.exit_code == 0 and "breaks (2 breaks of 10 minutes)" in listed.output, listed.output
    bad = tmp_path / "bad.csv"
    bad.write_text("candidate id,kind,breaks,break minutes\nc002,breaks,two,10\nc003,scribe,1,5\n")
    with pytest.raises(ExamBuilderError) as exc:
        accommodations.import_accommodations(dcourse, bad, "A. Coordinator")
    assert "row 1:column breaks" in str(exc.value) and "number of breaks" in str(exc.value)
    assert "row 2:column breaks" in str(exc.value) and "apply to breaks only" in str(exc.value)


def test_the_cli_pauses_and_resumes_a_sitting_and_a_room(dcourse, form_id):
    clock = Clock()
    cs = _started(dcourse, form_id, clock)
    root = str(dcourse.root)
    run = CliRunner().invoke
    out = run(cli, ["--course", root, "sitting", "pause", str(cs.sitting_id), "--by", "R. Proctor",
                     "--reason", "feels unwell"])
    assert out.exit_code == 0, out.output
    assert f"sitting {cs.sitting_id} (c001) paused" in out.output
    out = run(cli, ["--course", root, "sitting", "resume", str(cs.sitting_id), "--by", "R. Proctor",
                     "--reason", "feels better"])
    assert out.exit_code == 0, out.output
    assert f"sitting {cs.sitting_id} (c001) resumed" in out.output and "added to its time" in out.output
    out = run(cli, ["--course", root, "sitting", "resume", str(cs.sitting_id), "--by", "R. Proctor",
                     "--reason", "again"])
    assert out.exit_code != 0 and "is not paused" in out.output
    day = clock.day.isoformat()
    out = run(cli, ["--course", root, "sitting", "pause-room", formkit.EXAM, "--room", "101", "--date", day,
                     "--by", "R. Proctor", "--reason", "fire alarm"])
    assert out.exit_code == 0, out.output
    assert "Room 101 is paused: 1 candidate(s) in progress have their clocks stopped." in out.output
    with pytest.raises(SittingPaused):
        cs.answer("tf-hope", "A")
    out = run(cli, ["--course", root, "sitting", "resume-room", formkit.EXAM, "--room", "101", "--date", day,
                     "--by", "R. Proctor", "--reason", "all clear"])
    assert out.exit_code == 0, out.output
    assert "Room 101 is resumed: 1 candidate(s) in progress have the time they had when it was paused." \
        in out.output
    cs.answer("tf-hope", "A")
    with dcourse.db.read() as s:
        sit = s.get(Sitting, cs.sitting_id)
        assert sit.paused_at is None and sit.paused_seconds >= 0
