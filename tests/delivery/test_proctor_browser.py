"""The proctor's room view in a real browser: Debian's chromium (Playwright) against `exam-builder proctor`.

One server for the module, started as a proctor starts it (the URL with its token is read from
what the command prints). Candidates act through ``CandidateSession`` (the exam app's own code
path) on the same database, and the test watches their cards change on the proctor's page. Every
screen passes ``a11y.check_screen`` (axe-core WCAG A/AA, nothing cut off, no sideways scrolling)
at the three sizes, and its screenshot is written to ``screenshots/proctor/``.
"""
from __future__ import annotations

import datetime as dt
import re
import time

import a11y
import delivery_formkit as formkit
import pytest
from playwright.sync_api import expect
from serverkit import StaffServer, make_site
from sqlalchemy import select

from exam_builder.delivery import sittings as ops
from exam_builder.delivery.session import CandidateSession
from exam_builder.records.models import AuditEntry, Sitting, utcnow

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

ROOM = "Room 1"
PATIENCE_MS = 10_000  # "within a few seconds": the view refreshes every 3 seconds


@pytest.fixture(scope="module")
def room(form_template, tmp_path_factory):
    """Today: four candidates in Room 1 (sign-in opened 30 minutes ago; c004 writing, idle), one in Room 2,
    and a finished sitting of an earlier date that the live room must not show. Codes by candidate."""
    course, _ = make_site(form_template, tmp_path_factory.mktemp("proctor-browser") / "course", [])
    today = ops.room_today(course)
    opened = ops.open_sittings(course, formkit.EXAM, ROOM, "coordinator-lee", ["c001", "c002", "c003", "c004"],
                               write_cards=False)
    opened.opened += ops.open_sittings(course, formkit.EXAM, "Room 2", "coordinator-lee", ["c005"],
                                       write_cards=False).opened
    ops.set_window(course, formkit.EXAM, ROOM, "coordinator-lee", "the room opened at a set time", today,
                   opens_at=utcnow() - dt.timedelta(minutes=30))
    with course.db.read() as s:
        form_id = s.execute(select(Sitting.form_id)).scalars().first()
    past = formkit.add_sitting(course, "c006", "PAST-TEST", form_id, on=today - dt.timedelta(days=40))
    with course.db.transaction() as s:
        sit = s.get(Sitting, past)
        sit.room, sit.status = ROOM, "submitted"
        sit.started_at = sit.submitted_at = utcnow() - dt.timedelta(days=40)
    codes = {o.candidate_id: o.code for o in opened.opened}
    then = utcnow() - dt.timedelta(minutes=20)  # c004 started 20 minutes ago and has saved nothing since: idle
    idle = CandidateSession(course, clock=lambda: then).sign_in(codes["c004"])
    idle.start()
    idle.answer("tf-hope", "A")
    server = StaffServer(course.root, "proctor", formkit.EXAM).start()
    yield course, server, codes
    server.kill()
    course.db.dispose()


def open_view(browser, server, size: str):
    ctx = browser.new_context(**a11y.SIZES[size])
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(server.url)
    page.get_by_role("heading", name="Proctor's room view").wait_for()
    page.locator(".eb-totals").wait_for()
    return ctx, page


def words(text: str) -> str:
    """Text as read (ipywidgets writes option labels with no-break spaces)."""
    return " ".join(text.replace("\xa0", " ").split())


def pick(select, label: str) -> None:
    """Choose an option of a drop-down by the words it shows."""
    texts = [words(t) for t in select.locator("option").all_inner_texts()]
    select.select_option(index=texts.index(label))


def card(page, name: str):
    return page.locator(".eb-card", has_text=name)


def expect_text(locator, text: str | re.Pattern, timeout: int = PATIENCE_MS) -> None:
    expect(locator).to_contain_text(text, timeout=timeout)


def test_the_live_room_first_with_totals_and_marks(browser, room):
    course, server, _codes = room
    ctx, page = open_view(browser, server, "desktop")
    assert page.get_by_label("Your name").input_value() == ""  # asked, never the computer's login name
    today = ops.room_today(course)
    assert page.get_by_label("Date").input_value() == today.isoformat()
    assert words(page.get_by_label("Room", exact=True).locator("option:checked").inner_text()) == "All rooms (2)"
    totals = page.locator(".eb-totals")
    expect_text(page.locator(".widget-html", has=totals), "5 candidate(s)")
    assert "Pat5 Example5" not in page.inner_text("body")  # the finished sitting of an earlier date
    expect_text(card(page, "Pat0 Example0"), "Late by 30 min")
    expect_text(card(page, "Pat3 Example3"), "Idle for 20 min")
    expect_text(card(page, "Pat3 Example3"), "Writing")
    a11y.check_screen(page, "proctor", "desktop", "room")
    # the room chosen at the top
    pick(page.get_by_label("Room", exact=True), ROOM)
    expect_text(page.locator(".widget-html", has=totals), "Room 1: 4 candidate(s)")
    expect(page.locator(".eb-card")).to_have_count(4)
    for n, label in ((3, "not arrived"), (1, "writing"), (3, "late"), (1, "idle")):
        expect_text(totals, f"{n} {label}")
    # past sittings behind the filter
    pick(page.get_by_label("Show"), "Every date (past sittings too)")
    expect_text(card(page, "Pat5 Example5"), "Submitted")
    a11y.check_screen(page, "proctor", "desktop", "every-date")
    ctx.close()


def test_a_candidates_card_follows_what_they_do_within_seconds(browser, room):
    course, server, codes = room
    ctx, page = open_view(browser, server, "desktop")
    pick(page.get_by_label("Room", exact=True), ROOM)
    pat0 = card(page, "Pat0 Example0")
    expect_text(pat0, "Not arrived")
    cs = CandidateSession(course).sign_in(codes["c001"], source="10.0.0.21")
    t0 = time.monotonic()
    expect_text(pat0, "Signed in, not started")
    signed_in_seen = time.monotonic() - t0
    assert "Late" not in pat0.inner_text()  # arrived: no longer late
    cs.confirm_identity()
    cs.start()
    cs.answer("tf-hope", "A")
    expect_text(pat0, "Writing")
    expect_text(pat0, "1 of 5")
    expect_text(pat0, "just now")
    expect_text(page.locator(".eb-totals"), "2 writing")  # with Pat3, writing since the start
    cs.answer("mc-mutual", "A")
    cs.submit()
    expect_text(pat0, "Submitted")
    expect_text(pat0, "2 of 5")
    assert signed_in_seen < 8, signed_in_seen
    ctx.close()


def test_actions_on_a_row_say_so_beside_it_and_keep_the_reason_and_the_person(browser, room):
    course, server, _codes = room
    ctx, page = open_view(browser, server, "desktop")
    pick(page.get_by_label("Room", exact=True), ROOM)
    pat2 = card(page, "Pat2 Example2")
    pat2.get_by_role("button", name="Actions for Pat2 Example2").click()
    panel = pat2.locator(".eb-panel")
    expect_text(panel, "Actions for Pat2 Example2")
    panel.get_by_role("button", name="Add time").click()
    expect_text(panel, "Not done: Type your name in “Your name” at the top first")  # beside the row
    reason = panel.get_by_label("Reason")
    reason.fill("fire alarm: the room left for 10 minutes")
    panel.get_by_role("button", name="Add time").click()
    expect_text(panel, "Not done: Type your name")
    page.get_by_label("Your name").fill("Kim Proctor")  # once
    panel.get_by_role("button", name="Add time").click()
    expect_text(panel, "Done: Added 10 minutes for Pat2 Example2; their time is now 3 hours 10 minutes")
    assert reason.input_value() == "fire alarm: the room left for 10 minutes"  # kept for the next change
    row, msg = pat2.bounding_box(), panel.get_by_role("status").bounding_box()
    add = panel.get_by_role("button", name="Add time").bounding_box()
    # in the row, by the button
    assert row["y"] < msg["y"] < row["y"] + row["height"] and abs(msg["y"] - add["y"]) < 250
    panel.get_by_role("button", name="Add time").click()  # a second action, nothing asked again
    expect_text(panel, "3 hours 20 minutes (20 minutes added in all)")
    expect_text(pat2, "3:20:00 (+20 min)")
    a11y.check_screen(page, "proctor", "desktop", "actions")
    # void: the same person stays chosen, and the card says so
    panel.get_by_role("button", name="Void sitting").click()
    expect_text(panel, "Not done: Tick “Yes, void this sitting” first")
    panel.get_by_label("Yes, void this sitting").check()
    panel.get_by_role("button", name="Void sitting").click()
    expect_text(panel, "Done: Pat2 Example2's sitting is voided")
    expect_text(panel, "Actions for Pat2 Example2")
    expect_text(pat2, "Voided")
    expect_text(page.locator(".eb-totals"), "1 voided")
    updated = page.locator("p.eb-help", has_text="Updated at ")
    expect(updated).not_to_have_text(updated.inner_text(), timeout=PATIENCE_MS)  # a refresh later:
    # the same person, message
    expect_text(pat2.locator(".eb-panel"), "Pat2 Example2's sitting is voided", timeout=1000)
    body = page.inner_text("body")
    assert "--reason" not in body and "--by" not in body
    ctx.close()
    with course.db.read() as s:
        entries = s.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.reason).where(
            AuditEntry.action.in_(("add_time", "sitting.void"))).order_by(AuditEntry.id)).all()
    assert [tuple(e) for e in entries] == [
        ("add_time", "Kim Proctor", "fire alarm: the room left for 10 minutes")] * 2 + [
        ("sitting.void", "Kim Proctor", "fire alarm: the room left for 10 minutes")]


@pytest.mark.parametrize("size", ["phone", "zoom200"])
def test_the_room_view_reflows_on_a_phone_and_at_200_percent(browser, room, size):
    _course, server, _codes = room
    ctx, page = open_view(browser, server, size)
    a11y.check_screen(page, "proctor", size, "room")
    page.get_by_role("button", name="Actions for Pat1 Example1").click()
    page.locator(".eb-panel").wait_for()
    a11y.check_screen(page, "proctor", size, "actions")
    ctx.close()


def test_the_token_opens_the_room_view_but_never_runs_code(room):
    """The standalone proctor's app has the candidates' widget-only websocket: a script holding the
    token sends an ``execute_request`` through the page's kernel websocket, and nothing runs."""
    from serverkit import run_pages

    from exam_builder.loadtest.pageclient import PageClient

    course, server, _codes = room
    marker = course.root / "proctor-executed.txt"

    async def go() -> tuple[bool, bool]:
        async with PageClient(server.url) as page:  # the address with its token, as the proctor has it
            await page.open(lambda p: p.shows("Proctor's room view"))
            ex = await page.send_raw("execute_request", {
                "code": f"open({str(marker)!r}, 'w').write('ran')", "silent": False, "store_history": False,
                "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
            info = await page.send_raw("kernel_info_request", {})
            await page.wait_reply(info, timeout=60)  # the kernel answers widget-page traffic, in order
            refused = ex not in page.replies and ex not in page.idle_at
            await page.unload()
            return refused, "proctor-executed" in page.received_text()

    refused, echoed = run_pages(go())
    assert refused and not echoed
    assert not marker.exists()
    assert "refused a 'execute_request' message" in server.log.read_text()
