"""Who a staff app acts as, without a hub (fast): ``records.identity`` and the apps that read it.

Signed in through the hub, the name is fixed: typing a name, a page's message changing the name
box, or recording a change under another name are refused; every audit entry says ``hub``. In
the standalone token mode the typed name is recorded, and the entry says ``self-declared``.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from exam_builder.errors import ExamBuilderError
from exam_builder.hub.service import identity_cell_source
from exam_builder.model.states import AuditAction
from exam_builder.records import audit, identity
from exam_builder.records.models import AuditEntry


@pytest.fixture(autouse=True)
def _fresh_identity():
    identity.reset()
    yield
    identity.reset()


def test_a_hub_identity_is_fixed_and_recorded(course):
    exec(identity_cell_source("grace", ["graders"]), {})  # what the server-inserted first cell runs
    ident = identity.current()
    assert ident.fixed and ident.name == "grace" and ident.groups == ("graders",)
    assert identity.actor("someone typed this") == "grace"
    with pytest.raises(ExamBuilderError, match="signed in through JupyterHub"):
        identity.self_declared("mallory")
    with pytest.raises(ExamBuilderError, match="already belongs"):
        identity.from_hub("gus")
    with course.db.transaction() as s:
        audit.record(s, "grace", AuditAction.roster_import, "thing", 1, "why")
        with pytest.raises(ExamBuilderError, match="cannot be recorded as mallory"):
            audit.record(s, "mallory", AuditAction.roster_import, "thing", 2, "why")
    with course.db.read() as s:
        assert s.execute(select(AuditEntry.details)).scalar_one()["identity"] == "hub"


def test_names_that_cannot_be_stored_are_refused_and_quoted_safely():
    with pytest.raises(ExamBuilderError):
        identity.from_hub("gr\x00ace")
    src = identity_cell_source("o'brien\"); import os; (\"", [])
    exec(src, {})  # a literal, never code
    assert identity.current().name == "o'brien\"); import os; (\""


def test_the_grader_session_takes_the_hub_user_and_refuses_a_typed_name(course):
    from exam_builder.grading.grader_app import GraderSession

    identity.from_hub("grace")
    session = GraderSession(course, "any")
    assert session.hub_signed and session.rater == "grace"
    with pytest.raises(ExamBuilderError, match="signed in through JupyterHub as grace"):
        session.sign_in("Gus")
    session.rater = "gus"  # whatever changed it, the queue is asked as the hub user
    assert session._need_rater() == "grace"


def test_the_standalone_mode_records_self_declared_names(course):
    from exam_builder.grading.grader_app import GraderSession

    identity.self_declared()
    session = GraderSession(course, "any")
    session.sign_in("Ann Grader")
    assert session.rater == "Ann Grader" and identity.current().name == "Ann Grader"
    with course.db.transaction() as s:
        audit.record(s, "Ann Grader", AuditAction.roster_import, "thing", 1, "why")
    with course.db.read() as s:
        assert s.execute(select(AuditEntry.details)).scalar_one()["identity"] == "self-declared"


def test_command_line_entries_are_unchanged(course):
    with course.db.transaction() as s:
        audit.record(s, "staff", AuditAction.roster_import, "thing", 1, "why", n=1)
    with course.db.read() as s:
        assert s.execute(select(AuditEntry.details)).scalar_one() == {"n": 1}
