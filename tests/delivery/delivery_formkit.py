"""A small form built by hand per the "Form notebook" contract and released by real nbgrader.

Used until (and beside) the builder: the delivery tests need a released notebook and an
``eb_form`` row with a manifest (keys) and nothing else from the assembly domain.
"""
from __future__ import annotations

import datetime as dt
import hashlib

import nbformat
from nbgrader.apps import NbGraderAPI
from traitlets.config import Config

from exam_builder.delivery.session import code_hash
from exam_builder.delivery.sittings import room_today
from exam_builder.kinds import kind_for
from exam_builder.model.item import Kind
from exam_builder.model.manifest import Manifest, ManifestItem, grade_ids
from exam_builder.records.models import Candidate, Exam, Form, Sitting, utcnow

EXAM = "cps"
ASSIGNMENT = "cps-A"

# number, item id, kind, stem, choices, key label, scenario
ITEMS = [
    (1, "tf-hope", Kind.true_false, "Recovery is possible for everyone.", ["True", "False"], "A", None),
    (2, "mc-mutual", Kind.multiple_choice, "What makes peer support mutual?",
     ["Both people learn from each other", "The peer gives advice", "The staff decide"], "A", None),
    (3, "sc-q1", Kind.multiple_choice, "What should Dana's peer specialist do first?",
     ["Call security", "Ask Dana what she needs", "Read her chart"], "B", "sc-dana"),
    (4, "sc-q2", Kind.multiple_choice, "Which words keep to recovery language?",
     ["She is non-compliant", "She is a frequent flyer", "She chose a different plan"], "C", "sc-dana"),
    (5, "or-story", Kind.open_response, "Describe how you would share your story with a new peer.", [], None, None),
]
SCENARIO_TEXT = "Dana has been on the unit for a week and says nobody listens to her."
#: Text that appears only on the staff side; a candidate's page must never show it.
SECRET_MARKERS = ("RATIONALE-SECRET", "BEGIN SOLUTION", "HIDDEN TESTS", "assert q0")


def _cell(kind: str, source: str, grade_id: str, eb: dict, **nbg) -> nbformat.NotebookNode:
    meta = {"nbgrader": {"schema_version": 3, "grade_id": grade_id, "grade": False, "solution": False,
                         "locked": False, "task": False, **nbg}, "exam_builder": eb}
    if kind == "markdown":
        return nbformat.v4.new_markdown_cell(source, metadata=meta)
    return nbformat.v4.new_code_cell(source, metadata=meta)


def source_notebook() -> nbformat.NotebookNode:
    cells = [_cell("markdown", "# CPS written exam, form A\n\nAnswer every question.", "header", {}, locked=True),
             nbformat.v4.new_markdown_cell("<!-- RATIONALE-SECRET staff note -->")]  # removed below
    cells.pop()  # a released notebook carries no staff notes: keep the source honest too
    seen = set()
    for number, item, kind, stem, choices, key, scenario in ITEMS:
        q = grade_ids(number)
        if scenario and scenario not in seen:
            seen.add(scenario)
            cells.append(_cell("markdown", f"### Scenario: Dana\n\n{SCENARIO_TEXT}", f"scenario-{scenario}",
                               {"scenario": scenario, "title": "Dana"}, locked=True))
        labels = "ABCDEFG"
        chs = [{"label": labels[i], "text": t} for i, t in enumerate(choices)]
        body = f"**Question {number}** ({'1 point' if not kind_for(kind).rated else '4 points'})\n\n{stem}\n\n"
        body += "\n".join(f"- **{c['label']}.** {c['text']}" for c in chs)
        pts = 1 if not kind_for(kind).rated else 4
        cells.append(_cell("markdown", body.strip(), q["question"],
                           {"number": number, "item": item, "kind": kind.value, "points": pts,
                            "competency": "peer-support", "scenario": scenario, "choices": chs}, locked=True))
        if not kind_for(kind).rated:
            cells.append(_cell("code", f'### BEGIN SOLUTION\n{q["variable"]} = "{key}"\n### END SOLUTION',
                               q["answer"], {"number": number, "role": "answer"}, solution=True))
            cells.append(_cell("code",
                               f'### BEGIN HIDDEN TESTS\nassert {q["variable"]} == "{key}"\n### END HIDDEN TESTS',
                               q["grade"], {"number": number, "role": "check"}, grade=True, locked=True, points=pts))
        else:
            cells.append(_cell("markdown", "YOUR ANSWER HERE", q["grade"], {"number": number, "role": "answer"},
                               solution=True, grade=True, points=pts))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def manifest() -> Manifest:
    items = []
    for number, item, kind, stem, choices, key, scenario in ITEMS:
        items.append(ManifestItem(number=number, item_id=item, kind=kind, points=1 if not kind_for(kind).rated else 4,
                                  competency="peer-support", scenario=scenario,
                                  content_hash=hashlib.sha256(stem.encode()).hexdigest(),
                                  option_order=tuple(range(len(choices))), key=key,
                                  rubric=None if not kind_for(kind).rated else item,
                                  rubric_hash=None if not kind_for(kind).rated else "0" * 64))
    return Manifest(exam=EXAM, form="A", assignment=ASSIGNMENT, title="CPS written exam", seed=7,
                    time_limit_minutes=180, total_points=8, cut_score=6, bank_hash="0" * 64,
                    blueprint_hash="0" * 64, items=tuple(items))


def keys() -> dict[str, str]:
    return {it.item_id: it.key for it in manifest().items if it.key}


def build_form(course) -> int:
    """Write the source notebook, release it with nbgrader, store the form; the form id."""
    src = course.source_dir / ASSIGNMENT
    src.mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(), str(src / f"{ASSIGNMENT}.ipynb"))
    cfg = Config(course.nbgrader_config())
    cfg.CourseDirectory.root = str(course.root)
    api = NbGraderAPI(config=cfg)
    res = api.generate_assignment(ASSIGNMENT)
    assert res["success"], res.get("error") or res.get("log")
    m = manifest()
    with course.db.transaction() as s:
        if s.get(Exam, EXAM) is None:
            s.add(Exam(id=EXAM, title="CPS written exam"))
        form = Form(exam_id=EXAM, label="A", assignment=ASSIGNMENT, seed=7, manifest=m.model_dump(mode="json"),
                    manifest_hash=m.hash(), built_by="test")
        s.add(form)
        s.flush()
        return form.id


def add_candidates(course, n: int = 6) -> list[str]:
    ids = [f"c{i:03d}" for i in range(1, n + 1)]
    with course.db.transaction() as s:
        for i, cid in enumerate(ids):
            s.add(Candidate(id=cid, first_name=f"Pat{i}", last_name=f"Example{i}", cohort="2026-spring"))
    return ids


def add_sitting(course, candidate: str, code: str, form_id: int, minutes: int = 180, seq: int = 1,
                started_ago: dt.timedelta | None = None, on: dt.date | None = None,
                window: tuple[dt.datetime, dt.datetime] | None = None) -> int:
    """A scheduled sitting written directly (what ``sittings.open_sittings`` would leave).

    Its window is a day either side of now (``window`` to choose another), so a test never
    depends on the hour it runs at; it is scheduled on the room's today (``on`` to choose another), as
    ``open_sittings`` does: between midnight UTC and midnight in the room, the UTC date is tomorrow there.
    """
    now = utcnow()
    opens, closes = window or (now - dt.timedelta(hours=12), now + dt.timedelta(hours=12))
    with course.db.transaction() as s:
        sit = Sitting(candidate_id=candidate, exam_id=EXAM, seq=seq, attempt_no=seq, form_id=form_id, room="101",
                      access_code_hash=code_hash(course, code), status="scheduled", time_limit_minutes=minutes,
                      opened_by="test", scheduled_on=on or room_today(course, now), opens_at=opens, closes_at=closes)
        if started_ago is not None:
            sit.started_at = utcnow() - started_ago
            sit.status = "in_progress"
        s.add(sit)
        s.flush()
        return sit.id
