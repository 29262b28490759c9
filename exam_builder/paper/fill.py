"""Made-up filled answer sheets, as a scanner would return them (tests, the benchmark and the demo).

The contract: ``render(pdf, dpi)`` gives an answer-sheet PDF's pages as grey images (pypdfium2);
``fill(page, marks, dpi, rng)`` draws marks into a page's bubbles (``Mark``: a pen's dark fill,
a light pencil, a faint touch, an erasure's residue) and handwriting into its writing area; and
``scanned(page, rng, skew, noise, jpeg, upside_down)`` makes what a scanner returns: a few degrees
of skew, grain, JPEG's blocks, a page fed the wrong way round. Nothing here is used to read a scan.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import cv2
import numpy as np

from . import layout

#: Grey levels (0 black .. 255 white) of the ways a bubble is marked.
LEVELS = {"pen": (20, 60), "pencil": (90, 125), "faint": (175, 195), "erased": (190, 210)}


@dataclass(frozen=True)
class Mark:
    """A mark in one bubble: ``how`` a key of ``LEVELS``."""

    number: int
    label: str
    how: str = "pen"


def render(pdf: bytes, dpi: int = 200) -> list[np.ndarray]:
    """Every page of a PDF as a grey image at ``dpi``."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return [np.asarray(doc[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")).copy()
                for i in range(len(doc))]
    finally:
        doc.close()


def fill(page: np.ndarray, sheet_page: layout.Page, marks: list[Mark], dpi: int, rng: random.Random,
         write: bool = False) -> np.ndarray:
    """A copy of ``page`` with ``marks`` drawn into their bubbles (and handwriting when ``write``)."""
    out = page.copy()
    ppm = dpi / 25.4
    where = {(r.number, b.label): b for r in sheet_page.rows for b in r.bubbles}
    for m in marks:
        b = where[(m.number, m.label)]
        lo, hi = LEVELS[m.how]
        level = rng.randint(lo, hi)
        cx, cy = b.x * ppm + rng.uniform(-0.4, 0.4) * ppm, b.y * ppm + rng.uniform(-0.4, 0.4) * ppm
        r = layout.BUBBLE_R_MM * ppm * rng.uniform(0.8, 0.95)
        overlay = out.copy()
        cv2.ellipse(overlay, (int(cx), int(cy)), (int(r), int(r * rng.uniform(0.85, 1.0))), rng.uniform(0, 180), 0,
                    360, level, -1, cv2.LINE_AA)
        out = np.minimum(out, overlay)
    if write and sheet_page.written is not None:
        x0, y0, x1, y1 = sheet_page.written.box()
        lines = min(sheet_page.written.lines, 6)
        for i in range(lines):
            y = (y0 + (i + 0.7) * layout.WRITE_LINE_MM) * ppm
            x = (x0 + 5) * ppm
            while x < (x1 - 20) * ppm:
                w = rng.uniform(4, 12) * ppm
                pts = np.array([[x + t * w, y - rng.uniform(0, 3) * ppm] for t in np.linspace(0, 1, 6)], np.int32)
                cv2.polylines(out, [pts], False, rng.randint(20, 60), max(1, int(0.4 * ppm)), cv2.LINE_AA)
                x += w + rng.uniform(2, 4) * ppm
    return out


def scanned(page: np.ndarray, rng: random.Random, skew: float = 0.0, noise: float = 0.0, jpeg: int | None = None,
            upside_down: bool = False, colour: bool = False) -> np.ndarray:
    """What a scanner returns of a printed page: skewed ``skew`` degrees, grain of ``noise`` grey levels,
    JPEG at quality ``jpeg``, turned upside down; grey (or 3 channels when ``colour``)."""
    img = page
    h, w = img.shape
    if skew:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)
        img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    if noise:
        grain = np.random.default_rng(rng.randrange(2**32)).normal(0, noise, img.shape)
        img = np.clip(img.astype(np.float64) + grain, 0, 255).astype(np.uint8)
    if upside_down:
        img = cv2.rotate(img, cv2.ROTATE_180)
    if colour:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if jpeg:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg)])
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return img
