"""The candidate's score report: the cut as candidates read it (the smallest total on the form's grid
that passes), a figure of the subscores per competency with an alt text that states every number and a table beside it,
"not scored yet" rather than 0, nothing half-written, and zero axe-core findings in chromium at a
laptop, a phone and 200% zoom."""
from __future__ import annotations

import base64
import datetime as dt
import html as htmllib
import re
import types
from pathlib import Path

import a11y
import gradingkit as kit
import pytest
from test_grading_rating import rate_everything

from exam_builder import clock
from exam_builder.grading import score_report as sr
from exam_builder.grading.objective import grade_exam
from exam_builder.grading.queue import RatingQueue, open_items
from exam_builder.grading.results import Part, Result, compute_results, render_report, write_feedback
from exam_builder.settings.policy import ProgramPolicy
from exam_builder.settings.recourse import RecourseSettings

COMPS = ProgramPolicy().competencies  # slug -> name


def _course() -> types.SimpleNamespace:
    """What ``render_report`` reads of a course: its policy and the room's time zone (the report's date)."""
    return types.SimpleNamespace(policy=ProgramPolicy(), recourse_settings=RecourseSettings(),
                                 zone=clock.zone(clock.DEFAULT_ZONE))


def _result(scores: list[float | None], cut: float = 39.9, each: float = 19, step: float | None = 1) -> Result:
    """A result of three competencies of ``each`` points; ``None`` is a score not given yet."""
    total = None if any(s is None for s in scores) else sum(scores)
    status = "pending" if total is None else ("pass" if total + 1e-9 >= cut else "fail")
    return Result(sitting_id=1, candidate_id="c001", candidate_name="Sample Person", exam="cps", assignment="cps-a",
                  attempt_no=1, objective=Part(total, each * len(scores)),
                  open_response=Part(None if total is None else 0, 0),
                  total=Part(total, each * len(scores)), cut_score=cut,
                  competencies=dict(zip(COMPS, (Part(s, each) for s in scores), strict=False)), status=status,
                  score_step=step)


def _text(page_html: str) -> str:
    """The words of the page as a reader meets them (tags and the embedded image left out)."""
    body = re.sub(r"<img[^>]*>", " ", page_html)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", body)))


def _alt(page_html: str) -> str:
    return htmllib.unescape(re.search(r'<img [^>]*alt="([^"]*)"', page_html).group(1))


# -- the cut as candidates read it -------------------------------------------------------------------
def test_a_fractional_cut_reads_as_the_smallest_total_on_the_forms_grid():
    assert sr.points_to_reach(39.9) == 40
    assert sr.points_to_reach(40) == 40  # a whole cut stays
    assert sr.points_to_reach(0.7 * 40) == 28  # 28.000000000000004: still 28, not 29
    assert sr.points_to_reach(19.8) == 20
    assert sr.points_to_reach(38.19, 0.5) == 38.5 and sr.points_to_reach(38.5, 0.5) == 38.5
    assert sr.points_to_reach(37.32, 0.25) == 37.5 and sr.points_to_reach(37.32, None) == 37.32
    step = 1
    assert sr.cut_sentence(39.9, Part(43, 57), step) == "You needed 40 of 57 points; you scored 43."
    assert sr.cut_sentence(40, Part(43, 57), step) == "You needed 40 of 57 points; you scored 43."
    assert sr.cut_sentence(39.9, Part(None, 57),
                           step).startswith("You need 40 of 57 points to pass. Your total is not scored yet")
    assert sr.rounding_note(40, step) == ""  # nothing rounded, nothing to explain
    assert "39.9" in sr.rounding_note(39.9, step) and "whole points" in sr.rounding_note(39.9, step)


def test_the_forms_step_is_what_one_score_can_add():
    assert sr.score_step([1, 1, 2]) == 1
    assert sr.score_step([1, 6 / 2, 1.5 / 2, 0]) == 0.25  # rubric levels of 1.5 averaged over two raters
    assert sr.score_step([1, 0.5]) == 0.5
    assert sr.score_step([1, 2 / 3]) is None  # thirds: the cut is stated as it is
    assert sr.score_step([]) is None


def test_every_candidate_of_a_form_is_told_one_true_number():
    # the walkthrough's form A: cut 38.19, totals in half points; 38.5 passes, so "39" would be false
    for total in (38.0, 38.5, 39.0, 47.5, None):
        assert sr.stated_cut(38.19, 0.5) == 38.5
        assert sr.cut_sentence(38.19, Part(total, 57), 0.5).startswith(("You needed 38.5 of 57 points",
                                                                        "You need 38.5 of 57 points"))
        assert sr.rounding_note(38.19, 0.5) == ("The exam's pass mark is 38.19 points. Totals on this form go in "
                                                "steps of 0.5 points, so the smallest total that reaches it is "
                                                "38.5: the score you must reach.")
    assert sr.cut_sentence(37.32, Part(37.5, 57), None) == "You needed 37.32 of 57 points; you scored 37.5."
    assert sr.rounding_note(37.32, None) == ""


def test_the_report_states_one_cut_everywhere():
    page = render_report(_course(), _result([15, 14, 14]), "CPS exam")
    words = _text(page)
    assert "You needed 40 of 57 points; you scored 43." in words
    assert "Points needed to pass 40 of 57" in words
    assert "Total 43 of 57 40 needed to pass" in words  # the table beside the figure
    assert "Total: 43 of 57 points; needed to pass: 40 of 57 points." in _alt(page)
    # the exact cut appears once, in the sentence that explains the rounding, and nowhere else
    assert words.count("39.9") == 1 and "pass mark is 39.9 points. Totals on this form go in whole points" in words
    whole = _text(render_report(_course(), _result([15, 14, 14], cut=40), "CPS exam"))
    assert "You needed 40 of 57 points; you scored 43." in whole and "whole points" not in whole


# -- the figure ------------------------------------------------------------------------------------------
def test_the_figure_is_an_image_with_every_number_in_its_alt_text_and_a_table():
    page = render_report(_course(), _result([15, 10, 18]), "CPS exam")
    src = re.search(r'<img src="data:image/png;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(src).startswith(b"\x89PNG\r\n\x1a\n")
    alt = _alt(page)
    for name, got in zip(COMPS.values(), (15, 10, 18), strict=False):
        assert f"{name}: {got} of 19 points; guide line at about 13.3 points." in alt  # 39.9 / 57 x 19 = 13.3
    assert "Total: 43 of 57 points; needed to pass: 40 of 57 points." in alt
    words = _text(page)
    for name, got in zip(COMPS.values(), (15, 10, 18), strict=False):
        assert f"{name} {got} of 19 about 13.3" in words  # the same numbers, as a table
    assert "decided on your total alone" in words  # the per-competency line is a guide, and says so


def test_pending_is_written_and_drawn_as_not_scored_never_as_zero(monkeypatch):
    drawn = []
    monkeypatch.setattr(sr, "png", lambda fig: drawn.append(fig) or "")
    page = render_report(_course(), _result([15, None, 12]), "CPS exam")
    alt, words = _alt(page), _text(page)
    assert "In But Not Of the System: not scored yet (19 points available)" in alt
    assert "Total: not scored yet (57 points available)" in alt
    assert "In But Not Of the System not scored yet" in words and "Total not scored yet" in words
    assert not re.search(r"(?<![\d.])0 of (19|57)", words + alt)  # nothing reads as a score of 0
    assert "You need 40 of 57 points to pass. Your total is not scored yet" in words
    (ax,) = drawn[0].axes
    bars = [p for p in ax.patches if p.get_facecolor()[:3] == pytest.approx((11 / 255, 79 / 255, 138 / 255))]
    assert len(bars) == 2  # Peer Support and Change Agent; none for the pending competency or the pending total
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("not scored yet") == 2 and "In But Not Of the System: not scored yet" in texts
    import matplotlib.pyplot as plt

    plt.close(drawn[0])


def test_a_zero_is_a_zero_and_extra_credit_stays_in_the_bar():
    page = render_report(_course(), _result([0, 19, 20.5]), "CPS exam")
    alt = _alt(page)
    assert "Peer Support: 0 of 19 points" in alt and "Change Agent: 20.5 of 19 points" in alt
    assert "not scored yet" not in alt


# -- in the course: nbgrader's feedback layout, real results ---------------------------------------------
def test_reports_in_the_course_carry_the_figure_and_the_cut_as_read(gcourse, manifests):
    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)
    items = open_items(gcourse, kit.EXAM)
    rate_everything(gcourse, items[0][0])  # one written answer rated: the other competencies pending
    results = {r.candidate_id: r for r in compute_results(gcourse, kit.EXAM)}
    for path in write_feedback(gcourse, kit.EXAM):
        page, r = path.read_text(), results[path.parts[-3]]
        cut = manifests[r.assignment].cut_score
        assert cut == pytest.approx(19.8)  # 60% of 33
        alt, words = _alt(page), _text(page)
        assert "You need 20 of 33 points to pass" in words and "Points needed to pass 20 of 33" in words
        for slug, part in r.competencies.items():
            name = COMPS[slug]
            got = "not scored yet (11 points available)" if part.score is None else f"{sr.num(part.score)} of 11 points"
            assert f"{name}: {got}; guide line at about 6.6 points." in alt  # 19.8 / 33 x 11
        assert "not scored yet" in alt
    for item, _rubric in items:
        RatingQueue(gcourse, kit.EXAM, item).settle_blanks("staff")
        rate_everything(gcourse, item)
    final = compute_results(gcourse, kit.EXAM)
    assert all(r.final for r in final)
    for path, r in zip(write_feedback(gcourse, kit.EXAM, final), final, strict=False):
        words = _text(path.read_text())
        assert f"You needed 20 of 33 points; you scored {sr.num(r.total.score)}." in words
        assert "not scored yet" not in words


def test_exam_builder_feedback_tells_every_candidate_of_a_half_point_form_one_true_number(gcourse):
    """Two raters 1.5 points apart resolve by their mean, so totals fall on quarter points; with a cut of 19.6
    every report of every form says "You needed 19.75" (not 20: a total of 19.75 passes), whatever the total."""
    from click.testing import CliRunner
    from test_grading_rating import low, top, with_policy

    from exam_builder.cli import cli
    from exam_builder.records.models import Form, FormCut

    course = with_policy(gcourse, rating_tolerance=1.5)
    grade_exam(course, kit.EXAM, actor="staff", workers=1)
    for item, _rubric in open_items(course, kit.EXAM):
        q = RatingQueue(course, kit.EXAM, item)
        q.settle_blanks("staff")
        for grader, levels in (("Ann", top), ("Ben", low)) * 6:
            c = q.claim(grader)
            if c is not None:
                q.save(grader, c.rating_id, levels(q.rubric))
    with course.db.transaction() as s:  # a recorded re-cut (``standard recut``) to a cut off the grid
        for form in s.query(Form).all():
            s.add(FormCut(form_id=form.id, cut_score=19.6, previous=19.8, reason="test", actor="staff"))
    out = CliRunner().invoke(cli, ["--course", str(course.root), "feedback", kit.EXAM], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    results = {(r.candidate_id, r.assignment): r for r in compute_results(course, kit.EXAM)}
    assert any(r.total.score % 1 for r in results.values())  # fractional totals on the forms
    told: dict[str, set[str]] = {}
    for path in sorted(course.feedback_dir.rglob("*.html")):
        r = results[(path.parts[-3], path.parts[-2])]
        words = _text(path.read_text())
        told.setdefault(r.assignment, set()).update(re.findall(r"You needed ([\d.]+) of 33 points", words))
        assert ("The exam's pass mark is 19.6 points. Totals on this form go in steps of 0.25 points, so the "
                "smallest total that reaches it is 19.75: the score you must reach.") in words
        assert (r.total.score >= 19.75) == (r.status == "pass")  # the number told is the decision's
    assert told == {a: {"19.75"} for a in {a for _c, a in results}}


def test_a_report_that_cannot_be_made_leaves_every_report_as_it_was(gcourse, monkeypatch):
    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)
    before = {p: p.read_bytes() for p in write_feedback(gcourse, kit.EXAM)}
    assert len(before) == 6
    for item, _rubric in open_items(gcourse, kit.EXAM):  # the results change: every report would change
        RatingQueue(gcourse, kit.EXAM, item).settle_blanks("staff")
        rate_everything(gcourse, item)
    real, calls = sr.figure, []

    def breaks_on_the_fourth(rows):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("no room left for the figure")
        return real(rows)

    monkeypatch.setattr(sr, "figure", breaks_on_the_fourth)
    with pytest.raises(RuntimeError):
        write_feedback(gcourse, kit.EXAM)
    after = {p: p.read_bytes() for p in gcourse.feedback_dir.rglob("*") if p.is_file()}
    assert after == before  # none rewritten, none half-written, no temporary file left behind


# -- subscores only where their reliability supports them ---------------------------------------------------
def _precision(*alphas: float | None) -> dict[str, sr.SubscorePrecision]:
    return {slug: sr.SubscorePrecision(a, 18, 14, 0.70) for slug, a in zip(COMPS, alphas, strict=False)}


def test_a_subscore_is_shown_only_when_its_reliability_supports_it():
    names = list(COMPS.values())
    page = render_report(_course(), _result([15, 14, 14]), "CPS exam", _precision(0.81, 0.55, None))
    words, alt = _text(page), _alt(page)
    assert "This exam is not designed to report some core competencies precisely, so no score is shown for them. " \
           "Your result is decided on your total alone." in words
    assert (f"{names[1]}: its 14 question(s) measure it with a reliability of 0.55; a subscore is shown from 0.70."
            in words)
    # two decimals, as every coefficient: 0.30, never 0.3 beside 0.46 (walk finding 13)
    page = render_report(_course(), _result([15, 14, 14]), "CPS exam", _precision(0.81, 0.3, None))
    assert "with a reliability of 0.30; a subscore is shown from 0.70." in _text(page)
    assert f"{names[2]}: too few candidates have sat this form to tell how precisely its 14 question(s) measure it." \
        in words
    assert f"{names[0]}: 15 of 19 points" in alt and names[1] not in alt and names[2] not in alt
    assert "14 of 19" not in words  # neither withheld subscore is printed anywhere
    every = render_report(_course(), _result([15, 14, 14]), "CPS exam", _precision(0.5, 0.6, 0.69))
    assert "not designed to report the core competencies precisely" in _text(every)
    assert "<figure>" not in every and "You needed 40 of 57 points; you scored 43." in _text(every)
    shown = render_report(_course(), _result([15, 14, 14]), "CPS exam", _precision(0.7, 0.75, 0.9))
    assert "not designed" not in shown and all(n in _alt(shown) for n in names)
    assert render_report(_course(), _result([15, 14, 14]), "CPS exam") == render_report(
        _course(), _result([15, 14, 14]), "CPS exam", None)  # no evidence asked for: every subscore, as before


def test_subscore_reliability_is_coefficient_alpha_of_the_competencys_items():
    import numpy as np
    import pandas as pd
    import pingouin as pg

    from exam_builder.analysis import psychometrics as pm

    rng = np.random.default_rng(12)
    th = rng.normal(size=40)
    x = pd.DataFrame((rng.random((40, 9)) < 1 / (1 + np.exp(-(th[:, None] - np.linspace(-1, 1, 9))))).astype(float),
                     columns=range(1, 10))
    comps = {n: ("a" if n <= 4 else "b" if n <= 8 else "c") for n in x.columns}
    got = pm.subscore_reliability(x, pd.Series(1.0, index=x.columns), comps, min_n=10)
    assert got["a"][0] == pytest.approx(pg.cronbach_alpha(x[[1, 2, 3, 4]])[0])
    assert got["b"][0] == pytest.approx(pg.cronbach_alpha(x[[5, 6, 7, 8]])[0])
    assert got["c"] == (None, 40, 1)  # one item: no reliability to speak of
    assert pm.subscore_reliability(x.iloc[:9], pd.Series(1.0, index=x.columns), comps, min_n=10)["a"] == (None, 9, 4)


def test_exam_builder_feedback_withholds_subscores_it_cannot_support(gcourse):
    """Six candidates: too few to know any subscore's precision, so `exam-builder feedback` names every
    competency as not reported precisely."""
    from click.testing import CliRunner

    from exam_builder.cli import cli

    grade_exam(gcourse, kit.EXAM, actor="staff", workers=1)
    for item, _rubric in open_items(gcourse, kit.EXAM):
        RatingQueue(gcourse, kit.EXAM, item).settle_blanks("staff")
        rate_everything(gcourse, item)
    out = CliRunner().invoke(cli, ["--course", str(gcourse.root), "feedback", kit.EXAM], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    pages = sorted(gcourse.feedback_dir.rglob("*.html"))
    assert pages
    for path in pages:
        words = _text(path.read_text())
        assert "not designed to report the core competencies precisely" in words
        assert "too few candidates have sat this form to tell how precisely" in words


def test_a_final_result_says_whom_to_appeal_to_and_by_when():
    """ISO/IEC 17024 9.8: the candidate learns of the appeals process from the report itself: the contact, the
    last day (counted from the day the outcome was recorded, as ``appeals.record`` counts it) and whether an
    appeal can lower a score. A result not given yet says nothing of appeals."""
    course = _course()
    course.policy.contact = "the CPS office (exams@example.org)"
    failed = _result([10, 13, 11], cut=40)
    failed.outcome_at = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.timezone.utc)  # 10:00 in Boston
    words = _text(render_report(course, failed, "Certified Peer Specialist exam"))
    assert ("If you think your result is wrong If you think a mistake was made in scoring your exam or in how it was "
            "run, you may appeal. Write what you appeal and why to the CPS office (exams@example.org). Your appeal "
            "must arrive by Friday 1 January 2027 (30 days from Wednesday 2 December 2026, the date of this "
            "result). An appeal never lowers your score.") in words
    course.recourse_settings.appeal_may_lower = True
    course.recourse_settings.appeal_deadline_days = 14
    words = _text(render_report(course, failed, "Certified Peer Specialist exam"))
    assert "must arrive by Wednesday 16 December 2026 (14 days from" in words
    assert "may get more or fewer points" in words and "never lowers" not in words
    assert "appeal" not in _text(render_report(course, _result([15, None, 12]), "Certified Peer Specialist exam"))


# -- in a browser ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def report_pages(tmp_path_factory) -> dict[str, Path]:
    """Score reports as files: passed with a rounded cut, pending, not passed."""
    folder = tmp_path_factory.mktemp("score-reports")
    out = {}
    for name, result in (("passed", _result([15, 14, 14])), ("pending", _result([15, None, 12])),
                         ("not-passed", _result([10, 13, 11], cut=40))):
        out[name] = folder / f"{name}.html"
        out[name].write_text(render_report(_course(), result, "Certified Peer Specialist exam"), encoding="utf-8")
    out["subscores-withheld"] = folder / "subscores-withheld.html"  # one subscore shown, two not precise enough
    out["subscores-withheld"].write_text(render_report(_course(), _result([15, 14, 14]), "Certified Peer Specialist "
                                                       "exam", _precision(0.81, 0.55, None)), encoding="utf-8")
    return out


@pytest.mark.browser
@pytest.mark.timeout(300)
@pytest.mark.parametrize("size", list(a11y.SIZES))
def test_score_reports_pass_axe_at_every_size(report_pages, browser, size):
    ctx = browser.new_context(**a11y.SIZES[size])
    try:
        page = ctx.new_page()
        for name, path in report_pages.items():
            page.goto(path.as_uri())
            img = page.get_by_role("img")
            assert "Bar chart of your points by core competency" in img.get_attribute("alt")
            assert page.evaluate("() => { const i = document.querySelector('figure img'); "
                                 "return i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().right <= "
                                 "document.documentElement.clientWidth; }"), f"{name}: the figure does not fit"
            a11y.check_screen(page, "score-report", size, name)
    finally:
        ctx.close()


# -- a provisional pass, and the appeal letter, in a browser ----------------------------------------------------
def _letter_pages(folder: Path) -> dict[str, Path]:
    """Appeal letters as files: a score appeal upheld that turns a fail into a pass (provisional), and one denied
    whose lower re-rating keeps its score."""
    import datetime as dt

    from exam_builder.grading.appeals import Effect, render_letter
    from exam_builder.settings.recourse import RecourseSettings

    course = types.SimpleNamespace(policy=ProgramPolicy(), zone=clock.zone(clock.DEFAULT_ZONE),
                                   recourse_settings=RecourseSettings())
    out = {}
    for name, decision, effect, was, now in (
            ("upheld", "upheld", Effect(10, 13, 13, False), _result([12, 13, 11]), _result([12, 13, 16])),
            ("denied", "denied", Effect(14.5, 12, 14.5, False, ("or-2",)), _result([12, 13, 11]),
             _result([12, 13, 11]))):
        now.provisional = name == "upheld"
        a = types.SimpleNamespace(category="score", decision=decision, decision_reason="a rater who had not rated "
                                  "your written answers rated them again", voided=False, words="Marked too low.",
                                  received_on=dt.date(2026, 12, 1), decided_at=dt.datetime(2026, 12, 4, 15, 0))
        out[name] = folder / f"letter-{name}.html"
        out[name].write_text(render_letter(course, a, "Certified Peer Specialist exam", "Sample Person", now, was,
                                           effect, decision != "denied"), encoding="utf-8")
    return out


def test_a_provisional_pass_says_provisional_in_its_headline_and_next_step():
    page = _text(render_report(_course(), _provisional_pass(),
                               "Certified Peer Specialist exam"))
    assert "Passed (provisional)" in page and "Provisional result." in page
    assert "Your pass is provisional" in page and "Congratulations" not in page
    final = _text(render_report(_course(), _result([15, 14, 14]), "Certified Peer Specialist exam"))
    assert "provisional" not in final.lower() and "Congratulations: you have passed" in final


def _provisional_pass() -> Result:
    r = _result([15, 14, 14])
    r.provisional = True
    return r


def test_an_appeal_letter_says_what_follows_in_plain_words(tmp_path):
    pages = {k: _text(p.read_text()) for k, p in _letter_pages(tmp_path).items()}
    up = pages["upheld"]
    assert "your appeal is upheld" in up
    assert "Your re-rated written answers now have 13 point(s) in all, against 10 before the appeal." in up
    assert ("Your total is now 41 of 57 points (40 are needed to pass): you have passed (provisional). Before the "
            "appeal your total was 36 and you had not passed: your result has changed.") in up
    assert "What happens next Your pass is provisional" in up
    assert f"contact {ProgramPolicy().contact}" in up
    down = pages["denied"]
    assert "The new rating was lower on 1 answer(s); that answer keeps the score it had, because this program " \
           "never lowers a score on appeal." in down
    assert "you have not passed. Your total and your result are the same as before the appeal." in down
    assert "You can take the exam again (2 attempts left)." in down
    for words in pages.values():
        assert "RecourseSettings" not in words and "appeal_may_lower" not in words and "ProgramPolicy" not in words


@pytest.mark.browser
@pytest.mark.timeout(300)
@pytest.mark.parametrize("size", list(a11y.SIZES))
def test_appeal_letters_and_a_provisional_report_pass_axe_at_every_size(tmp_path, browser, size):
    pages = _letter_pages(tmp_path)
    pages["provisional"] = tmp_path / "provisional.html"
    pages["provisional"].write_text(render_report(_course(), _provisional_pass(), "Certified Peer Specialist exam"),
                                    encoding="utf-8")
    ctx = browser.new_context(**a11y.SIZES[size])
    try:
        page = ctx.new_page()
        for name, path in pages.items():
            page.goto(path.as_uri())
            assert page.get_by_role("heading", level=1).is_visible()
            a11y.check_screen(page, "appeal-letter" if name != "provisional" else "score-report", size, name)
    finally:
        ctx.close()
