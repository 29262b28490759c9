"""No-shows through the real apps, in Debian's chromium: the exam server (`exam-builder serve`) and
the proctor's room view (`exam-builder proctor`) on one course.

A candidate who never arrives: when their sitting's sign-in window closes (the window stored on
the sitting, moved to a few seconds from now, as the absence tests move ``now``), the proctor's
view turns their card and the totals to Absent by itself (it settles no-shows at every refresh),
stored and audited as exam-builder's decision; their code then opens nothing on the exam server
("no longer valid"). A proctor who knows someone is not coming marks them absent early with the
button under their card, and the audit trail keeps who and why. Each changed screen passes axe at
the desktop, phone and 200% zoom sizes.
"""
from __future__ import annotations

import datetime as dt

import a11y
import delivery_formkit as formkit
import pytest
from playwright.sync_api import expect
from serverkit import Server, StaffServer, make_site, open_sign_in
from sqlalchemy import select
from test_proctor_browser import card, expect_text, open_view

from exam_builder.delivery.session import ABSENT, MARKED_ABSENT
from exam_builder.records.models import AuditEntry, Sitting, utcnow

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def day(form_template, tmp_path_factory):
    """Three candidates scheduled today (the sign-in open all day): c001 will never arrive, c002
    phones in sick, c003 is simply not here yet. Both servers on the one course."""
    root = tmp_path_factory.mktemp("no-show") / "course"
    course, codes = make_site(form_template, root, [("c001", 180), ("c002", 180), ("c003", 180)],
                              config="c.DeliverySettings.sign_in_delay_seconds = 0.1")
    exam = Server(root, seats=1).start()  # one page at a time: not a warm kernel per candidate
    proctor = StaffServer(root, "proctor", formkit.EXAM).start()
    yield course, exam, proctor, codes
    proctor.kill()
    exam.kill()
    course.db.dispose()


def absent_now(course) -> int:
    with course.db.read() as s:
        return len(s.execute(select(Sitting.id).where(Sitting.status == "absent")).all())


def code_refused_as_absent(browser, exam, code: str, size: str, said: str = ABSENT) -> None:
    """The candidate types their code at the exam server: "no longer valid" and why, nothing opens."""
    ctx, page, outside = open_sign_in(browser, exam.url, a11y.SIZES[size])
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(said, timeout=30_000)
    assert page.get_by_role("button", name="Yes, this is me").count() == 0
    a11y.check_screen(page, "candidate", size, "sign-in-absent")
    assert outside == []
    ctx.close()


def test_a_no_show_becomes_absent_when_the_window_closes(browser, day):
    course, exam, proctor, codes = day
    sid, code = codes["c001"]
    ctx, page = open_view(browser, proctor, "desktop")
    pat0, pat2 = card(page, "Pat0 Example0"), card(page, "Pat2 Example2")
    expect_text(pat0, "Not arrived")
    before = absent_now(course)
    with course.db.transaction() as s:  # the sign-in window of c001's sitting closes in two seconds
        s.get(Sitting, sid).closes_at = utcnow() + dt.timedelta(seconds=2)
    expect_text(pat0, "Absent", timeout=15_000)  # no one touched anything: the view's refresh settled it
    expect_text(page.locator(".eb-totals"), f"{before + 1} absent")
    expect_text(pat2, "Not arrived")  # their window is still open
    with course.db.read() as s:
        sit = s.get(Sitting, sid)
        assert sit.status == "absent" and sit.attempt_no is None  # CPS: not an attempt
        [entry] = s.execute(select(AuditEntry).where(AuditEntry.action == "sitting.absent",
                                                     AuditEntry.entity_id == str(sid))).scalars().all()
        assert entry.actor == "exam-builder"
        assert entry.reason.startswith("the sign-in window closed at ") and entry.reason.endswith(
            "and the candidate never started")
    a11y.check_screen(page, "proctor", "desktop", "no-show-absent")
    ctx.close()
    for size in ("phone", "zoom200"):
        ctx, page = open_view(browser, proctor, size)
        expect_text(card(page, "Pat0 Example0"), "Absent")
        a11y.check_screen(page, "proctor", size, "no-show-absent")
        ctx.close()
    code_refused_as_absent(browser, exam, code, "desktop")


def test_a_proctor_marks_absent_early_with_the_button_audited(browser, day):
    course, exam, proctor, codes = day
    sid, code = codes["c002"]
    ctx, page = open_view(browser, proctor, "desktop")
    pat1 = card(page, "Pat1 Example1")
    expect_text(pat1, "Not arrived")
    pat1.get_by_role("button", name="Actions for Pat1 Example1").click()
    panel = pat1.locator(".eb-panel")
    expect_text(panel, "Actions for Pat1 Example1")
    page.get_by_label("Your name").fill("Kim Proctor")
    panel.get_by_label("Reason").fill("phoned the office: ill today")
    panel.get_by_role("button", name="Mark absent").click()
    expect_text(panel, "Pat1 Example1 is marked absent: their code no longer works, and it does not count as an "
                       "attempt.")
    expect_text(pat1, "Absent")
    expect_text(page.locator(".eb-totals"), f"{absent_now(course)} absent")
    a11y.check_screen(page, "proctor", "desktop", "marked-absent")
    ctx.close()
    with course.db.read() as s:
        assert s.get(Sitting, sid).status == "absent"
        [entry] = s.execute(select(AuditEntry).where(AuditEntry.action == "sitting.absent",
                                                     AuditEntry.entity_id == str(sid))).scalars().all()
        assert (entry.actor, entry.reason, entry.details.get("early")) == (
            "Kim Proctor", "phoned the office: ill today", True)
    # the window is still open: the candidate and the proctor are told it was the proctor's mark, not the window
    code_refused_as_absent(browser, exam, code, "phone", MARKED_ABSENT)
    code_refused_as_absent(browser, exam, code, "zoom200", MARKED_ABSENT)
    ctx, page = open_view(browser, proctor, "desktop")
    expect_text(page.locator("body"), "Sign-in refused: the sitting was marked absent by a proctor")
    ctx.close()
    for server in (exam, proctor):  # neither server's terminal alarms the coordinator
        log = server.log.read_text()
        assert "cannot be longer than" not in log and "never retrieved" not in log, log[-2000:]
