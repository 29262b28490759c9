"""Verification: a person decides each answer the scanner would not guess (faint, erased, double, handwritten).

The contract: ``pending(course, exam)`` lists the checks no one has decided, each with its cropped
image (the row or box only: no name, no code); ``decide(course, exam, check, actor, value)``
confirms what was read (``value`` None) or records the right answer, cleaned by the question's
kind exactly as an online answer (``clean_answer``; a label not offered is refused, naming the
labels), writes it to the journal (``entered_by`` ``paper, verified by <actor>``), audits it
(``paper.verify``: what was read, what was decided, by whom) and hands the sitting in when it was
its last pending check and every page is in. A check decided once is not decided again.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..delivery.form_view import load_form_view, released_notebook_path
from ..errors import ExamBuilderError
from ..files import private_dir, replace_files
from ..kinds import kind_for
from ..model.states import AuditAction
from ..records import audit
from ..records.models import PaperCheck, Response, utcnow
from ..records.queries import forms as forms_q, paper as paper_q, sittings as sittings_q
from ..records.text import shown
from . import layout
from .scan import hand_in_if_complete


@dataclass(frozen=True)
class Check:
    id: int
    sitting_id: int
    candidate_id: str
    item_id: str
    number: int
    why: str
    read: str
    source: str
    image: bytes


@dataclass(frozen=True)
class Decided:
    id: int
    sitting_id: int
    number: int
    value: str | None
    handed_in: bool


def pending(course, exam: str) -> list[Check]:
    """The checks of ``exam`` no one has decided, oldest first."""
    with course.db.read() as s:  # a first key entry is kept aside until the second: never shown (``keyed``)
        return [Check(c.id, c.sitting_id, sit.candidate_id, c.item_id, c.number, c.why, c.read, c.source, c.image)
                for c, sit in paper_q.select_checks(s, exam) if c.why != "keyed"]


def export_images(course, exam: str) -> list[Path]:
    """Each pending check's image as ``exports/<exam>/paper/checks/<id>.png`` (staff only), to look at."""
    folder = course.exports_dir(exam) / "paper" / "checks"
    rows = pending(course, exam)
    if not rows:
        return []
    private_dir(folder, course.root)
    files = {folder / f"check-{c.id}.png": c.image for c in rows}
    replace_files(files, course.root)
    return list(files)


def decide(course, exam: str, check_id: int, actor: str, value: str | None = None) -> Decided:
    """Confirm (``value`` None) or correct one check (see the module)."""
    with course.db.transaction() as s:
        check = s.get(PaperCheck, check_id)
        sit = sittings_q.select_sitting(s, check.sitting_id) if check is not None else None
        if check is None or sit is None or sit.exam_id != exam:
            raise ExamBuilderError(f"no check {check_id} of exam {exam}; see `exam-builder scan verify {exam}`")
        if check.why == "keyed":
            raise ExamBuilderError(f"check {check_id} is a first key entry: a second person keys the sheet "
                                   "(exam-builder scan key), not verification")
        if check.decided:
            raise ExamBuilderError(f"check {check_id} was decided by {check.decided_by} "
                                   f"({check.value or 'no answer'}); it is not decided again")
        assignment = forms_q.select_assignment(s, sit.form_id)
        view = load_form_view(released_notebook_path(course, assignment), course.root)
        item = view.item(check.item_id)
        kind = kind_for(item.kind)
        if value is None:
            if check.why in ("written", "differs"):
                what = "a handwritten answer" if check.why == "written" else "two readings that differ"
                raise ExamBuilderError(f"check {check_id} is {what}: type the right answer (--value)")
            given = check.read or None
        else:
            given = value.strip() or None
        if given is not None and kind.paper_area == "bubbles":
            given = ",".join(part.strip().upper() for part in given.split(","))
            answer, why = kind.paper_answer(tuple(given.split(",")))
            if why is not None:
                raise ExamBuilderError(f"question {check.number} takes one answer, not {shown(given)}; give one label "
                                       f"of {', '.join(item.labels)} or '' for none")
            given = answer
        try:
            cleaned = None if given is None else kind.clean_answer(given, item.labels)
        except ValueError as exc:
            raise ExamBuilderError(f"question {check.number}: {exc}") from None
        check.decided, check.value, check.decided_by, check.decided_at = True, cleaned, actor, utcnow()
        if cleaned is not None or check.read:
            s.add(Response(sitting_id=sit.id, item_id=check.item_id, value=cleaned,
                           entered_by=f"paper, verified by {actor}"[:128]))
        s.flush()
        audit.record(s, actor, AuditAction.paper_verify, "sitting", sit.id,
                     "confirmed as read" if value is None else "corrected",
                     check=check.id, question=check.number, why=check.why, read=check.read, decided=cleaned)
        pages = len(layout.sheet_for(view).pages)
        done = hand_in_if_complete(s, sit, pages)
        return Decided(check.id, sit.id, check.number, cleaned, done)
