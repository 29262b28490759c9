"""Access codes that are one-time and bound to their sitting, wrong-code limits, journal limits, private files.

Every probe goes through ``CandidateSession`` (the exam app's code path) with an injected
clock, and through the proctor's commands and dashboard; settings are changed the way a
program would, in ``nbgrader_config.py``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import stat

import delivery_formkit as formkit
import ipywidgets as w
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from exam_builder.cli import cli
from exam_builder.course import Course
from exam_builder.delivery import sittings as ops, window
from exam_builder.delivery.candidate_app import CandidateApp, walk
from exam_builder.delivery.proctor import ProctorDashboard
from exam_builder.delivery.proctor_session import alerts
from exam_builder.delivery.session import (
    BUSY,
    LOCKED,
    TAKEN_OVER,
    TOO_FAST,
    TOO_MANY,
    USED,
    WRONG_CODE,
    CandidateSession,
    LimitReached,
    SignInFailed,
    SittingClosed,
    TakenOver,
    hash_code,
    journal_counts,
)
from exam_builder.kinds import kind_for
from exam_builder.records import audit, ledger
from exam_builder.records.models import AuditEntry, Lockout, Response, Sitting, SittingEvent, WrongCode, utcnow
from exam_builder.ui.widgets import ChoiceGroup

ZONE = window.room_zone("America/New_York")


class Clock:
    """A server clock the test sets and moves forward."""

    def __init__(self, now: dt.datetime | None = None):
        self.now = now or utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += dt.timedelta(**kw)


def run(course, *args):
    return CliRunner().invoke(cli, ["--course", str(course.root), *args], catch_exceptions=False)


def configured(course, **settings) -> Course:
    """The course with ``c.DeliverySettings.<name> = value`` added to its nbgrader_config.py."""
    with open(course.root / "nbgrader_config.py", "a") as fh:
        for name, value in settings.items():
            fh.write(f"\nc.DeliverySettings.{name} = {value!r}\n")
    return Course(course.root)


def events(course, sitting_id: int, kind: str) -> list[dict]:
    with course.db.read() as s:
        return [e.details for e in s.execute(select(SittingEvent).where(
            SittingEvent.sitting_id == sitting_id, SittingEvent.kind == kind).order_by(SittingEvent.id)).scalars()]


def refused(fn, *args, **kwargs) -> SignInFailed:
    with pytest.raises(SignInFailed) as exc:
        fn(*args, **kwargs)
    return exc.value


def button(root, label: str) -> w.Button:
    found = [b for b in walk(root) if isinstance(b, w.Button) and b.description == label]
    assert found, f"no button {label!r}"
    return found[0]


def local_noon(day: dt.date) -> dt.datetime:
    return window.to_utc(day, 12, 0, ZONE)


# -- one screen at a time: a second sign-in takes over -----------------------------------------
def test_a_second_sign_in_takes_over_and_the_first_screen_accepts_nothing(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c001", "TAKE-OVER", form_id)
    first = CandidateSession(dcourse).sign_in("TAKE-OVER", source="10.0.0.11")
    first.confirm_identity()
    first.start()
    first.answer("tf-hope", "A")
    second = CandidateSession(dcourse).sign_in("TAKE-OVER", source="10.0.0.12")  # the phone died: another screen
    assert second.started and second.answers()["tf-hope"].value == "A"  # saved answers are safe
    with pytest.raises(TakenOver) as exc:
        first.answer("tf-hope", "B")
    assert str(exc.value) == TAKEN_OVER and isinstance(exc.value, SittingClosed)
    for action in (first.refresh, first.submit, first.check_deadline, lambda: first.flag("mc-mutual"),
                   first.confirm_identity, first.start):
        with pytest.raises(TakenOver):
            action()
    second.answer("tf-hope", "B")
    assert second.refresh() == ("in_progress", second.deadline())
    with dcourse.db.read() as s:
        assert [r.value for r in s.execute(select(Response).where(Response.sitting_id == sid)
                                           .order_by(Response.id)).scalars()] == ["A", "B"]
    [took] = events(dcourse, sid, "taken_over")
    assert (took["source"], took["previous_source"], took["same_source"], took["started"]) == (
        "10.0.0.12", "10.0.0.11", False, True)
    assert [e["why"] for e in events(dcourse, sid, "refused_change")] == ["opened on another screen"] * 2
    assert [a.kind for a in alerts(dcourse, formkit.EXAM)][-1] == "taken_over"  # the proctor sees it
    assert "another computer (10.0.0.12; before: 10.0.0.11)" in alerts(dcourse, formkit.EXAM)[-1].text
    third = CandidateSession(dcourse).sign_in("TAKE-OVER", source="10.0.0.12")  # a reload of the same screen
    assert events(dcourse, sid, "taken_over")[-1]["same_source"] is True
    with pytest.raises(TakenOver):
        second.answer("tf-hope", "A")
    third.submit()


def test_the_exam_app_says_it_was_taken_over_and_disables_its_controls(dcourse, form_id):
    formkit.add_sitting(dcourse, "c002", "APPS-TAKE", form_id)
    app = CandidateApp(dcourse)
    app.code.submit("APPS-TAKE")
    button(app.root, "Yes, this is me").click()
    button(app.root, "Start the exam").click()
    radios = [r for r in walk(app.body) if isinstance(r, ChoiceGroup)]
    radios[0].value = "A"
    CandidateSession(dcourse).sign_in("APPS-TAKE", source="elsewhere")
    app._deadline = None  # the next tick re-reads the sitting (as refresh_seconds does)
    app._safe(app.tick)()  # as the app's timer runs it
    assert TAKEN_OVER.split(",")[0] in app.message.value and "raise your hand now" in app.message.value
    controls = [x for x in walk(app.body) if isinstance(x, (w.Button, ChoiceGroup, w.Checkbox, w.Textarea))]
    assert controls and all(x.disabled for x in controls)
    assert app._finished and app.timer.value == ""


def test_an_answer_from_a_taken_over_app_is_refused_with_the_message(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c003", "APPS-ANSW", form_id)
    app = CandidateApp(dcourse)
    app.code.submit("APPS-ANSW")
    button(app.root, "Yes, this is me").click()
    button(app.root, "Start the exam").click()
    CandidateSession(dcourse).sign_in("APPS-ANSW", source="elsewhere")
    [r for r in walk(app.body) if isinstance(r, ChoiceGroup)][0].value = "B"
    assert "opened on another screen" in app.message.value
    with dcourse.db.read() as s:
        assert s.execute(select(Response).where(Response.sitting_id == sid)).first() is None


def test_a_typed_answer_is_marked_answered_in_the_question_list_once_saved(dcourse, form_id):
    """The ✓ of a written answer shows when the save lands, not only after the next move."""
    formkit.add_sitting(dcourse, "c004", "APPS-TYPE", form_id)
    app = CandidateApp(dcourse)
    app.code.submit("APPS-TYPE")
    button(app.root, "Yes, this is me").click()
    button(app.root, "Start the exam").click()
    written = next(it for it in app.session.form.items if kind_for(it.kind).rated)
    app._go(written.number)
    box = next(x for x in walk(app.body) if isinstance(x, w.Textarea))
    box.value = "I would listen first."  # no event loop here: the save runs at once
    entry = next(e for e in app.navigator.entries if e["n"] == written.number)
    assert entry["answered"] is True


# -- one time: a used code opens nothing but its receipt ----------------------------------------------
def test_a_voided_sittings_code_is_refused_without_the_name_or_id(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c004", "USED-CODE", form_id)
    cs = CandidateSession(dcourse).sign_in("USED-CODE")
    cs.start()
    cs.answer("tf-hope", "A")
    ops.void(dcourse, sid, "proctor-kim", "fire alarm")
    exc = refused(CandidateSession(dcourse).sign_in, "USED-CODE", source="10.0.0.4")
    assert str(exc) == USED and exc.why == "used"
    assert not any(x in str(exc) for x in ("Pat3", "Example3", "c004"))
    assert events(dcourse, sid, "sign_in_refused") == [{"why": "used", "source": "10.0.0.4", "status": "voided"}]
    with dcourse.db.read() as s:  # a used code is not a guess
        assert s.execute(select(WrongCode)).first() is None


def test_a_submitted_sittings_code_opens_its_receipt_read_only(dcourse, form_id):
    """A reload after the submit finds the receipt again: no lease taken, nothing can change."""
    sid = formkit.add_sitting(dcourse, "c004", "DONE-CODE", form_id)
    cs = CandidateSession(dcourse).sign_in("DONE-CODE")
    cs.start()
    cs.answer("tf-hope", "A")
    first = cs.submit()
    with dcourse.db.read() as s:
        lease = s.get(Sitting, sid).lease_token
    again = CandidateSession(dcourse).sign_in("DONE-CODE", source="10.0.0.4")
    assert again.receipt_only
    r = again.receipt()
    assert (r.confirmation, r.submitted_at, r.answered, r.total) == (first.confirmation, first.submitted_at, 1, 5)
    assert r.exam_title == first.exam_title and r.exam_title
    with pytest.raises(TakenOver):  # it holds no lease: any change is refused
        again.answer("tf-hope", "B")
    with dcourse.db.read() as s:
        sit = s.get(Sitting, sid)
        assert sit.lease_token == lease and sit.status == "submitted"
    assert events(dcourse, sid, "receipt_shown") == [{"source": "10.0.0.4"}]
    assert events(dcourse, sid, "sign_in_refused") == [] and events(dcourse, sid, "taken_over") == []
    with dcourse.db.read() as s:
        assert s.execute(select(WrongCode)).first() is None
        assert [r.value for r in s.execute(select(Response).where(Response.sitting_id == sid)).scalars()] == ["A"]


def test_the_app_shows_the_receipt_again_with_the_exam_and_date_and_no_answers(dcourse, form_id):
    formkit.add_sitting(dcourse, "c004", "DONE-APPS", form_id)
    cs = CandidateSession(dcourse).sign_in("DONE-APPS")
    cs.start()
    cs.answer("or-story", "My private words")
    r = cs.submit()
    app = CandidateApp(dcourse)
    app.code.submit("DONE-APPS")
    assert app.screen == "receipt"
    shown = re.sub(r"<[^>]+>", "", " ".join(x.value for x in walk(app.body) if isinstance(x, w.HTML)))
    assert r.confirmation in shown and "already submitted" in shown and "What happens next" in shown
    assert re.search(r"Submitted on \w+day \d+ \w+ \d{4} at \d{1,2}:\d\d:\d\d [AP]M E[SD]T",
                     shown) and f"Exam: {r.exam_title}." in shown
    assert "My private words" not in shown and "Is this you" not in shown


def test_a_sitting_past_its_deadline_is_submitted_at_sign_in_and_shows_its_receipt(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c005", "LATE-SIGN", form_id, minutes=1)
    clock = Clock()
    cs = CandidateSession(dcourse, clock=clock).sign_in("LATE-SIGN")
    cs.start()
    clock.advance(minutes=5)
    late = CandidateSession(dcourse, clock=clock).sign_in("LATE-SIGN")
    assert late.receipt_only and late.receipt().reason == "deadline"
    with dcourse.db.read() as s:
        sit = s.get(Sitting, sid)
        assert sit.status == "submitted" and sit.submitted_at == sit.deadline


# -- bound to its date and window --------------------------------------------------------------------
def test_a_sitting_for_a_later_date_is_refused_today_and_opens_on_its_date(dcourse, form_id):
    today = ops.room_today(dcourse)
    later = today + dt.timedelta(days=14)
    res = ops.open_sittings(dcourse, formkit.EXAM, "R1", "coordinator-lee", ["c001"], today=later)
    [o] = res.opened
    assert (o.scheduled_on, o.opens_at, o.closes_at) == (later, *window.default_window(later, ZONE))
    exc = refused(CandidateSession(dcourse).sign_in, o.code)
    assert exc.why == "window"
    assert str(exc) == f"This exam opens on {window.day_text(later)}. Please wait for the proctor."
    assert events(dcourse, o.sitting_id, "sign_in_refused")[0]["window"] == "before the window"
    late_evening = Clock(window.to_utc(later, 23, 0, ZONE))
    cs = CandidateSession(dcourse, clock=late_evening).sign_in(o.code)
    assert cs.start() == late_evening.now
    after_midnight = Clock(window.to_utc(later + dt.timedelta(days=1), 0, 30, ZONE))  # the window has closed
    again = CandidateSession(dcourse, clock=after_midnight).sign_in(o.code)  # a crashed browser: the clock decides
    assert again.started and again.time_left() == dt.timedelta(minutes=90)


def test_the_window_opens_and_closes_at_the_proctors_times(dcourse, form_id):
    day = dt.date(2026, 12, 15)  # a Tuesday
    res = ops.open_sittings(dcourse, formkit.EXAM, "R2", "coordinator-lee", ["c002", "c003"], today=day,
                            opens="09:00", closes="10:00")
    code, other = res.opened[0].code, res.opened[1].code
    early = refused(CandidateSession(dcourse, clock=Clock(window.to_utc(day, 8, 30, ZONE))).sign_in, code)
    assert str(early) == "This exam opens at 9:00 AM EST on Tuesday 15 December. Please wait for the proctor."
    late = refused(CandidateSession(dcourse, clock=Clock(window.to_utc(day, 10, 0, ZONE))).sign_in, code)
    assert str(late) == "This exam closed at 10:00 AM EST on Tuesday 15 December. Please ask the proctor."
    inside = Clock(window.to_utc(day, 9, 30, ZONE))
    cs = CandidateSession(dcourse, clock=inside).sign_in(code)
    inside.now = window.to_utc(day, 10, 5, ZONE)
    with pytest.raises(Exception, match="closed at 10:00 AM EST"):
        cs.start()  # a page left open on the instructions cannot start after the window
    # the proctor moves the window (audited per sitting); candidates started before carry on
    bad = CliRunner().invoke(cli, ["--course", str(dcourse.root), "sitting", "window", "cps", "--room", "R2",
                                   "--date", "2026-12-15", "--opens", "9", "--reason", "x", "--by", "kim"])
    assert bad.exit_code == 1 and "HH:MM" in bad.output
    out = run(dcourse, "sitting", "window", "cps", "--room", "R2", "--date", "2026-12-15", "--opens", "08:00",
              "--closes", "10:30", "--by", "proctor-kim", "--reason", "bus was late")
    assert out.exit_code == 0 and "8:00 AM to 10:30 AM EST on Tuesday 15 December" in out.output
    cs = CandidateSession(dcourse, clock=Clock(window.to_utc(day, 10, 10, ZONE))).sign_in(other)
    cs.start()
    with dcourse.db.read() as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.action == "sitting.window")).scalars().all()
        assert [(e.actor, e.reason) for e in entries] == [("proctor-kim", "bus was late")] * 2
        assert entries[0].details["closes_after"] == window.to_utc(day, 10, 30, ZONE).isoformat(sep=" ")
        assert audit.verify(s).ok


def test_open_now_and_close_now_on_the_dashboard_are_audited(dcourse, form_id):
    res = ops.open_sittings(dcourse, formkit.EXAM, "Room 7", "coordinator-lee", ["c004", "c005"])
    dash = ProctorDashboard(dcourse, formkit.EXAM, actor="proctor-kim")
    assert "Room 7: sign-in open (all day on" in dash.windows.value
    dash.signin_room.value = "Room 7"
    button(dash.root, "Close sign-in now").click()
    assert "Not done: Write the reason" in dash.signin_message.value  # no reason, no change
    dash.signin_reason.value = "everyone is seated"
    button(dash.root, "Close sign-in now").click()
    assert "Sign-in is closed now in Room 7 (2 candidate(s))" in dash.signin_message.value
    # the window closed unstarted: both are absent at once (stored by the view's refresh), the code refused
    assert "<strong>2</strong> absent" in dash.totals.value and "Room 7: sign-in closed" in dash.windows.value
    exc = refused(CandidateSession(dcourse).sign_in, res.opened[0].code)
    assert exc.why == "absent" and str(exc) == ("This code is no longer valid: the sign-in for this sitting has "
                                                "closed. Please ask the proctor.")
    dash.signin_reason.value = "a late candidate with a doctor's note"
    button(dash.root, "Open sign-in now").click()  # reopening brings back the ones the close made absent
    assert "Sign-in is open now in Room 7 (2 candidate(s))" in dash.signin_message.value
    assert "<strong>0</strong> absent" in dash.totals.value
    CandidateSession(dcourse).sign_in(res.opened[0].code).start()
    with dcourse.db.read() as s:
        assert [(e.action, e.actor, e.reason) for e in s.execute(
            select(AuditEntry).where(AuditEntry.action == "sitting.window").order_by(AuditEntry.id)).scalars()] == [
            ("sitting.window", "proctor-kim", "everyone is seated")] * 2 + [
            ("sitting.window", "proctor-kim", "a late candidate with a doctor's note")] * 2
    assert "the sitting is absent (its sign-in had closed)" in dash.alerts.value


def test_open_now_and_close_now_stamp_their_events_with_the_callers_time(dcourse, form_id):
    """One time source: the window's events carry the time the proctor acted at, not the wall clock."""
    res = ops.open_sittings(dcourse, formkit.EXAM, "Room 8", "coordinator-lee", ["c004"])
    sid = res.opened[0].sitting_id
    base = dt.datetime.combine(ops.room_today(dcourse), dt.time(15, 0))  # naive UTC, as the records keep it
    ops.close_now(dcourse, formkit.EXAM, "Room 8", "proctor-kim", "everyone is seated", now=base)
    ops.open_now(dcourse, formkit.EXAM, "Room 8", "proctor-kim", "a late candidate", now=base + dt.timedelta(minutes=7))
    with dcourse.db.read() as s:
        stamps = [e.at for e in s.execute(select(SittingEvent).where(
            SittingEvent.sitting_id == sid, SittingEvent.kind == "window").order_by(SittingEvent.id)).scalars()]
    assert stamps == [base, base + dt.timedelta(minutes=7)]


# -- every attempt rule again at sign-in -----------------------------------------------------------------
def _failed_attempt(course, cid: str, form_id: int, on: dt.date) -> int:
    """An earlier attempt, sat on ``on`` and then recorded as failed through the ledger."""
    at = dt.datetime.combine(on, dt.time(14))
    with course.db.transaction() as s:
        sit = Sitting(candidate_id=cid, exam_id=formkit.EXAM, seq=2, attempt_no=2, form_id=form_id, room="old",
                      status="submitted", time_limit_minutes=180, opened_at=at, started_at=at,
                      submitted_at=at + dt.timedelta(hours=2))
        s.add(sit)
        s.flush()
        ledger.record_outcome(s, sit.id, False, "grading", zone=course.zone)  # offers tutoring, as after any fail
        return sit.id


def test_the_waiting_period_is_checked_again_at_sign_in(dcourse, form_id):
    res = ops.open_sittings(dcourse, formkit.EXAM, "R3", "coordinator-lee", ["c001"])
    [o] = res.opened
    today = ops.room_today(dcourse)
    _failed_attempt(dcourse, "c001", form_id, today - dt.timedelta(days=3))
    exc = refused(CandidateSession(dcourse).sign_in, o.code)
    wait_until = today + dt.timedelta(days=11)
    assert exc.why == "not_eligible"
    assert str(exc) == (f"You cannot start this exam today: waiting period after a failed attempt: not before "
                        f"{wait_until.isoformat()}. Please ask the proctor.")
    assert "Pat0" not in str(exc)
    [ev] = events(dcourse, o.sitting_id, "sign_in_refused")
    assert ev["why"] == "not_eligible" and "waiting period" in ev["reasons"][0]
    with dcourse.db.read() as s:
        assert s.get(Sitting, o.sitting_id).lease_token is None  # refused: no page holds it


def test_tutoring_required_and_the_attempt_cap_are_checked_again_at_sign_in(dcourse, form_id):
    res = ops.open_sittings(dcourse, formkit.EXAM, "R4", "coordinator-lee", ["c002", "c003"])
    codes = {o.candidate_id: o.code for o in res.opened}
    today = ops.room_today(dcourse)
    _failed_attempt(dcourse, "c002", form_id, today - dt.timedelta(days=30))  # waiting period over
    assert CandidateSession(dcourse).sign_in(codes["c002"]).candidate_id == "c002"  # tutoring only offered
    with open(dcourse.root / "nbgrader_config.py", "a") as fh:
        fh.write('\nc.ProgramPolicy.tutoring_after_failure = "required"\n')
    strict = Course(dcourse.root)
    exc = refused(CandidateSession(strict).sign_in, codes["c002"])
    assert "tutoring required before the next attempt" in str(exc)
    with strict.db.transaction() as s:
        for n in (2, 3, 4):  # three attempts recorded elsewhere since the sitting was opened
            s.add(Sitting(candidate_id="c003", exam_id=formkit.EXAM, seq=n, attempt_no=n, form_id=form_id,
                          status="voided" if n == 4 else "submitted", time_limit_minutes=180, outcome="fail",
                          opened_at=utcnow() - dt.timedelta(days=60), started_at=utcnow() - dt.timedelta(days=60)))
    exc = refused(CandidateSession(strict).sign_in, codes["c003"])
    assert "no attempts left (3 of 3 used)" in str(exc)
    strict.db.dispose()


# -- wrong codes: per source, per server --------------------------------------------------------------------
def test_wrong_codes_from_one_source_lock_it_until_the_proctor_unlocks_it(dcourse, form_id):
    formkit.add_sitting(dcourse, "c001", "RIGH-TONE", form_id)
    clock = Clock(utcnow() - dt.timedelta(minutes=2))  # behind the proctor's (real) clock, as time goes on
    other_process = Course(dcourse.root)  # another server process: its own engine, the same database
    for n in range(4):
        session = CandidateSession(dcourse if n % 2 else other_process, clock=clock)
        exc = refused(session.sign_in, f"WRON-G00{n}", source="10.0.0.66")
        assert str(exc) == WRONG_CODE and exc.why == "wrong_code"
        clock.advance(seconds=10)
    fifth = refused(CandidateSession(dcourse, clock=clock).sign_in, "WRON-G005", source="10.0.0.66")
    assert str(fifth) == LOCKED and fifth.why == "locked"
    right = refused(CandidateSession(dcourse, clock=clock).sign_in, "RIGH-TONE", source="10.0.0.66")
    wrong = refused(CandidateSession(dcourse, clock=clock).sign_in, "WRON-G006", source="10.0.0.66")
    assert str(right) == str(wrong) == LOCKED  # a lockout never tells whether a code exists
    with dcourse.db.read() as s:
        assert s.execute(select(WrongCode)).scalars().all().__len__() == 5  # refused, not counted again
        [lock] = s.execute(select(Lockout)).scalars().all()
        assert (lock.source, lock.wrong_codes) == ("10.0.0.66", 5)
    # the proctor sees it, and lifts it (audited)
    dash = ProctorDashboard(dcourse, formkit.EXAM, actor="proctor-kim")
    assert "10.0.0.66" in dash.lockouts.value and dash.locked.options == ("10.0.0.66",)
    assert run(dcourse, "sitting", "lockouts").output.count("10.0.0.66") == 1
    nothing = CliRunner().invoke(cli, ["--course", str(dcourse.root), "sitting", "unlock", "10.9.9.9",
                                       "--by", "kim", "--reason", "x"])
    assert nothing.exit_code == 1 and "not locked out" in nothing.output
    out = run(dcourse, "sitting", "unlock", "10.0.0.66", "--by", "proctor-kim", "--reason", "candidate typed O for 0")
    assert out.exit_code == 0, out.output
    cs = CandidateSession(dcourse, clock=clock).sign_in("RIGH-TONE", source="10.0.0.66")
    assert cs.candidate_id == "c001"
    # the wrong codes before the unlock no longer count: one more wrong code does not lock it again
    assert refused(CandidateSession(dcourse, clock=clock).sign_in, "WRON-G007", source="10.0.0.66").why == "wrong_code"
    with dcourse.db.read() as s:
        [entry] = s.execute(select(AuditEntry).where(AuditEntry.action == "sign_in.unlock")).scalars().all()
        assert (entry.actor, entry.entity, entry.entity_id, entry.reason) == (
            "proctor-kim", "source", "10.0.0.66", "candidate typed O for 0")
        assert audit.verify(s).ok
    other_process.db.dispose()


def test_a_lockout_ends_by_itself_and_the_dashboard_button_lifts_one(dcourse, form_id):
    formkit.add_sitting(dcourse, "c002", "RIGH-TTWO", form_id)
    course = configured(dcourse, max_wrong_codes_per_source=2, lockout_minutes=30.0)
    clock = Clock(utcnow() - dt.timedelta(minutes=40))
    for n in range(2):
        refused(CandidateSession(course, clock=clock).sign_in, f"NOPE-000{n}", source="A")
        refused(CandidateSession(course).sign_in, f"NOPE-000{n}", source="B")  # now
    assert refused(CandidateSession(course, clock=clock).sign_in, "RIGH-TTWO", source="A").why == "locked"
    clock.advance(minutes=31)
    assert CandidateSession(course, clock=clock).sign_in("RIGH-TTWO", source="A").candidate_id == "c002"
    dash = ProctorDashboard(course, formkit.EXAM, actor="proctor-kim")
    assert dash.locked.options == ("B",)  # A's lockout has ended by itself
    dash.locked.value = "B"
    dash.unlock_reason.value = "checked the candidate's card"
    button(dash.root, "Unlock this computer").click()
    assert "Computer B is unlocked" in dash.unlock_message.value and dash.locked.options == ()
    course.db.dispose()


def test_a_flood_of_wrong_codes_pauses_every_sign_in_for_the_minute(dcourse, form_id):
    formkit.add_sitting(dcourse, "c003", "RIGH-TTRE", form_id)
    course = configured(dcourse, max_wrong_codes_per_minute=3)
    clock = Clock()
    for n in range(4):  # from four sources, none of them locked
        assert refused(CandidateSession(course, clock=clock).sign_in, f"NOPE-100{n}",
                       source=f"s{n}").why == "wrong_code"
    busy = refused(CandidateSession(course, clock=clock).sign_in, "RIGH-TTRE", source="fresh")
    assert str(busy) == BUSY and busy.why == "busy"
    clock.advance(seconds=61)
    assert CandidateSession(course, clock=clock).sign_in("RIGH-TTRE", source="fresh").candidate_id == "c003"
    course.db.dispose()


def test_the_app_pauses_after_a_refused_code(dcourse, form_id, monkeypatch):
    slept = []
    monkeypatch.setattr("exam_builder.delivery.candidate_app.time.sleep", slept.append)
    monkeypatch.setattr("exam_builder.delivery.candidate_app.page_source", lambda: "10.1.1.1")
    app = CandidateApp(dcourse)
    app.code.submit("NOPE-NOPE")
    assert "not right" in app.message.value and slept == [app.settings.sign_in_delay_seconds]
    with dcourse.db.read() as s:
        assert s.execute(select(WrongCode.source)).scalars().all() == ["10.1.1.1"]


def test_page_source_falls_back_to_unknown(monkeypatch):
    import exam_builder.delivery.pagesource as ps
    from exam_builder.delivery.candidate_app import page_source

    monkeypatch.delenv(ps.ENV_DIR, raising=False)
    assert page_source() == "unknown"
    monkeypatch.setattr(ps, "page_source", lambda: 1 / 0)
    assert page_source() == "unknown"


# -- keyed hash ------------------------------------------------------------------------------------------
def test_codes_are_kept_as_an_hmac_under_the_courses_secret(dcourse, form_id, tmp_path):
    sid = formkit.add_sitting(dcourse, "c004", "KEYE-DHMA", form_id)
    secret = dcourse.secret_path
    assert len(dcourse.secret) == 32 and secret.read_bytes() == dcourse.secret
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(secret.parent).st_mode) == 0o700
    with dcourse.db.read() as s:
        stored = s.get(Sitting, sid).access_code_hash
    # the database alone cannot check a code: an unkeyed hash or another key does not match
    assert stored == hash_code("KEYE-DHMA", dcourse.secret)
    assert stored not in (hashlib.sha256(b"eb-access:KEYEDHMA").hexdigest(), hashlib.sha256(b"KEYEDHMA").hexdigest(),
                          hash_code("KEYE-DHMA", os.urandom(32)))
    copy = tmp_path / "copy"
    shutil.copytree(dcourse.root, copy)
    (copy / ".exam-builder" / "secret").write_bytes(os.urandom(32))  # same database, another secret
    other = Course(copy)
    assert refused(CandidateSession(other).sign_in, "KEYE-DHMA").why == "wrong_code"
    other.db.dispose()
    assert CandidateSession(dcourse).sign_in("KEYE-DHMA").sitting_id == sid
    assert ".exam-builder/" in (formkit_repo() / ".gitignore").read_text().splitlines()


def formkit_repo():
    from coursekit import REPO

    return REPO


def test_sittings_with_old_unkeyed_hashes_get_new_codes_by_reissue(dcourse, form_id):
    with dcourse.db.transaction() as s:  # as revision 0003 left it: unkeyed hash, no date, no window
        old = Sitting(candidate_id="c005", exam_id=formkit.EXAM, seq=1, attempt_no=1, form_id=form_id, room="R9",
                      access_code_hash=hashlib.sha256(b"eb-access:OLDCODE1").hexdigest(), status="scheduled",
                      time_limit_minutes=180, opened_by="before")
        s.add(old)
        s.flush()
        sid = old.id
    assert refused(CandidateSession(dcourse).sign_in, "OLDC-ODE1").why == "wrong_code"
    out = run(dcourse, "sitting", "reissue", "cps", "--room", "R9", "--by", "coordinator-lee",
              "--reason", "codes from before keyed hashes")
    assert out.exit_code == 0, out.output
    [code] = re.findall(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b", out.output)
    cs = CandidateSession(dcourse).sign_in(code)
    assert cs.sitting_id == sid
    with dcourse.db.read() as s:
        sit = s.get(Sitting, sid)
        assert sit.scheduled_on == ops.room_today(dcourse)
        assert (sit.opens_at, sit.closes_at) == window.default_window(sit.scheduled_on, ZONE)
        [entry] = s.execute(select(AuditEntry).where(AuditEntry.action == "sitting.reissue_code")).scalars().all()
        assert (entry.actor, entry.entity_id) == ("coordinator-lee", str(sid))
    cards = list((dcourse.root / "exports").glob("seat-cards-cps-R9-*.html"))
    assert len(cards) == 1 and code in cards[0].read_text()
    cs.start()
    nothing = CliRunner().invoke(cli, ["--course", str(dcourse.root), "sitting", "reissue", "cps", "--room", "R9",
                                       "--by", "lee", "--reason", "again"])
    assert nothing.exit_code == 1 and "nothing to reissue" in nothing.output  # started: not reissued


# -- the journal's limits ------------------------------------------------------------------------------------
def test_saves_faster_than_the_limit_are_refused_and_shown_to_the_proctor(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c001", "FAST-FAST", form_id)
    course = configured(dcourse, max_saves_per_minute=3)
    clock = Clock()
    cs = CandidateSession(course, clock=clock).sign_in("FAST-FAST")
    cs.start()
    for value in ("A", "B", "A"):
        cs.answer("tf-hope", value)
        clock.advance(seconds=5)
    for _ in range(3):
        with pytest.raises(LimitReached) as exc:
            cs.flag("tf-hope")
        assert str(exc.value) == TOO_FAST and exc.value.why == "rate"
    assert events(course, sid, "limit") == [{"limit": "rate", "item": "tf-hope", "what": "flag"}]  # once a minute
    assert cs.answers()["tf-hope"].flagged is False
    clock.advance(seconds=50)  # the first save is now more than a minute old
    cs.flag("tf-hope")
    with course.db.read() as s:
        assert journal_counts(s, sid, clock() - dt.timedelta(minutes=1)) == (4, 2)  # at 10 s and now
    assert "Limit reached: too many saves in a minute." in alerts(course, formkit.EXAM)[0].text
    course.db.dispose()


def test_a_sitting_saves_at_most_max_journal_rows_changes(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c002", "FULL-FULL", form_id)
    course = configured(dcourse, max_journal_rows=4)
    clock = Clock()
    cs = CandidateSession(course, clock=clock).sign_in("FULL-FULL")
    cs.start()
    for value in ("A", "B", "A", "B"):
        cs.answer("tf-hope", value)
        clock.advance(minutes=1)
    with pytest.raises(LimitReached) as exc:
        cs.answer("mc-mutual", "A")
    assert str(exc.value) == TOO_MANY and exc.value.why == "rows"
    assert events(course, sid, "limit")[0]["limit"] == "rows"
    assert cs.submit().answered == 1  # the saved answers are safe and can be submitted
    with pytest.raises(LimitReached, match="longer than 20,000 characters"):
        cs.answer("or-story", "x" * 20_001)
    course.db.dispose()


# -- private files -----------------------------------------------------------------------------------------
def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_database_and_every_file_with_keys_or_codes_is_private(tmp_path, dcourse, form_id):
    from coursekit import new_course_dir

    from exam_builder.assembly.release import write_atomic

    root = new_course_dir(tmp_path / "fresh")
    c = Course(root)
    c.db.upgrade()
    with c.db.transaction() as s:  # a write: the -wal and -shm files exist now
        s.add(WrongCode(at=utcnow(), source="x"))
    db = root / "gradebook.db"
    for p in (db, db.with_name("gradebook.db-wal"), db.with_name("gradebook.db-shm")):
        assert p.exists() and _mode(p) == 0o600, p
    c.db.dispose()
    # an older, world-readable database is narrowed by `db upgrade`
    os.chmod(db, 0o644)
    c = Course(root)
    c.db.upgrade()
    assert _mode(db) == 0o600
    c.db.dispose()
    # exports (keys), form sources, seat cards: files 0600 in folders made 0700
    key = root / "exports" / "cps" / "keys" / "cps-A-key.csv"
    write_atomic(key, "number,key\n1,A\n", root=c.root)
    assert _mode(key) == 0o600
    assert all(_mode(p) == 0o700 for p in (root / "exports", root / "exports" / "cps", key.parent))
    write_atomic(key, "number,key\n1,A\n", root=c.root)  # unchanged: still private
    src = root / "source" / "cps-Z" / "cps-Z.ipynb"
    write_atomic(src, "{}", root=c.root)
    assert _mode(src) == 0o600 and _mode(src.parent) == 0o700
    res = ops.open_sittings(dcourse, formkit.EXAM, "R5", "coordinator-lee", ["c006"])
    assert _mode(res.seat_cards) == 0o600 and _mode(res.seat_cards.parent) == 0o700
    assert not [p for p in res.seat_cards.parent.iterdir() if p.name.endswith(".tmp")]
    assert "Sign-in: all day on" in res.seat_cards.read_text()


def test_the_rate_limit_holds_when_saves_arrive_at_once_through_separate_connections(dcourse, form_id):
    """Four connections (as several server processes would) save to one sitting at the same moment."""
    import threading

    sid = formkit.add_sitting(dcourse, "c003", "RACE-SAVE", form_id)
    course = configured(dcourse, max_saves_per_minute=10)
    holder = CandidateSession(course).sign_in("RACE-SAVE")
    holder.start()
    start = threading.Barrier(4)
    outcomes: list[str] = []
    courses = [Course(course.root) for _ in range(4)]

    def page(c: Course) -> None:
        cs = CandidateSession(c)  # the same lease, another engine (white-box: one page is one kernel)
        cs.sitting_id, cs.form, cs._lease = holder.sitting_id, holder.form, holder._lease
        start.wait()
        for k in range(5):
            try:
                cs.answer("or-story", f"text {k}")
                outcomes.append("saved")
            except LimitReached:
                outcomes.append("refused")

    threads = [threading.Thread(target=page, args=(c,)) for c in courses]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in courses:
        c.db.dispose()
    assert sorted(outcomes).count("saved") == 10 and outcomes.count("refused") == 10
    with course.db.read() as s:
        assert journal_counts(s, sid, utcnow() - dt.timedelta(minutes=1)) == (10, 10)
    course.db.dispose()


# -- no-shows: absent -----------------------------------------------------------------------

def test_a_no_show_becomes_absent_when_the_window_closes_and_the_room_view_says_so(dcourse, form_id):
    """The room view's refresh stores the state; the code is refused with a plain sentence; `attempts` shows it."""
    day = ops.room_today(dcourse)
    res = ops.open_sittings(dcourse, formkit.EXAM, "Room 11", "coordinator-lee", ["c004", "c005"], today=day,
                            opens="09:00", closes="12:00")
    clock = Clock(window.to_utc(day, 11, 59, ZONE))
    CandidateSession(dcourse, clock=clock).sign_in(res.opened[1].code).start()  # c005 came
    dash = ProctorDashboard(dcourse, formkit.EXAM, actor="proctor-kim", clock=clock)
    assert "<strong>0</strong> absent" in dash.totals.value
    clock.now = window.to_utc(day, 12, 0, ZONE)  # the window closes: c004 never started
    dash.refresh()
    assert "<strong>1</strong> absent" in dash.totals.value
    card = dash._cards[res.opened[0].sitting_id].info.value
    assert "eb-st-absent" in card and ">Absent<" in card
    with dcourse.db.read() as s:
        sit = s.get(Sitting, res.opened[0].sitting_id)
        assert sit.status == "absent" and sit.attempt_no is None
        [entry] = s.execute(select(AuditEntry).where(AuditEntry.action == "sitting.absent")).scalars().all()
        assert (entry.actor, entry.entity_id) == ("exam-builder", str(sit.id))
        assert entry.reason == "the sign-in window closed at " + window.local(
            window.to_utc(day, 12, 0, ZONE), ZONE).strftime("%Y-%m-%d %H:%M %Z") + " and the candidate never started"
        assert s.get(Sitting, res.opened[1].sitting_id).status == "in_progress"
    exc = refused(CandidateSession(dcourse, clock=clock).sign_in, res.opened[0].code)
    assert exc.why == "absent"
    assert str(exc) == "This code is no longer valid: the sign-in for this sitting has closed. Please ask the proctor."
    out = CliRunner(env={"COLUMNS": "250"}).invoke(cli, ["--course", str(dcourse.root), "attempts", "c004"],
                                                   catch_exceptions=False).output
    assert "absent" in out and "absent (not an attempt)" in out and "pending" not in out


def test_the_proctor_marks_absent_early_on_the_dashboard_and_in_the_cli(dcourse, form_id):
    res = ops.open_sittings(dcourse, formkit.EXAM, "Room 12", "coordinator-lee", ["c004", "c005", "c006"])
    ann, bo, cy = (o.sitting_id for o in res.opened)
    CandidateSession(dcourse).sign_in(res.opened[2].code).start()  # cy is writing
    dash = ProctorDashboard(dcourse, formkit.EXAM, actor="proctor-kim")
    dash.choose(ann)
    dash.reason.value = ""
    button(dash.root, "Mark absent").click()
    assert "Not done: Write the reason" in dash.message.value
    dash.reason.value = "called the office: ill today"
    button(dash.root, "Mark absent").click()
    assert "is marked absent: their code no longer works, and it does not count as an attempt" in dash.message.value
    assert "<strong>1</strong> absent" in dash.totals.value
    dash.choose(cy)
    button(dash.root, "Mark absent").click()
    assert "the candidate has started, so they are not absent" in dash.message.value
    # the CLI: refused without a reason, refused for a started sitting, done with one
    bad = run(dcourse, "sitting", "absent", str(bo), "--by", "proctor-kim", "--reason", " ")
    assert bad.exit_code != 0 and "give a reason" in bad.output
    assert "Missing option '--reason'" in CliRunner().invoke(
        cli, ["--course", str(dcourse.root), "sitting", "absent", str(bo), "--by", "proctor-kim"]).output
    assert "Missing option '--by'" in CliRunner().invoke(  # who marks absent is always said, never a login name
        cli, ["--course", str(dcourse.root), "sitting", "absent", str(bo), "--reason", "phoned"]).output
    helped = " ".join(CliRunner().invoke(cli, ["sitting", "absent", "--help"]).output.split())
    assert "SITTING is the sitting's number: the \"sitting\" column of `exam-builder attempts CANDIDATE`" in helped
    assert "proctor's view" in helped and ("--by TEXT Who marks the candidate absent (kept in the audit trail). "
                                           "[required]") in helped
    started = run(dcourse, "sitting", "absent", str(cy), "--by", "proctor-kim", "--reason", "left")
    assert started.exit_code != 0 and "in progress" in started.output
    ok = run(dcourse, "sitting", "absent", str(bo), "--by", "proctor-kim", "--reason", "no-show, phoned")
    assert ok.exit_code == 0, ok.output
    assert f"sitting {bo} (c005) marked absent; it does not count as an attempt" in ok.output
    with dcourse.db.read() as s:
        assert [s.get(Sitting, i).status for i in (ann, bo, cy)] == ["absent", "absent", "in_progress"]
        rows = s.execute(select(AuditEntry).where(AuditEntry.action == "sitting.absent")
                         .order_by(AuditEntry.id)).scalars()
        assert [(e.actor, e.entity_id, e.reason) for e in rows] == [
            ("proctor-kim", str(ann), "called the office: ill today"), ("proctor-kim", str(bo), "no-show, phoned")]
        assert audit.verify(s).ok
    exc = refused(CandidateSession(dcourse).sign_in, res.opened[0].code)
    assert exc.why == "marked_absent" and "the proctor marked this sitting absent" in str(exc)  # not "has closed"
    # reopening the room's sign-in does not bring back someone a proctor marked absent
    ops.open_now(dcourse, formkit.EXAM, "Room 12", "proctor-kim", "late bus")
    with dcourse.db.read() as s:
        assert s.get(Sitting, ann).status == "absent"


def test_eligibility_after_a_no_show_follows_the_policy(dcourse, form_id):
    """CPS: absent is not an attempt, and does not block; a program that counts it gets attempt 2 next."""
    day = ops.room_today(dcourse)
    yesterday = day - dt.timedelta(days=1)
    ops.open_sittings(dcourse, formkit.EXAM, "Room 13", "coordinator-lee", ["c004"], today=yesterday)
    again = ops.open_sittings(dcourse, formkit.EXAM, "Room 13", "coordinator-lee", ["c004"], today=day)
    assert [o.attempt_no for o in again.opened] == [1] and not again.refused
    with open(dcourse.root / "nbgrader_config.py", "a") as fh:
        fh.write("\nc.ProgramPolicy.absent_counts_as_attempt = True\n")
    counting = Course(dcourse.root)
    ops.open_sittings(counting, formkit.EXAM, "Room 13", "coordinator-lee", ["c005"], today=yesterday)
    later = ops.open_sittings(counting, formkit.EXAM, "Room 13", "coordinator-lee", ["c005"], today=day)
    assert [o.attempt_no for o in later.opened] == [2] and not later.refused
    out = CliRunner(env={"COLUMNS": "250"}).invoke(cli, ["--course", str(counting.root), "eligibility",
                                                         formkit.EXAM], catch_exceptions=False).output
    # only today's sittings wait for a result; the no-shows never read as pending
    assert "(absent)" not in out and out.count("has no result yet") == 2
    c005 = next(line for line in out.splitlines() if "c005" in line)
    assert "2 of 3" in c005 and "attempt 2 has no result yet (scheduled)" in c005


def test_a_signed_in_candidate_marked_absent_cannot_start_and_is_not_told_of_another_screen(dcourse, form_id):
    res = ops.open_sittings(dcourse, formkit.EXAM, "Room 14", "coordinator-lee", ["c004"])
    cs = CandidateSession(dcourse).sign_in(res.opened[0].code)
    ops.mark_absent(dcourse, res.opened[0].sitting_id, "proctor-kim", "wrong exam day, sent home")
    assert cs.refresh()[0] == "absent"
    with pytest.raises(SittingClosed):
        cs.start()


def test_the_exam_app_of_a_candidate_marked_absent_says_they_were_marked_absent(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c002", "APPS-ABSN", form_id)
    app = CandidateApp(dcourse)
    app.code.submit("APPS-ABSN")
    button(app.root, "Yes, this is me").click()
    ops.mark_absent(dcourse, sid, "proctor-kim", "sent home: wrong exam day")
    button(app.root, "Start the exam").click()
    assert app.screen == "closed"
    assert "This sitting was marked absent, so it can no longer be started. Please ask the proctor." in "".join(
        x.value for x in walk(app.body) if isinstance(x, w.HTML))
    assert "another screen" not in app.message.value


def test_seat_cards_carry_the_exam_address_candidates_type(dcourse, form_id):
    """`sitting open` prints the address of c.DeliverySettings.exam_address on every card; a setting that is
    no web address is refused by name before any sitting is opened."""
    config = dcourse.root / "nbgrader_config.py"
    original = config.read_text()
    config.write_text(original + '\nc.DeliverySettings.exam_address = "exam.example.org"\n')
    bad = run(Course(dcourse.root), "sitting", "open", "cps", "--room", "R6", "--candidate", "c005", "--by", "lee")
    assert bad.exit_code == 1 and "c.DeliverySettings.exam_address = 'exam.example.org' is not a web address" \
        in " ".join(bad.output.split()), bad.output
    with dcourse.db.read() as s:
        assert not s.execute(select(Sitting).where(Sitting.room == "R6")).scalars().all()  # nothing opened
    config.write_text(original + '\nc.DeliverySettings.exam_address = "http://10.0.0.5:8866/"\n')
    out = run(Course(dcourse.root), "sitting", "open", "cps", "--room", "R6", "--candidate", "c005", "--by", "lee")
    assert out.exit_code == 0, out.output
    card = next((dcourse.root / "exports").glob("seat-cards-cps-R6-*.html")).read_text()
    assert "Exam address: <strong class=\"address\">http://10.0.0.5:8866/</strong>" in card
    assert "Type this address in the browser" in card and "the exam page the proctor shows you" not in card
    config.write_text(original)


def test_a_seat_card_never_shows_a_candidates_time(dcourse, form_id):
    """Cards are handed out at the seat, where neighbours read them: time and a half would show an
    accommodation. No card says a time; the candidate's own screen shows their clock."""
    from exam_builder.records import accommodations

    with dcourse.db.transaction() as s:
        acc = accommodations.request(s, dcourse.policy, "c004", "extended_time", "coordinator-lee", multiplier=1.5,
                                     letter_on_file=dt.date(2026, 1, 5), zone=dcourse.zone)
        accommodations.approve(s, acc.id, "coordinator-lee", zone=dcourse.zone)
    out = run(dcourse, "sitting", "open", "cps", "--room", "R7", "--candidate", "c004", "--candidate", "c005",
              "--by", "lee")
    assert out.exit_code == 0, out.output
    with dcourse.db.read() as s:
        limits = {sit.candidate_id: sit.time_limit_minutes
                  for sit in s.execute(select(Sitting).where(Sitting.room == "R7")).scalars()}
    assert limits["c004"] == limits["c005"] * 1.5  # the accommodation is applied, on the sitting
    card = next((dcourse.root / "exports").glob("seat-cards-cps-R7-*.html")).read_text()
    assert card.count("Your access code:") == 2
    from exam_builder.delivery.session import format_minutes
    for minutes in limits.values():
        assert format_minutes(minutes) not in card
    assert "Time:" not in card and "hour" not in card and "minute" not in card
    assert not re.search(r"Attempt \d", card)  # nor a retake: "Attempt 2" tells neighbours
