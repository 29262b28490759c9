"""Serving the candidates' exam app and the proctor's dashboard with Voila.

Candidates: ``exam-builder serve`` runs Voila on the packaged ``exam.ipynb`` only (single-notebook
mode: no tree, no other notebook, no files), on 127.0.0.1 by default. The course is passed to
the kernels through ``EXAM_BUILDER_COURSE``. A Voila page's kernel websocket would forward
whatever the browser sends; Voila's own allow-list already drops ``execute_request``, and
``CandidateKernelConnection`` narrows it further to the widget messages, so a candidate can never
run code (``tests/delivery/test_browser.py`` sends an ``execute_request`` and checks it is refused).

Proctors: ``exam-builder proctor`` is a separate Voila server on 127.0.0.1 with a token.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from traitlets.config import Config

HERE = Path(__file__).parent
EXAM_NOTEBOOK = HERE / "exam.ipynb"
PROCTOR_NOTEBOOK = HERE / "proctor.ipynb"

#: What a candidate's browser may send to its kernel: widget traffic, nothing that runs code.
ALLOWED_FROM_BROWSER = frozenset({"comm_open", "comm_msg", "comm_close", "comm_info_request", "kernel_info_request"})


class CandidateKernelConnection(ZMQChannelsWebsocketConnection):
    """A kernel websocket that drops every message but widget traffic (and logs the attempt)."""

    def _msg_type(self, ws_msg) -> str | None:
        try:
            if self.subprotocol == "v1.kernel.websocket.jupyter.org":
                from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1

                _channel, parts = deserialize_msg_from_ws_v1(ws_msg)
                return self.session.unpack(parts[0]).get("msg_type")
            if isinstance(ws_msg, bytes):
                from jupyter_server.services.kernels.connection.base import deserialize_binary_message

                return deserialize_binary_message(ws_msg)["header"]["msg_type"]
            return json.loads(ws_msg)["header"]["msg_type"]
        except Exception:  # noqa: BLE001 (anything unreadable is refused)
            return None

    def handle_incoming_message(self, incoming_msg) -> None:
        msg_type = self._msg_type(incoming_msg)
        if msg_type not in ALLOWED_FROM_BROWSER:
            self.log.warning("exam-builder: refused a %r message from a candidate's browser", msg_type)
            return
        super().handle_incoming_message(incoming_msg)


def voila_config(host: str, port: int, token: str | None = None, candidate: bool = True) -> Config:
    """One notebook, no files, no tracebacks; candidates' kernels take widget messages only."""
    cfg = Config()
    cfg.Voila.ip = host
    cfg.Voila.port = port
    cfg.Voila.port_retries = 0
    cfg.Voila.open_browser = False
    cfg.VoilaConfiguration.show_tracebacks = False
    cfg.VoilaConfiguration.file_allowlist = []
    cfg.VoilaConfiguration.file_denylist = [".*"]
    cfg.VoilaConfiguration.theme = "light"
    if candidate:
        cfg.Voila.kernel_websocket_connection_class = CandidateKernelConnection
    if token:
        cfg.Voila.token = token
    return cfg


def _run_voila(course, notebook: Path, cfg: Config, extra_env: dict[str, str]) -> None:
    from voila.app import Voila

    os.environ["EXAM_BUILDER_COURSE"] = str(course.root)
    os.environ["EXAM_BUILDER_DB_URL"] = course.db_url
    os.environ.update(extra_env)
    Voila.launch_instance(argv=[str(notebook)], config=cfg)


def serve(course, host: str = "127.0.0.1", port: int = 8866) -> None:
    """Run the candidates' exam app until interrupted."""
    course.db.require_current()
    _run_voila(course, EXAM_NOTEBOOK, voila_config(host, port), {})


def new_token() -> str:
    return secrets.token_urlsafe(24)


def serve_proctor(course, exam: str, port: int = 8867, token: str | None = None, echo=print) -> None:
    """Run the proctor's dashboard on 127.0.0.1 only, behind a token."""
    course.db.require_current()
    token = token or new_token()
    echo(f"Proctor's dashboard: http://127.0.0.1:{port}/?token={token}")
    _run_voila(course, PROCTOR_NOTEBOOK, voila_config("127.0.0.1", port, token=token, candidate=False),
               {"EXAM_BUILDER_EXAM": exam})
