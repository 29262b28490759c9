"""Issue 23: what a QTI package says obeys the rules an author's own notebook does.

A package exported by `export qti` (ids, LOM fields, numbers as exam-builder writes them) is changed
in one place and imported with the real `exam-builder import qti`: each change is refused with the
file, the line, the item and the field, exit 1, and nothing written. The variations: LOM ids that
bypassed the id rule (a Cyrillic look-alike, a bidi override), LOM text with hidden characters or a
line break, a header value that would change another field when the cell is read back, numbers
Python's float() would have read (``1_0``, Arabic-Indic digits), and hidden characters in the stem
and in a stimulus title.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from coursekit import new_course_dir

from exam_builder.cli import cli

RULE = "may use only lower-case letters, digits, '.', '_' and '-' (starting with a letter or digit)"


def run(course: Path, *args: str):
    return CliRunner().invoke(cli, ["--course", str(course), *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, str]:
    """The files of a package `export qti` wrote for a true/false item (with its scenario) and an open response."""
    course = new_course_dir(tmp_path_factory.mktemp("qti-values") / "course", with_bank=True)
    result = run(course, "export", "qti", "--items", "ps-tf-01,ps-or-01")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(course / "exports" / "qti" / "items.zip") as zf:
        return {name: zf.read(name).decode("utf-8") for name in zf.namelist()}


def classification(manifest: str, item: str, field: str, value: str) -> str:
    """The manifest with the LOM classification ``field`` of resource ``item`` set to ``value`` (XML text)."""
    start = manifest.index(f'identifier="item-{item}"')
    at = manifest.index(f"<lom:value>{field}</lom:value>", start)
    m = re.compile(r"(<lom:taxon>\s*<lom:entry>\s*<lom:string>)([^<]*)(</lom:string>)").search(manifest, at)
    return manifest[:m.start(2)] + value + manifest[m.end(2):]


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def refused(tmp_path: Path, files: dict[str, str], *expected: tuple[str, str, str]) -> str:
    """Import ``files`` as a folder package into an empty course: exit 1, each (file, item, message) located
    at a line, nothing written."""
    pkg = tmp_path / "pkg"
    for name, text in files.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text, encoding="utf-8")
    course = new_course_dir(tmp_path / "target")
    before = tree(course)
    result = run(course, "import", "qti", str(pkg), "--into", str(course / "source" / "imported"))
    out = result.output
    assert result.exit_code == 1 and "Traceback" not in out and "nothing was written" in out, out
    for where, item, message in expected:
        assert re.search(rf"{re.escape(f'{pkg}/{where}')}:line \d+ \[{re.escape(item)}\]: {re.escape(message)}",
                         out), out
    assert not any(ch in out for ch in "\u202e\u2066\x1b")
    after = tree(course)
    assert {k: v for k, v in after.items() if not k.startswith((".exam-builder", "gradebook.db"))} == before
    return out


def test_the_package_as_exported_imports(exported, tmp_path):
    pkg = tmp_path / "pkg"
    for name, text in exported.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text, encoding="utf-8")
    course = new_course_dir(tmp_path / "target")
    result = run(course, "import", "qti", str(pkg), "--into", str(course / "source" / "imported"))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("field,item,value,message", [
    ("scenario", "ps-tf-01", "sc-h&#x43E;pe-rlc",
     f"the manifest's scenario 'sc-h\u043epe-rlc' {RULE}, not '\u043e' (U+043E) at character 5; rename it"),
    ("scenario", "ps-tf-01", "Sc-Hope-Rlc",
     f"the manifest's scenario 'Sc-Hope-Rlc' {RULE}, not 'S' (U+0053) at character 1; rename it"),
    ("rubric", "ps-or-01", "ps-or-01&#x202E;",
     "the manifest's rubric has a bidirectional-text override (U+202E) at character 9; fix it in the package"),
    ("competency", "ps-tf-01", "peer&#x2067;-support",
     "the manifest's competency has a bidirectional-text override (U+2067) at character 5; fix it in the package"),
    ("points", "ps-tf-01", "1_0", "points (in the manifest) must be a number above 0 and at most 100, not '1_0'"),
    ("points", "ps-or-01", "&#x0666;",
     "points (in the manifest) must be a number above 0 and at most 100, not '\u0666'"),
    ("module", "ps-tf-01", "&#x0663;", "module (in the manifest) must be a whole number from 1 to 1000, not '\u0663'"),
    ("module", "ps-or-01", "2.0", "module (in the manifest) must be a whole number from 1 to 1000, not '2.0'"),
], ids=["scenario-cyrillic", "scenario-upper-case", "rubric-bidi", "competency-bidi-isolate", "points-underscore",
        "points-arabic-indic", "module-arabic-indic", "module-decimal"])
def test_lom_fields_follow_the_rules(exported, tmp_path, field, item, value, message):
    files = dict(exported)
    files["imsmanifest.xml"] = classification(files["imsmanifest.xml"], item, field, value)
    where = "imsmanifest.xml" if field not in ("points", "module") else f"items/{item}.xml"
    refused(tmp_path, files, (where, item, message))


def test_a_line_break_in_a_lom_name_cannot_reach_the_header(exported, tmp_path):
    files = dict(exported)
    manifest = files["imsmanifest.xml"]
    assert "FN:L. Brennan" in manifest
    files["imsmanifest.xml"] = manifest.replace("FN:L. Brennan", "FN:L. Brennan\\nstatus: live", 1)
    refused(tmp_path, files, ("imsmanifest.xml", "ps-tf-01",
                              "the manifest's author has a line break (U+000A) at character 11; fix it in the package"))


def test_a_value_that_would_change_another_field_is_refused(exported, tmp_path):
    """'peer-support · pool: practice' is plain text, but in the item's header it would make the item a practice
    item."""
    files = dict(exported)
    files["imsmanifest.xml"] = classification(files["imsmanifest.xml"], "ps-tf-01", "competency",
                                              "peer-support \u00b7 pool: practice")
    refused(tmp_path, files, ("items/ps-tf-01.xml", "ps-tf-01",
                              "the item would not read back from its notebook cell as imported (a field holding "
                              "'\u00b7', "
                              "'|', '**' or a line break?); fix the package"))


@pytest.mark.parametrize("name,old,new,where,item,message", [
    ("items/ps-tf-01.xml", "<p>Telling Jordan", "<p>Telling &#x202E;Jordan", "items/ps-tf-01.xml", "ps-tf-01",
     "the stem has a bidirectional-text override (U+202E) at character 9; fix it in the package"),
    ("items/ps-tf-01.xml", 'max-choices="1"', 'max-choices="1_0"', "items/ps-tf-01.xml", "ps-tf-01",
     "max-choices must be a whole number from 0 to 1000, not '1_0'"),
    ("items/ps-tf-01.xml", "<p>Jordan has been", "<p>Jordan &#xFDD0;has been", "items/ps-tf-01.xml", "ps-tf-01",
     "the rationale has a Unicode noncharacter (U+FDD0) at character 8; fix it in the package"),
    ("imsmanifest.xml", "<lom:string>Jordan's first visit to the RLC</lom:string>",
     "<lom:string>Jordan's first &#x2066;visit to the RLC</lom:string>", "stimuli/sc-hope-rlc.xml", "sc-hope-rlc",
     "the scenario's title has a bidirectional-text override (U+2066) at character 16; fix it in the package"),
], ids=["stem-bidi", "max-choices-underscore", "rationale-noncharacter", "stimulus-title-bidi-isolate"])
def test_text_and_numbers_of_the_items_follow_the_rules(exported, tmp_path, name, old, new, where, item, message):
    files = dict(exported)
    assert old in files[name]
    files[name] = files[name].replace(old, new, 1)
    refused(tmp_path, files, (where, item, message))
