"""The paper path through its commands: print a booklet and answer sheets, scan filled sheets, verify, collect.

The booklet is checked as a person would: its pages rendered to pictures (nothing cut at the
edges), its text extracted (the online form's questions and choices, in the same order; no key),
its large print measured (every character at least 18 pt). Scans are made-up (``paper.fill``):
skewed, grainy, JPEG, upside down; each wrong sheet is set aside with its file and page named and
nothing stored.
"""
from __future__ import annotations

import os
import random
import re
import stat

import cv2
import delivery_formkit as formkit
import numpy as np
import pypdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from click.testing import CliRunner

from exam_builder.cli import cli
from exam_builder.delivery.collect import collect
from exam_builder.delivery.form_view import load_form_view, released_notebook_path
from exam_builder.grading.queue import RatingQueue
from exam_builder.paper import fill, layout
from exam_builder.paper.chromium import print_pdfs
from exam_builder.paper.printing import SheetFor, sheets_html
from exam_builder.paper.scan import scan_pages
from exam_builder.records import audit
from exam_builder.records.models import AuditEntry, Form, PaperCheck, Response, Sitting


def run(course, *args):
    return CliRunner().invoke(cli, ["--course", str(course.root), *args], catch_exceptions=False)


def open_for(course, *candidates: str) -> dict[str, int]:
    named = [a for c in candidates for a in ("--candidate", c)]
    res = run(course, "sitting", "open", "cps", "--room", "Paper-1", *named, "--by", "coordinator-lee")
    assert res.exit_code == 0, res.output
    with course.db.read() as s:
        return {x.candidate_id: x.id for x in s.query(Sitting).filter(Sitting.candidate_id.in_(candidates))}


def pdf_text(path) -> list[str]:
    doc = pdfium.PdfDocument(str(path))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def font_sizes(path) -> list[float]:
    doc = pdfium.PdfDocument(str(path))
    sizes = []
    try:
        for i in range(len(doc)):
            tp = doc[i].get_textpage()
            for k in range(tp.count_chars()):
                if tp.get_text_range(k, 1).strip():
                    sizes.append(pdfium_c.FPDFText_GetFontSize(tp.raw, k))
    finally:
        doc.close()
    return sizes


def edges_blank(path, band_mm: float = 4.0) -> list[str]:
    """Pages with ink in the outer ``band_mm`` of the sheet (text cut off or running over the edge)."""
    bad = []
    for n, img in enumerate(fill.render(open(path, "rb").read(), 100), start=1):
        b = int(band_mm / 25.4 * 100)
        for name, strip in (("top", img[:b]), ("bottom", img[-b:]), ("left", img[:, :b]), ("right", img[:, -b:])):
            if (strip < 200).any():
                bad.append(f"page {n} {name}")
    return bad


@pytest.fixture(scope="module")
def printed(pcourse):
    sits = open_for(pcourse, "c001", "c002")
    res = run(pcourse, "print", "cps", "--form", "A", "--candidate", "c001", "--candidate", "c002", "--copies", "30",
              "--by", "coordinator-lee")
    assert res.exit_code == 0, res.output
    res = run(pcourse, "print", "cps", "--form", "cps-A", "--large-print", "--by", "coordinator-lee")
    assert res.exit_code == 0, res.output
    return sits


def test_booklet_matches_the_online_form_item_by_item_and_holds_no_key(pcourse, printed):
    folder = pcourse.exports_dir("cps") / "paper"
    view = load_form_view(released_notebook_path(pcourse, "cps-A"), pcourse.root)
    for name in ("booklet-cps-A.pdf", "booklet-cps-A-large-print.pdf"):
        text = re.sub(r"\s+", " ", " ".join(pdf_text(folder / name)))
        pos = 0
        for it in view.items:  # the online form's questions, choices in its order, one after the other
            for piece in [f"Question {it.number}", it.stem, *[f"{lab}. {t}" for lab, t in it.options]]:
                found = text.find(piece, pos)
                assert found >= 0, f"{name}: {piece!r} missing or out of order"
                pos = found + len(piece)
        assert text.index("Scenario: Dana") < text.index("Question 3")  # the scenario before its questions
        assert "cps-A · page 1 of" in text and "Instructions" in text
        for secret in formkit.SECRET_MARKERS + ("q01 =", "Rationale"):
            assert secret not in text
        assert edges_blank(folder / name) == []
    for name in ("booklet-cps-A.pdf", "booklet-cps-A-large-print.pdf"):  # real, tagged text in English
        root = pypdf.PdfReader(folder / name).trailer["/Root"]
        assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"] and root["/Lang"] == "en"
    large = font_sizes(folder / "booklet-cps-A-large-print.pdf")
    standard = font_sizes(folder / "booklet-cps-A.pdf")
    assert min(large) >= 18 and min(standard) < 18
    assert len(pdf_text(folder / "booklet-cps-A-large-print.pdf")) >= len(view.items)  # a question a page


def test_printed_files_are_staff_only_and_the_printing_is_audited(pcourse, printed):
    folder = pcourse.exports_dir("cps") / "paper"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["answer-sheet-cps-A-c001.pdf", "answer-sheet-cps-A-c002.pdf", "booklet-cps-A-large-print.pdf",
                     "booklet-cps-A.pdf"]
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in folder.iterdir())
    with pcourse.db.read() as s:
        entries = [e for e in s.query(AuditEntry).order_by(AuditEntry.id) if e.action == "paper.print"]
        assert [(e.actor, e.details["copies"], e.details["candidates"]) for e in entries] == [
            ("coordinator-lee", 30, ["c001", "c002"]), ("coordinator-lee", 1, [])]
        assert audit.verify(s).ok
    sheet_text = " ".join(pdf_text(folder / "answer-sheet-cps-A-c001.pdf"))
    assert "c001" in sheet_text and "cps-A" in sheet_text and "page 2 of 2" in sheet_text
    assert edges_blank(folder / "answer-sheet-cps-A-c001.pdf", 2.0) == []


def test_printing_for_a_candidate_without_a_sitting_on_the_form_prints_nothing(pcourse, printed):
    before = sorted((pcourse.exports_dir("cps") / "paper").iterdir())
    res = run(pcourse, "print", "cps", "--form", "A", "--candidate", "c006", "--by", "coordinator-lee")
    assert res.exit_code == 1 and "c006 has no open sitting of cps" in res.output
    assert "nothing was printed" in res.output
    res = run(pcourse, "print", "cps", "--form", "Z", "--by", "coordinator-lee")
    assert res.exit_code == 1 and "no form 'Z'" in res.output
    assert sorted((pcourse.exports_dir("cps") / "paper").iterdir()) == before


def _pages(pcourse, cand):
    return fill.render((pcourse.exports_dir("cps") / "paper" / f"answer-sheet-cps-A-{cand}.pdf").read_bytes(), 200)


def _sheet(pcourse):
    return layout.sheet_for(load_form_view(released_notebook_path(pcourse, "cps-A"), pcourse.root))


def _responses(pcourse, sitting_id):
    with pcourse.db.read() as s:
        return [(r.item_id, r.value, r.entered_by) for r in
                s.query(Response).filter(Response.sitting_id == sitting_id).order_by(Response.id)]


def test_scan_reads_marks_sends_unclear_ones_to_verification_and_hands_in_after_it(pcourse, printed, tmp_path):
    sheet, rng = _sheet(pcourse), random.Random(29)
    p1, p2 = _pages(pcourse, "c001")
    p1 = fill.fill(p1, sheet.page(1), [fill.Mark(1, "A"), fill.Mark(2, "A", "pencil"), fill.Mark(3, "B"),
                                       fill.Mark(3, "C", "faint"), fill.Mark(4, "C")], 200, rng)
    p2 = fill.fill(p2, sheet.page(2), [], 200, rng, write=True)
    cv2.imwrite(str(tmp_path / "p1.jpg"), fill.scanned(p1, rng, skew=2.5, noise=10, jpeg=60, colour=True),
                [cv2.IMWRITE_JPEG_QUALITY, 60])
    cv2.imwrite(str(tmp_path / "p2.png"), fill.scanned(p2, rng, skew=-3, noise=10, upside_down=True))
    res = run(pcourse, "scan", "cps", str(tmp_path / "p1.jpg"), str(tmp_path / "p2.png"), "--by", "scanner-sam")
    assert res.exit_code == 0, res.output
    assert "p2.png: was upside down" in res.output and "1 to verify" in res.output
    sid = printed["c001"]
    assert _responses(pcourse, sid) == [("tf-hope", "A", "paper"), ("mc-mutual", "A", "paper"),
                                        ("sc-q2", "C", "paper"),
                                        ("or-story", "[written on paper: answer-sheet page 2]", "paper")]
    again = run(pcourse, "scan", "cps", str(tmp_path / "p1.jpg"), "--by", "scanner-sam")
    assert "read before; skipped" in again.output and len(_responses(pcourse, sid)) == 4
    listed = run(pcourse, "scan", "verify", "cps", "--images", "--by", "checker-kim")
    check_id = int(re.search(r"check (\d+): sitting \d+, question 3 \(erased\): read B", listed.output).group(1))
    image = pcourse.exports_dir("cps") / "paper" / "checks" / f"check-{check_id}.png"
    crop = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
    assert crop is not None and crop.shape[0] < 100 and stat.S_IMODE(os.stat(image).st_mode) == 0o600
    with pcourse.db.read() as s:
        assert s.get(Sitting, sid).status == "in_progress"  # not handed in while a mark is unclear
    wrong = run(pcourse, "scan", "verify", "cps", "--check", str(check_id), "--value", "A,B", "--by", "checker-kim")
    assert wrong.exit_code == 1 and "takes one answer" in wrong.output
    done = run(pcourse, "scan", "verify", "cps", "--check", str(check_id), "--confirm", "--by", "checker-kim")
    assert done.exit_code == 0 and "(sitting complete)" in done.output
    twice = run(pcourse, "scan", "verify", "cps", "--check", str(check_id), "--value", "A", "--by", "checker-kim")
    assert twice.exit_code == 1 and "not decided again" in twice.output
    with pcourse.db.read() as s:
        sit = s.get(Sitting, sid)
        assert (sit.status, sit.submit_reason) == ("submitted", "paper") and sit.receipt_hash
        verified = [e for e in s.query(AuditEntry) if e.action == "paper.verify"]
        assert [(e.actor, e.details["read"], e.details["decided"]) for e in verified] == [("checker-kim", "B", "B")]
        assert audit.verify(s).ok
    assert _responses(pcourse, sid)[-1] == ("sc-q1", "B", "paper, verified by checker-kim")
    collected = collect(pcourse, "cps")
    nb = next(p for p in collected.written if "c001" in str(p)).read_text()
    assert 'q01 = \\"A\\"' in nb and 'q03 = \\"B\\"' in nb and "data:image/png;base64," in nb
    (pcourse.root / "rubrics" / "or-story.yaml").write_text(RUBRIC)  # the grader's desk: the written page, blind
    queued = [r for r in RatingQueue(pcourse, "cps", "or-story").responses() if r.sitting_id == sid]
    assert len(queued) == 1 and queued[0].image.startswith(b"\x89PNG") and not queued[0].blank
    crop = cv2.imdecode(np.frombuffer(queued[0].image, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert crop.shape[0] > 1000 and (crop < 100).mean() > 0.002  # the writing area, with the writing in it


RUBRIC = """id: or-story
title: Sharing one's story
item: or-story
criteria:
  - id: listens
    name: Listens first
    levels:
      - {points: 0, label: Not shown, descriptor: Does not listen.}
      - {points: 2, label: Shown, descriptor: Listens first.}
  - id: shares
    name: Shares with purpose
    levels:
      - {points: 0, label: Not shown, descriptor: Shares without purpose.}
      - {points: 2, label: Shown, descriptor: Shares to help.}
"""


def test_large_print_is_an_accommodation_recorded_like_extended_time_and_prints_large(pcourse, printed):
    res = run(pcourse, "accommodation", "request", "c006", "--kind", "large_print", "--letter-on-file", "2026-11-02",
              "--by", "intake-ida", "--reason", "asked at registration")
    assert res.exit_code == 0, res.output
    with pcourse.db.read() as s:
        acc_id = max(e.entity_id for e in s.query(AuditEntry) if e.action == "accommodation.request")
    res = run(pcourse, "accommodation", "approve", str(acc_id), "--by", "coordinator-lee", "--reason", "letter seen")
    assert res.exit_code == 0, res.output
    open_for(pcourse, "c006")
    res = run(pcourse, "print", "cps", "--form", "A", "--candidate", "c006", "--by", "coordinator-lee")
    assert res.exit_code == 0 and "large print for: c006" in res.output, res.output
    assert "booklet-cps-A-large-print.pdf" in res.output and "booklet-cps-A.pdf" not in res.output
    with pcourse.db.read() as s:
        last = [e for e in s.query(AuditEntry).order_by(AuditEntry.id) if e.action == "paper.print"][-1]
        assert last.details["large_print"] == ["c006"] and last.details["candidates"] == ["c006"]


def test_wrong_sheets_are_set_aside_located_and_nothing_is_stored(pcourse, printed, tmp_path):
    with pcourse.db.transaction() as s:  # a second form for c005 (the sheet below claims form A)
        a = s.query(Form).filter(Form.assignment == "cps-A").one()
        b = Form(exam_id="cps", label="B", assignment="cps-B", seed=8, manifest=a.manifest, manifest_hash="b" * 64,
                 built_by="test")
        s.add(b)
        s.flush()
        s.add(Sitting(candidate_id="c005", exam_id="cps", seq=1, attempt_no=1, form_id=b.id, room="Paper-1",
                      status="scheduled", time_limit_minutes=180, opened_by="test"))
    with pcourse.db.read() as s:
        c005 = s.query(Sitting).filter(Sitting.candidate_id == "c005").one().id
    view = load_form_view(released_notebook_path(pcourse, "cps-A"), pcourse.root)
    html = sheets_html(view, "cps", "CPS", [SheetFor("c999", "Nobody", 999), SheetFor("c005", "Pat4", c005)])
    pdf = print_pdfs(pcourse, {tmp_path / "x.pdf": html})[tmp_path / "x.pdf"]
    (tmp_path / "odd.pdf").write_bytes(pdf)
    blank = np.full((2200, 1700), 255, np.uint8)
    cv2.imwrite(str(tmp_path / "blank.png"), fill.scanned(blank, random.Random(1), noise=6))
    (tmp_path / "notes.txt").write_text("not a scan")
    with pcourse.db.read() as s:
        before = (s.query(Response).count(), s.query(PaperCheck).count())
    res = run(pcourse, "scan", "cps", str(tmp_path / "odd.pdf"), str(tmp_path / "blank.png"),
              str(tmp_path / "notes.txt"), "--by", "scanner-sam")
    assert res.exit_code == 1
    out = re.sub(r"\s+", " ", res.output)
    assert "odd.pdf page 1: names candidate 'c999', who is not on the roster" in out
    assert "odd.pdf page 3: a sheet of form cps-A, but c005's sitting" in out and "is on form cps-B" in out
    assert "blank.png: a blank page" in out and "notes.txt: not a scan" in out
    assert "0 page(s) read" in out
    with pcourse.db.read() as s:
        assert (s.query(Response).count(), s.query(PaperCheck).count()) == before



def test_double_key_entry_stores_what_two_people_read_alike_and_sends_differences_to_verification(pcourse, printed):
    """No scanner: two staff key c002's sheet; the first entry is kept aside (never shown at verification), the
    same person cannot key it twice, agreements go into the journal, the one difference is decided at
    verification, and the sitting is handed in once its written page is scanned too."""
    sid = printed["c002"]
    bad = run(pcourse, "scan", "key", "cps", str(sid), "--answers", "A B Z C", "--by", "keyer-kay")
    assert bad.exit_code == 1 and "question 3: 'Z' is not one of its options (A, B, C)" in bad.output
    short = run(pcourse, "scan", "key", "cps", str(sid), "--answers", "A B", "--by", "keyer-kay")
    assert short.exit_code == 1 and "has 4 bubble questions; 2 answers were keyed" in short.output
    first = run(pcourse, "scan", "key", "cps", str(sid), "--answers", "B A - C", "--by", "keyer-kay")
    assert first.exit_code == 0 and "first entry kept aside" in first.output
    assert "sitting %d" % sid not in run(pcourse, "scan", "verify", "cps", "--by", "x").output  # aside, unseen
    again = run(pcourse, "scan", "key", "cps", str(sid), "--answers", "B A - C", "--by", "keyer-kay")
    assert again.exit_code == 1 and "a second person keys it" in again.output
    second = run(pcourse, "scan", "key", "cps", str(sid), "--answers", "B A - B", "--by", "keyer-lou")
    assert second.exit_code == 0 and "3 answer(s) read alike and stored; questions 4 read differently" in second.output
    assert _responses(pcourse, sid) == [("tf-hope", "B", "paper, keyed by keyer-kay and keyer-lou"),
                                        ("mc-mutual", "A", "paper, keyed by keyer-kay and keyer-lou")]
    listed = run(pcourse, "scan", "verify", "cps", "--by", "checker-kim").output
    check_id = re.search(rf"check (\d+): sitting {sid}, question 4 \(differs\): read C / B", listed).group(1)
    refused = run(pcourse, "scan", "verify", "cps", "--check", check_id, "--confirm", "--by", "checker-kim")
    assert refused.exit_code == 1 and "two readings that differ" in refused.output
    done = run(pcourse, "scan", "verify", "cps", "--check", check_id, "--value", "C", "--by", "checker-kim")
    assert done.exit_code == 0 and "(sitting complete)" not in done.output  # its written page is not in yet
    sheet, rng = _sheet(pcourse), random.Random(2)
    page2 = fill.scanned(fill.fill(_pages(pcourse, "c002")[1], sheet.page(2), [], 200, rng, write=True), rng)
    res = scan_pages(pcourse, "cps", [("c002 page 2", page2)], "scanner-sam")
    assert res.handed_in == [sid]
    with pcourse.db.read() as s:
        assert s.get(Sitting, sid).submit_reason == "paper"
        keyed = [e.details for e in s.query(AuditEntry) if e.action == "paper.scan" and e.entity_id == str(sid)]
        assert [(d.get("entry"), d.get("differs")) for d in keyed][:2] == [(1, None), (2, [4])]


def test_a_paper_sitting_made_absent_by_its_closed_window_is_opened_again_by_its_scanned_sheet(pcourse, printed):
    """Nobody signs in on paper, so a paper sitting scanned after its sign-in window closed has become absent by
    itself; its sheet is the proof it was sat: reopened (audited), read, handed in."""
    import datetime as dt

    from exam_builder.records import absence

    with pcourse.db.transaction() as s:
        sid = s.query(Sitting).filter(Sitting.candidate_id == "c006").one().id
        gone = absence.settle(s, pcourse.policy, dt.timezone.utc, now=dt.datetime(2099, 1, 1), candidate_ids=["c006"])
        assert [x.id for x in gone] == [sid]
    sheet, rng = _sheet(pcourse), random.Random(6)
    p1, p2 = _pages(pcourse, "c006")
    pages = [("c006 page 1", fill.scanned(fill.fill(p1, sheet.page(1), [fill.Mark(1, "B")], 200, rng), rng)),
             ("c006 page 2", fill.scanned(p2, rng))]
    res = scan_pages(pcourse, "cps", pages, "scanner-sam")
    assert res.handed_in == [sid] and not res.set_aside
    assert any("had become absent when its sign-in window closed" in n for n in res.notes)
    assert _responses(pcourse, sid) == [("tf-hope", "B", "paper")]
    with pcourse.db.read() as s:
        assert [e.reason for e in s.query(AuditEntry) if e.action == "sitting.absent_undone"] == [
            "sat on paper: its answer sheet was scanned"]


def test_an_unfilled_copy_scanned_first_never_stands_silently_for_the_filled_sheet(pcourse, printed):
    """A page is read once; an unfilled copy of c004's page 1 fed first reads as no answer. The filled page
    then is set aside, naming double key entry, instead of "read before; skipped": nothing silently lost."""
    with pcourse.db.transaction() as s:  # a paper sitting on form A (the released one)
        a = s.query(Form).filter(Form.assignment == "cps-A").one()
        sit = Sitting(candidate_id="c004", exam_id="cps", seq=1, attempt_no=1, form_id=a.id, room="Paper-1",
                      status="scheduled", time_limit_minutes=180, opened_by="test")
        s.add(sit)
        s.flush()
        sid = sit.id
    res = run(pcourse, "print", "cps", "--form", "A", "--candidate", "c004", "--by", "coordinator-lee")
    assert res.exit_code == 0, res.output
    sheet, rng = _sheet(pcourse), random.Random(3)
    p1 = _pages(pcourse, "c004")[0]
    first = scan_pages(pcourse, "cps", [("blank copy page 1", fill.scanned(p1, rng))], "scanner-sam")
    assert first.pages_read == 1 and not first.set_aside, first
    filled = fill.scanned(fill.fill(p1, sheet.page(1), [fill.Mark(1, "A")], 200, rng), rng)
    again = scan_pages(pcourse, "cps", [("filled page 1", filled)], "scanner-sam")
    assert again.pages_read == 0 and len(again.set_aside) == 1, again
    assert again.set_aside[0].startswith("filled page 1: page 1 of c004's sheet was read before with no mark at all")
    assert "exam-builder scan key" in again.set_aside[0]
    assert _responses(pcourse, sid) == []
    quiet = scan_pages(pcourse, "cps", [("blank copy again", fill.scanned(p1, rng))], "scanner-sam")
    assert not quiet.set_aside and any("read before; skipped" in n for n in quiet.notes)
