"""The item-kind protocol: what differs between kinds of question lives in one module per kind.

Modelled on PrairieLearn's element folders (prepare, render, parse, grade, test). Every module
outside ``exam_builder.kinds`` asks the item's kind (``kinds.kind_for(item.kind)``) instead of
branching on ``Kind`` members, so adding a kind means one new module here and one registry line
(``tests/kinds/test_seam.py`` holds that seam). A kind owns, hook by hook:

what it is
    ``tag``/``name``; ``scoring_mode`` (``ScoringMode.keyed``: scored from the form's key by
    ``score``, exactly as nbgrader autogrades; ``ScoringMode.rated``: rated by graders with a
    rubric), asked as ``rated``. Nothing outside this package asks anything else (no ``Kind``
    member, no ``objective`` flag).
authoring (bank)
    ``header_fields`` it accepts beyond the common ones, ``parse_fields`` (their text into the
    item's own fields, ``Item.own``, with located problems), ``author_fields`` (writing them back),
    ``validate`` (its rules, reported through a ``Checker``). Only the kind reads ``Item.own`` and
    ``Item.choices``; ``choice_texts`` gives the choices' words to whoever shows them.
assembly (manifest)
    ``choice_order`` (option order on one form), ``form_key`` (the key as this form's labels: the
    manifest's ``key`` string, ``None`` when the item has no valid key), ``manifest_fields``
    (what else a manifest entry must carry, e.g. the scoring rule), ``lint`` (a manifest entry
    agrees with its bank item), ``key_text`` (the key in words for staff exports).
form notebook (render)
    ``question_source`` (the markdown a candidate reads) and ``answer_cells`` (the nbgrader cells:
    an answer cell and its autograded hidden test, or the graded written answer).
paper
    ``paper_area`` (bubbles, a written line or a written page), ``paper_lines``, ``paper_bubbles`` (one
    per offered option) and ``paper_answer`` (the answer the marked bubbles give, or why a person must
    decide: a double mark on a one-key question).
delivery
    ``control`` (the candidate's whole answer widget, a radio or checkbox group, a text box or a
    one-line text input, labelled "Answer to question N"), ``typed`` (the candidate types the
    answer: the page keeps drafts and the session cleans the text first), ``control_answer`` (its
    value as a stored answer), ``clean_answer`` (an answer as stored in ``eb_response.value``,
    always a string; refused with ``ValueError`` if not valid), ``answer_source`` (the answer cell
    ``collect`` writes: a literal, never code).
grading
    ``answer_pattern``/``read_answer`` (a submitted answer cell as data, never executed) and
    ``score`` (pure: the points an answer earns). ``score`` gives exactly what nbgrader's
    autograde gives when it runs ``answer_cells`` on the same answer; the equivalence tests hold it.
analysis
    ``dichotomous`` (is every score 0 or full points?) and ``picks`` (the options an answer chose,
    for option shares and distractor analysis).
interchange (QTI 3.0, ``exam_builder.qti``)
    ``qti_item`` (the response declaration with the key, the interaction and the response
    processing, written through a ``model.qti.ItemWriter``), ``qti_fits`` (how well an imported
    interaction fits the kind: the importer takes the best) and ``from_qti`` (the kind's fields
    back from a ``model.qti.Found``, with what could not be carried over).

A kind is a stateless singleton; every hook is a pure function of its arguments. The candidate's
kernel imports this package, so nothing heavy (nbformat, nbgrader, widgets) is imported at module
level.
"""
from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ..errors import Location, Problem
from ..model.kind import LABELS, Kind, points_text
from ..model.states import ScoreFlagKind

if TYPE_CHECKING:  # the item model (pydantic) is imported where an item is made: never in a candidate's kernel
    from ..model.item import Choice, Item
    from ..model.manifest import ManifestItem
    from ..model.qti import Found, ItemWriter
    from ..model.rubric import Rubric



class ScoringMode(str, Enum):
    """How a kind's answers are scored; the kind says which (``ItemKind.scoring_mode``)."""

    keyed = "objective"  # from the form's key by ``score``, equal to nbgrader's autograde
    rated = "rated"  # by graders, with the item's rubric


class Checker(Protocol):
    """What ``validate`` reports through (``bank.validate`` provides it): located at the item."""

    rubrics: Mapping[str, Rubric]
    broken_rubrics: Mapping[str, str]

    def error(self, msg: str) -> None: ...
    def warn(self, msg: str) -> None: ...


@dataclass(frozen=True)
class CellSpec:
    """One notebook cell a kind asks the form renderer to write (``assembly.render`` builds it)."""

    cell_type: str  # "code" | "markdown"
    source: str
    grade_id: str
    role: str  # exam_builder metadata role: "answer" | "check"
    grade: bool = False
    solution: bool = False
    locked: bool = False
    points: float | None = None


@dataclass(frozen=True)
class ReadAnswer:
    """A submitted answer read as data: the answer (``None``: none) and, if refused, why."""

    answer: str | None
    flag: ScoreFlagKind | None = None  # junk_answer | unknown_label
    message: str = ""


def label(index: int) -> str:
    """How authors' messages name a choice by its position in the cell."""
    return chr(ord("A") + index) if index < 26 else str(index + 1)


def norm(text: str) -> str:
    """Text compared the way a reader would: case, spacing and end punctuation do not count."""
    return re.sub(r"\s+", " ", text).strip().rstrip(".!?;:").casefold()


def points_phrase(points: float) -> str:
    return f"{points_text(points)} point{'' if points == 1 else 's'}"


#: What ``from_qti`` says of an objective item whose package gives no key.
NO_KEY = ("the package gives no correct response: the item has no key, so exam-builder could not score it; "
          "it is not imported")


class ItemKind:
    """The base of every kind: the defaults of an objective item with one key (see the module)."""

    kind: ClassVar[Kind]
    name: ClassVar[str]  # in words, for people: "multiple choice"
    scoring_mode: ClassVar[ScoringMode] = ScoringMode.keyed
    rubric: ClassVar[bool] = False  # rated with a rubric (rubrics/<id>.yaml)
    default_points: ClassVar[float | None] = 1  # what a blueprint assumes one item is worth (None: it must say)
    header_fields: ClassVar[tuple[str, ...]] = ()
    #: The instruction under the question on the form (after the points).
    question_note: ClassVar[str] = ""

    #: How many labelled options a released question of this kind must show (0: it shows none).
    min_options: ClassVar[int] = 2
    #: The candidate types the answer (a text box or input): the page keeps drafts of it and the
    #: session cleans the typed text (``records.text.clean_answer``) before ``clean_answer``.
    typed: ClassVar[bool] = False

    @property
    def tag(self) -> str:
        return self.kind.tag

    @property
    def rated(self) -> bool:
        """Rated by graders with a rubric (else scored from the key, by ``score``)."""
        return self.scoring_mode is ScoringMode.rated

    @property
    def offers_options(self) -> bool:
        """The candidate picks among labelled options (option shares and distractor analysis apply)."""
        return self.min_options > 0

    def choice_texts(self, item: Item) -> tuple[str, ...]:
        """The words of the item's choices, in authored order (none for a kind without choices)."""
        return tuple(c.text for c in item.choices)

    def options(self, item: Item, order: tuple[int, ...]) -> list[tuple[str, str]]:
        """(label, text) of the options in ``order`` (the original index at each position), as shown."""
        return [(LABELS[pos], item.choices[k].text) for pos, k in enumerate(order)]

    def rule(self, item: Item) -> str | None:
        """The scoring rule ``score`` takes for this item (the manifest entry's ``scoring``)."""
        return self.manifest_fields(item).get("scoring")

    def key_words(self, item: Item, order: tuple[int, ...], key: str) -> str:
        """The key as a candidate reads it in practice feedback: "B. Thank Tanya warmly"."""
        words = dict(self.options(item, order))
        return "; ".join(f"{lab}. {words[lab]}" for lab in self.key_labels(key) if lab in words)

    def scripted_answer(self, key: str, labels: tuple[str, ...], right: bool) -> str | None:
        """An answer a scripted candidate gives (the demo): the key, or an offered label not in it."""
        if right:
            return key
        return next((lab for lab in labels if lab not in self.key_labels(key)), None)

    def said(self, answer: str) -> str:
        """What the candidate answered, in feedback: "You chose A, C."."""
        return f"You chose {answer.replace(',', ', ')}."

    def same_answers(self, a: Item, b: Item) -> bool:
        """Two items offer the same answers (the bank warns about duplicate items)."""
        return a.choices == b.choices and a.own == b.own

    # -- authoring ------------------------------------------------------------------------
    def parse_fields(self, fields: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
        """Item fields from this kind's own header fields, and what was wrong (messages)."""
        return {}, []

    def own_text(self, item: Item) -> dict[str, str]:
        """The item's own fields as an author writes their values (name -> text; unset ones left out)."""
        return {}

    def author_fields(self, item: Item) -> list[str]:
        """This kind's header fields as an author writes them ("name: value")."""
        return [f"{name}: {value}" for name, value in self.own_text(item).items()]

    def author_body(self, item: Item) -> list[str]:
        """The lines below the stem as an author writes them: the choices, the key marked '- [x]'."""
        return [f"- [{'x' if c.correct else ' '}] {c.text}" for c in item.choices]

    def validate(self, item: Item, check: Checker) -> None:
        """Report every rule of this kind the item breaks."""

    def check_choices(self, item: Item, check: Checker) -> bool:
        """Rules every item with choices shares; False when the key is not right to check further."""
        for i, choice in enumerate(item.choices):
            if not choice.text:
                check.error(f"choice {label(i)} is empty; write its text or remove the line")
        first: dict[str, int] = {}
        for i, choice in enumerate(item.choices):
            if not choice.text:
                continue
            j = first.setdefault(norm(choice.text), i)
            if j != i:
                check.error(f"choices {label(j)} and {label(i)} are the same ({choice.text!r}); reword or remove one")
        if not item.choices:
            return False
        problem = self.key_count_problem(item.keys, len(item.choices))
        if problem:
            check.error(problem)
        return problem is None

    def key_count_problem(self, keys: list[int], n_choices: int) -> str | None:
        """Why the choices marked '- [x]' are not a key of this kind, or None."""
        if not keys:
            return "no choice is marked as the key; mark the right answer '- [x]'"
        if len(keys) > 1:
            marked = " and ".join(label(k) for k in keys)
            return f"{len(keys)} choices are marked as the key ({marked}); an item has one key: keep one '- [x]'"
        return None

    def check_anchored_last(self, item: Item, check: Checker) -> None:
        """'All/none of the above' must come last: it keeps its place when choices are shuffled."""
        anchored = [c.anchored for c in item.choices]
        if any(anchored):
            first = anchored.index(True)
            if not all(anchored[first:]):
                check.error(f"choice {label(first)} ({item.choices[first].text!r}) must come last; "
                            "'all/none of the above' stays last when choices are shuffled")

    def sample_choices(self, rng: random.Random, n: int) -> tuple[Choice, ...]:
        """Made-up choices of synthetic item ``n`` (``assembly.synthetic``: tests and benchmarks)."""
        return ()

    def sample_fields(self, rng: random.Random) -> dict[str, Any]:
        """Made-up values of this kind's own fields for a synthetic item."""
        return {}

    # -- assembly -------------------------------------------------------------------------
    def choice_order(self, item: Item, shuffle: bool, rng: random.Random) -> tuple[int, ...]:
        """Original choice index at each position on a form: anchored choices ('none of the above') last."""
        n = len(item.choices)
        movable = [k for k in range(n) if not item.choices[k].anchored]
        anchored = [k for k in range(n) if item.choices[k].anchored]
        if shuffle:
            rng.shuffle(movable)
        return tuple(movable + anchored)

    def key_count_ok(self, n_keys: int) -> bool:
        return n_keys == 1

    def form_key(self, item: Item, order: tuple[int, ...]) -> str | None:
        """The key as this form's labels ("B"; several joined sorted: "A,C"); None when the item
        has no valid key (lint stops its release)."""
        keys = item.keys
        if self.rated or not self.key_count_ok(len(keys)):
            return None
        return ",".join(sorted(LABELS[order.index(k)] for k in keys))

    def score_step(self, entry: ManifestItem) -> float:
        """The step one objective score of this entry moves in (a form's score step, ``grading.results.form_step``):
        all or nothing, so its points; a kind with partial credit says its share."""
        return float(entry.points)

    def manifest_fields(self, item: Item) -> dict[str, Any]:
        """What else a manifest entry of this kind carries (beyond the common fields)."""
        return {}

    key_rule: ClassVar[str] = "mark exactly one with - [x]"

    def lint(self, entry: ManifestItem, item: Item, where: Location, assignment: str,
             rubrics: Mapping[str, Rubric]) -> list[Problem]:
        """What is wrong with a manifest entry of this kind, given its bank item."""
        out = []
        n_keys = len(item.keys)
        if not self.key_count_ok(n_keys):
            out.append(Problem(where, f"question {entry.number} of {assignment} has {n_keys} choices marked "
                                      f"correct; {self.key_rule}"))
        elif not self._key_points_right(entry, item):
            out.append(Problem(where, f"question {entry.number} of {assignment}: the key label {entry.key!r} does not "
                                      "point at the item's correct choice; rebuild the form"))
        if sorted(entry.option_order) != list(range(len(item.choices))):
            out.append(Problem(where,
                               f"question {entry.number} of {assignment}: the option order does not show every choice "
                               "once"))
        return out

    def _key_points_right(self, entry: ManifestItem, item: Item) -> bool:
        labs = self.key_labels(entry.key)
        if not labs or any(lab not in LABELS[:len(item.choices)] for lab in labs):
            return False
        try:
            return sorted(entry.option_order[LABELS.index(lab)] for lab in labs) == item.keys
        except IndexError:
            return False

    def key_labels(self, key: str | None) -> tuple[str, ...]:
        """The labels a manifest key names ("A,C" -> ("A", "C"))."""
        return tuple(key.split(",")) if key else ()

    def key_text(self, entry: ManifestItem, item: Item) -> str:
        """The key in words, for the staff key export."""
        return " | ".join(item.choices[entry.option_order[LABELS.index(lab)]].text
                          for lab in self.key_labels(entry.key))

    # -- the form notebook ----------------------------------------------------------------
    def question_source(self, entry: ManifestItem, item: Item) -> str:
        """The markdown a candidate reads: number, points, stem and the labelled choices (no key)."""
        head = (f"**Question {entry.number}** · "
                f"{points_phrase(entry.points)}") + (f" · {self.question_note}" if self.question_note else "")
        lines = [head, "", item.stem, ""]
        for pos, original in enumerate(entry.option_order):
            lines.append(f"- **{LABELS[pos]}.** {item.choices[original].text}")
        return "\n".join(lines)

    def answer_cells(self, entry: ManifestItem, variable: str, answer_id: str, grade_id: str) -> list[CellSpec]:
        """The answer cell (solution: the key) and the hidden test nbgrader autogrades."""
        return [
            CellSpec("code", f'### BEGIN SOLUTION\n{variable} = "{entry.key}"\n### END SOLUTION', answer_id, "answer",
                     solution=True),
            CellSpec("code", f"### BEGIN HIDDEN TESTS\n{self.test_source(entry, variable)}\n### END HIDDEN TESTS",
                     grade_id, "check", grade=True, locked=True, points=entry.points),
        ]

    def test_source(self, entry: ManifestItem, variable: str) -> str:
        """Python nbgrader runs after the answer cell: raising gives 0, silence full points."""
        return f'assert {variable} == "{entry.key}"'

    # -- delivery -------------------------------------------------------------------------
    multiple: ClassVar[bool] = False  # the candidate may pick several options

    def clean_answer(self, value: object, labels: tuple[str, ...]) -> str | None:
        """The answer as stored (``eb_response.value``): one offered label, or None; else ValueError."""
        if value is None:
            return None
        if not isinstance(value, str) or value not in labels:
            raise ValueError(f"{value!r} is not one of the choices")
        return value

    def legend(self, number: int) -> str:
        """The control's accessible name: "Answer to question N" and the kind's note."""
        return f"Answer to question {number}" + (f" ({self.question_note})" if self.question_note else "")

    def control(self, number: int, options: list[tuple[str, str]], saved: str | None, rows: int = 10):
        """The candidate's widget for question ``number``: a named radio group (a ``ui.ChoiceGroup``)
        of the (label, text) ``options``, showing the ``saved`` answer. ``rows``: a text box's height."""
        from ..ui.widgets import ChoiceGroup

        labels = tuple(lab for lab, _ in options)
        return ChoiceGroup([(lab, f"{lab}. {text}") for lab, text in options], legend=self.legend(number),
                           value=saved if saved in labels else None)

    def control_answer(self, value: object) -> str | None:
        """The widget's value as the answer to store."""
        return str(value) if value else None

    def control_value(self, answer: str | None) -> object:
        """The widget's value showing a stored answer (None: nothing chosen)."""
        return answer

    def answer_source(self, variable: str, answer: str) -> str:
        """The answer cell ``collect`` writes for a validated, stored answer."""
        return f'{variable} = "{answer}"'

    # -- paper (``exam_builder.paper``) --------------------------------------------------
    #: How a printed question of this kind is answered on the answer sheet: ``bubbles`` (a row of one
    #: bubble per offered option), ``line`` (a short box written by hand, keyed by staff at verification)
    #: or ``page`` (a lined page of its own, rated from its scanned image).
    paper_area: ClassVar[str] = "bubbles"
    #: Lines of writing space a written answer gets on its page (and in the booklet).
    paper_lines: ClassVar[int] = 0

    def paper_bubbles(self, labels: tuple[str, ...]) -> tuple[str, ...]:
        """The bubbles of the question's row on the answer sheet: one per offered option."""
        return labels if self.paper_area == "bubbles" else ()

    def paper_answer(self, marked: tuple[str, ...]) -> tuple[str | None, str | None]:
        """The stored answer the clearly marked bubbles give, and why a person must look instead.

        One key: none marked is no answer, one is that label, more than one is ``double`` (never a
        guess between them)."""
        if not marked:
            return None, None
        if len(marked) > 1:
            return None, "double"
        return marked[0], None

    # -- grading --------------------------------------------------------------------------
    def answer_pattern(self, variable: str) -> str:
        """The only answer source accepted: ``qNN = "B"`` (or ``'B'``), or ``qNN = None``."""
        return rf"""\A\s*{re.escape(variable)}\s*=\s*(?:"(?P<d>[A-Z])"|'(?P<s>[A-Z])'|(?P<none>None))\s*\Z"""

    def read_answer(self, source: str, pattern: str, labels: tuple[str, ...], number: int) -> ReadAnswer:
        """A submitted answer cell as data; a refused answer scores 0 and is flagged."""
        m = re.match(pattern, source)
        if m is None:
            text = source.strip()
            text = text[:60] + ("..." if len(text) > 60 else "")
            return ReadAnswer(None, ScoreFlagKind.junk_answer,
                              f"question {number}: the answer cell holds {text!r}, not a choice; scored 0")
        if m.group("none"):
            return ReadAnswer(None)
        answer = m.group("d") or m.group("s")
        return self.check_labels(answer, labels, number)

    def check_labels(self, answer: str, labels: tuple[str, ...], number: int) -> ReadAnswer:
        try:
            return ReadAnswer(self.clean_answer(answer, labels))
        except ValueError:
            return ReadAnswer(None, ScoreFlagKind.unknown_label,
                              f"question {number}: {answer!r} is not one of {', '.join(labels)}; scored 0")

    def score(self, answer: str | None, key: str, points: float, scoring: str | None = None) -> float:
        """Points for a (validated) answer: all for the key, else 0 (nbgrader's assert)."""
        return points if answer is not None and answer == key else 0.0

    # -- analysis -------------------------------------------------------------------------
    def dichotomous(self, scoring: str | None = None) -> bool:
        """Every score is 0 or the item's points (KR-20 applies when every item is)."""
        return not self.rated

    def picks(self, answer: str | None) -> tuple[str, ...]:
        """The options an answer chose, for option shares."""
        return (answer,) if answer else ()

    # -- interchange (QTI 3.0) ------------------------------------------------------------
    qti_shuffle: ClassVar[bool] = True  # choices may be shuffled; anchored ones are written fixed

    def qti_item(self, item: Item, w: ItemWriter) -> None:
        """One key among the choices: ``single`` cardinality, ``max-choices=1``, ``match_correct``."""
        from ..model.qti import MATCH_CORRECT, choice_id

        w.declare_response("single", "identifier", [choice_id(k) for k in item.keys])
        w.choice_interaction([c.text for c in item.choices], 1, self.qti_shuffle, [c.anchored for c in item.choices])
        w.template(MATCH_CORRECT)

    def qti_fits(self, found: Found) -> int:
        """How well an imported interaction fits this kind (0: not at all)."""
        return int(found.interaction == "qti-choice-interaction" and found.cardinality == "single")

    def from_qti(self, found: Found) -> tuple[dict[str, Any], list[str]]:
        """The item's choices (keys from ``qti-correct-response``), and what was not carried over."""
        correct = set(found.correct)
        msgs = []
        if found.mapping is not None:
            values = {i: found.mapping.get(i, found.mapping_default) for i, _, _ in found.choices}
            top = max(values.values(), default=0)
            if top <= 0 or {i for i, v in values.items() if v == top} != correct or \
                    any(v != 0 for i, v in values.items() if i not in correct):
                msgs.append("the choices are scored by a mapping that gives part or negative points; exam-builder "
                            "scores this kind all or nothing on the key, so the item is not imported")
        if not correct & {i for i, _, _ in found.choices} and not msgs:
            msgs.append(NO_KEY)
        from ..model.item import Choice

        return {"choices": tuple(Choice(text=t, correct=i in correct) for i, t, _ in found.choices)}, msgs
