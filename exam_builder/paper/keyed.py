"""Double key entry: where there is no scanner, two staff members key a sheet's bubbles independently.

The contract: ``key_entry(course, exam, sitting, actor, answers)`` records one person's reading of a
paper sitting's bubble questions (``answers``: one per bubble question, in question order; ``None``
for a row left blank), each cleaned by its kind exactly as a scanned mark (``paper_answer``,
``clean_answer``; a label the question does not offer is refused, naming the question). The first
entry is kept aside (``eb_paper_check``, ``why`` ``keyed``; no one else sees it, not even at
verification). The second entry must come from another person: each question both read alike goes
into the journal (``entered_by`` ``paper, keyed by A and B``); each they read differently becomes a
check (``why`` ``differs``, both readings shown) that a third look decides at verification, audited.
Both entries are audited (``paper.scan``, with who keyed). Written answers still need their pages
scanned; the sitting is handed in as a scanned one is, once every page is in and nothing is pending.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..delivery.form_view import load_form_view, released_notebook_path
from ..errors import ExamBuilderError
from ..kinds import kind_for
from ..model.states import SITTING_OPEN, AuditAction, SittingStatus
from ..records import audit
from ..records.models import PaperCheck, PaperPage, Response, utcnow
from ..records.queries import forms as forms_q, paper as paper_q, sittings as sittings_q
from . import layout
from .scan import ENTERED_BY, hand_in_if_complete

KEYED, DIFFERS = "keyed", "differs"


@dataclass(frozen=True)
class Keyed:
    sitting_id: int
    second: bool  # this was the second entry (the first was kept aside)
    agreed: int = 0
    differs: tuple[int, ...] = ()  # question numbers the two readings differ on (to verification)
    handed_in: bool = False


def _clean(kind, labels: tuple[str, ...], number: int, typed: str | None) -> str | None:
    text = (typed or "").strip().upper()
    if text in ("", "-"):
        return None
    marked = tuple(part.strip() for part in text.split(",") if part.strip())
    answer, why = kind.paper_answer(marked)
    if why is not None:
        raise ExamBuilderError(f"question {number} takes one answer, not {typed!r}")
    try:
        return kind.clean_answer(answer, labels)
    except ValueError:
        raise ExamBuilderError(f"question {number}: {typed!r} is not one of its options "
                               f"({', '.join(labels)})") from None


def key_entry(course, exam: str, sitting_id: int, actor: str, answers: list[str | None]) -> Keyed:
    """One person's keying of a sitting's bubble questions (see the module)."""
    with course.db.transaction() as s:
        sit = sittings_q.select_sitting(s, sitting_id)
        if sit is None or sit.exam_id != exam:
            raise ExamBuilderError(f"no sitting {sitting_id} of exam {exam}")
        if sit.status not in SITTING_OPEN:
            raise ExamBuilderError(f"sitting {sitting_id} is {sit.status.value.replace('_', ' ')}: nothing more can be "
                                   "keyed for it")
        view = load_form_view(released_notebook_path(course, forms_q.select_assignment(s, sit.form_id)), course.root)
        rows = [it for it in view.items if kind_for(it.kind).paper_area == "bubbles"]
        if len(answers) != len(rows):
            raise ExamBuilderError(f"sitting {sitting_id}'s sheet has {len(rows)} bubble questions; {len(answers)} "
                                   "answers were keyed (one per question, '-' for a blank row)")
        clean = [_clean(kind_for(it.kind), it.labels, it.number, a) for it, a in zip(rows, answers, strict=True)]
        first = {c.item_id: c for c, _sit in paper_q.select_checks(s, exam)
                 if c.sitting_id == sit.id and c.why == KEYED}
        if not first:
            for it, value in zip(rows, clean, strict=True):
                s.add(PaperCheck(sitting_id=sit.id, item_id=it.item_id, number=it.number, why=KEYED,
                                 read=value or "", image=b"", source=f"keyed by {actor}"[:512]))
            s.flush()
            audit.record(s, actor, AuditAction.paper_scan, "sitting", sit.id, "first key entry (kept aside)",
                         keyed=len(rows), entry=1)
            return Keyed(sit.id, second=False)
        keyer = next(iter(first.values())).source.removeprefix("keyed by ")
        if keyer == actor:
            raise ExamBuilderError(f"{actor} keyed sitting {sitting_id} first; a second person keys it, without "
                                   "looking at the first entry")
        agreed, differs, now = 0, [], utcnow()
        for it, value in zip(rows, clean, strict=True):
            check = first[it.item_id]
            if (check.read or None) == value:
                check.decided, check.value, check.decided_at = True, value, now
                check.decided_by = f"{keyer} and {actor}"[:128]
                if value is not None:
                    s.add(Response(sitting_id=sit.id, item_id=it.item_id, value=value,
                                   entered_by=f"{ENTERED_BY}, keyed by {keyer} and {actor}"[:128]))
                agreed += 1
            else:
                check.why, check.read = DIFFERS, f"{check.read or 'blank'} / {value or 'blank'}"
                check.source = f"keyed by {keyer} and {actor}"[:512]
                differs.append(it.number)
        sheet = layout.sheet_for(view)
        for page in sheet.pages:
            if page.rows and paper_q.select_page(s, sit.id, page.number) is None:
                s.add(PaperPage(sitting_id=sit.id, page=page.number, source=f"keyed by {keyer} and {actor}"[:512],
                                scanned_by=actor))
        if sit.status == SittingStatus.scheduled:
            sit.status, sit.started_at = SittingStatus.in_progress, sit.started_at or now
        s.flush()
        audit.record(s, actor, AuditAction.paper_scan, "sitting", sit.id, "second key entry",
                     keyed=len(rows), entry=2, first_by=keyer, agreed=agreed, differs=differs)
        done = hand_in_if_complete(s, sit, len(sheet.pages))
        return Keyed(sit.id, True, agreed, tuple(differs), done)
