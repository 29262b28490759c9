"""Opening sittings through the ledger (CLI), the proctor's audited actions, and collection."""
from __future__ import annotations

import datetime as dt
import html
import json
import re

import delivery_formkit as formkit
import nbformat
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from exam_builder.cli import cli
from exam_builder.delivery.collect import collect
from exam_builder.delivery.session import CandidateSession, code_hash
from exam_builder.records import audit
from exam_builder.records.models import Attendance, AuditEntry, Sitting, utcnow


def run(course, *args):
    return CliRunner().invoke(cli, ["--course", str(course.root), *args], catch_exceptions=False)


def _make_ineligible(course):
    with course.db.transaction() as s:
        for m in range(1, 5):  # late or absent for 4 modules
            s.add(Attendance(candidate_id="c002", class_no=1 + (m > 3), module_no=1 + (m - 1) % 3, status="absent"))
        for n in (1, 2, 3):  # no attempts left
            s.add(Sitting(candidate_id="c003", exam_id=formkit.EXAM, seq=n, attempt_no=n, form_id=1, status="submitted",
                          time_limit_minutes=180, submitted_at=utcnow(), outcome="fail" if n < 3 else None))


def test_sitting_open_prints_codes_keeps_hashes_and_says_why_not(dcourse, form_id):
    _make_ineligible(dcourse)
    res = run(dcourse, "sitting", "open", "cps", "--room", "B-12", "--by", "coordinator-lee")
    assert res.exit_code == 0, res.output
    codes = dict(re.findall(r"(c00\d)\s.*?([A-Z2-9]{4}-[A-Z2-9]{4})", res.output))
    assert set(codes) == {"c001", "c004", "c005", "c006"}
    assert "no code for c002" in res.output and "4 modules" in res.output
    assert "no code for c003" in res.output
    cards = list((dcourse.root / "exports").glob("seat-cards-cps-B-12-*.html"))
    assert len(cards) == 1 and all(code in cards[0].read_text() for code in codes.values())
    with dcourse.db.read() as s:
        opened = {x.candidate_id: x for x in s.execute(select(Sitting).where(Sitting.room == "B-12")).scalars()}
        assert {c: x.access_code_hash for c, x in opened.items()} == {c: code_hash(dcourse, k) for c,
                                                                      k in codes.items()}
        dump = json.dumps([[getattr(x, col.name) for col in Sitting.__table__.columns] for x in opened.values()],
                          default=str)
        assert not any(code in dump for code in codes.values())  # only hashes are stored
        assert [e.action for e in s.execute(select(AuditEntry)).scalars()].count("sitting.open") == 4
    cs = CandidateSession(dcourse).sign_in(codes["c004"])
    assert cs.candidate_id == "c004"


def test_add_time_and_void_from_the_command_line(dcourse, form_id):
    sid = formkit.add_sitting(dcourse, "c001", "CLIX-CLIX", form_id, started_ago=dt.timedelta(minutes=10))
    bad = CliRunner().invoke(cli, ["--course", str(dcourse.root), "sitting", "add-time", str(sid), "0",
                                   "--reason", "x", "--by", "kim"])
    assert bad.exit_code == 1 and "between 1 and" in bad.output
    res = run(dcourse, "sitting", "add-time", str(sid), "15", "--reason", "fire alarm", "--by", "proctor-kim")
    assert res.exit_code == 0 and "+15 min" in res.output
    res = run(dcourse, "sitting", "void", str(sid), "--reason", "left ill", "--by", "proctor-kim")
    assert res.exit_code == 0, res.output
    missing = CliRunner().invoke(cli, ["--course", str(dcourse.root), "sitting", "add-time", "999", "5",
                                       "--reason", "x", "--by", "kim"])
    assert missing.exit_code == 1 and "no sitting 999" in missing.output
    with dcourse.db.read() as s:
        sit = s.get(Sitting, sid)
        assert sit.extra_minutes == 15 and sit.status == "voided" and sit.attempt_no is None
        assert [(e.action, e.reason) for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()] == [
            ("add_time", "fire alarm"), ("sitting.void", "left ill")]
        assert audit.verify(s).ok


def _sit(dcourse, form_id, cand, code, answers):
    formkit.add_sitting(dcourse, cand, code, form_id)
    cs = CandidateSession(dcourse).sign_in(code)
    cs.start()
    for item, value in answers.items():
        cs.answer(item, value)
    return cs


def test_collect_writes_nbgrader_submissions_atomically_and_idempotently(dcourse, form_id):
    text = 'I\'d say "hope" <script>alert(1)</script> & listen'
    a = _sit(dcourse, form_id, "c001", "COLL-AAAA", {"tf-hope": "B", "sc-q2": "C", "or-story": text})
    rec = a.submit()
    _sit(dcourse, form_id, "c002", "COLL-BBBB", {"tf-hope": "A"})  # still in progress: not collected
    res = collect(dcourse, formkit.EXAM)
    folder = dcourse.root / "submitted" / "c001" / formkit.ASSIGNMENT
    assert res.written == [folder / f"{formkit.ASSIGNMENT}.ipynb"]
    assert not (dcourse.root / "submitted" / "c002").exists()
    nb = nbformat.read(str(folder / f"{formkit.ASSIGNMENT}.ipynb"), as_version=4)
    nbformat.validate(nb)
    answers = {c.metadata.nbgrader["grade_id"]: c.source for c in nb.cells
               if c.metadata.get("exam_builder", {}).get("role") == "answer"}
    assert answers == {"q01-answer": 'q01 = "B"', "q02-answer": "q02 = None", "q03-answer": "q03 = None",
                       "q04-answer": 'q04 = "C"', "q05": html.escape(text)}
    stamp = (folder / "timestamp.txt").read_text()
    from nbgrader.utils import parse_utc

    assert parse_utc(stamp) == rec.submitted_at
    again = collect(dcourse, formkit.EXAM)
    assert again.written == [] and len(again.unchanged) == 1
    assert not list(folder.glob(".*tmp"))


def test_collect_keeps_each_candidates_latest_answers_apart(dcourse, form_id):
    """Journals of many sittings are read together: each submission gets its own latest answers."""
    a = _sit(dcourse, form_id, "c001", "MANY-AAAA", {"tf-hope": "A", "sc-q2": "B"})
    a.answer("tf-hope", "B")  # changed: the latest row wins
    a.flag("sc-q2")  # a flag row repeats the value
    a.submit()
    b = _sit(dcourse, form_id, "c002", "MANY-BBBB", {"tf-hope": "A", "mc-mutual": "C"})
    b.answer("mc-mutual", None)  # cleared
    b.submit()
    collect(dcourse, formkit.EXAM)

    def answers(cand):
        path = dcourse.root / "submitted" / cand / formkit.ASSIGNMENT / f"{formkit.ASSIGNMENT}.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        return {c.metadata.nbgrader["grade_id"]: c.source for c in nb.cells
                if c.metadata.get("exam_builder", {}).get("role") == "answer" and c.cell_type == "code"}

    assert answers("c001") == {"q01-answer": 'q01 = "B"', "q02-answer": "q02 = None", "q03-answer": "q03 = None",
                               "q04-answer": 'q04 = "B"'}
    assert answers("c002") == {"q01-answer": 'q01 = "A"', "q02-answer": "q02 = None", "q03-answer": "q03 = None",
                               "q04-answer": "q04 = None"}


def test_collect_refuses_a_journal_value_that_is_not_a_label(dcourse, form_id):
    from exam_builder.errors import ValidationFailed
    from exam_builder.records.models import Response

    a = _sit(dcourse, form_id, "c001", "JUNK-JUNK", {"tf-hope": "A"})
    a.submit()
    with dcourse.db.transaction() as s:  # a row written behind the app's back
        s.add(Response(sitting_id=a.sitting_id, item_id="mc-mutual", value="__import__('os')"))
    with pytest.raises(ValidationFailed) as exc:
        collect(dcourse, formkit.EXAM)
    assert "not a choice label" in str(exc.value) and "mc-mutual" in str(exc.value)
    assert not (dcourse.root / "submitted").exists()  # nothing half-written


@pytest.mark.slow
def test_stock_nbgrader_autograde_grades_a_collected_submission(dcourse, form_id):
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    from exam_builder.records.models import Candidate

    a = _sit(dcourse, form_id, "c001", "AUTO-GRAD", {"tf-hope": "A", "mc-mutual": "B", "sc-q1": "B", "sc-q2": "C"})
    a.submit()
    collect(dcourse, formkit.EXAM)
    cfg = Config(dcourse.nbgrader_config())
    api = NbGraderAPI(config=cfg)
    with dcourse.db.read() as s:
        assert s.get(Candidate, "c001") is not None
    out = api.autograde(formkit.ASSIGNMENT, "c001", force=True, create=True)
    assert out["success"], out.get("error") or out.get("log")
    gb = dcourse.db.gradebook()
    try:
        sub = gb.find_submission_notebook(formkit.ASSIGNMENT, formkit.ASSIGNMENT, "c001")
        auto = {g.name: g.auto_score for g in sub.grades}
    finally:
        gb.close()
    assert auto["q01"] == 1 and auto["q02"] == 0 and auto["q03"] == 1 and auto["q04"] == 1
