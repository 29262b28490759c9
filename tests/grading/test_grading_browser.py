"""The grader's desk in a real browser: Debian's chromium (Playwright) against `exam-builder grader`.

What a grader does, at the sizes people use (``a11y.SIZES``: a laptop, a phone, 200% zoom): sign
in, choose a question, read the scenario and the question (as the candidate's app renders them)
and the response beside the rubric (stacked on a phone), open an anchor, choose levels by click
or by keys ("213" then Enter), save, run out. Every screen passes ``a11y.check_screen`` (axe-core
WCAG A/AA, nothing clipped; screenshots in screenshots/grader/). Two graders check the progress
numbers; the shortcut box stays clear of the Save bar on a laptop, and at every size every level, the
comment box and the shortcut box scroll and take focus clear of the bar, whose confirmation shows whole; in a
course whose coordinator
adjudicates, a third grader is told whom the responses wait for and the coordinator finishes them.
Each test works on its own question of the exam.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import a11y
import gradingkit as kit
import pytest
import yaml
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select

from exam_builder.course import Course
from exam_builder.grading.grader_app import GraderSession
from exam_builder.grading.queue import RatingQueue, open_items
from exam_builder.records.models import Candidate, Rating

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))
from serverkit import focused  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

EXE = Path(sys.executable).parent / "exam-builder"
TOKEN = "grader-test-token-1234"
ANCHOR = "I'd ask what matters to her & keep to her own words <b>not mine</b>."
COORDINATOR = "Carla Coordinator"
#: The site's grace for a page that never connects its websocket (the default is 120 s): the no-kernels test
#: waits it out, and a loaded machine's chromium connects well within it.
UNCONNECTED_GRACE = 20
DEVELOPER_TEXT = ("exam-builder grader", "Served to staff", "run the cell", "JupyterLab", "Traceback")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_grader(template: Path, root: Path, config: str = ""):
    """A copy of the course with rubric notes and anchors, and ``exam-builder grader`` serving it."""
    shutil.copytree(template, root)
    with open(root / "nbgrader_config.py", "a") as fh:  # a closed page's kernel goes within seconds
        fh.write("\nc.ServerSettings.reconnect_grace_seconds = 5\nc.ServerSettings.cull_interval_seconds = 1\n"
                 f"c.ServerSettings.unconnected_grace_seconds = {UNCONNECTED_GRACE}\n" + config)
    for path in (root / "rubrics").glob("*.yaml"):  # anchors and notes, as real rubrics have (before any rating)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["notes"] = "Score what the response *shows*, not spelling or length."
        data["criteria"][0]["levels"][-1]["anchor"] = ANCHOR
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    port = _free_port()
    log = root / "grader.log"
    env = {**os.environ, "EXAM_BUILDER_COURSE": str(root)}
    env.pop("EXAM_BUILDER_DB_URL", None)
    proc = subprocess.Popen([str(EXE), "grader", "--exam", kit.EXAM, "--port", str(port), "--token", TOKEN], env=env,
                            cwd=root, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:  # until it answers (403 without the token): the tests never start without it
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except urllib.error.HTTPError:
            break
        except OSError as exc:
            if proc.poll() is not None or time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                raise AssertionError(f"the grader app never answered at {url} within 90 s ({exc}): "
                                     + log.read_text()[-3000:]) from None
            time.sleep(0.3)
    return proc, Course(root), url, log


def _stop(proc, course) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    course.db.dispose()


@pytest.fixture(scope="module")
def grader_site(graded_template, tmp_path_factory):
    proc, course, url, log = _start_grader(graded_template, tmp_path_factory.mktemp("grader-browser") / "course")
    yield course, url, log
    _stop(proc, course)


@pytest.fixture(scope="module")
def coordinator_site(graded_template, tmp_path_factory):
    """The same desk in a course whose coordinator adjudicates (``c.GradingSettings.adjudicator``)."""
    config = ("c.GradingSettings.adjudicator = 'coordinator'\n"
              f"c.GradingSettings.coordinators = [{COORDINATOR!r}]\n")
    proc, course, url, log = _start_grader(graded_template, tmp_path_factory.mktemp("grader-coordinator") / "course",
                                           config)
    yield course, url, log
    _stop(proc, course)


def test_grader_app_needs_the_token_and_listens_on_loopback_only(grader_site):
    _course, url, log = grader_site

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as err:  # without the token: sent to the login page
        opener.open(url, timeout=10)
    assert err.value.code in (302, 401, 403)
    assert err.value.code != 302 or "login" in err.value.headers.get("Location", "")
    with opener.open(f"{url}?token={TOKEN}", timeout=30) as ok:
        assert ok.status == 200
    port = int(url.rsplit(":", 1)[1].strip("/"))
    addrs = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
    for addr in addrs:  # not reachable from the machine's other addresses
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((addr, port)) != 0



def questions(course) -> list[tuple[str, str, int]]:
    """(item id, the label the picker shows, non-blank responses) of each written question."""
    labels = {c.item_id: c.label for c in GraderSession(course, kit.EXAM).items()}
    return [(item, labels[item], sum(not r.blank for r in RatingQueue(course, kit.EXAM, item).responses()))
            for item, _rubric in open_items(course, kit.EXAM)]


def open_desk(browser, url: str, size: str = "desktop"):
    context = browser.new_context(**a11y.SIZES[size])
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{url}?token={TOKEN}")
    page.get_by_label("Your name").wait_for()
    return context, page


def sign_in(page, name: str, enter: bool = False) -> None:
    """Sign in; with ``enter``, typed key by key with no pause and Enter at once, as a fast typist
    does (an ipywidgets Text once signed "Ben Grader" in as "Ben Grade": its last keystroke was
    still on its way when Enter arrived)."""
    box = page.get_by_label("Your name")
    if enter:
        box.press_sequentially(name)
        box.press("Enter")
    else:
        box.fill(name)
        page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Choose a question").wait_for()
    page.get_by_text(f"Signed in as {name}.", exact=True).wait_for()


def start(page, label: str) -> None:
    # the picker names each question by its item's code, never a position (forms order questions differently)
    options = page.get_by_label("Written question").locator("option").all_inner_texts()
    assert options and all(re.fullmatch(r"Written\squestion\s[a-z][\w-]*", o) for o in options), options
    page.get_by_label("Written question").select_option(label=label)
    page.get_by_role("button", name="Start scoring").click()
    page.get_by_role("heading", name=re.compile(r"^(Response R-|Nothing left)")).wait_for()


def waiting_row(page, label: str):
    """The picker's line for one question in its list "Waiting for you"."""
    return page.get_by_role("list", name="Waiting for you").get_by_role("listitem").filter(has_text=f"{label}:")


def progress(page) -> str:
    return page.get_by_text("Your progress on this question").inner_text()


def wait_progress(page, text: str) -> None:
    page.get_by_text(re.compile(re.escape(text))).wait_for()


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    vp = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= vp["height"] + 0.5 and box["x"] >= 0 \
        and box["x"] + box["width"] <= vp["width"] + 0.5


def keyboard_save(page, levels: str, left: int, total: int) -> None:
    keys = page.get_by_label("Shortcut keys")
    keys.click()
    keys.press_sequentially(levels)
    keys.press("Enter")
    wait_progress(page, f"{left} of {total} left for you")


def test_two_graders_score_by_keyboard_and_progress_counts_what_is_left(grader_site, browser):
    course, url, log = grader_site
    item, label, n = questions(course)[0]
    with course.db.read() as s:
        names = [c.last_name for c in s.execute(select(Candidate)).scalars()]
    criteria = len(RatingQueue(course, kit.EXAM, item).rubric.criteria)
    ctx_a, ann = open_desk(browser, url)
    sign_in(ann, "Ann Grader")
    ann.get_by_text("Signed in as Ann Grader").wait_for()
    assert waiting_row(ann, label).inner_text() == f"{label}: {n} to score"  # said before Start scoring
    start(ann, label)
    ann.get_by_role("heading", name=re.compile("first rating")).wait_for()
    body = ann.content()
    assert "R-" in body and not any(nm in body for nm in names)  # anonymous ids only
    assert f"{n} of {n} left for you; 0 waiting for a second rating by another grader" in progress(ann)
    # keyboard: level numbers mark the levels as they are typed, Enter saves and opens the next
    keys = ann.get_by_label("Shortcut keys")
    keys.click()
    keys.press_sequentially("32")
    first = ann.get_by_role("group").first
    ann.get_by_text("✔ Chosen: level 3").wait_for()
    assert first.get_by_role("radio").nth(2).is_checked()
    keys.press("Enter")
    ann.get_by_text("Saved. Your rating of response").wait_for()
    wait_progress(ann, f"you rated 1; {n - 1} of {n} left for you; 1 waiting for a second rating by another grader")
    seen = [n - 1]
    while seen[-1]:  # every response offered to Ann counts down by one, to 0
        keyboard_save(ann, "1" * criteria, seen[-1] - 1, n)
        seen.append(seen[-1] - 1)
    assert seen == list(range(n - 1, -1, -1))
    ann.get_by_role("heading", name="Nothing left for you on this question").wait_for()
    assert f"0 of {n} left for you; {n} waiting for a second rating by another grader" in progress(ann)
    ctx_a.close()

    ctx_b, ben = open_desk(browser, url)
    sign_in(ben, "Ben Grader", enter=True)
    start(ben, label)
    ben.get_by_role("heading", name=re.compile("second rating")).wait_for()
    assert (f"{n} of {n} left for you ({n} of them a second rating); 0 waiting for a second rating by another "
            "grader") in progress(ben)  # the ones Ben may rate are counted once, as his
    keyboard_save(ben, "1" * criteria, n - 1, n)
    assert (f"{n - 1} of {n} left for you ({n - 1} of them a second rating); 0 waiting for a second rating by "
            "another grader") in progress(ben)
    ctx_b.close()
    with course.db.read() as s:
        rows = s.execute(select(Rating.rater, Rating.role)
                         .where(Rating.item_id == item, Rating.score.is_not(None))).all()
    assert sorted(rows) == sorted([("Ann Grader", "first")] * n + [("Ben Grader", "second")])


@pytest.mark.parametrize("size", list(a11y.SIZES))
def test_every_screen_of_the_desk_at_every_size(grader_site, browser, size):
    """Sign-in, question choice, a response with its rubric, after a save, nothing left: usable and
    clean (axe, no clipping) on a laptop, a phone and at 200% zoom."""
    course, url, _log = grader_site
    item, label, n = questions(course)[1 + list(a11y.SIZES).index(size)]  # a question of its own
    assert n >= 2
    rubric = RatingQueue(course, kit.EXAM, item).rubric
    context, page = open_desk(browser, url, size)
    try:
        a11y.check_screen(page, "grader", size, "sign-in")
        sign_in(page, f"Grader {size}")
        a11y.check_screen(page, "grader", size, "item-choice")
        picker = page.get_by_label("Written question").bounding_box()  # one line, not a tall empty box
        assert picker["height"] < 3 * 16 * 1.5, picker
        bar_rule = "() => getComputedStyle(document.querySelector('.eb-savebar')).borderTopWidth"
        assert page.evaluate(bar_rule) == "0px"  # no buttons in the bar, so no rule under the last row
        start(page, label)
        response, group = page.locator(".eb-response"), page.get_by_role("group").first
        save = page.get_by_role("button", name="Save and next")
        page.wait_for_function("() => document.activeElement && document.activeElement.dataset.eb === 'work'")
        sticks = size != "zoom200"  # at 200% zoom (384 px high) the bar follows the work instead of covering it
        assert not sticks or in_view(page, save), (save.bounding_box(), page.viewport_size)  # Save in view
        r, g, vw = response.bounding_box(), group.bounding_box(), page.viewport_size["width"]
        if size == "desktop":  # side by side: the rubric beside the response, both on the first screen
            assert g["x"] >= r["x"] + r["width"] and g["y"] < r["y"] + r["height"] + 200 and g["y"] < 768
        else:  # stacked: the rubric under the response, each the width of the screen
            assert g["y"] >= r["y"] + r["height"] and r["width"] > 0.8 * vw and g["width"] > 0.8 * vw
        # the scenario is beside the question, as the candidate read it
        scenario_shown(page, course, item)
        # the question is rendered markdown; no developer text anywhere on the page
        question = page.locator(".eb-question")
        assert "*" not in question.inner_text() and question.locator("em").count() >= 1
        text = page.locator("body").inner_text()
        assert not [d for d in DEVELOPER_TEXT if d in text]
        assert page.evaluate(bar_rule) != "0px"  # the rule marks the bar with Save
        top = rubric.criteria[0].max_points  # "(3 points)", "(1 point)": words, not "pts"
        assert " pts)" not in text and f"(up to {top:g} point{'' if top == 1 else 's'})" in text
        no_anchor = [c for c in rubric.criteria if not any(lv.anchor for lv in c.levels)]
        assert no_anchor  # the fixture gives only the first criterion anchors: the others say there are none
        for c in no_anchor:
            page.get_by_text(f"No anchor responses: the rubric gives none for {c.name}.").wait_for()
        # every field has a label
        for field in ("Comment for the record (optional)", "Shortcut keys"):
            assert page.get_by_label(field).count() == 1
        a11y.check_screen(page, "grader", size, "response")

        # an anchor is one click away
        page.get_by_text(f"Anchor responses: {rubric.criteria[0].name}").click()
        page.get_by_text(ANCHOR).wait_for()
        assert page.get_by_text(ANCHOR).is_visible()  # shown as text, not markup
        # choose by clicking: the chosen level says so in words and in state, not only by colour
        for c in rubric.criteria:
            choice = page.get_by_role("group", name=re.compile(re.escape(c.name))).get_by_role("radio").nth(1)
            choice.check()
            assert choice.is_checked()
        page.get_by_text("✔ Chosen: level 2").nth(len(rubric.criteria) - 1).wait_for()  # said under each
        assert "chosen" in page.locator("label.eb-chosen").first.evaluate(
            "el => getComputedStyle(el.querySelector('span'), '::after').content")
        page.get_by_label("Comment for the record (optional)").fill("Clear example.")
        save.scroll_into_view_if_needed()
        save.click()
        page.get_by_text("Saved. Your rating of response").wait_for()
        wait_progress(page, f"{n - 1} of {n} left for you")
        page.get_by_text("Not chosen yet.").first.wait_for()  # the next response starts blank
        assert not sticks or in_view(page, save)
        a11y.check_screen(page, "grader", size, "after-save")

        for left in range(n - 2, -1, -1):
            keyboard_save(page, "2" * len(rubric.criteria), left, n)
        page.get_by_role("heading", name="Nothing left for you on this question").wait_for()
        page.get_by_role("group").first.wait_for(state="hidden")  # no rubric, no Save: nothing to score
        assert save.is_hidden() and page.get_by_role("button", name="Choose another question").is_visible()
        assert page.evaluate(bar_rule) == "0px"
        a11y.check_screen(page, "grader", size, "nothing-left")
    finally:
        context.close()
    with course.db.read() as s:
        comments = s.execute(select(Rating.comment)
                             .where(Rating.item_id == item, Rating.rater == f"Grader {size}")).scalars().all()
    assert "Clear example." in comments


def candidate_scenario(course, item: str) -> str:
    """The scenario before ``item`` as the candidate app shows it: the released form read through
    ``delivery.form_view`` (the candidate's own reader) and rendered with the candidate app's ``md``."""
    from exam_builder.assembly.forms import load_forms
    from exam_builder.assembly.release import released_notebook
    from exam_builder.delivery.form_view import load_form_view
    from exam_builder.ui.page import md

    with course.db.read() as s:
        forms = [m for _f, m in load_forms(s, kit.EXAM) if any(e.item_id == item for e in m.items)]
    view = load_form_view(released_notebook(course, forms[0].assignment), course.root)
    return md(view.scenarios[view.item(item).scenario].text)


def words(text: str) -> str:
    return " ".join(text.split())


def scenario_shown(page, course, item: str) -> None:
    """The scenario has a heading and a named region, reads as the candidate's rendering does, and
    sits above the question in the same column (beside it, as the candidate saw them together)."""
    assert item in kit.SCENARIOS
    region = page.get_by_role("region", name="Scenario")
    region.wait_for()
    assert region.get_by_role("heading", name="Scenario").is_visible()
    other = page.context.new_page()  # the candidate's rendering of the same cell, as plain text
    try:
        other.set_content(candidate_scenario(course, item))
        expected = words(other.locator("body").inner_text())
    finally:
        other.close()
    assert kit.SCENARIOS[item][0] in expected  # its title, as the candidate read it
    assert words(region.inner_text()) == "Scenario " + expected
    assert region.locator("em, strong").count() >= 1  # markdown rendered, not shown as asterisks
    s, q = region.bounding_box(), page.locator(".eb-question").bounding_box()
    assert s["y"] + s["height"] <= q["y"] + 1 and abs(s["x"] - q["x"]) < 40, (s, q)


def uncovered(page, locator) -> list[str]:
    """What covers ``locator`` (its box and its focus ring) on screen, if anything: the Save bar or
    the window's edge. Checked by asking the browser which element is on top at its corners."""
    return page.evaluate("""(el) => {
      const out = [];
      const r = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      const ring = parseFloat(cs.outlineWidth || 0) + parseFloat(cs.outlineOffset || 0);
      const bar = document.querySelector('.eb-savebar').getBoundingClientRect();
      if (r.bottom + ring > bar.top + 0.5)
        out.push(`box bottom ${r.bottom + ring} below the Save bar's top ${bar.top}`);
      if (r.top - ring < 0) out.push(`box top ${r.top - ring} above the window`);
      for (const [x, y] of [[r.left + 3, r.top + 3], [r.right - 3, r.top + 3], [r.left + 3, r.bottom - 3],
                            [r.right - 3, r.bottom - 3]]) {
        const top = document.elementFromPoint(x, y);
        if (!top || !(el === top || el.contains(top))) out.push(`(${x}, ${y}) is covered by ${top && top.className}`);
      }
      return out;
    }""", locator.element_handle())


def test_the_shortcut_box_stays_clear_of_the_save_bar_on_a_laptop(grader_site, browser):
    """At 1366x768 the box the grader types level numbers in is never under the Save bar: when it
    takes focus (click or Tab), and after Enter saved and the bar said so."""
    course, url, _log = grader_site
    item, label, n = questions(course)[4]
    criteria = len(RatingQueue(course, kit.EXAM, item).rubric.criteria)
    context, page = open_desk(browser, url, "desktop")
    try:
        sign_in(page, "Kim Keys")
        start(page, label)
        keys = page.get_by_label("Shortcut keys")
        page.wait_for_function("() => document.activeElement && document.activeElement.dataset.eb === 'work'")
        page.get_by_label("Comment for the record (optional)").focus()  # focus has moved to the heading: go on
        page.keyboard.press("Tab")  # by keyboard
        page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'TEXTAREA' "
                               "&& document.activeElement.closest('.eb-keys')")
        assert not uncovered(page, keys), uncovered(page, keys)
        for left in range(n - 1, max(n - 3, -1), -1):
            keys.click()
            assert not uncovered(page, keys), uncovered(page, keys)
            keys.press_sequentially("2" * criteria)
            keys.press("Enter")
            wait_progress(page, f"{left} of {n} left for you")
            page.get_by_text("Saved. Your rating of response").wait_for()
            if left:
                assert not uncovered(page, keys), uncovered(page, keys)  # the bar's message did not grow over it
    finally:
        context.close()


#: Each control a grader works with (every level's row, the comment box, the shortcut box), scrolled into view
#: the way the browser brings a focused control in (``block: 'nearest'``, from the top of the page and from its
#: end): what is then under the Save bar or outside the window, if anything.
_SCROLLED_CLEAR_JS = """() => {
  const out = [];
  const bar = document.querySelector('.eb-savebar');
  const controls = [...document.querySelectorAll('.eb-criterion .eb-choice, .eb-grader textarea')]
    .filter(el => el.getClientRects().length);
  const scrollers = new Set([document.scrollingElement]);
  for (const el of controls)
    for (let a = el.parentElement; a; a = a.parentElement) if (a.scrollHeight > a.clientHeight) scrollers.add(a);
  for (const from of ['top', 'end']) {
    for (const el of controls) {
      for (const sc of scrollers) sc.scrollTop = from === 'top' ? 0 : sc.scrollHeight;
      el.scrollIntoView({block: 'nearest'});
      const r = el.getBoundingClientRect(), b = bar.getBoundingClientRect();
      const said = (el.innerText || el.getAttribute('aria-label') || '').trim().slice(0, 30);
      const name = `${el.tagName} "${said}"`;
      if (r.top < -0.5 || r.bottom > window.innerHeight + 0.5)
        out.push(`${name} (from the ${from}): not fully in the window (${r.top}..${r.bottom})`);
      else if (r.bottom > b.top + 0.5 && r.top < b.bottom - 0.5)
        out.push(`${name} (from the ${from}): under the Save bar (bottom ${r.bottom} > bar top ${b.top})`);
    }
  }
  for (const sc of scrollers) sc.scrollTop = 0;
  return out;
}"""


def scrolled_clear(page) -> list[str]:
    """Every rubric level, the comment box and the shortcut box can be scrolled fully into view, clear of the
    Save bar (their boxes compared with the bar's): what cannot."""
    return page.evaluate(_SCROLLED_CLEAR_JS)


def focus_clear(page) -> str:
    """'' once the focused control (a level's whole row for a radio) and its focus ring are in the window and
    not under the Save bar (WCAG 2.4.11; the page brings a level's row in just after the browser's own scroll),
    else what covers it."""
    try:
        page.wait_for_function(f"() => !({_FOCUS_CLEAR_JS})()", timeout=3_000)
    except PlaywrightTimeout:
        pass
    return page.evaluate(_FOCUS_CLEAR_JS)


_FOCUS_CLEAR_JS = """() => {
      const e = document.activeElement;
      const el = (e && e.closest('.eb-choice')) || e;
      if (!el || el === document.body) return 'nothing has focus';
      const cs = getComputedStyle(el);
      const ring = cs.outlineStyle === 'none' ? 0
        : parseFloat(cs.outlineWidth || 0) + parseFloat(cs.outlineOffset || 0);
      const r = el.getBoundingClientRect(), b = document.querySelector('.eb-savebar').getBoundingClientRect();
      const name = `${el.tagName} "${(el.innerText || e.getAttribute('aria-label') || '').trim().slice(0, 30)}"`;
      if (el.closest('.eb-savebar')) return '';
      if (r.top - ring < -0.5 || r.bottom + ring > window.innerHeight + 0.5)
        return `${name}: not fully in the window (${r.top}..${r.bottom} of ${window.innerHeight})`;
      if (r.bottom + ring > b.top + 0.5 && r.top - ring < b.bottom - 0.5)
        return `${name}: under the Save bar (bottom ${r.bottom + ring} > bar top ${b.top})`;
      return '';
    }"""


def message_whole(page, text: str) -> str:
    """'' when the bar's message reads ``text`` in full and every line of it is on screen (not cut by the bar,
    a box that hides overflow or the window), else what is wrong."""
    return page.evaluate("""(text) => {
      // the message shown: the scoring and the appeal panels each have a bar (one hidden)
      const m = [...document.querySelectorAll('.eb-bar-message')].find((e) => e.getClientRects().length);
      if (!m) return 'no message shown';
      m.scrollIntoView({block: 'nearest'});
      const said = m.innerText.replace(/\\s+/g, ' ').trim();
      if (!said.includes(text)) return `the bar says ${JSON.stringify(said)}`;
      const r = m.getBoundingClientRect();
      if (r.top < -0.5 || r.bottom > window.innerHeight + 0.5)
        return `message at ${r.top}..${r.bottom} of ${window.innerHeight}`;
      for (let a = m; a; a = a.parentElement) {
        const c = a.getBoundingClientRect(), s = getComputedStyle(a);
        if (a !== m && ['hidden', 'clip'].includes(s.overflowY) && (r.bottom > c.bottom + 0.5 || r.top < c.top - 0.5))
          return `message cut by ${a.className}`;
        if (a.scrollHeight > a.clientHeight + 1 && ['hidden', 'clip'].includes(s.overflowY))
          return `message clipped inside ${a.className} (${a.scrollHeight} > ${a.clientHeight})`;
        if (a.classList.contains('eb-savebar')) break;
      }
      const range = document.createRange();
      range.selectNodeContents(m);
      const lines = [...range.getClientRects()].filter(x => x.width && x.height);
      const last = lines[lines.length - 1];
      const top = document.elementFromPoint(last.left + 2, last.top + last.height / 2);
      if (!top || !m.contains(top)) return `its last line is covered by ${top && top.className}`;
      return '';
    }""", text)


@pytest.mark.parametrize("size", list(a11y.SIZES))
def test_nothing_hides_under_the_save_bar_at_any_size(grader_site, browser, size):
    """On a laptop (768 px high), a phone and at 200% zoom: every level of every criterion, the comment box
    and the shortcut box scroll fully into view clear of the Save bar; Tab and the arrow keys bring each
    control into view, never under the bar; the confirmation after a save is shown whole. Where the screen
    is tall enough the bar sticks to the bottom and Save stays in view; at 200% zoom it follows the work."""
    course, url, _log = grader_site
    item, label, n = questions(course)[1 + list(a11y.SIZES).index(size)]  # another grader's too: one save
    assert n >= 2
    rubric = RatingQueue(course, kit.EXAM, item).rubric
    context, page = open_desk(browser, url, size)
    try:
        sign_in(page, f"Bo {size}")
        start(page, label)
        page.wait_for_function("() => document.activeElement && document.activeElement.dataset.eb === 'work'")
        save = page.get_by_role("button", name="Save and next")
        sticks = save.evaluate("b => getComputedStyle(b.closest('.eb-savebar')).position") == "sticky"
        assert sticks == (size != "zoom200")
        if sticks:
            assert in_view(page, save)
        # the room kept under focused controls is the bar's own height where it sticks (0 where it does not)
        page.wait_for_function("""s => {
          const bar = document.querySelector('.eb-savebar');
          const room = getComputedStyle(document.documentElement).getPropertyValue('--eb-savebar-room').trim();
          return room === (s ? `${Math.ceil(bar.getBoundingClientRect().height)}px` : '0px');
        }""", arg=sticks, timeout=10_000)
        assert not (hidden := scrolled_clear(page)), hidden
        # by keyboard from the top: each stop in view and clear of the bar; the arrow keys through every level
        stops = []
        for _ in range(40):
            page.keyboard.press("Tab")
            stops.append(focused(page))
            assert not (why := focus_clear(page)), f"{why} (after {stops})"
            if stops[-1].startswith("input:radio"):  # a criterion's group: its first level, then each next one
                criterion = rubric.criteria[sum(s.startswith("input:radio") for s in stops) - 1]
                for k in range(2, len(criterion.levels) + 1):
                    page.keyboard.press("ArrowDown")
                    assert focused(page).startswith(f"input:radio {k} "), (criterion.id, k, focused(page))
                    assert not (why := focus_clear(page)), f"{why} (after {stops}, level {k})"
            if stops[-1].startswith("button Save and next"):
                break
        assert sum(s.startswith("input:radio") for s in stops) == len(rubric.criteria), stops
        assert any(s.startswith("textarea Shortcut keys") for s in stops), stops
        page.get_by_text(f"✔ Chosen: level {len(rubric.criteria[-1].levels)}").last.wait_for()
        page.keyboard.press("Enter")  # Save, by keyboard: the bar says so, whole
        page.get_by_text("Saved. Your rating of response").wait_for()
        wait_progress(page, f"{n - 1} of {n} left for you")
        assert not (why := message_whole(page, "Saved. Your rating of response R-")), why
        assert not (hidden := scrolled_clear(page)), hidden  # the message did not make the bar cover anything
        a11y.check_screen(page, "grader", size, "saved-bar")
    finally:
        context.close()


def rate_all_as(course, item: str, rater: str, role: str, levels, comment: str) -> int:
    from test_grading_adjudication import rate_as

    return rate_as(course, item, rater, role, levels, comment)


@pytest.mark.parametrize("size", list(a11y.SIZES))
def test_the_coordinator_finishes_adjudication_and_everyone_is_told_who_it_waits_for(coordinator_site, browser, size):
    """Ann and Ben's ratings differ too much: a third grader is told the responses wait for the
    coordinator; the coordinator, who also rated them, sees the scenario, the question and both
    ratings, adjudicates every one by keyboard, and the responses are decided."""
    from test_grading_adjudication import zero
    from test_grading_rating import top

    course, url, _log = coordinator_site
    item, label, n = questions(course)[1 + list(a11y.SIZES).index(size)]
    assert rate_all_as(course, item, COORDINATOR, "first", top, "Full marks: listens first.") == n
    assert rate_all_as(course, item, "Ben Grader", "second", zero, "Nothing relevant.") == n
    assert RatingQueue(course, kit.EXAM, item).status() == {"adjudication": n}
    criteria = len(RatingQueue(course, kit.EXAM, item).rubric.criteria)

    context, page = open_desk(browser, url, size)
    try:  # a third grader: nothing for them, and the desk says for whom it waits
        sign_in(page, f"Cy {size}")
        waiting_row(page, label).wait_for()  # the picker says, before Start scoring, that nothing here is Cy's
        assert waiting_row(page, label).inner_text() == f"{label}: nothing for you now"
        start(page, label)
        page.get_by_role("heading", name="Nothing left for you on this question").wait_for()
        page.get_by_text(f"{n} responses wait for adjudication by the coordinator ({COORDINATOR}).").wait_for()
        assert "come back later" not in page.locator("body").inner_text()
        a11y.check_screen(page, "grader", size, "waiting-for-the-coordinator")
    finally:
        context.close()

    context, page = open_desk(browser, url, size)
    try:
        sign_in(page, COORDINATOR)
        # the picker says what waits for the coordinator on each question, before Start scoring
        assert waiting_row(page, label).inner_text() == f"{label}: {n} to adjudicate"
        a11y.check_screen(page, "grader", size, "pick-with-adjudications")
        start(page, label)
        page.get_by_role("heading",
                         name=re.compile(r"adjudication \(the two ratings differ: yours and the other")).wait_for()
        assert (f"{n} responses wait for adjudication by you: you are the adjudicator (the "
                "coordinator)") in progress(page)
        scenario_shown(page, course, item)  # the adjudicator reads the scenario too
        page.get_by_role("heading", name="The two ratings", exact=True).wait_for()
        page.get_by_role("heading", name=re.compile(r"^Your rating \(first rating\): 6 of 6 points")).wait_for()
        page.get_by_role("heading", name=re.compile(r"^The other rating \(second rating\): 0 of 6 points")).wait_for()
        page.get_by_text("Comment: Nothing relevant.").wait_for()
        assert "Ben Grader" not in page.locator("body").inner_text()
        a11y.check_screen(page, "grader", size, "adjudication")
        for left in range(n - 1, -1, -1):
            keyboard_save(page, "2" * criteria, left, n)
        page.get_by_role("heading", name="Nothing left for you on this question").wait_for()
        page.get_by_text("Every response to this question has the ratings it needs.").wait_for()
    finally:
        context.close()
    with course.db.read() as s:
        rows = s.execute(select(Rating.rater, Rating.score).where(Rating.item_id == item,
                                                                  Rating.role == "adjudication")).all()
    assert sorted(rows) == [(COORDINATOR, 3.0)] * n
    assert RatingQueue(course, kit.EXAM, item).status() == {"final": n}
    assert {w.step for w in RatingQueue(course, kit.EXAM, item).waiting()} <= {"no response"}  # blank ones only


def test_grader_page_views_leave_no_kernels(grader_site, browser):
    """The staff apps share the exam server's kernel lifecycle: each page view's kernel goes with it.

    Four page views (the first and three reloads) prove what ten did, at the cost of four kernel
    starts: a view whose kernel stayed (neither its page's beacon nor the culler freed it) is still
    counted after the reloads and once the page is closed, and a pool refilled past its one warm
    kernel shows at the end."""
    _course, url, _log = grader_site

    def status() -> dict:
        with urllib.request.urlopen(f"{url}exam-builder/status?token={TOKEN}", timeout=10) as r:
            return json.loads(r.read().decode())

    # a page whose websocket never connected goes only after the server's unconnected grace
    grace = UNCONNECTED_GRACE + 30
    deadline = time.time() + grace
    while status()["pages"]:  # the other tests' pages have gone (they close within seconds)
        assert time.time() < deadline, status()
        time.sleep(0.5)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(90_000)
    for _ in range(4):  # four page views: the first and three reloads
        page.goto(f"{url}?token={TOKEN}")
        page.get_by_label("Your name").wait_for()
    assert status()["pages"] <= 2  # this page (and at most one whose beacon is on its way)
    page.close(run_before_unload=True)
    context.close()
    deadline = time.time() + grace
    while (st := status())["pages"] or st["kernels"] != st["pool_wanted"]:
        assert time.time() < deadline, st
        time.sleep(0.5)
    assert st["kernels"] == 1, st  # the one warm kernel for the next grader, nothing else
