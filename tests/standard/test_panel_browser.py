"""The panelist's screen in a real browser (Debian's chromium) against `exam-builder standard panel` (token mode).

A panelist signs in by the name they were seated under (case and spaces aside), reads each item with its key and
rationale (a written answer with its rubric's levels), rates it by keyboard only (Tab, arrow keys, Enter) and goes on
to the next item not yet rated, where Save's confirmation has the focus, in view; progress counts; another
panelist's round-1 ratings never show. On a phone the rating is a compact grid: Save is a short way below its first
choice. Every screen passes ``a11y.check_screen`` (axe-core WCAG 2.2 A/AA, nothing cut off) on a laptop, a phone and
at 200% zoom (screenshots in screenshots/panel/).
"""
from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

import a11y
import pytest
from click.testing import CliRunner
from playwright.sync_api import expect
from sqlalchemy import select

from exam_builder.cli import cli
from exam_builder.records.models import AuditEntry, StudyRating

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))
from coursekit import cloned  # noqa: E402
from serverkit import StaffServer, focused, tab_until  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def run(course, *args: str) -> str:
    res = CliRunner(env={"EXAM_BUILDER_USER": "Carla Coordinator"}).invoke(
        cli, ["--course", str(course.root), *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def panel_site(graded_template, tmp_path_factory):
    with cloned(graded_template, tmp_path_factory.mktemp("panel-browser") / "course") as course:
        run(course, "standard", "create", "cps", "--forms", "A", "--mcc", "Finished the training; *some* prompting.")
        run(course, "standard", "panelist", "1", "--name", "Ada Peer", "--role", "peer specialist", "--conflict",
            "none")
        run(course, "standard", "panelist", "1", "--name", "Ben Lee", "--role", "supervisor", "--conflict", "none")
        run(course, "standard", "round-open", "1")
        from exam_builder.standard.study import read_study

        items = read_study(course.db, 1).items
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["panelist", "item", "rating", "note"])
        for it in items:  # Ben's round-1 ratings: 85% / 4.5 points, which Ada must never see
            w.writerow(["Ben Lee", it.item_id, 4.5 if it.rated else 85, "Ben's own note"])
        (course.root / "ben.csv").write_text(buf.getvalue(), encoding="utf-8")
        run(course, "standard", "ratings", "1", str(course.root / "ben.csv"))
        server = StaffServer(course.root, "standard", "panel", "1").start()
        yield course, server, items
        server.kill()


def open_screen(browser, server, size: str):
    ctx = browser.new_context(**a11y.SIZES[size])
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(server.url)
    page.get_by_role("heading", name="Panelist's screen").wait_for()
    return ctx, page


def sign_in(page, name: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile(r"^Item 1 of \d+")).wait_for()


def saved_in_view(page, text: str) -> None:
    """Save's confirmation has the focus, is in the viewport, and is said through a polite live region."""
    page.wait_for_function("() => document.activeElement && document.activeElement.dataset.eb === 'saved'")
    assert page.evaluate("() => document.activeElement.innerText").startswith(text)
    box = page.evaluate("() => { const r = document.activeElement.getBoundingClientRect(); "
                        "return [r.top, r.bottom, window.innerHeight]; }")
    assert 0 <= box[0] and box[1] <= box[2], box
    expect(page.locator("[aria-live='polite']").filter(has_text=text)).to_have_count(1)


def test_a_panelist_rates_by_keyboard_and_never_sees_round_one_of_others(browser, panel_site):
    course, server, items = panel_site
    n = len(items)
    ctx, page = open_screen(browser, server, "desktop")
    try:
        a11y.check_screen(page, "panel", "desktop", "sign-in")
        page.get_by_label("Your name").fill("Nobody Here")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("Nobody Here is not on the panel")
        # keyboard only from here: the name box, Enter signs in
        page.get_by_label("Your name").fill("")
        page.get_by_label("Your name").focus()
        page.keyboard.type("  ada PEER ")  # as seated, case and spaces aside
        page.keyboard.press("Enter")
        page.get_by_role("heading", name=re.compile(rf"^Item 1 of {n}: {items[0].item_id}")).wait_for()
        expect(page.get_by_text("Signed in as Ada Peer (typed here")).to_be_visible()
        page.wait_for_function("() => document.activeElement.tagName === 'H2'")
        expect(page.get_by_text(f"you have rated 0 of {n} items")).to_be_visible()
        expect(page.get_by_text("Key:")).to_be_visible()
        expect(page.get_by_text("Rationale:")).to_be_visible()
        # round 1: nothing of Ben's shows (his 85% is not chosen for Ada, his note is not there, no panel figures)
        expect(page.get_by_role("radio", name="85%")).not_to_be_checked()
        body = page.locator("body").inner_text()
        assert "Ben" not in body and "The panel in round" not in body
        a11y.check_screen(page, "panel", "desktop", "item")
        tab_until(page, r"^input:radio", 4)
        for _ in range(14):  # 0% + 14 steps of 5 = 70%
            page.keyboard.press("ArrowDown")
        assert re.search(r"70%", focused(page)), focused(page)
        tab_until(page, r"^textarea", 3)
        page.keyboard.type("a classic trap")
        tab_until(page, r"^button Save rating", 3)
        page.keyboard.press("Enter")
        page.get_by_role("heading", name=re.compile(rf"^Item 2 of {n}")).wait_for()
        saved_in_view(page, f"Saved: {items[0].item_id} rated 70%")
        expect(page.get_by_text(f"you have rated 1 of {n} items")).to_be_visible()
        a11y.check_screen(page, "panel", "desktop", "saved")
        tab_until(page, r"^input:radio", 4)  # from the confirmation straight on to the next item's rating
        tab_until(page, r"^button Previous item", 30)
        page.keyboard.press("Enter")
        page.get_by_role("heading", name=re.compile(rf"^Item 1 of {n}")).wait_for()
        expect(page.get_by_role("radio", name="70%")).to_be_checked()
        expect(page.get_by_label("Your note (optional)")).to_have_value("a classic trap")
    finally:
        ctx.close()
    with course.db.read() as s:
        row = s.execute(select(StudyRating).where(StudyRating.rated_by == "Ada Peer")).scalar_one()
        assert (row.item_id, row.value, row.note, row.round_no) == (items[0].item_id, 70.0, "a classic trap", 1)
        entry = s.execute(select(AuditEntry).where(AuditEntry.actor == "Ada Peer")).scalars().all()[-1]
        assert str(entry.action) == "study.ratings" and entry.details["identity"] == "self-declared"


@pytest.mark.parametrize("size", ["phone", "zoom200"])
def test_the_screen_reflows_on_a_phone_and_at_200_percent(browser, panel_site, size):
    _course, server, items = panel_site
    ctx, page = open_screen(browser, server, size)
    try:
        a11y.check_screen(page, "panel", size, "sign-in")
        sign_in(page, "Ben Lee")
        a11y.check_screen(page, "panel", size, "item")
        # the 21 choices in a grid: Save is a short way below the first of them (it was ~1,750 px on a phone)
        gap = page.evaluate("""() => {
            const first = document.querySelector('fieldset.eb-choices input[type=radio]').getBoundingClientRect();
            const save = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Save rating');
            return save.getBoundingClientRect().bottom - first.top; }""")
        print(f"panel {size}: Save's bottom {gap:.0f} px below the first choice")
        assert gap < 560, gap
        page.get_by_role("radio", name="60%").check()
        page.get_by_role("button", name="Save rating").click()
        saved_in_view(page, f"Saved: {items[0].item_id} rated 60%")
        a11y.check_screen(page, "panel", size, "saved")
    finally:
        ctx.close()


def test_a_written_answer_shows_its_rubric(browser, panel_site):
    """An open response's card gives its rubric: every criterion and what each level is worth."""
    course, server, items = panel_site
    from exam_builder.assembly.build import load_checked_bank

    written = next(n for n, it in enumerate(items) if it.rated)
    bank, rubrics = load_checked_bank(course, "cps")
    rubric = rubrics[bank.items[items[written].item_id].rubric_id]
    ctx, page = open_screen(browser, server, "desktop")
    try:
        sign_in(page, "Ben Lee")
        for k in range(written):
            page.get_by_role("button", name="Next item").click()
            page.get_by_role("heading", name=re.compile(rf"^Item {k + 2} of ")).wait_for()
        expect(page.get_by_text("rated by graders with its rubric (below)")).to_be_visible()
        for cr in rubric.criteria:
            expect(page.get_by_text(f"{cr.name} (up to ")).to_be_visible()
            for lv in cr.levels:
                expect(page.locator(".eb-rubric li").filter(has_text=lv.descriptor).first).to_be_visible()
        expect(page.locator(".eb-rubric li")).to_have_count(sum(len(cr.levels) for cr in rubric.criteria))
        expect(page.get_by_role("radio", name=f"{items[written].points:g} of {items[written].points:g} points"))\
            .to_be_visible()
        tallest = page.evaluate("() => Math.max(...[...document.querySelectorAll('fieldset.eb-choices .eb-choice')]"
                                ".map(x => x.getBoundingClientRect().height))")
        assert tallest < 48, f"a choice's words wrap ({tallest} px tall)"  # "4.5 of 6 points" on one line
        a11y.check_screen(page, "panel", "desktop", "written-answer")
    finally:
        ctx.close()


def test_the_study_report_passes_axe(browser, panel_site):
    """The study report as an accreditor opens it (a file, no server): axe-core WCAG 2.2 A/AA at the three sizes."""
    course, _server, _items = panel_site
    run(course, "standard", "report", "1")
    path = course.report_dir("cps") / "standard-setting-1.html"
    for size in ("desktop", "phone", "zoom200"):
        ctx = browser.new_context(**a11y.SIZES[size])
        try:
            page = ctx.new_page()
            page.goto(path.as_uri())
            page.get_by_role("heading", name=re.compile("^Standard-setting study 1")).wait_for()
            a11y.check_screen(page, "panel", size, "study-report")
        finally:
            ctx.close()
