"""Where a candidate's page comes from, as seen by the kernel that serves it.

A kernel never sees its browser: the Voila server does. When a page's websocket opens, the
server (``server.TrackedConnection``) writes the page's address (``clientaddr.client_address``: the
connection's, or the hop trusted proxies appended to ``X-Forwarded-For``) to
``$EXAM_BUILDER_PAGE_DIR/<kernel id>.json`` (a private folder of that server process); the
kernel finds its own id in its connection file name (``kernel-<id>.json``, Jupyter's naming)
and reads it here. Sign-in uses it to limit wrong codes per source. Anything missing reads
``"unknown"``: a scripted candidate, or a kernel outside ``exam-builder serve``.

The other way: a kernel whose sitting was taken over by another page (a reload whose unload
beacon never arrived, a second screen) can never act again, so ``release_page`` leaves
``<kernel id>.released`` in the same folder; the server shuts such a kernel down at its culler's
next round once no websocket is open to it, instead of keeping it for the reconnect grace.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import ExamBuilderError
from ..safeload import LoadError, read_json

ENV_DIR = "EXAM_BUILDER_PAGE_DIR"
_KERNEL_FILE = re.compile(r"kernel-([0-9a-fA-F-]{36})\.json$")


def own_kernel_id() -> str | None:
    """This kernel's id, from the connection file Jupyter started it with (None outside a kernel)."""
    try:
        from ipykernel.connect import get_connection_file

        m = _KERNEL_FILE.search(get_connection_file())
    except Exception:  # noqa: BLE001 (not in a kernel)
        return None
    return m.group(1) if m else None


def source_file(page_dir: Path | str, kernel_id: str) -> Path:
    return Path(page_dir) / f"{kernel_id}.json"


def released_file(page_dir: Path | str, kernel_id: str) -> Path:
    return Path(page_dir) / f"{kernel_id}.released"


def release_page() -> bool:
    """Tell the server this kernel's page is done for (its sitting was taken over); whether it could."""
    from ..files import create_private_file

    page_dir, kid = os.environ.get(ENV_DIR), own_kernel_id()
    if not page_dir or not kid:
        return False
    try:
        create_private_file(released_file(page_dir, kid), b"", None)
    except (OSError, ExamBuilderError):
        return False
    return True


def page_source() -> str:
    """The remote address of this kernel's page (``"unknown"`` when it cannot be told)."""
    page_dir, kid = os.environ.get(ENV_DIR), own_kernel_id()
    if not page_dir or not kid:
        return "unknown"
    try:  # the server wrote it; read like any other file (bounded, a regular file only)
        data = read_json(source_file(page_dir, kid), "page source", max_bytes=4096)
    except LoadError:
        return "unknown"
    src = str(data.get("source") or "unknown") if isinstance(data, dict) else "unknown"
    return src[:64]
