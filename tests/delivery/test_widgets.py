"""The exam app's and the proctor's widgets without a browser: the same objects Voila renders."""
from __future__ import annotations

import ipywidgets as w
from sqlalchemy import select

import delivery_formkit as formkit
from exam_builder.delivery.candidate_app import CandidateApp
from exam_builder.delivery.proctor import ProctorDashboard
from exam_builder.records.models import AuditEntry, Response, Sitting


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def button(root, label):
    found = [b for b in walk(root) if isinstance(b, w.Button) and b.description == label]
    assert found, f"no button {label!r}"
    return found[0]


def test_candidate_app_flow_goes_through_the_session(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c001", "WIDG-ETSS", form_id, minutes=270)
    app = CandidateApp(dcourse)
    app.code.value = "nope"
    button(app.root, "Sign in").click()
    assert "not right" in app.message.value
    app.code.value = "WIDG-ETSS"
    button(app.root, "Sign in").click()
    assert "Pat0 Example0" in app.body.children[0].value
    button(app.root, "Yes, this is me").click()
    assert "4 hours 30 minutes" in app.body.children[0].value
    button(app.root, "Start the exam").click()
    radios = [r for r in walk(app.root) if isinstance(r, w.RadioButtons)]
    assert radios[0].description == "Answer to question 1"
    radios[0].value = "B"
    app._go(5)
    text = [t for t in walk(app.root) if isinstance(t, w.Textarea)][0]
    text.value = "<b>my words</b>"
    assert "Time left: 4:29:5" in app.timer.value or "Time left: 4:30:00" in app.timer.value
    button(app.root, "Review and submit").click()
    assert "You have not answered 3 question(s): <b>2, 3, 4</b>" in app.body.children[0].value
    button(app.root, "Submit my exam now").click()
    assert "Receipt" in app.body.children[0].value
    with dcourse.db.read() as s:
        assert [(r.item_id, r.value) for r in s.execute(select(Response).order_by(Response.id)).scalars()] == [
            ("tf-hope", "B"), ("or-story", "<b>my words</b>")]
        assert s.get(Sitting, sid).receipt_hash in app.body.children[0].value
    # no widget of the candidate's app carries the manifest's keys or its hash
    with dcourse.db.read() as s:
        from exam_builder.records.models import Form

        manifest_hash = s.get(Form, form_id).manifest_hash
    state = str([x.get_state() for x in walk(app.root)])
    assert manifest_hash not in state and '"key"' not in state and "assert q0" not in state


def test_proctor_dashboard_actions_are_audited(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c002", "PROC-TORS", form_id)
    dash = ProctorDashboard(dcourse, formkit.EXAM, actor="proctor-kim")
    assert "Pat1 Example1" in dash.table.value and "0 / 5" in dash.table.value
    dash.sitting.value = sid
    button(dash.root, "Add time").click()
    assert "reason" in dash.message.value  # no reason, no change
    dash.reason.value = "computer froze for 10 minutes"
    dash.minutes.value = 10
    button(dash.root, "Add time").click()
    dash.scribe.value = "Sam Scribe"
    dash.reason.value = "approved scribe"
    button(dash.root, "Record scribe").click()
    dash.reason.value = "left ill"
    button(dash.root, "Void sitting").click()
    assert "tick" in dash.message.value
    dash.confirm_void.value = True
    button(dash.root, "Void sitting").click()
    assert "voided" in dash.message.value
    with dcourse.db.read() as s:
        sit = s.get(Sitting, sid)
        assert (sit.extra_minutes, sit.scribe_name, sit.status) == (10, "Sam Scribe", "voided")
        assert [(e.action, e.actor) for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()] == [
            ("add_time", "proctor-kim"), ("record_scribe", "proctor-kim"), ("sitting.void", "proctor-kim")]
    assert dash.sitting.options == ()


def test_times_shown_to_candidates_are_the_rooms_wall_clock():
    import datetime as dt

    from exam_builder.delivery.candidate_app import local_time

    noon_utc = dt.datetime(2026, 7, 1, 16, 0, 0)  # the server keeps naive UTC
    assert local_time(noon_utc, "America/New_York") == "12:00:00 EDT"
    assert local_time(noon_utc, "Not/AZone") == "16:00:00 UTC"  # a bad setting never stops a sitting
