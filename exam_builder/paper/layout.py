"""Where everything sits on an answer sheet, in millimetres: the one geometry printing and scanning share.

An answer sheet is US Letter (215.9 x 279.4 mm), printed at 100 % with no margins of the printer's
own. Every page carries four solid square corner marks (``MARK_MM`` wide, centred ``MARK_INSET_MM``
from each edge), which the scanner finds to undo skew and scale, and a QR code at the top left
holding ``SheetCode`` (exam, form, candidate, sitting, page, pages): the scanner reads who and what
from it, never from the printed name. Pages: first the bubble pages (a row of one bubble per offered
option for each question whose kind answers in bubbles, ``ROWS_PER_COLUMN`` rows in each of two
columns), then one written page per question answered in writing (``paper_area`` line or page), in
question order. Pure: no drawing, no database.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ExamBuilderError
from ..kinds import kind_for

PAGE_W_MM = 215.9
PAGE_H_MM = 279.4
MARK_MM = 7.0
MARK_INSET_MM = 12.0
QR_X_MM, QR_Y_MM, QR_MM = 22.0, 7.0, 27.0
FIRST_ROW_MM = 52.0
ROW_PITCH_MM = 8.5
ROWS_PER_COLUMN = 24
COLUMN_X_MM = (18.0, 114.0)
BUBBLE_OFFSET_MM = 15.0  # from a column's left edge to its first bubble's centre
BUBBLE_PITCH_MM = 9.0
BUBBLE_R_MM = 3.0
WRITE_TOP_MM = 50.0
WRITE_LEFT_MM, WRITE_RIGHT_MM = 16.0, PAGE_W_MM - 16.0
WRITE_LINE_MM = 9.0
CODE_PREFIX = "EB1"


def mark_centres() -> list[tuple[float, float]]:
    """Centres of the corner marks: top left, top right, bottom left, bottom right."""
    x0, y0 = MARK_INSET_MM, MARK_INSET_MM
    x1, y1 = PAGE_W_MM - MARK_INSET_MM, PAGE_H_MM - MARK_INSET_MM
    return [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]


@dataclass(frozen=True)
class SheetCode:
    """What a page's QR code says: which sheet of whose sitting this is."""

    exam: str
    assignment: str
    candidate: str
    sitting: int
    page: int
    pages: int

    def text(self) -> str:
        return "|".join((CODE_PREFIX, self.exam, self.assignment, self.candidate, str(self.sitting), str(self.page),
                         str(self.pages)))

    @classmethod
    def parse(cls, text: str) -> "SheetCode":
        parts = (text or "").split("|")
        if len(parts) != 7 or parts[0] != CODE_PREFIX:
            raise ExamBuilderError(f"the code {text[:60]!r} is not an exam-builder answer sheet's")
        try:
            sitting, page, pages = int(parts[4]), int(parts[5]), int(parts[6])
        except ValueError:
            raise ExamBuilderError(f"the code {text[:60]!r} is damaged (its numbers do not read)") from None
        if not 1 <= page <= pages:
            raise ExamBuilderError(f"the code {text[:60]!r} names page {page} of {pages}")
        return cls(parts[1], parts[2], parts[3], sitting, page, pages)


@dataclass(frozen=True)
class Bubble:
    label: str
    x: float  # centre, mm
    y: float


@dataclass(frozen=True)
class Row:
    """One objective question's row: its number, item and bubbles."""

    number: int
    item_id: str
    kind: str
    x: float  # the row's left edge (the number), mm
    y: float  # the row's centre line, mm
    bubbles: tuple[Bubble, ...]

    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of the row, mm: what a person is shown when a mark is unclear."""
        right = (self.bubbles[-1].x if self.bubbles else self.x + 20) + BUBBLE_R_MM + 3
        return self.x, self.y - ROW_PITCH_MM / 2, right, self.y + ROW_PITCH_MM / 2


@dataclass(frozen=True)
class Written:
    """A question answered in writing, on a page of its own: the area (mm) that is cropped."""

    number: int
    item_id: str
    kind: str
    lines: int

    def box(self) -> tuple[float, float, float, float]:
        return (WRITE_LEFT_MM, WRITE_TOP_MM, WRITE_RIGHT_MM,
                WRITE_TOP_MM + self.lines * WRITE_LINE_MM + 2)


@dataclass(frozen=True)
class Page:
    number: int
    rows: tuple[Row, ...] = ()
    written: Written | None = None


@dataclass
class Sheet:
    """Every page of one form's answer sheet (the same for every candidate of the form)."""

    pages: list[Page] = field(default_factory=list)

    def page(self, number: int) -> Page:
        return self.pages[number - 1]


def sheet_for(view) -> Sheet:
    """The answer sheet of a form, from its candidate view (``delivery.form_view.FormView``): each kind
    says how it is answered on paper (``paper_area``) and with which bubbles (``paper_bubbles``)."""
    rows: list[tuple[int, str, str, tuple[str, ...]]] = []
    written: list[Written] = []
    for it in view.items:
        kind = kind_for(it.kind)
        if kind.paper_area == "bubbles":
            rows.append((it.number, it.item_id, it.kind, kind.paper_bubbles(it.labels)))
        else:
            written.append(Written(it.number, it.item_id, it.kind, kind.paper_lines or 2))
    per_page = ROWS_PER_COLUMN * len(COLUMN_X_MM)
    pages: list[Page] = []
    for start in range(0, len(rows), per_page):
        placed = []
        for i, (number, item_id, kind_name, labels) in enumerate(rows[start:start + per_page]):
            col, r = divmod(i, ROWS_PER_COLUMN)
            x, y = COLUMN_X_MM[col], FIRST_ROW_MM + r * ROW_PITCH_MM
            bubbles = tuple(Bubble(lab, x + BUBBLE_OFFSET_MM + j * BUBBLE_PITCH_MM, y) for j, lab in enumerate(labels))
            placed.append(Row(number, item_id, kind_name, x, y, bubbles))
        pages.append(Page(len(pages) + 1, rows=tuple(placed)))
    for w in written:
        pages.append(Page(len(pages) + 1, written=w))
    return Sheet(pages)
