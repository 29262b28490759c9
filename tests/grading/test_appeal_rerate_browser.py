"""A score appeal re-rated in the grader's desk, and the coordinator's recourse screens by keyboard alone.

Real browser (Debian's chromium), real staff apps (`exam-builder grader` and `exam-builder coordinator`,
Voila) on one course: the grading tests' course, scored, rated by Ann and Ben, outcomes recorded, a
candidate's comment on a question. Two score appeals: one sent to Cara Rater (open), one already
re-rated by Dee Rater (through ``appeals.rerate``, the path both the CLI and the desk take).

* The grader's desk: Dan, another grader, sees nothing of the appeal. Cara signs in and is told
  "Appeal re-ratings waiting for you: N"; by keyboard alone (Tab, Space, arrow keys, Enter: no mouse) she
  opens the re-rating and rates every answer. Each shows the scenario (as the candidate read it),
  the question, the answer and the rubric; never the earlier ratings or scores, the candidate's
  name or the appeal's words. Every re-rating is in ``eb_appeal_rating``, audited as Cara
  (self-declared). axe-core and the reflow check at desktop, phone and 200% zoom; there, every level and
  box scrolls clear of the Save bar and a save's confirmation shows whole. Answers left blank are not
  sent (they stay at 0): no empty Answer box. Questions are named as the desk's list names them.
* The coordinator's desk, by keyboard alone: Key validation (accept another answer, the impact read
  before anything changes, then applied) and Appeals (the re-rating shown done, an appeal recorded,
  one decided). At every Tab stop the focus ring shows whole; the stops come in the order the screen
  reads; after each action focus stays on the page, where the next step starts.
"""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import a11y
import gradingkit as kit
import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from test_grading_rating import rate_everything

from exam_builder import clock
from exam_builder.course import Course
from exam_builder.grading import appeals
from exam_builder.grading.grader_app import GraderSession
from exam_builder.grading.objective import grade_exam
from exam_builder.grading.queue import RatingQueue, load_rubric_for, open_items
from exam_builder.grading.results import compute_results, record_outcomes
from exam_builder.kinds import keyed_entries
from exam_builder.model.item import LABELS, Kind
from exam_builder.model.manifest import Manifest
from exam_builder.records.models import (
    AppealRating,
    AuditEntry,
    Candidate,
    Form,
    ItemComment,
    KeyDecision,
    Rating,
    Response,
    Sitting,
    utcnow,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))
from serverkit import StaffServer, focused  # noqa: E402
from test_grading_browser import message_whole, scrolled_clear  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
WORDS = "I explained every step of the plan and got almost nothing for it."
COMMENT = "Two of these answers look right to me: the stem does not say which comes first."
CARA, DEE, COORDINATOR = "Cara Rater", "Dee Rater", "Dana Coordinator"


def _mid(rubric) -> dict[str, float]:
    return {c.id: c.levels[1].points for c in rubric.criteria}


@pytest.fixture(scope="module")
def site(graded_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("appeal-rerate") / "course"
    shutil.copytree(graded_template, root)
    course = Course(root)
    grade_exam(course, kit.EXAM, actor="staff", workers=1)
    for item, _r in open_items(course, kit.EXAM):
        RatingQueue(course, kit.EXAM, item).settle_blanks("staff")
        rate_everything(course, item, graders=("Ann", "Ben"), levels=_mid)
    record_outcomes(course, compute_results(course, kit.EXAM), "staff")
    results = [r for r in compute_results(course, kit.EXAM) if r.open_response.score]
    today = clock.wall(utcnow(), course.zone).date()
    cara = appeals.record(course, results[0].sitting_id, "score", WORDS, today, COORDINATOR)
    appeals.assign_rater(course, cara, CARA, COORDINATOR)
    dee = appeals.record(course, results[1].sitting_id, "score", "My answers deserve more.", today, COORDINATOR)
    appeals.assign_rater(course, dee, DEE, COORDINATOR)
    for x in appeals.to_rerate(course, dee, DEE):  # already re-rated: the coordinator's screen says so
        rubric = load_rubric_for(course, x.rubric_id)
        appeals.rerate(course, dee, DEE, x.item_id, {c.id: c.max_points for c in rubric.criteria})
    with course.db.transaction() as s:  # a candidate's comment on a question, so key validation has a line
        sit = s.execute(select(Sitting).order_by(Sitting.id)).scalars().first()
        m = Manifest.model_validate(s.get(Form, sit.form_id).manifest)
        entry = next(e for e in keyed_entries(m) if e.kind is Kind.multiple_choice)
        s.add(ItemComment(sitting_id=sit.id, item_id=entry.item_id, text=COMMENT, recorded_at=sit.started_at))
        given = [r.value for r in s.execute(select(Response).join(Sitting, Sitting.id == Response.sitting_id)
                                             .where(Sitting.form_id == sit.form_id,
                                                    Response.item_id == entry.item_id)).scalars()
                 if r.value not in (None, entry.key)]
        other = max(set(given), key=given.count) if given else \
            next(lab for lab in LABELS[:len(entry.option_order)] if lab != entry.key)
        names = [c.name for c in s.execute(select(Candidate)).scalars()]
        last_names = [c.last_name for c in s.execute(select(Candidate)).scalars()]
    info = dict(cara=cara, dee=dee, cara_sitting=results[0].sitting_id, dee_sitting=results[1].sitting_id,
                other_sitting=results[2].sitting_id, item=entry.item_id, form=m.form, accept=other,
                names=names + last_names, name=results[0].candidate_name)
    grader = StaffServer(root, "grader", "--exam", kit.EXAM).start()
    coordinator = StaffServer(root, "coordinator", "--exam", kit.EXAM).start()
    yield course, grader, coordinator, info
    grader.kill()
    coordinator.kill()
    course.db.dispose()


# -- the keyboard ------------------------------------------------------------------------------------
_RING_JS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return 'nothing has focus (it was lost to the page)';
  for (const r of [e, e.closest('.eb-choice')].filter(Boolean)) {
    const cs = getComputedStyle(r);
    if (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2) return '';
  }
  return `no focus ring on ${e.tagName} ${(e.innerText || e.value || '').slice(0, 40)}`;
}"""


def ring(page) -> str:
    """'' when the focused control shows its ring (WCAG 2.4.7), else what is wrong."""
    return page.evaluate(_RING_JS)


def tab_to(page, pattern: str, limit: int = 20, key: str = "Tab") -> list[str]:
    """Press Tab until the focused control matches ``pattern``; every stop on the way shows a whole
    focus ring. The stops, in order (what a keyboard user meets)."""
    stops = []
    for _ in range(limit):
        page.keyboard.press(key)
        stops.append(focused(page))
        assert not (why := ring(page)), f"{why} (after {stops})"
        assert not (cut := a11y.ring_cut(page)), cut
        if re.search(pattern, stops[-1]):
            return stops
    raise AssertionError(f"{pattern!r} not reached in {limit} presses of {key}: {stops}")


def arrow_to(page, pattern: str, limit: int = 12) -> None:
    """Arrow keys through a radio group until the focused (and so chosen) radio matches ``pattern``."""
    for _ in range(limit):
        if re.search(pattern, focused(page)):
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{pattern!r} not reached by the arrow keys (at {focused(page)!r})")


def focus_on_heading(page, start: str) -> None:
    page.wait_for_function("t => document.activeElement && document.activeElement.tagName === 'H2' && "
                           "document.activeElement.innerText.trim().startsWith(t)", arg=start)


def keep_focus(page) -> None:
    """Focus is still on a control of the page (not lost to the page's body) after an action (call it once
    the action's last change is on the page)."""
    assert not (why := ring(page)) or why.startswith("no focus ring on H2"), why


def sign_in_by_keyboard(page, name: str) -> None:
    tab_to(page, r"^input:text Your name")
    page.keyboard.type(name)
    page.keyboard.press("Enter")


def open_page(browser, url: str, size: str):
    ctx = browser.new_context(**a11y.SIZES[size])
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_label("Your name").wait_for()
    return ctx, page


# -- the grader's desk ---------------------------------------------------------------------------------
def test_the_assigned_rater_rerates_the_appeal_blind_by_keyboard_and_no_one_else_sees_it(browser, site):
    course, grader, _coord, info = site
    written = appeals.to_rerate(course, info["cara"], CARA)
    n = len(written)
    label = GraderSession(course, kit.EXAM).label  # the desk's one naming: "written question ps-or-03"
    assert n >= 2  # one answer by the levels' radios, one by the shortcut keys
    with course.db.read() as s:
        raters = {r.rater for r in s.execute(select(Rating).where(Rating.sitting_id == info["cara_sitting"]))
                  .scalars()}
    secrets = [*raters, info["name"], WORDS, COORDINATOR, "The two ratings"]

    ctx, page = open_page(browser, grader.url, "desktop")
    try:  # Dan, another grader: nothing of the appeal, not even a count
        page.get_by_label("Your name").fill("Dan Grader")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Choose a question").wait_for()
        page.get_by_text("Signed in as Dan Grader.").wait_for()
        body = page.locator("body").inner_text()
        assert "ppeal" not in body, body
    finally:
        ctx.close()

    ctx, page = open_page(browser, grader.url, "desktop")
    try:
        sign_in_by_keyboard(page, CARA)
        focus_on_heading(page, f"Appeal re-ratings waiting for you: {n}")  # said first, focus on it
        page.get_by_role("heading", name="Choose a question").wait_for()  # her questions are still there
        a11y.check_screen(page, "grader", "desktop", "appeal-waiting")
        tab_to(page, r"^button Re-rate the appeal answers$", 3)
        page.keyboard.press("Enter")
        focus_on_heading(page, f"Appeal re-rating 1 of {n}: {label(written[0].item_id)}")
        a11y.check_screen(page, "grader", "desktop", "appeal-rerate")
        for k, x in enumerate(written, start=1):
            page.get_by_role("heading", name=f"Appeal re-rating {k} of {n}: {label(x.item_id)}").wait_for()
            assert label(x.item_id) == f"written question {x.item_id}"  # its code, never a position
            assert page.locator(".eb-response").inner_text().strip()  # never an empty Answer box (blanks stay 0)
            body = page.locator("body").inner_text()
            assert not [t for t in secrets if t in body], [t for t in secrets if t in body]
            assert " ".join(x.question.split()[:4]) in " ".join(page.locator(".eb-question").inner_text().split())
            assert " ".join(x.answer.split()[:6]) in " ".join(page.locator(".eb-response").inner_text().split())
            if x.item_id in kit.SCENARIOS:  # the scenario above the question, as the candidate read it
                region = page.get_by_role("region", name="Scenario")
                assert kit.SCENARIOS[x.item_id][0] in region.inner_text()
                s_box, q_box = region.bounding_box(), page.locator(".eb-question").bounding_box()
                assert s_box["y"] + s_box["height"] <= q_box["y"] + 1
            else:
                assert page.get_by_role("region", name="Scenario").count() == 0
            rubric = load_rubric_for(course, x.rubric_id)
            if k == 2:  # the shortcut keys: one level number per criterion, Enter saves; focus stays in the box
                tab_to(page, r"^textarea Shortcut keys", 40)
                page.keyboard.type("2" * len(rubric.criteria))
                page.get_by_text(f"Score: {sum(_mid(rubric).values()):g} of {rubric.max_points:g}").wait_for()
                page.keyboard.press("Enter")
                if k < n:
                    page.get_by_role("heading", name=re.compile(f"^Appeal re-rating {k + 1} of {n}")).wait_for()
                    assert focused(page).startswith("textarea Shortcut keys")
                    tab_to(page, r"^button Back to the questions", 20, key="Shift+Tab")  # back up to the top
            else:  # each criterion's radios: Tab into the group, Space chooses, the arrow keys move to level 2
                stops = []
                for _c in rubric.criteria:
                    stops += tab_to(page, r"^input:radio ", 6)
                    page.keyboard.press("Space")
                    arrow_to(page, r"^input:radio 2 ")
                page.get_by_text("✔ Chosen: level 2").nth(len(rubric.criteria) - 1).wait_for()
                stops += tab_to(page, r"^textarea Comment for the record", 6)
                page.keyboard.type(f"re-rated answer {k}")
                stops += tab_to(page, r"^button Save the re-rating", 6)
                # the order is the screen's: back, each criterion's levels (and its anchors), comment, keys, Save
                kinds = [re.sub(r" .*", "", s) for s in stops]
                assert kinds[-3:] == ["textarea", "textarea", "button"], stops
                assert kinds.count("input:radio") == len(rubric.criteria), stops
                if k == 1:
                    assert stops[0].startswith("button Back to the questions"), stops
                page.keyboard.press("Enter")
                if k < n:
                    focus_on_heading(page, f"Appeal re-rating {k + 1} of {n}")  # the next answer, from its top
            if k < n:
                page.get_by_text(f"Saved. Your re-rating of {label(x.item_id)} is recorded.",
                                 exact=True).wait_for()
        # all done: back to the questions, told so; the notice is gone
        focus_on_heading(page, "Choose a question")
        page.get_by_text("Every appeal answer sent to you is re-rated").wait_for()
        assert page.get_by_role("heading", name=re.compile("Appeal re-ratings waiting")).count() == 0
    finally:
        ctx.close()

    with course.db.read() as s:
        rows = {r.item_id: (r.rater, r.score, r.comment) for r in s.execute(
            select(AppealRating).where(AppealRating.appeal_id == info["cara"])).scalars()}
        audited = [(e.actor, e.details.get("identity"), e.details["item"]) for e in s.execute(
            select(AuditEntry).where(AuditEntry.entity == "appeal_rating", AuditEntry.actor == CARA)
            .order_by(AuditEntry.id)).scalars()]
    assert set(rows) == {x.item_id for x in written}
    for k, x in enumerate(written, start=1):
        assert rows[x.item_id] == (CARA, sum(_mid(load_rubric_for(course, x.rubric_id)).values()),
                                   "" if k == 2 else f"re-rated answer {k}")
    assert audited == [(CARA, "self-declared", x.item_id) for x in written]
    assert appeals.rerating_states(course, kit.EXAM)[info["cara"]].finished


@pytest.mark.parametrize("size", ["phone", "zoom200"])
def test_the_appeal_rerating_screens_pass_axe_on_a_phone_and_at_200_percent(browser, site, size):
    course, grader, _coord, info = site
    rater = f"Eve {size}"  # an appeal of their own, so the screens are there whatever ran before
    today = clock.wall(utcnow(), course.zone).date()
    aid = appeals.record(course, info["other_sitting"], "score", "Please look again.", today, COORDINATOR)
    appeals.assign_rater(course, aid, rater, COORDINATOR)
    ctx, page = open_page(browser, grader.url, size)
    try:
        page.get_by_label("Your name").fill(rater)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name=re.compile(r"^Appeal re-ratings waiting for you: \d")).wait_for()
        a11y.check_screen(page, "grader", size, "appeal-waiting")
        page.get_by_role("button", name="Re-rate the appeal answers").click()
        page.get_by_role("heading", name=re.compile(r"^Appeal re-rating 1 of \d")).wait_for()
        a11y.check_screen(page, "grader", size, "appeal-rerate")
        assert not (hidden := scrolled_clear(page)), hidden  # every level and box scrolls clear of the Save bar
        # a save by the shortcut keys: the confirmation in the bar is whole (it was cut on a phone)
        waiting = appeals.waiting_for(course, kit.EXAM, rater)
        keys = page.get_by_role("textbox", name=re.compile(r"^Shortcut keys"))  # the scoring panel's own is hidden
        keys.click()
        keys.press_sequentially("2" * len(load_rubric_for(course, waiting[0].rubric_id).criteria))
        keys.press("Enter")
        said = f"Saved. Your re-rating of {GraderSession(course, kit.EXAM).label(waiting[0].item_id)} is recorded."
        page.locator(".eb-bar-message:visible", has_text=said).wait_for()  # not the live region's copy
        assert not (why := message_whole(page, said)), why
    finally:
        ctx.close()


# -- the coordinator's desk ----------------------------------------------------------------------------
def test_the_coordinator_decides_a_key_and_an_appeal_by_keyboard_alone(browser, site):
    course, _grader, coord, info = site
    ctx, page = open_page(browser, coord.url, "desktop")
    try:
        sign_in_by_keyboard(page, COORDINATOR)
        focus_on_heading(page, "Accommodation requests waiting")

        # Key validation: the switcher's button, Enter; focus on the screen's heading
        tab_to(page, r"^button Key validation$", 12, key="Shift+Tab")
        page.keyboard.press("Enter")
        focus_on_heading(page, "Key validation: ")
        stops = tab_to(page, r"^input:radio ", 4)
        arrow_to(page, rf"^input:radio {re.escape(info['item'])} ")
        stops += tab_to(page, r"^input:radio Keep the key", 2)
        arrow_to(page, r"^input:radio Accept another answer as well")
        stops += tab_to(page, r"^input:text Other answer to accept", 2)
        page.keyboard.type(info["accept"])
        stops += tab_to(page, r"^input:text On form", 2)
        page.keyboard.type(info["form"])
        stops += tab_to(page, r"^input:text Reason \(kept with the decision\)", 2)
        page.keyboard.type("both orders are right, as the candidate said")
        stops += tab_to(page, r"^button Record and show the impact", 2)
        assert len(stops) == 6, stops  # one stop per control, in the screen's order
        page.keyboard.press("Enter")
        page.get_by_role("status").filter(has_text="Nothing has changed yet").wait_for()
        page.get_by_role("heading", name="Impact before it is applied").wait_for()  # read before applying
        keep_focus(page)
        with course.db.read() as s:
            d = s.execute(select(KeyDecision)).scalar_one()
            assert d.applied_at is None and d.decided_by == COORDINATOR
        tab_to(page, r"^button Apply this decision", 2)
        page.keyboard.press("Enter")
        page.locator("p[role=status]").filter(has_text=re.compile(r"Decision \d+ applied")).wait_for()
        expect(page.get_by_role("button", name="Apply this decision")).to_be_disabled()
        # the disabled button cannot keep focus: it goes beside it, to the next step (Close key validation)
        page.wait_for_function("() => document.activeElement.innerText.trim() === 'Close key validation'")
        keep_focus(page)  # not lost with the button that no longer applies
        with course.db.read() as s:
            assert s.execute(select(KeyDecision)).scalar_one().applied_at is not None

        # Appeals: the switcher again, by Shift+Tab from where the last action left focus
        tab_to(page, r"^button Appeals$", 40, key="Shift+Tab")
        page.keyboard.press("Enter")
        focus_on_heading(page, "Appeals: ")
        row = page.get_by_role("row").filter(has_text=DEE)
        assert re.search(rf"done: \d+ of \d+ written answer\(s\) re-rated by {DEE}; re-rated [\d.]+ of [\d.]+ "
                         r"points \(before: [\d.]+\)", row.inner_text()), row.inner_text()
        # record an appeal by keyboard
        tab_to(page, r"^input:number Sitting number", 4)
        page.keyboard.press("Control+A")
        page.keyboard.type(str(info["other_sitting"]))
        tab_to(page, r"^input:radio The score", 2)
        tab_to(page, r"^textarea The candidate's own words", 2)
        page.keyboard.type("The room was cold and my written answer was marked too low.")
        tab_to(page, r"^input:date Received on", 2)
        today = clock.wall(utcnow(), course.zone).date()
        page.keyboard.type(today.strftime("%m%d%Y"))
        tab_to(page, r"^button Record the appeal", 3)
        page.keyboard.press("Enter")
        page.locator("p[role=status]").filter(has_text=re.compile(r"Appeal \d+ recorded")).wait_for()
        keep_focus(page)
        # decide Dee's appeal (re-rated): choose it, upheld, a reason, Record the decision
        tab_to(page, r"^input:radio Appeal \d+: sitting", 3)
        arrow_to(page, rf"^input:radio Appeal {info['dee']}: sitting")
        stops = tab_to(page, r"^input:radio Denied", 4)
        assert [re.sub(r" .*", "", s) for s in stops] == ["input:text", "button", "input:radio"], stops
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowUp")
        assert focused(page).startswith("input:radio Upheld")
        tab_to(page, r"^input:checkbox Void the sitting", 2)
        tab_to(page, r"^input:text Reason \(given in the candidate's letter\)", 2)
        page.keyboard.type("the re-rating by a rater who had not rated the answers gives full marks")
        tab_to(page, r"^button Record the decision", 2)
        page.keyboard.press("Enter")
        decided = re.compile(rf"Appeal {info['dee']} upheld: \d+ score")
        page.locator("p[role=status]").filter(has_text=decided).wait_for()
        expect(page.get_by_role("row").filter(has_text=DEE)).to_contain_text("upheld")
        keep_focus(page)
        a11y.check_screen(page, "coordinator", "desktop", "appeals-keyboard")
    finally:
        ctx.close()
    with course.db.read() as s:
        acts = [(str(a), actor, det.get("identity")) for a, actor, det in s.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.details)
            .where(AuditEntry.action.in_(["key.decision", "key.applied", "appeal.decided"]),
                   AuditEntry.actor == COORDINATOR))]
        recorded = [(e.actor, e.details["sitting"]) for e in s.execute(
            select(AuditEntry).where(AuditEntry.action == "appeal.recorded")).scalars()
            if e.details.get("identity") == "self-declared"]  # at the desk, not the fixture's
        assert recorded == [(COORDINATOR, info["other_sitting"])]
    assert sorted(acts) == [("appeal.decided", COORDINATOR, "self-declared"), ("key.applied", COORDINATOR,
                                                                              "self-declared"),
                            ("key.decision", COORDINATOR, "self-declared")]
