"""HTML to PDF through headless Chromium: the one printer of the program (booklets, answer sheets, score reports).

The contract: ``print_pdfs(course, pages)`` prints each HTML text (``{target: html}``) in the course's
scratch folder and returns the PDFs' bytes by target; the caller places them (``files``: ``0600``
in a ``0700`` folder). Nothing is sent anywhere; the browser runs without network, extensions or a
profile of its own beyond a throw-away one. A page that cannot be printed raises ``ExamBuilderError``
before anything is placed. Chromium honours the page's ``@page`` rule (size, margins, page-margin boxes
with the page number), so the layout is the page's own.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import ExamBuilderError
from ..files import remove_tree, replace_file
from ..lock import scratch_dir
from ..safeload import read_bytes

#: Browsers tried in order (Debian's chromium first); ``$EXAM_BUILDER_CHROMIUM`` names another.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: The longest one PDF may take to print.
PRINT_TIMEOUT_SECONDS = 120
MAX_PDF_BYTES = 64 * 1024 * 1024


def chromium() -> str:
    """The headless browser that prints the PDFs, or a clear error saying how to get one."""
    named = os.environ.get("EXAM_BUILDER_CHROMIUM", "").strip()
    for name in ((named,) if named else BROWSERS):
        found = shutil.which(name)
        if found:
            return found
    raise ExamBuilderError(
        (f"EXAM_BUILDER_CHROMIUM={named!r} is not a program on this computer" if named else
         "no Chromium on this computer to print the PDFs") +
        "; install Debian's chromium (apt-get install chromium) or set $EXAM_BUILDER_CHROMIUM to a Chrome or Chromium")


def print_one(browser: str, html: Path, out: Path, profile: Path) -> None:
    """Print one HTML file to ``out`` (headless, no header or footer of the browser's own)."""
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


def print_pdfs(course, pages: dict[Path, str]) -> dict[Path, bytes]:
    """Each HTML page printed to PDF (two browsers at a time at most: the machine is shared)."""
    if not pages:
        return {}
    browser = chromium()
    from ..files import private_temp_dir

    work = private_temp_dir(scratch_dir(course), "print-", course.root)
    try:
        jobs = []
        for n, (target, text) in enumerate(pages.items()):
            page = work / f"{n}.html"
            replace_file(page, text, course.root)
            jobs.append((target, page, work / f"{n}.pdf", work / f"profile-{n}"))
        with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
            list(pool.map(lambda job: print_one(browser, *job[1:]), jobs))
        return {target: read_bytes(out, str(out), max_bytes=MAX_PDF_BYTES) for target, _p, out, _pr in jobs}
    finally:
        remove_tree(work, course.root)
