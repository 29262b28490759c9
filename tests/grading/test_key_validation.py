"""Key validation through the real CLI: a decision re-scores exactly the affected sittings, nothing else.

The grading tests' course (two forms built and released by nbgrader, six submitted sittings),
scored by the objective grader, rated, outcomes recorded. Then ``exam-builder keys decide`` shows
the impact without writing anything, ``keys apply`` re-scores: the gradebook differs from before
exactly in the cells of the candidates who chose the accepted answer (found independently, by the
choice's words on each form's released notebook), their totals rise by the item's points, the
seals hold (results trust every score), nbgrader's own ``Gradebook`` API agrees with the results,
``exam-builder audit verify`` passes, and applying again or grading again changes nothing.
"""
from __future__ import annotations

import gradingkit as kit
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from test_grading_objective import gradebook_rows
from test_grading_rating import rate_everything

from exam_builder.cli import cli
from exam_builder.delivery.form_view import load_form_view, released_notebook_path
from exam_builder.grading.objective import grade_exam
from exam_builder.grading.queue import RatingQueue, open_items
from exam_builder.grading.results import compute_results, record_outcomes
from exam_builder.kinds import keyed_entries
from exam_builder.model.item import Kind
from exam_builder.records.models import AuditEntry, KeyDecision, Response, Sitting


@pytest.fixture
def scored(gcourse):
    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)
    for item, _r in open_items(gcourse, kit.EXAM):
        RatingQueue(gcourse, kit.EXAM, item).settle_blanks("staff")
        rate_everything(gcourse, item)
    results = compute_results(gcourse, kit.EXAM)
    assert all(r.final for r in results)
    record_outcomes(gcourse, results, "staff")
    return gcourse


def run(course, *args: str, code: int = 0) -> str:
    out = CliRunner().invoke(cli, ["--course", str(course.root), *args], catch_exceptions=False)
    assert out.exit_code == code, out.output
    return out.output


def audit_count(course) -> int:
    with course.db.read() as s:
        return s.execute(select(func.count(AuditEntry.id))).scalar_one()


def texts_on(course, assignment: str, item_id: str) -> dict[str, str]:
    """label -> the choice's words, as the released notebook of that form shows them."""
    return {c.label: c.text for c in load_form_view(released_notebook_path(course, assignment)).item(item_id).offered}


def chosen(course) -> dict[str, dict[str, str | None]]:
    """candidate -> item -> the answer in their journal (what the submission holds)."""
    out: dict[str, dict[str, str | None]] = {}
    with course.db.read() as s:
        for r, cand in s.execute(select(Response, Sitting.candidate_id).join(Sitting, Sitting.id == Response.sitting_id)
                                 .order_by(Response.id)):
            out.setdefault(cand, {})[r.item_id] = r.value
    return out


def nbgrader_totals(course, manifests) -> dict[str, float]:
    """Each candidate's total as nbgrader's own Gradebook API computes it."""
    gb = course.db.gradebook()
    try:
        out = {}
        for assignment in manifests:
            for sub in gb.assignment_submissions(assignment):
                out[sub.student.id] = float(sub.score)
        return out
    finally:
        gb.close()


def test_accepting_another_answer_rescores_exactly_those_who_gave_it(scored, manifests):
    course = scored
    answers = chosen(course)
    # an item of choices and a wrong answer some candidates gave: the most common wrong answer
    best = None
    for assignment, m in sorted(manifests.items()):
        for e in keyed_entries(m):
            if e.kind is not Kind.multiple_choice:
                continue
            wrong = [a[e.item_id] for c, a in answers.items() if a.get(e.item_id) not in (None, e.key)
                     and c in {cand for cand in answers}]
            if wrong and (best is None or len(wrong) > best[0]):
                label = max(set(wrong), key=wrong.count)
                best = (len(wrong), assignment, e, label)
    assert best is not None
    _n, assignment, entry, label = best
    words = texts_on(course, assignment, entry.item_id)[label]
    before_rows, before_results = gradebook_rows(course), {r.sitting_id: r for r in compute_results(course, kit.EXAM)}
    audits = audit_count(course)

    out = run(course, "keys", "decide", kit.EXAM, entry.item_id, "accept", "--accept", label, "--form",
              assignment.rsplit("-", 1)[1], "--reason", "the stem allows this answer too", "--by", "Carla")
    assert "recorded (not applied yet)" in out and "re-scored" in out
    assert gradebook_rows(course) == before_rows  # the impact writes nothing
    with course.db.read() as s:
        did = s.execute(select(KeyDecision.id)).scalar_one()

    out = run(course, "keys", "apply", kit.EXAM, str(did), "--by", "Carla")
    # expected, independently: whoever chose the answer with those words, on whichever form it had which label
    expected = {}
    for assignment_x, m in manifests.items():
        e = next((x for x in m.items if x.item_id == entry.item_id), None)
        if e is None:
            continue
        lab = next(k for k, v in texts_on(course, assignment_x, e.item_id).items() if v == words)
        with course.db.read() as s:
            cands = set(s.execute(select(Sitting.candidate_id).join(
                kit.Form, kit.Form.id == Sitting.form_id).where(kit.Form.assignment == assignment_x)).scalars())
        for c in cands:
            if answers.get(c, {}).get(e.item_id) == lab:
                expected[(c, e.grade_id, "grade")] = e.points
    assert expected, "the chosen wrong answer was given by somebody"
    after_rows = gradebook_rows(course)
    changed = {k for k in after_rows if after_rows[k] != before_rows.get(k)}
    assert changed == set(expected)  # exactly those cells, nothing else (comments included)
    for k, pts in expected.items():
        assert before_rows[k][0] == 0 and after_rows[k][0] == pts
    after_results = {r.sitting_id: r for r in compute_results(course, kit.EXAM)}
    movers = {c for c, _g, _t in expected}
    for sid, r in after_results.items():
        old = before_results[sid]
        assert not r.tampered  # written through the sealed path
        delta = entry.points if r.candidate_id in movers else 0
        assert r.total.score == pytest.approx(old.total.score + delta)
        assert r.total.max == old.total.max and r.cut_score == old.cut_score
    totals = nbgrader_totals(course, manifests)
    assert {r.candidate_id: r.total.score for r in after_results.values()} == pytest.approx(totals)
    assert "applied:" in out and f"{len(expected)} grade(s) re-scored" in out
    assert audit_count(course) > audits
    assert "audit trail intact" in run(course, "audit", "verify")

    # applying again, or grading again, changes nothing
    audits = audit_count(course)
    again = run(course, "keys", "apply", kit.EXAM, str(did), "--by", "Carla")
    assert "nothing changed" in again
    assert not any(ch in again for ch in "┏┃━┡│└─"), again  # no table, not even an empty one's border
    assert audit_count(course) == audits and gradebook_rows(course) == after_rows
    grade_exam(course, kit.EXAM, actor="staff", workers=1)  # scoring reads the decision: the same points
    assert {k: v for k, v in gradebook_rows(course).items() if k[2] == "grade"} == \
        {k: v for k, v in after_rows.items() if k[2] == "grade"}
    with course.db.read() as s:
        new = s.execute(select(AuditEntry.action).where(AuditEntry.id > audits)).scalars().all()
    assert new and set(new) == {"score_objective"}  # the grade run's own entries, no score changed


def test_dropping_an_item_rescales_total_and_cut_and_results_are_provisional_until_closed(scored, manifests):
    course = scored
    assignment, m = sorted(manifests.items())[0]
    entry = keyed_entries(m)[0]
    before = {r.sitting_id: r for r in compute_results(course, kit.EXAM)}
    assert all(r.provisional for r in before.values())
    kept = keyed_entries(m)[1]  # a keep where the key stands: nothing to apply, and the closure is not held back
    out = run(course, "keys", "decide", kit.EXAM, kept.item_id, "keep", "--reason", "the key is right", "--by", "Carla")
    assert f"the key of {kept.item_id} stands and no score changes, so there is nothing to apply" in out
    assert "apply it with" not in out and "not applied yet" not in out
    run(course, "keys", "decide", kit.EXAM, entry.item_id, "drop", "--reason", "two answers are right", "--by",
        "Carla")
    out = run(course, "keys", "close", kit.EXAM, "--by", "Carla", code=1)
    assert kept.item_id not in out  # only the drop holds it back
    assert "recorded but not applied" in out
    with course.db.read() as s:
        did = s.execute(select(KeyDecision.id).where(KeyDecision.item_id == entry.item_id)).scalar_one()
    run(course, "keys", "apply", kit.EXAM, str(did), "--by", "Carla")
    after = {r.sitting_id: r for r in compute_results(course, kit.EXAM)}
    holders = {a for a, mm in manifests.items() if any(e.item_id == entry.item_id for e in mm.items)}
    for sid, r in after.items():
        old = before[sid]
        if r.assignment in holders:
            full = manifests[r.assignment].total_points
            assert r.total.max == pytest.approx(full - entry.points)
            assert r.cut_score == pytest.approx(manifests[r.assignment].cut_score * (full - entry.points) / full)
        else:
            assert r.total.max == old.total.max and r.cut_score == old.cut_score
    rows = gradebook_rows(course)
    assert all(v[0] == 0 for (c, g, t), v in rows.items() if t == "grade" and g == entry.grade_id
               and any(r.candidate_id == c and r.assignment in holders for r in after.values()))
    report = course.feedback_path(next(iter(after.values())).candidate_id, next(iter(after.values())).assignment)
    page = next(report.glob("*.html")).read_text()
    assert "Provisional result." in page
    run(course, "keys", "close", kit.EXAM, "--by", "Carla", "--reason", "reviewed with the item author")
    assert not any(r.provisional for r in compute_results(course, kit.EXAM))
    assert "Provisional result." not in next(report.glob("*.html")).read_text()
    assert "audit trail intact" in run(course, "audit", "verify")


def table_rows(out: str) -> list[list[str]]:
    """A rich table's body rows, each cell's wrapped lines joined by spaces (so wrapping never splits a word apart)."""
    rows: list[list[str]] = []
    for line in out.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if cells[0] or not rows:
            rows.append(cells)
        else:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
    return rows


def test_validation_reads_each_form_in_its_own_words(scored, manifests):
    """`keys validate` puts a comment on its own form's line only, labelled "form A:" (not "[A]", which reads as an
    answer); `keys list` names the accepted answer as each form's candidates saw it; times carry the room's zone;
    the strong group's answer, once accepted, is flagged with the decision that answered it; no value reads
    "-0.00" and none contradicts its threshold."""
    from exam_builder import clock
    from exam_builder.analysis.keys import validation_lines
    from exam_builder.kinds import kind_for
    from exam_builder.model.manifest import Manifest
    from exam_builder.records.models import Form, ItemComment

    course = scored
    assert course.zone is not clock.zone("UTC")  # the grading course's room is not in UTC: the zone shows
    lines = validation_lines(course, kit.EXAM)
    choices = [ln for ln in lines if kind_for(next(e for e in manifests[ln.assignment].items
                                                   if e.item_id == ln.item_id).kind).offers_options]
    # the item to accept: the strong group's answer where it rivals the key
    strong = [ln for ln in choices if ln.strong_choice and ln.strong_choice_share >= ln.strong_key_share]
    assert strong, "the grading course has a line where the strong group's answer rivals the key"
    ln = strong[0]
    accept = ln.strong_choice
    other = next(a for a in manifests if a != ln.assignment)
    with course.db.transaction() as s:  # a candidate of each form comments, as the comment box writes it
        for assignment, text in ((ln.assignment, f"I chose {accept} zqmine"), (other, "I chose B zqother")):
            sit = next(x for x in s.execute(select(Sitting).order_by(Sitting.id)).scalars()
                       if Manifest.model_validate(s.get(Form, x.form_id).manifest).assignment == assignment)
            s.add(ItemComment(sitting_id=sit.id, item_id=ln.item_id, text=text, recorded_at=sit.started_at))
    run(course, "keys", "decide", kit.EXAM, ln.item_id, "accept", "--accept", accept, "--form", ln.form,
        "--reason", "the stem allows it", "--by", "Carla")
    with course.db.read() as s:
        did = s.execute(select(KeyDecision.id)).scalar_one()
    run(course, "keys", "apply", kit.EXAM, str(did), "--by", "Carla")
    run(course, "keys", "close", kit.EXAM, "--by", "Carla")

    out = run(course, "keys", "validate", kit.EXAM, "--all")
    row = next(r for r in table_rows(out) if r[2] == ln.item_id and r[0] == ln.form)
    # this form's comment, in words; the other form's (whose "B" is another answer) is not read beside this line
    assert row[9] == f"form {ln.form}: I chose {accept} zqmine"
    assert f"decided: decision {did} accepts {accept}" in row[8]
    assert "zqother" not in out and f"[{ln.form}]" not in out and "-0.00" not in out
    closed = clock.shown(course_closed(course), course.zone)
    assert f"key validation closed {closed} by Carla" in " ".join(out.split())
    assert not closed.endswith("UTC")
    flags = [f for r in table_rows(out) for f in r[8].split("; ")]
    assert any(" below " in f for f in flags)
    for flag in flags:  # every flagged value differs from its threshold as printed
        if " below " in flag and flag.split()[0] in ("facility", "discrimination"):
            _what, value, _below, limit = flag.split()[:4]
            assert float(value) < float(limit) and float(value) != float(limit)

    listed = table_rows(run(course, "keys", "list", kit.EXAM))
    assert len(listed) == 1
    expected = f"{accept} on form {ln.form}"
    assert listed[0][3] == expected and "[[" not in listed[0][3]
    zone = clock.shown(clock.utcnow(), course.zone).split()[-1]
    assert listed[0][6].endswith(zone) and listed[0][7].endswith(f"{zone} by Carla")


def test_validation_with_fewer_candidates_than_item_statistics_need_says_its_flags_are_not_evidence(scored):
    """Three candidates a form, below the program report's minimum (c.ReportSettings.min_n_publish, 10): `keys
    validate` says so first, for every form and with the same number the report uses; the coordinator's desk too.
    At the minimum (3 here), nothing is said."""
    from exam_builder.desks.coordinator_app import CoordinatorApp, CoordinatorSession

    course = scored
    out = " ".join(run(course, "keys", "validate", kit.EXAM).split())
    head = ("Warning: Too few candidates for item statistics on every form: the program's report needs 10 on a form "
            "(c.ReportSettings.min_n_publish). Below that, a facility, discrimination or strong-candidates flag "
            "cannot be read as evidence that a key is wrong")
    assert out.index(head) < out.index("key validation (")  # above the lines
    rows = table_rows(run(course, "keys", "validate", kit.EXAM, "--all"))
    for form in sorted({r[0] for r in rows}):
        flagged = sum(1 for r in rows if r[0] == form and r[8])
        assert f"form {form}: n = 3 (needs 10): its {flagged} flagged line(s) are not evidence" in out
    desk = CoordinatorApp(CoordinatorSession(course, kit.EXAM))
    desk.name.submit("Carla")
    desk.screen.value = "keys"
    assert "Too few candidates for item statistics on every form" in desk.keys_view.value
    cfg = course.root / "nbgrader_config.py"
    cfg.write_text(cfg.read_text() + "\nc.ReportSettings.min_n_publish = 3\n")
    out = run(course, "keys", "validate", kit.EXAM)
    assert "Too few candidates" not in out and "not evidence" not in out


def course_closed(course):
    from exam_builder.grading.keys import closed_at

    return closed_at(course, kit.EXAM)


def pdf_text(path) -> str:
    import pypdf

    return " ".join("".join(page.extract_text() for page in pypdf.PdfReader(path).pages).split())


def delivery_rows(course) -> list[dict[str, str]]:
    import csv
    import stat

    listing = course.exports_dir(kit.EXAM) / "score-reports" / "delivery-list.csv"
    assert stat.S_IMODE(listing.stat().st_mode) == 0o600
    with listing.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_score_report_pdfs_follow_every_report_written_again(scored, manifests, monkeypatch):
    """`feedback --pdf` writes a delivery list beside the PDFs (who gets which file) and says where; a key
    decision applied, key validation closed (here on the coordinator's desk) and `feedback` run again print the
    PDFs of the reports they write again, so no PDF keeps "Provisional result"; with no browser to print, the
    stale PDFs are removed and the line says how to print them again."""
    from exam_builder.desks.coordinator_app import CoordinatorSession

    course = scored
    folder = course.exports_dir(kit.EXAM) / "score-reports"
    out = " ".join(run(course, "feedback", kit.EXAM, "--pdf").split())
    assert ("6 printable score report(s) (PDF, staff only) written under exports/cps/score-reports/; who gets "
            "which file: exports/cps/score-reports/delivery-list.csv") in out
    assert "then delete them all: rm -r exports/cps/score-reports" in out
    rows = delivery_rows(course)
    assert list(rows[0]) == ["candidate", "name", "email", "form", "file", "printed"]
    results = compute_results(course, kit.EXAM)
    assert sorted((r["candidate"], r["name"], r["form"], r["file"]) for r in rows) == sorted(
        (x.candidate_id, f"Sam Sample-{x.candidate_id}", x.assignment, f"{x.candidate_id}-{x.assignment}.pdf")
        for x in results)
    assert all((folder / r["file"]).is_file() for r in rows)
    from exam_builder import clock

    zone = clock.now_shown(course.zone).split()[-1]
    # when each was printed, in the room's time: a PDF printed again after delivery shows a later time
    assert all(len(r["printed"].split()) == 3 and r["printed"].endswith(zone) for r in rows)
    assert all("Provisional result." in pdf_text(folder / r["file"]) for r in rows)

    # a decision applied: the PDFs of the reports it writes again are printed again
    assignment, m = sorted(manifests.items())[0]
    entry = keyed_entries(m)[0]
    run(course, "keys", "decide", kit.EXAM, entry.item_id, "drop", "--reason", "two answers are right", "--by", "Carla")
    with course.db.read() as s:
        did = s.execute(select(KeyDecision.id)).scalar_one()
    before = {p.name: p.read_bytes() for p in folder.glob("*.pdf")}
    out = " ".join(run(course, "keys", "apply", kit.EXAM, str(did), "--by", "Carla").split())
    holders = {x.candidate_id for x in results if any(e.item_id == entry.item_id
                                                      for e in manifests[x.assignment].items)}
    assert f"{len(holders)} printable score report(s) (PDF) printed again" in out, out
    changed = {name for name, data in before.items() if (folder / name).read_bytes() != data}
    assert {name.split("-")[0] for name in changed} == holders
    assert len(delivery_rows(course)) == 6  # the list still names every file

    # key validation closed on the desk: every PDF printed again, none says "provisional"
    session = CoordinatorSession(course, kit.EXAM)
    session.signin.sign_in("Carla")
    said = session.close_keys("reviewed with the item author")
    assert "6 printable score report(s) (PDF) printed again" in said, said
    assert not any("Provisional result." in pdf_text(p) for p in folder.glob("*.pdf"))

    # `feedback` again with no browser to print: the stale PDFs are removed, and the line says what to do
    monkeypatch.setenv("EXAM_BUILDER_CHROMIUM", "no-such-browser-zq")
    out = " ".join(run(course, "feedback", kit.EXAM).split())
    assert ("6 printable score report(s) (PDF) removed, since they showed the earlier report and cannot be printed "
            "now") in out and "print them again with exam-builder feedback cps --pdf" in out
    assert not list(folder.glob("*.pdf")) and delivery_rows(course) == []
    out = run(course, "feedback", kit.EXAM)  # nothing printed before: nothing said, no browser needed
    assert "PDF" not in out


def test_a_line_without_a_discrimination_says_why():
    """A blank discrimination cell reads as a missing figure: the line says why there is none."""
    from exam_builder.analysis.keys import ValidationLine

    def line(n, facility, disc, alike):
        return ValidationLine("C", "cps-C", 2, "ibno-mc-02", "B", n, facility, disc, 1, None, None, None,
                              scores_alike=alike)

    assert line(12, 0.5, 0.31, False).discrimination_text() == "0.31"
    assert line(12, 0.5, 0.31, False).discrimination_text("0.31 (flag)") == "0.31 (flag)"
    assert line(12, 1.0, None, True).discrimination_text() == "none: every candidate got it right"
    assert line(12, 0.0, None, True).discrimination_text() == "none: no candidate got it right"
    assert line(12, 0.5, None, True).discrimination_text() == "none: every candidate scored it alike"
    assert line(2, 0.5, None, False).discrimination_text() == "none: too few candidates (n = 2)"
    assert line(12, 0.5, None, False).discrimination_text() == "none: the rest of the form's scores do not vary"
