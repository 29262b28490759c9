"""Printable score reports: each candidate's HTML score report as a PDF, for candidates without
a Jupyter account (printed and handed over, or attached to an e-mail by staff).

The contract: ``print_score_reports(course, exam, reports)`` turns the score reports that
``grading.results.write_feedback`` wrote (``feedback/<candidate>/<form>/<form>.html``: no item,
no key, no answer) into ``exports/<exam>/score-reports/<candidate>-<form>.pdf``, the staff-only
folder of the exam (``0700``; every PDF ``0600``, through ``files``). The PDF is what the
candidate's HTML report shows, printed by headless Chromium (``paper.chromium``, the program's one
printer; a dependency of the browser tests and the rehearsal); nothing is sent anywhere. Every
PDF is printed into the course's scratch folder before the first one is placed: a report that
cannot be printed leaves the folder as it was.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..files import check_owned, private_temp_dir, remove_tree, replace_file, replace_files
from ..lock import scratch_dir
from ..paper.chromium import chromium, print_one as _print
from ..safeload import read_bytes

__all__ = ["chromium", "pdf_folder", "print_score_reports"]

#: The largest score report PDF read back.
MAX_PDF_BYTES = 32 * 1024 * 1024


def pdf_folder(course, exam: str) -> Path:
    """Where the printable score reports of ``exam`` go: staff-only, beside its keys."""
    return course.exports_dir(exam) / "score-reports"


def print_score_reports(course, exam: str, reports: list[Path]) -> list[Path]:
    """One PDF per score report (``feedback/<candidate>/<form>/<form>.html``); the PDFs written."""
    if not reports:
        return []
    browser = chromium()
    folder = pdf_folder(course, exam)
    check_owned(folder, course.root, "dir")  # before anything is printed: a refused command changes nothing
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
        printed: dict[Path, bytes | str] = {folder / f"{html.parent.parent.name}-{html.parent.name}.pdf":
                   read_bytes(out, str(out), max_bytes=MAX_PDF_BYTES) for html, _page, out, _profile in jobs}
        replace_files(printed, course.root)  # 0600 files in a 0700 folder, all or nothing
        return list(printed)
    finally:
        remove_tree(work, course.root)
