"""nbgrader's formgrader as a read-only view of the gradebook: a Jupyter server extension.

The hub's ``formgrader`` service is a Jupyter server (``jupyterhub.singleuser``) in the course
folder, so that nbgrader's own formgrader reads the course's gradebook. A Jupyter server is also
kernels, terminals and the contents API: whoever opens it could run code that reads the course's
secret and every key, or change a candidate's score in the gradebook with no audit entry. This
extension, loaded by the service (``hub.config.services``), puts one rule in front of every
handler of the server and lets through only:

* ``GET``/``HEAD`` of the formgrader's pages, its read API and its static files
  (``<prefix>formgrader/...``), and of the server's own static files;
* the hub's sign-in round trip (``<prefix>oauth_callback``, ``<prefix>logout``) and the root,
  which redirects to the formgrader.

Everything else (any ``PUT``/``POST``/``DELETE``, so no score, comment, flag, release or
autograde through the formgrader; ``/api/kernels``, ``/api/sessions``, ``/api/contents``,
``/api/terminals``, ``/terminals``, ``/lab``, ``/files``, ``/nbconvert``...) gets 403 with a plain
page. Scores change only through exam-builder's rating path, which audits them
(``grading.resolution``); a gradebook changed by any other route is caught by ``results``
(``grading.seal``). The rule is an allowlist, so a route added by a later nbgrader or Jupyter
release is refused until it is reviewed and added here.
"""
from __future__ import annotations

import re

READ_METHODS = frozenset({"GET", "HEAD"})
#: Paths under the service's prefix that may be read (a regular expression each, anchored).
READABLE = (
    r"formgrader/?",
    r"formgrader/(?!api/).+",  # pages and static files
    r"formgrader/api/.+",  # the read API (GET only: writes are the other methods)
    r"static/.+",  # the Jupyter server's own static files (favicon)
    r"oauth_callback/?",  # the hub's sign-in round trip
    r"logout/?",
    r"",  # the root: a redirect to the formgrader
)
_READABLE = re.compile("(?:" + "|".join(READABLE) + r")\Z")

REFUSED_PAGE = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Read-only</title></head>"
                "<body><main><h1>Read-only</h1><p>This formgrader shows the gradebook; it changes nothing and "
                "runs no code. Scores are given and changed in the grader's desk, where every change is "
                "recorded.</p></main></body></html>")


def allowed(method: str, path: str, prefix: str) -> bool:
    """Whether a request may reach the server: a read of the formgrader (pure, for the filter)."""
    if method.upper() not in READ_METHODS or not path.startswith(prefix):
        return False
    from urllib.parse import unquote

    if any(part in (".", "..") for part in unquote(path).split("/")):  # no way back up, spelt in any way
        return False
    return _READABLE.match(path[len(prefix):]) is not None


def _filter_rule(prefix: str):
    """A tornado rule that matches every request the server must refuse, and its handler."""
    from tornado.routing import Matcher, Rule
    from tornado.web import RequestHandler

    class Refused(RequestHandler):
        def prepare(self) -> None:
            self.set_status(403)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(REFUSED_PAGE)

        def check_xsrf_cookie(self) -> None:  # refused before anything is read or checked
            return None

    class NotARead(Matcher):
        def match(self, request):  # noqa: ANN001 (tornado's signature)
            # the raw path, as tornado's routes read it
            return None if allowed(request.method or "", request.path or "", prefix) else {}

    return Rule(NotARead(), Refused)


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "exam_builder.hub.formgrader"}]


def _load_jupyter_server_extension(serverapp) -> None:  # noqa: ANN001 (jupyter_server's signature)
    """Put the read-only rule in front of every handler the server and its extensions add."""
    prefix = serverapp.base_url if serverapp.base_url.endswith("/") else serverapp.base_url + "/"
    serverapp.web_app.default_router.rules.insert(0, _filter_rule(prefix))
    serverapp.log.info("exam-builder: the formgrader is read-only (GET of %sformgrader only)", prefix)
