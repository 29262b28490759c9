"""Migrations: from an empty database to head, and from 0001 and 0003 (with data in them) to
head, on SQLite and PostgreSQL; the models and the migrations describe the same tables.

A test that starts at an older revision starts from a copy of a database migrated from empty to that
revision once for the module (``at_revision``): the way from empty to every revision is walked by that
copy and by ``test_empty_database_to_head``; what each test proves is the step from there on."""
from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from exam_builder import clock
from exam_builder.errors import ExamBuilderError
from exam_builder.records.db import VERSION_TABLE, Database, sqlite_path
from exam_builder.records.ledger import record_outcome
from exam_builder.records.models import Base, Sitting


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="module")
def at_revision(tmp_path_factory):
    """``at_revision(url, revision)``: the database at ``url`` (made empty by ``empty_url``) as migrating an empty
    database to ``revision`` leaves it, as a ``Database``. Each revision is migrated once for the module on each
    engine and copied: the SQLite file, or a PostgreSQL database made with it as its template."""
    from coursekit import pg_database, pg_server
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    folder = tmp_path_factory.mktemp("revisions")
    made: dict[tuple[str, str], str] = {}
    with contextlib.ExitStack() as keep:
        def at(url: str, revision: str = "head") -> Database:
            engine = "sqlite" if url.startswith("sqlite") else "postgres"
            source = made.get((engine, revision))
            if source is None:
                source = (f"sqlite:///{folder / f'at-{revision}.db'}" if engine == "sqlite"
                          else keep.enter_context(pg_database("eb_rev_")))
                db = Database(source)
                db.upgrade(revision)
                db.dispose()  # the last connection closed: SQLite checkpoints its WAL into the file
                made[(engine, revision)] = source
            if engine == "sqlite":
                src, dest = sqlite_path(source), sqlite_path(url)
                assert src is not None and dest is not None and (not dest.exists() or dest.stat().st_size == 0)
                shutil.copy2(src, dest)
                if src.with_name(src.name + "-wal").exists():
                    shutil.copy2(src.with_name(src.name + "-wal"), dest.with_name(dest.name + "-wal"))
            else:
                admin = create_engine(pg_server(), isolation_level="AUTOCOMMIT")
                try:
                    name, template = make_url(url).database, make_url(source).database
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
                finally:
                    admin.dispose()
            return Database(url)

        yield at


def _model_drift(db: Database, later: tuple[str, ...] = ()) -> list:
    """How the database differs from the models, less the tables ``later`` (added by later revisions)."""
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "version_table": VERSION_TABLE,
            "include_name": lambda name, type_, parents: type_ != "table" or (name.startswith("eb_")
                                                                             and name not in later),
            "include_object": lambda obj, name, type_, reflected, compare_to: type_ != "table" or name not in later,
        })
        return compare_metadata(ctx, Base.metadata)


def _revision(number: str):
    """The module of migration revision ``number`` (its word lists say what the database was then)."""
    import importlib.util

    from exam_builder.records import migrations

    path = next((Path(migrations.__file__).parent / "versions").glob(f"{number}_*.py"))
    spec = importlib.util.spec_from_file_location(f"revision_{number}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _drift_before_head(db: Database) -> list:
    """The model drift of a database at an older revision, leaving out the tables (and their indexes) that
    later revisions create: what that revision holds must still match the models."""
    drift = _model_drift(db)
    added = {d[1].name for d in drift if d[0] == "add_table"}
    return [d for d in drift if not (d[0] == "add_table" or (d[0] == "add_index" and d[1].table.name in added)
                                     or (d[0] == "add_column" and (d[2], d[3].name) in LATER_COLUMNS))]


#: Columns later revisions add to tables that older ones already have (0015: the question a candidate was on;
#: 0016: the submissions a key-validation closure covers, an appeal's points before its decision).
LATER_COLUMNS = {("eb_sitting", "at_question"), ("eb_key_validation", "covers_through"),
                 ("eb_appeal", "points_before")}


def test_empty_database_to_head(empty_url):
    db = Database(empty_url)
    try:
        with pytest.raises(ExamBuilderError, match="has no exam-builder tables"):
            db.require_current()
        db.upgrade()
        assert db.current_revision() == db.head_revision()
        db.require_current()
        names = set(inspect(db.engine).get_table_names())
        assert {"student", "assignment", "grade", "alembic_version"} <= names  # nbgrader's, by nbgrader
        assert {t for t in Base.metadata.tables} <= names
        assert {"outcome", "outcome_at", "scheduled_on", "opens_at", "closes_at", "lease_token", "lease_at",
                "lease_source"} <= {c["name"] for c in inspect(db.engine).get_columns("eb_sitting")}
        assert {"eb_wrong_code", "eb_lockout"} <= names
        assert _model_drift(db) == []
        db.upgrade()  # again: nothing to do
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()


def test_from_0001_with_data_to_head_and_back(at_revision, empty_url, tmp_path):
    db = at_revision(empty_url, "0001")
    try:
        assert db.current_revision() == "0001"
        with pytest.raises(ExamBuilderError, match="is at revision 0001"):
            db.require_current()
        now = dt.datetime(2026, 11, 20, 9, 0)
        with db.engine.begin() as conn:  # rows as 0001 knew them (no outcome columns yet)
            conn.execute(text("INSERT INTO eb_candidate (id, first_name, last_name, email, cohort, created_at, "
                              "updated_at)"
                              " VALUES ('c1', 'Ada', 'Example', 'ada@example.org', 'fall', :t, :t)"), {"t": now})
            conn.execute(text("INSERT INTO eb_exam (id, title, created_at) VALUES ('cps', 'CPS', :t)"), {"t": now})
            conn.execute(text("INSERT INTO eb_form (id, exam_id, label, assignment, seed, manifest, manifest_hash, "
                              "built_at, built_by) VALUES (1, 'cps', 'A', 'cps-A', 1, '{}', 'h', :t, 'x')"), {"t": now})
            conn.execute(text("INSERT INTO eb_sitting (id, candidate_id, exam_id, seq, attempt_no, form_id, room, "
                              "status, time_limit_minutes, extra_minutes, opened_at, opened_by) VALUES "
                              "(1, 'c1', 'cps', 1, 1, 1, '101', 'submitted', 270, 5, :t, 'proctor')"), {"t": now})
            # rows of other tables that point at the sitting: a rebuilt table must keep them valid
            conn.execute(text("INSERT INTO eb_response (sitting_id, item_id, value, flagged, recorded_at, entered_by)"
                              " VALUES (1, 'tf-1', 'A', false, :t, 'candidate')"), {"t": now})
            conn.execute(text("INSERT INTO eb_sitting_event (sitting_id, at, kind, details)"
                              " VALUES (1, :t, 'submit', '{}')"), {"t": now})
        db.upgrade()
        assert db.current_revision() == db.head_revision()
        with db.read() as s:
            sitting = s.get(Sitting, 1)
            assert (sitting.candidate_id, sitting.attempt_no, sitting.time_limit_minutes, sitting.extra_minutes,
                    sitting.room, sitting.outcome) == ("c1", 1, 270, 5, "101", None)
        with db.transaction() as s:  # the new columns work on the old row
            record_outcome(s, 1, False, "grading", zone=clock.zone(clock.DEFAULT_ZONE))
        with db.read() as s:
            assert s.get(Sitting, 1).outcome == "fail"
        command.downgrade(db.alembic_config(), "0001")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT candidate_id, time_limit_minutes FROM eb_sitting")).all() == [("c1", 270)]
            assert conn.execute(text("SELECT sitting_id, value FROM eb_response")).all() == [(1, "A")]
        assert "outcome" not in {c["name"] for c in inspect(db.engine).get_columns("eb_sitting")}
    finally:
        db.dispose()


def test_from_the_previous_revision_with_data_to_head_and_back(at_revision, empty_url):
    """Whatever head is, a database one revision behind it, holding data, upgrades without loss."""
    from alembic.script import ScriptDirectory

    probe = Database(empty_url)
    previous = ScriptDirectory.from_config(probe.alembic_config()).get_revision(probe.head_revision()).down_revision
    probe.dispose()
    assert previous, "head has no previous revision"
    db = at_revision(empty_url, previous)
    try:
        assert db.current_revision() == previous
        now = dt.datetime(2026, 11, 20, 9, 0)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO eb_candidate (id, first_name, last_name, email, cohort, created_at, "
                              "updated_at)"
                              " VALUES ('c1', 'Ada', 'Example', NULL, 'fall', :t, :t)"), {"t": now})
            conn.execute(text("INSERT INTO eb_exam (id, title, created_at) VALUES ('cps', 'CPS', :t)"), {"t": now})
            conn.execute(text("INSERT INTO eb_form (id, exam_id, label, assignment, seed, manifest, manifest_hash, "
                              "built_at, built_by) VALUES (1, 'cps', 'A', 'cps-A', 1, '{}', 'h', :t, 'x')"), {"t": now})
            conn.execute(text("INSERT INTO eb_sitting (id, candidate_id, exam_id, seq, attempt_no, form_id, room, "
                              "status, time_limit_minutes, extra_minutes, opened_at, opened_by) VALUES "
                              "(1, 'c1', 'cps', 1, 1, 1, '101', 'submitted', 180, 0, :t, 'proctor')"), {"t": now})
            conn.execute(text("INSERT INTO eb_rating (sitting_id, item_id, role, rater, levels, score, comment, "
                              "rubric_id, rubric_hash, claimed_at) VALUES "
                              "(1, 'or-1', 'first', 'Ann', '{\"c\": 2}', 2, '', 'or-1', 'h', :t)"), {"t": now})
        db.upgrade()
        assert db.current_revision() == db.head_revision() and _model_drift(db) == []
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT sitting_id, role, score FROM eb_rating")).all() == [(1, "first", 2.0)]
        command.downgrade(db.alembic_config(), previous)
        db.upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT candidate_id FROM eb_sitting")).all() == [("c1",)]
    finally:
        db.dispose()


def test_commands_refuse_an_old_database(tmp_path):
    from click.testing import CliRunner

    from exam_builder.cli import cli

    root = tmp_path / "course"
    root.mkdir()
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    result = CliRunner().invoke(cli, ["--course", str(root), "eligibility", "cps"])
    assert result.exit_code == 1
    assert "exam-builder db upgrade" in result.output
    assert "Traceback" not in result.output


def test_from_0003_with_sittings_to_head_and_back(at_revision, empty_url):
    """0004: sittings keep every row; the new columns are empty; old unkeyed codes match nothing."""
    import hashlib

    from sqlalchemy import select

    from exam_builder.delivery.session import hash_code
    from exam_builder.records.models import Lockout, Response, SittingEvent, WrongCode

    db = at_revision(empty_url, "0003")
    try:
        now = dt.datetime(2026, 11, 20, 9, 0)
        old_hash = hashlib.sha256(b"eb-access:ABCDEFGH").hexdigest()  # how 0003 kept a code
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO eb_candidate (id, first_name, last_name, email, cohort, created_at, "
                              "updated_at)"
                              " VALUES ('c1', 'Ada', 'Example', NULL, 'fall', :t, :t)"), {"t": now})
            conn.execute(text("INSERT INTO eb_exam (id, title, created_at) VALUES ('cps', 'CPS', :t)"), {"t": now})
            conn.execute(text("INSERT INTO eb_form (id, exam_id, label, assignment, seed, manifest, manifest_hash, "
                              "built_at, built_by) VALUES (1, 'cps', 'A', 'cps-A', 1, '{}', 'h', :t, 'x')"), {"t": now})
            for sid, status in ((1, "in_progress"), (2, "scheduled")):
                conn.execute(text("INSERT INTO eb_sitting (id, candidate_id, exam_id, seq, attempt_no, form_id, room, "
                                  "access_code_hash, status, time_limit_minutes, extra_minutes, opened_at, opened_by, "
                                  "started_at) VALUES (:id, 'c1', 'cps', :id, :id, 1, '101', :h, :st, 180, 0, :t, "
                                  "'proctor', :started)"),
                             {"id": sid, "h": old_hash if sid == 2 else None, "st": status, "t": now,
                              "started": now if sid == 1 else None})
            conn.execute(text("INSERT INTO eb_response (sitting_id, item_id, value, flagged, recorded_at, entered_by)"
                              " VALUES (1, 'tf-1', 'A', false, :t, 'candidate')"), {"t": now})
            conn.execute(text("INSERT INTO eb_sitting_event (sitting_id, at, kind, details)"
                              " VALUES (1, :t, 'start', '{}')"), {"t": now})
        db.upgrade()
        assert db.current_revision() == db.head_revision() and _model_drift(db) == []
        with db.read() as s:
            sits = {x.id: x for x in s.execute(select(Sitting)).scalars()}
            assert {i: (x.status, x.access_code_hash, x.scheduled_on, x.opens_at, x.closes_at, x.lease_token)
                    for i, x in sits.items()} == {1: ("in_progress", None, None, None, None, None),
                                                  2: ("scheduled", old_hash, None, None, None, None)}
            assert s.execute(select(Response.value)).scalars().all() == ["A"]
            assert s.execute(select(SittingEvent.kind)).scalars().all() == ["start"]
            for key in (b"k" * 32, b"another key of 32 bytes.........."):  # a keyed hash never matches the old one
                old = hash_code("ABCD-EFGH", key)
                assert s.execute(select(Sitting).where(Sitting.access_code_hash == old)).first() is None
        with db.transaction() as s:  # the new tables work
            s.add(WrongCode(at=now, source="10.0.0.1"))
            s.add(Lockout(source="10.0.0.1", locked_at=now, until=now, wrong_codes=5))
            s.get(Sitting, 2).scheduled_on = dt.date(2026, 12, 15)
        command.downgrade(db.alembic_config(), "0003")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id, access_code_hash FROM eb_sitting ORDER BY id")).all() == [
                (1, None), (2, old_hash)]
            assert conn.execute(text("SELECT sitting_id, value FROM eb_response")).all() == [(1, "A")]
        names = set(inspect(db.engine).get_table_names())
        assert "eb_wrong_code" not in names and "eb_lockout" not in names
        assert "lease_token" not in {c["name"] for c in inspect(db.engine).get_columns("eb_sitting")}
        db.upgrade()
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()


# -- 0006: typed states ---------------------------------------------------------------------

def _rows_at_0005(conn, sittings: list[tuple[str, str | None]], attendance: list[str],
                  accommodations: list[tuple[str, str]],
                  roles: list[str], item_statuses: list[str], flag_kinds: list[str]) -> None:
    """Rows as revision 0005 stored them, states given as raw strings (no CHECK yet)."""
    now = dt.datetime(2026, 11, 20, 9, 0)
    conn.execute(text("INSERT INTO eb_candidate (id, first_name, last_name, email, cohort, created_at, updated_at)"
                      " VALUES ('c1', 'Ada', 'Example', NULL, 'fall', :t, :t)"), {"t": now})
    conn.execute(text("INSERT INTO eb_exam (id, title, created_at) VALUES ('cps', 'CPS', :t)"), {"t": now})
    conn.execute(text("INSERT INTO eb_form (id, exam_id, label, assignment, seed, manifest, manifest_hash, "
                      "built_at, built_by) VALUES (1, 'cps', 'A', 'cps-A', 1, '{}', 'h', :t, 'x')"), {"t": now})
    for i, (status, outcome) in enumerate(sittings, 1):
        conn.execute(text("INSERT INTO eb_sitting (id, candidate_id, exam_id, seq, attempt_no, form_id, room, status, "
                          "time_limit_minutes, extra_minutes, opened_at, opened_by, outcome) VALUES "
                          "(:i, 'c1', 'cps', :i, :i, 1, '101', :st, 180, 0, :t, 'proctor', :o)"),
                     {"i": i, "st": status, "o": outcome, "t": now})
    for i, status in enumerate(attendance, 1):
        conn.execute(text("INSERT INTO eb_attendance (candidate_id, class_no, module_no, status, recorded_at) "
                          "VALUES ('c1', 1, :i, :st, :t)"), {"i": i, "st": status, "t": now})
    for i, (kind, status) in enumerate(accommodations, 1):
        conn.execute(text("INSERT INTO eb_accommodation (id, candidate_id, kind, details, requested_on, status, "
                          "created_at) VALUES (:i, 'c1', :k, '', :d, :st, :t)"),
                     {"i": i, "k": kind, "st": status, "d": now.date(), "t": now})
    for i, role in enumerate(roles, 1):
        conn.execute(text("INSERT INTO eb_rating (sitting_id, item_id, role, rater, levels, score, comment, rubric_id, "
                          "rubric_hash, claimed_at) VALUES (1, :item, :r, 'Ann', '{}', 1, '', 'or-1', 'h', :t)"),
                     {"item": f"or-{i}", "r": role, "t": now})
    for i, status in enumerate(item_statuses, 1):
        conn.execute(text("INSERT INTO eb_item_score (sitting_id, item_id, status, rating_ids, decided_at) "
                          "VALUES (1, :item, :st, '[]', :t)"), {"item": f"or-{i}", "st": status, "t": now})
    for kind in flag_kinds:
        conn.execute(text("INSERT INTO eb_score_flag (assignment, candidate_id, kind, details, at) "
                          "VALUES ('cps-A', 'c1', :k, '', :t)"), {"k": kind, "t": now})


#: Accommodation kinds later revisions add (0010: breaks; 0014: large print).
AFTER_0006 = ("breaks", "large_print")


def _every_state() -> dict:
    from exam_builder.model import states as st

    return dict(
        sittings=[(s.value, o) for s, o in zip(st.SittingStatus, ("pass", "fail", None, None), strict=False)],
        attendance=list(st.AttendanceStatus.values()),
        # the kinds revision 0006 knew (0010 adds breaks: see its own test)
        accommodations=[(k, s) for k, s in zip([k for k in st.AccommodationKind.values() if k not in AFTER_0006],
                                               st.AccommodationStatus.values() * 2, strict=False)],
        roles=list(st.RatingRole.values()),
        item_statuses=list(st.ItemScoreStatus.values()),
        flag_kinds=list(st.ScoreFlagKind.values()),
    )


def test_0006_from_0005_with_every_state_and_old_spellings(at_revision, empty_url):
    """Every state survives; odd case, spaces and the spellings imports accept become states."""
    from sqlalchemy import select

    from exam_builder.model import states as st
    from exam_builder.records.models import Accommodation, Attendance, ItemScore, Rating, ScoreFlag

    db = at_revision(empty_url, "0005")
    try:
        rows = _every_state()
        rows["sittings"] += [(" In Progress ", "PASS"), ("Submitted", " fail")]
        rows["attendance"] += ["Tardy", "P", "missed"]
        rows["accommodations"] += [("Extra time", "Approved"), ("separate-room", " revoked")]
        rows["roles"] += ["Second "]
        rows["item_statuses"] += ["FINAL"]
        rows["flag_kinds"] += ["Junk Answer"]
        with db.engine.begin() as conn:
            _rows_at_0005(conn, **rows)
        db.upgrade()
        assert db.current_revision() == db.head_revision() and _model_drift(db) == []
        with db.read() as s:
            sittings = s.execute(select(Sitting.status, Sitting.outcome).order_by(Sitting.id)).all()
            assert sittings == [("scheduled", "pass"), ("in_progress", "fail"), ("submitted", None), ("voided", None),
                                ("in_progress", "pass"), ("submitted", "fail")]
            assert all(type(x) is st.SittingStatus for x, _ in sittings)
            assert {type(o) for _, o in sittings} == {st.Outcome, type(None)}
            assert s.execute(select(Attendance.status).order_by(Attendance.module_no)).scalars().all() == [
                "present", "late", "absent", "late", "present", "absent"]
            assert s.execute(select(Accommodation.kind, Accommodation.status).order_by(Accommodation.id)).all() == [
                ("extended_time", "requested"), ("scribe", "approved"), ("separate_room", "revoked"),
                ("other", "requested"), ("extended_time", "approved"), ("separate_room", "revoked")]
            assert sorted(s.execute(select(Rating.role)).scalars()) == ["adjudication", "first", "second", "second"]
            assert sorted(s.execute(select(ItemScore.status)).scalars()) == sorted(
                list(st.ItemScoreStatus.values()) + ["final"])
            assert sorted(s.execute(select(ScoreFlag.kind)).scalars()) == sorted(
                list(st.ScoreFlagKind.values()) + ["junk_answer"])
        command.downgrade(db.alembic_config(), "0005")
        with db.engine.begin() as conn:  # no CHECK any more at 0005
            conn.execute(text("UPDATE eb_sitting SET status = 'anything' WHERE id = 1"))
            conn.execute(text("UPDATE eb_sitting SET status = 'scheduled' WHERE id = 1"))
        db.upgrade()
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()


def test_0006_stops_on_a_value_that_is_no_state(at_revision, empty_url):
    """A value no rule converts stops the upgrade, naming table, column and values; nothing changes."""
    db = at_revision(empty_url, "0005")
    try:
        rows = _every_state()
        rows["sittings"] += [("Submitted ", None), ("banana", None), ("banana", None)]
        rows["roles"] += ["third"]
        with db.engine.begin() as conn:
            _rows_at_0005(conn, **rows)
        with pytest.raises(ExamBuilderError) as err:
            db.upgrade()
        msg = str(err.value)
        assert "eb_sitting.status holds 'banana' (2 rows)" in msg
        assert "eb_rating.role holds 'third' (1 row)" in msg
        assert "its states are scheduled, in_progress, submitted, voided" in msg
        assert "exam-builder db upgrade" in msg
        assert db.current_revision() == "0005"
        with db.engine.connect() as conn:  # rolled back: not even the convertible value was touched
            assert conn.execute(text("SELECT status FROM eb_sitting WHERE id = 5")).scalar_one() == "Submitted "
            assert "ck_eb_sitting_status" not in {c["name"]
                                                  for c in inspect(db.engine).get_check_constraints("eb_sitting")}
        with db.engine.begin() as conn:  # the person fixes the rows; the upgrade then goes through
            conn.execute(text("UPDATE eb_sitting SET status = 'voided' WHERE status = 'banana'"))
            conn.execute(text("DELETE FROM eb_rating WHERE role = 'third'"))
        db.upgrade()
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()


def test_the_database_refuses_a_value_that_is_no_state(at_revision, empty_url, tmp_path):
    """At head, raw SQL can store every state and nothing else; the constraints are named alike
    whether the migrations or the models made the tables."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import IntegrityError

    from exam_builder.model.states import COLUMNS

    db = at_revision(empty_url)
    try:
        with db.engine.begin() as conn:
            _rows_at_0005(conn, **_every_state())
            _review_row(conn)
            _word_rows(conn)
            _recourse_rows(conn)
        for (table, column), enum in COLUMNS.items():
            for value in enum.values():
                with db.engine.begin() as conn:
                    conn.execute(text(f"UPDATE {table} SET {column} = :v"), {"v": value})
            for bad in ("bogus", value.upper(), f" {value}", ""):
                with pytest.raises(IntegrityError, match=f"ck_{table}_{column}"):
                    with db.engine.begin() as conn:
                        conn.execute(text(f"UPDATE {table} SET {column} = :v"), {"v": bad})
        insp = inspect(db.engine)
        migrated = {t: {c["name"] for c in insp.get_check_constraints(t)} for t, _ in COLUMNS}
        assert migrated == {t: {f"ck_{t}_{c}" for tt, c in COLUMNS if tt == t} for t, _ in COLUMNS}
        other = create_engine(f"sqlite:///{tmp_path / 'models.db'}")
        Base.metadata.create_all(other)
        assert {t: {c["name"] for c in inspect(other).get_check_constraints(t)} for t, _ in COLUMNS} == migrated
        other.dispose()
    finally:
        db.dispose()


# -- 0007: item reviews ---------------------------------------------------------------------

def _review_row(conn, decision: str = "approve") -> None:
    conn.execute(text("INSERT INTO eb_item_review (item_id, content_hash, decision, reviewer, author, comment, file, "
                      "decided_at) VALUES ('ps-mc-01', :h, :d, 'T. Nguyen', 'R. Okafor', '', 'source/cps/x.ipynb', "
                      ":t)"),
                 {"h": "a" * 64, "d": decision, "t": dt.datetime(2026, 12, 8, 9, 0)})


def test_0007_from_0006_with_data_to_head_and_back(at_revision, empty_url):
    """0007 adds the review table and changes nothing else; its decisions are states; down drops it."""
    from sqlalchemy.exc import IntegrityError

    from exam_builder.model.states import ReviewDecision
    from exam_builder.records.models import ItemReview
    from exam_builder.records.queries.reviews import insert_review, select_reviews

    db = at_revision(empty_url, "0006")
    try:
        with db.engine.begin() as conn:
            _rows_at_0005(conn, **_every_state())
        assert "eb_item_review" not in inspect(db.engine).get_table_names()
        db.upgrade("0007")
        assert db.current_revision() == "0007" and "eb_item_review" in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn:  # the rows of 0006 are untouched
            assert conn.execute(text("SELECT count(*) FROM eb_sitting")).scalar_one() == 4
        with db.transaction() as s:
            row = insert_review(s, item_id="ps-mc-01", content_hash="b" * 64, decision=ReviewDecision.revise,
                                reviewer="T. Nguyen", author="R. Okafor", comment="the key is arguable")
            assert row.id and row.decided_at
        with db.engine.begin() as conn:
            _review_row(conn, "retire")
        with pytest.raises(IntegrityError, match="ck_eb_item_review_decision"):
            with db.engine.begin() as conn:
                _review_row(conn, "approved")
        with db.read() as s:
            rows = select_reviews(s, ["ps-mc-01", "other"])
            assert [(r.decision, type(r.decision)) for r in rows] == [("revise", ReviewDecision),
                                                                      ("retire", ReviewDecision)]
            assert select_reviews(s, []) == [] and len(select_reviews(s)) == 2
            assert isinstance(rows[0], ItemReview)
        command.downgrade(db.alembic_config(), "0006")
        assert "eb_item_review" not in inspect(db.engine).get_table_names()
        db.upgrade()
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()


# -- 0009: absent sittings ------------------------------------------------------------------

def test_0009_accepts_absent_and_refuses_to_downgrade_over_it(at_revision, empty_url):
    """0009 lets eb_sitting.status be ``absent`` (and still nothing that is not a state); down refuses while
    an absent sitting exists, then restores 0008's constraint."""
    from sqlalchemy.exc import IntegrityError

    db = at_revision(empty_url, "0008")
    try:
        with db.engine.begin() as conn:
            _rows_at_0005(conn, **_every_state())
        with pytest.raises(IntegrityError, match="ck_eb_sitting_status"):
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE eb_sitting SET status = 'absent' WHERE id = 1"))
        db.upgrade("0009")
        assert db.current_revision() == "0009"  # (the models are at head: 0010 adds columns)
        with db.engine.connect() as conn:  # nothing changed on the way up
            assert conn.execute(text("SELECT count(*) FROM eb_sitting")).scalar_one() == 4
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE eb_sitting SET status = 'absent' WHERE id = 1"))
        with pytest.raises(IntegrityError, match="ck_eb_sitting_status"):
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE eb_sitting SET status = 'no_show' WHERE id = 1"))
        with pytest.raises(RuntimeError, match="1 sitting is absent"):
            command.downgrade(db.alembic_config(), "0008")
        assert db.current_revision() == "0009"
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE eb_sitting SET status = 'voided' WHERE id = 1"))
        command.downgrade(db.alembic_config(), "0008")
        with pytest.raises(IntegrityError, match="ck_eb_sitting_status"):
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE eb_sitting SET status = 'absent' WHERE id = 1"))
        db.upgrade()
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()


# -- 0010: pauses and breaks ----------------------------------------------------------------

def test_0010_adds_the_stopped_clock_and_breaks_and_refuses_to_downgrade_over_them(at_revision, empty_url):
    """0010 adds the stopped clock (zero for existing sittings) and the ``breaks`` kind; down refuses while a
    breaks accommodation or an unfinished sitting with stopped time exists, then restores 0009."""
    from sqlalchemy.exc import IntegrityError

    db = at_revision(empty_url, "0009")
    try:
        with db.engine.begin() as conn:
            _rows_at_0005(conn, **_every_state())
        with pytest.raises(IntegrityError, match="ck_eb_accommodation_kind"):
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE eb_accommodation SET kind = 'breaks' WHERE id = 1"))
        db.upgrade("0010")
        assert db.current_revision() == "0010" and _drift_before_head(db) == []
        with db.engine.connect() as conn:  # nothing changed on the way up: no stopped time, no breaks taken
            assert conn.execute(text("SELECT count(*), sum(paused_seconds), sum(breaks_taken) FROM eb_sitting")
                                ).one() == (4, 0, 0)
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE eb_accommodation SET kind = 'breaks', break_count = 2, break_minutes = 10 "
                              "WHERE id = 1"))
            conn.execute(text("UPDATE eb_sitting SET paused_seconds = 61.5 WHERE status = 'in_progress'"))
        with pytest.raises(IntegrityError, match="ck_eb_accommodation_kind"):
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE eb_accommodation SET kind = 'rest' WHERE id = 1"))
        with pytest.raises(RuntimeError, match="1 accommodation is breaks.*1 sitting not finished had its clock"):
            command.downgrade(db.alembic_config(), "0009")
        assert db.current_revision() == "0010"
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE eb_accommodation SET kind = 'other', break_count = NULL WHERE id = 1"))
            conn.execute(text("UPDATE eb_sitting SET status = 'submitted' WHERE status = 'in_progress'"))
        command.downgrade(db.alembic_config(), "0009")
        with pytest.raises(IntegrityError, match="ck_eb_accommodation_kind"):
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE eb_accommodation SET kind = 'breaks' WHERE id = 1"))
        db.upgrade()
        assert db.current_revision() == db.head_revision() and _model_drift(db) == []
    finally:
        db.dispose()


# -- 0011: typed words ------------------------------------------------------------------------

def _word_rows(conn, kinds: tuple[str, ...] = ("submit",), actions: tuple[str, ...] = ("sitting.void",),
               reason: str | None = "deadline") -> None:
    """Event, audit and submit-reason rows as any revision since 0001 stored them (raw words; sitting 1 exists)."""
    now = dt.datetime(2026, 11, 20, 9, 0)
    conn.execute(text("UPDATE eb_sitting SET submit_reason = :r WHERE id = 1"), {"r": reason})
    for kind in kinds:
        conn.execute(text("INSERT INTO eb_sitting_event (sitting_id, at, kind, details) VALUES (1, :t, :k, '{}')"),
                     {"t": now, "k": kind})
    for i, action in enumerate(actions):
        conn.execute(text("INSERT INTO eb_audit (at, actor, action, entity, entity_id, reason, details, prev_hash, "
                          "hash) VALUES (:t, 'Lee', :a, 'sitting', '1', '', '{}', :p, :h)"),
                     {"t": now, "a": action, "p": f"{i:064d}", "h": f"{i + 1:064d}"})


def _sittings_at_0010(db: Database, n: int = 2) -> None:
    with db.engine.begin() as conn:
        _rows_at_0005(conn, **{**_every_state(), "sittings": [("submitted", None)] * n})


def test_0011_from_0010_with_real_rows_to_head_and_back(at_revision, empty_url):
    """Every word the program writes survives 0011 unchanged (rows written by the real writers at 0010, the audit
    chain still verifies); the words come back typed; down drops the constraints and 0011 goes up again."""
    from sqlalchemy import select

    from exam_builder.model.states import AuditAction, EventKind, SubmitReason
    from exam_builder.records import audit
    from exam_builder.records.events import record_event
    from exam_builder.records.models import AuditEntry, SittingEvent

    # the actions 0011 knew (later revisions add their own): written at 0010, where nothing checks them
    at_0011 = [a for a in AuditAction if a.value in _revision("0011").WORDS[("eb_audit", "action")]]
    db = at_revision(empty_url, "0010")
    try:
        reasons_then = [r for r in SubmitReason if r.value in _revision("0011").WORDS[("eb_sitting", "submit_reason")]]
        _sittings_at_0010(db, n=len(reasons_then))
        with db.transaction() as s:  # the program's own writers, at 0010 (no constraint yet)
            for i, reason in enumerate(reasons_then, 1):  # (as SQL: the model has columns later revisions add)
                s.execute(text("UPDATE eb_sitting SET submit_reason = :r WHERE id = :i"), {"r": reason.value, "i": i})
            for kind in EventKind:
                record_event(s, 1, kind, {"n": kind.value}, at=dt.datetime(2026, 11, 20, 9, 0))
            for action in at_0011:
                audit.record(s, "Lee", action, "sitting", 1, "why")
        with db.engine.connect() as conn:
            before = {t: conn.execute(text(f"SELECT * FROM {t} ORDER BY id")).all()
                      for t in ("eb_sitting", "eb_sitting_event", "eb_audit")}
        db.upgrade("0011")
        assert db.current_revision() == "0011"
        if db.head_revision() == "0011":
            assert _model_drift(db) == []
        with db.engine.connect() as conn:
            assert {t: conn.execute(text(f"SELECT * FROM {t} ORDER BY id")).all() for t in before} == before
        with db.read() as s:
            assert audit.verify(s).ok and audit.count(s) == len(at_0011)
            kinds = s.execute(select(SittingEvent.kind).order_by(SittingEvent.id)).scalars().all()
            assert kinds == list(EventKind) and all(type(k) is EventKind for k in kinds)
            actions = s.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
            assert actions == at_0011 and all(type(a) is AuditAction for a in actions)
            reasons = s.execute(select(Sitting.submit_reason).order_by(Sitting.id)).scalars().all()
            assert reasons == reasons_then and all(type(r) is SubmitReason for r in reasons)
        command.downgrade(db.alembic_config(), "0010")
        assert not {c["name"] for c in inspect(db.engine).get_check_constraints("eb_sitting_event")}
        with db.engine.connect() as conn:
            assert {t: conn.execute(text(f"SELECT * FROM {t} ORDER BY id")).all() for t in before} == before
        db.upgrade()
        assert db.current_revision() == db.head_revision() and _model_drift(db) == []
    finally:
        db.dispose()


def test_0011_refuses_a_word_outside_its_list_naming_table_row_and_value(at_revision, empty_url):
    """A row holding a word no writer writes stops 0011 before anything changes, naming the table, the row id and the
    value; once a person corrects the rows, it goes through."""
    db = at_revision(empty_url, "0010")
    try:
        _sittings_at_0010(db)
        with db.engine.begin() as conn:
            _word_rows(conn, kinds=("submit", "reload", "start", "reload"), actions=("sitting.void", "note"),
                       reason="Candidate")
        with pytest.raises(ExamBuilderError) as err:
            db.upgrade()
        msg = str(err.value)
        assert "revision 0011" in msg and "changed nothing" in msg
        assert "eb_sitting_event rows 2, 4: kind = 'reload'" in msg
        assert "eb_audit row 2: action = 'note'" in msg
        assert "eb_sitting row 1: submit_reason = 'Candidate'" in msg
        assert "exam-builder db upgrade" in msg
        assert db.current_revision() == "0010"
        insp = inspect(db.engine)
        for table in ("eb_sitting_event", "eb_audit"):
            assert not {c["name"] for c in insp.get_check_constraints(table)}
        assert "ck_eb_sitting_submit_reason" not in {c["name"] for c in insp.get_check_constraints("eb_sitting")}
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM eb_sitting_event")).scalar_one() == 4
            conn.execute(text("UPDATE eb_sitting_event SET kind = 'resume' WHERE kind = 'reload'"))
            conn.execute(text("DELETE FROM eb_audit WHERE action = 'note'"))
            conn.execute(text("UPDATE eb_sitting SET submit_reason = 'candidate' WHERE id = 1"))
        db.upgrade()
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()


def test_the_database_refuses_an_unknown_word_at_insert(at_revision, empty_url):
    """At head an unknown event kind, audit action or submit reason is refused by the CHECK constraint, whoever
    writes it (raw SQL); the program's writers refuse it before the database does."""
    from sqlalchemy.exc import IntegrityError

    from exam_builder.records import audit
    from exam_builder.records.events import record_event

    db = at_revision(empty_url)
    try:
        _sittings_at_0010(db)
        with db.engine.begin() as conn:
            _word_rows(conn)
        for bad_rows, constraint in (({"kinds": ("reload",), "actions": ()}, "ck_eb_sitting_event_kind"),
                                     ({"kinds": (), "actions": ("note",)}, "ck_eb_audit_action"),
                                     ({"kinds": (), "actions": (), "reason": "timeout"},
                                      "ck_eb_sitting_submit_reason")):
            with pytest.raises(IntegrityError, match=constraint):
                with db.engine.begin() as conn:
                    _word_rows(conn, **bad_rows)
        with pytest.raises(IntegrityError, match="ck_eb_sitting_event_kind"):
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO eb_sitting_event (sitting_id, at, kind, details) "
                                  "VALUES (1, CURRENT_TIMESTAMP, 'Submit', '{}')"))
        with pytest.raises(ValueError, match="'reload' is not a valid EventKind"):
            with db.transaction() as s:
                record_event(s, 1, "reload")
        with pytest.raises(ValueError, match="'note' is not a valid AuditAction"):
            with db.transaction() as s:
                audit.record(s, "Lee", "note", "sitting", 1)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM eb_sitting_event")).scalar_one() == 1
            assert conn.execute(text("SELECT count(*) FROM eb_audit")).scalar_one() == 1
    finally:
        db.dispose()


# -- 0014: paper --------------------------------------------------------------------------------

def test_0014_adds_paper_tables_and_words_and_refuses_to_downgrade_over_them(at_revision, empty_url):
    """0014 creates eb_paper_page and eb_paper_check and lets the new words in (large_print, paper, paper.*);
    down refuses while a row holds one of them (naming how many), and otherwise restores 0011."""
    from exam_builder.model.states import AuditAction
    from exam_builder.records import audit

    db = at_revision(empty_url, "0011")
    try:
        _sittings_at_0010(db)
        db.upgrade("0014")
        assert db.current_revision() == "0014" and _drift_before_head(db) == []
        insp = inspect(db.engine)
        assert {"eb_paper_page", "eb_paper_check"} <= set(insp.get_table_names())
        with db.transaction() as s:
            audit.record(s, "Lee", AuditAction.paper_print, "form", "cps-A", "printed")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE eb_sitting SET submit_reason = 'paper' WHERE id = 1"))
        with pytest.raises(RuntimeError, match="revision 0014 .paper. cannot be undone: 1 row of eb_sitting"):
            command.downgrade(db.alembic_config(), "0011")
        assert db.current_revision() == "0014"
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM eb_audit"))
            conn.execute(text("UPDATE eb_sitting SET submit_reason = 'proctor' WHERE id = 1"))
        command.downgrade(db.alembic_config(), "0011")
        assert "eb_paper_page" not in set(inspect(db.engine).get_table_names())
        with pytest.raises(Exception, match="(?i)check"):
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE eb_sitting SET submit_reason = 'paper' WHERE id = 1"))
    finally:
        db.dispose()


# -- 0015: the question a candidate was on -----------------------------------------------------------------

def test_0015_adds_the_question_a_candidate_was_on_and_drops_it_on_the_way_down(at_revision, empty_url):
    """0015 adds ``eb_sitting.at_question`` (none for existing sittings: they come back to the first question
    not answered, as before); down drops it, changing nothing else."""
    db = at_revision(empty_url, "0014")
    try:
        _sittings_at_0010(db)
        with db.engine.connect() as conn:
            before = conn.execute(text("SELECT * FROM eb_sitting ORDER BY id")).all()
        db.upgrade("0015")
        assert db.current_revision() == "0015" and _drift_before_head(db) == []
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM eb_sitting WHERE at_question IS NULL")).scalar_one() \
                == len(before)
            conn.execute(text("UPDATE eb_sitting SET at_question = 38 WHERE id = 1"))
        command.downgrade(db.alembic_config(), "0014")
        assert "at_question" not in {c["name"] for c in inspect(db.engine).get_columns("eb_sitting")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT * FROM eb_sitting ORDER BY id")).all() == before
    finally:
        db.dispose()


# -- 0013: recourse ------------------------------------------------------------------------

def _recourse_rows(conn) -> None:
    """A key decision and an appeal (exam 'cps' and sitting 1 exist)."""
    now = dt.datetime(2026, 12, 8, 9, 0)
    conn.execute(text("INSERT INTO eb_key_decision (exam_id, item_id, action, accepted, reason, decided_by, "
                      "decided_at) VALUES ('cps', 'ps-mc-01', 'accept', '[[1]]', 'B is right too', 'Lee', :t)"),
                 {"t": now})
    conn.execute(text("INSERT INTO eb_appeal (sitting_id, category, words, received_on, recorded_by, recorded_at, "
                      "decision, voided) VALUES (1, 'score', 'please look again', :d, 'Lee', :t, 'denied', :f)"),
                 {"d": now.date(), "t": now, "f": False})


# -- 0016: when a closure was made, apart from what it covers; an appeal's points before its decision ---------------

def test_0016_moves_a_closure_stamped_ahead_back_to_its_audit_time_and_back_on_the_way_down(at_revision, empty_url):
    """A closure stored at a sitting's time ahead of the clock (the demo's) reads again as closed when its audit
    entry says, covering the same sittings; one stored at its own time is left as it was; down puts them back."""
    db = at_revision(empty_url, "0015")
    try:
        _sittings_at_0010(db)
        ahead, closed, plain = (dt.datetime(2026, 12, 7, 10, 35, 21), dt.datetime(2026, 12, 7, 7, 51, 17),
                                dt.datetime(2026, 12, 7, 8, 0, 0))
        with db.engine.begin() as conn:
            for cid, at in ((1, ahead), (2, plain)):
                conn.execute(text("INSERT INTO eb_key_validation (id, exam_id, closed_at, closed_by, note) "
                                  "VALUES (:i, 'cps', :t, 'Walk Coordinator', '')"), {"i": cid, "t": at})
            for n, (cid, at) in enumerate(((1, closed), (2, plain))):
                conn.execute(text("INSERT INTO eb_audit (at, actor, action, entity, entity_id, reason, details, "
                                  "prev_hash, hash) VALUES (:t, 'Walk Coordinator', 'key.closed', 'exam', 'cps', "
                                  "'closed', :d, :p, :h)"),
                             {"t": at, "d": f'{{"closure": {cid}}}', "p": str(n) * 64, "h": str(n + 1) * 64})
        db.upgrade("0016")
        assert db.current_revision() == "0016"
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, closed_at, covers_through FROM eb_key_validation ORDER BY id")).all()
            assert [(i, _naive(a), _naive(c)) for i, a, c in rows] == [(1, closed, ahead), (2, plain, None)]
            assert conn.execute(text("SELECT count(*) FROM eb_appeal WHERE points_before IS NOT NULL")).scalar_one() \
                == 0
        command.downgrade(db.alembic_config(), "0015")
        assert "covers_through" not in {c["name"] for c in inspect(db.engine).get_columns("eb_key_validation")}
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, closed_at FROM eb_key_validation ORDER BY id")).all()
            assert [(i, _naive(a)) for i, a in rows] == [(1, ahead), (2, plain)]
    finally:
        db.dispose()


def _naive(t):
    """A stored time as SQLite (text) or PostgreSQL (datetime) gives it back, to the second."""
    if t is None:
        return None
    t = dt.datetime.fromisoformat(t) if isinstance(t, str) else t
    return t.replace(microsecond=0, tzinfo=None)
