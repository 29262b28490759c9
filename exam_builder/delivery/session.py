"""The candidate's sitting, UI-free: sign in, start, answer, flag, time left, submit.

The widgets (``candidate_app``) and scripted candidates (demo, tests, benchmark) call only
this object, so both take the same code path. The server owns the truth: every answer is
appended to ``eb_response`` and committed before ``answer`` returns; the clock is the
server's (``started_at`` is set once, the deadline follows ``Sitting.deadline``); after the
deadline or the submit a change is refused and logged as a ``SittingEvent``.

The candidate's kernel never loads a form's manifest (it holds keys): the questions come from
the released notebook (``form_view``) and a sitting's form is looked up by its assignment only.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import ExamBuilderError
from ..records.models import Candidate, Exam, Form, Response, Sitting, SittingEvent, utcnow
from .form_view import FormView, ItemView, load_form_view, released_notebook_path
from .settings import DeliverySettings

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand


class SittingClosed(ExamBuilderError):
    """A change after the deadline or the submit; it was refused and logged."""


class SignInFailed(ExamBuilderError):
    """The access code is unknown, or its sitting was voided."""


def normalize_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def hash_code(code: str) -> str:
    """What the database keeps of an access code (never the code itself)."""
    return hashlib.sha256(("eb-access:" + normalize_code(code)).encode("utf-8")).hexdigest()


def receipt_hash(sitting_id: int, answers: dict[str, str | None]) -> str:
    """SHA-256 over the sitting and its final answers, so a candidate can prove what was sent."""
    payload = json.dumps({"sitting": sitting_id, "answers": answers}, sort_keys=True, separators=(",", ":"),
                         ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def latest_responses(s: Session, sitting_id: int) -> dict[str, Response]:
    """The answer to each item: the latest journal row per (sitting, item)."""
    last = (select(func.max(Response.id)).where(Response.sitting_id == sitting_id)
            .group_by(Response.item_id).scalar_subquery())
    rows = s.execute(select(Response).where(Response.id.in_(last))).scalars()
    return {r.item_id: r for r in rows}


def latest_responses_of(s: Session, sitting_ids: list[int]) -> dict[int, dict[str, Response]]:
    """``latest_responses`` of many sittings in one query (collection, reports)."""
    out: dict[int, dict[str, Response]] = {sid: {} for sid in sitting_ids}
    if not sitting_ids:
        return out
    last = (select(func.max(Response.id)).where(Response.sitting_id.in_(sitting_ids))
            .group_by(Response.sitting_id, Response.item_id).scalar_subquery())
    for r in s.execute(select(Response).where(Response.id.in_(last))).scalars():
        out[r.sitting_id][r.item_id] = r
    return out


def format_minutes(minutes: int) -> str:
    """180 -> "3 hours"; 270 -> "4 hours 30 minutes" (as the instructions say it)."""
    h, m = divmod(int(minutes), 60)
    parts = []
    if h:
        parts.append(f"{h} hour{'s' if h != 1 else ''}")
    if m or not h:
        parts.append(f"{m} minute{'s' if m != 1 else ''}")
    return " ".join(parts)


@dataclass(frozen=True)
class Receipt:
    sitting_id: int
    submitted_at: dt.datetime
    sha256: str
    reason: str  # candidate | deadline | proctor
    answered: int
    total: int


@dataclass(frozen=True)
class NavEntry:
    number: int
    item_id: str
    answered: bool
    flagged: bool


@dataclass(frozen=True)
class Answer:
    value: str | None
    flagged: bool


class CandidateSession:
    """One candidate's sitting as the server sees it; create one per page (or script)."""

    def __init__(self, course, clock: Callable[[], dt.datetime] = utcnow):
        self.course = course
        self.db = course.db
        self.clock = clock
        self.max_text = DeliverySettings(config=course.config).max_answer_chars
        self.sitting_id: int | None = None
        self.candidate_name = ""
        self.candidate_id = ""
        self.exam_title = ""
        self.time_limit_minutes = 0
        self.form: FormView | None = None
        self.confirmed = False
        self._answers: dict[str, Answer] = {}

    # -- signing in -------------------------------------------------------------------
    def sign_in(self, code: str) -> "CandidateSession":
        """Find the sitting of an access code; a voided sitting or unknown code is refused."""
        digest = hash_code(code)
        with self.db.transaction() as s:
            sitting = s.execute(select(Sitting).where(Sitting.access_code_hash == digest)).scalar_one_or_none()
            if sitting is None or not normalize_code(code):
                raise SignInFailed("That access code is not right. Check the code on your seat card, or ask the proctor.")
            if sitting.status == "voided":
                s.add(SittingEvent(sitting_id=sitting.id, at=self.clock(), kind="sign_in_refused",
                                   details={"why": "voided"}))
                raise SignInFailed("This sitting was closed by the proctor. Please ask the proctor.")
            cand = s.get(Candidate, sitting.candidate_id)
            exam = s.get(Exam, sitting.exam_id)
            assignment = s.execute(select(Form.assignment).where(Form.id == sitting.form_id)).scalar_one()
            s.add(SittingEvent(sitting_id=sitting.id, at=self.clock(),
                               kind="resume" if sitting.started_at else "sign_in", details={}))
            self.sitting_id = sitting.id
            self.candidate_id = sitting.candidate_id
            self.candidate_name = cand.name if cand else sitting.candidate_id
            self.exam_title = (exam.title if exam and exam.title else sitting.exam_id)
            self.time_limit_minutes = sitting.time_limit_minutes + sitting.extra_minutes
        self.form = load_form_view(released_notebook_path(self.course, assignment), self.course.root)
        self.reload()
        return self

    def confirm_identity(self) -> None:
        self._event("identity_confirmed")
        self.confirmed = True

    def reject_identity(self) -> None:
        """The candidate says this is not them: logged so the proctor can sort it out."""
        self._event("identity_rejected")
        self.sitting_id = None
        self.form = None

    @property
    def time_limit_text(self) -> str:
        return format_minutes(self.time_limit_minutes)

    # -- state ------------------------------------------------------------------------
    def _sitting(self, s: Session, lock: bool = False) -> Sitting:
        if self.sitting_id is None:
            raise ExamBuilderError("not signed in")
        return s.get(Sitting, self.sitting_id, with_for_update=lock, populate_existing=True)

    def status(self) -> str:
        with self.db.read() as s:
            return self._sitting(s).status

    @property
    def started(self) -> bool:
        with self.db.read() as s:
            return self._sitting(s).started_at is not None

    def deadline(self) -> dt.datetime | None:
        with self.db.read() as s:
            return self._sitting(s).deadline

    def time_left(self) -> dt.timedelta | None:
        """Server clock: time until the deadline (follows time a proctor adds); None before start."""
        d = self.deadline()
        if d is None:
            return None
        return max(d - self.clock(), dt.timedelta(0))

    def reload(self) -> dict[str, Answer]:
        """Read every latest answer from the database (after a reload or a restart)."""
        with self.db.read() as s:
            self._answers = {k: Answer(r.value, r.flagged) for k, r in latest_responses(s, self.sitting_id).items()}
        return dict(self._answers)

    def answers(self) -> dict[str, Answer]:
        return dict(self._answers)

    def navigator(self) -> list[NavEntry]:
        out = []
        for it in self.form.items:
            a = self._answers.get(it.item_id)
            out.append(NavEntry(it.number, it.item_id, bool(a and a.value not in (None, "")), bool(a and a.flagged)))
        return out

    def unanswered(self) -> list[ItemView]:
        done = {e.item_id for e in self.navigator() if e.answered}
        return [it for it in self.form.items if it.item_id not in done]

    # -- the clock ----------------------------------------------------------------------
    def start(self) -> dt.datetime:
        """Start the clock from the server's time; only the first call sets it."""
        with self.db.transaction() as s:
            sit = self._sitting(s, lock=True)
            if sit.status in ("voided", "submitted"):
                raise SittingClosed("This sitting is closed.")
            if sit.started_at is None:
                sit.started_at = self.clock()
                sit.status = "in_progress"
                s.add(SittingEvent(sitting_id=sit.id, at=sit.started_at, kind="start", details={}))
            return sit.started_at

    def check_deadline(self) -> Receipt | None:
        """Submit automatically once the deadline has passed; the receipt, if it did."""
        with self.db.transaction() as s:
            sit = self._sitting(s, lock=True)
            if sit.status == "in_progress" and sit.deadline is not None and self.clock() >= sit.deadline:
                return self._submit(s, sit, "deadline")
        return None

    # -- answering ----------------------------------------------------------------------
    def _open_for_change(self, s: Session) -> Sitting:
        """The locked sitting if it takes changes now; else ``SittingClosed`` (logged by the caller)."""
        sit = self._sitting(s, lock=True)
        if sit.status == "in_progress" and (sit.deadline is None or self.clock() < sit.deadline):
            return sit
        raise SittingClosed("Your change was not saved: the exam has ended.")

    def _item(self, item_id: str) -> ItemView:
        try:
            return self.form.item(item_id)
        except KeyError:
            raise ExamBuilderError(f"question {item_id!r} is not on this form") from None

    def answer(self, item_id: str, value: str | None) -> Answer:
        """Record an answer: a choice label of the item, or open-response text; committed at once."""
        item = self._item(item_id)
        if item.objective:
            if value is not None and value not in item.labels:
                raise ExamBuilderError(f"{value!r} is not one of the choices of question {item.number}")
        else:
            value = None if value is None else str(value)
            if value is not None and len(value) > self.max_text:
                raise ExamBuilderError(f"the answer to question {item.number} is longer than {self.max_text} characters; "
                                       "shorten it")
        prev = self._answers.get(item_id)
        return self._append(item_id, value, prev.flagged if prev else False, "answer")

    def flag(self, item_id: str, flagged: bool = True) -> Answer:
        """Mark a question to come back to (journaled like an answer, value unchanged)."""
        self._item(item_id)
        prev = self._answers.get(item_id)
        return self._append(item_id, prev.value if prev else None, bool(flagged), "flag")

    def _append(self, item_id: str, value: str | None, flagged: bool, what: str) -> Answer:
        try:
            with self.db.transaction() as s:
                sit = self._open_for_change(s)
                s.add(Response(sitting_id=sit.id, item_id=item_id, value=value, flagged=flagged,
                               recorded_at=self.clock(), entered_by=sit.scribe_name or "candidate"))
        except SittingClosed:
            # the refusal (and an automatic submit) were committed by a second transaction
            self._log_refusal(item_id, what)
            raise
        ans = Answer(value, flagged)
        self._answers[item_id] = ans
        return ans

    def _log_refusal(self, item_id: str, what: str) -> None:
        """The change's transaction rolled back; log the refusal (and submit if the deadline passed)."""
        with self.db.transaction() as s:
            sit = self._sitting(s, lock=True)
            now = self.clock()
            if sit.status == "in_progress" and sit.deadline is not None and now >= sit.deadline:
                self._submit(s, sit, "deadline")
            if sit.status == "submitted":
                why = "after the deadline" if sit.submit_reason == "deadline" else "after the submit"
            else:
                why = {"voided": "after the sitting was voided"}.get(sit.status, "before the start")
            s.add(SittingEvent(sitting_id=sit.id, at=now, kind="refused_change",
                               details={"item": item_id, "what": what, "why": why}))

    # -- submitting ---------------------------------------------------------------------
    def submit(self) -> Receipt:
        """The candidate submits; a second call returns the same receipt."""
        with self.db.transaction() as s:
            sit = self._sitting(s, lock=True)
            if sit.status == "submitted":
                return self._receipt(s, sit)
            if sit.status != "in_progress":
                raise SittingClosed("This sitting cannot be submitted: it is " + sit.status.replace("_", " ") + ".")
            late = sit.deadline is not None and self.clock() >= sit.deadline
            return self._submit(s, sit, "deadline" if late else "candidate")

    def receipt(self) -> Receipt | None:
        with self.db.read() as s:
            sit = self._sitting(s)
            return self._receipt(s, sit) if sit.status == "submitted" else None

    def _submit(self, s: Session, sit: Sitting, reason: str) -> Receipt:
        now = self.clock()
        if reason == "deadline" and sit.deadline is not None:
            now = min(now, sit.deadline)  # the clock ran out at the deadline, whenever we noticed
        answers = {k: r.value for k, r in latest_responses(s, sit.id).items()}
        sit.status = "submitted"
        sit.submitted_at = now
        sit.submit_reason = reason
        sit.receipt_hash = receipt_hash(sit.id, answers)
        s.add(SittingEvent(sitting_id=sit.id, at=self.clock(), kind="submit",
                           details={"reason": reason, "receipt": sit.receipt_hash}))
        s.flush()
        return self._receipt(s, sit)

    def _receipt(self, s: Session, sit: Sitting) -> Receipt:
        rows = latest_responses(s, sit.id)
        total = len(self.form.items) if self.form else len(rows)
        answered = sum(1 for r in rows.values() if r.value not in (None, ""))
        return Receipt(sit.id, sit.submitted_at, sit.receipt_hash, sit.submit_reason or "", answered, total)

    # -- events -------------------------------------------------------------------------
    def _event(self, kind: str, **details) -> None:
        with self.db.transaction() as s:
            s.add(SittingEvent(sitting_id=self.sitting_id, at=self.clock(), kind=kind, details=details))

    def log_event(self, kind: str, **details) -> None:
        """For the app: warnings shown, text size changed, and the like."""
        self._event(kind, **details)
