"""The seam: outside ``exam_builder/kinds/`` no module names a kind, or asks what only a kind knows.

Branching on ``Kind.true_false`` and friends anywhere else is how one kind's rules spread over a
dozen modules; every other module asks ``kinds.kind_for(kind)`` instead. The kind owns its whole
answer control (a text box is the open-response kind's control, not the app's), its fields
(``Item.own``, ``Item.choices``) and whether it is scored from a key or rated
(``kind_for(kind).rated``; there is no ``objective`` flag to read elsewhere).
"""
from __future__ import annotations

import re
from pathlib import Path

from exam_builder.kinds import all_kinds, kind_for, kind_for_tag
from exam_builder.model.item import Kind

PACKAGE = Path(__file__).resolve().parents[2] / "exam_builder"
ALLOWED = {PACKAGE / "model" / "item.py"}

#: What only a kind may read, and what to do instead.
OWNED = {
    "a kind's objectivity": (re.compile(r"(?<!grading)\.objective\b(?!\()"), "ask kind_for(kind).rated"),
    "an item's choices": (re.compile(r"\.choices\b"), "ask the kind: options(item, order), choice_texts(item)"),
    "a text box as an answer control": (re.compile(r"\bTextarea\b"), "the kind's control(...) is the whole control"),
    "a kind's own fields": (re.compile(r"\.(own|scoring|accept|tolerance)\b"),
                            "ask the kind: own_text(item), rule(item), manifest_fields(item)"),
}
#: Same words, other things: (file under exam_builder/, text on the line) -> why it is not a kind's.
NOT_A_KIND = {
    ("grading/submission.py", "truth.objective"): "the form's keyed questions (a list), not a flag",
    ("grading/results.py", "r.objective"): "a result's subtotal of keyed questions",
    ("cli/grading.py", "r.objective"): "a result's subtotal of keyed questions",
    ("assembly/assemble.py", "bp.shuffle.choices"): "the blueprint's shuffle setting",
    ("qti/importer.py", "found.choices"): "a QTI interaction as read, handed to the kind's from_qti",
    ("qti/importer.py", "found.tolerance"): "a QTI qti-equal's tolerance as read, handed to the kind's from_qti",
    ("model/qti.py", "self.choices"): "a QTI interaction as read (qti.xml.Found)",
    ("analysis/report.py", "f.choices"): "the form's answers frame for distractor analysis",
    ("grading/grader_app.py", "Textarea"): "the grader's comment and shortcut boxes, not a candidate's answer",
    ("loadtest/pageclient.py", "Textarea"): "the load client drives whatever widget a page shows",
    ("desks/panel_app.py", "Textarea"): "a standard-setting panelist's note on an item, not a candidate's answer",
    ("assembly/exports.py", "assembly.tolerance"): "the blueprint's spread tolerance for parallel forms",
    ("grading/objective.py", "item.scoring"): "a manifest entry's rule (written by the kind's manifest_fields)",
    ("demo/stages/delivery.py", "e.scoring"): "a manifest entry's rule, handed to the kind's score (the demo's "
                                              "borderline candidate)",
    ("lab/preview.py", "(w.Text, w.Textarea)"): "the preview writes out whatever widget the kind's control made",
    ("demo/stages/grading.py", "c.id).choices("): "random.Random.choices: the made-up rater's draw of a level",
    ("grading/submission.py", "self.scoring"): "an objective key's rule (the manifest entry's), handed to the kind's "
                                               "score",
    ("delivery/candidate_app.py", "Your comment on question"): "the candidate's comment box, not an answer",
    ("desks/coordinator_app.py", "The candidate's own words"): "an appeal's words as the coordinator records them",
}


def _lines():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in ALLOWED or (PACKAGE / "kinds") in path.parents:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            yield path, n, line


def test_no_module_outside_kinds_branches_on_a_kind_member():
    member = re.compile(r"\bKind\.(" + "|".join(k.name for k in Kind) + r")\b")
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{n}: {line.strip()}" for path, n, line in _lines()
                 if member.search(line)]
    assert not offenders, "ask kinds.kind_for(kind) instead of naming a kind:\n" + "\n".join(offenders)


def test_no_module_outside_kinds_reads_what_the_kind_owns():
    offenders = []
    for path, n, line in _lines():
        rel = path.relative_to(PACKAGE).as_posix()
        for what, (pattern, instead) in OWNED.items():
            if pattern.search(line) and not any(f == rel and text in line for f, text in NOT_A_KIND):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{n}: {what} ({instead}): {line.strip()}")
    assert not offenders, "only the kind knows this:\n" + "\n".join(offenders)


def test_the_exceptions_still_exist():
    """A stale exception would let the word back in unnoticed."""
    for (file, text), why in NOT_A_KIND.items():
        assert text in (PACKAGE / file).read_text(encoding="utf-8"), (file, text, why)


def test_every_kind_is_registered_once_by_member_value_and_tag():
    assert [k.kind for k in all_kinds()] == list(Kind)
    for k in Kind:
        assert kind_for(k) is kind_for(k.value) is kind_for_tag(k.tag)
        assert kind_for(k).name and kind_for(k).kind is k
        assert isinstance(kind_for(k).rated, bool) and kind_for(k).scoring_mode.value in ("objective", "rated")
