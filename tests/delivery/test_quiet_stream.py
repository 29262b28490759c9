"""An app kernel's stdout/stderr (``quiet_stream.QuietOutStream``): ipykernel flushes both after every
message, before ``idle``; a flush with nothing written must not cost a round trip to the IOPub thread,
and what is written must still go out at the flush."""
from __future__ import annotations

import zmq
from ipykernel.iostream import IOPubThread
from jupyter_client.session import Session

from exam_builder.delivery.quiet_stream import QuietOutStream


class Counted(QuietOutStream):
    flushed: list[str]

    def _flush(self):
        self.flushed.append("".join(data for _parent, data in self._flush_buffers()))


def test_a_flush_with_nothing_written_costs_nothing():
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    pub.bind_to_random_port("tcp://127.0.0.1")
    thread = IOPubThread(pub)
    thread.start()
    try:
        stream = Counted(Session(key=b""), thread, "stdout", watchfd=False)
        stream.flushed = []
        stream.flush_interval = 600  # ipykernel's own timed flush of a write stays out of the count
        stream.flush()  # the first goes through (anything written before it was made)
        assert stream.flushed == [""]
        for _ in range(3):
            stream.flush()  # ipykernel's flush before each idle: nothing written, no hand-over
        assert stream.flushed == [""]
        stream.write("a line\n")
        stream.flush()  # what was written goes out at the flush, as ipykernel's own stream does
        assert stream.flushed[-1] == "a line\n" and len(stream.flushed) == 2
        stream.flush()
        assert len(stream.flushed) == 2
        stream.close()
    finally:
        thread.stop()
        thread.close()
        ctx.term()
