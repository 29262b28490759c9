"""An item's review as data: a recorded decision, and what the decisions make the item (derived, never stored).

The workflow that records decisions and the rules that derive a state are ``bank.review``; these
types are here, in the model, because the ``Bank`` carries each item's state (``Bank.reviews``)
and every layer above reads it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum

from .. import clock
from .states import ReviewDecision


@dataclass(frozen=True)
class Decision:
    """One recorded decision, as the core reads it (a row of ``eb_item_review``); ``zone``: the room's
    time zone (``Course.zone``), the calendar its date is read on."""

    item_id: str
    content_hash: str
    decision: ReviewDecision
    reviewer: str
    decided_at: dt.datetime  # naive UTC, as stored
    comment: str = ""
    author: str = ""
    zone: dt.tzinfo = field(kw_only=True)

    @property
    def when(self) -> str:
        """The day it was decided, on the room's calendar (a review at 22:30 in Boston is dated that day)."""
        return clock.date_of(self.decided_at, self.zone).isoformat()


class Review(str, Enum):
    """What the recorded decisions make an item (derived, never stored)."""

    waiting = "waiting"  # never reviewed
    revise = "revise"  # the newest decision on its content asks for a revision
    changed = "changed"  # approved once, edited since
    approved = "approved"
    retired = "retired"


@dataclass(frozen=True)
class ReviewState:
    """An item's review state and the decision it comes from (None: never reviewed)."""

    state: Review
    decision: Decision | None = None

    @property
    def approved(self) -> bool:
        return self.state is Review.approved

    @property
    def waiting(self) -> bool:
        """Whether the item waits for a (new) review."""
        return self.state in (Review.waiting, Review.revise, Review.changed)

    @property
    def label(self) -> str:
        d = self.decision
        if d is None:
            return "waiting for review"
        return {
            Review.waiting: f"waiting for review (edited since {d.reviewer} asked for a revision on {d.when})",
            Review.revise: f"waiting for review ({d.reviewer} asked for a revision on {d.when})",
            Review.changed: f"changed since approval by {d.reviewer} on {d.when}: waiting for review",
            Review.approved: f"approved by {d.reviewer} on {d.when}",
            Review.retired: f"retired by {d.reviewer} on {d.when}",
        }[self.state]


WAITING = ReviewState(Review.waiting)
