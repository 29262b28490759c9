"""The README's sheets (roster, accommodations, attendance, homework): every column each importer reads
is documented and in the sheet's example, and the examples import as they are, through the real
commands, so the README cannot drift from the importers."""
from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from exam_builder.cli import cli
from exam_builder.records import accommodations, attendance, roster
from exam_builder.records.models import Accommodation, Attendance, Candidate, Homework

README = Path(__file__).resolve().parents[2] / "README.md"
SHEET = re.compile(r"<!-- sheet: (\w+) -->\n```csv\n(.*?)```", re.S)
#: sheet -> (the importer's columns, the command, the rows it stores)
SHEETS = {
    "roster": (roster.COLUMNS, ("roster", "import"), Candidate),
    "accommodations": (accommodations.COLUMNS, ("accommodation", "import"), Accommodation),
    "attendance": (attendance.ATTENDANCE_COLUMNS, ("attendance", "import"), Attendance),
    "homework": (attendance.HOMEWORK_COLUMNS, ("homework", "import"), Homework),
}


def _examples() -> dict[str, str]:
    return {name: body for name, body in SHEET.findall(README.read_text(encoding="utf-8"))}


def _paragraph(text: str, name: str) -> str:
    """The README's text about one sheet: from its bold title to its example."""
    start = text.index(f"**{name.capitalize()}** (")
    return text[start:text.index(f"<!-- sheet: {name} -->", start)]


def test_every_sheet_column_is_documented_and_in_its_example():
    examples = _examples()
    assert set(examples) == set(SHEETS)
    text = README.read_text(encoding="utf-8")
    for name, (columns, _cmd, _model) in SHEETS.items():
        header = examples[name].splitlines()[0].split(",")
        about = _paragraph(text, name)
        for col in columns:
            assert col.key in header, f"README's {name} example lacks the column {col.key!r}"
            assert f"`{col.key}`" in about, f"README does not describe the {name} column {col.key!r}"
        assert set(header) <= {c.key for c in columns}, f"README's {name} example has a column no importer reads"


def test_the_readme_examples_import_as_written(rcourse, monkeypatch):
    monkeypatch.chdir(rcourse.root)
    runner = CliRunner(env={"COLUMNS": "200"})
    for name, body in _examples().items():  # in the README's order: roster first
        (rcourse.root / f"{name}.csv").write_text(body, encoding="utf-8")
        _columns, command, model = SHEETS[name]
        out = runner.invoke(cli, ["--course", str(rcourse.root), *command, f"{name}.csv", "--by", "Coordinator Lee"],
                            catch_exceptions=False)
        assert out.exit_code == 0, (name, out.output)
        with rcourse.db.read() as s:
            stored = s.execute(select(func.count()).select_from(model)).scalar_one()
        assert stored == len(body.strip().splitlines()) - 1, (name, out.output)


def test_a_sheet_other_accounts_can_read_is_warned_about_not_refused(rcourse, monkeypatch):
    """README 'Where to keep the sheets': each import names the open file and the fix, and still imports."""
    monkeypatch.chdir(rcourse.root)
    rcourse.root.chmod(0o755)  # a course folder as `mkdir` makes it under the usual umask
    runner = CliRunner(env={"COLUMNS": "200"})
    for name, body in _examples().items():  # roster first: the other sheets name its candidates
        sheet = rcourse.root / f"{name}.csv"
        sheet.write_text(body, encoding="utf-8")
        sheet.chmod(0o644)
        _columns, command, _model = SHEETS[name]
        args = ["--course", str(rcourse.root), *command, f"{name}.csv", "--by", "Coordinator Lee"]
        out = runner.invoke(cli, args, catch_exceptions=False)
        assert out.exit_code == 0, (name, out.output)
        said = " ".join(out.stderr.split())
        assert f"{name}.csv: warning: this sheet holds candidate data and other accounts on this computer can read " \
               "it (mode 0644" in said, (name, said)
        assert f"run `chmod 600 '{name}.csv'`" in said and "mkdir -m 700 rosters" in said
        sheet.chmod(0o600)
        assert "other accounts" not in runner.invoke(cli, [*args, "--dry-run"], catch_exceptions=False).stderr
    kept = rcourse.root / "rosters"
    kept.mkdir(mode=0o700)
    (kept / "roster.csv").write_text(_examples()["roster"], encoding="utf-8")
    (kept / "roster.csv").chmod(0o644)  # in a folder only its owner opens: nobody else can read it
    out = runner.invoke(cli, ["--course", str(rcourse.root), "roster", "import", "rosters/roster.csv", "--dry-run"],
                        catch_exceptions=False)
    assert out.exit_code == 0 and "other accounts" not in out.stderr
