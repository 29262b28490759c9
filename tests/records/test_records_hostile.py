"""Hostile sheets for every records import, through the real command: each case gets its exact
message and exit code, and the database (every table, nbgrader's included) is unchanged after.

The classes (issue 11): numbers out of range or not finite (``nan``, ``inf``, ``1e309``, 20-digit
class numbers, year 1 and 9999), hidden characters in text (C0 and C1 controls, DEL, bidi
overrides, noncharacters, line breaks and tabs in one-line fields), ids outside their pattern,
text over its length, and one bad row among good ones. A hypothesis property then throws any
cell content at every importer: success or ``ExamBuilderError``, never anything else.
"""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from coursekit import cloned
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import inspect, text

from exam_builder.cli import cli
from exam_builder.errors import ExamBuilderError
from exam_builder.records.accommodations import import_accommodations
from exam_builder.records.attendance import import_attendance, import_homework
from exam_builder.records.roster import import_roster
from exam_builder.records.text import bad_character, clean_answer, shown

ROSTER_HEAD = "candidate id,first name,last name,email,cohort\n"
ACC_HEAD = "candidate id,kind,multiplier,details,letter on file,requested on,status,approved by\n"
ATT_HEAD = "candidate,class,module,status\n"
ATT_ONE_COLUMN_HEAD = "candidate,module,status\n"  # class.module in one column
HW_HEAD = "candidate,assignment,class,turned in,score,max score\n"

GOOD_ROSTER = "c7,Gil,Good,gil@example.org,s26\n"  # a good row first: one bad row must write nothing
GOOD_ACC = "c1,scribe,,,2026-01-04,2026-01-02,approved,Coordinator Lee\n"
GOOD_ATT = "c1,1,1,present\n"
GOOD_HW = "c1,hw1,1,yes,9,10\n"

FIX = "delete it and save the sheet again"
F = "in/x.csv"


def q(value: str) -> str:
    """A value as a CSV cell (quoted when it holds a comma)."""
    return f'"{value}"' if "," in value else value


def control(code: str, at: int, what: str = "a control character") -> str:
    return f"the cell has {what} (U+{code}) at character {at}; {FIX}"


# (id, command, header, rows after the good one, [expected errors]) -- all exit 1
CASES = [
    # -- roster: text -------------------------------------------------------------------
    ("roster-nul-in-name", "roster", ROSTER_HEAD, "c8,A\x00da,Ashgrove,,\n",
     [f"{F}:row 2:column first name: " + control("0000", 2)]),
    ("roster-escape-in-surname", "roster", ROSTER_HEAD, "c8,Ada,\x1b[2JAshgrove,,\n",
     [f"{F}:row 2:column last name: " + control("001B", 1)]),
    ("roster-del", "roster", ROSTER_HEAD, "c8,Ada\x7f,Ashgrove,,\n",
     [f"{F}:row 2:column first name: " + control("007F", 4)]),
    ("roster-c1-csi", "roster", ROSTER_HEAD, "c8,Ada,Ash\x9bgrove,,\n",
     [f"{F}:row 2:column last name: " + control("009B", 4)]),
    ("roster-unit-separator-at-the-end", "roster", ROSTER_HEAD, "c8,Ada\x1f,Ashgrove,,\n",
     [f"{F}:row 2:column first name: " + control("001F", 4)]),
    ("roster-bidi-override", "roster", ROSTER_HEAD, "c8,Ada,\u202eevorghsA,,\n",
     [f"{F}:row 2:column last name: " + control("202E", 1, "a bidirectional-text override")]),
    ("roster-bidi-isolate", "roster", ROSTER_HEAD, "c8,\u2066Ada,Ashgrove,,\n",
     [f"{F}:row 2:column first name: " + control("2066", 1, "a bidirectional-text override")]),
    ("roster-noncharacter", "roster", ROSTER_HEAD, "c8,Ada\ufdd0,Ashgrove,,\n",
     [f"{F}:row 2:column first name: " + control("FDD0", 4, "a Unicode noncharacter")]),
    ("roster-noncharacter-plane-16", "roster", ROSTER_HEAD, "c8,Ada,Ash\U0010ffff,,\n",
     [f"{F}:row 2:column last name: " + control("10FFFF", 4, "a Unicode noncharacter")]),
    ("roster-line-break-in-name", "roster", ROSTER_HEAD, 'c8,"Ada\nLovelace",Ashgrove,,\n',
     [f"{F}:row 2:column first name: " + control("000A", 4, "a line break")]),
    ("roster-line-separator-in-name", "roster", ROSTER_HEAD, "c8,Ada\u2028X,Ashgrove,,\n",
     [f"{F}:row 2:column first name: " + control("2028", 4, "a line break")]),
    ("roster-tab-inside-name", "roster", ROSTER_HEAD, "c8,Ada\tMae,Ashgrove,,\n",
     [f"{F}:row 2:column first name: " + control("0009", 4, "a tab")]),
    ("roster-nul-in-email", "roster", ROSTER_HEAD, "c8,Ada,Ashgrove,a\x00da@example.org,\n",
     [f"{F}:row 2:column email: " + control("0000", 2)]),
    ("roster-escape-in-cohort", "roster", ROSTER_HEAD, "c8,Ada,Ashgrove,,\x1b]0;x\x07\n",
     [f"{F}:row 2:column cohort: " + control("001B", 1)]),
    ("roster-nul-in-id", "roster", ROSTER_HEAD, "c\x008,Ada,Ashgrove,,\n",
     [f"{F}:row 2:column candidate id: " + control("0000", 2)]),
    ("roster-nul-in-header", "roster", "candidate id,first\x00name,last name\n", "c8,Ada,Ashgrove\n",
     [f"{F}:header row:column 2: the header has a control character (U+0000) at character 6; {FIX}"]),
    # -- roster: ids and lengths ------------------------------------------------------------
    ("roster-id-path", "roster", ROSTER_HEAD, "../c8,Ada,Ashgrove,,\n",
     [f"{F}:row 2:column candidate id: candidate id '../c8' may use only letters, digits, '.', '_' and '-' "
      "(at most 64, starting with a letter or digit)"]),
    ("roster-id-other-script-digits", "roster", ROSTER_HEAD, "c\u0663,Ada,Ashgrove,,\n",
     [f"{F}:row 2:column candidate id: candidate id 'c\u0663' may use only letters, digits, '.', '_' and '-' "
      "(at most 64, starting with a letter or digit)"]),
    ("roster-id-too-long", "roster", ROSTER_HEAD, "c" + "8" * 64 + ",Ada,Ashgrove,,\n",
     [f"{F}:row 2:column candidate id: the cell is 65 characters long; at most 64 fit"]),
    ("roster-name-too-long", "roster", ROSTER_HEAD, "c8," + "A" * 129 + ",Ashgrove,,\n",
     [f"{F}:row 2:column first name: the cell is 129 characters long; at most 128 fit"]),
    ("roster-email-too-long", "roster", ROSTER_HEAD, "c8,Ada,Ashgrove," + "a" * 120 + "@example.org,\n",
     [f"{F}:row 2:column email: the cell is 132 characters long; at most 128 fit"]),
    ("roster-cohort-too-long", "roster", ROSTER_HEAD, "c8,Ada,Ashgrove,," + "s" * 65 + "\n",
     [f"{F}:row 2:column cohort: the cell is 65 characters long; at most 64 fit"]),
    ("roster-huge-cell", "roster", ROSTER_HEAD, "c8,Ada," + "A" * 100_000 + ",,\n",
     [f"{F}:row 2:column last name: the cell is 100,000 characters long; at most 128 fit"]),
    # -- accommodations: numbers ------------------------------------------------------------
    *[(f"accommodation-multiplier-{name}", "accommodation", ACC_HEAD, f"c2,extended_time,{q(value)},,,,requested,\n",
       [f"{F}:row 2:column multiplier: the extended-time multiplier must be {kind}above 1 and at most 3, "
        f"not {value!r}"])
      for name, value, kind in (("nan", "nan", "a number "), ("inf", "inf", "a number "),
                                ("minus-inf", "-inf", "a number "), ("1e309", "1e309", ""), ("one", "1.0", ""),
                                ("below-one", "0.5", ""), ("above-three", "3.5", ""), ("negative", "-2", ""),
                                ("comma", "1,5", "a number "), ("word", "double", "a number "))],
    ("accommodation-multiplier-for-a-scribe", "accommodation", ACC_HEAD, "c2,scribe,2,,,,requested,\n",
     [f"{F}:row 2:column multiplier: a multiplier applies to extended_time only, not to scribe"]),
    # -- accommodations: dates ----------------------------------------------------------------
    ("accommodation-letter-year-1", "accommodation", ACC_HEAD, "c2,scribe,,,0001-01-01,,approved,Lee\n",
     [f"{F}:row 2:column letter on file: the letter date 0001-01-01 is out of range; it must be from "
      "1900-01-01 to 2100-12-31"]),
    ("accommodation-request-year-9999", "accommodation", ACC_HEAD, "c2,scribe,,,,9999-12-31,requested,\n",
     [f"{F}:row 2:column requested on: the request date 9999-12-31 is out of range; it must be from "
      "1900-01-01 to 2100-12-31"]),
    ("accommodation-letter-in-the-future", "accommodation", ACC_HEAD, "c2,scribe,,,2099-01-04,,approved,Lee\n",
     [f"{F}:row 2:column letter on file: the letter date 2099-01-04 is in the future"]),
    ("accommodation-letter-no-such-day", "accommodation", ACC_HEAD, "c2,scribe,,,2026-02-30,,approved,Lee\n",
     [f"{F}:row 2:column letter on file: the letter date '2026-02-30' is not a date; write it as YYYY-MM-DD"]),
    ("accommodation-letter-other-digits", "accommodation", ACC_HEAD,
     "c2,scribe,,,\u0662\u0660\u0662\u0666-01-04,,approved,Lee\n",
     [f"{F}:row 2:column letter on file: the letter date '\u0662\u0660\u0662\u0666-01-04' is not a date; "
      "write it as YYYY-MM-DD"]),
    # -- accommodations: text -----------------------------------------------------------------
    ("accommodation-nul-in-details", "accommodation", ACC_HEAD, "c2,other,,seat\x00 near the door,,,requested,\n",
     [f"{F}:row 2:column details: " + control("0000", 5)]),
    ("accommodation-bidi-in-details", "accommodation", ACC_HEAD, "c2,other,,seat \u202enear,,,requested,\n",
     [f"{F}:row 2:column details: " + control("202E", 6, "a bidirectional-text override")]),
    ("accommodation-details-too-long", "accommodation", ACC_HEAD, "c2,other,," + "seat " * 201 + ",,,requested,\n",
     [f"{F}:row 2:column details: the cell is 1,004 characters long; at most 1,000 fit"]),
    ("accommodation-escape-in-approver", "accommodation", ACC_HEAD, "c2,scribe,,,2026-01-04,,approved,L\x1bee\n",
     [f"{F}:row 2:column approved by: " + control("001B", 2)]),
    ("accommodation-approver-too-long", "accommodation", ACC_HEAD,
     "c2,scribe,,,2026-01-04,,approved," + "L" * 129 + "\n",
     [f"{F}:row 2:column approved by: the cell is 129 characters long; at most 128 fit"]),
    ("accommodation-nul-in-id", "accommodation", ACC_HEAD, "c\x002,scribe,,,,,requested,\n",
     [f"{F}:row 2:column candidate id: " + control("0000", 2)]),
    ("accommodation-id-pattern", "accommodation", ACC_HEAD, "c 2,scribe,,,,,requested,\n",
     [f"{F}:row 2:column candidate id: candidate id 'c 2' may use only letters, digits, '.', '_' and '-' "
      "(at most 64, starting with a letter or digit)"]),
    # -- accommodations: nothing dropped silently ---------------------------------------------
    ("accommodation-approver-on-a-request", "accommodation", ACC_HEAD, "c2,scribe,,,,,requested,Lee\n",
     [f"{F}:row 2:column approved by: an approver is given but the status is requested; write approved in the "
      "status column or clear the approver"]),
    ("accommodation-other-without-details", "accommodation", ACC_HEAD, "c2,other,,,,,requested,\n",
     [f"{F}:row 2:column details: an 'other' accommodation needs details saying what is arranged. Describe the "
      "arrangement only (e.g. 'seat near the door'); never write a diagnosis, a condition or what the provider's "
      "letter says."]),
    ("accommodation-unknown-candidate", "accommodation", ACC_HEAD, "c404,scribe,,,,,requested,\n",
     [f"{F}:row 2:column candidate id: no candidate 'c404'; import the roster first"]),
    # -- attendance: numbers --------------------------------------------------------------------
    ("attendance-class-20-digits", "attendance", ATT_HEAD, "c2,12345678901234567890,1,late\n",
     [f"{F}:row 2:column class: the class number must be from 1 to 999, not '12345678901234567890'"]),
    ("attendance-class-5000-digits", "attendance", ATT_HEAD, "c2," + "9" * 5000 + ",1,late\n",
     [f"{F}:row 2:column class: the cell is 5,000 characters long; at most 64 fit"]),
    ("attendance-class-60-digits", "attendance", ATT_HEAD, "c2," + "9" * 60 + ",1,late\n",
     [f"{F}:row 2:column class: the class number must be from 1 to 999, not {shown('9' * 60)}"]),
    *[(f"attendance-class-{name}", "attendance", ATT_HEAD, f"c2,{value},1,late\n",
       [f"{F}:row 2:column class: the class number must be {kind}from 1 to 999, not {value!r}"])
      for name, value, kind in (("zero", "0", ""), ("negative", "-1", ""), ("1000", "1000", ""),
                                ("exponent", "1e3", "a whole number "), ("decimal", "1.0", "a whole number "),
                                ("underscore", "1_0", "a whole number "), ("nan", "nan", "a whole number "),
                                ("arabic-indic", "\u0663", "a whole number "))],
    ("attendance-module-20-digits", "attendance", ATT_HEAD, "c2,1,12345678901234567890,late\n",
     [f"{F}:row 2:column module: the module number must be from 1 to 3, not '12345678901234567890'"]),
    ("attendance-class-module-20-digits", "attendance", ATT_ONE_COLUMN_HEAD,
     "c2,99999999999999999999.1,late\n",
     [f"{F}:row 2:column module: module '99999999999999999999.1': the class number must be from 1 to 999, "
      "not '99999999999999999999'"]),
    ("attendance-class-module-out-of-range", "attendance", ATT_ONE_COLUMN_HEAD, "c2,2.4,late\n",
     [f"{F}:row 2:column module: module '2.4': the module number must be from 1 to 3, not '4'"]),
    # -- attendance: text -----------------------------------------------------------------------
    ("attendance-nul-in-status", "attendance", ATT_HEAD, "c2,1,2,late\x00\n",
     [f"{F}:row 2:column status: " + control("0000", 5)]),
    ("attendance-nul-in-id", "attendance", ATT_HEAD, "c2\x00,1,2,late\n",
     [f"{F}:row 2:column candidate: " + control("0000", 3)]),
    ("attendance-unknown-candidate", "attendance", ATT_HEAD, "c404,1,2,late\n",
     [f"{F}:row 2:column candidate: no candidate 'c404' on the roster; import the roster first or fix the id"]),
    # -- homework: numbers ------------------------------------------------------------------------
    *[(f"homework-score-{name}", "homework", HW_HEAD, f"c2,hw1,1,yes,{q(value)},10\n",
       [f"{F}:row 2:column score: the score must be {kind}from 0 to 1000, not {value!r}"])
      for name, value, kind in (("nan", "nan", "a number "), ("NaN", "NaN", "a number "), ("inf", "inf", "a number "),
                                ("minus-inf", "-inf", "a number "), ("infinity", "Infinity", "a number "),
                                ("1e309", "1e309", ""), ("negative", "-1", ""), ("hex", "0x10", "a number "),
                                ("underscore", "1_0", "a number "), ("comma", "9,5", "a number "))],
    ("homework-score-above-max", "homework", HW_HEAD, "c2,hw1,1,yes,11,10\n",
     [f"{F}:row 2:column score: score 11 is above the max score 10"]),
    ("homework-score-above-any-max", "homework", HW_HEAD, "c2,hw1,1,yes,1001,\n",
     [f"{F}:row 2:column score: the score must be from 0 to 1000, not '1001'"]),
    *[(f"homework-max-score-{name}", "homework", HW_HEAD, f"c2,hw1,1,yes,,{value}\n",
       [f"{F}:row 2:column max score: the max score must be {kind}from 0 to 1000, not {value!r}"])
      for name, value, kind in (("nan", "nan", "a number "), ("inf", "inf", "a number "), ("1e309", "1e309", ""),
                                ("negative", "-5", ""), ("huge", "1e9", ""))],
    ("homework-class-20-digits", "homework", HW_HEAD, "c2,hw1,12345678901234567890,yes,,\n",
     [f"{F}:row 2:column class: the class number must be from 1 to 999, not '12345678901234567890'"]),
    # -- homework: text -------------------------------------------------------------------------
    ("homework-nul-in-assignment", "homework", HW_HEAD, "c2,hw\x001,1,yes,,\n",
     [f"{F}:row 2:column assignment: " + control("0000", 3)]),
    ("homework-bidi-in-assignment", "homework", HW_HEAD, "c2,hw\u202e1,1,yes,,\n",
     [f"{F}:row 2:column assignment: " + control("202E", 3, "a bidirectional-text override")]),
    ("homework-assignment-too-long", "homework", HW_HEAD, "c2," + "h" * 129 + ",1,yes,,\n",
     [f"{F}:row 2:column assignment: the cell is 129 characters long; at most 128 fit"]),
    ("homework-escape-in-turned-in", "homework", HW_HEAD, "c2,hw1,1,\x1b[1myes,,\n",
     [f"{F}:row 2:column turned in: " + control("001B", 1)]),
]


def _snapshot(course) -> dict[str, list[tuple]]:
    """Every row of every table (nbgrader's and ours), to compare before and after a command."""
    engine = course.db.engine
    out = {}
    with engine.connect() as conn:
        for table in sorted(inspect(engine).get_table_names()):
            out[table] = sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{table}"')).all()), key=repr)
    return out


def _run(course, *args):
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--course", str(course.root), *args],
                                                    catch_exceptions=False)


@pytest.fixture(scope="module")
def hostile_course(records_template, tmp_path_factory):
    """One course for every case (each must leave it unchanged): c1 and c2 on the roster."""
    with cloned(records_template, tmp_path_factory.mktemp("hostile") / "course") as course:
        (course.root / "in").mkdir()
        (course.root / "in" / "roster.csv").write_text(ROSTER_HEAD + "c1,Ada,Ashgrove,,s26\nc2,Bea,Bell,,s26\n")
        assert _run(course, "roster", "import", str(course.root / "in" / "roster.csv")).exit_code == 0
        yield course


GOOD = {ROSTER_HEAD: GOOD_ROSTER, ACC_HEAD: GOOD_ACC, ATT_HEAD: GOOD_ATT, ATT_ONE_COLUMN_HEAD: "c1,1.1,present\n",
        HW_HEAD: GOOD_HW}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_hostile_sheet_is_refused_located_and_writes_nothing(hostile_course, case):
    _name, command, header, bad_rows, errors = case
    path = hostile_course.root / F
    path.write_bytes((header + GOOD.get(header, "") + bad_rows).encode("utf-8"))
    path.chmod(0o600)  # kept private, as the README asks (else the import also warns that others can read it)
    before = _snapshot(hostile_course)
    out = _run(hostile_course, command, "import", str(path))
    assert out.exit_code == 1, out.output
    assert "Traceback" not in out.output
    assert out.output == "error: " + "\n".join(
        [*errors, f"{len(errors)} error(s); nothing was written. Fix them and run the command again."]) + "\n"
    assert _snapshot(hostile_course) == before


def test_the_good_rows_alone_are_imported(hostile_course):
    """The same good rows the cases carry do import: the refusals above are the bad rows' doing."""
    for command, header in (("roster", ROSTER_HEAD), ("accommodation", ACC_HEAD), ("attendance", ATT_HEAD),
                            ("attendance", ATT_ONE_COLUMN_HEAD), ("homework", HW_HEAD)):
        path = hostile_course.root / "in" / f"good-{command}.csv"
        path.write_text(header + GOOD[header])
        out = _run(hostile_course, command, "import", str(path))
        assert out.exit_code == 0, out.output


def test_a_column_without_a_header_is_not_dropped_silently(rcourse):
    path = rcourse.root / "r.csv"
    path.write_text("candidate id,first name,last name,\nc1,Ada,Ashgrove,\nc2,Bea,Bell,s26\n")
    out = _run(rcourse, "roster", "import", str(path))
    assert out.exit_code == 0
    assert "r.csv:row 2:column 4: warning: this column has no header, so its values are ignored; name it or clear " \
           "it" in out.output


def test_a_changed_multiplier_on_a_request_in_force_is_a_warning(rcourse):
    (rcourse.root / "r.csv").write_text(ROSTER_HEAD + "c1,Ada,Ashgrove,,\n")
    _run(rcourse, "roster", "import", str(rcourse.root / "r.csv"))
    (rcourse.root / "a.csv").write_text(ACC_HEAD + "c1,extended_time,1.5,,,2026-01-02,requested,\n")
    assert _run(rcourse, "accommodation", "import", str(rcourse.root / "a.csv")).exit_code == 0
    (rcourse.root / "a.csv").write_text(ACC_HEAD + "c1,extended_time,2x,,,2026-01-02,requested,\n")
    out = _run(rcourse, "accommodation", "import", str(rcourse.root / "a.csv"))
    assert out.exit_code == 0
    assert ("a.csv:row 1:column multiplier: warning: c1 already has accommodation 1 (requested, multiplier 1.5); "
            "this row's 2 is not applied: revoke 1 first to change it") in out.output
    assert "0 requested, 0 approved, 1 unchanged" in out.output


@pytest.mark.parametrize("args, message", [
    (("accommodation", "approve", "99999999999999999999", "--by", "Lee"),
     "Invalid value for 'ACCOMMODATION_ID': 99999999999999999999 is not in the range 1<=x<=2147483647."),
    (("accommodation", "request", "c1", "--kind", "scribe", "--letter-on-file", "0001-01-01"),
     "Invalid value for '--letter-on-file': 0001-01-01 is out of range; give a date from 1900-01-01 to 2100-12-31"),
    (("tutoring", "c1", "cps", "--offered", "9999-12-31"),
     "Invalid value for '--offered': 9999-12-31 is out of range; give a date from 1900-01-01 to 2100-12-31"),
    (("audit", "log", "--limit", "99999999999999999999"),
     "Invalid value for '--limit': 99999999999999999999 is not in the range 1<=x<=100000."),
    # issue 23: a number option is read by the one number rule (click's float() takes nan, inf and 1_5)
    (("accommodation", "request", "c1", "--kind", "extended_time", "--multiplier", "nan"),
     "Invalid value for '--multiplier': 'nan' is not a number (ASCII digits, a decimal point and an optional sign; no "
     "'_')"),
    (("accommodation", "request", "c1", "--kind", "extended_time", "--multiplier", "inf"),
     "Invalid value for '--multiplier': 'inf' is not a number"),
    (("accommodation", "request", "c1", "--kind", "extended_time", "--multiplier", "1_5"),
     "Invalid value for '--multiplier': '1_5' is not a number"),
    (("audit", "log", "--limit", "\u0665"),
     "Invalid value for '--limit': '\u0665' is not a whole number (ASCII digits and an optional sign; no '_')"),
])
def test_numbers_and_dates_of_options_have_a_range(hostile_course, args, message):
    before = _snapshot(hostile_course)
    out = _run(hostile_course, *args)
    assert out.exit_code == 2 and message in out.output
    assert _snapshot(hostile_course) == before


@pytest.mark.parametrize("args, message", [
    (("accommodation", "request", "c1", "--kind", "extended_time", "--multiplier", "9.5"),
     "error: the extended-time multiplier must be above 1 and at most 3, not 9.5"),
    (("accommodation", "request", "c1", "--kind", "other", "--details", "seat\x07 near the door"),
     "error: the value given with --details has a control character (U+0007) at character 5; delete it and try again"),
    (("accommodation", "request", "c1", "--kind", "scribe", "--by", "Lee\x1b[2J"),
     "error: the value given with --by has a control character (U+001B) at character 4; delete it and try again"),
])
def test_options_with_hostile_values_are_refused(hostile_course, args, message):
    before = _snapshot(hostile_course)
    out = _run(hostile_course, *args)
    assert (out.exit_code, out.output) == (1, message + "\n")
    assert _snapshot(hostile_course) == before


# -- any cell content: success or a located error, never another exception ----------------------

IMPORTERS = {
    "roster": (import_roster, ROSTER_HEAD, ["c9", "Ada", "Ashgrove", "ada@example.org", "s26"]),
    "accommodation": (import_accommodations, ACC_HEAD,
                      ["c1", "extended_time", "1.5", "seat near the door", "2026-01-04", "2026-01-02", "approved",
                       "Lee"]),
    "attendance": (import_attendance, ATT_HEAD, ["c1", "2", "1", "late"]),
    "homework": (import_homework, HW_HEAD, ["c1", "hw1", "1", "yes", "9", "10"]),
}
NUMBERISH = st.one_of(
    st.sampled_from(["nan", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-400", "-0", "+0", "0x1f",
                     "1_000", "9" * 20, "9" * 5000, "1.5x", "3.0000000001", "0001-01-01", "9999-12-31",
                     "12/31/9999", "2026-13-01", "\u0661.\u0665", "\uff11", "1." , ".5", "1e", "--1"]),
    st.from_regex(r"\A[+-]?[0-9]{0,25}(\.[0-9]{0,5})?([eE][+-]?[0-9]{0,5})?\Z"),
)
CELL = st.one_of(st.text(max_size=80), st.text(st.characters(codec="utf-8"), max_size=8), NUMBERISH)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(sorted(IMPORTERS)), column=st.integers(0, 7), cell=CELL)
def test_no_cell_content_makes_an_importer_raise_anything_but_a_located_error(hostile_course, which, column, cell):
    importer, header, row = IMPORTERS[which]
    row = list(row)
    row[column % len(row)] = cell
    buffer = io.StringIO()
    csv.writer(buffer).writerow(row)
    path = hostile_course.root / "in" / "property.csv"
    path.write_bytes((header + buffer.getvalue()).encode("utf-8", "surrogatepass"))
    try:
        importer(hostile_course, path, "property-test")
    except ExamBuilderError as exc:
        assert "Traceback" not in str(exc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(sorted(IMPORTERS)), data=st.binary(max_size=300))
def test_no_file_content_makes_an_importer_raise_anything_but_a_located_error(hostile_course, which, data):
    importer, header, _row = IMPORTERS[which]
    path = hostile_course.root / "in" / "bytes.csv"
    path.write_bytes(header.encode() + data)
    try:
        importer(hostile_course, path, "property-test")
    except ExamBuilderError:
        pass


# -- what a candidate types ---------------------------------------------------------------------

def test_an_answer_keeps_the_candidates_text_and_loses_invisible_junk():
    typed = "Ask what\x00 helps;\r\nthen \u202elisten\u202c.\tSay \u05e9\u05dc\u05d5\u05dd\u200f! \U0001F642\x7f\x9b"
    assert clean_answer(typed) == "Ask what helps;\nthen listen.\tSay \u05e9\u05dc\u05d5\u05dd\u200f! \U0001F642"
    assert clean_answer("one\rtwo\u2028three\x0bfour") == "one\ntwo\nthree\nfour"
    assert clean_answer("\x00\x01\ufffe") == ""


@given(st.text(st.characters(codec="utf-8")))
def test_a_cleaned_answer_holds_no_hidden_character_and_cleaning_twice_changes_nothing(typed):
    cleaned = clean_answer(typed)
    assert all(bad_character(ch, multiline=True) is None for ch in cleaned)
    assert "\r" not in cleaned and clean_answer(cleaned) == cleaned
    breaks = "\r\n\x0b\x0c\x85\u2028\u2029"
    visible = [ch for ch in typed if bad_character(ch, multiline=True) is None and ch not in breaks]
    assert [ch for ch in cleaned if ch != "\n"] == visible  # every visible character kept, in order


@pytest.mark.parametrize("command", ["roster", "accommodation", "attendance", "homework"])
@pytest.mark.parametrize("name, content, message", [
    ("a-folder.csv", None, "in/a-folder.csv: a folder named like a file; rename the folder (only files are read)"),
    ("latin1.csv", "candidate,x\nJos\xe9\n".encode("latin-1"),
     "in/latin1.csv:line 2: cannot read the file (not UTF-8 text at byte 16); save the sheet as 'CSV UTF-8' and try "
     "again"),
    ("empty.csv", b"", "in/empty.csv:header row: the file is empty; it needs a header row\n"
                       "1 error(s); nothing was written. Fix them and run the command again."),
    ("huge.csv", b"x" * (16 * 1024 * 1024 + 1),
     "in/huge.csv: 16,777,217 bytes; a records sheet is at most 16,777,216 bytes (is this the right file?)"),
], ids=["folder", "latin-1", "empty", "too-big"])
def test_a_file_that_is_not_a_sheet_is_refused(hostile_course, command, name, content, message):
    path = hostile_course.root / "in" / name
    if content is None:
        path.mkdir(exist_ok=True)
    else:
        path.write_bytes(content)
    before = _snapshot(hostile_course)
    out = _run(hostile_course, command, "import", str(path))
    assert (out.exit_code, out.output) == (1, f"error: {message}\n")
    assert _snapshot(hostile_course) == before


def test_the_installed_command_refuses_a_20_digit_class_number_without_a_traceback(hostile_course):
    """The report of issue 11 (an OverflowError traceback), through the real entry point."""
    path = hostile_course.root / "in" / "overflow.csv"
    path.write_text(ATT_HEAD + "c1,12345678901234567890,1,late\n")
    exe = Path(sys.executable).with_name("exam-builder")
    done = subprocess.run([str(exe), "--course", str(hostile_course.root), "attendance", "import", str(path)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "in/overflow.csv:row 1:column class: the class number must be from 1 to 999, not " \
           "'12345678901234567890'" in done.stderr
