"""Practice sets: practice items drawn by competency or module, with the proof that none is a
certification item.

Contract:

- ``assemble_set`` is pure: from a checked ``Bank`` (its reviews gated), the rubrics, the
  program's vocabulary and the manifests of every stored form, it picks the items that
  ``Bank.practice`` allows (header ``status: live`` and ``pool: practice``, approved by a reviewer
  other than the author when review is recorded) matching the competencies and modules asked
  for, keeping a scenario's items together, and proves the pools apart (``bank.overlap``):
  against every certification item of the bank (drafts and retired ones too), by id and by
  question, and against every item of every stored form, by id. Any overlap is a located error and no set
  is written. What was compared is kept in the set (``Proof``), for the oversight board.
- A set is one JSON file, ``practice/<name>.json`` (``Course.practice_dir``), written atomically
  (0600) with one audit entry. It holds its items' keys and rationales: they are practice keys,
  shown to the candidate after each answer. It never holds a certification item, so the practice
  app, which reads only this file, cannot reveal a certification key.
- ``load_set``/``list_sets``/``scan_sets`` read sets back as the program's own files (``files.check_owned``:
  no link on the way, a regular file) through ``safeload`` (size and depth limits), with a located
  error for every broken file; ``practice list`` names each one.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from ..bank import Bank
from ..bank.overlap import RETOLD, RUN, SIMILAR, overlaps
from ..clock import utcnow
from ..errors import ExamBuilderError, Location, Problem, ValidationFailed
from ..files import UnsafePath, check_owned
from ..kinds import kind_for
from ..model.item import Item, Scenario
from ..model.rubric import Rubric
from ..safeload import LoadError, read_json, safe_rel
from ..settings.policy import ProgramPolicy

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
#: Below this share right in a competency, the summary suggests studying it next.
STUDY_BELOW = 0.8


class Proof(BaseModel):
    """What the builder compared the set's items with, and found apart."""

    model_config = ConfigDict(frozen=True)
    certification_items: int  # certification items of the bank (any status)
    forms: tuple[str, ...]  # assignments of every stored form
    form_items: int  # item entries on those forms
    rule: str = (f"no shared id, no question {SIMILAR:.0%} or more alike, and no certification story retold "
                 f"({RETOLD:.0%} of its words in runs of {RUN} or more)")  # an overlap stops the build


class PracticeSet(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    title: str
    exam: str
    competencies: tuple[str, ...] = ()  # asked for (empty: all)
    modules: tuple[int, ...] = ()
    minutes: int | None = None  # a suggested time; the candidate may also take it with no clock
    built_at: dt.datetime
    built_by: str = ""
    items: tuple[Item, ...]
    scenarios: dict[str, Scenario] = {}
    guides: dict[str, tuple[str, ...]] = {}  # open response: what graders look for, one line per criterion
    competency_names: dict[str, str] = {}
    module_titles: dict[int, str] = {}
    proof: Proof
    study_below: float = STUDY_BELOW

    def competency_name(self, slug: str) -> str:
        return self.competency_names.get(slug, slug)


def check_name(name: str) -> None:
    if not NAME.match(name or ""):
        raise ExamBuilderError(f"practice set name {name!r}: use lower-case letters, digits and '-' "
                               "(at most 48), e.g. module-3 or boundaries")


def scenario_units(items: Sequence[Item]) -> list[list[Item]]:
    """Items grouped so that a scenario's items stay together, in bank order."""
    groups: dict[str, list[Item]] = {}
    for it in items:
        groups.setdefault(it.scenario or f"item:{it.id}", []).append(it)
    return list(groups.values())


def guide(rubric: Rubric) -> tuple[str, ...]:
    """An open response's rubric as a candidate can use it: each criterion and its top level."""
    out = []
    for c in rubric.criteria:
        top = max(c.levels, key=lambda lv: lv.points)
        out.append(f"{c.name}: {top.descriptor}")
    return tuple(out)


def assemble_set(bank: Bank, rubrics: Mapping[str, Rubric], policy: ProgramPolicy, forms: Sequence,
                 name: str, exam: str, competencies: Sequence[str] = (), modules: Sequence[int] = (),
                 count: int | None = None, minutes: int | None = None, title: str = "", seed: int = 0,
                 built_by: str = "", now: dt.datetime | None = None) -> PracticeSet:
    """The practice set asked for, or ``ValidationFailed`` naming every problem (pure).

    ``forms`` are stored manifests (``model.manifest.Manifest``) of every exam.
    """
    check_name(name)
    names = {str(k): str(v) for k, v in policy.competencies.items()}
    titles = {int(k): str(v) for k, v in policy.modules.items()}
    problems = [Problem(Location("practice", column="competency"),
                        f"unknown competency {c!r}; use one of {', '.join(names)}")
                for c in competencies if c not in names]
    problems += [Problem(Location("practice", column="module"),
                         f"unknown module {m}; use one of {', '.join(map(str, titles))}")
                 for m in modules if m not in titles]
    if minutes is not None and not 1 <= minutes <= 600:
        problems.append(Problem(Location("practice", column="minutes"),
                                f"{minutes} minutes: give 1 to 600, or no time"))
    if problems:
        raise ValidationFailed(problems)

    wanted = [i for i in bank.practice()
              if (not competencies or i.competency in competencies) and (not modules or i.module in modules)]
    if not wanted:
        asked = " and ".join(filter(None, [", ".join(competencies) and f"competency {', '.join(competencies)}",
                                           ", ".join(map(str, modules)) and f"module {', '.join(map(str, modules))}"]))
        waiting = [i.id for i in bank.items.values() if i.practice and bank.not_practice_because(i)]
        hint = (f"; {len(waiting)} practice item(s) are not live and approved yet ({', '.join(waiting[:5])})"
                if waiting else "; mark items 'pool: practice' and 'status: live' and record their review")
        raise ExamBuilderError(f"no practice item{(' of ' + asked) if asked else ''} may be used{hint}")
    units = scenario_units(wanted)
    if count is not None and count < len(wanted):
        rng = random.Random(seed)
        rng.shuffle(units)
        picked: list[Item] = []
        for unit in units:
            if len(picked) >= count:
                break
            picked += unit
        keep = {i.id for i in picked}
        wanted = [i for i in wanted if i.id in keep]  # back in bank order

    certification = [i for i in bank.items.values() if not i.practice]
    problems = [Problem(Location(p.where.file, cell=p.where.cell, item=p.id),
                        f"practice item {p.id!r} {how} certification item {c.id!r} "
                        f"({c.where.file} cell {c.where.cell}); practice keys are shown to candidates, so it cannot "
                        "be used")
                for p, c, how in overlaps(wanted, certification, bank.scenarios)]
    by_id = {p.id: p for p in wanted}
    form_items = sum(len(m.items) for m in forms)
    problems += [Problem(Location(p.where.file, cell=p.where.cell, item=p.id),
                         f"practice item {p.id!r} was on certification form {m.assignment} "
                         f"(question {e.number}); it cannot be used for practice")
                 for m in forms for e in m.items if (p := by_id.get(e.item_id)) is not None]
    if problems:
        raise ValidationFailed(problems)

    scenarios = {i.scenario: bank.scenarios[i.scenario] for i in wanted if i.scenario and i.scenario in bank.scenarios}
    guides = {i.id: guide(rubrics[i.rubric_id]) for i in wanted
              if i.rubric_id in rubrics and kind_for(i.kind).rated}
    if not title:
        parts = [names[c] for c in competencies] + [f"Module {m}: {titles[m]}" for m in modules]
        title = "Practice: " + (" · ".join(parts) if parts else "all topics")
    return PracticeSet(
        name=name, title=title, exam=exam, competencies=tuple(competencies), modules=tuple(modules), minutes=minutes,
        built_at=now or utcnow().replace(microsecond=0), built_by=built_by,
        items=tuple(wanted), scenarios=scenarios, guides=guides,
        competency_names={c: n for c, n in names.items() if any(i.competency == c for i in wanted)},
        module_titles={m: titles[m] for m in sorted({i.module for i in wanted if i.module in titles})},
        proof=Proof(certification_items=len(certification), forms=tuple(sorted(m.assignment for m in forms)),
                    form_items=form_items),
    )


# -- files ------------------------------------------------------------------------------------
def set_path(course, name: str) -> Path:
    check_name(name)
    return course.practice_dir / f"{name}.json"


def set_json(pset: PracticeSet) -> str:
    return json.dumps(pset.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n"


#: A set of 500 questions with rationales is well under 2 MB.
MAX_SET_BYTES = 8 * 1024 * 1024
REBUILD = "build it again with exam-builder practice build"


def read_set(path: Path, label: str) -> PracticeSet:
    """A set file as data; a broken one is a located error (never a traceback on a candidate's page).

    Read through ``safeload`` (a regular file, size and depth limits): a pipe, a folder named
    ``x.json`` or a deeply nested file is refused, never opened or recursed into.
    """
    if not path.exists() and not path.is_symlink():
        raise ExamBuilderError(f"{label}: no such practice set; build it with exam-builder practice build") from None
    try:
        data = read_json(path, label, max_bytes=MAX_SET_BYTES, what="practice set JSON", hint=REBUILD)
    except LoadError as exc:
        raise ValidationFailed([exc.problem]) from None
    try:
        return PracticeSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "the file"
        raise ValidationFailed([Problem(Location(label, column=where[:120]),
                                        f"not a practice set file ({first.get('msg', 'invalid')[:200]}); "
                                        f"{REBUILD}")]) from None


def load_set(course, name: str) -> PracticeSet:
    path = set_path(course, name)
    check_owned(path, course.root)  # the program's own file (practice build writes it): never through a link
    return read_set(path, f"{safe_rel(course.practice_dir, course.root)}/{path.name}")  # the link, not its target


def list_sets(course) -> list[PracticeSet]:
    """Every readable set of the course, by name (what candidates are offered; see ``scan_sets``)."""
    return scan_sets(course)[0]


def scan_sets(course) -> tuple[list[PracticeSet], list[Problem]]:
    """Every readable set of the course, and a located problem for every ``practice/*.json`` that is not one.

    Nothing is skipped without a word: a file that cannot be read, a name that is not a set's
    name, a ``practice`` that is not a folder are each a problem (``practice list`` shows them).
    """
    sets: list[PracticeSet] = []
    problems: list[Problem] = []
    folder = course.practice_dir
    where = safe_rel(folder, course.root)  # a link loop in its place must not raise here
    if not folder.is_dir():
        if folder.exists() or folder.is_symlink():
            problems.append(Problem(Location(where), "not a folder (practice sets are files in the folder "
                                                     "practice/); remove it, then build the sets again"))
        return sets, problems
    try:
        check_owned(folder, course.root, "dir")  # a link to a folder: named, its files are not the program's own
        paths = sorted(folder.glob("*.json"))
    except UnsafePath as exc:
        return sets, [exc.problem]
    except OSError as exc:
        return sets, [Problem(Location(where),
                              f"cannot read the folder ({exc.strerror or exc}); check its permissions")]
    for path in paths:
        label = f"{where}/{path.name}"
        if not NAME.match(path.stem):
            problems.append(Problem(Location(label), "not a practice set's name (lower-case letters, digits and '-', "
                                                     "at most 48); it is not offered: rename or remove it"))
            continue
        try:
            check_owned(path, course.root)  # never through a link (files), then the loader's type and size checks
            sets.append(read_set(path, label))
        except ValidationFailed as exc:
            problems += exc.problems
        except UnsafePath as exc:
            problems.append(exc.problem)
        except ExamBuilderError as exc:
            problems.append(Problem(Location(label), str(exc).removeprefix(f"{label}: ")))
    return sets, problems


def build_practice(course, name: str, exam: str | None = None, competencies: Sequence[str] = (),
                   modules: Sequence[int] = (), count: int | None = None, minutes: int | None = None,
                   title: str = "", seed: int = 0, actor: str = "") -> tuple[PracticeSet, Path]:
    """Check the bank, assemble and prove the set, write it and audit it (one transaction)."""
    from ..assembly.build import load_checked_bank
    from ..assembly.release import write_atomic
    from ..model.manifest import Manifest
    from ..model.states import AuditAction
    from ..records import audit
    from ..records.queries import forms as forms_q

    exam = course.exam_name(exam)
    path = set_path(course, name)
    bank, rubrics = load_checked_bank(course, exam)
    check_owned(path, course.root)  # before anything is recorded: a refused command changes nothing
    actor = audit.current_actor(actor or None)
    with course.db.transaction() as s:
        manifests = [Manifest.model_validate(f.manifest) for f in forms_q.select_forms(s)]
        pset = assemble_set(bank, rubrics, course.policy, manifests, name, exam, competencies, modules, count,
                            minutes, title, seed, built_by=actor)
        same = [o.name for o in list_sets(course) if o.name != name and o.title == pset.title]
        if same:  # the practice page lists sets by title: two alike cannot be told apart
            raise ExamBuilderError(f"practice set {same[0]!r} already has the title {pset.title!r}; give this set "
                                   "a title of its own with --title")
        audit.record(s, actor, AuditAction.practice_set_built, "practice_set", name, items=[i.id for i in pset.items],
                     forms_compared=len(pset.proof.forms), certification_items_compared=pset.proof.certification_items)
        write_atomic(path, set_json(pset), root=course.root)  # last: a failed write rolls the audit entry back
    return pset, path
