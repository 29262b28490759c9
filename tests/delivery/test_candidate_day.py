"""The candidate's screen on the day, in chromium through the real exam server (issue 22, part 3).

The compact bar (clock, "Question N of M", **Display**) stays in view on a phone and at 200%
zoom, the display settings fold behind one button, Next is below the answer; time a proctor
adds is said on the screen and through the live region; a reload 0.3 s after typing and a page
offline for 30 s lose nothing (the page says it is offline, and says so no longer once back), and a reload
comes back to the question the candidate was on;
after the submit, the same code shows the receipt again (never the answers).

One server and one browser for the module; each test has its own candidate and code. The app
re-reads the sitting every second here (``refresh_seconds``), so time a proctor adds shows
quickly. Waits wait for a state (a text on the page, a row in ``eb_response``); the 0.3 s and
the 30 s are the situations under test, not waits for something to happen.
"""
from __future__ import annotations

import re
import time

import a11y
import pytest
from playwright.sync_api import expect
from serverkit import Server, make_site, open_sign_in
from sqlalchemy import select

from exam_builder.delivery import sittings as ops
from exam_builder.delivery.candidate_app import local_hm
from exam_builder.delivery.session import confirmation_number
from exam_builder.records.models import Response, Sitting, SittingEvent, utcnow

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

ZONE = "America/New_York"
OFFLINE = "You are offline. What you type is kept on this page and saved when the connection returns."


@pytest.fixture(scope="module")
def site(form_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("day") / "course"
    course, codes = make_site(form_template, root, [(f"c{n:03d}", 180) for n in range(1, 12)],
                              config="c.DeliverySettings.sign_in_delay_seconds = 0.1\n"
                                     "c.DeliverySettings.refresh_seconds = 1")
    server = Server(root)  # a warm kernel per candidate: the takeover and the reloads must never wait for a cold one
    server.start()
    yield course, server, codes
    server.kill()
    course.db.dispose()


def sign_in(page, code: str) -> None:
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Sign in").click()


def start(page, code: str) -> None:
    sign_in(page, code)
    page.get_by_role("button", name="Yes, this is me").click()
    page.get_by_role("button", name="Start the exam").click()
    wait_question(page, 1)


def wait_question(page, n: int) -> None:
    page.wait_for_function("n => document.activeElement.tagName === 'H2' && "
                           "document.activeElement.innerText.startsWith(`Question ${n} of`)", arg=n)


def journal(course, sitting_id: int) -> dict[str, str | None]:
    with course.db.read() as s:
        rows = s.execute(select(Response).where(Response.sitting_id == sitting_id).order_by(Response.id)).scalars()
        return {r.item_id: r.value for r in rows}


def at_question(course, sitting_id: int) -> int | None:
    with course.db.read() as s:
        return s.get(Sitting, sitting_id).at_question


def until(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def box_of(page, selector_or_locator):
    loc = page.locator(selector_or_locator) if isinstance(selector_or_locator, str) else selector_or_locator
    return loc.bounding_box()


def in_view(page, locator) -> bool:
    b = locator.bounding_box()
    h = page.viewport_size["height"]
    return b is not None and b["y"] >= -0.5 and b["y"] + b["height"] <= h + 0.5


# -- 1. the compact bar, the Display button, Next below the answer ------------------------------------
@pytest.mark.parametrize("size, cid", [("phone", "c001"), ("zoom200", "c002")])
def test_the_compact_bar_stays_in_view_and_the_question_comes_first(site, browser, size, cid):
    course, server, codes = site
    sid, code = codes[cid]
    ctx, page, outside = open_sign_in(browser, server.url, a11y.SIZES[size])
    sign_in(page, code)
    page.get_by_role("button", name="Yes, this is me").click()
    display = page.get_by_role("button", name="Display")
    assert display.get_attribute("aria-expanded") == "false"
    assert page.get_by_role("group", name="Text size").count() == 0  # folded away
    display.click()
    assert display.get_attribute("aria-expanded") == "true"
    page.get_by_role("group", name="Text size").get_by_role("button", name="Larger").click()
    page.wait_for_function("() => parseFloat(getComputedStyle(document.querySelector('.eb-app h1')).fontSize) > 30")
    a11y.check_screen(page, "candidate", size, "12-display-open")
    display.click()
    page.get_by_role("group", name="Text size").wait_for(state="hidden")
    page.get_by_role("button", name="Start the exam").click()
    wait_question(page, 1)
    bar = page.locator(".eb-bar.eb-compact")
    where = bar.get_by_text("Question 1 of 5")
    question = page.get_by_role("heading", name=re.compile(r"^Question 1 of 5"))
    first_choice = page.get_by_role("radio", name="A. True")
    # with Larger text the first screen shows the question (on a phone its first choice too), not settings
    assert in_view(page, bar) and in_view(page, where) and in_view(page, question)
    assert in_view(page, page.get_by_text("Answer to question 1")) or size != "phone"
    assert in_view(page, first_choice) or size != "phone"
    assert box_of(page, bar)["y"] >= -0.5, "the bar is cut at the top"
    a11y.check_screen(page, "candidate", size, "13-larger-question")
    # Next (and Previous, Review and submit) sit below the answer
    nxt = page.get_by_role("button", name="Next ▶")
    assert nxt.bounding_box()["y"] > page.get_by_role("radio", name="B. False").bounding_box()["y"]
    page.get_by_role("radio", name="B. False").check()
    page.get_by_text("Answer to question 1 saved").wait_for()
    nxt.click()
    wait_question(page, 2)
    # scrolled to the end, the bar (clock and question number) is still in view, whole
    page.evaluate("() => { window.scrollTo(0, 1e6); for (const e of document.querySelectorAll('*')) "
                  "if (e.scrollHeight > e.clientHeight + 5) e.scrollTop = 1e6; }")
    page.get_by_role("button", name="Review and submit").scroll_into_view_if_needed()
    assert in_view(page, bar.get_by_text("Question 2 of 5")), "the question number scrolled away"
    # the clock's text is redrawn every second: wait for the state (a box read mid-redraw is None), whole in view
    expect(bar.get_by_text(re.compile(r"^Time left: \d")), "the clock scrolled away").to_be_in_viewport(ratio=0.99)
    b = box_of(page, bar)
    assert b["y"] >= -0.5 and b["height"] < page.viewport_size["height"] / 3, b
    a11y.check_screen(page, "candidate", size, "14-scrolled-bar")
    assert outside == []
    ctx.close()


# -- 2. time added by the proctor --------------------------------------------------------------------
def test_time_added_by_the_proctor_is_said_on_screen_and_aloud(site, browser):
    course, server, codes = site
    sid, code = codes["c003"]
    ctx, page, _ = open_sign_in(browser, server.url, a11y.SIZES["phone"])
    start(page, code)
    page.get_by_text(re.compile(r"^Time left: 2:59:")).wait_for()
    sit = ops.add_time(course, sid, 15, "proctor-kim", "fire alarm")
    said = f"The proctor added 15 minutes. New end time {local_hm(sit.deadline, ZONE, utcnow())}."
    page.locator(".eb-alert").get_by_text(said).wait_for()
    page.wait_for_function("t => document.querySelector('.eb-sr-only[role=status]').innerText === t", arg=said)
    page.get_by_text(re.compile(r"^Time left: 3:1[45]:")).wait_for()
    a11y.check_screen(page, "candidate", "phone", "15-time-added")
    with course.db.read() as s:
        shown = [e.details for e in s.execute(select(SittingEvent).where(
            SittingEvent.sitting_id == sid, SittingEvent.kind == "time_added_shown")).scalars()]
    assert shown == [{"minutes": 15}]
    ctx.close()


# -- 3. nothing typed lost -------------------------------------------------------------------------------
def test_a_reload_just_after_typing_loses_nothing_and_comes_back_to_the_question(site, browser):
    course, server, codes = site
    sid, code = codes["c004"]
    ctx, page, _ = open_sign_in(browser, server.url, a11y.SIZES["desktop"])
    start(page, code)
    page.get_by_role("button", name="5", exact=True).click()
    wait_question(page, 5)
    box = page.get_by_role("textbox", name="Answer to question 5")
    box.press_sequentially("First I would listen. Then I would ask what helps.", delay=5)
    page.wait_for_timeout(300)  # the situation under test: a reload 0.3 s after the last key (the save waits 1 s)
    page.reload()
    wait_question(page, 5)  # back on the question the candidate was on: its own kernel, no sign-in again
    assert page.get_by_label("Access code").count() == 0
    box = page.get_by_role("textbox", name="Answer to question 5")
    assert box.input_value() == "First I would listen. Then I would ask what helps."
    until(lambda: journal(course, sid).get("or-story") == "First I would listen. Then I would ask what helps.",
          "the text in eb_response")
    until(lambda: page.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('eb-draft:')).length") == 0,
          "the page to stop keeping the confirmed text")
    ctx.close()


def test_a_page_back_on_its_kernel_and_the_offline_band_pass_axe_at_every_size(site, browser):
    """The screens this round added, at the three sizes: the question a reload comes back to (its own
    kernel, no sign-in) and the offline band over it, axe-clean and nothing cut off."""
    course, server, codes = site
    sid, code = codes["c007"]
    ctx, page, _ = open_sign_in(browser, server.url, a11y.SIZES["desktop"])
    start(page, code)
    page.get_by_role("button", name="5", exact=True).click()
    wait_question(page, 5)
    page.get_by_role("textbox", name="Answer to question 5").press_sequentially("Before the reload.", delay=5)
    until(lambda: journal(course, sid).get("or-story") == "Before the reload.", "the words saved")
    for size in ("desktop", "phone", "zoom200"):
        page.set_viewport_size(a11y.SIZES[size]["viewport"])  # 200% zoom: half the CSS pixels, what reflows
        page.reload()
        wait_question(page, 5)  # back on its kernel, where it was
        a11y.check_screen(page, "candidate", size, "18-back-after-reload")
        ctx.set_offline(True)
        expect(page.locator(".eb-offline-note")).to_have_text(OFFLINE)
        expect(page.locator(".eb-offline-note")).to_be_in_viewport()
        a11y.check_screen(page, "candidate", size, "17-offline")
        ctx.set_offline(False)
        expect(page.locator(".eb-offline-note")).to_have_text("")
    ctx.close()


def overlap(a, b) -> float:
    """The area two boxes share (0: apart)."""
    w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(w, 0) * max(h, 0)


FOCUSED = """() => { const e = document.activeElement;
  if (!e || e === document.body) return null;
  const r = e.getBoundingClientRect();
  return {what: (e.tagName + ' ' + (e.getAttribute('aria-label') || e.innerText || e.value || '')).slice(0, 60),
          x: r.x, y: r.y, width: r.width, height: r.height}; }"""


def covered_while_tabbing(page, band, key: str, limit: int = 80) -> tuple[list[str], int]:
    """Tab (or Shift+Tab) through the page's controls: those the band covers when focused, and how many."""
    seen, covered = [], []
    for _ in range(limit):
        page.keyboard.press(key)
        f = page.evaluate(FOCUSED)
        if f is None or f["what"] in seen[-1:]:
            continue
        if f["what"] in seen:  # round the page once
            break
        seen.append(f["what"])
        b = band.bounding_box()
        assert b is not None and b["height"] > 0, "the offline band went while tabbing"
        if overlap(f, b) > 0:
            covered.append(f"{f['what']!r} at y={f['y']:.0f}..{f['y'] + f['height']:.0f}, "
                           f"band y={b['y']:.0f}..{b['y'] + b['height']:.0f}")
    return covered, len(seen)


@pytest.mark.parametrize("size, cid", [("desktop", "c008"), ("phone", "c009"), ("zoom200", "c010")])
def test_the_offline_band_never_covers_a_focused_control(site, browser, size, cid):
    """WCAG 2.2 SC 2.4.11 (Focus Not Obscured): offline, the band is in the page's flow (under the
    compact bar, which stays in view), said once through a polite live region, and no control the
    keyboard reaches, forwards to the last and back, is under it."""
    course, server, codes = site
    sid, code = codes[cid]
    ctx, page, _ = open_sign_in(browser, server.url, a11y.SIZES[size])
    start(page, code)
    ctx.set_offline(True)
    note = page.locator(".eb-offline-note[role=status][aria-live=polite]")
    expect(note).to_have_text(OFFLINE)
    band = page.locator(".eb-drafts.eb-offline")
    expect(band).to_be_in_viewport(ratio=0.99)
    assert page.locator(".eb-bar.eb-compact .eb-drafts.eb-offline").count() == 1, "the band is not in the bar"
    a11y.check_screen(page, "candidate", size, "19-offline-band")
    covered, reached = covered_while_tabbing(page, band, "Tab")
    assert reached > 5 and covered == [], covered
    covered, reached = covered_while_tabbing(page, band, "Shift+Tab")
    assert reached > 5 and covered == [], covered
    # the last control (the last question's button) scrolled to and focused: the band is still in view
    expect(band).to_be_in_viewport(ratio=0.99)
    ctx.set_offline(False)
    expect(note).to_have_text("")
    expect(page.locator(".eb-drafts.eb-offline")).to_have_count(0)
    ctx.close()


def test_thirty_seconds_offline_while_typing_loses_nothing(site, browser):
    course, server, codes = site
    sid, code = codes["c005"]
    ctx, page, _ = open_sign_in(browser, server.url, a11y.SIZES["desktop"])
    start(page, code)
    page.get_by_role("button", name="5", exact=True).click()
    wait_question(page, 5)
    box = page.get_by_role("textbox", name="Answer to question 5")
    box.press_sequentially("Online words. ", delay=5)
    until(lambda: journal(course, sid).get("or-story") == "Online words. ", "the first words saved")
    saved_note = page.get_by_text("Answer to question 5 saved at")
    saved_note.wait_for()
    note = page.locator(".eb-offline-note[role=status][aria-live=polite]")
    expect(note).to_have_text("")
    ctx.set_offline(True)
    # said on the page, in view, and through the polite live region
    expect(note).to_have_text(OFFLINE)
    expect(note).to_be_in_viewport()
    box.press_sequentially("Offline words, typed with the network gone.", delay=5)
    expect(saved_note).to_have_count(0)  # "saved at" is not left up while newer text is unsaved
    a11y.check_screen(page, "candidate", "desktop", "17-offline")
    page.wait_for_timeout(30_000)  # the situation under test: thirty seconds without a network
    expect(note).to_have_text(OFFLINE)
    ctx.set_offline(False)
    expect(note).to_have_text("")
    expect(page.locator(".eb-drafts.eb-offline")).to_have_count(0)  # the band at the foot of the window is gone
    full = "Online words. Offline words, typed with the network gone."
    until(lambda: journal(course, sid).get("or-story") == full, "the offline words in eb_response", 90)
    page.get_by_text("Answer to question 5 saved").wait_for()
    # the kernel's connection lost (the browser still online): said the same, and cleared once reconnected
    page.evaluate("""n => { window.ebSaid = []; new MutationObserver(() => window.ebSaid.push(n.textContent))
                       .observe(n, {childList: true, characterData: true, subtree: true}); }""",
                  note.element_handle())
    page.evaluate("() => window.jupyterapp.widgetManager.kernel._ws.close()")
    page.wait_for_function("t => window.ebSaid.includes(t)", arg=OFFLINE)
    page.wait_for_function("() => window.jupyterapp.widgetManager.kernel.connectionStatus === 'connected'")
    expect(note).to_have_text("")
    ctx.close()


# -- a takeover comes back where the candidate was ------------------------------------------------------------
def test_a_takeover_from_another_browser_lands_on_the_question_the_candidate_was_on(site, browser):
    """The same sitting signed in from another browser (no tab of its own, no kernel of its own) opens
    at the question the candidate was on, as a reload does, not at the first one not answered."""
    course, server, codes = site
    sid, code = codes["c011"]
    ctx, page, _ = open_sign_in(browser, server.url, a11y.SIZES["desktop"])
    start(page, code)
    page.get_by_role("radio", name="A. True").check()
    page.get_by_text("Answer to question 1 saved").wait_for()
    page.get_by_role("button", name="4", exact=True).click()  # questions 2 and 3 not answered
    wait_question(page, 4)
    until(lambda: at_question(course, sid) == 4, "the position kept")
    other, there, _ = open_sign_in(browser, server.url, a11y.SIZES["phone"])
    sign_in(there, code)
    there.get_by_role("button", name="Yes, this is me").click()
    wait_question(there, 4)  # where the candidate was, not question 2 (the first not answered)
    there.get_by_text("Welcome back.").wait_for()
    # the first screen is told, and moving there moves nothing
    page.get_by_text("Your exam was opened on another screen").wait_for(timeout=60_000)
    assert at_question(course, sid) == 4
    there.get_by_role("button", name="Next ▶").click()
    wait_question(there, 5)
    until(lambda: at_question(course, sid) == 5, "the new position kept")
    other.close()
    ctx.close()


# -- 4. the receipt after a reload -------------------------------------------------------------------------
def test_after_the_submit_the_same_code_shows_the_receipt_again(site, browser):
    course, server, codes = site
    sid, code = codes["c006"]
    ctx, page, _ = open_sign_in(browser, server.url, a11y.SIZES["phone"])
    start(page, code)
    page.get_by_role("radio", name="A. True").check()
    page.get_by_text("Answer to question 1 saved").wait_for()
    live = ".eb-sr-only[role=status]"
    page.wait_for_function("s => document.querySelector(s).innerText === 'Question 1 of 5'", arg=live)
    page.get_by_role("button", name="Review and submit").click()
    # off the question screens, "Question 1 of 5" is gone: from the live region, the bar and every heading
    page.get_by_role("heading", name="Review and submit").wait_for()
    page.wait_for_function("s => document.querySelector(s).innerText === ''", arg=live)
    assert "Question 1 of 5" not in page.locator(".eb-app").inner_text()
    page.get_by_role("button", name="Submit my exam now").click()
    page.get_by_role("heading", name="Your exam is in").wait_for()
    assert page.evaluate("s => document.querySelector(s).innerText", live) == ""
    assert "Question 1 of" not in page.locator(".eb-app").inner_text()
    first = page.locator(".eb-confirmation").inner_text().strip()
    page.reload()  # its own kernel again: the receipt, as it was
    page.get_by_role("heading", name="Your exam is in").wait_for(timeout=90_000)
    assert page.locator(".eb-confirmation").inner_text().strip() == first
    ctx.close()
    # another browser (or this one after the page was let go): the same code shows the receipt again
    ctx, page, _ = open_sign_in(browser, server.url, a11y.SIZES["phone"])
    sign_in(page, code)
    page.get_by_role("heading", name="Your exam is in").wait_for()
    assert page.get_by_text("This code has already been used").count() == 0
    assert page.locator(".eb-confirmation").inner_text().strip() == first
    with course.db.read() as s:
        sit = s.get(Sitting, sid)
        assert first == confirmation_number(sit.receipt_hash)
    text = page.locator(".eb-app").inner_text()
    assert "already submitted" in text and "What happens next" in text
    assert re.search(r"Exam: \S", text)
    assert re.search(r"Submitted on \w+day \d+ \w+ \d{4} at \d{1,2}:\d\d:\d\d [AP]M E[SD]T", text)
    assert "True" not in text and page.get_by_role("button", name="Yes, this is me").count() == 0  # never the answers
    a11y.check_screen(page, "candidate", "phone", "16-receipt-again")
    with course.db.read() as s:
        kinds = [e.kind for e in s.execute(select(SittingEvent).where(SittingEvent.sitting_id == sid)).scalars()]
    assert kinds.count("receipt_shown") == 1 and "sign_in_refused" not in kinds
    ctx.close()


# -- 5. saved at once when the page is hidden, not after the pause that typing waits for --------------------
@pytest.fixture(scope="module")
def slow_save(form_template, tmp_path_factory):
    """A server whose typing waits 120 s to be saved: only the page's own flush can save sooner."""
    root = tmp_path_factory.mktemp("slow-save") / "course"
    course, codes = make_site(form_template, root, [("c001", 180)],
                              config="c.DeliverySettings.sign_in_delay_seconds = 0.1\n"
                                     "c.DeliverySettings.save_delay_seconds = 120")
    server = Server(root)
    server.start()
    yield course, server, codes
    server.kill()
    course.db.dispose()


def test_typing_is_saved_at_once_when_the_page_is_hidden(slow_save, browser):
    """A phone's home button, another app in front: the page says it is hidden and the kernel saves
    at once. (A page being left, reloaded or closed asks the same, but Voila's unload beacon shuts
    its kernel down at that moment, so there the text kept in the page is what saves it: see the
    reload test above.)"""
    course, server, codes = slow_save
    sid, code = codes["c001"]
    ctx, page, _ = open_sign_in(browser, server.url, a11y.SIZES["desktop"])
    start(page, code)
    page.get_by_role("button", name="5", exact=True).click()
    wait_question(page, 5)
    page.get_by_role("textbox", name="Answer to question 5").press_sequentially("Words before the page went.", delay=5)
    page.get_by_text("Saving…").wait_for()
    # the kernel holds every keystroke (the box syncs as it is typed) before the page goes
    page.wait_for_function("() => Object.keys(sessionStorage).some(k => k.startsWith('eb-draft:'))")
    page.evaluate("() => { Object.defineProperty(document, 'visibilityState', {configurable: true, "
                  "get: () => 'hidden'}); document.dispatchEvent(new Event('visibilitychange')); }")
    until(lambda: journal(course, sid).get("or-story") == "Words before the page went.",
          "the words saved long before the 120 s pause", 60)
    ctx.close()
