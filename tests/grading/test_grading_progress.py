"""Progress on the grader's desk: "N of M left for you" is what the queue will still hand you.

"Left for you" counts the responses ``RatingQueue.claim`` would give this grader if nobody else
moved: the one they hold, plus responses where a needed rating is free (a first rating nobody has
taken, a second or an adjudication they may take: never a second role on a response they already
touch). Graders once saw 5, 3, 1, 0 while 3 responses were offered; these tests count with several
graders at once.
"""
from __future__ import annotations

import gradingkit as kit
import pytest
from test_grading_rating import low, top, with_policy

from exam_builder.grading.grader_app import GraderApp, GraderSession, progress_text
from exam_builder.grading.queue import Progress, RatingQueue, open_items


def busiest_item(course) -> tuple[str, int]:
    """The open item with the most non-blank responses, and how many it has."""
    counts = {item: sum(not r.blank for r in RatingQueue(course, kit.EXAM, item).responses())
              for item, _rubric in open_items(course, kit.EXAM)}
    item = max(counts, key=counts.get)
    return item, counts[item]


def rate_all(q: RatingQueue, rater: str, levels) -> list[int]:
    """Take and save every response ``rater`` is offered; the "left" count shown before each."""
    seen = []
    while (claim := q.claim(rater)) is not None:
        seen.append(q.progress(rater).open_for_me)
        q.save(rater, claim.rating_id, levels(q.rubric))
    return seen


def test_left_for_you_counts_down_one_per_response_offered(gcourse):
    item, n = busiest_item(gcourse)
    assert n >= 3
    q = RatingQueue(gcourse, kit.EXAM, item)
    start = q.progress("Ann")
    assert (start.open_for_me, start.responses, start.waiting_second, start.needed) == (n, n, 0, 2 * n)
    assert rate_all(q, "Ann", top) == list(range(n, 0, -1))  # n offered: n, n-1, ... 1 (not 2n-1, 2n-3 ...)
    ann = q.progress("Ann")
    assert (ann.mine, ann.open_for_me, ann.waiting_second) == (n, 0, n)  # never her own responses again
    ben = q.progress("Ben")
    assert (ben.open_for_me, ben.waiting_second, ben.second_for_me) == (n, n, n)  # every second rating is Ben's
    assert progress_text(ben) == (f"Your progress on this question: you rated 0; {n} of {n} left for you ({n} of them "
                                  "a second rating); 0 waiting for a second rating by another grader.")  # once, as his
    assert rate_all(q, "Ben", low) == list(range(n, 0, -1))
    # the two ratings differ by more than the tolerance: each response waits for a third grader
    for who, left in (("Ann", 0), ("Ben", 0), ("Cy", n)):
        p = q.progress(who)
        assert (p.open_for_me, p.waiting_second, p.waiting_adjudication) == (left, 0, n), who
    assert rate_all(q, "Cy", top) == list(range(n, 0, -1))
    assert q.progress("Cy") == Progress(mine=n, open_for_me=0, needed=0, responses=n)


def test_left_for_you_while_others_hold_responses(gcourse):
    course = with_policy(gcourse, rating_tolerance=5.0)
    item, n = busiest_item(course)
    q = RatingQueue(course, kit.EXAM, item)
    a1 = q.claim("Ann")  # Ann holds the first rating of the first response
    assert q.progress("Ann").open_for_me == n  # the one she holds counts
    b1 = q.claim("Ben")  # Ben may take its second rating while Ann still works on the first
    assert (b1.anon_id, b1.role) == (a1.anon_id, "second")
    assert q.progress("Ben").open_for_me == n
    c1 = q.claim("Cy")  # Cy gets the next response; the first one is held in both roles
    assert c1.anon_id != a1.anon_id
    assert q.progress("Cy").open_for_me == n - 1
    q.save("Ann", a1.rating_id, top(q.rubric))
    assert q.progress("Dee").waiting_second == 1  # rated once, its second held by Ben, not yet saved
    q.save("Ben", b1.rating_id, top(q.rubric))
    p = q.progress("Dee")
    assert (p.waiting_second, p.waiting_adjudication, p.open_for_me) == (0, 0, n - 1)
    # each count is what claim hands out: Dee takes exactly that many
    assert len(rate_all(q, "Dee", top)) == n - 1


def test_a_response_given_back_is_not_left_for_that_grader(gcourse):
    item, n = busiest_item(gcourse)
    ann = GraderSession(gcourse, kit.EXAM)
    ann.sign_in("Ann Grader")
    ann.pick(item)
    assert ann.progress().open_for_me == n
    ann.give_back()
    assert ann.progress().open_for_me == n - 1
    assert RatingQueue(gcourse, kit.EXAM, item).progress("Ann Grader").open_for_me == n  # next session: again


def test_the_app_says_what_is_left_in_words(gcourse):
    assert progress_text(Progress(mine=2, open_for_me=3, needed=20, responses=18, waiting_second=12)) == (
        "Your progress on this question: you rated 2; 3 of 18 left for you; 12 waiting for a second rating by "
        "another grader.")
    assert "1 waiting for adjudication" in progress_text(Progress(0, 0, 1, 4, 0, 1))
    item, n = busiest_item(gcourse)
    app = GraderApp(GraderSession(gcourse, kit.EXAM))
    app.name.submit("Ann Grader")
    app.item.value = item
    app.start.click()
    assert f"{n} of {n} left for you; 0 waiting for a second rating by another grader" in app.progress_text.value
    app.keybox.value = "1" * len(app.session.rubric.criteria) + "\n"
    assert (f"you rated 1; {n - 1} of {n} left for you; 1 waiting for a second rating by another grader"
            in app.progress_text.value)


@pytest.mark.parametrize("typed", ["9", "x"])
def test_keys_outside_the_levels_change_nothing(gcourse, typed):
    item, _n = busiest_item(gcourse)
    app = GraderApp(GraderSession(gcourse, kit.EXAM))
    app.name.submit("Ann Grader")
    app.item.value = item
    app.start.click()
    app.keybox.value = typed
    assert app.session.levels == {} and all(p.value is None for p in app.pickers.values())
