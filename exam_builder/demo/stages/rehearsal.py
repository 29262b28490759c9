"""Demo stage 'rehearsal': a small room against the real exam server, as staff rehearse exam day.

Runs ``exam-builder rehearse`` in-process, as staff would type it: a scratch copy of the
demo course (its authored files only, a made-up roster of 6), the real ``exam-builder serve``
with its warm pool, and 6 candidates speaking the real page protocol (page, kernel websocket,
widget messages) who sign in, answer every question, reload once and submit. It prints the
sign-in time beside one candidate alone, how long an answer takes to be durable, the memory per
seat, the kernels left and the answers lost. The demo course's own records are not touched.

The room runs 500 times faster than people (``--pace 500``), so the scratch copy takes the settings a fast
room needs (``FAST_ROOM``, printed with the command): the course's cap on saves per minute, made for people,
raised for candidates who answer 500 times as fast, and the server's waits made short, as the benchmark's
smoke run does. A demo room shows the rehearsal works, not how fast a real room is.

Reads nothing from ``ctx.state``; leaves ``ctx.state["rehearsal"]``: the figures.
"""
from __future__ import annotations

from ...loadtest.rehearse import RehearsalOptions, rehearse

#: What the scratch copy of a room at x500 takes (lines of nbgrader_config.py): saves not held to a person's cap
#: (120 a minute would hold each candidate 0.6 s between answers they give every 0.15 s), the pool refilled
#: 0.2 s after a page is taken, closed pages looked for twice a second, one spare kernel.
FAST_ROOM = ("c.DeliverySettings.max_saves_per_minute = 1200\n"
             "c.ServerSettings.refill_quiet_seconds = 0.2\n"
             "c.ServerSettings.cull_interval_seconds = 0.5\n"
             "c.ServerSettings.reattach_seconds = 2\n"
             "c.ServerSettings.spare_kernels = 1\n")


def run(ctx) -> None:
    options = RehearsalOptions(exam=ctx.exam, candidates=6, window=6.0, first_wave=(0.5, 2.0), pace=500.0, alone=1,
                               settings=FAST_ROOM)
    ctx.console.print("A room of 6 made-up candidates at the real exam server on 127.0.0.1 "
                      f"(`exam-builder rehearse {ctx.exam} --candidates 6 --window 6 --first-wave 0.5:2 "
                      "--pace 500 --alone 1` on a scratch copy whose nbgrader_config.py also says: "
                      + "; ".join(FAST_ROOM.splitlines())
                      + "; a real exam day: `--candidates 60 --window 60` with the course's own settings).",
                      highlight=False)
    figures = rehearse(ctx.course, options, ctx.console)
    if figures.lost or figures.failed:
        raise RuntimeError("the rehearsal lost answers or a candidate could not finish: "
                           + "; ".join((figures.lost + figures.failed)[:5]))
    ctx.state["rehearsal"] = figures
