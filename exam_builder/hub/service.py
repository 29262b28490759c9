"""A staff app (the grader's desk, the proctor's room view, the coordinator's desk) as a JupyterHub-managed service.

JupyterHub starts ``exam-builder hub-service APP`` with its service environment
(``JUPYTERHUB_SERVICE_URL``, ``JUPYTERHUB_SERVICE_PREFIX``, the service's API token and OAuth
client). What the service promises:

* **Signed in by the hub.** ``HubIdentityProvider`` (jupyter-server's identity API, as
  JupyterHub's own single-user extension does it) sends a browser without the service's cookie
  through the hub's OAuth, and lets in only a hub user whose token carries the service's access
  scope (``access:services!service=<name>``, granted to a hub group by a role in the hub's
  configuration). Anyone else gets 403, checked on the server for the page and the websocket.
* **The hub user is the actor.** Voila's ``prelaunch_hook`` reads the signed-in user from the
  request (the hub's answer about the cookie, never a field the page sends) and puts a first
  cell into the notebook the page's kernel runs: ``records.identity.from_hub(<name>)``. The
  apps then record every rating, time change and void under that name, with ``identity: hub``
  in the audit trail, and refuse any other name (``audit.record``).
* **Widget traffic only**: the page's kernel takes widget messages only (as the candidates'),
  so a staff member cannot run code and replace their identity; no preheated kernels (a
  preheated kernel has run before anyone signed in). The service's ``JUPYTERHUB_*`` credentials
  are removed from the kernels' environment (``KernelLifecycle.start_kernel``).
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from ..errors import ExamBuilderError

HERE = Path(__file__).resolve().parent
#: The staff apps a hub can serve, each one notebook.
APPS = {
    "grader": HERE.parent / "grading" / "grader.ipynb",
    "proctor": HERE.parent / "delivery" / "proctor.ipynb",
    "coordinator": HERE.parent / "desks" / "coordinator.ipynb",
    "panelist": HERE.parent / "desks" / "panel.ipynb",
}


def identity_cell_source(name: str, groups: list[str]) -> str:
    """The first cell of a hub-served page: the signed-in user, as Python literals (``repr``)."""
    return ("from exam_builder.records import identity as _eb_identity\n"
            f"_eb_identity.from_hub({str(name)!r}, {[str(g) for g in groups]!r})\n"
            "del _eb_identity")


def prelaunch_hook(req, notebook, cwd):  # noqa: ANN001 (Voila's signature)
    """Before a page's kernel starts: the hub user from the request, into the notebook's first cell."""
    import nbformat
    from tornado.web import HTTPError

    user = req.current_user
    name = getattr(user, "username", None)
    if not name:  # the identity provider lets nobody through unsigned; never run the app anonymous
        raise HTTPError(403)
    groups = list((getattr(user, "hub_user", None) or {}).get("groups") or [])
    notebook.cells.insert(0, nbformat.v4.new_code_cell(identity_cell_source(name, groups)))
    return notebook


def identity_provider_class():
    """jupyter-server's ``IdentityProvider`` backed by JupyterHub's ``HubOAuth`` (imported late:
    JupyterHub is needed only where the hub runs)."""
    from jupyter_server.auth import IdentityProvider
    from jupyterhub.services.auth import HubOAuth
    from jupyterhub.singleuser.extension import JupyterHubOAuthCallbackHandler, JupyterHubUser
    from tornado.httputil import url_concat
    from tornado.web import HTTPError
    from traitlets import Instance, default

    class HubIdentityProvider(IdentityProvider):
        """Who a request is, from the hub's OAuth cookie; 403 without the service's access scope."""

        hub_auth = Instance(HubOAuth)

        @default("hub_auth")
        def _default_hub_auth(self):
            return HubOAuth(parent=self, cache_max_age=60)  # its settings come from the service's env

        def _patch_login(self, handler) -> None:
            """Send a browser without a session to the hub's OAuth (with a state cookie)."""
            def get_login_url():
                cached = getattr(handler, "_eb_login_url", None)
                if cached:
                    return cached
                params = {}
                verifier = None
                if getattr(self.hub_auth, "pkce_enabled", False):
                    verifier, challenge, method = self.hub_auth.generate_pkce_code_challenge()
                    params.update(code_challenge=challenge, code_challenge_method=method)
                kwargs = {"code_verifier": verifier} if verifier else {}
                params["state"] = self.hub_auth.set_state_cookie(handler, next_url=handler.request.uri, **kwargs)
                handler._eb_login_url = url_concat(self.hub_auth.login_url, params)
                return handler._eb_login_url

            handler.get_login_url = get_login_url

        async def get_user(self, handler):
            if hasattr(handler, "_eb_hub_user"):
                return handler._eb_hub_user
            self._patch_login(handler)
            self.hub_auth._patch_xsrf(handler)
            model = await self.hub_auth.get_user(handler, sync=False)
            handler._eb_hub_user = None
            if model is None:
                return None
            if not self.hub_auth.check_scopes(self.hub_auth.access_scopes, model):
                self.log.warning("exam-builder: %s %s may not use this service", model.get("kind"), model.get("name"))

                def forbidden(*_a, **_k):
                    raise HTTPError(403, "You are signed in, but this app is not for your role.")

                handler.redirect = forbidden  # signed in, not allowed: 403, never a login loop
                return None
            handler._eb_hub_user = JupyterHubUser(model)
            return handler._eb_hub_user

        def get_handlers(self):
            # Voila adds these as they are (jupyter-server would prefix its base URL): the full path
            from jupyter_server.utils import url_path_join

            return [(url_path_join(self.hub_auth.base_url, "oauth_callback"), JupyterHubOAuthCallbackHandler,
                     {"hub_auth": self.hub_auth})]

        def validate_security(self, app, ssl_options=None):
            return  # the hub's OAuth is the security; no token or password here

    return HubIdentityProvider


def service_address() -> tuple[str, int, str]:
    """Host, port and URL prefix JupyterHub gave this service (its environment)."""
    url = os.environ.get("JUPYTERHUB_SERVICE_URL")
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if not url or not prefix or not os.environ.get("JUPYTERHUB_API_TOKEN"):
        raise ExamBuilderError("hub-service is started by JupyterHub (a service in jupyterhub_config.py with a "
                               "'url' and this command); JUPYTERHUB_SERVICE_URL, JUPYTERHUB_SERVICE_PREFIX and "
                               "JUPYTERHUB_API_TOKEN are not set")
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 80, prefix


def run(course, app: str, exam: str, echo=print) -> None:
    """Serve ``app`` for ``exam`` as this hub service until the hub stops it."""
    from ..delivery.server import _run_voila, voila_config

    if app not in APPS:
        raise ExamBuilderError(f"no staff app {app!r}; one of: {', '.join(APPS)}")
    host, port, prefix = service_address()
    course.db.require_current()
    cfg = voila_config(host, port)  # widget messages only: staff run no code
    cfg.Voila.base_url = prefix
    cfg.Voila.identity_provider_class = identity_provider_class()
    cfg.VoilaConfiguration.prelaunch_hook = prelaunch_hook
    echo(f"{app} app for {course.root} as hub service {os.environ.get('JUPYTERHUB_SERVICE_NAME', '?')} "
         f"on {host}:{port}{prefix}")
    _run_voila(course, APPS[app], cfg, {"EXAM_BUILDER_EXAM": exam}, pool=0)
