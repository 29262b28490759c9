"""More than one machine: two `exam-builder serve` processes on one PostgreSQL database.

Candidates sit on both servers through the real page protocol. One server is killed mid-sitting
(SIGKILL, its kernels with it); its candidate opens the page on the other server with the same
code, takes over the sitting with every saved answer and the clock that kept running, finishes
and submits; the other server's candidate never notices. Nothing sent before the kill is lost.
"""
from __future__ import annotations

import asyncio

import delivery_formkit as formkit
import pytest
from coursekit import new_course_dir, pg_database, pg_server
from serverkit import Server

from exam_builder.course import Course
from exam_builder.delivery.session import latest_responses
from exam_builder.loadtest.pageclient import PageClient, current_number, current_question, question_number, sign_in
from exam_builder.records.models import Sitting

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.timeout(600)]


@pytest.fixture
def pg_course(tmp_path):
    if not pg_server():
        pytest.skip("no PostgreSQL server (EXAM_BUILDER_PG_URL unset; `make test` starts one)")
    with pg_database("eb_multi_") as url:
        root = new_course_dir(tmp_path / "course")
        with open(root / "nbgrader_config.py", "a") as fh:
            fh.write(f"\nc.CourseDirectory.db_url = {url!r}\nc.DeliverySettings.sign_in_delay_seconds = 0.1\n"
                     "c.ServerSettings.refill_quiet_seconds = 0.5\n")
        course = Course(root)
        course.db.upgrade()
        form_id = formkit.build_form(course)
        ids = formkit.add_candidates(course, 2)
        codes = {cid: (formkit.add_sitting(course, cid, f"{cid.upper()}-TEST", form_id), f"{cid.upper()}-TEST")
                 for cid in ids}
        yield course, codes
        course.db.dispose()


async def answer_until(page: PageClient, sent: dict[int, str], last: int) -> None:
    """Answer the question on screen and the next ones, up to question ``last``."""
    while True:
        await page.wait_for(lambda: current_question(page) is not None, 60, "a question")
        q = current_question(page)
        n = question_number(q)
        if q.is_choice:
            await page.choose(q, "A")
            sent[n] = "A"
        else:
            await page.type_text(q, f"my answer to question {n}", pieces=2)
            sent[n] = f"my answer to question {n}"
        await page.wait_for(lambda: page.shows(f"Answer to question {n} saved at"), 60, f"question {n} saved")  # noqa: B023 (awaited here)
        if n >= last:
            return
        await page.click("Next ▶")
        await page.wait_for(lambda: current_number(page) == n + 1, 60, "the next question")  # noqa: B023 (awaited here)


async def next_question(page: PageClient, n: int) -> None:
    """From question ``n`` (answered already) on to question ``n + 1``."""
    await page.click("Next ▶")
    await page.wait_for(lambda: current_number(page) == n + 1, 60, "the next question")


async def start_sitting(url: str, code: str) -> PageClient:
    page = PageClient(url)
    await page.open()
    await sign_in(page, code)
    await page.wait_for(lambda: page.button("Start the exam") is not None, 60, "the instructions")
    await page.click("Start the exam")
    return page


async def finish(page: PageClient) -> None:
    await page.click("Review and submit")
    await page.wait_for(lambda: page.button("Submit my exam now") is not None, 60, "the review")
    await page.click("Submit my exam now")
    await page.wait_for(lambda: page.shows("Your exam is in"), 60, "the receipt")


def test_a_server_dies_and_its_candidates_resume_on_another(pg_course):
    course, codes = pg_course
    total = len(formkit.manifest().items)
    first = Server(course.root, seats=1).start()
    second = Server(course.root, seats=1).start()  # two pages: a seat and its two spares hold them
    sent: dict[str, dict[int, str]] = {"c001": {}, "c002": {}}
    try:
        first.wait_ready()
        second.wait_ready()

        async def room() -> None:
            a = await start_sitting(first.url, codes["c001"][1])   # on the server that will die
            b = await start_sitting(second.url, codes["c002"][1])  # on the one that lives
            await answer_until(a, sent["c001"], 3)
            await answer_until(b, sent["c002"], 2)
            first.kill()  # mid-sitting: the process and its kernels are gone
            await a.wait_for(lambda: a.closed, 30, "the dead server's websocket to drop")
            again = PageClient(second.url)  # the candidate opens the page on the other server
            await again.open()
            await sign_in(again, codes["c001"][1])
            await again.wait_for(lambda: again.shows("3 saved answer(s)"), 60, "the saved answers")
            # back at the question they were on (as a reload or another browser is), then on to the next
            await again.wait_for(lambda: current_number(again) == 3, 60, "the question they were on")
            await next_question(again, 3)
            await answer_until(again, sent["c001"], total)
            await answer_until(b, sent["c002"], total)  # the other candidate carried on untouched
            await finish(again)
            await finish(b)
            await again.aclose()
            await b.aclose()

        asyncio.run(asyncio.wait_for(room(), 400))
    finally:
        first.kill()
        second.kill()
    numbers = {it.number: it.item_id for it in formkit.manifest().items}
    with course.db.read() as s:
        for cid, (sid, _code) in codes.items():
            sit = s.get(Sitting, sid)
            assert sit.status == "submitted", (cid, sit.status)
            latest = {k: r.value for k, r in latest_responses(s, sid).items()}
            assert latest == {numbers[n]: v for n, v in sent[cid].items()}, cid  # nothing lost, nothing extra


def test_two_servers_agree_on_a_pause(pg_course):
    """A room paused on the shared database stops both servers' candidates; one of them, opening the exam on
    the other server while paused, sees the same pause and the same time kept; after the resume both have
    exactly the time they had at the pause."""
    from exam_builder.delivery import sittings as ops
    from exam_builder.delivery.candidate_app import clock_text
    from exam_builder.records.models import utcnow

    course, codes = pg_course
    first = Server(course.root, seats=1).start()
    second = Server(course.root, seats=1).start()  # two pages: a seat and its two spares hold them
    with course.db.read() as s:
        on = s.get(Sitting, codes["c001"][0]).scheduled_on

    def kept(sid: int):
        with course.db.read() as s:
            sit = s.get(Sitting, sid)
            return sit.deadline - sit.paused_at

    try:
        first.wait_ready()
        second.wait_ready()

        async def room() -> dict:
            a = await start_sitting(first.url, codes["c001"][1])
            b = await start_sitting(second.url, codes["c002"][1])
            await answer_until(a, {}, 1)
            await answer_until(b, {}, 1)
            ops.pause_room(course, formkit.EXAM, "101", "Kim Proctor", "fire alarm", on=on)
            left = {cid: clock_text(kept(sid)) for cid, (sid, _code) in codes.items()}
            for page in (a, b):
                await page.wait_for(lambda p=page: p.shows("The exam is paused"), 60, "the paused screen")
                assert page.shows("Reason: fire alarm") and current_question(page) is None
            assert a.shows(f"Clock stopped: {left['c001']} left") and b.shows(f"Clock stopped: {left['c002']} left")
            await a.aclose()
            again = PageClient(second.url)  # c001 opens the exam on the other server while paused
            await again.open()
            await sign_in(again, codes["c001"][1])
            await again.wait_for(lambda: again.shows("The exam is paused"), 60, "the paused screen on the other server")
            assert again.shows(f"Clock stopped: {left['c001']} left")
            ops.resume_room(course, formkit.EXAM, "101", "Kim Proctor", "all clear", on=on)
            for page in (again, b):
                await page.wait_for(lambda p=page: current_question(p) is not None, 60, "the questions again")
            assert current_number(again) == 1  # the question c001 was on when the room paused
            await next_question(again, 1)
            await answer_until(again, {}, 2)
            await again.aclose()
            await b.aclose()
            return left

        asyncio.run(asyncio.wait_for(room(), 400))
    finally:
        first.kill()
        second.kill()
    with course.db.read() as s:
        for _cid, (sid, _code) in codes.items():
            sit = s.get(Sitting, sid)
            at = max(e.at for e in sit_events(s, sid, "resumed"))
            paused = max(e.at for e in sit_events(s, sid, "paused"))
            assert sit.paused_at is None and abs(sit.paused_seconds - (at - paused).total_seconds()) < 1e-3
            assert sit.deadline > utcnow()


def sit_events(s, sid: int, kind: str):
    from sqlalchemy import select

    from exam_builder.records.models import SittingEvent

    return s.execute(select(SittingEvent).where(SittingEvent.sitting_id == sid,
                                                SittingEvent.kind == kind)).scalars().all()
