"""Printable score reports: each candidate's HTML score report as a PDF, for candidates without
a Jupyter account (printed and handed over, or attached to an e-mail by staff).

The contract: ``print_score_reports(course, exam, reports)`` turns the score reports that
``grading.results.write_feedback`` wrote (``feedback/<candidate>/<form>/<form>.html``: no item,
no key, no answer) into ``exports/<exam>/score-reports/<candidate>-<form>.pdf``, the staff-only
folder of the exam (``0700``; every PDF ``0600``, through ``files``). The PDF is what the
candidate's HTML report shows, printed by headless Chromium (a dependency of the browser
tests and the rehearsal); nothing is sent anywhere. Every PDF is printed into the course's
scratch folder before the first one is placed: a report that cannot be printed leaves the
folder as it was.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import ExamBuilderError
from ..files import check_owned, private_temp_dir, remove_tree, replace_file, replace_files
from ..lock import scratch_dir
from ..safeload import read_bytes

#: Browsers tried in order (Debian's chromium first); ``$EXAM_BUILDER_CHROMIUM`` names another.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: The longest a PDF may take to print (a report is one page with one figure).
PRINT_TIMEOUT_SECONDS = 90
MAX_PDF_BYTES = 32 * 1024 * 1024


def pdf_folder(course, exam: str) -> Path:
    """Where the printable score reports of ``exam`` go: staff-only, beside its keys."""
    return course.exports_dir(exam) / "score-reports"


def chromium() -> str:
    """The headless browser that prints the PDFs, or a clear error saying how to get one."""
    named = os.environ.get("EXAM_BUILDER_CHROMIUM", "").strip()
    for name in ((named,) if named else BROWSERS):
        found = shutil.which(name)
        if found:
            return found
    raise ExamBuilderError(
        (f"EXAM_BUILDER_CHROMIUM={named!r} is not a program on this computer" if named else
         "no Chromium on this computer to print the score reports") +
        "; install Debian's chromium (apt-get install chromium) or set $EXAM_BUILDER_CHROMIUM to a Chrome or Chromium")


def _print(browser: str, html: Path, out: Path, profile: Path) -> None:
    args = [browser, "--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions", "--no-pdf-header-footer",
            f"--user-data-dir={profile}", f"--print-to-pdf={out}", html.as_uri()]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses to start as root with its sandbox
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=PRINT_TIMEOUT_SECONDS,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ExamBuilderError(f"{browser} did not print {html.name} within {PRINT_TIMEOUT_SECONDS} s") from None
    if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        raise ExamBuilderError(f"{browser} could not print {html.name} to PDF (exit {proc.returncode}): "
                               + " / ".join(tail))


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
        printed = {folder / f"{html.parent.parent.name}-{html.parent.name}.pdf":
                   read_bytes(out, str(out), max_bytes=MAX_PDF_BYTES) for html, _page, out, _profile in jobs}
        replace_files(printed, course.root)  # 0600 files in a 0700 folder, all or nothing
        return list(printed)
    finally:
        remove_tree(work, course.root)
