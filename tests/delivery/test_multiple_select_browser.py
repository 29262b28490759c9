"""A "select all that apply" question as a candidate meets it, in a real browser.

The form is the one candidates really get: a tiny authored bank (one true/false, one multiple
choice and two multiple-select items, one scored all-or-nothing and one partial) assembled,
rendered by the kinds and released through nbgrader by ``exam-builder build``'s own ``build``,
with the questions and the choices shuffled as on a real form. The real ``exam-builder serve``
(Voila) serves it to Debian's chromium; the course's database is read back with SQLAlchemy to
check what the page claims; the submission is collected and scored by the objective grader.

Checked: the group's accessible structure (a fieldset named by its legend, native checkboxes
named by their choice text, "select all that apply" in words), ticking and unticking with the
keyboard alone and the canonical answer ("A,C"; nothing ticked: no answer) in ``eb_response``,
the question list and the review counting it, axe-core and reflow at three sizes, and the
points the grader gives equal to the kind's ``score`` under both scoring rules.
"""
from __future__ import annotations

import io
import re
import time

import a11y
import nbformat
import pytest
from coursekit import approve_offered_items, new_course_dir
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from rich.console import Console
from serverkit import Server, focused, make_site, open_sign_in
from sqlalchemy import select

from exam_builder.assembly.build import build
from exam_builder.assembly.forms import load_forms
from exam_builder.course import Course
from exam_builder.delivery.collect import collect
from exam_builder.grading.objective import grade_exam
from exam_builder.kinds import kind_for
from exam_builder.kinds.multiple_select import ALL_OR_NOTHING, PARTIAL
from exam_builder.model.item import LABELS, Kind
from exam_builder.model.manifest import Manifest, ManifestItem
from exam_builder.records.models import Response, Sitting

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

EXAM = "cps"  # serverkit's make_site opens sittings of the delivery tests' exam id
LOAD = 90_000
SAVE_SECONDS = 30
MS = kind_for(Kind.multiple_select)

HEAD = "competency: {comp} · module: 2 · difficulty: medium · status: live · author: A. Author · reviewer: R. Reviewer"
BANK = [
    f"**[TF] ms-tf-01** · {HEAD.format(comp='peer-support')}\n\n"
    "A peer specialist shares their own recovery story when it may help the other person.\n\n"
    "- [x] True\n- [ ] False\n\n> **Rationale:** Sharing is done with purpose, for the other person.",
    f"**[MC] ms-mc-01** · {HEAD.format(comp='peer-support')}\n\n"
    "What makes peer support mutual?\n\n"
    "- [x] Both people learn from each other\n- [ ] The peer gives advice\n- [ ] The staff decide\n\n"
    "> **Rationale:** Mutuality means both people give and receive.",
    f"**[MS] ms-ms-aon** · {HEAD.format(comp='peer-support')} · points: 2 · scoring: all-or-nothing\n\n"
    "Which of these are signs that a conversation is mutual?\n\n"
    "- [x] Both people decide what to talk about\n- [ ] The specialist steers toward the treatment plan\n"
    "- [x] Each person can say no to a question\n- [ ] Only one person asks questions\n\n"
    "> **Rationale:** Mutual conversations share power over topic and pace.",
    f"**[MS] ms-ms-part** · {HEAD.format(comp='in-but-not-of')} · points: 2 · scoring: partial\n\n"
    "Which words keep to recovery language?\n\n"
    "- [ ] She is non-compliant\n- [x] She chose a different plan\n- [ ] She is a frequent flyer\n"
    "- [x] He is a person living with depression\n\n"
    "> **Rationale:** Recovery language puts the person first and respects their choices.",
]
BLUEPRINT = """\
title: CPS written exam with select all that apply
forms: 1
seed: 7
time_limit_minutes: 180
cut_score: 70%
points: {true_false: 1, multiple_choice: 1, multiple_select: 2}
counts:
  peer-support: {true_false: 1, multiple_choice: 1, multiple_select: 1}
  in-but-not-of: {multiple_select: 1}
"""
CANDIDATES = {"keyboard": "c001", "desktop": "c002", "phone": "c003", "zoom200": "c004", "note": "c005"}


def write_bank(root) -> None:
    folder = root / "source" / EXAM
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text, id=f"c{i}") for i,
                                         text in enumerate(BANK)])
    nbformat.write(nb, str(folder / "items.ipynb"))
    (folder / "blueprint.yaml").write_text(BLUEPRINT, encoding="utf-8")


@pytest.fixture(scope="module")
def ms_template(tmp_path_factory):
    """A course whose one form was assembled from the bank above and released by nbgrader."""
    root = new_course_dir(tmp_path_factory.mktemp("ms-template") / "course")
    write_bank(root)
    course = Course(root)
    course.db.upgrade()
    approve_offered_items(course)
    build(course, EXAM, actor="test-author", console=Console(file=io.StringIO()))
    course.db.dispose()
    return root


@pytest.fixture(scope="module")
def site(ms_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("ms-screens") / "course"
    course, codes = make_site(ms_template, root, [(c, 180) for c in CANDIDATES.values()],
                              config="c.DeliverySettings.sign_in_delay_seconds = 0.1")
    with course.db.read() as s:
        ((_form, manifest),) = load_forms(s, EXAM)
    server = Server(root)
    server.start()
    yield course, server, codes, manifest
    server.kill()
    course.db.dispose()


def ms_entry(manifest: Manifest, scoring: str) -> ManifestItem:
    return next(e for e in manifest.items if e.kind is Kind.multiple_select and e.scoring == scoring)


def choice_texts(course, entry: ManifestItem) -> list[str]:
    """The choice texts in the order this form shows them (read from the released notebook)."""
    from exam_builder.delivery.form_view import load_form_view, released_notebook_path

    with course.db.read() as s:
        ((_form, manifest),) = load_forms(s, EXAM)
    view = load_form_view(released_notebook_path(course, manifest.assignment))
    item = view.item(entry.item_id)
    assert item.labels == tuple(LABELS[:len(entry.option_order)])
    return [c.text for c in item.offered]


# -- the page -----------------------------------------------------------------------------
def wait_focus_on(page, text: str) -> None:
    page.wait_for_function("t => document.activeElement.tagName === 'H2' && "
                           "document.activeElement.innerText.trim().startsWith(t)", arg=text)


def tab_until(page, pattern: str, limit: int, back: bool = False) -> int:
    for n in range(1, limit + 1):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if re.search(pattern, focused(page)):
            return n
    raise AssertionError(f"{pattern!r} not reached in {limit} presses (at {focused(page)!r})")


def sign_in_and_start(page, code: str, total: int) -> None:
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Yes, this is me").click()
    page.get_by_role("button", name="Start the exam").click()
    wait_focus_on(page, f"Question 1 of {total}")


def go_to(page, number: int, total: int) -> None:
    """Through the question list (folded behind its button on a narrow screen)."""
    toggle = page.get_by_role("button", name=re.compile(r"^Questions \(\d+ of \d+ answered\)"))
    if toggle.is_visible():
        toggle.click()
    page.locator("nav.eb-nav button.eb-nav-item").nth(number - 1).click()
    question_ready(page, number, total)


def question_ready(page, number: int, total: int) -> None:
    wait_focus_on(page, f"Question {number} of {total}")
    page.get_by_role("group", name=f"Answer to question {number}").wait_for()


def group(page, number: int):
    return page.get_by_role("group", name=f"Answer to question {number}")


# -- the database -------------------------------------------------------------------------
def journal(course, sitting_id: int, item_id: str) -> list[str | None]:
    """Every value ``eb_response`` holds for one question of a sitting, oldest first."""
    with course.db.read() as s:
        return list(s.execute(select(Response.value).where(Response.sitting_id == sitting_id,
                                                           Response.item_id == item_id)
                              .order_by(Response.id)).scalars())


def wait_saved(course, sitting_id: int, item_id: str, rows_before: int, expected: str | None) -> list[str | None]:
    """Until the journal has a new row for the question whose value is ``expected`` (the kernel
    commits each change at once; the page's "saved" line says so, but keeps its text when the
    same question is saved again within a second, so the database is what is waited on)."""
    deadline = time.monotonic() + SAVE_SECONDS
    while True:
        rows = journal(course, sitting_id, item_id)
        if len(rows) > rows_before and rows[-1] == expected:
            return rows
        assert time.monotonic() < deadline, f"{item_id}: {expected!r} not saved; the journal holds {rows!r}"
        time.sleep(0.2)


def nav_answered(page, number: int) -> bool:
    return "eb-answered" in (page.locator("nav.eb-nav button.eb-nav-item").nth(number - 1).get_attribute("class") or "")


# -- the tests ----------------------------------------------------------------------------
def test_the_form_has_both_scoring_rules(site):
    """The built form carries both scoring rules, keys as sorted labels; its release no key."""
    course, _server, _codes, manifest = site
    aon, part = ms_entry(manifest, ALL_OR_NOTHING), ms_entry(manifest, PARTIAL)
    for e in (aon, part):
        assert len(e.key.split(",")) == 2 and e.key == ",".join(sorted(e.key.split(",")))
    released = (course.release_dir / manifest.assignment / f"{manifest.assignment}.ipynb").read_text()
    assert "BEGIN SOLUTION" not in released and "HIDDEN TESTS" not in released


def test_structure_and_a_keyboard_only_answer_reach_the_database(site, browser):
    """Tab to the first checkbox, Space, Tab, Tab, Space: "A,C" is stored; unticking changes it;
    none ticked is no answer; the question list and the review count it; submit; the grader's
    points are the kind's under both scoring rules."""
    course, server, codes, manifest = site
    sid, code = codes[CANDIDATES["keyboard"]]
    total = len(manifest.items)
    aon, part = ms_entry(manifest, ALL_OR_NOTHING), ms_entry(manifest, PARTIAL)
    ctx, page, outside = open_sign_in(browser, server.url, a11y.SIZES["desktop"])
    sign_in_and_start(page, code, total)
    go_to(page, aon.number, total)

    # -- structure: a fieldset named by its legend, native checkboxes named by their text --
    box = group(page, aon.number)
    assert box.evaluate("e => e.tagName") == "FIELDSET"
    assert box.locator("legend").inner_text().strip().startswith(f"Answer to question {aon.number}")
    texts = choice_texts(course, aon)
    boxes = box.get_by_role("checkbox")
    assert boxes.count() == len(texts) and box.get_by_role("radio").count() == 0
    for i, text in enumerate(texts):
        name = f"{LABELS[i]}. {text}"
        assert box.get_by_role("checkbox", name=name, exact=True).count() == 1, name
        assert boxes.nth(i).evaluate("e => e.type === 'checkbox' && e.closest('label') !== null")
    assert not any(boxes.nth(i).is_checked() for i in range(len(texts)))

    # -- keyboard only: Tab to the first box, Space ticks it, Tab to C, Space ----------------
    rows = len(journal(course, sid, aon.item_id))
    assert tab_until(page, r"^input:checkbox A\. ", 4) <= 4
    page.keyboard.press("Space")
    page.get_by_text(f"Answer to question {aon.number} saved").wait_for()
    rows = len(wait_saved(course, sid, aon.item_id, rows, "A"))
    page.keyboard.press("Tab")
    assert focused(page).startswith(f"input:checkbox B. {texts[1]}")
    page.keyboard.press("Tab")
    assert focused(page).startswith(f"input:checkbox C. {texts[2]}")
    page.keyboard.press("Space")
    rows = len(wait_saved(course, sid, aon.item_id, rows, "A,C"))  # the canonical spelling
    assert [boxes.nth(i).is_checked() for i in range(len(texts))] == [True, False, True, False]
    assert nav_answered(page, aon.number)
    page.get_by_role("button", name=f"{aon.number} answered", exact=True).wait_for()

    # -- untick A: the stored value changes; untick C too: no answer -------------------------
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert focused(page).startswith(f"input:checkbox A. {texts[0]}")
    page.keyboard.press("Space")
    rows = len(wait_saved(course, sid, aon.item_id, rows, "C"))
    assert nav_answered(page, aon.number)
    tab_until(page, r"^input:checkbox C\. ", 2)
    page.keyboard.press("Space")
    rows = len(wait_saved(course, sid, aon.item_id, rows, None))  # nothing ticked is no answer, not ""
    assert not any(boxes.nth(i).is_checked() for i in range(len(texts)))
    page.wait_for_function("n => !document.querySelectorAll('nav.eb-nav button.eb-nav-item')[n - 1]"
                           ".classList.contains('eb-answered')", arg=aon.number)
    assert page.locator("button.eb-nav-toggle").text_content() == f"Questions (0 of {total} answered)"

    # -- the key, ticked with the keyboard: walk the group, Space where a box must change -----
    keys = set(aon.key.split(","))
    tab_until(page, r"^input:checkbox A\. ", 4, back=True)
    for i in range(len(texts)):
        if i:
            page.keyboard.press("Tab")
        assert focused(page).startswith(f"input:checkbox {LABELS[i]}. ")
        if LABELS[i] in keys:
            page.keyboard.press("Space")
    wait_saved(course, sid, aon.item_id, rows, aon.key)

    # -- the partial-credit question: one key of two ticked, with the mouse this time --------
    go_to(page, part.number, total)
    first_key = part.key.split(",")[0]
    k = LABELS.index(first_key)
    rows = len(journal(course, sid, part.item_id))
    group(page, part.number).get_by_role("checkbox", name=f"{first_key}. {choice_texts(course, part)[k]}").check()
    wait_saved(course, sid, part.item_id, rows, first_key)

    # -- the review counts both as answered; submit ---------------------------------------
    page.get_by_role("button", name="Review and submit").click()
    wait_focus_on(page, "Review and submit")
    others = sorted(e.number for e in manifest.items if e.kind is not Kind.multiple_select)
    page.get_by_text(f"You have answered 2 of {total} questions.").wait_for()
    page.get_by_text(f"You have not answered {len(others)} question(s): {', '.join(map(str, others))}").wait_for()
    page.get_by_role("button", name="Submit my exam now").click()
    wait_focus_on(page, "Your exam is in")
    with course.db.read() as s:
        assert s.get(Sitting, sid).status == "submitted"
    assert outside == []
    ctx.close()

    # -- collected and scored by the objective grader: the kind's points, both rules -------
    collect(course, EXAM)
    report = grade_exam(course, EXAM, actor="tester", workers=1, write_copies=False)
    assert report.flagged == 0 and not report.set_aside
    gb = course.db.gradebook()
    try:
        nb = gb.find_submission_notebook(manifest.assignment, manifest.assignment, CANDIDATES["keyboard"])
        got = {g.name: g.auto_score for g in nb.grades}
    finally:
        gb.close()
    assert got[aon.grade_id] == MS.score(aon.key, aon.key, aon.points, aon.scoring) == aon.points == 2
    assert got[part.grade_id] == MS.score(first_key, part.key, part.points, part.scoring) == 1.0
    for e in manifest.items:
        if e.kind is not Kind.multiple_select:
            assert got[e.grade_id] == 0  # unanswered


@pytest.mark.parametrize("size", list(a11y.SIZES))
def test_the_question_passes_axe_and_reflows(site, browser, size):
    course, server, codes, manifest = site
    sid, code = codes[CANDIDATES[size]]
    total = len(manifest.items)
    aon = ms_entry(manifest, ALL_OR_NOTHING)
    ctx, page, outside = open_sign_in(browser, server.url, a11y.SIZES[size])
    sign_in_and_start(page, code, total)
    go_to(page, aon.number, total)
    a11y.check_screen(page, "candidate", size, "12-multiple-select")
    texts = choice_texts(course, aon)
    rows = len(journal(course, sid, aon.item_id))
    group(page, aon.number).get_by_role("checkbox", name=f"B. {texts[1]}").check()
    wait_saved(course, sid, aon.item_id, rows, "B")
    page.get_by_text(f"Answer to question {aon.number} saved").wait_for()
    a11y.check_screen(page, "candidate", size, "13-multiple-select-ticked")
    page.get_by_role("button", name="Clear my answer").click()  # the Clear button empties every box
    wait_saved(course, sid, aon.item_id, rows + 1, None)
    page.wait_for_function("n => document.querySelectorAll(`nav.eb-nav button.eb-nav-item`)[n - 1]"
                           " && !document.querySelector('fieldset.eb-choices input:checked')", arg=aon.number)
    assert outside == []
    ctx.close()


def test_the_question_says_select_all_that_apply(site, browser):
    """WCAG 3.3.2: the instruction is on the question screen in words, not only implied by checkboxes."""
    course, server, codes, manifest = site
    _sid, code = codes[CANDIDATES["note"]]
    total = len(manifest.items)
    aon = ms_entry(manifest, ALL_OR_NOTHING)
    ctx, page, _ = open_sign_in(browser, server.url, a11y.SIZES["desktop"])
    sign_in_and_start(page, code, total)
    go_to(page, aon.number, total)
    try:
        try:
            page.get_by_text(re.compile("select all that apply", re.I)).first.wait_for(timeout=10_000)
        except PlaywrightTimeout:
            raise AssertionError("the question screen does not say 'select all that apply'") from None
        # said on entering the group
        assert "select all that apply" in group(page, aon.number).locator("legend").inner_text()
    finally:
        ctx.close()
