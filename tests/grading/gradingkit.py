"""A made-up exam for the grading tests: a synthetic bank, forms built and released by the real
builder (nbgrader's generate_assignment), candidates, submitted sittings with journals, and
submissions made by filling a copy of the released notebook as the "Submission" contract says.
"""
from __future__ import annotations

import copy
import datetime as dt
import html
import json
import random
from pathlib import Path

from sqlalchemy import select

from exam_builder.assembly.build import build
from exam_builder.assembly.forms import load_forms
from exam_builder.assembly.synthetic import synthetic_bank, write_bank
from exam_builder.course import Course
from exam_builder.kinds import keyed_entries, kind_for, rated_entries
from exam_builder.model.manifest import Manifest, grade_ids
from exam_builder.model.states import SubmitReason
from exam_builder.records.models import Candidate, Form, Response, Sitting, utcnow

EXAM = "cps"
BLUEPRINT = """title: CPS practice exam (made up)
forms: 2
seed: 11
cut_score: 60%
points: {true_false: 1, multiple_choice: 1, open_response: 6}
counts:
  peer-support: {true_false: 2, multiple_choice: 3, open_response: 1}
  in-but-not-of: {true_false: 2, multiple_choice: 3, open_response: 1}
  change-agent: {true_false: 2, multiple_choice: 3, open_response: 1}
difficulty_tolerance: 1.0
max_overlap: 18
"""
TIMESTAMP = "2026-11-20 14:03:00.123456 UTC"


#: Written questions that follow a scenario, as most of the sample bank's do: item -> (title, text).
#: The grader's desk must show the scenario beside the question (tests/grading/test_grading_browser.py).
SCENARIOS = {
    "it-0081": ("Theo's first week", "Theo has been in recovery for *two years*. On his first day at the drop-in "
                "centre he tells you he feels like a fraud.\n\nHe asks whether he should quit."),
    "it-0112": ("Ana and the team", "Ana, a peer worker, hears staff call a client *non-compliant* in a meeting."),
    "it-0006": ("A long wait", "Sam has waited **three hours** for an appointment and is about to leave."),
}


def empty_course(root: Path) -> Course:
    from coursekit import approve_offered_items, new_course_dir  # tests/ is on sys.path under pytest

    from exam_builder.model.item import Scenario

    new_course_dir(root)
    bank, rubrics = synthetic_bank(120, seed=3, open_share=0.12)
    for n, (item_id, (title, text)) in enumerate(SCENARIOS.items(), start=1):
        sid = f"sc-or-{n}"
        bank.scenarios[sid] = Scenario(id=sid, title=title, text=text)
        bank.items[item_id] = bank.items[item_id].model_copy(update={"scenario": sid})
    write_bank(bank, rubrics, root / "source" / EXAM, root / "rubrics")
    (root / "source" / EXAM / "blueprint.yaml").write_text(BLUEPRINT, encoding="utf-8")
    course = Course(root)
    course.db.upgrade()
    approve_offered_items(course)
    return course


def build_forms(course: Course) -> dict[str, Manifest]:
    import io

    from rich.console import Console

    build(course, EXAM, actor="test-author", console=Console(file=io.StringIO()))
    with course.db.read() as s:
        return {f.assignment: m for f, m in load_forms(s, EXAM)}


def released(course: Course, assignment: str) -> dict:
    return json.loads((course.release_dir / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))


def fill(released_nb: dict, answers: dict[int, str | None], texts: dict[int, str]) -> dict:
    """The released notebook with answers written in, per the Submission contract."""
    nb = copy.deepcopy(released_nb)
    for cell in nb["cells"]:
        meta = cell["metadata"].get("exam_builder", {})
        if meta.get("role") != "answer":
            continue
        n = int(meta["number"])
        var = grade_ids(n)["variable"]
        if cell["cell_type"] == "code":
            if n in answers:
                cell["source"] = f"{var} = None" if answers[n] is None else f'{var} = "{answers[n]}"'
        elif n in texts:
            cell["source"] = html.escape(texts[n])
    return nb


def write_submission(course: Course, candidate: str, assignment: str, nb: dict | str, stamp: str = TIMESTAMP) -> Path:
    folder = course.submitted_dir / candidate / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    path.write_text(nb if isinstance(nb, str) else json.dumps(nb, indent=1), encoding="utf-8")
    (folder / "timestamp.txt").write_text(stamp, encoding="utf-8")
    return path


def labels_of(released_nb: dict) -> dict[int, list[str]]:
    out = {}
    for cell in released_nb["cells"]:
        meta = cell["metadata"].get("exam_builder", {})
        if "choices" in meta and meta.get("kind") != "open_response":
            out[int(meta["number"])] = [c["label"] for c in meta["choices"]]
    return out


def random_answers(rng: random.Random, manifest: Manifest, released_nb: dict,
                   right: float = 0.7) -> dict[int, str | None]:
    labels = labels_of(released_nb)
    out: dict[int, str | None] = {}
    for e in keyed_entries(manifest):
        r = rng.random()
        if r < right:
            out[e.number] = e.key
        elif r < right + 0.05:
            out[e.number] = None
        else:
            out[e.number] = rng.choice(labels[e.number])
    return out


def enrol(course: Course, *candidates: str) -> None:
    """Put candidates on the roster (no sitting): grading grades only folders of roster candidates."""
    with course.db.transaction() as s:
        for cand in candidates:
            if s.get(Candidate, cand) is None:
                s.add(Candidate(id=cand, first_name="Sam", last_name=f"Sample-{cand}", cohort="test"))


def add_sitting(course: Course, candidate: str, assignment: str, answers: dict[int, str | None],
                texts: dict[int, str], attempt: int = 1) -> int:
    """A candidate and a submitted sitting with its response journal (what delivery leaves)."""
    with course.db.transaction() as s:
        form = s.execute(select(Form).where(Form.assignment == assignment)).scalar_one()
        m = Manifest.model_validate(form.manifest)
        if s.get(Candidate, candidate) is None:
            s.add(Candidate(id=candidate, first_name="Sam", last_name=f"Sample-{candidate}", cohort="test"))
            s.flush()
        now = utcnow()
        sit = Sitting(candidate_id=candidate, exam_id=EXAM, seq=attempt, attempt_no=attempt, form_id=form.id,
                      status="submitted", time_limit_minutes=180, opened_at=now - dt.timedelta(hours=3),
                      started_at=now - dt.timedelta(hours=3), submitted_at=now, submit_reason=SubmitReason.candidate)
        s.add(sit)
        s.flush()
        for e in m.items:
            value = answers.get(e.number) if not kind_for(e.kind).rated else texts.get(e.number)
            if value is not None:
                s.add(Response(sitting_id=sit.id, item_id=e.item_id, value=value))
        return sit.id


OPEN_TEXTS = [
    "I would listen first and ask what she needs, then share a bit of my own story.",
    "Ask the person what matters to them & keep to their own words.",
    "",  # a blank answer: scored 0 without rating
    "I'd talk with the team <and> bring the person's own words to the meeting.",
]


def populate(course: Course, manifests: dict[str, Manifest], n: int = 6, seed: int = 5) -> dict[str, tuple[int, str]]:
    """``n`` candidates, alternating forms; sittings, journals and submissions. -> cand: (sitting, form)"""
    rng = random.Random(seed)
    out = {}
    forms = sorted(manifests)
    for i in range(n):
        cand = f"cand{i + 1:03d}"  # not hex: ids must never match by chance inside widget ids
        assignment = forms[i % len(forms)]
        m = manifests[assignment]
        rel_nb = released(course, assignment)
        answers = random_answers(rng, m, rel_nb)
        texts = {e.number: OPEN_TEXTS[(i + j) % len(OPEN_TEXTS)] for j, e in enumerate(rated_entries(m))}
        sid = add_sitting(course, cand, assignment, answers, texts)
        write_submission(course, cand, assignment, fill(rel_nb, answers, texts))
        out[cand] = (sid, assignment)
    return out
