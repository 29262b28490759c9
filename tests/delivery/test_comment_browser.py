""""Comment on this question" as a candidate meets it, in a real browser on the real exam page.

The delivery tests' one-form course, served by the real ``exam-builder serve`` (Voila) to Debian's
chromium. Checked: the instructions say what a comment is for and that it never changes time or
score; the button is a disclosure (``aria-expanded``) that opens a labelled text box with its limit
stated; the whole walk by keyboard alone (Tab, Enter, typing, Tab, Enter) reaches ``eb_item_comment``;
a reload finds the saved comment; axe-core and reflow pass at desktop, phone and 200% zoom with the
box open and the comment saved.
"""
from __future__ import annotations

import time

import a11y
import pytest
from serverkit import Server, focused, make_site, open_sign_in, tab_until
from sqlalchemy import select

from exam_builder.records.models import ItemComment

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

CANDIDATES = {"keyboard": "c001", "desktop": "c002", "phone": "c003", "zoom200": "c004"}
SAVE_SECONDS = 30


@pytest.fixture(scope="module")
def site(form_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("comment-screens") / "course"
    course, codes = make_site(form_template, root, [(c, 180) for c in CANDIDATES.values()],
                              config="c.DeliverySettings.sign_in_delay_seconds = 0.1")
    server = Server(root)
    server.start()
    yield course, server, codes
    server.kill()
    course.db.dispose()


def wait_focus_on(page, text: str) -> None:
    page.wait_for_function("t => document.activeElement.tagName === 'H2' && "
                           "document.activeElement.innerText.trim().startsWith(t)", arg=text)


def comments(course, sid: int) -> list[tuple[str, str]]:
    with course.db.read() as s:
        return [(c.item_id, c.text) for c in s.execute(
            select(ItemComment).where(ItemComment.sitting_id == sid).order_by(ItemComment.id)).scalars()]


def wait_comment(course, sid: int, expected: tuple[str, str]) -> None:
    """Until ``eb_item_comment`` holds ``expected`` as the sitting's latest row (the database is what is waited on)."""
    deadline = time.monotonic() + SAVE_SECONDS
    while (rows := comments(course, sid))[-1:] != [expected]:
        assert time.monotonic() < deadline, f"{expected!r} not saved; the table holds {rows!r}"
        time.sleep(0.2)


def start(page, code: str) -> None:
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Yes, this is me").click()
    page.get_by_text("Comments are read by staff after the exam; a comment never changes your time or your "
                     "score by itself.").wait_for()
    page.get_by_role("button", name="Start the exam").click()
    wait_focus_on(page, "Question 1 of 5")


def test_a_comment_by_keyboard_alone_reaches_the_database_and_comes_back_after_a_reload(site, browser):
    course, server, codes = site
    sid, code = codes[CANDIDATES["keyboard"]]
    ctx, page, outside = open_sign_in(browser, server.url, a11y.SIZES["desktop"])
    start(page, code)
    toggle = page.get_by_role("button", name="Comment on this question")
    assert toggle.get_attribute("aria-expanded") == "false"
    box = page.get_by_label("Your comment on question 1")
    assert not box.is_visible()
    tab_until(page, r"^button Comment on this question$", 14)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('button.eb-disclosure[aria-expanded=true]') !== null"
                           " && [...document.querySelectorAll('textarea')].some(t => t.offsetParent !== null)")
    assert toggle.get_attribute("aria-controls")
    page.get_by_text("A comment never changes your time or your score by itself. At most 1,000 characters.").wait_for()
    tab_until(page, r"^textarea Your comment on question 1", 3)
    page.keyboard.type("True is not always right: 'everyone' is too strong.")
    tab_until(page, r"^button Save comment", 2)
    page.keyboard.press("Enter")
    wait_comment(course, sid, ("tf-hope", "True is not always right: 'everyone' is too strong."))
    page.get_by_role("status").filter(has_text="Comment on question 1 saved").wait_for()
    page.get_by_role("button", name="Comment on this question (saved)").wait_for()
    assert focused(page).startswith("button Save comment")
    ctx.close()

    ctx, page, outside2 = open_sign_in(browser, server.url, a11y.SIZES["desktop"])
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Yes, this is me").click()
    wait_focus_on(page, "Question 1 of 5")
    page.get_by_role("button", name="Comment on this question (saved)").click()
    assert page.get_by_label("Your comment on question 1").input_value() == \
        "True is not always right: 'everyone' is too strong."
    assert outside == outside2 == []
    ctx.close()


@pytest.mark.parametrize("size", list(a11y.SIZES))
def test_the_comment_box_passes_axe_and_reflows(site, browser, size):
    course, server, codes = site
    sid, code = codes[CANDIDATES[size]]
    ctx, page, outside = open_sign_in(browser, server.url, a11y.SIZES[size])
    start(page, code)
    page.get_by_role("button", name="Comment on this question").click()
    box = page.get_by_label("Your comment on question 1")
    box.wait_for()
    a11y.check_screen(page, "candidate", size, "14-comment-open")
    box.fill("Unclear wording.")
    page.get_by_role("button", name="Save comment").click()
    wait_comment(course, sid, ("tf-hope", "Unclear wording."))
    page.get_by_role("status").filter(has_text="Comment on question 1 saved").wait_for()
    a11y.check_screen(page, "candidate", size, "15-comment-saved")
    assert outside == []
    ctx.close()
