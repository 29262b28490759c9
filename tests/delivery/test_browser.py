"""The exam app in a real browser: Debian's chromium (Playwright) against a live `exam-builder serve`.

One server and one browser for the module; each test has its own candidate and access code.
The server's settings make the app re-read the sitting rarely (``refresh_seconds``), so a test
can move a deadline in the database and act before the page notices, as a slow clock would.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path

import delivery_formkit as formkit
import pytest
from serverkit import Server, make_site, offline_context
from sqlalchemy import select

from exam_builder.delivery.session import confirmation_number, receipt_hash
from exam_builder.records.models import Form, Response, Sitting, SittingEvent, utcnow

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

LOAD = 90_000  # ms: a page starts a kernel and runs the app


@pytest.fixture(scope="module")
def site(form_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("browser") / "course"
    course, codes = make_site(form_template, root,
                              [("c001", 270), ("c002", 180), ("c003", 180), ("c004", 1), ("c005", 180), ("c006", 180),
                               ("c007", 180)],
                              config="c.DeliverySettings.refresh_seconds = 3600\n"
                                     "c.DeliverySettings.sign_in_delay_seconds = 0.1")
    server = Server(root, seats=1)  # one page at a time: not a warm kernel per candidate
    server.start()
    yield course, server, codes
    server.kill()
    course.db.dispose()


@pytest.fixture
def page(browser):
    """A page in a room with no internet: a request leaving the server fails the test."""
    ctx, outside = offline_context(browser)
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    assert outside == [], f"the page fetched from outside the server: {outside}"
    ctx.close()


def sign_in(page, url: str, code: str, by_keyboard: bool = False) -> None:
    page.goto(url)
    box = page.get_by_label("Access code")
    box.wait_for(timeout=LOAD)
    if by_keyboard:
        box.focus()
        page.keyboard.type(code)
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
    else:
        box.fill(code)
        page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Yes, this is me").click()


def wait_question(page, number: int, total: int = 5) -> None:
    """Question ``number`` is on screen and the app has moved focus to its heading (as it does on
    every question change), so what the test focuses next keeps its focus."""
    page.get_by_role("heading", name=re.compile(rf"^Question {number} of {total}\b")).wait_for()
    page.wait_for_function("n => document.activeElement.tagName === 'H2' && "
                           "document.activeElement.innerText.startsWith(`Question ${n} of`)", arg=number)


def wait_saved(page, number: int) -> None:
    page.get_by_text(f"Answer to question {number} saved").wait_for()


def until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def journal(course, sitting_id: int) -> dict[str, str | None]:
    with course.db.read() as s:
        rows = s.execute(select(Response).where(Response.sitting_id == sitting_id).order_by(Response.id)).scalars()
        return {r.item_id: r.value for r in rows}


def test_a_whole_sitting_by_keyboard_and_mouse(site, page):
    course, server, codes = site
    sid, code = codes["c001"]
    sign_in(page, server.url, code, by_keyboard=True)
    page.get_by_text("You have 4 hours 30 minutes").wait_for()  # extended time, said in words
    page.get_by_role("button", name="Start the exam").click()
    wait_question(page, 1)
    # keyboard: focus the first choice, arrow to the second (radio groups select on arrow keys)
    page.get_by_role("radio", name="A. True").focus()
    page.keyboard.press("Space")
    wait_saved(page, 1)
    page.get_by_role("button", name="Next ▶").click()
    page.get_by_role("radio", name="A. Both people learn from each other").check()
    wait_saved(page, 2)
    page.get_by_role("checkbox", name="Flag this question to come back to it").check()
    page.get_by_role("button", name="2 answered flagged").wait_for()
    page.get_by_role("button", name="3", exact=True).click()
    page.get_by_text(formkit.SCENARIO_TEXT).wait_for()  # the vignette is shown with its questions
    page.get_by_role("radio", name="B. Ask Dana what she needs").check()
    wait_saved(page, 3)
    page.get_by_role("button", name="5", exact=True).click()
    page.get_by_role("textbox", name="Answer to question 5").fill("I would listen first & ask <what> helps.")
    wait_saved(page, 5)
    page.get_by_role("button", name="Review and submit").click()
    page.get_by_text("You have not answered 1 question(s): 4").wait_for()
    page.get_by_text("You flagged 1 question for review: question 2.").wait_for()
    page.get_by_role("button", name="Submit my exam now").click()
    page.get_by_text("Your exam was submitted.").wait_for()
    shown = page.locator(".eb-confirmation").inner_text().strip()
    answers = journal(course, sid)
    assert answers == {"tf-hope": "A", "mc-mutual": "A", "sc-q1": "B",
                       "or-story": "I would listen first & ask <what> helps."}
    with course.db.read() as s:
        sit = s.get(Sitting, sid)
        assert sit.status == "submitted" and sit.submit_reason == "candidate"
        assert sit.receipt_hash == receipt_hash(sid, answers) and shown == confirmation_number(sit.receipt_hash)


def test_a_reload_mid_exam_keeps_the_answers(site, page):
    course, server, codes = site
    sid, code = codes["c002"]
    sign_in(page, server.url, code)
    page.get_by_role("button", name="Start the exam").click()
    page.get_by_role("radio", name="B. False").check()
    wait_saved(page, 1)
    page.get_by_role("button", name="5", exact=True).click()
    wait_question(page, 5)  # the app has moved focus to the new question's heading: typing now stays in the box
    box = page.get_by_role("textbox", name="Answer to question 5")
    box.press_sequentially("typed, then reloaded", delay=5)
    assert box.input_value() == "typed, then reloaded"
    wait_saved(page, 5)  # saved after typing paused, no button pressed
    until(lambda: journal(course, sid).get("or-story") == "typed, then reloaded")  # a slow machine saves in pieces
    page.reload()  # the page comes back to its own kernel: the question it was on, no sign-in
    page.get_by_role("textbox", name="Answer to question 5").wait_for(timeout=90_000)
    assert page.get_by_role("textbox", name="Answer to question 5").input_value() == "typed, then reloaded"
    page.get_by_role("button", name="1 answered").click()
    assert page.get_by_role("radio", name="B. False").is_checked()
    # the cookie that names the page's kernel gone (another browser, or a page let go): sign in again
    page.context.clear_cookies(name="eb-page")
    sign_in(page, server.url, code)
    page.get_by_text("Welcome back. Your 2 saved answer(s) are here").wait_for()
    page.get_by_role("button", name="5 answered").click()
    assert page.get_by_role("textbox", name="Answer to question 5").input_value() == "typed, then reloaded"
    with course.db.read() as s:
        kinds = [e.kind for e in s.execute(select(SittingEvent).where(SittingEvent.sitting_id == sid)).scalars()]
    assert kinds.count("start") == 1 and kinds.count("resume") == 1


def test_the_deadline_submits_automatically(site, page):
    course, server, codes = site
    sid, code = codes["c004"]  # a one-minute sitting
    page.goto(server.url)
    page.get_by_label("Access code").wait_for(timeout=LOAD)
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    with course.db.transaction() as s:  # it started 50 s ago (elsewhere): 10 s are left
        sit = s.get(Sitting, sid)
        sit.started_at, sit.status = utcnow() - dt.timedelta(seconds=50), "in_progress"
    page.get_by_role("button", name="Yes, this is me").click()
    page.get_by_role("radio", name="A. True").check()
    wait_saved(page, 1)
    page.get_by_text("Time is up: your exam was submitted automatically.").wait_for(timeout=30_000)
    with course.db.read() as s:
        sit = s.get(Sitting, sid)
        assert sit.status == "submitted" and sit.submit_reason == "deadline" and sit.submitted_at == sit.deadline
    assert journal(course, sid) == {"tf-hope": "A"}


def test_a_change_after_the_deadline_is_refused_and_logged(site, page):
    course, server, codes = site
    sid, code = codes["c005"]
    sign_in(page, server.url, code)
    page.get_by_role("button", name="Start the exam").click()
    page.get_by_role("radio", name="A. True").check()
    wait_saved(page, 1)
    with course.db.transaction() as s:  # the clock runs out while the page still shows the question
        s.get(Sitting, sid).started_at = utcnow() - dt.timedelta(minutes=181)
    page.get_by_role("radio", name="B. False").click()  # refused: the page moves on to the receipt
    page.get_by_text("Your change was not saved: the exam has ended.").wait_for()
    page.get_by_text("Time is up: your exam was submitted automatically.").wait_for()
    assert journal(course, sid) == {"tf-hope": "A"}
    with course.db.read() as s:
        refused = s.execute(select(SittingEvent).where(SittingEvent.sitting_id == sid,
                                                       SittingEvent.kind == "refused_change")).scalars().all()
        assert [(e.details["item"], e.details["why"]) for e in refused] == [("tf-hope", "after the deadline")]


def _ax_unnamed(page) -> list[str]:
    """Interactive nodes of the accessibility tree without a name (what a screen reader would read)."""
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    interactive = {"button", "radio", "checkbox", "textbox", "combobox", "slider", "spinbutton", "link", "listbox",
                   "switch", "tab", "menuitem", "searchbox"}
    bad, seen = [], 0
    for n in nodes:
        role = n.get("role", {}).get("value")
        if n.get("ignored") or role not in interactive:
            continue
        seen += 1
        if not (n.get("name", {}).get("value") or "").strip():
            bad.append(f"{role} {n.get('backendDOMNodeId')}")
    assert seen >= 3, "no controls found in the accessibility tree"
    return bad


def test_every_control_has_an_accessible_name_and_text_can_grow(site, page):
    course, server, codes = site
    sid, code = codes["c006"]
    page.goto(server.url)
    page.get_by_label("Access code").wait_for(timeout=LOAD)
    assert _ax_unnamed(page) == []
    sign_in(page, server.url, code)
    page.get_by_role("button", name="Start the exam").click()
    for q in ("1", "3", "5"):
        page.get_by_role("button", name=q, exact=True).click()
        wait_question(page, int(q))
        assert _ax_unnamed(page) == [], q
    size = lambda: page.get_by_role("heading", name=re.compile("^Question 5 of 5")).evaluate(  # noqa: E731
        "e => parseFloat(getComputedStyle(e).fontSize)")
    before = size()
    page.get_by_role("button", name="Display").click()
    page.get_by_role("button", name="Larger").click()
    page.wait_for_function("() => parseFloat(getComputedStyle([...document.querySelectorAll('h2')].find(h => "
                           f"h.textContent.includes('Question 5'))).fontSize) > {before * 1.3}")


def _kernel_socket_probe(page, marker: Path) -> dict:
    """Talk to the page's kernel as a tampering browser would: try to run code, and ask for every widget's state."""
    return page.evaluate(
        """async (marker) => {
        const kid = JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId;
        const ws = new WebSocket(`ws://${location.host}/api/kernels/${kid}/channels?session_id=probe`);
        const got = [];
        const hdr = (id, t) => ({msg_id: id, msg_type: t, username: 'x', session: 'probe', version: '5.3',
                                 date: new Date().toISOString()});
        const send = (id, t, content, metadata = {}) =>
            ws.send(JSON.stringify({header: hdr(id, t), parent_header: {}, metadata, content, channel: 'shell',
                                    buffers: []}));
        await new Promise(r => ws.onopen = r);
        ws.onmessage = e => got.push(JSON.parse(e.data));
        send('exec-1', 'execute_request', {code: `open(${JSON.stringify(marker)}, 'w').write('ran')`, silent: false,
             store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true});
        send('info-1', 'kernel_info_request', {});
        send('open-1', 'comm_open', {comm_id: 'probe-comm', target_name: 'jupyter.widget.control', data: {}},
             {version: '1.0.0'});
        send('states-1', 'comm_msg', {comm_id: 'probe-comm', data: {method: 'request_states'}});
        await new Promise(r => setTimeout(r, 4000));
        ws.close();
        return {got};
    }""", str(marker))


def test_no_code_runs_and_no_key_reaches_the_page_or_widget_state(site, page):
    course, server, codes = site
    frames: list[str] = []
    page.on("websocket",
            lambda ws: ws.on("framereceived",
                             lambda f: frames.append(f if isinstance(f, str) else f.decode("latin-1"))))
    sid, code = codes["c003"]
    sign_in(page, server.url, code)
    page.get_by_role("button", name="Start the exam").click()
    for q in range(1, 6):
        page.get_by_role("button", name=str(q), exact=True).click()
        wait_question(page, q)
    marker = course.root / "executed.txt"
    probe = _kernel_socket_probe(page, marker)
    replies = {m["parent_header"].get("msg_id"): m for m in probe["got"] if m.get("parent_header")}
    assert "info-1" in replies  # the socket works...
    assert not any(m["parent_header"].get("msg_id") == "exec-1" for m in probe["got"])  # ...but code is not run
    assert not marker.exists()
    assert "refused a 'execute_request' message" in server.log.read_text()  # our filter, before Voila's own
    states = [m for m in probe["got"] if m["msg_type"] == "comm_msg"
              and m["content"]["data"].get("method") == "update_states"]
    assert states and len(states[0]["content"]["data"]["states"]) > 20  # every widget model of the kernel
    with course.db.read() as s:
        form = s.execute(select(Form)).scalar_one()
        manifest, manifest_hash = form.manifest, form.manifest_hash
    exposed = page.content() + json.dumps(probe) + "".join(frames)
    assert "Dana" in exposed and "Both people learn" in exposed  # the scan sees the page's questions
    leaks = [m for m in formkit.SECRET_MARKERS + (manifest_hash, '"key"', "cut_score", "option_order") if m in exposed]
    for it in manifest["items"]:
        if it["key"]:
            n = it["number"]
            leaks += [p for p in (f'q{n:02d} = "{it["key"]}"', f'q{n:02d} == "{it["key"]}"') if p in exposed]
    assert leaks == []
    # no other file, tree or API of the server is reachable
    for path in ("tree", "api/contents", "api/kernels", "voila/files/nbgrader_config.py", "voila/render/x.ipynb",
                 f"voila/files/release/{formkit.ASSIGNMENT}/{formkit.ASSIGNMENT}.ipynb"):
        resp = page.request.get(server.url + path)
        assert resp.status in (403, 404), (path, resp.status)


def test_a_killed_and_restarted_server_keeps_the_answers(site, page):
    course, server, codes = site
    sid, code = codes["c007"]
    sign_in(page, server.url, code)
    page.get_by_role("button", name="Start the exam").click()
    page.get_by_role("button", name="2", exact=True).click()
    page.get_by_role("radio", name="C. The staff decide").check()
    wait_saved(page, 2)
    server.kill()  # SIGKILL, kernels and all
    server.start()
    page.reload()
    sign_in(page, server.url, code)
    page.get_by_text("Welcome back. Your 1 saved answer(s) are here").wait_for()
    page.get_by_role("button", name="2 answered").click()
    assert page.get_by_role("radio", name="C. The staff decide").is_checked()
    assert journal(course, sid) == {"mc-mutual": "C"}
