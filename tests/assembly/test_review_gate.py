"""Forms draw only items a reviewer other than their author approved, on their current content
(``bank.review``): an edit after approval takes an item out of the next assembly until it is
reviewed again, a missing approval is named by the build, and a recorded retire is drift of an
issued form. The kits approve their banks' live items (``coursekit.approve_offered_items``)."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from test_build import QUIET, _edit_item, _issue, run_cli

from exam_builder.assembly.build import build, load_inputs
from exam_builder.assembly.forms import load_forms
from exam_builder.bank.review import review
from exam_builder.errors import ValidationFailed

ANCHOR = "it-0001"  # the blueprint's anchor (tests/assembly/conftest.py)


def test_an_edit_after_approval_takes_the_item_out_until_it_is_reviewed_again(syn_course):
    bank, _, _ = load_inputs(syn_course, "syn")
    assert bank.reviews is not None and bank.is_live(bank.items[ANCHOR])
    _edit_item(syn_course, ANCHOR, "A reworded made-up anchor question?")
    with pytest.raises(ValidationFailed) as err:
        build(syn_course, "syn", console=QUIET)
    assert f"anchor {ANCHOR!r} is not approved (changed since approval by Kit Reviewer on " in str(err.value)
    assert f"exam-builder bank review {ANCHOR} --decision approve" in str(err.value)
    review(syn_course, ANCHOR, "approve", "Second Reviewer", "the rewording keeps the key")
    result = build(syn_course, "syn", console=QUIET)
    assert all(ANCHOR in {e.item_id for e in o.manifest.items} for o in result.outcomes)


def test_an_edited_item_is_not_drawn(syn_course):
    first = build(syn_course, "syn", console=QUIET)
    on_a = [e.item_id for e in first.outcomes[0].manifest.items if e.item_id != ANCHOR and not e.scenario]
    _edit_item(syn_course, on_a[0], "An edited made-up question?")
    bank, _, _ = load_inputs(syn_course, "syn")
    assert "changed since approval" in bank.not_live_because(bank.items[on_a[0]])
    result = build(syn_course, "syn", console=QUIET)
    assert all(on_a[0] not in {e.item_id for e in o.manifest.items} for o in result.outcomes)


def test_without_approvals_the_build_says_what_waits_for_review(syn_course):
    with syn_course.db.engine.begin() as conn:  # as if nobody had reviewed anything yet
        conn.execute(text("DELETE FROM eb_item_review"))
    proc = run_cli(syn_course, "build", "syn")
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1, out
    assert "the bank has 0 live items (" in out and "more are not approved: `exam-builder bank list --waiting`" in out
    assert "Traceback" not in out
    (syn_course.root / "nbgrader_config.py").open("a").write("\nc.BankSettings.require_recorded_review = False\n")
    proc = run_cli(syn_course, "build", "syn")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the header alone decides, as before


def test_a_recorded_retire_is_drift_of_an_issued_form(syn_course):
    build(syn_course, "syn", console=QUIET)
    with syn_course.db.read() as s:
        (_, ma), _ = load_forms(s, "syn")
    _issue(syn_course, "syn-A")
    item = next(e.item_id for e in ma.items if e.item_id != ANCHOR and not e.scenario)
    review(syn_course, item, "retire", "Second Reviewer", "outdated practice")
    proc = run_cli(syn_course, "build", "syn")
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1 and f"{item} (retired by Second Reviewer on " in out, out
