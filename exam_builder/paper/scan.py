"""Scanning: answer-sheet pages into the same response journal the online app writes, marked as from paper.

The contract: ``scan_files(course, exam, files, actor)`` reads every page of every file (a PDF's
pages at ``dpi``; PNG, JPEG or TIFF images; grey or colour), reads each page (``read.read_page``)
and, page by page in its own transaction, stores what it says. A page is set aside, with a message
naming the file and page and nothing stored, when it is blank, has no code, names an unknown
sitting or a candidate not on the roster, belongs to another exam, names a candidate other than
its sitting's, is of another form than the sitting's, or its sitting is already handed in. A
sitting that became absent when its sign-in window closed (nobody signs in on paper) is opened
again by its scanned sheet (``records.absence.reopen``, audited); one a proctor marked absent is not. A page
read before is skipped (never overwritten); when it was read with no mark at all and this scan has
marks (an unfilled copy fed first), it is set aside, naming double key entry. Of a page that reads:

- each clearly answered question becomes a journal row (``eb_response``, ``entered_by`` ``paper``),
  its value cleaned by the kind (``clean_answer``) exactly as an online answer is;
- a faint, erased or double mark, and a short answer written by hand, becomes a check
  (``eb_paper_check``: the cropped row or box, no name or code) that a person decides
  (``verify.decide``); nothing is stored for it until then;
- a written page keeps its writing area (``eb_paper_page.image``) and the journal says the answer
  is on paper (``PAPER_ANSWER``): collect embeds the image, graders rate it blind;
- the page itself is recorded (``eb_paper_page``) and audited (``paper.scan``).

When every page of a sitting's sheet is in and no check is pending, the sitting is handed in
(``submit_reason`` ``paper``) with the same receipt hash as an online submit, so collect, grading,
results and the reports take it exactly as an online sitting.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..delivery.form_view import load_form_view, released_notebook_path
from ..delivery.session import latest_responses, receipt_hash
from ..errors import ExamBuilderError
from ..kinds import kind_for
from ..model.states import SITTING_OPEN, AuditAction, EventKind, SittingStatus, SubmitReason
from ..records import absence, audit
from ..records.events import record_event
from ..records.models import Candidate, PaperCheck, PaperPage, Response, Sitting, utcnow
from ..records.queries import forms as forms_q, paper as paper_q, sittings as sittings_q
from ..safeload import read_bytes
from . import layout
from .read import PageRead, Unreadable, read_page

#: What the journal holds for an answer written on a page of the answer sheet (the image is on the page).
PAPER_ANSWER = "[written on paper: answer-sheet page {page}]"
ENTERED_BY = "paper"
MAX_FILE_BYTES = 200 * 1024 * 1024
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


@dataclass
class ScanResult:
    pages_read: int = 0
    marks: int = 0
    checks: int = 0
    handed_in: list[int] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def load_pages(path: Path, dpi: int = 200) -> list[tuple[str, np.ndarray]]:
    """Every page of a scan file as a grey image, each with where it came from ("scan.pdf page 2").

    The file is read through the one loader (``safeload.read_bytes``: a regular file, no link, at most
    ``MAX_FILE_BYTES``), then decoded from memory."""
    suffix = path.suffix.lower()
    if suffix != ".pdf" and suffix not in IMAGE_SUFFIXES:
        raise ExamBuilderError(f"{path}: not a scan exam-builder reads (a PDF, PNG, JPEG or TIFF file)")
    data = read_bytes(path, str(path), max_bytes=MAX_FILE_BYTES, hint="is it the scan? (or scan fewer pages a file)")
    if suffix == ".pdf":
        import pypdfium2 as pdfium

        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise ExamBuilderError(f"{path}: not a readable PDF ({exc})") from None
        pages = []
        try:
            for i in range(len(doc)):
                img = doc[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
                pages.append((f"{path.name} page {i + 1}", np.asarray(img).copy()))
        finally:
            doc.close()
        return pages
    buf = np.frombuffer(data, dtype=np.uint8)
    if suffix in (".tif", ".tiff"):
        ok, imgs = cv2.imdecodemulti(buf, cv2.IMREAD_GRAYSCALE)
        if ok and imgs:
            return [(f"{path.name} page {i + 1}", im) for i, im in enumerate(imgs)]
        raise ExamBuilderError(f"{path}: not a readable TIFF image")
    img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ExamBuilderError(f"{path}: not a readable {suffix[1:].upper()} image")
    return [(path.name, img)]


class _Forms:
    """The answer sheet of each form asked about (read once per scan)."""

    def __init__(self, course, exam: str):
        self.course, self.exam = course, exam
        self.views: dict[str, object] = {}

    def view(self, assignment: str):
        if assignment not in self.views:
            self.views[assignment] = load_form_view(released_notebook_path(self.course, assignment), self.course.root)
        return self.views[assignment]

    def sheet(self, code: layout.SheetCode) -> layout.Sheet:
        if code.exam != self.exam:
            raise Unreadable(f"a sheet of exam {code.exam!r}, not {self.exam!r}; scan it with its own exam")
        with self.course.db.read() as s:
            forms = {f.assignment for f in forms_q.select_forms(s, self.exam)}
        if code.assignment not in forms:
            raise Unreadable(f"a sheet of form {code.assignment!r}, which exam {self.exam} does not have")
        sheet = layout.sheet_for(self.view(code.assignment))
        if len(sheet.pages) != code.pages:
            raise Unreadable(f"a sheet of {code.pages} pages, but form {code.assignment}'s has {len(sheet.pages)}: "
                             "printed for another version of the form; print the sheets again")
        return sheet


def hand_in_if_complete(s, sit: Sitting, pages: int) -> bool:
    """Hand a paper sitting in once every page is scanned and no check is pending (the online receipt hash)."""
    if sit.status not in SITTING_OPEN:
        return False
    if len(paper_q.select_page_numbers(s, sit.id)) < pages or paper_q.select_pending_count(s, sit.id):
        return False
    now = utcnow()
    answers = {k: r.value for k, r in latest_responses(s, sit.id).items()}
    sit.status = SittingStatus.submitted
    sit.started_at = sit.started_at or now
    sit.submitted_at = now
    sit.submit_reason = SubmitReason.paper
    sit.receipt_hash = receipt_hash(sit.id, answers)
    record_event(s, sit.id, EventKind.submit, {"reason": SubmitReason.paper.value, "receipt": sit.receipt_hash}, at=now)
    return True


def _check_sitting(s, code: layout.SheetCode, actor: str, res: ScanResult, where: str) -> Sitting:
    sit = sittings_q.select_sitting(s, code.sitting)
    if s.get(Candidate, code.candidate) is None:
        raise Unreadable(f"names candidate {code.candidate!r}, who is not on the roster; set aside, nothing stored")
    if sit is None:
        raise Unreadable(f"names sitting {code.sitting}, which does not exist; set aside, nothing stored")
    if sit.candidate_id != code.candidate:
        raise Unreadable(f"names candidate {code.candidate} but sitting {sit.id} is {sit.candidate_id}'s; set aside")
    assignment = forms_q.select_assignment(s, sit.form_id)
    if assignment != code.assignment:
        raise Unreadable(f"a sheet of form {code.assignment}, but {code.candidate}'s sitting {sit.id} is on form "
                         f"{assignment}; set aside, nothing stored")
    if absence.absent_by_window(s, sit):  # a paper sitting nobody signed in to online: its sheet says it was sat
        absence.reopen(s, sit, actor, "sat on paper: its answer sheet was scanned")
        res.notes.append(f"{where}: {code.candidate}'s sitting {sit.id} had become absent when its sign-in window "
                         "closed (nobody signs in on paper); opened again, audited")
    if sit.status not in SITTING_OPEN:
        raise Unreadable(f"{code.candidate}'s sitting {sit.id} is {sit.status.value.replace('_', ' ')}: nothing more "
                         "can be stored for it")
    return sit


def _store(s, page: PageRead, sheet: layout.Sheet, view, where: str, actor: str, res: ScanResult) -> None:
    code = page.code
    sit = _check_sitting(s, code, actor, res, where)
    if paper_q.select_page(s, sit.id, code.page) is not None:
        items = {row.item_id for row in page.rows}
        marked_now = any(row.answer() != (None, None) for row in page.rows)
        # an unfilled copy was fed first: never let it silently stand for this one
        if marked_now and not paper_q.select_answered_count(s, sit.id, items):
            raise Unreadable(f"page {code.page} of {code.candidate}'s sheet was read before with no mark at all, and "
                             "this scan has marks: set aside, nothing stored. Enter this page's answers by double key "
                             "entry (`exam-builder scan key`)")
        res.notes.append(f"{where}: page {code.page} of {code.candidate}'s sheet was read before; skipped")
        return
    labels_of = {it.item_id: it.labels for it in view.items}
    stored = checks = 0
    layout_page = sheet.page(code.page)
    written_image = None
    for row in page.rows:
        kind = kind_for(row.kind)
        box = next(r for r in layout_page.rows if r.number == row.number).box()
        answer, why = row.answer()
        if why is not None:
            s.add(PaperCheck(sitting_id=sit.id, item_id=row.item_id, number=row.number, why=why,
                             read=",".join(row.marked),
                             image=page.crop_png(box), source=where))
            checks += 1
            continue
        if answer is None:
            continue  # nothing marked: no answer, as online
        value = kind.clean_answer(answer, labels_of[row.item_id])
        s.add(Response(sitting_id=sit.id, item_id=row.item_id, value=value, entered_by=ENTERED_BY))
        stored += 1
    w = layout_page.written
    if w is not None:
        box = w.box()
        has_ink = page.ink(box) > 0.002
        if kind_for(w.kind).paper_area == "line":
            if has_ink:
                s.add(PaperCheck(sitting_id=sit.id, item_id=w.item_id, number=w.number, why="written", read="",
                                 image=page.crop_png(box), source=where))
                checks += 1
        else:
            written_image = page.crop_png(box)
            if has_ink:
                s.add(Response(sitting_id=sit.id, item_id=w.item_id, value=PAPER_ANSWER.format(page=code.page),
                               entered_by=ENTERED_BY))
                stored += 1
    s.add(PaperPage(sitting_id=sit.id, page=code.page, source=where, item_id=w.item_id if w else None,
                    image=written_image, scanned_by=actor))
    if sit.status == SittingStatus.scheduled:
        sit.status = SittingStatus.in_progress
        sit.started_at = sit.started_at or utcnow()
    s.flush()
    audit.record(s, actor, AuditAction.paper_scan, "sitting", sit.id, f"page {code.page} of {code.pages} scanned",
                 candidate=code.candidate, page=code.page, source=where, answers=stored, checks=checks,
                 upside_down=page.upside_down)
    res.marks += stored
    res.checks += checks
    res.pages_read += 1
    if page.upside_down:
        res.notes.append(f"{where}: was upside down; read turned the right way up")
    if hand_in_if_complete(s, sit, code.pages):
        res.handed_in.append(sit.id)


def scan_pages(course, exam: str, pages: list[tuple[str, np.ndarray]], actor: str) -> ScanResult:
    """Read and store pages already loaded (``load_pages``); see the module."""
    started = time.perf_counter()
    res = ScanResult()
    forms = _Forms(course, exam)
    for where, gray in pages:
        try:
            page = read_page(gray, forms.sheet)
            sheet = forms.sheet(page.code)
            with course.db.transaction() as s:
                _store(s, page, sheet, forms.view(page.code.assignment), where, actor, res)
        except Unreadable as exc:
            res.set_aside.append(f"{where}: {exc}")
        except ExamBuilderError as exc:
            res.set_aside.append(f"{where}: {exc}")
    res.seconds = time.perf_counter() - started
    return res


def scan_files(course, exam: str, files: list[Path], actor: str, dpi: int = 200) -> ScanResult:
    """Read every page of ``files`` (see the module); a file that cannot be opened is named and skipped."""
    if not 100 <= dpi <= 600:
        raise ExamBuilderError(f"--dpi must be from 100 to 600, not {dpi}")
    with course.db.read() as s:
        if not forms_q.select_forms(s, exam):
            raise ExamBuilderError(f"exam {exam!r} has no forms; nothing to scan against")
    pages: list[tuple[str, np.ndarray]] = []
    bad: list[str] = []
    for path in files:
        try:
            pages += load_pages(path, dpi)
        except ExamBuilderError as exc:
            bad.append(str(exc))
    res = scan_pages(course, exam, pages, actor)
    res.set_aside = bad + res.set_aside
    return res
