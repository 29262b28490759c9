"""Short answer: a typed word, phrase or number, scored against accepted answers or a number and a tolerance.

Authoring (the accepted answers in the header, like multiple select's ``scoring:``; no choices)::

    **[SA] ps-sa-01** · competency: peer-support · module: 1 · points: 1 · status: live · accept: peer support; peer-support
    What is support from someone who has lived through the same called?
    > **Rationale:** ...

    **[SA] ps-sa-02** · competency: crisis · points: 1 · status: live · number: 988 · tolerance: 0
    Which number do you call or text for the Suicide & Crisis Lifeline?

``accept:`` lists the accepted answers, separated by ``;`` (an answer cannot hold ``;``, ``|`` or ``·``).
``number:`` is the right number and ``tolerance:`` (default 0) how far off an answer may be; an
item has one or the other.

Matching (``matches``; the rules are the same in the form's hidden test, which carries this very
code, so ``score`` equals ``nbgrader autograde``):

- words: an answer matches an accepted answer when both are equal after *normalising*: case
  folded (``Peer Support`` = ``peer support``), surrounding whitespace removed, every run of
  internal whitespace one space, and trailing punctuation (``. , ; : ! ?``) removed;
- a number: the answer, normalised the same way, is a plain decimal (``-3``, ``2.50``, ``.5``,
  ``1e3``: no thousands separators, no decimal comma, no units) within ``tolerance`` of the
  number (``|answer - number| <= tolerance``, with a relative slack of 1e-9 for binary fractions).

The candidate types into a labelled one-line text input (``control``); the answer is stored as
typed (line breaks become spaces; at most ``MAX_ANSWER`` characters) and written into the answer
cell as a Python string literal (``repr``), never as code; grading reads the cell with ``ast``
(never executed). The manifest's ``key`` is the rule as JSON: ``{"accept": [...]}`` or
``{"number": n, "tolerance": t}``.
"""  # noqa: E501 (the authoring example: an item header is one line)
from __future__ import annotations

import ast
import inspect
import json
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import Location, Problem
from ..model.kind import Kind
from ..model.states import ScoreFlagKind
from .base import NO_KEY, CellSpec, Checker, ItemKind, ReadAnswer, points_phrase

if TYPE_CHECKING:
    from ..model.item import Item
    from ..model.manifest import ManifestItem
    from ..model.qti import Found, ItemWriter
    from ..model.rubric import Rubric

#: The longest answer a candidate may type (a word or a number, not an essay).
MAX_ANSWER = 200
#: What separates accepted answers in ``accept:`` (the header's own separators are '·' and '|').
SEPARATOR = ";"


# -- the matching rules: these two functions are copied verbatim into the form's hidden test ----
def _sa_norm(text):
    import re
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"[.,;:!?]+$", "", text).strip()
    return text.casefold()


def _sa_right(answer, rule):
    import math
    import re
    if not isinstance(answer, str):
        return False
    said = _sa_norm(answer)
    if "accept" in rule:
        return said in [_sa_norm(a) for a in rule["accept"]]
    if not re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?", said):
        return False
    value = float(said)
    if not math.isfinite(value):
        return False
    return abs(value - rule["number"]) <= rule["tolerance"] + 1e-9 * max(1.0, abs(rule["number"]))


def rules_source() -> str:
    """The two matching functions' own source, for the hidden test (read when a form is rendered)."""
    return inspect.getsource(_sa_norm) + "\n\n" + inspect.getsource(_sa_right)


normalise = _sa_norm
matches = _sa_right


def number_of(text: str) -> float | None:
    """A number as an author or candidate writes it (the answer's rule), or None."""
    said = _sa_norm(text)
    if not re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?", said):
        return None
    value = float(said)
    return value if math.isfinite(value) else None


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def rule_of(item: Item) -> dict[str, Any] | None:
    """The item's rule as the manifest key holds it, or None when it has no valid one."""
    own = item.own
    accept = own.get("accept")
    number = own.get("number")
    if accept and number is None and all(_sa_norm(a) for a in accept):
        return {"accept": list(accept)}
    if number is not None and not accept:
        tol = own.get("tolerance") or 0.0
        if isinstance(number, (int, float)) and isinstance(tol, (int, float)) and tol >= 0:
            return {"number": float(number), "tolerance": float(tol)}
    return None


class ShortAnswer(ItemKind):
    kind = Kind.short_answer
    name = "short answer"
    header_fields = ("accept", "number", "tolerance")
    question_note = "type your answer"
    typed = True
    min_options = 0
    paper_area = "line"  # written in a box; a staff member types what it says at verification
    paper_lines = 2
    key_rule = "write 'accept: answer; other answer' or 'number: 42 · tolerance: 0.5'"

    # -- authoring ------------------------------------------------------------------------
    def parse_fields(self, fields: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
        own: dict[str, Any] = {}
        msgs: list[str] = []
        if "accept" in fields:
            given = fields["accept"]
            if "|" in given or "·" in given:  # the header's separators: never inside an answer
                fixed = "; ".join(a.strip() for a in re.split(r"[|·;]", given) if a.strip())
                msgs.append(f"accepted answers are separated by '{SEPARATOR}', not '|' or '·' (those separate the "
                            f"header's fields); write 'accept: {fixed}'")
                own["accept"] = None  # refused and reported: the parser marks it unread
            else:
                own["accept"] = tuple(a.strip() for a in given.split(SEPARATOR))
        for name in ("number", "tolerance"):
            if name in fields:
                value = number_of(fields[name])
                if value is None or (name == "tolerance" and value < 0):
                    what = "a number of 0 or more" if name == "tolerance" else "a number"
                    msgs.append(f"{name} {fields[name]!r} is not {what}; write e.g. '{name}: "
                                f"{'0.5' if name == 'tolerance' else '42'}' (digits and a decimal point)")
                    own[name] = None  # given, refused and reported: the parser marks it unread
                else:
                    own[name] = value
        return own, msgs

    def own_text(self, item: Item) -> dict[str, str]:
        own, out = item.own, {}
        if own.get("accept"):
            out["accept"] = f"{SEPARATOR} ".join(own["accept"])
        if own.get("number") is not None:
            out["number"] = _num(own["number"])
        if own.get("tolerance") is not None:
            out["tolerance"] = _num(own["tolerance"])
        return out

    def author_body(self, item: Item) -> list[str]:
        return []

    def validate(self, item: Item, check: Checker) -> None:
        own = item.own
        if item.choices:
            check.error("a short-answer item has no choices; remove the '- [ ]' lines and write the accepted "
                        "answers in the header ('accept: answer; other answer'), or make it [MC]")
        given = {name for name in ("accept", "number", "tolerance") if name in own or name in item.unread}
        if "accept" in given and "number" in given:
            check.error("write either 'accept:' (accepted words) or 'number:' (a number and its tolerance), not both")
        elif not given & {"accept", "number"}:
            check.error(f"no accepted answer; {self.key_rule}")
        if "tolerance" in given and "number" not in given:
            check.error("'tolerance:' goes with 'number:'; remove it, or give the number")
        accept = own.get("accept") or ()
        seen: dict[str, int] = {}
        for i, answer in enumerate(accept, start=1):
            if not _sa_norm(answer):
                check.error(f"accepted answer {i} is empty once normalised ({answer!r}); "
                            f"write a word or number between the '{SEPARATOR}' separators")
                continue
            if len(answer) > MAX_ANSWER:
                check.error(f"accepted answer {i} is longer than {MAX_ANSWER} characters; a short answer is a "
                            "word, a phrase or a number")
            j = seen.setdefault(_sa_norm(answer), i)
            if j != i:
                check.warn(f"accepted answers {j} and {i} are the same once case, spacing and end punctuation "
                           f"are ignored ({answer!r}); keep one")

    def same_answers(self, a: Item, b: Item) -> bool:
        return a.kind == b.kind and rule_of(a) == rule_of(b)

    def sample_fields(self, rng) -> dict[str, Any]:
        if rng.random() < 0.5:
            return {"accept": ("peer support", "peer-support")}
        return {"number": float(rng.randint(1, 99)), "tolerance": 0.5}

    # -- assembly -------------------------------------------------------------------------
    def choice_order(self, item: Item, shuffle: bool, rng) -> tuple[int, ...]:
        return ()

    def form_key(self, item: Item, order: tuple[int, ...]) -> str | None:
        rule = rule_of(item)
        return None if rule is None else json.dumps(rule, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def lint(self, entry: ManifestItem, item: Item, where: Location, assignment: str,
             rubrics: Mapping[str, Rubric]) -> list[Problem]:
        key = self.form_key(item, ())
        if key is None:
            return [Problem(where, f"question {entry.number} of {assignment} has no accepted answer; {self.key_rule}")]
        if entry.key != key:
            return [Problem(where, f"question {entry.number} of {assignment}: the key does not match the item's "
                                   "accepted answers; rebuild the form")]
        if entry.option_order:
            return [Problem(where, f"question {entry.number} of {assignment}: a short answer shows no options")]
        return []

    def key_labels(self, key: str | None) -> tuple[str, ...]:
        return ()

    def key_text(self, entry: ManifestItem, item: Item) -> str:
        return self.rule_words(entry.key or "")

    @staticmethod
    def rule_words(key: str) -> str:
        """The rule in words: "peer support; peer-support" or "988 ± 0"."""
        try:
            rule = json.loads(key)
        except ValueError:
            return ""
        if "accept" in rule:
            return f"{SEPARATOR} ".join(rule["accept"])
        return f"{_num(rule['number'])} ± {_num(rule['tolerance'])}"

    # -- the form notebook ----------------------------------------------------------------
    def question_source(self, entry: ManifestItem, item: Item) -> str:
        head = f"**Question {entry.number}** · {points_phrase(entry.points)} · {self.question_note}"
        return f"{head}\n\n{item.stem}"

    def answer_cells(self, entry: ManifestItem, variable: str, answer_id: str, grade_id: str) -> list[CellSpec]:
        """The answer cell (solution: the first accepted answer, or the number) and the hidden test,
        which carries the matching rules themselves (``rules_source``) and asserts a match."""
        rule = json.loads(entry.key or "{}")
        solution = rule["accept"][0] if "accept" in rule else _num(rule.get("number", 0))
        test = f"{rules_source()}\n\nassert _sa_right({variable}, {rule!r})"
        return [
            CellSpec("code", f"### BEGIN SOLUTION\n{self.answer_source(variable, solution)}\n### END SOLUTION",
                     answer_id, "answer", solution=True),
            CellSpec("code", f"### BEGIN HIDDEN TESTS\n{test}\n### END HIDDEN TESTS", grade_id, "check",
                     grade=True, locked=True, points=entry.points),
        ]

    # -- delivery -------------------------------------------------------------------------
    def clean_answer(self, value: object, labels: tuple[str, ...]) -> str | None:
        """The typed text on one line, trimmed; nothing typed is no answer; over ``MAX_ANSWER`` refused."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not typed text")
        text = re.sub(r"[\r\n\t]+", " ", value).strip()
        if len(text) > MAX_ANSWER:
            raise ValueError(f"a short answer has at most {MAX_ANSWER} characters")
        return text or None

    def control(self, number: int, options: list[tuple[str, str]], saved: str | None, rows: int = 10):
        """A one-line text input named "Answer to question N (type your answer)" (a native
        ``<input type=text>`` with its ``<label>``: typed, read out and used by keyboard as any field)."""
        import ipywidgets as w

        return w.Text(value=saved or "", description=self.legend(number), placeholder="Type your answer",
                      continuous_update=True, layout=w.Layout(width="100%", max_width="40em"),
                      style={"description_width": "initial"})

    def control_answer(self, value: object) -> str | None:
        return value.strip() or None if isinstance(value, str) else None

    def control_value(self, answer: str | None) -> object:
        return answer or ""

    def answer_source(self, variable: str, answer: str) -> str:
        """A Python string literal (``repr``): whatever was typed, the cell assigns text, never runs it."""
        return f"{variable} = {answer!r}"

    # -- grading --------------------------------------------------------------------------
    def answer_pattern(self, variable: str) -> str:
        """The answer variable's name: the cell is read with ``ast`` (a string literal or None), not a regex."""
        return variable

    def read_answer(self, source: str, pattern: str, labels: tuple[str, ...], number: int) -> ReadAnswer:
        """``qNN = '...'`` (any string literal) or ``qNN = None``, read by ``ast`` and never executed."""
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            tree = None
        stmt = tree.body[0] if tree is not None and len(tree.body) == 1 else None
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and stmt.targets[0].id == pattern and isinstance(stmt.value, ast.Constant)
                and (stmt.value.value is None or isinstance(stmt.value.value, str))):
            return ReadAnswer(stmt.value.value)
        text = source.strip()
        text = text[:60] + ("..." if len(text) > 60 else "")
        return ReadAnswer(None, ScoreFlagKind.junk_answer,
                          f"question {number}: the answer cell holds {text!r}, not typed text; scored 0")

    def score(self, answer: str | None, key: str, points: float, scoring: str | None = None) -> float:
        """All the points when the answer matches the rule (``matches``), else 0 (nbgrader's assert)."""
        return points if answer is not None and _sa_right(answer, json.loads(key)) else 0.0

    # -- analysis -------------------------------------------------------------------------
    def picks(self, answer: str | None) -> tuple[str, ...]:
        return ()

    # -- practice -------------------------------------------------------------------------
    def options(self, item: Item, order: tuple[int, ...]) -> list[tuple[str, str]]:
        return []

    def key_words(self, item: Item, order: tuple[int, ...], key: str) -> str:
        """The rule as a candidate reads it: "peer support or peer-support" (the separator is for authors)."""
        try:
            rule = json.loads(key)
        except ValueError:
            return ""
        if "accept" in rule:
            accepted = rule["accept"]
            return accepted[0] if len(accepted) == 1 else f"{', '.join(accepted[:-1])} or {accepted[-1]}"
        if not rule["tolerance"]:
            return _num(rule["number"])
        return f"{_num(rule['number'])}, give or take {_num(rule['tolerance'])}"

    def scripted_answer(self, key: str, labels: tuple[str, ...], right: bool) -> str | None:
        """The first accepted answer in capitals with a full stop (normalised, it matches), or a wrong word."""
        if not right:
            return "I am not sure"
        rule = json.loads(key)
        return f"{rule['accept'][0].upper()}." if "accept" in rule else _num(rule["number"])

    def said(self, answer: str) -> str:
        """What the candidate wrote, closed by one full stop: never “Peer Support.”. twice over."""
        return f"You wrote “{answer}”" + ("" if answer.rstrip().endswith((".", "?", "!")) else ".")

    # -- interchange (QTI 3.0) ------------------------------------------------------------
    def qti_item(self, item: Item, w: ItemWriter) -> None:
        """A ``qti-text-entry-interaction``. Words: a ``string`` response, the first accepted answer
        correct, a case-insensitive ``qti-mapping`` (1 for each accepted answer, bounds 0 and 1) and
        ``map_response``. A number: a ``float`` response, the number correct, and ``match_correct``
        (tolerance 0) or a ``qti-equal`` with an absolute tolerance."""
        from ..model.qti import MAP_RESPONSE, MATCH_CORRECT

        rule = rule_of(item) or {"accept": [""]}
        if "accept" in rule:
            w.declare_response("single", "string", [rule["accept"][0]])
            w.mapping({a: 1 for a in rule["accept"]}, 0, 1, case_sensitive=False)
            w.text_entry(max(10, max(len(a) for a in rule["accept"])))
            w.template(MAP_RESPONSE)
        else:
            w.declare_response("single", "float", [_num(rule["number"])])
            w.text_entry(10)
            if rule["tolerance"]:
                w.tolerance_processing(rule["tolerance"])
            else:
                w.template(MATCH_CORRECT)

    def qti_fits(self, found: Found) -> int:
        return int(found.interaction == "qti-text-entry-interaction")

    def from_qti(self, found: Found) -> tuple[dict[str, Any], list[str]]:
        """Words from the mapping's keys valued above 0 (else the correct response); a number from
        the correct response and the tolerance."""
        msgs = []
        if found.base_type in ("float", "integer"):
            number = number_of(found.correct[0]) if found.correct else None
            if number is None:
                return {}, ["the text entry's correct response is not a number"]
            return {"number": number, **({"tolerance": found.tolerance} if found.tolerance else {})}, []
        accept = [k for k, v in (found.mapping or {}).items() if v > 0] or list(found.correct)
        if found.mapping and any(0 < v < 1 for v in found.mapping.values()):
            msgs.append("some answers earn part of the points in the package; exam-builder scores a short "
                        "answer all or nothing, so the item is not imported")
        return {"accept": tuple(accept)}, msgs if accept else [NO_KEY]


KIND = ShortAnswer()
