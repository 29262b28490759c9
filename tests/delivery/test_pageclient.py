"""The page client (``loadtest.pageclient``) against a live `exam-builder serve`: no browser.

A whole sitting through the Voila page protocol (sign in, confirm, start, every question, a flag,
submit) must leave in the database exactly what the client sent; a reload (beacon, the page
again) comes back to its own kernel and question; and what a tampering page sends (code to run, malformed
frames) is refused without a traceback or a server path in any frame.
"""
from __future__ import annotations

import asyncio
import json
import uuid

import delivery_formkit as formkit
import psutil
import pytest
from serverkit import Server, make_site, run_pages
from sqlalchemy import select

from exam_builder.delivery.session import confirmation_number, latest_responses, receipt_hash
from exam_builder.loadtest.pageclient import (
    V1,
    PageClient,
    code_form,
    current_number,
    current_question,
    encode_v1,
    flag_box,
    go_to,
    question_list,
    question_number,
    sign_in,
)
from exam_builder.records.models import Sitting, SittingEvent

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CONFIG = """
c.DeliverySettings.sign_in_delay_seconds = 0.1
c.ServerSettings.refill_quiet_seconds = 0.5
c.ServerSettings.reattach_seconds = 3
c.ServerSettings.cull_interval_seconds = 0.5
"""
TEXT = "I would listen first, & ask <what> helps."


@pytest.fixture(scope="module")
def site(form_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("pageclient") / "course"
    course, codes = make_site(form_template, root, [("c001", 180), ("c002", 180), ("c003", 180)], config=CONFIG)
    server = Server(root, seats=1)
    server.start()
    server.wait_ready()
    yield course, server, codes
    server.kill()
    course.db.dispose()


def run(coro):
    return run_pages(coro, 240)


def clean(page: PageClient, course) -> None:
    """Nothing the kernel or server should keep to itself reached the page."""
    text = page.received_text()
    assert "Traceback" not in text and str(course.root) not in text and "site-packages" not in text


def test_a_whole_sitting_through_the_page_protocol(site):
    course, server, codes = site
    sid, code = codes["c001"]
    sent: dict[int, str] = {}

    async def sitting() -> tuple[PageClient, str]:
        async with PageClient(server.url) as page:
            await page.open()
            assert page.selected_subprotocol == V1
            assert set(page.timings) >= {"page", "websocket", "widgets", "usable"}
            assert page.timings["page"] <= page.timings["usable"]
            await sign_in(page, code)
            await page.wait_for(lambda: page.button("Start the exam") is not None, 30, "the instructions")
            await page.click("Start the exam")
            while True:
                await page.wait_for(lambda: current_question(page) is not None, 30, "a question")
                q = current_question(page)
                n = question_number(q)
                if q.is_choice:
                    label = q.labels[-1].split(". ", 1)[0]  # the last choice
                    await page.choose(q, label)
                    sent[n] = label
                else:
                    await page.type_text(q, TEXT, pieces=4)
                    sent[n] = TEXT
                await page.wait_for(lambda: page.shows(f"Answer to question {n} saved at"), 30, f"question {n} saved")  # noqa: B023 (awaited here)
                if n == 2:
                    await page.tick(flag_box(page))
                    await page.wait_for(lambda: {"n": 2, "answered": True, "flagged": True} in question_list(page), 30,
                                        "the flag on the question list")
                nxt = page.button("Next ▶")
                if nxt.state.get("disabled"):
                    break
                await page.click(nxt)
                await page.wait_for(lambda: current_number(page) == n + 1, 30, "the next question")  # noqa: B023 (awaited here)
            await page.click("Review and submit")
            await page.wait_for(lambda: page.button("Submit my exam now") is not None, 30, "the review")
            assert page.shows("You have answered all 5 questions.")
            assert page.shows("You flagged 1 question for review: question 2.")
            await page.click("Submit my exam now")
            await page.wait_for(lambda: page.shows("Your exam is in"), 30, "the receipt")
            receipt = next(m.text for m in page.visible() if "Your confirmation number" in m.text)
            assert await page.unload() == 204
            return page, receipt

    page, receipt = run(sitting())
    numbers = {it.number: it.item_id for it in formkit.manifest().items}
    assert sorted(sent) == sorted(numbers)
    with course.db.read() as s:
        latest = latest_responses(s, sid)
        sit = s.get(Sitting, sid)
        assert sit.status == "submitted" and sit.submit_reason == "candidate"
        assert {k: r.value for k, r in latest.items()} == {numbers[n]: v for n, v in sent.items()}
        assert [k for k, r in latest.items() if r.flagged] == [numbers[2]]
        assert confirmation_number(sit.receipt_hash) in receipt
        assert sit.receipt_hash == receipt_hash(sid, {k: r.value for k, r in latest.items()})
    clean(page, course)


def test_a_reload_comes_back_to_its_own_kernel_and_a_page_that_never_returns_is_let_go(site):
    """A reload (the beacon, the socket closed, the page again with its cookies) is served its own
    kernel, on the question it left, with the answer shown: no kernel starts and nobody signs in.
    A page whose cookie was not signed by this server, or another browser, gets a kernel of its own
    and the sign-in screen; a page that leaves and never comes back has its kernel shut down once
    ``reattach_seconds`` pass."""
    course, server, codes = site
    sid, code = codes["c002"]
    server.wait_for(lambda st: st["pages"] == 0 and st["pool_ready"] == st["pool_target"], "a warm pool", timeout=120)

    async def go() -> tuple[str, str, dict, int]:
        async with PageClient(server.url) as page:
            await page.open()
            await sign_in(page, code)
            await page.wait_for(lambda: page.button("Start the exam") is not None, 30, "the instructions")
            await page.click("Start the exam")
            await page.wait_for(lambda: current_question(page) is not None, 30, "a question")
            await page.choose(current_question(page), "B")
            await page.wait_for(lambda: page.shows("Answer to question 1 saved at"), 30, "question 1 saved")
            first_kernel = page.kernel_id
            before = await asyncio.to_thread(server.status)
            await page.reload(lambda p: current_question(p) is not None or code_form(p) is not None)
            assert page.kernel_id == first_kernel  # its own kernel again
            assert code_form(page) is None and current_number(page) == 1  # no sign-in: the question it left
            assert current_question(page).value == "B"  # the saved choice, read from the kernel
            after = await asyncio.to_thread(server.status)
            assert after["kernels"] == before["kernels"] and after["pages"] == before["pages"], (before, after)
            # a cookie this server did not sign: a page of its own, and the sign-in screen
            async with PageClient(server.url) as forged:
                forged.cookies = {**page.cookies, "eb-page": f"{first_kernel}.{'0' * 32}"}
                await forged.open()
                forged_kernel = forged.kernel_id
                await forged.unload()
            await go_to(page, 2)
            await page.wait_for(lambda: current_number(page) == 2, 30, "question 2")
            await page.unload()  # leaves for good: its kernel is kept only for a reload
            left = await asyncio.to_thread(server.status)
            while (await page.fetch(f"api/kernels/{first_kernel}")).code != 404:
                await asyncio.sleep(0.2)
            return first_kernel, forged_kernel, left, len(page.frames)

    first_kernel, forged_kernel, left, frames = run(go())
    assert forged_kernel != first_kernel and frames > 0
    assert left["left"] >= 1, left
    server.wait_for(lambda st: st["pages"] == 0 and st["left"] == 0, "no page kept", timeout=120)
    with course.db.read() as s:
        assert {k: r.value for k, r in latest_responses(s, sid).items()} == {"tf-hope": "B"}
        kinds = [e.kind for e in s.execute(select(SittingEvent).where(SittingEvent.sitting_id == sid)).scalars()]
    assert kinds.count("sign_in") == 1 and "resume" not in kinds, kinds  # the reload did not sign in again


def test_a_reload_whose_beacon_never_came_hands_the_old_kernel_back_at_once(site):
    """A candidate reloads while the network is down: no beacon reaches the server, and the old
    page's socket is simply gone. Once the new page signs in to the same sitting, the old kernel
    (its sitting taken over) is shut down at the culler's next round, long before the reconnect
    grace (120 s here), and the pool is warm again; when the new page closes, no kernel is left."""
    course, server, codes = site
    sid, code = codes["c003"]
    baseline = server.wait_for(lambda st: st["pages"] == 0 and st["pool_ready"] == st["pool_target"]
                               and st["kernels"] == st["pool_target"], "only the warm pool", timeout=120)
    grace = course.server_settings.reconnect_grace_seconds

    async def started(page: PageClient) -> None:
        await page.open()
        await sign_in(page, code)
        await page.wait_for(lambda: page.button("Start the exam") is not None or current_question(page) is not None,
                            30, "the instructions or a question")
        if page.button("Start the exam") is not None:
            await page.click("Start the exam")
        await page.wait_for(lambda: current_question(page) is not None, 30, "a question")

    async def go() -> tuple[dict, dict, float]:
        old = PageClient(server.url)
        try:
            await started(old)
            await old.choose(current_question(old), "A")
            await old.wait_for(lambda: old.shows("Answer to question 1 saved at"), 30, "question 1 saved")
            await old.close()  # the socket drops; no beacon
            both = await asyncio.to_thread(server.wait_for, lambda st: st["pages"] == 1 and st["connected"] == 0,
                                           "the old page, disconnected")
            async with PageClient(server.url) as new:
                await started(new)
                t0 = asyncio.get_running_loop().time()
                after = await asyncio.to_thread(
                    server.wait_for, lambda st: st["pages"] == 1 and st["connected"] == 1,
                    "the old kernel gone, the new page's kept", timeout=grace / 2)
                while (await new.fetch(f"api/kernels/{old.kernel_id}")).code != 404:  # shutting down: a moment
                    assert asyncio.get_running_loop().time() - t0 < grace / 2, "the old kernel is still there"
                    await asyncio.sleep(0.2)
                took = asyncio.get_running_loop().time() - t0
                assert current_question(new) is not None and not new.alert()  # the new page carries on
                await new.unload()
            return both, after, took
        finally:
            await old.aclose()

    both, after, took = run(go())
    assert both["pages"] == 1 and after["pages"] == 1 and took < grace / 2, (both, after, took)
    end = server.wait_for(lambda st: st["pages"] == 0 and st["kernels"] == st["pool_target"]
                          and st["pool_ready"] == st["pool_target"], "no page and a full warm pool", timeout=120)
    assert server.kernel_processes() == end["kernels"] == baseline["kernels"], (baseline, end)
    with course.db.read() as s:
        assert {k: r.value for k, r in latest_responses(s, sid).items()} == {"tf-hope": "A"}


def malformed_frames(page: PageClient) -> list[bytes | str]:
    """Frames no page sends: too few parts, a header that is not JSON, JSON text on a v1 socket.

    (Not here: a frame whose offset count is huge. jupyter_server's ``deserialize_msg_from_ws_v1``
    loops over that count before any check, so such a frame stalls the server; see the report.)
    """
    short = (2).to_bytes(8, "little") + (24).to_bytes(8, "little") + (24).to_bytes(8, "little")
    good = encode_v1(page.message("kernel_info_request", {}))
    n = int.from_bytes(good[:8], "little")
    offsets = [int.from_bytes(good[8 * (i + 1):8 * (i + 2)], "little") for i in range(n)]
    not_json = good[:offsets[1]] + b"{" * (offsets[2] - offsets[1]) + good[offsets[2]:]
    text = json.dumps({"header": {"msg_type": "execute_request"}, "content": {"code": "1"}, "channel": "shell"})
    return [short, not_json, text]


def test_what_a_tampering_page_sends_is_refused_quietly(site):
    course, server, codes = site
    marker = course.root / "executed.txt"

    async def go() -> PageClient:
        async with PageClient(server.url) as page:
            await page.open()
            ex = await page.send_raw("execute_request", {
                "code": f"open({str(marker)!r}, 'w').write('ran')", "silent": False, "store_history": False,
                "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
            for frame in malformed_frames(page):
                await page.send_frame(frame)
            await page.send_raw("comm_msg", {"comm_id": "no-such-comm", "data": {"method": "update", "state": {}}})
            code_box = code_form(page)
            await page.send_raw("comm_msg",
                                {"comm_id": code_box.id, "data": {"method": "update", "state": {"value": 42},
                                                                                "buffer_paths": "x"}})
            await page.send_raw("comm_msg", {"comm_id": code_box.id,
                                             "data": {"method": "custom", "content": {"submit": ["not", "text"]}}},
                                metadata={"unexpected": True})
            await asyncio.sleep(1.5)
            info = await page.send_raw("kernel_info_request", {}, msg_id=str(uuid.uuid4()))
            await page.wait_reply(info, timeout=30)  # the socket and the kernel still work
            assert ex not in page.replies and ex not in page.idle_at  # the code was never run
            await page.unload()
            return page

    page = run(go())
    assert not marker.exists()
    clean(page, course)


def test_a_pages_kernel_runs_without_the_debugger(site):
    """Every app kernel is ``exam_builder.delivery.app_ipykernel``: ipykernel without debugpy (about
    8 MB a seat that no page could use, as a page sends widget messages only). Every kernel process of
    the server runs that module and has loaded no part of debugpy (its compiled pydevd is mapped into
    any kernel that imports it), and a page on such a kernel still gets its kernel's info."""
    course, server, codes = site

    async def go() -> dict:
        async with PageClient(server.url) as page:
            await page.open()
            reply = await page.wait_reply(await page.send_raw("kernel_info_request", {}), timeout=30)
            await page.unload()
            return reply

    content = run(go())["content"]
    assert content["status"] == "ok" and content["language_info"]["name"] == "python", content
    kernels = [p for p in psutil.Process(server.proc.pid).children(recursive=True) if "-f" in p.cmdline()]
    assert kernels and all(p.cmdline()[1:3] == ["-m", "exam_builder.delivery.app_ipykernel"] for p in kernels)
    loaded = {m.path for p in kernels for m in p.memory_maps()}
    assert any("/zmq/" in path for path in loaded), "no kernel's libraries were read"  # the check is not idle
    assert not [path for path in loaded if "/debugpy/" in path]
