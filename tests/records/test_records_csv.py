"""Roster, attendance, homework and accommodation sheets: located errors, all or nothing,
idempotent imports, nbgrader students kept in step."""
from __future__ import annotations

import datetime as dt

import pytest
from records_kit import add_exam
from sqlalchemy import func, select

from exam_builder.errors import ExamBuilderError, ValidationFailed
from exam_builder.records.accommodations import import_accommodations, personal_time_limit
from exam_builder.records.attendance import (
    import_attendance,
    import_homework,
    participation,
    sync_homework_from_gradebook,
)
from exam_builder.records.models import Accommodation, Attendance, AuditEntry, Candidate, Homework
from exam_builder.records.roster import import_roster

ROSTER = """Candidate ID,First Name,Last Name,E-mail,Class
c001,Ada,Ashgrove,ada@example.org,2026-spring
c002,Bea,Bellweather,bea@example.org,2026-spring
c003,Cal,Cobblestone,,2026-spring
"""


def _write(course, name: str, text: str, encoding: str = "utf-8"):
    path = course.root / "rosters" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def _problems(exc: ValidationFailed) -> list[str]:
    return [str(p) for p in exc.problems if p.is_error]


def _count(course, model) -> int:
    with course.db.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_roster_import_creates_candidates_and_nbgrader_students_idempotently(rcourse):
    path = _write(rcourse, "roster.csv", ROSTER)
    first = import_roster(rcourse, path, "coordinator")
    assert (first.created, first.updated) == (["c001", "c002", "c003"], [])
    again = import_roster(rcourse, path, "coordinator")
    assert (again.created, again.updated, len(again.unchanged)) == ([], [], 3)
    changed = _write(rcourse, "roster2.csv", ROSTER.replace("Bea,Bellweather,bea@", "Beatrix,Bellweather,bea@"))
    assert import_roster(rcourse, changed, "coordinator").updated == ["c002"]
    gb = rcourse.db.gradebook()
    try:
        assert sorted(st.id for st in gb.students) == ["c001", "c002", "c003"]
        assert (gb.find_student("c002").first_name, gb.find_student("c001").email) == ("Beatrix", "ada@example.org")
    finally:
        gb.close()
    with rcourse.db.read() as s:
        assert s.get(Candidate, "c003").cohort == "2026-spring"
        assert s.get(Candidate, "c003").email is None
        assert s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 2  # created, then updated


def test_roster_errors_are_located_by_row_and_column_and_nothing_is_written(rcourse):
    path = _write(rcourse, "bad.csv", "candidate_id,first,surname,email\n"
                                      "c001,Ada,Ashgrove,ada@example.org\n"
                                      ",Bea,Bellweather,bea@example.org\n"
                                      "c001,Cal,Cobblestone,cal@example.org\n"
                                      "c004,Dee,,dee(at)example.org\n"
                                      "c 05,Eve,Everhart,eve@example.org\n")
    with pytest.raises(ValidationFailed) as exc:
        import_roster(rcourse, path, "coordinator")
    assert _problems(exc.value) == [
        "rosters/bad.csv:row 2:column candidate_id: the candidate id is missing; fill it in or remove the row",
        "rosters/bad.csv:row 3:column candidate_id: candidate id 'c001' is also on row 1; each candidate once",
        "rosters/bad.csv:row 4:column email: 'dee(at)example.org' is not an email address (name@example.org)",
        "rosters/bad.csv:row 4:column surname: the last name is missing; fill it in or remove the row",
        "rosters/bad.csv:row 5:column candidate_id: candidate id 'c 05' may use only letters, digits, '.', '_' "
        "and '-' (at most 64, starting with a letter or digit)",
    ]
    assert "nothing was written" in str(exc.value)
    assert _count(rcourse, Candidate) == 0
    gb = rcourse.db.gradebook()
    try:
        assert gb.students == []
    finally:
        gb.close()


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty; it needs a header row"),
    ("first name,last name\nAda,Ashgrove\n", "the header has no 'candidate id' column"),
    ("candidate id,first name,last name\n", "the file has a header but no rows"),
    ("id,first name,last name\nc1,Ada,Ashgrove,extra\n", "row 1: 4 cells but the header has 3 columns"),
])
def test_roster_file_level_errors(rcourse, text, message):
    path = _write(rcourse, "r.csv", text)
    with pytest.raises(ValidationFailed, match=message):
        import_roster(rcourse, path, "coordinator")


def test_roster_that_is_not_utf8_is_refused_with_advice(rcourse):
    path = _write(rcourse, "latin.csv", "id,first name,last name\nc1,José,Núñez\n", encoding="latin-1")
    with pytest.raises(ExamBuilderError,
                       match=r"latin.csv:line 2: cannot read the file \(not UTF-8 text at byte \d+\); save the sheet "
                             r"as 'CSV UTF-8'"):
        import_roster(rcourse, path, "coordinator")


def test_an_id_differing_only_by_case_is_refused(rcourse):
    import_roster(rcourse, _write(rcourse, "r.csv", ROSTER), "coordinator")
    with pytest.raises(ValidationFailed, match="candidate 'c001' already exists; 'C001' differs only by case"):
        import_roster(rcourse, _write(rcourse, "r2.csv", "id,first name,last name\nC001,Ada,Ashgrove\n"), "x")


def test_attendance_import_all_or_nothing_with_located_errors(rcourse):
    import_roster(rcourse, _write(rcourse, "r.csv", ROSTER), "coordinator")
    bad = _write(rcourse, "att.csv", "candidate,class,module,status\n"
                                     "c001,1,1,present\n"
                                     "c001,1,4,late\n"
                                     "c002,one,2,absent\n"
                                     "c003,1,2,sick\n"
                                     "c001,1,1,absent\n"
                                     "c999,1,1,present\n")
    with pytest.raises(ValidationFailed) as exc:
        import_attendance(rcourse, bad, "coordinator")
    assert _problems(exc.value) == [
        "rosters/att.csv:row 2:column module: the module number must be from 1 to 3, not '4'",
        "rosters/att.csv:row 3:column class: the class number must be a whole number from 1 to 999, not 'one'",
        "rosters/att.csv:row 4:column status: 'sick' is not present, late or absent",
        "rosters/att.csv:row 5:column status: c001 module 1.1 is present on row 1 and absent here; keep one",
    ]
    assert _count(rcourse, Attendance) == 0
    unknown = _write(rcourse, "att2.csv", "candidate,class,module,status\nc001,1,1,present\nc999,1,1,present\n")
    with pytest.raises(ValidationFailed, match="row 2:column candidate: no candidate 'c999' on the roster"):
        import_attendance(rcourse, unknown, "coordinator")
    assert _count(rcourse, Attendance) == 0


def test_attendance_import_is_idempotent_and_changes_are_audited(rcourse):
    import_roster(rcourse, _write(rcourse, "r.csv", ROSTER), "coordinator")
    # "class.module" in one column, and the sheet's own words for the status
    path = _write(rcourse, "att.csv", "Candidate ID,Module,Attendance\nc001,2.1,Late\nc001,3.3,A\nc002,2.1,P\n")
    report = import_attendance(rcourse, path, "coordinator")
    assert (report.created, report.changed) == (3, 0)
    assert import_attendance(rcourse, path, "coordinator").unchanged == 3
    fixed = _write(rcourse, "att-fix.csv", "Candidate ID,Module,Attendance\nc001,2.1,present\n")
    assert import_attendance(rcourse, fixed, "coordinator").changed == 1
    with rcourse.db.read() as s:
        assert s.get(Attendance, ("c001", 2, 1)).status == "present"
        entry = s.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        assert entry.details["changed"] == [["c001", "2.1", "late", "present"]]


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own add_submission
def test_homework_from_a_sheet_and_from_the_gradebook(rcourse):
    import_roster(rcourse, _write(rcourse, "r.csv", ROSTER), "coordinator")
    bad = _write(rcourse, "hw-bad.csv", "candidate,assignment,turned in,score,max score\n"
                                        "c001,hw1,maybe,,\nc002,hw1,yes,12,10\n")
    with pytest.raises(ValidationFailed) as exc:
        import_homework(rcourse, bad, "coordinator")
    assert _problems(exc.value) == [
        "rosters/hw-bad.csv:row 1:column turned in: 'maybe': write yes or no",
        "rosters/hw-bad.csv:row 2:column score: score 12 is above the max score 10",
    ]
    ok = _write(rcourse, "hw.csv", "candidate,assignment,turned in,score,max score\n"
                                   "c001,hw1,yes,9,10\nc002,hw1,no,,10\nc001,hw2,yes,,\n")
    assert import_homework(rcourse, ok, "coordinator").created == 3

    gb = rcourse.db.gradebook()  # an nbgrader homework assignment and an exam form in the same gradebook
    try:
        gb.add_assignment("reflection-3")
        gb.add_assignment("cps-A")
        gb.add_submission("reflection-3", "c001")
        gb.add_submission("reflection-3", "c003")
        gb.add_submission("cps-A", "c002")
    finally:
        gb.close()
    with rcourse.db.transaction() as s:
        add_exam(s, labels="A")
    report = sync_homework_from_gradebook(rcourse, "coordinator")
    assert report.created == 3
    with rcourse.db.read() as s:
        assert s.get(Homework, ("c002", "cps-A")) is None  # the exam form is not homework
        assert [s.get(Homework, (c, "reflection-3")).turned_in for c in ("c001", "c002", "c003")] == [True, False, True]
        share = participation(s, ["c001", "c002", "c003"])
    assert [str(share[c]) for c in ("c001", "c002", "c003")] == ["3/3", "0/3", "1/3"]


def test_accommodation_sheet(rcourse):
    import_roster(rcourse, _write(rcourse, "r.csv", ROSTER), "coordinator")
    bad = _write(rcourse, "acc-bad.csv", "candidate,kind,multiplier,details,letter on file,status\n"
                                         "c001,extended time,1.5x,,2026-01-04,approved\n"
                                         "c002,teleport,,,2026-01-04,requested\n"
                                         "c003,other,,has PTSD,2026-01-04,approved\n"
                                         "c002,scribe,,,,approved\n"
                                         "c001,scribe,,,04/01/2026x,requested\n")
    with pytest.raises(ValidationFailed) as exc:
        import_accommodations(rcourse, bad, "coordinator")
    problems = _problems(exc.value)
    assert problems[0].startswith("rosters/acc-bad.csv:row 2:column kind: unknown accommodation kind 'teleport'")
    assert problems[1].startswith("rosters/acc-bad.csv:row 3:column details: the details 'has PTSD' look like medical")
    assert problems[2] == ("rosters/acc-bad.csv:row 4:column letter on file: an approved accommodation needs the "
                           "date of the provider's letter")
    assert problems[3] == ("rosters/acc-bad.csv:row 5:column letter on file: the letter date '04/01/2026x' is not "
                           "a date; write it as YYYY-MM-DD")
    assert _count(rcourse, Accommodation) == 0

    ok = _write(rcourse, "acc.csv", "candidate,kind,multiplier,letter on file,requested on,status,approved by\n"
                                    "c001,extended_time,,2026-01-04,2026-01-02,approved,Coordinator Lee\n"
                                    "c002,extended_time,2.0,,2026-01-02,requested,\n"
                                    "c003,scribe,,2026-01-04,2026-01-02,approved,Coordinator Lee\n")
    report = import_accommodations(rcourse, ok, "coordinator")
    assert (len(report.requested), len(report.approved)) == (3, 2)
    again = import_accommodations(rcourse, ok, "coordinator")
    assert (again.requested, again.approved, again.unchanged) == ([], [], 3)
    with rcourse.db.read() as s:
        limits = [personal_time_limit(s, rcourse.policy, c) for c in ("c001", "c002", "c003")]
        c001 = s.execute(select(Accommodation).where(Accommodation.candidate_id == "c001")).scalar_one()
        assert (c001.approved_by, c001.requested_on, c001.letter_on_file) == (
            "Coordinator Lee", dt.date(2026, 1, 2), dt.date(2026, 1, 4))
    assert limits == [270, 180, 180]  # c002's request is not approved: no effect


def test_a_quoted_cell_keeps_its_line_breaks_and_rows_count_records(rcourse):
    from exam_builder.records.csvfile import Column, read_csv

    path = _write(rcourse, "notes.csv", 'id,note\nc001,"seat near\nthe door"\nc002,"a\u2028b"\nc003,plain\n')
    sheet = read_csv(path, (Column("id", ()), Column("note", (), multiline=True)), rcourse.root)
    assert [(r.number, r.get("id"), r.get("note")) for r in sheet.rows] == [
        (1, "c001", "seat near\nthe door"), (2, "c002", "a\u2028b"), (3, "c003", "plain")]
    assert not sheet.problems
    single = read_csv(path, (Column("id", ()), Column("note", ())), rcourse.root)  # a one-line column refuses them
    assert [str(p) for p in single.problems] == [
        "rosters/notes.csv:row 1:column note: the cell has a line break (U+000A) at character 10; "
        "delete it and save the sheet again",
        "rosters/notes.csv:row 2:column note: the cell has a line break (U+2028) at character 2; "
        "delete it and save the sheet again"]
    assert [r.get("note") for r in single.rows] == ["", "", "plain"]  # a refused cell never reaches an importer


def _statements(course, action) -> int:
    """How many SQL statements ``action()`` sends to the course database."""
    from sqlalchemy import event

    seen = []
    listener = lambda *args: seen.append(1)  # noqa: E731
    event.listen(course.db.engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        event.remove(course.db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_imports_make_the_same_number_of_queries_for_3_rows_as_for_30(rcourse):
    def roster(n: int, tag: str) -> str:
        return "candidate id,first name,last name\n" + "".join(f"{tag}{k:03d},F{k},L{k}\n" for k in range(n))

    def homework(n: int, tag: str) -> str:
        return "candidate,assignment,turned in\n" + "".join(f"{tag}{k:03d},hw1,yes\n" for k in range(n))

    counts = {}
    for n, tag in ((3, "s"), (30, "m")):
        counts[n] = (
            _statements(rcourse, lambda: import_roster(rcourse, _write(rcourse, f"r{n}.csv", roster(n, tag)), "c")),  # noqa: B023 (called at once)
            _statements(rcourse, lambda: import_homework(rcourse, _write(rcourse, f"h{n}.csv", homework(n, tag)), "c")),  # noqa: B023 (called at once)
        )
    assert counts[3] == counts[30]  # no query per row (N+1)
    with rcourse.db.read() as s:
        s.connection()  # BEGIN first, so only the queries are counted
        assert _statements(rcourse, lambda: participation(s, ["s000"])) == 2  # aggregates, not the table
        assert str(participation(s, ["s000", "m029", "nobody"])["m029"]) == "1/1"


def test_roster_training_end_is_optional_dated_and_located(rcourse):
    """The day training ended (for the report's time to certification): optional, a real date, located if not."""
    path = _write(rcourse, "ended.csv", "id,first name,last name,last class\nc001,Ada,Ashgrove,2026-03-02\n"
                                       "c002,Bea,Bellweather,\n")
    import_roster(rcourse, path, "coordinator")
    with rcourse.db.read() as s:
        ended = dict(s.execute(select(Candidate.id, Candidate.training_ended_on)).all())
    assert ended == {"c001": dt.date(2026, 3, 2), "c002": None}
    bad = _write(rcourse, "ended-bad.csv", "id,first name,last name,training ended\nc003,Cal,Cobblestone,March 2\n")
    with pytest.raises(ValidationFailed) as err:
        import_roster(rcourse, bad, "coordinator")
    assert _problems(err.value) == ["rosters/ended-bad.csv:row 1:column training ended: the day training ended "
                                    "'March 2' is not a date; write it as YYYY-MM-DD"]
    assert _count(rcourse, Candidate) == 2
