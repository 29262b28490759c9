"""The exam server at room scale, through the path a person takes: real pages, real kernels.

A live `exam-builder serve` with a small pool and short grace periods (set in the course's
``nbgrader_config.py``, as a program would) and Debian's chromium:

* the sign-in screen comes from a warm kernel, never with "Executing" on the page, and the page
  fetches nothing from outside the server;
* page loads and reloads (browser reloads, closed tabs, and bare requests that never open a
  websocket), each kind more of them than the page cap, leave no more kernels than pages still
  open; a connected page that sits idle past every grace period keeps its kernel;
* past ``max_pages`` a page says plainly to tell the proctor, and recovers once kernels are freed;
* ``serve`` refuses a pool the machine's memory cannot hold, and serves HTTPS with a certificate;
* ``serve`` prints the address candidates type (the seat cards' ``exam_address``) and no
  "Notebook ... is not trusted" warning, however many pages open;
* a server stopped by SIGTERM (as systemd and the tests stop it), while it starts or once it
  serves, removes its pages folder; the folder of one killed outright goes at the next start.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from serverkit import Server, free_port, offline_context, run_pages

from exam_builder.cli import cli
from exam_builder.delivery.server import PAGES_OWNER, PAGES_PREFIX

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

SETTINGS = """
c.DeliverySettings.exam_address = "http://exam.example.org:8866/"
c.ServerSettings.unconnected_grace_seconds = 10
c.ServerSettings.reconnect_grace_seconds = 6
c.ServerSettings.cull_interval_seconds = 0.5
c.ServerSettings.refill_quiet_seconds = 0.5
c.ServerSettings.max_pages = 6
c.ServerSettings.reattach_seconds = 0  # every load starts a page afresh (test_pageclient: a reload's own kernel)
"""
#: The page cap above: small, so that a few loads of each kind already pass it (every page a test opens
#: starts a kernel, the cost of these tests), and above what the module's tests hold open at once.
MAX_PAGES = 6


@pytest.fixture(scope="module")
def course_root(form_template, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("server") / "course"
    shutil.copytree(form_template, root)
    with open(root / "nbgrader_config.py", "a") as fh:
        fh.write(SETTINGS)
    return root


@pytest.fixture(scope="module")
def server(course_root):
    srv = Server(course_root, seats=2).start()
    srv.wait_ready()
    yield srv
    srv.kill()


#: A page whose kernel had to start cold, on a loaded two-core machine (the wait, not the claim).
SLOW_LOAD = 180_000


def offline_page(browser, **kw):
    ctx, outside = offline_context(browser, **kw)
    page = ctx.new_page()
    page.set_default_timeout(90_000)
    return ctx, page, outside


def test_the_first_page_after_ready_is_as_fast_as_the_next(course_root):
    """``pool_ready`` counts a kernel only once it has run the app: the first page after a start used to wait
    for that (2.2 s here, 4.5 s in the field; the next ones 0.002 s), now it pays nothing."""
    import urllib.request

    srv = Server(course_root, seats=1).start()
    try:
        srv.wait_ready()
        times = []
        for _ in range(2):
            t = time.monotonic()
            with urllib.request.urlopen(srv.url, timeout=60) as r:
                assert r.status == 200 and b"Opening the exam" in r.read()
            times.append(time.monotonic() - t)
        assert times[0] < 1.0, times  # nothing left to run: the page is the rendered app
    finally:
        srv.kill()


def test_sign_in_screen_comes_warm_and_from_this_server_only(server, browser):
    ctx, page, outside = offline_page(browser)
    seen: set[str] = set()
    page.goto(server.url, wait_until="commit")
    deadline = time.time() + 30
    while not page.get_by_label("Access code").count():
        seen.add(page.evaluate("document.body ? document.body.innerText : ''"))
        assert time.time() < deadline, "no sign-in screen"
        time.sleep(0.02)
    assert not [t for t in seen if "Executing" in t], seen
    assert page.get_by_role("button", name="Sign in").is_visible()
    assert outside == []
    ctx.close()


def test_serve_prints_the_exam_address_and_no_trust_warning(server, browser):
    """Voila loads the app notebook through Jupyter's contents manager at every page: it used to log
    "Notebook exam.ipynb is not trusted" each time, alarming a coordinator reading the console."""
    ctx, page, _outside = offline_page(browser)
    for _ in range(2):  # two page loads: each reads the notebook again
        page.goto(server.url, wait_until="commit")
        page.get_by_label("Access code").wait_for()
    ctx.close()
    log = server.log.read_text()
    assert "candidates type http://exam.example.org:8866/ (printed on the seat cards)" in log
    assert "GET /" in log or "200 GET" in log or "exam app for" in log  # the log is the server's own
    assert "not trusted" not in log, [line for line in log.splitlines() if "trusted" in line]


def test_page_loads_and_reloads_leave_no_kernels(server, browser):
    """30 loads: a tab reloaded, tabs opened and closed, and bare requests that never connect.

    Each kind comes more often than the page cap (``MAX_PAGES``) allows pages at once, so a kernel
    the server kept for any kind would fill the cap and the next page would be refused; after the
    reloads and after the closed tabs only the open page (and at most one page whose beacon is on
    its way) holds a kernel, so each page's beacon is what freed its kernel, not the culler's grace.
    (100 loads, 30 of them reloads, proved no more: each load starts a kernel, the test's whole cost.)"""
    loads = 0
    ctx, page, _ = offline_page(browser)
    for _ in range(MAX_PAGES + 4):  # a candidate reloading: the old page's beacon frees its kernel
        page.reload() if loads else page.goto(server.url)
        page.get_by_label("Access code").wait_for(timeout=SLOW_LOAD)
        loads += 1
    st = server.status()
    assert st["pages"] <= 2, st  # this page, and at most one whose beacon is on its way
    for _ in range(MAX_PAGES - 1):  # tabs opened and closed (closing runs the page's unload handler)
        p2 = ctx.new_page()
        p2.set_default_timeout(90_000)
        p2.goto(server.url)
        p2.get_by_label("Access code").wait_for()
        p2.close(run_before_unload=True)
        loads += 1
    st = server.status()
    assert st["pages"] <= 2, st
    for _ in range(2 * MAX_PAGES + 3):  # requests that never open the page's websocket (a script, a crawler)
        code, _body = server.get()
        assert code in (200, 503)
        loads += 1
        if code == 503:
            server.wait_for(lambda st: st["pages"] < st["max_pages"], "a page to close below the cap")
    assert loads == 30
    # one page is still open: after the grace periods only its kernel (and the warm pool) remain
    st = server.wait_for(lambda st: st["pages"] == 1 and st["pool_ready"] == st["pool_wanted"]
                         and st["kernels"] == st["pool_wanted"] + 1, "only the open page and the warm pool", timeout=60)
    assert st["pages"] == 1 and st["connected"] == 1, st
    assert st["kernels"] == st["pool_wanted"] + 1 == st["pool_target"], st  # the open page's seat is taken
    assert server.kernel_processes() == st["kernels"]
    page.get_by_label("Access code").fill("NOT-A-CODE")  # the open page still works
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("not right").wait_for()
    ctx.close()
    server.wait_for(lambda st: st["pages"] == 0 and st["kernels"] == st["pool_target"],
                    "no page and only the warm pool's kernels", timeout=30)
    log = server.log.read_text()  # 30 pages gone mid-flight: the coordinator's terminal stays calm
    assert "never retrieved" not in log and "Traceback" not in log, log[-3000:]


def test_a_wait_that_times_out_raises_and_names_what_it_awaited(server):
    """serverkit's waits never hand back a status on a timeout, so no test can go on as if it came."""
    with pytest.raises(AssertionError, match=r"^timed out after 1 s waiting for a state that never comes; "
                                             r"the last status: \{'"):
        server.wait_for(lambda st: False, "a state that never comes", timeout=1)
    assert server.wait_ready()["pool_ready"] >= 1  # the state it waits for: the status, at once


def test_idle_connected_page_keeps_its_kernel(server, browser):
    """A candidate who sits without typing past every grace period is never cut off.

    Waited for as a state, not a time: a bare request served after the page connected never
    connects, so the culler shuts its kernel down once the unconnected grace (the longer one) has
    passed; by then the idle page has been eligible for as long, in every round of the culler."""
    ctx, page, _ = offline_page(browser)
    page.goto(server.url)
    page.get_by_label("Access code").wait_for()
    before = server.wait_for(lambda st: st["connected"] == 1, "the page's websocket")
    assert before["pages"] == 1, before
    code, _body = server.get()  # a page served after this one, that never connects
    assert code == 200 and server.status()["pages"] == 2
    after = server.wait_for(lambda st: st["pages"] == 1, "the unconnected page's kernel to be culled", timeout=60)
    assert after["connected"] == 1, (before, after)
    page.get_by_label("Access code").fill("STILL-HERE")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("not right").wait_for()
    ctx.close()


def test_a_malformed_frame_is_refused_and_the_server_carries_on(server):
    """A binary frame claiming 10^18 parts once hung the server's decoder; now it is dropped unread."""
    from exam_builder.loadtest.pageclient import PageClient, sign_in_ready

    async def run() -> None:
        async with PageClient(server.url) as bad:
            await bad.open(sign_in_ready)
            for frame in (b"\x00\x01 not a kernel message", b"\xff" * 64, (2**40).to_bytes(8, "little") + b"x" * 32):
                await bad.send_frame(frame)
            t0 = time.monotonic()
            async with PageClient(server.url) as good:  # another page opens at once
                await good.open(sign_in_ready)
            assert time.monotonic() - t0 < 30
            await bad.click(bad.button("Sign in"))  # and the sender's own page still answers
        assert "Traceback" not in bad.received_text()

    run_pages(run())
    assert "refused a malformed frame" in server.log.read_text()


def test_refused_websocket_requests_never_pin_a_kernel(server):
    """A page whose kernel websocket is refused (no ``Upgrade``: 400; a foreign ``Origin``: 403; a
    websocket version the server does not speak: 426) never counts as connected: its kernel goes
    after the unconnected grace, as a script that loads pages and never connects would have it."""
    from exam_builder.loadtest.pageclient import PageClient, PageError

    async def refused() -> list[str]:
        kernels, answers = [], []
        for how in ("no upgrade", "foreign origin", "bad version"):
            page = PageClient(server.url, origin="http://elsewhere.example" if how == "foreign origin" else None)
            await page.open_page()  # the page, its cookies and its kernel: no websocket yet
            kernels.append(page.kernel_id)
            channels = f"api/kernels/{page.kernel_id}/channels?session_id={page.client_id}"
            if how == "no upgrade":
                answers.append((await page.fetch(channels)).code)
            elif how == "bad version":
                answers.append((await page.fetch(channels, headers={
                    "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "7",
                    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": page.origin})).code)
            else:
                with pytest.raises(PageError, match="403"):
                    await page.connect()
                answers.append(403)
            await page.close()
        assert answers == [400, 403, 426], answers
        return kernels

    kernels = run_pages(refused())
    st = server.status()
    assert st["connected"] == 0, st  # refused requests are never counted as connected
    # the unconnected grace (10 s), then the culler
    st = server.wait_for(lambda st: st["pages"] == 0, "the refused pages' kernels to be culled", timeout=60)
    assert st["pages"] == 0 and st["connected"] == 0, st
    log = server.log.read_text()
    assert all(f"shutting down kernel {k} (its page is gone)" in log for k in kernels)


def test_the_message_budget_is_the_kernels_not_the_sockets(server):
    """A page that floods its kernel and reconnects gets no fresh burst: the budget (a page load's
    burst, then ``max_messages_per_second``) belongs to the kernel, not to the websocket."""
    from exam_builder.loadtest.pageclient import PageClient, sign_in_ready

    async def flood(page: PageClient, n: int) -> int:
        """Send ``n`` requests at once; how many the kernel answered (all answered before a later reply)."""
        ids = [await page.send_raw("comm_info_request", {"target_name": "jupyter.widget"}) for _ in range(n)]
        while True:  # a probe gets through once the bucket has refilled a little (a state, not a time)
            probe = await page.send_raw("kernel_info_request", {})
            try:
                await page.wait_reply(probe, timeout=1)
                break
            except Exception:  # noqa: BLE001 (dropped: try again)
                continue
        return sum(1 for i in ids if i in page.replies)

    async def go() -> tuple[int, int, float]:
        async with PageClient(server.url) as page:
            await page.open(sign_in_ready)
            first = await flood(page, 1000)
            drained = time.monotonic()
            await page.close()  # the page drops its websocket and comes straight back (a script would)
            await page.connect()
            second = await flood(page, 1000)
            spent = time.monotonic() - drained
            await page.unload()
            return first, second, spent

    first, second, spent = run_pages(go())
    assert 0 < first < 1000, first  # the burst (600), then 30 a second
    # only what the kernel's bucket refilled (3 s of slack between the client's and the server's clocks on a
    # busy machine): a fresh burst would be 600 more
    assert second <= 30 * (spent + 3), (second, spent)


def test_too_many_pages_get_a_plain_message(server):
    """Past max_pages a request gets words for a person, and the server recovers by itself."""
    from concurrent.futures import ThreadPoolExecutor

    burst = MAX_PAGES + 4
    with ThreadPoolExecutor(burst) as pool:  # a burst of bare requests, as a script would send
        answers = list(pool.map(lambda _: server.get(), range(burst)))
    codes = [code for code, _body in answers]
    assert codes.count(200) <= MAX_PAGES and codes.count(503) >= 4, codes
    refused = next(body for code, body in answers if code == 503)
    assert "Please tell the proctor" in refused and "Traceback" not in refused, refused
    server.wait_for(lambda st: st["pages"] == 0, "the refused pages to be gone", timeout=30)
    server.wait_for(lambda st: st["pool_ready"] == st["pool_target"], "the pool to fill again", timeout=60)
    assert server.get()[0] == 200


def serve_refused(course_root: Path, *args: str) -> str:
    """`exam-builder serve ARGS` that must refuse before it starts anything: run in this process (the
    refusal, not the console script, is the point; the console script runs in every other test
    here), its exit code checked; its output, on one line."""
    out = CliRunner().invoke(cli, ["--course", str(course_root), "serve", "--port", str(free_port()), *args],
                             catch_exceptions=False)
    assert out.exit_code == 1, out.output
    return " ".join(out.output.split())


def test_serve_refuses_a_pool_the_memory_cannot_hold(course_root):
    text = serve_refused(course_root, "--seats", "2000")
    # 2000 seats and their spares: one for every ten seats (ServerSettings.spares)
    assert "MB of free memory" in text and "2200 warm kernels" in text and "Traceback" not in text


def test_https_with_a_self_signed_certificate(course_root, browser, tmp_path):
    cert, key = tmp_path / "room.pem", tmp_path / "room.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    srv = Server(course_root, seats=1, args=("--certfile", str(cert), "--keyfile", str(key)), scheme="https")
    try:
        srv.start().wait_ready()
        with pytest.raises(OSError):  # no plain HTTP on that port
            urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/exam-builder/status", timeout=5).read()
        ctx, page, outside = offline_page(browser, ignore_https_errors=True)
        page.goto(srv.url)
        page.get_by_label("Access code").wait_for(timeout=SLOW_LOAD)
        page.get_by_label("Access code").fill("NOT-A-CODE")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("not right").wait_for()  # the widgets talk over wss://
        assert outside == []
        ctx.close()
    finally:
        srv.kill()


def test_serve_names_a_missing_certificate(course_root, tmp_path):
    text = serve_refused(course_root, "--seats", "1", "--certfile", str(tmp_path / "none.pem"),
                         "--keyfile", str(tmp_path / "none.key"))
    assert "none.pem: the TLS certificate file does not exist" in text


def pages_folder_of(tmp: Path, pid: int) -> Path | None:
    """The pages folder that the server process ``pid`` made in ``tmp`` (it names its pid), if any."""
    for folder in tmp.glob(PAGES_PREFIX + "*"):
        try:
            if (folder / PAGES_OWNER).read_text(encoding="utf-8").strip() == str(pid):
                return folder
        except OSError:
            continue
    return None


def test_a_server_stopped_by_sigterm_removes_its_pages_folder(course_root, tmp_path, monkeypatch):
    """systemd and the tests stop a server with SIGTERM to its process group: its pages folder
    (``/tmp/exam-builder-pages-*``) goes with it, whether it was still starting (before Voila set its
    own handler, when the default action used to end it where it stood) or serving. A folder left by a
    server killed outright (SIGKILL) is removed by the next server that starts; one that names no
    server, or a live one, is left alone."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))  # the servers' temporary folder: this test's alone
    gone = subprocess.Popen(["true"])
    gone.wait()
    killed = tmp / f"{PAGES_PREFIX}killed"
    killed.mkdir(mode=0o700)
    (killed / PAGES_OWNER).write_text(str(gone.pid), encoding="utf-8")
    unnamed = tmp / f"{PAGES_PREFIX}unnamed"
    unnamed.mkdir(mode=0o700)
    for when in ("starting", "serving"):
        srv = Server(course_root, seats=1)
        try:
            if when == "serving":
                srv.start()
            else:
                srv.launch()
            deadline = time.monotonic() + 120
            while (folder := pages_folder_of(tmp, srv.proc.pid)) is None:
                assert srv.proc.poll() is None, srv.log.read_text()[-2000:]
                assert time.monotonic() < deadline, f"no pages folder of the server ({when})"
                time.sleep(0.05)
            assert not killed.exists() and unnamed.exists()  # swept before the server made its own
            os.killpg(srv.proc.pid, signal.SIGTERM)
            srv.proc.wait(90)
            assert not folder.exists(), f"the pages folder outlived a server stopped by SIGTERM while {when}"
        finally:
            srv.kill()
    assert [f.name for f in tmp.glob(PAGES_PREFIX + "*")] == [unnamed.name]


@pytest.mark.parametrize("when", ["starting", "filling", "ready"])
@pytest.mark.parametrize("whom", ["server", "group"])
def test_a_server_stopped_by_sigterm_stops_cleanly(course_root, whom, when):
    """A coordinator (or systemd) stopping `exam-builder serve` with SIGTERM sees a clean stop: exit 0 and no
    traceback in its log (walk 4: it logged one and exited 1). ``server``: the signal to the server alone
    (``kill PID``); ``group``: to its process group, kernels too (systemd's default, and the tests')."""
    srv = Server(course_root, seats=3)
    try:
        if when == "starting":  # it has said where it will be, and does not answer yet
            srv.launch()
            deadline = time.monotonic() + 120
            while "exam app for" not in srv.log.read_text(encoding="utf-8", errors="replace"):
                assert srv.proc.poll() is None and time.monotonic() < deadline, srv.log.read_text()[-2000:]
                time.sleep(0.05)
        else:
            srv.start()
        if when == "ready":
            srv.wait_ready()
        (os.kill if whom == "server" else os.killpg)(srv.proc.pid, signal.SIGTERM)
        code = srv.proc.wait(90)
        log = srv.log.read_text(encoding="utf-8", errors="replace")
        assert code == 0 and "Traceback" not in log, f"exit {code}:\n{log[-3000:]}"
    finally:
        srv.kill()
