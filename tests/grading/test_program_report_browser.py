"""The program's report in a real browser: axe-core's WCAG 2.2 AA rules and reflow at desktop, phone
and 200% zoom, on a window large enough for every section (tables, figures, flags)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import a11y  # noqa: E402
from report_synthetic import big_window  # noqa: E402

from exam_builder.analysis.report import render_html, sections  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    d = big_window()
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(d, sections(d), "Massachusetts Certified Peer Specialist program"))
    return path


@pytest.mark.parametrize("size", list(a11y.SIZES))
def test_the_report_passes_axe_and_reflows(report_file, browser, size):
    ctx = browser.new_context(**a11y.SIZES[size])
    try:
        page = ctx.new_page()
        page.goto(report_file.as_uri())
        assert page.locator("h2").count() == 9 and page.locator("figure img").count() == 5
        a11y.check_screen(page, "report", size, "program-report")
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def small_report_file(tmp_path_factory):
    """A small window (18 a form): every row of its tables carries the small-sample note."""
    d = big_window(n=18)
    path = tmp_path_factory.mktemp("small") / "report.html"
    path.write_text(render_html(d, sections(d), "Massachusetts Certified Peer Specialist program"))
    return path


#: The tallest a table row may be: a note or a reading wraps into a few lines, never a narrow strip (walk
#: finding 12 measured ~400 px on desktop and phone before notes had a readable width).
ROW_MAX_PX = 140


@pytest.mark.parametrize("size", list(a11y.SIZES))
def test_rows_with_a_note_stay_a_few_lines_tall(small_report_file, browser, size):
    ctx = browser.new_context(**a11y.SIZES[size])
    try:
        page = ctx.new_page()
        page.goto(small_report_file.as_uri())
        # a paragraph-long reading (the forms' difference and what the program does) gets a wider column
        for name, most in (("Per form", ROW_MAX_PX), ("Pass rate per cohort and form (decided sittings)", ROW_MAX_PX),
                           ("Mean and pass rate per form, with 95% intervals", ROW_MAX_PX),
                           ("Forms as randomly equivalent groups: difference and equivalence test",
                            1.3 * ROW_MAX_PX if size == "desktop" else 2.5 * ROW_MAX_PX)):
            heights = page.locator(f'[role=region][aria-label="{name}"] tbody tr').evaluate_all(
                "rows => rows.map(r => r.getBoundingClientRect().height)")
            assert heights and max(heights) <= most, (size, name, heights)
        a11y.check_screen(page, "report", size, "program-report-small")
    finally:
        ctx.close()
