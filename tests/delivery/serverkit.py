"""A live `exam-builder serve` for the tests that need one (browser tests, the page client).

``Server`` runs the console script in its own process group, so SIGKILL takes its kernels with
it; ``start()`` returns once the server answers HTTP, ``wait_ready()`` once its pool of warm
kernels is full (``/exam-builder/status``, when the server has it). A wait returns the state it
waited for or raises (``AssertionError`` naming what it awaited, with the last status): it never
returns on a timeout, so no caller can go on as if the state had come. ``make_site`` copies the
delivery tests' course template and opens one sitting per candidate with a known code.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import delivery_formkit as formkit
import psutil
from sqlalchemy import select

from exam_builder.course import Course
from exam_builder.records.models import Candidate, Form

EXE = Path(sys.executable).parent / "exam-builder"
STATUS = "exam-builder/status"
#: How often a wait asks again (a status request is small): a state is seen at most this long after it comes.
POLL = 0.05


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`exam-builder serve` in its own process group (so its kernels die with it)."""

    command: tuple[str, ...] = ("serve",)  # the exam-builder command that runs this server

    def __init__(self, root: Path, seats: int | None = None, args: tuple[str, ...] = (), scheme: str = "http"):
        self.root, self.port, self.proc = root, free_port(), None
        self.url = f"{scheme}://127.0.0.1:{self.port}/"
        self.log = root / f"serve-{self.port}.log"
        self.args = list(args)
        self.ssl = ssl._create_unverified_context() if scheme == "https" else None  # a self-signed test certificate
        if seats is not None:
            self.args += ["--seats", str(seats)]

    def launch(self) -> "Server":
        """The server's process, started: it may not answer yet (``start`` waits until it does)."""
        env = {**os.environ, "EXAM_BUILDER_COURSE": str(self.root)}
        env.pop("EXAM_BUILDER_DB_URL", None)
        self.proc = subprocess.Popen([str(EXE), *self.command, "--port", str(self.port), *self.args], env=env,
                                     cwd=self.root, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def start(self) -> "Server":
        self.launch()
        deadline = time.time() + 90
        while time.time() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                self.status()
                return self
            except OSError:
                time.sleep(POLL)
        raise AssertionError(f"`exam-builder {' '.join(self.command)}` did not start: " + self.log.read_text()[-2000:])

    def get(self, path: str = "") -> tuple[int, str]:
        """A plain request (no websocket): its status and body."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=30, context=self.ssl) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def status(self) -> dict:
        """The pool's counts (``/exam-builder/status``)."""
        code, body = self.get(STATUS)
        assert code == 200, body
        return json.loads(body)

    def wait_for(self, pred, what: str, timeout: float = 30) -> dict:
        """The status once ``pred(status)`` holds; raises after ``timeout`` seconds, or when the
        server exits, saying ``what`` was awaited."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.status()
            if pred(st):
                return st
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited while waiting for {what}: " + self.log.read_text()[-3000:])
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; the last status: {st}")
            time.sleep(POLL)

    def wait_ready(self, timeout: float = 120) -> dict:
        """The status once the pool of warm kernels is full (raises as ``wait_for``)."""
        return self.wait_for(lambda st: st["pool_ready"] >= st["pool_target"], "the pool of warm kernels to fill",
                             timeout)

    def kernel_processes(self) -> int:
        return len([p for p in psutil.Process(self.proc.pid).children(recursive=True)
                    if "ipykernel" in " ".join(p.cmdline())])

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def make_site(form_template: Path, root: Path, sittings: list[tuple[str, int]],
              config: str = "") -> tuple[Course, dict[str, tuple[int, str]]]:
    """A copy of the template course with one sitting per (candidate, minutes), code ``C00N-TEST``
    (a candidate the template lacks is added);
    ``config`` is appended to its ``nbgrader_config.py``. Returns the course and candidate -> (sitting, code)."""
    shutil.copytree(form_template, root)
    if config:
        with open(root / "nbgrader_config.py", "a") as fh:
            fh.write("\n" + config.strip() + "\n")
    course = Course(root)
    with course.db.transaction() as s:
        form_id = s.execute(select(Form.id)).scalar_one()
        known = set(s.execute(select(Candidate.id)).scalars())
        for cid, _minutes in sittings:  # candidates past the template's six are made up here
            if cid not in known:
                n = int(cid[1:]) - 1
                s.add(Candidate(id=cid, first_name=f"Pat{n}", last_name=f"Example{n}", cohort="2026-spring"))
    codes = {}
    for cid, minutes in sittings:
        code = f"{cid.upper()}-TEST"
        codes[cid] = (formkit.add_sitting(course, cid, code, form_id, minutes=minutes), code)
    return course, codes


LOOPBACK = ("http://127.0.0.1", "https://127.0.0.1", "ws://127.0.0.1", "wss://127.0.0.1", "data:", "blob:")


def offline_context(browser, **kw):
    """A browser context as in a room with no internet: every request off the loopback is
    blocked and recorded in the returned list (an exam page must load nothing from outside)."""
    ctx = browser.new_context(**kw)
    outside: list[str] = []

    def refuse(route):
        outside.append(route.request.url)
        route.abort()

    ctx.route(lambda url: not url.startswith(LOOPBACK), refuse)
    return ctx, outside


def run_pages(coro, timeout: float = 300):
    """Run a page-client coroutine to its end on a thread of its own: Playwright's sync API holds
    the test thread's event loop, so ``asyncio.run`` cannot run there."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coro, timeout)).result()


class StaffServer:
    """A staff app (``exam-builder proctor EXAM``, ``grader``...) in its own process group, as staff start
    it with its output sent to a log file: ``url`` is the address with its token, read from the
    private file that the log names (the token itself never enters the log)."""

    def __init__(self, root: Path, *args: str):
        self.root, self.port, self.proc, self.url = root, free_port(), None, ""
        self.args = [*args, "--port", str(self.port)]
        self.log = root / f"{args[0]}-{self.port}.log"

    def start(self, timeout: float = 90) -> "StaffServer":
        import re

        env = {**os.environ, "EXAM_BUILDER_COURSE": str(self.root)}
        env.pop("EXAM_BUILDER_DB_URL", None)
        self.proc = subprocess.Popen([str(EXE), *self.args], env=env, cwd=self.root, stdout=open(self.log, "ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            # not a terminal: the log names the private file that holds the address with its token
            named = re.search(rf"http://127\.0\.0\.1:{self.port}/ \(the address with its token is in (\S+),",
                              self.log.read_text())
            found = named and re.search(rf"http://127\.0\.0\.1:{self.port}/\?token=[\w-]+",
                                        Path(named.group(1)).read_text())
            if found:
                # named as the README says: .exam-builder/<command>-<port>.url
                assert re.fullmatch(rf"(grader|proctor|coordinator|verification|panelist)-{self.port}\.url",
                                    Path(named.group(1)).name), named.group(1)
                token = found.group(0).split("token=", 1)[1]
                assert token not in self.log.read_text(), "a staff app wrote its token into a log"
                try:  # it answers (a login page or 403 without the token: no kernel spent on the probe)
                    urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5).close()
                except urllib.error.HTTPError:
                    pass
                except OSError:
                    time.sleep(POLL)
                    continue
                self.url = found.group(0)
                return self
            time.sleep(POLL)
        raise AssertionError("the staff server did not start: " + self.log.read_text()[-2000:])

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


# -- the candidate's page -----------------------------------------------------------------------
def new_page(browser, **kw):
    """A page in an offline context (see ``offline_context``): (context, page, requests that left the server)."""
    ctx, outside = offline_context(browser, **kw)
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    return ctx, page, outside


def open_sign_in(browser, url: str, size: dict, load: int = 90_000):
    """A new page at the sign-in screen: (context, page, requests that left the server)."""
    ctx, page, outside = new_page(browser, **size)
    page.goto(url)
    page.get_by_label("Access code").wait_for(timeout=load)
    return ctx, page, outside


def tab_until(page, pattern: str, limit: int = 12, key: str = "Tab") -> int:
    """Press ``key`` (Tab or Shift+Tab) until the focused element matches ``pattern`` (its tag and
    accessible text); the number of presses. At every stop the focus ring must be whole."""
    import a11y

    for n in range(1, limit + 1):
        page.keyboard.press(key)
        assert not (cut := a11y.ring_cut(page)), cut
        if re.search(pattern, focused(page)):
            return n
    raise AssertionError(f"{pattern!r} not reached in {limit} presses of {key} (at {focused(page)!r})")


def focused(page) -> str:
    """The focused element as a person would name it: its tag, and its accessible text."""
    return page.evaluate("""() => { const e = document.activeElement;
        const text = e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].innerText)
                     || e.innerText || '';
        const tag = `${e.tagName.toLowerCase()}${e.tagName === 'INPUT' ? ':' + e.type : ''}`;
        return `${tag} ${text.trim().replace(/\\s+/g, ' ')}`; }""")
