"""`exam-builder build`: nbgrader release, storage, determinism, no-op, frozen issued forms, key scan."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import nbformat
import pytest
from rich.console import Console
from sqlalchemy import select

from exam_builder.assembly.build import build
from exam_builder.assembly.forms import load_forms
from exam_builder.assembly.lint import lint_manifests, rationale_texts, scan_release
from exam_builder.assembly.release import released_notebook, source_notebook
from exam_builder.bank import load_bank
from exam_builder.errors import ValidationFailed
from exam_builder.kinds import keyed_entries, kind_for
from exam_builder.model.rubric import load_rubrics
from exam_builder.records import audit
from exam_builder.records.models import AuditEntry, Candidate, Sitting

QUIET = Console(quiet=True)


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(course, *args) -> CliResult:
    """The real `exam-builder` command, run in this process (click's runner) to save start-up time."""
    from click.testing import CliRunner

    from exam_builder.cli import cli

    result = CliRunner().invoke(cli, ["--course", str(course.root), *args], catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


def snapshot(course, exam="syn") -> dict[str, bytes]:
    """Every file the build writes, by path relative to the course."""
    out = {}
    for folder in ("source", "release", "exports"):
        for p in sorted((course.root / folder).rglob("*")):
            if p.is_file() and not p.is_relative_to(course.root / "source" / exam):
                out[str(p.relative_to(course.root))] = p.read_bytes()
    return out


def stored(course, exam="syn") -> dict[str, str]:
    with course.db.read() as s:
        return {f.assignment: m.canonical_json() for f, m in load_forms(s, exam)}


def test_build_releases_through_nbgrader(built_course):
    course, result = built_course
    assert [o.status for o in result.outcomes] == ["new", "new"]
    gb = course.db.gradebook()
    try:
        for m in (o.manifest for o in result.outcomes):
            nb = nbformat.read(str(released_notebook(course, m.assignment)), as_version=4)
            assert nb.metadata["exam_builder"]["generated"] is True
            assert nb.metadata["kernelspec"]["name"] == "python3"
            # the gradebook holds every graded cell with its points, and the hidden tests
            assignment = gb.find_assignment(m.assignment)
            (notebook,) = assignment.notebooks
            cells = {c.name: c for c in notebook.grade_cells}
            assert set(cells) == {e.grade_id for e in m.items}
            for e in m.items:
                assert cells[e.grade_id].max_score == e.points
            for e in keyed_entries(m):
                src = gb.find_source_cell(e.grade_id, m.assignment, m.assignment).source
                assert f'assert {e.variable} == "{e.key}"' in src
            # the released copy follows the form notebook contract, with no key
            by_gid = {c.metadata.nbgrader["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
            for e in m.items:
                q = by_gid[f"q{e.number:02d}-question"]
                meta = q.metadata["exam_builder"]
                assert meta["item"] == e.item_id and meta["number"] == e.number
                assert "key" not in meta and "correct" not in json.dumps(meta)
                if not kind_for(e.kind).rated:
                    assert [c["label"] for c in meta["choices"]] == list("ABCDEFG"[: len(e.option_order)])
                    assert "BEGIN" not in by_gid[e.answer_grade_id].source
                    assert by_gid[e.grade_id].source.strip() == ""
    finally:
        gb.close()
    # stored in eb_form with the exam row, audited
    with course.db.read() as s:
        forms = load_forms(s, "syn")
        assert [f.assignment for f, _ in forms] == ["syn-A", "syn-B"]
        assert all(f.released_at is not None and f.manifest_hash == m.hash() for f, m in forms)
        actions = [e.action for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]
        assert [a for a in actions if a != "item.reviewed"] == ["exam.created", "form.built", "form.built"]
        assert set(actions[:actions.index("exam.created")]) == {"item.reviewed"}  # the kit's approvals came first
        assert audit.verify(s).ok
    # keys and the comparison for authors, staff side
    csv_a = (course.reports_dir / "syn" / "keys" / "syn-A-key.csv").read_text()
    assert csv_a.splitlines()[0].startswith("number,grade_id,item_id")
    assert len(csv_a.splitlines()) == 1 + len(result.outcomes[0].manifest.items)
    html = result.comparison.read_text()
    assert "Items shared between forms" in html and "Expected score" in html


def test_release_has_no_key_and_planted_keys_are_found(built_course, tmp_path):
    course, _ = built_course
    bank = load_bank([course.exam_dir("syn")])
    rationales = rationale_texts(bank)
    assert scan_release(course.release_dir, rationales) == []
    lint = run_cli(course, "lint", "syn")
    assert lint.returncode == 0, lint.stdout + lint.stderr

    # plant key material the three ways it could slip in, in a copy of the release folder
    import shutil
    copy = tmp_path / "release"
    shutil.copytree(course.release_dir, copy)
    path = copy / "syn-A" / "syn-A.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][3]["attachments"] = {"note.txt": {"text/plain": base64.b64encode(b'q01 = "C"').decode()}}
    nb["cells"][1]["metadata"]["exam_builder"]["choices"][0]["correct"] = True
    first_item = nb["cells"][1]["metadata"]["exam_builder"]["item"]
    nb["cells"][5]["source"] = "Hint: " + bank.items[first_item].rationale
    path.write_text(json.dumps(nb))
    (copy / "syn-B" / "answers.txt").write_text("fine line\nassert q07 == 'B'\n")
    found = scan_release(copy, rationales, lambda p: str(p.relative_to(tmp_path)))
    where = {(p.location.file, p.location.cell, p.location.line) for p in found}
    assert ("release/syn-A/syn-A.ipynb", 4, None) in where  # the attachment
    assert ("release/syn-A/syn-A.ipynb", 2, None) in where  # the "correct" flag in metadata
    assert ("release/syn-A/syn-A.ipynb", 6, None) in where  # rationale text
    assert ("release/syn-B/answers.txt", None, 2) in where
    assert any(f"the rationale of item {first_item}" in p.message for p in found)
    assert all("the release was stopped" in p.message for p in found)


def test_determinism_in_two_fresh_courses(course_factory):
    one, two = course_factory("one"), course_factory("two")
    build(one, "syn", console=QUIET, actor="a")
    build(two, "syn", console=QUIET, actor="b")
    assert stored(one) == stored(two)
    snap1, snap2 = snapshot(one), snapshot(two)
    assert any(k.startswith("release/syn-A/") for k in snap1)
    assert snap1.keys() == snap2.keys()
    assert {k for k in snap1 if snap1[k] != snap2[k]} == set()


def test_rebuild_is_a_noop_then_seed_change_rebuilds(syn_course):
    build(syn_course, "syn", console=QUIET)
    before = snapshot(syn_course)
    with syn_course.db.read() as s:
        n_audit = audit.count(s)
    proc = run_cli(syn_course, "build", "syn")
    assert proc.returncode == 0, proc.stderr
    assert "nothing changed" in proc.stdout
    assert snapshot(syn_course) == before
    with syn_course.db.read() as s:
        assert audit.count(s) == n_audit
    old = stored(syn_course)
    result = build(syn_course, "syn", seed=99, console=QUIET, reason="new seed for the spring cohort")
    assert [o.status for o in result.outcomes] == ["rebuilt", "rebuilt"]
    assert stored(syn_course) != old
    with syn_course.db.read() as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
        assert last.action == "form.rebuilt" and last.reason == "new seed for the spring cohort"
        assert last.details["seed"] == 99


def _issue(course, assignment: str) -> None:
    """Give a form to a candidate, as delivery does (a sitting on that form)."""
    with course.db.transaction() as s:
        forms = {f.assignment: f for f, _ in load_forms(s, "syn")}
        s.add(Candidate(id="cand-1", first_name="Sample", last_name="Candidate"))
        s.flush()
        s.add(Sitting(candidate_id="cand-1", exam_id="syn", seq=1, attempt_no=1, form_id=forms[assignment].id,
                      time_limit_minutes=180))


def _edit_item(course, item_id: str, new_stem: str) -> str:
    """Edit an item's stem in its notebook, as an author would; return the notebook's label."""
    for path in sorted(course.exam_dir("syn").glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if cell.source.startswith("**[") and f"] {item_id}**" in cell.source.split("\n", 1)[0]:
                head, rest = cell.source.split("\n", 1)
                body = rest.split("\n")
                body[1] = new_stem  # the stem line follows the blank line after the header
                cell.source = head + "\n" + "\n".join(body)
                nbformat.write(nb, str(path))
                return path.name
    raise AssertionError(item_id)


def test_issued_form_is_never_changed_silently(syn_course):
    build(syn_course, "syn", console=QUIET)
    with syn_course.db.read() as s:
        (fa, ma), (fb, mb) = load_forms(s, "syn")
    _issue(syn_course, "syn-A")
    only_a = next(e.item_id for e in ma.items if e.item_id not in {x.item_id for x in mb.items})
    only_b = next(e.item_id for e in mb.items if e.item_id not in {x.item_id for x in ma.items})

    # an edit to an item of the unissued form B rebuilds B only; issued A stays as it is
    _edit_item(syn_course, only_b, "A reworded made-up question?")
    result = build(syn_course, "syn", console=QUIET)
    assert [o.status for o in result.outcomes] == ["unchanged", "rebuilt"]
    after = stored(syn_course)
    assert after["syn-A"] == ma.canonical_json()

    # an edit to an item of issued form A is refused, naming the item, and nothing changes
    before = snapshot(syn_course)
    nb_name = _edit_item(syn_course, only_a, "An edited made-up question?")
    proc = run_cli(syn_course, "build", "syn")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "form A (syn-A) was issued to candidates (1 sitting(s)) and is frozen" in out
    assert f"{only_a} (edited in source/syn/{nb_name}" in out
    assert "--first-label C" in out and "Traceback" not in out
    assert stored(syn_course) == after
    assert snapshot(syn_course) == before

    # what the message says to do works: new forms beside the issued ones
    result = build(syn_course, "syn", first_label="C", console=QUIET)
    assert [o.manifest.assignment for o in result.outcomes] == ["syn-C", "syn-D"]
    assert set(stored(syn_course)) == {"syn-A", "syn-B", "syn-C", "syn-D"}
    assert stored(syn_course)["syn-A"] == ma.canonical_json()


def test_an_issued_form_is_compared_with_what_was_issued_not_with_a_fresh_assembly(syn_course):
    """Past sittings' facility or another seed would assemble other items today: an issued form is
    never re-assembled, so a rebuild with the bank and blueprint unchanged is a no-op for it."""
    build(syn_course, "syn", console=QUIET)
    with syn_course.db.read() as s:
        (fa, ma), _ = load_forms(s, "syn")
    _issue(syn_course, "syn-A")
    facility = {e.item_id: 0.05 for e in ma.items}  # every item of A now looks far too hard
    result = build(syn_course, "syn", seed=987, p_values=facility, console=QUIET)
    assert result.outcomes[0].status == "unchanged"
    assert stored(syn_course)["syn-A"] == ma.canonical_json()
    # the blueprint's own settings still bind it: a new cut score is refused, saying so
    bp = syn_course.exam_dir("syn") / "blueprint.yaml"
    bp.write_text(bp.read_text().replace("title: ", "title: Renamed ", 1))
    before = snapshot(syn_course)
    proc = run_cli(syn_course, "build", "syn")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "the blueprint's title (" in out and "Traceback" not in out, out
    assert snapshot(syn_course) == before


def test_key_found_in_release_stops_the_build_and_restores(syn_course):
    build(syn_course, "syn", forms=1, console=QUIET)
    before_db = stored(syn_course)
    before_nb = released_notebook(syn_course, "syn-A").read_bytes()
    before_src = source_notebook(syn_course, "syn-A").read_bytes()
    stray = syn_course.release_dir / "old-quiz" / "answers.md"
    stray.parent.mkdir(parents=True)
    stray.write_text("Answers: q04 = \"D\"\n")
    with pytest.raises(ValidationFailed) as exc:
        build(syn_course, "syn", forms=1, seed=5, console=QUIET)
    assert "release/old-quiz/answers.md:line 1" in str(exc.value)
    assert "a key label bound to a question" in str(exc.value)
    assert stored(syn_course) == before_db
    assert released_notebook(syn_course, "syn-A").read_bytes() == before_nb
    assert source_notebook(syn_course, "syn-A").read_bytes() == before_src
    # nbgrader's gradebook was put back in step with the restored form: its hidden tests hold the stored keys
    with syn_course.db.read() as s:
        ((_, manifest),) = load_forms(s, "syn")
    gb = syn_course.db.gradebook()
    try:
        for e in keyed_entries(manifest):
            src = gb.find_source_cell(e.grade_id, "syn-A", "syn-A").source
            assert f'assert {e.variable} == "{e.key}"' in src
    finally:
        gb.close()
    lint = run_cli(syn_course, "lint", "syn")
    assert lint.returncode == 1 and "release/old-quiz/answers.md:line 1" in lint.stdout


def test_infeasible_build_exits_nonzero_with_the_category(syn_course, blueprint_text):
    bp = syn_course.exam_dir("syn") / "blueprint.yaml"
    bp.write_text(blueprint_text.replace("change-agent: {true_false: 1, multiple_choice: 3}",
                                         "change-agent: {true_false: 1, multiple_choice: 300}"))
    proc = run_cli(syn_course, "build", "syn")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    assert "change-agent / multiple_choice: the blueprint needs 300, the bank has" in out
    assert "source/syn/blueprint.yaml:line" in out and "Traceback" not in out
    assert not (syn_course.release_dir / "syn-A").exists()
    assert stored(syn_course) == {}


def test_lint_finds_unkeyed_items_unequal_points_and_missing_rubrics(built_course):
    course, result = built_course
    bank = load_bank([course.exam_dir("syn")])
    rubrics, _ = load_rubrics([course.rubrics_dir])
    a, b = (o.manifest for o in result.outcomes)
    assert lint_manifests([a, b], bank, rubrics) == []
    # a key that no longer points at the correct choice, an open response without rubric,
    # a form worth a point more, and a duplicated grade id
    obj = next(e for e in a.items if e.kind.value == "multiple_choice")
    wrong = next(x for x in "ABCD" if x != obj.key)
    orr = next(e for e in a.items if e.kind.value == "open_response")
    items = [e.model_copy(update={"key": wrong}) if e is obj else e for e in a.items]
    bad_a = a.model_copy(update={"items": tuple(items)})
    rubrics_less = {k: v for k, v in rubrics.items() if k != orr.rubric}
    b_items = list(b.items)
    b_items[0] = b_items[0].model_copy(update={"points": b_items[0].points + 1})
    b_items[1] = b_items[1].model_copy(update={"number": b_items[0].number})
    bad_b = b.model_copy(update={"items": tuple(b_items)})
    msgs = [str(p) for p in lint_manifests([bad_a, bad_b], bank, rubrics_less)]
    text = "\n".join(msgs)
    assert (f"question {obj.number} of syn-A: the key label {wrong!r} does not point at the item's correct "
            "choice") in text
    assert f"open response without its rubric: add rubrics/{orr.rubric}.yaml" in text
    assert "form B has" in text and "form A has" in text
    assert "grade ids" in text and "used twice" in text


def test_bad_item_statistics_csv_names_the_row(syn_course, tmp_path):
    stats = tmp_path / "stats.csv"
    stats.write_text("item_id,p_value\nit-0002,0.8\nit-0003,1.7\nit-0004,high\n")
    proc = run_cli(syn_course, "build", "syn", "--item-stats", str(stats))
    assert proc.returncode == 1
    assert "stats.csv:row 2:column p_value [it-0003]: p_value '1.7' is not a proportion" in proc.stderr
    assert "stats.csv:row 3:column p_value [it-0004]" in proc.stderr
    assert stored(syn_course) == {} and not (syn_course.release_dir / "syn-A").exists()
