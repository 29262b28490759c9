"""The proctor's room without widgets (``delivery.proctor_session``): a real course database through a
room's day, as the room view drives it, with every change's audit row; the view's own state (the date
that follows today, the room, the filters, the chosen candidate)."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import delivery_formkit as formkit
import pytest
from sqlalchemy import func, select

from exam_builder.delivery import sittings as ops, window
from exam_builder.delivery.proctor_session import NO_RESUME_NOTE, STATE_TEXT, ProctorSession
from exam_builder.delivery.session import CandidateSession, SignInFailed, SittingPaused
from exam_builder.errors import ExamBuilderError
from exam_builder.records import identity
from exam_builder.records.absence import SYSTEM_ACTOR
from exam_builder.records.models import AuditEntry

REPO = Path(__file__).resolve().parents[2]
PROCTOR = "R. Proctor"


class Clock:
    """The server clock, moved by the test (the room view and the candidates read the same one)."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += dt.timedelta(**kw)


def _last_audit_id(course) -> int:
    with course.db.read() as s:
        return s.execute(select(func.max(AuditEntry.id))).scalar() or 0


def _audit_since(course, after: int) -> list[tuple[str, str, str, str]]:
    """(action, actor, sitting id, reason) of every audit row written after ``after``, in order."""
    with course.db.read() as s:
        return [(str(e.action), e.actor, e.entity_id, e.reason) for e in s.execute(
            select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id)).scalars()]


def _states(proctor: ProctorSession) -> dict[str, str]:
    return {r.candidate_id: r.state for r in proctor.rows}


@pytest.fixture
def room(dcourse):
    """Four candidates booked in room R1 today (a whole-day window); the clock at 9:00 in the room."""
    today = ops.room_today(dcourse)
    clock = Clock(window.to_utc(today, 9, 0, ops.room_zone(dcourse)))
    opened = ops.open_sittings(dcourse, formkit.EXAM, "R1", "coordinator", ["c001", "c002", "c003", "c004"],
                               today=today, write_cards=False)
    codes = {o.candidate_id: o.code for o in opened.opened}
    yield dcourse, clock, today, codes
    identity.reset()


def test_a_room_through_its_day_every_change_audited(room):
    course, clock, today, codes = room
    proctor = ProctorSession(course, formkit.EXAM, clock=clock)
    st = proctor.refresh()
    assert (st.on, st.room, st.rooms) == (today, "R1", ["R1"])  # the one room of today, chosen by itself
    assert [(r.candidate_id, r.name, r.state) for r in st.rows] == [
        ("c001", "Pat0 Example0", "not_arrived"), ("c002", "Pat1 Example1", "not_arrived"),
        ("c003", "Pat2 Example2", "not_arrived"), ("c004", "Pat3 Example3", "not_arrived")]
    assert st.totals == {**dict.fromkeys(STATE_TEXT, 0), "not_arrived": 4}
    ids = {r.candidate_id: r.sitting_id for r in st.rows}
    limit = st.rows[0].time_limit_minutes
    before = _last_audit_id(course)

    # nothing changes without a candidate, a name and a reason, asked in that order
    with pytest.raises(ExamBuilderError, match="Choose a candidate first"):
        proctor.add_time(10, "computer froze")
    assert proctor.choose(ids["c001"]) == ids["c001"]
    with pytest.raises(ExamBuilderError, match="Type your name in “Your name”"):
        proctor.add_time(10, "computer froze")
    proctor.name = PROCTOR
    with pytest.raises(ExamBuilderError, match="Write the reason in “Reason” first"):
        proctor.add_time(10, "  ")
    with pytest.raises(ExamBuilderError, match="Choose a room first"):
        proctor.pause_room(None, "fire alarm")
    assert _audit_since(course, before) == []

    # arrivals: signed in, then writing
    first = CandidateSession(course, clock=clock).sign_in(codes["c001"])
    second = CandidateSession(course, clock=clock).sign_in(codes["c002"])
    proctor.refresh()
    assert _states(proctor) == {"c001": "signed_in", "c002": "signed_in", "c003": "not_arrived", "c004": "not_arrived"}
    for cs in (first, second):
        cs.confirm_identity()
        cs.start()
    clock.advance(minutes=5)
    first.answer("tf-hope", "A")
    st = proctor.refresh()
    assert _states(proctor) == {"c001": "writing", "c002": "writing", "c003": "not_arrived", "c004": "not_arrived"}
    assert (proctor.row(ids["c001"]).answered, proctor.row(ids["c001"]).total) == (1, 5)
    assert st.totals["writing"] == 2 and st.shown == st.rows

    # a pause for one candidate: the clock stands still, the candidate's changes are refused
    assert proctor.pause("computer froze") == ("Pat0 Example0 is paused: their clock has stopped and their screen "
                                               "says why.")
    proctor.refresh()
    left = proctor.row(ids["c001"]).time_left
    clock.advance(minutes=7)
    st = proctor.refresh()
    paused = proctor.row(ids["c001"])
    assert paused.state == "paused" and STATE_TEXT[paused.state] == "Paused"
    assert (paused.stop.kind, paused.stop.reason, paused.time_left) == ("pause", "computer froze", left)
    assert st.totals["paused"] == 1 and st.totals["writing"] == 1
    with pytest.raises(SittingPaused):
        first.answer("tf-hope", "B")
    assert proctor.resume("new computer") == "Pat0 Example0 is back: 7 minutes paused, added to their time."
    proctor.refresh()
    assert proctor.row(ids["c001"]).state == "writing" and proctor.row(ids["c001"]).time_left == left

    # added time for another candidate, named by sitting (the chosen one stays chosen)
    assert proctor.add_time(15, "scribe set up late", sitting_id=ids["c002"]) == (
        f"Added 15 minutes for Pat1 Example1; their time is now {_minutes(limit + 15)} (15 minutes added in all).")
    proctor.refresh()
    assert proctor.row(ids["c002"]).extra_minutes == 15 and proctor.selected == ids["c001"]

    # a no-show the room knows of, marked absent: their code stops working
    text = proctor.mark_absent("phoned in sick", sitting_id=ids["c004"])
    assert text.startswith("Pat3 Example3 is marked absent: their code no longer works, and it ")
    with pytest.raises(ExamBuilderError, match="has started"):
        proctor.mark_absent("wrong person", sitting_id=ids["c001"])
    with pytest.raises(SignInFailed, match="no longer valid"):
        CandidateSession(course, clock=clock).sign_in(codes["c004"])
    proctor.refresh()
    assert proctor.row(ids["c004"]).state == "absent"

    # the whole room paused (a fire alarm), then resumed: every open sitting, each its own audit row
    # said apart: two writing, one not arrived yet (held too: nobody starts in a paused room)
    assert proctor.pause_room("R1", "fire alarm") == ("Room R1 is paused: 2 candidate(s) in progress have their "
                                                      "clocks stopped; 1 not started yet cannot start until the room "
                                                      "is resumed.")
    st = proctor.refresh()
    assert _states(proctor) == {"c001": "paused", "c002": "paused", "c003": "not_arrived", "c004": "absent"}
    assert proctor.row(ids["c003"]).stop is not None and st.totals["paused"] == 2
    clock.advance(minutes=3)
    assert proctor.resume_room("R1", "all clear") == (
        "Room R1 is resumed: 2 candidate(s) in progress have the time they had when it was paused; 1 not started "
        "yet may start now.")

    # a submission, and its confirmation number found as it is read aloud
    receipt = second.submit()
    found = proctor.find(receipt.confirmation.lower().replace("-", ""))
    assert [m.sitting_id for m in found.matches] == [ids["c002"]]
    assert found.lines[0].startswith(f"{receipt.confirmation}: Pat1 Example1 (c002), exam {formkit.EXAM}, room R1, "
                                     "submitted at ") and found.lines[0].endswith("(by the candidate).")
    nothing = proctor.find("ZZZZ-ZZZZ")
    assert nothing.matches == [] and nothing.lines[0].startswith("No submitted sitting has confirmation number "
                                                                 "ZZZZ-ZZZZ")
    with pytest.raises(ExamBuilderError, match="is not a confirmation number"):
        proctor.find("K7Q4")

    st = proctor.refresh()
    assert _states(proctor) == {"c001": "writing", "c002": "submitted", "c003": "not_arrived", "c004": "absent"}
    assert st.totals == {**dict.fromkeys(STATE_TEXT, 0), "writing": 1, "submitted": 1, "not_arrived": 1, "absent": 1}
    s1, s2, s3, s4 = (str(ids[c]) for c in ("c001", "c002", "c003", "c004"))
    assert _audit_since(course, before) == [
        ("sitting.pause", PROCTOR, s1, "computer froze"),
        ("sitting.resume", PROCTOR, s1, "new computer"),
        ("add_time", PROCTOR, s2, "scribe set up late"),
        ("sitting.absent", PROCTOR, s4, "phoned in sick"),
        ("sitting.pause", PROCTOR, s1, "fire alarm"), ("sitting.pause", PROCTOR, s2, "fire alarm"),
        ("sitting.pause", PROCTOR, s3, "fire alarm"),
        ("sitting.resume", PROCTOR, s1, "all clear"), ("sitting.resume", PROCTOR, s2, "all clear"),
        ("sitting.resume", PROCTOR, s3, "all clear"),
    ]


def test_a_resume_needs_no_reason_and_a_note_is_kept_as_the_resumes(room):
    """The pause had its reason (the candidate read it); a resume asks for none, and a note written
    for it is recorded as the resume's, never taken from the pause's box."""
    course, clock, _today, codes = room
    proctor = ProctorSession(course, formkit.EXAM, clock=clock)
    st = proctor.refresh()
    ids = {r.candidate_id: r.sitting_id for r in st.rows}
    proctor.name = PROCTOR
    for cid in ("c001", "c002"):
        one = CandidateSession(course, clock=clock).sign_in(codes[cid])
        one.confirm_identity()
        one.start()
    proctor.choose(ids["c001"])
    proctor.pause("feels unwell")
    clock.advance(minutes=2)
    assert proctor.resume(None) == "Pat0 Example0 is back: 2 minutes paused, added to their time."
    proctor.pause_room("R1", "fire alarm")
    assert proctor.resume_room("R1", "  all clear ").startswith("Room R1 is resumed: ")
    with course.db.read() as s:
        kept = s.execute(select(AuditEntry.entity_id, AuditEntry.reason).where(AuditEntry.action == "sitting.resume")
                         .order_by(AuditEntry.id)).all()
    assert [tuple(k) for k in kept][:2] == [(str(ids["c001"]), NO_RESUME_NOTE), (str(ids["c001"]), "all clear")]
    assert {k.reason for k in kept[1:]} == {"all clear"}


def _minutes(n: int) -> str:
    h, m = divmod(n, 60)
    return " ".join(p for p in (f"{h} hour{'s' if h != 1 else ''}" if h else "",
                                f"{m} minute{'s' if m != 1 else ''}" if m else "") if p)


def test_signed_in_through_the_hub_changes_are_the_hub_users_whatever_is_typed(room):
    course, clock, _today, _codes = room
    identity.from_hub("hub-proctor")
    proctor = ProctorSession(course, formkit.EXAM, actor="someone typed", clock=clock)
    assert proctor.name == "hub-proctor" and proctor.hub_name == "hub-proctor"
    proctor.refresh()
    sid = proctor.rows[0].sitting_id
    proctor.name = "an impostor"  # what a page's message might set
    before = _last_audit_id(course)
    proctor.record_scribe("Sam Scribe", "approved scribe", sitting_id=sid)
    proctor.void("left ill", confirmed=True, sitting_id=sid)
    assert _audit_since(course, before) == [("record_scribe", "hub-proctor", str(sid), "approved scribe"),
                                            ("sitting.void", "hub-proctor", str(sid), "left ill")]


def test_the_view_follows_today_keeps_the_chosen_candidate_and_settles_no_shows(room):
    course, clock, today, codes = room
    proctor = ProctorSession(course, formkit.EXAM, actor=PROCTOR, clock=clock)
    proctor.refresh()
    ids = {r.candidate_id: r.sitting_id for r in proctor.rows}
    writer = CandidateSession(course, clock=clock).sign_in(codes["c001"])
    writer.confirm_identity()
    writer.start()
    with pytest.raises(ExamBuilderError, match="Tick “Yes, void this sitting” first"):
        proctor.void("left ill", confirmed=False, sitting_id=ids["c002"])

    proctor.choose(ids["c002"])
    proctor.set_show("open")
    assert [r.candidate_id for r in proctor.refresh().shown] == ["c001", "c002", "c003", "c004"]
    proctor.void("left ill", confirmed=True)  # the chosen one
    st = proctor.refresh()
    assert [r.candidate_id for r in st.shown] == ["c001", "c002", "c003", "c004"]  # voided, still chosen: listed
    assert proctor.choose(ids["c002"]) is None  # chosen again: nobody
    assert [r.candidate_id for r in proctor.refresh().shown] == ["c001", "c003", "c004"]
    with pytest.raises(ExamBuilderError, match="“Show” is one of"):
        proctor.set_show("everything")

    # a room the proctor picked is kept; every room again when it has nothing on the date shown
    proctor.set_room("R1")
    assert proctor.refresh().room == "R1" and not proctor.room_is_auto
    # the page is left open past midnight: the date follows today; the sitting in progress stays in view
    proctor.choose(ids["c003"])
    clock.now = window.to_utc(today + dt.timedelta(days=1), 0, 30, ops.room_zone(course))
    proctor.set_show("all")
    st = proctor.refresh()
    assert st.on == today + dt.timedelta(days=1) and [r.candidate_id for r in st.rows] == ["c001"]
    assert st.room == "R1" and proctor.selected is None  # the chosen no-show is no longer listed
    # yesterday: the no-shows whose window closed are absent, stored by exam-builder itself
    proctor.set_date(today)
    st = proctor.refresh()
    assert not proctor.follows_today and st.on == today
    assert _states(proctor) == {"c001": "writing", "c002": "voided", "c003": "absent", "c004": "absent"}
    assert st.totals["absent"] == 2
    with course.db.read() as s:
        settled = [(e.actor, e.entity_id) for e in s.execute(select(AuditEntry).where(
            AuditEntry.action == "sitting.absent").order_by(AuditEntry.id)).scalars()]
    assert settled == [(SYSTEM_ACTOR, str(ids["c003"])), (SYSTEM_ACTOR, str(ids["c004"]))]


def test_the_session_imports_no_widgets():
    """UI-free: importing it loads no ipywidgets (a scripted proctor, the demo and the CLI need none)."""
    code = ("import sys, exam_builder.delivery.proctor_session; "
            "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported'")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
