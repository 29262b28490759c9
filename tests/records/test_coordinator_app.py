"""The coordinator's desk through its session and its widgets (no browser): decisions recorded by
the domain with who and why, the hub user as the only actor in hub mode, eligibility in words."""
from __future__ import annotations

import datetime as dt
from html import escape

import pytest
import records_kit as rk
from sqlalchemy import select

from exam_builder import clock
from exam_builder.desks.coordinator_app import NO_DIAGNOSIS_TEXT, CoordinatorApp, CoordinatorSession
from exam_builder.errors import ExamBuilderError
from exam_builder.records import accommodations, identity
from exam_builder.records.audit import verify
from exam_builder.records.eligibility import Barrier
from exam_builder.records.models import Accommodation, AuditEntry


@pytest.fixture(autouse=True)
def _no_identity():
    identity.reset()
    yield
    identity.reset()


@pytest.fixture
def course(rcourse):
    letter = clock.today(rcourse.zone) - dt.timedelta(days=3)
    with rcourse.db.transaction() as s:
        rk.add_exam(s, labels="A")
        rk.add_candidates(s, "ana", "ben", "cy")
        rk.set_attendance(s, "cy", {"1.1": "absent", "2.2": "late", "3.1": "absent", "4.2": "absent"})
        accommodations.request(s, rcourse.policy, "ana", "extended_time", "intake", letter_on_file=letter,
                               details="seat near the door", zone=rcourse.zone)
        accommodations.request(s, rcourse.policy, "ben", "scribe", "intake", zone=rcourse.zone)
    return rcourse


def _entries(course, action: str):
    with course.db.read() as s:
        assert verify(s).ok
        return s.execute(select(AuditEntry.actor, AuditEntry.reason, AuditEntry.details)
                         .where(AuditEntry.action == action)).all()


def test_token_mode_asks_a_name_once_and_says_it_is_self_declared(course):
    identity.self_declared()
    session = CoordinatorSession(course, rk.EXAM)
    waiting = session.waiting()
    assert [(r.candidate_id, r.kind_text) for r in waiting] == [("ana", "Extra time (time × 1.5)"), ("ben", "A scribe")]
    with pytest.raises(ExamBuilderError, match="sign in first"):
        session.approve(waiting[0].id, "letter seen")
    with pytest.raises(ExamBuilderError, match="type your name"):
        session.sign_in(" ")
    session.sign_in("Dana Coordinator")
    with pytest.raises(ExamBuilderError, match="say why"):
        session.approve(waiting[0].id, "  ")
    text = session.approve(waiting[0].id, "letter seen", multiplier=2.0)
    assert "Ana Example (ana)" in text and "360 minutes" in text
    with course.db.read() as s:
        acc = s.get(Accommodation, waiting[0].id)
        assert (acc.status, acc.approved_by, acc.multiplier) == ("approved", "Dana Coordinator", 2.0)
    [(actor, reason, details)] = _entries(course, "accommodation.approve")
    assert (actor, reason, details["identity"], details["multiplier"]) == ("Dana Coordinator", "letter seen",
                                                                         "self-declared", 2.0)
    assert [r.candidate_id for r in session.waiting()] == ["ben"]


def test_hub_mode_records_the_hub_user_whatever_is_typed(course):
    identity.from_hub("cora", ["coordinators"])
    session = CoordinatorSession(course, rk.EXAM)
    assert session.hub_signed and session.name == "cora"
    with pytest.raises(ExamBuilderError, match="JupyterHub as cora"):
        session.sign_in("someone else")
    session.name = "mallory"  # a page cannot change who acts
    ben = next(r for r in session.waiting() if r.candidate_id == "ben")
    with pytest.raises(ExamBuilderError, match="letter"):
        session.approve(ben.id, "ok")  # no provider's letter on file yet
    session.approve(ben.id, "letter seen", letter_on_file=clock.today(course.zone))
    ana = next(r for r in session.waiting() if r.candidate_id == "ana")
    session.revoke(ana.id, "withdrawn by the candidate")
    with course.db.read() as s:
        assert s.get(Accommodation, ben.id).approved_by == "cora"
        assert s.get(Accommodation, ana.id).revoked_by == "cora"
    for action in ("accommodation.approve", "accommodation.revoke"):
        [(actor, _reason, details)] = _entries(course, action)
        assert actor == "cora" and details["identity"] == "hub"


def test_eligibility_lists_who_may_not_sit_and_why(course):
    session = CoordinatorSession(course, rk.EXAM)
    [cy] = session.not_eligible()
    assert cy.candidate_id == "cy" and cy.barriers == [Barrier.attendance]
    assert "late or absent for 4 modules" in cy.reasons[0]


def test_the_widgets_take_the_same_path(course):
    identity.self_declared()
    app = CoordinatorApp(CoordinatorSession(course, rk.EXAM))
    assert app.main.layout.display == "none"
    app.name.submit("Dana")
    assert app.main.layout.display == "" and "Dana" in app.who.value
    assert "waiting for a decision: 2" in app.requests_head.value
    assert escape(NO_DIAGNOSIS_TEXT) in app.requests_panel.children[1].value
    assert "seat near the door" in app.requests_table.value
    assert app.multiplier.value == 1.5 and app.multiplier.layout.display == ""  # the policy's, as requested
    app.approve_button.click()
    assert "Not done" in app.decision_message.value and "say why" in app.decision_message.value
    app.reason.value = "letter seen"
    app.approve_button.click()
    assert "Approved extra time for Ana Example" in app.decision_message.value
    assert "waiting for a decision: 1" in app.requests_head.value
    assert app.letter.layout.display == ""  # ben's request has no letter date yet
    app.reason.value = "no letter will come"
    app.revoke_button.click()
    assert "Turned down a scribe for Ben Example" in app.decision_message.value
    assert app.decision.layout.display == "none"
    app.screen.value = "eligibility"
    assert app.requests_panel.layout.display == "none"
    html = app.eligibility_panel.children[0].value
    assert "Who may not sit the exam now: 1" in html and "Cy Example" in html and "late or absent" in html
    assert [a for a, _r, _d in _entries(course, "accommodation.revoke")] == ["Dana"]


def test_the_program_report_goes_into_the_courses_reports_folder(course, monkeypatch):
    import exam_builder.analysis.report as report

    written = []

    def fake(course_, exam, out, *a, **k):
        written.append((exam, out))
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.html").write_text("<html></html>")
        return out / "report.html"

    monkeypatch.setattr(report, "write_report", fake)
    identity.from_hub("cora")
    app = CoordinatorApp(CoordinatorSession(course, rk.EXAM))
    assert "Signed in through JupyterHub as cora" in app.who.value
    app.report_button.click()
    path = course.report_dir(rk.EXAM) / "report.html"
    assert written == [(rk.EXAM, path.parent)] and str(path) in app.report_message.value
