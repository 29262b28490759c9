"""Results arithmetic (pending is never 0), outcomes in the ledger, CSV, and key-free score reports."""
from __future__ import annotations

import csv
import io
import re

import gradingkit as kit
from click.testing import CliRunner
from sqlalchemy import select
from test_grading_objective import gradebook_rows
from test_grading_rating import rate_everything

from exam_builder.cli import cli
from exam_builder.grading.objective import grade_exam
from exam_builder.grading.queue import RatingQueue, open_items
from exam_builder.grading.results import compute_results, next_step, record_outcomes, results_csv, write_feedback
from exam_builder.kinds import keyed_entries, kind_for, rated_entries
from exam_builder.records.models import AuditEntry, Sitting, Tutoring
from exam_builder.settings.policy import ProgramPolicy


def test_next_step_follows_the_program_rules():
    p = ProgramPolicy()
    assert next_step(p, True, 1) == "certified"
    assert next_step(p, True, 1, provisional=True) == "certified once key validation closes"
    assert next_step(p, False, 1) == "may retake (2 left), tutoring offered"
    assert next_step(p, False, 2) == "may retake (1 left), tutoring offered"
    assert next_step(p, False, 3) == "no attempts left"
    assert next_step(p, None, 1) == "waiting for scores"
    strict = ProgramPolicy(max_attempts=2, tutoring_after_failure="required")
    assert next_step(strict, False, 1) == "may retake (1 left), tutoring required first"
    import datetime as dt
    assert next_step(strict, False, 1,
                     dt.date(2026, 12, 20)) == "may retake from 2026-12-20 (1 left), tutoring required first"


def test_results_are_pending_until_every_score_is_given(gcourse, manifests):
    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)
    for item, _r in open_items(gcourse, kit.EXAM):
        RatingQueue(gcourse, kit.EXAM, item).settle_blanks("staff")
    res = compute_results(gcourse, kit.EXAM)
    assert len(res) == 6
    rows = gradebook_rows(gcourse)
    for r in res:
        m = manifests[r.assignment]
        objective = sum(rows[(r.candidate_id, f"q{e.number:02d}", "grade")][0] for e in keyed_entries(m))
        assert r.objective.score == objective and r.objective.max == sum(e.points for e in keyed_entries(m))
        assert r.open_response.score is None and r.total.score is None  # written answers not rated yet
        assert r.status == "pending" and r.total.text() == "pending"
        # what it waits for, per written question and from whom
        waits = [f"Q{e.number} first rating by any grader" for e in rated_entries(m)
                 if rows[(r.candidate_id, f"q{e.number:02d}", "grade")][1] is None]
        assert waits and r.next_step == "waiting for " + "; ".join(waits), r.next_step
        assert r.total.max == m.total_points and r.cut_score == m.cut_score
    text = results_csv(gcourse, res)
    table = list(csv.DictReader(io.StringIO(text)))
    assert all(row["total"] == "pending" and row["result"] == "pending" for row in table)
    assert "Peer Support" in table[0]
    assert record_outcomes(gcourse, res, "staff") == 0  # nothing final: nothing recorded


def test_final_results_add_up_pass_or_fail_and_are_recorded(gcourse, manifests):
    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)
    for item, _r in open_items(gcourse, kit.EXAM):
        RatingQueue(gcourse, kit.EXAM, item).settle_blanks("staff")
        rate_everything(gcourse, item, levels=lambda r: {c.id: c.max_points for c in r.criteria})
    res = compute_results(gcourse, kit.EXAM)
    assert all(r.final for r in res)
    for r in res:
        assert r.total.score == r.objective.score + r.open_response.score
        assert abs(sum(p.score for p in r.competencies.values()) - r.total.score) < 1e-9
        assert set(r.competencies) == {"peer-support", "in-but-not-of", "change-agent"}
        assert r.status == ("pass" if r.total.score >= r.cut_score else "fail")
        assert r.next_step == ("certified once key validation closes" if r.status == "pass" else "may retake from "
                               f"{r.retake_on.isoformat()} (2 left), tutoring offered")
    assert record_outcomes(gcourse, res, "coordinator") == 6
    with gcourse.db.read() as s:
        outcomes = dict(s.execute(select(Sitting.id, Sitting.outcome)).all())
        audited = s.execute(select(AuditEntry.entity_id).where(AuditEntry.action == "sitting.outcome")).scalars().all()
        tutoring = s.execute(select(Tutoring.sitting_id)).scalars().all()
    assert {outcomes[r.sitting_id] for r in res} <= {"pass", "fail"}
    assert len(audited) == 6
    assert sorted(tutoring) == sorted(r.sitting_id for r in res if r.status == "fail")
    assert record_outcomes(gcourse, res, "coordinator") == 6  # idempotent: the ledger records no change
    with gcourse.db.read() as s:
        assert len(s.execute(select(AuditEntry.id).where(AuditEntry.action == "sitting.outcome")).all()) == 6


def test_score_reports_never_show_items_or_keys(gcourse, manifests):
    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)
    item = open_items(gcourse, kit.EXAM)[0][0]
    rate_everything(gcourse, item)
    paths = write_feedback(gcourse, kit.EXAM)
    assert len(paths) == 6
    src = "".join((gcourse.source_dir / a / f"{a}.ipynb").read_text() for a in manifests)
    assert re.search(r'assert q\d\d == \\"[A-Z]\\"', src)  # the staff-side source does hold keys...
    for p in paths:
        html = p.read_text()
        cand, assignment = p.parts[-3], p.parts[-2]
        assert p.name == f"{assignment}.html"
        assert "pending" in html and "Peer Support" in html and "Sample-" + cand in html
        # ...and no report shows one, nor any item, stem, choice, answer or rationale
        for bad in ("assert ", "BEGIN", "q01", "Made-up question", "Option ", "Rationale", "Because of reason",
                    *[e.item_id for m in manifests.values() for e in m.items], *kit.OPEN_TEXTS[:2]):
            assert bad not in html, (p, bad)
        others = {f"Sample-cand00{i}" for i in range(1, 7)} - {"Sample-" + cand}
        assert not any(o in html for o in others)


def test_results_command_prints_and_writes_csv(gcourse, tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["--course", str(gcourse.root), "grade", "cps", "--by", "staff"]).exit_code == 0
    out = tmp_path / "results.csv"
    res = runner.invoke(cli, ["--course", str(gcourse.root), "results", "cps", "--csv", str(out), "--by", "staff"])
    assert res.exit_code == 0, res.output
    assert "pending" in res.output and out.exists()
    assert len(list(csv.DictReader(out.open()))) == 6
    res = runner.invoke(cli, ["--course", str(gcourse.root), "results", "nope"])
    assert res.exit_code == 1 and "no exam 'nope'" in res.output
    res = runner.invoke(cli, ["--course", str(gcourse.root), "feedback", "cps"])
    assert res.exit_code == 0 and "6 score report(s)" in res.output


def test_item_statistics_on_a_known_matrix():
    from exam_builder.analysis.items import form_stats
    from exam_builder.model.item import Kind
    from exam_builder.model.manifest import ManifestItem

    items = [ManifestItem(number=n, item_id=f"i{n}", kind=Kind.true_false, points=1, competency="peer-support",
                          content_hash="0" * 64, key="A") for n in (1, 2, 3)]
    matrix = [[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 1, 1]]
    st = form_stats("f", items, matrix)
    assert [round(i.facility, 2) for i in st.items] == [0.8, 0.6, 0.4]
    # KR-20 by hand: k=3, item variances (sample) .2, .3, .3; total variance 1.7
    assert round(st.reliability, 4) == round(3 / 2 * (1 - 0.8 / 1.7), 4)
    assert st.reliability_name == "KR-20" and st.items[0].discrimination > 0


def test_pooled_facility_weights_forms_and_needs_enough_responses():
    from exam_builder.analysis.items import FormStats, ItemStat, pooled_facility

    def form(name, n, facilities):
        items = [ItemStat(k, item, "true_false", "peer-support", 1, n, f, None) for k,
                 (item, f) in enumerate(facilities, 1)]
        return FormStats(name, n, None, None, None, True, items)

    reports = [form("A", 20, [("anchor", 0.5), ("only-a", 0.9)]), form("B", 30, [("anchor", 0.8), ("only-b", 0.4)])]
    pooled = pooled_facility(reports, min_n=30)
    assert pooled == {"anchor": (0.5 * 20 + 0.8 * 30) / 50, "only-b": 0.4}  # only-a: 20 responses, too few


def test_item_analysis_leaves_pending_candidates_out(gcourse):
    from exam_builder.analysis.items import analyse, analysis_csv

    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)
    assert all(r.n == 0 for r in analyse(gcourse, kit.EXAM))  # written answers pending: nobody counted
    for item, _r in open_items(gcourse, kit.EXAM):
        RatingQueue(gcourse, kit.EXAM, item).settle_blanks("staff")
        rate_everything(gcourse, item)
    reports = analyse(gcourse, kit.EXAM)
    assert sorted(r.n for r in reports) == [3, 3] and all(len(r.items) == 18 for r in reports)
    assert "facility" in analysis_csv(reports)


def _scored_and_rated(gcourse) -> None:
    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)
    for item, _r in open_items(gcourse, kit.EXAM):
        RatingQueue(gcourse, kit.EXAM, item).settle_blanks("staff")
        rate_everything(gcourse, item, levels=lambda r: {c.id: c.max_points for c in r.criteria})


def test_results_records_outcomes_unless_told_not_to(gcourse):
    """`results` records each final pass or fail in the candidates' records; `--no-record` is a preview that says
    so and records nothing."""
    _scored_and_rated(gcourse)

    def outcomes() -> list:
        with gcourse.db.read() as s:
            return [x.outcome for x in s.execute(select(Sitting).order_by(Sitting.id)).scalars()]

    res = CliRunner().invoke(cli, ["--course", str(gcourse.root), "results", kit.EXAM, "--no-record"])
    assert res.exit_code == 0, res.output
    assert "A preview (--no-record): no outcome recorded" in " ".join(res.output.split())
    assert all(o is None for o in outcomes())
    res = CliRunner().invoke(cli, ["--course", str(gcourse.root), "results", kit.EXAM])
    assert res.exit_code == 0, res.output
    final = sum(1 for r in compute_results(gcourse, kit.EXAM) if r.final)
    assert f"{final} outcome(s) recorded" in res.output and final
    assert sum(o is not None for o in outcomes()) == final


def _sql(gcourse, statement: str, **params) -> int:
    """A person with the database's password, changing nbgrader's tables by hand (no exam-builder code)."""
    from sqlalchemy import text

    with gcourse.db.engine.begin() as conn:
        return conn.execute(text(statement), params).rowcount


GRADE_OF = """UPDATE grade SET {set} WHERE id = (
    SELECT g.id FROM grade g JOIN submitted_notebook n ON n.id = g.notebook_id
    JOIN submitted_assignment a ON a.id = n.assignment_id JOIN grade_cells c ON c.id = g.cell_id
    JOIN base_cell b ON b.id = c.id WHERE a.student_id = :cand AND b.name = :cell)"""


def test_a_score_changed_by_sql_is_caught_by_results_and_nothing_is_recorded(gcourse, manifests):
    """Every score that reaches results is one exam-builder wrote (and audited): a manual score typed
    over an objective answer, and a written answer's score changed, straight in the gradebook's
    tables, are named by `results` (candidate, grade, both values), which records nothing."""
    _scored_and_rated(gcourse)
    m = manifests[compute_results(gcourse, kit.EXAM)[0].assignment]
    objective = f"q{keyed_entries(m)[0].number:02d}"
    written = f"q{next(e for e in m.items if kind_for(e.kind).rated).number:02d}"
    cand = next(r.candidate_id for r in compute_results(gcourse, kit.EXAM) if r.assignment == m.assignment)
    rows = gradebook_rows(gcourse)
    auto = rows[(cand, objective, "grade")][0]
    assert _sql(gcourse, GRADE_OF.format(set="manual_score = :v"), v=auto + 1, cand=cand, cell=objective) == 1
    assert _sql(gcourse, GRADE_OF.format(set="manual_score = 0, extra_credit = 2"), cand=cand, cell=written) == 1
    with gcourse.db.read() as s:
        audit_before = s.execute(select(AuditEntry)).scalars().all().__len__()
    out = CliRunner().invoke(cli, ["--course", str(gcourse.root), "results", kit.EXAM, "--by", "staff"])
    assert out.exit_code != 0, out.output
    text = " ".join(out.output.split())
    assert "2 score(s) in nbgrader's gradebook were changed outside exam-builder" in text
    assert (f"{m.assignment}, candidate {cand}, grade {objective}: the gradebook holds a manual score of "
            f"{auto + 1:g} where exam-builder recorded none") in text
    assert "to restore, empty the manual score" in text
    recorded = rows[(cand, written, "grade")][1]
    assert (f"grade {written}: the gradebook holds a manual score of 0 where exam-builder recorded {recorded:g}; "
            "extra credit of 2 where exam-builder recorded none") in text
    assert f"set the manual score back to {recorded:g}" in text
    with gcourse.db.read() as s:
        assert all(sit.outcome is None for sit in s.execute(select(Sitting)).scalars())
        assert len(s.execute(select(AuditEntry)).scalars().all()) == audit_before
    res = {r.candidate_id: r for r in compute_results(gcourse, kit.EXAM) if r.assignment == m.assignment}
    assert res[cand].status == "pending" and len(res[cand].tampered) == 2
    # scoring again never launders a changed score: both are still named
    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)
    res = {r.candidate_id: r for r in compute_results(gcourse, kit.EXAM) if r.assignment == m.assignment}
    assert len(res[cand].tampered) == 2
    # put back as exam-builder recorded them: the results go through
    assert _sql(gcourse, GRADE_OF.format(set="manual_score = NULL"), cand=cand, cell=objective) == 1
    recorded = rows[(cand, written, "grade")][1]
    assert _sql(gcourse, GRADE_OF.format(set="manual_score = :v, extra_credit = NULL"), v=recorded, cand=cand,
                cell=written) == 1
    out = CliRunner().invoke(cli, ["--course", str(gcourse.root), "results", kit.EXAM, "--by", "staff"])
    assert out.exit_code == 0, out.output


def _result_row(output: str, cand: str) -> str:
    return next(line for line in output.splitlines() if f" {cand} " in line or line.startswith(cand))


def test_a_changed_score_is_withheld_never_shown_as_a_total(gcourse, manifests, tmp_path):
    """`results` marks the row of a changed score "withheld" and shows none of its figures (the
    changed total read as if real); the CSV with --no-record withholds them too and exits non-zero."""
    _scored_and_rated(gcourse)
    [r0] = [r for r in compute_results(gcourse, kit.EXAM)][:1]
    cell = f"q{keyed_entries(manifests[r0.assignment])[0].number:02d}"
    assert _sql(gcourse, GRADE_OF.format(set="manual_score = 99"), cand=r0.candidate_id, cell=cell) == 1
    [r] = [r for r in compute_results(gcourse, kit.EXAM) if r.sitting_id == r0.sitting_id]
    assert r.total.text() == r.objective.text() == "withheld" and r.total.score is None
    assert all(p.text() == "withheld" for p in r.competencies.values())
    assert r.next_step == "withheld: score changed outside exam-builder"
    out = CliRunner().invoke(cli, ["--course", str(gcourse.root), "results", kit.EXAM, "--no-record",
                                   "--csv", str(tmp_path / "r.csv")])
    assert out.exit_code != 0
    row = _result_row(out.output, r0.candidate_id)
    assert row.count("withheld") >= 4 and "99" not in row and "pending" not in row, row
    assert f"{r0.total.score:g}/" not in row  # not even the true total: nothing of this row is a figure
    others = [r for r in compute_results(gcourse, kit.EXAM) if r.candidate_id != r0.candidate_id]
    assert all(f"{o.total.score:g}/{o.total.max:g}" in _result_row(out.output, o.candidate_id) for o in others)
    assert not (tmp_path / "r.csv").exists()  # refused: nothing written


def test_an_outcome_recorded_before_a_score_changed_is_flagged(gcourse, manifests):
    """A pass recorded, then a score changed by SQL: the candidate's record (`attempts`) flags the
    outcome as in question with the change named, and `results` says the recorded outcome rests on it."""
    _scored_and_rated(gcourse)
    runner = CliRunner()
    assert runner.invoke(cli, ["--course", str(gcourse.root), "results", kit.EXAM, "--by", "staff"]).exit_code == 0
    r0 = compute_results(gcourse, kit.EXAM)[0]
    cand = r0.candidate_id
    out = runner.invoke(cli, ["--course", str(gcourse.root), "attempts", cand])
    assert out.exit_code == 0 and "in question" not in out.output, out.output
    cell = f"q{keyed_entries(manifests[r0.assignment])[0].number:02d}"
    assert _sql(gcourse, GRADE_OF.format(set="manual_score = 99"), cand=cand, cell=cell) == 1
    out = runner.invoke(cli, ["--course", str(gcourse.root), "attempts", cand])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert f"{r0.status} (in question)" in text
    assert (f"sitting {r0.sitting_id}: the outcome recorded rests on a score changed outside exam-builder after it "
            "was recorded") in text
    assert (f"candidate {cand}, grade {cell}: the gradebook holds a manual score of 99 where exam-builder recorded "
            "none") in text
    [r] = [r for r in compute_results(gcourse, kit.EXAM) if r.sitting_id == r0.sitting_id]
    assert r.recorded == r0.status and r.next_step == (
        f"withheld: score changed outside exam-builder; the {r0.status} recorded for this sitting rests on a score "
        "changed outside exam-builder after it was recorded")
    out = runner.invoke(cli, ["--course", str(gcourse.root), "results", kit.EXAM, "--by", "staff"])
    assert out.exit_code != 0 and "rests on a score changed outside exam-builder" in " ".join(out.output.split())
    assert _sql(gcourse, GRADE_OF.format(set="manual_score = NULL"), cand=cand, cell=cell) == 1  # put back
    out = runner.invoke(cli, ["--course", str(gcourse.root), "attempts", cand])
    assert "in question" not in out.output


def test_a_forged_seal_is_caught(gcourse, manifests):
    """Changing the gradebook and the seal together (without the course's secret) is caught too."""
    _scored_and_rated(gcourse)
    r0 = compute_results(gcourse, kit.EXAM)[0]
    m = manifests[r0.assignment]
    cell = f"q{keyed_entries(m)[0].number:02d}"
    assert _sql(gcourse, GRADE_OF.format(set="manual_score = 99"), cand=r0.candidate_id, cell=cell) == 1
    assert _sql(gcourse, "UPDATE eb_grade_seal SET manual_score = 99 WHERE assignment = :a AND candidate_id = :c "
                         "AND grade_id = :g", a=r0.assignment, c=r0.candidate_id, g=cell) == 1
    [r] = [r for r in compute_results(gcourse, kit.EXAM) if r.sitting_id == r0.sitting_id]
    assert r.status == "pending" and "its record does not verify" in r.tampered[0]
    assert record_outcomes_refused(gcourse)


def record_outcomes_refused(gcourse) -> bool:
    import pytest

    from exam_builder.errors import ExamBuilderError

    with pytest.raises(ExamBuilderError, match="changed outside exam-builder"):
        record_outcomes(gcourse, compute_results(gcourse, kit.EXAM), "staff")
    return True


def test_feedback_pdf_prints_one_private_pdf_per_candidate(gcourse, manifests):
    """`feedback --pdf`: each candidate's score report as a PDF in a staff-only folder, its text the report's."""
    import os
    import stat

    import pypdf

    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)
    rate_everything(gcourse, open_items(gcourse, kit.EXAM)[0][0])
    old = os.umask(0o022)  # a permissive umask: the PDFs are private anyway
    try:
        res = CliRunner().invoke(cli, ["--course", str(gcourse.root), "feedback", "cps", "--pdf"])
    finally:
        os.umask(old)
    assert res.exit_code == 0, res.output
    assert "6 printable score report(s) (PDF, staff only) written under exports/cps/score-reports/" in res.output
    folder = gcourse.root / "exports" / "cps" / "score-reports"
    pdfs = sorted(folder.glob("*.pdf"))
    assert len(pdfs) == 6 and sorted(folder.iterdir()) == sorted([*pdfs, folder / "delivery-list.csv"])
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE((folder.parent).stat().st_mode) == 0o700
    for pdf in pdfs:
        assert stat.S_IMODE(pdf.stat().st_mode) == 0o600, pdf
        cand = pdf.name.split("-")[0]
        text = " ".join("".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages).split())
        assert "Sample-" + cand in text and "Peer Support" in text, (pdf, text[:300])
        for bad in ("assert ", "Rationale", *kit.OPEN_TEXTS[:2]):
            assert bad not in text
        others = {f"Sample-cand00{i}" for i in range(1, 7)} - {"Sample-" + cand}
        assert not any(o in text for o in others)
    assert not any((gcourse.root / ".exam-builder" / "scratch").iterdir())  # the printing folder is gone


def test_a_failed_candidates_next_step_and_report_give_the_waiting_period_and_the_exam_date(gcourse, tmp_path):
    """`results`, the score report and `attempts` (the eligibility rules) name the same first day of
    another attempt; the report says the day the exam was sat, in the room's time zone."""
    import datetime as dt

    runner = CliRunner(env={"COLUMNS": "200"})
    course = ["--course", str(gcourse.root)]
    assert runner.invoke(cli, [*course, "grade", "cps", "--by", "staff"]).exit_code == 0
    for item, _r in open_items(gcourse, kit.EXAM):
        RatingQueue(gcourse, kit.EXAM, item).settle_blanks("staff")
        rate_everything(gcourse, item, levels=lambda r: {c.id: 0 for c in r.criteria})  # every written answer 0
    with gcourse.db.transaction() as s:  # sat late in the evening in New York: already the next day in UTC
        for sit in s.execute(select(Sitting)).scalars():
            sit.started_at = dt.datetime(2026, 12, 7, 2, 30)
    out = tmp_path / "results.csv"
    res = runner.invoke(cli, [*course, "results", "cps", "--csv", str(out), "--by", "staff"])
    assert res.exit_code == 0, res.output
    failed = [row for row in csv.DictReader(out.open()) if row["result"] == "fail"]
    assert failed, "no candidate failed"
    row = failed[0]
    standing = runner.invoke(cli, [*course, "attempts", row["candidate"], "--exam", "cps"]).output
    when = re.search(r"may sit cps again: not before (\d{4}-\d\d-\d\d) \(waiting period", standing).group(1)
    assert row["next_step"] == f"may retake from {when} (2 left), tutoring offered"
    assert runner.invoke(cli, [*course, "feedback", "cps"]).exit_code == 0
    page = (gcourse.feedback_path(row["candidate"], row["form"]) / f"{row['form']}.html").read_text()
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "exam taken on 2026-12-06" in words  # the room's date (America/New_York), not UTC's 12-07
    assert f"You can take the exam again from {when}, after the waiting period (2 attempts left)." in words
