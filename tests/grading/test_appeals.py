"""Appeals through the real CLI: recorded with the deadline enforced, re-rated blind, decided, voided.

The grading tests' course, scored, rated by Ann and Ben, outcomes recorded. A score appeal is
refused for a rater who rated the answers, goes to Cara, who sees the answers without a name or an
earlier rating; upheld, her scores become the decided ones (sealed in nbgrader's gradebook, so the
result is trusted), the outcome and the score report follow, a letter is written; the audit trail
verifies. A procedure appeal upheld with --void leaves the sitting voided and not an attempt. An
appeal past the deadline is refused with the dates. The log counts them.
"""
from __future__ import annotations

import datetime as dt

import gradingkit as kit
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from test_grading_rating import rate_everything

from exam_builder import clock
from exam_builder.cli import cli
from exam_builder.grading.appeals import appeals_log, rerating_states, to_rerate
from exam_builder.grading.objective import grade_exam
from exam_builder.grading.queue import RatingQueue, load_rubric_for, open_items
from exam_builder.grading.results import compute_results, next_step_words, record_outcomes
from exam_builder.grading.score_report import num, stated_cut
from exam_builder.records.models import Appeal, ItemScore, Sitting, utcnow


@pytest.fixture
def decided(gcourse):
    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)
    for item, _r in open_items(gcourse, kit.EXAM):
        RatingQueue(gcourse, kit.EXAM, item).settle_blanks("staff")
        rate_everything(gcourse, item, levels=lambda r: {c.id: c.levels[0].points for c in r.criteria})
    record_outcomes(gcourse, compute_results(gcourse, kit.EXAM), "staff")
    return gcourse


def run(course, *args: str, code: int = 0) -> str:
    out = CliRunner().invoke(cli, ["--course", str(course.root), *args], catch_exceptions=False)
    assert out.exit_code == code, out.output
    return out.output


def letter_words(path) -> str:
    """An appeal letter as the candidate reads it (its words, tags dropped)."""
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8").split("<main>")[1]).split())


def today(course) -> dt.date:
    return clock.wall(utcnow(), course.zone).date()


def test_a_score_appeal_is_rerated_blind_and_decided_through_the_scoring_path(decided, monkeypatch):
    course = decided
    results = compute_results(course, kit.EXAM)
    with course.db.read() as s:  # every written answer written (one left blank stays 0: the test below)
        blank = set(s.execute(select(ItemScore.sitting_id).where(ItemScore.rule == "no_response")).scalars())
    r = next(r for r in results if r.open_response.score is not None and r.open_response.score < r.open_response.max
             and r.sitting_id not in blank)
    sid = r.sitting_id
    run(course, "appeal", "record", str(sid), "--category", "score", "--words", "My written answers deserve more.",
        "--received", today(course).isoformat(), "--by", "Carla")
    with course.db.read() as s:
        aid = s.execute(select(Appeal.id)).scalar_one()
    out = run(course, "appeal", "assign", str(aid), "--rater", "ann", "--by", "Carla", code=1)
    assert "rated this candidate's written answers before" in out
    run(course, "appeal", "assign", str(aid), "--rater", "Cara", "--by", "Carla")
    shown = to_rerate(course, aid, "Cara")
    assert shown and all(not x.rated for x in shown)
    assert r.candidate_id not in repr(shown) and r.candidate_name not in repr(shown)  # blind: no name
    out = run(course, "appeal", "decide", kit.EXAM, str(aid), "upheld", "--reason", "x", "--by", "Carla", code=1)
    assert "re-rating is not finished" in out
    first = load_rubric_for(course, shown[0].rubric_id)  # a level named wrong or left out: told the ids to type
    out = run(course, "appeal", "rerate", str(aid), shown[0].item_id, "--rater", "Cara", "--level=nope=1", code=1)
    assert f"(its criteria: {', '.join(c.id for c in first.criteria)})" in out
    assert f"choose a level for '{first.criteria[0].name}' (criterion {first.criteria[0].id})" in out
    for x in shown:
        rubric = load_rubric_for(course, x.rubric_id)
        args = [f"--level={c.id}={c.max_points:g}" for c in rubric.criteria]
        run(course, "appeal", "rerate", str(aid), x.item_id, "--rater", "Cara", *args)
    # the candidate's report was printed (feedback --pdf); here no browser can print it again: the stale PDF goes
    from exam_builder.files import replace_file

    stale = course.exports_dir(kit.EXAM) / "score-reports" / f"{r.candidate_id}-{r.assignment}.pdf"
    replace_file(stale, b"%PDF-1.4 the earlier report", course.root)
    monkeypatch.setenv("EXAM_BUILDER_CHROMIUM", "no-such-browser-zq")
    open_state = rerating_states(course, kit.EXAM)[aid]
    assert open_state.finished and open_state.before is not None
    out = run(course, "appeal", "decide", kit.EXAM, str(aid), "upheld", "--reason",
              "the answers meet every criterion", "--by", "Carla")
    assert "upheld" in out and "letter" in out
    assert "1 printable score report(s) (PDF) removed, since they showed the earlier report" in " ".join(out.split())
    assert not stale.exists()
    after = {x.sitting_id: x for x in compute_results(course, kit.EXAM)}[sid]
    assert not after.tampered and after.open_response.score == after.open_response.max
    with course.db.read() as s:
        rules = set(s.execute(select(ItemScore.rule).where(ItemScore.sitting_id == sid)).scalars())
        outcome = str(s.get(Sitting, sid).outcome)
    assert rules == {"appeal"}
    assert outcome == str(after.status)
    letter = course.feedback_path(r.candidate_id, r.assignment) / f"appeal-{aid}.html"
    assert "upheld" in letter.read_text() and "rated again by a rater who had not rated them" in letter.read_text()
    words = letter_words(letter)  # what follows, in plain words: the total, pass or fail, what changed, next, whom
    assert (f"Your total is now {num(after.total.score)} of {num(after.total.max)} points "
            f"({num(stated_cut(after.cut_score, after.score_step))} are needed to pass): you have "
            f"{'passed' if after.status == 'pass' else 'not passed'}") in words
    if after.status != r.status:
        assert f"Before the appeal your total was {num(r.total.score)}" in words and "your result has changed" in words
    assert "What happens next" in words and next_step_words(course.policy, after) in words
    assert f"contact {course.policy.contact}" in words
    assert "Your re-rated written answers now have" in words
    assert "RecourseSettings" not in words and "ProgramPolicy" not in words
    # decided, the re-rating still reads against the points before the decision (as while it was open)
    decided_state = rerating_states(course, kit.EXAM)[aid]  # what `appeal list` and the desk's Appeals screen show
    assert decided_state.before == open_state.before and f"(before: {open_state.before:g})" in decided_state.text()
    others = {x.sitting_id: x.total.score for x in results if x.sitting_id != sid}
    assert {x.sitting_id: x.total.score for x in compute_results(course, kit.EXAM) if x.sitting_id != sid} == others
    assert "audit trail intact" in run(course, "audit", "verify")
    out = run(course, "appeal", "decide", kit.EXAM, str(aid), "denied", "--reason", "again", "--by", "Carla", code=1)
    assert "already decided" in out


def test_a_procedure_appeal_can_void_the_sitting_and_late_appeals_are_refused(decided):
    course = decided
    sid = compute_results(course, kit.EXAM)[0].sitting_id
    with course.db.transaction() as s:  # the score report went out 40 days ago
        s.get(Sitting, sid).outcome_at = utcnow() - dt.timedelta(days=40)
    out = run(course, "appeal", "record", str(sid), "--category", "score", "--words", "late", "--received",
              today(course).isoformat(), "--by", "Carla", code=1)
    assert "more than 30 days after the score report" in out and "deadline was" in out
    received = (today(course) - dt.timedelta(days=15)).isoformat()
    run(course, "appeal", "record", str(sid), "--category", "procedure", "--words",
        "The fire alarm rang for an hour and nobody stopped the clock.", "--received", received, "--by", "Carla")
    with course.db.read() as s:
        aid = s.execute(select(Appeal.id)).scalar_one()
    run(course, "appeal", "decide", kit.EXAM, str(aid), "upheld", "--void", "--reason",
        "the clock was not stopped during the alarm", "--by", "Carla")
    with course.db.read() as s:
        sit = s.get(Sitting, sid)
        assert str(sit.status) == "voided" and sit.attempt_no is None
    log = appeals_log(course, kit.EXAM)
    assert log.counts == {("procedure", "upheld"): 1} and log.voided == 1 and log.days_to_decision == [15]
    assert "procedure upheld: 1" in run(course, "appeal", "list", kit.EXAM)


# -- the decision agrees with the direction of the re-rating; lowering a score is the program's setting ----------
def _appeal_rerated(course, level) -> tuple[int, object]:
    """A score appeal of a sitting with written answers, every answer re-rated by Cara at ``level`` (a rubric ->
    the levels chosen); (appeal id, the result before)."""
    r = next(r for r in compute_results(course, kit.EXAM) if r.open_response.max > 0)
    run(course, "appeal", "record", str(r.sitting_id), "--category", "score", "--words", "Marked too low.",
        "--received", today(course).isoformat(), "--by", "Carla")
    with course.db.read() as s:
        aid = max(s.execute(select(Appeal.id)).scalars())
    run(course, "appeal", "assign", str(aid), "--rater", "Cara", "--by", "Carla")
    for x in to_rerate(course, aid, "Cara"):
        rubric = load_rubric_for(course, x.rubric_id)
        run(course, "appeal", "rerate", str(aid), x.item_id, "--rater", "Cara",
            *[f"--level={c.id}={p:g}" for c, p in zip(rubric.criteria, level(rubric), strict=True)])
    return aid, r


def _lowest(rubric) -> list[float]:
    return [c.levels[0].points for c in rubric.criteria]


def _highest(rubric) -> list[float]:
    return [c.max_points for c in rubric.criteria]


@pytest.fixture
def rated_high(gcourse):
    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)
    for item, _r in open_items(gcourse, kit.EXAM):
        RatingQueue(gcourse, kit.EXAM, item).settle_blanks("staff")
        rate_everything(gcourse, item)  # every criterion at its top level
    record_outcomes(gcourse, compute_results(gcourse, kit.EXAM), "staff")
    return gcourse


def _total(course, sitting_id: int) -> float:
    return next(r for r in compute_results(course, kit.EXAM) if r.sitting_id == sitting_id).total.score


def test_a_lower_rerating_is_no_upheld_appeal_and_by_default_lowers_no_score(rated_high):
    course = rated_high
    aid, r = _appeal_rerated(course, _lowest)
    for verdict in ("upheld", "partly"):
        out = run(course, "appeal", "decide", kit.EXAM, str(aid), verdict, "--reason", "x", "--by", "Carla", code=1)
        assert f"appeal {aid} cannot be " in out and "the result does not improve" in out
        assert "scores are not lowered on appeal (c.RecourseSettings.appeal_may_lower = False)" in out
    out = " ".join(run(course, "appeal", "decide", kit.EXAM, str(aid), "denied", "--reason",
                       "the answers were rated as the rubric says", "--by", "Carla").split())
    assert f"appeal {aid} denied: 0 score(s) changed" in out and "scores are not lowered on appeal" in out
    assert _total(course, r.sitting_id) == r.total.score  # the lower re-rating changed nothing
    letter = letter_words(course.feedback_path(r.candidate_id, r.assignment) / f"appeal-{aid}.html")
    assert "written again with the new scores" not in letter
    assert "that answer keeps the score it had, because this program never lowers a score on appeal" in letter \
        or "those answers keep the scores they had, because this program never lowers a score on appeal" in letter
    assert "RecourseSettings" not in letter and "appeal_may_lower" not in letter
    assert "Your total and your result are the same as before the appeal." in letter


def test_a_program_that_lets_an_appeal_lower_a_score_records_the_lower_rerating_with_the_appeal_denied(rated_high):
    course = rated_high
    cfg = course.root / "nbgrader_config.py"
    cfg.write_text(cfg.read_text() + "\nc.RecourseSettings.appeal_may_lower = True\n")
    aid, r = _appeal_rerated(course, _lowest)
    out = run(course, "appeal", "decide", kit.EXAM, str(aid), "partly", "--reason", "x", "--by", "Carla", code=1)
    assert "cannot be partly upheld" in out and "the lower re-rating counts" in out
    out = " ".join(run(course, "appeal", "decide", kit.EXAM, str(aid), "denied", "--reason",
                       "the re-rating is lower", "--by", "Carla").split())
    assert f"appeal {aid} denied:" in out and "the lower re-rating counts" in out
    assert _total(course, r.sitting_id) < r.total.score  # lowered, as the program allows
    assert "audit trail intact" in run(course, "audit", "verify")


def test_a_higher_rerating_cannot_be_denied(decided):
    course = decided
    aid, r = _appeal_rerated(course, _highest)
    out = run(course, "appeal", "decide", kit.EXAM, str(aid), "denied", "--reason", "x", "--by", "Carla", code=1)
    assert f"appeal {aid} cannot be denied" in out and "the result improves" in out
    run(course, "appeal", "decide", kit.EXAM, str(aid), "partly", "--reason", "more points", "--by", "Carla")
    assert _total(course, r.sitting_id) > r.total.score


def test_an_answer_left_blank_is_not_sent_for_re_rating_and_stays_at_0(decided):
    """A blank written answer was settled 0 without a rating ("no response"): the appeal's rater is not
    shown an empty answer to rate; the CLI and the coordinator's re-rating line say it stays at 0, a
    re-rating of it is refused, and the appeal is decided on the answers that were written."""
    course = decided
    with course.db.read() as s:
        blank = s.execute(select(ItemScore.sitting_id, ItemScore.item_id)
                          .where(ItemScore.rule == "no_response").order_by(ItemScore.sitting_id)).all()
        rated = {(sid, item) for sid, item in s.execute(select(ItemScore.sitting_id, ItemScore.item_id)
                                                        .where(ItemScore.rule != "no_response")).all()}
    sid = next(sid for sid, _item in blank if any(x == sid for x, _i in rated))  # blank and written answers
    left = sorted(item for x, item in blank if x == sid)
    run(course, "appeal", "record", str(sid), "--category", "score", "--words", "Look again.",
        "--received", today(course).isoformat(), "--by", "Carla")
    with course.db.read() as s:
        aid = max(s.execute(select(Appeal.id)).scalars())
    out = " ".join(run(course, "appeal", "assign", str(aid), "--rater", "Cara", "--by", "Carla").split())
    assert f"{len(left)} answer(s) left blank stay at 0 (nothing to re-rate)" in out
    shown = to_rerate(course, aid, "Cara")
    assert shown and not {x.item_id for x in shown} & set(left)
    assert all(x.answer.strip() for x in shown)  # never an empty Answer box
    rubric = load_rubric_for(course, shown[0].rubric_id)
    levels = [f"--level={c.id}={c.max_points:g}" for c in rubric.criteria]
    out = " ".join(run(course, "appeal", "rerate", str(aid), left[0], "--rater", "Cara", *levels, code=1).split())
    assert f"{left[0]!r} was left blank in sitting {sid}: it stays at 0" in out
    line = rerating_states(course, kit.EXAM)[aid].text()  # `appeal list` and the coordinator's Appeals screen
    assert line == (f"0 of {len(shown)} written answer(s) re-rated by Cara: waiting; {len(left)} blank answer(s) "
                    "stay at 0 (not re-rated)")
    for x in shown:
        rubric = load_rubric_for(course, x.rubric_id)
        run(course, "appeal", "rerate", str(aid), x.item_id, "--rater", "Cara",
            *[f"--level={c.id}={c.max_points:g}" for c in rubric.criteria])
    run(course, "appeal", "decide", kit.EXAM, str(aid), "upheld", "--reason", "the written answers meet the rubric",
        "--by", "Carla")  # decided on the written answers: the blank ones never held it up
    with course.db.read() as s:
        rules = dict(s.execute(select(ItemScore.item_id, ItemScore.rule).where(ItemScore.sitting_id == sid)).all())
    assert {rules[i] for i in left} == {"no_response"} and {rules[x.item_id] for x in shown} == {"appeal"}
