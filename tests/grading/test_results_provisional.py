"""Results read "provisional" everywhere a result is shown until key validation is closed (issue 26).

Through the real CLI on the grading tests' course, scored and rated: ``exam-builder results`` says
"pass (provisional)" / "fail (provisional)" with a caption saying why, the ``--csv`` file has a
``provisional`` column (yes), and the program's report counts the provisional results. After
``exam-builder keys close`` the same commands read final: no "(provisional)", the column says no,
the report says nothing of it. The candidate's record (``exam-builder attempts``) follows the same rule.
"""
from __future__ import annotations

import csv
import json

import gradingkit as kit
from click.testing import CliRunner
from test_key_validation import scored  # noqa: F401  (the fixture: scored, rated, outcomes recorded)

from exam_builder.cli import cli


def cli_run(course, *args: str) -> str:
    out = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--course", str(course.root), *args], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    return " ".join(out.output.split())


def shown(course, tmp_path, name: str) -> tuple[str, list[dict], str]:
    """The results table, the CSV's rows and the program report's cohort section, as a person reads them."""
    out = tmp_path / f"{name}.csv"
    table = cli_run(course, "results", kit.EXAM, "--csv", str(out), "--by", "Carla")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    cli_run(course, "report", kit.EXAM, "--out", str(tmp_path / name))
    machine = json.loads((tmp_path / name / "report.json").read_text(encoding="utf-8"))
    cohort = " ".join(next(sec["text"] for sec in machine["sections"] if sec["title"] == "Cohort"))
    return table, rows, cohort


def test_results_table_csv_and_report_say_provisional_until_key_validation_is_closed(scored, tmp_path):  # noqa: F811
    course = scored
    table, rows, cohort = shown(course, tmp_path, "open")
    assert len(rows) == 6 and {r["result"] for r in rows} <= {"pass", "fail"}
    assert list(rows[0]).index("provisional") == list(rows[0]).index("result") + 1
    assert [r["provisional"] for r in rows] == ["yes"] * 6
    words = [f"{r['result']} (provisional)" for r in rows]
    assert sum(table.count(w) for w in set(words)) == 6, table
    assert ("6 result(s) provisional: the exam's key validation is not closed yet, so a key decision may still "
            "change them (exam-builder keys validate, then keys close).") in table
    assert ("6 of the 6 pass or fail result(s) are provisional: key validation is not closed yet, so a key "
            "decision may still change them.") in cohort
    record = cli_run(course, "attempts", rows[0]["candidate"])  # the candidate's record shows the outcome too
    assert f"{rows[0]['result']} (provisional)" in record

    cli_run(course, "keys", "close", kit.EXAM, "--by", "Carla", "--reason", "reviewed with the items' authors")
    table, rows, cohort = shown(course, tmp_path, "closed")
    assert len(rows) == 6 and [r["provisional"] for r in rows] == ["no"] * 6
    assert "provisional" not in table and "provisional" not in cohort
    record = cli_run(course, "attempts", rows[0]["candidate"])
    assert rows[0]["result"] in record and "provisional" not in record
    assert sum(table.count(f" {r['result']} ") for r in rows) >= 6  # the results themselves are still shown


def test_a_key_decision_recorded_after_closure_but_not_applied_makes_the_results_of_its_form_provisional(
        scored, tmp_path):  # noqa: F811
    """After ``keys close`` a decision recorded (not applied) may still change the results of the forms holding
    its item: those read provisional (the caption names the decision), a pass's next step is not "certified"
    yet, ``keys close`` refuses; once applied and closed again, final."""
    from exam_builder.assembly.forms import load_forms
    from exam_builder.kinds import keyed_entries

    course = scored
    cli_run(course, "keys", "close", kit.EXAM, "--by", "Carla", "--reason", "first window reviewed")
    with course.db.read() as s:
        manifests = {f.assignment: m for f, m in load_forms(s, kit.EXAM)}
    assignment, m = sorted(manifests.items())[0]
    item = next(e.item_id for e in keyed_entries(m)
                if sum(e.item_id in {x.item_id for x in mm.items} for mm in manifests.values()) == 1)  # one form's
    cli_run(course, "keys", "decide", kit.EXAM, item, "credit", "--reason", "the stem was ambiguous", "--by", "Carla")
    table, rows, _cohort = shown(course, tmp_path, "decided")
    on = [r for r in rows if r["form"] == assignment]
    assert on and [r["provisional"] for r in on] == ["yes"] * len(on)
    assert [r["provisional"] for r in rows if r["form"] != assignment] == ["no"] * (len(rows) - len(on))
    assert f"{len(on)} result(s) provisional: key decision(s) 1 on {item} are recorded but not applied" in table
    for r in on:
        assert r["next_step"] != "certified"
        if r["result"] == "pass":
            assert r["next_step"] == "certified once key validation closes"
    assert f"{on[0]['result']} (provisional)" in cli_run(course, "attempts", on[0]["candidate"])
    # the reports already written say so at once (no `feedback` run): headline and next step
    for r in on:
        page = report_words(course, r["candidate"], assignment)
        assert "Provisional result." in page and "Congratulations" not in page
        if r["result"] == "pass":
            assert "Passed (provisional)" in page and "Your pass is provisional" in page
    for r in rows:
        if r["form"] != assignment:
            assert "provisional" not in report_words(course, r["candidate"], r["form"]).lower()
    out = CliRunner().invoke(cli, ["--course", str(course.root), "keys", "close", kit.EXAM, "--by", "Carla"])
    assert out.exit_code == 1 and "1 on " + item in out.output and "recorded but not applied" in out.output

    cli_run(course, "keys", "apply", kit.EXAM, "1", "--by", "Carla")
    cli_run(course, "keys", "close", kit.EXAM, "--by", "Carla", "--reason", "credit applied")
    table, rows, _cohort = shown(course, tmp_path, "applied")
    assert [r["provisional"] for r in rows] == ["no"] * len(rows) and "provisional" not in table
    assert {r["next_step"] for r in rows if r["result"] == "pass"} <= {"certified"}
    for r in rows:
        page = report_words(course, r["candidate"], r["form"])
        assert "provisional" not in page.lower()
        assert ("Congratulations: you have passed" in page) == (r["result"] == "pass")


def report_words(course, candidate: str, assignment: str) -> str:
    """The candidate's score report as a person reads it (its words, tags dropped)."""
    import re

    html = (course.feedback_path(candidate, assignment) / f"{assignment}.html").read_text(encoding="utf-8")
    return " ".join(re.sub(r"<[^>]+>", " ", html.split("<main>")[1]).split())


def test_a_closure_reads_when_it_was_closed_even_when_a_sitting_is_stamped_ahead_of_the_clock(scored):  # noqa: F811
    """A sitting stamped after now (the demo simulates its submissions ahead of the clock) is still covered by a
    closure made now, but the closure reads as made now, by whom, as its audit entry says, not at that sitting's
    time; ``keys validate`` and the desk read the same."""
    import datetime as dt

    from sqlalchemy import select

    from exam_builder import clock
    from exam_builder.analysis.keys import closure_text
    from exam_builder.grading.results import compute_results
    from exam_builder.records.models import AuditEntry, Sitting, utcnow

    course = scored
    ahead = utcnow() + dt.timedelta(hours=3)
    with course.db.transaction() as s:
        sit = s.execute(select(Sitting).where(Sitting.exam_id == kit.EXAM, Sitting.status == "submitted")
                        .order_by(Sitting.id)).scalars().first()
        sit.submitted_at = ahead
    cli_run(course, "keys", "close", kit.EXAM, "--by", "Walk Coordinator", "--reason", "reviewed")
    with course.db.read() as s:
        at = s.execute(select(AuditEntry.at).where(AuditEntry.action == "key.closed")).scalar_one()
    assert not any(r.provisional for r in compute_results(course, kit.EXAM))  # the one ahead is covered too
    said = closure_text(course, kit.EXAM)
    assert said == f"key validation closed {clock.shown(at, course.zone)} by Walk Coordinator"
    assert clock.shown(ahead, course.zone) not in said
    assert f"closed {clock.shown(at, course.zone)} by Walk Coordinator" in cli_run(course, "keys", "validate",
                                                                                 kit.EXAM)
