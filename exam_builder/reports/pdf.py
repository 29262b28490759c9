"""Printable score reports: each candidate's HTML score report as a PDF, for candidates without
a Jupyter account (printed and handed over, or attached to an e-mail by staff).

The contract: ``print_score_reports(course, exam, reports)`` turns the score reports that
``grading.results.write_feedback`` wrote (``feedback/<candidate>/<form>/<form>.html``: no item,
no key, no answer) into ``exports/<exam>/score-reports/<candidate>-<form>.pdf``, the staff-only
folder of the exam (``0700``; every PDF ``0600``, through ``files``), and writes beside them the
delivery list (``delivery-list.csv``: per PDF the candidate's id, name and e-mail, the form, the file
and when it was printed), so staff know which file goes to whom. The PDF is what the candidate's HTML
report shows, printed by headless Chromium (``paper.chromium``, the program's one printer; a dependency
of the browser tests and the rehearsal); nothing is sent anywhere. Every PDF is printed into the
course's scratch folder before the first one is placed: a report that cannot be printed leaves the
folder as it was.

A score report written again (a key decision applied, key validation closed, an appeal decided,
``feedback`` run again) makes its PDF stale: ``reprint_score_reports`` prints again exactly the PDFs
that exist among the reports written again (none is made for a report that had none), or, when they
cannot be printed (no browser), removes them and says how to print them again, so a PDF never shows an
earlier report. The delivery list follows.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import clock
from ..errors import ExamBuilderError, rel
from ..files import check_owned, private_temp_dir, remove_file, remove_tree, replace_file, replace_files
from ..lock import scratch_dir
from ..paper.chromium import chromium, print_one as _print
from ..records.queries import sittings as sittings_q
from ..safeload import read_bytes

__all__ = ["DELIVERY_LIST", "Reprinted", "chromium", "delivery_list", "pdf_folder", "print_score_reports",
           "reprint_score_reports"]

#: The largest score report PDF read back.
MAX_PDF_BYTES = 32 * 1024 * 1024
#: The delivery list's name, beside the PDFs: which file goes to whom.
DELIVERY_LIST = "delivery-list.csv"
DELIVERY_COLUMNS = ("candidate", "name", "email", "form", "file", "printed")


def pdf_folder(course, exam: str) -> Path:
    """Where the printable score reports of ``exam`` go: staff-only, beside its keys."""
    return course.exports_dir(exam) / "score-reports"


def pdf_of(course, exam: str, report: Path) -> Path:
    """The PDF of one score report (``feedback/<candidate>/<form>/<form>.html``): ``<candidate>-<form>.pdf``."""
    return pdf_folder(course, exam) / f"{report.parent.parent.name}-{report.parent.name}.pdf"


def _printed(course, exam: str, reports: list[Path]) -> dict[Path, bytes]:
    """Each report printed to PDF in the course's scratch folder (nothing placed): PDF path -> bytes."""
    browser = chromium()
    work = private_temp_dir(scratch_dir(course), "score-pdf-", course.root)
    try:
        jobs = []
        for n, html in enumerate(reports):
            page = work / f"{n}.html"
            replace_file(page, read_bytes(html, str(html), max_bytes=MAX_PDF_BYTES), course.root)  # a private copy
            jobs.append((html, page, work / f"{n}.pdf", work / f"profile-{n}"))
        # two browsers at a time at most: a browser start is most of a PDF's time, and the machine is shared
        with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
            list(pool.map(lambda job: _print(browser, *job[1:]), jobs))
        return {pdf_of(course, exam, html): read_bytes(out, str(out), max_bytes=MAX_PDF_BYTES)
                for html, _page, out, _profile in jobs}
    finally:
        remove_tree(work, course.root)


def delivery_list(course, exam: str, placed: Iterable[Path] = (), gone: Iterable[Path] = ()) -> str:
    """The delivery list (CSV) of the PDFs in the exam's folder, ``placed`` counted as there (about to be
    written now) and ``gone`` as not: per PDF the candidate's id, name, e-mail, form, file and when it was
    printed (the room's time), by candidate."""
    folder = pdf_folder(course, exam)
    placed, gone = set(placed), set(gone)
    now = clock.now_shown(course.zone)
    present = {p for p in (folder.iterdir() if check_owned(folder, course.root, "dir") else [])
               if p.suffix == ".pdf" and p.is_file()} | placed
    present -= gone
    rows: dict[Path, list[str]] = {}
    with course.db.read() as s:
        for _sit, form, cand in sittings_q.select_submitted_with_candidates(s, exam):
            path = folder / f"{cand.id}-{form.assignment}.pdf"
            if path in present and path not in rows:
                printed = now if path in placed else clock.shown(
                    dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc), course.zone)
                rows[path] = [cand.id, cand.name, cand.email or "", form.assignment, path.name, printed]
    for path in sorted(present - set(rows)):  # a PDF of no submitted sitting now (e.g. a voided one): listed, unnamed
        rows[path] = ["", "", "", "", path.name, ""]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(DELIVERY_COLUMNS)
    w.writerows(rows.values())
    return buf.getvalue()


def print_score_reports(course, exam: str, reports: list[Path]) -> list[Path]:
    """One PDF per score report (``feedback/<candidate>/<form>/<form>.html``), and the delivery list beside
    them (``DELIVERY_LIST``), all placed at once; the PDFs written."""
    if not reports:
        return []
    folder = pdf_folder(course, exam)
    check_owned(folder, course.root, "dir")  # before anything is printed: a refused command changes nothing
    check_owned(folder / DELIVERY_LIST, course.root)
    printed: dict[Path, bytes | str] = dict(_printed(course, exam, reports))
    pdfs = list(printed)
    printed[folder / DELIVERY_LIST] = delivery_list(course, exam, placed=pdfs)
    replace_files(printed, course.root)  # 0600 files in a 0700 folder, all or nothing
    return pdfs


@dataclass
class Reprinted:
    """What ``reprint_score_reports`` did to the PDFs of the score reports written again."""

    exam: str
    printed: list[Path] = field(default_factory=list)   # printed again from the report written now
    removed: list[Path] = field(default_factory=list)   # stale and not printable now: removed
    why: str = ""                                       # why they could not be printed
    listing: Path | None = None                         # the delivery list, written again

    def text(self, root: Path) -> str:
        """One line for staff ("" when no report written again had a PDF)."""
        if self.printed:
            return (f"{len(self.printed)} printable score report(s) (PDF) printed again from the report(s) written "
                    f"again; the delivery list {rel(self.listing, root) if self.listing else DELIVERY_LIST} "
                    "says when each was printed: deliver again any you had already sent")
        if self.removed:
            return (f"{len(self.removed)} printable score report(s) (PDF) removed, since they showed the earlier "
                    f"report and cannot be printed now ({self.why}); print them again with "
                    f"exam-builder feedback {self.exam} --pdf")
        return ""


def reprint_score_reports(course, exam: str, reports: list[Path]) -> Reprinted:
    """Print again the PDFs of ``reports`` (score reports just written again) that exist, so none shows an
    earlier report; when they cannot be printed, remove them (``Reprinted.text`` says so and how to print
    them). The delivery list is written again. Nothing happens for reports that had no PDF."""
    out = Reprinted(exam)
    folder = pdf_folder(course, exam)
    if not reports or not check_owned(folder, course.root, "dir"):
        return out
    stale = [html for html in reports if check_owned(pdf_of(course, exam, html), course.root)]
    if not stale:
        return out
    listing = folder / DELIVERY_LIST
    try:
        printed: dict[Path, bytes | str] = dict(_printed(course, exam, stale))
    except ExamBuilderError as exc:
        gone = [pdf_of(course, exam, html) for html in stale]
        for pdf in gone:
            remove_file(pdf, course.root)
        replace_file(listing, delivery_list(course, exam, gone=gone), course.root)
        out.removed, out.why, out.listing = gone, str(exc), listing
        return out
    out.printed = list(printed)
    printed[listing] = delivery_list(course, exam, placed=out.printed)
    replace_files(printed, course.root)
    out.listing = listing
    return out
