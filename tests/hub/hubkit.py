"""A real JupyterHub for the hub tests: configurable-http-proxy, PostgreSQL, the staff services (fixtures in
conftest.py).

``hub_site`` (once per module) builds the grading tests' made-up exam on PostgreSQL, starts the
candidates' ``exam-builder serve`` on its own, then ``jupyterhub -f deploy/jupyterhub_config.py``
(the deployment's file, settings from ``EXAM_HUB_*``) on loopback with JupyterHub's
DummyAuthenticator (one password) and staff as hub users in their groups: two graders, a proctor,
a coordinator and an author. Host routing: the hub on ``hub.localhost``, services on
``<name>--service.hub.localhost``, candidates on ``exam.localhost`` (browsers resolve every
``*.localhost`` to the loopback; plain HTTP requests here send the ``Host`` header).
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for sub in ("grading", "delivery"):
    sys.path.insert(0, str(HERE.parent / sub))

import gradingkit as kit  # noqa: E402
import serverkit  # noqa: E402
from browserkit import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from coursekit import NO_PG, new_course_dir, pg_database, pg_server  # noqa: E402

from exam_builder.course import Course  # noqa: E402

PASSWORD = "hub-test-password-4821"
GRADERS, PROCTORS, COORDINATORS, AUTHORS = ("grace", "gus"), ("pat",), ("cora",), ("ada",)
PANELISTS = ("pia",)  # seated on the panel of a standard-setting study of the exam (``pg_course``)


def proxy_bin() -> Path | None:
    """configurable-http-proxy from `make test`'s npm install (scripts/node-deps.sh), else PATH."""
    local = REPO / ".cache" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        return local.parent
    found = shutil.which("configurable-http-proxy")
    return Path(found).parent if found else None


@dataclass
class HubSite:
    course: Course
    port: int
    candidate: serverkit.Server
    log: Path

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def hub(self) -> str:
        return self.url("hub.localhost", "/hub/")

    def service(self, name: str) -> str:
        return self.url(f"{name}--service.hub.localhost", f"/services/{name}/")

    @property
    def exam(self) -> str:
        return self.url("exam.localhost")

    def get(self, host: str, path: str, **kw):
        """A request through the proxy as a browser on ``host`` would send it (no redirects followed)."""
        import requests

        return requests.get(f"http://127.0.0.1:{self.port}{path}", headers={"Host": f"{host}:{self.port}"},
                            allow_redirects=False, timeout=30, **kw)


def pg_course(root: Path, db_url: str) -> Course:
    """The grading tests' exam (two forms, six submissions), its database on PostgreSQL."""
    from coursekit import approve_offered_items

    from exam_builder.assembly.synthetic import synthetic_bank, write_bank

    new_course_dir(root)
    with open(root / "nbgrader_config.py", "a") as fh:
        fh.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")
    bank, rubrics = synthetic_bank(120, seed=3, open_share=0.12)
    write_bank(bank, rubrics, root / "source" / kit.EXAM, root / "rubrics")
    (root / "source" / kit.EXAM / "blueprint.yaml").write_text(kit.BLUEPRINT, encoding="utf-8")
    course = Course(root)
    course.db.upgrade()
    approve_offered_items(course)
    kit.populate(course, kit.build_forms(course))
    _study(course)
    return course


def _study(course: Course) -> None:
    """A standard-setting study of form A, its panel seated (the hub's panelists) and round 1 open."""
    from exam_builder.assembly.forms import load_forms
    from exam_builder.kinds import kind_for
    from exam_builder.standard.study import ScopeItem, add_panelist, create_study, open_round

    with course.db.read() as s:
        m = next(m for f, m in load_forms(s, kit.EXAM) if f.label == "A")
    items = [ScopeItem(e.item_id, e.kind.value, e.points, kind_for(e.kind).rated, e.content_hash) for e in m.items]
    study = create_study(course.db, kit.EXAM, items, method="modified_angoff", scope={"forms": [m.assignment]},
                         mcc="Finished the training.", actor="cora")
    for name in PANELISTS:
        add_panelist(course.db, study, name=name, role="certified peer specialist", conflict="none", actor="cora")
    open_round(course.db, study, "cora")


def _services_of(root: Path) -> list:
    """The hub's service processes working in this course (the staff apps and the formgrader)."""
    import psutil

    out = []
    for p in psutil.process_iter(["cmdline", "cwd"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if p.info["cwd"] == str(root) and ("hub-service" in cmd or "jupyterhub.singleuser" in cmd):
            out.append(p)
    return out


def _wait(site: HubSite, proc, host: str, path: str, ok, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        assert proc.poll() is None, site.log.read_text()[-4000:]
        try:
            last = site.get(host, path)
            if ok(last.status_code):
                return
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{host}{path} not ready ({last}): " + site.log.read_text()[-4000:])


@pytest.fixture(scope="module")
def hub_site(tmp_path_factory):
    if not pg_server():
        pytest.skip(NO_PG)
    bin_dir = proxy_bin()
    if bin_dir is None:
        pytest.skip("configurable-http-proxy is not installed (make test runs scripts/node-deps.sh)")
    if not serverkit.EXE.exists():
        pytest.skip("the exam-builder console script is not installed")
    with pg_database("eb_hubcourse_") as course_db, pg_database("eb_hub_") as hub_db:
        root = tmp_path_factory.mktemp("hub") / "course"
        course = pg_course(root, course_db)
        with open(root / "nbgrader_config.py", "a") as fh:  # the proxy is in front; closed pages go soon; the
            fh.write("\nc.ServerSettings.trusted_proxies = ['127.0.0.1', '::1']"  # candidates' host is only
                     "\nc.ServerSettings.reconnect_grace_seconds = 5"  # requested, no page opened there: one
                     "\nc.ServerSettings.spare_kernels = 0\n")  # warm kernel, not three
        candidate = serverkit.Server(root, seats=1)
        # the candidates' server starts while the hub does (the hub needs only its address)
        starting = concurrent.futures.ThreadPoolExecutor(1).submit(candidate.start)
        port = serverkit.free_port()
        state = root.parent / "hub-state"
        log = root.parent / "hub.log"
        env = {**os.environ,
               "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
               "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
               "EXAM_BUILDER_COURSE": str(root), "EXAM_BUILDER_EXAM": kit.EXAM,
               "EXAM_HUB_PUBLIC_URL": f"http://hub.localhost:{port}", "EXAM_HUB_PORT": str(port),
               "EXAM_HUB_CANDIDATE_HOST": "exam.localhost", "EXAM_HUB_CANDIDATE_URL": candidate.url.rstrip("/"),
               "EXAM_HUB_HUB_PORT": str(serverkit.free_port()), "EXAM_HUB_PROXY_API_PORT": str(serverkit.free_port()),
               "EXAM_HUB_GRADER_PORT": str(serverkit.free_port()), "EXAM_HUB_PROCTOR_PORT": str(serverkit.free_port()),
               "EXAM_HUB_FORMGRADER_PORT": str(serverkit.free_port()),
               "EXAM_HUB_COORDINATOR_PORT": str(serverkit.free_port()),
               "EXAM_HUB_PANELIST_PORT": str(serverkit.free_port()), "EXAM_HUB_PANELISTS": ",".join(PANELISTS),
               "EXAM_HUB_DB_URL": hub_db, "EXAM_HUB_STATE_DIR": str(state), "EXAM_HUB_DUMMY_PASSWORD": PASSWORD,
               "EXAM_HUB_GRADERS": ",".join(GRADERS), "EXAM_HUB_PROCTORS": ",".join(PROCTORS),
               "EXAM_HUB_COORDINATORS": ",".join(COORDINATORS), "EXAM_HUB_AUTHORS": ",".join(AUTHORS)}
        env.pop("EXAM_BUILDER_DB_URL", None)
        proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f",
                                 str(REPO / "deploy" / "jupyterhub_config.py")],
                                env=env, cwd=root.parent, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        site = HubSite(course, port, candidate, log)
        try:
            starting.result()
            # the hub routes itself once every service answers (one after the other): a bound, not a pause
            _wait(site, proc, "hub.localhost", "/hub/health", lambda c: c == 200, timeout=600)
            # up: it sends a stranger to the hub's OAuth
            for name in ("grader", "proctor", "coordinator", "formgrader", "panelist"):
                _wait(site, proc, f"{name}--service.hub.localhost", f"/services/{name}/", lambda c: c in (302, 303))
            yield site
        finally:
            import psutil

            services = _services_of(root)  # in sessions of their own: the hub's group does not hold them
            try:  # configurable-http-proxy too: the hub stops it, unless the hub has to be killed
                children = psutil.Process(proc.pid).children(recursive=True)
            except psutil.Error:
                children = []
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            for p in services + _services_of(root):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(p.pid, signal.SIGKILL)
            for p in children:  # what outlived the hub (psutil never signals a pid taken by another process)
                with contextlib.suppress(psutil.Error):
                    p.kill()
            candidate.kill()
            course.db.dispose()


@pytest.fixture(scope="module")
def hub_browser():
    """Debian's chromium; ``*.localhost`` mapped to the loopback whatever the resolver does."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP *.localhost 127.0.0.1"])
        yield b
        b.close()


class Desks:
    """Staff signed in once for the module, and the app pages that later tests start from, each opened once.

    A staff app's page costs a kernel started cold (the hub's services keep no warm pool); what a test does on
    a page the hub let a user open (rate, add time, rate an item) does not depend on which test opened it, so a
    page is opened once and kept: its response's status stays with it."""

    def __init__(self, browser, site: HubSite):
        self.browser, self.site = browser, site
        self._contexts: dict = {}
        self._apps: dict = {}

    def ctx(self, user: str):
        """A browser context signed in to the hub as ``user`` (the hub's own login form), kept for the module."""
        if user not in self._contexts:
            ctx, home = sign_in(self.browser, self.site, user)
            home.close()
            self._contexts[user] = ctx
        return self._contexts[user]

    def open(self, user: str, name: str):
        """A new page of the service ``name`` opened by ``user``: (page, response); the caller closes it."""
        page = self.ctx(user).new_page()
        page.set_default_timeout(90_000)
        return page, page.goto(self.site.service(name))

    def app(self, user: str, name: str):
        """``user``'s page of the service ``name``, opened once for the module and kept open: (page, status)."""
        if (user, name) not in self._apps:
            page, response = self.open(user, name)
            self._apps[(user, name)] = (page, response.status)
        return self._apps[(user, name)]

    def close(self) -> None:
        for ctx in self._contexts.values():
            ctx.close()


@pytest.fixture(scope="module")
def hub_desks(hub_site, hub_browser):
    desks = Desks(hub_browser, hub_site)
    yield desks
    desks.close()


def sign_in(browser, site: HubSite, user: str):
    """A browser context signed in to the hub as ``user`` (the hub's own login form)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(90_000)
    page.goto(site.url("hub.localhost", "/hub/login"))
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/hub/home**")
    return ctx, page
