"""`exam-builder export qti` and `import qti` as a user runs them (the repository's sample course)."""
from __future__ import annotations

from click.testing import CliRunner
from qti_kit import REPO

from exam_builder.cli import CHANGES_COURSE, cli


def run(*args: str):
    return CliRunner().invoke(cli, ["--course", str(REPO), *args], catch_exceptions=False)


def test_export_chosen_items_then_import_refuses_ids_already_in_the_bank(tmp_path):
    out = tmp_path / "two.zip"
    result = run("export", "qti", "--items", "ps-tf-01,ps-mc-01", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2 item(s)" in result.output and "staff only" in result.output
    again = run("import", "qti", str(out), "--into", str(tmp_path / "in"))
    assert again.exit_code == 1
    assert "item id 'ps-tf-01' is already in the bank" in again.output
    assert not (tmp_path / "in").exists()


def test_an_unknown_item_is_a_clear_error(tmp_path):
    result = run("export", "qti", "--items", "nope", "--out", str(tmp_path / "x.zip"))
    assert result.exit_code == 1 and "no item 'nope' in the bank" in result.output
    assert not (tmp_path / "x.zip").exists()


def test_a_zip_that_is_not_qti_says_what_it_lacks(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "notes.zip", "w") as z:
        z.writestr("notes.txt", "minutes of the meeting")
        z.writestr("roster.csv", "id,name\n")
    result = run("import", "qti", str(tmp_path / "notes.zip"), "--pool", "certification",
                 "--into", str(tmp_path / "in"))
    assert result.exit_code == 1
    assert "notes.zip: not a QTI package: no imsmanifest.xml (looked at its top and in its one folder)" in result.output
    assert not (tmp_path / "in").exists()


def test_export_help_says_it_is_staff_only_and_import_changes_the_course():
    assert "STAFF ONLY" in run("export", "qti", "--help").output
    assert "import qti" in CHANGES_COURSE
