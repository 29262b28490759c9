"""Made-up banks for tests and benchmarks: any size, seeded, written as real item notebooks.

Nothing here is real exam content; it exists so the assembler can be exercised at scale
without touching the program's own bank.
"""
from __future__ import annotations

import random
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_markdown_cell, new_notebook

from ..bank import Bank, Item, Scenario, Status, Where
from ..bank.parse import render_item, render_scenario
from ..kinds import kind_for
from ..model.rubric import Criterion, Level, Rubric

COMPETENCIES = ("peer-support", "in-but-not-of", "change-agent")
DIFFICULTIES = ("easy", "medium", "hard")


def synthetic_rubric(item_id: str, points: float = 6) -> Rubric:
    half = points / 2
    def levels() -> tuple[Level, ...]:
        return (Level(points=0, descriptor="missing"), Level(points=half / 2, descriptor="partial"),
                Level(points=half, descriptor="complete"))
    return Rubric(id=item_id, title=f"Rubric for {item_id}", criteria=(
        Criterion(id="idea", name="Main idea", levels=levels()),
        Criterion(id="example", name="Example", levels=levels()),
    ))


def synthetic_bank(
    n_items: int = 1000,
    seed: int = 1,
    *,
    scenario_share: float = 0.15,
    open_share: float = 0.05,
    tf_share: float = 0.25,
    draft_share: float = 0.05,
    or_points: float = 6,
    ms_share: float = 0.0,
    sa_share: float = 0.0,
) -> tuple[Bank, dict[str, Rubric]]:
    """A bank of about ``n_items`` items over the CPS competencies, with scenarios and rubrics.

    ``ms_share`` of the items are multiple select and ``sa_share`` short answer (none by default,
    so existing seeds give the same banks)."""
    rng = random.Random(seed)
    bank = Bank()
    rubrics: dict[str, Rubric] = {}
    cell = 0

    def add(item: Item) -> None:
        bank.items[item.id] = item

    n = 0
    n_sc = 0
    while n < n_items:
        comp = COMPETENCIES[n % len(COMPETENCIES)]
        if rng.random() < scenario_share and n + 3 <= n_items:
            n_sc += 1
            sid = f"sc-{n_sc:03d}"
            cell += 1
            bank.scenarios[sid] = Scenario(id=sid, title=f"Scenario {n_sc}", text=f"A made-up situation number {n_sc}.",
                                           where=Where(file="synthetic.ipynb", cell=cell))
            for _ in range(rng.choice((2, 3))):
                n += 1
                cell += 1
                add(_item(rng, n, rng.choice(COMPETENCIES), scenario=sid, cell=cell, tf_share=tf_share,
                          open_share=0, draft_share=0, ms_share=ms_share, sa_share=sa_share))
            continue
        n += 1
        cell += 1
        item = _item(rng, n, comp, cell=cell, tf_share=tf_share, open_share=open_share,
                     draft_share=draft_share, or_points=or_points, ms_share=ms_share, sa_share=sa_share)
        add(item)
        if kind_for(item.kind).rubric:
            rubrics[item.id] = synthetic_rubric(item.id, or_points)
    return bank, rubrics


def _item(rng: random.Random, n: int, comp: str, *, cell: int, tf_share: float, open_share: float,
          draft_share: float, scenario: str | None = None, or_points: float = 6, ms_share: float = 0.0,
          sa_share: float = 0.0) -> Item:
    r = rng.random()
    mix = ((kind_for("open_response"), open_share), (kind_for("true_false"), tf_share),
           (kind_for("multiple_select"), ms_share), (kind_for("short_answer"), sa_share))
    kind, edge = kind_for("multiple_choice"), 0.0
    for candidate, share in mix:  # the first kind whose share the draw falls in; else multiple choice
        edge += share
        if r < edge:
            kind = candidate
            break
    iid = f"it-{n:04d}"
    choices = kind.sample_choices(rng, n)
    own = kind.sample_fields(rng)
    # it-0001 is always live, so a test blueprint can name it as an anchor
    status = Status.draft if rng.random() < draft_share and n > 1 else Status.live
    return Item(
        id=iid, kind=kind.kind, stem=f"Made-up question {n} about {comp}?", choices=choices,
        points=or_points if kind.rubric else 1, competency=comp, module=rng.randint(1, 9),
        difficulty=rng.choice(DIFFICULTIES), status=status, author="Sample Author", reviewer="Sample Reviewer",
        rationale=f"Because of reason {n}-{rng.randrange(10**6)} in the made-up training notes.",
        rubric=iid if kind.rubric else None, scenario=scenario,
        where=Where(file="synthetic.ipynb", cell=cell), **own,
    )


def write_bank(bank: Bank, rubrics: dict[str, Rubric], folder: Path, rubrics_dir: Path, per_notebook: int = 50) -> None:
    """Write the bank as authored item notebooks and the rubrics as YAML files."""
    folder.mkdir(parents=True, exist_ok=True)
    rubrics_dir.mkdir(parents=True, exist_ok=True)
    cells, written, chunk = [], set(), 0
    for item in bank.items.values():
        if item.scenario and item.scenario not in written:
            written.add(item.scenario)
            cells.append(new_markdown_cell(render_scenario(bank.scenarios[item.scenario])))
        cells.append(new_markdown_cell(render_item(item)))
        if len(cells) >= per_notebook and not item.scenario:
            _write_nb(folder / f"items-{chunk:02d}.ipynb", cells)
            cells, chunk = [], chunk + 1
    if cells:
        _write_nb(folder / f"items-{chunk:02d}.ipynb", cells)
    for rid, rubric in rubrics.items():
        data = rubric.model_dump(mode="json", exclude={"file"})
        (rubrics_dir / f"{rid}.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _write_nb(path: Path, cells: list) -> None:
    nb = new_notebook()
    for n, c in enumerate(cells):
        c["id"] = f"c{n:04d}"
    nb.cells = cells
    nbformat.write(nb, str(path))
