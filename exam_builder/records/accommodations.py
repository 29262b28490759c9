"""Accommodations: requested with a provider's letter on file, approved by staff, revocable.

Only approved accommodations take effect; the personal time limit that delivery uses is
derived here (180 x 1.5 = 270 minutes), and so are stop-the-clock breaks (``breaks``: a number
of breaks of at most so many minutes each, e.g. 2 breaks of 10 minutes; ``break_allowance``). The letter's date is kept,
never what it says: there
is no place for a diagnosis, and free text that looks like one is refused. Every change is
audited with who and why, in the same transaction. A date left out (requested, approved, revoked)
is the room's date today (``clock.today`` in ``zone``, the room's time zone the caller gives),
so an approval at 22:30 in Boston is dated that day, not the next UTC one.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from .. import clock
from ..errors import ExamBuilderError, Problem
from ..model.states import AccommodationKind, AccommodationStatus, AuditAction
from ..settings.policy import ProgramPolicy
from . import audit
from .csvfile import CellError, Column, DryRun, decimal, read_csv
from .models import Accommodation, Candidate
from .queries import accommodations as accommodations_q
from .roster import get_candidate
from .text import shown, text_problem

if TYPE_CHECKING:
    from ..course import Course
    from .db import Database

KINDS = AccommodationKind.values()
KIND_ALIASES = {
    "extended_time": AccommodationKind.extended_time, "extended time": AccommodationKind.extended_time,
    "extra time": AccommodationKind.extended_time, "time and a half": AccommodationKind.extended_time,
    "scribe": AccommodationKind.scribe, "separate_room": AccommodationKind.separate_room,
    "separate room": AccommodationKind.separate_room, "private room": AccommodationKind.separate_room,
    "other": AccommodationKind.other,
    "breaks": AccommodationKind.breaks, "break": AccommodationKind.breaks, "rest breaks": AccommodationKind.breaks,
    "stop the clock breaks": AccommodationKind.breaks, "stop_the_clock_breaks": AccommodationKind.breaks,
    "large_print": AccommodationKind.large_print, "large print": AccommodationKind.large_print,
}
MAX_MULTIPLIER = 3.0
MAX_BREAKS = 10  # breaks in one sitting
MAX_BREAK_MINUTES = 60  # the longest one break may last
MAX_DETAILS = 1000  # an arrangement in a sentence or two, not a letter
NO_DIAGNOSIS = (
    "Describe the arrangement only (e.g. 'seat near the door'); never write a diagnosis, "
    "a condition or what the provider's letter says."
)
# Words that name a condition rather than an arrangement; such text is refused, not stored.
_MEDICAL = re.compile(
    r"\b(diagnos\w*|disorders?|diseases?|syndromes?|ptsd|adhd|bipolar|schizo\w*|depressi\w*|psychos[ie]s|"
    r"psychotic|autis\w*|dyslexi\w*|anxiety|ocd|epilep\w*|diabet\w*|hiv|cancer|medications?|prescri\w*)\b",
    re.IGNORECASE,
)


def normalize_kind(kind: str) -> AccommodationKind:
    value = KIND_ALIASES.get(kind.strip().lower().replace("-", "_")) or KIND_ALIASES.get(
        kind.strip().lower().replace("_", " ").replace("-", " ")
    )
    if value is None:
        raise ExamBuilderError(f"unknown accommodation kind {kind!r}; use one of: {', '.join(KINDS)}")
    return value


def check_details(details: str) -> str:
    """Free text of an accommodation, refused if it looks like medical information, holds hidden
    characters or is longer than ``MAX_DETAILS`` (the same rules as a sheet's details column)."""
    details = (details or "").strip()
    why = text_problem(details, MAX_DETAILS, multiline=True)
    if why is not None:
        raise ExamBuilderError(f"the details text {why}")
    if _MEDICAL.search(details):
        raise ExamBuilderError(f"the details {shown(details)} look like medical information. {NO_DIAGNOSIS}")
    return details


def check_breaks(count, minutes) -> tuple[int, int]:
    """How many breaks and how long each may last (whole numbers, 1..``MAX_BREAKS`` and 1..``MAX_BREAK_MINUTES``)."""
    def whole(value, what: str, high: int) -> int:
        try:
            n = int(str(value).strip())
        except (TypeError, ValueError):
            raise ExamBuilderError(f"give {what} as a whole number from 1 to {high}, not {shown(str(value))}") from None
        if not 1 <= n <= high:
            raise ExamBuilderError(f"{what} must be from 1 to {high}, not {n}")
        return n

    if count is None or minutes is None:
        raise ExamBuilderError("a breaks accommodation needs how many breaks (--breaks) and how long each may "
                               "last (--break-minutes), e.g. 2 breaks of 10 minutes")
    return whole(count, "the number of breaks", MAX_BREAKS), whole(minutes, "the minutes of a break", MAX_BREAK_MINUTES)


def breaks_text(count: int | None, minutes: int | None) -> str:
    """2, 10 -> "2 breaks of 10 minutes" (as staff and the candidate read it)."""
    if not count or not minutes:
        return ""
    return f"{count} break{'s' if count != 1 else ''} of {minutes} minute{'s' if minutes != 1 else ''}"


def _get(session: Session, accommodation_id: int) -> Accommodation:
    acc = accommodations_q.select_accommodation(session, accommodation_id)
    if acc is None:
        raise ExamBuilderError(f"no accommodation {accommodation_id}; see `exam-builder accommodation list`")
    return acc


def request(
    session: Session,
    policy: ProgramPolicy,
    candidate_id: str,
    kind: str,
    actor: str,
    multiplier: float | None = None,
    details: str = "",
    letter_on_file: dt.date | None = None,
    requested_on: dt.date | None = None,
    reason: str = "",
    break_count: int | None = None,
    break_minutes: int | None = None,
    *,
    zone: dt.tzinfo,
) -> Accommodation:
    """Record a request; it takes effect only once approved (``requested_on``: default the room's today).

    ``breaks`` needs ``break_count`` and ``break_minutes``; no other kind takes them.
    """
    get_candidate(session, candidate_id)
    kind = normalize_kind(kind)
    details = check_details(details)
    if kind == AccommodationKind.extended_time:
        multiplier = policy.extended_time_multiplier if multiplier is None else float(multiplier)
        if not 1.0 < multiplier <= MAX_MULTIPLIER:
            raise ExamBuilderError(f"the extended-time multiplier must be above 1 and at most {MAX_MULTIPLIER:g}, "
                                   f"not {multiplier:g}")
    elif multiplier is not None:
        raise ExamBuilderError(f"a multiplier applies to extended_time only, not to {kind}")
    if kind == AccommodationKind.breaks:
        break_count, break_minutes = check_breaks(break_count, break_minutes)
    elif break_count is not None or break_minutes is not None:
        raise ExamBuilderError(f"a number and length of breaks apply to breaks only, not to {kind}")
    if kind == AccommodationKind.other and not details:
        raise ExamBuilderError(f"an 'other' accommodation needs --details saying what is arranged. {NO_DIAGNOSIS}")
    today = clock.today(zone)
    requested_on = requested_on or today
    if letter_on_file and letter_on_file > today:
        raise ExamBuilderError(f"the letter date {letter_on_file} is in the future")
    acc = Accommodation(
        candidate_id=candidate_id, kind=kind, multiplier=multiplier, details=details,
        break_count=break_count, break_minutes=break_minutes, requested_on=requested_on, letter_on_file=letter_on_file,
        status=AccommodationStatus.requested,
    )
    session.add(acc)
    session.flush()
    audit.record(session, actor, AuditAction.accommodation_request, "accommodation", acc.id, reason,
                 candidate=candidate_id, kind=kind, multiplier=multiplier, details=details,
                 letter_on_file=letter_on_file, requested_on=requested_on,
                 **({"breaks": break_count, "break_minutes": break_minutes} if break_count else {}))
    return acc


def approve(
    session: Session,
    accommodation_id: int,
    actor: str,
    reason: str = "",
    letter_on_file: dt.date | None = None,
    approved_on: dt.date | None = None,
    multiplier: float | None = None,
    *,
    zone: dt.tzinfo,
) -> Accommodation:
    """Approve a request; a provider's letter must be on file (its date). ``approved_on``: default
    the room's date today (``zone``).

    ``multiplier`` (extended time only): the approver's own figure, when it differs from the one
    requested (the coordinator's app offers the request's, which defaulted to the policy's).
    """
    acc = _get(session, accommodation_id)
    if acc.status != AccommodationStatus.requested:
        raise ExamBuilderError(f"accommodation {acc.id} is {acc.status}; only a requested one can be approved")
    if multiplier is not None:
        if acc.kind != AccommodationKind.extended_time:
            raise ExamBuilderError(f"a multiplier applies to extended_time only, not to {acc.kind}")
        multiplier = float(multiplier)
        if not 1.0 < multiplier <= MAX_MULTIPLIER:
            raise ExamBuilderError(f"the extended-time multiplier must be above 1 and at most {MAX_MULTIPLIER:g}, "
                                   f"not {multiplier:g}")
        acc.multiplier = multiplier
    if letter_on_file:
        acc.letter_on_file = letter_on_file
    if acc.letter_on_file is None:
        raise ExamBuilderError(
            f"accommodation {acc.id} has no provider's letter on file; give its date with --letter-on-file YYYY-MM-DD"
        )
    acc.status = AccommodationStatus.approved
    acc.approved_by = actor
    acc.approved_on = approved_on or clock.today(zone)
    audit.record(session, actor, AuditAction.accommodation_approve, "accommodation", acc.id, reason,
                 candidate=acc.candidate_id, kind=acc.kind, multiplier=acc.multiplier,
                 letter_on_file=acc.letter_on_file,
                 **({"breaks": acc.break_count, "break_minutes": acc.break_minutes} if acc.break_count else {}))
    return acc


def revoke(session: Session, accommodation_id: int, actor: str, reason: str, *, zone: dt.tzinfo) -> Accommodation:
    """Revoke a request or an approval, on the room's date today (``zone``); staff must say why."""
    if not (reason or "").strip():
        raise ExamBuilderError("say why the accommodation is revoked (--reason)")
    acc = _get(session, accommodation_id)
    if acc.status == AccommodationStatus.revoked:
        raise ExamBuilderError(f"accommodation {acc.id} is already revoked")
    before = acc.status
    acc.status = AccommodationStatus.revoked
    acc.revoked_by = actor
    acc.revoked_on = clock.today(zone)
    audit.record(session, actor, AuditAction.accommodation_revoke, "accommodation", acc.id, reason.strip(),
                 candidate=acc.candidate_id, kind=acc.kind, was=before)
    return acc


def list_accommodations(
    session: Session, candidate_id: str | None = None, status: AccommodationStatus | str | None = None
) -> list[Accommodation]:
    return accommodations_q.select_accommodations(session, candidate_id, status)


def approved(session: Session, candidate_id: str) -> list[Accommodation]:
    """The accommodations that take effect for a candidate."""
    return list_accommodations(session, candidate_id, AccommodationStatus.approved)


def personal_time_limit(session: Session, policy: ProgramPolicy, candidate_id: str) -> int:
    """Minutes this candidate gets: the exam's limit times the largest approved multiplier."""
    multipliers = [a.multiplier or policy.extended_time_multiplier
                   for a in approved(session, candidate_id) if a.kind == AccommodationKind.extended_time]
    return policy.personal_time_limit(max(multipliers) if multipliers else None)


def break_allowance(session: Session, candidate_id: str) -> tuple[int, int]:
    """(breaks, minutes each) a candidate may take in a sitting: the approved breaks accommodation giving the
    most time in all (0, 0 without one). Read at the moment of the break, so an approval made after the
    sitting was opened counts, and a revoked one stops counting."""
    offers = [(a.break_count or 0, a.break_minutes or 0) for a in approved(session, candidate_id)
              if a.kind == AccommodationKind.breaks and a.break_count and a.break_minutes]
    return max(offers, key=lambda o: (o[0] * o[1], o[1]), default=(0, 0))


# -- a convenient import for many at once (the demo and a coordinator's sheet) --------------

COLUMNS = (
    Column("candidate id", ("candidate_id", "candidate", "id", "student id", "student")),
    Column("kind", ("accommodation", "type")),
    Column("multiplier", ("time multiplier", "factor"), required=False),
    Column("breaks", ("number of breaks", "break count"), required=False),  # breaks only: how many
    Column("break minutes", ("break_minutes", "minutes per break", "break length"), required=False),
    Column("details", ("notes", "description", "arrangement"), required=False, max_chars=MAX_DETAILS, multiline=True),
    Column("letter on file", ("letter_on_file", "letter", "letter date", "provider letter"), required=False),
    Column("requested on", ("requested_on", "requested", "request date"), required=False),
    Column("status", (), required=False),  # requested (default) or approved
    Column("approved by", ("approved_by", "approver"), required=False, max_chars=128),
)


@dataclass
class AccommodationImport:
    file: str
    requested: list[int] = field(default_factory=list)
    approved: list[int] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[Problem] = field(default_factory=list)


def import_accommodations(course: Course, path: Path | str, actor: str, dry_run: bool = False) -> AccommodationImport:
    """Request (and, where the sheet says so, approve) accommodations from a CSV file.

    All or nothing; a row that matches a request in force (same candidate and kind, and the
    same request date when the sheet gives one) is left alone, so importing the same sheet
    twice changes nothing, and a column the sheet lacks never clears a stored value (an
    existing request is never rewritten: it is approved, or revoked and requested again).
    ``dry_run``: the same report, nothing written.
    """
    sheet = read_csv(path, COLUMNS, course.root, candidate_data=True)
    policy = course.policy
    today = clock.today(course.zone)
    parsed = []
    for row in sheet.rows:
        cid = sheet.candidate_id(row)
        kind = None
        raw_kind = sheet.required(row, "kind", "the kind")
        if raw_kind:
            try:
                kind = normalize_kind(raw_kind)
            except ExamBuilderError as exc:
                sheet.error(row.number, "kind", str(exc))
        multiplier = None
        if row.get("multiplier"):
            if kind is not None and kind != AccommodationKind.extended_time:
                sheet.error(row.number, "multiplier", f"a multiplier applies to extended_time only, not to {kind}")
            else:
                try:  # "1.5x" and "1.5×" as spreadsheets write it
                    multiplier = decimal(row.get("multiplier").lower().rstrip("x×").strip(),
                                         "the extended-time multiplier", 1.0, MAX_MULTIPLIER, above_low=True)
                except CellError as exc:
                    sheet.error(row.number, "multiplier", str(exc))
        breaks: tuple[int | None, int | None] = (None, None)
        if row.get("breaks") or row.get("break minutes"):
            if kind is not None and kind != AccommodationKind.breaks:
                sheet.error(row.number, "breaks" if row.get("breaks") else "break minutes",
                            f"a number and length of breaks apply to breaks only, not to {kind}")
            else:
                try:
                    breaks = check_breaks(row.get("breaks") or None, row.get("break minutes") or None)
                except ExamBuilderError as exc:
                    sheet.error(row.number, "breaks" if not row.get("breaks") or "number" in str(exc)
                                else "break minutes", str(exc))
        elif kind == AccommodationKind.breaks:
            sheet.error(row.number, "breaks", "a breaks accommodation needs the number of breaks (breaks) and "
                                              "the minutes each may last (break minutes), e.g. 2 and 10")
        details = row.get("details")
        try:
            check_details(details)
        except ExamBuilderError as exc:
            sheet.error(row.number, "details", str(exc))
        if kind == AccommodationKind.other and not details and "details" not in row.bad:
            sheet.error(row.number, "details", f"an 'other' accommodation needs details saying what is arranged. "
                                               f"{NO_DIAGNOSIS}")
        letter = sheet.date(row, "letter on file", "the letter date")
        if letter is not None and letter > today:
            sheet.error(row.number, "letter on file", f"the letter date {letter} is in the future")
        requested_on = sheet.date(row, "requested on", "the request date")
        status = (row.get("status") or AccommodationStatus.requested).lower()
        if status not in (AccommodationStatus.requested, AccommodationStatus.approved):
            sheet.error(row.number, "status", f"status must be requested or approved, not {shown(status)}")
        if status == AccommodationStatus.approved and not row.get("letter on file") and "letter on file" not in row.bad:
            sheet.error(row.number, "letter on file",
                        "an approved accommodation needs the date of the provider's letter")
        if status == AccommodationStatus.requested and row.get("approved by"):
            # never a silent drop: an approver on a request that stays a request is a mistake somewhere
            sheet.error(row.number, "approved by", "an approver is given but the status is requested; "
                                                   "write approved in the status column or clear the approver")
        approver = row.get("approved by") or actor
        parsed.append((row, cid, kind, multiplier, details, letter, requested_on, status, approver, breaks))
    sheet.raise_if_errors()

    report = AccommodationImport(file=sheet.label, warnings=sheet.warnings)
    try:
        _write_import(course.db, sheet, parsed, actor, policy, report, dry_run, course.zone)
    except DryRun:
        pass
    report.warnings = sheet.warnings
    return report


def _write_import(db: Database, sheet, parsed, actor: str, policy: ProgramPolicy, report: AccommodationImport,
                  dry_run: bool, zone: dt.tzinfo) -> None:
    with db.transaction() as s:
        for row, cid, kind, multiplier, details, letter, requested_on, status, approver, breaks in parsed:
            if s.get(Candidate, cid) is None:
                sheet.error(row.number, "candidate id", f"no candidate {cid!r}; import the roster first")
                continue
            existing = accommodations_q.select_same_accommodation(s, cid, kind, requested_on)
            if existing is not None:
                if None not in (multiplier, existing.multiplier) and existing.multiplier != multiplier:
                    sheet.warn(row.number, "multiplier",
                               f"{cid} already has accommodation {existing.id} ({existing.status}, multiplier "
                               f"{existing.multiplier:g}); this row's {multiplier:g} is not applied: revoke "
                               f"{existing.id} first to change it")
                if status == AccommodationStatus.approved and existing.status == AccommodationStatus.requested:
                    approve(s, existing.id, approver, f"imported from {sheet.label} by {actor}", letter_on_file=letter,
                            zone=zone)
                    report.approved.append(existing.id)
                else:
                    report.unchanged += 1
                continue
            try:
                acc = request(s, policy, cid, kind, actor, multiplier=multiplier, details=details,
                              letter_on_file=letter, requested_on=requested_on, reason=f"imported from {sheet.label}",
                              break_count=breaks[0], break_minutes=breaks[1], zone=zone)
            except ExamBuilderError as exc:
                sheet.error(row.number, None, str(exc))
                continue
            report.requested.append(acc.id)
            if status == AccommodationStatus.approved:
                approve(s, acc.id, approver, f"imported from {sheet.label} by {actor}", zone=zone)
                report.approved.append(acc.id)
        sheet.raise_if_errors()  # rolls the whole transaction back
        if dry_run:
            raise DryRun
