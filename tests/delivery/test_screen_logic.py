"""The candidate's screen on the day, below the browser (issue 22, part 3): what the app does with
the drafts a page hands over, time a proctor adds, the receipt's confirmation number read back.

The app is driven as the page drives it: the ``Drafts`` widget's ``stored`` trait is what the
page sets when it is drawn, its messages are what the page sends; the database is read back.
The browser paths are in ``test_candidate_day.py``.
"""
from __future__ import annotations

import datetime as dt
import re

import delivery_formkit as formkit
import ipywidgets as w
from ipywidgets.widgets.widget import _instances
from sqlalchemy import select

from exam_builder.delivery import sittings as ops
from exam_builder.delivery.candidate_app import KEEP_SCREENS, CandidateApp, added_text, local_hm, walk
from exam_builder.delivery.session import CandidateSession, confirmation_number, confirmation_prefix
from exam_builder.records.models import Response, SittingEvent
from exam_builder.ui.widgets import DRAFTS_MAX_CHARS, clean_stored


def button(root, label):
    [b] = [b for b in walk(root) if isinstance(b, w.Button) and b.description == label]
    return b


def rows(course, sid) -> list[tuple[str, str | None]]:
    with course.db.read() as s:
        return [(r.item_id, r.value) for r in s.execute(
            select(Response).where(Response.sitting_id == sid).order_by(Response.id)).scalars()]


def kinds(course, sid, kind) -> list[dict]:
    with course.db.read() as s:
        return [e.details for e in s.execute(select(SittingEvent).where(
            SittingEvent.sitting_id == sid, SittingEvent.kind == kind)).scalars()]


def signed_in(course, code: str, stored: dict | None = None) -> CandidateApp:
    app = CandidateApp(course)
    if stored is not None:
        app.drafts.stored = stored  # what a reloaded page hands its new kernel when it is drawn
    app.code.submit(code)
    button(app.root, "Yes, this is me").click()
    return app


# -- the confirmation number, read back ------------------------------------------------------------
def test_a_confirmation_number_reads_back_to_its_receipt_hash_as_a_person_types_it():
    h = "0123456789abcdef" * 4
    number = confirmation_number(h)
    assert confirmation_prefix(number) == h[:10]
    assert confirmation_prefix(number.lower().replace("-", "")) == h[:10]
    assert confirmation_prefix(number.replace("1", "I").replace("0", "O")) == h[:10]  # read aloud, written as heard
    for bad in ("", "K7Q4-9MZ", "K7Q4-9MZXX", "K7Q4-9MZU", None):
        assert confirmation_prefix(bad) is None


# -- drafts a page kept ----------------------------------------------------------------------------------
def test_a_reloaded_page_hands_back_its_draft_and_its_question(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c001", "DRAF-TONE", form_id)
    first = signed_in(dcourse, "DRAF-TONE")
    button(first.root, "Start the exam").click()
    first._go(5)
    first._controls["or-story"].value = "Listen"  # saved (no event loop here: at once)
    assert first.drafts.at == 5 and first.drafts.sitting == f"s{sid}"
    # the page kept more than the server confirmed, and it was on question 5; then it reloaded
    app = signed_in(dcourse, "DRAF-TONE", {"drafts": {f"s{sid}:5": {"text": "Listen first.", "base": "Listen"}},
                                           "at": {f"s{sid}": 5}})
    assert app.current == 5  # back on the question it was on
    assert app._controls["or-story"].value == "Listen first."
    assert "What you typed last was restored and saved." in app.message.value
    assert rows(dcourse, sid) == [("or-story", "Listen"), ("or-story", "Listen first.")]
    # the same draft handed over again (back online) adds no row
    app.drafts._on_page(app.drafts, {"resend": {"5": {"text": "Listen first.", "base": "Listen"}}}, [])
    app.drafts._on_page(app.drafts, {"flush": True}, [])
    assert rows(dcourse, sid) == [("or-story", "Listen"), ("or-story", "Listen first.")]
    # the page hidden while the kernel still waits to save: the text the page sends with it is saved
    # at once, and the older text the kernel held back does not follow it
    app._pending["or-story"] = "Listen first. And"
    app.drafts._on_page(app.drafts, {"flush": True, "drafts": {"5": {"text": "Listen first. And ask.",
                                                                     "base": "stale"}}}, [])
    assert rows(dcourse, sid)[-1] == ("or-story", "Listen first. And ask.") and app._pending == {}
    assert "Answer to question 5 saved at" in app.save_state.value
    # newer text typed: the note that the draft was restored and saved is stale and goes; the welcome stays
    assert "<span class='eb-saved-at'>What you typed last was restored and saved.</span>" in app.message.value
    app._controls["or-story"].value = "Listen first. And ask. Then"
    assert "restored" not in app.message.value and "Welcome back" in app.message.value
    # the same "saved at" said again is drawn again (the page may have removed the older one as stale)
    now = app.clock()
    app.clock = lambda: now
    app._saved("Answer to question 5")
    said = []
    app.save_state.observe(lambda ch: said.append(ch["new"]), names="value")
    app._saved("Answer to question 5")
    assert said == ["", app.save_state.value] and "eb-saved-at" in said[-1]


def test_a_draft_typed_over_an_answer_changed_elsewhere_is_dropped_not_saved(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c002", "DRAF-TTWO", form_id)
    cs = CandidateSession(dcourse).sign_in("DRAF-TTWO")
    cs.start()
    cs.answer("or-story", "Written on the other screen")
    app = signed_in(dcourse, "DRAF-TTWO", {"drafts": {f"s{sid}:5": {"text": "Old words", "base": ""},
                                                      "s999:5": {"text": "another sitting's", "base": ""}}})
    assert app.current == 1  # no question kept: the first unanswered one
    assert rows(dcourse, sid) == [("or-story", "Written on the other screen")]
    assert kinds(dcourse, sid, "draft_dropped") == [{"item": "or-story", "why": "changed on another screen"}]
    assert "restored" not in app.message.value


def test_a_page_that_comes_back_to_its_kernel_hands_over_what_its_tab_kept(dcourse, form_id):
    """A reload served its own kernel (``server.KernelLifecycle.kept_page``): the kernel is still signed
    in, and the page, when drawn, hands over the drafts its tab kept; those the server has not got are
    saved at once."""
    sid = formkit.add_sitting(dcourse, "c004", "DRAF-TBAK", form_id)
    app = signed_in(dcourse, "DRAF-TBAK")
    button(app.root, "Start the exam").click()
    app._go(5)
    app._controls["or-story"].value = "Listen"  # saved (no event loop here: at once)
    # the last words never reached the kernel before the reload; the page comes back with them
    # its base is stale: the reload came before the page heard that "Listen" was saved (a reload pressed with the
    # last keys); the kernel still holds the sitting, so the tab's text is the newest there is
    app.drafts.stored = {"drafts": {f"s{sid}:5": {"text": "Listen, then ask.", "base": ""}},
                         "at": {f"s{sid}": 5}}
    assert rows(dcourse, sid) == [("or-story", "Listen"), ("or-story", "Listen, then ask.")]
    assert app._controls["or-story"].value == "Listen, then ask." and app.current == 5
    assert "What you typed last was restored and saved." in app.message.value


def test_the_kernel_keeps_only_the_last_few_question_screens(dcourse, form_id):
    """Screens let go are closed (their models leave the kernel: a reload is not sent them) and drawn
    again from the session, answer and flag included, when the candidate returns."""
    formkit.add_sitting(dcourse, "c005", "DRAF-TKEP", form_id)
    app = signed_in(dcourse, "DRAF-TKEP")
    button(app.root, "Start the exam").click()
    app._go(1)
    first_box = app.item_area.children[0]
    first_ctrl = next(c for c in app._controls.values())
    first_ctrl.value = first_ctrl.value if first_ctrl.value else "A"  # an answer, saved at once
    app._flags[app.session.form.items[0].item_id].value = True
    models = {x.model_id for x in walk(first_box)}
    total = len(app.session.form.items)
    for n in range(2, total + 1):
        app._go(n)
    assert len(app._item_boxes) == KEEP_SCREENS and list(app._item_boxes)[-1] == total
    assert all(x.comm is None for x in walk(first_box)) and first_box.layout.comm is None  # closed, layouts too
    live = set(_instances)  # the kernel's registry of live widget models
    assert not models & live
    app._go(1)  # drawn again, as it was left
    again = app._controls[app.session.form.items[0].item_id]
    assert again is not first_ctrl and again.value == "A"
    assert app._flags[app.session.form.items[0].item_id].value is True


def test_what_a_page_hands_over_is_bounded_and_plain():
    huge = "x" * (DRAFTS_MAX_CHARS // 2 + 1)
    got = clean_stored({"drafts": {"s1:1": {"text": huge}, "s1:2": {"text": huge}, "s1:3": {"text": 5},
                                   "k" * 65: {"text": "long key"}},
                        "at": {"s1": 3, "s2": True, "s3": "4"}})
    assert list(got["drafts"]) == ["s1:1"] and got["drafts"]["s1:1"]["base"] == ""
    assert got["at"] == {"s1": 3}
    assert clean_stored("not a dict") == {"drafts": {}, "at": {}}


# -- time a proctor adds ----------------------------------------------------------------------------------
def test_time_added_by_the_proctor_is_said_once_on_screen_and_aloud(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c003", "MORE-TIME", form_id, minutes=60)
    app = signed_in(dcourse, "MORE-TIME")
    button(app.root, "Start the exam").click()
    app.settings.refresh_seconds = 0  # re-read the sitting at every tick
    app.tick()
    assert "added" not in app.message.value
    sit = ops.add_time(dcourse, sid, 15, "proctor-kim", "fire alarm")
    app.tick()
    said = added_text(15, sit.deadline, app.settings.timezone, app.clock())
    assert said == (f"The proctor added 15 minutes. New end time "
                    f"{local_hm(sit.deadline, app.settings.timezone, app.clock())}.")
    assert re.fullmatch(r"The proctor added 15 minutes\. New end time \d{1,2}:\d\d [AP]M E[SD]T( on \w+day \d+ \w+)?\.",
                        said)
    assert said in app.message.value and "eb-alert" in app.message.value
    assert app.assist.announcement["text"] == said
    assert "Time left: 1:1" in app.timer.value
    app.tick()  # said once
    assert kinds(dcourse, sid, "time_added_shown") == [{"minutes": 15}]
    assert added_text(1, sit.deadline).startswith("The proctor added 1 minute. ")
    # an end that falls on the next day says which day (the room's), not a bare "01:58 EST"
    late = dt.datetime(2026, 12, 8, 6, 58)  # 1:58 AM EST on Tuesday 8 December
    evening = dt.datetime(2026, 12, 8, 3, 30)  # 10:30 PM EST on Monday 7 December
    assert added_text(20, late, "America/New_York", evening) == (
        "The proctor added 20 minutes. New end time 1:58 AM EST on Tuesday 8 December.")
    assert added_text(20, late, "America/New_York", late) == "The proctor added 20 minutes. New end time 1:58 AM EST."


# -- staff look a confirmation number up ----------------------------------------------------------------
def test_staff_find_a_confirmation_number_in_the_room_view_and_the_cli(dcourse, form_id):
    from click.testing import CliRunner

    from exam_builder.cli import cli
    from exam_builder.delivery.proctor import ProctorDashboard

    sid = formkit.add_sitting(dcourse, "c004", "LOOK-MEUP", form_id)
    cs = CandidateSession(dcourse).sign_in("LOOK-MEUP")
    cs.start()
    cs.answer("tf-hope", "A")
    number = cs.submit().confirmation
    dash = ProctorDashboard(dcourse, formkit.EXAM)
    dash.find.submit(number.lower().replace("-", ""))  # typed as heard
    assert (f"{number}: Pat3 Example3 "
            "(c004)") in dash.find_message.value and "by the candidate" in dash.find_message.value
    dash.find.submit("ZZZZ-ZZZZ")
    assert "No submitted sitting has confirmation number ZZZZ-ZZZZ" in dash.find_message.value
    dash.find.submit("K7Q4-9MZ")  # a letter short
    assert "is not a confirmation number" in dash.find_message.value and "eb-error" in dash.find_message.value

    run = lambda *a: CliRunner().invoke(cli, ["--course", str(dcourse.root), *a])  # noqa: E731
    got = run("attempts", "--confirmation", number)
    assert got.exit_code == 0, got.output
    assert number in got.output and "c004" in got.output and "Pat3 Example3" in got.output and str(sid) in got.output
    got = run("attempts", "c004")
    assert got.exit_code == 0 and "confirmation" in got.output and number in got.output
    got = run("attempts", "--confirmation", "ZZZZ-ZZZZ")
    assert got.exit_code == 1 and "no submitted sitting has confirmation number ZZZZ-ZZZZ" in got.output
    got = run("attempts", "--confirmation", "K7Q4")
    assert got.exit_code != 0 and "is not a confirmation number" in got.output
    got = run("attempts")
    assert got.exit_code == 2 and "give a CANDIDATE" in got.output
