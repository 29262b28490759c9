"""The verification desk in a real browser (Debian's chromium) against `exam-builder scan desk` (token mode).

A staff member signs in by name, sees the cropped row of an unclear mark beside what was read and
why, confirms one and corrects another with the keyboard only; each decision is in the journal and
the audit trail under that name. Every screen passes ``a11y.check_screen`` (axe-core WCAG A/AA,
nothing cut off) on a laptop, a phone and at 200% zoom (screenshots in screenshots/verification/).
"""
from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import a11y
import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from exam_builder.cli import cli
from exam_builder.delivery.form_view import load_form_view, released_notebook_path
from exam_builder.paper import fill, layout
from exam_builder.paper.scan import scan_pages
from exam_builder.records.models import AuditEntry, PaperCheck, Response

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))
from serverkit import StaffServer  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def run(course, *args):
    return CliRunner().invoke(cli, ["--course", str(course.root), *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def desk(pcourse):
    """Two sheets scanned with unclear marks: c003's faint mark on question 2, c004's double mark on question 4."""
    assert run(pcourse, "sitting", "open", "cps", "--room", "Paper-2", "--candidate", "c003", "--candidate", "c004",
               "--by", "coordinator-lee").exit_code == 0
    assert run(pcourse, "print", "cps", "--form", "A", "--candidate", "c003", "--candidate", "c004",
               "--by", "coordinator-lee").exit_code == 0
    sheet = layout.sheet_for(load_form_view(released_notebook_path(pcourse, "cps-A"), pcourse.root))
    rng, pages = random.Random(4), []
    for cid, marks in (("c003", [fill.Mark(1, "A"), fill.Mark(2, "B", "faint"), fill.Mark(3, "B"), fill.Mark(4, "C")]),
                       ("c004", [fill.Mark(1, "B"), fill.Mark(2, "A"), fill.Mark(3, "B"), fill.Mark(4, "A"),
                                 fill.Mark(4, "C")])):
        pdf = (pcourse.exports_dir("cps") / "paper" / f"answer-sheet-cps-A-{cid}.pdf").read_bytes()
        p1, p2 = fill.render(pdf, 200)
        pages += [(f"{cid}.pdf page 1", fill.scanned(fill.fill(p1, sheet.page(1), marks, 200, rng), rng, skew=1)),
                  (f"{cid}.pdf page 2", fill.scanned(p2, rng))]
    res = scan_pages(pcourse, "cps", pages, "scanner-sam")
    assert res.checks == 2 and not res.set_aside, res
    server = StaffServer(pcourse.root, "scan", "desk", "cps").start()
    yield pcourse, server
    server.kill()


def open_desk(browser, server, size: str):
    ctx = browser.new_context(**a11y.SIZES[size])
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(server.url)
    page.get_by_role("heading", name="Verification desk").wait_for()
    return ctx, page


def sign_in(page, name: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=re.compile("Marks to verify")).wait_for()


@pytest.mark.parametrize("size", ["phone", "zoom200"])
def test_the_desk_reflows_on_a_phone_and_at_200_percent(browser, desk, size):
    _course, server = desk
    ctx, page = open_desk(browser, server, size)
    try:
        sign_in(page, "Vera")
        page.get_by_role("img", name=re.compile("as scanned")).wait_for()
        a11y.check_screen(page, "verification", size, "check")
    finally:
        ctx.close()


def test_confirm_and_correct_with_the_keyboard_audited(browser, desk):
    course, server = desk
    ctx, page = open_desk(browser, server, "desktop")
    try:
        a11y.check_screen(page, "verification", "desktop", "sign-in")
        sign_in(page, "Vera Verifier")
        page.get_by_role("heading", name=re.compile(r"Marks to verify: 2\. Question 2")).wait_for()
        expect(page.get_by_role("img", name="Question 2 as scanned: the marked row")).to_be_visible()
        expect(page.get_by_text("a faint mark: too light to count, too dark to ignore")).to_be_visible()
        a11y.check_screen(page, "verification", "desktop", "check")
        box = page.get_by_label(re.compile("The right answer"))
        box.focus()
        box.fill("B")
        page.keyboard.press("Enter")  # the faint mark was meant: corrected to B
        expect(page.locator("p[role=status]").filter(has_text="Question 2: corrected to B. The sitting is complete")
               ).to_be_visible()  # c003's only unclear mark: their sitting is handed in
        page.get_by_role("heading", name=re.compile(r"Marks to verify: 1\. Question 4")).wait_for()
        expect(page.get_by_text("two marks on a question that takes one answer")).to_be_visible()
        page.get_by_role("button", name="Confirm what was read").focus()
        page.keyboard.press("Enter")  # a double mark read as A,C cannot be confirmed: refused in words
        expect(page.locator("p[role=alert]").filter(has_text="takes one answer")).to_be_visible()
        box.fill("C")
        page.keyboard.press("Enter")
        done = page.locator("p[role=status]").filter(has_text="corrected to C. The sitting is complete")
        expect(done).to_be_visible()
        page.get_by_role("heading", name="Marks to verify: none").wait_for()
        a11y.check_screen(page, "verification", "desktop", "done")
    finally:
        ctx.close()
    with course.db.read() as s:
        assert all(c.decided and c.decided_by == "Vera Verifier" for c in s.query(PaperCheck)
                   if c.source.startswith(("c003", "c004")))
        entries = [e for e in s.query(AuditEntry).order_by(AuditEntry.id) if e.action == "paper.verify"]
        assert [(e.actor, e.details["decided"], e.details["identity"]) for e in entries[-2:]] == [
            ("Vera Verifier", "B", "self-declared"), ("Vera Verifier", "C", "self-declared")]
        values = {r.item_id: r.value for r in s.query(Response).order_by(Response.id)
                  if r.entered_by == "paper, verified by Vera Verifier"}
        assert values == {"mc-mutual": "B", "sc-q2": "C"}
