"""Review as a recorded workflow: `bank review` records who decided what on which version of an
item (database and audit trail), nobody reviews their own item, an edit after approval sends the
item back to review, and only approved items are drawn on forms."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import nbformat
import pytest
from bank_helpers import run_cli
from coursekit import cloned, new_course_dir
from sqlalchemy import select

from exam_builder.bank import Status, load_bank
from exam_builder.bank.review import (
    Decision,
    Review,
    approve_offered,
    gate,
    review,
    review_state,
    reviewed_hash,
    same_person,
)
from exam_builder.course import Course
from exam_builder.errors import ExamBuilderError, ValidationFailed
from exam_builder.model.states import ReviewDecision
from exam_builder.records import audit
from exam_builder.records.models import AuditEntry, ItemReview

ITEM = "ps-mc-01"  # source/cps/01-recovery-and-hope.ipynb, author R. Okafor, status live
NOTEBOOK = "source/cps/01-recovery-and-hope.ipynb"


@pytest.fixture(scope="module")
def review_template(tmp_path_factory) -> Path:
    root = new_course_dir(tmp_path_factory.mktemp("review-template") / "course", with_bank=True)
    c = Course(root)
    c.db.upgrade()
    c.db.dispose()
    return root


@pytest.fixture
def rc(review_template: Path, tmp_path: Path) -> Course:
    with cloned(review_template, tmp_path / "course") as c:
        yield c


def _bank(course: Course):
    return load_bank([course.source_dir], lambda p: str(p.relative_to(course.root)))


def _edit_stem(course: Course, item_id: str, new_stem_tail: str) -> None:
    path = course.root / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and f"] {item_id}**" in cell.source:
            header, stem, *rest = cell.source.split("\n")
            cell.source = "\n".join([header, stem + new_stem_tail, *rest])
            break
    else:
        raise AssertionError(item_id)
    nbformat.write(nb, path)


def _set_header(course: Course, item_id: str, old: str, new: str) -> None:
    path = course.root / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if f"] {item_id}**" in cell.source:
            assert old in cell.source
            cell.source = cell.source.replace(old, new, 1)
    nbformat.write(nb, path)


# -- the pure core ----------------------------------------------------------------------------

def test_same_person_reads_names_as_people_do():
    assert same_person("R. Okafor", "r okafor") and same_person(" R.  Okafor ", "R. OKAFOR")
    assert not same_person("R. Okafor", "T. Nguyen") and not same_person("", "")


def test_reviewed_hash_ignores_the_review_fields_only(course_dir):
    bank = load_bank([course_dir / "source"])
    item = bank.items[ITEM]
    h = reviewed_hash(item)
    assert reviewed_hash(item.model_copy(update={"status": Status.draft, "reviewer": "Someone"})) == h
    for change in ({"stem": item.stem + "?"}, {"points": 2}, {"author": "T. Nguyen"}, {"rationale": "new"}):
        assert reviewed_hash(item.model_copy(update=change)) != h, change


def test_review_state_rules(course_dir):
    item = load_bank([course_dir / "source"]).items[ITEM]
    h, t = reviewed_hash(item), dt.datetime(2026, 12, 8, 9)

    def d(decision, reviewer="T. Nguyen", content_hash=h, minutes=0):
        return Decision(ITEM, content_hash, ReviewDecision(decision), reviewer, t + dt.timedelta(minutes=minutes),
                        zone=dt.timezone.utc)

    assert review_state(item, []).state is Review.waiting
    assert review_state(item, [d("approve")]).state is Review.approved
    assert review_state(item, [d("approve", reviewer="r. okafor")]).state is Review.waiting  # never the author's own
    assert review_state(item, [d("approve"), d("revise", minutes=1)]).state is Review.revise
    assert review_state(item, [d("revise"), d("approve", minutes=1)]).state is Review.approved
    changed = review_state(item, [d("approve", content_hash="0" * 64)])
    assert changed.state is Review.changed and changed.waiting and ("changed since approval by T. "
                                                                    "Nguyen") in changed.label
    assert review_state(item, [d("retire"), d("approve", minutes=1)]).state is Review.retired  # for good
    assert review_state(item, [d("revise", content_hash="0" * 64)]).label.startswith("waiting for review (edited since")


# -- the edge: recorded, audited, refused ---------------------------------------------------------

def test_a_review_is_recorded_and_audited(rc):
    out = review(rc, ITEM, "approve", "T. Nguyen", "key and distractors checked")
    assert out.before.state is Review.waiting and out.after.state is Review.approved
    item = _bank(rc).items[ITEM]
    with rc.db.read() as s:
        (row,) = s.execute(select(ItemReview)).scalars()
        assert (row.item_id, row.decision, row.reviewer, row.author, row.comment, row.file) == (
            ITEM, ReviewDecision.approve, "T. Nguyen", "R. Okafor", "key and distractors checked", NOTEBOOK)
        assert row.content_hash == reviewed_hash(item) and row.decided_at is not None
        entry = s.get(AuditEntry, out.audit_id)
        assert (entry.actor, entry.action, entry.entity, entry.entity_id, entry.reason) == (
            "T. Nguyen", "item.reviewed", "item", ITEM, "key and distractors checked")
        assert entry.details["decision"] == "approve" and entry.details["content_hash"] == row.content_hash
        assert audit.verify(s).ok


def test_refusals_are_located_and_write_nothing(rc):
    with pytest.raises(ValidationFailed,
                       match=r"01-recovery-and-hope.ipynb:cell 3 \[ps-mc-01\]: r okafor is the item's author"):
        review(rc, ITEM, "approve", "r okafor")
    with pytest.raises(ValidationFailed, match=r"source \[ps-mc-1\]: no item 'ps-mc-1' in the bank \(did you mean"):
        review(rc, "ps-mc-1", "approve", "T. Nguyen")
    with pytest.raises(ExamBuilderError, match=r"cell 3 \[ps-mc-01\]: say why with --comment"):
        review(rc, ITEM, "revise", "T. Nguyen")
    with pytest.raises(ExamBuilderError, match="unknown decision 'accept'"):
        review(rc, ITEM, "accept", "T. Nguyen")
    _set_header(rc, ITEM, "author: R. Okafor", "author: ")
    with pytest.raises(ValidationFailed, match="names no author"):
        review(rc, ITEM, "approve", "T. Nguyen")
    with rc.db.read() as s:
        assert s.execute(select(ItemReview)).first() is None and audit.count(s) == 0


def test_an_edit_after_approval_sends_the_item_back_to_review(rc):
    review(rc, ITEM, "approve", "T. Nguyen")
    assert gate(rc, _bank(rc)).reviews[ITEM].approved
    _set_header(rc, ITEM, "reviewer: T. Nguyen", "reviewer: T. Nguyen, checked")  # the review's own fields: no edit
    _set_header(rc, ITEM, "status: live", "status: reviewed")
    _set_header(rc, ITEM, "status: reviewed", "status: live")
    bank = gate(rc, _bank(rc))
    assert bank.reviews[ITEM].approved and bank.is_live(bank.items[ITEM])
    _edit_stem(rc, ITEM, " (reworded)")
    bank = gate(rc, _bank(rc))
    state = bank.reviews[ITEM]
    assert state.state is Review.changed and state.waiting
    assert bank.items[ITEM] not in bank.live()
    assert "changed since approval by T. Nguyen" in bank.not_live_because(bank.items[ITEM])
    result = run_cli(rc.root, "bank", "list", "--waiting", "--json")
    assert result.exit_code == 0, result.output
    waiting = {r["id"]: r for r in json.loads(result.stdout)}
    assert ITEM in waiting and waiting[ITEM]["review_state"] == "changed"
    review(rc, ITEM, "approve", "T. Nguyen", "the rewording keeps the key")
    assert gate(rc, _bank(rc)).reviews[ITEM].approved


def test_only_approved_items_are_live_and_retire_holds(rc):
    bank = gate(rc, _bank(rc))
    assert bank.live() == [] and len(bank.offered()) > 100
    approved = approve_offered(rc, _bank(rc), "Demo Reviewer", "bulk")
    assert set(approved) == {i.id for i in bank.offered()}
    review(rc, ITEM, "retire", "T. Nguyen", "outdated language")
    bank = gate(rc, _bank(rc))
    certification = [i for i in approved if not bank.items[i].practice]  # practice items are never live
    assert ITEM not in {i.id for i in bank.live()} and len(bank.live()) == len(certification) - 1
    assert bank.reviews[ITEM].label.startswith("retired by T. Nguyen on ")
    rc.config.BankSettings.require_recorded_review = False  # the header alone, as before recorded reviews
    rc.__dict__.pop("bank_settings", None)
    assert ITEM in {i.id for i in gate(rc, _bank(rc)).live()}


def test_cli_review_and_list(rc):
    result = run_cli(rc.root, "bank", "review", ITEM, "--decision", "revise", "--by", "T. Nguyen",
                     "--comment", "distractor C is also defensible")
    assert result.exit_code == 0, result.output
    assert f"{ITEM} ({NOTEBOOK}:cell 3): waiting for review (T. Nguyen asked for a revision on" in result.stdout
    result = run_cli(rc.root, "bank", "review", ITEM, "--decision", "approve", "--by", "R. Okafor")
    assert result.exit_code == 1 and "is the item's author" in result.output
    result = run_cli(rc.root, "bank", "list", NOTEBOOK)
    assert result.exit_code == 0
    assert "T. Nguyen asked for a revision" in result.stdout and "item(s) wait for review" in result.stdout


def test_bank_list_without_a_database_says_every_item_waits(tmp_path):
    root = new_course_dir(tmp_path / "course", with_bank=True)
    result = run_cli(root, "bank", "list", "--waiting", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(r["review"] == "waiting for review" for r in rows)
    assert not (root / "gradebook.db").exists()  # listing never creates the database


# -- many items at once: one check, one transaction, one review and one audit entry each -------------------

def _reviews(course: Course) -> list[tuple[str, str, str]]:
    with course.db.read() as s:
        return [(r.item_id, r.reviewer, r.comment) for r in s.execute(select(ItemReview)).scalars()]


def test_several_items_at_once_all_or_nothing(rc):
    # one refused id (the reviewer's own item) and one unknown: both located, nothing recorded
    result = run_cli(rc.root, "bank", "review", ITEM, "ps-mc-02", "ps-mc-999", "--decision", "approve",
                     "--by", "T. Nguyen", "--reason", "checked")
    assert result.exit_code == 1
    assert "[ps-mc-02]: T. Nguyen is the item's author" in result.output
    assert "[ps-mc-999]: no item 'ps-mc-999' in the bank" in result.output
    assert _reviews(rc) == []
    with rc.db.read() as s:
        assert audit.count(s) == 0
    # several at once needs who and why
    result = run_cli(rc.root, "bank", "review", ITEM, "ps-mc-03", "--decision", "approve", "--by", "R. Viewer")
    assert result.exit_code == 1 and "needs --by (the reviewer's name) and --comment" in result.output
    result = run_cli(rc.root, "bank", "review", ITEM, "ps-mc-03", ITEM, "--decision", "approve", "--by", "R. Viewer",
                     "--comment", "key and distractors checked")
    assert result.exit_code == 0, result.output
    assert "2 'approve' review(s) recorded" in result.stdout
    assert _reviews(rc) == [(ITEM, "R. Viewer", "key and distractors checked"),
                            ("ps-mc-03", "R. Viewer", "key and distractors checked")]
    with rc.db.read() as s:
        assert audit.count(s) == 2 and audit.verify(s).ok


def test_all_pending_previews_then_records_every_waiting_live_item(rc):
    bank = _bank(rc)
    offered = {i.id for i in bank.offered()}
    own = {i.id for i in bank.offered() if same_person(i.author, "T. Nguyen")}
    review(rc, ITEM, "approve", "R. Viewer")  # already approved: not pending
    assert run_cli(rc.root, "bank", "review", "--all-pending", "--decision", "approve",
                   "--comment", "sample bank").exit_code == 1  # who, said out loud
    preview = run_cli(rc.root, "bank", "review", "--all-pending", "--decision", "approve", "--by", "T. Nguyen",
                      "--reason", "sample bank reviewed for our course", "--dry-run")
    assert preview.exit_code == 0, preview.output
    n = len(offered - own - {ITEM})
    assert f"{n} 'approve' review(s) would be recorded; nothing was written" in preview.stdout
    assert f"{len(own)} item(s) left alone" in preview.stdout
    assert "left alone: source/cps/01-recovery-and-hope.ipynb:cell 5 [ps-mc-02]: T. Nguyen is its author" in (
        preview.stderr.replace("\n", " "))
    assert len(_reviews(rc)) == 1
    done = run_cli(rc.root, "bank", "review", "--all-pending", "--decision", "approve", "--by", "T. Nguyen",
                   "--reason", "sample bank reviewed for our course")
    assert done.exit_code == 0, done.output
    rows = _reviews(rc)
    assert len(rows) == 1 + n and {r[0] for r in rows[1:]} == offered - own - {ITEM}
    with rc.db.read() as s:
        assert audit.count(s) == 1 + n and audit.verify(s).ok
    # a second reviewer picks up the first one's own items; then nothing waits
    run_cli(rc.root, "bank", "review", "--all-pending", "--decision", "approve", "--by", "R. Viewer",
            "--reason", "the rest")
    assert {i.id for i in gate(rc, _bank(rc)).live()} >= offered - {i.id for i in bank.offered() if i.practice}
    again = run_cli(rc.root, "bank", "review", "--all-pending", "--decision", "approve", "--by", "R. Viewer",
                    "--reason", "the rest")
    assert again.exit_code == 0 and "0 'approve' review(s) recorded" in again.stdout


def test_where_the_bank_is_by_argument_or_in_and_a_dry_run_of_ids(rc):
    preview = run_cli(rc.root, "bank", "review", ITEM, "ps-mc-03", str(rc.root / NOTEBOOK), "--decision", "approve",
                      "--by", "R. Viewer", "--comment", "checked", "--dry-run")
    assert preview.exit_code == 0, preview.output
    assert f"would be: {ITEM} ({NOTEBOOK}:cell 3): approved by R. Viewer on " in preview.stdout
    assert "2 'approve' review(s) would be recorded; nothing was written" in preview.stdout and _reviews(rc) == []
    other = run_cli(rc.root, "bank", "review", "ps-mc-03", "--in", str(rc.root / "source/cps/09-self-care.ipynb"),
                    "--decision", "approve", "--by", "R. Viewer")
    assert other.exit_code == 0 and _reviews(rc) == [("ps-mc-03", "R. Viewer", "")]
    assert run_cli(rc.root, "bank", "review", "--decision", "approve").exit_code == 1  # which items?
    assert run_cli(rc.root, "bank", "review", ITEM, "--all-pending", "--decision", "approve", "--by", "R. Viewer",
                   "--comment", "x").exit_code == 1  # ids or all, not both
    assert len(_reviews(rc)) == 1
