"""Paper sittings' scanned pages (``eb_paper_page``) and unclear marks to check (``eb_paper_check``)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import PaperCheck, PaperPage, Response, Sitting


def select_page(s: Session, sitting_id: int, page: int) -> PaperPage | None:
    """A sitting's scanned page by its number (each page is read once)."""
    return s.execute(select(PaperPage).where(PaperPage.sitting_id == sitting_id, PaperPage.page == page)
                     ).scalar_one_or_none()


def select_page_numbers(s: Session, sitting_id: int) -> set[int]:
    """The pages of a sitting's answer sheet scanned so far."""
    return set(s.execute(select(PaperPage.page).where(PaperPage.sitting_id == sitting_id)).scalars())


def select_written_pages(s: Session, sitting_ids: list[int]) -> dict[tuple[int, str], PaperPage]:
    """The written pages of sittings, by (sitting, item): the images graders rate."""
    if not sitting_ids:
        return {}
    rows = s.execute(select(PaperPage).where(PaperPage.sitting_id.in_(sitting_ids), PaperPage.item_id.is_not(None)))
    return {(p.sitting_id, p.item_id or ""): p for p in rows.scalars()}


def select_written_mark(s: Session, sitting_ids: list[int], item_id: str) -> tuple[int, int | None]:
    """(pages, newest page id) of the written pages of ``item_id`` in these sittings (a page is never
    scanned over, so any page stored since changes it)."""
    if not sitting_ids:
        return 0, None
    pages, newest = s.execute(select(func.count(), func.max(PaperPage.id)).where(
        PaperPage.sitting_id.in_(sitting_ids), PaperPage.item_id == item_id)).one()
    return int(pages), newest


def select_pending_count(s: Session, sitting_id: int) -> int:
    """How many of a sitting's unclear marks no one has decided yet."""
    return s.execute(select(func.count()).select_from(PaperCheck).where(
        PaperCheck.sitting_id == sitting_id, PaperCheck.decided.is_(False))).scalar_one()


def select_checks(s: Session, exam_id: str, pending_only: bool = True) -> list[tuple[PaperCheck, Sitting]]:
    """An exam's checks of unclear marks (oldest first), with their sittings."""
    stmt = select(PaperCheck, Sitting).join(Sitting, Sitting.id == PaperCheck.sitting_id).where(
        Sitting.exam_id == exam_id)
    if pending_only:
        stmt = stmt.where(PaperCheck.decided.is_(False))
    return [(c, sit) for c, sit in s.execute(stmt.order_by(PaperCheck.id)).all()]


def select_paper_sittings(s: Session, exam_id: str) -> set[int]:
    """The sittings of an exam with at least one page read from paper (the report tells them apart)."""
    return set(s.execute(select(PaperPage.sitting_id).join(Sitting, Sitting.id == PaperPage.sitting_id).where(
        Sitting.exam_id == exam_id).distinct()).scalars())


def select_answered_count(s: Session, sitting_id: int, item_ids: set[str]) -> int:
    """How many journal rows and checks (pending or decided) a sitting holds for these items."""
    rows = s.scalar(select(func.count()).select_from(Response).where(Response.sitting_id == sitting_id,
                                                                     Response.item_id.in_(item_ids)))
    checks = s.scalar(select(func.count()).select_from(PaperCheck).where(PaperCheck.sitting_id == sitting_id,
                                                                          PaperCheck.item_id.in_(item_ids)))
    return int(rows or 0) + int(checks or 0)
