"""The item bank: every item and scenario authored in the notebooks under ``source/``."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problem
from ..model.item import METADATA_KEY, Choice, Item, Kind, Pool, Scenario, Status, Where
from ..model.review import ReviewState
from ..safeload import walk_files
from .parse import ParsedNotebook, parse_notebook

__all__ = ["Bank", "Choice", "Item", "Kind", "METADATA_KEY", "Pool", "Scenario", "Status", "Where", "load_bank",
           "notebook_files", "notebook_walk"]


def notebook_walk(paths: list[Path], label=lambda p: str(p)) -> tuple[list[Path], list[Problem]]:
    """Notebooks under the given files or folders, sorted, without checkpoints, and what was odd.

    Folders are walked by ``safeload.walk_files``: link loops, links out of the folder, folders
    named like notebooks and special files are problems, never a crash or a silent skip.
    """
    out: list[Path] = []
    problems: list[Problem] = []
    for p in paths:
        if p.is_dir() and p.suffix != ".ipynb":
            files, found = walk_files(p, (".ipynb",), label)
            out += files
            problems += found
        elif p.suffix == ".ipynb":
            out.append(p)  # a folder named x.ipynb too: the reader says what it is
    return out, problems


def notebook_files(paths: list[Path]) -> list[Path]:
    """Notebooks under the given files or folders, sorted, without checkpoints."""
    return notebook_walk(paths)[0]


@dataclass
class Bank:
    """Items and scenarios by id, in the order they were read, with the parse problems.

    ``reviews`` (item id -> ``model.review.ReviewState``) is set by ``bank.review.gate`` when the
    course requires recorded review: an item is then live only when its header says live and
    its recorded review approves its current content. ``None``: the header alone decides.
    """

    items: dict[str, Item] = field(default_factory=dict)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    notebooks: list[ParsedNotebook] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    reviews: dict[str, ReviewState] | None = None

    def offered(self) -> list[Item]:
        """Items whose author offers them for use ('status: live' in the header), reviewed or not."""
        return [i for i in self.items.values() if i.status is Status.live]

    def not_live_because(self, item: Item) -> str | None:
        """Why an item may not be drawn on a certification form, or None when it may."""
        if item.practice:
            return "it is a practice item (pool: practice)"
        return self._not_ready_because(item)

    def not_practice_because(self, item: Item) -> str | None:
        """Why an item may not be drawn on a practice set, or None when it may."""
        if not item.practice:
            return "it is a certification item (its header has no 'pool: practice')"
        return self._not_ready_because(item)

    def _not_ready_because(self, item: Item) -> str | None:
        """Live in its header and, where review is recorded, approved as it reads now."""
        if item.status is not Status.live:
            return f"its header says status: {item.status.value}"
        if self.reviews is not None:
            state = self.reviews.get(item.id)
            if state is None or not state.approved:
                return state.label if state is not None else "it waits for review"
        return None

    def is_live(self, item: Item) -> bool:
        return self.not_live_because(item) is None

    def live(self) -> list[Item]:
        """Items that may be drawn on certification forms (see ``reviews``)."""
        return [i for i in self.offered() if self.is_live(i)]

    def practice(self) -> list[Item]:
        """Items that may be drawn on practice sets: live, approved, and marked 'pool: practice'."""
        return [i for i in self.offered() if self.not_practice_because(i) is None]

    def scenario_items(self, scenario_id: str) -> list[Item]:
        return [i for i in self.items.values() if i.scenario == scenario_id]


def load_bank(paths: list[Path], label=lambda p: str(p)) -> Bank:
    """Parse every notebook under ``paths``; generated forms are skipped.

    Duplicate ids keep the first item; ``bank.validate`` reports the duplicates.
    ``label`` turns a path into the name used in messages (relative to the course root).
    """
    bank = Bank()
    files, bank.problems = notebook_walk(paths, label)
    for path in files:
        parsed = parse_notebook(path, label(path))
        if parsed.generated:
            continue
        bank.notebooks.append(parsed)
        bank.problems += parsed.problems
        for item in parsed.items:
            bank.items.setdefault(item.id, item)
        for sc in parsed.scenarios:
            bank.scenarios.setdefault(sc.id, sc)
    return bank
