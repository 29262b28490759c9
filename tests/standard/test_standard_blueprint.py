"""The board's decision enters the blueprint as a reviewed change, through `exam-builder standard decide`,
`check` and `build` as staff type them: the change is shown (old and new lines) and nothing is written without
--apply; with it the decision is recorded and the blueprint rewritten, the audit entry holding the file's SHA-256
before and after; `check` locates a blueprint naming a study or decision that is not recorded or not in force;
`build` refuses, at the file and line and with nothing written, a blueprint that disagrees with the records. And
the study's smaller guards: a decided study is reopened only with a reason, round-close names every missing
rating per panelist, a repeated import says new/changed/unchanged, a Yes/No study is named so."""
from __future__ import annotations

import csv
import hashlib
import io
import re

from click.testing import CliRunner

from exam_builder.assembly.forms import load_forms
from exam_builder.cli import cli
from exam_builder.desks.panel_app import PanelApp, PanelSession
from exam_builder.kinds import kind_for
from exam_builder.records.models import AuditEntry, Form, StandardDecision, Study, StudyRating

BP = "source/cps/blueprint.yaml"


def run(course, *args: str, ok: bool = True):
    res = CliRunner(env={"COLUMNS": "250", "EXAM_BUILDER_USER": "Carla Coordinator"}).invoke(
        cli, ["--course", str(course.root), *args], catch_exceptions=False)
    if ok:
        assert res.exit_code == 0, res.output
    return res


def sheet(path, rows) -> str:
    """A ratings sheet as a facilitator writes it."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["Panelist", "Item ID", "Rating", "Note"])
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return str(path)


def flat(text: str) -> str:
    return " ".join(text.split())


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rated_study(course, tmp_path, value: int = 60) -> list:
    """Study 1 over form A, two panelists who rate every item ``value``% (an open response half its points),
    round 1 closed; -> form A's items."""
    with course.db.read() as s:
        a = {f.label: m for f, m in load_forms(s, "cps")}["A"]
    run(course, "standard", "create", "cps", "--forms", "A", "--mcc", "Finished the training.")
    for name in ("Ada Peer", "Ben Lee"):
        run(course, "standard", "panelist", "1", "--name", name, "--role", "peer specialist", "--conflict", "none")
    run(course, "standard", "round-open", "1")
    rows = [(p, e.item_id, e.points / 2 if kind_for(e.kind).rated else value, "") for p in ("Ada Peer", "Ben Lee")
            for e in a.items]
    run(course, "standard", "ratings", "1", sheet(tmp_path / f"r{value}.csv", rows))
    run(course, "standard", "round-close", "1")
    return list(a.items)


def test_decide_shows_the_blueprint_change_then_writes_it_with_both_hashes_audited(gcourse, tmp_path):
    course = gcourse
    rated_study(course, tmp_path)
    path = course.root / BP
    before_text, before_hash = path.read_text(encoding="utf-8"), sha(path)
    assert "cut_score: 60%\n" in before_text

    dry = run(course, "standard", "decide", "1", "--adopt", "62%", "--board", "Oversight board", "--decided-on",
              "2026-12-01", "--reason", "the board's judgement").output
    lines = [x.strip() for x in dry.splitlines()]
    at = lines.index(f"{BP}, line 4:")
    assert lines[at + 1] == "- cut_score: 60%"
    assert lines[at + 2].startswith("+ # The cut: Oversight board adopted 62.0% of the points on 2026-12-01 (the "
                                    "panel recommended")
    assert lines[at + 3] == "+ standard: {study: 1, decision: 1}"
    assert "nothing was recorded or written" in flat(dry)
    assert sha(path) == before_hash  # shown, not written
    with course.db.read() as s:
        assert s.query(StandardDecision).count() == 0

    out = flat(run(course, "standard", "decide", "1", "--adopt", "62%", "--board", "Oversight board",
                   "--decided-on", "2026-12-01", "--reason", "the board's judgement", "--apply").output)
    after_text = path.read_text(encoding="utf-8")
    assert "cut_score" not in after_text
    shown_lines = [x[2:] for x in lines[at + 2:at + 4]]
    assert after_text == before_text.replace("cut_score: 60%\n", "\n".join(shown_lines) + "\n")  # what was shown
    assert "decision recorded: Oversight board adopted 62.0% of the points (audited)" in out
    assert f"{BP} written (sha256 {before_hash[:12]} -> {sha(path)[:12]})" in out
    with course.db.read() as s:
        assert s.query(StandardDecision).count() == 1
        entry = s.query(AuditEntry).filter(AuditEntry.action == "standard.adopted").one()
        assert entry.details["blueprint"] == BP
        assert entry.details["blueprint_sha256_before"] == before_hash
        assert entry.details["blueprint_sha256_after"] == sha(path) != before_hash
        assert entry.details["blueprint_line"] == "standard: {study: 1, decision: 1}"
    checked = flat(run(course, "check", str(course.root / BP)).output)
    assert "0 error(s)" in checked and "the comment" not in checked

    # the comment is what a coordinator reads of the cut: edited by hand, or gone, check warns at its line
    comment = shown_lines[0]
    path.write_text(after_text.replace("adopted 62.0%", "adopted 70.0%"), encoding="utf-8")
    checked = flat(run(course, "check", str(course.root / BP)).output)
    assert (f"{BP}:line 4:column standard: warning: the blueprint names decision 1 of study 1 (Oversight board "
            "adopted 62.0% of the points on 2026-12-01), and the comment above it says \"Oversight board adopted "
            "70.0% of the points") in checked, checked
    assert f"Write `{comment}` above `standard: {{study: 1, decision: 1}}`" in checked and "0 error(s)" in checked
    path.write_text(after_text.replace(comment + "\n", ""), encoding="utf-8")
    checked = flat(run(course, "check", str(course.root / BP)).output)
    assert (f"{BP}:line 4:column standard: warning: the blueprint names decision 1 of study 1 (Oversight board "
            "adopted 62.0% of the points on 2026-12-01), and no comment above it says what the board decided") \
        in checked, checked
    path.write_text(after_text, encoding="utf-8")


def test_check_and_build_hold_the_blueprint_to_the_decision_in_force(gcourse, tmp_path):
    course = gcourse
    items = rated_study(course, tmp_path)
    path = course.root / BP
    flat_cut = path.read_text(encoding="utf-8")
    run(course, "standard", "decide", "1", "--board", "Oversight board", "--decided-on", "2026-12-01", "--apply")
    first = path.read_text(encoding="utf-8")

    def forms_and_files():
        with course.db.read() as s:
            forms = sorted((f.label, f.manifest_hash) for f in s.query(Form))
        return forms, sorted(p.relative_to(course.root) for p in (course.root / "release").rglob("*"))

    def refused_build(line: int, words: str) -> None:
        before = forms_and_files()
        res = run(course, "build", "cps", "--first-label", "C", "--forms", "1", ok=False)
        assert res.exit_code != 0
        text = flat(res.output)
        assert f"{BP}:line {line}:column" in text and words in text, text
        assert "nothing was written" in text
        assert forms_and_files() == before

    # a study the records do not hold, and a decision the study does not have: located at the standard line
    path.write_text(first.replace("standard: {study: 1, decision: 1}", "standard: {study: 9, decision: 1}"),
                    encoding="utf-8")
    res = run(course, "check", str(course.root / BP), ok=False)
    assert f"{BP}:line 5:column standard: the blueprint names decision 1 of study 9, and the course's records " \
           "hold no study 9" in flat(res.output)
    path.write_text(first.replace("decision: 1}", "decision: 2}"), encoding="utf-8")
    res = run(course, "check", str(course.root / BP), ok=False)
    assert f"{BP}:line 5:column standard:" in flat(res.output) and "study 1 has no decision 2: its decisions are " \
                                                                    "1 to 1" in flat(res.output)
    refused_build(5, "study 1 has no decision 2")

    # the flat cut back while a decision is in force: check and build name the line and the line to write
    path.write_text(flat_cut, encoding="utf-8")
    res = run(course, "check", str(course.root / BP), ok=False)
    assert f"{BP}:line 4:column cut_score: the board's decision 1 of study 1 (Oversight board adopted" in \
           flat(res.output)
    assert "Write `standard: {study: 1, decision: 1}` in place of this line" in flat(res.output)
    refused_build(4, "does not name it")

    # a flat cut beside the standard: refused, saying the standard sets the cut
    path.write_text(first.replace("standard:", "cut_score: 60%\nstandard:"), encoding="utf-8")
    res = run(course, "check", str(course.root / BP), ok=False)
    assert f"{BP}:line 5:column cut_score: cut_score 60% sets no cut: the blueprint names the board's standard " \
           "(decision 1 of study 1, line 6), from which each form takes its own raw cut" in flat(res.output)

    # neither: the blueprint says where its cut comes from
    path.write_text(flat_cut.replace("cut_score: 60%\n", ""), encoding="utf-8")
    res = run(course, "check", str(course.root / BP), ok=False)
    assert f"{BP}:line 1: the blueprint has no cut: write cut_score (points, or a percent such as '70%'), or the " \
           "board's standard" in flat(res.output)

    # the study reopened with a reason, a second decision: decision 1 is superseded
    path.write_text(first, encoding="utf-8")
    res = run(course, "standard", "round-open", "1", ok=False)
    assert "study 1 is decided: decision 1 (Oversight board adopted" in flat(res.output)
    assert "--reopen --reason" in flat(res.output)
    run(course, "standard", "round-open", "1", "--reopen", "--reason", "the board asks for a second look")
    listed = flat(run(course, "standard", "list", "cps").output)
    assert "decided: decision 1, " in listed and "adopted; in force for cps" in listed and listed.endswith(
        "; reopened: round 2 open"), listed
    rows = [("Ada Peer", e.item_id, 55, "") for e in items if not kind_for(e.kind).rated]
    got = flat(run(course, "standard", "ratings", "1", sheet(tmp_path / "r2.csv", rows)).output)
    assert f"round 2: 0 new, {len(rows)} changed and 0 unchanged" in got
    run(course, "standard", "round-close", "1")
    out = run(course, "standard", "decide", "1", "--board", "Oversight board", "--decided-on", "2026-12-05",
              "--apply").output
    assert "- standard: {study: 1, decision: 1}" in out and "+ standard: {study: 1, decision: 2}" in out
    second = path.read_text(encoding="utf-8")
    assert second.count("# The cut:") == 1 and "decision: 2}" in second  # the old comment went with its line
    assert "0 error(s)" in flat(run(course, "check", str(course.root / BP)).output)
    path.write_text(first, encoding="utf-8")
    res = run(course, "check", str(course.root / BP), ok=False)
    assert f"{BP}:line 5:column standard: the blueprint names decision 1 of study 1 (Oversight board adopted" in \
           flat(res.output)
    assert "which is superseded: the standard in force for cps is decision 2 of study 1" in flat(res.output)
    refused_build(5, "superseded")

    # the blueprint as decide wrote it: the build gives the new form its cut from the ratings
    path.write_text(second, encoding="utf-8")
    run(course, "build", "cps", "--first-label", "C", "--forms", "1")
    with course.db.read() as s:
        audit = [e for e in s.query(AuditEntry).filter(AuditEntry.action == "study.round")
                 if e.details.get("step") == "reopened"]
        assert [e.reason for e in audit] == ["the board asks for a second look"]
        assert {f.label for f, _m in load_forms(s, "cps")} >= {"C"}


def test_the_study_says_what_a_facilitator_needs(gcourse, tmp_path):
    """round-close names every missing rating per panelist; repeated imports say new/changed/unchanged; a
    Yes/No study is named so; --reopen is refused on a study with no decision."""
    course = gcourse
    with course.db.read() as s:
        a = {f.label: m for f, m in load_forms(s, "cps")}["A"]
    out = run(course, "standard", "create", "cps", "--forms", "A", "--method", "yes_no", "--mcc", "Trained.").output
    assert "study 1 created: Yes/No Angoff over" in flat(out)
    for name in ("Ada Peer", "Ben Lee", "Cy Moss"):
        run(course, "standard", "panelist", "1", "--name", name, "--role", "peer specialist", "--conflict", "none")
    res = run(course, "standard", "round-open", "1", "--reopen", "--reason", "why not", ok=False)
    assert "study 1 has no decision to reopen" in flat(res.output)
    run(course, "standard", "round-open", "1")
    # the method is named wherever the study is shown: list, show, the panelist's screen, the report's CSV
    listed = flat(run(course, "standard", "list").output)
    assert re.search(r"study 1 \(cps\): Yes/No Angoff study of the [^;]+; 1 round\(s\)", listed), listed
    shown = flat(run(course, "standard", "show", "1").output)
    assert re.search(r"study 1: Yes/No Angoff study of the .+ \(3 panelist\(s\)", shown), shown
    session = PanelSession(course, 1)
    intro = PanelApp(session).intro.value
    assert "(Yes/No Angoff)" in intro and "would a minimally competent candidate earn its point: yes or no?" in intro
    with course.db.transaction() as s:  # a title that does not say the method: list says it
        s.get(Study, 1).title = "Spring panel"
    assert "study 1 (cps): Spring panel (Yes/No Angoff); 1 round(s)" in flat(run(course, "standard", "list").output)
    csv_path = run(course, "standard", "report", "1").output.split("its numbers: ")[1].strip()
    assert "study,,,,method,Yes/No Angoff" in (course.root / csv_path).read_text(encoding="utf-8").splitlines()
    ids = [e.item_id for e in a.items]
    rated = {e.item_id for e in a.items if kind_for(e.kind).rated}
    value = {i: (1 if i in rated else 100) for i in ids}
    ada = [("Ada Peer", i, value[i], "") for i in ids]
    ben = [("Ben Lee", i, value[i], "") for i in ids[:-3]]  # Ben leaves the last three; Cy rates none
    got = flat(run(course, "standard", "ratings", "1", sheet(tmp_path / "a.csv", ada + ben)).output)
    missing = 3 + len(ids)
    assert f"study 1, round 1: {len(ada) + len(ben)} new, 0 changed and 0 unchanged rating(s) from a.csv; " \
           f"{missing} still missing" in got
    res = run(course, "standard", "round-close", "1", ok=False)
    text = res.output
    assert f"round 1 cannot close: {missing} rating(s) missing" in flat(text)
    assert re.search(rf"^\s*Ben Lee: 3 of {len(ids)} items not rated: {', '.join(ids[-3:])}$", text, re.M), text
    assert re.search(rf"^\s*Cy Moss: has rated none of the {len(ids)} items$", text, re.M), text
    assert "Ada Peer" not in text

    # the same sheet again, one rating changed and one note added: nothing else written again
    again = ada[:]
    again[0] = ("Ada Peer", ids[0], 0 if ids[0] in rated else 0, "")
    again[1] = ("Ada Peer", ids[1], value[ids[1]], "discussed")
    with course.db.read() as s:
        rows_before = s.query(StudyRating).count()
    got = flat(run(course, "standard", "ratings", "1", sheet(tmp_path / "b.csv", again + ben)).output)
    assert f"0 new, 2 changed and {len(again) + len(ben) - 2} unchanged rating(s) from b.csv; {missing} still " \
           "missing" in got
    with course.db.read() as s:
        assert s.query(StudyRating).count() == rows_before + 2
        entry = s.query(AuditEntry).filter(AuditEntry.action == "study.ratings").order_by(AuditEntry.id.desc()).first()
        assert (entry.details["new"], entry.details["changed"], entry.details["unchanged"]) == (
            0, 2, len(again) + len(ben) - 2)


    # the panelist's screen says Yes or No, not 100% or 0%
    session.sign_in("Cy Moss")
    first = next(i for i, it in enumerate(session.items) if not it.rated)
    assert session.rate(first, "100", "") == f"Saved: {session.items[first].item_id} rated Yes."
    assert session.rate(first, "0", "") == f"Saved: {session.items[first].item_id} rated No."
    # as in a sheet's import, the same rating saved again is not written again
    with course.db.read() as s:
        rows_before = s.query(StudyRating).count()
    assert session.rate(first, "0", "") == f"Saved: {session.items[first].item_id} rated No (unchanged)."
    with course.db.read() as s:
        assert s.query(StudyRating).count() == rows_before
        details = s.query(AuditEntry).filter(AuditEntry.action == "study.ratings").order_by(
            AuditEntry.id.desc()).first().details
        assert (details["item"], details["new"], details["changed"]) == (session.items[first].item_id, 0, 1)


def test_a_build_shows_each_forms_points_to_pass_and_where_they_come_from(gcourse, tmp_path):
    """What `build` uses is visible: each form's points to pass (terminal and the form comparison), the decision
    the blueprint names, and why an issued form keeps another cut; the build's audit entry names the decision.
    An issued form the study did not rate is kept as issued, never refused for its cut."""
    course = gcourse
    rated_study(course, tmp_path)  # study 1 rates form A only; form B is issued too
    with course.db.read() as s:
        frozen = {f.label: m.cut_score for f, m in load_forms(s, "cps")}
    flat_out = flat(run(course, "build", "cps").output)  # the blueprint's flat cut: the same for every form
    assert f"Points to pass │ {frozen['A']:.2f} ({frozen['A'] / 33:.1%}) │ {frozen['B']:.2f}" in flat_out, flat_out
    assert "points to pass: the blueprint's flat cut_score 60%" in flat_out

    run(course, "standard", "decide", "1", "--adopt", "65%", "--board", "Oversight board", "--decided-on",
        "2026-12-01", "--reason", "the board's judgement", "--apply")
    out = flat(run(course, "build", "cps").output)  # the issued forms again: kept, B although study 1 skipped it
    assert "nothing changed" in out
    assert f"Points to pass │ {frozen['A']:.2f} ({frozen['A'] / 33:.1%})* │ {frozen['B']:.2f}" in out, out
    assert ("points to pass: the board's standard the blueprint names, decision 1 of study 1 (Oversight board "
            "adopted 65.0% of the points on 2026-12-01): each form's raw cut from study 1's item ratings") in out
    assert re.search(r"\* form A: frozen when it was built; this build would give \d+\.\d\d: `exam-builder standard "
                     r"recut cps --form A` lists whose result would change", out), out
    assert "* form B: frozen when it was built; the standard's study did not rate all its items" in out
    html = (course.root / "exports/cps/cps-forms-AB.html").read_text(encoding="utf-8")
    assert "<td>Points to pass</td>" in html and "decision 1 of study 1 (Oversight board adopted 65.0%" in html

    out = flat(run(course, "build", "cps", "--first-label", "C", "--forms", "1").output)
    with course.db.read() as s:
        c = {f.label: m for f, m in load_forms(s, "cps")}["C"]
        details = s.query(AuditEntry).filter(AuditEntry.action == "form.built",
                                             AuditEntry.entity_id == "cps-C").one().details
    assert c.cut_score != frozen["A"]
    assert f"Points to pass │ {c.cut_score:.2f} ({c.cut_score / c.total_points:.1%}) │" in out, out
    assert "* form" not in out
    assert (details["cut_score"], details["standard"]) == (c.cut_score, "decision 1 of study 1")
