"""A standard-setting study through `exam-builder standard ...`, as a coordinator runs it, on a course with two
released forms that candidates sat: the panel seated, two rounds of ratings from CSV files (a bad sheet refused
with every row located and nothing written), the spread, the board's decision, new forms built with their own raw
cut (checked against an independent sum of the mean ratings), a frozen form re-cut only with --apply, and the
study report (HTML without network references, CSV beside it)."""
from __future__ import annotations

import csv
import io
import random
import re

import pytest
from click.testing import CliRunner
from rich.console import Console

from exam_builder.assembly.build import build
from exam_builder.assembly.forms import load_forms
from exam_builder.cli import cli
from exam_builder.grading.results import compute_results
from exam_builder.kinds import kind_for
from exam_builder.records.models import AuditEntry, FormCut, StudyRating

PANEL = [("Ada Peer", "certified peer specialist"), ("Ben Lee", "certified peer specialist"),
         ("Cy Moss", "peer supervisor")]


def run(course, *args: str, ok: bool = True):
    res = CliRunner(env={"COLUMNS": "250", "EXAM_BUILDER_USER": "Carla Coordinator"}).invoke(
        cli, ["--course", str(course.root), *args], catch_exceptions=False)
    if ok:
        assert res.exit_code == 0, res.output
    return res


def sheet(path, rows):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["Panelist", "Item ID", "Rating", "Note"])
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return str(path)


def ratings(items, seed, shift=0):
    """Each panelist's ratings: one-point items in 5% steps around an item-specific level, open responses in
    expected points; -> {(panelist, item): value}."""
    rng = random.Random(seed)
    out = {}
    for n, (item_id, points, rated) in enumerate(items):
        level = 40 + 5 * ((n * 7) % 10)
        for k, (name, _role) in enumerate(PANEL):
            pct = min(100, max(0, level + 5 * rng.randint(-2, 2) + 5 * k + shift))
            out[(name, item_id)] = round(pct / 100 * points * 4) / 4 if rated else pct
    return out


def test_a_study_from_creation_to_recut(gcourse, tmp_path):
    course = gcourse
    with course.db.read() as s:
        forms = {f.label: m for f, m in load_forms(s, "cps")}
    items = {e.item_id: (e.item_id, e.points, kind_for(e.kind).rated) for m in forms.values() for e in m.items}

    out = run(course, "standard", "create", "cps", "--forms", "A,B", "--mcc",
              "Has finished training; applies the core values with some prompting.").output
    assert re.search(rf"study 1 created: Modified Angoff over {len(items)} item\(s\) of cps", out)
    for name, role in PANEL:
        run(course, "standard", "panelist", "1", "--name", name, "--role", role, "--conflict",
            "none" if name != "Cy Moss" else "supervises two candidates; abstains on nothing, noted")
    res = run(course, "standard", "ratings", "1", sheet(tmp_path / "r0.csv", [("Ada Peer", "x", 50, "")]), ok=False)
    assert res.exit_code != 0 and "no open round" in res.output
    run(course, "standard", "round-open", "1")

    # a bad sheet: every problem located by row and column, nothing written
    first = next(iter(items))
    bad = sheet(tmp_path / "bad.csv", [("Ada Peer", first, 62, ""), ("Nobody", first, 50, ""),
                                       ("Ben Lee", "it-nope", 50, ""), ("Cy Moss", first, 50, ""),
                                       ("Cy Moss", first, 55, ""), ("Ada Peer", list(items)[1], "75%", "")])
    res = run(course, "standard", "ratings", "1", bad, ok=False)
    text = " ".join(res.output.split())
    assert res.exit_code != 0
    assert "bad.csv:row 1:column Rating:" in text and "steps of 5" in text
    assert "row 2:column Panelist:" in text and "'Nobody' is not on the panel" in text
    assert "row 3:column Item ID:" in text and "not in the scope of study 1" in text
    assert "row 5:column Item ID:" in text and "twice (rows 4 and 5)" in text
    assert "row 6:column Rating:" in text and "a percent written without its % sign" in text and "'75%'" in text
    with course.db.read() as s:
        assert s.query(StudyRating).count() == 0

    r1 = ratings(items.values(), seed=1)
    half = [(p, i, v, "") for (p, i), v in r1.items()][: len(r1) // 2]
    run(course, "standard", "ratings", "1", sheet(tmp_path / "r1a.csv", half))
    res = run(course, "standard", "round-close", "1", ok=False)
    assert res.exit_code != 0 and "cannot close" in res.output and "rating(s) missing" in res.output
    # names typed in another case and spacing are the panel's seats, as on the panelist's screen
    rest = [(f" {p.upper()} ", i, v, "") for (p, i), v in r1.items()][len(r1) // 2:]
    run(course, "standard", "ratings", "1", sheet(tmp_path / "r1b.csv", rest))
    run(course, "standard", "round-close", "1")

    run(course, "standard", "round-open", "1")  # round 2
    # round 2: Cy Moss lowers every rating of the first five items by one step; the rest carried
    changed = list(items)[:5]
    r2 = dict(r1)
    for i in changed:
        v = r1[("Cy Moss", i)]
        r2[("Cy Moss", i)] = max(0, v - (0.25 if items[i][2] else 5))
    run(course, "standard", "ratings", "1", sheet(tmp_path / "r2.csv",
                                                  [("Cy Moss", i, r2[("Cy Moss", i)], "after discussion")
                                                   for i in changed]))
    run(course, "standard", "round-close", "1")
    show = " ".join(run(course, "standard", "show", "1").output.split())
    assert "round 2: recommended" in show
    assert "ratings changed from round 1: 5 (Ada Peer 0, Ben Lee 0, Cy Moss 5)" in show

    def expected(name_item_values, m):  # an independent sum of mean expected points over a form's items
        total = 0.0
        for e in m.items:
            vals = [name_item_values[(p, e.item_id)] for p, _ in PANEL]
            pts = [v if kind_for(e.kind).rated else v / 100 * e.points for v in vals]
            total += sum(pts) / len(pts)
        return total

    rec = {label: expected(r2, m) for label, m in forms.items()}
    for label, m in forms.items():
        assert f"form {m.assignment}: recommended raw cut {rec[label]:.2f} of {m.total_points:g}" in show
    scope_points = sum(p for _i, p, _r in items.values())
    scope_share = sum(sum((v if items[i][2] else v / 100 * items[i][1]) for (p, i2), v in r2.items() if i2 == i)
                      / len(PANEL) for i in items) / scope_points

    res = run(course, "standard", "decide", "1", "--adopt", "55%", "--board", "Oversight board", ok=False)
    assert res.exit_code != 0 and "give the reason" in res.output
    run(course, "standard", "decide", "1", "--adopt", "55%", "--board", "Oversight board", "--decided-on",
        "2026-12-01", "--reason", "the board weighs the cost of a false pass lower in a new program", "--apply")

    # new forms take their own cut from the ratings; the issued forms A and B keep theirs (no refusal)
    build(course, "cps", first_label="C", forms=2, actor="test-author", console=Console(file=io.StringIO()))
    with course.db.read() as s:
        now = {f.label: m for f, m in load_forms(s, "cps")}
    assert now["A"].cut_score == forms["A"].cut_score and now["B"].cut_score == forms["B"].cut_score
    for label in ("C", "D"):
        m = now[label]
        want = round(expected(r2, m) + (0.55 - scope_share) * m.total_points, 2)
        assert m.cut_score == pytest.approx(want, abs=1e-9), label
    assert now["C"].cut_score != now["D"].cut_score

    # the frozen form A: the dry run lists and changes nothing; --apply records and results read it
    new_a = round(rec["A"] + (0.55 - scope_share) * forms["A"].total_points, 2)
    dry = " ".join(run(course, "standard", "recut", "cps", "--form", "A").output.split())
    assert f"cut {forms['A'].cut_score:.2f} now, {new_a:.2f} under the standard of study 1" in dry
    assert "result(s) would change" in dry and "nothing was changed" in dry
    with course.db.read() as s:
        assert s.query(FormCut).count() == 0
    run(course, "standard", "recut", "cps", "--form", "A", "--apply", "--reason", "the board's standard of 1 Dec")
    assert {r.cut_score for r in compute_results(course, "cps") if r.assignment == "cps-A"} == {new_a}
    assert {r.cut_score for r in compute_results(course, "cps") if r.assignment == "cps-B"} == {forms["B"].cut_score}
    with course.db.read() as s:
        actions = [str(a.action) for a in s.query(AuditEntry).order_by(AuditEntry.id)]
    for action in ("study.created", "study.panelist", "study.round", "study.ratings", "standard.adopted", "form.recut"):
        assert action in actions

    out = run(course, "standard", "report", "1").output
    html_path = course.report_dir("cps") / "standard-setting-1.html"
    csv_path = course.report_dir("cps") / "standard-setting-1.csv"
    assert str(html_path) in " ".join(out.split()).replace(" ", "") or html_path.exists()
    page = html_path.read_text(encoding="utf-8")
    assert "Modified Angoff" in page and "data:image/png;base64," in page and "Oversight board adopted" in page
    assert not re.search(r"(src|href)=\"https?:", page) and "Ada Peer" not in page  # roles, not names, by default
    assert "certified peer specialist" in page and "supervises two candidates" not in page
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    got = {(r["round"], r["form"]): float(r["value"]) for r in rows if r["statistic"] == "recommended_cut"}
    assert got[("2", "cps-A")] == pytest.approx(rec["A"], abs=1e-6)


def test_a_recut_lists_the_results_it_changes_before_it_applies(gcourse, tmp_path):
    """Every sitting graded (objective scores, blanks settled, open responses rated at their lowest level by two
    graders), so results are final; a standard far below the frozen 60% cut turns fails into passes: the dry run
    lists exactly those candidates and changes nothing; --apply records the cut, audits the list, and results
    read it. The impact data (each panelist's pass rate) are checked by hand on the same results."""
    from exam_builder.grading.objective import grade_exam
    from exam_builder.grading.queue import RatingQueue, open_items

    course = gcourse
    grade_exam(course, "cps", actor="staff", workers=1)
    for item, _rubric in open_items(course, "cps"):
        q = RatingQueue(course, "cps", item)
        q.settle_blanks("staff")  # a blank written answer scores 0 without rating
        progress = True
        while progress:
            progress = False
            for g in ("Ann", "Ben"):
                c = q.claim(g)
                if c is not None:
                    q.save(g, c.rating_id, {cr.id: min(lv.points for lv in cr.levels) for cr in q.rubric.criteria})
                    progress = True
    before = {r.sitting_id: r for r in compute_results(course, "cps")}
    assert before
    with course.db.read() as s:
        forms = {f.label: m for f, m in load_forms(s, "cps")}
    a = forms["A"]
    on_a = [r for r in before.values() if r.assignment == a.assignment and r.final]  # a pending result changes not
    failing = sorted(r.candidate_id for r in on_a if r.total.score < a.cut_score)
    assert failing, [(r.status, r.next_step, r.total.score) for r in before.values()]

    run(course, "standard", "create", "cps", "--forms", "A", "--mcc", "Finished the training.")
    run(course, "standard", "panelist", "1", "--name", "Ada Peer", "--role", "peer specialist", "--conflict", "none")
    run(course, "standard", "panelist", "1", "--name", "Ben Lee", "--role", "peer specialist", "--conflict", "none")
    run(course, "standard", "round-open", "1")
    rows = [(p, e.item_id, 0.5 if kind_for(e.kind).rated else 5, "")
            for p in ("Ada Peer", "Ben Lee") for e in a.items]
    run(course, "standard", "ratings", "1", sheet(tmp_path / "low.csv", rows))
    run(course, "standard", "round-close", "1")
    run(course, "standard", "decide", "1", "--board", "Oversight board", "--decided-on", "2026-12-01", "--apply")
    # 5% of each one-point item and 0.5 of each open response: the form's cut by hand
    want = round(sum(0.5 if kind_for(e.kind).rated else 0.05 * e.points for e in a.items), 2)

    # impact: the pass rate each panelist's cut would have produced, on form A's final results, by hand
    rate = sum(1 for r in on_a if r.total.score + 1e-9 >= want) / len(on_a)
    show = " ".join(run(course, "standard", "show", "1").output.split())
    assert f"the pass rate each panelist's cut would have produced: Ada Peer {rate:.0%}, Ben Lee {rate:.0%}" in show
    assert f"pass rate of {len(on_a)} past candidates at" in show
    assert f"adopted cut {want:.2f} (pass rate {rate:.0%})" in show  # the pass rate at the adopted cut, too
    run(course, "standard", "report", "1")
    numbers = (course.report_dir("cps") / "standard-setting-1.csv").read_text(encoding="utf-8")
    assert f"impact,1,{a.assignment},adopted,pass_rate_at_{want:.2f},{round(rate, 6)}" in numbers.splitlines()
    page = " ".join(re.sub(r"<[^>]+>", " ", (course.report_dir("cps") / "standard-setting-1.html")
                           .read_text(encoding="utf-8")).split())
    assert f"adopted cut {want:.2f} {rate:.0%}" in page

    dry = run(course, "standard", "recut", "cps", "--form", "A").output
    listed = sorted(re.findall(r"^\s+(\S+) \(sitting \d+, [\d.]+ points\): fail -> pass$", dry, re.M))
    assert listed == failing, dry
    assert f"{len(failing)} result(s) would change" in dry and f"{want:.2f} under the standard" in dry
    assert {r.sitting_id: r.status for r in compute_results(course, "cps")} == {k: r.status for k, r in before.items()}

    run(course, "standard", "recut", "cps", "--form", "A", "--apply", "--reason", "the board's standard")
    after = {r.sitting_id: r for r in compute_results(course, "cps")}
    assert all(str(after[r.sitting_id].status) == "pass" and after[r.sitting_id].cut_score == want for r in on_a)
    assert all(after[k].status == r.status for k, r in before.items() if r.assignment != a.assignment)
    with course.db.read() as s:
        entry = s.query(AuditEntry).filter(AuditEntry.action == "form.recut").one()
        assert entry.details["cut"] == want and entry.details["previous"] == a.cut_score
        assert sorted(x.split(" ")[0] for x in entry.details["results_changed"]) == failing


def _grade_all(course) -> None:
    """Every sitting graded: objective scores, blanks settled, open responses rated at their lowest level."""
    from exam_builder.grading.objective import grade_exam
    from exam_builder.grading.queue import RatingQueue, open_items

    grade_exam(course, "cps", actor="staff", workers=1)
    for item, _rubric in open_items(course, "cps"):
        q = RatingQueue(course, "cps", item)
        q.settle_blanks("staff")
        progress = True
        while progress:
            progress = False
            for g in ("Ann", "Ben"):
                c = q.claim(g)
                if c is not None:
                    q.save(g, c.rating_id, {cr.id: min(lv.points for lv in cr.levels) for cr in q.rubric.criteria})
                    progress = True


def test_a_recut_that_reverses_a_final_result_says_so_and_rewrites_the_score_reports(gcourse, tmp_path):
    """Outcomes recorded, score reports written, key validation closed: every result is final. A re-cut that turns
    form A's fails into passes marks each such line FINAL before --apply, is refused with --apply alone (nothing
    recorded), and with --change-final records the cut, audits the final results it changed with the reason,
    records the new outcomes through the ledger and writes form A's score reports again (the new pass mark in
    them), with no `results` or `feedback` run after it."""
    from exam_builder.grading.score_report import points_to_reach

    course = gcourse
    _grade_all(course)
    run(course, "results", "cps")
    run(course, "feedback", "cps")
    run(course, "keys", "close", "cps")
    with course.db.read() as s:
        a = {f.label: m for f, m in load_forms(s, "cps")}["A"]
    on_a = [r for r in compute_results(course, "cps") if r.assignment == a.assignment and r.final]
    failing = sorted(r.candidate_id for r in on_a if r.total.score < a.cut_score)
    assert failing and all(not r.provisional and r.recorded == "fail" for r in on_a
                           if r.candidate_id in failing)
    run(course, "standard", "create", "cps", "--forms", "A", "--mcc", "Finished the training.")
    for p in ("Ada Peer", "Ben Lee"):
        run(course, "standard", "panelist", "1", "--name", p, "--role", "peer specialist", "--conflict", "none")
    run(course, "standard", "round-open", "1")
    rows = [(p, e.item_id, 0.5 if kind_for(e.kind).rated else 5, "") for p in ("Ada Peer", "Ben Lee") for e in a.items]
    run(course, "standard", "ratings", "1", sheet(tmp_path / "low.csv", rows))
    run(course, "standard", "round-close", "1")
    run(course, "standard", "decide", "1", "--board", "Oversight board", "--decided-on", "2026-12-01", "--apply")
    want = round(sum(0.5 if kind_for(e.kind).rated else 0.05 * e.points for e in a.items), 2)

    # the first failing candidate's appeal was decided (denied): their line says so too
    import datetime as dt

    from exam_builder.records.models import Appeal

    first = next(r for r in on_a if r.candidate_id == failing[0])
    with course.db.transaction() as s:
        appeal = Appeal(sitting_id=first.sitting_id, category="procedure", words="the room was loud",
                        received_on=dt.date(2026, 12, 2), recorded_by="Carla Coordinator", decision="denied",
                        decision_reason="the room log shows no noise", decided_by="Carla Coordinator",
                        decided_at=dt.datetime(2026, 12, 3))
        s.add(appeal)
        s.flush()
        appeal_id = appeal.id
    dry = run(course, "standard", "recut", "cps", "--form", "A").output
    marked = sorted(re.findall(r"^\s+(\S+) \(sitting \d+, [\d.]+ points\): fail -> pass: FINAL \((?:decided on "
                               r"appeal \d+ and )?key validation closed\)$", dry, re.M))
    assert marked == failing, dry
    assert f"{failing[0]} (sitting {first.sitting_id}, {first.total.score:g} points): fail -> pass: FINAL (decided " \
           f"on appeal {appeal_id} and key validation closed)" in dry
    assert f"{len(failing)} of them final" in dry and "--change-final" in dry

    refused = run(course, "standard", "recut", "cps", "--form", "A", "--apply", "--reason", "the board's standard",
                  ok=False)
    assert refused.exit_code != 0 and "--change-final" in refused.output and "nothing was changed" in refused.output
    with course.db.read() as s:
        assert s.query(FormCut).count() == 0

    report = course.feedback_path(failing[0], a.assignment) / f"{a.assignment}.html"
    before = report.read_text(encoding="utf-8")
    run(course, "standard", "recut", "cps", "--form", "A", "--apply", "--change-final", "--reason",
        "the board's standard")
    with course.db.read() as s:
        entry = s.query(AuditEntry).filter(AuditEntry.action == "form.recut").one()
        assert entry.reason == "the board's standard"
        assert sorted(x.split(" ")[0] for x in entry.details["final_results_changed"]) == failing
    after = {r.candidate_id: r for r in compute_results(course, "cps")}
    for cand in failing:
        r = after[cand]
        assert str(r.status) == "pass" and r.recorded == "pass" and r.cut_score == want
    page = report.read_text(encoding="utf-8")
    assert "Not passed this time" in before and "Not passed this time" not in page and "Passed" in page
    assert f"{points_to_reach(want, after[failing[0]].score_step):g}" in page


def test_round_two_on_the_panelists_screen_shows_the_panel_never_a_name(gcourse, tmp_path):
    """The panelist's screen (its session, the code path the widgets call): in round 1 nothing of the others; in
    round 2 each item shows the panel's round-1 mean and range (checked by hand), no name, and the panelist's own
    carried rating; a name not on the panel cannot sign in."""
    from exam_builder.desks.panel_app import PanelSession
    from exam_builder.errors import ExamBuilderError

    course = gcourse
    run(course, "standard", "create", "cps", "--forms", "A", "--mcc", "Finished the training.")
    for name in ("Ada Peer", "Ben Lee"):
        run(course, "standard", "panelist", "1", "--name", name, "--role", "peer specialist", "--conflict", "none")
    run(course, "standard", "round-open", "1")
    session = PanelSession(course, 1)
    with pytest.raises(ExamBuilderError, match="not on the panel"):
        session.sign_in("Mallory")
    session.sign_in("Ada Peer")
    first = session.items[0]
    assert not first.rated
    assert session.card(0).panel_before == "" and session.card(0).value is None
    rows = [(p, it.item_id, (v if not it.rated else it.points / 2), "") for p, v in (("Ada Peer", 60), ("Ben Lee", 85))
            for it in session.items]
    run(course, "standard", "ratings", "1", sheet(tmp_path / "r1.csv", rows))
    assert session.round_state() == (1, len(session.items), len(session.items))
    assert session.card(0).panel_before == ""  # still round 1: never the others' ratings
    run(course, "standard", "round-close", "1")
    run(course, "standard", "round-open", "1")
    card = session.card(0)
    # round 1 of the first item: 60% and 85%: mean 72.5% (shown 72% by Python's rounding of 0.725), range 60-85
    assert card.panel_before == f"The panel in round 1: mean {0.725:.0%}, from 60% to 85% (2 panelists)."
    assert "Ben" not in card.panel_before and card.value == 60
    assert "Key:" not in card.key and card.key and card.rationale
    assert session.rate(0, "65", "after discussion") == f"Saved: {first.item_id} rated 65%."
    assert session.card(0).value == 65 and session.card(0).note == "after discussion"


def test_an_items_spread_is_written_with_the_decimals_that_show_it_against_the_flag(gcourse, tmp_path):
    """With the flag at 13%, an SD of 12.58% is not flagged and an SD of 13.23% is: `standard show` and the study
    report write them 12.6% and 13.2% (never "13%" for both), so the flag and the number agree."""
    course = gcourse
    with course.db.read() as s:
        forms = {f.label: m for f, m in load_forms(s, "cps")}
    items = {e.item_id: (e.points, kind_for(e.kind).rated) for m in forms.values() for e in m.items}
    choice = [i for i, (_p, rated) in items.items() if not rated]
    calm, spread = choice[0], choice[1]
    run(course, "standard", "create", "cps", "--forms", "A,B", "--mcc", "Finished training.", "--sd-flag", "0.13")
    for name, role in PANEL:
        run(course, "standard", "panelist", "1", "--name", name, "--role", role, "--conflict", "none")
    run(course, "standard", "round-open", "1")
    levels = {calm: (50, 60, 75), spread: (50, 55, 75)}  # SD 12.583% and 13.229% of the points
    rows = []
    for i, (points, rated) in items.items():
        for k, (name, _role) in enumerate(PANEL):
            rows.append((name, i, points / 2 if rated else levels.get(i, (50, 50, 50))[k], ""))
    run(course, "standard", "ratings", "1", sheet(tmp_path / "r1.csv", rows))
    run(course, "standard", "round-close", "1")
    show = " ".join(run(course, "standard", "show", "1").output.split())
    assert "1 item(s) flagged for discussion (SD above 13%)" in show
    assert re.search(rf"{spread} │ \d+% │ 13\.2% │", show), show
    run(course, "standard", "report", "1")
    page = next(course.report_dir("cps").glob("standard-setting-1.html")).read_text()
    cells = {i: re.search(rf"<tr><td>{i}</td><td>\d+%</td><td>([^<]+)</td>.*?<td>(?:<span class=\"flag\">)?(flagged|-)",
                          page, re.S) for i in (calm, spread)}
    assert cells[calm].groups() == ("12.6%", "-") and cells[spread].groups() == ("13.2%", "flagged")
    assert "SD above 13% of their points" in " ".join(page.split())
