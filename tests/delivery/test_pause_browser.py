"""Pauses and breaks through the real apps: `exam-builder serve` and `exam-builder proctor` on one course,
Debian's chromium for the candidate and the proctor.

The proctor pauses the room from the room view (a fire alarm): the candidate's screen says the exam is
paused and why, shows the time kept (the server's deadline less the moment of the pause, to the second)
and no answer controls; the cards and the totals say "Paused"; after "Resume room" the candidate has
exactly the time they had (checked against the database's own record of the pause). A candidate with an
approved breaks accommodation takes a break and comes back. A proctor who leaves out a step (their
name, the reason) is refused beside the button, told which box, and the cursor is put there; each reason
box sits on its buttons' line. Every changed screen passes axe
(``a11y.check_screen``): the proctor's view at a laptop, a phone and 200% zoom, the candidate's at a laptop.
"""
from __future__ import annotations

import datetime as dt
import re

import a11y
import delivery_formkit as formkit
import pytest
from playwright.sync_api import expect
from serverkit import Server, StaffServer, make_site, open_sign_in
from sqlalchemy import select

from exam_builder.delivery import sittings as ops
from exam_builder.delivery.candidate_app import clock_text
from exam_builder.delivery.proctor_session import NO_RESUME_NOTE
from exam_builder.delivery.session import CandidateSession, SittingPaused
from exam_builder.records import accommodations
from exam_builder.records.models import AuditEntry, Sitting, SittingEvent

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

ROOM = "Room 1"
PATIENCE_MS = 20_000  # the candidate's page re-reads the sitting every 5 s, the proctor's every 3 s


@pytest.fixture(scope="module")
def site(form_template, tmp_path_factory):
    """Three candidates in Room 1 today (c002 with 2 approved breaks of 10 minutes), the exam server and the
    proctor's server on the same course."""
    course, _ = make_site(form_template, tmp_path_factory.mktemp("pause-browser") / "course", [],
                          config="c.DeliverySettings.sign_in_delay_seconds = 0.1")
    opened = ops.open_sittings(course, formkit.EXAM, ROOM, "coordinator-lee", ["c001", "c002", "c003"],
                               write_cards=False)
    with course.db.transaction() as s:
        acc = accommodations.request(s, course.policy, "c002", "breaks", "coordinator-lee", break_count=2,
                                     break_minutes=10, letter_on_file=dt.date(2026, 1, 5), zone=course.zone)
        accommodations.approve(s, acc.id, "coordinator-lee", zone=course.zone)
    codes = {o.candidate_id: (o.sitting_id, o.code) for o in opened.opened}
    server = Server(course.root, seats=1).start()  # one or two pages at a time: not a warm kernel per candidate
    proctor = StaffServer(course.root, "proctor", formkit.EXAM).start()
    yield course, server, proctor, codes
    server.kill()
    proctor.kill()
    course.db.dispose()


def start(browser, server, code: str, size: str = "desktop", instructions: str = ""):
    """Signed in and started; ``instructions``: a line the instructions screen must show before the start."""
    ctx, page, _outside = open_sign_in(browser, server.url, a11y.SIZES[size])
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Yes, this is me").click()
    if instructions:
        expect(page.locator("body")).to_contain_text(instructions)
    page.get_by_role("button", name="Start the exam").click()
    page.get_by_role("heading", name=re.compile("^Question 1 of 5")).wait_for()
    return ctx, page


def proctor_view(browser, proctor, size: str):
    ctx = browser.new_context(**a11y.SIZES[size])
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(proctor.url)
    page.get_by_role("heading", name="Proctor's room view").wait_for()
    page.locator(".eb-totals").wait_for()
    return ctx, page


def sitting(course, sid: int) -> Sitting:
    with course.db.read() as s:
        sit = s.get(Sitting, sid)
        s.expunge(sit)
        return sit


def event_at(course, sid: int, kind: str) -> dt.datetime:
    with course.db.read() as s:
        return s.execute(select(SittingEvent.at).where(SittingEvent.sitting_id == sid, SittingEvent.kind == kind)
                         .order_by(SittingEvent.id.desc())).scalars().first()


def test_a_room_paused_and_resumed_exact_to_the_second(site, browser):
    course, server, proctor, codes = site
    sid, code = codes["c001"]
    ctx, page = start(browser, server, code)
    page.get_by_role("radio", name="A. True").check()
    page.get_by_text("Answer to question 1 saved").wait_for()
    pctx, pview = proctor_view(browser, proctor, "desktop")
    pview.get_by_label("Your name").fill("Kim Proctor")
    pview.get_by_label("Reason for pausing the room").fill("fire alarm: leave the room by the nearest exit")
    pview.get_by_role("button", name="Pause room").click()
    # said apart: the one writing, and those not started yet (held too: nobody starts in a paused room)
    expect(pview.locator(".eb-ok", has_text=re.compile(
        r"Room 1 is paused: 1 candidate\(s\) in progress have their clocks stopped; [1-9]\d* not started yet "
        r"cannot start until the room is resumed\."))).to_be_visible(timeout=PATIENCE_MS)
    card = pview.locator(".eb-card", has_text="Pat0 Example0")
    expect(card).to_contain_text("Paused", timeout=PATIENCE_MS)
    expect(card).to_contain_text("fire alarm: leave the room by the nearest exit")
    expect(pview.locator(".eb-totals")).to_contain_text("1 paused", timeout=PATIENCE_MS)
    a11y.check_screen(pview, "proctor", "desktop", "room-paused")
    for size in ("phone", "zoom200"):
        other_ctx, other = proctor_view(browser, proctor, size)
        expect(other.locator(".eb-card", has_text="Pat0 Example0")).to_contain_text("Paused", timeout=PATIENCE_MS)
        a11y.check_screen(other, "proctor", size, "room-paused")
        other_ctx.close()

    paused = sitting(course, sid)
    kept = paused.deadline - paused.paused_at  # what the candidate had at the moment of the pause
    page.get_by_role("heading", name="The exam is paused").wait_for(timeout=PATIENCE_MS)
    expect(page.locator("body")).to_contain_text("Reason: fire alarm: leave the room by the nearest exit")
    # said once through the live region (the title is the message's start, not said twice)
    said = ("The exam is paused: fire alarm: leave the room by the nearest exit. The clock has stopped and your "
            "saved answers are safe. Please wait for the proctor.")
    page.wait_for_function("t => document.querySelector('.eb-sr-only[role=status]').innerText === t", arg=said)
    expect(page.locator(".eb-timer")).to_have_text(f"Clock stopped: {clock_text(kept)} left")
    assert page.get_by_role("radio").count() == 0 and page.get_by_role("textbox").count() == 0  # nothing to answer
    a11y.check_screen(page, "candidate", "desktop", "paused")
    # the server refuses a change while paused, whatever sends it (the page's own session refuses alike)
    other = CandidateSession(course).sign_in(codes["c003"][1])
    other.confirm_identity()
    with pytest.raises(SittingPaused, match="paused: fire alarm"):
        other.start()  # nobody starts in a paused room
    expect(page.locator(".eb-timer")).to_have_text(f"Clock stopped: {clock_text(kept)} left")  # still, later

    # the resume has its own box, for a note (a resume needs no reason: the pause's stays the pause's)
    pview.get_by_label("Note for the resume (optional)").fill("all clear: back in the room")
    pview.get_by_role("button", name="Resume room").click()
    expect(pview.locator(".eb-ok", has_text="Room 1 is resumed: ")).to_be_visible(timeout=PATIENCE_MS)
    expect(card).to_contain_text("Writing", timeout=PATIENCE_MS)
    page.get_by_text("The exam goes on: the clock is running again.").wait_for(timeout=PATIENCE_MS)
    page.get_by_role("heading", name=re.compile("^Question 1 of 5")).wait_for()
    resumed = sitting(course, sid)
    at = event_at(course, sid, "resumed")
    assert resumed.paused_at is None
    assert abs((resumed.deadline - at) - kept) < dt.timedelta(milliseconds=1)  # exactly the time they had
    assert resumed.paused_seconds == pytest.approx((at - paused.paused_at).total_seconds(), abs=1e-3)
    page.get_by_role("radio", name="B. False").check()  # answers are taken again
    page.get_by_text("Answer to question 1 saved").wait_for()
    with course.db.read() as s:
        audits = s.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.reason).where(
            AuditEntry.entity_id == str(sid), AuditEntry.action.in_(("sitting.pause", "sitting.resume")))
            .order_by(AuditEntry.id)).all()
    assert [tuple(a) for a in audits] == [
        ("sitting.pause", "Kim Proctor", "fire alarm: leave the room by the nearest exit"),
        ("sitting.resume", "Kim Proctor", "all clear: back in the room")]
    pctx.close()
    ctx.close()


def test_one_candidate_paused_from_their_card(site, browser):
    course, server, proctor, codes = site
    sid, code = codes["c003"]
    ctx, page = start(browser, server, code)
    pctx, pview = proctor_view(browser, proctor, "desktop")
    pview.get_by_label("Your name").fill("Kim Proctor")
    card = pview.locator(".eb-card", has_text="Pat2 Example2")
    card.get_by_role("button", name="Actions for Pat2 Example2").click()
    panel = card.locator(".eb-panel")
    panel.get_by_label("Reason").fill("feels unwell")
    panel.get_by_role("button", name="Pause", exact=True).click()
    expect(panel).to_contain_text("Done: Pat2 Example2 is paused", timeout=PATIENCE_MS)
    expect(card).to_contain_text("Paused", timeout=PATIENCE_MS)
    page.get_by_role("heading", name="The exam is paused").wait_for(timeout=PATIENCE_MS)
    expect(page.locator("body")).to_contain_text("Reason: feels unwell")
    # Resume needs no reason: nothing written in its own note box, the pause's reason is not taken for it
    expect(panel.get_by_label("Note for the resume (optional)")).to_have_value("")
    panel.get_by_role("button", name="Resume", exact=True).click()
    expect(panel).to_contain_text("Done: Pat2 Example2 is back", timeout=PATIENCE_MS)
    with course.db.read() as s:
        kept = s.execute(select(AuditEntry.reason).where(
            AuditEntry.entity_id == str(sid), AuditEntry.action == "sitting.resume")
            .order_by(AuditEntry.id)).scalars().all()
    assert kept[-1] == NO_RESUME_NOTE  # (before it: the room's resume, which held this sitting too)
    page.get_by_role("heading", name=re.compile("^Question 1 of 5")).wait_for(timeout=PATIENCE_MS)
    assert sitting(course, sid).paused_seconds > 0
    pctx.close()
    ctx.close()


def test_a_break_taken_and_ended(site, browser):
    course, server, _proctor, codes = site
    sid, code = codes["c002"]
    ctx, page = start(browser, server, code, instructions="You may take 2 breaks of up to 10 minutes with the clock "
                                                          "stopped: press Take a break below any question.")
    expect(page.locator("body")).to_contain_text("The clock stops for up to 10 minutes; 2 breaks left.")
    page.get_by_role("button", name="Take a break").click()
    page.get_by_role("heading", name="You are on a break").wait_for()
    on_break = sitting(course, sid)
    kept = on_break.deadline - on_break.break_started_at
    expect(page.locator(".eb-timer")).to_have_text(f"Clock stopped: {clock_text(kept)} left")
    expect(page.locator("body")).to_contain_text("Your break ends at")
    assert on_break.break_ends_at - on_break.break_started_at == dt.timedelta(minutes=10)
    a11y.check_screen(page, "candidate", "desktop", "break")
    page.get_by_role("button", name="Back to the exam").click()
    page.get_by_role("heading", name=re.compile("^Question 1 of 5")).wait_for()
    expect(page.locator("body")).to_contain_text("1 break left.")
    back = sitting(course, sid)
    ended = event_at(course, sid, "break_ended")
    assert back.break_started_at is None and back.breaks_taken == 1
    assert abs((back.deadline - ended) - kept) < dt.timedelta(milliseconds=1)
    page.get_by_role("radio", name="A. True").check()
    page.get_by_text("Answer to question 1 saved").wait_for()
    ctx.close()


def middle(box) -> float:
    return box["y"] + box["height"] / 2


def on_one_line(a, b) -> bool:
    """Two elements side by side: their middles less than half the taller one apart."""
    ra, rb = a.bounding_box(), b.bounding_box()
    return abs(middle(ra) - middle(rb)) < max(ra["height"], rb["height"]) / 2


def test_a_room_pause_asks_for_what_is_missing_where_it_is_needed(site, browser):
    """Walk 4: a first-time proctor typed the pause's reason into the sign-in's box above it, and was not
    told to fill "Your name" first. Each reason box is on its buttons' line; a refusal names the box and
    puts the cursor in it; nothing is paused until both are filled."""
    course, _server, proctor, _codes = site
    pctx, pview = proctor_view(browser, proctor, "desktop")
    name = pview.get_by_label("Your name")
    reason = pview.get_by_label("Reason for pausing the room")
    pause = pview.get_by_role("button", name="Pause room")
    signin_reason = pview.get_by_label("Reason for opening or closing sign-in")
    assert on_one_line(reason, pause)
    assert on_one_line(signin_reason, pview.get_by_role("button", name="Open sign-in now"))
    assert on_one_line(pview.get_by_label("Reason for unlocking"),
                       pview.get_by_role("button", name="Unlock this computer"))
    before = sitting(course, _codes["c001"][0]).paused_seconds

    reason.fill("fire alarm")  # the name left out
    pause.click()
    refused = pview.locator(".eb-error", has_text="Not done: Type your name in “Your name” at the top first")
    expect(refused).to_be_visible(timeout=PATIENCE_MS)
    expect(name).to_be_focused(timeout=PATIENCE_MS)
    assert abs(middle(refused.bounding_box()) - middle(pause.bounding_box())) < 150  # beside the button
    a11y.check_screen(pview, "proctor", "desktop", "pause-refused")

    name.fill("Kim Proctor")
    reason.fill("")  # the reason left out
    pause.click()
    expect(pview.locator(".eb-error", has_text="Write the reason in “Reason for pausing the room” first")
           ).to_be_visible(timeout=PATIENCE_MS)
    expect(reason).to_be_focused(timeout=PATIENCE_MS)
    assert sitting(course, _codes["c001"][0]).paused_at is None  # nothing paused
    assert sitting(course, _codes["c001"][0]).paused_seconds == before
    pctx.close()
