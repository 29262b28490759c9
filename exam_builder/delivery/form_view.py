"""The candidate's view of a form, read from the *released* notebook only.

The released notebook is key-free by construction (nbgrader strips solutions and hidden
tests; the builder's lint scans it). Building the candidate's pages from it, and never from
the manifest, means a key cannot reach a candidate's page or widget state by mistake.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ExamBuilderError, Location, Problem, ValidationFailed, rel
from ..kinds import kind_for
from ..model.kind import METADATA_KEY, Kind
from ..safeload import LoadError, read_notebook_json

# The candidate's kernel imports this module: model.item is cheap (nbformat is imported only
# when a notebook is parsed), so the names come from the one place they are defined.
KINDS = tuple(k.value for k in Kind)

#: Text that only a source (unreleased) notebook holds; its presence means keys could leak.
SOURCE_MARKERS = ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


@dataclass(frozen=True)
class ChoiceView:
    label: str  # "A", "B", ...
    text: str


@dataclass(frozen=True)
class ItemView:
    """One question as a candidate sees it: no key, no rationale."""

    number: int
    item_id: str
    kind: str  # a bank Kind value: its hooks are ``kinds.kind_for(kind)``
    points: float
    stem: str  # markdown of the question cell, without its list of choices
    offered: tuple[ChoiceView, ...] = ()  # the labelled options of a kind with choices
    scenario: str | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(c.label for c in self.offered)

    @property
    def options(self) -> list[tuple[str, str]]:
        """(label, text) of each option shown, for the kind's ``control``."""
        return [(c.label, c.text) for c in self.offered]

    @property
    def multiple(self) -> bool:
        """The candidate may choose several options (select all that apply)."""
        return kind_for(self.kind).multiple


@dataclass(frozen=True)
class ScenarioView:
    id: str
    title: str
    text: str  # markdown of the vignette cell


@dataclass
class FormView:
    assignment: str
    header: str = ""
    items: list[ItemView] = field(default_factory=list)
    scenarios: dict[str, ScenarioView] = field(default_factory=dict)

    def item(self, item_id: str) -> ItemView:
        for it in self.items:
            if it.item_id == item_id:
                return it
        raise KeyError(item_id)

    def by_number(self, number: int) -> ItemView:
        return self.items[number - 1]


#: The course's release folder as the exam server read it from nbgrader's layout, for its kernels:
#: asking nbgrader in a kernel imports all of nbgrader (its apps, jupyter_server, jsonschema's
#: grammars), about 100 MB in every candidate's kernel at sign-in.
RELEASE_DIR_ENV = "EXAM_BUILDER_RELEASE_DIR"


def released_notebook_path(course, assignment: str) -> Path:
    """Where nbgrader released a form (the builder's ``released_notebook``; an error if it was not).

    In the exam server's kernels the release folder comes from ``EXAM_BUILDER_RELEASE_DIR`` (set by
    the server for this course's root only), checked the same way; elsewhere from nbgrader."""
    import os

    known = os.environ.get(RELEASE_DIR_ENV, "")
    if known and os.environ.get("EXAM_BUILDER_COURSE") == str(course.root):
        from ..files import check_owned

        path = Path(known) / assignment / f"{assignment}.ipynb"
        if not check_owned(path, course.root, "file"):  # never through a link, never a folder or a pipe
            raise ExamBuilderError(f"{path}: form {assignment} has not been released; "
                                   f"run `exam-builder build {assignment.rsplit('-', 1)[0]}`")
        return path
    from ..assembly.release import released_notebook  # imported on use: the kernel's import stays light

    return released_notebook(course, assignment)


_QUESTION_LINE = re.compile(r"^\s*\*\*Question\s+\d+\*\*.*$")


def _strip_choices(source: str, choices: list[ChoiceView]) -> str:
    """The stem only: drop the "**Question N** · P points" line (the app has its own heading) and
    the lines that restate a choice (the widgets show the choices as controls)."""
    lines = source.strip().split("\n")
    if lines and _QUESTION_LINE.match(lines[0]):
        source = "\n".join(lines[1:])
    if not choices:
        return source.strip()
    texts = [(c.label, c.text.strip()) for c in choices if c.text.strip()]
    kept = []
    for line in source.split("\n"):
        bare = re.sub(r"[*_`]", "", line).strip()
        if any(text and text in bare and re.match(rf"^[-*]?\s*\(?{re.escape(lab)}[.):]", bare) for lab, text in texts):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def load_form_view(path: Path, root: Path | None = None) -> FormView:
    """Read a released form notebook into a candidate view; every problem is reported at once."""
    where = rel(path, root)
    if not Path(path).exists():
        raise ExamBuilderError(
            f"{where}: the released form is missing. Build and release the forms first (exam-builder build)."
        )
    try:  # plain JSON (nbformat 4): the candidate's kernel starts faster without nbformat's schema
        nb = read_notebook_json(Path(path), where=where)  # size, depth and structure types checked
    except LoadError as exc:
        raise ExamBuilderError(f"{exc}. Release the form again.") from None
    if nb.get("nbformat") != 4:
        raise ExamBuilderError(f"{where}: not a readable notebook (nbformat {nb.get('nbformat')!r}, expected 4). "
                               "Release the form again.")
    cells = nb["cells"]
    view = FormView(assignment=Path(path).stem)
    problems: list[Problem] = []
    for n, cell in enumerate(cells, start=1):
        src = cell.get("source", "")
        src = src if isinstance(src, str) else "".join(src)
        cell_type = cell.get("cell_type")
        cell_meta = cell.get("metadata", {}) or {}
        if any(m in src for m in SOURCE_MARKERS):
            problems.append(Problem(Location(where, cell=n), "holds solution or hidden-test text: this is not a "
                                    "released notebook; deliver only what nbgrader released"))
            continue
        grade_id = (cell_meta.get("nbgrader", {}) or {}).get("grade_id", "")
        meta = cell_meta.get(METADATA_KEY, {}) or {}
        if cell_type != "markdown":
            continue
        if grade_id == "header":
            view.header = src.strip()
        elif "scenario" in meta and "item" not in meta and grade_id.startswith("scenario-"):
            view.scenarios[meta["scenario"]] = ScenarioView(meta["scenario"], str(meta.get("title", "")), src.strip())
        elif grade_id.endswith("-question"):
            try:
                kind = str(meta.get("kind"))
                if kind not in KINDS:
                    raise ValueError(f"unknown kind {kind!r}")
                number = int(meta["number"])
                choices = [ChoiceView(str(c["label"]), str(c["text"])) for c in meta.get("choices", [])]
                item_id = str(meta["item"])
            except (KeyError, ValueError, TypeError) as exc:
                problems.append(Problem(Location(where, cell=n), f"question cell metadata is incomplete ({exc}); "
                                        "build and release the form again"))
                continue
            if kind_for(kind).min_options > len(choices):
                problems.append(Problem(Location(where, cell=n, item=item_id),
                                        "a question of choices without its choices"))
                continue
            view.items.append(ItemView(number, item_id, kind, float(meta.get("points", 1)),
                                       _strip_choices(src, choices), tuple(choices), meta.get("scenario")))
    if not view.items:
        problems.append(Problem(Location(where), "no questions found; build and release the form again"))
    numbers = [it.number for it in view.items]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(Problem(Location(where), f"questions are not numbered 1..{len(numbers)} in order"))
    if problems:
        raise ValidationFailed(problems)
    return view
