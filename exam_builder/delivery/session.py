"""The candidate's sitting, UI-free: sign in, start, answer, flag, time left, submit.

The widgets (``candidate_app``) and scripted candidates (demo, tests, benchmark, rehearsal)
call only this object, so both take the same code path. The server owns the truth: every
answer is appended to ``eb_response`` and committed before ``answer`` returns; the clock is
the server's (``started_at`` is set once, the deadline follows ``Sitting.deadline``); after the
deadline or the submit a change is refused and logged as a ``SittingEvent``.

**Access codes are one-time and bound to their sitting.** The database keeps only an HMAC of
each code, keyed with the course's secret (``Course.secret``, a file beside the course, not in
the database). A code whose sitting is submitted (or whose time ran out: it is submitted then)
opens the receipt again, read-only (``receipt_only``: no lease, no change, no answers shown;
logged as ``receipt_shown``), so a reload after the submit finds the receipt, not an error.
``sign_in(code, source)`` refuses, in plain words and without showing a name, an
id or a receipt: a code whose sitting is voided ("already used"); a code whose
sitting is absent ("no longer valid: the sign-in has closed", ``records.absence``); a sitting not
started yet outside its date's window (``delivery.window``); a sitting whose candidate no
longer meets every attempt rule on the day (eligibility, the attempt cap, the waiting period,
tutoring when required: ``records.eligibility.evaluate``, the ledger's own rules, asked again
with today's date). Wrong codes are counted in the database per source and for the whole
server, i.e. every process sharing the database (``records.access``): a source with too many is locked out until a
proctor lifts it or
the lockout ends, and a flood from everywhere pauses every sign-in; those refusals do not
depend on the code typed, so they never tell whether a code exists.

**A second screen takes over; it is not refused.** Each successful sign-in gives this object a
fresh lease (a random token stored on the sitting with its time and source, replacing the
previous one). Every later action (confirm, start, answer, flag, submit, the deadline check,
the app's periodic ``refresh``) checks the lease under the sitting's row lock; an object whose
lease was replaced raises ``TakenOver`` and accepts nothing more, and the take-over is logged
(``taken_over``, with both sources) for the proctor. Why take over rather than refuse the
second sign-in: a candidate whose browser crashed, whose laptop froze or whose phone died
must be able to continue at once on another screen, and the server cannot tell a dead page
from a live one until its kernel is culled minutes later; refusing would cost that candidate
exam time they cannot get back. A code shared with someone else is then visible at once:
the first screen stops, says so, and the candidate raises a hand.

**The journal is bounded.** At most ``max_journal_rows`` saved changes per sitting and
``max_saves_per_minute`` in any minute, counted with one indexed query under the sitting's row
lock (so several server processes agree); a refusal raises ``LimitReached`` with a plain
message and logs a ``limit`` event (at most one a minute per sitting).

**Comments on questions** (``comment``, revision 0013): a candidate may leave a short comment on
any question (at most ``RecourseSettings.max_comment_chars``), journaled in ``eb_item_comment``
like an answer (the latest row per question wins, kept after the submit), under the same rules
(this screen's lease, an open clock) and counted against the same journal limits. Staff read them
only after the submit, by item and form (``grading.keys``); they never change time or score.

**The clock can stop** (revision 0010): a proctor pauses the sitting or its whole room
(``sittings.pause``), or a candidate with an approved breaks accommodation takes a break
(``take_break``, at most ``break_minutes``, ending on ``end_break`` or by itself). While it is
stopped, ``answer``, ``flag``, ``submit`` and ``start`` raise ``SittingPaused`` (a refused change
is logged), the deadline moves on with the time (``Sitting.deadline_at``: start + limit + added +
stopped time, all in the database, so every server agrees to the second) and the sitting is never
submitted at its old deadline. ``refresh`` says whether the clock is stopped (``stopped``).

The candidate's kernel never loads a form's manifest (it holds keys): the questions come from
the released notebook (``form_view``) and a sitting's form is looked up by its assignment only.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..errors import ExamBuilderError
from ..kinds import kind_for
from ..model.states import SITTING_FINISHED, AuditAction, EventKind, SittingStatus, SubmitReason
from ..records import absence, access, audit
from ..records.accommodations import break_allowance, breaks_text
from ..records.eligibility import evaluate
from ..records.events import record_event
from ..records.models import Candidate, Exam, ItemComment, Response, Sitting, utcnow
from ..records.queries import forms as forms_q, recourse as recourse_q, responses as responses_q, sittings as sittings_q
from ..records.text import clean_answer, shown
from . import window
from .form_view import FormView, ItemView, load_form_view, released_notebook_path

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand

TAKEN_OVER = ("Your exam was opened on another screen, so this screen no longer accepts answers. "
              "Your saved answers are safe. If that was not you, raise your hand now.")
WRONG_CODE = "That access code is not right. Check the code on your seat card, or ask the proctor."
LOCKED = "Too many wrong access codes were typed on this computer. Please ask the proctor to unlock it."
BUSY = ("Too many sign-in attempts are coming in right now. Please wait one minute, then try again, "
        "or ask the proctor.")
USED = "This code has already been used. Please ask the proctor."
ABSENT = "This code is no longer valid: the sign-in for this sitting has closed. Please ask the proctor."
MARKED_ABSENT = "This code is no longer valid: the proctor marked this sitting absent. Please ask the proctor."
TOO_FAST = "Your answers are coming in faster than the exam can save them. Wait a moment, then try again."
PAUSED = "The exam is paused{why}. The clock has stopped and your saved answers are safe. Please wait for the proctor."
ON_BREAK = "You are on a break: the clock has stopped. Press “Back to the exam” to go on answering."
TOO_MANY = ("This exam cannot save any more changes. Your saved answers are safe. "
            "Please raise your hand for the proctor.")


class SittingClosed(ExamBuilderError):
    """A change after the deadline or the submit; it was refused and logged."""


class TakenOver(SittingClosed):
    """This screen's lease was replaced by a later sign-in: it accepts nothing more."""

    def __init__(self, message: str = TAKEN_OVER):
        super().__init__(message)


class SittingPaused(ExamBuilderError):
    """A change while the clock is stopped (a proctor's pause or the candidate's break); refused, logged.

    ``stop`` says which stop and why, for the screen.
    """

    def __init__(self, stop: "Stopped"):
        super().__init__(stop.message)
        self.stop = stop


@dataclass(frozen=True)
class Stopped:
    """The clock stopped now: ``kind`` pause or break, the proctor's reason, since when, a break's end, time left."""

    kind: str
    reason: str
    since: dt.datetime
    until: dt.datetime | None
    left: dt.timedelta | None

    @property
    def message(self) -> str:
        if self.kind == "break":
            return ON_BREAK
        return PAUSED.format(why=f": {self.reason}" if self.reason else "")


def stopped_of(sit: Sitting, now: dt.datetime) -> Stopped | None:
    """The stop of a sitting's clock at ``now``, or None while it runs."""
    kind = sit.clock_stopped(now)
    if kind is None:
        return None
    deadline = sit.deadline_at(now)
    left = None if deadline is None else max(deadline - now, dt.timedelta(0))
    if kind == "pause":
        return Stopped("pause", (sit.pause_reason or "").strip(), sit.paused_at, None, left)
    return Stopped("break", "", sit.break_started_at, sit.break_ends_at, left)


def settle_break(s: Session, sit: Sitting, now: dt.datetime, why: str = "time") -> bool:
    """End a sitting's break: its time joins ``paused_seconds`` (up to the break's end) and it is logged.

    ``why``: ``time`` (it ran out; only then is anything done), ``candidate`` (back early) or ``paused``
    (the proctor paused the sitting during the break). Called under the sitting's row lock.
    """
    if sit.break_started_at is None:
        return False
    if why == "time" and (sit.break_ends_at is None or now < sit.break_ends_at):
        return False
    ended = min(now, sit.break_ends_at or now)
    taken = max((ended - sit.break_started_at).total_seconds(), 0.0)
    sit.paused_seconds = (sit.paused_seconds or 0.0) + taken
    record_event(s, sit.id, EventKind.break_ended, {"why": why, "seconds": round(taken, 3)}, at=ended)
    audit.record(s, sit.candidate_id if why == "candidate" else audit.SYSTEM, AuditAction.sitting_break_end, "sitting",
                 sit.id, {"candidate": "back to the exam", "time": "the break's time ran out",
                          "paused": "the proctor paused the exam"}[why],
                 candidate=sit.candidate_id, seconds=round(taken, 3))
    sit.break_started_at = sit.break_ends_at = None
    return True


class SignInFailed(ExamBuilderError):
    """A sign-in refused; ``why`` says which rule (for tests, logs and the proctor), the message says it plainly.

    ``why``: empty, wrong_code, locked, busy, used (a voided sitting), absent, window, not_eligible.
    """

    def __init__(self, message: str, why: str = "wrong_code"):
        super().__init__(message)
        self.why = why


class LimitReached(ExamBuilderError):
    """A save refused by a journal limit (``why``: rate, rows, size); logged as a ``limit`` event."""

    def __init__(self, message: str, why: str):
        super().__init__(message)
        self.why = why


def normalize_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def hash_code(code: str, key: bytes) -> str:
    """What the database keeps of an access code: an HMAC keyed with the course's secret."""
    if not key:
        raise ExamBuilderError("no key to check access codes with")
    return hmac.new(key, ("eb-access:" + normalize_code(code)).encode("utf-8"), hashlib.sha256).hexdigest()


def code_hash(course, code: str) -> str:
    """``hash_code`` with the course's own secret."""
    return hash_code(code, course.secret)


def clean_source(source: str | None) -> str:
    """A page's source address as stored: trimmed, at most 64 characters, "unknown" when missing."""
    return (str(source or "").strip() or "unknown")[:64]


def receipt_hash(sitting_id: int, answers: dict[str, str | None]) -> str:
    """SHA-256 over the sitting and its final answers, so a candidate can prove what was sent."""
    payload = json.dumps({"sitting": sitting_id, "answers": answers}, sort_keys=True, separators=(",", ":"),
                         ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


#: Crockford's base-32 digits: no I, L, O or U, so what is read aloud is written down right.
_READABLE = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def confirmation_number(sha256_hex: str) -> str:
    """The first 40 bits of a receipt hash as ``XXXX-XXXX``: short enough to read aloud or copy
    onto a seat card, and it still names one sitting's answers (the full hash stays on record)."""
    bits = int(sha256_hex[:10], 16)
    digits = "".join(_READABLE[(bits >> (5 * i)) & 31] for i in reversed(range(8)))
    return f"{digits[:4]}-{digits[4:]}"


def confirmation_prefix(number: str) -> str | None:
    """The receipt-hash prefix (10 hex digits) a confirmation number stands for, or None if it is
    not one; read as a person would type it (any case, with or without the dash; I and L read as
    1, O as 0)."""
    digits = "".join(ch for ch in (number or "").upper() if ch.isalnum()).translate(str.maketrans("ILO", "110"))
    if len(digits) != 8 or any(ch not in _READABLE for ch in digits):
        return None
    bits = 0
    for ch in digits:
        bits = bits * 32 + _READABLE.index(ch)
    return f"{bits:010x}"


@dataclass(frozen=True)
class ConfirmationMatch:
    """A submitted sitting found by its confirmation number (what staff are shown)."""

    number: str
    sitting_id: int
    candidate_id: str
    candidate_name: str
    exam_id: str
    room: str
    submitted_at: dt.datetime
    submit_reason: str
    receipt_hash: str


def find_confirmation(db, number: str) -> list[ConfirmationMatch]:
    """The submitted sittings a confirmation number names (one, in practice; none if it is wrong).

    Raises ``ExamBuilderError`` when ``number`` is not shaped like one (8 letters and digits)."""
    prefix = confirmation_prefix(number)
    if prefix is None:
        raise ExamBuilderError(f"{shown(number)} is not a confirmation number: it has 8 letters and digits, "
                               "like K7Q4-9MZX")
    with db.read() as s:
        return [ConfirmationMatch(confirmation_number(sit.receipt_hash), sit.id, sit.candidate_id, cand.name,
                                  sit.exam_id, sit.room or "", sit.submitted_at, sit.submit_reason or "",
                                  sit.receipt_hash)
                for sit, cand in sittings_q.select_by_receipt_prefix(s, prefix)]


def latest_responses(s: Session, sitting_id: int) -> dict[str, Response]:
    """The answer to each item: the latest journal row per (sitting, item)."""
    return responses_q.select_latest_responses(s, [sitting_id])[sitting_id]


def latest_responses_of(s: Session, sitting_ids: list[int]) -> dict[int, dict[str, Response]]:
    """``latest_responses`` of many sittings in one query (collection, reports)."""
    return responses_q.select_latest_responses(s, sitting_ids)


def journal_counts(s: Session, sitting_id: int, since: dt.datetime) -> tuple[int, int]:
    """(rows, rows after ``since``) of a sitting's journal, its answers and its comments on questions alike:
    one statement (``responses.select_limit_counts``), read under the writers' lock of the save."""
    return responses_q.select_limit_counts(s, sitting_id, since)


def format_minutes(minutes: int) -> str:
    """180 -> "3 hours"; 270 -> "4 hours 30 minutes" (as the instructions say it)."""
    h, m = divmod(int(minutes), 60)
    parts = []
    if h:
        parts.append(f"{h} hour{'s' if h != 1 else ''}")
    if m or not h:
        parts.append(f"{m} minute{'s' if m != 1 else ''}")
    return " ".join(parts)


def format_seconds(seconds: float) -> str:
    """1061.4 -> "17 minutes 41 seconds" (a pause's length, as staff read it)."""
    m, sec = divmod(int(round(seconds)), 60)
    parts = [format_minutes(m)] if m else []
    if sec or not m:
        parts.append(f"{sec} second{'s' if sec != 1 else ''}")
    return " ".join(parts)  # whole minutes: no trailing space


@dataclass(frozen=True)
class Receipt:
    sitting_id: int
    submitted_at: dt.datetime
    sha256: str
    reason: str  # candidate | deadline | proctor
    answered: int
    total: int
    exam_title: str = ""

    @property
    def confirmation(self) -> str:
        """The receipt as a person can read it aloud: see ``confirmation_number``."""
        return confirmation_number(self.sha256)


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
        self.settings = course.delivery_settings
        self.max_text = self.settings.max_answer_chars
        self.zone = window.room_zone(self.settings.timezone)
        self.limits = access.Limits.of(self.settings)
        self.sitting_id: int | None = None
        self.candidate_name = ""
        self.candidate_id = ""
        self.exam_title = ""
        self.time_limit_minutes = 0
        self.source = "unknown"
        self.form: FormView | None = None
        self.confirmed = False
        self.receipt_only = False  # signed in after the submit: the receipt, nothing else
        self.extra_minutes = 0  # time a proctor added, as of the last ``refresh``
        self._lease: str | None = None
        self._answers: dict[str, Answer] = {}
        self._comments: dict[str, str] = {}
        self.stopped: Stopped | None = None  # as of the last ``refresh``
        self.at_question: int | None = None  # the question the candidate was on, as the server holds it
        self._at_wanted: int | None = None  # where the candidate is now, not written yet (``go_to``)

    # -- signing in -------------------------------------------------------------------
    def sign_in(self, code: str, source: str = "unknown") -> "CandidateSession":
        """Open the sitting of an access code on this page, taking it over from any other page.

        ``source`` is the page's remote address (``pagesource.page_source``): wrong codes are
        counted, and sources locked out, by it. Every refusal raises ``SignInFailed``.
        """
        source = clean_source(source)
        typed = normalize_code(code)
        if not typed:
            raise SignInFailed("Type the access code from your seat card, then press Sign in.", "empty")
        digest = hash_code(typed, self.course.secret)
        now = self.clock()
        refused: SignInFailed | None = None
        with self.db.transaction() as s:
            gate = access.gate(s, source, now, self.limits)
            if gate is not None:
                refused = SignInFailed(LOCKED if gate == "locked" else BUSY, gate)
            else:
                sit = sittings_q.select_sitting_by_code(s, digest)
                if sit is None:
                    locked = access.record_wrong_code(s, source, now, self.limits)
                    refused = SignInFailed(LOCKED, "locked") if locked else SignInFailed(WRONG_CODE, "wrong_code")
                else:
                    refused = self._may_sign_in(s, sit, source, now)
                    if refused is None and sit.status == SittingStatus.submitted:  # the receipt again
                        self.receipt_only = True
                        record_event(s, sit.id, EventKind.receipt_shown, {"source": source}, at=now)
                    elif refused is None:
                        self._take_lease(s, sit, source, now)
                    if refused is None:
                        cand = s.get(Candidate, sit.candidate_id)
                        exam = s.get(Exam, sit.exam_id)
                        assignment = forms_q.select_assignment(s, sit.form_id)
                        self.sitting_id = sit.id
                        self.candidate_id = sit.candidate_id
                        self.candidate_name = cand.name if cand else sit.candidate_id
                        self.exam_title = (exam.title if exam and exam.title else sit.exam_id)
                        self.time_limit_minutes = sit.time_limit_minutes + sit.extra_minutes
                        self.extra_minutes = sit.extra_minutes
                        self.at_question = sit.at_question
        if refused is not None:  # raised after the commit: wrong codes and refusals are kept
            raise refused
        self.form = load_form_view(released_notebook_path(self.course, assignment), self.course.root)
        self.reload()
        return self

    def _may_sign_in(self, s: Session, sit: Sitting, source: str, now: dt.datetime) -> SignInFailed | None:
        """The refusal of a known code (logged on its sitting), or None when it may be signed into."""

        def refuse(why: str, message: str, **details) -> SignInFailed:
            record_event(s, sit.id, EventKind.sign_in_refused, {"why": why, "source": source, **details}, at=now)
            return SignInFailed(message, why)

        if sit.status == SittingStatus.absent:  # a no-show: the window closed, or the proctor marked it
            if absence.absent_by_window(s, sit):
                return refuse("absent", ABSENT, status=sit.status)
            return refuse("marked_absent", MARKED_ABSENT, status=sit.status)
        if sit.status == SittingStatus.submitted:  # shown its receipt, read-only
            return None
        if sit.status in SITTING_FINISHED:
            return refuse("used", USED, status=sit.status)
        if sit.status == SittingStatus.in_progress:  # resuming: the clock decides, not the window
            deadline = sit.deadline_at(now)  # a stopped clock moves it on
            if deadline is not None and now >= deadline:
                self._submit(s, sit, SubmitReason.deadline)  # then shown its receipt
            return None
        bad = window.refusal(sit.opens_at, sit.closes_at, now, self.zone)
        if bad is not None:
            return refuse("window", bad[1], window=bad[0])
        reasons = self._attempt_rules(s, sit, now)
        if reasons:
            return refuse("not_eligible", "You cannot start this exam today: " + "; ".join(reasons)
                          + ". Please ask the proctor.", reasons=reasons)
        return None

    def _attempt_rules(self, s: Session, sit: Sitting, now: dt.datetime) -> list[str]:
        """Every attempt rule asked again on the room's date today, as if this sitting were not open yet."""
        [standing] = evaluate(s, self.course.policy, sit.exam_id, [sit.candidate_id],
                              today=window.local_today(now, self.zone), ignore_sittings=[sit.id], zone=self.zone)
        return list(standing.reasons)

    def _take_lease(self, s: Session, sit: Sitting, source: str, now: dt.datetime) -> None:
        """This page holds the sitting from now on; a page that held it before is told at its next action."""
        if sit.lease_token is not None:
            record_event(s, sit.id, EventKind.taken_over, at=now, details={
                "source": source, "previous_source": sit.lease_source or "unknown",
                "previous_since": sit.lease_at.isoformat(timespec="seconds") if sit.lease_at else None,
                "same_source": source == (sit.lease_source or "unknown"), "started": sit.started_at is not None})
        self._lease = secrets.token_urlsafe(24)
        sit.lease_token, sit.lease_at, sit.lease_source = self._lease, now, source
        self.source = source
        record_event(s, sit.id, EventKind.resume if sit.started_at else EventKind.sign_in, {"source": source}, at=now)

    def _check_lease(self, sit: Sitting) -> None:
        if self._lease is None or sit.lease_token is None or not hmac.compare_digest(sit.lease_token, self._lease):
            raise TakenOver()

    def go_to(self, number: int) -> None:
        """The candidate is on question ``number`` now: kept with the sitting (``at_question``), so a
        page that takes it over (another browser) comes back there. Costs no write of its own: it goes
        with the next answer or flag saved, or ``save_position`` (the app's periodic re-read, a hidden page)."""
        self._at_wanted = number

    def _moved(self, sit: Sitting) -> int | None:
        """Where the candidate went since the server last heard, set on ``sit`` (None: nothing new)."""
        wanted = self._at_wanted
        if wanted is None or wanted == sit.at_question or sit.status != SittingStatus.in_progress:
            return None
        sit.at_question = wanted
        return wanted

    def save_position(self) -> None:
        """Write where the candidate is, if that moved since it was last written (only by the page
        that holds the sitting: ``TakenOver`` otherwise)."""
        if self._at_wanted in (None, self.at_question) or self.sitting_id is None or self.receipt_only:
            return
        with self.db.transaction() as s:
            sit = self._sitting(s, lock=True)
            self._check_lease(sit)
            moved = self._moved(sit)
        self.at_question = moved or self.at_question

    def confirm_identity(self) -> None:
        with self.db.transaction() as s:
            sit = self._sitting(s, lock=True)
            self._check_lease(sit)
            record_event(s, sit.id, EventKind.identity_confirmed, at=self.clock())
        self.confirmed = True

    def reject_identity(self) -> None:
        """The candidate says this is not them: logged so the proctor can sort it out; the page lets go."""
        with self.db.transaction() as s:
            sit = self._sitting(s, lock=True)
            if self._lease is not None and sit.lease_token == self._lease:
                sit.lease_token = None
            record_event(s, sit.id, EventKind.identity_rejected, {"source": self.source}, at=self.clock())
        self.sitting_id = None
        self.form = None
        self._lease = None

    @property
    def time_limit_text(self) -> str:
        return format_minutes(self.time_limit_minutes)

    # -- state ------------------------------------------------------------------------
    def _sitting(self, s: Session, lock: bool = False) -> Sitting:
        if self.sitting_id is None:
            raise ExamBuilderError("not signed in")
        return sittings_q.select_sitting_fresh(s, self.sitting_id, lock)

    def status(self) -> SittingStatus:
        with self.db.read() as s:
            return self._sitting(s).status

    def refresh(self) -> tuple[SittingStatus, dt.datetime | None]:
        """The app's periodic re-read: (status, deadline now); ``TakenOver`` once another screen signed in.

        Also sets ``stopped``: the clock's stop (pause or break) now, or None; and ``extra_minutes``,
        the time a proctor added.
        """
        now = self.clock()
        with self.db.read() as s:
            sit = self._sitting(s)
            self._check_lease(sit)
            self.stopped = stopped_of(sit, now) if sit.status == SittingStatus.in_progress else None
            self.extra_minutes = sit.extra_minutes
            return sit.status, sit.deadline_at(now)

    @property
    def started(self) -> bool:
        with self.db.read() as s:
            return self._sitting(s).started_at is not None

    def deadline(self) -> dt.datetime | None:
        """The deadline now (it moves on while the clock is stopped)."""
        now = self.clock()
        with self.db.read() as s:
            return self._sitting(s).deadline_at(now)

    def time_left(self) -> dt.timedelta | None:
        """Server clock: time until the deadline (follows time a proctor adds; stands still while the clock is
        stopped); None before start."""
        now = self.clock()
        with self.db.read() as s:
            d = self._sitting(s).deadline_at(now)
        if d is None:
            return None
        return max(d - now, dt.timedelta(0))

    def reload(self) -> dict[str, Answer]:
        """Read every latest answer from the database (after a reload or a restart)."""
        with self.db.read() as s:
            self._answers = {k: Answer(r.value, r.flagged) for k, r in latest_responses(s, self.sitting_id).items()}
            self._comments = recourse_q.select_latest_comments(s, self.sitting_id)
        return dict(self._answers)

    def answers(self) -> dict[str, Answer]:
        return dict(self._answers)

    def answer_of(self, item_id: str) -> Answer | None:
        """The latest answer to one item as this session holds it (no copy of the others, no database read)."""
        return self._answers.get(item_id)

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
        """Start the clock from the server's time; only the first call sets it, inside the sitting's window."""
        with self.db.transaction() as s:
            sit = self._sitting(s, lock=True)
            self._check_lease(sit)
            if sit.status in SITTING_FINISHED:
                raise SittingClosed("This sitting is closed.")
            if sit.started_at is None:
                now = self.clock()
                if sit.paused_at is not None:  # the room is paused: nobody starts now
                    raise SittingPaused(stopped_of(sit, now))
                bad = window.refusal(sit.opens_at, sit.closes_at, now, self.zone)
                if bad is not None:
                    raise ExamBuilderError(bad[1])
                sit.started_at = now
                sit.status = SittingStatus.in_progress
                record_event(s, sit.id, EventKind.start, at=sit.started_at)
            return sit.started_at

    def check_deadline(self) -> Receipt | None:
        """Submit automatically once the deadline has passed; the receipt, if it did. Never while the clock is
        stopped (the deadline moves on with it); a break whose time ran out ends here."""
        with self.db.transaction() as s:
            sit = self._sitting(s, lock=True)
            self._check_lease(sit)
            now = self.clock()
            if sit.status != SittingStatus.in_progress:
                return None
            settle_break(s, sit, now)
            deadline = sit.deadline_at(now)
            if sit.clock_stopped(now) is None and deadline is not None and now >= deadline:
                return self._submit(s, sit, SubmitReason.deadline)
        return None

    # -- breaks (an approved accommodation) -----------------------------------------------
    def breaks_left(self) -> tuple[int, int]:
        """(breaks still to take, minutes each) in this sitting: (0, 0) without an approved breaks accommodation."""
        with self.db.read() as s:
            sit = self._sitting(s)
            count, minutes = break_allowance(s, sit.candidate_id)
            return max(count - (sit.breaks_taken or 0), 0), minutes

    def take_break(self) -> Stopped:
        """Stop the clock for at most the approved break's length; refused without a break left. Audited."""
        with self.db.transaction() as s:
            sit = self._open_for_change(s)
            now = self.clock()
            count, minutes = break_allowance(s, sit.candidate_id)
            if not count:
                raise ExamBuilderError("You have no breaks with the clock stopped. Please ask the proctor.")
            if (sit.breaks_taken or 0) >= count:
                raise ExamBuilderError(f"You have taken all your breaks ({breaks_text(count, minutes)}).")
            sit.break_started_at, sit.break_ends_at = now, now + dt.timedelta(minutes=minutes)
            sit.breaks_taken = (sit.breaks_taken or 0) + 1
            record_event(s, sit.id, EventKind.break_started,
                         {"minutes": minutes, "break": sit.breaks_taken, "of": count}, at=now)
            audit.record(s, sit.candidate_id, AuditAction.sitting_break, "sitting", sit.id,
                         f"break {sit.breaks_taken} of {count} (approved: {breaks_text(count, minutes)})",
                         candidate=sit.candidate_id, minutes=minutes, until=sit.break_ends_at)
            self.stopped = stopped_of(sit, now)
            return self.stopped

    def end_break(self) -> bool:
        """Back to the exam before the break's end (after it, the break is already over): the clock runs again."""
        with self.db.transaction() as s:
            sit = self._sitting(s, lock=True)
            self._check_lease(sit)
            now = self.clock()
            ended = settle_break(s, sit, now, "candidate" if sit.clock_stopped(now) == "break" else "time")
            self.stopped = stopped_of(sit, now)
            return ended

    # -- answering ----------------------------------------------------------------------
    def _open_for_change(self, s: Session) -> Sitting:
        """The locked sitting if this page may change it now; else ``TakenOver`` or ``SittingClosed``."""
        sit = self._sitting(s, lock=True)
        self._check_lease(sit)
        now = self.clock()
        if sit.status == SittingStatus.in_progress:
            settle_break(s, sit, now)
            stop = stopped_of(sit, now)
            if stop is not None:
                raise SittingPaused(stop)
            deadline = sit.deadline_at(now)
            if deadline is None or now < deadline:
                return sit
        raise SittingClosed("Your change was not saved: the exam has ended.")

    def _item(self, item_id: str) -> ItemView:
        try:
            return self.form.item(item_id)
        except KeyError:
            raise ExamBuilderError(f"question {item_id!r} is not on this form") from None

    def answer(self, item_id: str, value: str | None) -> Answer:
        """Record an answer as the item's kind stores it (``clean_answer``); committed at once.

        Typed text (a ``typed`` kind's: open response, short answer) is stored as the candidate
        typed it, less what nobody can see (``records.text.clean_answer``): control characters
        (NUL included), noncharacters and bidi overrides are removed, every line break becomes
        ``\\n``, tabs stay. Removed rather
        than refused: a candidate mid-exam cannot tell why an invisible character blocks their
        save, and what they can see is kept. The length limit counts the cleaned text.
        """
        item = self._item(item_id)
        kind = kind_for(item.kind)
        if kind.typed and value is not None:  # typed text: what nobody can see goes, then the size limit
            value = clean_answer(str(value))
            if len(value) > self.max_text:
                self._log_limit("size", item=item_id, chars=len(value))
                raise LimitReached(f"Your answer to question {item.number} is longer than {self.max_text:,} "
                                   "characters, so it was not saved. Please shorten it.", "size")
        try:  # the kind says what a valid answer is, and its one stored spelling
            value = kind.clean_answer(value, item.labels) if value is not None else None
        except ValueError as exc:
            what = "one of the choices" if item.labels else "an answer"
            raise ExamBuilderError(f"{shown(value)} is not {what} of question {item.number}"
                                   + ("" if item.labels else f" ({exc})")) from None
        prev = self._answers.get(item_id)
        return self._append(item_id, value, prev.flagged if prev else False, "answer")

    def flag(self, item_id: str, flagged: bool = True) -> Answer:
        """Mark a question to come back to (journaled like an answer, value unchanged)."""
        self._item(item_id)
        prev = self._answers.get(item_id)
        return self._append(item_id, prev.value if prev else None, bool(flagged), "flag")

    @property
    def max_comment(self) -> int:
        """The longest comment on a question, in characters (``c.RecourseSettings.max_comment_chars``)."""
        return self.course.recourse_settings.max_comment_chars

    def comment_of(self, item_id: str) -> str:
        """The candidate's saved comment on a question ("" when none)."""
        return self._comments.get(item_id, "")

    def comment(self, item_id: str, text: str | None) -> str:
        """Save the candidate's comment on a question (empty text takes it back); committed at once.

        A comment is read by staff after the exam (key validation) and never changes the time or the
        score by itself. It is cleaned as a typed answer is (``clean_answer``), refused past
        ``max_comment`` characters (a ``limit`` event), and counts against the same journal limits as
        answers (rows and saves per minute), under the same rules: only while the sitting is open on
        this screen, never while the clock is stopped.
        """
        item = self._item(item_id)
        text = clean_answer(str(text or "")).strip()
        if len(text) > self.max_comment:
            self._log_limit("size", item=item_id, chars=len(text), what="comment")
            raise LimitReached(f"Your comment on question {item.number} is longer than {self.max_comment:,} "
                               "characters, so it was not saved. Please shorten it.", "size")
        if text == self._comments.get(item_id, ""):
            return text  # the same comment again adds no row
        self._save(item_id, "comment", lambda sit, now: ItemComment(
            sitting_id=sit.id, item_id=item_id, text=text, recorded_at=now, entered_by=sit.scribe_name or "candidate"))
        self._comments[item_id] = text
        return text

    def _journal_limit(self, s: Session, sitting_id: int, now: dt.datetime) -> LimitReached | None:
        """The refusal due now, if any; called under the sitting's row lock, so processes agree."""
        total, recent = journal_counts(s, sitting_id, now - dt.timedelta(minutes=1))
        if total >= self.settings.max_journal_rows:
            return LimitReached(TOO_MANY, "rows")
        if recent >= self.settings.max_saves_per_minute:
            return LimitReached(TOO_FAST, "rate")
        return None

    def _append(self, item_id: str, value: str | None, flagged: bool, what: str) -> Answer:
        self._save(item_id, what, lambda sit, now: Response(
            sitting_id=sit.id, item_id=item_id, value=value, flagged=flagged, recorded_at=now,
            entered_by=sit.scribe_name or "candidate"))
        ans = Answer(value, flagged)
        self._answers[item_id] = ans
        return ans

    def _save(self, item_id: str, what: str, row: Callable[[Sitting, dt.datetime], object]) -> None:
        """Append one journal row (an answer, a flag, a comment) under the sitting's rules and limits."""
        limit: LimitReached | None = None
        try:
            with self.db.transaction() as s:
                sit = self._open_for_change(s)
                now = self.clock()
                limit = self._journal_limit(s, sit.id, now)
                if limit is None:
                    s.add(row(sit, now))
                    moved = self._moved(sit)  # where the candidate is goes with the save: no write of its own
                    if moved is not None:
                        self.at_question = moved
        except TakenOver:
            self._event(EventKind.refused_change, item=item_id, what=what, why="opened on another screen")
            raise
        except SittingPaused as exc:
            self.stopped = exc.stop
            self._event(EventKind.refused_change, item=item_id, what=what,
                        why="on a break" if exc.stop.kind == "break" else "while paused")
            raise
        except SittingClosed:
            # the refusal (and an automatic submit) were committed by a second transaction
            self._log_refusal(item_id, what)
            raise
        if limit is not None:
            self._log_limit(limit.why, item=item_id, what=what)
            raise limit

    def _log_limit(self, why: str, **details) -> None:
        """A ``limit`` event for the proctor, at most one a minute per sitting (a flood stays one line)."""
        now = self.clock()
        with self.db.transaction() as s:
            recent = sittings_q.select_recent_event(s, self.sitting_id, EventKind.limit, now - dt.timedelta(minutes=1))
            if recent is None:
                record_event(s, self.sitting_id, EventKind.limit, {"limit": why, **details}, at=now)

    def _log_refusal(self, item_id: str, what: str) -> None:
        """The change's transaction rolled back; log the refusal (and submit if the deadline passed)."""
        with self.db.transaction() as s:
            sit = self._sitting(s, lock=True)
            now = self.clock()
            deadline = sit.deadline_at(now)
            if (sit.status == SittingStatus.in_progress and sit.clock_stopped(now) is None and deadline is not None
                    and now >= deadline):
                self._submit(s, sit, SubmitReason.deadline)
            if sit.status == SittingStatus.submitted:
                why = "after the deadline" if sit.submit_reason == SubmitReason.deadline else "after the submit"
            else:
                why = {SittingStatus.voided: "after the sitting was voided"}.get(sit.status, "before the start")
            record_event(s, sit.id, EventKind.refused_change, {"item": item_id, "what": what, "why": why}, at=now)

    # -- submitting ---------------------------------------------------------------------
    def submit(self) -> Receipt:
        """The candidate submits; a second call returns the same receipt."""
        with self.db.transaction() as s:
            sit = self._sitting(s, lock=True)
            self._check_lease(sit)
            if sit.status == SittingStatus.submitted:
                return self._receipt(s, sit)
            if sit.status != SittingStatus.in_progress:
                raise SittingClosed("This sitting cannot be submitted: it is " + sit.status.replace("_", " ") + ".")
            now = self.clock()
            settle_break(s, sit, now)
            stop = stopped_of(sit, now)
            if stop is not None:
                raise SittingPaused(stop)
            deadline = sit.deadline_at(now)
            late = deadline is not None and now >= deadline
            return self._submit(s, sit, SubmitReason.deadline if late else SubmitReason.candidate)

    def receipt(self) -> Receipt | None:
        with self.db.read() as s:
            sit = self._sitting(s)
            return self._receipt(s, sit) if sit.status == SittingStatus.submitted else None

    def _submit(self, s: Session, sit: Sitting, reason: SubmitReason) -> Receipt:
        now = self.clock()
        deadline = sit.deadline_at(now)
        if reason == SubmitReason.deadline and deadline is not None:
            now = min(now, deadline)  # the clock ran out at the deadline, whenever we noticed
        answers = {k: r.value for k, r in latest_responses(s, sit.id).items()}
        sit.status = SittingStatus.submitted
        sit.submitted_at = now
        sit.submit_reason = reason
        sit.receipt_hash = receipt_hash(sit.id, answers)
        record_event(s, sit.id, EventKind.submit, {"reason": reason, "receipt": sit.receipt_hash}, at=self.clock())
        s.flush()
        return self._receipt(s, sit)

    def _receipt(self, s: Session, sit: Sitting) -> Receipt:
        rows = latest_responses(s, sit.id)
        total = len(self.form.items) if self.form else len(rows)
        answered = sum(1 for r in rows.values() if r.value not in (None, ""))
        exam = s.get(Exam, sit.exam_id)
        return Receipt(sit.id, sit.submitted_at, sit.receipt_hash, sit.submit_reason or "", answered, total,
                       exam.title if exam and exam.title else sit.exam_id)

    # -- events -------------------------------------------------------------------------
    def _event(self, kind: EventKind, **details) -> None:
        with self.db.transaction() as s:
            record_event(s, self.sitting_id, kind, details, at=self.clock())

    def log_event(self, kind: EventKind, **details) -> None:
        """For the app: warnings shown, text size changed, and the like."""
        self._event(kind, **details)
