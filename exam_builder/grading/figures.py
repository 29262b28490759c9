"""Figures for reports: matplotlib without a screen, saved as a base64 PNG for an ``<img>``.

Reports are self-contained HTML files written on servers (no display, no network), so every
figure is drawn with the Agg backend and embedded in the page rather than linked.
"""
from __future__ import annotations

import base64
import io


def pyplot():
    """matplotlib's pyplot on the Agg backend (the report is written on servers, with no screen)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png(fig, dpi: int = 110) -> str:
    """The figure as a base64 PNG (for ``<img src="data:image/png;base64,...">``); closes it so
    that a long run of reports does not keep every figure in memory."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        pyplot().close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")
