"""Helpers of the records tests: candidates, exams and forms written directly, policies."""
from __future__ import annotations

import datetime as dt

from traitlets.config import Config

from exam_builder import clock
from exam_builder.model.item import Kind
from exam_builder.model.manifest import Manifest, ManifestItem
from exam_builder.records.models import Attendance, Candidate, Exam, Form, Sitting
from exam_builder.settings.policy import ProgramPolicy

EXAM = "cps"
#: The room's time zone of the records tests' courses (``DeliverySettings.timezone``'s default).
ZONE = clock.zone(clock.DEFAULT_ZONE)


def policy(**settings) -> ProgramPolicy:
    """The CPS policy with some settings changed, as nbgrader_config.py would change them."""
    return ProgramPolicy(config=Config({"ProgramPolicy": settings}))


def manifest(exam: str, label: str) -> Manifest:
    """A minimal valid manifest: one true/false item."""
    item = ManifestItem(number=1, item_id=f"tf-{label.lower()}", kind=Kind.true_false, points=1.0,
                        competency="peer-support", content_hash="0" * 64, option_order=(0, 1), key="A")
    return Manifest(exam=exam, form=label, assignment=f"{exam}-{label}", title=f"{exam} form {label}", seed=7,
                    time_limit_minutes=180, total_points=1.0, cut_score=1.0, bank_hash="b" * 64,
                    blueprint_hash="c" * 64, items=(item,))


def add_exam(s, exam: str = EXAM, labels: str = "ABCD") -> dict[str, int]:
    """An exam with forms ``labels``; returns label -> form id."""
    if s.get(Exam, exam) is None:
        s.add(Exam(id=exam, title=f"{exam} exam"))
    ids = {}
    for label in labels:
        m = manifest(exam, label)
        form = Form(exam_id=exam, label=label, assignment=m.assignment, seed=m.seed,
                    manifest=m.model_dump(mode="json"), manifest_hash=m.hash(), built_by="test")
        s.add(form)
        s.flush()
        ids[label] = form.id
    return ids


def add_candidates(s, *ids: str, cohort: str = "test") -> None:
    for cid in ids:
        s.add(Candidate(id=cid, first_name=cid.title(), last_name="Example", email=f"{cid}@example.org", cohort=cohort))
    s.flush()


def set_attendance(s, cid: str, marks: dict[str, str], classes: int = 6, per_class: int = 3) -> None:
    """Every module present except ``marks`` ({"2.1": "late", ...})."""
    for c in range(1, classes + 1):
        for m in range(1, per_class + 1):
            s.merge(Attendance(candidate_id=cid, class_no=c, module_no=m, status=marks.get(f"{c}.{m}", "present")))
    s.flush()


def add_past_sitting(s, cid: str, form_id: int, seq: int, attempt_no: int | None, outcome: str | None,
                     on: dt.date, exam: str = EXAM, status: str = "submitted") -> Sitting:
    """A finished sitting written directly (history for the ledger to read)."""
    at = dt.datetime.combine(on, dt.time(9, 0))
    sitting = Sitting(candidate_id=cid, exam_id=exam, seq=seq, attempt_no=attempt_no, form_id=form_id,
                      status=status, time_limit_minutes=180, extra_minutes=0, opened_at=at, started_at=at,
                      submitted_at=at + dt.timedelta(hours=2), outcome=outcome,
                      outcome_at=at + dt.timedelta(days=3) if outcome else None)
    s.add(sitting)
    s.flush()
    return sitting
