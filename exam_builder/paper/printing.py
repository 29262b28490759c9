"""Printed forms: a form's booklet (standard or large print) and its candidates' answer sheets, as PDFs.

The contract: ``print_form(course, exam, form, actor, ...)`` writes, into ``exports/<exam>/paper/``
(staff only: the folder ``0700``, every PDF ``0600``, through ``files``), the booklet of an issued
form and, for each candidate named, an answer sheet for that candidate's open sitting on the form.
The booklet is built from the form's *released* notebook through the candidate's own view
(``delivery.form_view``): the same questions, order and choice order as the online form, and no key
(nothing of the key is in a released notebook). Scenarios come before their first question; every
page has its number and the form's code; a written answer has lined space; the instructions lead.
Large print (``--large-print``, or a candidate's approved ``large_print`` accommodation) sets the text
at 18 pt and starts each question on a page of its own. Everything is printed before anything is
placed (all or nothing), and the printing is audited (``paper.print``: who, the files, the copies).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import segno
from jinja2 import Environment, PackageLoader, select_autoescape

from ..delivery.form_view import FormView, load_form_view, released_notebook_path
from ..errors import ExamBuilderError
from ..files import check_owned, private_dir, replace_files
from ..kinds import kind_for
from ..model.item import points_text
from ..model.states import SITTING_OPEN, AccommodationKind, AuditAction
from ..records import audit
from ..records.accommodations import approved
from ..records.models import Candidate, Exam
from ..records.queries import forms as forms_q, sittings as sittings_q
from ..ui.page import md
from . import layout
from .chromium import print_pdfs

STANDARD_PT = 11
LARGE_PT = 18  # large print: at least 18 pt (the accommodation's promise)
MAX_COPIES = 500


@dataclass
class Printed:
    """What ``print_form`` wrote: the files, and which candidates' sheets and booklets."""

    files: list[Path] = field(default_factory=list)
    sheets: dict[str, Path] = field(default_factory=dict)  # candidate -> answer sheets
    large_for: list[str] = field(default_factory=list)  # candidates whose booklet is large print


def paper_dir(course, exam: str) -> Path:
    """``exports/<exam>/paper``: printed forms and answer sheets (staff only)."""
    return course.exports_dir(exam) / "paper"


def _env() -> Environment:
    return Environment(loader=PackageLoader("exam_builder.paper", "templates"), autoescape=select_autoescape())


def _points(points: float) -> str:
    return f"{points_text(points)} point{'' if points == 1 else 's'}"


def booklet_html(view: FormView, title: str, large: bool) -> str:
    """The booklet of a form as HTML (printed by Chromium): instructions, scenarios, questions, no key."""
    sheet = layout.sheet_for(view)
    page_of = {p.written.number: p.number for p in sheet.pages if p.written}
    row_page = {r.number: p.number for p in sheet.pages for r in p.rows}
    blocks, shown = [], set()
    for it in view.items:
        kind = kind_for(it.kind)
        scenario = None
        if it.scenario and it.scenario not in shown and it.scenario in view.scenarios:
            shown.add(it.scenario)
            sc = view.scenarios[it.scenario]
            scenario = {"title": sc.title or sc.id, "html": md(sc.text)}
        if kind.paper_area == "bubbles":
            how = (f"Answer sheet page {row_page[it.number]}, row {it.number}: "
                   + ("fill every bubble that applies." if getattr(kind, "multiple", False)
                      else "fill one bubble."))
            lines = 0
        else:
            how = f"Write your answer on answer-sheet page {page_of[it.number]} (this space is for notes, not marked)."
            lines = min(kind.paper_lines, 8 if not large else 4)
        note = f"; {kind.question_note}" if kind.question_note else ""
        blocks.append({"number": it.number, "points": _points(it.points) + note, "stem_html": md(it.stem),
                       "options": it.options, "how": how, "lines": lines, "scenario": scenario})
    return _env().get_template("booklet.html.j2").render(
        title=title, form=view.assignment.rsplit("-", 1)[-1], assignment=view.assignment, large=large,
        pt=LARGE_PT if large else STANDARD_PT, foot_pt=LARGE_PT if large else 9, line_mm=14 if large else 9,
        header_html=md(_on_paper(view.header)), blocks=blocks, count=len(view.items))


@dataclass(frozen=True)
class SheetFor:
    candidate: str
    name: str
    sitting: int


def sheets_html(view: FormView, exam: str, title: str, people: list[SheetFor]) -> str:
    """Every candidate's answer sheet (each page coded and marked) as one HTML document."""
    sheet = layout.sheet_for(view)
    pages = []
    for who in people:
        for p in sheet.pages:
            code = layout.SheetCode(exam, view.assignment, who.candidate, who.sitting, p.number, len(sheet.pages))
            qr = segno.make(code.text(), error="m").svg_inline(border=0, dark="#000", omitsize=True)
            pages.append({"number": p.number, "pages": len(sheet.pages), "candidate": who.candidate,
                          "name": who.name, "sitting": who.sitting, "qr": qr, "rows": p.rows, "written": p.written,
                          "box": p.written.box() if p.written else None})
    return _env().get_template("sheets.html.j2").render(
        assignment=view.assignment, title=title, pages=pages, marks=layout.mark_centres(),
        page_w=layout.PAGE_W_MM, page_h=layout.PAGE_H_MM, mark=layout.MARK_MM, qr_x=layout.QR_X_MM,
        qr_y=layout.QR_Y_MM, qr=layout.QR_MM, r=layout.BUBBLE_R_MM, rule_y=layout.QR_Y_MM + layout.QR_MM + 4,
        write_top=layout.WRITE_TOP_MM, line=layout.WRITE_LINE_MM)


def split_pdf(pdf: bytes, each: int) -> list[bytes]:
    """A PDF cut into consecutive parts of ``each`` pages (one browser start prints a whole room's sheets)."""
    import io

    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        if len(doc) % each:
            raise ExamBuilderError(f"the answer sheets printed {len(doc)} pages, not a multiple of {each}")
        parts = []
        for start in range(0, len(doc), each):
            part = pdfium.PdfDocument.new()
            part.import_pages(doc, list(range(start, start + each)))
            buf = io.BytesIO()
            part.save(buf)
            part.close()
            parts.append(buf.getvalue())
        return parts
    finally:
        doc.close()


def form_of(course, exam: str, form: str) -> tuple[int, str]:
    """(form id, assignment) of ``--form``: its label (A) or its assignment (cps-A)."""
    with course.db.read() as s:
        if s.get(Exam, exam) is None:
            raise ExamBuilderError(f"no exam {exam!r} in the database; build its forms first "
                                   f"(exam-builder build {exam})")
        forms = forms_q.select_forms(s, exam)
        for f in forms:
            if form in (f.label, f.assignment):
                return f.id, f.assignment
        labels = ", ".join(f.label for f in forms) or "none yet"
    raise ExamBuilderError(f"exam {exam!r} has no form {form!r} (its forms: {labels})")


def _people(course, exam: str, form_id: int, assignment: str, candidates: list[str]) -> tuple[list[SheetFor], set[str]]:
    """Each named candidate's open sitting on this form (else a clear error) and who has large print approved."""
    people, large, problems = [], set(), []
    with course.db.read() as s:
        for cid in candidates:
            cand = s.get(Candidate, cid)
            if cand is None:
                problems.append(f"{cid} is not on the roster")
                continue
            open_ = [x for x in sittings_q.select_sittings_of(s, cid, exam) if x.status in SITTING_OPEN]
            if not open_:
                problems.append(f"{cid} has no open sitting of {exam}; open one first "
                                f"(exam-builder sitting open {exam} --room ROOM --candidate {cid})")
                continue
            sit = open_[-1]
            if sit.form_id != form_id:
                other = forms_q.select_assignment(s, sit.form_id)
                problems.append(f"{cid}'s sitting {sit.id} is on form {other}, not {assignment}; "
                                f"print {other} for them")
                continue
            people.append(SheetFor(cid, cand.name or cid, sit.id))
            if any(a.kind == AccommodationKind.large_print for a in approved(s, cid)):
                large.add(cid)
    if problems:
        raise ExamBuilderError("; ".join(problems) + "; nothing was printed")
    return people, large


def print_form(course, exam: str, form: str, actor: str, large_print: bool = False,
               candidates: list[str] | None = None, copies: int = 1) -> Printed:
    """Print a form's booklet and, for ``candidates``, their answer sheets (see the module)."""
    if not 1 <= copies <= MAX_COPIES:
        raise ExamBuilderError(f"--copies must be from 1 to {MAX_COPIES}, not {copies}")
    form_id, assignment = form_of(course, exam, form)
    view = load_form_view(released_notebook_path(course, assignment), course.root)
    with course.db.read() as s:
        exam_row = s.get(Exam, exam)
        title = (exam_row.title if exam_row and exam_row.title else exam)
    people, large = _people(course, exam, form_id, assignment, list(dict.fromkeys(candidates or [])))
    folder = paper_dir(course, exam)
    check_owned(folder, course.root, "dir")  # before anything is printed: a refused command changes nothing
    out = Printed()
    pages: dict[Path, str] = {}
    standard = folder / f"booklet-{assignment}.pdf"
    big = folder / f"booklet-{assignment}-large-print.pdf"
    if not large_print and (not people or len(large) < len(people)):
        pages[standard] = booklet_html(view, title, large=False)
    if large_print or large:
        pages[big] = booklet_html(view, title, large=True)
        out.large_for = sorted(large) if not large_print else [p.candidate for p in people]
    all_sheets = folder / f".answer-sheets-{assignment}.pdf"  # every candidate's sheet in one print, then split
    if people:
        pages[all_sheets] = sheets_html(view, exam, title, people)
    printed = print_pdfs(course, pages)
    if people:
        each = len(layout.sheet_for(view).pages)
        for who, data in zip(people, split_pdf(printed.pop(all_sheets), each), strict=True):
            target = folder / f"answer-sheet-{assignment}-{who.candidate}.pdf"
            printed[target] = data
            out.sheets[who.candidate] = target
    private_dir(course.exports_dir(exam), course.root)
    private_dir(folder, course.root)
    with course.db.transaction() as s:  # the audit entry and the files: the entry first, files placed after
        audit.record(s, actor, AuditAction.paper_print, "form", assignment,
                     f"printed {len(printed)} file{'s' if len(printed) != 1 else ''}, {copies} "
                     f"cop{'ies' if copies != 1 else 'y'} each",
                     copies=copies, files=sorted(p.name for p in printed), candidates=[p.candidate for p in people],
                     large_print=out.large_for)
        replace_files(printed, course.root)
    out.files = list(printed)
    return out


#: The online form's header says how answers change on screen; on paper they change on the answer sheet.
ONLINE_WORDS = {"You can change any answer until you submit.":
                "You can change any answer until you hand in your answer sheet."}


def _on_paper(header: str) -> str:
    """The form's header as a paper booklet says it (``ONLINE_WORDS``)."""
    for online, paper in ONLINE_WORDS.items():
        header = header.replace(online, paper)
    return header
