"""Demo stage: a paper room. Four candidates sit on paper: booklets and answer sheets printed, the sheets
filled in by a scripted hand, scanned (skewed, grainy, JPEG, one fed upside down), read into the journal,
and one unclear mark resolved by a scripted staff member at verification.

One of the four has a large-print accommodation (requested and approved here, audited like extended
time), so their booklet is printed in large print (18 pt, a question a page) beside the standard
one. The scripted candidates answer from the form's key (the script reads it; candidates never do)
with a seeded share of wrong answers; one candidate half-erases an answer before marking another,
which the scanner will not guess at: Vera Verifier looks at the cropped row and confirms the clear
mark (``paper.verify.decide``, the function the verification desk and command call), audited.
Each paper sitting is handed in once its pages are read and its marks are
decided; collect (delivery stage), grading, results and the program's report then take them as any
sitting, and the report tells paper from online.

Reads ``ctx.state``: ``"eligible"`` and ``"accommodations"`` (records stage); takes the four paper
candidates out of ``"eligible"`` (the delivery stage opens the rest online). Leaves
``ctx.state["paper"]``: candidate id -> sitting id of each paper sitting.
"""
from __future__ import annotations

import random

import cv2
import numpy as np

from ... import clock
from ...assembly.forms import load_forms
from ...delivery import sittings as ops
from ...delivery.form_view import load_form_view, released_notebook_path
from ...kinds import kind_for
from ...model.states import SubmitReason
from ...paper import fill, layout
from ...paper.printing import paper_dir, print_form
from ...paper.scan import MAX_FILE_BYTES, scan_pages
from ...paper.verify import decide, pending
from ...records import accommodations
from ...records.models import Sitting
from ...records.queries.candidates import select_candidate_ids
from ...safeload import read_bytes

SEED = 29
ROOM = "Paper room"
PAPER_ROOM_SIZE = 4
SCANNER = "Sam Scanner"
VERIFIER = "Vera Verifier"
DPI = 200


def _answers(view, key: dict[str, str | None], rng: random.Random) -> dict[int, list[str]]:
    """The labels a scripted candidate marks for each bubble question (mostly the key)."""
    out: dict[int, list[str]] = {}
    for it in view.items:
        kind = kind_for(it.kind)
        if kind.paper_area != "bubbles" or not it.labels:
            continue
        right = key.get(it.item_id)
        if right and rng.random() < 0.85:
            out[it.number] = right.split(",")
        else:
            wrong = [lab for lab in it.labels if lab not in (right or "").split(",")]
            out[it.number] = [rng.choice(wrong)] if wrong else []
    return out


def run(ctx) -> None:
    course, console, exam = ctx.course, ctx.console, ctx.exam
    rng = random.Random(SEED)
    with course.db.read() as s:
        keys = {m.assignment: {it.item_id: it.key for it in m.items} for _f, m in load_forms(s, exam)}
        everyone = select_candidate_ids(s)
    eligible = list(ctx.state.get("eligible", everyone))
    acc = ctx.state.get("accommodations", {})
    chosen = [c for c in eligible if not acc.get(c)][:PAPER_ROOM_SIZE]
    if not keys or not chosen:
        console.print("[yellow]no forms or no candidates for a paper room[/]")
        return
    ctx.state["eligible"] = [c for c in eligible if c not in chosen]
    large = chosen[0]
    with course.db.transaction() as s:
        today = clock.today(course.zone)
        req = accommodations.request(s, course.policy, large, "large_print", ctx.actor, letter_on_file=today,
                                     reason="low vision: large print requested", zone=course.zone)
        s.flush()
        accommodations.approve(s, req.id, ctx.actor, "letter on file", letter_on_file=today, zone=course.zone)
    console.print(f"{large}: large-print accommodation requested and approved (audited, like extended time)")

    opened = ops.open_sittings(course, exam, ROOM, ctx.actor, chosen)
    by_form: dict[str, list[str]] = {}
    with course.db.read() as s:
        forms = {f.id: f.assignment for f, _m in load_forms(s, exam)}
        sitting_form = {o.candidate_id: forms[s.get(Sitting, o.sitting_id).form_id] for o in opened.opened}
    for cid, assignment in sitting_form.items():
        by_form.setdefault(assignment, []).append(cid)
    ctx.state["paper"] = {o.candidate_id: o.sitting_id for o in opened.opened}
    for assignment, people in sorted(by_form.items()):
        out = print_form(course, exam, assignment, ctx.actor, candidates=people, copies=len(people))
        names = ", ".join(p.name for p in out.files)
        console.print(f"printed for {assignment} ({', '.join(people)}): {names}"
                      + (f"; large print for {', '.join(out.large_for)}" if out.large_for else ""))
    console.print(f"printed files: {paper_dir(course, exam).relative_to(course.root)} (staff only, 0600); "
                  "printing audited with the copies")

    pages: list[tuple[str, np.ndarray]] = []
    ambiguous = chosen[1] if len(chosen) > 1 else chosen[0]
    conditions = [dict(skew=2.0, noise=8.0, jpeg=70), dict(skew=-3.0, noise=12.0, jpeg=60),
                  dict(skew=0.5, noise=5.0, jpeg=None, upside_down=True), dict(skew=-1.0, noise=10.0, jpeg=60)]
    for n, cid in enumerate(chosen):
        assignment = sitting_form[cid]
        view = load_form_view(released_notebook_path(course, assignment), course.root)
        sheet = layout.sheet_for(view)
        sheet_pdf = paper_dir(course, exam) / f"answer-sheet-{assignment}-{cid}.pdf"
        pdf = read_bytes(sheet_pdf, str(sheet_pdf.relative_to(course.root)), max_bytes=MAX_FILE_BYTES)
        marked = _answers(view, keys[assignment], rng)
        for page, sp in zip(fill.render(pdf, DPI), sheet.pages, strict=True):
            marks = [fill.Mark(num, lab) for r in sp.rows for num, lab in
                     ((r.number, lab) for lab in marked.get(r.number, []))]
            if cid == ambiguous and sp.rows:  # a half-erased first thought beside the clear answer
                row = next(r for r in sp.rows if len(marked.get(r.number, [])) == 1 and len(r.bubbles) > 2)
                other = next(b.label for b in row.bubbles if b.label not in marked[row.number])
                marks.append(fill.Mark(row.number, other, "faint"))
            img = fill.scanned(fill.fill(page, sp, marks, DPI, rng, write=True), rng, **conditions[n % 4])
            pages.append((f"paper-room-scan.pdf page {len(pages) + 1}", img))
    res = scan_pages(course, exam, pages, SCANNER)
    console.print(f"scanned {len(pages)} pages in {res.seconds:.1f} s: {res.pages_read} read, {res.marks} answers "
                  f"stored, {res.checks} sent to verification, {len(res.set_aside)} set aside")
    for note in res.notes:
        console.print(f"  {note}")
    for check in pending(course, exam):
        crop = cv2.imdecode(np.frombuffer(check.image, np.uint8), cv2.IMREAD_GRAYSCALE)  # what Vera looks at
        done = decide(course, exam, check.id, VERIFIER)
        console.print(f"verification: {VERIFIER} looked at the cropped row of question {check.number} "
                      f"({crop.shape[1]}x{crop.shape[0]} pixels, no name or code) "
                      f"({check.why}: read {check.read or 'nothing'}) and confirmed {done.value or 'no answer'}"
                      + ("; the sitting is handed in" if done.handed_in else "") + " (audited)")
    with course.db.read() as s:
        handed = sum(1 for sid in ctx.state["paper"].values()
                     if s.get(Sitting, sid).submit_reason == SubmitReason.paper)
    console.print(f"paper sittings handed in: {handed} of {len(chosen)} (submit reason: paper); collect, grading, "
                  "results and the report take them as any sitting")
