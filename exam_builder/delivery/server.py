"""Serving the candidates' exam app and the staff apps with Voila, fit for a room.

``exam-builder serve`` runs Voila (``ExamVoila``) on the packaged ``exam.ipynb`` only
(single-notebook mode: no tree, no other notebook, no files), on 127.0.0.1 by default. The
course reaches the kernels through ``EXAM_BUILDER_COURSE``. What the server promises:

* **A warm kernel for every seat.** Voila's preheated kernels: a pool of ``seats + spare``
  kernels that have already run the app, filled before the first candidate arrives, so a page is
  served from a kernel whose sign-in screen exists (no "Executing" spinner). The pool is refilled
  one kernel at a time and only when arrivals pause (``refill_quiet_seconds``), so a room opening
  the page together does not compete with kernel start-ups for the CPU. ``serve`` refuses to
  start when the machine's free memory cannot hold the pool (``kernel_memory_mb`` a seat). The
  spares (``ServerSettings.spares``: one for every ten seats, at least 2) are what a reloading
  room takes while the pool refills behind it, two kernels at a time while it is short of them.
  Every app's kernel runs ``app_ipykernel`` (``AppKernelSpecs``): ipykernel without its debugger,
  which no page could reach (about 8 MB a seat).
* **A reload keeps its kernel.** A candidate's page (exam or practice) carries an HMAC-signed,
  HttpOnly cookie naming its kernel (``PAGE_COOKIE``). A reload, or the page reopened in the same
  browser, within ``reattach_seconds`` of leaving is served the same page again, bound to that
  same kernel, which still holds the screen the candidate left (the widgets' state is read from
  the kernel, as on any page load): no kernel starts and nobody signs in again, so a room that
  reloads together (a Wi-Fi drop, "please refresh") costs no kernel start. Another browser, a
  kernel whose sitting was taken over, and a page after a server restart start afresh. Staff apps
  never reattach (a hub's users may share a browser).
* **No leaked kernels.** A page's kernel is shut down after the page's unload beacon (the page gets
  the ``_xsrf`` cookie the beacon needs): at once for a staff app, ``reattach_seconds`` later for a
  candidate's page that did not come back; a kernel whose sitting was taken over by another page
  (a reload whose beacon was lost) and whose websocket is gone, at the culler's next round
  (``pagesource.release_page``); and otherwise by the culler: a handed-out kernel whose
  websocket has been gone for ``reconnect_grace_seconds`` (long enough for a brief network
  drop), or that never connected within ``unconnected_grace_seconds``. A kernel with an open
  websocket is never culled, however long its candidate sits without typing, nor one whose
  page is still being sent (the app still running in it) or is asking for its websocket (the
  handshake waits for the kernel's reply): a loaded machine slows both past a grace, and the
  culler used to shut the kernel down under a page on its way. The unconnected grace counts from
  when the page was sent, or from its last websocket request that was refused. At most
  ``max_pages`` pages hold kernels at once; past that a page says, in plain words, to tell the
  proctor, so a loop of requests cannot exhaust the server's memory.
* **Widget traffic only.** ``CandidateKernelConnection`` forwards widget messages only, so a
  browser never runs code; every page's connection (``TrackedConnection``) refuses malformed
  and too frequent messages (tornado closes a socket that sends one over ``max_message_bytes``;
  the page reconnects to its kernel) and forwards to the browser only the message kinds a widget page
  needs: kernel errors and output streams (tracebacks, server paths) stay in the server's log.
* **Encrypted in the room**: ``certfile``/``keyfile`` serve HTTPS, or a TLS proxy in front does.
* **A source address a page cannot choose**: a page's address (what the wrong-code limits count)
  is the TCP peer's, or, when the peer is one of ``trusted_proxies``, the hop those proxies
  appended to ``X-Forwarded-For`` (``clientaddr``); ``X-Real-Ip`` is never read and tornado's
  ``xheaders`` is not used. ``behind_proxy = True`` alone (the setting before) trusts a proxy on
  this machine (``127.0.0.1``, ``::1``) and says so in the log.
* ``/exam-builder/status`` answers the pool's state as JSON (counts only), for the rehearsal
  and for a proctor checking the machine before the room opens.

``exam-builder practice serve`` (``serve_practice``) runs the same server, with the same limits, on
``practice.ipynb``: no code, no database, pages worded for practice (``PRACTICE_WORDS``).

Staff apps (``exam-builder proctor``, ``exam-builder grader``) run on 127.0.0.1 with a token and
the same kernel lifecycle; names typed there are recorded as self-declared. Behind JupyterHub
they run as hub services instead (``exam_builder.hub.service``), signed in as hub users.
"""
from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from traitlets.config import Config

from ..clientaddr import client_address
from ..errors import ExamBuilderError
from ..files import create_private_file
from ..safeload import LoadError, read_notebook, read_text
from ..settings.server import ServerSettings
from .form_view import RELEASE_DIR_ENV
from .pagesource import ENV_DIR as PAGE_DIR_ENV, released_file, source_file

HERE = Path(__file__).parent
EXAM_NOTEBOOK = HERE / "exam.ipynb"
PROCTOR_NOTEBOOK = HERE / "proctor.ipynb"
PRACTICE_NOTEBOOK = HERE / "practice.ipynb"
#: Warm kernels of the practice app by default: a study group opening its link together.
PRACTICE_SEATS = 4
STATUS_PATH = "exam-builder/status"
#: How long a stopping server waits for kernels still starting, so it can shut them down too.
STOP_WAIT_SECONDS = 20
#: The cookie naming a candidate's page's kernel (``KernelLifecycle.page_cookie``): a reload brings it back.
PAGE_COOKIE = "eb-page"
#: The page request being served in this task (``ExamPageHandler.get``), so that the kernel manager
#: stops counting it as "opening" once it holds a kernel: a page never counts twice toward the cap.
OPENING: contextvars.ContextVar[object] = contextvars.ContextVar("exam_builder_opening")

#: What a candidate's browser may send to its kernel: widget traffic, nothing that runs code.
ALLOWED_FROM_BROWSER = frozenset({"comm_open", "comm_msg", "comm_close", "comm_info_request", "kernel_info_request"})
#: What a widget page may receive: widget traffic and the replies to the requests above. Never
#: ``error`` or ``stream`` (kernel tracebacks, warnings with server paths) or execution echoes.
ALLOWED_TO_BROWSER = frozenset({"comm_open", "comm_msg", "comm_close", "comm_info_reply", "kernel_info_reply",
                                "status", "display_data", "update_display_data", "clear_output"})


# -- the websocket between a page and its kernel ------------------------------------------------
class PageTracker:
    """Open websockets per kernel, in this server process (the culler reads it), and each kernel's
    message budget (a token bucket per kernel, not per socket: a page that reconnects gets no
    fresh burst)."""

    connections: dict[str, int] = {}
    last_disconnect: dict[str, float] = {}
    last_connected: dict[str, float] = {}  # kernel -> when a websocket to it last opened
    asking: dict[str, int] = {}  # kernel -> its page's websocket requests being prepared right now
    last_asked: dict[str, float] = {}  # kernel -> when its page last asked for (or got past asking) a websocket
    budgets: dict[str, tuple[float, float]] = {}  # kernel -> (tokens, when last refilled)

    @classmethod
    def opened(cls, kernel_id: str) -> None:
        cls.connections[kernel_id] = cls.connections.get(kernel_id, 0) + 1
        cls.last_connected[kernel_id] = time.monotonic()

    @classmethod
    def closed(cls, kernel_id: str) -> None:
        cls.connections[kernel_id] = max(cls.connections.get(kernel_id, 1) - 1, 0)
        cls.last_disconnect[kernel_id] = time.monotonic()

    @classmethod
    def ask(cls, kernel_id: str, delta: int) -> None:
        """A websocket request for the kernel starts (+1) or ends (-1) its preparation."""
        cls.asking[kernel_id] = max(cls.asking.get(kernel_id, 0) + delta, 0)
        cls.last_asked[kernel_id] = time.monotonic()

    @classmethod
    def forget(cls, kernel_id: str) -> None:
        cls.connections.pop(kernel_id, None)
        cls.last_disconnect.pop(kernel_id, None)
        cls.last_connected.pop(kernel_id, None)
        cls.asking.pop(kernel_id, None)
        cls.last_asked.pop(kernel_id, None)
        cls.budgets.pop(kernel_id, None)

    @classmethod
    def spend(cls, kernel_id: str, rate: float, burst: float) -> bool:
        """Take one message from the kernel's bucket: ``rate`` a second sustained, ``burst`` at once."""
        now = time.monotonic()
        tokens, refilled = cls.budgets.get(kernel_id, (burst, now))
        tokens = min(burst, tokens + (now - refilled) * rate)
        ok = tokens >= 1
        cls.budgets[kernel_id] = (tokens - 1 if ok else tokens, now)
        return ok


def _header(session, msg) -> dict | None:
    """The header of a kernel reply (a deserialized dict, or ZMQ parts whose first is the header)."""
    try:
        return msg.get("header") if isinstance(msg, dict) else session.unpack(msg[0])
    except Exception:  # noqa: BLE001 (unreadable: not forwarded)
        return None


MAX_FRAME_PARTS = 64  # channel, header, parent, metadata, content and a widget's few buffers


def well_formed(frame, subprotocol: str | None) -> bool:
    """Whether a page's frame can be decoded safely, checked before anything decodes it.

    jupyter_server's decoders trust the part count at the head of a binary frame and loop over
    it: one 16-byte frame claiming 10^18 parts would hang the server and eat its memory.
    """
    if isinstance(frame, str):
        return subprotocol != "v1.kernel.websocket.jupyter.org"
    if subprotocol == "v1.kernel.websocket.jupyter.org":
        head, width, least = 8, 8, 6  # v1: a count, then offsets of channel and the message parts
        count = int.from_bytes(frame[:8], "little") if len(frame) >= 8 else 0
    else:
        head, width, least = 4, 4, 1  # legacy binary: a count, then one offset per buffer
        count = int.from_bytes(frame[:4], "big", signed=True) if len(frame) >= 4 else 0
    if not least <= count <= MAX_FRAME_PARTS or head + width * count > len(frame):
        return False
    offsets = [int.from_bytes(frame[head + width * i: head + width * (i + 1)],
                              "little" if width == 8 else "big") for i in range(count)]
    return offsets[0] >= head + width * count and offsets == sorted(offsets) and offsets[-1] <= len(frame)


class TrackedConnection(ZMQChannelsWebsocketConnection):
    """A page's kernel websocket: tracked for the culler, rate- and size-limited, filtered outbound."""

    _dropped: int = 0
    _dropped_logged: float = 0.0
    _counted: bool = False

    def _settings(self) -> ServerSettings:
        return self.websocket_handler.settings.get("exam_builder_server") or ServerSettings()

    @property
    def write_message(self):  # noqa: ANN201 (jupyter_server's own alias, as it types it)
        """The handler's ``write_message``, quiet when the page has gone: a frame for a socket that closed
        under it is dropped (logged at debug), where tornado printed "Task exception was never retrieved" and
        a traceback in the coordinator's terminal for each. Nothing is lost: the page asks its kernel for
        every widget's state again when it comes back."""
        from tornado.websocket import WebSocketClosedError

        send, log = self.websocket_handler.write_message, self.log

        def retrieved(fut: asyncio.Future) -> None:
            if not fut.cancelled() and fut.exception() is not None:
                log.debug("exam-builder: a frame for a page that closed was dropped (kernel %s)", self.kernel_id)

        def write(message, binary: bool = False):  # noqa: ANN001, ANN202
            try:
                fut = send(message, binary=binary)
            except WebSocketClosedError:
                log.debug("exam-builder: a frame for a page that closed was dropped (kernel %s)", self.kernel_id)
                return None
            if fut is not None:
                fut.add_done_callback(retrieved)
            return fut

        return write

    def _client_address(self) -> str:
        """The page's address: the connection's, or the hop a trusted proxy appended (``clientaddr``)."""
        request = self.websocket_handler.request
        return client_address(request.remote_ip, request.headers.get_list("X-Forwarded-For"),
                              self._settings().proxies())

    async def prepare(self):
        """The page asks for its kernel's websocket: before the upgrade, jupyter_server waits here for
        the kernel's reply, which a loaded machine can slow past the unconnected grace; the culler
        used to shut the kernel down under a page that was connecting. While this runs the kernel is
        not culled, and its grace counts again from when it ends (a refused request still loses its
        kernel a grace later: it never reaches ``connect``)."""
        PageTracker.ask(self.kernel_id, +1)
        try:
            return await super().prepare()
        finally:
            PageTracker.ask(self.kernel_id, -1)

    def connect(self):
        """The websocket is open (tornado accepted the upgrade): only now does the page count as
        connected. A channels request that is refused (no ``Upgrade``, a foreign ``Origin``, a
        failed handshake) never gets here, so it never holds its kernel past the culler's
        unconnected grace. ``disconnect`` undoes the count exactly once, on every way out."""
        if not self._counted:
            self._counted = True
            PageTracker.opened(self.kernel_id)
        page_dir = os.environ.get(PAGE_DIR_ENV)
        if page_dir:
            try:
                source_file(page_dir, self.kernel_id).write_text(
                    json.dumps({"source": self._client_address()}), encoding="utf-8")
            except OSError:
                self.log.warning("exam-builder: cannot record the source of kernel %s", self.kernel_id)
        return super().connect()

    def disconnect(self):
        if self._counted:  # jupyter_server may call this twice (a failed stream, then on_close)
            self._counted = False
            PageTracker.closed(self.kernel_id)
        return super().disconnect()

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

    def _within_rate(self) -> bool:
        """The kernel's token bucket: ``max_messages_per_second`` sustained, and a page load's burst
        (a page asks for every widget's state when it loads: hundreds of messages at once)."""
        st = self._settings()
        return PageTracker.spend(self.kernel_id, st.max_messages_per_second,
                                 max(st.max_messages_per_second * 20, 500.0))

    def allowed_from_browser(self, msg_type: str | None) -> bool:
        return msg_type is not None

    def handle_incoming_message(self, incoming_msg) -> None:
        size = len(incoming_msg)
        if size > self._settings().max_message_bytes:
            self.log.warning("exam-builder: refused a %d-byte message from a page (kernel %s)", size, self.kernel_id)
            return
        if not well_formed(incoming_msg, self.subprotocol):
            self.log.warning("exam-builder: refused a malformed frame from a page (kernel %s)", self.kernel_id)
            return
        if not self._within_rate():
            self._dropped += 1
            now = time.monotonic()
            if now - self._dropped_logged >= 1.0:  # one line a second: a flood must not fill the disk
                self.log.warning("exam-builder: a page sends too fast; %d message(s) dropped (kernel %s)",
                                 self._dropped, self.kernel_id)
                self._dropped, self._dropped_logged = 0, now
            return
        msg_type = self._msg_type(incoming_msg)
        if not self.allowed_from_browser(msg_type):
            self.log.warning("exam-builder: refused a %r message from a page (kernel %s)", msg_type, self.kernel_id)
            return
        super().handle_incoming_message(incoming_msg)

    def _on_zmq_reply(self, stream, msg_list):
        header = _header(self.session, msg_list)
        msg_type = (header or {}).get("msg_type")
        if msg_type not in ALLOWED_TO_BROWSER:
            # the kernel's own output (a print, a warning) is never shown to a candidate; routine, so not in the
            # coordinator's terminal unless they ask for debug logs
            self.log.debug("exam-builder: withheld a %r message of kernel %s from its page", msg_type, self.kernel_id)
            return
        super()._on_zmq_reply(stream, msg_list)


class CandidateKernelConnection(TrackedConnection):
    """A kernel websocket that drops every message but widget traffic (and logs the attempt)."""

    def allowed_from_browser(self, msg_type: str | None) -> bool:
        return msg_type in ALLOWED_FROM_BROWSER


# -- kernels: a paced pool, handed-out pages, the culler ---------------------------------------
def _released(kernel_id: str) -> bool:
    """The kernel's app said its sitting was taken over (``pagesource.release_page``): no page of it
    will ever act again, so it need not wait out the reconnect grace."""
    page_dir = os.environ.get(PAGE_DIR_ENV)
    return bool(page_dir) and released_file(page_dir, kernel_id).exists()


#: the IOPub topic of a kernel's ``status`` messages (ipykernel's ``kernel.<id>.status``): what the
#: server's own watch of kernel activity subscribes to (``KernelLifecycle.start_watching_activity``)
STATUS_TOPIC = b"kernel."


class KernelLifecycle:
    """Mixed into Voila's kernel manager (preheated or not): pacing, a page cap and the culler."""

    exam_settings: ServerSettings
    _handed_out: dict[str, float]
    _last_take: float
    _pacer: asyncio.Task | None
    _culler: asyncio.Task | None
    _pool_target: int

    def _lifecycle_init(self, settings: ServerSettings, pool_target: int, spare: int, reattach: bool = False) -> None:
        self.exam_settings = settings
        self._reattach = reattach and settings.reattach_seconds > 0
        self._page_html: dict[str, str] = {}  # kernel -> its page as served, to serve again on a reload
        self._left: dict[str, float] = {}  # kernel -> when its page's unload beacon came (kept for a reload)
        self._page_key = secrets.token_bytes(32)  # signs PAGE_COOKIE; a restart forgets every page
        self._spare = spare
        self._handed_out = {}
        self._page_kernel: dict[object, str] = {}  # a page request being served -> the kernel it took
        self._last_take = 0.0
        self._pacer = None
        self._culler = None
        self._pool_target = pool_target

    # pool ------------------------------------------------------------------------------------
    def _pool(self, notebook_name: str | None = None) -> list:
        pools = getattr(self, "_pools", {})
        if notebook_name is not None:
            return pools.get(notebook_name, [])
        return [t for pool in pools.values() for t in pool]

    @staticmethod
    def _warm(task) -> bool:
        """A pool entry is warm once its kernel has started *and* has run the app (Voila's render task
        is done): until then a page handed that kernel waits for the app's imports and first screen,
        which is what made the first page after a start take seconds while later ones took
        milliseconds. A render that failed leaves the entry cold (the page would fail too)."""
        if not task.done() or task.cancelled() or task.exception() is not None:
            return False
        render = task.result().get("task")
        return render is None or (render.done() and not render.cancelled() and render.exception() is None)

    def pool_kernel_ids(self) -> set[str]:
        """The kernels of the pool that are warm (``_warm``): only those count as ready."""
        return {task.result()["kernel_id"] for task in self._pool() if self._warm(task)}

    def pool_ready(self) -> int:
        return len(self.pool_kernel_ids())

    def pool_starting(self) -> int:
        """Pool entries still starting their kernel or running the app in it."""
        return sum(1 for t in self._pool() if not self._warm(t) and not (t.done() and (
            t.cancelled() or t.exception() is not None)))

    def fill_if_needed(self, delay=None, notebook_name=None, **kwargs):  # noqa: ANN001 (Voila's signature)
        """At start-up fill at once; afterwards a pacer keeps the pool, one kernel at a time."""
        if delay == 0 or not hasattr(self, "_pools"):
            return super().fill_if_needed(delay=0, notebook_name=notebook_name, **kwargs)
        if self._pacer is None or self._pacer.done():
            self._pacer = asyncio.get_event_loop().create_task(self._keep_pool(notebook_name, kwargs))
        return None

    async def _keep_pool(self, notebook_name: str | None, kwargs: dict) -> None:
        """Start a kernel when the pool is short of ``wanted_in_pool``: one at a time when arrivals
        pause (``refill_quiet_seconds``), and two at once while fewer than the spares are warm (a
        room reloading together takes them faster than one start at a time brings them back); for
        the server's life."""
        st = self.exam_settings
        while True:
            await asyncio.sleep(0.25)
            pool = self._pool(notebook_name)
            pool[:] = [t for t in pool if not (t.done() and (t.cancelled() or t.exception() is not None))]
            if len(self._pool(notebook_name)) >= self.wanted_in_pool():
                continue
            quiet = time.monotonic() - self._last_take >= st.refill_quiet_seconds
            low = self.pool_ready() < self._spare  # reloads must never wait for a cold kernel
            if self.pool_starting() >= (min(2, os.cpu_count() or 1) if low else 1) or not (quiet or low):
                continue
            config = dict(self.kernel_pools_config.get("default", {}))
            saved = self.kernel_pools_config
            self.kernel_pools_config = {"default": {**config, "pool_size": len(self._pool(notebook_name)) + 1}}
            try:
                super().fill_if_needed(delay=0, notebook_name=notebook_name, **kwargs)
            except Exception:  # noqa: BLE001 (a failed start is retried on the next round)
                self.log.exception("exam-builder: could not start a warm kernel")
            finally:
                self.kernel_pools_config = saved

    def wanted_in_pool(self) -> int:
        """Warm kernels to keep: the seats not yet taken (at least the spares).

        Kernels handed to pages count against the pool, so a full room holds about seats plus
        spares kernels, never twice that."""
        return max(self._spare, self._pool_target - self.pages()) if self._pool_target else 0

    async def get_rendered_notebook(self, *args, **kwargs):
        self._last_take = time.monotonic()
        render_task, cache, kernel_id = await super().get_rendered_notebook(*args, **kwargs)
        self._handed_out[kernel_id] = time.monotonic()
        self._took_kernel(kernel_id)
        self._ensure_culler()
        return render_task, cache, kernel_id

    async def start_kernel(self, *args, **kwargs):
        """A page's own kernel (the pool was empty, or no pool): counted as handed out. A hub
        service's credentials (``JUPYTERHUB_*``: its API token) never reach a kernel."""
        if isinstance(kwargs.get("env"), dict):
            kwargs["env"] = {k: v for k, v in kwargs["env"].items() if not k.startswith("JUPYTERHUB_")}
        self._last_take = time.monotonic()
        kernel_id = await super().start_kernel(*args, **kwargs)
        self._handed_out[kernel_id] = time.monotonic()
        self._took_kernel(kernel_id)
        self._ensure_culler()
        return kernel_id

    def pages(self) -> int:
        return len(self._handed_out)

    def full(self) -> bool:
        """Pages holding a kernel, and pages being opened right now, reach ``max_pages``."""
        return self.pages() + len(getattr(self, "opening", ())) >= self.max_pages()

    def _took_kernel(self, kernel_id: str) -> None:
        """The page being opened in this request holds a kernel now: it counts once, in ``pages``."""
        token = OPENING.get(None)
        if token in getattr(self, "opening", ()):
            self.opening.discard(token)
            self._page_kernel[token] = kernel_id

    def page_sent(self, token: object) -> None:
        """The page of this request is sent: its browser can connect from now, so the kernel's
        ``unconnected_grace_seconds`` counts from here, not from when rendering began."""
        kernel_id = self._page_kernel.pop(token, None)
        if kernel_id in self._handed_out:
            self._handed_out[kernel_id] = time.monotonic()

    def max_pages(self) -> int:
        return self.exam_settings.max_pages or (2 * max(self._pool_target, 1) + 4)

    # a reload keeps its kernel ----------------------------------------------------------------
    def _signature(self, kernel_id: str) -> str:
        return hmac.new(self._page_key, kernel_id.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]

    def page_cookie(self, kernel_id: str) -> str | None:
        """The value of ``PAGE_COOKIE`` for a page of this kernel (None when pages are not kept)."""
        return f"{kernel_id}.{self._signature(kernel_id)}" if self._reattach else None

    def keep_page(self, kernel_id: str, html: str) -> None:
        """The page served for this kernel, whole: what a reload of it is served again."""
        if self._reattach and kernel_id in self._handed_out:
            self._page_html[kernel_id] = html

    def kept_page(self, cookie: str | None) -> tuple[str, str] | None:
        """The kernel and page a reload with this cookie gets back, or None (a new page, with a new
        kernel): the signature holds, the kernel is alive and handed out, its sitting was not taken
        over by another page, and its page left (its beacon came, or no websocket is open to it): a
        second tab beside an open one gets a kernel of its own, as a second screen does."""
        if not self._reattach or not cookie or "." not in cookie:
            return None
        kernel_id, _, signature = cookie.partition(".")
        if not hmac.compare_digest(signature, self._signature(kernel_id)):
            return None
        html = self._page_html.get(kernel_id)
        if html is None or kernel_id not in self._handed_out or _released(kernel_id):
            return None
        if kernel_id not in self._left and PageTracker.connections.get(kernel_id, 0) > 0:
            return None
        if kernel_id not in self.list_kernel_ids():
            return None
        return kernel_id, html

    def reattached(self, kernel_id: str) -> None:
        """A reload got this kernel back: it is a page being sent again, no longer one that left."""
        self._left.pop(kernel_id, None)
        self._handed_out[kernel_id] = time.monotonic()
        self.log.info("exam-builder: a reloaded page came back to its kernel %s", kernel_id)

    def page_left(self, kernel_id: str) -> bool:
        """The page's unload beacon: whether its kernel is kept for a reload (``reattach_seconds``)
        rather than shut down at once."""
        if not self._reattach or kernel_id not in self._page_html or kernel_id not in self._handed_out:
            return False
        self._left[kernel_id] = time.monotonic()
        return True

    # culler ------------------------------------------------------------------------------------
    def _ensure_culler(self) -> None:
        if self._culler is None or self._culler.done():
            self._culler = asyncio.get_event_loop().create_task(self._cull_forever())

    async def _cull_forever(self) -> None:
        while True:
            await asyncio.sleep(self.exam_settings.cull_interval_seconds)
            try:
                await self.cull_closed_pages()
            except Exception:  # noqa: BLE001 (the culler must outlive one bad kernel)
                self.log.exception("exam-builder: culling failed")

    async def cull_closed_pages(self) -> list[str]:
        """Shut down the kernels of pages that are gone; never one whose page is connected, being sent
        or asking for its websocket."""
        st, now, culled = self.exam_settings, time.monotonic(), []
        being_sent = set(self._page_kernel.values())  # a page's request still running (``page_sent``)
        for kid, handed_at in list(self._handed_out.items()):
            if kid not in self.list_kernel_ids():
                self._forget(kid)
                continue
            if kid in being_sent or PageTracker.connections.get(kid, 0) > 0 or PageTracker.asking.get(kid, 0) > 0:
                continue
            gone = PageTracker.last_disconnect.get(kid)
            grace = st.reconnect_grace_seconds if gone is not None else st.unconnected_grace_seconds
            since = max(gone if gone is not None else handed_at, PageTracker.last_asked.get(kid, 0.0))
            left = self._left.get(kid)
            if left is not None and PageTracker.last_connected.get(kid, float("-inf")) > left:
                self._left.pop(kid, None)  # a page came back and connected since: the beacon is history
            elif left is not None:  # its page left (the beacon): kept only for a reload of it
                grace, since = st.reattach_seconds, max(left, handed_at, PageTracker.last_asked.get(kid, 0.0))
            if _released(kid) or now - since >= grace:
                self.log.info("exam-builder: shutting down kernel %s (its page is gone%s)", kid,
                              ", its sitting taken over" if _released(kid) else "")
                culled.append(kid)
                try:
                    await self.shutdown_kernel(kid)
                except Exception:  # noqa: BLE001 (already gone)
                    self._forget(kid)
        return culled

    def start_watching_activity(self, kernel_id: str) -> None:
        """jupyter_server's watch of a kernel's activity, on its ``status`` messages only.

        jupyter_server opens a second IOPub socket per kernel and verifies and parses every message on
        it (to date ``last_activity`` and follow ``execution_state``), besides the page's own socket
        that relays it: every widget update of every page (a saved answer's line, the navigator, each
        page's clock every second) was received and read twice by the one server process that relays
        the whole room. Subscribed to ipykernel's ``kernel.<id>.*`` topics only (``status`` among them;
        widget messages are ``comm-<id>``), the busy and idle around each message the kernel handles
        still date the activity and give the state (the websocket's nudge waits for it to leave
        ``starting``); the rest never reaches that socket (the publisher filters it)."""
        super().start_watching_activity(kernel_id)  # type: ignore[misc]
        stream = getattr(self._kernels[kernel_id], "_activity_stream", None)  # type: ignore[attr-defined]
        if stream is not None:
            import zmq

            stream.socket.setsockopt(zmq.SUBSCRIBE, STATUS_TOPIC)  # first: no moment subscribed to nothing
            stream.socket.setsockopt(zmq.UNSUBSCRIBE, b"")

    async def shutdown_kernel(self, kernel_id: str, *args, **kwargs):
        self._forget(kernel_id)
        return await super().shutdown_kernel(kernel_id, *args, **kwargs)

    async def shutdown_all(self, *args, **kwargs):
        """The server stops (SIGTERM, Ctrl-C): no new warm kernel is started, and those still starting
        finish their start first, so that every kernel is shut down. (jupyter_server refuses to shut
        down a kernel still starting, "Kernel does not exist": a traceback and exit 1 for a server
        stopped while its pool filled.)"""
        for task in (self._pacer, self._culler):
            if task is not None:
                task.cancel()
        pending: dict = getattr(self, "_pending_kernels", {})
        starting = [t for t in pending.values() if not t.done()]
        if starting:
            await asyncio.wait(starting, timeout=STOP_WAIT_SECONDS)
        for kernel_id, task in list(pending.items()):
            if kernel_id not in self._kernels:  # its start failed or did not end: nothing to shut down
                task.cancel()
                pending.pop(kernel_id, None)
                self.log.warning("exam-builder: kernel %s was still starting when the server stopped", kernel_id)
        return await super().shutdown_all(*args, **kwargs)

    def _forget(self, kernel_id: str) -> None:
        self._handed_out.pop(kernel_id, None)
        self._page_html.pop(kernel_id, None)
        self._left.pop(kernel_id, None)
        PageTracker.forget(kernel_id)
        page_dir = os.environ.get(PAGE_DIR_ENV)
        if page_dir:
            source_file(page_dir, kernel_id).unlink(missing_ok=True)
            released_file(page_dir, kernel_id).unlink(missing_ok=True)

    def status(self) -> dict:
        return {"pool_ready": self.pool_ready(), "pool_starting": self.pool_starting(),
                "pool_target": self._pool_target, "pool_wanted": self.wanted_in_pool(), "pages": self.pages(),
                "max_pages": self.max_pages(),
                "kernels": len(self.list_kernel_ids()), "left": len(self._left),
                "connected": sum(1 for k in self._handed_out if PageTracker.connections.get(k, 0) > 0)}


# -- the Voila application ----------------------------------------------------------------------
def _page_handler(base):
    """Voila's page handler, plus: the ``_xsrf`` cookie (for the unload beacon), the page cap, and a
    reload served its own kernel again (``KernelLifecycle.kept_page``)."""

    class ExamPageHandler(base):
        _token: object | None = None
        _sent: list[str] | None = None  # the page as written, kept for a reload of it

        async def get(self, path=None):
            km = self.kernel_manager
            self.xsrf_token  # noqa: B018 (sets the cookie the page's unload beacon sends back)
            kept = km.kept_page(self.get_cookie(PAGE_COOKIE)) if hasattr(km, "kept_page") else None
            if kept is not None:  # a reload: its own kernel, on the screen it left; no kernel starts
                kernel_id, html = kept
                km.reattached(kernel_id)
                self.set_header("Content-Type", "text/html")
                self.set_header("Cache-Control", "no-cache, no-store, must-revalidate")
                self.finish(html)
                return
            if getattr(km, "full", None) and km.full():
                self.set_status(503)
                self.set_header("Retry-After", "30")
                self.finish(full_page(self._words()))
                return
            # counted at once (a burst cannot slip past the cap) until it holds a kernel (``_took_kernel``)
            token = self._token = object()
            if not isinstance(getattr(km, "opening", None), set):
                km.opening = set()
            km.opening.add(token)
            OPENING.set(token)
            self._sent = []
            done = False
            try:
                result = await super().get(path)
                done = True
                return result
            finally:
                km.opening.discard(token)
                kernel_id = getattr(km, "_page_kernel", {}).get(token)
                if done and kernel_id and self._sent and hasattr(km, "keep_page"):
                    km.keep_page(kernel_id, "".join(self._sent))
                self._sent = None
                if hasattr(km, "page_sent"):
                    km.page_sent(token)

        def _words(self) -> PageWords:
            return self.settings.get("exam_builder_words") or EXAM_WORDS

        def write(self, chunk):
            if isinstance(chunk, str):
                chunk = offline_page(chunk, self._words())
                if self._sent is not None:
                    if not self._sent:
                        self._name_kernel()
                    self._sent.append(chunk)
            return super().write(chunk)

        def _name_kernel(self) -> None:
            """Before the page's first bytes: the cookie a reload of this page brings back."""
            km = self.kernel_manager
            kernel_id = getattr(km, "_page_kernel", {}).get(self._token)
            value = km.page_cookie(kernel_id) if kernel_id and hasattr(km, "page_cookie") else None
            if value:
                self.set_cookie(PAGE_COOKIE, value, path=self.base_url or "/", httponly=True, samesite="Strict",
                                secure=self.request.protocol == "https")

    return ExamPageHandler


@dataclass(frozen=True)
class PageWords:
    """What a served page says of itself before its app is drawn, and when the server is full."""

    title: str
    opening: str
    full: str


EXAM_WORDS = PageWords("Exam", "Opening the exam…",
                       "This computer cannot open another exam page right now. Please tell the proctor.")
PRACTICE_WORDS = PageWords("Practice", "Opening practice…",
                           "The practice server is busy right now. Please try again in a few minutes.")

#: What Voila's page template says or fetches that an exam page must not: stylesheets from a CDN
#: (its own bundle already carries Font Awesome, and a room may have no internet) and a
#: programmer's "Executing 1 of 1" while the page starts.
_CDN_STYLESHEET = re.compile(r'<link rel="stylesheet" href="https?://[^"]*"[^>]*>')
_EXECUTING = re.compile(r"`Executing \$\{cell_index\} of \$\{cell_count\}`")


def offline_page(html: str, words: PageWords | None = None) -> str:
    """The page as Voila wrote it, less external stylesheets and execution wording."""
    words = words or EXAM_WORDS
    return _EXECUTING.sub(f"`{words.opening}`", _CDN_STYLESHEET.sub("", html))


def full_page(words: PageWords) -> str:
    """The page a visitor gets when the server holds ``max_pages`` pages already."""
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{words.title}</title></head><body>"
            f"<main><h1>{words.title}</h1><p>{words.full}</p></main></body></html>")


def _beacon_handler():
    """Voila's unload beacon, which shuts the page's kernel down; a candidate's page's kernel is kept
    ``reattach_seconds`` instead (``KernelLifecycle.page_left``), for a reload of that page."""
    import tornado.web
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler

    class PageLeftHandler(VoilaShutdownKernelHandler):
        @tornado.web.authenticated
        async def post(self, kernel_id):
            km = self.kernel_manager
            if hasattr(km, "page_left") and km.page_left(kernel_id):
                self.set_status(204)
                self.finish()
                return
            await super().post(kernel_id)

    return PageLeftHandler


def _status_handler():
    from jupyter_server.base.handlers import JupyterHandler

    class StatusHandler(JupyterHandler):
        def get(self):
            km = self.settings["kernel_manager"]
            self.set_header("Content-Type", "application/json")
            self.set_header("Cache-Control", "no-store")
            self.finish(json.dumps(km.status() if hasattr(km, "status") else {}))

    return StatusHandler


def exam_voila_class():
    """``Voila`` with the kernel lifecycle, the page handler and HTTPS (imported late: Voila is heavy)."""
    import voila.app as voila_app
    from voila.app import Voila
    from voila.tornado.handler import TornadoVoilaHandler

    class ExamVoila(Voila):
        exam_settings: ServerSettings = ServerSettings()
        words: PageWords = EXAM_WORDS
        pool_target = 0
        spare = 0
        reattach = False  # a candidates' app: a reload gets its own kernel back
        ssl_context: ssl.SSLContext | None = None

        def init_settings(self):
            original = voila_app.voila_kernel_manager_factory

            def factory(base_class, preheat_kernel, default_pool_size, **kw):
                cls = original(base_class, preheat_kernel, default_pool_size, **kw)
                return type("ExamKernelManager", (KernelLifecycle, cls), {})

            voila_app.voila_kernel_manager_factory = factory
            try:
                settings = super().init_settings()
            finally:
                voila_app.voila_kernel_manager_factory = original
            self.kernel_manager._lifecycle_init(self.exam_settings, self.pool_target, self.spare, self.reattach)
            trust_app_notebook(self.contents_manager, self.notebook_path)
            settings["exam_builder_server"] = self.exam_settings
            settings["exam_builder_words"] = self.words
            settings["websocket_max_message_size"] = self.exam_settings.max_message_bytes
            # jupyter_server's default pong timeout (3 x the ping interval) is one tornado refuses, with a warning
            # in the coordinator's terminal at every start: wait for a pong as long as one ping interval
            interval = settings.get("ws_ping_interval", 30_000)
            if interval:
                settings.setdefault("ws_ping_timeout", interval)
            settings["xsrf_cookie_kwargs"] = {"samesite": "Strict", **({"secure": True} if self.ssl_context else {})}
            return settings

        def init_handlers(self):
            from jupyter_server.utils import url_path_join
            from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler

            handlers = []
            for spec in super().init_handlers():
                if len(spec) >= 2 and spec[1] is TornadoVoilaHandler:
                    spec = (spec[0], _page_handler(TornadoVoilaHandler), *spec[2:])
                elif len(spec) >= 2 and spec[1] is VoilaShutdownKernelHandler:
                    spec = (spec[0], _beacon_handler(), *spec[2:])
                handlers.append(spec)
            handlers.insert(0, (url_path_join(self.server_url or "/", STATUS_PATH), _status_handler()))
            return handlers

        def listen(self):
            # never tornado's xheaders: it believes X-Real-Ip from anyone (the page's address is
            # ``clientaddr``'s, in TrackedConnection.connect)
            notice = self.exam_settings.proxy_notice()
            if notice:
                self.log.warning("exam-builder: %s", notice)
            proxies = self.exam_settings.proxies()
            if proxies:
                self.log.info("exam-builder: a page's address is the hop X-Forwarded-For names past the trusted "
                              "proxies %s", ", ".join(map(str, proxies)))
            if self.ssl_context is not None:
                listen, ctx = self.app.listen, self.ssl_context
                self.app.listen = lambda port, address=None, **kw: listen(port, address, ssl_options=ctx, **kw)
            return super().listen()

        def _handle_signal_stop(self, sig, frame):
            # Voila's handler is set before its loop exists (``listen`` makes it): a SIGTERM in between
            # raised AttributeError, a traceback and exit 1; it unwinds instead, as before Voila's handler
            if getattr(self, "ioloop", None) is None:
                _stop_on_sigterm(sig, frame)
            return super()._handle_signal_stop(sig, frame)

        def _url(self, ip):
            return super()._url(ip).replace("http://", "https://", 1) if self.ssl_context else super()._url(ip)

    return ExamVoila


@dataclass
class ServeOptions:
    """What one ``serve`` needs beyond the course: its pool and, for HTTPS, a certificate."""

    seats: int | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    preheat: bool = True


#: JupyterLab extensions the apps' pages never load (nbgrader's and Notebook's own front ends, and the
#: author's desk: on an app's page the server refused its files, a traceback in the log for every page).
UNUSED_EXTENSIONS = ("@jupyter/nbgrader", "@jupyter-notebook/lab-extension", "exam-builder-lab")


def trust_app_notebook(contents_manager, notebook_path: str) -> None:
    """Sign the app's own notebook (shipped with exam-builder) in the server's notary, so Jupyter's
    contents manager does not warn "Notebook ... is not trusted" at every page a candidate opens.

    The notary keeps its signatures in memory under a secret of this process (``voila_config``):
    nothing is written to the account's Jupyter folder, and no other notebook is trusted."""
    if notebook_path:
        contents_manager.notary.sign(read_notebook(Path(notebook_path), validate=False))


#: The module an app's kernel runs: ipykernel without its debugger (``delivery.app_ipykernel``), 8 MB a seat less.
APP_KERNEL_MODULE = "exam_builder.delivery.app_ipykernel"


class AppKernelSpecs(KernelSpecManager):
    """The kernels Voila finds, the ``python3`` kernel started by ``delivery.app_ipykernel``: the
    same interpreter and ipykernel, without the debugger no app's page can reach, interrupted by a
    message (``interrupt_mode``), never a signal. A kernel spec whose
    command is not ``PYTHON -m ipykernel_launcher ...`` (a custom launcher) is left as it is."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        spec = super().get_kernel_spec(kernel_name)
        argv = list(spec.argv)
        if kernel_name == "python3" and argv[1:3] == ["-m", "ipykernel_launcher"]:
            spec.argv = [argv[0], "-m", APP_KERNEL_MODULE, *argv[3:]]
            # an interrupt as a message, never SIGINT: a server that stops interrupts each kernel before it
            # asks it to shut down, and SIGINT to one still loading printed a KeyboardInterrupt traceback
            spec.interrupt_mode = "message"
        return spec


def voila_config(host: str, port: int, token: str | None = None) -> Config:
    """One notebook, no files, no tracebacks; every app's kernels (candidates' and staff's alike)
    take widget messages only: a page never runs code, whoever holds its token."""
    cfg = Config()
    cfg.Voila.ip = host
    cfg.Voila.port = port
    cfg.Voila.port_retries = 0
    cfg.Voila.open_browser = False
    cfg.VoilaConfiguration.show_tracebacks = False
    cfg.VoilaConfiguration.file_allowlist = []
    cfg.VoilaConfiguration.file_denylist = [".*"]
    cfg.VoilaConfiguration.theme = "light"
    # JupyterLab extensions installed beside nbgrader have no place on an app's page: they fail to
    # load there (console errors) and cost every phone their download
    cfg.VoilaConfiguration.extension_denylist = list(UNUSED_EXTENSIONS)
    cfg.Voila.kernel_websocket_connection_class = CandidateKernelConnection
    cfg.VoilaConfiguration.kernel_spec_manager_class = AppKernelSpecs  # kernels without ipykernel's debugger
    cfg.KernelManager.transport = "ipc"  # kernels listen on files in the server's private folder, not on ports
    # the app notebook is signed at start (trust_app_notebook) in a notary of this process only
    cfg.NotebookNotary.db_file = ":memory:"
    cfg.NotebookNotary.secret = secrets.token_bytes(32)
    # a warm kernel's app is drawn once; nbclient waits 4 s by default for its output after the
    # cell's reply and then renders the page without it: on a busy machine (a room's kernels
    # refilling) that served a page with no sign-in screen, for ever (the rehearsal: 18 of 60)
    cfg.VoilaExecutor.iopub_timeout = 120
    if token:
        cfg.Voila.token = token
    return cfg


def ssl_context(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    """A server TLS context from the program's certificate and key (PEM), with a located error."""
    for label, path in (("certificate", certfile), ("key", keyfile)):
        if not Path(path).is_file():
            raise ExamBuilderError(f"{path}: the TLS {label} file does not exist")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(str(certfile), str(keyfile))
    except (ssl.SSLError, OSError) as exc:
        raise ExamBuilderError(f"{certfile}, {keyfile}: not a certificate and its key in PEM form ({exc})") from exc
    return ctx


def available_memory_mb() -> int:
    import psutil

    return int(psutil.virtual_memory().available / (1024 * 1024))


def check_memory(kernels: int, settings: ServerSettings, available_mb: int | None = None) -> None:
    """Refuse a pool the machine cannot hold, in numbers a person can act on."""
    need = kernels * settings.kernel_memory_mb + 300
    have = available_memory_mb() if available_mb is None else available_mb
    if need > have:
        raise ExamBuilderError(
            f"this machine has {have} MB of free memory, but {kernels} warm kernels need about {need} MB "
            f"({settings.kernel_memory_mb} MB each and 300 MB for the server). Serve fewer seats (--seats), "
            "add memory, or spread the room over two machines sharing one PostgreSQL database (see the README).")


def open_sittings_count(course) -> int:
    """Sittings that may still be signed into: the seats a candidates' server should keep warm."""
    from ..records.queries.sittings import select_open_count

    with course.db.read() as s:
        return select_open_count(s)


#: A server's folder of its pages' records (``pagesource``), in the temporary folder; it holds ``PAGES_OWNER``.
PAGES_PREFIX = "exam-builder-pages-"
#: The file in a pages folder naming the server process that made it (its pid).
PAGES_OWNER = "server.pid"


def sweep_page_dirs(tmp: Path | None = None) -> list[Path]:
    """Remove the pages folders of this user's servers that are gone without cleaning up (SIGKILL, a
    power cut): a folder names its server's pid; a folder of a live server, another user's, or one
    that names no server is left alone. The folders removed."""
    removed = []
    for folder in Path(tmp or tempfile.gettempdir()).glob(PAGES_PREFIX + "*"):
        try:
            if folder.stat().st_uid != os.getuid():
                continue
            pid = int(read_text(folder / PAGES_OWNER, str(folder / PAGES_OWNER), max_bytes=32).strip())
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        except (OSError, ValueError, LoadError):  # no owner named, unreadable, or alive (another user's pid): left
            continue
    return removed


def _stop_on_sigterm(signum, _frame) -> None:
    """SIGTERM (how tests and systemd stop a server) before Voila's loop runs: unwind, so the
    ``finally`` that removes the pages folder runs (the default action ends the process where it
    stands), and exit 0: a server stopped on purpose is a clean stop."""
    raise SystemExit(0)


def _run_voila(course, notebook: Path, cfg: Config, extra_env: dict[str, str], pool: int = 0,
               spare: int = 0, ssl_ctx: ssl.SSLContext | None = None, words: PageWords = EXAM_WORDS,
               reattach: bool = False) -> None:
    """Run ``ExamVoila`` on one notebook until interrupted (kernels inherit the course's env).

    Its pages folder is removed however it stops: Ctrl-C, SIGTERM (Voila's handler once it runs,
    ``_stop_on_sigterm`` while it starts), an error; a server killed outright leaves its folder to
    the next server's ``sweep_page_dirs``."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm) if main else None
    page_dir: Path | None = None
    try:
        sweep_page_dirs()
        page_dir = Path(tempfile.mkdtemp(prefix=PAGES_PREFIX))
        os.chmod(page_dir, 0o700)
        create_private_file(page_dir / PAGES_OWNER, str(os.getpid()).encode(), None)
        os.environ["EXAM_BUILDER_COURSE"] = str(course.root)
        os.environ["EXAM_BUILDER_DB_URL"] = course.db_url
        os.environ[RELEASE_DIR_ENV] = str(course.release_dir)  # a kernel never imports nbgrader for it (100 MB)
        os.environ[PAGE_DIR_ENV] = str(page_dir)
        os.environ.update(extra_env)
        settings = course.server_settings
        if pool > 0:
            cfg.VoilaConfiguration.preheat_kernel = True
            cfg.VoilaConfiguration.default_pool_size = pool
        voila = exam_voila_class()
        voila.exam_settings = settings
        voila.pool_target = pool
        voila.spare = spare
        voila.ssl_context = ssl_ctx
        voila.words = words
        voila.reattach = reattach
        voila.launch_instance(argv=[str(notebook)], config=cfg)
    finally:
        if page_dir is not None:
            shutil.rmtree(page_dir, ignore_errors=True)
        if main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def serve(course, host: str = "127.0.0.1", port: int = 8866, options: ServeOptions | None = None,
          echo: Callable[[str], None] = print) -> None:
    """Run the candidates' exam app until interrupted, with a warm kernel for every seat."""
    options = options or ServeOptions()
    course.db.require_current()
    seats = options.seats if options.seats is not None else (course.server_settings.seats
                                                             or open_sittings_count(course))
    _serve_candidates(course, EXAM_NOTEBOOK, "exam app", host, port, seats, options, echo, words=EXAM_WORDS)


def serve_practice(course, host: str = "127.0.0.1", port: int = 8868, options: ServeOptions | None = None,
                   echo: Callable[[str], None] = print) -> None:
    """Run the practice app until interrupted: no code, no database, one link per practice set."""
    from ..practice.sets import scan_sets

    options = options or ServeOptions()
    sets, problems = scan_sets(course)
    for problem in problems:  # served without them, and said so
        echo(f"warning: {problem}; this set is not offered")
    if not sets:
        raise ExamBuilderError(f"{course.root} has no practice set; build one first "
                               "(exam-builder practice build NAME --module N or --competency SLUG)")
    _serve_candidates(course, PRACTICE_NOTEBOOK, "practice app", host, port,
                      options.seats if options.seats is not None else PRACTICE_SEATS, options, echo,
                      links=[f"?set={p.name}" for p in sets], words=PRACTICE_WORDS)


def _serve_candidates(course, notebook: Path, what: str, host: str, port: int, seats: int, options: ServeOptions,
                      echo: Callable[[str], None], links: list[str] = (), words: PageWords = EXAM_WORDS) -> None:
    """A candidates' app on ``host``: warm kernels for ``seats`` (with ``options.preheat``), HTTPS
    when a certificate is given, the kernel lifecycle of ``KernelLifecycle``."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_on_sigterm)  # a clean stop (exit 0) from its first line on
    settings = course.server_settings
    ctx = ssl_context(options.certfile, options.keyfile) if (options.certfile or options.keyfile) else None
    if (options.certfile is None) != (options.keyfile is None):
        raise ExamBuilderError("give both --certfile and --keyfile for HTTPS")
    spare = settings.spares(max(seats, 1)) if options.preheat else 0
    pool = (max(seats, 1) + spare) if options.preheat else 0
    check_memory(max(pool, 1), settings)
    scheme = "https" if ctx else "http"
    echo(f"{what} for {course.root} on {scheme}://{host}:{port}/ ({seats} seat(s), {pool} warm kernel(s); "
         f"ready when {scheme}://{host}:{port}/{STATUS_PATH} shows pool_ready = {pool}; Ctrl-C to stop)")
    for link in links:
        echo(f"  {scheme}://{host}:{port}/{link}")
    if words is EXAM_WORDS:
        from .sittings import exam_address

        address = exam_address(course)
        echo(f"candidates type {address} (printed on the seat cards)" if address else
             "seat cards carry no address: set c.DeliverySettings.exam_address to the address candidates type "
             f"(e.g. {scheme}://<this computer's name or address>:{port}/) in nbgrader_config.py")
    _run_voila(course, notebook, voila_config(host, port), {}, pool=pool,
               spare=spare, ssl_ctx=ctx, words=words, reattach=True)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def staff_address(course, title: str, port: int, token: str, terminal: bool | None = None) -> str:
    """What a standalone staff app says of its address. On a terminal: the address with its token,
    for the person who started it. Otherwise (output sent to a log file, a service manager's
    journal, a shared folder) the token never enters that output: the address with its token is
    written to ``<course>/.exam-builder/<command>-<port>.url`` (``grader-8870.url``) (``0600``, in the course's private
    folder) and the line names that file."""
    from ..files import replace_file

    url = f"http://127.0.0.1:{port}/"
    if terminal if terminal is not None else sys.stdout.isatty():
        return f"{title}: {url}?token={token}"
    slug = re.sub(r"[^a-z]", "", title.lower().split()[0].split("'")[0])  # the command's name: grader, proctor...
    path = course.private_dir / f"{slug}-{port}.url"
    replace_file(path, f"{url}?token={token}\n", course.root)  # checked: never through a link
    return f"{title}: {url} (the address with its token is in {path}, readable by this account only)"


def serve_staff(course, notebook: Path, title: str, port: int, token: str | None, extra_env: dict[str, str],
                echo: Callable[[str], None] = print) -> None:
    """A staff app on 127.0.0.1 behind a token, one warm kernel, the same kernel lifecycle and the
    same widget-only websocket as the candidates' (the token opens the app, never a kernel)."""
    course.db.require_current()
    token = token or new_token()
    echo(staff_address(course, title, port, token))
    _run_voila(course, notebook, voila_config("127.0.0.1", port, token=token), extra_env, pool=1, spare=1)


def serve_proctor(course, exam: str, port: int = 8867, token: str | None = None, echo=print) -> None:
    """Run the proctor's dashboard on 127.0.0.1 only, behind a token."""
    serve_staff(course, PROCTOR_NOTEBOOK, "Proctor's dashboard", port, token, {"EXAM_BUILDER_EXAM": exam}, echo)
