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
        assert page.locator("h2").count() == 8 and page.locator("figure img").count() == 5
        a11y.check_screen(page, "report", size, "program-report")
    finally:
        ctx.close()
