"""`make demo`, the README's first command, whole: every stage of `exam-builder demo`, through the
console script, as `make demo` runs it (from the checkout, on a fresh folder), and a demo with a
stage missing refuses to run instead of printing "demo complete".

The stage tests in tests/bank and tests/records stay: they check one stage's output on a small
course and its failure, which a whole run on the sample course cannot.
"""
from __future__ import annotations

import io
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

import exam_builder.demo as demo
from exam_builder.cli import cli
from exam_builder.errors import ExamBuilderError

REPO = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).parent / "exam-builder"
STAGE_LINE = re.compile(r"^(\w+): \d+\.\d s$", re.M)  # what the demo prints after each stage


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One whole `exam-builder demo`, shared by the tests that read what it did and left behind.

    Run with umask 000, the most permissive a person could have: whatever is private is private
    because the program made it so, not because of the umask."""
    if not EXE.exists():
        pytest.skip("the exam-builder console script is not installed next to this Python")
    target = tmp_path_factory.mktemp("demo") / "demo-course"
    env = {k: v for k, v in os.environ.items() if k not in ("EXAM_BUILDER_COURSE", "EXAM_BUILDER_DB_URL")}
    proc = subprocess.run([str(EXE), "demo", "--dir", str(target)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=840,  # under `make test`'s --timeout 900
                          preexec_fn=lambda: os.umask(0))
    return target, proc


def test_the_whole_demo_runs_every_stage(demo_run):
    """Bank to report, the rehearsal's real exam server included; exit 0 only when every stage ran."""
    target, proc = demo_run
    out = proc.stdout
    assert proc.returncode == 0, (out + proc.stderr)[-6000:]
    assert "Traceback" not in out + proc.stderr
    ran = [name for name in STAGE_LINE.findall(out) if name in demo.STAGE_NAMES]
    assert ran == list(demo.STAGE_NAMES) and len(ran) == len(demo.STAGES) >= 13, out[-6000:]
    assert f"demo complete: {len(demo.STAGES)} of {len(demo.STAGES)} stages in " in out
    for title in (title for _name, title in demo.STAGES):
        assert title in out, title
    # what the stages leave behind: released forms, score reports, the program's report
    assert sorted(p.name for p in (target / "release").iterdir()) == ["cps-A", "cps-B", "cps-C"]
    assert any((target / "feedback").iterdir())
    assert (target / "reports" / "out" / "cps" / "report.html").stat().st_size > 0
    assert "audit trail intact" in out and "answers lost" in out
    flat = " ".join(out.split())
    # a no-show: absent at the window's close, not an attempt (CPS), and eligible with no attempt used
    assert re.search(r"cps26-\d+ never arrived: when the sign-in closed \(.+?\) sitting \d+ became absent "
                     r"\(decided by exam-builder, audited\); under the CPS policy it is not an attempt", flat), flat
    assert re.search(r"cps26-\d+'s eligibility now: eligible, 0 attempt\(s\) used, 3 left", flat)
    assert re.search(r"the proctor's room view would show: .*, 1 absent", flat)
    # adjudications finished by the configured person (the demo course's coordinator) at the grader's desk
    assert "who adjudicates: adjudications are done by the coordinator (Carla Coordinator)" in flat
    assert re.search(r"Grader Ana's desk says: .*responses? waits? for adjudication by the coordinator "
                     r"\(Carla Coordinator\)", flat)
    done = re.search(r"Carla Coordinator \(the coordinator\) finished (\d+) of (\d+) waiting adjudication\(s\) at "
                     r"the grader's desk; nothing waits now", flat)
    assert done and done.group(1) == done.group(2) != "0", flat
    # the delivery stage's fire alarm: the room paused and resumed, the time kept to the second
    assert re.search(r"room paused \(fire alarm\) for 12 minutes: \d+ sitting\(s\) paused, \d+ resumed; an answer "
                     r"given while paused was refused; \S+ resumed with \d:\d\d:\d\d left, as at the pause",
                     " ".join(out.split())), out[-6000:]


def _public(rel_path: Path, exams: set[str]) -> bool:
    """What is not private by design: the authored files (the bank's notebooks in source/<exam>/, the
    rubrics, nbgrader_config.py: the author's, in git, with the author's modes), the released forms
    (what candidates receive: no key), and the course folder and source/ that hold them."""
    parts = rel_path.parts
    if not parts or parts == ("source",) or parts == ("nbgrader_config.py",):
        return True
    if parts[0] in ("rubrics", "release"):
        return True
    return parts[0] == "source" and parts[1] in exams


def test_the_demo_leaves_every_private_file_0600_in_a_0700_folder(demo_run):
    """Candidate data, keys and codes (submitted/, autograded/, feedback/, exports/ with exports/qti/ and
    the seat cards, reports/, rosters/, assembled forms in source/<form>/, .exam-builder/, the database):
    every folder 0700 and every file 0600 after a whole demo run under umask 000. Anything not on the
    short list of what is public by design (``_public``) is held to it, so a new producer is caught too."""
    target, proc = demo_run
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    exams = {p.parent.name for p in (target / "source").glob("*/blueprint.yaml")}
    assert exams == {"cps"}
    checked, offenders = 0, []
    for top, dirs, files in os.walk(target):
        for name in [*dirs, *files]:
            path = Path(top) / name
            rel_path = path.relative_to(target)
            if _public(rel_path, exams):
                continue
            st = path.lstat()
            want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
            checked += 1
            if stat.S_IMODE(st.st_mode) != want or stat.S_ISLNK(st.st_mode):
                offenders.append(f"{rel_path} {stat.S_IMODE(st.st_mode):04o} (want {want:04o})")
    assert not offenders, "not private:\n" + "\n".join(sorted(offenders))
    for folder in ("submitted", "autograded", "feedback", "exports", "exports/qti", "exports/cps", "reports",
                   "rosters", ".exam-builder", "source/cps-A"):  # each was walked, not skipped
        assert stat.S_IMODE((target / folder).stat().st_mode) == 0o700, folder
    assert any((target / "exports").glob("seat-cards-*.html")) and any((target / "autograded").iterdir())
    assert checked > 300, checked


def _invoke(*args: str):
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("change, message", [
    (lambda s: s + [("debrief", "A stage nobody wrote")],
     "stage 'debrief' is in the demo's stage list but exam_builder/demo/stages/debrief.py does not exist"),
    (lambda s: [st for st in s if st[0] != "report"],
     "exam_builder/demo/stages/report.py is not in the demo's stage list (STAGES in exam_builder/demo/__init__.py)"),
    (lambda s: s + [s[0]], "stage 'bank' is listed 2 times"),
], ids=["a listed stage without its module", "a module not listed", "a stage listed twice"])
def test_a_demo_with_a_stage_missing_exits_1_and_runs_nothing(tmp_path, monkeypatch, change, message):
    monkeypatch.setattr(demo, "STAGES", change(list(demo.STAGES)))
    result = _invoke("--course", str(REPO), "demo", "--dir", str(tmp_path / "demo-course"))
    assert result.exit_code == 1, result.output
    assert message in " ".join(result.output.split()), result.output
    assert "demo complete" not in result.output and "Nothing was run." in result.output
    assert not (tmp_path / "demo-course").exists()


def test_stage_help_lists_every_stage_and_refuses_others(tmp_path):
    help_text = " ".join(_invoke("demo", "--help").output.split())
    assert "order: " + ", ".join(demo.STAGE_NAMES) + ")" in help_text
    assert "[" + "|".join(demo.STAGE_NAMES) + "]" in help_text
    result = _invoke("--course", str(REPO), "demo", "--dir", str(tmp_path / "d"), "--stage", "debrief")
    assert result.exit_code == 2 and "'debrief' is not one of 'bank', 'records'" in result.output
    assert not (tmp_path / "d").exists()
    with pytest.raises(ExamBuilderError) as err:  # called as a function, not through the CLI's choice
        demo.run(tmp_path / "d", REPO, Console(file=io.StringIO()), ["bank", "debrief"])
    assert str(err.value) == "no demo stage 'debrief'; the stages are " + ", ".join(demo.STAGE_NAMES)
    assert not (tmp_path / "d").exists()


def test_demo_dir_is_the_course_itself_as_the_readme_says(tmp_path):
    """`exam-builder demo --dir DIR` makes DIR the demo course (no demo-course/ inside it)."""
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert "`exam-builder demo --dir DIR` puts the demo course directly in DIR" in readme
    mine = tmp_path / "mine"
    result = _invoke("--course", str(REPO), "demo", "--dir", str(mine), "--stage", "bank")
    assert result.exit_code == 0, result.output
    assert (mine / "source").is_dir() and (mine / "nbgrader_config.py").is_file()
    assert not (mine / "demo-course").exists()
    assert 'c.GradingSettings.adjudicator = "coordinator"' in (mine / "nbgrader_config.py").read_text()


def _report_tables(target: Path) -> dict[str, dict]:
    import json

    machine = json.loads((target / "reports" / "out" / "cps" / "report.json").read_text())
    return {sec["title"]: {t["name"]: t["rows"] for t in sec["tables"]} | {"_text": " ".join(sec["text"])}
            for sec in machine["sections"]}


def test_the_demo_report_shows_precision_for_every_form_with_intervals(demo_run):
    """Issue 25 §2 on the demo's 18-19 candidates a form: reliability with its interval, the CSEM at the cut,
    decision consistency by both methods per form and pooled, a warning instead of a withheld figure; the forms
    compared as random groups, never "reads easier" from a handful of shared items."""
    target, proc = demo_run
    assert proc.returncode == 0, proc.stdout[-3000:]
    tables = _report_tables(target)
    rel = tables["Reliability and decision consistency"]
    forms = [r for r in rel["Per form"] if r["form"] in ("A", "B", "C")]
    assert len(forms) == 3
    for row in forms:
        assert 10 <= row["n"] < 30 and row["alpha"] is not None and " to " in row["alpha_ci"]
        assert row["csem_at_cut"] > 0 and row["within_band"] is not None and row["note"].startswith("small sample")
    pooled = next(r for r in rel["Per form"] if r["form"] == "all 3 forms pooled")
    assert pooled["n"] == sum(r["n"] for r in forms) and " to " in pooled["alpha_ci"]
    methods = {(r["form"], r["method"]) for r in rel["Decision consistency and accuracy"]}
    for form in ("A", "B", "C", "all 3 forms pooled"):
        assert {(form, "Subkoviak"), (form, "Livingston-Lewis / Huynh beta-binomial"),
                (form, "Rudner (observed score, conditional SEM, normal)")} <= methods
    assert "too few candidates" not in str(rel) and "None" not in str(rel["_text"])
    comparability = tables["Form comparability"]
    assert len(comparability["Forms as randomly equivalent groups: difference and equivalence test"]) == 3
    for row in comparability["Equating check through the items the forms share"]:
        assert "reads" not in row["reading"] and "an anchor needs 20%" in row["reading"]
    html = (target / "reports" / "out" / "cps" / "report.html").read_text()
    assert "exam-builder 0.1.0 from data with SHA-256" in html


def test_the_demo_raters_agree_as_trained_raters_do(demo_run):
    """Most ratings within one point, about half or more identical, kappa and ICC in the range trained raters
    reach, a modest adjudication rate, and each grader's leaning visible but small."""
    target, _proc = demo_run
    raters = _report_tables(target)["Raters"]
    pooled = raters["Agreement per item and rater pair"][0]
    assert pooled["item"] == "(all items)" and pooled["n"] >= 100
    # about 0.5 identical and 0.9 within one point; the draw differs by course (its key), so the bounds are wide
    assert 0.3 <= pooled["exact"] <= 0.85 and pooled["adjacent"] >= 0.78
    assert 0.5 <= pooled["qwk"] <= 0.95 and 0.5 <= pooled["icc"] <= 0.95
    assert 0.01 <= pooled["adjudication_rate"] <= 0.25
    leniency = {r["rater"]: r["leniency"] for r in raters["Leniency: each rater's mean score minus the decided score"]}
    assert 0 < leniency["Grader Ana"] < 0.5 and -0.5 < leniency["Grader Ben"] < 0


def test_the_demo_score_reports_show_only_subscores_their_reliability_supports(demo_run):
    target, proc = demo_run
    flat = " ".join(proc.stdout.split())
    counts = re.findall(r"cps-[ABC]: (\d+) of (\d+) competency subscore\(s\) reliable enough to show", flat)
    assert len(counts) == 3, flat[-3000:]
    withheld = sum(int(total) - int(shown) for shown, total in counts)
    pages = [p.read_text() for p in (target / "feedback").rglob("*.html")]
    said = sum("not designed to report" in p for p in pages)
    assert (said > 0) == (withheld > 0)


def test_the_demo_sits_a_paper_room_and_its_candidates_reach_results_and_the_report(demo_run):
    """The paper stage: a form and a large-print form printed (staff only), a room's sheets scanned with one
    unclear mark confirmed at verification by a scripted staff member, the paper sittings handed in, collected,
    graded and in the results and the program's report, which tells paper from online."""
    import sqlite3

    target, proc = demo_run
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    flat = " ".join(proc.stdout.split())
    paper = target / "exports" / "cps" / "paper"
    names = sorted(p.name for p in paper.iterdir())
    assert any(n.startswith("booklet-cps-") and n.endswith("-large-print.pdf") for n in names), names
    assert sum(n.startswith("answer-sheet-cps-") for n in names) == 4, names
    assert re.search(r"scanned \d+ pages in [\d.]+ s: \d+ read, \d+ answers stored, 1 sent to verification, "
                     r"0 set aside", flat), flat[-3000:]
    assert re.search(r"verification: Vera Verifier looked at the cropped row of question \d+ \(\d+x\d+ pixels, no "
                     r"name or code\) \(erased: read [A-E]\) and confirmed [A-E]; the sitting is handed in \(audited\)",
                     flat)
    assert "paper sittings handed in: 4 of 4 (submit reason: paper)" in flat
    db = sqlite3.connect(target / "gradebook.db")
    try:
        paper_ids = [r[0] for r in db.execute("SELECT id FROM eb_sitting WHERE submit_reason = 'paper'")]
        assert len(paper_ids) == 4
        marks = ",".join("?" * len(paper_ids))
        assert db.execute(f"SELECT count(*) FROM eb_sitting WHERE id IN ({marks}) AND outcome IS NOT NULL",
                          paper_ids).fetchone()[0] == 4  # graded: each has its result
        actions = {r[0] for r in db.execute("SELECT action FROM eb_audit")}
        assert {"paper.print", "paper.scan", "paper.verify", "accommodation.approve"} <= actions
        assert db.execute("SELECT count(*) FROM eb_response WHERE entered_by = 'paper'").fetchone()[0] > 0
    finally:
        db.close()
    report = " ".join((target / "reports" / "out" / "cps" / "report.html").read_text().split())
    assert re.search(r"Sat on paper: 4 sitting\(s\) \(too few decided to give a pass rate apart: n = 4; needs 10\); "
                     r"online: \d+ sitting\(s\)", report)


def _study_ratings(db_path: Path) -> tuple[dict, dict, tuple[float, float]]:
    """Round 2's newest rating per (panelist, item), the items' points and kinds, and the decision, read from the
    demo's database with plain SQL (not through the program's own reader)."""
    import sqlite3

    con = sqlite3.connect(db_path)
    try:
        items = {i: (pts, bool(rated)) for i, pts, rated in
                 con.execute("SELECT item_id, points, rated FROM eb_study_item WHERE study_id = 1")}
        latest: dict = {}
        for pid, item, value in con.execute("SELECT panelist_id, item_id, value FROM eb_study_rating "
                                            "WHERE study_id = 1 AND round_no = 2 ORDER BY id"):
            latest[(pid, item)] = value
        rec, adopted = con.execute("SELECT recommended, adopted FROM eb_standard_decision ORDER BY id DESC").fetchone()
    finally:
        con.close()
    return latest, items, (rec, adopted)


def test_the_demo_sets_the_cut_by_a_study_and_each_form_gets_its_own(demo_run):
    """The standard stage: a panel of 8 rates the live bank in two rounds, the board adopts a cut, and every form's
    cut equals an independent sum of its items' mean round-2 ratings moved by the board's change of standard."""
    import json
    import sqlite3

    target, proc = demo_run
    out = proc.stdout
    assert proc.returncode == 0, (out + proc.stderr)[-3000:]
    flat = " ".join(out.split())
    assert re.search(r"study 1 created: Modified Angoff over \d+ item\(s\) of cps", flat)
    assert len(re.findall(r"is on the panel of study 1; conflict declared:", flat)) == 8
    assert re.search(r"round 1: recommended \d+\.\d% of the points \([\d.]+ of \d+\), SE \d+\.\d\d; "
                     r"ICC\(2,1\) 0\.\d\d, ICC\(2,k\) 0\.\d\d", flat)
    assert re.search(r"ratings changed from round 1: [1-9]\d*", flat)
    assert re.search(r"decision recorded: CPS oversight board adopted \d+\.0% of the points", flat)
    assert "(from the study's ratings)" in flat

    latest, items, (rec, adopted) = _study_ratings(target / "gradebook.db")
    con = sqlite3.connect(target / "gradebook.db")
    try:
        manifests = {label: json.loads(m) for label, m in con.execute("SELECT label, manifest FROM eb_form")}
    finally:
        con.close()
    panel = {pid for pid, _ in latest}
    assert len(panel) == 8
    cuts = {}
    for label, m in manifests.items():
        total = 0.0
        for e in m["items"]:
            pts, rated = items[e["item_id"]]
            vals = [latest[(p, e["item_id"])] for p in panel]
            total += sum(v if rated else v / 100 * pts for v in vals) / len(vals)
        want = round(total + (adopted - rec) * m["total_points"], 2)
        assert m["cut_score"] == pytest.approx(want, abs=1e-9), label
        cuts[label] = m["cut_score"]
    assert len(set(cuts.values())) == len(cuts) == 3, cuts  # the forms' cuts differ by their items' ratings
    # results read each form's own cut
    rows = list(__import__("csv").DictReader((target / "exports" / "cps" / "results.csv").open(encoding="utf-8")))
    assert rows and all(float(r["cut_score"]) == cuts[r["form"].rsplit("-", 1)[1]] for r in rows)


def test_the_demo_writes_the_study_report_beside_the_programs_report(demo_run):
    target, proc = demo_run
    flat = " ".join(proc.stdout.split())
    folder = target / "reports" / "out" / "cps"
    page = (folder / "standard-setting-1.html").read_text(encoding="utf-8")
    assert (folder / "report.html").exists() and (folder / "standard-setting-1.csv").stat().st_size > 0
    assert "Modified Angoff" in page and "data:image/png;base64," in page and "CPS oversight board adopted" in page
    assert not re.search(r"(src|href)=\"https?:", page)
    assert re.search(r"cps-A: adopted raw cut [\d.]+ of 57; pass rate of its \d+ candidates at the panel's cut and "
                     r"around it: -2 SE [\d.]+: \d+%", flat), flat[-3000:]
    assert "The study report, as an accreditor reads it: reports/out/cps/standard-setting-1.html" in flat


def test_the_demo_shows_a_comment_a_key_corrected_before_results_and_a_blind_appeal(demo_run):
    """Issue 26: a candidate's comment on a miskeyed item, read blind; key validation that accepts a second answer,
    its impact shown before it is applied and at least one result changed by it; an appeal re-rated blind and
    decided; key validation closed, so the score reports are no longer provisional; the audit trail intact."""
    target, proc = demo_run
    flat = " ".join(proc.stdout.split())
    assert re.search(r"\d+ candidate\(s\) left a comment on a question", flat), flat[-4000:]
    assert re.search(r"\d+ comment\(s\) on \d+ question\(s\), read after the exam, by item and form \(no name, no "
                     r"sitting\): \S+, form [A-C]: \"I chose [A-E]\.", flat)
    head = re.search(r"(\d+) comment\(s\) on (\d+) question\(s\), read after the exam.*?key validation: ", flat)
    listed = re.findall(r"(\S+), form [A-C]: \"", head.group(0))  # the count and the list agree
    assert len(listed) == min(int(head.group(1)), 12) and len(set(listed)) <= int(head.group(2)), head.group(0)
    tables = [m.end() for m in re.finditer(r"impact BEFORE applying decision \d+: \S+ accepts [A-E] on form [A-C] "
                                           r"as well", flat)]
    assert tables, flat[-6000:]
    shown = [flat[at:flat.index("applied:", at)] for at in tables]  # each shown before it is applied
    assert "fail -> pass" in shown[-1] and not any("fail -> pass" in t for t in shown[:-1]), shown
    applied = re.findall(r"applied: (\d+) grade\(s\) re-scored in nbgrader's gradebook \(sealed\), (\d+) "
                         r"outcome\(s\) changed \(([^)]*)\), \d+ score report\(s\) written again; applied again: "
                         r"nothing changed", flat)
    assert len(applied) == len(tables) and all(int(n) > 0 for n, _o, _w in applied), flat[-6000:]
    assert int(applied[-1][1]) >= 1 and "fail -> pass" in applied[-1][2]
    assert re.search(r"appeal \d+: cps26-\d+ \(sitting \d+\) appealed their score; \d+ written answer\(s\) re-rated "
                     r"blind by Grader Cy \(no name, no earlier rating shown\); decided (partly upheld|denied) "
                     r"\(the re-rating gives [\d.]+ point\(s\) for the re-rated answers against [\d.]+ now", flat)
    assert re.search(r"key validation closed \(closure \d+\): results final, \d+ score report\(s\) written again", flat)
    reports = list((target / "feedback").glob("*/*/cps-*.html"))
    assert reports and not any("Provisional result." in p.read_text() for p in reports)
    assert list((target / "feedback").glob("*/*/appeal-*.html"))
    report = (target / "reports" / "out" / "cps" / "report.html").read_text()
    assert "Appeals by category and decision" in report


def test_the_demo_report_speaks_plainly_one_rounding_short_alt_texts_names_and_the_length_used(demo_run):
    """Issue 25 §2 "Presentation" on the demo's own report: every decimal on the page printed with two places;
    each figure's alt text short, with its data in a linked table; competencies by name; the test length each
    form's models used, said in a sentence (clamped to the form's points where the estimate ran past them);
    accuracy by the beta-binomial and Rudner's method, never a blank cell."""
    import html as htmllib

    target, proc = demo_run
    assert proc.returncode == 0, proc.stdout[-3000:]
    page = (target / "reports" / "out" / "cps" / "report.html").read_text()
    page_text = re.sub(r"<style.*?</style>", " ", re.sub(r'src="data:[^"]*"', "", page), flags=re.S)
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", page_text))
    text = " ".join(text.split())
    decimals = re.findall(r"(?<![\w.])-?\d+\.(\d+)(?![\w.])", text)
    assert len(decimals) > 500 and {len(d) for d in decimals} == {2}
    alts = re.findall(r'alt="([^"]*)"', page)
    assert alts and all(len(htmllib.unescape(a)) < 250 for a in alts)
    for slug, name in (("peer-support", "Peer Support"), ("change-agent", "Change Agent")):
        assert slug not in text and name in text
    tables = _report_tables(target)
    rel = tables["Reliability and decision consistency"]
    for row in (r for r in rel["Per form"] if r["form"] in ("A", "B", "C")):
        used = int(str(row["length_used"]).split()[0])
        assert 2 <= used <= 57 and f"Form {row['form']}: estimated at " in rel["_text"]
        if row["effective_length"] > 57.5:
            assert "(clamped: estimate above the form's 57 points)" in row["length_used"]
            assert f"Form {row['form']}: estimated at {row['effective_length']:.2f}, above the form's 57 points, " \
                   "so clamped to 57, which is used." in rel["_text"]
    for row in rel["Decision consistency and accuracy"]:
        assert all(v not in (None, "") for v in row.values()), row


BORDERLINE = re.compile(r"(cps26-\d+) is scripted to sit just below the cut of (cps-[ABC]): ([\d.]+) points of the "
                        r"([\d.]+) needed, with Q(\d+) \((\S+), miskeyed\) answered ([A-E]), its really right answer: "
                        r"accepting it in key validation \(\+([\d.]+)\) would pass them; and a comment on it")


def _borderline_row(target: Path, out: str) -> tuple[re.Match, dict]:
    """The delivery stage's scripted borderline candidate, and their row of results.csv (written by the grading
    stage, before key validation)."""
    import csv

    said = BORDERLINE.search(" ".join(out.split()))
    assert said, out[-6000:]
    rows = list(csv.DictReader((target / "exports" / "cps" / "results.csv").open(encoding="utf-8")))
    [row] = [r for r in rows if r["candidate"] == said.group(1)]
    return said, row


def _first_decision_passes_them(flat: str, said: re.Match) -> None:
    """The recourse stage's first key decision (in the demo's output ``flat``) accepts the answer the scripted
    candidate (``said``) gave on their form; its impact, printed before it is applied, shows their fail -> pass;
    applied, their outcome changes; the stage says so, and takes no second decision."""
    stage = flat.split("Recourse: comments read blind")[1]
    total, cut, gain = float(said.group(3)), float(said.group(4)), float(said.group(8))
    candidate, item, answer, form = said.group(1), said.group(6), said.group(7), said.group(2).rsplit("-", 1)[1]
    first = re.search(r"impact BEFORE applying decision (\d+): (\S+) accepts (\S+) on form (\S+) as well(.*?)"
                      r"applied: (.*?)applied again: nothing changed", stage)
    assert first, stage[:6000]
    assert first.group(2, 3, 4) == (item, answer, form)  # the first decision: the scripted candidate's answer
    table = first.group(5)
    # each row names its form, and the points needed are that form's
    assert re.search(rf"{candidate}\W+{form}\W+{total:g} -> {total + gain:g}\W+{cut:.2f}\W+fail -> pass\W",
                     table), table
    assert re.search(rf"sitting \d+ of {candidate}: fail -> pass", first.group(6)), first.group(6)
    assert (f"{candidate}, scripted just below the cut of {said.group(2)} with {item}'s really right answer "
            f"({answer}), passes: fail -> pass by decision {first.group(1)}, shown before it was applied") in stage
    assert "is not passed by key validation" not in stage
    assert len(re.findall(r"impact BEFORE applying decision", stage)) == 1  # it changed a result: no second one


def test_the_demo_scripts_a_borderline_candidate_whose_fail_key_validation_turns_to_pass(demo_run):
    """Issue 26, on the shared demo's course: the scripted candidate's total (their objective answers and the
    graders' levels, computed from their form's items and effective cut) lands just below the cut; the results
    table and CSV say "provisional"; the recourse stage's first decision accepts the answer the scripted
    candidate gave (and commented on) and its impact, printed before it is applied, shows exactly that
    candidate's fail -> pass; applied, their outcome changes; after the closure every result reads final."""
    target, proc = demo_run
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    said, row = _borderline_row(target, proc.stdout)
    total, cut, gain = float(said.group(3)), float(said.group(4)), float(said.group(8))
    assert row["form"] == said.group(2) and row["result"] == "fail" and row["provisional"] == "yes"
    assert float(row["total"]) == total and float(row["cut_score"]) == cut and total < cut <= total + gain
    flat = " ".join(proc.stdout.split())
    assert "(provisional)" in flat.split("Recourse: comments read blind")[0]  # the grading stage's results table
    _first_decision_passes_them(flat, said)
    import sqlite3

    db = sqlite3.connect(target / "gradebook.db")
    try:
        assert db.execute("SELECT count(*) FROM eb_key_validation").fetchone()[0] >= 1  # closed: results final
    finally:
        db.close()


@pytest.fixture(scope="module")
def second_course(tmp_path_factory):
    """Another demo course, built, graded and through the recourse stage with `exam-builder demo --stage ...` (no
    standard-setting study, paper room, practice, rehearsal or report: not what this needs): its own key, so its
    own anonymous ids and random ratings. Without the study its forms keep the blueprint's flat cut (the shared
    demo's come from the study), so the borderline candidate is scripted against a second kind of cut too."""
    target = tmp_path_factory.mktemp("demo2") / "demo-course"
    stages = ["bank", "records", "assembly", "delivery", "grading", "recourse"]
    result = CliRunner(env={"COLUMNS": "200", "EXAM_BUILDER_COURSE": None, "EXAM_BUILDER_DB_URL": None}).invoke(
        cli, ["--course", str(REPO), "demo", "--dir", str(target), *[a for s in stages for a in ("--stage", s)]],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output[-4000:]
    return target, result.output


def test_a_second_demo_course_has_its_borderline_candidate_too_and_accepting_the_answer_passes_them(
        second_course, demo_run):
    """On a second course (other ratings than the shared demo's), the scripted candidate's total again lands just
    below their form's cut, and the recourse stage's first key decision, the answer their comment names, again
    shows their fail -> pass before it is applied and passes them: certain on every course, not the luck of one.
    `exam-builder keys list` and `attempts` agree: the decision is applied and their result reads pass."""
    target, out = second_course
    said, row = _borderline_row(target, out)
    total, cut, gain = float(said.group(3)), float(said.group(4)), float(said.group(8))
    assert row["result"] == "fail" and float(row["total"]) == total and total < cut <= total + gain
    first = (demo_run[0] / "exports" / "cps" / "results.csv").read_text(encoding="utf-8")
    assert first != (target / "exports" / "cps" / "results.csv").read_text(encoding="utf-8")  # another course
    _first_decision_passes_them(" ".join(out.split()), said)
    listed = _invoke("--course", str(target), "keys", "list", "cps")
    assert listed.exit_code == 0, listed.output
    assert re.search(rf"{said.group(6)}\W.*?accept", " ".join(listed.output.split())), listed.output
    record = _invoke("--course", str(target), "attempts", said.group(1))
    assert record.exit_code == 0 and re.search(r"\bpass\b", record.output) and "provisional" not in record.output, \
        record.output


def test_the_borderline_plan_lands_just_below_any_cut_from_the_forms_own_items(second_course):
    """``borderline_plan`` on the second course's forms, for cuts across the scale (a standard-setting study may
    give any): its answers score, by each kind's own scoring and each rubric's own levels, exactly the total it
    states, below the cut, and accepting the miskeyed item's really right answer reaches the cut."""
    import random

    from exam_builder.assembly.forms import load_forms
    from exam_builder.course import Course
    from exam_builder.demo.stages.delivery import _miskeyed, borderline_plan
    from exam_builder.grading.queue import load_rubric_for
    from exam_builder.kinds import kind_for

    target, _out = second_course
    course = Course(target)
    with course.db.read() as s:
        forms = load_forms(s, "cps")
    truth = _miskeyed(forms)
    checked = 0
    for _f, m in forms:
        rubrics = {e.rubric: load_rubric_for(course, e.rubric) for e in m.items if e.rubric}
        for share in (0.35, 0.5, 0.613, 0.68, 0.74, 0.8):
            cut = round(share * m.total_points, 2)
            plan = borderline_plan(m, cut, truth[m.assignment], rubrics, random.Random(7))
            assert plan is not None, (m.assignment, cut)
            scored = 0.0
            for e in m.items:
                if kind_for(e.kind).rated:
                    scored += rubrics[e.rubric].score(plan.levels[e.item_id])
                else:
                    scored += kind_for(e.kind).score(plan.answers[e.item_id], e.key, e.points, e.scoring)
            assert scored == pytest.approx(plan.total) and plan.total < cut <= plan.total + plan.gain
            assert plan.answers[plan.item_id] == truth[m.assignment][plan.item_id] != next(
                e.key for e in m.items if e.item_id == plan.item_id)
            checked += 1
    assert checked == 18


def test_the_demos_blueprint_names_the_boards_decision(demo_run):
    """Issue 25: the board's decision enters the blueprint as a reviewed change: shown (the old line and the new)
    before it is applied, then written; the demo's blueprint names it in place of its flat cut, and the decision's
    audit entry holds the file's SHA-256 before and after (the after is the file as it is)."""
    import hashlib
    import json
    import sqlite3

    target, proc = demo_run
    flat = " ".join(proc.stdout.split())
    shown = re.search(r"source/cps/blueprint\.yaml, line (\d+): - cut_score: 70% # 39\.9 of 57 points \+ # The cut: "
                      r"CPS oversight board adopted (\d+)\.0% of the points on 2026-12-01 \(the panel recommended "
                      r"[\d.]+%\); each form's raw cut comes from study 1's item ratings \+ standard: \{study: 1, "
                      r"decision: 1\} nothing was recorded or written", flat)
    assert shown, flat[-6000:]
    assert flat.index("nothing was recorded or written") < flat.index("decision recorded: CPS oversight board")
    path = target / "source" / "cps" / "blueprint.yaml"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    at = int(shown.group(1)) - 1
    assert lines[at].startswith(f"# The cut: CPS oversight board adopted {shown.group(2)}.0% of the points")
    assert lines[at + 1] == "standard: {study: 1, decision: 1}" and "cut_score" not in text
    con = sqlite3.connect(target / "gradebook.db")
    try:
        row = con.execute("SELECT details FROM eb_audit WHERE action = 'standard.adopted'").fetchone()
        details = json.loads(row[0])
    finally:
        con.close()
    assert details["blueprint_sha256_after"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert details["blueprint_sha256_before"] != details["blueprint_sha256_after"]
