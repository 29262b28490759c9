"""The candidate's sitting without a browser: journaling, resume, deadline, refusals, receipt."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import delivery_formkit as formkit
import pytest
from sqlalchemy import select

from exam_builder.delivery.form_view import load_form_view, released_notebook_path
from exam_builder.delivery.session import (
    CandidateSession,
    SignInFailed,
    SittingClosed,
    TakenOver,
    format_minutes,
    hash_code,
)
from exam_builder.errors import ExamBuilderError, ValidationFailed
from exam_builder.records.models import Response, Sitting, SittingEvent, utcnow


class Clock:
    """A server clock the test moves forward."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += dt.timedelta(**kw)


def test_view_comes_from_the_released_notebook_without_keys(dcourse):
    path = released_notebook_path(dcourse, formkit.ASSIGNMENT)
    assert path == dcourse.root / "release" / formkit.ASSIGNMENT / f"{formkit.ASSIGNMENT}.ipynb"
    view = load_form_view(path)
    assert [it.item_id for it in view.items] == [i[1] for i in formkit.ITEMS]
    assert view.items[2].scenario == "sc-dana" and "Dana" in view.scenarios["sc-dana"].text
    assert view.items[1].labels == ("A", "B", "C")
    assert "Both people learn" not in view.items[1].stem  # choices are controls, not repeated text
    assert view.items[1].stem == "What makes peer support mutual?"  # no "**Question 2**" line either
    assert "BEGIN SOLUTION" not in path.read_text()


#: What a candidate's kernel never needs, at sign-in or while answering: each was once pulled in by a
#: top-level import somewhere in its chain, or would cost every seat megabytes (issue 22 §4's 100 MB a
#: seat). The item model (pydantic, about 8 MB) is the kinds' only when they parse, validate or write an
#: item; nbformat, nbgrader and the manifest (the keys) never belong in a candidate's kernel at all.
NOT_IN_A_KERNEL = ("pydantic", "pydantic_core", "exam_builder.model.item", "exam_builder.model.manifest",
                   "exam_builder.model.rubric", "nbformat", "nbgrader", "nbconvert", "jinja2", "alembic", "pandas",
                   "numpy", "scipy", "matplotlib", "statsmodels", "lxml", "voila", "jupyter_server", "click",
                   "exam_builder.bank", "exam_builder.assembly", "exam_builder.grading", "exam_builder.qti",
                   "exam_builder.analysis", "exam_builder.reports", "exam_builder.cli")


def test_the_candidate_kernel_stays_light(dcourse):
    """A warm kernel runs ``exam.ipynb``'s code cell (Voila's preheat): a fresh process that runs that
    cell on a course shows the sign-in screen and has imported none of ``NOT_IN_A_KERNEL``."""
    import os
    import subprocess
    import sys

    from exam_builder.delivery.server import EXAM_NOTEBOOK

    cells = ["".join(c["source"]) for c in json.loads(EXAM_NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    code = ("import json, sys\nns = {}\n" + "".join(f"exec({c!r}, ns)\n" for c in cells)
            + "app = ns['app']\n"
            + f"print(json.dumps([type(app).__name__, app.screen, sorted(m for m in {NOT_IN_A_KERNEL!r} "
              "if sys.modules.get(m) is not None)]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=dcourse.root,
                          env={**os.environ, "EXAM_BUILDER_COURSE": str(dcourse.root)})
    assert proc.returncode == 0, proc.stderr
    kind, screen, loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (kind, screen) == ("CandidateApp", "sign_in"), proc.stdout  # the app ran: the check is not idle
    assert loaded == [], f"a candidate's kernel imported {loaded}: import them where they are used"


def test_a_source_notebook_is_refused(dcourse):
    src = dcourse.source_dir / formkit.ASSIGNMENT / f"{formkit.ASSIGNMENT}.ipynb"
    with pytest.raises(ValidationFailed) as exc:
        load_form_view(src, dcourse.root)
    assert "cell" in str(exc.value) and "not a released notebook" in str(exc.value)


def test_sign_in_start_answer_journal_and_receipt(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c001", "ABCD-EFGH", form_id, minutes=270)
    with pytest.raises(SignInFailed):
        CandidateSession(dcourse).sign_in("ABCD-EFGX")
    cs = CandidateSession(dcourse).sign_in("abcd efgh")  # typed loosely
    assert cs.sitting_id == sid and cs.candidate_name == "Pat0 Example0"
    assert cs.time_limit_text == "4 hours 30 minutes"
    with pytest.raises(SittingClosed):
        cs.answer("tf-hope", "A")  # not started yet
    cs.confirm_identity()
    first = cs.start()
    assert cs.start() == first  # only once
    cs.answer("tf-hope", "B")
    cs.answer("tf-hope", "A")
    cs.answer("or-story", "I'd <b>listen</b> first")
    cs.flag("mc-mutual")
    with pytest.raises(ExamBuilderError):
        cs.answer("mc-mutual", "Z")  # not a label
    with pytest.raises(ExamBuilderError):
        cs.answer("no-such-item", "A")
    with dcourse.db.read() as s:
        rows = s.execute(select(Response).where(Response.sitting_id == sid).order_by(Response.id)).scalars().all()
        journal = [(r.item_id, r.value, r.flagged) for r in rows]
    assert journal == [
        ("tf-hope", "B", False), ("tf-hope", "A", False), ("or-story", "I'd <b>listen</b> first", False),
        ("mc-mutual", None, True)]
    nav = {e.number: e for e in cs.navigator()}
    assert nav[1].answered and not nav[2].answered and nav[2].flagged and nav[5].answered
    assert [i.number for i in cs.unanswered()] == [2, 3, 4]
    rec = cs.submit()
    expected = hashlib.sha256(json.dumps({"sitting": sid,
                                          "answers": {"tf-hope": "A", "or-story": "I'd <b>listen</b> first",
                                                                      "mc-mutual": None}}, sort_keys=True,
                                         separators=(",", ":")).encode()).hexdigest()
    assert rec.sha256 == expected and rec.reason == "candidate" and rec.answered == 2 and rec.total == 5
    assert cs.submit() == rec  # idempotent


def test_resume_with_a_new_session_object_keeps_every_answer(dcourse, form_id):
    formkit.add_sitting(dcourse, "c002", "RESU-MEME", form_id)
    a = CandidateSession(dcourse).sign_in("RESU-MEME")
    a.start()
    a.answer("sc-q1", "B")
    a.answer("sc-q2", "C")
    a.flag("sc-q2")
    b = CandidateSession(dcourse).sign_in("RESU-MEME")  # a reload: a new kernel, a new object
    assert b.started
    assert {k: (v.value, v.flagged) for k, v in b.answers().items()} == {"sc-q1": ("B", False), "sc-q2": ("C", True)}
    with dcourse.db.read() as s:
        kinds = [e.kind for e in s.execute(select(SittingEvent).order_by(SittingEvent.id)).scalars()]
    assert kinds[:2] == ["sign_in", "start"] and "resume" in kinds


def test_where_the_candidate_was_goes_with_a_save_and_a_takeover_opens_there(dcourse, form_id):
    """``go_to`` costs no write of its own: the position goes with the next answer saved (or
    ``save_position``, the app's periodic re-read); a takeover reads it; the page taken over writes none."""
    sid = formkit.add_sitting(dcourse, "c002", "WHER-EWAS", form_id)

    def kept() -> int | None:
        with dcourse.db.read() as s:
            return s.get(Sitting, sid).at_question

    a = CandidateSession(dcourse).sign_in("WHER-EWAS")
    a.start()
    a.go_to(3)
    assert kept() is None  # nothing written for a move alone
    a.answer("sc-q1", "B")
    assert kept() == 3 and a.at_question == 3  # with the save
    a.go_to(4)
    a.save_position()
    assert kept() == 4
    b = CandidateSession(dcourse).sign_in("WHER-EWAS")  # another browser takes it over
    assert b.at_question == 4
    a.go_to(1)
    with pytest.raises(TakenOver):
        a.save_position()
    assert kept() == 4


def test_a_typed_answer_is_kept_as_typed_without_invisible_characters(dcourse, form_id):
    """NUL, other control characters and bidi overrides never reach the journal; the words,
    tabs and line breaks (as "\n") do, and a reload shows exactly what was stored."""
    formkit.add_sitting(dcourse, "c003", "TEXT-CLEN", form_id)
    cs = CandidateSession(dcourse).sign_in("TEXT-CLEN")
    cs.start()
    cs.answer("or-story", "I would\x00 listen\r\nfirst\u202e\tthen ask 🙂")
    again = CandidateSession(dcourse).sign_in("TEXT-CLEN")
    assert again.answers()["or-story"].value == "I would listen\nfirst\tthen ask 🙂"


def test_deadline_submits_automatically_and_refuses_later_changes(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c003", "LATE-LATE", form_id, minutes=1)
    clock = Clock()
    cs = CandidateSession(dcourse, clock=clock).sign_in("LATE-LATE")
    cs.start()
    cs.answer("tf-hope", "A")
    assert cs.time_left() == dt.timedelta(minutes=1)
    clock.advance(seconds=30)
    assert cs.check_deadline() is None
    clock.advance(seconds=31)
    with pytest.raises(SittingClosed):
        cs.answer("tf-hope", "B")  # the deadline passed before the timer noticed
    with dcourse.db.read() as s:
        sit = s.get(Sitting, sid)
        assert sit.status == "submitted" and sit.submit_reason == "deadline"
        assert sit.submitted_at == sit.deadline  # the clock ran out at the deadline
        events = s.execute(select(SittingEvent).where(SittingEvent.kind == "refused_change")).scalars().all()
        assert [e.details["why"] for e in events] == ["after the deadline"]
        assert [r.value for r in s.execute(select(Response).where(Response.sitting_id == sid)).scalars()] == ["A"]
    assert cs.receipt().reason == "deadline"


def test_check_deadline_is_the_timer(dcourse, form_id):
    formkit.add_sitting(dcourse, "c004", "TIME-RUNS", form_id, minutes=1)
    clock = Clock()
    cs = CandidateSession(dcourse, clock=clock).sign_in("TIME-RUNS")
    cs.start()
    clock.advance(minutes=2)
    rec = cs.check_deadline()
    assert rec is not None and rec.reason == "deadline" and rec.answered == 0
    with pytest.raises(SittingClosed):
        cs.flag("tf-hope")


def test_added_time_moves_the_deadline_and_scribe_is_recorded(dcourse, form_id):
    from exam_builder.delivery import sittings
    from exam_builder.records import audit
    from exam_builder.records.models import AuditEntry

    sid = formkit.add_sitting(dcourse, "c005", "MORE-TIME", form_id, minutes=1)
    clock = Clock()
    cs = CandidateSession(dcourse, clock=clock).sign_in("MORE-TIME")
    cs.start()
    with pytest.raises(ExamBuilderError, match="reason"):
        sittings.add_time(dcourse, sid, 10, "proctor-kim", "")
    sittings.add_time(dcourse, sid, 10, "proctor-kim", "fire alarm")
    sittings.record_scribe(dcourse, sid, "Lee Scribe", "proctor-kim", "approved scribe")
    clock.advance(minutes=5)
    assert cs.check_deadline() is None
    cs.answer("tf-hope", "B")
    assert cs.time_left() == dt.timedelta(minutes=6)
    with dcourse.db.read() as s:
        r = s.execute(select(Response).where(Response.sitting_id == sid)).scalar_one()
        assert r.entered_by == "Lee Scribe"
        entries = s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        assert [(e.action, e.actor, e.reason) for e in entries] == [
            ("add_time", "proctor-kim", "fire alarm"), ("record_scribe", "proctor-kim", "approved scribe")]
        assert audit.verify(s).ok


def test_voided_sitting_cannot_sign_in(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c006", "VOID-VOID", form_id)
    with dcourse.db.transaction() as s:
        s.get(Sitting, sid).status = "voided"
    with pytest.raises(SignInFailed, match="proctor"):
        CandidateSession(dcourse).sign_in("VOID-VOID")


def test_format_minutes():
    assert format_minutes(180) == "3 hours"
    assert format_minutes(270) == "4 hours 30 minutes"
    assert format_minutes(61) == "1 hour 1 minute"
    assert format_minutes(0) == "0 minutes"
    key = b"k" * 32
    assert hash_code("ab-cd", key) == hash_code("ABCD", key) != hash_code("ABCE", key)
