"""The records commands end to end (click runner on a real course database), and the demo stage."""
from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from rich.console import Console
from sqlalchemy import select

from exam_builder.cli import cli
from exam_builder.demo import DemoContext
from exam_builder.records.ledger import open_sitting, record_outcome, void_sitting
from exam_builder.records.models import Accommodation, AuditEntry, Sitting

from records_kit import EXAM, add_exam, policy

ROSTER = "candidate id,first name,last name,email,cohort\nc1,Ada,Ashgrove,ada@example.org,s26\n" \
         "c2,Bea,Bellweather,bea@example.org,s26\nc3,Cal,Cobblestone,cal@example.org,s26\n"


def _run(course, *args):
    """The command as a user runs it, on a wide terminal (rich folds cells on a narrow one)."""
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--course", str(course.root), *args],
                                                    catch_exceptions=False)


def test_roster_accommodation_attendance_eligibility_commands(rcourse, monkeypatch):
    monkeypatch.chdir(rcourse.root)
    (rcourse.root / "roster.csv").write_text(ROSTER)
    out = _run(rcourse, "roster", "import", "roster.csv", "--by", "coordinator")
    assert out.exit_code == 0 and "3 new" in out.output

    out = _run(rcourse, "accommodation", "request", "c1", "--kind", "extended_time", "--by", "coordinator")
    assert out.exit_code == 0 and "accommodation 1 requested" in out.output
    out = _run(rcourse, "accommodation", "approve", "1", "--by", "Coordinator Lee")
    assert out.exit_code == 1 and "no provider's letter on file" in out.output and "Traceback" not in out.output
    out = _run(rcourse, "accommodation", "approve", "1", "--by", "Coordinator Lee", "--letter-on-file", "2026-01-05")
    assert out.exit_code == 0 and "time limit 270 min" in out.output
    out = _run(rcourse, "accommodation", "request", "c2", "--kind", "other", "--details", "diagnosed with anxiety")
    assert out.exit_code == 1 and "look like medical information" in out.output
    out = _run(rcourse, "accommodation", "request", "c2", "--kind", "other", "--details", "seat near the door")
    assert out.exit_code == 0
    out = _run(rcourse, "accommodation", "revoke", "2", "--by", "Coordinator Lee")
    assert out.exit_code == 2 and "--reason" in out.output  # click: a required option
    out = _run(rcourse, "accommodation", "revoke", "2", "--by", "Coordinator Lee", "--reason", "not needed after all")
    assert out.exit_code == 0
    out = _run(rcourse, "accommodation", "list")
    assert out.exit_code == 0 and "approved" in out.output and "revoked" in out.output
    with rcourse.db.read() as s:
        accs = {a.id: (a.status, a.approved_by, a.revoked_by) for a in s.execute(select(Accommodation)).scalars()}
        actions = [(e.action, e.actor) for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]
    assert accs == {1: ("approved", "Coordinator Lee", None), 2: ("revoked", None, "Coordinator Lee")}
    assert actions[1:] == [("accommodation.request", "coordinator"), ("accommodation.approve", "Coordinator Lee"),
                           (actions[3][0], actions[3][1]), ("accommodation.revoke", "Coordinator Lee")]

    (rcourse.root / "att.csv").write_text("candidate,class,module,status\n" + "".join(
        f"c3,{c},{m},{'late' if (c, m) in {(2, 1), (3, 3), (5, 2), (6, 1)} else 'present'}\n"
        for c in range(1, 7) for m in range(1, 4)))
    out = _run(rcourse, "attendance", "import", "att.csv")
    assert out.exit_code == 0 and "18 new" in out.output
    out = _run(rcourse, "eligibility", EXAM, "--csv", "exports/eligibility.csv")
    assert out.exit_code == 0
    assert "2 of 3 eligible" in out.output
    text = (rcourse.root / "exports" / "eligibility.csv").read_text()
    assert "c3,Cal Cobblestone,s26,no,2.1 3.3 5.2 6.1" in text
    assert "late or absent for 4 modules: 2.1, 3.3, 5.2, 6.1" in text

    bad = rcourse.root / "bad.csv"
    bad.write_text("candidate,class,module,status\nc1,1,9,late\n")
    out = _run(rcourse, "attendance", "import", "bad.csv")
    assert out.exit_code == 1 and "bad.csv:row 1:column module" in out.output and "nothing was written" in out.output


def test_attempts_void_and_tutoring_commands(rcourse, monkeypatch):
    monkeypatch.chdir(rcourse.root)
    (rcourse.root / "roster.csv").write_text(ROSTER)
    _run(rcourse, "roster", "import", "roster.csv")
    with rcourse.db.transaction() as s:
        add_exam(s, labels="AB")
        first = open_sitting(s, policy(waiting_period_days=0), "c1", EXAM, "proctor", room="101")
        record_outcome(s, first.id, False, "grading")
        second = open_sitting(s, policy(waiting_period_days=0), "c1", EXAM, "proctor", room="101")
    with rcourse.db.transaction() as s:  # `exam-builder sitting void` (delivery) calls this
        void_sitting(s, second.id, "Proctor Ray", "fire alarm")
    out = _run(rcourse, "tutoring", "c1", EXAM, "--attended", dt.date.today().isoformat(), "--by", "Tutor Kim")
    assert out.exit_code == 0 and "attended" in out.output
    out = _run(rcourse, "attempts", "c1")
    assert out.exit_code == 0
    for text in ("Ada Ashgrove", "fail", "voided", "fire alarm", dt.date.today().isoformat()):
        assert text in out.output, text
    out = _run(rcourse, "attempts", "nobody")
    assert out.exit_code == 1 and "no candidate 'nobody'" in out.output
    with rcourse.db.read() as s:
        assert s.get(Sitting, second.id).attempt_no is None


def test_demo_stage_imports_the_made_up_cohort(rcourse):
    from exam_builder.demo.stages import records as stage

    ctx = DemoContext(course=rcourse, console=Console(width=160, record=True, file=open("/dev/null", "w")))
    stage.run(ctx)
    ids = ctx.state["candidates"]
    assert len(ids) == 60 and ids == sorted(ids)
    not_eligible = sorted(set(ids) - set(ctx.state["eligible"]))
    assert not_eligible == [stage.cid(n) for n in sorted(k for k, v in stage.EDGES.items() if len(v) >= 4)]
    assert stage.cid(12) in ctx.state["eligible"]  # exactly 3 late or absent
    assert ctx.state["accommodations"][stage.cid(stage.SCRIBE)] == ["scribe"]
    assert stage.cid(stage.REQUESTED_ONLY) not in ctx.state["accommodations"]
    assert (rcourse.root / "rosters" / "roster.csv").exists()
    text = ctx.console.export_text()
    assert "late or absent for 4 modules: 2.1, 3.3, 5.2, 6.1" in text  # cps26-019
    with rcourse.db.read() as s:
        from exam_builder.records.accommodations import personal_time_limit

        assert personal_time_limit(s, rcourse.policy, stage.cid(3)) == 270
        assert personal_time_limit(s, rcourse.policy, stage.cid(27)) == 360
        assert personal_time_limit(s, rcourse.policy, stage.cid(stage.REQUESTED_ONLY)) == 180
    stage.run(DemoContext(course=rcourse, console=Console(file=open("/dev/null", "w"))))  # again: idempotent
    with rcourse.db.read() as s:
        assert len(s.execute(select(Accommodation)).all()) == 7
