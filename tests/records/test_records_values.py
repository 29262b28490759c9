"""Issue 23 on the records side, through the real commands: the command line refuses what the
coordinator's desk refuses (escape sequences, bidi overrides, lone surrogates, line breaks in a
one-line reason, numbers Python's int()/float() would misread), with exit 1 or 2, a message that
names the option, and the database unchanged; sheets read numbers by the one rule; and `audit log`
shows an entry stored before these rules (or written around them) escaped, one line per field, so
an old hostile entry cannot drive the terminal or fake another entry.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from coursekit import cloned
from sqlalchemy import inspect, text

from exam_builder.cli import cli
from exam_builder.errors import ExamBuilderError
from exam_builder.model.states import AuditAction
from exam_builder.records import audit
from exam_builder.records.models import AuditEntry

ROSTER = "candidate id,first name,last name,email,cohort\nc1,Ada,Ashgrove,,s26\nc2,Bea,Bell,,s26\n"
FIX = "delete it and try again"


def run(course, *args: str):
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--course", str(course.root), *args], catch_exceptions=False)


def tables(course) -> dict[str, list[tuple]]:
    """Every row of every table, to compare before and after a refused command."""
    engine = course.db.engine
    with engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{t}"')).all()), key=repr)
                for t in sorted(inspect(engine).get_table_names())}


@pytest.fixture(scope="module")
def values_course(records_template, tmp_path_factory):
    """One course for every refusal (each must leave it unchanged): c1 and c2 on the roster, accommodation 1."""
    with cloned(records_template, tmp_path_factory.mktemp("values") / "course") as course:
        (course.root / "in").mkdir()
        (course.root / "in" / "roster.csv").write_text(ROSTER)
        assert run(course, "roster", "import", str(course.root / "in" / "roster.csv"), "--by", "Lee").exit_code == 0
        assert run(course, "accommodation", "request", "c1", "--kind", "scribe", "--by", "Lee").exit_code == 0
        yield course


# -- the command line: one text rule for every argument, the audit trail's rules for --by and --reason ----

@pytest.mark.parametrize("args,code,message", [
    (("accommodation", "revoke", "1", "--by", "Lee", "--reason", "ok\u202e evil"), 1,
     f"error: the value given with --reason has a bidirectional-text override (U+202E) at character 3; {FIX}"),
    (("accommodation", "revoke", "1", "--by", "Lee", "--reason", "ok \u2066isolated\u2069"), 1,
     f"error: the value given with --reason has a bidirectional-text override (U+2066) at character 4; {FIX}"),
    (("accommodation", "revoke", "1", "--by", "Lee", "--reason=ok\x1b]0;owned\x07"), 1,
     f"error: the value given with --reason has a control character (U+001B) at character 3; {FIX}"),
    (("accommodation", "revoke", "1", "--by", "Lee", "--reason", "ok\x9b2J"), 1,
     f"error: the value given with --reason has a control character (U+009B) at character 3; {FIX}"),
    (("accommodation", "approve", "1", "--by", "Lee\udcff"), 1,
     "error: the value given with --by has a lone surrogate (half of a character, not text) (U+DCFF) at character 4; "
     f"{FIX}"),
    (("accommodation", "approve", "1", "--by", "\u202eeeL"), 1,
     f"error: the value given with --by has a bidirectional-text override (U+202E) at character 1; {FIX}"),
    (("accommodation", "request", "c1\u202e", "--kind", "scribe"), 1,
     "error: the command line's argument 'c1\\u202e' has a bidirectional-text override (U+202E) at character 3; "
     f"{FIX}"),
    (("audit", "log", "--entity", "sitting\x1b[2J"), 1,
     f"error: the value given with --entity has a control character (U+001B) at character 8; {FIX}"),
    (("accommodation", "revoke", "1", "--by", "Lee", "--reason", "ok\nfake line"), 2,
     f"Invalid value for '--reason': the reason has a line break (U+000A) at character 3; {FIX}"),
    (("accommodation", "revoke", "1", "--by", "Lee", "--reason", "ok\u2028fake line"), 2,
     f"Invalid value for '--reason': the reason has a line break (U+2028) at character 3; {FIX}"),
    (("accommodation", "revoke", "1", "--by", "Lee", "--reason", "x" * 501), 2,
     "Invalid value for '--reason': the reason is 501 characters long; at most 500 fit"),
    (("accommodation", "approve", "1", "--by", "Lee\tTab"), 2,
     f"Invalid value for '--by': the name has a tab (U+0009) at character 4; {FIX}"),
    (("sitting", "open", "cps", "--room", "Room 2\nRoom 3"), 2,
     f"Invalid value for '--room': the room has a line break (U+000A) at character 7; {FIX}"),
    (("sitting", "open", "cps", "--room", "R" * 65), 2,
     "Invalid value for '--room': the room is 65 characters long; at most 64 fit"),
    (("accommodation", "request", "c2", "--kind", "extended_time", "--multiplier", "1_5"), 2,
     "Invalid value for '--multiplier': '1_5' is not a number (ASCII digits, a decimal point and an optional sign; no "
     "'_')"),
    (("accommodation", "request", "c2", "--kind", "extended_time", "--multiplier", "\u0661.\u0665"), 2,
     "Invalid value for '--multiplier': '١.٥' is not a number"),
    (("accommodation", "request", "c2", "--kind", "extended_time", "--multiplier", "1.5e0x"), 2,
     "Invalid value for '--multiplier': '1.5e0x' is not a number"),
    (("sitting", "add-time", "1", "6_5", "--reason", "late bus"), 2,
     "Invalid value for 'MINUTES': '6_5' is not a whole number (ASCII digits and an optional sign; no '_')"),
    (("sitting", "void", "\uff11", "--reason", "x"), 2,
     "Invalid value for 'SITTING': '１' is not a whole number"),
    (("audit", "log", "--limit", "1e3"), 2, "Invalid value for '--limit': '1e3' is not a whole number"),
], ids=["reason-bidi-override", "reason-bidi-isolate", "reason-escape-equals-form", "reason-c1-csi",
        "by-lone-surrogate",
        "by-bidi-first", "positional-bidi", "read-only-command-too", "reason-line-break", "reason-line-separator",
        "reason-too-long", "by-tab", "room-line-break", "room-too-long", "multiplier-underscore",
        "multiplier-arabic-indic", "multiplier-junk",
        "minutes-underscore", "sitting-fullwidth", "limit-exponent"])
def test_the_command_line_refuses_what_the_desk_refuses(values_course, args, code, message):
    before = tables(values_course)
    out = run(values_course, *args)
    assert out.exit_code == code, out.output
    assert message in out.output and "Traceback" not in out.output
    assert not any(ch in out.output for ch in "\x1b\x9b\u202e\u2066\udcff")  # the refusal itself is printed safely
    assert tables(values_course) == before


def test_right_to_left_text_with_its_marks_still_passes(values_course):
    """The right-to-left mark (U+200F) is typed in Hebrew or Arabic text: only overrides and isolates are refused."""
    out = run(values_course, "audit", "log", "--entity", "\u05e9\u05e8\u05d4\u200f")
    assert out.exit_code == 0 and out.output == "no audit entries\n", out.output


def test_the_audit_trail_refuses_hostile_text_from_any_caller(values_course):
    """The backstop under every door: ``audit.record`` stores no reason or name the text rule refuses."""
    with pytest.raises(ExamBuilderError, match=r"^the reason has a control character \(U\+001B\) at character 3"):
        with values_course.db.transaction() as s:
            audit.record(s, "Lee", AuditAction.roster_import, "candidate", "c1", reason="ok\x1b[2J")
    with pytest.raises(ExamBuilderError, match=r"^the name has a line break"):
        with values_course.db.transaction() as s:
            audit.record(s, "Lee\nroot", AuditAction.roster_import, "candidate", "c1")


# -- sheets: numbers by the one rule -----------------------------------------------------------------

@pytest.mark.parametrize("command,sheet,message", [
    ("attendance", "candidate,class,module,status\nc1,\u0663,1,present\n",
     "in/v.csv:row 1:column class: the class number must be a whole number from 1 to 999, not '٣'"),
    ("attendance", "candidate,class,module,status\nc1,1,\uff12,present\n",
     "in/v.csv:row 1:column module: the module number must be a whole number from 1 to 3, not '２'"),
    ("homework", "candidate,assignment,class,turned in,score,max score\nc1,hw1,1,yes,\u0669\u066b\u0665,10\n",
     "in/v.csv:row 1:column score: the score must be a number from 0 to 1000, not '٩٫٥'"),
    ("homework", "candidate,assignment,class,turned in,score,max score\nc1,hw1,1,yes,9,1_0\n",
     "in/v.csv:row 1:column max score: the max score must be a number from 0 to 1000, not '1_0'"),
    ("accommodation", "candidate id,kind,multiplier,details,letter on file,requested on,status,approved by\n"
                      "c2,extended_time,1\u066b5,,,2026-01-02,requested,\n",
     "in/v.csv:row 1:column multiplier: the extended-time multiplier must be a number above 1 and at most 3, not "
     "'1٫5'"),
], ids=["class-arabic-indic", "module-fullwidth", "score-arabic-decimal", "max-score-underscore",
        "multiplier-arabic-comma"])
def test_sheet_numbers_in_other_scripts_are_refused(values_course, command, sheet, message):
    path = values_course.root / "in" / "v.csv"
    path.write_text(sheet, encoding="utf-8")
    before = tables(values_course)
    out = run(values_course, command, "import", str(path), "--by", "Lee")
    assert out.exit_code == 1 and message in out.output and "nothing was written" in out.output, out.output
    assert tables(values_course) == before


# -- audit log: an old hostile entry is shown escaped -------------------------------------------------

def _store_raw(course, **fields) -> None:
    """An entry as one written before the text rule existed: straight into the table, chained correctly."""
    with course.db.transaction() as s:
        last = s.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
        prev = last.hash if last else audit.GENESIS
        entry = AuditEntry(**{"at": dt.datetime(2025, 1, 2, 3, 4, 5), "action": AuditAction.sitting_void,
                              "entity": "sitting", "entity_id": "1", "reason": "", "details": {}, "prev_hash": prev,
                              **fields})
        entry.hash = audit._digest(prev, entry)
        s.add(entry)


def test_audit_log_escapes_old_hostile_entries(records_template, tmp_path):
    with cloned(records_template, tmp_path / "course") as course:
        _store_raw(course, actor="Lee\x1b[2J\x1b[31m", reason="ok\u202e evil\n#99 2000-01-01 00:00:00 UTC admin  void")
        _store_raw(course, actor="Ada\u2066", reason="fine \uffff [bold]not markup[/bold]",
                   details=json.loads(json.dumps({"note": "\x1b]0;title\x07", "n": 1})))
        out = run(course, "audit", "log")
        assert out.exit_code == 0 and "Traceback" not in out.output
        assert not any(ch in out.output for ch in "\x1b\x07\u202e\u2066\uffff"), repr(out.output)
        lines = out.output.splitlines()
        assert [line.split()[0] for line in lines if not line.startswith(" ")] == ["#1", "#2"]  # no fake entry
        assert "Lee\\x1b[2J\\x1b[31m" in lines[0] and "ok\\u202e evil\\n#99 2000-01-01" in lines[0]
        assert "Ada\\u2066" in lines[1] and "fine \\uffff [bold]not markup[/bold]" in lines[1]
        assert "n=1, note=\\x1b]0;title\\x07" in lines[2]
        assert run(course, "audit", "verify").exit_code == 0  # the entries are intact, only shown safely


# -- the rule cannot be missed: every command of the tree has it --------------------------------------

def _commands(group, path=()):
    import click

    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))
        else:
            yield " ".join((*path, name)), cmd


def test_every_number_option_and_every_by_and_reason_of_every_command_has_its_rule():
    """A command added later gets the rules too (``cli.common.check_parameters``); this lists any that did not."""
    import click

    from exam_builder.cli.common import TEXT_OPTIONS, StrictNumber

    missing = []
    for name, cmd in _commands(cli):
        for param in cmd.params:
            if isinstance(param.type, (click.types.IntParamType, click.types.FloatParamType)) \
                    and not isinstance(param.type, StrictNumber):
                missing.append(f"{name} {param.name}: {param.type.name}")
            for opt in getattr(param, "opts", ()):
                if opt in TEXT_OPTIONS and param.type is not TEXT_OPTIONS[opt]:
                    missing.append(f"{name} {opt}")
    assert missing == []
    numbers_seen = sum(isinstance(p.type, StrictNumber) for _, c in _commands(cli) for p in c.params)
    reasons_seen = sum("--reason" in getattr(p, "opts", ()) for _, c in _commands(cli) for p in c.params)
    assert numbers_seen >= 20 and reasons_seen >= 10  # the walk saw the tree, not an empty one
