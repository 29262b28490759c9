"""The same grading on PostgreSQL: bulk objective scoring and two grader processes on one queue."""
from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import gradingkit as kit
import pytest
from sqlalchemy import func, select
from test_grading_objective import gradebook_rows

from exam_builder.grading.objective import grade_exam
from exam_builder.grading.queue import RatingQueue, open_items
from exam_builder.records.audit import verify
from exam_builder.records.models import AuditEntry, Rating

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]


def test_grading_on_postgresql(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("EXAM_BUILDER_DB_URL", pg_url)
    root = tmp_path / "course"
    course = kit.empty_course(root)
    assert course.db_url == pg_url
    manifests = kit.build_forms(course)
    kit.populate(course, manifests)
    report = grade_exam(course, kit.EXAM, actor="staff", workers=2)
    assert report.submissions == 6
    first = gradebook_rows(course)
    grade_exam(course, kit.EXAM, actor="staff", workers=1)  # idempotent on PostgreSQL too
    assert gradebook_rows(course) == first
    assert sum(1 for k in first if k[2] == "grade") == 6 * 18

    item = open_items(course, kit.EXAM)[0][0]
    assignment = next(a for a, m in manifests.items() if any(e.item_id == item for e in m.items))
    number = next(e.number for e in manifests[assignment].items if e.item_id == item)
    for i in range(16):
        kit.add_sitting(course, f"p{i:03d}", assignment, {}, {number: f"Made-up answer {i}."})
    n = len([r for r in RatingQueue(course, kit.EXAM, item).responses() if not r.blank])
    flag = tmp_path / "go"
    worker = Path(__file__).with_name("grader_worker.py")
    env = {**os.environ, "EXAM_BUILDER_DB_URL": pg_url}
    procs = [subprocess.Popen([sys.executable, str(worker), str(root), kit.EXAM, item, name, str(flag)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("Ann", "Ben")]
    flag.write_text("go")
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    with course.db.read() as s:
        rows = s.execute(select(Rating.sitting_id, Rating.role, Rating.rater,
                                Rating.score).where(Rating.item_id == item)).all()
        audited = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "rating"))
        assert verify(s).ok
    assert len(rows) == audited == sum(int(o[0].split()[-1]) for o in outs) == 2 * n
    assert Counter((sid, role) for sid, role, *_ in rows).most_common(1)[0][1] == 1
    assert all(len({r for sid2, _ro, r, _s in rows if sid2 == sid}) == 2 for sid, *_ in rows)
    course.db.dispose()
