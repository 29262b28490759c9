"""One practice run: a candidate working through a practice set, UI-free and pure.

Contract: ``PracticeRun`` is built from a ``PracticeSet`` only (never a manifest, never the
database) and keeps everything in memory: a practice run is not a sitting, is never stored, never
counts as an attempt and never reaches results or item statistics. The practice app's widgets and
scripted candidates (the demo, the tests) call only this object, so both take one path.

- Questions come in a new order each run (a scenario's items stay together, in order), with
  choices shuffled the way a form shuffles them (the kind's ``choice_order``: true/false never).
- ``check(number, answer)`` takes the answer as the exam app stores one (``Kind.clean_answer``),
  scores it with the kind's own ``score`` and returns ``Feedback``: right, partly right or not,
  the key in this run's labels and words, and the author's rationale. An open response is not
  scored: its feedback is what graders look for (the rubric's top levels) and the rationale. A
  checked question stays checked: its answer and feedback are final for this run.
- An optional clock (``minutes``) the candidate chose: ``time_left``; when it runs out,
  ``check`` refuses and the summary counts what was checked. A minute lasts ``minute_seconds``
  (60; ``DeliverySettings.practice_minute_seconds``, shorter for a walkthrough of time running out).
- ``summary()``: right of answered per competency, and what to study next: the competencies
  below ``PracticeSet.study_below`` (or not tried), weakest first, with the modules of the
  questions missed.
"""
from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import ExamBuilderError
from ..kinds import kind_for
from ..model.item import LABELS, Item
from .sets import PracticeSet, scenario_units


class TimeUp(ExamBuilderError):
    """The clock the candidate chose has run out."""


@dataclass(frozen=True)
class Question:
    number: int
    item: Item
    order: tuple[int, ...]  # the original choice index shown at each position

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(LABELS[:len(self.order)])

    @property
    def options(self) -> list[tuple[str, str]]:
        """(label, text) in this run's order (none for a kind without choices)."""
        return kind_for(self.item.kind).options(self.item, self.order)

    @property
    def rated(self) -> bool:
        """Rated by graders (an open response): practice shows what graders look for, not a score."""
        return kind_for(self.item.kind).rated

    @property
    def key(self) -> str | None:
        return kind_for(self.item.kind).form_key(self.item, self.order)


@dataclass(frozen=True)
class Feedback:
    number: int
    answer: str | None
    verdict: str  # "right" | "partly right" | "not right" | "not answered" | "written"
    earned: float
    points: float
    key_labels: tuple[str, ...] = ()
    key_text: str = ""  # the key's label(s) and words: "B. Thank Tanya warmly, ..."
    rationale: str = ""
    said: str = ""  # what the candidate answered, in words: "You chose A, C."
    guide: tuple[str, ...] = ()  # open response: what graders look for

    @property
    def right(self) -> bool:
        return self.verdict == "right"

    @property
    def headline(self) -> str:
        return {"right": "Right.", "partly right": "Partly right.", "not right": "Not right.",
                "not answered": "No answer given.",
                "written": "Compare your answer with what graders look for."}[self.verdict]


@dataclass(frozen=True)
class CompetencyRow:
    slug: str
    name: str
    right: int  # objective questions right (partly right counts as not right)
    checked: int  # objective questions checked
    total: int  # objective questions in the set
    written: int = 0  # open responses written and compared
    missed_modules: tuple[str, ...] = ()

    @property
    def share(self) -> float | None:
        return self.right / self.checked if self.checked else None


@dataclass(frozen=True)
class Summary:
    rows: tuple[CompetencyRow, ...]
    study_next: tuple[CompetencyRow, ...]
    right: int
    checked: int
    total: int

    def advice(self, row: CompetencyRow) -> str:
        """What to study next in one competency, in plain words."""
        if row.checked == 0:
            return f"{row.name}: you did not try these questions yet. Try them next time."
        where = f" Review {', '.join(row.missed_modules)}." if row.missed_modules else ""
        return f"{row.name}: {row.right} of {row.checked} right.{where}"


@dataclass
class PracticeRun:
    pset: PracticeSet
    seed: int | None = None
    minutes: int | None = None  # the clock the candidate chose; None: no clock
    clock: Callable[[], float] = time.monotonic
    minute_seconds: float = 60.0  # how long one of those minutes lasts
    questions: list[Question] = field(init=False)
    feedback: dict[int, Feedback] = field(init=False, default_factory=dict)
    started: float = field(init=False)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        order = scenario_units(self.pset.items)
        rng.shuffle(order)
        items = [it for unit in order for it in unit]
        self.questions = [Question(n, it, kind_for(it.kind).choice_order(it, True, rng))
                          for n, it in enumerate(items, start=1)]
        self.started = self.clock()

    # -- the questions --------------------------------------------------------------------
    def question(self, number: int) -> Question:
        if not 1 <= number <= len(self.questions):
            raise ExamBuilderError(f"there is no question {number} in this practice set")
        return self.questions[number - 1]

    def time_left(self) -> dt.timedelta | None:
        if self.minutes is None:
            return None
        return max(dt.timedelta(seconds=self.minutes * self.minute_seconds - (self.clock() - self.started)),
                   dt.timedelta(0))

    @property
    def time_up(self) -> bool:
        left = self.time_left()
        return left is not None and left.total_seconds() <= 0

    def check(self, number: int, answer: object) -> Feedback:
        """Score one answer and say why; a second check of the same question gives the first feedback."""
        q = self.question(number)
        if number in self.feedback:
            return self.feedback[number]
        if self.time_up:
            raise TimeUp("Time is up for this practice. See your summary below.")
        kind = kind_for(q.item.kind)
        if q.rated:
            text = (str(answer) if answer is not None else "").strip()
            fb = Feedback(number, text or None, "written" if text else "not answered", 0.0, q.item.points,
                          rationale=q.item.rationale, guide=self.pset.guides.get(q.item.id, ()))
        else:
            try:
                clean = kind.clean_answer(answer, q.labels)
            except ValueError as exc:
                raise ExamBuilderError(f"question {number}: {exc}") from None
            key = q.key or ""
            earned = kind.score(clean, key, q.item.points, kind.rule(q.item)) if clean is not None else 0.0
            verdict = ("not answered" if clean is None else "right" if earned >= q.item.points
                       else "partly right" if earned > 0 else "not right")
            fb = Feedback(number, clean, verdict, earned, q.item.points, kind.key_labels(key),
                          kind.key_words(q.item, q.order, key), q.item.rationale,
                          kind.said(clean) if clean is not None else "")
        self.feedback[number] = fb
        return fb

    # -- the summary ----------------------------------------------------------------------
    def summary(self) -> Summary:
        rows = []
        used = {q.item.competency for q in self.questions}
        for slug in [c for c in self.pset.competency_names
                     if c in used] + sorted(used - set(self.pset.competency_names)):
            qs = [q for q in self.questions if q.item.competency == slug]
            objective = [q for q in qs if not q.rated]
            checked = [q for q in objective if q.number in self.feedback and self.feedback[q.number].answer is not None]
            right = [q for q in checked if self.feedback[q.number].right]
            missed = sorted({q.item.module for q in checked if not self.feedback[q.number].right
                             and q.item.module is not None})
            rows.append(CompetencyRow(
                slug, self.pset.competency_name(slug), len(right), len(checked), len(objective),
                written=sum(1 for q in qs if q.rated and q.number in self.feedback
                            and self.feedback[q.number].verdict == "written"),
                missed_modules=tuple(f"module {m} ({self.pset.module_titles.get(m, '')})".replace(" ()", "")
                                     for m in missed)))
        weak = [r for r in rows if r.total and (r.share is None or r.share < self.pset.study_below)]
        weak.sort(key=lambda r: (r.share is not None, r.share or 0.0))
        return Summary(tuple(rows), tuple(weak), sum(r.right for r in rows), sum(r.checked for r in rows),
                       sum(r.total for r in rows))
