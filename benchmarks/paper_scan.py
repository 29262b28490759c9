"""Benchmark: reading a room's scanned answer sheets (issue 29's measure).

A made-up room of 60 candidates sits a 40-question form (true/false, multiple choice with four
options, multiple select with five). Their answer sheets are printed to PDF by the program itself
(``paper.printing.sheets_html`` through Chromium), rendered to 200-dpi pages, filled in
(``paper.fill``) and "scanned" in eight ways, one per sheet in turn: clean; skewed +3 and -3 degrees;
grainy (noise of 14 grey levels); JPEG at quality 60; light pencil marks; erasures (a mark rubbed
out beside the real one); double marks on one-answer questions; faint marks. Each page is then read
(``paper.read.read_page`` and each row's ``answer``: what ``exam-builder scan`` stores) and compared
with what was filled in. Printed: marks read right, marks sent to verification, marks read wrong
(must be 0: the run fails otherwise), and sheets per second (reading only; the baseline is decoding
the page images alone, the least any reader pays). Nothing else asserts.

    python benchmarks/paper_scan.py [--smoke]   # --smoke: a room of 8 (tests/test_benchmarks.py)
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2

from exam_builder.course import Course
from exam_builder.delivery.form_view import ChoiceView, FormView, ItemView
from exam_builder.kinds import kind_for
from exam_builder.model.item import LABELS, Kind
from exam_builder.paper import fill, layout
from exam_builder.paper.chromium import print_pdfs
from exam_builder.paper.printing import SheetFor, sheets_html
from exam_builder.paper.read import read_page

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = 40
DPI = 200
CONDITIONS = ("clean", "skew +3", "skew -3", "noise", "jpeg 60", "light marks", "erasures", "double marks", "faint")


def form() -> FormView:
    items = []
    for n in range(1, QUESTIONS + 1):
        kind = (Kind.true_false, Kind.multiple_choice, Kind.multiple_choice, Kind.multiple_select)[n % 4]
        k = {Kind.true_false: 2, Kind.multiple_choice: 4, Kind.multiple_select: 5}[kind]
        items.append(ItemView(n, f"bench-{n:02d}", kind.value, 1.0, f"Question {n}",
                              tuple(ChoiceView(LABELS[j], f"Option {j + 1}") for j in range(k))))
    return FormView("bench-A", "# Benchmark", items)


def truth_for(view: FormView, rng: random.Random) -> dict[int, str | None]:
    """What each candidate means to answer (about 5 % left blank)."""
    out: dict[int, str | None] = {}
    for it in view.items:
        if rng.random() < 0.05:
            out[it.number] = None
        elif kind_for(it.kind).paper_answer(("A", "B"))[1] is None:  # several answers allowed
            out[it.number] = ",".join(sorted(rng.sample(it.labels, rng.randint(1, 3))))
        else:
            out[it.number] = rng.choice(it.labels)
    return out


def marks_for(view: FormView, truth: dict[int, str | None], condition: str, rng: random.Random):
    """The marks a candidate makes, and the answers they are meant to give (a double mark means no clear answer)."""
    marks, expected = [], dict(truth)
    how = "pencil" if condition == "light marks" else "pen"
    for it in view.items:
        chosen = truth[it.number].split(",") if truth[it.number] else []
        marks += [fill.Mark(it.number, lab, how) for lab in chosen]
        others = [lab for lab in it.labels if lab not in chosen]
        if condition == "erasures" and others and rng.random() < 0.25:
            marks.append(fill.Mark(it.number, rng.choice(others), "erased"))
        if condition == "faint" and others and rng.random() < 0.1:
            marks.append(fill.Mark(it.number, rng.choice(others), "faint"))
        if condition == "double marks" and len(chosen) == 1 and others and rng.random() < 0.15 \
                and kind_for(it.kind).paper_answer(("A", "B"))[1] is not None:
            marks.append(fill.Mark(it.number, rng.choice(others), "pen"))
            expected[it.number] = "double"
    return marks, expected


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="a room of 8 (no figures to quote)")
    args = ap.parse_args()
    room = 8 if args.smoke else 60
    rng = random.Random(29)
    view = form()
    sheet = layout.sheet_for(view)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
        course = Course(root)
        people = [SheetFor(f"b{n:03d}", f"Candidate {n}", n) for n in range(1, room + 1)]
        t0 = time.perf_counter()
        pdf = print_pdfs(course, {root / "sheets.pdf": sheets_html(view, "bench", "Benchmark", people)})
        printed_s = time.perf_counter() - t0
        pages = fill.render(pdf[root / "sheets.pdf"], DPI)
    if len(pages) != room * len(sheet.pages):
        print(f"expected {room * len(sheet.pages)} pages, printed {len(pages)}")
        return 1
    scans, expected_all = [], []
    for n, page in enumerate(pages):
        condition = CONDITIONS[n % len(CONDITIONS)]
        truth = truth_for(view, rng)
        marks, expected = marks_for(view, truth, condition, rng)
        filled = fill.fill(page, sheet.page(1), marks, DPI, rng)
        skew = {"skew +3": 3.0, "skew -3": -3.0}.get(condition, rng.uniform(-0.5, 0.5))
        noise = 14.0 if condition == "noise" else 3.0
        jpeg = 60 if condition in ("jpeg 60", "noise") else None
        img = fill.scanned(filled, rng, skew=skew, noise=noise, jpeg=jpeg)
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, jpeg]) if jpeg else cv2.imencode(".png", img)
        scans.append((condition, buf))
        expected_all.append(expected)
    t0 = time.perf_counter()
    for _condition, buf in scans:
        cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    baseline = time.perf_counter() - t0
    right = checked = wrong = 0
    wrong_where = []
    t0 = time.perf_counter()
    for (condition, buf), expected in zip(scans, expected_all, strict=True):
        read = read_page(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE), lambda code: sheet)
        for row in read.rows:
            answer, why = row.answer()
            if why is not None:
                checked += 1
            elif answer == expected[row.number]:
                right += 1
            else:
                wrong += 1
                wrong_where.append(f"{read.code.candidate} q{row.number} ({condition}): read {answer}, "
                                   f"meant {expected[row.number]}")
    reading = time.perf_counter() - t0
    print("smoke run (small, figures not to quote)" if args.smoke else f"full run: a room of {room}")
    total = right + checked + wrong
    print(f"room of {room} sheets x {QUESTIONS} questions ({total:,} marks), printed in {printed_s:.1f} s, "
          f"conditions: {', '.join(CONDITIONS)}")
    print(f"read right: {right:,} ({100 * right / total:.1f}%)")
    print(f"sent to verification: {checked:,} ({100 * checked / total:.1f}%)")
    print(f"read wrong: {wrong}")
    print(f"sheets per second: {room / reading:.1f} ({1000 * reading / room:.0f} ms a sheet at {DPI} dpi); "
          f"baseline (decoding the images alone): {room / baseline:.1f} per second")
    for line in wrong_where[:10]:
        print("  wrong: " + line)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
