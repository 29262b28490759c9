"""Staff's overview of an exam's grading: flags, where rating stands and who it waits for, blank
answers, rubric edits.

What ``exam-builder grade``, ``flags``, ``ratings`` and ``reapply-rubric`` do beyond one item's
queue: each walks every form or every written item of an exam and returns plain rows to print.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..model.states import ItemScoreStatus
from .queue import RatingQueue, load_rubric_for, open_items
from .rubric_scoring import Reapplied, reapply


@dataclass
class ItemRating:
    """Where rating stands for one written item (the row of ``exam-builder ratings``)."""

    item_id: str
    responses: int  # not set aside
    final: int
    adjudication: int
    rerate: int
    set_aside: int

    @property
    def pending(self) -> int:
        return self.responses - self.final - self.adjudication - self.rerate


def settle_blanks(course, exam: str, actor: str) -> int:
    """Score every blank written answer of ``exam`` 0 (no response); returns how many."""
    return sum(RatingQueue(course, exam, item_id).settle_blanks(actor) for item_id, _rubric in open_items(course, exam))


def score_flags(course, exam: str) -> list[tuple[str, str, str | None, str, str]]:
    """What objective scoring and rubric edits flagged: (form, candidate, cell, kind, details) rows."""
    from ..assembly.forms import require_forms
    from ..records.queries.score_flags import select_flags

    with course.db.read() as s:
        assignments = [f.assignment for f, _m in require_forms(s, exam)]
        return [tuple(row) for row in select_flags(s, assignments)]


def rating_overview(course, exam: str) -> tuple[list[ItemRating], list[str]]:
    """Per written item of ``exam``, its decisions by status; and each set-aside message once."""
    rows: list[ItemRating] = []
    aside: dict[tuple[str, str], str] = {}
    for item_id, _r in open_items(course, exam):
        q = RatingQueue(course, exam, item_id)
        st = q.status()
        n = sum(1 for r in q.responses() if not r.set_aside)
        held = q.set_aside()
        for where, message in held.items():
            aside.setdefault(where, message)
        rows.append(ItemRating(item_id, n, st.get(ItemScoreStatus.final, 0), st.get(ItemScoreStatus.adjudication, 0),
                               st.get(ItemScoreStatus.rerate, 0), len(held)))
    return rows, list(aside.values())


@dataclass
class WaitingGroup:
    """Responses of one written item that wait for the same next step from the same people."""

    item_id: str
    step: str
    who: str
    responses: list[str]  # anonymous ids, in queue order


def waiting_overview(course, exam: str) -> tuple[list[WaitingGroup], str]:
    """What every undecided response of ``exam`` waits for and from whom (``RatingQueue.waiting``),
    grouped; and one sentence on who adjudicates in this course."""
    groups: dict[tuple[str, str, str], WaitingGroup] = {}
    note = ""
    for item_id, _r in open_items(course, exam):
        q = RatingQueue(course, exam, item_id)
        note = q.rule.setup_note()
        for w in q.waiting():
            key = (item_id, w.step, w.who)
            groups.setdefault(key, WaitingGroup(item_id, w.step, w.who, [])).responses.append(w.anon_id)
    return list(groups.values()), note


def reapply_rubrics(course, exam: str, rubric_ids: list[str], actor: str, reason: str) -> list[Reapplied]:
    """Re-apply the rubrics named (default: every rubric of ``exam``'s written items) to older ratings."""
    ids = list(rubric_ids) or sorted({r for _i, r in open_items(course, exam) if r})
    return [reapply(course, exam, load_rubric_for(course, rid), actor, reason) for rid in ids]
