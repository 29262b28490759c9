"""Opening sittings with one-time access codes, and the proctor's audited changes to them.

A code is shown once (printed and on a seat card in the staff-side ``exports/`` folder); the
database keeps only its hash. Adding time, recording a scribe and voiding are audited with who
and why in the same transaction as the change.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select

from ..errors import ExamBuilderError
from ..records import audit, ledger
from ..records.models import Candidate, Exam, Sitting, SittingEvent, utcnow
from .session import CODE_ALPHABET, format_minutes, hash_code

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


@dataclass
class OpenResult:
    opened: list[Opened] = field(default_factory=list)
    refused: list[tuple[str, str, list[str]]] = field(default_factory=list)  # id, name, reasons
    seat_cards: Path | None = None


def open_sittings(course, exam: str, room: str, actor: str, candidates: list[str] | None = None,
                  today: dt.date | None = None, write_cards: bool = True) -> OpenResult:
    """Open a sitting for each eligible candidate (one transaction); codes are returned once."""
    result = OpenResult()
    if not room.strip():
        raise ExamBuilderError("give the room (--room), it is printed on the seat cards and shown to the proctor")
    with course.db.transaction() as s:
        exam_row = s.get(Exam, exam)
        if exam_row is None:
            raise ExamBuilderError(f"no exam {exam!r} in the database; build its forms first (exam-builder build {exam})")
        q = select(Candidate).order_by(Candidate.id)
        if candidates:
            q = q.where(Candidate.id.in_(candidates))
        people = list(s.execute(q).scalars())
        missing = sorted(set(candidates or []) - {p.id for p in people})
        if missing:
            raise ExamBuilderError(f"not on the roster: {', '.join(missing)}; import the roster first")
        for person in people:
            try:
                with s.begin_nested():
                    sitting = ledger.open_sitting(s, course.policy, person.id, exam, actor, room=room, today=today)
                    code = new_code()
                    sitting.access_code_hash = hash_code(code)
                    s.flush()
            except ledger.NotEligible as exc:
                reasons = list(getattr(exc, "reasons", None) or [str(exc)])
                result.refused.append((person.id, person.name, [str(r) for r in reasons]))
                continue
            s.add(SittingEvent(sitting_id=sitting.id, at=utcnow(), kind="opened", details={"room": room, "by": actor}))
            result.opened.append(Opened(person.id, person.name, sitting.id, sitting.attempt_no,
                                        sitting.time_limit_minutes, code))
        # render the cards before committing: a template error leaves nothing half-written
        html = render_seat_cards(course, exam_row, room, result.opened) if (write_cards and result.opened) else None
        tmp = None
        if html is not None:
            course.reports_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=course.reports_dir, prefix=".seat-cards-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(html)
    if tmp is not None:
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        target = course.reports_dir / f"seat-cards-{exam}-{_slug(room)}-{stamp}.html"
        os.replace(tmp, target)
        os.chmod(target, 0o600)
        result.seat_cards = target
    return result


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text.strip()) or "room"


def render_seat_cards(course, exam: Exam, room: str, opened: list[Opened]) -> str:
    env = Environment(loader=PackageLoader("exam_builder.delivery", "templates"), autoescape=select_autoescape())
    cards = [dict(name=o.name or o.candidate_id, candidate_id=o.candidate_id, attempt_no=o.attempt_no,
                  time_text=format_minutes(o.time_limit_minutes), code=o.code) for o in opened]
    return env.get_template("seat_cards.html.j2").render(
        program=course.policy.program_name, exam=exam.id, exam_title=exam.title or exam.id, room=room, cards=cards)


# -- the proctor's changes (audited) ---------------------------------------------------------
def _need(reason: str, actor: str) -> None:
    if not (reason or "").strip():
        raise ExamBuilderError("give a reason (--reason); it is kept in the audit trail")
    if not (actor or "").strip():
        raise ExamBuilderError("say who is making the change (--by)")


def _open_sitting_row(s, sitting_id: int) -> Sitting:
    sit = s.get(Sitting, sitting_id, with_for_update=True, populate_existing=True)
    if sit is None:
        raise ExamBuilderError(f"no sitting {sitting_id}")
    if sit.status in ("submitted", "voided"):
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
        audit.record(s, actor, "add_time", "sitting", sit.id, reason, minutes=int(minutes),
                     extra_minutes_before=before, extra_minutes_after=sit.extra_minutes,
                     candidate=sit.candidate_id)
        s.add(SittingEvent(sitting_id=sit.id, at=utcnow(), kind="time_added",
                           details={"minutes": int(minutes), "by": actor}))
        return sit


def record_scribe(course, sitting_id: int, scribe: str, actor: str, reason: str = "approved scribe accommodation") -> Sitting:
    """From now on a scribe writes for the candidate; responses record the scribe's name."""
    _need(reason, actor)
    if not scribe.strip():
        raise ExamBuilderError("give the scribe's name")
    with course.db.transaction() as s:
        sit = _open_sitting_row(s, sitting_id)
        before = sit.scribe_name
        sit.scribe_name = scribe.strip()
        audit.record(s, actor, "record_scribe", "sitting", sit.id, reason, scribe=sit.scribe_name,
                     scribe_before=before, candidate=sit.candidate_id)
        s.add(SittingEvent(sitting_id=sit.id, at=utcnow(), kind="scribe", details={"scribe": sit.scribe_name,
                                                                                   "by": actor}))
        return sit


def void(course, sitting_id: int, actor: str, reason: str) -> None:
    """Void a sitting through the ledger (it stops counting as an attempt; audited there)."""
    _need(reason, actor)
    with course.db.transaction() as s:
        if s.get(Sitting, sitting_id) is None:
            raise ExamBuilderError(f"no sitting {sitting_id}")
        ledger.void_sitting(s, sitting_id, actor, reason)
        s.add(SittingEvent(sitting_id=sitting_id, at=utcnow(), kind="voided", details={"by": actor}))
