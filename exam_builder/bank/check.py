"""`exam-builder check`: read notebooks, rubrics and blueprints, validate, report every problem.

The files named are checked against the whole course: the course's ``source/`` and ``rubrics/``
are always read as context (so an item's rubric, a scenario in another notebook or a duplicate
id is found), but only problems in the files named are reported.

A notebook that shares ``COPY_MIN`` or more ids with another notebook is taken for a copy: its
duplicate-id errors (and "same question" warnings) about those ids become one line, "24 items
have the same ids as in source/cps/x.ipynb: is this a copy?", reported after the notebook's
own problems, so that its real mistakes are not buried.

Blueprints are the assembly domain's (a layer above the bank, docs/architecture.md): the caller
passes their checker (``blueprint_check=assembly.blueprint.check_blueprint``, as the CLI, the demo
and ``bank sync`` through the CLI do). Without one, blueprints are neither checked nor counted
(``bank review`` needs only its item's problems).

A live item whose current content has no recorded approval (it will never be drawn) is warned about
at its cell when the caller passes the review states (``reviews=bank.review.list_reviews``, as the
CLI and the author's desk do: ``bank.review`` reads the check, so the check does not import it);
in a course where nothing was reviewed yet, one note (``CheckReport.notes``) says so instead.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..course import Course
from ..errors import ExamBuilderError, Location, Problem
from ..files import shown
from ..model.review import ReviewState
from ..model.rubric import Rubric, load_rubrics
from ..safeload import linked_out, safe_rel, walk_files
from ..settings.policy import ProgramPolicy
from . import Bank, load_bank
from .validate import sort_key, validate

YAML_SUFFIXES = (".yaml", ".yml")
#: Shared ids from which a notebook is taken for a copy of another (fewer: each duplicate is reported).
COPY_MIN = 3

#: The review state of every item of a bank, or None when unknown: ``bank.review.list_reviews`` (which
#: reads the check in turn, so the check is handed it, as the CLI and the author's desk do).
ReviewStates = Callable[[Course, Bank], "dict[str, ReviewState] | None"]

#: Every problem of one blueprint file (path, bank, rubrics, policy, its label): ``assembly.blueprint.check_blueprint``.
BlueprintCheck = Callable[[Path, Bank, dict[str, Rubric], ProgramPolicy, str], Iterable[Problem]]


def is_blueprint(path: Path) -> bool:
    return path.suffix in YAML_SUFFIXES and path.stem == "blueprint"


@dataclass
class Targets:
    """The files a check covers, sorted by kind; paths that could not be used are problems."""

    notebooks: list[Path] = field(default_factory=list)
    rubrics: list[Path] = field(default_factory=list)
    blueprints: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add(self, path: Path, label: Callable[[Path], str], explicit: bool) -> None:
        if path.is_dir() and path.suffix in (".ipynb", *YAML_SUFFIXES):
            kind = "notebook (.ipynb)" if path.suffix == ".ipynb" else "YAML (.yaml)"
            self.problems.append(Problem(Location(label(path)), f"a folder named like a {kind} file; "
                                                                 "rename the folder (only files are read)"))
        if path.is_dir():
            # one walk for every kind: loops, links out of the folder and odd entries are reported once
            files, problems = walk_files(path, (".ipynb", *YAML_SUFFIXES), label)
            self.problems += problems
            self.notebooks += [f for f in files if f.suffix == ".ipynb"]
            self.blueprints += [f for f in files if is_blueprint(f)]
            self.rubrics += [f for f in files if f.suffix in YAML_SUFFIXES and not is_blueprint(f)]
        elif path.suffix == ".ipynb":
            self.notebooks.append(path)
        elif is_blueprint(path):
            self.blueprints.append(path)
        elif path.suffix in YAML_SUFFIXES:
            self.rubrics.append(path)
        elif explicit:
            self.problems.append(
                Problem(Location(label(path)),
                        "not a notebook (.ipynb), rubric (.yaml) or blueprint.yaml; check the path")
            )


@dataclass
class CheckReport:
    """What a check found: the problems to report and the bank and rubrics it read."""

    problems: list[Problem]
    bank: Bank
    rubrics: dict[str, Rubric]
    checked: Counter
    notes: list[str] = field(default_factory=list)  # about the whole course, not a file: said apart (stderr)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        c = self.checked
        return (
            f"checked {c['notebooks']} notebook(s) ({c['items']} items, {c['scenarios']} scenarios), "
            f"{c['rubrics']} rubric(s), {c['blueprints']} blueprint(s): "
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        )


def _unique(paths: list[Path]) -> list[Path]:
    seen, out = set(), []
    for p in paths:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def check(course: Course, paths: list[Path] | None = None,
          blueprint_check: BlueprintCheck | None = None, reviews: ReviewStates | None = None) -> CheckReport:
    """Check ``paths`` (default: the course's ``source/`` and ``rubrics/``) in the course's context;
    blueprints too with ``blueprint_check``; live items without a recorded approval too with ``reviews``."""
    def label(p: Path) -> str:
        """A path typed relative (the working folder's, as a shell resolves it) as typed; the rest relative to
        the course root (a looping link cannot be resolved: ``safe_rel``)."""
        return str(p) if not p.is_absolute() else safe_rel(p, course.root)

    explicit = bool(paths)
    folders = course.folders()
    targets = Targets()
    for path in paths or [course.source_dir, course.rubrics_dir]:
        if path.is_symlink() and not path.exists():
            targets.problems.append(Problem(Location(label(path)), "a symbolic link that loops or points nowhere; "
                                                                   "remove it or point it at a file"))
            continue
        if not path.exists():
            hint = "check the path" if explicit else f"is {course.root} the course folder? (see --course)"
            targets.problems.append(Problem(Location(label(path)), f"no such file or folder; {hint}"))
            continue
        if _linked_out(folders, course.root, path, targets):
            continue
        targets.add(path, label, explicit)

    context = Targets()
    for folder in (course.source_dir, course.rubrics_dir):
        if folder.is_dir() and not _linked_out(folders, course.root, folder, targets):
            context.add(folder, label, explicit=False)
    bank = load_bank(_unique(targets.notebooks + context.notebooks), label)
    rubrics, rubric_problems = load_rubrics(_unique(targets.rubrics + context.rubrics), label)

    broken = {p.location.item: p.location.file for p in rubric_problems if p.location.item
              and p.location.item not in rubrics}
    problems = bank.problems + rubric_problems + validate(bank, rubrics, course.policy, broken,
                                                          course.bank_settings.require_recorded_review)
    if blueprint_check is None:
        targets.blueprints = []
    for path in _unique(targets.blueprints):
        problems += _check_blueprint(blueprint_check, path, bank, rubrics, course.policy, label(path))

    reported = {label(p) for p in [*targets.notebooks, *targets.rubrics, *targets.blueprints]}
    notes: list[str] = []
    if reviews is not None and course.bank_settings.require_recorded_review:
        problems += unapproved_live(reviews(course, bank), bank, reported, notes)
    shown = targets.problems + [p for p in problems if p.location.file in reported]
    shown, summaries = collapse_copies(shown, bank, reported)
    named = {p.resolve() for p in targets.notebooks}
    read = [nb for nb in bank.notebooks if nb.path.resolve() in named]
    checked = Counter(
        notebooks=len(_unique(targets.notebooks)),
        items=sum(len(nb.items) for nb in read),
        scenarios=sum(len(nb.scenarios) for nb in read),
        rubrics=len(_unique(targets.rubrics)),
        blueprints=len(_unique(targets.blueprints)),
    )
    ordered = sorted(set(shown) | set(summaries), key=lambda p: (p.location.file, p in summaries, sort_key(p)))
    return CheckReport(ordered, bank, rubrics, checked, notes)


def unapproved_live(states: dict[str, ReviewState] | None, bank: Bank, reported: set[str],
                    notes: list[str]) -> list[Problem]:
    """A warning at each item whose header says live but whose current content has no recorded approval:
    it will never be drawn on a form, which the author would otherwise learn only at ``build``.

    ``states`` are the items' review states (``bank.review.list_reviews``); nothing when they are None
    (the database cannot be read: unknown, not "waiting"). In a course where nothing was ever reviewed,
    every live item would be warned about and bury the real mistakes: then one note (in ``notes``) says
    so instead.
    """
    if states is None:
        return []
    offered = [i for i in bank.offered()
               if i.where.file in reported and i.id in states and not states[i.id].approved]
    if not offered:
        return []
    if all(s.decision is None for s in states.values()):
        notes.append(f"{len(offered)} live item(s) and no review recorded in this course yet: an item is drawn on "
                     "a form only once a reviewer approves it (`exam-builder bank review ITEM --decision approve "
                     "--by NAME`, or many at once: `exam-builder bank review --all-pending --decision approve --by "
                     "NAME --reason WHY --dry-run`; `exam-builder bank list --waiting` lists them)")
        return []
    return [Problem(Location(item.where.file, cell=item.where.cell, item=item.id),
                    f"the header says live but the item is {states[item.id].label}, so it will not be drawn on a "
                    f"form; a reviewer other than its author records approval with `exam-builder bank review "
                    f"{item.id} --decision approve --by NAME`", severity="warning")
            for item in offered]


def _linked_out(folders: list[tuple[Path, str]], root: Path, path: Path, targets: Targets) -> bool:
    """The link rule of every command (``safeload.linked_out``) for a file or folder read by name:
    a link out of its course folder is a problem (reported once), and it is not read."""
    why = linked_out(path, folders)
    if why is None:
        return False
    problem = Problem(Location(shown(path, root)), why)
    if problem not in targets.problems:
        targets.problems.append(problem)
    return True


def _ids(nb) -> dict[str, str]:
    """A notebook's item and scenario ids -> 'item' or 'scenario'."""
    return {**{i.id: "item" for i in nb.items}, **{s.id: "scenario" for s in nb.scenarios}}


def _label(nb) -> str | None:
    """The name a notebook's problems carry (None for a notebook with no item or scenario)."""
    return next((x.where.file for x in [*nb.items, *nb.scenarios]), None)


def collapse_copies(problems: list[Problem], bank: Bank, reported: set[str]) -> tuple[list[Problem], set[Problem]]:
    """Problems without what a copied notebook causes (duplicate ids, copied stems, scenarios
    found in the other notebook: problems of a shared id that name the other notebook), and one
    summary line per such pair of notebooks."""
    summaries: set[Problem] = set()
    drop: set[Problem] = set()
    labels = {nb.path: _label(nb) for nb in bank.notebooks}
    for nb in bank.notebooks:
        mine = labels.get(nb.path)
        if mine not in reported:
            continue
        ids = _ids(nb)
        for other in bank.notebooks:
            theirs = labels.get(other.path)
            if other is nb or theirs is None:
                continue
            shared = {i: what for i, what in ids.items() if i in _ids(other)}
            if len(shared) < COPY_MIN:
                continue
            mentions = [f"'{i}'" for i in shared]
            for p in problems:  # what the copy causes: duplicate ids, same questions, scenarios "at" the other
                if p.location.file == mine and p.location.item in shared and theirs in p.message:
                    drop.add(p)
            n_items = sum(1 for w in shared.values() if w == "item")
            n_scen = len(shared) - n_items
            what = " and ".join(x for x in (f"{n_items} items" if n_items else "",
                                            f"{n_scen} scenarios" if n_scen else "") if x)
            one_of = "is one of the two a copy" if theirs in reported else "is this a copy"
            summaries.add(Problem(Location(mine), f"{what} have the same ids as in {theirs}: {one_of}? "
                                                  f"Give the copy's items and scenarios ids of their own, or remove "
                                                  f"it ({', '.join(mentions[:3])}"
                                                  f"{', ...' if len(mentions) > 3 else ''})"))
    return [p for p in problems if p not in drop], summaries


def _check_blueprint(blueprint_check: BlueprintCheck, path: Path, bank: Bank, rubrics: dict[str, Rubric],
                     policy: ProgramPolicy, label: str) -> list[Problem]:
    """Blueprints are the assembly domain's: its checker (passed in) says what is wrong."""
    try:
        return list(blueprint_check(path, bank, rubrics, policy, label))
    except ExamBuilderError as exc:
        return [Problem(Location(label), str(exc))]
