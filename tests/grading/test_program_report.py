"""`exam-builder report`: the program's report renders for every state a cohort can be in
(no candidates, pending scores, a voided sitting, everything decided) without an error or a
misleading number, is self-contained, and its tables match the CSVs and JSON beside it."""
from __future__ import annotations

import json
import re

from click.testing import CliRunner

import gradingkit as kit
from exam_builder.analysis.report import gather, render_html, sections, write_report
from exam_builder.cli import cli
from exam_builder.delivery import sittings as ops
from exam_builder.grading.objective import grade_exam
from exam_builder.grading.queue import RatingQueue, open_items
from test_grading_rating import rate_everything


def grade_all(course) -> None:
    grade_exam(course, kit.EXAM, actor="staff", workers=1)
    for item, _r in open_items(course, kit.EXAM):
        RatingQueue(course, kit.EXAM, item).settle_blanks("staff")
        rate_everything(course, item, levels=lambda r: {c.id: c.max_points for c in r.criteria})


def self_contained(html: str) -> None:
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the report fetches from the network"
    assert "<script" not in html


def test_no_candidates_yet(tmp_path):
    course = kit.empty_course(tmp_path / "course")
    kit.build_forms(course)
    path = write_report(course, kit.EXAM, tmp_path / "out")
    html = path.read_text()
    self_contained(html)
    assert "No sittings in this window." in html and "No fully scored sittings yet." in html
    assert "nan" not in html.lower().replace("nance", "")  # no "nan" figure anywhere (maintenance aside)


def test_pending_scores_are_counted_but_never_read_as_zero(gcourse, tmp_path):
    d = gather(gcourse, kit.EXAM)
    assert set(d.results.result) == {"pending"} and d.results.total.isna().all()
    text = " ".join(" ".join(s.text) for s in sections(d))
    assert "6 candidate(s), 6 sitting(s): 6 pending." in text
    html = write_report(gcourse, kit.EXAM, tmp_path / "out").read_text()
    self_contained(html)
    assert "No fully scored sittings yet." in html


def test_a_decided_cohort_with_a_voided_sitting(gcourse, tmp_path):
    grade_all(gcourse)
    with gcourse.db.read() as s:
        from sqlalchemy import select

        from exam_builder.records.models import Sitting

        first = s.execute(select(Sitting.id).order_by(Sitting.id)).scalars().first()
    ops.void(gcourse, first, "coordinator-lee", "left ill after an hour")
    d = gather(gcourse, kit.EXAM)
    assert (d.results.result == "voided").sum() == 1
    decided = d.results[d.results.result.isin(["pass", "fail"])]
    assert len(decided) == 5 and decided.total.notna().all()
    secs = {s.title: s for s in sections(d)}
    cohort = " ".join(secs["Cohort"].text)
    assert "6 candidate(s), 6 sitting(s)" in cohort and "1 voided" in cohort
    # six candidates are too few for reliability or item statistics: said, not computed
    rel = dict(secs["Reliability and decision consistency"].tables)["Per form"]
    assert rel.note.str.startswith("too few candidates (n = ").all()
    assert any("too few candidates" in line for line in secs["Items"].text)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["--course", str(gcourse.root), "report", kit.EXAM, "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    self_contained(html)
    assert html.count('src="data:image/png;base64,') >= 2  # the score distribution and the pass rates
    machine = json.loads((out / "report.json").read_text())
    totals = next(t for sec in machine["sections"] if sec["title"] == "Scores" for t in sec["tables"]
                  if t["name"] == "Totals per form")
    assert sum(row["n"] for row in totals["rows"]) == 5
    assert (out / totals["csv"]).read_text().splitlines()[0].startswith("form,n,mean")


def test_a_window_by_class(gcourse, tmp_path):
    grade_all(gcourse)
    d = gather(gcourse, kit.EXAM, cohort="no-such-class")
    assert d.results.empty and d.window == "class no-such-class"
    html = write_report(gcourse, kit.EXAM, tmp_path / "out", cohort="no-such-class").read_text()
    assert "No sittings in this window." in html


def synthetic(results: list[dict]):
    """A window's sittings as the report reads them, without forms or ratings (the pure sections)."""
    import pandas as pd

    from exam_builder.analysis.report import ReportData

    base = {"cohort": "2026-fall", "form": "A", "attempt": 1, "status": "submitted", "max_total": 57.0, "cut": 40.0,
            "submitted_at": None, "extended_time": False, "scribe": False, "extra_minutes": 0}
    rows = [{**base, "sitting": n, "candidate": f"c{n:03d}", **r} for n, r in enumerate(results, start=1)]
    return ReportData("cps", "CPS written exam", "all time", pd.DataFrame(rows))


def test_all_passing_all_failing_and_one_candidate_read_plainly():
    cases = {
        "all pass": [{"result": "pass", "total": 50.0}] * 4,
        "all fail": [{"result": "fail", "total": 20.0}] * 4,
        "one": [{"result": "pass", "total": 45.0}],
    }
    for name, rows in cases.items():
        secs = {s.title: s for s in sections(synthetic(rows))}
        cohort = " ".join(secs["Cohort"].text)
        n = len(rows)
        passed = sum(r["result"] == "pass" for r in rows)
        assert f"{n} candidate(s), {n} sitting(s)" in cohort, name
        assert f"Pass rate on the first attempt: {passed} of {n} ({passed / n:.0%})" in cohort, name
        totals = dict(secs["Scores"].tables)["Totals per form"]
        assert totals.n.tolist() == [n] and totals["mean"].tolist() == [sum(r["total"] for r in rows) / n], name
        comparison = dict(secs["Form comparability"].tables)["Mean and pass rate per form, with 95% intervals"]
        assert comparison.conclusive.tolist() == [f"too few candidates (n = {n}; needs 30)"], name
        html = render_html(synthetic(rows), list(secs.values()), "Program")
        self_contained(html)
        assert "nan" not in re.sub(r"<[^>]+>", " ", html).lower().split(), name
