"""Issue 28: real QTI 3.0, 2.2 and 2.1 packages other people wrote (tests/fixtures/qti-world, each with its
licence: see its README) go through the real `exam-builder import qti`.

For each package: no traceback; every problem located at a file of the package, and at its XML line
when it is about an item; every item file that is not imported has an error of its own; the items that
come in are the ones expected; and each imported item's faithful parts (stem, choices, key, accepted
answers, points, scenario) equal what an independent reading of its source file gives (Python's own
``xml.etree``, not the importer's code), item by item.
"""
from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from coursekit import new_course_dir
from qti_kit import REPO

from exam_builder.bank.parse import parse_notebook
from exam_builder.cli import cli

WORLD = REPO / "tests" / "fixtures" / "qti-world"

#: package -> the ids its items come in as (the rest are refused, each with its located errors)
EXPECTED = {
    "qti30-amp-up": {"ch5_modeling_3", "i9b-response-processing-fixed-template-match_correct-identifier",
                     "q5-extended-text-base-type-string", "q5-extendedtext-sv-1"},
    "qti30-citolab": {"itm-32hbhr"},
    "qti22-oat-sa": set(),  # each has a reason: no key, a figure, MathML, ruby, a gap match, a table
    "qti21-oat-sa-sachsen": set(),
    "qti21-qtiworks": {"addition-no-feedback", "item03", "item04", "item05", "item06", "choice"},
}
VERSIONS = {"qti30-amp-up": "3.0", "qti30-citolab": "3.0", "qti22-oat-sa": "2.2", "qti21-oat-sa-sachsen": "2.1",
            "qti21-qtiworks": "2.1"}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return new_course_dir(tmp_path_factory.mktemp("qti-world") / "course")


def words(text: str) -> list[str]:
    """The words of a text, whatever its layout or markup (what a candidate reads)."""
    return re.findall(r"[^\W_]+", text)


def local(el: ET.Element) -> str:
    return el.tag.rsplit("}", 1)[-1]


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def find(el: ET.Element, name: str) -> list[ET.Element]:
    """Descendants named ``name`` in QTI 3 (``qti-simple-choice``) or 2.x (``simpleChoice``) spelling."""
    return [e for e in el.iter() if local(e) == name or "qti-" + kebab(local(e)) == name]


def source_items() -> dict[str, tuple[Path, ET.Element]]:
    """Every item file of the corpus by the id import gives its identifier (lower case, '_' kept)."""
    out = {}
    for path in WORLD.rglob("*.xml"):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        if local(root) in ("assessmentItem", "qti-assessment-item"):
            ident = re.sub(r"[^a-z0-9._-]+", "-", root.get("identifier", "").lower()).strip("-._")
            out[ident] = (path, root)
    return out


def independent(root: ET.Element, path: Path) -> dict:
    """The faithful parts of a source item, read with ElementTree alone (its stimulus from the file its
    reference names, relative to the item)."""
    body = find(root, "qti-item-body")[0]
    inter = next(e for e in body.iter() if local(e).endswith(("Interaction", "-interaction")))
    skip = {id(e) for e in inter.iter()} - {id(e) for p in find(inter, "qti-prompt") for e in p.iter()}
    text = []

    def walk(el: ET.Element) -> None:
        if id(el) not in skip:
            text.append(el.text or "")
        for child in el:
            walk(child)
            text.append(child.tail or "")

    walk(body)
    prompt = [t for p in find(inter, "qti-prompt") for t in p.itertext()]
    decl = next(d for d in find(root, "qti-response-declaration")
                if d.get("identifier") == (inter.get("responseIdentifier") or inter.get("response-identifier")))
    correct = [(v.text or "").strip() for v in find(decl, "qti-value") if find(decl, "qti-correct-response")]
    choices = [(c.get("identifier"), " ".join("".join(c.itertext()).split())) for c in find(inter, "qti-simple-choice")]
    entries = {e.get("mapKey") or e.get("map-key"): float(e.get("mappedValue") or e.get("mapped-value"))
               for e in find(decl, "qti-map-entry")}
    refs = find(root, "qti-assessment-stimulus-ref")
    stimulus = None
    if refs:
        stim = ET.parse(path.parent / refs[0].get("href")).getroot()
        stimulus = words("".join(find(stim, "qti-stimulus-body")[0].itertext()))
    return {"stem": words("".join(text)) + words("".join(prompt)) if not prompt else words("".join(text)),
            "stimulus": stimulus,
            "choices": [t for _, t in choices], "keys": [i in correct for i, _ in choices],
            "accept": sorted(k for k, v in entries.items() if v > 0) or correct}


@pytest.mark.parametrize("package", sorted(EXPECTED))
def test_a_real_package_imports_with_every_loss_located_and_its_items_faithful(course, tmp_path, package):
    src = WORLD / package
    into = tmp_path / "in"
    result = CliRunner().invoke(cli, ["--course", str(course), "import", "qti", str(src), "--into", str(into),
                                      "--pool", "certification", "--skip-problems"], catch_exceptions=False)
    out = result.output
    assert "Traceback" not in out
    expected = EXPECTED[package]
    assert result.exit_code == (0 if expected else 1), out
    problems = [line.removeprefix("error: ") for line in out.splitlines() if line.startswith(("error: ", str(src)))]
    assert problems, out
    for line in problems:  # every problem names a file of the package, and an item's problem its line
        assert line.startswith(f"{src}/") or line == f"{src}: no item could be imported", line
        if re.match(r"\S+ \[[^\]]+\]: ", line.split(":line", 1)[-1]) or "] " in line.split(": ", 1)[0]:
            assert ":line " in line.split(": ", 1)[0], line
    sources = {k: v for k, v in source_items().items() if src in v[0].parents}
    items = {i.id: i for i in parse_notebook(into / f"{package}.ipynb").items} if expected else {}
    assert set(items) == expected
    for ident, (path, _) in sources.items():
        if ident not in items:  # refused: an error of its own, at its file and a line
            rel = path.relative_to(src).as_posix()
            assert re.search(rf"^{re.escape(f'{src}/{rel}')}:line \d+( \[[^\]]+\])?: (?!warning)", "\n".join(problems),
                             re.M), (rel, out)
    scenarios = {s.id: s for s in parse_notebook(into / f"{package}.ipynb").scenarios} if expected else {}
    for ident, item in items.items():
        want = independent(sources[ident][1], sources[ident][0])
        assert words(item.stem) == want["stem"], ident
        assert item.points == 1 or item.kind.value == "open response"
        assert item.status.value == "draft"
        if want["stimulus"] is None:
            assert item.scenario is None
        else:
            assert words(scenarios[item.scenario].text) == want["stimulus"], ident
        if want["choices"]:
            assert [c.text for c in item.choices] == want["choices"], ident
            assert [c.correct for c in item.choices] == want["keys"], ident
        if item.kind.value == "short answer":
            assert sorted(item.own["accept"]) == sorted(want["accept"]), ident


def test_the_corpus_holds_each_version_and_its_licences():
    assert set(VERSIONS.values()) == {"3.0", "2.2", "2.1"}
    readme = (WORLD / "README.md").read_text()
    for package in EXPECTED:
        assert package in readme
    for name in ("amp-up-io-MIT.txt", "oat-sa-qti-sdk-GPL-2.0.txt", "qtiworks-BSD-3-Clause.txt",
                 "citolab-qti-components-GPL-3.0.txt"):
        assert (WORLD / "LICENSES" / name).stat().st_size > 500


def test_a_real_package_zipped_under_its_folder_reads_the_same(course, tmp_path):
    """The package as a zip of its folder (the folder at the zip's top), through the same command."""
    shutil.copytree(WORLD / "qti21-qtiworks", tmp_path / "qtiworks")
    zpath = tmp_path / "qtiworks.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in sorted((tmp_path / "qtiworks").rglob("*")):
            zf.write(f, f.relative_to(tmp_path).as_posix())
    result = CliRunner().invoke(cli, ["--course", str(course), "import", "qti", str(zpath), "--into",
                                      str(tmp_path / "in"), "--pool", "practice", "--skip-problems"],
                                catch_exceptions=False)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    items = parse_notebook(tmp_path / "in" / "qtiworks.ipynb").items
    assert {i.id for i in items} == EXPECTED["qti21-qtiworks"] and all(i.practice for i in items)
    assert f"{zpath}/qtiworks/choice-feedback.xml:line " in result.output
