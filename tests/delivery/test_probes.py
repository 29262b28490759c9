"""Exam-day probes through the path a candidate or an attacker takes: a live `exam-builder serve`.

Each probe drives the real page, either Debian's chromium (Playwright) or the Voila page protocol
over the real kernel websocket (``PageClient``), and asserts both what the person sees and what
the database recorded:

1. a second browser takes over a sitting; the first screen's next answer is refused and it says so;
2. a used (submitted) code is refused without the name, the id or the receipt, in any frame;
3. a voided sitting's code is refused the same way;
4. a sitting for a later date is refused today ("opens at"), and so is one whose window closed;
5. oversized answers: an open response over ``max_answer_chars`` is refused in plain words, and a
   websocket message over ``ServerSettings.max_message_bytes`` is closed by tornado, stores
   nothing, and the page reconnects and goes on;
6. the journal's rate limit: saves past ``max_saves_per_minute`` are refused in plain words, one
   ``limit`` event is written and exactly the limit is stored;
7. code and malformed widget messages and frames are refused without a traceback or a server
   path in any frame, and the page still signs in and answers;
8. a flood of messages from one page is rate-limited while another page signs in quickly;
9. wrong codes from one source lock it out (the right code too) until a proctor lifts the
   lockout (audited). Every page comes from 127.0.0.1, one source, so this probe runs last.

One server for the module (``--seats 2``), each probe with its own candidate and code; the
limits are set low in the course's ``nbgrader_config.py``.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
import time

import delivery_formkit as formkit
import pytest
from playwright.sync_api import expect
from serverkit import Server, make_site, offline_context, run_pages
from sqlalchemy import func, select

from exam_builder.delivery import sittings as ops, window
from exam_builder.delivery.session import LOCKED, TAKEN_OVER, TOO_FAST, USED, WRONG_CODE, confirmation_number
from exam_builder.loadtest.pageclient import (
    V1,
    PageClient,
    code_form,
    current_number,
    current_question,
    go_to as press_question,
    sign_in,
    submit_code,
)
from exam_builder.records import access, audit
from exam_builder.records.models import AuditEntry, Lockout, Response, Sitting, SittingEvent, WrongCode, utcnow

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

SOURCE = "127.0.0.1"  # every page of this module
MAX_CHARS = 2000
MAX_SAVES = 5
MAX_WRONG = 3
CONFIG = f"""
c.DeliverySettings.sign_in_delay_seconds = 0.1
c.DeliverySettings.refresh_seconds = 3600
c.DeliverySettings.save_delay_seconds = 0.2
c.DeliverySettings.max_answer_chars = {MAX_CHARS}
c.DeliverySettings.max_saves_per_minute = {MAX_SAVES}
c.DeliverySettings.max_wrong_codes_per_source = {MAX_WRONG}
c.ServerSettings.spare_kernels = 1
c.ServerSettings.refill_quiet_seconds = 0.5
c.ServerSettings.max_pages = 24
"""
LOAD = 90_000  # ms: a page may have to wait for a kernel on a busy machine
LATER = dt.timedelta(days=7)


def shows(word: str, text: str) -> bool:
    """``word`` as a word of ``text``: a candidate id such as c003 may also turn up inside a random
    hexadecimal message or kernel id ("...9ac003f1..."), which reveals nothing."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(word)}(?![0-9A-Za-z])", text) is not None


# -- the site --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(form_template, tmp_path_factory):
    """A course with a sitting per probe (the later and the closed ones through the sittings API)."""
    root = tmp_path_factory.mktemp("probes") / "course"
    course, codes = make_site(form_template, root, [(c, 180) for c in ("c001", "c002", "c003", "c006", "c007", "c008",
                                                                        "c009", "c010")], config=CONFIG)
    today = ops.room_today(course)
    for cid, room, on, hours in (("c004", "Later room", today + LATER, ("09:00", "17:00")),
                                 ("c005", "Closed room", today, (None, None))):
        [o] = ops.open_sittings(course, formkit.EXAM, room, "coordinator-lee", [cid], today=on,
                                opens=hours[0], closes=hours[1], write_cards=False).opened
        codes[cid] = (o.sitting_id, o.code)
    server = Server(root, seats=2)
    server.start()
    server.wait_ready()
    yield course, server, codes
    server.kill()
    course.db.dispose()


# -- helpers ---------------------------------------------------------------------------------------
def run(coro):
    return run_pages(coro)


def name_of(cid: str) -> tuple[str, str]:
    n = int(cid[1:]) - 1
    return f"Pat{n}", f"Example{n}"


def rows(course, sitting_id: int) -> list[tuple[str, str | None]]:
    with course.db.read() as s:
        return [(r.item_id, r.value) for r in s.execute(
            select(Response).where(Response.sitting_id == sitting_id).order_by(Response.id)).scalars()]


def events(course, sitting_id: int, kind: str | None = None) -> list[SittingEvent]:
    with course.db.read() as s:
        q = select(SittingEvent).where(SittingEvent.sitting_id == sitting_id).order_by(SittingEvent.id)
        if kind:
            q = q.where(SittingEvent.kind == kind)
        found = list(s.execute(q).scalars())
        s.expunge_all()
        return found


def wrong_codes(course) -> int:
    with course.db.read() as s:
        return s.execute(select(func.count()).select_from(WrongCode)).scalar_one()


def leaks(text: str, course) -> list[str]:
    """What no frame may carry: a traceback, or a path of the server."""
    needles = ("Traceback", 'File "/', str(course.root), "site-packages", "/tmp/", ".venv/")
    return [n for n in needles if n in text]


_ERROR_BOX = re.compile(r"""<[^>]*\bclass=['"][^'"]*\beb-error\b""")


def error_shown(page: PageClient) -> str:
    """The error the app shows the candidate (its ``eb-error`` box), or "".

    Not ``PageClient.alert()``: that one also matches the app's stylesheet (``.eb-error {...}``),
    a hidden HTML widget that comes first, so it always answers "" (see the report).
    """
    for m in page.visible():
        if m.name == "HTMLModel" and _ERROR_BOX.search(str(m.state.get("value") or "")):
            return m.text
    return ""


@contextlib.contextmanager
def screen(browser, frames: list[str] | None = None):
    """A chromium page in a room with no internet (its websocket frames kept in ``frames``)."""
    ctx, outside = offline_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    if frames is not None:
        page.on("websocket", lambda ws: ws.on(
            "framereceived", lambda f: frames.append(f if isinstance(f, str) else f.decode("utf-8", "replace"))))
    try:
        yield page
        assert outside == [], f"the page fetched from outside the server: {outside}"
    finally:
        page.close(run_before_unload=True)  # Voila's unload beacon frees the kernel
        ctx.close()


def type_code_in_browser(page, url: str, code: str) -> None:
    if page.url != url:
        page.goto(url)
    box = page.get_by_label("Access code")
    box.wait_for(timeout=LOAD)
    box.fill(code)
    page.get_by_role("button", name="Sign in").click()


def start_in_browser(page, url: str, code: str) -> None:
    type_code_in_browser(page, url, code)
    page.get_by_role("button", name="Yes, this is me").click()


async def opened(url: str) -> PageClient:
    """A page at its sign-in screen."""
    return await PageClient(url, timeout=120).open()


async def type_code(page: PageClient, code: str) -> str:
    """Type a code and press Sign in (the kernel has handled it when this returns); the alert shown."""
    await submit_code(page, code)
    return error_shown(page)


async def start_exam(page: PageClient, code: str) -> None:
    """Sign in, confirm, start: question 1 is on screen."""
    await sign_in(page, code)
    await page.wait_for(lambda: page.button("Start the exam") is not None, 60, "the instructions")
    await page.click("Start the exam")
    await page.wait_for(lambda: current_question(page) is not None, 60, "the first question")


async def go_to(page: PageClient, number: int) -> None:
    await press_question(page, number)
    await page.wait_for(lambda: current_number(page) == number, 60, f"question {number}")


# -- 1. a second browser takes over ---------------------------------------------------------------
def test_a_second_browser_takes_over_and_the_first_screen_is_refused(site, browser):
    course, server, codes = site
    sid, code = codes["c001"]
    with screen(browser) as a, screen(browser) as b:
        start_in_browser(a, server.url, code)
        a.get_by_role("button", name="Start the exam").click()
        a.get_by_role("radio", name="A. True").check()
        a.get_by_text("Answer to question 1 saved").wait_for()

        start_in_browser(b, server.url, code)  # the same code on another screen (another browser context)
        b.get_by_text("Welcome back. Your 1 saved answer(s) are here").wait_for()
        b.get_by_role("button", name="1 answered").click()
        assert b.get_by_role("radio", name="A. True").is_checked()  # the saved answer, on the new screen
        [took] = events(course, sid, "taken_over")

        a.get_by_role("radio", name="B. False").click()  # page A does not know yet
        a.get_by_text("Your exam was opened on another screen").wait_for()
        assert TAKEN_OVER in a.locator(".eb-error").inner_text()
        expect(a.get_by_role("radio", name="A. True")).to_be_disabled()  # every control of page A
        expect(a.get_by_role("button", name="Review and submit")).to_be_disabled()

        b.get_by_role("button", name="2", exact=True).click()
        b.get_by_role("radio", name="A. Both people learn from each other").check()
        b.get_by_text("Answer to question 2 saved").wait_for()
    assert (took.details["source"], took.details["previous_source"], took.details["same_source"],
            took.details["started"]) == (SOURCE, SOURCE, True, True)
    assert rows(course, sid) == [("tf-hope", "A"), ("mc-mutual", "A")]  # page A's "B" was never stored
    with course.db.read() as s:
        after = s.execute(select(Response.item_id, Response.value).where(
            Response.sitting_id == sid, Response.recorded_at >= took.at)).all()
    assert [tuple(r) for r in after] == [("mc-mutual", "A")]  # only page B's answer after the take-over
    assert [(e.details["item"], e.details["why"]) for e in events(course, sid, "refused_change")] == [
        ("tf-hope", "opened on another screen")]


# -- 2. a used code: its receipt again, nothing else --------------------------------------------------
def test_a_submitted_code_shows_its_receipt_again_without_the_name_id_or_answers(site):
    course, server, codes = site
    sid, code = codes["c002"]
    before = wrong_codes(course)

    async def go() -> tuple[str, str, str, bool]:
        async with await opened(server.url) as first:
            await start_exam(first, code)
            await first.choose(current_question(first), "A")
            await first.wait_for(lambda: first.shows("Answer to question 1 saved at"), 60, "the save")
            await first.click("Review and submit")
            await first.wait_for(lambda: first.button("Submit my exam now") is not None, 60, "the review")
            await first.click("Submit my exam now")
            await first.wait_for(lambda: first.shows("Your confirmation number"), 60, "the receipt")
            await first.unload()
        async with await opened(server.url) as again:  # the same code in a new page
            alert = await type_code(again, code)
            await again.wait_for(lambda: again.shows("Your confirmation number"), 60, "the receipt again")
            identity = again.button("Yes, this is me") is not None
            await again.unload()
            return alert, again.text(), again.received_text(), identity

    alert, text, received, identity = run(go())
    assert alert == "" and not identity
    with course.db.read() as s:
        sit = s.get(Sitting, sid)
        assert sit.status == "submitted" and sit.receipt_hash
        receipt = sit.receipt_hash
    assert confirmation_number(receipt) in text and "already submitted" in text
    for secret in (*name_of("c002"), "c002", receipt, "A. True"):
        assert not shows(secret, text + received), secret
    assert events(course, sid, "sign_in_refused") == []
    assert [e.details for e in events(course, sid, "receipt_shown")] == [{"source": SOURCE}]
    assert rows(course, sid) == [("tf-hope", "A")]
    assert wrong_codes(course) == before  # a used code is not a guess


# -- 3. a voided sitting ----------------------------------------------------------------------------
def test_a_voided_sittings_code_is_refused_the_same_way(site, browser):
    course, server, codes = site
    sid, code = codes["c003"]
    ops.void(course, sid, "proctor-kim", "fire alarm in room 101")
    frames: list[str] = []
    with screen(browser, frames) as page:
        type_code_in_browser(page, server.url, code)
        page.get_by_text(USED).wait_for()
        shown = page.content()
        assert page.get_by_role("button", name="Yes, this is me").count() == 0
    for secret in (*name_of("c003"), "c003"):
        assert not shows(secret, shown + "".join(frames)), secret
    assert [e.details for e in events(course, sid, "sign_in_refused")] == [
        {"why": "used", "source": SOURCE, "status": "voided"}]
    with course.db.read() as s:
        sit = s.get(Sitting, sid)
        assert sit.status == "voided" and sit.lease_token is None and sit.started_at is None


# -- 4. the date and the window ----------------------------------------------------------------------
def test_a_later_sitting_and_a_closed_window_are_refused_today(site, browser):
    course, server, codes = site
    later_sid, later_code = codes["c004"]
    closed_sid, closed_code = codes["c005"]
    zone = window.room_zone("America/New_York")
    ops.close_now(course, formkit.EXAM, "Closed room", "proctor-kim", "everyone is seated")
    with course.db.read() as s:
        later, closed = s.get(Sitting, later_sid), s.get(Sitting, closed_sid)
        assert later.scheduled_on == ops.room_today(course) + LATER
        nine = window.to_utc(later.scheduled_on, 9, 0, zone)
        opens_text = f"This exam opens at {window.when_text(nine, zone)}. Please wait for the proctor."
        assert f"9:00 AM {window.local(nine, zone).tzname()} on" in opens_text  # the zone is said
        closed_text = f"This exam closed at {window.when_text(closed.closes_at, zone)}. Please ask the proctor."
    with screen(browser) as page:
        type_code_in_browser(page, server.url, later_code)
        page.get_by_text(opens_text).wait_for()
        type_code_in_browser(page, server.url, closed_code)  # the sign-in screen stays: another code
        page.get_by_text(closed_text).wait_for()
        shown = page.content()
    for cid in ("c004", "c005"):
        assert not any(secret in shown for secret in (*name_of(cid), cid))
    assert [e.details["window"] for e in events(course, later_sid, "sign_in_refused")] == ["before the window"]
    assert [e.details["window"] for e in events(course, closed_sid, "sign_in_refused")] == ["after the window"]
    with course.db.read() as s:
        for sid in (later_sid, closed_sid):
            sit = s.get(Sitting, sid)
            assert (sit.status, sit.lease_token, sit.started_at) == ("scheduled", None, None)


# -- 5. oversized answers and messages -----------------------------------------------------------------
def test_an_oversized_answer_is_refused_and_an_oversized_message_is_dropped(site):
    course, server, codes = site
    sid, code = codes["c007"]

    async def go() -> tuple[str, int | None, str]:
        async with await opened(server.url) as page:
            await start_exam(page, code)
            await go_to(page, 5)
            box = current_question(page)
            await page.set_value(box, "x" * (MAX_CHARS + 1))
            await page.wait_for(lambda: "longer than" in error_shown(page), 60, "the refusal")
            alert = error_shown(page)
            # one websocket message over max_message_bytes (256 KB): tornado closes the socket (1009)
            await page.send_raw("comm_msg", {"comm_id": box.id, "data": {
                "method": "update", "state": {"value": "y" * (300 * 1024)}, "buffer_paths": []}})
            await page.wait_for(lambda: page.closed, 60, "the server to close the socket")
            close_code = page._ws.close_code if page._ws is not None else None
            assert server.status()["pool_target"] == 3  # the server still answers
            # the page reconnects to its kernel, as the page's KernelConnection does, and goes on
            await page.connect()
            await page.load_widgets()
            await page.wait_for(lambda: current_number(page) == 5, 60, "question 5 again")
            await page.type_text(current_question(page), "A short answer.", pieces=1)
            await page.wait_for(lambda: page.shows("Answer to question 5 saved at"), 60, "the save")
            await page.unload()
            return alert, close_code, page.received_text()

    alert, close_code, received = run(go())
    assert alert == (f"Your answer to question 5 is longer than {MAX_CHARS:,} characters, so it was not saved. "
                     "Please shorten it.")
    assert close_code == 1009  # "message too big"
    assert rows(course, sid) == [("or-story", "A short answer.")]  # neither the long answer nor the huge one
    [limit] = events(course, sid, "limit")
    assert limit.details == {"limit": "size", "item": "or-story", "chars": MAX_CHARS + 1}
    assert leaks(received, course) == []


# -- 6. the journal's rate limit -------------------------------------------------------------------------
def test_saves_past_the_rate_limit_are_refused_with_a_plain_message(site):
    course, server, codes = site
    sid, code = codes["c008"]

    async def go() -> list[str]:
        async with await opened(server.url) as page:
            await start_exam(page, code)
            q1 = current_question(page)
            alerts = []
            for k in range(MAX_SAVES + 3):  # as fast as the kernel takes them
                await page.choose(q1, "AB"[k % 2])
                alerts.append(error_shown(page))
            await page.unload()
            return alerts

    alerts = run(go())
    assert alerts[:MAX_SAVES] == [""] * MAX_SAVES
    assert alerts[MAX_SAVES:] == [TOO_FAST] * 3
    assert rows(course, sid) == [("tf-hope", "AB"[k % 2]) for k in range(MAX_SAVES)]
    assert [e.details for e in events(course, sid, "limit")] == [
        {"limit": "rate", "item": "tf-hope", "what": "answer"}]  # one event a minute, not one per refusal


# -- 7. code, malformed widget messages and frames ---------------------------------------------------------
def garbage_frames() -> list[bytes | str]:
    """Frames no page sends: bytes, a part count of 10^18, too few parts, text on a v1 socket."""
    short = (2).to_bytes(8, "little") + (24).to_bytes(8, "little") + (24).to_bytes(8, "little")
    huge = (10 ** 18).to_bytes(8, "little") + bytes(16)
    legacy_exec = json.dumps({"header": {"msg_type": "execute_request", "msg_id": "x"}, "parent_header": {},
                              "metadata": {}, "content": {"code": "1"}, "channel": "shell"})
    return [b"\x00\xff garbage \xfe", huge, short, "not json at all", legacy_exec]


def test_code_and_malformed_messages_are_refused_quietly(site):
    course, server, codes = site
    sid, code = codes["c009"]
    marker = course.root / "executed.txt"

    async def go() -> tuple[PageClient, str, int]:
        async with await opened(server.url) as page:
            assert page.selected_subprotocol == V1
            sizes = page.find(model_name="AnyModel", description="Text size")
            code_box = code_form(page)
            ex = await page.send_raw("execute_request", {
                "code": f"open({str(marker)!r}, 'w').write('ran')", "silent": False, "store_history": False,
                "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
            probes = [
                ("comm_msg", {"comm_id": sizes.id, "data": {"method": "update", "state": {"value": ["not text"]}}}),
                ("comm_msg", {"comm_id": sizes.id, "data": {"method": "update", "state": {"value": "Huge"},
                                                            "buffer_paths": []}}),
                ("comm_msg", {"data": {"method": "update", "state": {"value": "no comm id"}}}),
                ("comm_msg", {"comm_id": "no-such-comm", "data": {"method": "update", "state": {}}}),
                ("comm_msg", {"comm_id": code_box.id, "data": {"method": "update", "state": {"no_such_trait": 1}}}),
                ("comm_msg", {"comm_id": code_box.id, "data": {"method": "update", "state": {"value": 42},
                                                               "buffer_paths": "x"}}),
                ("comm_msg", {"comm_id": code_box.id, "data": {"method": "no such method"}}),
                ("comm_msg", {"comm_id": code_box.id, "data": "not a dict"}),
                ("comm_open", {"comm_id": "fake", "target_name": "jupyter.widget",
                               "data": {"state": {"_model_name": "NoSuchModel", "_model_module": "nowhere"}}}),
                ("comm_open", {"comm_id": "fake2", "target_name": "no.such.target", "data": {}}),
                ("inspect_request", {"code": "open", "cursor_pos": 4, "detail_level": 1}),
            ]
            sent = [await page.send_raw(kind, content) for kind, content in probes]
            for frame in garbage_frames():
                await page.send_frame(frame)
            info = await page.send_raw("kernel_info_request", {})
            await page.wait_reply(info, timeout=60)  # the socket and the kernel still answer
            await page.wait_for(lambda: all(m in page.idle_at for m in sent[:-1]), 60,
                                "the kernel to handle the probes")
            assert ex not in page.replies and ex not in page.idle_at  # the code never reached the kernel
            assert sent[-1] not in page.replies  # nor the inspector (not widget traffic)
            await page.load_widgets()  # the kernel's own state (ipywidgets echoes an update before validating it)
            assert page.models[sizes.id].state["value"] == "Normal"  # nothing changed the text size
            # the page still works: sign in and answer
            await start_exam(page, code)
            await page.choose(current_question(page), "B")
            await page.wait_for(lambda: page.shows("Answer to question 1 saved at"), 60, "the save")
            await page.unload()
            return page, page.received_text(), len(page.frames)

    page, received, frames = run(go())
    assert frames > 20 and "Answer to question 1" in received  # the scan sees the page's own traffic
    assert leaks(received, course) == []
    assert not marker.exists()
    assert rows(course, sid) == [("tf-hope", "B")]
    log = server.log.read_text()
    assert "refused a 'execute_request' message" in log and "refused a malformed frame" in log


# -- 8. messages too fast ------------------------------------------------------------------------------------
def test_a_flood_of_messages_is_rate_limited_and_another_page_signs_in_quickly(site):
    course, server, codes = site
    sid, code = codes["c010"]
    at_least = 5000

    async def flood(page: PageClient, until: asyncio.Future) -> tuple[list[str], float]:
        """Small widget updates as fast as the socket takes them, until the other page has signed in."""
        box = code_form(page)
        ids: list[str] = []
        t0 = time.monotonic()
        while (len(ids) < at_least or not until.done()) and len(ids) < 200_000:
            ids.append(await page.send_raw("comm_msg", {"comm_id": box.id, "data": {
                "method": "update", "state": {"value": f"x{len(ids)}"}, "buffer_paths": []}}))
        return ids, time.monotonic() - t0

    async def other() -> float:
        t0 = time.monotonic()
        async with await opened(server.url) as page:
            await sign_in(page, code)
            elapsed = time.monotonic() - t0
            await page.unload()
            return elapsed

    async def go() -> tuple[int, int, float, float]:
        async with await opened(server.url) as flooder:
            signed = asyncio.ensure_future(other())
            ids, spent = await flood(flooder, signed)
            signed_in = await signed
            await asyncio.sleep(0.5)  # the page's token bucket refills (30 a second) for the next messages
            info = await flooder.send_raw("kernel_info_request", {})
            await flooder.wait_reply(info, timeout=120)  # the flooding page still works
            last = await flooder.set_value(code_form(flooder), "end")
            assert last in flooder.idle_at  # the kernel handles a page's messages in order: all before it are in
            handled = sum(1 for m in ids if m in flooder.idle_at)
            await flooder.unload()
            return handled, len(ids), spent, signed_in

    handled, sent, spent, signed_in = run(go())
    # the burst allowance (20 s of max_messages_per_second, at least 500) plus the sustained rate
    allowed = max(30 * 20, 500) + 30 * (spent + 1)
    assert 0 < handled <= allowed < sent, (handled, sent, spent)
    assert signed_in < 30, f"another page took {signed_in:.1f} s to sign in during the flood"
    assert [e.kind for e in events(course, sid)] == ["sign_in", "identity_confirmed"]
    assert "exam-builder: a page sends too fast" in server.log.read_text()
    assert server.status()["pool_target"] == 3


# -- 9. a wrong-code flood from one source (last: it locks out every page of this module) -----------------
def test_wrong_codes_lock_the_source_until_a_proctor_lifts_it(site):
    course, server, codes = site
    sid, code = codes["c006"]
    assert wrong_codes(course) == 0

    async def typed(codes_typed: list[str]) -> tuple[list[str], bool]:
        async with await opened(server.url) as page:
            alerts = [await type_code(page, c) for c in codes_typed]
            identity = page.button("Yes, this is me") is not None
            await page.unload()
            return alerts, identity

    wrong = [f"WRON-G00{n}" for n in range(MAX_WRONG)]
    alerts, identity = run(typed([*wrong, code]))
    assert alerts == [WRONG_CODE] * (MAX_WRONG - 1) + [LOCKED, LOCKED] and not identity
    with course.db.read() as s:
        # the right code is not counted
        assert s.execute(select(WrongCode.source)).scalars().all() == [SOURCE] * MAX_WRONG
        [lock] = s.execute(select(Lockout)).scalars().all()
        assert (lock.source, lock.wrong_codes, lock.lifted_at) == (SOURCE, MAX_WRONG, None)
    assert events(course, sid) == []  # a locked source never reaches the code's sitting
    with course.db.transaction() as s:
        access.lift(s, SOURCE, "proctor-kim", "candidate typed O for 0", utcnow())
    alerts, identity = run(typed([code]))
    assert alerts == [""] and identity
    with course.db.read() as s:
        [entry] = s.execute(select(AuditEntry).where(AuditEntry.action == "sign_in.unlock")).scalars().all()
        assert (entry.actor, entry.entity_id, entry.reason) == ("proctor-kim", SOURCE, "candidate typed O for 0")
        assert audit.verify(s).ok
        assert s.execute(select(Lockout.lifted_by)).scalars().all() == ["proctor-kim"]
    assert [e.kind for e in events(course, sid)] == ["sign_in"]
