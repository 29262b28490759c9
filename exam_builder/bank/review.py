"""Item review as a recorded workflow: who decided what on which version of an item, and what that makes it.

Contract:

- A review is a row of ``eb_item_review`` (``records.queries.reviews``): the item, the hash of
  its content as reviewed (``reviewed_hash``), the decision (``ReviewDecision``: approve,
  revise, retire), the reviewer, their comment and the time, written with an audit entry in
  the same transaction (``review``). Rows are never changed: a new decision is a new row.
- Nobody reviews their own item: the reviewer's name is compared with the header's
  ``author:`` as a person reads names (``same_person``); an approval needs an author to compare.
- The pure core (``reviewed_hash``, ``same_person``, ``review_state``, ``review_states``) reads
  items and decisions, never the database. What a decision makes an item (``ReviewState``):
  **retired** once any retire decision exists; **approved** when the newest decision on its
  current content is an approval by someone other than its author; **changed since approval**
  when an approval exists but the content changed after it (an edit sends it back to review);
  otherwise **waiting for review** (never reviewed, or a revision was asked for).
- The header's ``status:`` stays the author's: what they offer (draft ... live). An item may be
  drawn on a certification form only when its header says live *and* its review is approved
  (``gate`` hangs the states on the ``Bank``; ``Bank.live`` asks them), unless
  ``c.BankSettings.require_recorded_review`` is off. ``reviewed_hash`` leaves out ``status``
  and ``reviewer`` (the review's outcome, which an author may write in the header after it);
  any other edit, the author's name included, changes it.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..clock import utcnow
from ..course import Course
from ..errors import ExamBuilderError, Location, Problem, ValidationFailed, rel
from ..model.item import Item, _hash
from ..model.review import WAITING, Decision, Review, ReviewState
from ..model.states import AuditAction, ReviewDecision
from ..records.text import text_problem
from . import Bank

if TYPE_CHECKING:
    from ..records.db import Database

#: Header fields that record a review's outcome, not what the item says: left out of ``reviewed_hash``.
REVIEW_FIELDS = ("status", "reviewer")
MAX_COMMENT = 4000


# -- the pure core ------------------------------------------------------------------------

def reviewed_hash(item: Item) -> str:
    """SHA-256 of what a reviewer judges: the item's content without ``REVIEW_FIELDS``."""
    content = {k: v for k, v in item.content().items() if k not in REVIEW_FIELDS}
    return _hash(content)


def normal_name(name: str) -> str:
    """A name as people compare it: case, accents' forms, dots, commas and spacing do not count."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(re.sub(r"[.,;'`\u2019]", " ", text).split())


def same_person(a: str, b: str) -> bool:
    """Whether two typed names are the same person's ('A. Rivera' and 'a rivera')."""
    return bool(normal_name(a)) and normal_name(a) == normal_name(b)


def review_state(item: Item, decisions: Iterable[Decision]) -> ReviewState:
    """What the decisions on one item (oldest first) make it now; see the module docstring."""
    decisions = [d for d in decisions if d.item_id == item.id]
    retired = [d for d in decisions if d.decision is ReviewDecision.retire]
    if retired:
        return ReviewState(Review.retired, retired[-1])
    current = reviewed_hash(item)
    on_current = [d for d in decisions if d.content_hash == current]
    if on_current:
        newest = on_current[-1]
        if newest.decision is ReviewDecision.approve and not same_person(newest.reviewer, item.author):
            return ReviewState(Review.approved, newest)
        if newest.decision is ReviewDecision.revise:
            return ReviewState(Review.revise, newest)
    approvals = [d for d in decisions
                 if d.decision is ReviewDecision.approve and not same_person(d.reviewer, item.author)]
    if approvals:
        return ReviewState(Review.changed, approvals[-1])
    return ReviewState(Review.waiting, decisions[-1]) if decisions else WAITING


def review_states(bank: Bank, decisions: Iterable[Decision]) -> dict[str, ReviewState]:
    """Every item's review state, by id, in the bank's order."""
    by_item: dict[str, list[Decision]] = defaultdict(list)
    for d in decisions:
        by_item[d.item_id].append(d)
    return {item_id: review_state(item, by_item.get(item_id, [])) for item_id, item in bank.items.items()}


def with_reviews(bank: Bank, states: dict[str, ReviewState] | None) -> Bank:
    """The same bank, whose ``live()`` asks the review states (None: the header alone)."""
    bank.reviews = states
    return bank


# -- the database edge --------------------------------------------------------------------

def _decision(row, zone: dt.tzinfo) -> Decision:
    """A stored review as the core reads it; its date on the room's calendar (``zone``: ``Course.zone``)."""
    return Decision(row.item_id, row.content_hash, ReviewDecision(row.decision), row.reviewer, row.decided_at,
                    row.comment or "", row.author or "", zone=zone)


def recorded(db: Database, item_ids: Iterable[str] | None = None, *, zone: dt.tzinfo) -> list[Decision]:
    """The recorded decisions (of the items named, or all), oldest first; dated in the room's ``zone``."""
    from ..records.queries.reviews import select_reviews

    db.require_current()
    with db.read() as s:
        return [_decision(r, zone) for r in select_reviews(s, item_ids)]


def _no_database(db_url: str) -> bool:
    """Whether the course's SQLite file does not exist: then nothing was ever reviewed (never creates it)."""
    from ..records.db import sqlite_path

    path = sqlite_path(db_url)
    return path is not None and not path.exists()


def gate(course: Course, bank: Bank) -> Bank:
    """The bank as certification forms may draw from it: with its recorded reviews when the
    course requires them (``c.BankSettings.require_recorded_review``), else unchanged."""
    if not course.bank_settings.require_recorded_review:
        return with_reviews(bank, None)
    return with_reviews(bank, review_states(bank, recorded(course.db, bank.items, zone=course.zone)))


@dataclass
class ReviewOutcome:
    item: Item
    decision: ReviewDecision
    reviewer: str
    before: ReviewState
    after: ReviewState
    audit_id: int


def _unknown_item(item_id: str, bank: Bank, where: str) -> ExamBuilderError:
    near = difflib.get_close_matches(item_id, list(bank.items), n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return ValidationFailed([Problem(Location(where, item=item_id),
                                     f"no item {item_id!r} in the bank{hint}; give the id of an item's header "
                                     "(`exam-builder bank list` shows them)")])


def _duplicates(item_id: str, bank: Bank) -> list[Item]:
    return [i for nb in bank.notebooks for i in nb.items if i.id == item_id]


def _decision_of(decision: str | ReviewDecision) -> ReviewDecision:
    try:
        return ReviewDecision(decision)
    except ValueError:
        raise ExamBuilderError(f"unknown decision {decision!r}; use one of "
                               f"{', '.join(ReviewDecision.values())}") from None


def _refused(item: Item, decision: ReviewDecision, reviewer: str, bank: Bank, errors: list[Problem]) -> list[Problem]:
    """Why ``reviewer`` may not record ``decision`` on ``item`` (located), or nothing when they may."""
    loc = Location(item.where.file, cell=item.where.cell, item=item.id)
    copies = _duplicates(item.id, bank)
    if len(copies) > 1:
        others = " and ".join(f"{i.where.file}:cell {i.where.cell}" for i in copies[1:])
        return [Problem(loc, f"item id {item.id!r} is also used at {others}; give each item its own "
                             "id before reviewing it (which one would the review be of?)")]
    if same_person(reviewer, item.author):
        return [Problem(loc, f"{reviewer} is the item's author; a review is by someone else "
                             "(give the reviewer's name with --by)")]
    if decision is ReviewDecision.approve:
        if not item.author.strip():
            return [Problem(loc, "the item names no author, so nobody can tell its reviewer is "
                                 "someone else; add 'author: <name>' to the header, then approve it")]
        own = [p for p in errors if p.location.item == item.id]
        if own:
            return own + [Problem(loc, "an item with errors cannot be approved; fix them first "
                                       "(or decide 'revise' with what to change)")]
    return []


@dataclass
class ReviewBatch:
    """The reviews one command records (or, with ``dry_run``, would record), one per item, and with
    ``all_pending`` the waiting items left alone, each with why (located)."""

    outcomes: list[ReviewOutcome]
    skipped: list[Problem]
    dry_run: bool = False


def review_many(course: Course, item_ids: Iterable[str], decision: str | ReviewDecision, by: str | None,
                comment: str = "", paths: list[Path] | None = None, *, all_pending: bool = False,
                dry_run: bool = False) -> ReviewBatch:
    """Record one reviewer's decision on the current content of several items at once: one check of
    the bank, one transaction, one review row and one audit entry per item. All or nothing: any item
    refused (unknown, used twice, the reviewer's own, ...) is reported, located, and nothing is written.

    ``all_pending``: every item whose header says live and that waits for review (never reviewed,
    a revision asked for, changed since approval); those this reviewer may not approve (their own, no
    author, errors) are left alone and listed in ``skipped``. ``dry_run``: the same, written nowhere
    (``audit_id`` 0). A decision on more than one item needs ``--by`` and a comment (recorded on each).
    """
    from ..records import audit
    from ..records.queries.reviews import insert_review, select_reviews
    from .check import check

    decision = _decision_of(decision)
    ids = list(dict.fromkeys(item_ids))
    if all_pending and ids:
        raise ExamBuilderError("give item ids or --all-pending, not both")
    if not all_pending and not ids:
        raise ExamBuilderError("say which items: give their ids, or --all-pending for every live item that waits "
                               "for review")
    comment = (comment or "").strip()
    if (all_pending or len(ids) > 1) and not (by and by.strip() and comment):
        raise ExamBuilderError("a review of several items at once needs --by (the reviewer's name) and --comment "
                               "(why; recorded on each item's review)")
    reviewer = audit.current_actor(by)
    targets = list(paths or []) or [course.source_dir]
    report = check(course, targets)
    bank = report.bank
    where = ", ".join(rel(p, course.root) for p in targets)
    course.db.require_current()

    problems: list[Problem] = []
    skipped: list[Problem] = []
    chosen: list[Item] = []
    if all_pending:
        states = review_states(bank, recorded(course.db, bank.items, zone=course.zone))
        for item in bank.offered():
            if not states[item.id].waiting:
                continue
            refused = _refused(item, decision, reviewer, bank, report.errors)
            if refused and same_person(reviewer, item.author):
                loc = Location(item.where.file, cell=item.where.cell, item=item.id)
                refused = [Problem(loc, f"{reviewer} is its author; another reviewer records this one "
                                        "(the same command with their name in --by)")]
            (skipped.extend(refused[-1:]) if refused else chosen.append(item))
    else:
        for item_id in ids:
            item = bank.items.get(item_id)
            if item is None:
                problems.extend(_unknown_item(item_id, bank, where).problems)
                continue
            refused = _refused(item, decision, reviewer, bank, report.errors)
            problems.extend(refused) if refused else chosen.append(item)
    if problems:
        raise ValidationFailed(problems)
    if decision is not ReviewDecision.approve and not comment:
        item = chosen[0]
        loc = Location(item.where.file, cell=item.where.cell, item=item.id)
        raise ExamBuilderError(f"{loc}: say why with --comment (a '{decision}' decision tells the author what to do)")
    why = text_problem(comment, MAX_COMMENT, multiline=True)
    if why is not None:
        raise ExamBuilderError(f"the comment {why}")

    outcomes: list[ReviewOutcome] = []
    with (course.db.read() if dry_run else course.db.transaction()) as s:
        existing: dict[str, list[Decision]] = defaultdict(list)
        for r in select_reviews(s, [i.id for i in chosen]):
            existing[r.item_id].append(_decision(r, course.zone))
        for item in chosen:
            content_hash = reviewed_hash(item)
            before = review_state(item, existing[item.id])
            if dry_run:
                now = utcnow()
                after = review_state(item, [*existing[item.id], Decision(item.id, content_hash, decision, reviewer,
                                                                          now, comment, item.author,
                                                                          zone=course.zone)])
                outcomes.append(ReviewOutcome(item, decision, reviewer, before, after, 0))
                continue
            row = insert_review(s, item_id=item.id, content_hash=content_hash, decision=decision, reviewer=reviewer,
                                author=item.author, comment=comment, file=item.where.file)
            after = review_state(item, [*existing[item.id], _decision(row, course.zone)])
            entry = audit.record(s, reviewer, AuditAction.item_reviewed, "item", item.id, comment,
                                 decision=str(decision), content_hash=content_hash, author=item.author,
                                 file=item.where.file, cell=item.where.cell, before=before.state.value,
                                 after=after.state.value, review_id=row.id)
            outcomes.append(ReviewOutcome(item, decision, reviewer, before, after, entry.id))
    return ReviewBatch(outcomes, skipped, dry_run)


def review(course: Course, item_id: str, decision: str | ReviewDecision, by: str | None, comment: str = "",
           paths: list[Path] | None = None) -> ReviewOutcome:
    """Record one reviewer's decision on the current content of one item (audited).

    Refused, with the item's location: an unknown item, an id used twice, the item's author as
    reviewer, an approval of an item with no author or with errors, a revise or retire without
    a comment saying why.
    """
    (out,) = review_many(course, [item_id], decision, by, comment, paths).outcomes
    return out


def list_reviews(course: Course, bank: Bank) -> dict[str, ReviewState] | None:
    """The review state of every item of ``bank``: all waiting when the course has no database
    file yet; None when its database cannot be read or is not current (unknown, not "waiting")."""
    if _no_database(course.db_url):
        return review_states(bank, [])
    try:
        return review_states(bank, recorded(course.db, bank.items, zone=course.zone))
    except ExamBuilderError:
        return None


def approve_offered(course: Course, bank: Bank, by: str, comment: str) -> list[str]:
    """Approve, in one audited transaction, every item whose header says live and that is not
    approved yet (the demo's and the test kits' bulk review). Items by ``by`` are skipped.

    Returns the ids approved.
    """
    from ..records import audit
    from ..records.queries.reviews import insert_review, select_reviews

    reviewer = audit.current_actor(by)
    course.db.require_current()
    with course.db.transaction() as s:
        states = review_states(bank, [_decision(r, course.zone) for r in select_reviews(s, bank.items)])
        done = []
        for item in bank.offered():
            if states[item.id].state in (Review.approved, Review.retired) or same_person(reviewer, item.author) \
                    or not item.author.strip():
                continue
            content_hash = reviewed_hash(item)
            row = insert_review(s, item_id=item.id, content_hash=content_hash, decision=ReviewDecision.approve,
                                reviewer=reviewer, author=item.author, comment=comment, file=item.where.file)
            audit.record(s, reviewer, AuditAction.item_reviewed, "item", item.id, comment, decision="approve",
                         content_hash=content_hash, author=item.author, file=item.where.file, cell=item.where.cell,
                         before=states[item.id].state.value, after=Review.approved.value, review_id=row.id)
            done.append(item.id)
    return done
