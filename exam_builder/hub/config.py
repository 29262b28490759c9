"""A JupyterHub for one course: staff apps as hub services, candidates on a host of their own.

``configure(c)`` fills the ``c`` of a ``jupyterhub_config.py`` from ``HubSettings`` (environment
variables, ``HubSettings.from_env``), so one tested file serves a laptop, a program's server and
the tests (``deploy/jupyterhub_config.py``; ``exam-builder hub-config`` prints it). What it sets:

* **Host routing** (``JupyterHub.subdomain_host``): the hub on ``EXAM_HUB_PUBLIC_URL``, each
  service on a host of its own under it (``grader--service.<hub host>``: JupyterHub's ``idna``
  subdomain hook), and the candidates' app (``exam-builder serve``, started apart from the hub:
  it holds no hub token) on ``EXAM_HUB_CANDIDATE_HOST`` through ``Proxy.extra_routes``. Every
  path on the candidates' host goes to their app: no hub login, staff page or token is on
  their origin, and no staff cookie is ever sent there.
* **Services** (hub-managed, each with a ``url``, so JupyterHub routes it and gives it OAuth):
  ``grader``, ``proctor``, ``coordinator`` and ``panelist`` (``exam-builder hub-service``), and
  ``formgrader`` (nbgrader's formgrader in a shared Jupyter server for the course, as nbgrader documents
  for several graders: the same ``nbgrader_config.py``, so the same PostgreSQL gradebook), read-only behind
  ``hub.formgrader``'s allowlist: no kernel, terminal, contents API or score change.
* **Roles from groups**: ``graders`` may open the grader app, ``proctors`` the proctor's room view,
  ``coordinators`` the coordinator's desk (accommodation decisions, eligibility, the report), the
  room view, the grader's desk (where they adjudicate when the program says so) and the formgrader
  (read-only: ``hub.formgrader``), ``panelists`` the panelist's screen of a standard-setting study only,
  ``authors`` none of them (they
  write items and never reach candidates' answers, scores or the course's secret)
  (``access:services!service=<name>`` scopes in ``load_roles``; members from ``EXAM_HUB_GRADERS``…
  when given, else managed by the program's authenticator or the hub's admin page).
* **No culling of services, long proxy timeouts**: a sitting or a grading session runs for hours; and
  time for a service to start (``SERVICE_START_SECONDS``) before the hub gives up on it.

The authenticator is the program's (set ``c.JupyterHub.authenticator_class`` after ``configure``);
``EXAM_HUB_DUMMY_PASSWORD`` sets JupyterHub's DummyAuthenticator with one shared password, for
tests and demos only.
"""
from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from .. import numbers
from ..errors import ExamBuilderError
from ..files import private_dir

#: Hub group -> the services its members may open.
GROUP_SERVICES = {
    "graders": ("grader",),
    "proctors": ("proctor",),
    # the grader's desk too: with c.GradingSettings.adjudicator = "coordinator" they finish adjudications
    "coordinators": ("coordinator", "proctor", "formgrader", "grader"),
    # authors write items; they never reach candidates' answers, scores or the course's secret
    "authors": (),
    # a standard-setting panel: the items with keys of the study they rate, nothing of candidates
    "panelists": ("panelist",),
}
#: The formgrader service's Jupyter server extensions: the read-only rule and nbgrader's formgrader only.
FORMGRADER_EXTENSIONS = {
    "exam_builder.hub.formgrader": True,
    "nbgrader.server_extensions.formgrader": True,
    "nbgrader.server_extensions.validate_assignment": False,  # runs a notebook
    "nbgrader.server_extensions.assignment_list": False,
    "nbgrader.server_extensions.course_list": False,
    "jupyterlab": False,
    "jupyter_lsp": False,
    "jupyter_server_terminals": False,
    "notebook": False,
    "voila.server_extension": False,
    "exam_builder.lab": False,  # the author's desk: for authors' JupyterLab, not the read-only grading server
}
#: The proxy's timeouts: longer than a sitting (4.5 hours at most).
PROXY_TIMEOUT_MS = 5 * 3600 * 1000
#: Seconds JupyterHub (6 and later) waits for a managed service to answer before it gives up and exits (its
#: default, 30, is less than a staff app's first start takes on a busy machine: Voila, nbgrader, the course).
SERVICE_START_SECONDS = 120
#: The environment variable listing each group's members (comma-separated hub user names).
GROUP_ENV = {g: f"EXAM_HUB_{g.upper()}" for g in GROUP_SERVICES}

CONFIG_TEMPLATE = '''"""JupyterHub for an exam-builder course: settings from environment variables (deploy/README.md)."""
from exam_builder.hub.config import configure

configure(c)  # noqa: F821 (JupyterHub's config object)
# The program's own authenticator goes here, e.g.:
# c.JupyterHub.authenticator_class = "generic-oauth"
'''  # noqa: E501 (the written file's docstring is one line)


def _users(value: str | None) -> list[str]:
    return [u.strip() for u in (value or "").split(",") if u.strip()]


@dataclass
class HubSettings:
    """Everything ``configure`` needs; ``from_env`` reads it from ``EXAM_HUB_*`` variables."""

    course: Path
    public_url: str = "http://hub.localhost:8000"
    candidate_host: str = "exam.localhost"
    candidate_url: str = "http://127.0.0.1:8866"
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    service_ports: dict[str, int] = field(default_factory=lambda: {"grader": 8871, "proctor": 8872,
                                                                   "formgrader": 8873, "coordinator": 8874,
                                                                   "panelist": 8875})
    exam: str | None = None
    hub_db_url: str | None = None
    state_dir: Path = Path("hub-state")
    groups: dict[str, list[str]] = field(default_factory=dict)
    admins: list[str] = field(default_factory=list)
    dummy_password: str | None = None
    formgrader: bool = True
    python: str = sys.executable
    manage_proxy: bool = True  # False under Zero to JupyterHub: the chart runs the proxy and the hub's address

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "HubSettings":
        env = dict(os.environ if env is None else env)
        course = env.get("EXAM_BUILDER_COURSE")
        if not course:
            raise ExamBuilderError("set EXAM_BUILDER_COURSE to the course folder (it holds nbgrader_config.py)")

        def port(name: str, default: int) -> int:
            if name not in env:
                return default
            try:
                return numbers.whole_number(env[name], name, 1, 65535)
            except numbers.NumberError:
                raise ExamBuilderError(f"{name}={env[name]!r} is not a port number (1 to 65535)") from None

        groups = {g: _users(env.get(var)) for g, var in GROUP_ENV.items() if env.get(var) is not None}
        return cls(
            course=Path(course).resolve(),
            public_url=env.get("EXAM_HUB_PUBLIC_URL", cls.public_url),
            candidate_host=env.get("EXAM_HUB_CANDIDATE_HOST", cls.candidate_host),
            candidate_url=env.get("EXAM_HUB_CANDIDATE_URL", cls.candidate_url),
            ip=env.get("EXAM_HUB_IP", cls.ip),
            port=port("EXAM_HUB_PORT", cls.port),
            hub_port=port("EXAM_HUB_HUB_PORT", cls.hub_port),
            proxy_api_port=port("EXAM_HUB_PROXY_API_PORT", cls.proxy_api_port),
            service_ports={"grader": port("EXAM_HUB_GRADER_PORT", 8871), "proctor": port("EXAM_HUB_PROCTOR_PORT", 8872),
                           "formgrader": port("EXAM_HUB_FORMGRADER_PORT", 8873),
                           "coordinator": port("EXAM_HUB_COORDINATOR_PORT", 8874),
                           "panelist": port("EXAM_HUB_PANELIST_PORT", 8875)},
            exam=env.get("EXAM_BUILDER_EXAM") or None,
            hub_db_url=env.get("EXAM_HUB_DB_URL") or None,
            state_dir=Path(env.get("EXAM_HUB_STATE_DIR", "hub-state")).resolve(),
            groups=groups,
            admins=_users(env.get("EXAM_HUB_ADMINS")),
            dummy_password=env.get("EXAM_HUB_DUMMY_PASSWORD") or None,
            formgrader=env.get("EXAM_HUB_FORMGRADER", "1").lower() not in ("0", "no", "false", "off"),
            python=env.get("EXAM_HUB_PYTHON", sys.executable),
            manage_proxy=env.get("EXAM_HUB_MANAGE_PROXY", "1").lower() not in ("0", "no", "false", "off"),
        )

    def check(self) -> None:
        """Refuse a configuration that would put candidates on the hub's origin."""
        hub_host = urlparse(self.public_url).hostname or ""
        if not hub_host or urlparse(self.public_url).scheme not in ("http", "https"):
            raise ExamBuilderError(f"EXAM_HUB_PUBLIC_URL={self.public_url!r}: give the hub's address, "
                                   "e.g. https://hub.example.org")
        cand = self.candidate_host.lower().strip(".")
        if not cand or "/" in cand or ":" in cand:
            raise ExamBuilderError(f"EXAM_HUB_CANDIDATE_HOST={self.candidate_host!r}: give a host name only, "
                                   "e.g. exam.example.org")
        if cand == hub_host or cand.endswith("." + hub_host):
            raise ExamBuilderError(f"EXAM_HUB_CANDIDATE_HOST={cand} is the hub's host or under it; candidates need a "
                                   f"host name of their own (e.g. exam.example.org beside {hub_host})")
        if not (self.course / "nbgrader_config.py").is_file():
            raise ExamBuilderError(f"{self.course}: no nbgrader_config.py (EXAM_BUILDER_COURSE must be the course "
                                   "folder)")


def _service_env(s: HubSettings) -> dict[str, str]:
    """What a staff service needs beyond the hub's own variables (its code, its course)."""
    env = {"EXAM_BUILDER_COURSE": str(s.course)}
    for name in ("PYTHONPATH", "PATH", "EXAM_BUILDER_DB_URL", "HOME", "LANG"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    if s.exam:
        env["EXAM_BUILDER_EXAM"] = s.exam
    return env


def services(s: HubSettings) -> list[dict]:
    """The hub-managed services: the four staff apps and, if wanted, the course's formgrader."""
    out = []
    for app in ("grader", "proctor", "coordinator", "panelist"):
        out.append({
            "name": app,
            "url": f"http://127.0.0.1:{s.service_ports[app]}",
            "command": [s.python, "-m", "exam_builder", "hub-service", app],
            "environment": _service_env(s),
            "cwd": str(s.course),
            "oauth_no_confirm": True,  # the hub's own app: no "authorize access" page
            "display": True,
            **_start_wait(),
        })
    if s.formgrader:
        out.append({
            "name": "formgrader",
            "url": f"http://127.0.0.1:{s.service_ports['formgrader']}",
            # nbgrader's documented shared grading server (jupyterhub-singleuser as a service, in the
            # course folder), read-only: exam_builder.hub.formgrader refuses every request but a read
            # of the formgrader (no kernels, terminals, contents or score changes); nbgrader's other
            # extensions and JupyterLab are not loaded
            "command": [s.python, "-m", "jupyterhub.singleuser", "--ServerApp.terminals_enabled=False",
                        "--ServerApp.root_dir=" + str(s.course), "--SingleUserNotebookApp.default_url=/formgrader",
                        *[f"--ServerApp.jpserver_extensions={ext}={on}" for ext, on in FORMGRADER_EXTENSIONS.items()],
                        *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
            "environment": {**_service_env(s), "JUPYTERHUB_DEFAULT_URL": "/formgrader"},
            "cwd": str(s.course),
            "oauth_no_confirm": True,
            "display": True,
            **_start_wait(),
        })
    return out


def _start_wait() -> dict[str, int]:
    """``{"timeout": SERVICE_START_SECONDS}`` where JupyterHub takes it (a service field since 6.0; 5 has none)."""
    try:
        from jupyterhub.services.service import Service
    except ImportError:  # writing the config without JupyterHub installed (exam-builder hub-config)
        return {}
    return {"timeout": SERVICE_START_SECONDS} if "timeout" in Service.class_traits(input=True) else {}


def roles(s: HubSettings) -> list[dict]:
    """One role per group: access to its services, and the hub's own pages (``self``)."""
    wanted = {n for svc in services(s) for n in [svc["name"]]}
    out = []
    for group, names in GROUP_SERVICES.items():
        scopes = [f"access:services!service={n}" for n in names if n in wanted]
        out.append({"name": f"exam-{group}", "description": f"exam-builder: {group}", "scopes": scopes,
                    "groups": [group]})
    return out


def configure(c, settings: HubSettings | None = None) -> HubSettings:
    """Fill JupyterHub's config ``c``; returns the settings used."""
    s = settings or HubSettings.from_env()
    s.check()
    private_dir(s.state_dir, None)  # made 0700 whatever the umask (files.py); one that exists is narrowed too
    os.chmod(s.state_dir, 0o700)

    c.JupyterHub.subdomain_host = s.public_url.rstrip("/")
    if s.manage_proxy:  # one machine: the hub starts the proxy (Zero to JupyterHub runs its own)
        c.JupyterHub.bind_url = f"http://{s.ip}:{s.port}"
        c.JupyterHub.hub_ip = "127.0.0.1"
        c.JupyterHub.hub_port = s.hub_port
        c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.proxy_api_port}"
        c.ConfigurableHTTPProxy.pid_file = str(s.state_dir / "proxy.pid")
        # a sitting lasts hours: the proxy must not cut a long-quiet request or websocket (CHP's
        # --timeout and --proxy-timeout, in ms): 5 hours
        c.ConfigurableHTTPProxy.command = ["configurable-http-proxy", "--timeout", str(PROXY_TIMEOUT_MS),
                                           "--proxy-timeout", str(PROXY_TIMEOUT_MS)]
    c.Proxy.extra_routes = {f"{s.candidate_host.lower().strip('.')}/": s.candidate_url}
    c.JupyterHub.cookie_secret_file = str(s.state_dir / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(s.state_dir / "jupyterhub.pid")
    c.JupyterHub.db_url = s.hub_db_url or f"sqlite:///{s.state_dir / 'jupyterhub.sqlite'}"
    c.JupyterHub.cleanup_servers = True
    c.JupyterHub.cleanup_proxy = True
    # staff use the services; nobody needs a single-user server of their own
    c.JupyterHub.default_url = "/hub/home"
    c.JupyterHub.services = services(s)
    c.JupyterHub.load_roles = roles(s)
    # every group exists (the roles name them); members are added, never removed (JupyterHub's rule)
    c.JupyterHub.load_groups = {g: {"users": s.groups.get(g, [])} for g in GROUP_SERVICES}
    members = sorted({u for users in s.groups.values() for u in users} | set(s.admins))
    if members:
        c.Authenticator.allowed_users = set(members)
    if s.admins:
        c.Authenticator.admin_users = set(s.admins)
    if s.dummy_password:
        c.JupyterHub.authenticator_class = "dummy"
        c.DummyAuthenticator.password = s.dummy_password
    return s


def new_secret() -> str:
    return secrets.token_hex(32)
