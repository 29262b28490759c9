"""Key adjustments: what scoring reads of the key-validation decisions, on frozen forms.

An issued form's manifest is never edited. A decision on an objective item (``eb_key_decision``,
recorded by ``grading.keys``) is an adjustment that scoring applies on top of the manifest, once
it has been applied (``applied_at``): the latest applied decision per (exam, item) is in force.

* ``accept``: another answer scores full points as well as the key. It is kept as the item's own
  choice indexes (as authored), so each form's labels follow from that form's option order
  (``labels_on``); scoring gives the better of the key's and each accepted answer's points.
* ``credit``: everyone who sat the item gets its points, whatever they answered (blank too).
* ``drop``: the item scores 0 and leaves the form's total; the cut follows
  ``RecourseSettings.drop_cut_rule``: ``proportional`` (cut x new total / old total) or
  ``unchanged`` (the same raw points). ``scale`` says both.
* ``keep``: nothing changes (a recorded decision that the key stands).

``scale`` starts from the form's effective cut, which its caller reads from ``records.cuts`` (a
recorded re-cut after a standard-setting study, else the cut frozen in the manifest at build).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..errors import ExamBuilderError
from ..model.item import LABELS
from ..model.manifest import Manifest, ManifestItem
from ..model.states import KeyAction
from ..records.models import KeyDecision
from ..records.queries import recourse as recourse_q


@dataclass(frozen=True)
class Adjustment:
    """One decision in force on one item: its action and the other accepted answers (original indexes)."""

    decision_id: int
    item_id: str
    action: KeyAction
    accepted: tuple[tuple[int, ...], ...] = ()
    reason: str = ""

    @classmethod
    def of(cls, d: KeyDecision) -> "Adjustment":
        return cls(d.id, d.item_id, KeyAction(d.action), tuple(tuple(int(i) for i in a) for a in d.accepted or ()),
                   d.reason)


def in_force(s: Session, exam: str) -> dict[str, Adjustment]:
    """item -> the latest applied decision on it (``keep`` included: it may undo an earlier one)."""
    out: dict[str, Adjustment] = {}
    for d in recourse_q.select_key_decisions(s, exam):
        if d.applied_at is not None:
            out[d.item_id] = Adjustment.of(d)
    return {i: a for i, a in out.items() if a.action != KeyAction.keep}


def waiting(s: Session, exam: str) -> dict[str, KeyDecision]:
    """item -> the latest decision on it when it is recorded but not applied and would change scoring: it differs
    from what is in force on the item (a ``keep`` where nothing is in force changes nothing). A result of a form
    holding such an item is provisional (``results.Result.provisional``) until it is applied."""
    latest: dict[str, KeyDecision] = {}
    applied: dict[str, Adjustment] = {}
    for d in recourse_q.select_key_decisions(s, exam):
        latest[d.item_id] = d
        if d.applied_at is not None:
            applied[d.item_id] = Adjustment.of(d)
    out = {}
    for item, d in latest.items():
        if d.applied_at is not None:
            continue
        now = applied.get(item)
        now_action = now.action if now is not None else KeyAction.keep
        if KeyAction(d.action) == now_action == KeyAction.keep:
            continue
        out[item] = d
    return out


def _order(entry: ManifestItem, n: int) -> tuple[int, ...]:
    return tuple(entry.option_order) if entry.option_order else tuple(range(n))


def originals_of(entry: ManifestItem, labels: str, offered: int) -> tuple[int, ...]:
    """The authored choice indexes that ``labels`` ("B", or "A,C") name on this entry's form."""
    order = _order(entry, offered)
    out = []
    for lab in (x.strip().upper() for x in labels.split(",") if x.strip()):
        pos = LABELS.find(lab)
        if len(lab) != 1 or pos < 0 or pos >= len(order):
            shown = ", ".join(LABELS[:len(order)])
            raise ExamBuilderError(f"{lab!r} is not a choice of question {entry.number} on form "
                                   f"{entry.item_id}'s form (its choices are {shown})")
        out.append(order[pos])
    if not out:
        raise ExamBuilderError("name the other answer to accept as its choice label(s), e.g. B or A,C")
    return tuple(sorted(set(out)))


def labels_on(entry: ManifestItem, originals: tuple[int, ...]) -> str | None:
    """The answer ``originals`` is on this entry's form ("B"; "A,C" sorted), or None when a choice is not offered."""
    order = tuple(entry.option_order) or tuple(range(len(LABELS)))
    try:
        return ",".join(sorted(LABELS[order.index(i)] for i in originals))
    except ValueError:
        return None


def also_keys(entry: ManifestItem, adj: Adjustment | None) -> tuple[str, ...]:
    """The other answers accepted on this entry's form (its labels), besides the manifest's key."""
    if adj is None or adj.action != KeyAction.accept_also:
        return ()
    return tuple(lab for a in adj.accepted if (lab := labels_on(entry, a)) is not None and lab != entry.key)


def dropped(manifest: Manifest, adjustments: dict[str, Adjustment]) -> set[str]:
    """The form's items taken out of scoring."""
    return {e.item_id for e in manifest.items
            if (a := adjustments.get(e.item_id)) is not None and a.action == KeyAction.drop}


def scale(manifest: Manifest, adjustments: dict[str, Adjustment], rule: str, cut: float) -> tuple[float, float]:
    """(the form's total, its cut) once dropped items are out, by the drop rule (see the module). ``cut``: the
    form's effective cut before any key decision (``records.cuts``: a recorded re-cut, else the manifest's)."""
    full = float(sum(e.points for e in manifest.items))
    gone = float(sum(e.points for e in manifest.items if e.item_id in dropped(manifest, adjustments)))
    total = full - gone
    if gone and rule == "proportional" and full:
        cut = cut * total / full
    return total, cut
