"""The page's address behind a proxy, through a live `exam-builder serve` and a real
configurable-http-proxy (CHP) on loopback, as a script in the room would try to forge it.

Linux routes all of 127/8 to the loopback interface, so each page here connects from an address
of its own (``127.0.0.2`` the attacker, ``127.0.0.3`` a candidate, ``127.0.0.4`` the seat the
attacker names), while CHP connects to the server from ``127.0.0.1``, as a proxy on the exam
server's machine does. CHP appends the address it received a request from to
``X-Forwarded-For`` by default (``--no-x-forward`` turns that off; http-proxy-3's ``xfwd``, for
plain requests and websockets alike) and passes ``X-Real-Ip`` on untouched. Every page sends
forged ``X-Real-Ip`` and ``X-Forwarded-For`` headers on every request, its websocket's included.

What is asserted is what the server recorded: the source of each wrong access code
(``WrongCode``), the lockout rows, and ``exam-builder sitting lockouts``' table.

* ``c.ServerSettings.trusted_proxies = ["127.0.0.1", "::1"]``: forged headers sent straight to the
  server change nothing (the attacker locks out itself, not the seat it names, and cannot dodge
  the lockout by rotating them); through CHP, the address CHP appended is the source, whatever
  the page put to its left; a trusted peer is believed for ``X-Forwarded-For`` only (never
  ``X-Real-Ip``), and a malformed entry counts as the peer.
* ``behind_proxy = True`` alone (the setting before): the same, with CHP on 127.0.0.1 trusted, and
  a warning in the server's log naming ``trusted_proxies``. (Before the fix, tornado's xheaders
  recorded the forged ``X-Real-Ip`` here.)
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from serverkit import EXE, Server, free_port, make_site, run_pages
from sqlalchemy import select
from tornado.httputil import HTTPHeaders

from exam_builder.delivery.session import LOCKED, WRONG_CODE
from exam_builder.loadtest.pageclient import PageClient, submit_code
from exam_builder.records.models import Lockout, WrongCode

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]  # a live server, as the other serverkit tests

REPO = Path(__file__).resolve().parents[2]
MAX_WRONG = 3
CONFIG = f"""
c.DeliverySettings.sign_in_delay_seconds = 0.1
c.DeliverySettings.refresh_seconds = 3600
c.DeliverySettings.max_wrong_codes_per_source = {MAX_WRONG}
c.ServerSettings.spare_kernels = 1
c.ServerSettings.refill_quiet_seconds = 0.5
c.ServerSettings.max_pages = 24
"""
ATTACKER, CANDIDATE, VICTIM = "127.0.0.2", "127.0.0.3", "127.0.0.4"
_ERROR_BOX = re.compile(r"""<[^>]*\bclass=['"][^'"]*\beb-error\b""")


def proxy_bin() -> Path | None:
    """configurable-http-proxy from `make test`'s npm install (scripts/node-deps.sh), else PATH."""
    local = REPO / ".cache" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    found = local if local.exists() else shutil.which("configurable-http-proxy")
    return Path(found) if found else None


class Proxy:
    """configurable-http-proxy on 127.0.0.1 in front of ``target``, with its default options."""

    def __init__(self, target: str, log: Path):
        self.target, self.log, self.port, self.proc = target.rstrip("/"), log, free_port(), None
        self.url = f"http://127.0.0.1:{self.port}/"

    def start(self) -> "Proxy":
        exe = proxy_bin()
        if exe is None:
            pytest.skip("configurable-http-proxy is not installed (make test runs scripts/node-deps.sh)")
        env = {**os.environ, "CONFIGPROXY_AUTH_TOKEN": secrets.token_hex(16)}
        self.proc = subprocess.Popen(
            [str(exe), "--ip", "127.0.0.1", "--port", str(self.port), "--api-ip", "127.0.0.1",
             "--api-port", str(free_port()), "--default-target", self.target],
            env=env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:  # up once the server's status answers through it
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            try:
                with urllib.request.urlopen(self.url + "exam-builder/status", timeout=5) as r:
                    if r.status == 200:
                        return self
            except (OSError, urllib.error.HTTPError):
                time.sleep(0.2)
        raise AssertionError("configurable-http-proxy did not start: " + self.log.read_text()[-2000:])

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)


class PageFrom(PageClient):
    """A page whose computer is ``source`` (its own loopback address), sending ``forged`` headers
    (name, value pairs; a name may come twice) with every request, the websocket's included."""

    def __init__(self, url: str, source: str, forged: list[tuple[str, str]] = ()):
        super().__init__(url, timeout=120)
        self.source, self.forged = source, list(forged)

    def _request(self, url: str, method: str = "GET", **kw):
        req = super()._request(url, method, network_interface=self.source, **kw)
        headers = HTTPHeaders(req.headers)
        for name, value in self.forged:
            headers.add(name, value)
        req.headers = headers
        return req


def error_shown(page: PageClient) -> str:
    """The error the app shows (its ``eb-error`` box), or "" (as tests/delivery/test_probes.py reads it)."""
    for m in page.visible():
        if m.name == "HTMLModel" and _ERROR_BOX.search(str(m.state.get("value") or "")):
            return m.text
    return ""


async def type_codes(url: str, source: str, forged: list[tuple[str, str]], codes: list[str]) -> list[str]:
    """Open a page from ``source`` with ``forged`` headers and type ``codes``: the alert after each,
    or "identity" once a right code brought the identity screen. The page is closed as a tab is."""
    async with await PageFrom(url, source, forged).open() as page:
        alerts = []
        for code in codes:
            await submit_code(page, code)
            alerts.append("identity" if page.button("Yes, this is me") is not None else error_shown(page))
        assert await page.unload() in (200, 204)  # the beacon (its _xsrf cookie and field) went through
        return alerts


def wrong_sources(course) -> list[str]:
    with course.db.read() as s:
        return list(s.execute(select(WrongCode.source).order_by(WrongCode.id)).scalars())


def lockouts(course) -> list[str]:
    with course.db.read() as s:
        return list(s.execute(select(Lockout.source).order_by(Lockout.id)).scalars())


def cli_lockouts(root: Path) -> str:
    env = {**os.environ, "EXAM_BUILDER_COURSE": str(root)}
    env.pop("EXAM_BUILDER_DB_URL", None)
    done = subprocess.run([str(EXE), "sitting", "lockouts"], env=env, cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def forged(n: int) -> list[tuple[str, str]]:
    """The n-th page's lies: a new X-Real-Ip and X-Forwarded-For each time (one naming the victim's seat)."""
    return [[("X-Real-Ip", "10.0.0.1"), ("X-Forwarded-For", "10.0.0.1")],
            [("X-Real-Ip", VICTIM), ("X-Forwarded-For", VICTIM)],
            [("X-Forwarded-For", "10.0.0.3"), ("X-Forwarded-For", "127.0.0.1"), ("X-Real-Ip", "10.0.0.3")]][n]


# -- the site ------------------------------------------------------------------------------------------
def start(form_template, tmp_path_factory, name: str, config: str, seats: int):
    root = tmp_path_factory.mktemp(name) / "course"
    course, codes = make_site(form_template, root, [("c001", 180), ("c002", 180)], config=CONFIG + config)
    server = Server(root, seats=seats).start()
    proxy = Proxy(server.url, root.parent / "chp.log")
    try:
        proxy.start()
        server.wait_ready()
    except BaseException:
        proxy.kill()
        server.kill()
        raise
    return course, server, proxy, codes


@pytest.fixture(scope="module")
def site(form_template, tmp_path_factory):
    """A server trusting a proxy on this machine, by the new setting, and CHP in front of it."""
    course, server, proxy, codes = start(form_template, tmp_path_factory, "proxy-trusted",
                                         'c.ServerSettings.trusted_proxies = ["127.0.0.1", "::1"]', seats=2)
    yield course, server, proxy, codes
    proxy.kill()
    server.kill()
    course.db.dispose()


# -- the tests ---------------------------------------------------------------------------------------
def test_forged_headers_straight_to_the_server_lock_out_the_sender_not_the_seat_it_names(site):
    course, server, proxy, codes = site
    assert "a page's address is the hop X-Forwarded-For names past the trusted proxies 127.0.0.1/32, ::1/128" \
        in server.log.read_text()
    assert "behind_proxy" not in server.log.read_text()
    alerts = [run_pages(type_codes(server.url, ATTACKER, forged(n), [f"WRON-G00{n}"])) for n in range(MAX_WRONG)]
    assert alerts == [[WRONG_CODE], [WRONG_CODE], [LOCKED]]  # rotating the headers dodges nothing
    assert wrong_sources(course) == [ATTACKER] * MAX_WRONG
    assert lockouts(course) == [ATTACKER]
    table = cli_lockouts(course.root)
    assert ATTACKER in table and VICTIM not in table and "10.0.0." not in table, table
    # the seat the attacker named signs in (through the proxy, as the room does)
    assert run_pages(type_codes(proxy.url, VICTIM, [], [codes["c001"][1]])) == ["identity"]
    assert wrong_sources(course) == [ATTACKER] * MAX_WRONG


def test_through_chp_the_address_it_appended_is_the_source_whatever_is_left_of_it(site):
    course, server, proxy, codes = site
    before = len(wrong_sources(course))
    lies = [("X-Real-Ip", ATTACKER), ("X-Forwarded-For", "10.0.0.9, 127.0.0.1"), ("X-Forwarded-For", "::1")]
    assert run_pages(type_codes(proxy.url, CANDIDATE, lies, ["WRON-G100"])) == [WRONG_CODE]
    assert wrong_sources(course)[before:] == [CANDIDATE]


def test_a_trusted_peer_is_believed_for_x_forwarded_for_only_and_a_malformed_entry_counts_as_the_peer(site):
    """Straight from 127.0.0.1 (the address the proxy connects from): X-Forwarded-For is the proxy's
    word (its header lines read as one list, in order: neither the first nor the last line alone);
    X-Real-Ip is never read; a malformed entry counts as the peer, which the wrong codes then lock
    out, however the X-Real-Ip changes."""
    course, server, proxy, codes = site
    before = len(wrong_sources(course))
    pages = ([("X-Real-Ip", "10.0.0.7"), ("X-Forwarded-For", "garbage"), ("X-Forwarded-For", "10.0.0.8")],
             [("X-Real-Ip", "10.0.0.7")],
             [("X-Real-Ip", "10.0.0.6"), ("X-Forwarded-For", "10.0.0.8"), ("X-Forwarded-For", "not-an-address")],
             [("X-Real-Ip", "10.0.0.5"), ("X-Forwarded-For", "10.0.0.8:5555")])
    alerts = [run_pages(type_codes(server.url, "127.0.0.1", lies, ["WRON-G200"])) for lies in pages]
    assert alerts == [[WRONG_CODE], [WRONG_CODE], [WRONG_CODE], [LOCKED]]
    assert wrong_sources(course)[before:] == ["10.0.0.8", "127.0.0.1", "127.0.0.1", "127.0.0.1"]
    assert lockouts(course)[-1] == "127.0.0.1"


def test_behind_proxy_alone_trusts_only_this_machine_and_names_the_new_setting(form_template, tmp_path_factory):
    """A deployment upgraded without touching its config: the proxy on 127.0.0.1 still works, the
    forged headers no longer do, and the log says what to set."""
    course, server, proxy, codes = start(form_template, tmp_path_factory, "proxy-legacy",
                                         "c.ServerSettings.behind_proxy = True\nc.ServerSettings.spare_kernels = 0",
                                         seats=1)
    try:
        log = server.log.read_text()
        assert ("c.ServerSettings.behind_proxy is replaced by c.ServerSettings.trusted_proxies" in log
                and "c.ServerSettings.trusted_proxies = ['127.0.0.1', '::1']" in log), log[-3000:]
        lies = [("X-Real-Ip", VICTIM), ("X-Forwarded-For", VICTIM)]
        assert run_pages(type_codes(server.url, ATTACKER, lies, ["WRON-G300"])) == [WRONG_CODE]
        assert run_pages(type_codes(proxy.url, CANDIDATE, lies, ["WRON-G301"])) == [WRONG_CODE]
        assert wrong_sources(course) == [ATTACKER, CANDIDATE]
    finally:
        proxy.kill()
        server.kill()
        course.db.dispose()


def test_serve_refuses_a_trusted_proxy_that_is_not_an_address(form_template, tmp_path):
    root = tmp_path / "course"
    make_site(form_template, root, [], config='c.ServerSettings.trusted_proxies = ["127.0.0.1", "10.0.0.5/8"]')
    env = {**os.environ, "EXAM_BUILDER_COURSE": str(root)}
    env.pop("EXAM_BUILDER_DB_URL", None)
    done = subprocess.run([str(EXE), "serve", "--port", str(free_port())], env=env, cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    assert ("c.ServerSettings.trusted_proxies in nbgrader_config.py: '10.0.0.5/8' is not an address or a "
            "network") in done.stdout + done.stderr, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr

