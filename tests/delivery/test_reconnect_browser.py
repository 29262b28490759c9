"""Nothing typed is lost when the page's kernel websocket drops and comes back without a reload
(issue 22, part 3): a Wi-Fi blip, a proxy restarted between the room and the server.

In chromium through the real exam server: the page's websocket to its kernel is closed under it
while the candidate types (Jupyter's page reconnects by itself); every other candidate's page is
also refused a new connection for a while (the proxy still down) and types meanwhile; each types
again at once when the connection is back, while the page restores its widgets. The database
(not the page) must then hold every character, and the box on screen never goes back to an older
text. The browser's console never says ipywidgets' message counter went below zero ("Pending messages
< 0": the page counted a status lost at the drop that came after all, walk 4).

``EB_RECONNECT_TRIALS`` (default 4) candidates each go through one drop; the test fails saying
how many of them lost text. Waits wait for states (a row in ``eb_response``, the connection's
state), never for time.
"""
from __future__ import annotations

import os
import time

import a11y
import pytest
from serverkit import Server, make_site, new_page
from sqlalchemy import select

from exam_builder.records.models import Response

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1200)]

TRIALS = int(os.environ.get("EB_RECONNECT_TRIALS", "4"))
BEFORE = "Before the drop."
DURING = " Typed as the connection dropped."
DOWN = " Typed while it was down."
AFTER = " Typed just after it came back."

#: Before the page's scripts: a websocket to a kernel asked for while ``window.ebRefuse`` is set goes to
#: a closed port (as through a proxy that is down), so the page's reconnecting waits until it is cleared.
PROXY = """(() => { const Real = window.WebSocket; window.ebRefuse = false;
  class Proxied extends Real { constructor(url, protocols) {
    super(window.ebRefuse && String(url).includes('/channels') ? 'ws://127.0.0.1:9/refused' : url, protocols); } }
  window.WebSocket = Proxied; })()"""
WATCH = """() => { const k = window.jupyterapp.widgetManager.kernel; window.ebStates = [];
  k.connectionStatusChanged.connect((_k, s) => window.ebStates.push(s)); }"""
#: The socket closed 0.12 s into the typing of DURING (typed at 10 ms a key), just after the page sent a message:
#: keys on their way are lost, and the kernel's answer to that message reaches the server after the page left
#: (the server keeps it for the session and sends it on the new socket).
DROP = """hold => { window.ebRefuse = hold; setTimeout(() => {
  const ws = window.jupyterapp.widgetManager.kernel._ws, send = ws.send.bind(ws);
  ws.send = (data) => { send(data); ws.send = send; ws.close(); }; }, 120); }"""
BACK = ("() => window.ebStates.includes('connecting') && "
        "window.jupyterapp.widgetManager.kernel.connectionStatus === 'connected'")


@pytest.fixture(scope="module")
def site(form_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("reconnect") / "course"
    course, codes = make_site(form_template, root, [(f"c{n:03d}", 180) for n in range(1, TRIALS + 1)],
                              config="c.DeliverySettings.sign_in_delay_seconds = 0.1")
    server = Server(root)
    server.start()
    yield course, server, codes
    server.kill()
    course.db.dispose()


def latest(course, sitting_id: int, item: str) -> str | None:
    """The answer the database holds now (the journal's last row for the item)."""
    with course.db.read() as s:
        rows = s.execute(select(Response.value).where(Response.sitting_id == sitting_id, Response.item_id == item)
                         .order_by(Response.id)).scalars().all()
    return rows[-1] if rows else None


def held_within(course, sitting_id: int, item: str, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if latest(course, sitting_id, item) == text:
            return True
        time.sleep(0.2)
    return False


def start_on_question_5(page, code: str) -> None:
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Yes, this is me").click()
    page.get_by_role("button", name="Start the exam").click()
    page.get_by_role("button", name="5", exact=True).click()
    page.wait_for_function("() => document.activeElement.tagName === 'H2' && "
                           "document.activeElement.innerText.startsWith('Question 5 of')")


#: What ipywidgets writes to the console when a widget's count of messages awaiting the kernel goes below 0.
BELOW_ZERO = "Pending messages < 0"


def drop_and_type(browser, server, course, sitting_id: int, code: str, hold: bool,
                  console: list[str]) -> tuple[str, str | None, str]:
    """One candidate's drop; what they typed, what the database holds, what the box shows (the page's
    console messages go to ``console``)."""
    ctx, page, _ = new_page(browser, **a11y.SIZES["desktop"])
    page.on("console", lambda msg: console.append(msg.text))
    try:
        page.add_init_script(PROXY)
        page.goto(server.url)
        page.get_by_label("Access code").wait_for(timeout=90_000)
        start_on_question_5(page, code)
        box = page.get_by_role("textbox", name="Answer to question 5")
        box.press_sequentially(BEFORE, delay=5)
        assert held_within(course, sitting_id, "or-story", BEFORE, 60), "the first words were never saved"
        page.evaluate(WATCH)
        page.evaluate(DROP, hold)
        box.press_sequentially(DURING, delay=10)
        page.wait_for_function("() => window.ebStates.includes('connecting')")
        typed = BEFORE + DURING
        if hold:
            box.press_sequentially(DOWN, delay=5)
            typed += DOWN
            page.evaluate("() => { window.ebRefuse = false; }")  # the proxy is back: the next attempt gets through
        page.wait_for_function(BACK, timeout=90_000)
        box.press_sequentially(AFTER, delay=5)  # at once, while the page restores its widgets
        typed += AFTER
        held_within(course, sitting_id, "or-story", typed, 60)
        box.press_sequentially(" And more.", delay=5)  # after the restore: every widget's counter in use again
        typed += " And more."
        held_within(course, sitting_id, "or-story", typed, 60)
        return typed, latest(course, sitting_id, "or-story"), box.input_value()
    finally:
        ctx.close()


def test_text_typed_as_the_kernel_websocket_drops_while_down_and_just_after_is_saved(site, browser):
    course, server, codes = site
    outcomes, below_zero = [], []
    for n, cid in enumerate(sorted(codes)):
        sitting_id, code = codes[cid]
        console: list[str] = []
        typed, saved, shown = drop_and_type(browser, server, course, sitting_id, code, hold=n % 2 == 1,
                                            console=console)
        outcomes.append((cid, typed, saved, shown))
        below_zero += [(cid, text) for text in console if BELOW_ZERO in text]
    lost = [o for o in outcomes if o[2] != o[1] or o[3] != o[1]]
    print(f"reconnect trials: {len(outcomes)}, text lost in {len(lost)}")
    assert not lost, f"{len(lost)} of {len(outcomes)} drops lost text (candidate, typed, saved, shown): {lost}"
    assert not below_zero, f"ipywidgets' message counter went below zero: {below_zero}"
