"""Issue 28: the classes of failure seen importing other people's QTI, each fixed at its root and held here
through the real `exam-builder import qti`.

A stem whose ``div`` holds text around its children (the traceback), a package zipped under a
top-level folder (metadata and the pool lost), the pool never guessed, content kept or reported
(text before a ``div``'s first child, a candidate's rubric block, stimuli with images), hrefs as
URIs relative to their manifest, one rule for errors and warnings, one problem per construct with a
count, whitespace as a browser shows it, a test in the package, passages another tool inlined, and a
relative ``--into`` printed as typed.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from coursekit import new_course_dir
from qti_kit import every_kind

from exam_builder.bank.parse import parse_notebook
from exam_builder.cli import cli
from exam_builder.model.item import Choice, Item, Kind, Pool, Status, Where
from exam_builder.qti.export import build_package, select_items, write_zip

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
NS = 'xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0"'


def item30(ident: str, body: str, *, extra: str = "", key: str = "B", rp: str | None = None) -> str:
    """A QTI 3.0 single-choice item as another tool writes it (indented with tabs), ``body`` before its choices."""
    rp = rp if rp is not None else \
        '<qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct"/>'
    return (f'{HEAD}<qti-assessment-item {NS} identifier="{ident}" title="{ident}" adaptive="false" '
            f'time-dependent="false">\n'
            f'\t<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">\n'
            f'\t\t<qti-correct-response><qti-value>{key}</qti-value></qti-correct-response>\n'
            f'\t</qti-response-declaration>\n{extra}'
            f'\t<qti-item-body>\n{body}\n'
            f'\t\t<qti-choice-interaction response-identifier="RESPONSE" max-choices="1">\n'
            f'\t\t\t<qti-simple-choice identifier="A">Advice</qti-simple-choice>\n'
            f'\t\t\t<qti-simple-choice identifier="B">Their own\n\t\t\t\texperience</qti-simple-choice>\n'
            f'\t\t</qti-choice-interaction>\n\t</qti-item-body>\n\t{rp}\n</qti-assessment-item>\n')


def manifest(*resources: tuple[str, str, str], extra: str = "") -> str:
    res = "".join(f'<resource identifier="{i}" type="{t}" href="{h}"><file href="{h}"/></resource>\n'
                  for i, t, h in resources)
    return (f'{HEAD}<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" identifier="M">\n'
            f'<organizations/>\n<resources>\n{res}{extra}</resources>\n</manifest>\n')


def zip_of(path: Path, files: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return new_course_dir(tmp_path_factory.mktemp("qti-classes") / "course")


def imported(course: Path, pkg: Path, *args: str, into: str | None = None, code: int = 0):
    """`import qti` as a user runs it: the exit code, the output (never a traceback) and the items written."""
    target = into or str(pkg.parent / f"in-{pkg.stem}")
    result = CliRunner().invoke(cli, ["--course", str(course), "import", "qti", str(pkg), "--into", target, *args],
                                catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    nb = Path(target) / f"{pkg.stem}.ipynb"
    items = {i.id: i for i in parse_notebook(nb).items} if code == 0 else {}
    return result.output, items, nb


def test_a_div_with_text_around_its_children_is_read_whole(course, tmp_path):
    """The traceback (a child serialised with its tail) and the text before a div's first child, dropped."""
    body = ("\t\t<div><br/> Which of these does a peer share first?</div>\n"
            "\t\t<div>Read this first.\n\t\t\t<p>Priya works nights.</p>\n\t\tThen answer.</div>")
    pkg = zip_of(tmp_path / "div.zip", {"q.xml": item30("q1", body)})
    out, items, _ = imported(course, pkg, "--pool", "certification")
    assert items["q1"].stem == ("Which of these does a peer share first?\n\nRead this first.\n\nPriya works nights."
                                "\n\nThen answer.")
    assert [c.text for c in items["q1"].choices] == ["Advice", "Their own experience"]  # the XML's layout gone


def _practice_export(tmp_path: Path) -> dict[str, bytes]:
    bank, rubrics = every_kind()
    tf = bank.items["tf-01"].model_copy(update={"pool": Pool.practice})
    bank.items["tf-01"] = tf
    pkg = write_zip(build_package(bank, rubrics, select_items(bank, ["tf-01", "or-01"])), tmp_path / "x.zip")
    with zipfile.ZipFile(pkg) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_a_package_under_a_top_level_folder_keeps_its_metadata_and_pool(course, tmp_path):
    files = _practice_export(tmp_path)
    pkg = zip_of(tmp_path / "folder.zip", {f"bank-export/{n}": d for n, d in files.items()})
    out, items, _ = imported(course, pkg)  # no --pool needed: the package says
    tf = items["tf-01"]
    assert tf.pool is Pool.practice and tf.competency == "peer-support" and tf.module == 2
    assert tf.author == "A. Rivera, PhD; team" and tf.difficulty == "hard"
    assert items["or-01"].pool is Pool.certification and items["or-01"].points == 4
    assert items["or-01"].rubric == "plan-rubric"


def test_the_pool_is_never_guessed(course, tmp_path):
    pkg = zip_of(tmp_path / "nopool.zip", {"q.xml": item30("q1", "<p>Which?</p>")})
    out, _, nb = imported(course, pkg, code=1)
    assert re.search(r"nopool.zip/q.xml:line 2 \[q1\]: the package does not say which pool the item is for.*"
                     r"give --pool certification or --pool practice", out)
    assert not nb.exists()
    _, items, _ = imported(course, pkg, "--pool", "practice", into=str(tmp_path / "practice"))
    assert items["q1"].pool is Pool.practice and items["q1"].status is Status.draft


def test_a_candidate_rubric_block_stays_with_the_stem_and_a_scorer_one_is_a_note(course, tmp_path):
    body = ('\t\t<qti-rubric-block view="candidate" use="instructions"><qti-content-body>\n'
            '\t\t\t<p>Answer from your own practice.</p></qti-content-body></qti-rubric-block>\n'
            '\t\t<qti-rubric-block view="scorer"><qti-content-body><p>Full marks for B.</p>'
            '</qti-content-body></qti-rubric-block>\n'
            '\t\t<p>Which comes first?</p>')
    pkg = zip_of(tmp_path / "rubric.zip", {"q.xml": item30("q1", body)})
    _, items, nb = imported(course, pkg, "--pool", "certification")
    assert items["q1"].stem == "Answer from your own practice.\n\nWhich comes first?"
    assert "> Full marks for B." in nb.read_text()


STIMULUS = (f'{HEAD}<qti-assessment-stimulus {NS} identifier="night" title="A night">\n'
            '\t<qti-stylesheet href="night.css" type="text/css"/>\n'
            '\t<qti-stimulus-body>\n\t\t<p>It was late.</p>\n\t\t<p><img src="moon.png" alt="the moon"/></p>\n'
            '\t\t<p><img src="owl.png" alt="an owl"/></p>\n\t</qti-stimulus-body>\n</qti-assessment-stimulus>\n')


def test_a_stimulus_is_checked_like_an_item_and_its_items_do_not_lose_it(course, tmp_path):
    ref = '\t<qti-assessment-stimulus-ref identifier="night" href="../passages/night.xml" title="A night"/>\n'
    pkg = zip_of(tmp_path / "stim.zip", {
        "imsmanifest.xml": manifest(("I", "imsqti_item_xmlv3p0", "items/q1.xml"),
                                    ("I2", "imsqti_item_xmlv3p0", "items/q2.xml")),
        "passages/night.xml": STIMULUS, "items/q1.xml": item30("q1", "<p>Why?</p>", extra=ref),
        "items/q2.xml": item30("q2", "<p>When?</p>", extra=ref)})
    out, _, _ = imported(course, pkg, "--pool", "certification", code=1)
    img = f"{pkg}/passages/night.xml:line 6 [night]: <img> (2 times; the first is here) is not carried over"
    assert out.count(img) == 1  # the stimulus of two items is read, and reported, once
    assert f"{pkg}/passages/night.xml:line 3 [night]: warning: <qti-stylesheet> is read as nothing" in out
    assert f"{pkg}/items/q1.xml:line 6 [q1]: its stimulus 'night' is not carried over" in out


def test_a_stimulus_the_manifest_calls_a_test_is_read_as_the_stimulus_it_is(course, tmp_path):
    """1EdTech's own best-practice package types its passage ``imsqti_test_xmlv3p0``."""
    stim = STIMULUS.replace('\t\t<p><img src="moon.png" alt="the moon"/></p>\n\t\t<p><img src="owl.png" '
                            'alt="an owl"/></p>\n', "")
    ref = '\t<qti-assessment-stimulus-ref identifier="night" href="../passages/night.xml" title="A night"/>\n'
    pkg = zip_of(tmp_path / "typed.zip", {
        "imsmanifest.xml": manifest(("S", "imsqti_test_xmlv3p0", "passages/night.xml"),
                                    ("I", "imsqti_item_xmlv3p0", "items/q1.xml")),
        "passages/night.xml": stim, "items/q1.xml": item30("q1", "<p>Why?</p>", extra=ref)})
    out, items, nb = imported(course, pkg, "--pool", "certification")
    assert items["q1"].scenario == "night" and "is not carried over as a test" not in out
    assert parse_notebook(nb).scenarios[0].text == "It was late."


def test_another_systems_metadata_is_reported_not_dropped_unsaid(course, tmp_path):
    lom = ('<metadata><lom xmlns="http://ltsc.ieee.org/xsd/LOM"><general><keyword><string>night</string></keyword>'
           '</general><classification><purpose><value>discipline</value></purpose></classification></lom></metadata>')
    man = manifest(("I", "imsqti_item_xmlv3p0", "q1.xml"))
    man = man.replace('<file href="q1.xml"/>', lom + '<file href="q1.xml"/>')
    man = man.replace("</resources>", '<resource identifier="X" type="resourcemetadata/xml" href="meta.xml">'
                                      '<file href="meta.xml"/></resource>\n</resources>')
    pkg = zip_of(tmp_path / "meta.zip", {"imsmanifest.xml": man, "q1.xml": item30("q1", "<p>Why?</p>"),
                                         "meta.xml": "<m/>"})
    out, items, _ = imported(course, pkg, "--pool", "certification")
    assert list(items) == ["q1"]
    assert re.search(r"meta.zip/imsmanifest.xml:line \d+: warning: the manifest's metadata for 'q1.xml' "
                     r"\(classification, general\) is not carried over", out), out
    assert re.search(r"imsmanifest.xml:line \d+: warning: the metadata file 'meta.xml' is not carried over", out), out


def test_hrefs_are_uris_relative_to_their_manifest(course, tmp_path):
    stim = STIMULUS.replace('\t\t<p><img src="moon.png" alt="the moon"/></p>\n\t\t<p><img src="owl.png" '
                            'alt="an owl"/></p>\n', "")
    ref = '\t<qti-assessment-stimulus-ref identifier="night" href="../my%20passages/night.xml" title="A night"/>\n'
    pkg = zip_of(tmp_path / "hrefs.zip", {
        "top/imsmanifest.xml": manifest(("I", "imsqti_item_xmlv3p0", "./items/q%201.xml")),
        "top/items/q 1.xml": item30("q1", "<p>Why?</p>", extra=ref), "top/my passages/night.xml": stim})
    out, items, nb = imported(course, pkg, "--pool", "certification")
    assert items["q1"].scenario == "night" and "It was late." in nb.read_text()
    assert "warning: <qti-stylesheet> is read as nothing" in out


def test_one_rule_look_is_a_warning_meaning_an_error(course, tmp_path):
    body = ('\t\t<p>Which <strong>one</strong> <em>first</em>? <span>Think</span> <strong>twice</strong>.</p>\n'
            '\t\t<h2>Heading</h2>\n\t\t<ul><li>one</li><li>two</li></ul>')
    look = item30("look", body, extra='\t<qti-stylesheet href="s.css" type="text/css"/>\n')
    table = "\t\t<table><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4</td></tr></table><p>Sum?</p>"
    mapped = item30("mapped", "<p>Pick</p>", rp='<qti-response-processing template="https://purl.imsglobal.org/'
                    'spec/qti/v3p0/rptemplates/map_response"/>').replace(
        "</qti-correct-response>", '</qti-correct-response><qti-mapping default-value="0"><qti-map-entry '
        'map-key="A" mapped-value="0.5"/><qti-map-entry map-key="B" mapped-value="1"/></qti-mapping>')
    pkg = zip_of(tmp_path / "rule.zip", {"look.xml": look, "table.xml": item30("table", table), "mapped.xml": mapped})
    out, _, _ = imported(course, pkg, "--pool", "certification", code=1)
    lines = out.removeprefix("error: ").splitlines()
    assert out.startswith("error: ") and "warning:" not in lines[0], out  # "error:" never heads a warning
    assert f"{pkg}/look.xml:line 8 [look]: warning: <strong> (2 times; the first is here) is read as its text, " \
           "without the formatting" in lines
    assert any(line.startswith(f"{pkg}/look.xml:line 6 [look]: warning: <qti-stylesheet>") for line in lines)
    assert f"{pkg}/table.xml:line 7 [table]: <table> is not carried over: a table's layout carries meaning" in lines
    assert not any("<td>" in line or "<tr>" in line for line in lines)  # one problem per construct, not per cell
    assert f"{pkg}/mapped.xml:line 8 [mapped]: the choices are scored by a mapping that gives part or negative " \
           "points; exam-builder scores this kind all or nothing on the key, so the item is not imported" in lines
    _, items, _ = imported(course, pkg, "--pool", "certification", "--skip-problems")
    assert list(items) == ["look"]
    assert items["look"].stem == "Which one first? Think twice.\n\nHeading\n\n- one\n- two"


def test_whitespace_as_a_browser_shows_it_and_prompt_paragraphs_apart(course, tmp_path):
    body = "\t\t<p>\n\t\t\tWhich   of\tthese\n\t\t\tcomes first?\n\t\t</p>"
    item = item30("ws", body).replace(
        '<qti-simple-choice identifier="A">',
        "<qti-prompt>\n\t\t\t<p>Read it twice.</p>\n\t\t\t<p>Then choose.</p>\n\t\t</qti-prompt>\n"
        '\t\t\t<qti-simple-choice identifier="A">')
    pkg = zip_of(tmp_path / "ws.zip", {"ws.xml": item})
    _, items, _ = imported(course, pkg, "--pool", "certification")
    assert items["ws"].stem == "Which of these comes first?\n\nRead it twice.\n\nThen choose."


def test_a_test_in_the_package_is_not_an_error_and_its_items_come_in(course, tmp_path):
    test = (f'{HEAD}<qti-assessment-test {NS} identifier="T" title="T"><qti-test-part identifier="P" '
            'navigation-mode="linear" submission-mode="individual"><qti-assessment-section identifier="S" '
            'title="S" visible="true"><qti-assessment-item-ref identifier="q1" href="items/q1.xml"/>'
            '</qti-assessment-section></qti-test-part></qti-assessment-test>')
    pkg = zip_of(tmp_path / "test.zip", {"imsmanifest.xml": manifest(("T", "imsqti_test_xmlv3p0", "test.xml")),
                                         "test.xml": test, "items/q1.xml": item30("q1", "<p>Which?</p>")})
    out, items, _ = imported(course, pkg, "--pool", "certification")
    assert list(items) == ["q1"]
    assert re.search(r"imsmanifest.xml:line \d+: warning: the test 'test.xml' is not carried over as a test: its 1 "
                     r"item\(s\) are imported one by one; its sections, order, time limits and rules are not", out)


PASSAGE = "<p>" + "The unit is short-staffed at night, and Priya, a peer specialist, sees a pattern. " * 2 + "</p>"


def test_a_passage_another_tool_inlined_is_named_and_can_be_lifted(course, tmp_path):
    files = {f"q{n}.xml": item30(f"q{n}", f"{PASSAGE}<p>Question {n}?</p>") for n in (1, 2)}
    pkg = zip_of(tmp_path / "inlined.zip", files)
    out, items, _ = imported(course, pkg, "--pool", "certification")
    assert "warning: the stem opens with a passage of 1 paragraph(s) that items q1, q2 share" in out
    assert items["q1"].stem.endswith("Question 1?") and items["q1"].scenario is None
    out, items, nb = imported(course, pkg, "--pool", "certification", "--lift-passages", into=str(tmp_path / "lift"))
    assert items["q1"].stem == "Question 1?" and items["q2"].stem == "Question 2?"
    assert items["q1"].scenario == items["q2"].scenario == "q1-passage"
    assert parse_notebook(nb).scenarios[0].text.startswith("The unit is short-staffed")


def test_a_relative_into_is_the_working_folders_and_printed_as_typed(course, tmp_path, monkeypatch):
    zip_of(tmp_path / "rel.zip", {"q.xml": item30("q1", "<p>Which?</p>")})
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    out, items, _ = imported(course, Path("../rel.zip"), "--pool", "certification", into="drafts")
    assert (work / "drafts" / "rel.ipynb").exists() and not (course / "drafts").exists()
    assert "into drafts/rel.ipynb;" in out and "'exam-builder check drafts/rel.ipynb'" in out
    again = CliRunner().invoke(cli, ["--course", str(course), "import", "qti", "../rel.zip", "--into", "drafts",
                                     "--pool", "certification"])
    assert again.exit_code == 1 and "drafts/rel.ipynb already exists" in again.output
    # the check the closing line asks for works from the same folder and names the notebook as typed
    check = CliRunner().invoke(cli, ["--course", str(course), "check", "drafts/rel.ipynb"])
    assert "no such file" not in check.output and "checked 1 notebook(s) (1 items" in check.output, check.output
    assert re.search(r"^drafts/rel\.ipynb:cell \d+ \[q1\]", check.output, re.M), check.output


def test_an_exported_items_own_spaces_read_back_exactly(course, tmp_path):
    item = Item(id="sp-01", kind=Kind.multiple_choice, stem="Steps:\n  - first\n  - then  two spaces",
                choices=(Choice(text="A"), Choice(text="B", correct=True)), competency="c", status=Status.live,
                author="a", where=Where(file="t.ipynb", cell=1))
    from exam_builder.bank import Bank

    bank = Bank(items={item.id: item}, scenarios={})
    pkg = write_zip(build_package(bank, {}, [item]), tmp_path / "spaces.zip")
    _, items, _ = imported(course, pkg)
    assert items["sp-01"].stem == item.stem


def test_any_xml_fault_inside_an_item_is_located_not_a_traceback(course, tmp_path):
    buf = io.StringIO()
    buf.write(item30("q1", "<p>Which?</p>").replace("<p>Which?</p>", "<p>Which?</p><p>&#1;</p>"))
    pkg = zip_of(tmp_path / "fault.zip", {"q.xml": buf.getvalue()})
    out, _, _ = imported(course, pkg, "--pool", "certification", code=1)
    assert f"{pkg}/q.xml:line" in out
