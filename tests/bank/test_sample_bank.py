"""The sample CPS bank in source/cps/ and rubrics/ is rich enough to build real exams from.

The certification items (``items``) are held to the blueprint's needs; the practice items of
``source/cps/practice.ipynb`` (``practice``) to the same writing rules, two for every module.

These tests guard the promises other domains rely on: the blueprint's live counts per
competency and kind, open-response items with usable rubrics, enough scenario-based items,
every training module covered, and a bank that `exam-builder check` accepts with no
problems at all. They read the committed files; nothing here writes to the repository.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from exam_builder.bank import Bank, Item, Kind, Status, load_bank
from exam_builder.cli import cli
from exam_builder.kinds import kind_for
from exam_builder.model.rubric import Rubric, load_rubrics
from exam_builder.settings.policy import CPS_COMPETENCIES, CPS_MODULES, ProgramPolicy

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "source" / "cps"
RUBRICS = REPO / "rubrics"

# What the CPS blueprint needs live, per competency (issue 2).
LIVE_MIN = {Kind.true_false: 12, Kind.multiple_choice: 28, Kind.open_response: 3}
ID_FORM = re.compile(r"^(?P<comp>ps|ibno|ca)-(?P<kind>tf|mc|or)-\d{2}$")
COMP_PREFIX = {"ps": "peer-support", "ibno": "in-but-not-of", "ca": "change-agent"}


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank([SOURCE], _rel)


@pytest.fixture(scope="module")
def items(bank: Bank) -> list[Item]:
    """The certification items."""
    return [i for i in bank.items.values() if not i.practice]


@pytest.fixture(scope="module")
def practice(bank: Bank) -> list[Item]:
    return [i for i in bank.items.values() if i.practice]


@pytest.fixture(scope="module")
def rubrics() -> dict[str, Rubric]:
    found, problems = load_rubrics([RUBRICS], _rel)
    assert not problems, "\n".join(map(str, problems))
    return found


def test_bank_parses_cleanly(bank: Bank, items: list[Item]) -> None:
    assert len(bank.notebooks) == 10
    assert not bank.problems, "\n".join(map(str, bank.problems))
    all_ids = [i.id for nb in bank.notebooks for i in nb.items] + [s.id for nb in bank.notebooks for s in nb.scenarios]
    assert len(all_ids) == len(set(all_ids)), "duplicate item or scenario ids"


def test_counts_by_kind(items: list[Item]) -> None:
    kinds = Counter(i.kind for i in items)
    assert kinds[Kind.true_false] + kinds[Kind.multiple_choice] >= 135
    assert kinds[Kind.open_response] >= 9


def test_live_counts_per_competency_and_kind(items: list[Item]) -> None:
    live = Counter((i.competency, i.kind) for i in items if i.status is Status.live)
    short = {
        (comp, kind.value): live[(comp, kind)]
        for comp in CPS_COMPETENCIES
        for kind, need in LIVE_MIN.items()
        if live[(comp, kind)] < need
    }
    assert not short, f"too few live items: {short}"


def test_other_statuses_make_the_filter_matter(items: list[Item]) -> None:
    statuses = Counter(i.status for i in items)
    assert all(statuses[s] >= 2 for s in (Status.draft, Status.reviewed, Status.retired)), statuses
    assert 8 <= len(items) - statuses[Status.live] <= 20


def test_every_module_and_competency_is_used(items: list[Item]) -> None:
    modules = Counter(i.module for i in items)
    assert set(modules) == set(CPS_MODULES)
    assert min(modules.values()) >= 12, modules
    comps = Counter(i.competency for i in items)
    assert set(comps) == set(CPS_COMPETENCIES)
    assert min(comps.values()) >= 45, comps
    # each module is tested from more than one competency
    for m in CPS_MODULES:
        assert len({i.competency for i in items if i.module == m}) >= 2, f"module {m}"


def test_scenario_share_and_set_sizes(bank: Bank, items: list[Item]) -> None:
    in_sets = [i for i in items if i.scenario]
    assert len(in_sets) / len(items) >= 0.40, f"{len(in_sets)} of {len(items)} items are in scenario sets"
    sizes = Counter(i.scenario for i in in_sets)
    practice_scenarios = {i.scenario for i in bank.items.values() if i.practice and i.scenario}
    assert set(sizes) == set(bank.scenarios) - practice_scenarios
    assert all(2 <= n <= 4 for n in sizes.values()), sizes
    assert len(bank.scenarios) >= 15
    # a set comes right after its vignette, in the same notebook, with nothing in between
    for sid, scenario in bank.scenarios.items():
        members = [i for i in bank.items.values() if i.scenario == sid]
        assert {i.where.file for i in members} == {scenario.where.file}, sid
        cells = sorted(i.where.cell for i in members)
        assert cells == list(range(scenario.where.cell + 1, scenario.where.cell + 1 + len(members))), sid


def test_item_ids_name_competency_and_kind(items: list[Item]) -> None:
    for item in items:
        m = ID_FORM.match(item.id)
        assert m, item.id
        assert COMP_PREFIX[m["comp"]] == item.competency, item.id
        assert m["kind"] == item.kind.tag.lower(), item.id


def test_practice_items_cover_every_module_apart_from_the_certification_items(practice: list[Item]) -> None:
    # two for every module, and one short answer to show the kind (pr-sa-01, module 5)
    assert Counter(i.module for i in practice if i.kind is not Kind.short_answer) == {m: 2 for m in CPS_MODULES}
    assert [i.id for i in practice if i.kind is Kind.short_answer] == ["pr-sa-01"]
    assert {i.competency for i in practice} == set(CPS_COMPETENCIES)
    assert {i.where.file for i in practice} == {"source/cps/practice.ipynb"}
    for item in practice:
        assert re.match(rf"^pr-{item.kind.tag.lower()}-\d{{2}}$", item.id), item.id
        assert item.status is Status.live and item.rationale and len(item.rationale) >= 60, item.id
        assert item.reviewer and item.reviewer != item.author, item.id
    mc = [i for i in practice if i.kind is Kind.multiple_choice]
    for item in mc:
        longest_distractor = max(len(c.text) for c in item.choices if not c.correct)
        assert len(item.choices[item.key].text) / longest_distractor <= 1.3, item.id


def test_objective_items_are_well_formed(items: list[Item]) -> None:
    positions = Counter()
    for item in items:
        if kind_for(item.kind).rated:
            continue
        assert item.points == 1, item.id
        assert len(item.keys) == 1, item.id
        texts = [c.text for c in item.choices]
        if item.kind is Kind.true_false:
            assert texts == ["True", "False"], item.id
            continue
        assert 3 <= len(texts) <= 5 and len(set(texts)) == len(texts), item.id
        anchored = [c.anchored for c in item.choices]
        assert not any(anchored[:-1]), f"{item.id}: all/none of the above must be last"
        positions[item.key] += 1
    mc = sum(positions.values())
    assert Counter(len(i.choices) for i in items if i.kind is Kind.multiple_choice)[4] >= 0.9 * mc
    # keys are spread over the positions, not always first
    assert max(positions.values()) <= 0.4 * mc, positions
    anchored_items = [i for i in items if any(c.anchored for c in i.choices)]
    assert 1 <= len(anchored_items) <= 5, "use all/none of the above sparingly"


def test_the_key_is_not_given_away_by_its_length(items: list[Item]) -> None:
    """Test-wise candidates pick the longest choice; the key must not stand out that way."""
    mc = [i for i in items if i.kind is Kind.multiple_choice]
    ratios = {}
    for item in mc:
        longest_distractor = max(len(c.text) for c in item.choices if not c.correct)
        ratios[item.id] = len(item.choices[item.key].text) / longest_distractor
    assert sum(r > 1 for r in ratios.values()) <= 0.5 * len(mc)
    assert not {k: round(r, 2) for k, r in ratios.items() if r > 1.3}


def test_true_false_keys_are_not_all_one_way(items: list[Item]) -> None:
    keys = Counter(i.choices[i.key].text for i in items if i.kind is Kind.true_false)
    assert keys["False"] >= 0.3 * sum(keys.values()), keys


def test_community_engagement_is_a_distractor_never_a_key(items: list[Item]) -> None:
    mentioned = [i for i in items if any("community engagement" in c.text.lower() for c in i.choices)]
    assert mentioned, "community engagement should appear as a distractor"
    for item in mentioned:
        assert "community engagement" not in item.choices[item.key].text.lower(), item.id
    tf = [i for i in items if i.kind is Kind.true_false and "community engagement" in i.stem.lower()]
    assert tf and all(i.choices[i.key].text == "False" for i in tf)


def test_review_fields_difficulty_and_rationale(items: list[Item]) -> None:
    levels = ProgramPolicy().difficulty_levels
    for item in items:
        assert item.author, item.id
        assert item.rationale and len(item.rationale) >= 60, item.id
        assert item.difficulty in levels, item.id
        if item.status is not Status.draft:
            assert item.reviewer and item.reviewer != item.author, item.id
    spread = Counter(i.difficulty for i in items)
    assert all(spread[d] >= 0.15 * len(items) for d in levels), spread


def test_open_response_items_have_usable_rubrics(bank: Bank, rubrics: dict[str, Rubric]) -> None:
    items = list(bank.items.values())  # the practice item's rubric too: practice shows its criteria
    ors = [i for i in items if i.kind is Kind.open_response]
    live = Counter(i.competency for i in ors if i.status is Status.live and not i.practice)
    assert live == {c: 3 for c in CPS_COMPETENCIES}
    assert {i.rubric_id for i in ors} == set(rubrics), "one rubric per open-response item"
    for item in ors:
        rubric = rubrics[item.rubric_id]
        assert rubric.item_id == item.id
        assert len(rubric.criteria) >= 3, rubric.id
        assert rubric.max_points == item.points == 6, rubric.id
        assert rubric.title and len(rubric.notes) >= 100, rubric.id
        for criterion in rubric.criteria:
            assert criterion.levels[0].points == 0, (rubric.id, criterion.id)
            assert all(lv.label and len(lv.descriptor) >= 20 for lv in criterion.levels), (rubric.id, criterion.id)
        anchors = sum(1 for c in rubric.criteria for lv in c.levels if lv.anchor)
        assert anchors >= 2, f"{rubric.id}: give graders anchor responses"


def test_notebooks_open_with_the_sample_notice_and_author_guide() -> None:
    for path in sorted(SOURCE.glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
        first = nb.cells[0]
        assert first.cell_type == "markdown", path.name
        text = first.source.lower()
        assert "sample" in text and "not" in text and "real exam" in text, path.name
        assert "how to write an item" in text, path.name
        # stable cell ids: each item or scenario cell is named by its id
        for cell in nb.cells[1:]:
            head = re.match(r"\*\*\[\w+\] (\S+)\*\*", cell.source)
            assert head and cell.id == head.group(1), f"{path.name}: cell {cell.id}"


def test_bank_sync_has_nothing_to_change(course_dir: Path) -> None:
    """The committed notebooks are exactly what `bank sync --normalize` would write."""
    before = {p.name: p.read_bytes() for p in (course_dir / "source" / "cps").glob("*.ipynb")}
    result = CliRunner().invoke(cli, ["--course", str(course_dir), "bank", "sync", "--normalize"])
    assert result.exit_code == 0, result.output
    after = {p.name: p.read_bytes() for p in (course_dir / "source" / "cps").glob("*.ipynb")}
    assert after == before


def test_check_passes_with_no_problems(tmp_path: Path) -> None:
    """The installed console script, run the way an author runs it, finds nothing to fix."""
    exe = Path(sys.executable).with_name("exam-builder")
    if not exe.exists():
        pytest.skip("the exam-builder console script is not installed next to this Python")
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)
    shutil.copytree(SOURCE, course / "source" / "cps", ignore=shutil.ignore_patterns("blueprint.y*ml"))
    shutil.copytree(RUBRICS, course / "rubrics")
    run = subprocess.run([str(exe), "check", "source/", "rubrics/"], cwd=course, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 error(s), 0 warning(s)" in run.stdout, run.stdout
    assert "checked 10 notebook(s)" in run.stdout and "10 rubric(s)" in run.stdout, run.stdout


def test_check_passes_on_the_repository_itself() -> None:
    """`exam-builder check source/ rubrics/` in the repository (with whatever else source/ holds)."""
    result = CliRunner().invoke(cli, ["--course", str(REPO), "check", str(REPO / "source"), str(RUBRICS)])
    assert result.exit_code == 0, result.output
    mine = [line for line in result.output.splitlines() if line.startswith(("source/cps/0", "rubrics/"))]
    assert not mine, "\n".join(mine)
