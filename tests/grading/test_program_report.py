"""`exam-builder report`: the program's report renders for every state a cohort can be in
(no candidates, pending scores, a voided sitting, everything decided) without an error or a
misleading number, is self-contained, and its tables match the CSVs and JSON beside it."""
from __future__ import annotations

import json
import re

import gradingkit as kit
from click.testing import CliRunner
from statsmodels.stats.proportion import proportion_confint
from test_grading_rating import rate_everything

from exam_builder.analysis.report import gather, render_html, sections, write_report
from exam_builder.cli import cli
from exam_builder.delivery import sittings as ops
from exam_builder.grading.objective import grade_exam
from exam_builder.grading.queue import RatingQueue, open_items


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
    assert d.results.empty and d.window == "cohort no-such-class"
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
        lo, hi = proportion_confint(passed, n, method="wilson")  # Wilson's interval, computed apart
        assert (f"Pass rate on the first attempt: {passed} of {n} ({passed / n:.0%}, 95% interval {lo:.0%} to "
                f"{hi:.0%})") in cohort, name
        totals = dict(secs["Scores"].tables)["Totals per form"]
        assert totals.n.tolist() == [n] and totals["mean"].tolist() == [sum(r["total"] for r in rows) / n], name
        comparison = dict(secs["Form comparability"].tables)["Mean and pass rate per form, with 95% intervals"]
        assert comparison.conclusive.tolist() == [f"too few candidates (n = {n}; needs 10)"], name  # published from 10
        html = render_html(synthetic(rows), list(secs.values()), "Program")
        self_contained(html)
        assert "nan" not in re.sub(r"<[^>]+>", " ", html).lower().split(), name


def test_eligibility_time_to_certification_attempts_and_equating_on_a_large_window():
    """Every new number against a direct computation on the made-up window (tests/grading/report_synthetic.py)."""
    import numpy as np
    from report_synthetic import big_window

    d = big_window()
    secs = {s.title: s for s in sections(d)}
    standing = secs["Eligibility and time to certification"]
    st = d.standing
    certified = int(st.passed_on.notna().sum())
    assert f"Standing today of the 83 candidate(s) on the roster: {certified} certified, 0 may sit" in standing.text[0]
    assert "3 never sat this exam" in standing.text[0]
    reasons = dict(standing.tables)["Why candidates may not sit now (a candidate may have more than one reason)"]
    assert reasons.set_index("reason").loc["late for or missed too many modules"].tolist() == [3, 3]
    days = [(p - e).days for p,
            e in zip(st.passed_on, st.training_ended_on, strict=True) if p is not None and e is not None]
    assert f"median {np.median(days):g} days (from {min(days):g} to {max(days):g}; {len(days)} candidate(s))" \
        in standing.text[1]
    by_attempt = dict(secs["Scores"].tables)["Scores by attempt (share of the form's points)"]
    decided = d.results
    for row in by_attempt.itertuples():
        part = decided[decided.attempt == row.attempt]
        assert row.sittings == len(part) and row.mean_share == round((part.total / part.max_total).mean(), 2)
    assert len(secs["Scores"].figures) == 2  # the distribution, and scores by attempt
    eq = dict(secs["Form comparability"].tables)["Equating check through the items the forms share"]
    a, b = d.forms
    va, vb = a.scores[[1, 2, 3, 4]].sum(axis=1), b.scores[[1, 2, 3, 4]].sum(axis=1)  # the four shared items
    xa, yb = a.scores.sum(axis=1), b.scores.sum(axis=1)
    w1 = len(xa) / (len(xa) + len(yb))
    g1, g2 = a.max_total / 4, b.max_total / 4  # Kolen & Brennan eq. 4.17-4.18, nominal weights
    mu_x = xa.mean() - (1 - w1) * g1 * (va.mean() - vb.mean())
    mu_y = yb.mean() + w1 * g2 * (va.mean() - vb.mean())
    assert eq["shared items"].tolist() == [4] and eq.constant.tolist() == [round(mu_y - mu_x, 2)]
    assert "reads" in eq.reading.iloc[0] or "no evidence" in eq.reading.iloc[0]
    assert "too few" not in " ".join(eq.reading)


def test_equating_with_too_few_candidates_says_so():
    from report_synthetic import big_window

    d = big_window(n=12)
    eq = dict({s.title: s for s in sections(d)}["Form comparability"].tables)[
        "Equating check through the items the forms share"]
    assert eq.reading.tolist() == ["too few candidates (n = 12; needs 30)"] and eq.constant.isna().all()


def test_standing_and_training_end_from_the_course(gcourse, tmp_path):
    """The standing comes from the real eligibility rules; the training end from the roster's column."""
    import datetime as dt

    from sqlalchemy import update

    from exam_builder.grading.results import compute_results, record_outcomes
    from exam_builder.records.models import Candidate

    grade_all(gcourse)
    text = " ".join({s.title: s for s in sections(gather(gcourse, kit.EXAM))}[
        "Eligibility and time to certification"].text)
    assert "6 scored sitting(s) have no result in the candidates' records yet" in text
    record_outcomes(gcourse, compute_results(gcourse, kit.EXAM), "coordinator")
    d = gather(gcourse, kit.EXAM)
    text = " ".join({s.title: s for s in sections(d)}["Eligibility and time to certification"].text)
    assert "no result in the candidates' records" not in text
    passed = int((d.results.result == "pass").sum())
    assert len(d.standing) == 6 and int(d.standing.passed_on.notna().sum()) == passed
    assert f"Standing today of the 6 candidate(s) on the roster: {passed} certified" in text
    assert "No training end dates on the roster" in text
    # two weeks before the day they sat (a sitting of the kit started three hours ago: before 03:00 UTC, yesterday)
    ended = min(d.standing.first_sat_on.dropna()) - dt.timedelta(days=14)
    with gcourse.db.transaction() as s:
        s.execute(update(Candidate).values(training_ended_on=ended))
    text = " ".join({s.title: s for s in sections(gather(gcourse, kit.EXAM))}[
        "Eligibility and time to certification"].text)
    if passed:
        assert f"median 14 days (from 14 to 14; {passed} candidate(s))" in text
    else:
        assert "No candidate with a training end date has passed yet." in text


def test_a_no_show_is_absent_in_the_report_and_results_not_pending(gcourse, tmp_path):
    """A candidate whose sitting's window closed unstarted: absent in the report's counts and standing, and
    named as no result by `exam-builder results`, never "a result still pending"."""
    import datetime as dt

    grade_all(gcourse)
    kit.enrol(gcourse, "c099")
    yesterday = ops.room_today(gcourse) - dt.timedelta(days=1)
    opened = ops.open_sittings(gcourse, kit.EXAM, "R1", "coordinator-lee", ["c099"], today=yesterday,
                               write_cards=False)
    [sid] = [o.sitting_id for o in opened.opened]
    d = gather(gcourse, kit.EXAM)
    row = d.results[d.results.sitting == sid].iloc[0]
    assert (row.status, row.result) == ("absent", "absent")
    secs = {s.title: s for s in sections(d)}
    cohort = " ".join(secs["Cohort"].text)
    assert "7 candidate(s), 7 sitting(s)" in cohort and "1 absent" in cohort and "pending" not in cohort
    c099 = d.standing[d.standing.candidate == "c099"].iloc[0]
    assert c099.eligible and c099.barriers == ()  # not held back by "a result still pending"
    reasons = dict(secs["Eligibility and time to certification"].tables)[
        "Why candidates may not sit now (a candidate may have more than one reason)"]
    assert reasons[reasons.reason == "a result still pending"].candidates.tolist() == [6]  # the six scored, unrecorded
    out = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--course", str(gcourse.root), "results", kit.EXAM],
                                                   catch_exceptions=False).output
    assert f"1 absent sitting(s), no-shows with no result: c099 (sitting {sid})" in out
    assert "c099" not in out.split("absent sitting(s)")[0]  # not a row of the results table
    # they come back: booked again, then sat again; the coordinator chasing no-shows sees who came back
    [again] = [o.sitting_id for o in ops.open_sittings(gcourse, kit.EXAM, "R1", "coordinator-lee", ["c099"],
                                                        write_cards=False).opened]
    run = lambda: CliRunner(env={"COLUMNS": "200"}).invoke(  # noqa: E731
        cli, ["--course", str(gcourse.root), "results", kit.EXAM, "--no-record"], catch_exceptions=False).output
    assert f"c099 (sitting {sid}; booked again: sitting {again}, scheduled)" in run()
    ops.void(gcourse, again, "coordinator-lee", "wrong room")
    from exam_builder.records.models import Form, Sitting

    with gcourse.db.read() as s:
        assignment = s.get(Form, s.get(Sitting, again).form_id).assignment
    sat = kit.add_sitting(gcourse, "c099", assignment, {}, {}, attempt=3)  # what delivery leaves of a sitting
    assert f"c099 (sitting {sid}; sat again: sitting {sat})" in run()


def test_small_samples_read_apart_from_provisional_results_and_counts_say_what_they_count(gcourse, tmp_path):
    """`exam-builder report` keeps "provisional" for results whose key validation is not closed; a small
    sample's caution is worded apart ("small sample", "read the figure with its interval"); the per-form pass
    rates carry a Wilson interval and that caution; the raters' tables count responses (not candidates); the
    tutoring line says it counts records, and for how many candidates."""
    import html as html_lib

    import pandas as pd

    from exam_builder.analysis import psychometrics as pm
    from exam_builder.grading.results import compute_results, record_outcomes

    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)  # written answers rated 0: failed sittings to tutor
    for item, _r in open_items(gcourse, kit.EXAM):
        RatingQueue(gcourse, kit.EXAM, item).settle_blanks("staff")
        rate_everything(gcourse, item, levels=lambda r: {c.id: 0 for c in r.criteria})
    record_outcomes(gcourse, compute_results(gcourse, kit.EXAM), "staff")
    with (gcourse.root / "nbgrader_config.py").open("a") as fh:  # the grading course's 3 a form are published
        fh.write("\nc.ReportSettings.min_n_publish = 3\n")
    run = CliRunner()
    out_dir = tmp_path / "out"
    result = run.invoke(cli, ["--course", str(gcourse.root), "report", kit.EXAM, "--out", str(out_dir)],
                        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page = (out_dir / "report.html").read_text()
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", "", page))).split())
    # "provisional" only of results: every use is the cohort's sentence on key validation
    uses = [m.start() for m in re.finditer("provisional", text)]
    assert uses, "the grading course's key validation is open: its results are provisional"
    for at in uses:  # the cohort's sentence, or the cut section's ("Key validation is not closed: ... provisional")
        assert "key validation is not closed" in text[max(0, at - 60):at + 80].lower(), text[at - 100:at + 100]
    assert "read the figure with its interval" in text and "small sample (n = 3)" in text
    # where the cut came from, read from the course's records: no study, each form's cut frozen at its build
    assert "No standard-setting study is recorded for this exam" in text
    assert re.search(r"Each form's cut and where it came from .*frozen when the form was built on \d{4}-\d\d-\d\d",
                     text)
    # the per-form pass rates: a Wilson interval and the caution
    machine = json.loads((out_dir / "report.json").read_text())
    tables = {t["name"]: t for sec in machine["sections"] for t in sec["tables"]}
    rates = pd.read_csv(out_dir / tables["Pass rate per cohort and form (decided sittings)"]["csv"])
    for row in rates.itertuples():
        lo, hi = pm.wilson(int(row.passed), int(row.candidates))
        assert (row.pass_ci_low, row.pass_ci_high) == (round(lo, 2), round(hi, 2))
        assert row.note.startswith(f"small sample (n = {row.candidates})")
    assert "pass rate 95% low" in text
    # the raters' counts are responses, headed so
    lenient = page.split('<h3 id="raters-leniency--each-rater')[1].split("</table>")[0]
    assert "responses rated (with a decided score)" in lenient and ">candidates<" not in lenient
    agree = page.split('<h3 id="raters-agreement-per-item-and-rater-pair"')[1].split("</table>")[0]
    assert "double-rated responses" in agree and ">candidates<" not in agree
    from sqlalchemy import select

    from exam_builder.records.models import Tutoring

    with gcourse.db.read() as s:  # the failed sittings were offered tutoring as their outcomes were recorded
        tutored = s.execute(select(Tutoring.candidate_id)).scalars().all()
    assert tutored
    assert f"Tutoring: {len(tutored)} record(s), for {len(set(tutored))} candidate(s)." in text
