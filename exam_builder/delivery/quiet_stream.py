"""An app kernel's ``stdout`` and ``stderr`` (``app_ipykernel``): ipykernel's ``OutStream``, whose
``flush`` costs nothing when nothing was written since the last one.

ipykernel flushes both streams after every message it handles, before it says ``idle``; each flush
schedules work on its IOPub thread and waits for it (two thread hand-overs a message, each a wait
for the CPU on a loaded server), even when nothing was written. What is written still goes out
before ``idle``, in order, as before.
"""
from __future__ import annotations

from ipykernel.iostream import OutStream


class QuietOutStream(OutStream):
    """``OutStream`` that flushes only what was written since its last flush."""

    _written = True  # the first flush goes through (whatever came before this stream counted)

    def write(self, string: str) -> int | None:  # type: ignore[override]
        self._written = True
        return super().write(string)

    def flush(self) -> None:
        if not self._written:
            return
        self._written = False  # cleared first: a write during this flush is flushed the next time
        super().flush()
