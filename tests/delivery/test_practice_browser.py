"""The practice app as a study group meets it: a real `exam-builder practice serve` (Voila) and
Debian's chromium driven by Playwright.

The course is the sample bank (its 19 ``pool: practice`` items and its certification items,
approved by the test kit's reviewer) with its certification forms built and stored, so that
`exam-builder practice build` proves each set apart from the bank and from real forms. Two sets
are built by the command itself: ``module-3`` (two questions, for the walks that must know the
answers) and ``all-topics`` (every practice item: true/false, multiple choice, select all that
apply, an open response and a scenario). One server and one browser for the module; every test
opens its own page (its own kernel), in a context that refuses every request off the loopback.

Checked: a set's link opens its start screen with no code; an answer chosen as a person does is
checked with right or wrong and the author's rationale, then fixed; the summary's table and
what to study next; nothing reaches the database or the course folder; no certification item's
id, question or scenario reaches the page, its widget traffic or the set file; axe-core and
reflow on every kind of screen at the three sizes; a run by keyboard alone, focus following
each screen's heading; an unknown set's link lists the sets with a message; an open response is
compared with what graders look for (never with an empty box); and, on a second server, the
link over HTTPS (the page itself reports its query string, so TLS does not get in the way).
"""
from __future__ import annotations

import contextlib
import html
import io
import json
import re
import subprocess
from pathlib import Path

import a11y
import pytest
from click.testing import CliRunner
from coursekit import approve_offered_items, new_course_dir
from playwright.sync_api import expect
from rich.console import Console
from serverkit import Server, focused, new_page, tab_until
from sqlalchemy import func, inspect, select, table

from exam_builder.assembly.build import build
from exam_builder.bank import load_bank
from exam_builder.bank.overlap import plain
from exam_builder.cli import cli as cli_group
from exam_builder.course import Course

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

EXAM = "cps"
SMALL = "module-3"  # two questions of module 3: one true/false, one multiple choice
ALL = "all-topics"  # every practice item of the bank
TIMED = "timed"  # module 3 again, with a suggested clock of one minute
LOAD = 90_000  # ms: a page takes a kernel and runs the app
WAIT = 30_000  # ms: one round trip to the page's kernel, on a busy two-core machine
#: A minute of a practice clock on this server (``DeliverySettings.practice_minute_seconds``): the
#: timed set's one minute runs out in this many seconds, long after a page has answered its question.
MINUTE = 20
#: The server's own config for the module: closed pages give their kernels back soon, so the
#: module's pages never meet the page cap (the culler is what is configured, not the app), and a
#: chosen clock's minute is ``MINUTE`` seconds long.
CONFIG = ("c.ServerSettings.reconnect_grace_seconds = 5\nc.ServerSettings.cull_interval_seconds = 1\n"
          f"c.DeliverySettings.practice_minute_seconds = {MINUTE}\n")


# -- the server and the course --------------------------------------------------------------
class PracticeServer(Server):
    """`exam-builder practice serve` in its own process group."""

    command = ("practice", "serve")


def cli(root: Path, *args: str) -> str:
    """One `exam-builder` command on the course, as staff type it: its output. Run in this process
    (the command's work and words are the point; `practice serve` is the console script)."""
    done = CliRunner().invoke(cli_group, ["--course", str(root), *args], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.output


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The sample course with its forms stored, two practice sets built by the command, and the
    practice server running with its warm kernels ready."""
    root = new_course_dir(tmp_path_factory.mktemp("practice") / "course", with_bank=True)
    with open(root / "nbgrader_config.py", "a") as fh:
        fh.write("\n" + CONFIG)
    course = Course(root)
    course.db.upgrade()
    approve_offered_items(course)
    build(course, EXAM, actor="test-author", console=Console(file=io.StringIO()))
    for args in ((SMALL, "--module", "3"), (ALL,),
                 (TIMED, "--module", "3", "--minutes", "1", "--title", "Module 3 against the clock")):
        out = cli(root, "practice", "build", *args, "--by", "Study Group Lead")
        assert "overlap: none" in out and f"/?set={args[0]}" in out, out
        assert re.search(r"items on [1-9]\d* stored form\(s\)", out), out  # compared with real forms
    server = PracticeServer(root, seats=2).start()
    server.wait_ready()
    yield course, server
    server.kill()
    course.db.dispose()


def set_file(course: Course, name: str) -> dict:
    """A practice set as the app reads it (``practice/<name>.json``)."""
    return json.loads((course.practice_dir / f"{name}.json").read_text(encoding="utf-8"))


# -- the page ---------------------------------------------------------------------------------
@contextlib.contextmanager
def opened(browser, server: Server, query: str = "", size: str = "desktop", frames: list | None = None):
    """A page at ``server.url + query`` (a study group's link) in a room with no internet;
    ``frames`` collects every websocket frame the page receives (its widget traffic)."""
    ctx, page, outside = new_page(browser, **a11y.SIZES[size])
    if frames is not None:
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f)))
    try:
        page.goto(server.url + query)
        yield page
        assert outside == [], f"the page fetched from outside the server: {outside}"
    finally:
        ctx.close()


def wait_focus(page, text: str, timeout: float = WAIT) -> None:
    """The app has moved focus to the new screen's heading (it does on every screen change)."""
    page.wait_for_function("t => { const e = document.activeElement; return e && e.tagName === 'H2' && "
                           "e.innerText.trim().startsWith(t); }", arg=text, timeout=timeout)


def start_screen(page, pset: dict) -> None:
    """The set's start screen is shown (after the page's kernel has read the link), focus on its
    title, and its clock choice drawn (a choice group renders a moment after the heading)."""
    page.get_by_role("heading", name=pset["title"], exact=True).wait_for(timeout=LOAD)
    wait_focus(page, pset["title"])
    page.get_by_role("radio", name="No clock", exact=True).wait_for(timeout=WAIT)


def start_with_no_clock(page, pset: dict) -> None:
    page.get_by_role("radio", name="No clock", exact=True).check()
    page.get_by_role("button", name="Start practice").click()
    question_screen(page, 1, len(pset["items"]))


def question_screen(page, number: int, total: int) -> None:
    """Question ``number`` is shown, focus on its heading, and its answer control drawn (a choice
    group renders a moment after the heading: a person tabs to it once they see it)."""
    page.get_by_role("heading", name=f"Question {number} of {total}", exact=True).wait_for(timeout=WAIT)
    wait_focus(page, f"Question {number} of {total}")
    answer_group(page,
                 number).or_(page.get_by_role("textbox", name=f"Answer to question {number}")).wait_for(timeout=WAIT)


def answer_group(page, number: int):
    """The question's answer control: a fieldset named "Answer to question N" (its legend)."""
    return page.get_by_role("group", name=re.compile(rf"^Answer to question {number}\b"))


def shown_item(page, items: list[dict]) -> dict:
    """The set's item whose question is on screen (the order is new each run)."""
    text = plain(page.locator(".eb-body").inner_text())
    found = [it for it in items if plain(it["stem"]) in text]
    assert len(found) == 1, f"{[it['id'] for it in found]} on screen: {text[:300]}"
    return found[0]


def choice(page, number: int, text: str):
    """A choice as a person finds it: the radio named by its label and words ("B. True")."""
    return answer_group(page, number).get_by_role("radio", name=re.compile(rf"^[A-Z]\. {re.escape(text)}$"))


def feedback(page):
    box = page.locator(".eb-feedback")
    box.wait_for(timeout=WAIT)
    return box


def wait_summary(page) -> None:
    page.get_by_role("heading", name="Your practice summary", exact=True).wait_for(timeout=WAIT)
    wait_focus(page, "Your practice summary")


def summary_rows(page) -> dict[str, tuple[int, int, int]]:
    """The summary's table: area -> (right, answered, questions); its cells read "2" and "3 of 7"."""
    table_ = page.get_by_role("table", name="Your answers by area")
    rows = table_.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('th, td')].map(c => c.innerText.trim()))")
    out = {}
    for area, right, answered in rows:
        done, of, total = answered.split()
        assert of == "of", answered
        out[area] = (int(right), int(done), int(total))
    return out


def check_and_see(page, number: int, item: dict, right: bool) -> None:
    """Press Check my answer: right or not, the author's rationale, and the answer is then fixed."""
    page.get_by_role("button", name="Check my answer").click()
    box = feedback(page)
    expect(box).to_contain_text("Right." if right else "Not right.")
    if right:
        expect(box).not_to_contain_text("Not right.")
    else:
        key = next(c["text"] for c in item["choices"] if c["correct"])
        expect(box).to_contain_text("The answer: ")
        expect(box).to_contain_text(key)
    expect(box).to_contain_text(f"Why: {' '.join(item['rationale'].split())}")
    expect(box).to_have_attribute("role", "status")  # read out as it appears
    group = answer_group(page, number)
    for k in range(group.get_by_role("radio").count()):
        expect(group.get_by_role("radio").nth(k)).to_be_disabled()
    expect(page.get_by_role("button", name="Check my answer")).to_be_disabled()


def take_small_set(page, pset: dict) -> tuple[dict, dict]:
    """From the start screen: question 1 answered right, question 2 wrong, each checked; the
    summary. Returns the two items as shown."""
    start_with_no_clock(page, pset)
    first = shown_item(page, pset["items"])
    choice(page, 1, next(c["text"] for c in first["choices"] if c["correct"])).click()
    check_and_see(page, 1, first, right=True)
    page.get_by_role("button", name="Next ▶").click()
    question_screen(page, 2, 2)
    second = shown_item(page, pset["items"])
    choice(page, 2, next(c["text"] for c in second["choices"] if not c["correct"])).click()
    check_and_see(page, 2, second, right=False)
    page.get_by_role("button", name="Finish and see my summary").click()
    wait_summary(page)
    return first, second


def walk_every_question(page, pset: dict, on_screen=None) -> list[dict]:
    """From the start screen through every question of the set, each answered and checked (the
    first choice; a written answer for an open response), then the summary. ``on_screen(item,
    number)`` runs on each question once its feedback shows. Returns the items in the order shown."""
    total = len(pset["items"])
    start_with_no_clock(page, pset)
    shown = []
    for n in range(1, total + 1):
        if n > 1:
            page.get_by_role("button", name="Next ▶").click()
            question_screen(page, n, total)
        item = shown_item(page, pset["items"])
        group = answer_group(page, n)
        if group.count():
            group.get_by_role("radio").or_(group.get_by_role("checkbox")).first.check()
            page.get_by_role("button", name="Check my answer").click()
        elif item["kind"] == "short_answer":  # a labelled one-line field, typed into and checked
            field = page.get_by_role("textbox", name=f"Answer to question {n} (type your answer)", exact=True)
            expect(field).to_have_js_property("tagName", "INPUT")
            field.fill(f"  {item['accept'][0].upper()}. ")  # right once case, spacing and the full stop are ignored
            page.get_by_role("button", name="Check my answer").click()
            expect(feedback(page)).to_contain_text("Right.")
        else:
            page.get_by_role("textbox",
                             name=f"Answer to question {n}").fill("I would listen first, then ask what she wants.")
            page.get_by_role("button", name="Compare with what graders look for").click()
        feedback(page)
        shown.append(item)
        if on_screen:
            on_screen(item, n)
    page.get_by_role("button", name="Finish and see my summary").click()
    wait_summary(page)
    return shown


# -- what reached the page ----------------------------------------------------------------------
def frame_strings(frame: bytes | str) -> list[str]:
    """Every string in a websocket frame from the kernel (Jupyter's v1 binary framing: a count of
    offsets, the offsets, then channel, header, parent header, metadata, content, buffers)."""
    parts: list[str] = []
    if isinstance(frame, bytes):
        try:
            n = int.from_bytes(frame[:8], "little")
            offsets = [int.from_bytes(frame[8 + 8 * i:16 + 8 * i], "little") for i in range(n)] + [len(frame)]
            parts = [frame[a:b].decode("utf-8", "replace") for a, b in zip(offsets, offsets[1:], strict=False) if b > a]
        except (ValueError, OverflowError):
            parts = []
        if not parts:
            parts = [frame.decode("latin-1")]
    else:
        parts = [frame]
    out: list[str] = []

    def strings(x) -> None:
        if isinstance(x, str):
            out.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                strings(v)
        elif isinstance(x, list):
            for v in x:
                strings(v)

    for p in parts:
        try:
            strings(json.loads(p))
        except ValueError:
            out.append(p)
    return out


def as_read(markup: str) -> str:
    """Markup as a reader compares it: tags dropped, entities decoded, words only (``plain``)."""
    return plain(html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def words_and_ids(text: str) -> set[str]:
    """Every run of letters, digits, '_' and '-' in ``text``: an id such as ``ps-mc-01`` is in the
    set exactly when it stands alone in the text (one pass, however many ids are looked for)."""
    return set(re.findall(r"[\w-]+", text))


# -- the tests ----------------------------------------------------------------------------------
def test_a_study_group_link_opens_its_set_without_a_code(site, browser):
    course, server = site
    pset = set_file(course, SMALL)
    assert [it["pool"] for it in pset["items"]] == ["practice", "practice"]
    with opened(browser, server, f"?set={SMALL}") as page:
        start_screen(page, pset)
        expect(page.get_by_label("Access code")).to_have_count(0)  # no sign-in, no code
        expect(page.get_by_role("textbox")).to_have_count(0)
        expect(page.get_by_text(f"{len(pset['items'])} questions on")).to_be_visible()
        expect(page.get_by_role("radio", name="No clock", exact=True)).to_be_checked()  # no clock unless chosen
        first, second = take_small_set(page, pset)
        # the table says what happened, area by area
        names = pset["competency_names"]
        want: dict[str, list[int]] = {names[c]: [0, 0, 0] for c in names}
        for it in pset["items"]:
            want[names[it["competency"]]][2] += 1
        for it, right in ((first, True), (second, False)):
            want[names[it["competency"]]][0] += right
            want[names[it["competency"]]][1] += 1
        assert summary_rows(page) == {k: tuple(v) for k, v in want.items()}
        page.get_by_text("You got 1 of 2 answered questions right").wait_for()
        page.get_by_role("heading", name="What to study next").wait_for()
        advice = page.locator("h3:has-text('What to study next') + ul li").all_inner_texts()
        assert any(a.startswith(names[second["competency"]]) for a in advice), advice  # the area missed
        assert not any(a.startswith(names[first["competency"]]) for a in advice), advice  # not the one got right
        expect(page.get_by_text("nothing was recorded, and it does not count as an exam attempt")).to_be_visible()


def test_a_chosen_clock_runs_out_into_the_summary(site, browser):
    """The set suggests one minute; the candidate takes it, answers one question, and the clock ends
    the run: the questions go, and the summary says time is up and counts what was answered. At
    the three sizes at once (one minute for all), each screen through axe and the reflow check.
    The server's minute is ``MINUTE`` seconds: the clock, its display and its end are the app's own."""
    course, server = site
    pset = set_file(course, TIMED)
    assert pset["minutes"] == 1
    with contextlib.ExitStack() as stack:
        pages = {size: stack.enter_context(opened(browser, server, f"?set={TIMED}", size=size)) for size in a11y.SIZES}
        for size, page in pages.items():
            start_screen(page, pset)
            clock = page.get_by_role("radio", name="1 minute (suggested)", exact=True)
            clock.check()
            a11y.check_screen(page, "practice", size, "05-start-clock-chosen")
            page.get_by_role("button", name="Start practice").click()
            question_screen(page, 1, 2)
            # the one minute, MINUTE seconds long here, counting down
            expect(page.get_by_role("timer")).to_have_text(re.compile(r"^Time left: 0:00:[0-2]\d$"))
            first = shown_item(page, pset["items"])
            choice(page, 1, next(c["text"] for c in first["choices"] if c["correct"])).click()
            check_and_see(page, 1, first, right=True)
        for size, page in pages.items():
            page.get_by_text("Time is up. Here is how you did.").wait_for(timeout=LOAD)
            wait_summary(page)
            expect(page.get_by_role("button", name="Check my answer")).to_have_count(0)
            expect(page.get_by_role("timer")).to_have_count(0)
            rows = summary_rows(page)
            assert sum(r[0] for r in rows.values()) == 1 and sum(r[1] for r in rows.values()) == 1, rows
            assert sum(r[2] for r in rows.values()) == len(pset["items"]), rows
            page.get_by_text(f"You got 1 of 1 answered questions right (1 of {len(pset['items'])} answered)").wait_for()
            a11y.check_screen(page, "practice", size, "06-time-up")


def test_a_set_built_while_the_server_runs_is_served_at_once(site, browser):
    """Warm kernels ran the app before the set existed (a preheated kernel may wait days for its
    page); the study group's link still opens the new set, and the list shows it."""
    course, server = site
    st = server.wait_ready(timeout=LOAD / 1000)
    assert st["pool_ready"] >= 1, st  # the page below takes a kernel warmed before the build
    cli(course.root, "practice", "build", "late", "--module", "5", "--title", "Module 5, built late")
    try:
        pset = set_file(course, "late")
        with opened(browser, server, "?set=late") as page:
            start_screen(page, pset)
            page.get_by_role("button", name="Choose another set").click()
            page.get_by_role("button", name="Module 5, built late (3 questions)", exact=True).wait_for(timeout=WAIT)
    finally:
        (course.practice_dir / "late.json").unlink()


def row_counts(course: Course) -> dict[str, int]:
    """Rows of every table of the course's database (eb_sitting, eb_response, eb_audit and the rest)."""
    with course.db.read() as s:
        names = inspect(s.get_bind()).get_table_names()
        return {t: s.execute(select(func.count()).select_from(table(t))).scalar_one() for t in names}


def course_files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file of the course folder (size, modified), less the servers' own logs."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))
            if p.is_file() and not re.match(r"serve-\d+\.log$", p.name)}


def test_practice_records_nothing(site, browser):
    course, server = site
    before = row_counts(course)
    for t in ("eb_sitting", "eb_response", "eb_sitting_event", "eb_audit", "eb_item_score"):
        assert t in before, sorted(before)
    assert before["eb_audit"] > 0  # the builds were audited: the count is read from the right database
    files = course_files(course.root)
    pset = set_file(course, SMALL)
    with opened(browser, server, f"?set={SMALL}") as page:
        start_screen(page, pset)
        take_small_set(page, pset)
        page.get_by_role("button", name="Practise this set again").click()  # a second run, as often as they like
        start_screen(page, pset)
        start_with_no_clock(page, pset)
        item = shown_item(page, pset["items"])
        choice(page, 1, item["choices"][0]["text"]).click()
        page.get_by_role("button", name="Check my answer").click()
        feedback(page)
        assert row_counts(course) == before
    assert row_counts(course) == before  # nor when the page is gone
    assert course_files(course.root) == files


def test_no_certification_text_reaches_the_page(site, browser):
    course, server = site
    pset = set_file(course, ALL)
    bank = load_bank([course.source_dir])
    practice_ids = {i.id for i in bank.items.values() if i.practice}
    cert = [i for i in bank.items.values() if not i.practice]
    practice_scenarios = {i.scenario for i in bank.items.values() if i.practice and i.scenario}
    cert_scenarios = [sc for sid, sc in bank.scenarios.items() if sid not in practice_scenarios]
    assert len(practice_ids) == 19 and len(cert) > 100 and cert_scenarios

    # the set file holds every practice item and nothing else
    assert {it["id"] for it in pset["items"]} == practice_ids
    assert set(pset["scenarios"]) == practice_scenarios
    assert pset["proof"]["certification_items"] == len(cert) and pset["proof"]["forms"]
    in_file = words_and_ids(json.dumps(pset, ensure_ascii=False))
    assert practice_ids <= in_file and [i.id for i in cert if i.id in in_file] == []

    frames: list = []
    pages: list[str] = []  # each screen's markup, feedback shown
    with opened(browser, server, f"?set={ALL}", frames=frames) as page:
        start_screen(page, pset)
        pages.append(page.content())
        shown = walk_every_question(page, pset, lambda item, n: pages.append(page.content()))
        pages.append(page.content())
        for path in ("tree", "api/contents", "voila/render/x.ipynb", "voila/files/gradebook.db",
                     f"voila/files/{Path(cert[0].where.file).relative_to(course.root)}",
                     f"voila/files/practice/{ALL}.json"):
            resp = page.request.get(server.url + path)
            assert resp.status in (403, 404), (path, resp.status)
    assert sorted(it["id"] for it in shown) == sorted(practice_ids)  # every question was on a screen

    raw = "\n".join(pages) + "\n" + "\n".join(s for f in frames for s in frame_strings(f))
    read, ids = as_read(raw), words_and_ids(raw)
    assert all(plain(i.stem) in read for i in bank.items.values() if i.practice)  # the scan sees the questions
    assert all(plain(bank.scenarios[s].text) in read for s in practice_scenarios)
    leaks = [f"id {i.id}" for i in cert if i.id in ids]
    leaks += [f"question of {i.id}" for i in cert if plain(i.stem) in read]
    leaks += [f"scenario {sc.id}" for sc in cert_scenarios if sc.id in ids or plain(sc.text) in read]
    assert leaks == []


SCREENS = ("true_false", "multiple_choice", "multiple_select", "short_answer", "open_response", "scenario")


@pytest.mark.parametrize("size", list(a11y.SIZES))
def test_every_practice_screen_passes_axe_and_reflows(site, browser, size):
    """The list, the start screen, one checked question of each kind (and of a scenario, shown
    beside its story) and the summary: axe-core's WCAG A/AA rules and no sideways scrolling."""
    course, server = site
    pset = set_file(course, ALL)
    done: list[str] = []

    def check_question(item: dict, n: int) -> None:
        for screen in (item["kind"], "scenario" if item["scenario"] else None):
            if screen and screen not in done:
                if screen == "scenario":
                    expect(page.get_by_role("region", name="Situation")).to_be_visible()
                a11y.check_screen(page, "practice", size, f"03-question-{screen.replace('_', '-')}-checked")
                done.append(screen)

    with opened(browser, server, "", size) as page:
        page.get_by_role("heading", name="Practice questions").wait_for(timeout=LOAD)
        wait_focus(page, "Practice questions")
        a11y.check_screen(page, "practice", size, "01-sets")
        page.get_by_role("button", name=re.compile(rf"^{re.escape(pset['title'])} \(")).click()
        start_screen(page, pset)
        a11y.check_screen(page, "practice", size, "02-start")
        walk_every_question(page, pset, check_question)
        a11y.check_screen(page, "practice", size, "04-summary")
    assert sorted(done) == sorted(SCREENS)


def test_a_keyboard_only_practice_run(site, browser):
    """No mouse: from the list to the set, started with no clock, a question answered with Space
    and checked with Enter, then the summary; focus lands on each new screen's heading."""
    course, server = site
    pset = set_file(course, SMALL)
    with opened(browser, server) as page:
        page.get_by_role("heading", name="Practice questions").wait_for(timeout=LOAD)
        wait_focus(page, "Practice questions")
        tab_until(page, rf"^button {re.escape(pset['title'])} \(")
        page.keyboard.press("Enter")
        start_screen(page, pset)
        tab_until(page, r"^input:radio No clock$", 3)  # the clock choice comes first, no clock chosen
        assert page.get_by_role("radio", name="No clock", exact=True).is_checked()
        page.keyboard.press("Tab")
        assert focused(page) == "button Start practice"
        page.keyboard.press("Enter")
        question_screen(page, 1, 2)
        page.keyboard.press("Tab")  # into the answer group: its first choice
        assert re.match(r"^input:radio A\. ", focused(page)), focused(page)
        page.keyboard.press("Space")
        group = answer_group(page, 1)
        expect(group.get_by_role("radio").first).to_be_checked()
        page.keyboard.press("Tab")
        assert focused(page) == "button Check my answer", focused(page)
        page.keyboard.press("Enter")
        box = feedback(page)
        expect(box).to_contain_text(re.compile(r"^\W*(Right|Not right)\."))
        wait_focus(page, "Question 1 of 2")  # the question again, checked: focus back on its heading
        expect(group.get_by_role("radio").first).to_be_disabled()
        page.keyboard.press("Shift+Tab")  # the bar just above the question: Finish
        assert focused(page) == "button Finish and see my summary", focused(page)
        page.keyboard.press("Enter")
        wait_focus(page, "Your practice summary")
        page.get_by_role("table", name="Your answers by area").wait_for()
        page.keyboard.press("Tab")
        assert focused(page) == "button Practise this set again", focused(page)
        page.keyboard.press("Enter")
        start_screen(page, pset)  # and round again, still by keyboard


def test_an_unknown_set_lists_the_sets(site, browser):
    course, server = site
    titles = [set_file(course, n)["title"] for n in (ALL, SMALL)]
    with opened(browser, server, "?set=nope") as page:
        page.get_by_role("status").filter(has_text="There is no practice set called 'nope'").wait_for(timeout=LOAD)
        expect(page.get_by_role("heading", name="Practice questions")).to_be_visible()
        wait_focus(page, "Practice questions")
        for title in titles:
            expect(page.get_by_role("button",
                                    name=re.compile(rf"^{re.escape(title)} \(\d+ questions\)$"))).to_be_visible()
        timed = set_file(course, TIMED)["title"]  # a suggested clock is said with the set
        expect(page.get_by_role("button", name=f"{timed} (2 questions, 1 minute suggested)",
                                exact=True)).to_be_visible()
        expect(page.get_by_label("Access code")).to_have_count(0)
        page.get_by_role("button", name=re.compile(rf"^{re.escape(titles[1])} \(")).click()  # and one can be chosen
        start_screen(page, set_file(course, SMALL))
    # a link's name is shown as text, never as markup
    with opened(browser, server, "?set=%3Cb%20id%3Dx%3Enope%3C%2Fb%3E") as page:
        page.get_by_role("status").filter(has_text="There is no practice set called '<b "
                                                   "id=x>nope</b>'").wait_for(timeout=LOAD)
        expect(page.locator("b#x")).to_have_count(0)


def test_an_open_response_is_compared_with_what_graders_look_for(site, browser):
    """An empty box is not compared (it would fix the question unanswered); a written answer is
    shown beside the rubric's top level of each criterion and the author's reason, then fixed."""
    course, server = site
    pset = set_file(course, ALL)
    total = len(pset["items"])
    with opened(browser, server, f"?set={ALL}") as page:
        start_screen(page, pset)
        start_with_no_clock(page, pset)
        n = 1
        # an open response is the question graders compare (a short answer is a text box too, but checked)
        while not page.get_by_role("button", name="Compare with what graders look for").count():
            assert n < total, "no open response in the set"
            n += 1
            page.get_by_role("button", name="Next ▶").click()
            question_screen(page, n, total)
        item = shown_item(page, pset["items"])
        assert item["kind"] == "open_response" and pset["guides"][item["id"]]
        box = page.get_by_role("textbox", name=f"Answer to question {n}")
        compare = page.get_by_role("button", name="Compare with what graders look for")
        compare.click()
        page.get_by_role("alert").filter(has_text="Write your answer first").wait_for(timeout=WAIT)
        expect(box).to_be_enabled()
        expect(page.locator(".eb-feedback")).to_have_count(0)
        box.fill("I would listen to Bea first and ask what she wants to do.")
        compare.click()
        shown = feedback(page)
        expect(shown).to_contain_text("Compare your answer with what graders look for.")
        for line in pset["guides"][item["id"]]:
            expect(shown.get_by_role("listitem").filter(has_text=line)).to_have_count(1)
        expect(shown).to_contain_text(f"Why this matters: {' '.join(item['rationale'].split())}")
        expect(page.get_by_role("alert")).to_have_count(0)  # the screen's own message only
        expect(box).to_be_disabled()
        expect(box).to_have_value("I would listen to Bea first and ask what she wants to do.")
        page.get_by_role("button", name="Finish and see my summary").click()
        wait_summary(page)
        page.get_by_text("You compared 1 written answer(s) with what graders look for.").wait_for()


def test_a_study_group_link_opens_its_set_over_https(site, browser, tmp_path):
    """`practice serve --certfile --keyfile`: the page works over https/wss, and its link opens its set."""
    course, _server = site
    pset = set_file(course, SMALL)
    cert, key = tmp_path / "room.pem", tmp_path / "room.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    srv = PracticeServer(course.root, seats=1, args=("--certfile", str(cert), "--keyfile", str(key)), scheme="https")
    try:
        srv.start().wait_ready()
        ctx, page, outside = new_page(browser, ignore_https_errors=True, **a11y.SIZES["desktop"])
        try:
            page.goto(srv.url + f"?set={SMALL}")
            page.get_by_role("heading", name="Practice questions").or_(
                page.get_by_role("heading", name=pset["title"], exact=True)).wait_for(timeout=LOAD)  # the app runs
            page.get_by_role("heading", name=pset["title"], exact=True).wait_for(timeout=WAIT)  # the link's set
            start_with_no_clock(page, pset)
            assert outside == []
        finally:
            ctx.close()
    finally:
        srv.kill()
