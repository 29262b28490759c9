"""The apps' kernel launcher: ``python -m ipykernel_launcher`` without ipykernel's debugger.

``python -m exam_builder.delivery.app_ipykernel -f CONNECTION_FILE`` starts the same
ipykernel, with ``debugpy`` blocked: ipykernel imports its debugger (debugpy and pydevd, about 8 MB
a kernel, a tenth of a seat) whenever debugpy is installed, and an app's kernel is never debugged.
Its server forwards widget messages only (``server.ALLOWED_FROM_BROWSER``), so no page could send
a debug request; the kernel's ``kernel_info_reply`` lists no ``debugger`` among its
``supported_features``. ``server.AppKernelSpecs`` gives Voila this command for the ``python3``
kernel of every app it serves (candidates' and staff's).

Imports nothing of exam-builder: the app's notebook does that, in the kernel, as before. Its name
says "ipykernel", so whatever finds kernels by that word in their command line (a proctor's
``pgrep -f ipykernel``, the rehearsal's process count) still finds these; it is not named
``ipykernel_launcher``, as a kernel's working folder (the app notebook's, this one) comes first on
``python -m``'s path and such a file would stand in for ipykernel's own in every kernel started there.

Its ``stdout`` and ``stderr`` are ``quiet_stream.QuietOutStream``: ipykernel flushes both after every message it
handles, before it says ``idle``, and each flush is a round trip to its IOPub thread (schedule, wake,
wait on an event) even when nothing was written. An app writes nothing there, so a widget message
(a saved answer) paid two thread hand-overs for nothing, each a wait for the CPU on a loaded server.
A quiet stream flushes only when something was written since its last flush: what is written still
goes out before ``idle``, in order, as before.
"""
from __future__ import annotations

import sys
from pathlib import Path

#: imported by ipykernel (``IPKernelApp.outstream_class``) once it has loaded, never before main's path rule
QUIET_STREAM = "exam_builder.delivery.quiet_stream.QuietOutStream"


def main() -> None:
    """Start the kernel as ``ipykernel_launcher`` does, without its debugger."""
    # ipykernel_launcher's own rule: the working folder leaves sys.path while ipykernel loads (its
    # shell puts it back), so a file there never shadows a module
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    sys.modules["debugpy"] = None  # type: ignore[assignment]  # "import debugpy" fails: no debugger
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance(argv=[*sys.argv[1:], f"--IPKernelApp.outstream_class={QUIET_STREAM}"])


if __name__ == "__main__":
    main()
