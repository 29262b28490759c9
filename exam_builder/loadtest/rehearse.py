"""A rehearsal of exam day: a room of made-up candidates against the real exam server.

``exam-builder rehearse EXAM`` never touches the course's own records. It makes a scratch course
in a temporary folder from the course's authored files only (``nbgrader_config.py``,
``source/<EXAM>/``, ``rubrics/``), with its own database (SQLite there, or a throw-away database
created on ``--postgres`` and dropped afterwards), imports a made-up roster of N candidates,
builds and releases the exam's forms (the assembly stage's ``build``), opens a sitting for each
with an access code, and starts ``exam-builder serve`` on 127.0.0.1 and a free port (with
``--seats N`` when the server has that option). It waits until the server's pool of warm
kernels is full (``/exam-builder/status``; a server without it: until one page loads, whose
kernel is then let go).

Then, through ``pageclient.PageClient`` (the Voila page protocol, no browser) and optionally a
few real chromium pages (``--browsers``):

1. **One candidate alone**, a few times: the time from requesting the page to a usable sign-in
   screen (page arrived, websocket open, the "Access code" form with its "Sign in" button in the
   widget state); the median is the baseline. A first page is discarded (the server's first
   page compiles its templates) and the pool is full again before each try.
2. **The room**: N candidates arrive as a room does (by default half within the first 10 s, the
   rest spread evenly over the window; seeded). Each opens the page, signs in, confirms, starts,
   answers every question with a person's pauses divided by ``--pace`` (objective questions by
   choosing, open responses by typing in bursts), flags one, reloads once midway (beacon and
   closed socket, a new page, the same code again) and submits. Saves are never spaced closer
   than the course's ``DeliverySettings.max_saves_per_minute`` allows (a person is slower).

What it reports (a table, and ``--json``):

* **sign-in screen** p50/p95/p99/max of the first page of each page-client candidate, beside
  the median alone, and the ratio p95 / alone; reloads separately. Chromium pages are reported
  in rows of their own: their time includes loading and running the page's scripts.
* **answer durable**: for a choice, from sending the widget message to the kernel's
  ``status: idle`` after it: the app's handler commits the ``eb_response`` row before it
  returns, so idle comes after the commit (an upper bound, round trip included; the "saved at"
  line arrives just before). For typed text, the app saves once typing pauses
  (``DeliverySettings.save_delay_seconds``): from sending the last keystrokes to the arrival of
  the "Answer to question N saved at" line, minus that delay. For chromium pages (their own
  row): from the click or fill to the "saved" line being shown.
* **until told "saved"**: the same saves measured one way for both kinds, to the arrival of the
  "Answer to question N saved at" line (for a choice, without the handler's work after it and the
  kernel's idle): what the candidate is told, which the app says only after the commit.
* **the room's loop late by**: how late this process's event loop wakes from a 20 ms sleep
  (p50/p95/p99/max over the room). Every page client's frames are read and time-stamped on that one
  loop, so a frame that arrived while it was busy is stamped late by as much: the figures' own error.
* **memory**: peak RSS of the server process and all its kernels (psutil over the process tree,
  sampled every 0.5 s), and that peak divided by the seats; RSS counts shared pages in every
  process, so it overstates a little.
* **kernels left**: kernel processes still running beyond the server's warm pool once every
  candidate has left (waiting up to the server's grace periods for them to go).
* **answers lost**: the last value each candidate sent for each question, against the latest
  ``eb_response`` row of that item in the database. Must be 0; the command exits 1 otherwise,
  or when a candidate could not finish.

Caveat: the candidates run in this process, on the same machine as the server; on a small
machine they take some of its CPU (the room's CPU row), and every save's time includes this
loop's lateness (the loop row), so the figures are if anything pessimistic. A real room's pages are
on their own machines.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import numbers
from ..errors import ExamBuilderError, rel
from ..files import copy_tree, private_dir, replace_file
from ..safeload import read_text
from .pageclient import (
    PageClient,
    PageError,
    current_question,
    flag_box,
    go_to,
    question_number,
    sign_in_ready,
    submit_code,
)

#: nbgrader_config.py of a course is a few KB of settings.
MAX_CONFIG_BYTES = 1024 * 1024

STATUS = "exam-builder/status"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ACTOR = "rehearsal"
ROOM = "Rehearsal room"
FIRST = ["Avery", "Jordan", "Rowan", "Quinn", "Marisol", "Dana", "Tobias", "Imani", "Corin", "Lena", "Priya", "Mateo",
         "Noor", "Ezra", "Sunny", "Hollis", "Keiko", "Farah", "Otis", "Wren"]
#: A person's pauses, in real seconds (divided by --pace): (shortest, longest).
PAUSES = {"sign_in": (5, 15), "instructions": (20, 60), "choice": (30, 120), "typing": (240, 600)}
TEXTS = [
    "I would start by listening and asking what they want from our time together. I might share a short part "
    "of my own story, only if it helps them, and then ask what has helped before.",
    "Mutuality means we both learn. I would name my role and its limits, keep what I promise, and check in "
    "about what feels useful to them rather than deciding for them.",
    "I would ask what happened in their own words, avoid labels, and offer choices about next steps, including "
    "who else they want involved.",
]
WAIT = 120.0  # seconds: longest wait for one screen under load


# -- options and results --------------------------------------------------------------------------
@dataclass
class RehearsalOptions:
    exam: str
    candidates: int = 60
    window: float = 60.0
    first_wave: tuple[float, float] = (0.5, 10.0)  # share of the candidates, within this many seconds
    browsers: int = 0
    pace: float = 10.0
    seed: int = 1
    alone: int = 3
    postgres: str | None = None
    keep: bool = False
    json_path: Path | None = None
    settings: str = ""  # nbgrader_config lines appended to the scratch copy's (a smoke run lifts the save cap)


@dataclass
class CandidateRun:
    candidate_id: str
    code: str
    sitting_id: int
    browser: bool
    arrive_at: float
    sign_in: float | None = None  # first page: seconds to a usable sign-in screen
    phases: dict[str, float] = field(default_factory=dict)  # the first page's PageClient.timings
    reload_sign_in: float | None = None  # until usable again: the question (its own kernel) or the sign-in screen
    reload_new_kernel: bool = False  # the reload got a new kernel and signed in again
    durable: list[tuple[str, float]] = field(default_factory=list)  # (choice|text, seconds)
    durable_at: list[float] = field(default_factory=list)  # when each of those saves was sent (perf_counter)
    told: list[tuple[str, float, float]] = field(default_factory=list)  # (choice|text, sent at, until told "saved")
    reloading: tuple[float, float] | None = None  # when the reload began and its sign-in screen was usable
    sent: dict[int, str] = field(default_factory=dict)  # question number -> last value sent
    refused: list[str] = field(default_factory=list)  # errors the app showed after a save
    submitted: bool = False
    error: str = ""
    no_kernel_info: int = 0  # pages whose kernel_info_reply never came (a browser then waits 3 s)


def percentile(xs: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no data."""
    if not xs:
        return None
    s = sorted(xs)
    k = (len(s) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def spread(xs: list[float]) -> dict[str, float | int | None]:
    return {"n": len(xs), "p50": percentile(xs, 50), "p95": percentile(xs, 95), "p99": percentile(xs, 99),
            "max": max(xs) if xs else None}


def arrivals(n: int, window: float, first_wave: tuple[float, float], rng: random.Random) -> list[float]:
    """Seconds after the start at which each candidate opens the page, sorted."""
    share, early = first_wave
    early = min(early, window)
    k = round(n * min(max(share, 0.0), 1.0))
    out = [rng.uniform(0, early) for _ in range(k)]
    out += [rng.uniform(early, window) if window > early else rng.uniform(0, window) for _ in range(n - k)]
    return sorted(out)


# -- the scratch course -----------------------------------------------------------------------------
@dataclass
class Scratch:
    root: Path
    db_url: str
    course: Any
    opened: list[Any]  # sittings.Opened
    numbers: dict[int, dict[int, str]]  # sitting id -> question number -> item id
    questions: int
    drop: Any = None  # drops the throw-away PostgreSQL database

    def dispose(self) -> None:
        with contextlib.suppress(Exception):
            self.course.db.dispose()
        if self.drop is not None:
            self.drop()


def _pg_database(server_url: str) -> tuple[str, Any]:
    """A throw-away database on a PostgreSQL server; its URL and a function that drops it."""
    from sqlalchemy import create_engine

    from ..records.queries.dialect import create_database, drop_database

    name = "eb_rehearse_" + uuid.uuid4().hex[:12]
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        create_database(conn, name)

    def drop() -> None:
        with admin.connect() as conn:
            drop_database(conn, name)
        admin.dispose()

    return server_url.rsplit("/", 1)[0] + "/" + name, drop


def make_scratch(origin, options: RehearsalOptions, where: Path, console: Console) -> Scratch:
    """A course made of the authored files only, a made-up roster, built forms and open sittings."""
    from ..assembly.build import build
    from ..assembly.standard_line import flat_cut_copy
    from ..course import Course
    from ..delivery.sittings import open_sittings
    from ..records.csvfile import write_csv_atomic
    from ..records.queries import forms as forms_q, sittings as sittings_q
    from ..records.roster import import_roster

    src = origin.root / "source" / options.exam
    if not (src / "blueprint.yaml").exists():
        raise ExamBuilderError(f"{src}/blueprint.yaml: no blueprint for exam {options.exam!r}; "
                               "give an exam whose items are in source/<EXAM>/")
    root = where / "course"
    label = lambda p: rel(p, origin.root)  # noqa: E731
    # read through safeload: a link loop, a link out of the course, a pipe or a device is named, never read
    copy_tree(src, root / "source" / options.exam, root, label)
    if (origin.root / "rubrics").exists():
        copy_tree(origin.root / "rubrics", root / "rubrics", root, label)
    else:
        private_dir(root / "rubrics", root)
    # the course's records are not copied: a blueprint naming the board's standard gets its share as a flat cut
    flat_cut_copy(origin, options.exam, root / "source" / options.exam / "blueprint.yaml", root)
    drop = None
    if options.postgres:
        db_url, drop = _pg_database(options.postgres)
    else:
        db_url = f"sqlite:///{root / 'gradebook.db'}"
    config_path = origin.root / "nbgrader_config.py"
    config = read_text(config_path, label(config_path), max_bytes=MAX_CONFIG_BYTES) \
        if config_path.exists() or config_path.is_symlink() else ""
    config += ("\n\n# exam-builder rehearse: a scratch copy of the course; never the course's own database\n"
               f"c.CourseDirectory.root = {str(root)!r}\nc.CourseDirectory.db_url = {db_url!r}\n"
               "# its database holds no reviews, and its forms reach no candidate: the headers' 'status: live' decide\n"
               "c.BankSettings.require_recorded_review = False\n") + options.settings
    replace_file(root / "nbgrader_config.py", config, root)
    course = Course(root, db_url=db_url)
    if course.db_url == origin.db_url:  # belt and braces: the scratch copy must have its own database
        raise ExamBuilderError("the rehearsal's database would be the course's own; refusing")
    try:
        course.db.upgrade()
        rng = random.Random(options.seed)
        rows = [[f"rh-{i:03d}", FIRST[rng.randrange(len(FIRST))], f"Rehearsal{i:03d}",
                 f"rehearsal{i:03d}@example.org", "rehearsal"] for i in range(1, options.candidates + 1)]
        roster = root / "rosters" / "roster.csv"  # write_csv_atomic makes its folder
        write_csv_atomic(roster, ["Candidate ID", "First Name", "Last Name", "Email", "Cohort"], rows, root=course.root)
        import_roster(course, roster, ACTOR)
        with console.status("building and releasing the forms (nbgrader)"):
            build(course, options.exam, actor=ACTOR, reason="rehearsal", console=Console(quiet=True))
        res = open_sittings(course, options.exam, ROOM, ACTOR, [r[0] for r in rows], write_cards=False)
        if res.refused:
            cid, _name, reasons = res.refused[0]
            raise ExamBuilderError(f"no sitting for made-up candidate {cid}: {'; '.join(reasons)}")
        numbers: dict[int, dict[int, str]] = {}
        with course.db.read() as s:
            manifests = {f.id: f.manifest for f in forms_q.select_forms(s)}
            for sit in sittings_q.select_all_sittings(s):
                numbers[sit.id] = {it["number"]: it["item_id"] for it in manifests[sit.form_id]["items"]}
        questions = max(len(v) for v in numbers.values())
        return Scratch(root, db_url, course, res.opened, numbers, questions, drop)
    except BaseException:
        course.db.dispose()
        if drop is not None:
            drop()
        raise


# -- the server -----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@functools.cache
def _serve_has(option: str) -> bool:
    """Whether ``exam-builder serve --help`` names ``option`` (asked once a run: a process of its own)."""
    out = subprocess.run([sys.executable, "-m", "exam_builder", "serve", "--help"], capture_output=True, text=True,
                         timeout=120).stdout
    return option in out


class ServerProcess:
    """``exam-builder serve`` on the scratch course, in its own process group."""

    def __init__(self, scratch: Scratch, seats: int):
        self.scratch = scratch
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = scratch.root / "serve.log"
        self.seats = seats
        self.proc: subprocess.Popen | None = None
        self.baseline_kernels = 0

    def start(self, seats_option: bool) -> None:
        """Start the server; ``seats_option``: whether its ``serve`` has ``--seats`` (``_serve_has``, asked once)."""
        env = {k: v for k, v in os.environ.items() if k not in ("EXAM_BUILDER_DB_URL", "EXAM_BUILDER_COURSE")}
        cmd = [sys.executable, "-m", "exam_builder", "--course", str(self.scratch.root), "--db-url",
               self.scratch.db_url,
               "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if seats_option:
            cmd += ["--seats", str(self.seats)]
        self.proc = subprocess.Popen(cmd, env=env, cwd=self.scratch.root, stdout=open(self.log, "ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise ExamBuilderError("the exam server stopped:\n" + tail)

    def get(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, b""

    def status(self) -> dict | None:
        """The pool's counts from the server, or None when it has no status URL."""
        try:
            code, body = self.get(STATUS)
        except OSError:
            return None
        return json.loads(body) if code == 200 else None

    async def wait_ready(self, timeout: float = 600) -> dict | None:
        """Until the server answers and its pool is full; without a status URL, until a page loads."""
        deadline = time.monotonic() + timeout
        while True:
            self.alive()
            if time.monotonic() > deadline:
                raise ExamBuilderError(f"the exam server was not ready within {timeout:.0f} s (see {self.log})")
            try:
                await asyncio.to_thread(self.get, "voila/files/x", 2)
            except OSError:
                await asyncio.sleep(0.3)
                continue
            break
        while True:  # a server busy filling its pool may not answer at once: that is not "no status URL"
            try:
                code, _body = await asyncio.to_thread(self.get, STATUS)
                break
            except OSError:
                self.alive()
                if time.monotonic() > deadline:
                    raise ExamBuilderError(f"the exam server did not answer within {timeout:.0f} s (see "
                                           f"{self.log})") from None
                await asyncio.sleep(0.3)
        has_status = code == 200
        if not has_status:
            page = PageClient(self.url, timeout=timeout)
            try:
                await page.open_page()
                await page.beacon()
            finally:
                await page.aclose()
            self.baseline_kernels = len(self.kernel_processes())
            return None
        while True:
            self.alive()
            st = await asyncio.to_thread(self.status)
            if st and st.get("pool_ready", 0) >= st.get("pool_target", 0) and not st.get("pool_starting"):
                self.baseline_kernels = len(self.kernel_processes())
                return st
            if time.monotonic() > deadline:
                raise ExamBuilderError(f"the server's pool did not fill within {timeout:.0f} s: {st}")
            await asyncio.sleep(0.3)

    def processes(self) -> list:
        import psutil

        try:
            root = psutil.Process(self.proc.pid)
            return [root] + root.children(recursive=True)
        except psutil.Error:
            return []

    def kernel_processes(self) -> list:
        import psutil

        out = []
        for p in self.processes()[1:]:
            with contextlib.suppress(psutil.Error):
                if "ipykernel" in " ".join(p.cmdline()):
                    out.append(p)
        return out

    def rss(self) -> tuple[int, int]:
        """Bytes resident in the server and all its descendants, and how many of them are kernels."""
        import psutil

        total = kernels = 0
        for i, p in enumerate(self.processes()):
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
                kernels += i > 0 and "ipykernel" in " ".join(p.cmdline())
        return total, kernels

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


# -- one candidate, through the page protocol ------------------------------------------------------
class Person:
    """Pauses and choices of one made-up candidate (seeded), divided by the pace."""

    def __init__(self, rng: random.Random, pace: float, min_gap: float):
        self.rng, self.pace, self.min_gap = rng, max(pace, 1e-6), min_gap
        self.last_save = 0.0

    async def pause(self, what: str) -> None:
        lo, hi = PAUSES[what]
        await asyncio.sleep(self.rng.uniform(lo, hi) / self.pace)

    async def before_save(self) -> None:
        """A person never saves faster than the server's per-sitting limit lets anyone."""
        wait = self.last_save + self.min_gap - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self.last_save = time.monotonic()


async def _page_sign_in(page: PageClient, code: str, person: Person) -> None:
    await person.pause("sign_in")
    for attempt in range(3):
        t = time.perf_counter()
        await submit_code(page, code)
        await page.wait_for(lambda: page.button("Yes, this is me") is not None or bool(_alert_after(page, t)), WAIT,  # noqa: B023 (awaited here)
                            "the identity screen")
        if page.button("Yes, this is me") is not None:
            await page.click("Yes, this is me")
            return
        if attempt == 2:
            raise PageError("sign-in refused: " + _alert_after(page, t))
        await asyncio.sleep(2)


async def _page_candidate(run: CandidateRun, url: str, questions: int, save_delay: float, person: Person,
                          reload_after: int, flag_at: int, progress) -> None:
    page = PageClient(url, timeout=WAIT * 2, keep_frames=False)
    try:
        await page.open()
        run.sign_in = page.timings["usable"]
        run.phases = dict(page.timings)
        run.no_kernel_info += page.kernel_info_missing
        progress("opened")
        await _page_sign_in(page, run.code, person)
        await page.wait_for(lambda: page.button("Start the exam") is not None or current_question(page) is not None,
                            WAIT, "the instructions")
        progress("signed_in")
        if page.button("Start the exam") is not None:
            await person.pause("instructions")
            await page.click("Start the exam")
        reloaded = False
        while True:
            await page.wait_for(lambda: current_question(page) is not None or bool(page.alert()), WAIT, "a question")
            q = current_question(page)
            if q is None:
                raise PageError("the app said: " + page.alert())
            n = question_number(q)
            if n not in run.sent:
                await _answer(page, q, n, run, person, save_delay)
                if n == flag_at:
                    box = flag_box(page)
                    if box is not None:
                        await person.before_save()
                        await page.tick(box)
            if not reloaded and len(run.sent) >= reload_after:
                reloaded = True
                began = time.perf_counter()
                # the page's own kernel, on its question (``server.KernelLifecycle.kept_page``), or a new
                # kernel and the sign-in screen when it was let go: usable again is what the candidate waits for
                await page.reload(lambda p: current_question(p) is not None or sign_in_ready(p))
                run.reloading = (began, time.perf_counter())
                run.reload_sign_in = page.timings["usable"]
                run.no_kernel_info += page.kernel_info_missing
                if current_question(page) is None:
                    run.reload_new_kernel = True
                    await _page_sign_in(page, run.code, person)
                continue
            if len(run.sent) >= questions:
                break
            nxt = page.button("Next ▶")
            target = next((k for k in range(n + 1, questions + 1) if k not in run.sent), None)
            if target is None:
                target = next(k for k in range(1, questions + 1) if k not in run.sent)
            if target == n + 1 and nxt is not None and not nxt.state.get("disabled"):
                await page.click(nxt)
            else:
                await go_to(page, target)
            await page.wait_for(lambda: (current_question(page) is not None
                                         and question_number(current_question(page)) == target), WAIT,  # noqa: B023 (awaited here)
                                f"question {target}")
        await page.click("Review and submit")
        await page.wait_for(lambda: page.button("Submit my exam now") is not None, WAIT, "the review")
        t = time.perf_counter()
        await page.click("Submit my exam now")
        await page.wait_for(lambda: page.shows("Your exam is in") or bool(_alert_after(page, t)), WAIT, "the receipt")
        if not page.shows("Your exam is in"):
            raise PageError("no receipt: " + _alert_after(page, t))
        run.submitted = True
        progress("submitted")
    finally:
        with contextlib.suppress(Exception):
            await page.unload()
        await page.aclose()


def _alert_after(page: PageClient, since: float) -> str:
    for m in page.visible():
        if m.name == "HTMLModel" and "eb-error" in str(m.state.get("value") or "") and m.updated_at >= since:
            return m.text
    return ""


async def _answer(page: PageClient, q, n: int, run: CandidateRun, person: Person, save_delay: float) -> None:
    rng = person.rng
    if q.is_choice:
        await person.pause("choice")
        label = rng.choice(q.labels).split(". ", 1)[0]
        await person.before_save()
        msg_id = await page.choose(q, label, wait=False)
        run.sent[n] = label
        took = await page.wait_idle(msg_id, WAIT)
        sent_at = page.sent_at[msg_id]
        if page.shows(f"Answer to question {n} saved at"):
            run.durable.append(("choice", took))
            run.durable_at.append(sent_at)
            said = next((m for m in page.visible() if f"Answer to question {n} saved at" in m.text), None)
            if said is not None and said.updated_at >= sent_at:  # the line arrives before the idle after it
                run.told.append(("choice", sent_at, said.updated_at - sent_at))
    else:
        text = rng.choice(TEXTS)
        lo, hi = PAUSES["typing"]
        pieces = rng.randint(4, 8)
        await person.before_save()
        msg_id = await page.type_text(q, text, pieces=pieces, pause=rng.uniform(lo, hi) / person.pace / pieces)
        run.sent[n] = text
        sent_at = page.sent_at[msg_id]
        await page.wait_for(lambda: page.shows(f"Answer to question {n} saved at") or bool(_alert_after(page, sent_at)),
                            WAIT, f"question {n} to be saved")
        line = next((m for m in page.visible() if f"Answer to question {n} saved at" in m.text), None)
        if line is not None:
            run.durable.append(("text", max(line.updated_at - sent_at - save_delay, 0.0)))
            run.durable_at.append(sent_at)
            run.told.append(("text", sent_at, max(line.updated_at - sent_at - save_delay, 0.0)))
    refused = _alert_after(page, sent_at)
    if refused:
        run.refused.append(f"question {n}: {refused}")


# -- one candidate, in chromium ---------------------------------------------------------------------
async def _browser_candidate(run: CandidateRun, url: str, questions: int, save_delay: float, person: Person,
                             reload_after: int, flag_at: int, browser, progress) -> None:
    import re

    ctx = await browser.new_context()
    page = await ctx.new_page()
    page.set_default_timeout(WAIT * 1000)

    async def usable() -> float:
        t0 = time.perf_counter()
        await page.goto(url, wait_until="commit")
        await page.get_by_label("Access code").wait_for()
        await page.get_by_role("button", name="Sign in").wait_for()
        return time.perf_counter() - t0

    async def sign_in() -> None:
        await person.pause("sign_in")
        await page.get_by_label("Access code").fill(run.code)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("button", name="Yes, this is me").click()

    try:
        run.sign_in = await usable()
        progress("opened")
        await sign_in()
        progress("signed_in")
        await person.pause("instructions")
        await page.get_by_role("button", name="Start the exam").click()
        n = 1
        reloaded = False
        while n <= questions:
            await page.get_by_role("heading", name=re.compile(rf"^Question {n} of \d+\b")).wait_for()
            radios = page.get_by_role("radio")
            saved = page.get_by_text(f"Answer to question {n} saved")
            if await radios.count():
                await person.pause("choice")
                labels = page.locator("fieldset.eb-choices label")
                i = person.rng.randrange(await labels.count())
                label = (await labels.nth(i).inner_text()).strip().split(". ", 1)[0]
                await person.before_save()
                t = time.perf_counter()
                await radios.nth(i).check()
                run.sent[n] = label
                await saved.wait_for()
                run.durable.append(("choice", time.perf_counter() - t))
            else:
                text = person.rng.choice(TEXTS)
                await person.pause("typing")
                await person.before_save()
                t = time.perf_counter()
                await page.get_by_role("textbox", name=f"Answer to question {n}").fill(text)
                run.sent[n] = text
                await saved.wait_for()
                run.durable.append(("text", max(time.perf_counter() - t - save_delay, 0.0)))
            if n == flag_at:
                await person.before_save()
                await page.get_by_role("checkbox", name="Flag this question to come back to it").check()
            if not reloaded and n >= reload_after:
                reloaded = True
                t0 = time.perf_counter()
                await page.reload(wait_until="commit")
                here = page.get_by_role("heading", name=re.compile(rf"^Question {n} of \d+\b"))
                await here.or_(page.get_by_role("button", name="Sign in")).first.wait_for()
                run.reload_sign_in = time.perf_counter() - t0
                if not await here.count():  # a new kernel (the page was let go): sign in again
                    run.reload_new_kernel = True
                    await sign_in()
                # the app returns to the question the candidate was on (its kernel, or the page kept it)
                await here.wait_for()
            if n < questions:
                await page.get_by_role("button", name="Next ▶").click()
            n += 1
        await page.get_by_role("button", name="Review and submit").click()
        await page.get_by_role("button", name="Submit my exam now").click()
        await page.get_by_text("Your exam was submitted.").wait_for()
        run.submitted = True
        progress("submitted")
    finally:
        with contextlib.suppress(Exception):
            await page.close(run_before_unload=True)  # the page's beacon lets its kernel go
            await asyncio.sleep(0.5)
        await ctx.close()


# -- the run --------------------------------------------------------------------------------------
@dataclass
class Figures:
    exam: str
    candidates: int
    browsers: int
    questions: int
    window_seconds: float
    first_wave: tuple[float, float]
    pace: float
    seed: int
    database: str
    seats_option: bool
    sign_in_alone: list[float] = field(default_factory=list)
    sign_in_alone_median: float | None = None
    sign_in: dict = field(default_factory=dict)
    sign_in_ratio_p95_alone: float | None = None
    sign_in_page: dict = field(default_factory=dict)  # of which: the page's HTML (request to last byte)
    sign_in_socket: dict = field(default_factory=dict)  # of which: after the HTML, socket and widget state
    reload_sign_in: dict = field(default_factory=dict)  # until usable again: its question, or the sign-in screen
    reload_ratio_p95_first: float | None = None  # reload p95 / first sign-in p95 (the bar: at most 1.5)
    reload_own_kernel: int = 0  # reloads served their own kernel again (no kernel start, no sign-in)
    durable: dict = field(default_factory=dict)
    durable_choice: dict = field(default_factory=dict)
    durable_text: dict = field(default_factory=dict)
    durable_reloading: dict = field(default_factory=dict)  # saves sent while the room was reloading
    told_saved: dict = field(default_factory=dict)  # until the "saved at" line arrived, a choice and typed text alike
    told_saved_reloading: dict = field(default_factory=dict)  # the same, for saves sent while the room reloaded
    loop_lag: dict = field(default_factory=dict)  # how late the room's own event loop woke (a 20 ms ticker)
    reload_window_seconds: float = 0.0  # from the first page-client reload to the last one's sign-in screen
    chromium_sign_in: dict = field(default_factory=dict)
    chromium_reload_sign_in: dict = field(default_factory=dict)
    chromium_durable: dict = field(default_factory=dict)
    rss_ready_mb: float = 0.0
    rss_peak_mb: float = 0.0
    rss_per_seat_mb: float = 0.0
    kernels_peak: int = 0  # most kernel processes at once (pool and pages)
    kernels_left: int | None = None
    answers_sent: int = 0
    answers_lost: int = 0
    lost: list[str] = field(default_factory=list)
    refused_on_screen: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    no_kernel_info_reply: int = 0
    submitted: int = 0
    duration_seconds: float = 0.0
    client_cpu_seconds: float = 0.0  # CPU the simulated candidates (this process) used meanwhile
    scratch: str = ""

    def to_json(self) -> dict:
        return asdict(self)


class _Sampler:
    """A task that samples in the background from ``start`` until ``stop`` (``_run`` loops for ever)."""

    task: asyncio.Future | None = None

    async def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self.task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None


class MemorySampler(_Sampler):
    """Peak RSS of the server's process tree, and peak kernel processes, sampled every 0.5 s."""

    def __init__(self, server: ServerProcess):
        self.server, self.peak, self.kernels = server, 0, 0

    async def _run(self) -> None:
        while True:
            rss, kernels = await asyncio.to_thread(self.server.rss)
            self.peak, self.kernels = max(self.peak, rss), max(self.kernels, kernels)
            await asyncio.sleep(0.5)


class LoopLag(_Sampler):
    """How late the room's event loop wakes from a 20 ms sleep: every page client's frames are read on this
    loop, so a frame that arrived while it was busy is stamped late by as much (the figures' own error)."""

    TICK = 0.02

    def __init__(self) -> None:
        self.late: list[float] = []

    async def _run(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(self.TICK)
            self.late.append(max(time.perf_counter() - t - self.TICK, 0.0))


async def _measure_alone(server: ServerProcess, times: int) -> list[float]:
    """One candidate alone, ``times`` times after a discarded first page (the server's first page
    is slower: templates compile); the pool is full again before each."""
    out = []
    for i in range(times + 1):
        page = PageClient(server.url, timeout=WAIT * 2)
        try:
            await page.open()
            if i:
                out.append(page.timings["usable"])
            await page.unload()
        finally:
            await page.aclose()
        await server.wait_ready()
    return out


def _server_settings(course) -> dict[str, float]:
    """The server's grace periods from the course's settings (defaults if the server has none)."""
    st = course.server_settings
    return {"grace": float(max(getattr(st, "reconnect_grace_seconds", 0), getattr(st, "unconnected_grace_seconds", 0),
                               getattr(st, "reattach_seconds", 0))  # a closed page's kernel waits for a reload
                           + getattr(st, "cull_interval_seconds", 5) + 5)}


async def _kernels_left(server: ServerProcess, grace: float) -> int:
    """Kernel processes beyond the warm pool, once the pages are gone (waiting up to the grace)."""
    deadline = time.monotonic() + grace
    while True:
        st = await asyncio.to_thread(server.status)
        procs = len(server.kernel_processes())
        pool = (st.get("pool_ready", 0) + st.get("pool_starting", 0)) if st else server.baseline_kernels
        left = max(procs - pool, 0)
        if left == 0 or time.monotonic() > deadline:
            return left
        await asyncio.sleep(0.25)  # a poll of the state (the count), not a pause


def check_answers(scratch: Scratch, runs: list[CandidateRun]) -> tuple[int, int, list[str]]:
    """Every candidate's last sent value per question against the latest ``eb_response`` row."""
    from ..delivery.session import latest_responses_of

    with scratch.course.db.read() as s:
        latest = {sid: {item: row.value for item, row in rows.items()}
                  for sid, rows in latest_responses_of(s, [r.sitting_id for r in runs]).items()}
    sent = lost = 0
    details = []
    for r in runs:
        for n, value in sorted(r.sent.items()):
            sent += 1
            item = scratch.numbers[r.sitting_id][n]
            if item not in latest[r.sitting_id]:
                lost += 1
                details.append(f"{r.candidate_id} question {n} ({item}): sent {value[:30]!r}, nothing stored")
            elif latest[r.sitting_id][item] != value:
                lost += 1
                details.append(f"{r.candidate_id} question {n} ({item}): sent {value[:30]!r}, "
                               f"stored {(latest[r.sitting_id][item] or '')[:30]!r}")
    return sent, lost, details


async def _crowd(scratch: Scratch, server: ServerProcess, options: RehearsalOptions,
                 console: Console) -> list[CandidateRun]:
    settings = scratch.course.delivery_settings
    save_delay = float(getattr(settings, "save_delay_seconds", 1.0))
    per_minute = getattr(settings, "max_saves_per_minute", None)
    min_gap = 60.0 / per_minute * 1.25 if per_minute else 0.0
    rng = random.Random(options.seed)
    times = arrivals(len(scratch.opened), options.window, options.first_wave, rng)
    order = list(scratch.opened)
    rng.shuffle(order)
    browser_ids = {o.candidate_id for o in order[:max(0, min(options.browsers, len(order)))]}
    runs = [CandidateRun(o.candidate_id, o.code, o.sitting_id, o.candidate_id in browser_ids, t)
            for o, t in zip(order, times, strict=False)]
    q = scratch.questions

    with Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as bars:
        tasks = {k: bars.add_task(label, total=len(runs)) for k, label in
                 (("opened", "sign-in screen shown"), ("signed_in", "signed in"), ("submitted", "submitted"))}

        def progress(what: str) -> None:
            bars.advance(tasks[what])

        playwright = browser = None
        if browser_ids:
            try:
                from playwright.async_api import async_playwright
            except ImportError as exc:
                raise ExamBuilderError("--browsers needs Playwright (pip install playwright)") from exc
            if not Path(CHROMIUM).exists():
                raise ExamBuilderError(f"--browsers needs chromium at {CHROMIUM} (apt-get install chromium)")
            playwright = await async_playwright().start()
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        start = time.perf_counter()

        async def one(run: CandidateRun) -> None:
            person = Person(random.Random(f"{options.seed}-{run.candidate_id}"), options.pace, min_gap)
            reload_after = person.rng.randint(max(1, q // 3), max(1, (2 * q) // 3))
            flag_at = person.rng.randint(1, q)
            await asyncio.sleep(max(0.0, start + run.arrive_at - time.perf_counter()))
            try:
                if run.browser:
                    await _browser_candidate(run, server.url, q, save_delay, person, reload_after, flag_at, browser,
                                             progress)
                else:
                    await _page_candidate(run, server.url, q, save_delay, person, reload_after, flag_at, progress)
            except Exception as exc:  # noqa: BLE001 (a candidate's failure is a result, not a crash)
                run.error = f"{type(exc).__name__}: {exc}"[:300]

        try:
            await asyncio.gather(*(one(r) for r in runs))
        finally:
            if browser is not None:
                await browser.close()
            if playwright is not None:
                await playwright.stop()
    return runs


async def _rehearse(scratch: Scratch, options: RehearsalOptions, console: Console, figures: Figures) -> None:
    server = ServerProcess(scratch, options.candidates)
    figures.seats_option = _serve_has("--seats")  # one `serve --help` (a new Python), not one more for start
    server.start(figures.seats_option)
    sampler = MemorySampler(server)
    try:
        with console.status("starting the exam server and filling its pool of warm kernels"):
            st = await server.wait_ready()
        console.print(f"server ready on {server.url}" + (f" (pool: {st.get('pool_ready')} warm kernels)" if st else ""),
                      highlight=False)
        figures.rss_ready_mb = server.rss()[0] / 2**20
        with console.status(f"one candidate alone, {options.alone} times"):
            figures.sign_in_alone = await _measure_alone(server, options.alone)
        figures.sign_in_alone_median = statistics.median(figures.sign_in_alone) if figures.sign_in_alone else None
        sampler.start()
        lag = LoopLag()
        lag.start()
        t0, cpu0 = time.perf_counter(), time.process_time()
        runs = await _crowd(scratch, server, options, console)
        figures.duration_seconds = time.perf_counter() - t0
        figures.client_cpu_seconds = time.process_time() - cpu0
        await lag.stop()
        figures.loop_lag = spread(lag.late)
        await sampler.stop()
        with console.status("waiting for the kernels of the closed pages to go"):
            figures.kernels_left = await _kernels_left(server, _server_settings(scratch.course)["grace"])
        figures.rss_peak_mb = sampler.peak / 2**20
        figures.kernels_peak = sampler.kernels
        figures.rss_per_seat_mb = figures.rss_peak_mb / max(options.candidates, 1)
        _fill(figures, runs, scratch)
    finally:
        await sampler.stop()
        server.stop()


def _fill(figures: Figures, runs: list[CandidateRun], scratch: Scratch) -> None:
    """Page-client candidates make the main figures (the baseline alone is one too); chromium's apart."""
    pages = [r for r in runs if not r.browser]
    chromium = [r for r in runs if r.browser]
    figures.sign_in = spread([r.sign_in for r in pages if r.sign_in is not None])
    if figures.sign_in_alone_median and figures.sign_in["p95"] is not None:
        figures.sign_in_ratio_p95_alone = figures.sign_in["p95"] / figures.sign_in_alone_median
    figures.sign_in_page = spread([r.phases["page"] for r in pages if "usable" in r.phases])
    figures.sign_in_socket = spread([r.phases["usable"] - r.phases["page"] for r in pages if "usable" in r.phases])
    figures.reload_sign_in = spread([r.reload_sign_in for r in pages if r.reload_sign_in is not None])
    if figures.reload_sign_in.get("p95") is not None and figures.sign_in.get("p95"):
        figures.reload_ratio_p95_first = figures.reload_sign_in["p95"] / figures.sign_in["p95"]
    figures.reload_own_kernel = sum(1 for r in pages if r.reload_sign_in is not None and not r.reload_new_kernel)
    figures.durable = spread([t for r in pages for _k, t in r.durable])
    figures.durable_choice = spread([t for r in pages for k, t in r.durable if k == "choice"])
    figures.durable_text = spread([t for r in pages for k, t in r.durable if k == "text"])
    timed = [(at, t) for r in pages for (_k, t), at in zip(r.durable, r.durable_at, strict=False)]
    windows = [r.reloading for r in pages if r.reloading]
    if windows:
        lo, hi = min(w[0] for w in windows), max(w[1] for w in windows)
        figures.reload_window_seconds = hi - lo
        figures.durable_reloading = spread([t for at, t in timed if lo <= at <= hi])
        figures.told_saved_reloading = spread([t for r in pages for _k, at, t in r.told if lo <= at <= hi])
    figures.told_saved = spread([t for r in pages for _k, _at, t in r.told])
    if chromium:
        figures.chromium_sign_in = spread([r.sign_in for r in chromium if r.sign_in is not None])
        figures.chromium_reload_sign_in = spread([r.reload_sign_in for r in chromium if r.reload_sign_in is not None])
        figures.chromium_durable = spread([t for r in chromium for _k, t in r.durable])
    figures.answers_sent, figures.answers_lost, figures.lost = check_answers(scratch, runs)
    figures.refused_on_screen = [f"{r.candidate_id} {x}" for r in runs for x in r.refused]
    figures.failed = [f"{r.candidate_id}{' (chromium)' if r.browser else ''}: {r.error}" for r in runs if r.error]
    figures.submitted = sum(1 for r in runs if r.submitted)
    figures.no_kernel_info_reply = sum(r.no_kernel_info for r in runs)


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x * 1000:.0f} ms"


def _s(x: float | None) -> str:
    return "-" if x is None else (f"{x:.2f} s" if x >= 1 else f"{x * 1000:.0f} ms")


def table(f: Figures) -> Table:
    """The figures as one table (what a proctor reads)."""
    t = Table(title=f"Rehearsal of {f.exam}: {f.candidates} candidates ({f.browsers} in chromium), "
                    f"{f.questions} questions, arrivals over {f.window_seconds:g} s, pace x{f.pace:g}")
    for col in ("measure", "alone", "p50", "p95", "p99", "max", "note"):
        t.add_column(col, overflow="fold")
    si, rl = f.sign_in, f.reload_sign_in
    ratio = f"p95/alone = {f.sign_in_ratio_p95_alone:.2f}" if f.sign_in_ratio_p95_alone is not None else ""
    t.add_row("sign-in screen usable", _s(f.sign_in_alone_median), _s(si.get("p50")), _s(si.get("p95")),
              _s(si.get("p99")), _s(si.get("max")), ratio)
    for label, d in (("  of which the page", f.sign_in_page), ("  then socket + widgets", f.sign_in_socket)):
        t.add_row(label, "", _s(d.get("p50")), _s(d.get("p95")), _s(d.get("p99")), _s(d.get("max")), "")
    again = f", p95/first = {f.reload_ratio_p95_first:.2f}" if f.reload_ratio_p95_first is not None else ""
    t.add_row("usable again after a reload", "", _s(rl.get("p50")), _s(rl.get("p95")), _s(rl.get("p99")),
              _s(rl.get("max")), f"{rl.get('n', 0)} reloads within {f.reload_window_seconds:.0f} s, "
                                 f"{f.reload_own_kernel} back to their own kernel{again}")
    for label, d in (("answer durable", f.durable), ("  a choice", f.durable_choice), ("  typed text", f.durable_text),
                     ("  while the room reloads", f.durable_reloading),
                     ("until told \"saved\"", f.told_saved), ("  while the room reloads", f.told_saved_reloading)):
        t.add_row(label, "", _ms(d.get("p50")), _ms(d.get("p95")), _ms(d.get("p99")), _ms(d.get("max")),
                  f"{d.get('n', 0)} saves")
    if f.chromium_sign_in:
        for label, d in (("chromium: sign-in screen", f.chromium_sign_in),
                         ("chromium: after a reload", f.chromium_reload_sign_in)):
            t.add_row(label, "", _s(d.get("p50")), _s(d.get("p95")), _s(d.get("p99")), _s(d.get("max")),
                      f"{d.get('n', 0)} pages (scripts and drawing included)")
        d = f.chromium_durable
        t.add_row("chromium: answer saved", "", _ms(d.get("p50")), _ms(d.get("p95")), _ms(d.get("p99")),
                  _ms(d.get("max")), f"{d.get('n', 0)} saves, until shown")
    t.add_row("memory (server + kernels)", f"{f.rss_ready_mb:.0f} MB ready", "", "", "", f"{f.rss_peak_mb:.0f} MB peak",
              f"{f.rss_per_seat_mb:.0f} MB per seat; at most {f.kernels_peak} kernels")
    t.add_row("kernels left", "", "", "", "", "", str(f.kernels_left if f.kernels_left is not None else "-"))
    if f.no_kernel_info_reply:
        t.add_row("no kernel_info_reply", "", "", "", "", "", f"{f.no_kernel_info_reply} page(s): a browser waits 3 s")
    t.add_row("answers lost", "", "", "", "", "", f"{f.answers_lost} of {f.answers_sent}")
    t.add_row("the room's own CPU", "", "", "", "", "", f"{f.client_cpu_seconds:.0f} s of CPU over "
              f"{f.duration_seconds:.0f} s (same machine)")
    lag = f.loop_lag
    t.add_row("the room's loop late by", "", _ms(lag.get("p50")), _ms(lag.get("p95")), _ms(lag.get("p99")),
              _ms(lag.get("max")), "every page client's receipt waits for it (same process)")
    t.add_row("submitted", "", "", "", "", "", f"{f.submitted} of {f.candidates}"
              + (f"; {len(f.refused_on_screen)} save(s) refused on screen" if f.refused_on_screen else ""))
    return t


def rehearse(course, options: RehearsalOptions, console: Console) -> Figures:
    """Make the scratch course, run the server and the room, and return the figures."""
    if options.candidates < 1:
        raise ExamBuilderError("--candidates must be at least 1")
    if options.browsers > options.candidates:
        raise ExamBuilderError("--browsers cannot be more than --candidates")
    where = Path(tempfile.mkdtemp(prefix="eb-rehearse-"))
    scratch = None
    try:
        scratch = make_scratch(course, options, where, console)
        console.print(f"scratch course {scratch.root} (database {scratch.course.db.safe_url}): "
                      f"{len(scratch.opened)} made-up candidates, {scratch.questions} questions each", highlight=False)
        figures = Figures(options.exam, options.candidates, options.browsers, scratch.questions, options.window,
                          options.first_wave, options.pace, options.seed,
                          "postgresql" if options.postgres else "sqlite", False, scratch=str(where))
        asyncio.run(_rehearse(scratch, options, console, figures))
        console.print(table(figures))
        for line in figures.failed[:10] + figures.lost[:10] + figures.refused_on_screen[:10]:
            console.print(f"  {line}", highlight=False, markup=False)
        if options.json_path:
            replace_file(options.json_path, json.dumps(figures.to_json(), indent=2, default=str) + "\n", course.root,
                         public=True)
        return figures
    finally:
        if scratch is not None:
            scratch.dispose()
        if options.keep:
            console.print(f"kept the scratch course in {where}", highlight=False)
        else:
            shutil.rmtree(where, ignore_errors=True)


def parse_first_wave(text: str) -> tuple[float, float]:
    """``"0.5:10"`` -> (0.5, 10.0): that share of the candidates arrives within that many seconds."""
    parts = text.split(":")
    if len(parts) != 2 or not all(numbers.is_decimal(x) for x in parts):  # the one number rule: no "1_0", no "inf"
        raise ExamBuilderError(f"--first-wave {text!r}: give SHARE:SECONDS, e.g. 0.5:10")
    share, secs = (float(x) for x in parts)
    if not (0 <= share <= 1 and 0 <= secs < 1e9):
        raise ExamBuilderError(f"--first-wave {text!r}: the share is between 0 and 1, the seconds not negative")
    return share, secs

