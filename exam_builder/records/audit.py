"""The audit trail: append-only, who changed what, when and why, hash-chained.

Each entry says what it records with an ``AuditAction`` (``records.states``; the database refuses
any other word). Each entry's hash covers its own fields and the hash of the entry before it, so editing or
deleting any row breaks the chain that ``verify`` walks. Record an entry in the same
transaction as the change it describes.

In a staff app's process, every entry also says how its actor's name was established
(``details["identity"]``: ``hub`` when JupyterHub signed them in, ``self-declared`` in the
standalone token mode; see ``records.identity``). A hub-signed app records only its hub user.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..errors import ExamBuilderError
from ..model.states import AuditAction
from .models import AuditEntry, utcnow
from .queries import audit as q
from .text import text_problem

GENESIS = "0" * 64
#: The longest actor name and reason an entry stores; both one line of text by the one text rule
#: (``exam_builder.text``), whichever door they come through (the command line, a staff app, a sheet).
MAX_ACTOR = 128
MAX_REASON = 500


def current_actor(explicit: str | None = None) -> str:
    """Who is acting: ``--by``, else $EXAM_BUILDER_USER, else the login name.

    A name typed by a person is checked like a name in a sheet (no hidden characters, at most
    128): it is stored in every audit entry and printed in the log.
    """
    for given, where in ((explicit, "--by"), (os.environ.get("EXAM_BUILDER_USER"), "$EXAM_BUILDER_USER")):
        if given and given.strip():
            why = text_problem(given.strip(), MAX_ACTOR)
            if why is not None:
                raise ExamBuilderError(f"the name given with {where} {why}")
            if given.strip().casefold() == SYSTEM:
                raise ExamBuilderError(f"the name given with {where} is {SYSTEM!r}, the name of the program's own "
                                       "decisions in the audit trail; give your own name")
            return given.strip()
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def _digest(prev_hash: str, entry: AuditEntry) -> str:
    payload = {
        "prev": prev_hash,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "reason": entry.reason or "",
        "details": entry.details or {},
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _lock_chain(session: Session) -> None:
    """Serialize appends so two writers never chain onto the same predecessor."""
    q.lock_chain(session)
    # SQLite: write transactions begin IMMEDIATE, which already serializes writers.


#: The actor of decisions exam-builder takes by itself (a no-show made absent when its window closed):
#: recorded as it whoever's app noticed it first, even a hub-signed one.
SYSTEM = "exam-builder"


def record(
    session: Session,
    actor: str,
    action: AuditAction,
    entity: str,
    entity_id: str | int,
    reason: str = "",
    **details,
) -> AuditEntry:
    """Append one entry (in the caller's transaction), with how the actor is known in a staff app.

    The actor and the reason must obey the text rule (one line, no control or bidi characters): the
    log prints them, so nothing a caller forgot to check is stored (``ExamBuilderError``; the
    caller's transaction is rolled back). ``action`` is an ``AuditAction`` (an unknown word is a
    ValueError here, before the database's CHECK constraint would refuse it).
    """
    from . import identity

    action = AuditAction(action)

    for what, value, limit in (("the name", actor, MAX_ACTOR), ("the reason", reason or "", MAX_REASON)):
        why = text_problem(value, limit)
        if why is not None:
            raise ExamBuilderError(f"{what} {why}")

    ident = identity.current()
    if ident is not None and actor == SYSTEM:
        details.setdefault("noticed_by", ident.name)
    elif ident is not None:
        if ident.fixed and actor != ident.name:  # a hub-signed app acts only as its hub user
            raise ExamBuilderError(f"you are signed in as {ident.name}; a change cannot be recorded as {actor}")
        details.setdefault("identity", str(ident.source))
    _lock_chain(session)
    last = q.select_last_entry(session)
    prev = last.hash if last else GENESIS
    entry = AuditEntry(
        at=utcnow(),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        reason=reason or "",
        details=json.loads(json.dumps(details, default=str)),
        prev_hash=prev,
    )
    entry.hash = _digest(prev, entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass
class ChainReport:
    entries: int
    broken_at: int | None = None  # id of the first entry that does not verify
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(session: Session) -> ChainReport:
    """Walk the chain from the first entry; report the first entry that does not verify."""
    prev = GENESIS
    n = 0
    for entry in q.select_entries(session):
        n += 1
        if entry.prev_hash != prev:
            return ChainReport(n, entry.id,
                               f"entry {entry.id} does not follow the entry before it (a row was removed or reordered)")
        if _digest(prev, entry) != entry.hash:
            return ChainReport(n, entry.id, f"entry {entry.id} was changed after it was written")
        prev = entry.hash
    return ChainReport(n)


def count(session: Session) -> int:
    return q.select_count(session)


def newest(session: Session, entity: str | None = None, entity_id: str | None = None,
           limit: int = 50) -> list[AuditEntry]:
    """The newest ``limit`` entries (of one kind of entity, or one entity), oldest first."""
    return list(reversed(q.select_newest(session, entity, entity_id, limit)))
