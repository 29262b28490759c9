"""The panelist's screen without a browser (``PanelSession``, the object its widgets call): a name signs in as the
grader's desk takes one (case and spaces aside) and the ratings are recorded under the seated name; a written
answer shows its rubric's levels; between rounds and after the board's decision the screen says where the study
stands; from round 2 on each item shows its facility, the share of its points past candidates earned (checked
against nbgrader's own gradebook), which `standard show` gives too."""
from __future__ import annotations

import csv
import html
import io
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from exam_builder.cli import cli
from exam_builder.errors import ExamBuilderError
from exam_builder.records import identity
from exam_builder.records.models import StudyRating


def run(course, *args: str, ok: bool = True):
    res = CliRunner(env={"COLUMNS": "250", "EXAM_BUILDER_USER": "Carla Coordinator"}).invoke(
        cli, ["--course", str(course.root), *args], catch_exceptions=False)
    if ok:
        assert res.exit_code == 0, res.output
    return res


@pytest.fixture
def session_of():
    """A standalone panelist's session (the token mode: names typed, recorded as self-declared)."""
    from exam_builder.desks.panel_app import PanelSession

    identity.reset()
    identity.standalone()
    yield lambda course, study: PanelSession(course, study)
    identity.reset()


def study(course, *names: str) -> None:
    run(course, "standard", "create", "cps", "--forms", "A", "--mcc", "Finished the training.")
    for name in names:
        run(course, "standard", "panelist", "1", "--name", name, "--role", "peer specialist", "--conflict", "none")


def all_ratings(course, tmp_path, names, name="r.csv", pct=(50,)):
    """Every rating of ``names``: a one-point item at ``pct`` (the k-th panelist's k-th value), a written answer
    at half its points."""
    from exam_builder.standard.study import read_study

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["panelist", "item", "rating", "note"])
    for k, who in enumerate(names):
        for it in read_study(course.db, 1).items:
            w.writerow([who, it.item_id, it.points / 2 if it.rated else pct[k % len(pct)], ""])
    (tmp_path / name).write_text(buf.getvalue(), encoding="utf-8")
    run(course, "standard", "ratings", "1", str(tmp_path / name))


def test_a_name_signs_in_whatever_its_case_and_spaces_and_rates_as_seated(gcourse, session_of):
    course = gcourse
    study(course, "Ann Park", "Ben Lee")
    res = run(course, "standard", "panelist", "1", "--name", " ann  PARK", "--role", "x", "--conflict", "none",
              ok=False)
    assert res.exit_code != 0 and "is already on the panel of study 1 (as Ann Park)" in " ".join(res.output.split())
    run(course, "standard", "round-open", "1")
    ps = session_of(course, 1)
    with pytest.raises(ExamBuilderError, match="Ann Parks is not on the panel"):
        ps.sign_in("Ann Parks")
    ps.sign_in("  ann   PARK ")
    assert ps.name == "Ann Park"
    assert ps.round_state()[1] == 0
    said = ps.rate(0, "70", "typed in lower case")
    assert said.startswith(f"Saved: {ps.items[0].item_id} rated 70%")
    assert ps.round_state()[1] == 1 and ps.card(0).value == 70
    with course.db.read() as s:
        row = s.execute(select(StudyRating.rated_by, StudyRating.value)).one()
    assert tuple(row) == ("Ann Park", 70.0)
    assert identity.current() is not None and identity.current().name == "Ann Park"


def test_a_written_answer_shows_its_rubric_levels(gcourse, session_of):
    from exam_builder.assembly.build import load_checked_bank

    course = gcourse
    study(course, "Ann Park")
    run(course, "standard", "round-open", "1")
    ps = session_of(course, 1)
    ps.sign_in("Ann Park")
    written = [n for n, it in enumerate(ps.items) if it.rated]
    assert written, "form A has a written answer"
    card = ps.card(written[0])
    _bank, rubrics = load_checked_bank(course, "cps")
    rubric = rubrics[ps.bank[card.item_id].rubric_id]
    assert "rubric (below)" in card.key
    for cr in rubric.criteria:
        assert html.escape(cr.name) in card.rubric
        for lv in cr.levels:  # every level: its points and what it means
            assert f"<li><strong>{lv.points:g} point" in card.rubric and html.escape(lv.descriptor) in card.rubric
    assert ps.options(card)[-1] == (f"{card.points:g}", f"{card.points:g} of {card.points:g} points")
    one_point = next(n for n, it in enumerate(ps.items) if not it.rated)
    assert ps.card(one_point).rubric == ""


def test_between_rounds_and_after_the_decision_the_screen_says_where_the_study_is(gcourse, session_of, tmp_path):
    course = gcourse
    study(course, "Ann Park")
    ps = session_of(course, 1)
    ps.sign_in("Ann Park")
    assert ps.between_rounds() == "No round has opened yet: the facilitator opens round 1."
    run(course, "standard", "round-open", "1")
    all_ratings(course, tmp_path, ["Ann Park"])
    run(course, "standard", "round-close", "1")
    assert ps.round_state()[0] is None
    assert ps.between_rounds() == ("Round 1 is closed and your ratings are kept. The facilitator opens round 2 if "
                                   "the panel rates again; otherwise the board decides.")
    run(course, "standard", "decide", "1", "--board", "CPS oversight board", "--decided-on", "2026-12-01", "--apply")
    said = ps.between_rounds()
    assert said.startswith("The board has decided: CPS oversight board adopted a cut of 50.0% of the points on "
                           "01 December 2026, from the panel's ratings of round 1. There is nothing more to rate.")
    assert "facilitator opens" not in said


def _grade_all(course) -> None:
    """Every sitting graded (objective scores, blanks settled, open responses rated at their lowest level)."""
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


def test_round_two_shows_item_facility_as_standard_show_does(gcourse, session_of, tmp_path):
    """Facility by hand from nbgrader's Gradebook (each final candidate's grade of the item over its points)."""
    from nbgrader.api import Gradebook

    from exam_builder.assembly.forms import load_forms
    from exam_builder.grading.results import compute_results
    from exam_builder.model.manifest import grade_ids

    course = gcourse
    _grade_all(course)
    with course.db.read() as s:
        forms = [m for _f, m in load_forms(s, "cps")]
    final = [(r.assignment, r.candidate_id) for r in compute_results(course, "cps") if r.final]
    assert final
    got: dict[str, list[float]] = {}  # an item on both forms pools its responses
    with Gradebook(course.db_url) as gb:
        for m in forms:
            for cand in [c for a, c in final if a == m.assignment]:
                nb = gb.find_submission_notebook(m.assignment, m.assignment, cand)
                for e in m.items:
                    g = next(g for g in nb.grades if g.name == grade_ids(e.number)["grade"])
                    if g.score is not None:
                        got.setdefault(e.item_id, []).append(g.score / e.points)
    want = {i: (sum(v) / len(v), len(v)) for i, v in got.items()}
    assert want

    study(course, "Ann Park", "Ben Lee")
    run(course, "standard", "round-open", "1")
    ps = session_of(course, 1)
    ps.sign_in("ben lee")
    assert all(ps.card(n).facility == "" for n in range(len(ps.items)))  # round 1: independent, no impact data
    all_ratings(course, tmp_path, ["Ann Park", "Ben Lee"], pct=(20, 80))  # every one-point item flagged
    run(course, "standard", "round-close", "1")
    run(course, "standard", "round-open", "1")
    for n, it in enumerate(ps.items):
        share, k = want[it.item_id]
        assert ps.card(n).facility == (f"Past candidates earned {share:.0%} of its points on average ({k} "
                                       f"{'response' if k == 1 else 'responses'}).")

    show = " ".join(run(course, "standard", "show", "1").output.split())
    counts = [want[it.item_id][1] for it in ps.items]
    assert (f"item facility (the share of its points past candidates earned): {len(counts)} of the {len(ps.items)} "
            "items") in show
    assert (f"{min(counts)} responses each" if min(counts) == max(counts)
            else f"{min(counts)} to {max(counts)} responses each") in show
    flagged = next(it for it in ps.items if not it.rated)  # in the flagged table, with its facility
    share, k = want[flagged.item_id]
    assert re.search(rf"{re.escape(flagged.item_id)} │ 50% │ \S+ │ 20% │ 80% │ {share:.0%} \(n={k}\)", show), show


def test_show_says_when_no_candidate_has_sat(gcourse, tmp_path):
    course = gcourse
    study(course, "Ann Park")
    run(course, "standard", "round-open", "1")
    all_ratings(course, tmp_path, ["Ann Park"])
    run(course, "standard", "round-close", "1")
    show = " ".join(run(course, "standard", "show", "1").output.split())
    assert "item facility: no past candidates have sat these items yet" in show
