"""Who may adjudicate a response whose two ratings differ by more than the tolerance, in words.

``GradingSettings.adjudicator`` picks one rule for the whole course (``AdjudicationRule``):

* ``third_grader`` (the default): any grader who gave neither rating. The adjudication is blind
  (no other rating is shown). A program needs three graders on the question.
* ``coordinator``: the coordinator, whether or not they rated the response. The coordinator is a
  name in ``GradingSettings.coordinators`` or, signed in through JupyterHub, a member of the hub's
  ``coordinators`` group (the groups the hub reported at sign-in, ``records.identity``). In the
  standalone token app the name is typed, so the check is only as strong as the token: whoever
  holds the token can type the coordinator's name, and the audit trail records it as
  ``identity: self-declared``.
* ``senior``: the senior of the two raters (a name in ``GradingSettings.senior_graders``); when
  both are senior, either; when neither is, any senior grader. A program of two graders finishes
  on its own when one of them is senior.

An adjudicator who gave one of the two ratings sees the other one (levels, score, comment, but
not who gave it) beside their own; one who gave neither adjudicates blind, as a third reading.
Names compare without regard to case or repeated spaces ("ann  grader" is "Ann Grader").

What waits is said to the person it concerns: ``desk_sentence`` on the grader's desk (never
naming the other rater), ``who`` to staff (``exam-builder ratings`` and ``results``).
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from ..errors import ExamBuilderError
from ..settings.grading import GradingSettings

#: The hub group whose members are coordinators (``hub.config.GROUP_SERVICES``).
COORDINATORS_GROUP = "coordinators"

#: Why an adjudication waits, as seen by one grader (``RatingQueue.progress``).
YOURS = "yours"  # this grader may take it (or holds it)
YOU_RATED = "you_rated"  # third grader: this grader gave one of its ratings
HELD = "held"  # another adjudicator has it open now
GIVEN_BACK = "given_back"  # this grader gave it back in this session
NOT_YOU = "not_you"  # this grader is not the adjudicator the setting names


def norm(name: str | None) -> str:
    """A name as the rules compare it: case and repeated spaces do not matter."""
    return " ".join((name or "").split()).casefold()


def _names(names: Collection[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


@dataclass(frozen=True)
class AdjudicationRule:
    """One course's rule: ``mode`` (``GradingSettings.adjudicator``) and the names it needs."""

    mode: str = "third_grader"
    coordinators: tuple[str, ...] = ()
    seniors: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: GradingSettings) -> "AdjudicationRule":
        """The rule of a course; a rule nobody could ever follow is refused, naming the setting."""
        rule = cls(settings.adjudicator, tuple(settings.coordinators), tuple(settings.senior_graders))
        if rule.mode == "senior" and not rule.seniors:
            raise ExamBuilderError("c.GradingSettings.adjudicator = 'senior' in nbgrader_config.py needs "
                                   "c.GradingSettings.senior_graders: the names the senior graders sign in with, "
                                   "e.g. ['Ann Grader']")
        return rule

    # -- who may ----------------------------------------------------------------------
    def is_coordinator(self, name: str, groups: Collection[str] = ()) -> bool:
        return norm(name) in {norm(c) for c in self.coordinators} or COORDINATORS_GROUP in groups

    def is_senior(self, name: str) -> bool:
        return norm(name) in {norm(s) for s in self.seniors}

    def may(self, name: str, raters: Collection[str], groups: Collection[str] = ()) -> bool:
        """Whether ``name`` (with their hub ``groups``) may adjudicate a response rated by ``raters``."""
        rated = norm(name) in {norm(r) for r in raters}
        if self.mode == "coordinator":
            return self.is_coordinator(name, groups)
        if self.mode == "senior":
            if not self.is_senior(name):
                return False
            return rated or not any(self.is_senior(r) for r in raters)
        return not rated  # third_grader

    def sees_other_rating(self, name: str, raters: Collection[str]) -> bool:
        """An adjudicator who gave one of the ratings sees the other; a third reading is blind."""
        return norm(name) in {norm(r) for r in raters}

    def why_not(self) -> str:
        """Why a grader whom ``may`` refuses cannot take an adjudication (``YOU_RATED`` or ``NOT_YOU``)."""
        return YOU_RATED if self.mode == "third_grader" else NOT_YOU

    # -- in words ---------------------------------------------------------------------
    def role_name(self) -> str:
        """The adjudicator, as the grader's desk names them to themselves."""
        return {"coordinator": "the coordinator", "senior": "the senior grader"}.get(self.mode, "a third grader")

    def who(self, raters: Collection[str]) -> str:
        """Staff's words for who may adjudicate a response rated by ``raters`` (names given)."""
        raters = [r for r in raters if r]
        if self.mode == "coordinator":
            named = f" ({_names(self.coordinators)})" if self.coordinators else ""
            return (f"the coordinator{named} (or, where staff sign in through JupyterHub, a member of its "
                    "coordinators group)")
        if self.mode == "senior":
            seniors = [r for r in raters if self.is_senior(r)]
            if seniors:
                return f"{_names(seniors)} (the senior of its two graders)"
            return f"a senior grader ({_names(self.seniors)})"
        return f"a third grader (not {_names(raters)})" if raters else "a third grader"

    def setup_note(self) -> str:
        """One sentence for staff: how this course's adjudications get done."""
        if self.mode == "coordinator":
            who = _names(self.coordinators) if self.coordinators else "a member of the hub's coordinators group"
            return (f"adjudications are done by the coordinator ({who}) on the grader's desk "
                    "(c.GradingSettings.adjudicator = 'coordinator')")
        if self.mode == "senior":
            return (f"adjudications are done by the senior of the two graders ({_names(self.seniors)}), who sees the "
                    "other rating (c.GradingSettings.adjudicator = 'senior')")
        return ("adjudications are done by a third grader who gave neither rating "
                "(c.GradingSettings.adjudicator = 'third_grader')")

    def desk_sentence(self, why: str, n: int) -> str:
        """What the grader's desk says about ``n`` adjudications waiting for the reason ``why``."""
        head = f"{n} {_plural(n, 'response waits', 'responses wait')} for adjudication"
        them = _plural(n, "it", "them")
        if why == YOURS:
            if self.mode == "third_grader":
                return (f"{head} by you: you rated neither of {_plural(n, 'its', 'their')} ratings, so you may "
                        "adjudicate")
            return f"{head} by you: you are the adjudicator ({self.role_name()})"
        if why == YOU_RATED:
            return f"{head} by a third grader: you rated {them}, so someone else must"
        if why == HELD:
            return f"{head}: another adjudicator has {them} open now"
        if why == GIVEN_BACK:
            return f"{head}: you gave {them} back, so someone else must"
        if self.mode == "coordinator":
            named = f" ({_names(self.coordinators)})" if self.coordinators else ""
            return f"{head} by the coordinator{named}"
        return f"{head} by the senior grader ({_names(self.seniors)})"
