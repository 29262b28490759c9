"""The records commands end to end (click runner on a real course database), and the demo stage."""
from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from records_kit import EXAM, ZONE, add_exam, policy
from rich.console import Console
from sqlalchemy import select

from exam_builder import clock
from exam_builder.cli import cli
from exam_builder.demo import DemoContext
from exam_builder.records.ledger import open_sitting, record_outcome, void_sitting
from exam_builder.records.models import Accommodation, AuditEntry, Sitting

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
    said = " ".join(out.output.split())  # the count alone, its rule said once (never "4/4", read as "4 of 4")
    assert "modules late or absent" in said and "4 or more: no exam" in said and "4/4" not in said
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
        first = open_sitting(s, policy(waiting_period_days=0), "c1", EXAM, "proctor", room="101", zone=ZONE)
        record_outcome(s, first.id, False, "grading", zone=ZONE)
        second = open_sitting(s, policy(waiting_period_days=0), "c1", EXAM, "proctor", room="101", zone=ZONE)
    with rcourse.db.transaction() as s:  # `exam-builder sitting void` (delivery) calls this
        void_sitting(s, second.id, "Proctor Ray", "fire alarm")
    today = clock.today(rcourse.zone)  # the room's date (in the evening in Boston, UTC's is tomorrow)
    out = _run(rcourse, "tutoring", "c1", EXAM, "--attended", today.isoformat(), "--by", "Tutor Kim")
    assert out.exit_code == 0 and "attended" in out.output
    out = _run(rcourse, "attempts", "c1")
    assert out.exit_code == 0
    for text in ("Ada Ashgrove", "fail", "voided", "fire alarm", today.isoformat()):
        assert text in out.output, text
    # then their standing, by the eligibility rules (the course's policy: 14 days' wait after a fail)
    assert (f"may sit {EXAM} again: not before {(today + dt.timedelta(days=14)).isoformat()} (waiting period after "
            f"a failed attempt); 2 attempts left; tutoring offered {today.isoformat()}, attended {today.isoformat()}"
            ) in out.output, out.output
    out = _run(rcourse, "attempts", "c2", "--exam", EXAM)
    assert "no sittings yet" in out.output and f"may sit {EXAM}: yes; 3 attempts left" in out.output, out.output
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


def _stored(course):
    from exam_builder.records.models import Candidate

    with course.db.read() as s:
        return {c.id: (c.email, c.cohort, c.training_ended_on) for c in s.execute(select(Candidate)).scalars()}


def _audits(course, action):
    with course.db.read() as s:
        return [e.details for e in s.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars()]


def test_roster_reimport_keeps_absent_columns_and_lists_every_change(rcourse, monkeypatch):
    """A sheet with fewer columns never blanks stored values; every change is listed; --dry-run writes nothing."""
    monkeypatch.chdir(rcourse.root)
    (rcourse.root / "roster.csv").write_text(ROSTER)
    assert _run(rcourse, "roster", "import", "roster.csv").exit_code == 0
    before = _stored(rcourse)
    # names only (no email, no cohort): nothing stored is blanked, and it says so
    (rcourse.root / "names.csv").write_text("candidate id,first name,last name\nc1,Ada,Ashgrove\nc2,Bea,Bellweather\n")
    out = _run(rcourse, "roster", "import", "names.csv")
    assert out.exit_code == 0, out.output
    assert "0 updated, 2 unchanged" in out.output and "kept as stored: email, cohort, training ended" in out.output
    assert _stored(rcourse) == before
    # a real change: listed old -> new, first in a dry run that writes nothing
    (rcourse.root / "moved.csv").write_text("candidate id,first name,last name,email\n"
                                            "c1,Ada,Ashgrove,ada@new.example.org\nc2,Bea,Bellweather,\n")
    audited = len(_audits(rcourse, "roster.import"))
    out = _run(rcourse, "roster", "import", "moved.csv", "--dry-run")
    assert out.exit_code == 0, out.output
    assert "would change (2):" in out.output
    assert "c1: email 'ada@example.org' -> 'ada@new.example.org'" in out.output
    assert "c2: email 'bea@example.org' -> (empty)" in out.output
    assert "dry run: nothing written" in out.output
    assert _stored(rcourse) == before and len(_audits(rcourse, "roster.import")) == audited
    out = _run(rcourse, "roster", "import", "moved.csv")
    assert out.exit_code == 0 and "changed (2):" in out.output and "2 updated" in out.output
    after = _stored(rcourse)
    assert after["c1"] == ("ada@new.example.org", "s26", None) and after["c2"] == (None, "s26", None)
    assert after["c3"] == before["c3"]
    details = _audits(rcourse, "roster.import")[-1]
    assert ["c1", "email", "ada@example.org", "ada@new.example.org"] in details["changed"]
    # the nbgrader student follows what is stored
    gb = rcourse.db.gradebook()
    try:
        assert gb.find_student("c1").email == "ada@new.example.org"
    finally:
        gb.close()


def test_homework_and_attendance_reimport_list_changes_and_keep_absent_columns(rcourse, monkeypatch):
    monkeypatch.chdir(rcourse.root)
    (rcourse.root / "roster.csv").write_text(ROSTER)
    _run(rcourse, "roster", "import", "roster.csv")
    (rcourse.root / "hw.csv").write_text("candidate id,assignment,class,score,max "
                                         "score\nc1,hw1,1,8,10\nc2,hw1,1,9,10\n")
    assert "2 new" in _run(rcourse, "homework", "import", "hw.csv").output
    # a list of who turned it in, without scores: the scores and class stay
    (rcourse.root / "turned.csv").write_text("candidate id,assignment,turned in\nc1,hw1,yes\nc2,hw1,yes\n")
    out = _run(rcourse, "homework", "import", "turned.csv")
    assert out.exit_code == 0 and "0 changed, 2 unchanged" in out.output, out.output
    from exam_builder.records.models import Homework

    def hw():
        with rcourse.db.read() as s:
            return {h.candidate_id: (h.class_no, h.turned_in, h.score, h.max_score)
                    for h in s.execute(select(Homework)).scalars()}

    assert hw() == {"c1": (1, True, 8.0, 10.0), "c2": (1, True, 9.0, 10.0)}
    (rcourse.root / "fix.csv").write_text("candidate id,assignment,score\nc1,hw1,7\n")
    out = _run(rcourse, "homework", "import", "fix.csv", "--dry-run")
    assert out.exit_code == 0 and "c1 / hw1: score 8 -> 7" in out.output and "nothing written" in out.output
    assert hw()["c1"] == (1, True, 8.0, 10.0)
    out = _run(rcourse, "homework", "import", "fix.csv")
    assert "changed (1):" in out.output and hw()["c1"] == (1, True, 7.0, 10.0)

    (rcourse.root / "att.csv").write_text("candidate,class,module,status\nc1,1,1,present\n")
    _run(rcourse, "attendance", "import", "att.csv")
    (rcourse.root / "att2.csv").write_text("candidate,module,status\nc1,1.1,late\n")
    out = _run(rcourse, "attendance", "import", "att2.csv", "--dry-run")
    assert out.exit_code == 0 and "c1 module 1.1: status 'present' -> 'late'" in out.output, out.output
    out = _run(rcourse, "attendance", "import", "att2.csv")
    assert "1 changed" in out.output and "changed (1):" in out.output


def test_attempts_and_the_audit_log_show_times_in_the_rooms_zone_and_name_it(rcourse, monkeypatch):
    """A room in another zone than the server's: `attempts` and `audit log` say the room's wall clock and its zone."""
    monkeypatch.chdir(rcourse.root)
    with open(rcourse.root / "nbgrader_config.py", "a") as fh:
        fh.write('\nc.DeliverySettings.timezone = "Asia/Kolkata"\n')  # UTC+5:30 all year: no daylight saving
    (rcourse.root / "roster.csv").write_text(ROSTER)
    _run(rcourse, "roster", "import", "roster.csv")
    with rcourse.db.transaction() as s:
        add_exam(s, labels="AB")
        sitting = open_sitting(s, policy(waiting_period_days=0), "c1", EXAM, "proctor", room="101", zone=ZONE)
        opened = sitting.opened_at
    with rcourse.db.read() as s:
        stamped = s.execute(select(AuditEntry.at).order_by(AuditEntry.id.desc())).scalars().first()
    ist = dt.timedelta(hours=5, minutes=30)
    out = _run(rcourse, "attempts", "c1")
    assert out.exit_code == 0 and f"{(opened + ist):%Y-%m-%d %H:%M} IST" in out.output, out.output
    out = _run(rcourse, "audit", "log")
    assert out.exit_code == 0 and f"{(stamped + ist):%Y-%m-%d %H:%M:%S} IST" in out.output, out.output
    assert " UTC " not in out.output


def test_roster_list_shows_when_training_ended(rcourse, monkeypatch):
    monkeypatch.chdir(rcourse.root)
    (rcourse.root / "roster.csv").write_text("candidate id,first name,last name,training ended\n"
                                             "c1,Ada,Ashgrove,2026-11-20\nc2,Bea,Bellweather,\n")
    assert _run(rcourse, "roster", "import", "roster.csv", "--by", "coordinator").exit_code == 0
    out = _run(rcourse, "roster", "list")
    assert out.exit_code == 0 and "training ended" in out.output
    rows = {line.split()[1]: line for line in out.output.splitlines() if line.split()[1:2] in (["c1"], ["c2"])}
    assert "2026-11-20" in rows["c1"] and "2026-11-20" not in rows["c2"]
