"""Demo stage 'rehearsal': a small room against the real exam server, as staff rehearse exam day.

Runs ``exam-builder rehearse`` in-process, exactly as staff would type it: a scratch copy of the
demo course (its authored files only, a made-up roster of 6), the real ``exam-builder serve``
with its warm pool, and 6 candidates speaking the real page protocol (page, kernel websocket,
widget messages) who sign in, answer every question, reload once and submit. It prints the
sign-in time beside one candidate alone, how long an answer takes to be durable, the memory per
seat, the kernels left and the answers lost. The demo course's own records are not touched.

Reads nothing from ``ctx.state``; leaves ``ctx.state["rehearsal"]``: the figures.
"""
from __future__ import annotations

from ...loadtest.rehearse import RehearsalOptions, rehearse


def run(ctx) -> None:
    options = RehearsalOptions(exam=ctx.exam, candidates=6, window=6.0, first_wave=(0.5, 2.0), pace=200.0, alone=1)
    ctx.console.print("A room of 6 made-up candidates at the real exam server on 127.0.0.1 "
                      f"(`exam-builder rehearse {ctx.exam} --candidates 6 --window 6 --first-wave 0.5:2 "
                      "--pace 200 --alone 1`; a real exam day: `--candidates 60 --window 60`).")
    figures = rehearse(ctx.course, options, ctx.console)
    if figures.lost or figures.failed:
        raise RuntimeError("the rehearsal lost answers or a candidate could not finish: "
                           + "; ".join((figures.lost + figures.failed)[:5]))
    ctx.state["rehearsal"] = figures
