"""Reading one scanned answer-sheet page (pure: an image in, what it says out; no database).

The contract: ``read_page(gray)`` finds the page's QR code (``layout.SheetCode``), predicts
from the code's four corners (rotation, scale and shift) where the corner marks are, finds each
mark, and undoes skew, scale and a page turned upside down (the code's corners say which way is
up) with one perspective transform onto the sheet's own millimetres (``SCALE`` pixels each).
Then it measures each bubble: how dark the inside of its ring is, between the paper's white and
the corner marks' black. A bubble at or above ``FILLED`` is marked, at or below ``EMPTY`` is
not, and anything between (a faint or erased mark) is *unclear*: the page never guesses, it
reports. A page without a code is blank (almost no ink) or not an answer sheet; a page whose
corner marks cannot be found is refused: each raises ``Unreadable`` with a plain message.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..errors import ExamBuilderError
from ..kinds import kind_for
from . import layout

SCALE = 8  # pixels per millimetre of the straightened page (about 200 dpi)
FILLED = 0.5  # a bubble this dark (0 white paper .. 1 the corner marks' black) is marked
EMPTY = 0.2  # this light or lighter: not marked; between the two: unclear, a person decides
INNER = 0.68  # the part of a bubble's radius measured (its printed ring stays outside)
BLANK_INK = 0.002  # a page with less dark ink than this share has nothing on it


class Unreadable(ExamBuilderError):
    """A page that cannot be read as an answer sheet (blank, no code, no corner marks)."""


@dataclass(frozen=True)
class RowRead:
    number: int
    item_id: str
    kind: str
    fills: dict[str, float]  # label -> darkness 0..1

    @property
    def marked(self) -> tuple[str, ...]:
        return tuple(lab for lab, f in self.fills.items() if f >= FILLED)

    @property
    def unclear(self) -> tuple[str, ...]:
        return tuple(lab for lab, f in self.fills.items() if EMPTY < f < FILLED)

    def answer(self) -> tuple[str | None, str | None]:
        """The answer this row gives and why a person must decide instead (None: it is clear).

        Any unclear bubble sends the row to a person (``faint``, or ``erased`` beside a clear mark);
        otherwise the question's kind reads the clear marks (``paper_answer``: ``double`` on a one-key
        question)."""
        if self.unclear:
            return None, ("erased" if self.marked else "faint")
        return kind_for(self.kind).paper_answer(self.marked)


@dataclass
class PageRead:
    code: layout.SheetCode
    upside_down: bool
    straight: np.ndarray  # the page on the sheet's millimetres (SCALE px/mm), grey
    white: float
    black: float
    rows: list[RowRead] = field(default_factory=list)

    def crop_png(self, box: tuple[float, float, float, float]) -> bytes:
        """The part of the straightened page in ``box`` (mm) as a PNG (what a person is shown)."""
        x0, y0, x1, y1 = (int(round(v * SCALE)) for v in box)
        h, w = self.straight.shape
        part = self.straight[max(0, y0):min(h, y1), max(0, x0):min(w, x1)]
        ok, buf = cv2.imencode(".png", part)
        if not ok:
            raise ExamBuilderError("could not encode a cropped image")
        return buf.tobytes()

    def ink(self, box: tuple[float, float, float, float], inset_mm: float = 1.5) -> float:
        """The share of ``box`` (mm, less ``inset_mm`` each side) covered by dark ink (printed grey lines are not)."""
        x0, y0, x1, y1 = box
        part = self.straight[int((y0 + inset_mm) * SCALE):int((y1 - inset_mm) * SCALE),
                             int((x0 + inset_mm) * SCALE):int((x1 - inset_mm) * SCALE)]
        if part.size == 0:
            return 0.0
        level = self.black + 0.35 * (self.white - self.black)
        return float((part < level).mean())


def decode_code(gray: np.ndarray) -> tuple[str, np.ndarray] | None:
    """The text of the page's QR code and its four corners (in the code's own order), or None."""
    detector = cv2.QRCodeDetector()
    h, w = gray.shape
    half = cv2.resize(gray, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    hh, hw = half.shape
    # where the code is printed (top left), where it is on a page fed upside down (bottom right), at half size
    # (about 100 dpi: the code's modules are still 4 pixels wide, and it is many times faster); then the whole
    # page at half size, as scanned, and smoothed (grain)
    corner = (hw - hw // 2, hh - hh // 3)
    tries = [(half[:hh // 3, :hw // 2], 2.0, (0, 0)), (half[corner[1]:, corner[0]:], 2.0, corner),
             (half, 2.0, (0, 0)), (gray, 1.0, (0, 0)), (cv2.GaussianBlur(gray, (3, 3), 0), 1.0, (0, 0))]
    for img, factor, (dx, dy) in tries:
        try:
            text, points, _ = detector.detectAndDecode(img)
        except cv2.error:
            continue
        if text and points is not None:
            return text, (points.reshape(-1, 2).astype(np.float64) + (dx, dy)) * factor
    return None


def _mark_candidates(gray: np.ndarray, side_px: float) -> list[tuple[float, float]]:
    blur = cv2.GaussianBlur(gray, (5, 5), 0)
    _, binary = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if not (0.6 * side_px < w < 1.5 * side_px and 0.6 * side_px < h < 1.5 * side_px):
            continue
        area = cv2.contourArea(c)
        if area < 0.78 * w * h:
            continue
        m = cv2.moments(c)
        if m["m00"]:
            found.append((m["m10"] / m["m00"], m["m01"] / m["m00"]))
    return found


def read_page(gray: np.ndarray, sheet_of) -> PageRead:
    """Read one page; ``sheet_of(code)`` gives the ``layout.Sheet`` its code names (or raises)."""
    if gray.ndim != 2:
        raise Unreadable("the page is not a grey image")
    found = decode_code(gray)
    if found is None:
        share = float((gray < 128).mean())
        if share < BLANK_INK:
            raise Unreadable("a blank page (no ink on it)")
        raise Unreadable("no answer-sheet code found: not an exam-builder answer sheet, or its QR code is damaged "
                         "or covered; type its answers in by hand (scan verify) or print the sheet again")
    text, corners = found
    code = layout.SheetCode.parse(text)
    sheet = sheet_of(code)
    # the code's corners (its own top left, top right, bottom right, bottom left) -> the page's millimetres
    q0, q1 = layout.QR_X_MM, layout.QR_X_MM + layout.QR_MM
    r0, r1 = layout.QR_Y_MM, layout.QR_Y_MM + layout.QR_MM
    mm = np.array([[q0, r0], [q1, r0], [q1, r1], [q0, r1]], dtype=np.float64)
    # rotation, scale and shift only: four points close together would make a full perspective swing far away
    guess, _ = cv2.estimateAffinePartial2D(mm.astype(np.float32), corners.astype(np.float32))
    if guess is None:
        raise Unreadable("the QR code's corners do not read; scan the page again, flat")
    px_per_mm = float(np.hypot(guess[0, 0], guess[1, 0]))
    centres_mm = np.array(layout.mark_centres(), dtype=np.float32).reshape(-1, 1, 2)
    predicted = cv2.transform(centres_mm, guess).reshape(-1, 2)
    candidates = _mark_candidates(gray, layout.MARK_MM * px_per_mm)
    marks = []
    for n, p in enumerate(predicted):
        near = [c for c in candidates if np.hypot(c[0] - p[0], c[1] - p[1]) < 12 * px_per_mm]
        if not near:
            raise Unreadable(f"the {('top left', 'top right', 'bottom left', 'bottom right')[n]} corner square "
                             "is missing (cut off, folded or covered); scan the page again, whole and flat")
        marks.append(min(near, key=lambda c: np.hypot(c[0] - p[0], c[1] - p[1])))
    src = np.array(marks, dtype=np.float32)
    dst = (np.array(layout.mark_centres(), dtype=np.float32) * SCALE)
    m = cv2.getPerspectiveTransform(src, dst)
    size = (int(layout.PAGE_W_MM * SCALE), int(layout.PAGE_H_MM * SCALE))
    straight = cv2.warpPerspective(gray, m, size, flags=cv2.INTER_LINEAR, borderValue=255)
    upside_down = bool(corners[:, 1].mean() > gray.shape[0] / 2)
    cx, cy = (int(v * SCALE) for v in layout.mark_centres()[0])
    half = int(layout.MARK_MM * SCALE * 0.3)
    black = float(np.median(straight[cy - half:cy + half, cx - half:cx + half]))
    white = float(np.percentile(straight[int(40 * SCALE):int((layout.PAGE_H_MM - 20) * SCALE):4, ::4], 90))
    if white - black < 40:
        raise Unreadable("too little contrast between the paper and the corner squares; scan it darker or in grey")
    page = PageRead(code, upside_down, straight, white, black)
    radius = layout.BUBBLE_R_MM * SCALE * INNER
    yy, xx = np.mgrid[-int(radius) - 1:int(radius) + 2, -int(radius) - 1:int(radius) + 2]
    disk = (xx ** 2 + yy ** 2) <= radius ** 2
    for row in sheet.page(code.page).rows:
        fills = {}
        for b in row.bubbles:
            cx, cy = int(round(b.x * SCALE)), int(round(b.y * SCALE))
            patch = straight[cy - disk.shape[0] // 2:cy + disk.shape[0] // 2 + 1,
                             cx - disk.shape[1] // 2:cx + disk.shape[1] // 2 + 1].astype(np.float64)
            mean = float(patch[disk].mean())
            fills[b.label] = float(np.clip((white - mean) / (white - black), 0.0, 1.0))
        page.rows.append(RowRead(row.number, row.item_id, row.kind, fills))
    return page
