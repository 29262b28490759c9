"""The audit chain: intact after real changes, broken by a tampered or a deleted row."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from records_kit import ZONE, add_candidates
from sqlalchemy import text

from exam_builder.cli import cli
from exam_builder.records import accommodations, audit


def _some_history(course) -> None:
    with course.db.transaction() as s:
        add_candidates(s, "ann", "bo")
        a = accommodations.request(s, course.policy, "ann", "extended_time", "coordinator",
                                   letter_on_file=dt.date(2026, 1, 2), zone=ZONE)
        accommodations.approve(s, a.id, "coordinator Lee", "letter checked", zone=ZONE)
        b = accommodations.request(s, course.policy, "bo", "scribe", "coordinator", zone=ZONE)
        accommodations.revoke(s, b.id, "coordinator Lee", "withdrawn by the candidate", zone=ZONE)


def _verify(course):
    with course.db.read() as s:
        return audit.verify(s)


def test_chain_verifies_after_real_changes(any_course):
    _some_history(any_course)
    report = _verify(any_course)
    assert report.ok and report.entries == 4


@pytest.mark.parametrize("column, value", [("reason", "no reason"), ("actor", "someone else"),
                                           ("details", '{"multiplier": 3.0}')])
def test_a_tampered_row_breaks_the_chain_there(any_course, column, value):
    _some_history(any_course)
    with any_course.db.engine.begin() as conn:
        conn.execute(text(f"UPDATE eb_audit SET {column} = :v WHERE id = 3"), {"v": value})
    report = _verify(any_course)
    assert (report.ok, report.broken_at) == (False, 3)
    assert "changed after it was written" in report.problem


def test_a_deleted_row_breaks_the_chain_at_the_next(any_course):
    _some_history(any_course)
    with any_course.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM eb_audit WHERE id = 2"))
    report = _verify(any_course)
    assert (report.ok, report.broken_at) == (False, 3)
    assert "removed or reordered" in report.problem


def test_audit_commands(rcourse):
    _some_history(rcourse)
    runner = CliRunner()
    ok = runner.invoke(cli, ["--course", str(rcourse.root), "audit", "verify"])
    assert ok.exit_code == 0 and "intact: 4 entries" in ok.output
    log = runner.invoke(cli, ["--course", str(rcourse.root), "audit", "log", "--entity", "accommodation"])
    assert log.exit_code == 0
    assert "accommodation.revoke" in log.output and "withdrawn by the" in log.output
    with rcourse.db.engine.begin() as conn:
        conn.execute(text("UPDATE eb_audit SET reason = 'x' WHERE id = 2"))
    bad = runner.invoke(cli, ["--course", str(rcourse.root), "audit", "verify"])
    assert bad.exit_code == 1
    assert "entry 2 was changed after it was written" in bad.output


def test_nobody_signs_as_the_program_itself():
    """``exam-builder`` is the actor of the program's own decisions (a no-show made absent): a person
    giving it with --by or $EXAM_BUILDER_USER is refused, in any case."""
    import pytest

    from exam_builder.errors import ExamBuilderError
    from exam_builder.records.audit import current_actor

    for name in ("exam-builder", " Exam-Builder "):
        with pytest.raises(ExamBuilderError, match="the program's own decisions"):
            current_actor(name)
    assert current_actor("Pat Proctor") == "Pat Proctor"
