"""The server's own watch of kernel activity reads the kernels' ``status`` messages only
(``server.KernelLifecycle.start_watching_activity``): jupyter_server verified and parsed every IOPub
message a second time in the one process that relays the room. A real kernel under jupyter_server's
kernel manager with the exam server's lifecycle: its state is still followed (busy, then idle, as
the websocket's nudge needs), and what it prints never reaches the watch."""
from __future__ import annotations

import asyncio

from jupyter_client.session import Session
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

from exam_builder.delivery.server import KernelLifecycle
from exam_builder.settings.server import ServerSettings


class Manager(KernelLifecycle, AsyncMappingKernelManager):
    pass


async def _watch() -> tuple[list[str], str]:
    km = Manager()
    km._lifecycle_init(ServerSettings(cull_interval_seconds=3600), 0, 0)
    kid = await km.start_kernel(kernel_name="python3")
    kernel = km.get_kernel(kid)
    stream = kernel._activity_stream
    seen: list[str] = []
    record = stream._recv_callback  # jupyter_server's own record_activity, kept
    session = Session(key=kernel.session.key)

    def both(msg_list):
        _idents, parts = session.feed_identities(msg_list)
        seen.append(session.deserialize(parts, content=False)["header"]["msg_type"])
        record(msg_list)

    stream.on_recv(both)
    client = kernel.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=120)
        reply = await client.execute_interactive("print('a line on stdout')", timeout=120,
                                                 output_hook=lambda _m: None)
        assert reply["content"]["status"] == "ok"
        for _ in range(200):  # the idle after the request reaches the watch (a state, not a time)
            if seen.count("status") >= 2 and kernel.execution_state == "idle":
                break
            await asyncio.sleep(0.05)
        return seen, kernel.execution_state
    finally:
        client.stop_channels()
        await km.shutdown_kernel(kid, now=True)
        if km._culler is not None:
            km._culler.cancel()


def test_the_servers_activity_watch_reads_status_only():
    seen, state = asyncio.run(_watch())
    assert "status" in seen and state == "idle", (seen, state)
    assert "stream" not in seen, seen  # the printed line went to the page's socket only
    assert set(seen) <= {"status", "execute_input", "iopub_welcome"}, seen  # ipykernel's kernel.<id>.* topics
