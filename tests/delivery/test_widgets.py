"""The exam app's and the proctor's widgets without a browser: the same objects Voila renders."""
from __future__ import annotations

import delivery_formkit as formkit
import ipywidgets as w
from sqlalchemy import select

from exam_builder.delivery.candidate_app import CandidateApp
from exam_builder.delivery.proctor import ProctorDashboard
from exam_builder.delivery.session import confirmation_number
from exam_builder.records.models import AuditEntry, Response, Sitting
from exam_builder.ui.widgets import ChoiceGroup


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
    app.code.submit("nope")
    assert "not right" in app.message.value
    app.code.submit("WIDG-ETSS")
    assert "Pat0 Example0" in app.body.children[0].value
    button(app.root, "Yes, this is me").click()
    assert "4 hours 30 minutes" in app.body.children[0].value
    button(app.root, "Start the exam").click()
    radios = [r for r in walk(app.body) if isinstance(r, ChoiceGroup)]
    assert radios[0].legend == "Answer to question 1"
    radios[0].value = "B"
    app._go(5)
    text = [t for t in walk(app.root) if isinstance(t, w.Textarea)][0]
    text.value = "<b>my words</b>"
    assert "Time left: 4:29:5" in app.timer.value or "Time left: 4:30:00" in app.timer.value
    button(app.root, "Review and submit").click()
    assert "You have not answered 3 question(s): <b>2, 3, 4</b>" in app.body.children[0].value
    button(app.root, "Submit my exam now").click()
    assert "Your exam is in" in app.body.children[0].value
    with dcourse.db.read() as s:
        assert [(r.item_id, r.value) for r in s.execute(select(Response).order_by(Response.id)).scalars()] == [
            ("tf-hope", "B"), ("or-story", "<b>my words</b>")]
        assert confirmation_number(s.get(Sitting, sid).receipt_hash) in app.body.children[0].value
    # no widget of the candidate's app carries the manifest's keys or its hash
    with dcourse.db.read() as s:
        from exam_builder.records.models import Form

        manifest_hash = s.get(Form, form_id).manifest_hash
    state = str([x.get_state() for x in walk(app.root)])
    assert manifest_hash not in state and '"key"' not in state and "assert q0" not in state


def test_proctor_dashboard_actions_are_audited(dcourse, form_id):
    from exam_builder.delivery import sittings as ops

    sid = formkit.add_sitting(dcourse, "c002", "PROC-TORS", form_id, on=ops.room_today(dcourse))
    dash = ProctorDashboard(dcourse, formkit.EXAM)
    assert dash.proctor.value == ""  # asked, never the computer's login name
    [card] = [c for c in dash.cards.children]
    assert "Pat1 Example1" in card.children[0].children[0].value and "0 of 5" in card.children[0].children[0].value
    button(dash.root, "Actions for Pat1 Example1").click()
    assert dash.selected == sid and dash.panel in card.children
    dash.reason.value = "computer froze for 10 minutes"
    button(dash.root, "Add time").click()
    assert "Not done: Type your name" in dash.message.value  # no name, no change
    dash.proctor.value = "proctor-kim"
    dash.reason.value = ""
    button(dash.root, "Add time").click()
    assert "Not done: Write the reason" in dash.message.value and "--" not in dash.message.value
    dash.reason.value = "computer froze for 10 minutes"
    dash.minutes.value = 10
    button(dash.root, "Add time").click()
    assert "Done: Added 10 minutes for Pat1 Example1" in dash.message.value
    assert dash.reason.value == "computer froze for 10 minutes"  # kept for the next change
    dash.scribe.value = "Sam Scribe"
    dash.reason.value = "approved scribe"
    button(dash.root, "Record scribe").click()
    dash.reason.value = "left ill"
    button(dash.root, "Void sitting").click()
    assert "Tick “Yes, void this sitting” first" in dash.message.value
    dash.confirm_void.value = True
    button(dash.root, "Void sitting").click()
    assert "Pat1 Example1&#x27;s sitting is voided" in dash.message.value
    dash.refresh()
    assert dash.selected == sid and "Actions for Pat1 Example1" in dash.panel_title.value  # the same person
    assert dash.controls.layout.display == "none" and "voided" in dash.message.value
    with dcourse.db.read() as s:
        sit = s.get(Sitting, sid)
        assert (sit.extra_minutes, sit.scribe_name, sit.status) == (10, "Sam Scribe", "voided")
        assert [(e.action, e.actor) for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()] == [
            ("add_time", "proctor-kim"), ("record_scribe", "proctor-kim"), ("sitting.void", "proctor-kim")]
    dash.show.value = "open"
    assert [c.children[0] for c in dash.cards.children]  # the chosen person stays listed
    button(dash.root, "Close actions for Pat1 Example1").click()
    assert dash.selected is None and "No candidates to show" in dash.cards.children[0].value


def test_proctor_view_tells_the_states_apart_and_marks_late_and_idle(dcourse, form_id):
    import datetime as dt

    from exam_builder.delivery import sittings as ops
    from exam_builder.delivery.proctor_session import totals
    from exam_builder.delivery.session import CandidateSession
    from exam_builder.records.models import utcnow

    today = ops.room_today(dcourse)
    res = ops.open_sittings(dcourse, formkit.EXAM, "R1", "lee", ["c001", "c002", "c003"], write_cards=False)
    codes = {o.candidate_id: o.code for o in res.opened}
    formkit.add_sitting(dcourse, "c004", "OLDD-TEST", form_id, on=today - dt.timedelta(days=40))
    dash = ProctorDashboard(dcourse, formkit.EXAM)
    assert dash.room.value == "R1" and len(dash.rows) == 3  # the one room of today; not the earlier date
    assert "Late" not in str([c.children[0].children[0].value for c in dash.cards.children])  # a whole-day window
    ops.set_window(dcourse, formkit.EXAM, "R1", "lee", "starts at a set time", today,
                   opens_at=utcnow() - dt.timedelta(minutes=30))
    CandidateSession(dcourse).sign_in(codes["c002"])
    then = utcnow() - dt.timedelta(minutes=20)
    writer = CandidateSession(dcourse, clock=lambda: then).sign_in(codes["c003"])
    writer.start()
    writer.answer("tf-hope", "A")
    dash.refresh()
    assert [r.state for r in dash.rows] == ["not_arrived", "signed_in", "writing"]
    assert totals(dash.rows) == {"not_arrived": 1, "signed_in": 1, "writing": 1, "paused": 0, "on_break": 0,
                                 "submitted": 0, "voided": 0,
                                 "absent": 0}
    text = [c.children[0].children[0].value for c in dash.cards.children]
    assert "Not arrived" in text[0] and "Late by 30 min" in text[0]
    assert "Signed in, not started" in text[1] and "Late" not in text[1]
    assert "Writing" in text[2] and "Idle for 20 min" in text[2] and "1 of 5" in text[2]
    assert "3 not arrived" not in dash.totals.value and "1</strong> late" in dash.totals.value
    dash.show.value = "attention"
    assert len(dash.cards.children) == 2
    dash.show.value = "every_date"
    assert len(dash.cards.children) == 4 and "Pat3 Example3" in dash.cards.children[-1].children[0].children[0].value


def test_times_shown_to_candidates_are_the_rooms_wall_clock():
    import datetime as dt

    from exam_builder.delivery.candidate_app import local_time

    noon_utc = dt.datetime(2026, 7, 1, 16, 0, 0)  # the server keeps naive UTC
    assert local_time(noon_utc, "America/New_York") == "12:00:00 PM EDT"  # the proctor's form: 12-hour
    assert local_time(noon_utc, "Not/AZone") == "4:00:00 PM UTC"  # a bad setting never stops a sitting


def test_choice_group_multiple_is_a_group_of_checkboxes_whose_value_is_a_list():
    """Select all that apply: the page sends a list; order is the options' and nothing else passes."""
    import pytest
    import traitlets

    from exam_builder.kinds import kind_for

    kind = kind_for("multiple_select")
    group = kind.control(2, [("A", "One"), ("B", "Two"), ("C", "Three")], "C,A")
    assert isinstance(group, ChoiceGroup) and group.multiple and group.value == ["A", "C"]
    assert group.legend == "Answer to question 2 (select all that apply)"
    group.value = ["C", "B"]
    assert group.value == ["B", "C"] and kind.control_answer(group.value) == "B,C"
    for bad in (["Z"], ["A", "A"], "A"):
        with pytest.raises(traitlets.TraitError):
            group.value = bad
    group.value = kind.control_value(None)
    assert group.value == [] and kind.control_answer(group.value) is None
    single = ChoiceGroup([("A", "A"), ("B", "B")], legend="One")
    assert single.value is None and not single.multiple
    with pytest.raises(traitlets.TraitError):
        single.value = ["A"]
    from pathlib import Path

    js = (Path(__import__("exam_builder.ui.widgets").ui.widgets.__file__).parent / "choice.js").read_text()
    assert 'model.get("multiple") ? "checkbox" : "radio"' in js and "legend" in js and "fieldset" in js
