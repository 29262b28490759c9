"""A live `exam-builder serve` for the tests that need one (browser tests, the page client).

``Server`` runs the console script in its own process group, so SIGKILL takes its kernels with
it; ``start()`` returns once the server answers HTTP, ``wait_ready()`` once its pool of warm
kernels is full (``/exam-builder/status``, when the server has it). ``make_site`` copies the
delivery tests' course template and opens one sitting per candidate with a known code.
"""
from __future__ import annotations

import functools
import json
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

from sqlalchemy import select

import delivery_formkit as formkit
from exam_builder.course import Course
from exam_builder.records.models import Form

EXE = Path(sys.executable).parent / "exam-builder"
STATUS = "exam-builder/status"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@functools.cache
def serve_options() -> str:
    """``exam-builder serve --help``: which options this version has (``--seats``, TLS, ...)."""
    return subprocess.run([str(EXE), "serve", "--help"], capture_output=True, text=True, timeout=60).stdout


class Server:
    """`exam-builder serve` in its own process group (so its kernels die with it)."""

    def __init__(self, root: Path, seats: int | None = None, args: tuple[str, ...] = ()):
        self.root, self.port, self.proc = root, free_port(), None
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = root / "serve.log"
        self.args = list(args)
        if seats is not None and "--seats" in serve_options():
            self.args += ["--seats", str(seats)]

    def start(self) -> None:
        env = {**os.environ, "EXAM_BUILDER_COURSE": str(self.root)}
        env.pop("EXAM_BUILDER_DB_URL", None)
        self.proc = subprocess.Popen([str(EXE), "serve", "--port", str(self.port), *self.args], env=env,
                                     cwd=self.root, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "voila/files/x", timeout=2):
                    pass
            except urllib.error.HTTPError:
                return  # the server answers (403 for files)
            except OSError:
                time.sleep(0.3)
            assert self.proc.poll() is None, self.log.read_text()
        raise AssertionError("the exam server did not start: " + self.log.read_text()[-2000:])

    def status(self) -> dict | None:
        """The pool's counts, or None when this server has no status URL."""
        try:
            with urllib.request.urlopen(self.url + STATUS, timeout=10) as r:
                return json.loads(r.read().decode())
        except urllib.error.HTTPError:
            return None

    def wait_ready(self, timeout: float = 120) -> dict | None:
        """Until the pool of warm kernels is full (or at once, without a status URL)."""
        deadline = time.time() + timeout
        while True:
            st = self.status()
            if st is None or st.get("pool_ready", 0) >= st.get("pool_target", 0) or time.time() > deadline:
                return st
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            time.sleep(0.3)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def make_site(form_template: Path, root: Path, sittings: list[tuple[str, int]],
              config: str = "") -> tuple[Course, dict[str, tuple[int, str]]]:
    """A copy of the template course with one sitting per (candidate, minutes), code ``C00N-TEST``;
    ``config`` is appended to its ``nbgrader_config.py``. Returns the course and candidate -> (sitting, code)."""
    shutil.copytree(form_template, root)
    if config:
        with open(root / "nbgrader_config.py", "a") as fh:
            fh.write("\n" + config.strip() + "\n")
    course = Course(root)
    with course.db.read() as s:
        form_id = s.execute(select(Form.id)).scalar_one()
    codes = {}
    for cid, minutes in sittings:
        code = f"{cid.upper()}-TEST"
        codes[cid] = (formkit.add_sitting(course, cid, code, form_id, minutes=minutes), code)
    return course, codes
