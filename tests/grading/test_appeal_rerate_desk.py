"""The appeal re-rater at the grader's desk, without a browser: ``GraderSession`` and ``GraderApp``.

The grading tests' course, scored, rated by Ann and Ben, outcomes recorded. A score appeal goes to
Cara. Ben (who rated the answers) and Dan (who did not, but was not sent the appeal) are offered
nothing and the desk shows them nothing of it. Cara signs in and is told how many appeal answers
wait for her; each shows the scenario and the question as the candidate read them, the answer and
the rubric, and nothing of the earlier ratings, the scores, the candidate or the appeal's words.
She rates one by the levels' radios and one by the shortcut keys; one more is rated through
``exam-builder appeal rerate``: every one lands in ``eb_appeal_rating`` through ``appeals.rerate`` and
is audited as a ``rating`` by Cara. The coordinator's Appeals screen (and ``appeal list``) then says
the re-rating is done, with the re-rated points, and the appeal is decided as before. Should Cara come to
rate one of those answers after the assignment, the appeal is hers no more: the desk offers nothing, ``rerate``
refuses, and it goes to another rater.
"""
from __future__ import annotations

import gradingkit as kit
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from test_grading_rating import rate_everything

from exam_builder import clock
from exam_builder.cli import cli
from exam_builder.desks.coordinator_app import CoordinatorApp, CoordinatorSession
from exam_builder.errors import ExamBuilderError
from exam_builder.grading import appeals
from exam_builder.grading.grader_app import GraderApp, GraderSession
from exam_builder.grading.objective import grade_exam
from exam_builder.grading.queue import RatingQueue, load_rubric_for, open_items
from exam_builder.grading.results import compute_results, record_outcomes
from exam_builder.model.states import RatingRole
from exam_builder.records.audit import verify
from exam_builder.records.models import AppealRating, AuditEntry, Candidate, ItemScore, Rating, Sitting, utcnow

WORDS = "My answer about Theo was marked far too low, I explained every step."


def _mid(rubric) -> dict[str, float]:
    return {c.id: c.levels[1].points for c in rubric.criteria}


@pytest.fixture
def appealed(gcourse):
    """A score appeal sent to Cara: (course, appeal id, sitting, the candidate's name and id)."""
    course = gcourse
    grade_exam(course, kit.EXAM, actor="staff", workers=1)
    for item, _r in open_items(course, kit.EXAM):
        RatingQueue(course, kit.EXAM, item).settle_blanks("staff")
        rate_everything(course, item, graders=("Ann", "Ben"), levels=_mid)
    record_outcomes(course, compute_results(course, kit.EXAM), "staff")
    with course.db.read() as s:  # a sitting with every written answer written (a blank one is not re-rated)
        blank = set(s.execute(select(ItemScore.sitting_id).where(ItemScore.rule == "no_response")).scalars())
    r = next(r for r in compute_results(course, kit.EXAM) if r.open_response.score and r.sitting_id not in blank)
    today = clock.wall(utcnow(), course.zone).date()
    aid = appeals.record(course, r.sitting_id, "score", WORDS, today, "Carla")
    appeals.assign_rater(course, aid, "Cara Rater", "Carla")
    return course, aid, r.sitting_id, (r.candidate_name, r.candidate_id)


def texts(widget) -> str:
    """Every text a widget tree shows (HTML values, labels, legends and options), as one string."""
    out = []
    for name in ("value", "description", "legend", "label"):
        v = getattr(widget, name, None)
        if isinstance(v, str):
            out.append(v)
    out += [str(o) for o in getattr(widget, "options", ()) or ()]
    for child in getattr(widget, "children", ()) or ():
        out.append(texts(child))
    return "\n".join(out)


def shown(widget) -> bool:
    return widget.layout.display != "none"


def test_only_the_assigned_rater_is_offered_the_appeal_and_rates_it_blind(appealed):
    course, aid, sid, (name, cand) = appealed
    written = appeals.to_rerate(course, aid, "Cara Rater")
    n = len(written)
    assert n >= 3

    for other in ("Ben", "Dan Grader"):  # rated it, or simply not sent it: nothing, not even a count
        app = GraderApp(GraderSession(course, kit.EXAM))
        app.name.submit(other)
        assert app.session.appeal_answers() == [] and app.session.open_appeal() is None
        assert not shown(app.appeal_notice) and not shown(app.appeal_panel)
        assert shown(app.pick_panel)
        with pytest.raises(ExamBuilderError, match="assigned to Cara Rater, not"):
            appeals.rerate(course, aid, other, written[0].item_id, _mid(load_rubric_for(course, written[0].rubric_id)))

    app = GraderApp(GraderSession(course, kit.EXAM))
    app.name.submit("cara rater")  # typed her way: the appeal is hers all the same
    cara = app.session
    assert shown(app.appeal_notice) and shown(app.pick_panel)
    assert f"Appeal re-ratings waiting for you: {n}" in app.appeal_count.value
    assert app.assist.focus["selector"] == ".eb-app h2[data-eb='appeals']"  # said first, before the questions
    app.appeal_start.click()
    assert shown(app.appeal_panel) and not shown(app.pick_panel) and not shown(app.appeal_notice)
    assert shown(app.appeal_actions) and not shown(app.actions)

    with course.db.read() as s:
        raters = {r.rater for r in s.execute(select(Rating).where(Rating.sitting_id == sid)).scalars()}
        last_name = s.get(Candidate, cand).last_name
    scenario_seen = False
    x = cara.appeal
    assert (x.appeal_id, x.item_id) == (aid, written[0].item_id)
    # the desk's one naming, as its list of questions says it: "written question ps-or-03" (never a position,
    # which differs between forms)
    assert f"Appeal re-rating 1 of {n}: written question {x.item_id}" in app.appeal_header.value
    assert f"Written question {x.item_id}" in [c.label for c in cara.items()]
    # the question and its scenario as the candidate read them (the released notebook), the answer, the rubric
    assert x.question and x.question.split()[0] in app.appeal_question.value
    if x.item_id in kit.SCENARIOS:
        scenario_seen = True
        assert x.scenario is not None and kit.SCENARIOS[x.item_id][1].split("*")[0] in x.scenario.text
        assert "<h3>Scenario</h3>" in app.appeal_question.value
    page = texts(app.root)
    # blind: no earlier rater, score, name or the appeal's words anywhere on the page
    for secret in (*raters, name, cand, last_name, WORDS, "Carla"):
        assert secret not in page, secret
    assert "rating)" not in app.appeal_header.value and "The two ratings" not in page

    # by the levels' radios, with a comment, then Save
    rubric = cara.appeal_rubric
    for c in rubric.criteria:
        app.appeal_pickers[c.id].value = str(len(c.levels))  # the top level
    assert f"Score: {rubric.max_points:g} of {rubric.max_points:g}" in app.appeal_score.value
    app.appeal_comment.value = "Every step is explained."
    app.appeal_save.click()
    assert f"Saved. Your re-rating of written question {x.item_id} is recorded." in app.message.value
    assert f"Appeal re-rating 2 of {n}" in app.appeal_header.value

    # by the shortcut keys: one level number per criterion, then Enter
    second = cara.appeal
    app.appeal_comment.value = "Keys save the comment too."
    app.appeal_keybox.value = "1" * len(second and cara.appeal_rubric.criteria) + "\n"
    assert cara.appeal is not None and cara.appeal.item_id not in (written[0].item_id, second.item_id)
    assert len(cara.appeal_answers()) == n - 2
    scenario_seen = scenario_seen or any(w.item_id in kit.SCENARIOS for w in written[:2])

    # the rest through the command line: the same function, the same audit
    for w in cara.appeal_answers():
        rub = load_rubric_for(course, w.rubric_id)
        out = CliRunner().invoke(cli, ["--course", str(course.root), "appeal", "rerate", str(aid), w.item_id,
                                       "--rater", "Cara Rater", *[f"--level={c.id}={c.levels[1].points:g}"
                                                                  for c in rub.criteria]], catch_exceptions=False)
        assert out.exit_code == 0, out.output
    assert cara.appeal_answers() == []
    app.appeal_back.click()  # back to the questions: the notice is gone, nothing waits
    assert not shown(app.appeal_notice) and shown(app.pick_panel)

    with course.db.read() as s:
        rows = {r.item_id: (r.rater, r.score, r.comment) for r in s.execute(
            select(AppealRating).where(AppealRating.appeal_id == aid)).scalars()}
        entries = [(str(e.action), e.actor, e.details) for e in s.execute(
            select(AuditEntry).where(AuditEntry.entity == "appeal_rating").order_by(AuditEntry.id)).scalars()]
        assert verify(s).ok
    assert set(rows) == {w.item_id for w in written} and {r[0] for r in rows.values()} == {"Cara Rater"}
    assert rows[written[0].item_id][1:] == (rubric.max_points, "Every step is explained.")
    assert rows[second.item_id][2] == "Keys save the comment too."
    assert [(a, who, d["appeal"], d["item"]) for a, who, d in entries] == [
        ("rating", "cara rater", aid, written[0].item_id), ("rating", "cara rater", aid, second.item_id)] + [
        ("rating", "Cara Rater", aid, w.item_id) for w in written[2:]]
    assert entries[0][2]["score"] == rubric.max_points and entries[0][2]["old_score"] is None
    assert scenario_seen  # at least one of the answers belongs to a scenario, and it was shown

    # the coordinator: the Appeals screen says the re-rating is done, with the points; then decides as before
    state = appeals.rerating_states(course, kit.EXAM)[aid]
    assert state.finished and state.done == n and state.before is not None
    desk = CoordinatorApp(CoordinatorSession(course, kit.EXAM))
    desk.name.submit("Carla")
    desk.screen.value = "appeals"
    assert f"done: {n} of {n} written answer(s) re-rated by Cara Rater; re-rated {state.score:g} of " \
           f"{state.max_points:g} points (before: {state.before:g})" in desk.appeals_view.value
    out = CliRunner().invoke(cli, ["--course", str(course.root), "appeal", "list", kit.EXAM])
    assert "done:" in out.output
    desk.appeal_decision.value = "upheld"
    desk.appeal_reason.value = "the re-rating finds more on every criterion of one answer"
    desk.appeal_decide_button.click()
    assert "upheld" in desk.appeals_message.value and "score(s) changed" in desk.appeals_message.value
    assert not shown(desk.appeal_decide_box)  # no open appeal left: focus goes to the screen's heading, not lost
    assert desk.assist.focus["selector"] == ".eb-app h2[data-eb='appeals']"
    with course.db.read() as s:
        assert str(s.get(Sitting, sid).outcome) in ("pass", "fail")
    with pytest.raises(ExamBuilderError, match="already decided"):
        appeals.rerate(course, aid, "Cara Rater", written[0].item_id, _mid(rubric))
    assert appeals.waiting_for(course, kit.EXAM, "Cara Rater") == []


def test_a_save_without_every_level_is_refused_in_words(appealed):
    course, aid, _sid, _who = appealed
    app = GraderApp(GraderSession(course, kit.EXAM))
    app.name.submit("Cara Rater")
    app.appeal_start.click()
    first = app.session.appeal
    rubric = app.session.appeal_rubric
    app.appeal_pickers[rubric.criteria[0].id].value = "1"
    app.appeal_save.click()
    assert "choose a level for" in app.message.value and rubric.criteria[-1].name in app.message.value
    assert app.session.appeal == first  # still open, nothing written
    with course.db.read() as s:
        assert s.execute(select(AppealRating)).first() is None


def test_a_rater_who_rated_the_answers_after_the_assignment_is_offered_nothing_and_refused(appealed):
    """Kept after the assignment too: should the appeal's rater come to rate one of those answers (an adjudication
    at the grader's desk, say), the desk offers them the appeal no more and ``appeals.rerate`` (the CLI's and the
    desk's path) refuses, naming the way out; nothing is written."""
    course, aid, sid, _who = appealed
    written = appeals.to_rerate(course, aid, "Cara Rater")
    assert appeals.waiting_for(course, kit.EXAM, "Cara Rater")
    rubric = load_rubric_for(course, written[0].rubric_id)
    with course.db.transaction() as s:
        s.add(Rating(sitting_id=sid, item_id=written[0].item_id, role=RatingRole.adjudication, rater="Cara Rater",
                     levels=_mid(rubric), score=rubric.score(_mid(rubric)), rubric_id=written[0].rubric_id,
                     rubric_hash=rubric.content_hash(), scored_at=utcnow()))
    assert appeals.waiting_for(course, kit.EXAM, "cara rater") == []
    app = GraderApp(GraderSession(course, kit.EXAM))
    app.name.submit("Cara Rater")
    assert app.session.appeal_answers() == [] and app.session.open_appeal() is None and not shown(app.appeal_notice)
    for w in written:  # not only the answer she rated: the appeal is the candidate's, blind to her as a whole
        with pytest.raises(ExamBuilderError, match="has rated this candidate's written answers .*appeal assign"):
            appeals.rerate(course, aid, "Cara Rater", w.item_id, _mid(load_rubric_for(course, w.rubric_id)))
    with course.db.read() as s:
        assert s.execute(select(AppealRating)).first() is None
    with pytest.raises(ExamBuilderError, match="rated this candidate's written answers before"):
        appeals.assign_rater(course, aid, "Cara Rater", "Carla")
    appeals.assign_rater(course, aid, "Dee Rater", "Carla")  # another rater takes it over
    assert len(appeals.waiting_for(course, kit.EXAM, "Dee Rater")) == len(written)
