"""Opening sittings with one-time access codes, and the proctor's audited changes to them.

A code is shown once (printed and on a seat card in the staff-side ``exports/`` folder, ``0600``);
the database keeps only its HMAC under the course's secret (``session.hash_code``). Each sitting
is for one date (``--date``, default today in the room's time zone) and may be started only in
its window (default: that whole date; ``set_window`` moves it). Adding time, recording a scribe,
voiding, moving a window, reissuing codes and lifting a source's lockout are audited with who
and why in the same transaction as the change.

Pausing (``pause``, ``pause_room``) stops a sitting's clock until ``resume``/``resume_room``: the
pause's start is stored on the sitting and, on resume, its length joins ``paused_seconds``, so the
deadline moves on by exactly the time it was paused (``Sitting.deadline_at``), whichever server
asks. A room pause is one pause per open sitting of that exam, room and date (each audited and
logged); resuming the room resumes those, not a candidate paused on their own.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from .. import clock
from ..errors import ExamBuilderError
from ..files import check_owned, place_temp, private_temp
from ..model.states import SITTING_FINISHED, AuditAction, EventKind, SittingStatus
from ..records import absence, access, audit, ledger
from ..records.events import record_event
from ..records.models import Exam, Sitting, utcnow
from ..records.queries import candidates as candidates_q, sittings as sittings_q
from . import window
from .session import CODE_ALPHABET, hash_code, settle_break

MAX_ADDED_MINUTES = 600


def new_code() -> str:
    """Eight characters from an unambiguous alphabet, shown as ABCD-EFGH."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


@dataclass
class Opened:
    candidate_id: str
    name: str
    sitting_id: int
    attempt_no: int | None
    time_limit_minutes: int
    code: str
    scheduled_on: dt.date | None = None
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None


@dataclass
class OpenResult:
    opened: list[Opened] = field(default_factory=list)
    refused: list[tuple[str, str, list[str]]] = field(default_factory=list)  # id, name, reasons
    seat_cards: Path | None = None


def room_zone(course, strict: bool = True) -> dt.tzinfo:
    """The room's time zone (``DeliverySettings.timezone``); a typo is an error on the staff side."""
    return window.room_zone(course.delivery_settings.timezone, strict=strict)


def room_today(course, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the exam room."""
    return window.local_today(now or utcnow(), room_zone(course))


def window_for(course, on: dt.date, opens: str | None = None,
               closes: str | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The window of a date: HH:MM in the room's time zone (default the whole date), as naive UTC."""
    zone = room_zone(course)
    start, end = window.default_window(on, zone)
    if opens:
        start = window.to_utc(on, *window.parse_hhmm(opens, "opening time"), zone)
    if closes:
        end = window.to_utc(on, *window.parse_hhmm(closes, "closing time"), zone)
    if end <= start:
        raise ExamBuilderError(f"the window would close ({closes or '24:00'}) before it opens ({opens or '00:00'}); "
                               "give a closing time after the opening time")
    return start, end


def open_sittings(course, exam: str, room: str, actor: str, candidates: list[str] | None = None,
                  today: dt.date | None = None, write_cards: bool = True, opens: str | None = None,
                  closes: str | None = None) -> OpenResult:
    """Open a sitting for each eligible candidate (one transaction); codes are returned once.

    ``today`` is the date the sittings are for (default: today in the room's time zone): the
    attempt rules are checked for that date, and the codes work only in that date's window
    (``opens``/``closes`` as HH:MM, default the whole date).
    """
    result = OpenResult()
    if not room.strip():
        raise ExamBuilderError("give the room (--room), it is printed on the seat cards and shown to the proctor")
    on = today or room_today(course)
    opens_at, closes_at = window_for(course, on, opens, closes)
    if write_cards:  # the seat cards' folder checked (files) before anything is made or recorded
        check_owned(course.reports_dir, course.root, "dir")
    with course.db.transaction() as s:
        exam_row = s.get(Exam, exam)
        if exam_row is None:
            raise ExamBuilderError(f"no exam {exam!r} in the database; build its forms first (exam-builder build "
                                   f"{exam})")
        people = candidates_q.select_candidates(s, candidates or None)
        missing = sorted(set(candidates or []) - {p.id for p in people})
        if missing:
            raise ExamBuilderError(f"not on the roster: {', '.join(missing)}; import the roster first")
        key = course.secret  # made on first need: not by a command refused above
        for person in people:
            try:
                with s.begin_nested():
                    sitting = ledger.open_sitting(s, course.policy, person.id, exam, actor, room=room, today=on,
                                                  zone=room_zone(course))
                    code = new_code()
                    sitting.access_code_hash = hash_code(code, key)
                    sitting.scheduled_on, sitting.opens_at, sitting.closes_at = on, opens_at, closes_at
                    s.flush()
            except ledger.NotEligible as exc:
                reasons = list(getattr(exc, "reasons", None) or [str(exc)])
                result.refused.append((person.id, person.name, [str(r) for r in reasons]))
                continue
            record_event(s, sitting.id, EventKind.opened, {"room": room, "by": actor, "date": on.isoformat()})
            result.opened.append(Opened(person.id, person.name, sitting.id, sitting.attempt_no,
                                        sitting.time_limit_minutes, code, on, opens_at, closes_at))
        # render the cards before committing: a template error leaves nothing half-written
        tmp = _cards_tmp(course, exam_row, room, result.opened) if (write_cards and result.opened) else None
    if tmp is not None:
        result.seat_cards = _cards_in_place(course, tmp)
    return result


def _cards_tmp(course, exam_row: Exam, room: str, opened: list[Opened]) -> tuple[str, Path]:
    """The seat cards rendered into a private temporary file in ``exports/`` (codes: owner only), and
    where they go; both checked (``files``) before the sittings are committed."""
    html = render_seat_cards(course, exam_row, room, opened)
    target = cards_path(course, exam_row.id, room)
    check_owned(target, course.root)
    fd, tmp = private_temp(course.reports_dir, "seat-cards", course.root)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(html)
    return tmp, target


def _cards_in_place(course, cards: tuple[str, Path]) -> Path:
    tmp, target = cards
    place_temp(tmp, target, course.root)  # made exclusively in the checked folder: never through a link
    return target


def cards_path(course, exam: str, room: str) -> Path:
    """Where the seat cards of a room opened now go (``exports/``)."""
    stamp = clock.stamp(utcnow(), course.zone)
    return course.reports_dir / f"seat-cards-{exam}-{_slug(room)}-{stamp}.html"


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text.strip()) or "room"


def render_seat_cards(course, exam: Exam, room: str, opened: list[Opened]) -> str:
    env = Environment(loader=PackageLoader("exam_builder.delivery", "templates"), autoescape=select_autoescape())
    zone = room_zone(course, strict=False)
    # no attempt number: neighbours read a card at the seat, and "Attempt 2" tells them of a retake (staff see
    # it in what `sitting open` prints and in `attempts`)
    cards = [dict(name=o.name or o.candidate_id, candidate_id=o.candidate_id, code=o.code,
                  date_text=f"{window.day_text(o.scheduled_on)} {o.scheduled_on.year}" if o.scheduled_on else "",
                  window_text=window.window_text(o.opens_at, o.closes_at, zone) if o.opens_at else "")
             for o in opened]
    return env.get_template("seat_cards.html.j2").render(
        program=course.policy.program_name, exam=exam.id, exam_title=exam.title or exam.id, room=room, cards=cards,
        address=exam_address(course))


_ADDRESS = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(:[0-9]{1,5})?(/[^\s<>\"']*)?\Z")


def exam_address(course) -> str:
    """The address candidates type (``c.DeliverySettings.exam_address``), checked; "" when unset."""
    address = (course.delivery_settings.exam_address or "").strip()
    if address and not _ADDRESS.match(address):
        raise ExamBuilderError(f"c.DeliverySettings.exam_address = {address!r} is not a web address; write it as "
                               "candidates type it, e.g. 'http://10.0.0.5:8866/', in nbgrader_config.py")
    return address


# -- the proctor's changes (audited) ---------------------------------------------------------
def _need(reason: str, actor: str) -> None:
    if not (reason or "").strip():
        raise ExamBuilderError("give a reason (--reason); it is kept in the audit trail")
    if not (actor or "").strip():
        raise ExamBuilderError("say who is making the change (--by)")


def _open_sitting_row(s, sitting_id: int) -> Sitting:
    sit = sittings_q.select_sitting_fresh(s, sitting_id, lock=True)
    if sit is None:
        raise ExamBuilderError(f"no sitting {sitting_id}")
    if sit.status in SITTING_FINISHED:
        raise ExamBuilderError(f"sitting {sitting_id} is {sit.status}; it can no longer be changed")
    return sit


def add_time(course, sitting_id: int, minutes: int, actor: str, reason: str) -> Sitting:
    """Give one candidate more time; the deadline (and their countdown) follows at once."""
    _need(reason, actor)
    if not 0 < int(minutes) <= MAX_ADDED_MINUTES:
        raise ExamBuilderError(f"minutes must be between 1 and {MAX_ADDED_MINUTES}, not {minutes}")
    with course.db.transaction() as s:
        sit = _open_sitting_row(s, sitting_id)
        before = sit.extra_minutes
        sit.extra_minutes = before + int(minutes)
        audit.record(s, actor, AuditAction.add_time, "sitting", sit.id, reason, minutes=int(minutes),
                     extra_minutes_before=before, extra_minutes_after=sit.extra_minutes,
                     candidate=sit.candidate_id)
        record_event(s, sit.id, EventKind.time_added, {"minutes": int(minutes), "by": actor})
        return sit


def record_scribe(course, sitting_id: int, scribe: str, actor: str,
                  reason: str = "approved scribe accommodation") -> Sitting:
    """From now on a scribe writes for the candidate; responses record the scribe's name."""
    _need(reason, actor)
    if not scribe.strip():
        raise ExamBuilderError("give the scribe's name")
    with course.db.transaction() as s:
        sit = _open_sitting_row(s, sitting_id)
        before = sit.scribe_name
        sit.scribe_name = scribe.strip()
        audit.record(s, actor, AuditAction.record_scribe, "sitting", sit.id, reason, scribe=sit.scribe_name,
                     scribe_before=before, candidate=sit.candidate_id)
        record_event(s, sit.id, EventKind.scribe, {"scribe": sit.scribe_name, "by": actor})
        return sit


def mark_absent(course, sitting_id: int, actor: str, reason: str, now: dt.datetime | None = None) -> Sitting:
    """The proctor marks a candidate absent before the window closes (a no-show the room knows of); audited."""
    _need(reason, actor)
    with course.db.transaction() as s:
        return absence.mark_absent(s, course.policy, sitting_id, actor, reason, now)


# -- pauses: the clock stops, for one candidate or a whole room (audited) ----------------------------
def _pause_row(s, sit: Sitting, actor: str, reason: str, now: dt.datetime, room: bool) -> bool:
    """Stop one sitting's clock (under its row lock); False when it was already paused or its time is over."""
    if sit.paused_at is not None:
        return False
    deadline = sit.deadline_at(now)
    if deadline is not None and now >= deadline:  # over already: it is submitted, not paused
        return False
    settle_break(s, sit, now, "paused")  # a break running now ends here; the pause takes over
    sit.paused_at, sit.paused_by, sit.pause_reason = now, actor, reason
    audit.record(s, actor, AuditAction.sitting_pause, "sitting", sit.id, reason, candidate=sit.candidate_id,
                 room=sit.room, whole_room=room, started=sit.started_at is not None)
    record_event(s, sit.id, EventKind.paused, {"by": actor, "reason": reason, "room": room}, at=now)
    return True


def _resume_row(s, sit: Sitting, actor: str, reason: str, now: dt.datetime, room: bool) -> float | None:
    """Run a paused sitting's clock again; the seconds it stood still (added to its deadline), or None."""
    if sit.paused_at is None:
        return None
    stood = 0.0
    if sit.started_at is not None:  # a sitting paused before it started has no clock to move
        stood = max((now - max(sit.paused_at, sit.started_at)).total_seconds(), 0.0)
    sit.paused_seconds = (sit.paused_seconds or 0.0) + stood
    audit.record(s, actor, AuditAction.sitting_resume, "sitting", sit.id, reason, candidate=sit.candidate_id,
                 room=sit.room, whole_room=room, paused_at=sit.paused_at, paused_by=sit.paused_by,
                 pause_reason=sit.pause_reason, seconds=round(stood, 3))
    record_event(s, sit.id, EventKind.resumed, {"by": actor, "reason": reason, "room": room,
                                                "seconds": round(stood, 3)}, at=now)
    sit.paused_at = sit.paused_by = sit.pause_reason = None
    return stood


def pause(course, sitting_id: int, actor: str, reason: str, now: dt.datetime | None = None) -> Sitting:
    """Pause one candidate: their clock stops and their screen accepts no answers until ``resume``."""
    _need(reason, actor)
    now = now or utcnow()
    with course.db.transaction() as s:
        sit = _open_sitting_row(s, sitting_id)
        if sit.paused_at is not None:
            raise ExamBuilderError(f"sitting {sitting_id} is already paused (since {_when(course, sit.paused_at)}, "
                                   f"by {sit.paused_by}); resume it first")
        if not _pause_row(s, sit, actor, reason.strip(), now, room=False):
            raise ExamBuilderError(f"sitting {sitting_id}'s time is already over; it is submitted, not paused")
        return sit


def resume(course, sitting_id: int, actor: str, reason: str, now: dt.datetime | None = None) -> tuple[Sitting, float]:
    """Resume one paused candidate (theirs or their room's pause): (the sitting, seconds it was paused)."""
    _need(reason, actor)
    now = now or utcnow()
    with course.db.transaction() as s:
        sit = _open_sitting_row(s, sitting_id)
        stood = _resume_row(s, sit, actor, reason.strip(), now, room=False)
        if stood is None:
            raise ExamBuilderError(f"sitting {sitting_id} is not paused")
        return sit, stood


def pause_room(course, exam: str, room: str, actor: str, reason: str, on: dt.date | None = None,
               now: dt.datetime | None = None) -> list[Sitting]:
    """Pause every open sitting of a room on a date (a fire alarm); the ones paused now (one pause each)."""
    _need(reason, actor)
    now = now or utcnow()
    on = on or room_today(course, now)
    with course.db.transaction() as s:
        sits = sittings_q.select_room_sittings(s, exam, room, on)
        if not sits:
            raise ExamBuilderError(f"no open sitting of {exam} in room {room!r} on {on.isoformat()} to pause "
                                   "(check the room's name and the date; see the proctor's room view)")
        paused = [sit for sit in sits if _pause_row(s, sit, actor, reason.strip(), now, room=True)]
        if not paused:
            raise ExamBuilderError(f"every open sitting of {exam} in room {room!r} on {on.isoformat()} "
                                   "is paused already")
        return paused


def resume_room(course, exam: str, room: str, actor: str, reason: str, on: dt.date | None = None,
                now: dt.datetime | None = None) -> list[Sitting]:
    """Resume the sittings a room pause stopped (a candidate paused on their own stays paused)."""
    _need(reason, actor)
    now = now or utcnow()
    on = on or room_today(course, now)
    with course.db.transaction() as s:
        resumed = []
        for sit in sittings_q.select_room_sittings(s, exam, room, on):
            last = (sittings_q.select_last_event_details(s, sit.id, EventKind.paused) if sit.paused_at is not None
                    else None)
            if last is not None and last.get("room") and _resume_row(s, sit, actor, reason.strip(), now, room=True) \
                    is not None:
                resumed.append(sit)
        if not resumed:
            raise ExamBuilderError(f"room {room!r} of {exam} on {on.isoformat()} is not paused")
        return resumed


def room_said(room: str, start: bool = False) -> str:
    """A room as a sentence names it: "room R1", or "Room 7" when its name already says room (never "Room Room 7")."""
    room = str(room).strip()
    if room.casefold().startswith("room"):
        return room
    return f"{'Room' if start else 'room'} {room}"


def room_pause_said(room: str, sits: list[Sitting], resumed: bool = False) -> str:
    """What pausing (or resuming) a room did, said apart for candidates writing and those not started yet.

    A room pause holds the sittings not started too (nobody starts in a paused room), so the count
    says which is which.
    """
    writing = sum(1 for sit in sits if sit.status == SittingStatus.in_progress)
    waiting = len(sits) - writing
    parts = []
    if writing:
        parts.append(f"{writing} candidate(s) in progress " + (
            "have the time they had when it was paused" if resumed else "have their clocks stopped"))
    if waiting:
        parts.append(f"{waiting} not started yet " + (
            "may start now" if resumed else "cannot start until the room is resumed"))
    return f"{room_said(room, start=True)} is {'resumed' if resumed else 'paused'}: {'; '.join(parts)}."


def _when(course, at: dt.datetime) -> str:
    return window.clock_12h(window.local(at, room_zone(course, strict=False)))


def void(course, sitting_id: int, actor: str, reason: str) -> None:
    """Void a sitting through the ledger (it stops counting as an attempt; audited there)."""
    _need(reason, actor)
    with course.db.transaction() as s:
        if s.get(Sitting, sitting_id) is None:
            raise ExamBuilderError(f"no sitting {sitting_id}")
        ledger.void_sitting(s, sitting_id, actor, reason)
        record_event(s, sitting_id, EventKind.voided, {"by": actor})


def set_window(course, exam: str, room: str, actor: str, reason: str, on: dt.date | None = None,
               opens_at: dt.datetime | None = None, closes_at: dt.datetime | None = None,
               now: dt.datetime | None = None) -> list[Sitting]:
    """Move the window of a room's sittings for one date (naive UTC; None keeps that end); audited per sitting.

    Sittings already submitted or voided are left alone; sittings in progress keep running (the
    window only governs starting). Sittings the window's close made absent come back when the new
    window has not closed yet (``records.absence.reopen``, audited); ones a proctor marked absent stay.
    """
    _need(reason, actor)
    now = now or utcnow()  # one time source: the events say the time the caller acted at
    on = on or room_today(course, now)
    if opens_at is None and closes_at is None:
        raise ExamBuilderError("give the opening time, the closing time or both (--opens, --closes)")
    changed = []
    with course.db.transaction() as s:
        sits = sittings_q.select_room_sittings(s, exam, room, on)
        day_start, day_end = window.default_window(on, room_zone(course))
        for sit in sittings_q.select_room_absent(s, exam, room, on):
            if (closes_at or sit.closes_at or day_end) > now and absence.absent_by_window(s, sit):
                sits.append(absence.reopen(s, sit, actor, f"sign-in reopened: {reason.strip()}", now))
        if not sits:
            raise ExamBuilderError(f"no open sitting of {exam} in room {room!r} on {on.isoformat()} "
                                   "(check the room's name and the date; see the proctor's dashboard)")
        for sit in sits:
            before = (sit.opens_at, sit.closes_at)
            new_opens = opens_at or sit.opens_at or day_start
            new_closes = closes_at or sit.closes_at or day_end
            if new_closes < new_opens:
                raise ExamBuilderError("the window would close before it opens; give a closing time after the opening "
                                       "time")
            sit.opens_at, sit.closes_at = new_opens, new_closes
            audit.record(s, actor, AuditAction.sitting_window, "sitting", sit.id, reason.strip(),
                         candidate=sit.candidate_id, room=room, date=on, opens_before=before[0],
                         closes_before=before[1], opens_after=new_opens, closes_after=new_closes)
            record_event(s, sit.id, EventKind.window, {"by": actor, "opens": new_opens.isoformat(timespec="seconds"),
                                                       "closes": new_closes.isoformat(timespec="seconds")}, at=now)
            changed.append(sit)
    return changed


def open_now(course, exam: str, room: str, actor: str, reason: str, now: dt.datetime | None = None) -> list[Sitting]:
    """The proctor opens today's sign-in for a room now, until the end of today (or the later closing time)."""
    now = now or utcnow()
    on = room_today(course, now)
    end_of_day = window.default_window(on, room_zone(course))[1]
    with course.db.read() as s:
        closes = sittings_q.select_room_closing_times(s, exam, room, on)
    later = max([c for c in closes if c is not None and c > now], default=end_of_day)
    return set_window(course, exam, room, actor, reason, on, opens_at=now, closes_at=later, now=now)


def close_now(course, exam: str, room: str, actor: str, reason: str, now: dt.datetime | None = None) -> list[Sitting]:
    """The proctor closes today's sign-in for a room now (candidates already started carry on)."""
    now = now or utcnow()
    on = room_today(course, now)
    with course.db.read() as s:
        opens = sittings_q.select_room_opening_times(s, exam, room, on)
    earliest = min([o for o in opens if o is not None] + [now])
    return set_window(course, exam, room, actor, reason, on, opens_at=earliest, closes_at=now, now=now)


def reissue_codes(course, exam: str, room: str, actor: str, reason: str, on: dt.date | None = None,
                  write_cards: bool = True) -> OpenResult:
    """New codes (and seat cards) for a room's sittings not yet started; the old codes stop working. Audited.

    For sittings opened before codes were keyed (revision 0004), or a lost seat card. ``on``
    picks the sittings of that date; a sitting without a date gets ``on`` (default today in the
    room's time zone) and that date's whole-day window.
    """
    _need(reason, actor)
    if write_cards:  # the seat cards' folder checked (files) before anything is made or recorded
        check_owned(course.reports_dir, course.root, "dir")
    result = OpenResult()
    zone = room_zone(course)
    with course.db.transaction() as s:
        exam_row = s.get(Exam, exam)
        if exam_row is None:
            raise ExamBuilderError(f"no exam {exam!r} in the database")
        rows = sittings_q.select_waiting_with_candidates(s, exam, room, on)
        if not rows:
            raise ExamBuilderError(f"no sitting of {exam} in room {room!r} is waiting to start; nothing to reissue")
        key = course.secret  # made on first need: not by a command refused above
        for sit, cand in rows:
            code = new_code()
            sit.access_code_hash = hash_code(code, key)
            sit.lease_token = None
            if sit.scheduled_on is None:
                sit.scheduled_on = on or room_today(course)
                sit.opens_at, sit.closes_at = window.default_window(sit.scheduled_on, zone)
            audit.record(s, actor, AuditAction.sitting_reissue_code, "sitting", sit.id, reason.strip(),
                         candidate=sit.candidate_id, room=room, date=sit.scheduled_on)
            record_event(s, sit.id, EventKind.code_reissued, {"by": actor})
            result.opened.append(Opened(cand.id, cand.name, sit.id, sit.attempt_no, sit.time_limit_minutes, code,
                                        sit.scheduled_on, sit.opens_at, sit.closes_at))
        tmp = _cards_tmp(course, exam_row, room, result.opened) if write_cards else None
    if tmp is not None:
        result.seat_cards = _cards_in_place(course, tmp)
    return result


def unlock_source(course, source: str, actor: str, reason: str, now: dt.datetime | None = None) -> int:
    """The proctor lifts a source's lockout after too many wrong codes (audited); how many lockouts were lifted."""
    _need(reason, actor)
    if not (source or "").strip():
        raise ExamBuilderError("say which computer to unlock (its address, as the dashboard lists it)")
    with course.db.transaction() as s:
        return len(access.lift(s, source.strip(), actor, reason, now or utcnow()))


def lockouts(course, now: dt.datetime | None = None) -> list[access.Lockout]:
    """Sources locked out now (for the dashboard and ``sitting lockouts``)."""
    with course.db.read() as s:
        locks = access.current_lockouts(s, now or utcnow())
        s.expunge_all()  # plain rows, still readable after the session ends
        return locks


def set_window_at(course, exam: str, room: str, actor: str, reason: str, on: dt.date | None = None,
                  opens: str | None = None, closes: str | None = None) -> tuple[dt.date, list[Sitting]]:
    """``set_window`` with the times as staff type them (HH:MM, the room's time); returns the date too."""
    day = on or room_today(course)
    zone = room_zone(course)

    def at(text: str | None, what: str) -> dt.datetime | None:
        return window.to_utc(day, *window.parse_hhmm(text, what), zone) if text else None

    return day, set_window(course, exam, room, actor, reason, day,
                           opens_at=at(opens, "opening time"), closes_at=at(closes, "closing time"))
