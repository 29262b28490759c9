"""Comments on questions during the exam, without a browser: saved like an answer, limited like one.

A comment goes through ``CandidateSession.comment`` (what the page's Save comment button calls):
committed at once, the latest per question wins, kept after the submit, refused after it, refused
past its stated size, and counted against the same journal limits as answers (rows and rate).
"""
from __future__ import annotations

import datetime as dt

import delivery_formkit as formkit
import pytest
from sqlalchemy import select

from exam_builder.delivery.session import CandidateSession, LimitReached, SittingClosed
from exam_builder.records.models import ItemComment, Response, SittingEvent, utcnow


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now


def _started(course, form_id, candidate="c001", code="CMT1-TEST"):
    sid = formkit.add_sitting(course, candidate, code, form_id)
    clock = Clock()
    cs = CandidateSession(course, clock=clock).sign_in(code)
    cs.confirm_identity()
    cs.start()
    return sid, cs, clock


def _comments(course, sid):
    with course.db.read() as s:
        return [(c.item_id, c.text) for c in s.execute(select(ItemComment).where(ItemComment.sitting_id == sid)
                                                       .order_by(ItemComment.id)).scalars()]


def test_a_comment_is_saved_at_once_the_latest_wins_and_it_is_kept_after_the_submit(dcourse, form_id):
    sid, cs, _clock = _started(dcourse, form_id)
    assert cs.comment("mc-mutual", "  B could also be right:\x00 the stem does not say who. ") == \
        "B could also be right: the stem does not say who."
    assert cs.comment("mc-mutual", "B could also be right: the stem does not say who.") == \
        "B could also be right: the stem does not say who."  # the same text again adds no row
    cs.comment("sc-q1", "Unclear")
    cs.comment("sc-q1", "Unclear: 'first' before or after the alarm?")
    assert _comments(dcourse, sid) == [("mc-mutual", "B could also be right: the stem does not say who."),
                                       ("sc-q1", "Unclear"), ("sc-q1", "Unclear: 'first' before or after the alarm?")]
    # a new page (a reload) finds the comment again; answers are untouched by it
    again = CandidateSession(dcourse).sign_in("CMT1-TEST")
    assert again.comment_of("sc-q1") == "Unclear: 'first' before or after the alarm?"
    assert again.answers() == {}
    again.submit()
    with pytest.raises(SittingClosed):
        again.comment("tf-hope", "too late")
    assert len(_comments(dcourse, sid)) == 3  # kept after the submit, nothing added
    with dcourse.db.read() as s:
        assert s.execute(select(Response).where(Response.sitting_id == sid)).first() is None


def test_a_comment_past_its_stated_size_is_refused_and_logged(dcourse, form_id):
    sid, cs, _clock = _started(dcourse, form_id)
    limit = dcourse.recourse_settings.max_comment_chars
    assert limit == 1000
    with pytest.raises(LimitReached) as exc:
        cs.comment("tf-hope", "x" * (limit + 1))
    assert exc.value.why == "size" and "longer than 1,000 characters" in str(exc.value)
    cs.comment("tf-hope", "x" * limit)
    assert _comments(dcourse, sid) == [("tf-hope", "x" * limit)]
    with dcourse.db.read() as s:
        kinds = [(e.kind, e.details.get("what")) for e in s.execute(
            select(SittingEvent).where(SittingEvent.sitting_id == sid)).scalars()]
    assert ("limit", "comment") in kinds


def test_comments_count_against_the_answers_journal_limits(dcourse, form_id):
    dcourse.delivery_settings.max_saves_per_minute = 3
    sid, cs, clock = _started(dcourse, form_id)
    cs.answer("tf-hope", "A")
    cs.comment("tf-hope", "one")
    cs.comment("tf-hope", "two")
    with pytest.raises(LimitReached) as exc:  # the fourth save of the minute, whichever kind
        cs.answer("mc-mutual", "B")
    assert exc.value.why == "rate"
    with pytest.raises(LimitReached):
        cs.comment("mc-mutual", "three")
    clock.now += dt.timedelta(minutes=1, seconds=1)
    cs.comment("mc-mutual", "three")
    dcourse.delivery_settings.max_journal_rows = 5
    cs.answer("mc-mutual", "B")
    with pytest.raises(LimitReached) as exc:
        cs.comment("sc-q1", "six")
    assert exc.value.why == "rows"
    assert len(_comments(dcourse, sid)) == 3
