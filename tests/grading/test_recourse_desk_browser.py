"""Key validation and appeals at the coordinator's desk, in a real browser against `exam-builder coordinator`.

The grading tests' course, scored, rated and with outcomes recorded; one candidate left a comment on
a question during the exam. The coordinator signs in once (token mode: self-declared), reads the key
validation screen (the comment shown by form, never with a name), decides to accept another answer,
reads the impact before anything changes, applies it; records a score appeal, sends it to a rater
and decides it. Every decision carries the coordinator's name in the audit trail. Each screen passes
axe-core and the reflow check at desktop, phone and 200% zoom.
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
from exam_builder.grading.objective import grade_exam
from exam_builder.grading.queue import RatingQueue, open_items
from exam_builder.grading.results import compute_results, record_outcomes
from exam_builder.kinds import keyed_entries
from exam_builder.model.item import LABELS, Kind
from exam_builder.records.models import (
    Appeal,
    AuditEntry,
    Candidate,
    ItemComment,
    KeyDecision,
    Response,
    Sitting,
    utcnow,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))
from serverkit import StaffServer  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
COMMENT = "Two of these answers look right to me: the stem does not say which comes first."


@pytest.fixture(scope="module")
def desk(graded_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("recourse-desk") / "course"
    shutil.copytree(graded_template, root)
    course = Course(root)
    grade_exam(course, kit.EXAM, actor="staff", workers=1)
    for item, _r in open_items(course, kit.EXAM):
        RatingQueue(course, kit.EXAM, item).settle_blanks("staff")
        rate_everything(course, item)
    record_outcomes(course, compute_results(course, kit.EXAM), "staff")
    with course.db.transaction() as s:
        sit = s.execute(select(Sitting).order_by(Sitting.id)).scalars().first()
        from exam_builder.model.manifest import Manifest
        from exam_builder.records.models import Form

        m = Manifest.model_validate(s.get(Form, sit.form_id).manifest)
        entry = next(e for e in keyed_entries(m) if e.kind is Kind.multiple_choice)
        # what the candidate's session wrote during the exam (the comment box's row)
        s.add(ItemComment(sitting_id=sit.id, item_id=entry.item_id, text=COMMENT, recorded_at=sit.started_at))
        names = [c.name for c in s.execute(select(Candidate)).scalars()]
        given = [r.value for r in s.execute(select(Response).join(Sitting, Sitting.id == Response.sitting_id)
                                             .where(Sitting.form_id == sit.form_id,
                                                    Response.item_id == entry.item_id)).scalars()
                 if r.value not in (None, entry.key)]
        other = max(set(given), key=given.count) if given else \
            next(lab for lab in LABELS[:len(entry.option_order)] if lab != entry.key)
        info = dict(sitting=sit.id, item=entry.item_id, form=m.form, accept=other, names=names)
    server = StaffServer(root, "coordinator", "--exam", kit.EXAM).start()
    yield course, server, info
    server.kill()
    course.db.dispose()


#: The words of the desk's tables laid out over more than one line (a word broken mid-word or at a hyphen).
SPLIT_WORDS_JS = """() => {
  const bad = [];
  for (const cell of document.querySelectorAll('.eb-coord table th, .eb-coord table td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const words = /\\S+/g;
      let m;
      while ((m = words.exec(node.data))) {
        if (m[0].length > 24) continue;  // a long run of characters may break where it cannot fit
        const r = document.createRange();
        r.setStart(node, m.index);
        r.setEnd(node, m.index + m[0].length);
        const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
        if (tops.size > 1) bad.push(m[0]);
      }
    }
  }
  return bad;
}"""


def open_desk(browser, server, size: str):
    ctx = browser.new_context(**a11y.SIZES[size])
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(server.url)
    page.get_by_role("heading", name="Coordinator's desk").wait_for()
    page.get_by_label("Your name").fill("Dana Coordinator")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("Accommodation requests waiting")).wait_for()
    return ctx, page


def test_key_validation_and_an_appeal_at_the_desk(browser, desk):
    course, server, info = desk
    ctx, page = open_desk(browser, server, "desktop")
    try:
        page.get_by_role("button", name="Key validation").click()
        page.get_by_role("heading", name=re.compile(r"Key validation: \d+ item line")).wait_for()
        table = page.locator("table").filter(has_text=COMMENT)
        expect(table).to_be_visible()
        text = table.inner_text()
        assert f"Form {info['form']}: {COMMENT}" in text
        assert not any(n in text for n in info["names"])  # blind: no name beside a comment
        assert page.evaluate(SPLIT_WORDS_JS) == []  # at 1366 px no header or value breaks mid-word ("Ite m")
        discr = [c.inner_text().strip() for c in table.locator("td[data-label='Discrimination']").all()]
        assert discr and all(discr), discr  # a line without a discrimination says why, never a blank cell
        a11y.check_screen(page, "coordinator", "desktop", "keys")
        page.get_by_role("radio", name=re.compile(f"^{re.escape(info['item'])} ")).check()
        page.get_by_role("radio", name="Accept another answer as well").check()
        page.get_by_label("Other answer to accept").fill(info["accept"])
        page.get_by_label("On form").fill(info["form"])
        page.get_by_label("Reason (kept with the decision)").fill("the candidate is right: both orders work")
        page.get_by_role("button", name="Record and show the impact").click()
        expect(page.locator("p[role=status]").filter(has_text=re.compile("Nothing has changed yet"))).to_be_visible()
        with course.db.read() as s:
            d = s.execute(select(KeyDecision)).scalar_one()
            assert d.applied_at is None and d.decided_by == "Dana Coordinator"
        a11y.check_screen(page, "coordinator", "desktop", "keys-impact")
        page.get_by_role("button", name="Apply this decision").click()
        expect(page.locator("p[role=status]").filter(has_text=re.compile(r"Decision \d+ applied"))).to_be_visible()

        page.get_by_role("button", name="Appeals").click()
        page.get_by_role("heading", name="Appeals: 0").wait_for()
        page.get_by_label("Sitting number").fill(str(info["sitting"]))
        page.get_by_role("radio", name="The score").check()
        page.get_by_label("The candidate's own words").fill("I think my written answer was marked too low.")
        page.get_by_label("Received on").fill(clock.wall(utcnow(), course.zone).date().isoformat())
        page.get_by_role("button", name="Record the appeal").click()
        expect(page.locator("p[role=status]").filter(has_text=re.compile(r"Appeal \d+ recorded"))).to_be_visible()
        page.get_by_label("Rater (who has not rated these answers)").fill("Cara Rater")
        page.get_by_role("button", name="Send to the rater").click()
        expect(page.locator("p[role=status]").filter(has_text="go to Cara Rater")).to_be_visible()
        a11y.check_screen(page, "coordinator", "desktop", "appeals")
        page.get_by_role("radio", name="Denied").check()
        page.get_by_label("Reason (given in the candidate's letter)").fill("the rubric was applied as written")
        page.get_by_role("button", name="Record the decision").click()
        expect(page.locator("p[role=status]").filter(has_text=re.compile(r"Appeal \d+ denied"))).to_be_visible()
    finally:
        ctx.close()
    with course.db.read() as s:
        acts = {a: (actor, det.get("identity")) for a, actor, det in s.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.details)
            .where(AuditEntry.action.in_(["key.decision", "key.applied", "appeal.recorded", "appeal.rerate",
                                          "appeal.decided"])))}
        appeal = s.execute(select(Appeal)).scalar_one()
        assert str(appeal.decision) == "denied" and appeal.rater == "Cara Rater"
    assert set(acts) == {"key.decision", "key.applied", "appeal.recorded", "appeal.rerate", "appeal.decided"}
    assert all(v == ("Dana Coordinator", "self-declared") for v in acts.values()), acts


@pytest.mark.parametrize("size", ["phone", "zoom200"])
def test_the_recourse_screens_reflow_on_a_phone_and_at_200_percent(browser, desk, size):
    _course, server, _info = desk
    ctx, page = open_desk(browser, server, size)
    try:
        page.get_by_role("button", name="Key validation").click()
        page.get_by_role("heading", name=re.compile(r"Key validation: \d+ item line")).wait_for()
        a11y.check_screen(page, "coordinator", size, "keys")
        page.get_by_role("button", name="Appeals").click()
        page.get_by_role("heading", name=re.compile(r"Appeals: \d+")).wait_for()
        a11y.check_screen(page, "coordinator", size, "appeals")
    finally:
        ctx.close()
