"""The one writer of sitting events (``eb_sitting_event``): ``record_event``.

Contract: every event of a sitting is added through ``record_event``, in the caller's
transaction, with an ``EventKind`` (``records.states``; the database refuses any other word)
and its time from one clock: ``at`` when the caller's clock gave it (a ``DeliverySession``'s
injectable ``clock``, or a moment the event stands for, such as a break's end), else
``clock.utcnow``, the one clock every table uses.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ..clock import utcnow
from ..model.states import EventKind
from .models import SittingEvent


def record_event(session: Session, sitting_id: int, kind: EventKind, details: dict | None = None, *,
                 at: dt.datetime | None = None) -> SittingEvent:
    """Add one event of a sitting (flushed with the caller's transaction); an unknown kind is a ValueError here,
    before the database's CHECK constraint would refuse it at commit."""
    event = SittingEvent(sitting_id=sitting_id, at=utcnow() if at is None else at, kind=EventKind(kind),
                         details=dict(details or {}))
    session.add(event)
    return event
