"""The grader app in a real browser: Debian's chromium (Playwright) against `exam-builder grader`."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

import gradingkit as kit
from exam_builder.course import Course
from exam_builder.grading.queue import open_items
from exam_builder.records.models import Candidate, Rating

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
EXE = Path(sys.executable).parent / "exam-builder"
TOKEN = "grader-test-token-1234"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def grader_site(graded_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("grader-browser") / "course"
    shutil.copytree(graded_template, root)
    with open(root / "nbgrader_config.py", "a") as fh:  # a closed page's kernel goes within seconds
        fh.write("\nc.ServerSettings.reconnect_grace_seconds = 5\nc.ServerSettings.cull_interval_seconds = 1\n")
    port = _free_port()
    log = root / "grader.log"
    env = {**os.environ, "EXAM_BUILDER_COURSE": str(root)}
    env.pop("EXAM_BUILDER_DB_URL", None)
    proc = subprocess.Popen([str(EXE), "grader", "--exam", kit.EXAM, "--port", str(port), "--token", TOKEN], env=env,
                            cwd=root, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
        except urllib.error.HTTPError:
            break  # it answers (403 without the token)
        except OSError:
            time.sleep(0.3)
            assert proc.poll() is None, log.read_text()
            continue
        break
    course = Course(root)
    yield course, url, log
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    course.db.dispose()


def test_grader_app_needs_the_token_and_listens_on_loopback_only(grader_site):
    _course, url, log = grader_site

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as err:  # without the token: sent to the login page
        opener.open(url, timeout=10)
    assert err.value.code in (302, 401, 403)
    assert err.value.code != 302 or "login" in err.value.headers.get("Location", "")
    with opener.open(f"{url}?token={TOKEN}", timeout=30) as ok:
        assert ok.status == 200
    port = int(url.rsplit(":", 1)[1].strip("/"))
    addrs = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
    for addr in addrs:  # not reachable from the machine's other addresses
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((addr, port)) != 0


def test_a_grader_scores_by_keyboard_in_the_browser(grader_site):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    course, url, log = grader_site
    item = open_items(course, kit.EXAM)[0][0]
    with course.db.read() as s:
        names = [c.last_name for c in s.execute(select(Candidate)).scalars()]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(90_000)
        page.goto(f"{url}?token={TOKEN}")
        page.get_by_placeholder("Your name").fill("Dana Grader")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Signed in as Dana Grader").wait_for()
        page.get_by_role("combobox").select_option(value=None, label=next(
            o for o in page.get_by_role("combobox").locator("option").all_inner_texts() if item in o))
        page.get_by_role("button", name="Start scoring").click()
        page.get_by_text("first rating").wait_for()
        body = page.content()
        assert "R-" in body and not any(n in body for n in names)  # anonymous ids only
        keys = page.get_by_placeholder("Shortcuts", exact=False)
        keys.click()
        keys.press_sequentially("32")
        keys.press("Enter")
        page.get_by_text("Saved.").wait_for()
        page.get_by_text("you rated 1").wait_for()
        browser.close()
    with course.db.read() as s:
        rows = s.execute(select(Rating.rater, Rating.score).where(Rating.item_id == item, Rating.score.is_not(None))).all()
    assert [r[0] for r in rows] == ["Dana Grader"]


def test_grader_page_views_leave_no_kernels(grader_site):
    """The staff apps share the exam server's kernel lifecycle: each page view's kernel goes with it."""
    import json

    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    _course, url, _log = grader_site

    def status() -> dict:
        with urllib.request.urlopen(f"{url}exam-builder/status?token={TOKEN}", timeout=10) as r:
            return json.loads(r.read().decode())

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(90_000)
        for _ in range(10):  # ten page views: the first and nine reloads
            page.goto(f"{url}?token={TOKEN}")
            page.get_by_placeholder("Your name").wait_for()
        assert status()["pages"] <= 2  # this page (and at most one whose beacon is on its way)
        page.close(run_before_unload=True)
        browser.close()
    deadline = time.time() + 60
    while (st := status())["pages"] or st["kernels"] != st["pool_wanted"]:
        assert time.time() < deadline, st
        time.sleep(0.5)
    assert st["kernels"] == 1, st  # the one warm kernel for the next grader, nothing else
