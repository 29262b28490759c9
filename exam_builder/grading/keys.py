"""Key validation before results: the coordinator's decisions on objective items, their impact, applying them.

After a window's sittings are scored, each objective item gets a validation line (the statistics
are ``analysis.keys``'s; the candidates' comments come from here, ``comments_by_item``: only of
submitted sittings, by item and form, never with a name or a sitting; a comment names its own form's
answer labels, so it is read beside that form's line only). The coordinator (with an
author) decides per item, with a reason (``record_decision``): keep the key, accept another answer
as well, credit everyone, or drop the item (``grading.adjust`` says what each does to scoring and
to the form's total and cut). A decision is a recorded adjustment (``eb_key_decision``); the frozen
manifest is never edited.

``impact`` shows, before anything is applied, whose totals and pass/fail change: every submitted
sitting of every form holding the item is scored again from its submitted file (the objective
grader's own ``score_submission``, with the decision added to those in force), and set beside its
result now. ``apply`` writes exactly the changed grade cells into nbgrader's gradebook
(``GradebookWriter``: sealed, so results trust them), marks the decision applied, audits it
(``key.applied``, with every change), records the outcomes that changed through the ledger
(audited) and writes the affected score reports again. Applying it again changes nothing.

Results stay provisional until the exam's key validation is closed (``close``: every recorded
decision applied; ``eb_key_validation``); a sitting submitted later is provisional until the next
closure. ``c.RecourseSettings.provisional_until_validated = False`` waives it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..assembly.forms import require_forms
from ..errors import ExamBuilderError
from ..kinds import kind_for
from ..model.manifest import Manifest, ManifestItem
from ..model.states import AuditAction, KeyAction, Outcome
from ..records import audit
from ..records.cuts import effective_cut
from ..records.ledger import record_outcome
from ..records.models import Form, KeyDecision, KeyValidation, utcnow
from ..records.queries import recourse as recourse_q, sittings as sittings_q
from ..records.queries.gradebook import select_score_matrix
from ..records.text import shown
from . import objective as scoring_run
from .adjust import Adjustment, dropped, in_force, labels_on, originals_of, scale, waiting
from .gradebook_sync import GradebookWriter, SubmissionScores
from .results import Result, compute_results, write_feedback
from .score_report import SubscorePrecision
from .seal import course_key

#: Each subscore's precision by assignment and competency (``write_feedback``'s ``precision``).
Precision = Mapping[str, Mapping[str, SubscorePrecision]] | None

ACTION_TEXT = {
    KeyAction.keep: "keep the key",
    KeyAction.accept_also: "accept another answer as well",
    KeyAction.credit: "credit everyone",
    KeyAction.drop: "drop the item",
}


def comments_by_item(course, exam: str) -> dict[str, list[tuple[str, str]]]:
    """item -> [(form label, comment)] of every submitted sitting: blind (no name, no sitting), by form."""
    with course.db.read() as s:
        labels = {f.id: f.label for f, _m in require_forms(s, exam)}
        out: dict[str, list[tuple[str, str]]] = {}
        for _sid, form_id, item, text in recourse_q.select_submitted_comments(s, exam):
            out.setdefault(item, []).append((labels.get(form_id, "?"), text))
    return {item: sorted(rows, key=lambda r: r[0]) for item, rows in sorted(out.items())}


def accepted_text(course, exam: str, d: KeyDecision) -> str:
    """The answer(s) a decision accepts as each form's candidates saw them: "D on form A, C on form B"
    ("" for a decision that accepts none)."""
    if not d.accepted:
        return ""
    parts = []
    with course.db.read() as s:
        for f, _m, entry in _entries(require_forms(s, exam), d.item_id):
            shown_on = [lab for a in d.accepted if (lab := labels_on(entry, tuple(int(i) for i in a))) is not None]
            parts.append(f"{' or '.join(shown_on) or 'not offered'} on form {f.label}")
    return ", ".join(parts)


def _entries(forms: list[tuple[Form, Manifest]], item_id: str) -> list[tuple[Form, Manifest, ManifestItem]]:
    return [(f, m, e) for f, m in forms for e in m.items if e.item_id == item_id]


def record_decision(course, exam: str, item_id: str, action: str, reason: str, actor: str,
                    accept: str | None = None, form: str | None = None) -> int:
    """Record a decision on one objective item (not applied yet); its id. Audited (``key.decision``).

    ``accept``: the other answer as a form's choice label(s) ("B", "A,C"), on ``form`` (its label;
    needed when the item is on several forms, whose labels differ).
    """
    try:
        act = KeyAction(action)
    except ValueError:
        raise ExamBuilderError(f"{shown(action)} is not a decision: choose one of "
                               + ", ".join(a.value for a in KeyAction)) from None
    reason = (reason or "").strip()
    if not reason:
        raise ExamBuilderError("a key-validation decision needs a reason (--reason): it is kept with the scores")
    with course.db.transaction() as s:
        forms = require_forms(s, exam)
        entries = _entries(forms, item_id)
        if not entries:
            raise ExamBuilderError(f"item {item_id!r} is on no form of {exam}; the forms hold "
                                   + ", ".join(sorted({e.item_id for _f, m in forms for e in m.items})[:12]) + ", …")
        if kind_for(entries[0][2].kind).rated:
            raise ExamBuilderError(f"item {item_id!r} is rated with a rubric; key validation decides on keyed "
                                   "items only (a written answer is re-rated through an appeal)")
        originals: list[list[int]] = []
        if act == KeyAction.accept_also:
            if not accept:
                raise ExamBuilderError("accept: name the other answer to accept (--accept B, on --form A)")
            if not kind_for(entries[0][2].kind).offers_options:
                raise ExamBuilderError(f"item {item_id!r} has no choices: another answer can be accepted only for "
                                       "a question of choices")
            on = [x for x in entries if x[0].label == form] if form else entries
            if not on:
                raise ExamBuilderError(f"item {item_id!r} is not on form {form!r}; it is on form(s) "
                                       + ", ".join(x[0].label for x in entries))
            if len(on) > 1:
                raise ExamBuilderError(f"item {item_id!r} is on forms " + ", ".join(x[0].label for x in on)
                                       + " with different choice orders: say on which form the answer is (--form)")
            _f, _m, entry = on[0]
            picked = originals_of(entry, accept, len(entry.option_order) or 2)
            if entry.key and tuple(sorted(originals_of(entry, entry.key, len(entry.option_order) or 2))) == picked:
                raise ExamBuilderError(f"{accept} is already the key of question {entry.number} on form {_f.label}")
            originals = [list(picked)]
        elif accept:
            raise ExamBuilderError(f"--accept goes with the decision 'accept', not {act.value!r}")
        d = KeyDecision(exam_id=exam, item_id=item_id, action=act, accepted=originals, reason=reason,
                        decided_by=actor, decided_at=utcnow())
        s.add(d)
        s.flush()
        audit.record(s, actor, AuditAction.key_decision, "key_decision", d.id, reason, exam=exam, item=item_id,
                     decision=act, accept=originals)
        return d.id


@dataclass
class Change:
    """One sitting's result before and after a decision (what the impact shows and ``apply`` writes)."""

    sitting_id: int
    candidate_id: str
    candidate_name: str
    assignment: str
    grade_id: str
    old_points: float | None
    new_points: float | None
    old_total: float | None
    new_total: float | None
    old_max: float
    new_max: float
    old_cut: float
    new_cut: float
    old_status: str
    new_status: str
    recorded: str | None = None

    @property
    def rescored(self) -> bool:
        return not _same(self.old_points, self.new_points)

    @property
    def outcome_changes(self) -> bool:
        return self.old_status != self.new_status


@dataclass
class Impact:
    decision_id: int
    item_id: str
    action: KeyAction
    reason: str
    applied: bool
    changes: list[Change] = field(default_factory=list)  # every sitting whose points, total, max or cut change
    unread: list[str] = field(default_factory=list)  # submissions that could not be read (left as they are)

    @property
    def passes_changed(self) -> list[Change]:
        return [c for c in self.changes if c.outcome_changes]

    def summary(self) -> str:
        moved = self.passes_changed
        return (f"decision {self.decision_id} on {self.item_id} ({ACTION_TEXT[self.action]}): "
                f"{len(self.changes)} sitting(s) change, {sum(c.rescored for c in self.changes)} re-scored, "
                f"{len(moved)} pass/fail change(s)"
                + (": " + ", ".join(f"{c.candidate_id} {c.old_status} -> {c.new_status}" for c in moved)
                   if moved else ""))


def _same(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)


def _decision(s, decision_id: int, exam: str) -> KeyDecision:
    d = recourse_q.select_key_decision(s, decision_id)
    if d is None or d.exam_id != exam:
        raise ExamBuilderError(f"no key-validation decision {decision_id} for {exam}; `exam-builder keys list "
                               f"{exam}` shows them")
    return d


def impact(course, exam: str, decision_id: int, results: list[Result] | None = None) -> Impact:
    """What applying a recorded decision would change (nothing is written): see the module."""
    with course.db.read() as s:
        d = _decision(s, decision_id, exam)
        adj = Adjustment.of(d)
        applied = d.applied_at is not None
    return preview(course, exam, adj, applied=applied, results=results)


def proposal(item_id: str, action: str, accept: tuple[tuple[int, ...], ...] = (), reason: str = "") -> Adjustment:
    """A decision not recorded (id 0), to preview (``preview``): e.g. which answer to accept."""
    return Adjustment(0, item_id, KeyAction(action), accept, reason)


def preview(course, exam: str, adj: Adjustment, applied: bool = False,
            results: list[Result] | None = None) -> Impact:
    """Whose points, totals and pass/fail change if ``adj`` is added to the decisions in force (nothing written).

    ``results``: the exam's results now, when the caller has them (``compute_results``)."""
    by_sitting = {r.sitting_id: r for r in (results if results is not None else compute_results(course, exam))}
    rule = course.recourse_settings.drop_cut_rule
    with course.db.read() as s:
        now = in_force(s, exam)
        proposed = dict(now)
        proposed.pop(adj.item_id, None)
        if adj.action != KeyAction.keep:
            proposed[adj.item_id] = adj
        out = Impact(adj.decision_id, adj.item_id, adj.action, adj.reason, applied)
        forms = require_forms(s, exam)
        conn = s.connection()
        submitted = sittings_q.select_submitted_with_candidates(s, exam)
        for f, m, entry in _entries(forms, adj.item_id):
            truth = scoring_run.form_truth(course, conn, m, False, proposed)
            matrix = select_score_matrix(conn, m.assignment)
            base = effective_cut(s, f, m)  # a recorded re-cut, else the manifest's
            old_max, old_cut = scale(m, now, rule, base)
            new_max, new_cut = scale(m, proposed, rule, base)
            gone_now, gone_new = adj.item_id in dropped(m, now), adj.item_id in dropped(m, proposed)
            for sit, form, _cand in submitted:
                if form.id != f.id or sit.id not in by_sitting:
                    continue
                r = by_sitting[sit.id]
                folder = course.submitted_dir / sit.candidate_id / m.assignment
                old = matrix.get(sit.candidate_id, entry.grade_id)
                if not folder.is_dir():
                    out.unread.append(f"{sit.candidate_id}/{m.assignment}: no submission folder")
                    continue
                scored = scoring_run._safe_score(truth, str(folder))
                if scored.set_aside:
                    out.unread.append(scored.set_aside)
                    continue
                new = scored.auto.get(entry.grade_id)
                total = r.total.score if not r.tampered else None
                new_total = None
                if total is not None:
                    before = 0.0 if gone_now else (old or 0.0)
                    after = 0.0 if gone_new else (new or 0.0)
                    new_total = total - before + after
                new_status = str(r.status)
                if new_total is not None and r.final:
                    new_status = str(Outcome.passed if new_total + 1e-9 >= new_cut else Outcome.failed)
                c = Change(sit.id, sit.candidate_id, r.candidate_name, m.assignment, entry.grade_id, old, new,
                           total, new_total, old_max, new_max, old_cut, new_cut, str(r.status), new_status, r.recorded)
                if c.rescored or not _same(old_max, new_max) or not _same(old_cut, new_cut):
                    out.changes.append(c)
    return out


@dataclass
class Applied:
    impact: Impact
    rescored: int = 0
    outcomes: list[tuple[int, str, str]] = field(default_factory=list)  # (sitting, was, now)
    reports: list[Path] = field(default_factory=list)
    newly: bool = False  # this call applied the decision (else it had been applied before)
    pdfs: str = ""  # what the caller did to the printable copies (PDF) of the reports written again, in words

    @property
    def nothing(self) -> bool:
        """Applied before, and nothing was left to change: a no-op."""
        return not self.newly and not self.rescored and not self.outcomes and not self.reports


def apply(course, exam: str, decision_id: int, actor: str, precision: Precision = None) -> Applied:
    """Apply a decision (see the module): exactly the changed cells re-scored, outcomes and reports
    of the affected sittings brought up to date. Applying it again changes nothing. ``precision``: each
    subscore's (``analysis.subscores``, from the caller), so a report written again shows only what it did."""
    imp = impact(course, exam, decision_id)
    done = Applied(imp)
    key = course_key(course)
    writes: dict[str, list[Change]] = {}
    for c in imp.changes:
        if c.rescored and c.new_points is not None:
            writes.setdefault(c.assignment, []).append(c)
    with course.db.transaction() as s:
        d = _decision(s, decision_id, exam)
        latest = max((x.id for x in recourse_q.select_key_decisions(s, exam) if x.item_id == d.item_id), default=d.id)
        if latest != d.id:
            raise ExamBuilderError(f"decision {d.id} on {d.item_id} was replaced by decision {latest}; apply that one")
        first_time = d.applied_at is None
        done.newly = first_time
        item = d.item_id
        if writes or first_time:  # applied again with nothing left to write: a no-op, nothing audited
            conn = s.connection()
            for assignment, changes in writes.items():
                writer = GradebookWriter(conn, assignment, assignment, key)
                writer.write([SubmissionScores(c.candidate_id, None, {c.grade_id: c.new_points}, {}) for c in changes])
                done.rescored += len(changes)
            if first_time:
                d.applied_at, d.applied_by = utcnow(), actor
            audit.record(s, actor, AuditAction.key_applied, "key_decision", d.id, d.reason, exam=exam, item=item,
                         decision=d.action,
                         rescored=[{"sitting": c.sitting_id, "assignment": c.assignment, "grade_id": c.grade_id,
                                    "old": c.old_points, "new": c.new_points} for cs in writes.values() for c in cs],
                         totals={str(c.sitting_id): [c.old_total, c.new_total] for c in imp.changes})
    affected = {c.sitting_id for c in imp.changes}
    done.outcomes = update_outcomes(course, exam, affected, actor,
                                    f"key validation: decision {decision_id} on {item} ({ACTION_TEXT[imp.action]})")
    if done.rescored or done.outcomes or first_time:
        done.reports = rewrite_reports(course, exam, affected, precision)
    return done


def update_outcomes(course, exam: str, sitting_ids: set[int], actor: str, why: str) -> list[tuple[int, str, str]]:
    """Record, through the ledger (audited), every recorded outcome of these sittings that their result
    now contradicts; (sitting, was, now) of each. Sittings without a recorded outcome wait for ``results``."""
    changed = []
    results = [r for r in compute_results(course, exam) if r.sitting_id in sitting_ids]
    with course.db.transaction() as s:
        for r in results:
            if r.final and r.recorded and r.recorded != r.status and not r.tampered:
                record_outcome(s, r.sitting_id, r.status == Outcome.passed, actor,
                               f"{why}: {r.total.text()} (cut score {r.cut_score:.2f})", zone=course.zone)
                changed.append((r.sitting_id, r.recorded, str(r.status)))
    return changed


def rewrite_reports(course, exam: str, sitting_ids: set[int] | None = None, precision: Precision = None) -> list[Path]:
    """The score reports of these sittings (every sitting's when None), written again from their results now;
    ``precision`` as ``write_feedback`` takes it (a subscore shown only where its reliability supports it)."""
    results: list[Result] = [r for r in compute_results(course, exam)
                             if sitting_ids is None or r.sitting_id in sitting_ids]
    return write_feedback(course, exam, results, precision) if results else []


def mark_provisional(course, exam: str, decision_id: int, precision: Precision = None) -> list[Path]:
    """After a decision is recorded (not applied yet): the score reports already written of the sittings whose
    form holds its item, written again now that their result is provisional (it waits for the decision), so no
    report says a result is final while a correction is pending. Reports not written yet are left to ``feedback``."""
    with course.db.read() as s:
        d = _decision(s, decision_id, exam)
        assignments = {m.assignment for _f, m, _e in _entries(require_forms(s, exam), d.item_id)}
    results = [r for r in compute_results(course, exam) if r.assignment in assignments and r.provisional
               and (course.feedback_path(r.candidate_id, r.assignment) / f"{r.assignment}.html").is_file()]
    return write_feedback(course, exam, results, precision) if results else []


def decisions(course, exam: str) -> list[KeyDecision]:
    """Every recorded decision of an exam, oldest first (detached copies for display)."""
    with course.db.read() as s:
        rows = recourse_q.select_key_decisions(s, exam)
        s.expunge_all()
        return rows


def unapplied(course, exam: str) -> list[KeyDecision]:
    """The latest decision per item when it is not applied yet and would change scoring (``adjust.waiting``: the
    same rule that keeps a result provisional, so ``close`` refuses exactly while a result waits for one)."""
    with course.db.read() as s:
        out = list(waiting(s, exam).values())
        s.expunge_all()
        return sorted(out, key=lambda d: d.id)


def close(course, exam: str, actor: str, note: str = "", precision: Precision = None) -> tuple[int, list[Path]]:
    """Close key validation of the sittings submitted so far: their results are final (no longer provisional).

    Refused while a decision is recorded but not applied. Audited (``key.closed``); the score reports
    are written again without "provisional". Returns (the closure's id, the reports written).
    """
    waiting = unapplied(course, exam)
    if waiting:
        raise ExamBuilderError("key validation cannot close: decision(s) "
                               + ", ".join(f"{d.id} on {d.item_id}" for d in waiting)
                               + " are recorded but not applied. Apply them (exam-builder keys apply), or record "
                               "'keep' for the item instead")
    with course.db.transaction() as s:
        require_forms(s, exam)
        # every sitting submitted so far is covered, even one stamped ahead of this clock (a simulated one)
        latest = max((at for _sid, _cand, _form, at in sittings_q.select_submitted(s, exam) if at), default=None)
        now = utcnow()
        row = KeyValidation(exam_id=exam, closed_at=now, covers_through=latest if latest and latest > now else None,
                            closed_by=actor, note=(note or "").strip())
        s.add(row)
        s.flush()
        audit.record(s, actor, AuditAction.key_closed, "exam", exam, row.note or "key validation closed",
                     closure=row.id)
        closure = row.id
    return closure, rewrite_reports(course, exam, None, precision)


def closed_at(course, exam: str) -> dt.datetime | None:
    with course.db.read() as s:
        row = recourse_q.select_last_closure(s, exam)
        return row.closed_at if row else None
