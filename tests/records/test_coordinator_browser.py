"""The coordinator's desk in a real browser (Debian's chromium) against `exam-builder coordinator` (token mode).

A coordinator signs in by name once, approves a request with a reason, reads who may not sit;
every screen passes ``a11y.check_screen`` (axe-core WCAG A/AA, nothing cut off) on a laptop, a
phone and at 200% zoom (screenshots in screenshots/coordinator/).
"""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import a11y
import pytest
import records_kit as rk
from playwright.sync_api import expect
from sqlalchemy import select

from exam_builder import clock
from exam_builder.course import Course
from exam_builder.records import accommodations
from exam_builder.records.models import AuditEntry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))
from serverkit import StaffServer  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def desk(records_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("coordinator-browser") / "course"
    shutil.copytree(records_template, root)
    course = Course(root)
    with course.db.transaction() as s:
        rk.add_exam(s, labels="A")
        rk.add_candidates(s, "ana", "ben", "cy", "dee")
        rk.set_attendance(s, "cy", {"1.1": "absent", "2.2": "late", "3.1": "absent", "4.2": "absent"})
        for cid in ("ana", "dee"):
            accommodations.request(s, course.policy, cid, "extended_time", "intake",
                                   letter_on_file=clock.today(course.zone), details="seat near the door",
                                   zone=course.zone)
        accommodations.request(s, course.policy, "ben", "scribe", "intake", zone=course.zone)
    server = StaffServer(root, "coordinator", "--exam", rk.EXAM).start()
    yield course, server
    server.kill()
    course.db.dispose()


def open_desk(browser, server, size: str):
    ctx = browser.new_context(**a11y.SIZES[size])
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(server.url)
    page.get_by_role("heading", name="Coordinator's desk").wait_for()
    return ctx, page


def sign_in(page, name: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("Accommodation requests waiting")).wait_for()


def test_approve_with_a_reason_then_read_who_may_not_sit(browser, desk):
    course, server = desk
    ctx, page = open_desk(browser, server, "desktop")
    try:
        a11y.check_screen(page, "coordinator", "desktop", "sign-in")
        sign_in(page, "Dana Coordinator")
        page.get_by_text("not a diagnosis").wait_for()
        a11y.check_screen(page, "coordinator", "desktop", "requests")
        page.get_by_role("radio", name=re.compile("Ana Example")).check()
        page.get_by_label("Reason (kept with your decision)").fill("letter seen")
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_role("status").filter(has_text="Approved extra time for Ana Example")).to_be_visible()
        a11y.check_screen(page, "coordinator", "desktop", "approved")
        page.get_by_role("button", name="Who may not sit").click()
        page.get_by_role("heading", name="Who may not sit the exam now: 1").wait_for()
        expect(page.get_by_text(re.compile("late or absent for 4 modules"))).to_be_visible()
        a11y.check_screen(page, "coordinator", "desktop", "eligibility")
        page.get_by_role("button", name="Program report").click()
        page.get_by_role("heading", name="Program report").wait_for()
        a11y.check_screen(page, "coordinator", "desktop", "report")
    finally:
        ctx.close()
    with course.db.read() as s:
        entry = s.execute(select(AuditEntry.actor, AuditEntry.reason, AuditEntry.details)
                          .where(AuditEntry.action == "accommodation.approve")).one()
    assert entry.actor == "Dana Coordinator" and entry.reason == "letter seen"
    assert entry.details["identity"] == "self-declared"


@pytest.mark.parametrize("size", ["phone", "zoom200"])
def test_the_desk_reflows_on_a_phone_and_at_200_percent(browser, desk, size):
    _course, server = desk
    ctx, page = open_desk(browser, server, size)
    try:
        sign_in(page, "Dana")
        page.get_by_text("not a diagnosis").wait_for()
        a11y.check_screen(page, "coordinator", size, "requests")
        page.get_by_role("button", name="Who may not sit").click()
        page.get_by_role("heading", name=re.compile("Who may not sit the exam now")).wait_for()
        a11y.check_screen(page, "coordinator", size, "eligibility")
    finally:
        ctx.close()
