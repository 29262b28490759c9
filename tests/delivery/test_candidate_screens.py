"""The candidate's screens as people meet them: every screen at a laptop, a phone and 200% zoom
through axe-core, a sitting done with the keyboard alone, focus and announcements on every screen
change, the clock that can be hidden but still warns, and the confirm step before the submit.

Real parts only: `exam-builder serve` (Voila) in its own process, Debian's chromium through
Playwright, the course's database read back to check what the page claims. Screenshots of every
screen land in ``screenshots/candidate/<size>/`` (see ``tests/a11y.py``).
"""
from __future__ import annotations

import re

import a11y
import pytest
from serverkit import Server, make_site, open_sign_in, tab_until
from sqlalchemy import select

from exam_builder.records.models import Response, Sitting

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

LOAD = 90_000
SIZE_CANDIDATE = {"desktop": "c001", "phone": "c002", "zoom200": "c003", "zoom400": "c007"}
SIZES = {**a11y.SIZES, "zoom400": a11y.ZOOM400}  # the candidate's screens reflow at 400% too


@pytest.fixture(scope="module")
def site(form_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("screens") / "course"
    course, codes = make_site(form_template, root,
                              [("c001", 180), ("c002", 180), ("c003", 180), ("c004", 180), ("c005", 180), ("c006", 30),
                               ("c007", 180)],
                              config="c.DeliverySettings.sign_in_delay_seconds = 0.1")
    server = Server(root, seats=1)  # one page at a time: not a warm kernel per candidate
    server.start()
    yield course, server, codes
    server.kill()
    course.db.dispose()


def heading(page, text: str):
    return page.get_by_role("heading", name=re.compile("^" + re.escape(text)))


def wait_focus_on(page, text: str) -> None:
    """Focus lands on the new screen's heading (the app moves it there)."""
    page.wait_for_function("t => document.activeElement.tagName === 'H2' && "
                           "document.activeElement.innerText.trim().startsWith(t)", arg=text)


def announced(page) -> str:
    return page.locator(".eb-sr-only[role=status]").inner_text()


def question_ready(page, n: int) -> None:
    """Focus is on question n's heading and its answer control has been drawn (widgets render
    one by one: a slow machine may focus the heading before the choices are on the page)."""
    wait_focus_on(page, f"Question {n} of 5")
    page.locator("fieldset.eb-choices legend, textarea").filter(has_text=f"Answer to question {n}").or_(
        page.get_by_role("textbox", name=f"Answer to question {n}")).first.wait_for()


def answers(course, sitting_id: int) -> dict[str, str | None]:
    with course.db.read() as s:
        rows = s.execute(select(Response).where(Response.sitting_id == sitting_id).order_by(Response.id)).scalars()
        return {r.item_id: r.value for r in rows}


@pytest.mark.parametrize("size", list(SIZES))
def test_every_screen_passes_axe_and_reflows(site, browser, size):
    course, server, codes = site
    sid, code = codes[SIZE_CANDIDATE[size]]
    ctx, page, outside = open_sign_in(browser, server.url, SIZES[size])
    check = lambda screen: a11y.check_screen(page, "candidate", size, screen)  # noqa: E731
    wait_focus_on(page, "Sign in")
    check("1-sign-in")
    page.get_by_label("Access code").fill("WRONG-CODE")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").wait_for()
    check("2-sign-in-wrong-code")
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    wait_focus_on(page, "Is this you?")
    assert page.get_by_role("alert").count() == 0  # the sign-in screen's error left with it
    check("3-identity")
    page.get_by_role("button", name="Yes, this is me").click()
    wait_focus_on(page, "Before you start")
    check("4-instructions")
    page.get_by_role("button", name="Start the exam").click()
    wait_focus_on(page, "Question 1 of 5")
    check("5-true-false")
    page.get_by_role("radio", name="B. False").check()
    page.get_by_text("Answer to question 1 saved").wait_for()
    toggle = page.get_by_role("button", name=re.compile(r"^Questions \(1 of 5 answered\)"))
    assert toggle.is_visible() == (size != "desktop")
    if size != "desktop":  # the question list folds behind a button on a narrow screen
        assert toggle.get_attribute("aria-expanded") == "false"
        assert not page.get_by_role("button", name="3", exact=True).is_visible()
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        check("6-question-list-open")
        page.get_by_role("button", name="3", exact=True).click()
        assert toggle.get_attribute("aria-expanded") == "false"
    else:
        page.get_by_role("button", name="3", exact=True).click()
    wait_focus_on(page, "Question 3 of 5")
    check("7-scenario")
    page.get_by_role("button", name="Next ▶").click()
    page.get_by_role("button", name="Next ▶").click()
    wait_focus_on(page, "Question 5 of 5")
    box = page.get_by_role("textbox", name="Answer to question 5")
    box.fill("I would ask what matters to her.")
    page.get_by_text("Answer to question 5 saved").wait_for()
    label = page.get_by_text("Answer to question 5", exact=True).bounding_box()
    field = box.bounding_box()
    width = page.viewport_size["width"]
    assert label["y"] + label["height"] <= field["y"] + 1, "the label sits above the box"
    assert field["width"] >= 0.8 * min(width - 40, 900), f"the box is full width ({field['width']} of {width})"
    assert box.evaluate("e => getComputedStyle(e).fontFamily") == page.locator("h1").evaluate(
        "e => getComputedStyle(e).fontFamily"), "the answer is written in the page's font, not monospace"
    check("8-written-answer")
    page.get_by_role("checkbox", name="Flag this question to come back to it").check()
    page.get_by_role("button", name="Review and submit").click()
    wait_focus_on(page, "Review and submit")
    page.get_by_text("You have not answered 3 question(s): 2, 3, 4").wait_for()
    page.get_by_text("You flagged 1 question for review: question 5.").wait_for()
    check("9-review")
    page.get_by_role("button", name="Submit my exam now").click()
    wait_focus_on(page, "Your exam is in")
    number = page.locator(".eb-confirmation").inner_text().strip()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", number)  # read aloud: no I, L, O, U
    page.get_by_text("What happens next").wait_for()
    check("10-receipt")
    with course.db.read() as s:
        assert s.get(Sitting, sid).status == "submitted"
    assert answers(course, sid) == {"tf-hope": "B", "or-story": "I would ask what matters to her."}
    assert outside == []
    ctx.close()


def test_a_keyboard_only_sitting_from_code_to_receipt(site, browser):
    """No mouse: Tab, Shift+Tab, Enter, Space and arrow keys, from the code to the receipt."""
    course, server, codes = site
    sid, code = codes["c004"]
    ctx, page, _ = open_sign_in(browser, server.url, a11y.SIZES["desktop"])
    wait_focus_on(page, "Sign in")
    tab_until(page, r"^input:text Access code", 3)
    page.keyboard.type(code)
    page.keyboard.press("Enter")  # Enter in the box signs in
    wait_focus_on(page, "Is this you?")
    tab_until(page, r"^button Yes, this is me", 2)
    page.keyboard.press("Enter")
    wait_focus_on(page, "Before you start")
    tab_until(page, r"^button Start the exam", 6)
    page.keyboard.press("Enter")
    question_ready(page, 1)
    presses = tab_until(page, r"^input:radio", 3)  # at most 3 Tab presses to the first choice
    assert presses <= 3
    page.keyboard.press("ArrowDown")  # a radio group: the arrow moves to B and chooses it
    page.get_by_text("Answer to question 1 saved").wait_for()
    for n, key in ((2, "ArrowDown"), (3, "ArrowDown")):
        tab_until(page, r"^button Next", 6)  # Next is below the answer: Clear, Flag, (Previous), Next
        page.keyboard.press("Enter")
        question_ready(page, n)
        assert "step" == page.locator("nav.eb-nav [aria-current]").get_attribute("aria-current")
        assert page.locator("nav.eb-nav [aria-current]").inner_text().split()[0] == str(n)
        tab_until(page, r"^input:radio", 3)
        page.keyboard.press(key)
        page.get_by_text(f"Answer to question {n} saved").wait_for()
    tab_until(page, r"^button Next", 6)
    page.keyboard.press("Enter")
    question_ready(page, 4)
    tab_until(page, r"^input:radio", 3)
    page.keyboard.press("Space")  # Space chooses the focused option
    page.get_by_text("Answer to question 4 saved").wait_for()
    tab_until(page, r"^input:checkbox Flag", 4)
    page.keyboard.press("Space")
    page.get_by_role("button", name="4 answered flagged").wait_for()
    tab_until(page, r"^button Next", 4)
    page.keyboard.press("Enter")
    question_ready(page, 5)
    tab_until(page, r"^textarea", 3)
    page.keyboard.type("Listen first.")
    page.get_by_text("Answer to question 5 saved").wait_for()
    tab_until(page, r"^button Review and submit", 5)
    page.keyboard.press("Enter")
    wait_focus_on(page, "Review and submit")
    tab_until(page, r"^button Submit my exam now", 6)
    page.keyboard.press("Enter")
    wait_focus_on(page, "Your exam is in")
    got = answers(course, sid)
    assert got["or-story"] == "Listen first." and len(got) == 5 and all(got.values())
    with course.db.read() as s:
        assert s.get(Sitting, sid).status == "submitted"
    ctx.close()


def test_question_changes_are_announced_and_marked(site, browser):
    course, server, codes = site
    sid, code = codes["c005"]
    ctx, page, _ = open_sign_in(browser, server.url, a11y.SIZES["desktop"])
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Yes, this is me").click()
    # text size: a named group of toggles that say which is chosen, behind the Display button
    page.get_by_role("button", name="Display").click()
    normal = page.get_by_role("button", name="Normal", exact=True)
    larger = page.get_by_role("button", name="Larger", exact=True)
    assert normal.get_attribute("aria-pressed") == "true" and larger.get_attribute("aria-pressed") == "false"
    larger.click()
    page.wait_for_function("() => document.querySelector('[aria-pressed=true]').innerText.includes('Larger')")
    assert page.get_by_role("group", name="Text size").count() == 1
    page.get_by_role("button", name="Start the exam").click()
    wait_focus_on(page, "Question 1 of 5")
    page.wait_for_function("() => document.querySelector('.eb-sr-only[role=status]').innerText === 'Question 1 of 5'")
    # the choices are a named group
    assert page.get_by_role("group", name="Answer to question 1").get_by_role("radio").count() == 2
    page.get_by_role("button", name="Next ▶").click()
    wait_focus_on(page, "Question 2 of 5")
    page.wait_for_function("() => document.querySelector('.eb-sr-only[role=status]').innerText === 'Question 2 of 5'")
    assert page.get_by_role("button", name="2", exact=True).get_attribute("aria-current") == "step"
    assert page.get_by_role("button", name="1", exact=True).get_attribute("aria-current") is None
    # the compact bar (clock, question number) stays in view when the page scrolls; Next is below the answer
    page.set_viewport_size({"width": 1366, "height": 500})
    page.get_by_role("button", name=re.compile(r"^Questions|^5")).last.scroll_into_view_if_needed()
    # both read in one pass in the page, again until true: the clock's text is re-rendered every second, so an
    # element found a moment before may be gone (bounding_box None) by the time its box is asked for
    page.wait_for_function("""() => {
      const inView = (e) => { const b = e && e.getBoundingClientRect();
                              return !!b && b.height > 0 && b.y >= 0 && b.y + b.height <= 500; };
      const clock = [...document.querySelectorAll('.eb-app *')].find(
        e => e.children.length === 0 && /^Time left: \\d/.test(e.innerText.trim()));
      const number = [...document.querySelectorAll('.eb-bar *')].find(
        e => e.children.length === 0 && e.innerText.trim() === 'Question 2 of 5');
      return inView(clock) && inView(number);
    }""", timeout=10_000)  # the bar did not scroll away
    nxt = page.get_by_role("button", name="Next ▶").bounding_box()
    assert nxt["y"] > page.get_by_role("group", name="Answer to question 2").bounding_box()["y"]
    # a welcome-back message belongs to the question screen, not the review (signed in again: the
    # page's kernel-naming cookie gone, as in another browser)
    ctx.clear_cookies(name="eb-page")
    page.reload()
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Yes, this is me").click()
    page.get_by_text("Welcome back").wait_for()
    page.get_by_role("button", name="Review and submit").click()
    wait_focus_on(page, "Review and submit")
    assert page.get_by_text("Welcome back").count() == 0
    page.get_by_role("button", name="Go to question 1").click()  # the review offers what is left to do
    wait_focus_on(page, "Question 1 of 5")
    ctx.close()


def test_the_clock_can_be_hidden_and_still_warns(site, browser):
    """WCAG 2.2.2: a moving clock can be hidden; the 30- and 5-minute warnings come anyway."""
    course, server, codes = site
    sid, code = codes["c006"]  # a 30-minute sitting: the 30-minute warning is due at the start
    ctx, page, _ = open_sign_in(browser, server.url, a11y.SIZES["phone"])
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Yes, this is me").click()
    page.get_by_role("button", name="Display").click()
    page.get_by_role("group", name="Clock").get_by_role("button", name="Hide").click()
    page.get_by_role("button", name="Start the exam").click()
    page.get_by_text("Clock hidden").wait_for()
    assert page.get_by_text(re.compile(r"^Time left")).count() == 0
    page.locator(".eb-alert").get_by_text("30 minutes left.").wait_for()  # shown, and said through the live region
    page.wait_for_function("() => document.querySelector('.eb-sr-only[role=status]').innerText.startsWith('30 minutes "
                           "left')")
    a11y.check_screen(page, "candidate", "phone", "11-clock-hidden-warning")
    page.get_by_role("group", name="Clock").get_by_role("button", name="Show").click()
    page.get_by_text(re.compile(r"^Time left: 0:(29|30):")).wait_for()
    ctx.close()
