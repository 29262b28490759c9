"""A browser-less client of the candidate's exam page: the Voila page protocol, spoken from Python.

What it does is what Debian's chromium does with a page of ``exam-builder serve`` (Voila 0.5,
ipywidgets 8, jupyter_server 2), minus drawing it:

1. ``GET /`` (cookies kept in a small jar; HTTPS with an ``ssl.SSLContext`` or ``verify=False``).
   The kernel id is read from the page config (``<script id="jupyter-config-data">``, key
   ``kernelId``) and the displayed widget ids from the cell outputs
   (``application/vnd.jupyter.widget-view+json``, in ``application/vnd.voila.cell-output+json``).
2. ``GET /api/kernels/<id>`` (Voila's widget manager asks for the kernel's model first), then the
   websocket ``/api/kernels/<id>/channels?session_id=<uuid4>`` offering the subprotocol
   ``v1.kernel.websocket.jupyter.org`` with ``Origin`` and the page's cookies, exactly as
   ``@jupyterlab/services``' ``KernelConnection`` does; frames use the v1 binary framing (8-byte
   little-endian offsets, channel, header, parent header, metadata, content, buffers). If a
   server chooses no subprotocol, the legacy JSON text framing is used instead.
3. As the page's ``KernelConnection`` does on connect: ``kernel_info_request``, holding other
   messages until its reply or for 3 s at most (``kernel_info_missing`` says the reply never
   came, which costs a browser those 3 s); then, as
   ipywidgets 8's ``_loadFromKernel``: ``comm_open`` of target ``jupyter.widget.control``
   (data ``{}``, metadata ``{"version": "1.0.0"}``), ``comm_msg`` ``{"method": "request_states"}``,
   the kernel's ``update_states`` fills the model table, and the control comm is closed
   (``comm_close``). Later ``comm_open`` (target ``jupyter.widget``), ``update``/``echo_update``
   and ``comm_close`` messages from the kernel keep the table current.
4. Acting as a person, with the messages the ipywidgets 8 views send (all ``comm_msg`` on the
   shell channel, metadata ``{}``): a Text/Textarea/Checkbox value is
   ``{"method": "update", "state": {"value": V}, "buffer_paths": []}``; a RadioButtons or
   ToggleButtons choice is ``{"method": "update", "state": {"index": I}, "buffer_paths": []}``
   (the frontend syncs ``index``; ``value`` exists only in the kernel), a choice in the app's
   ``ChoiceGroup`` (``exam_builder.ui``) is ``{"value": V}``; a button click is
   ``{"method": "custom", "content": {"event": "click"}}`` and a press in the question list
   ``{"method": "custom", "content": {"go": N}}``. Like the widget manager, an
   action on a model waits until the kernel is idle after the previous one on that model.
5. Leaving: ``unload()`` posts Voila's beacon ``POST voila/api/shutdown/<kernel id>`` (multipart
   form with the ``_xsrf`` field from the ``_xsrf`` cookie) and closes the websocket, as the
   page's ``beforeunload`` handler does.

Contract: ``await PageClient(url).open()`` returns once the sign-in screen is usable (the page
has arrived, the websocket is open and the "Access code" form with its "Sign in" button is in the
model table with its state); ``timings`` holds seconds from the request's start to each step
(``page``, ``kernel_model``, ``websocket``, ``kernel_info``, ``widgets``; ``usable`` is the
sign-in screen). ``frames`` keeps every frame received, undecoded (``keep_frames=False`` not);
``send_raw`` sends any message type on any channel and ``send_frame`` any bytes, so tests can
prove the server refuses them. Every action returns the message id it sent; ``wait_idle(id)``
waits for the kernel's ``status: idle`` with that parent (the kernel has finished handling it,
database commit included); ``wait_for(predicate)`` waits until the model table satisfies a
predicate. Not modelled: fetching and running the page's JavaScript and CSS (static files a
browser usually has cached), and the widget manager's coalescing of several changes into one
message. One asyncio event loop may drive many clients.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import html as htmllib
import inspect
import json
import re
import ssl as ssllib
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse
from tornado.websocket import WebSocketClientConnection, websocket_connect

V1 = "v1.kernel.websocket.jupyter.org"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CONTROL_TARGET = "jupyter.widget.control"
WIDGET_TARGET = "jupyter.widget"
PROTOCOL_VERSION = "5.2"  # what @jupyterlab/services puts in every header
IPY_MODEL = "IPY_MODEL_"
KERNEL_INFO_WAIT = 3.0  # seconds KernelConnection waits for kernel_info_reply before sending anyway

_CONFIG_RE = re.compile(r'<script id="jupyter-config-data" type="application/json">\s*(.*?)\s*</script>', re.S)
_OUTPUT_RE = re.compile(r'<script type="application/vnd\.voila\.cell-output\+json">\s*(.*?)\s*</script>', re.S)
_TAG_RE = re.compile(r"<[^>]+>")
_HIDDEN_RE = re.compile(r"<(style|script)\b.*?</\1\s*>", re.S | re.I)


_ERROR_BOX = re.compile(r"""<[^>]*\bclass=['"][^'"]*\beb-error\b""")  # the box, not the stylesheet naming it


class PageError(Exception):
    """The page could not be loaded or used as a browser would (HTTP error, no kernel, timeout)."""


# -- framing ------------------------------------------------------------------------------------
def encode_v1(msg: dict[str, Any]) -> bytes:
    """A message in the v1 websocket framing (as ``serializeV1KernelWebsocketJupyterOrg``)."""
    parts = [json.dumps(msg[k], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
             for k in ("header", "parent_header", "metadata", "content")]
    parts += [bytes(b) for b in msg.get("buffers") or []]
    channel = msg["channel"].encode("utf-8")
    offsets = [8 * (1 + 1 + len(parts) + 1)]
    offsets.append(offsets[-1] + len(channel))
    for p in parts:
        offsets.append(offsets[-1] + len(p))
    head = len(offsets).to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in offsets)
    return head + channel + b"".join(parts)


def decode_v1(frame: bytes) -> dict[str, Any]:
    n = int.from_bytes(frame[:8], "little")
    offs = [int.from_bytes(frame[8 * (i + 1):8 * (i + 2)], "little") for i in range(n)]
    if len(offs) < 6:
        raise ValueError("short v1 frame")
    piece = [frame[offs[i]:offs[i + 1]] for i in range(n - 1)]
    channel = piece[0].decode("utf-8")
    header, parent, metadata, content = (json.loads(p) for p in piece[1:5])
    return {"channel": channel, "header": header, "parent_header": parent, "metadata": metadata,
            "content": content, "buffers": piece[5:]}


def decode_legacy(frame: bytes | str) -> dict[str, Any]:
    if isinstance(frame, str):
        return json.loads(frame)
    nbufs = int.from_bytes(frame[:4], "big")
    offs = [int.from_bytes(frame[4 * (i + 1):4 * (i + 2)], "big") for i in range(nbufs)] + [len(frame)]
    msg = json.loads(frame[offs[0]:offs[1]].decode("utf-8"))
    msg["buffers"] = [frame[offs[i]:offs[i + 1]] for i in range(1, nbufs)]
    return msg


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- the model table ------------------------------------------------------------------------------
@dataclass
class Model:
    """One widget model as the page's widget manager holds it."""

    id: str
    state: dict[str, Any] = field(default_factory=dict)
    closed: bool = False
    updated_at: float = 0.0  # perf_counter of the last state that arrived from the kernel

    @property
    def name(self) -> str:
        return str(self.state.get("_model_name", ""))

    @property
    def description(self) -> str:
        """An ipywidget's description, or the legend of an ``exam_builder.ui`` choice group."""
        return str(self.state.get("description") or self.state.get("legend") or self.state.get("label") or "")

    @property
    def value(self) -> Any:
        return self.state.get("value")

    @property
    def children(self) -> list[str]:
        kids = self.state.get("children") or []
        return [k[len(IPY_MODEL):] if isinstance(k, str) and k.startswith(IPY_MODEL) else k for k in kids]

    @property
    def labels(self) -> list[str]:
        if "_options_labels" in self.state:
            return list(self.state["_options_labels"])
        return [label for _value, label in self.state.get("options") or []]

    @property
    def is_choice(self) -> bool:
        """One answer out of several: RadioButtons, or the app's accessible ``ChoiceGroup``."""
        return self.name == "RadioButtonsModel" or (self.name == "AnyModel" and "options" in self.state)

    @property
    def text(self) -> str:
        """An HTML widget's text without tags (entities decoded)."""
        raw = _HIDDEN_RE.sub(" ", str(self.state.get("value") or ""))
        return " ".join(htmllib.unescape(_TAG_RE.sub(" ", raw)).split())

    def __repr__(self) -> str:
        return f"<Model {self.name} {self.id[:8]} {self.description or str(self.value)[:40]!r}>"


def _apply_buffers(state: dict, paths: Iterable, buffers: list[bytes]) -> None:
    for path, buf in zip(paths or [], buffers or [], strict=False):
        obj = state
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = buf


# -- the client -----------------------------------------------------------------------------------
class PageClient:
    """One candidate's page: HTTP, the kernel websocket and the widget model table."""

    def __init__(self, url: str, *, ssl: ssllib.SSLContext | None = None, verify: bool = True,
                 timeout: float = 300.0, subprotocol: str | None = V1, origin: str | None = None,
                 get_kernel_model: bool = True, keep_frames: bool = True):
        parts = urlsplit(url)  # a staff app's address carries its token in the query: keep it
        self.url = parts._replace(path=parts.path if parts.path.endswith("/") else parts.path + "/").geturl()
        self.base = f"{parts.scheme}://{parts.netloc}/"
        self.origin = origin or f"{parts.scheme}://{parts.netloc}"
        self.ssl_context = ssl
        self.verify = verify
        self.timeout = timeout
        self.subprotocol = subprotocol
        self.get_kernel_model = get_kernel_model
        self.keep_frames = keep_frames  # False: do not keep frames and messages (many clients, long runs)
        self.cookies: dict[str, str] = {}
        self.client_id = str(uuid.uuid4())
        self.html = ""
        self.status_code = 0
        self.kernel_id: str | None = None
        self.roots: list[str] = []
        self.models: dict[str, Model] = {}
        self.frames: list[bytes | str] = []
        self.messages: list[dict[str, Any]] = []
        self.timings: dict[str, float] = {}
        self.sent_at: dict[str, float] = {}  # msg id -> perf_counter when sent
        self.idle_at: dict[str, float] = {}  # msg id -> perf_counter when the kernel was idle after it
        self.replies: dict[str, dict[str, Any]] = {}  # msg id -> shell/control reply
        self.selected_subprotocol: str | None = None
        self.kernel_info_missing = False  # no kernel_info_reply within 3 s (the page went on anyway)
        self._t0 = 0.0
        self._ws: WebSocketClientConnection | None = None
        self._http: AsyncHTTPClient | None = None
        self._waiters: set[asyncio.Future] = set()
        self._pending: dict[str, str] = {}  # model id -> msg id of its last unfinished update
        self._control: dict[str, dict] = {}  # control comm id -> its update_states data
        self.closed = True

    # -- HTTP ----------------------------------------------------------------------------------
    def _cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def _keep_cookies(self, response: HTTPResponse) -> None:
        for raw in response.headers.get_list("Set-Cookie"):
            jar = SimpleCookie()
            try:
                jar.load(raw)
            except Exception:  # noqa: BLE001 (a cookie Python cannot parse: a browser would keep others)
                continue
            for k, morsel in jar.items():
                self.cookies[k] = morsel.value

    def _request(self, url: str, method: str = "GET", **kw) -> HTTPRequest:
        headers = {"Cookie": self._cookie_header(), "User-Agent": "exam-builder-pageclient/1",
                   **kw.pop("headers", {})}
        if not headers["Cookie"]:
            del headers["Cookie"]
        return HTTPRequest(url, method=method, headers=headers, request_timeout=self.timeout,
                           connect_timeout=min(self.timeout, 60), validate_cert=self.verify,
                           ssl_options=self.ssl_context, follow_redirects=False, **kw)

    async def fetch(self, path: str, method: str = "GET", body: bytes | None = None,
                    headers: dict[str, str] | None = None, **kw) -> HTTPResponse:
        """A request with the page's cookies; any status is returned, never raised."""
        if self._http is None:
            self._http = AsyncHTTPClient(force_instance=True)
        req = self._request(urljoin(self.base, path), method, body=body, headers=headers or {}, **kw)
        try:
            resp = await self._http.fetch(req, raise_error=False)
        except HTTPClientError as exc:  # a timeout (599): no response at all
            if exc.response is None:
                raise PageError(f"{method} {req.url}: {exc}") from exc
            resp = exc.response
        self._keep_cookies(resp)
        return resp

    def _mark(self, step: str) -> float:
        t = time.perf_counter() - self._t0
        self.timings.setdefault(step, t)
        return t

    async def open_page(self) -> None:
        """GET the page; find the kernel id and the displayed widgets."""
        self._t0 = time.perf_counter()
        self.timings = {}
        first = [True]

        def on_chunk(chunk: bytes) -> None:
            if first[0]:
                first[0] = False
                self._mark("first_byte")
            chunks.append(chunk)

        chunks: list[bytes] = []
        try:
            resp = await self.fetch(self.url, streaming_callback=on_chunk,
                                    headers={"Accept": "text/html,application/xhtml+xml"})
        except (OSError, asyncio.TimeoutError) as exc:
            raise PageError(f"the page did not load: {exc!r}") from exc
        self.status_code = resp.code
        self.html = b"".join(chunks).decode("utf-8", "replace")
        self._mark("page")
        if resp.code != 200:
            raise PageError(f"the page answered HTTP {resp.code}")
        m = _CONFIG_RE.search(self.html)
        if not m:
            raise PageError("the page has no jupyter-config-data")
        self.kernel_id = json.loads(m.group(1)).get("kernelId")
        if not self.kernel_id:
            raise PageError("the page names no kernel")
        self.roots = []
        for out in _OUTPUT_RE.findall(self.html):
            try:
                data = json.loads(out).get("data", {})
            except ValueError:
                continue
            view = data.get(WIDGET_VIEW)
            if view and view.get("model_id"):
                self.roots.append(view["model_id"])

    # -- websocket -----------------------------------------------------------------------------
    async def connect(self) -> None:
        """Open the kernel websocket as the page does, and send ``kernel_info_request``."""
        if self.kernel_id is None:
            raise PageError("open the page first")
        if self.get_kernel_model:
            resp = await self.fetch(f"api/kernels/{quote(self.kernel_id)}", headers={"Accept": "application/json"})
            self._mark("kernel_model")
            if resp.code != 200:
                raise PageError(f"GET api/kernels/<id> answered HTTP {resp.code}")
        ws_base = self.base.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        url = f"{ws_base}api/kernels/{quote(self.kernel_id)}/channels?session_id={quote(self.client_id)}"
        req = self._request(url, headers={"Origin": self.origin})
        try:
            self._ws = await websocket_connect(req, on_message_callback=self._on_frame,
                                               subprotocols=[self.subprotocol] if self.subprotocol else None,
                                               max_message_size=64 * 1024 * 1024)
        except Exception as exc:  # noqa: BLE001 (HTTP errors, refused connections: all say "no socket")
            raise PageError(f"the kernel websocket did not open: {exc!r}") from exc
        self.closed = False
        self.selected_subprotocol = self._ws.selected_subprotocol
        self._mark("websocket")
        # KernelConnection sends kernel_info_request on open and holds other messages until the
        # reply, or for at most 3 s (then it sends them anyway): so do we.
        self.kernel_info_missing = False
        info = await self.send_raw("kernel_info_request", {})
        try:
            await self.wait_reply(info, timeout=KERNEL_INFO_WAIT)
            self._mark("kernel_info")
        except PageError:
            if self.closed:
                raise
            self.kernel_info_missing = True

    async def load_widgets(self) -> None:
        """ipywidgets 8's ``_loadFromKernel``: the control comm's ``request_states``."""
        comm_id = uuid.uuid4().hex
        self._control[comm_id] = {}
        await self.send_raw("comm_open", {"comm_id": comm_id, "target_name": CONTROL_TARGET, "data": {}},
                            metadata={"version": "1.0.0"})
        await self.send_raw("comm_msg", {"comm_id": comm_id, "data": {"method": "request_states"}})
        await self.wait_for(lambda: bool(self._control.get(comm_id)), timeout=self.timeout,
                            what="the widget states (update_states)")
        await self.send_raw("comm_close", {"comm_id": comm_id, "data": {}})
        self._mark("widgets")

    async def open(self, ready: Callable[["PageClient"], bool] | None = None) -> "PageClient":
        """Page, websocket, widgets; returns when ``ready`` (default: the sign-in screen) holds."""
        await self.open_page()
        await self.connect()
        await self.load_widgets()
        await self.wait_for(ready or sign_in_ready, timeout=self.timeout, what="the sign-in screen")
        self._mark("usable")
        return self

    def _on_frame(self, frame: bytes | str | None) -> None:
        if frame is None:
            self.closed = True
            self._notify()
            return
        t = time.perf_counter()
        if self.keep_frames:
            self.frames.append(frame)
        try:
            if self.selected_subprotocol == V1 and isinstance(frame, bytes):
                msg = decode_v1(frame)
            else:
                msg = decode_legacy(frame)
        except Exception:  # noqa: BLE001 (kept in frames; a browser would log and go on)
            return
        msg["received_at"] = t
        if self.keep_frames:
            self.messages.append(msg)
        self._handle(msg, t)
        self._notify()

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def _handle(self, msg: dict[str, Any], t: float) -> None:
        mtype = msg.get("header", {}).get("msg_type")
        parent = (msg.get("parent_header") or {}).get("msg_id")
        content = msg.get("content") or {}
        if mtype == "status":
            if content.get("execution_state") == "idle" and parent:
                self.idle_at.setdefault(parent, t)
                for mid, pending in list(self._pending.items()):
                    if pending == parent:
                        del self._pending[mid]
            return
        if mtype and mtype.endswith("_reply") and parent:
            self.replies[parent] = msg
            return
        if mtype == "comm_open" and content.get("target_name") == WIDGET_TARGET:
            data = content.get("data") or {}
            state = dict(data.get("state") or {})
            _apply_buffers(state, data.get("buffer_paths"), msg.get("buffers"))
            self.models[content["comm_id"]] = Model(content["comm_id"], state, updated_at=t)
        elif mtype == "comm_msg":
            comm_id = content.get("comm_id")
            data = content.get("data") or {}
            if comm_id in self._control:
                if data.get("method") == "update_states":
                    self._load_states(data, msg.get("buffers") or [], t)
                    self._control[comm_id] = data
                return
            model = self.models.get(comm_id)
            if model is not None and data.get("method") in ("update", "echo_update"):
                state = dict(data.get("state") or {})
                _apply_buffers(state, data.get("buffer_paths"), msg.get("buffers"))
                model.state.update(state)
                model.updated_at = t
        elif mtype == "comm_close":
            model = self.models.get(content.get("comm_id"))
            if model is not None:
                model.closed = True
        elif mtype in ("display_data", "update_display_data"):
            view = (content.get("data") or {}).get(WIDGET_VIEW)
            if view and view.get("model_id") and view["model_id"] not in self.roots:
                self.roots.append(view["model_id"])

    def _load_states(self, data: dict, buffers: list[bytes], t: float) -> None:
        by_model: dict[str, list] = {}
        for path, buf in zip(data.get("buffer_paths") or [], buffers, strict=False):
            by_model.setdefault(path[0], []).append((path[1:], buf))
        for mid, entry in (data.get("states") or {}).items():
            state = dict(entry.get("state") or {})
            for path, buf in by_model.get(mid, []):
                _apply_buffers(state, [path], [buf])
            if mid in self.models:
                self.models[mid].state.update(state)
                self.models[mid].updated_at = t
            else:
                self.models[mid] = Model(mid, state, updated_at=t)

    # -- sending -------------------------------------------------------------------------------
    def message(self, msg_type: str, content: dict, channel: str = "shell", metadata: dict | None = None,
                buffers: list[bytes] | None = None, msg_id: str | None = None) -> dict[str, Any]:
        """A message as ``KernelMessage.createMessage`` builds it."""
        return {"header": {"date": _now_iso(), "msg_id": msg_id or str(uuid.uuid4()), "msg_type": msg_type,
                           "session": self.client_id, "username": "", "version": PROTOCOL_VERSION},
                "parent_header": {}, "metadata": metadata or {}, "content": content, "channel": channel,
                "buffers": buffers or []}

    async def send_raw(self, msg_type: str, content: dict, channel: str = "shell", metadata: dict | None = None,
                       buffers: list[bytes] | None = None, msg_id: str | None = None) -> str:
        """Send any message on the kernel channel; its msg id."""
        msg = self.message(msg_type, content, channel, metadata, buffers, msg_id)
        if self.selected_subprotocol == V1:
            frame: bytes | str = encode_v1(msg)
        else:
            legacy = {k: v for k, v in msg.items() if k != "buffers"}
            frame = json.dumps(legacy)
        await self.send_frame(frame)
        mid = msg["header"]["msg_id"]
        self.sent_at[mid] = time.perf_counter()
        return mid

    async def send_frame(self, frame: bytes | str) -> None:
        """Send one websocket frame as it is (malformed ones included)."""
        if self._ws is None or self.closed:
            raise PageError("the websocket is closed")
        await self._ws.write_message(frame, binary=isinstance(frame, bytes))

    async def comm_msg(self, model: Model | str, data: dict, wait: bool = True) -> str:
        """A widget message to a model; like the widget manager, one unfinished update per model."""
        mid = model.id if isinstance(model, Model) else model
        if mid in self._pending:
            await self.wait_idle(self._pending[mid])
        msg_id = await self.send_raw("comm_msg", {"comm_id": mid, "data": data})
        self._pending[mid] = msg_id
        if wait:
            await self.wait_idle(msg_id)
        return msg_id

    async def update(self, model: Model | str, state: dict, wait: bool = True) -> str:
        """Sync state from the 'frontend' (the model table follows, as the view's ``model.set``)."""
        m = self.models.get(model.id if isinstance(model, Model) else model)
        if m is not None:
            m.state.update(state)
        return await self.comm_msg(model, {"method": "update", "state": state, "buffer_paths": []}, wait=wait)

    async def set_value(self, model: Model, value: Any, wait: bool = True) -> str:
        """Type into a Text/Textarea (the whole value, as the view sends it) or set a Checkbox."""
        return await self.update(model, {"value": value}, wait=wait)

    async def type_text(self, model: Model, text: str, pieces: int = 3, pause: float = 0.0) -> str:
        """Type in ``pieces`` bursts (a continuous-update Textarea sends the text so far)."""
        step = max(1, -(-len(text) // max(pieces, 1)))
        msg_id = ""
        for end in list(range(step, len(text), step)) + [len(text)]:
            msg_id = await self.set_value(model, text[:end], wait=False)
            if pause:
                await asyncio.sleep(pause)
        await self.wait_idle(msg_id)
        return msg_id

    async def choose(self, model: Model, choice: int | str, wait: bool = True) -> str:
        """Choose an option of RadioButtons/ToggleButtons (the page syncs ``index``) or of a
        ``ChoiceGroup`` (it syncs ``value``): an index, a value, a label, or a label's prefix before
        ". " (``"B"`` chooses ``"B. False"``). In a ``multiple`` group it toggles that checkbox."""
        if model.name == "AnyModel":
            options = [tuple(o) for o in model.state.get("options") or []]
            found = [v for v, label in options if choice in (v, label) or label.split(". ", 1)[0] == choice]
            if isinstance(choice, int) and not isinstance(choice, bool) and 0 <= choice < len(options):
                found = [options[choice][0]]
            if not found:
                raise PageError(f"no option {choice!r} in {options}")
            if model.state.get("multiple"):  # checkboxes: choosing an option toggles it, as a click does
                now = set(model.state.get("value") or []) ^ {found[0]}
                return await self.update(model, {"value": [v for v, _ in options if v in now]}, wait=wait)
            return await self.update(model, {"value": found[0]}, wait=wait)
        labels = model.labels
        if isinstance(choice, int):
            index = choice
        elif choice in labels:
            index = labels.index(choice)
        else:
            found = [i for i, lab in enumerate(labels) if lab.split(". ", 1)[0] == choice]
            if not found:
                raise PageError(f"no option {choice!r} in {labels}")
            index = found[0]
        return await self.update(model, {"index": index}, wait=wait)

    async def tick(self, model: Model, value: bool = True, wait: bool = True) -> str:
        return await self.set_value(model, bool(value), wait=wait)

    async def click(self, model: Model | str, wait: bool = True) -> str:
        """Press a button: ``{"method": "custom", "content": {"event": "click"}}``."""
        if isinstance(model, str):
            found = self.button(model)
            if found is None:
                raise PageError(f"no button {model!r} on the screen")
            model = found
        return await self.comm_msg(model, {"method": "custom", "content": {"event": "click"}}, wait=wait)

    # -- waiting -------------------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[], bool] | Callable[["PageClient"], bool],
                       timeout: float = 60.0, what: str = "") -> None:
        """Wait (messages keep arriving meanwhile) until ``predicate()`` (or ``predicate(self)``) holds."""
        takes_self = bool(inspect.signature(predicate).parameters)
        deadline = time.monotonic() + timeout
        loop = asyncio.get_running_loop()
        while not (predicate(self) if takes_self else predicate()):
            if self.closed:
                raise PageError("the websocket is closed; still waiting for " + (what or "the page"))
            left = deadline - time.monotonic()
            if left <= 0:
                raise PageError(f"timed out after {timeout:g} s waiting for {what or 'the page'}")
            fut = loop.create_future()
            self._waiters.add(fut)
            try:
                await asyncio.wait_for(fut, left)
            except asyncio.TimeoutError:
                pass

    async def wait_idle(self, msg_id: str, timeout: float | None = None) -> float:
        """Wait until the kernel went idle after ``msg_id``; seconds from sending it."""
        await self.wait_for(lambda: msg_id in self.idle_at, timeout or self.timeout,
                            what=f"the kernel to handle {msg_id}")
        return self.idle_at[msg_id] - self.sent_at.get(msg_id, self.idle_at[msg_id])

    async def wait_reply(self, msg_id: str, timeout: float | None = None) -> dict[str, Any]:
        await self.wait_for(lambda: msg_id in self.replies, timeout or self.timeout, what=f"the reply to {msg_id}")
        return self.replies[msg_id]

    # -- reading the screen --------------------------------------------------------------------
    def visible(self) -> list[Model]:
        """Models reachable from the displayed widgets through ``children`` (what is on screen)."""
        seen: dict[str, Model] = {}
        stack = list(reversed(self.roots))
        while stack:
            mid = stack.pop()
            m = self.models.get(mid)
            if m is None or m.closed or mid in seen:
                continue
            seen[mid] = m
            stack.extend(reversed(m.children))
        return list(seen.values())

    def find_all(self, model_name: str | None = None, description: str | None = None,
                 contains: str | None = None, prefix: str | None = None, visible: bool = True) -> list[Model]:
        """Models by ``_model_name`` (e.g. ``"ButtonModel"``), exact description, description prefix,
        or text contained in an HTML value."""
        pool = self.visible() if visible else [m for m in self.models.values() if not m.closed]
        out = []
        for m in pool:
            if model_name and m.name != model_name:
                continue
            if description is not None and m.description != description:
                continue
            if prefix is not None and not m.description.startswith(prefix):
                continue
            if contains is not None and contains not in str(m.state.get("value") or "") and contains not in m.text:
                continue
            out.append(m)
        return out

    def find(self, **kw) -> Model | None:
        found = self.find_all(**kw)
        return found[0] if found else None

    def button(self, description: str) -> Model | None:
        return self.find(model_name="ButtonModel", description=description)

    def text(self) -> str:
        """Every visible HTML widget's text, in screen order."""
        return "\n".join(m.text for m in self.visible() if m.name in ("HTMLModel", "HTMLMathModel", "LabelModel"))

    def shows(self, needle: str) -> bool:
        return any(needle in m.text or needle in str(m.state.get("value") or "")
                   for m in self.visible() if m.name in ("HTMLModel", "HTMLMathModel", "LabelModel"))

    def alert(self) -> str:
        """The text of an error shown to the candidate (the app's ``eb-error`` box), or ""."""
        for m in self.visible():
            if m.name == "HTMLModel" and _ERROR_BOX.search(str(m.state.get("value") or "")):
                return m.text
        return ""

    def received_text(self) -> str:
        """Every frame received, as text (to search for tracebacks, paths, keys)."""
        return "\n".join(f if isinstance(f, str) else f.decode("utf-8", "replace") for f in self.frames)

    # -- leaving -------------------------------------------------------------------------------
    async def beacon(self) -> int:
        """Voila's unload beacon: POST ``voila/api/shutdown/<kernel>`` with ``_xsrf``; the status."""
        if not self.kernel_id:
            return 0
        boundary = "----exambuilder" + uuid.uuid4().hex
        xsrf = self.cookies.get("_xsrf", "")
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"_xsrf\"\r\n\r\n{xsrf}\r\n"
                f"--{boundary}--\r\n").encode("utf-8")
        resp = await self.fetch(f"voila/api/shutdown/{quote(self.kernel_id)}", method="POST", body=body,
                                headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                         "Origin": self.origin})
        return resp.code

    async def close(self) -> None:
        """Close the websocket (a network drop, or the page's dispose after its beacon)."""
        if self._ws is not None:
            self._ws.close()
            self._ws = None
        self.closed = True
        self._pending.clear()

    async def unload(self) -> int:
        """What closing or reloading the tab does: the beacon, then the socket closes; the beacon's status."""
        code = await self.beacon()
        await self.close()
        return code

    async def aclose(self) -> None:
        await self.close()
        if self._http is not None:
            self._http.close()
            self._http = None

    async def reload(self, ready: Callable[["PageClient"], bool] | None = None) -> "PageClient":
        """Reload the tab: unload, then a new page, socket and widgets (cookies are kept)."""
        await self.unload()
        self.models, self.roots, self.idle_at, self.replies = {}, [], {}, {}
        self._control = {}
        self.client_id = str(uuid.uuid4())
        return await self.open(ready)

    async def __aenter__(self) -> "PageClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()


# -- what the exam page shows ---------------------------------------------------------------------
def code_form(page: PageClient) -> Model | None:
    """The sign-in form (``exam_builder.ui.TextForm`` labelled "Access code")."""
    return page.find(model_name="AnyModel", description="Access code")


def sign_in_ready(page: PageClient) -> bool:
    """The sign-in screen is usable: the "Access code" form with its "Sign in" button, state loaded."""
    form = code_form(page)
    return form is not None and form.state.get("button") == "Sign in"


async def submit_code(page: PageClient, code: str, wait: bool = True) -> str:
    """Type the code and press Sign in: the form sends ``{"submit": code}``."""
    form = code_form(page)
    if form is None:
        raise PageError("no sign-in form on the screen")
    await page.set_value(form, code, wait=False)
    return await page.comm_msg(form, {"method": "custom", "content": {"submit": code}}, wait=wait)


async def sign_in(page: PageClient, code: str) -> None:
    """Type the code, press Sign in, and confirm the identity shown (a candidate's first steps)."""
    await submit_code(page, code)
    await page.wait_for(lambda: page.button("Yes, this is me") is not None, 30, "the identity screen")
    await page.click("Yes, this is me")


def current_question(page: PageClient) -> Model | None:
    """The answer control on screen (a choice group or Textarea named "Answer to question N")."""
    for m in page.visible():
        if (m.is_choice or m.name == "TextareaModel") and m.description.startswith("Answer to question "):
            return m
    return None


def question_list(page: PageClient) -> list[dict]:
    """The question list's entries as the page has them: ``{"n", "answered", "flagged"}``."""
    nav = next((m for m in page.visible() if m.name == "AnyModel" and "entries" in m.state), None)
    return list(nav.state["entries"]) if nav is not None else []


async def go_to(page: PageClient, number: int, wait: bool = True) -> str:
    """Press question ``number`` in the question list (the navigator sends ``{"go": N}``)."""
    nav = next((m for m in page.visible() if m.name == "AnyModel" and "entries" in m.state), None)
    if nav is None:
        raise PageError("no question list on the screen")
    return await page.comm_msg(nav, {"method": "custom", "content": {"go": number}}, wait=wait)


def question_number(control: Model) -> int:
    return int(control.description.rsplit(" ", 1)[-1])


def flag_box(page: PageClient) -> Model | None:
    return page.find(model_name="CheckboxModel", prefix="Flag this question")


def current_number(page: PageClient) -> int | None:
    """The number of the question on screen, or None."""
    q = current_question(page)
    return question_number(q) if q is not None else None
