"""Adjudication a program of any size can finish: who adjudicates is a setting, and everyone is told
what waits for whom.

``c.GradingSettings.adjudicator``: ``third_grader`` (a grader who gave neither rating),
``coordinator`` (named in ``coordinators``, or the hub's coordinators group) or ``senior`` (the
senior of the two raters, shown the other's rating). Each rule is driven through ``GraderSession``
(the grader's desk without widgets) and ``RatingQueue``; the staff views through the real CLI.
"""
from __future__ import annotations

import gradingkit as kit
import pytest
from click.testing import CliRunner
from test_grading_objective import gradebook_rows
from test_grading_progress import busiest_item
from test_grading_rating import decisions, top

from exam_builder.cli import cli
from exam_builder.course import Course
from exam_builder.errors import ExamBuilderError
from exam_builder.grading.adjudication import AdjudicationRule
from exam_builder.grading.grader_app import GraderApp, GraderSession, progress_text
from exam_builder.grading.objective import grade_exam
from exam_builder.grading.queue import RatingQueue
from exam_builder.grading.results import compute_results
from exam_builder.records import identity


def configured(course: Course, **settings) -> Course:
    """The same course with GradingSettings changed in its nbgrader_config.py."""
    cfg = course.root / "nbgrader_config.py"
    cfg.write_text(cfg.read_text() + "".join(f"\nc.GradingSettings.{k} = {v!r}" for k, v in settings.items()) + "\n")
    course.db.dispose()
    return Course(course.root)


def zero(rubric) -> dict[str, float]:
    return {c.id: 0.0 for c in rubric.criteria}


def signed_in(course, name: str, item: str) -> GraderSession:
    g = GraderSession(course, kit.EXAM)
    g.sign_in(name)
    g.pick(item)
    return g


def rate_all(g: GraderSession, levels, comment: str = "") -> int:
    """Save every response ``g`` is offered, with ``levels``; how many."""
    n = 0
    while g.current is not None:
        g.levels = levels(g.rubric)
        g.save(comment)
        n += 1
    return n


def rate_as(course, item: str, rater: str, role: str, levels, comment: str = "") -> int:
    """``rater`` gives every ``role`` rating they are offered (nothing else); how many."""
    q = RatingQueue(course, kit.EXAM, item)
    skip: set[str] = set()
    n = 0
    while (c := q.claim(rater, skip=skip)) is not None:
        if c.role != role:
            q.release(rater, c.rating_id)
            skip.add(c.anon_id)
            continue
        q.save(rater, c.rating_id, levels(q.rubric), comment)
        n += 1
    return n


def disagree(course, item: str, first: str, second: str) -> int:
    """``first`` gives every response the top score, ``second`` zero: every response waits for
    adjudication (how many)."""
    n = rate_as(course, item, first, "first", top, "full marks: clear and kind")
    assert rate_as(course, item, second, "second", zero, "nothing relevant") == n
    assert RatingQueue(course, kit.EXAM, item).status().get("adjudication") == n
    return n


@pytest.fixture(autouse=True)
def _no_identity():
    identity.reset()
    yield
    identity.reset()


def test_third_grader_by_default_and_the_desk_says_who_must(gcourse):
    item, _n = busiest_item(gcourse)
    n = disagree(gcourse, item, "Ann Grader", "Ben Grader")
    for name in ("Ann Grader", "Ben Grader"):  # neither rater may adjudicate, and the desk says so plainly
        g = signed_in(gcourse, name, item)
        assert g.current is None
        text = progress_text(g.progress(), g.queue.rule)
        assert (f"{n} responses wait for adjudication by a third grader: you rated them, so someone else must."
                in text), text
    cy = signed_in(gcourse, "Cy Grader", item)
    assert cy.current.role == "adjudication" and cy.current.shown == ()  # blind: no rating shown
    assert (f"{n} responses wait for adjudication by you: you rated neither of their ratings, so you may adjudicate"
            in progress_text(cy.progress(), cy.queue.rule))
    assert rate_all(cy, top) == n
    assert set(d[2] for d in decisions(gcourse, item).values() if d[2] != "no_response") == {"adjudicated"}


def test_the_coordinator_adjudicates_and_a_third_grader_may_not(gcourse):
    course = configured(gcourse, adjudicator="coordinator", coordinators=["Carla Coordinator"])
    item, _n = busiest_item(course)
    n = disagree(course, item, "Ann Grader", "Ben Grader")
    cy = signed_in(course, "Cy Grader", item)
    assert cy.current is None  # a third grader is not the adjudicator here
    text = progress_text(cy.progress(), cy.queue.rule)
    assert f"{n} responses wait for adjudication by the coordinator (Carla Coordinator)." in text
    ann = signed_in(course, "ann   GRADER", item)  # typed another way: one person is one name in the records
    assert ann.rater == "Ann Grader"
    assert "by the coordinator (Carla Coordinator)" in progress_text(ann.progress(), ann.queue.rule)
    assert signed_in(course, "dee  new  grader", item).rater == "dee new grader"  # unknown: as shown, spaces once

    app = GraderApp(GraderSession(course, kit.EXAM))  # the coordinator at the desk, her name typed her way
    app.name.submit("carla  coordinator")
    app.item.value = item
    app.start.click()
    carla = app.session
    assert carla.rater == "Carla Coordinator"  # recorded as the settings name her, not as typed
    assert carla.current.role == "adjudication" and carla.current.shown == ()  # she rated neither: blind
    assert "by you: you are the adjudicator (the coordinator)" in app.progress_text.value
    assert "yours decides" in app.header.value and app.shown.value == ""
    for _ in range(n):
        app.keybox.value = "2" * len(carla.rubric.criteria) + "\n"
    assert carla.current is None and "Every response to this question has the ratings it needs" in \
        app.progress_text.value
    final = [d for d in decisions(course, item).values() if d[2] != "no_response"]
    assert len(final) == n and {(d[0], d[2], len(d[3])) for d in final} == {("final", "adjudicated", 3)}


def test_a_coordinator_who_rated_adjudicates_shown_the_other_rating(gcourse):
    """Two graders, one of them the coordinator: they finish on their own."""
    course = configured(gcourse, adjudicator="coordinator", coordinators=["Carla Coordinator"])
    item, _n = busiest_item(course)
    n = disagree(course, item, "Carla Coordinator", "Ben Grader")
    assert signed_in(course, "Ben Grader", item).current is None
    app = GraderApp(GraderSession(course, kit.EXAM))  # Carla back at the desk
    app.name.submit("Carla Coordinator")
    app.item.value = item
    app.start.click()
    carla = app.session
    claim = carla.current
    assert claim.role == "adjudication"
    assert [(r.label, r.role, r.score) for r in claim.shown] == [
        ("Your rating", "first", carla.rubric.max_points), ("The other rating", "second", 0.0)]
    assert claim.shown[1].comment == "nothing relevant" and claim.shown[1].levels == zero(carla.rubric)
    assert "The other rating (second rating): 0 of 6 points" in app.shown.value
    assert "Comment: nothing relevant" in app.shown.value
    assert "Ben Grader" not in app.shown.value  # never who gave it
    assert "yours and the other are shown" in app.header.value
    assert rate_all(carla, top) == n
    assert RatingQueue(course, kit.EXAM, item).status() == {"final": n}


def test_the_hub_coordinators_group_counts_as_the_coordinator(gcourse):
    course = configured(gcourse, adjudicator="coordinator")  # nobody named: the hub's group decides
    item, _n = busiest_item(course)
    n = disagree(course, item, "ann", "ben")
    identity.from_hub("dana", ["graders"])
    dana = GraderSession(course, kit.EXAM)  # signed in by the hub: no name typed
    dana.pick(item)
    assert dana.rater == "dana" and dana.current is None  # a grader, not a coordinator
    assert "by the coordinator." in progress_text(dana.progress(), dana.queue.rule)
    identity.reset()
    identity.from_hub("erin", ["graders", "coordinators"])
    erin = GraderSession(course, kit.EXAM)
    erin.pick(item)
    assert erin.current.role == "adjudication"
    assert rate_all(erin, top) == n
    assert RatingQueue(course, kit.EXAM, item).status() == {"final": n}


def test_the_senior_of_the_two_adjudicates_shown_the_other_rating(gcourse):
    course = configured(gcourse, adjudicator="senior", senior_graders=["Ann Grader"])
    item, _n = busiest_item(course)
    n = disagree(course, item, "Ben Grader", "Ann Grader")  # the senior rated second
    cy = signed_in(course, "Cy Grader", item)
    assert cy.current is None
    assert f"{n} responses wait for adjudication by the senior grader (Ann Grader)." in progress_text(
        cy.progress(), cy.queue.rule)
    assert signed_in(course, "Ben Grader", item).current is None
    ann = signed_in(course, "ann grader", item)  # typed her own way: still the senior
    assert ann.current.role == "adjudication"
    assert [(r.label, r.role) for r in ann.current.shown] == [("Your rating", "second"), ("The other rating", "first")]
    assert ann.current.shown[1].comment == "full marks: clear and kind"
    assert "by you: you are the adjudicator (the senior grader)" in progress_text(ann.progress(), ann.queue.rule)
    assert rate_all(ann, zero) == n
    assert RatingQueue(course, kit.EXAM, item).status() == {"final": n}


def test_when_neither_rater_is_senior_any_senior_grader_adjudicates_blind(gcourse):
    course = configured(gcourse, adjudicator="senior", senior_graders=["Sam Senior", "Tia Senior"])
    item, _n = busiest_item(course)
    n = disagree(course, item, "Ben Grader", "Cy Grader")
    dee = signed_in(course, "Dee Grader", item)
    assert dee.current is None
    assert "by the senior grader (Sam Senior or Tia Senior)" in progress_text(dee.progress(), dee.queue.rule)
    sam = signed_in(course, "Sam Senior", item)
    assert sam.current.role == "adjudication" and sam.current.shown == ()
    assert rate_all(sam, top) == n


def test_both_raters_senior_either_adjudicates(gcourse):
    course = configured(gcourse, adjudicator="senior", senior_graders=["Ann Grader", "Ben Grader"])
    item, _n = busiest_item(course)
    n = disagree(course, item, "Ann Grader", "Ben Grader")
    ben = signed_in(course, "Ben Grader", item)
    assert ben.current.role == "adjudication" and len(ben.current.shown) == 2
    given = ben.current.anon_id
    ben.give_back()
    ann = signed_in(course, "Ann Grader", item)
    assert ann.current.role == "adjudication"
    assert ann.current.anon_id == given  # what Ben gave back, Ann may take
    assert rate_all(ann, top) + rate_all(ben, top) == n


def test_an_adjudication_comes_before_new_ratings(gcourse):
    """A grader who may adjudicate is given a waiting adjudication first: it finishes a response."""
    course = configured(gcourse, adjudicator="senior", senior_graders=["Ann Grader"])
    item, n = busiest_item(course)
    ben = signed_in(course, "Ben Grader", item)
    assert rate_all(ben, zero) == n
    ann = signed_in(course, "Ann Grader", item)
    second = ann.current
    assert second.role == "second"
    ann.levels = top(ann.rubric)
    assert ann.save().status == "adjudication"  # a wide gap
    assert (ann.current.anon_id, ann.current.role) == (second.anon_id, "adjudication")  # not the next second rating
    ann.levels = zero(ann.rubric)
    assert ann.save().status == "final"
    assert ann.current.role == "second"


def test_rules_that_cannot_be_followed_are_refused_naming_the_setting(gcourse):
    course = configured(gcourse, adjudicator="senior")
    with pytest.raises(ExamBuilderError, match=r"adjudicator = 'senior' in nbgrader_config.py needs "
                                               r"c.GradingSettings.senior_graders"):
        RatingQueue(course, kit.EXAM, busiest_item(gcourse)[0])
    out = CliRunner().invoke(cli, ["--course", str(course.root), "grade", kit.EXAM, "--by", "staff"])
    assert out.exit_code == 1 and "c.GradingSettings.senior_graders" in " ".join(out.output.split()), out.output
    assert not gradebook_rows(course)  # refused before anything was scored
    with pytest.raises(ExamBuilderError, match=r"c.GradingSettings.adjudicator = 'chair' in nbgrader_config.py: "
                                               r"choose one of 'third_grader', 'coordinator', 'senior'"):
        configured(gcourse, adjudicator="chair").grading_settings  # noqa: B018 (reading it raises)
    with pytest.raises(ExamBuilderError, match=r"c.GradingSettings.coordinators in nbgrader_config.py: '' is not"):
        Course(configured(gcourse, adjudicator="coordinator", coordinators=[" "]).root).grading_settings  # noqa: B018


def test_rule_in_words():
    third = AdjudicationRule()
    assert third.may("Cy", ["Ann", "Ben"]) and not third.may("ann", ["Ann", "Ben"])
    assert third.who(["Ann", "Ben"]) == "a third grader (not Ann or Ben)"
    coord = AdjudicationRule("coordinator", ("Carla",))
    assert coord.may("carla", ["carla", "Ben"]) and not coord.may("Cy", ["Ann", "Ben"])
    assert coord.may("Dana", [], groups=("coordinators",))
    assert coord.who(["Ann",
                      "Ben"]) == ("the coordinator (Carla) (or, where staff sign in through JupyterHub, a member of "
                                  "its coordinators group)")
    senior = AdjudicationRule("senior", seniors=("Ann", "Sam"))
    assert senior.may("Ann", ["Ann", "Ben"]) and not senior.may("Sam", ["Ann", "Ben"])  # the senior OF THE TWO
    assert senior.may("Sam", ["Ben", "Cy"]) and not senior.may("Ben", ["Ben", "Cy"])
    assert senior.who(["Ben", "Ann"]) == "Ann (the senior of its two graders)"
    assert senior.who(["Ben", "Cy"]) == "a senior grader (Ann or Sam)"
    assert senior.sees_other_rating("ann", ["Ann", "Ben"]) and not senior.sees_other_rating("Sam", ["Ben", "Cy"])


def test_ratings_and_results_say_which_responses_wait_for_whom(gcourse):
    from exam_builder.grading.overview import settle_blanks, waiting_overview

    course = configured(gcourse, adjudicator="coordinator", coordinators=["Carla Coordinator"])
    grade_exam(course, kit.EXAM, actor="staff", workers=1)
    settle_blanks(course, kit.EXAM, "staff")
    item, _n = busiest_item(course)
    n = disagree(course, item, "Ann Grader", "Ben Grader")
    waits = RatingQueue(course, kit.EXAM, item).waiting()
    coordinator = ("the coordinator (Carla Coordinator) (or, where staff sign in through JupyterHub, a member of its "
                   "coordinators group)")
    assert [(w.step, w.who) for w in waits] == [("adjudication", coordinator)] * n
    groups, note = waiting_overview(course, kit.EXAM)
    assert note.startswith("adjudications are done by the coordinator (Carla Coordinator)")
    by_item = {(g.item_id, g.step, g.who): g.responses for g in groups}
    assert by_item[(item, "adjudication", coordinator)] == [w.anon_id for w in waits]
    others = {g.item_id for g in groups if g.item_id != item}
    assert others and all(by_item.get((i, "first rating", "any grader")) for i in others)
    out = CliRunner().invoke(cli, ["--course", str(course.root), "ratings", kit.EXAM])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "still waiting (adjudications are done by the coordinator (Carla Coordinator)" in text
    assert all(w.anon_id in out.output for w in waits[:6]) and "Carla" in out.output

    # results: each pending result says per question what it waits for and from whom
    res = {r.sitting_id: r for r in compute_results(course, kit.EXAM)}
    for w in waits:
        step = res[w.sitting_id].next_step
        assert step.startswith("waiting for Q") and f"adjudication by {coordinator}" in step, step
    assert all(r.next_step.startswith("waiting for Q") and "first rating by any grader" in r.next_step
               for r in res.values() if r.sitting_id not in {w.sitting_id for w in waits})
    out = CliRunner().invoke(cli, ["--course", str(course.root), "results", kit.EXAM, "--no-record"])
    assert out.exit_code == 0, out.output
    assert "adjudication by the coordinator" in " ".join(out.output.split())
