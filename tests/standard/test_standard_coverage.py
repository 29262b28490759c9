"""What a README-only walkthrough of the standard-setting study found, through the commands staff type: a study
over one form says, before the board's decision is written, which forms and bank items its ratings do not cover
(and `check` warns at the blueprint's `standard:` line); the decision in force is the exam's newest, across
studies, in `list`, `show` and the report; the report names the exam by its title (the pass rate at the adopted
cut: test_standard_cli); `standard sheet` prints the ratings sheet with the study's item ids, which imports as
filled in."""
from __future__ import annotations

import csv
import io
import re
from html import unescape

from test_standard_blueprint import BP, flat, rated_study, run, sheet

from exam_builder.assembly.forms import load_forms
from exam_builder.kinds import kind_for
from exam_builder.records.models import StandardDecision


def test_decide_and_check_say_what_a_one_form_study_leaves_uncovered(gcourse, tmp_path):
    course = gcourse
    rated_study(course, tmp_path)
    with course.db.read() as s:
        forms = {f.label: m for f, m in load_forms(s, "cps")}
    a_ids = {e.item_id for e in forms["A"].items}
    b_unrated = [e.item_id for e in forms["B"].items if e.item_id not in a_ids]
    assert b_unrated  # the course's form B has items form A does not
    before = (course.root / BP).read_text(encoding="utf-8")

    for apply in ((), ("--apply",)):
        out = run(course, "standard", "decide", "1", "--board", "Oversight board", "--decided-on", "2026-12-01",
                  *apply).output
        text = flat(out)
        assert f"study 1 rated {len(a_ids)} item(s):" in text
        assert f"form {forms['A'].assignment}: covered (all {len(forms['A'].items)} items rated)" in text
        assert (f"form {forms['B'].assignment}: NOT covered: {len(b_unrated)} of its {len(forms['B'].items)} items "
                "not rated") in text
        assert re.search(r"the bank: \d+ of the \d+ items the blueprint can draw are covered; not rated:", text)
        assert f"form(s) {forms['B'].assignment} cannot take a cut from it" in text
        assert "a build that draws an item it does not cover is refused" in text
        # said before the blueprint's change is shown, and before anything is written
        assert out.index("NOT covered") < out.index("the blueprint's change:")
        if not apply:
            assert (course.root / BP).read_text(encoding="utf-8") == before
            with course.db.read() as s:
                assert s.query(StandardDecision).count() == 0
        else:
            assert out.index("NOT covered") < out.index("decision recorded")

    res = run(course, "check", str(course.root / BP))  # a warning: check still passes
    text = flat(res.output)
    line = (course.root / BP).read_text(encoding="utf-8").splitlines().index("standard: {study: 1, decision: 1}") + 1
    assert (f"{BP}:line {line}:column standard: warning: the standard (decision 1 of study 1) does not cover the "
            "items this blueprint can draw") in text
    assert "`exam-builder build cps` refuses it" in text
    assert "0 error(s), 1 warning(s)" in text
    res = run(course, "standard", "recut", "cps", "--form", "B", ok=False)
    assert "not rated in study 1" in flat(res.output)


def test_the_decision_in_force_is_the_exams_newest_across_studies(gcourse, tmp_path):
    course = gcourse
    rated_study(course, tmp_path)
    run(course, "standard", "decide", "1", "--board", "Oversight board", "--decided-on", "2026-12-01", "--apply")
    # a second study over the same form, decided later: its decision is in force, study 1's superseded
    with course.db.read() as s:
        a = {f.label: m for f, m in load_forms(s, "cps")}["A"]
    run(course, "standard", "create", "cps", "--forms", "A", "--mcc", "Finished the training.", "--title",
        "Second look")
    for name in ("Cy Moss", "Di Park"):
        run(course, "standard", "panelist", "2", "--name", name, "--role", "peer specialist", "--conflict", "none")
    run(course, "standard", "round-open", "2")
    rows = [(p, e.item_id, e.points / 2 if kind_for(e.kind).rated else 70, "") for p in ("Cy Moss", "Di Park")
            for e in a.items]
    run(course, "standard", "ratings", "2", sheet(tmp_path / "s2.csv", rows))
    run(course, "standard", "round-close", "2")
    run(course, "standard", "decide", "2", "--board", "Oversight board", "--decided-on", "2026-12-05", "--apply")

    listed = run(course, "standard", "list", "cps").output
    one, two = (flat(x) for x in re.split(r"^(?=study \d+ \(cps\))", listed, flags=re.M) if x)
    assert "superseded by study 2's decision 1 (Oversight board adopted" in one and "in force for" not in one
    # decide --apply wrote it into the blueprint: named, so not asked for again (walk3 finding 14)
    assert "in force for cps (the blueprint names it: `standard: {study: 2, decision: 1}`)" in two
    assert "must name it" not in flat(listed) + flat(run(course, "standard", "show", "2").output)
    bp = course.root / BP
    text_bp = bp.read_text(encoding="utf-8")
    bp.write_text(text_bp.replace("standard: {study: 2, decision: 1}", "standard: {study: 1, decision: 1}"),
                  encoding="utf-8")
    stale = flat(run(course, "standard", "list", "cps").output)
    assert "in force for cps (the blueprint must name it: `standard: {study: 2, decision: 1}`)" in stale
    bp.write_text(text_bp, encoding="utf-8")

    shown = flat(run(course, "standard", "show", "1").output)
    assert "decision 1: Oversight board adopted" in shown and "superseded by study 2's decision 1" in shown

    said = run(course, "standard", "report", "1").output
    page = (course.report_dir("cps") / "standard-setting-1.html").read_text(encoding="utf-8")
    text = flat(unescape(re.sub(r"<[^>]+>", " ", page)))
    assert "standard-setting-1.html" in said
    assert "in force" not in text.replace("the decision in force", "")
    assert "Superseded by study 2's decision 1" in text
    page2 = run(course, "standard", "report", "2") and (course.report_dir("cps") / "standard-setting-2.html")
    text2 = flat(unescape(re.sub(r"<[^>]+>", " ", page2.read_text(encoding="utf-8"))))
    assert "In force for cps" in text2


def test_the_report_names_the_exam_by_its_title(gcourse, tmp_path):
    course = gcourse
    rated_study(course, tmp_path)
    run(course, "standard", "decide", "1", "--adopt", "50%", "--reason", "the board's judgement", "--board",
        "Oversight board", "--decided-on", "2026-12-01", "--apply")
    title = re.search(r"^title: (.+)$", (course.root / BP).read_text(encoding="utf-8"), re.M).group(1).strip()
    run(course, "standard", "report", "1")
    page = (course.report_dir("cps") / "standard-setting-1.html").read_text(encoding="utf-8")
    text = flat(unescape(re.sub(r"<[^>]+>", " ", page)))
    assert f"Exam: {title} (cps)" in text
    assert "Exam cps" not in text


def test_the_ratings_sheet_lists_the_studys_items_and_imports_when_filled_in(gcourse, tmp_path):
    course = gcourse
    with course.db.read() as s:
        a = {f.label: m for f, m in load_forms(s, "cps")}["A"]
    run(course, "standard", "create", "cps", "--forms", "A", "--mcc", "Finished the training.")
    for name in ("Ada Peer", "Ben Lee"):
        run(course, "standard", "panelist", "1", "--name", name, "--role", "peer specialist", "--conflict", "none")
    run(course, "standard", "round-open", "1")
    out = run(course, "standard", "sheet", "1").output
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["panelist", "item", "rating", "note"]
    assert [(r[0], r[1]) for r in rows[1:]] == [(p, e.item_id) for p in ("Ada Peer", "Ben Lee") for e in a.items]
    assert all(r[2] == "" for r in rows[1:])
    points = {e.item_id: e.points for e in a.items if kind_for(e.kind).rated}
    assert points  # an open response: rated in expected points, decimals allowed
    for r in rows[1:]:
        r[2] = f"{points[r[1]] / 2 + 0.5:g}" if r[1] in points else "65"
    filled = tmp_path / "round1.csv"
    filled.write_text("".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    got = flat(run(course, "standard", "ratings", "1", str(filled)).output)
    assert f"{len(rows) - 1} new, 0 changed and 0 unchanged rating(s) from round1.csv; none missing" in got
    again = list(csv.reader(io.StringIO(run(course, "standard", "sheet", "1").output)))
    assert again[1:] == rows[1:]  # the round's ratings filled in where it holds them


def test_a_study_of_one_panelist_shows_and_reports_without_outlier_figures(gcourse, tmp_path):
    """A panel of one (a pilot, or a facilitator trying the steps) is shown and reported: no outlier figures (they
    need others to compare with) and no traceback (it divided by no others)."""
    course = gcourse
    with course.db.read() as s:
        a = {f.label: m for f, m in load_forms(s, "cps")}["A"]
    run(course, "standard", "create", "cps", "--forms", "A", "--mcc", "Finished the training.", "--title", "Pilot")
    run(course, "standard", "panelist", "1", "--name", "Cy Moss", "--role", "peer specialist", "--conflict", "none")
    run(course, "standard", "round-open", "1")
    rows = [("Cy Moss", e.item_id, e.points / 2 if kind_for(e.kind).rated else 70, "") for e in a.items]
    run(course, "standard", "ratings", "1", sheet(tmp_path / "one.csv", rows))
    run(course, "standard", "round-close", "1")
    shown = flat(run(course, "standard", "show", "1").output)
    assert "form cps-A: recommended raw cut " in shown, shown
    out = flat(run(course, "standard", "report", "1").output)
    assert "study report:" in out


def test_a_study_of_every_form_but_not_the_bank_says_what_follows_in_one_sentence(gcourse, tmp_path):
    """A study over both forms covers them; the bank has items it did not rate. `decide` says so in a sentence
    ("the standard of the whole exam, but a build that draws ..."), never the run-on "whole exam a build" (walk3
    finding 14). Without --title the study is named after the exam's title, not its short id, with the method
    said once."""
    course = gcourse
    with course.db.read() as s:
        forms = {f.label: m for f, m in load_forms(s, "cps")}
    items = {e.item_id: e for m in forms.values() for e in m.items}
    title = re.search(r"^title: (.+)$", (course.root / BP).read_text(encoding="utf-8"), re.M).group(1).strip()
    made = flat(run(course, "standard", "create", "cps", "--forms", "A,B", "--mcc", "Trained.").output)
    assert (f"study 1 created: Modified Angoff over {len(items)} item(s) of cps, titled \"Modified Angoff study of "
            f"the {title}\"") in made
    for name in ("Ada Peer", "Ben Lee"):
        run(course, "standard", "panelist", "1", "--name", name, "--role", "peer specialist", "--conflict", "none")
    assert f"study 1: Modified Angoff study of the {title} (2 panelist(s)" in flat(
        run(course, "standard", "show", "1").output)
    run(course, "standard", "round-open", "1")
    rows = [(p, i, e.points / 2 if kind_for(e.kind).rated else 60, "") for p in ("Ada Peer", "Ben Lee")
            for i, e in items.items()]
    run(course, "standard", "ratings", "1", sheet(tmp_path / "ab.csv", rows))
    run(course, "standard", "round-close", "1")
    text = flat(run(course, "standard", "decide", "1", "--board", "Oversight board", "--decided-on",
                    "2026-12-01").output)
    assert "NOT covered" not in text
    assert ("what follows: this decision becomes the standard of the whole exam, but a build that draws an item it "
            "does not cover is refused; to cover them") in text


def test_a_sheet_filled_in_for_some_panelists_imports_beside_the_panelists_screen(gcourse, tmp_path):
    """The sheet is printed for the whole panel; Ada then rates on the panelist's screen and Ben fills in only his
    rows: the import skips the rows left blank (and says how many), keeps Ada's screen ratings, and the round can
    close (walk3 finding 8: every blank row was refused "is missing"). A note without a rating is refused at its
    row, nothing written."""
    from exam_builder.desks.panel_app import PanelSession

    course = gcourse
    with course.db.read() as s:
        a = {f.label: m for f, m in load_forms(s, "cps")}["A"]
    run(course, "standard", "create", "cps", "--forms", "A", "--mcc", "Finished the training.")
    for name in ("Ada Peer", "Ben Lee"):
        run(course, "standard", "panelist", "1", "--name", name, "--role", "peer specialist", "--conflict", "none")
    run(course, "standard", "round-open", "1")
    rows = list(csv.reader(io.StringIO(run(course, "standard", "sheet", "1").output)))
    session = PanelSession(course, 1)
    session.sign_in("Ada Peer")
    for n, it in enumerate(session.items):
        session.rate(n, f"{it.points / 2:g}" if it.rated else "55", "")
    points = {e.item_id: e.points for e in a.items if kind_for(e.kind).rated}
    for r in rows[1:]:
        if r[0] == "Ben Lee":
            r[2] = f"{points[r[1]] / 2:g}" if r[1] in points else "65"
    bad = [list(r) for r in rows]
    bad[1][3] = "a thought"  # Ada's first row: a note, no rating
    (tmp_path / "bad.csv").write_text("".join(",".join(r) + "\n" for r in bad), encoding="utf-8")
    res = run(course, "standard", "ratings", "1", str(tmp_path / "bad.csv"), ok=False)
    assert res.exit_code != 0 and "row 1:column rating" in res.output and "a note without a rating" in res.output
    filled = tmp_path / "ben.csv"
    filled.write_text("".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    got = flat(run(course, "standard", "ratings", "1", str(filled)).output)
    n = len(a.items)
    assert (f"{n} new, 0 changed and 0 unchanged rating(s) from ben.csv ({n} row(s) without a rating skipped); "
            "none missing") in got, got
    run(course, "standard", "round-close", "1")


def test_a_build_after_the_decision_describes_the_released_forms_not_a_new_draw(gcourse, tmp_path):
    """Forms A and B are issued (candidates sat them); study 1 rated form A's items. A build whose balancing would
    draw other items today (another seed) keeps both forms as issued, and its table says what they
    are: form A's cut is its issued items' cut under the standard (no "did not rate all its items" note, no `*`),
    form B is the one the study does not cover, and the overlap is the released forms' (walk3 finding 2)."""
    from exam_builder.assembly.assemble import overlap_matrix
    from exam_builder.assembly.build import build

    course = gcourse
    rated_study(course, tmp_path)
    run(course, "standard", "decide", "1", "--board", "Oversight board", "--decided-on", "2026-12-01", "--apply")
    with course.db.read() as s:
        issued = {f.label: m for f, m in load_forms(s, "cps")}
    want_a = round(sum(e.points / 2 if kind_for(e.kind).rated else 0.6 * e.points for e in issued["A"].items), 2)
    res = build(course, "cps", seed=987654, actor="Carla Coordinator")  # today's draw would differ
    assert [o.status for o in res.outcomes] == ["unchanged", "unchanged"]
    assert res.assembly.overlap == overlap_matrix(list(issued.values()))
    cut_a, note_a = res.cuts["A"]
    assert note_a == "" or "did not rate" not in note_a, note_a
    assert "this build would give" not in note_a or f"{want_a:.2f}" in note_a, note_a
    assert "did not rate all its items" in res.cuts["B"][1]
    assert cut_a == issued["A"].cut_score
