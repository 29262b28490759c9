"""From ratings to one score per open response, keeping its provenance.

Two ratings within ``ProgramPolicy.rating_tolerance`` resolve by ``rating_resolution`` (mean,
lower, higher); a wider gap waits for an adjudication, whose score then decides. The decision
(status, score, rule, which ratings) is stored in ``eb_item_score`` and mirrored into nbgrader's
gradebook (``grade.manual_score`` and the cell's comment, rubric levels included), audited in
the same transaction.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..errors import ExamBuilderError
from ..model.manifest import Manifest, grade_ids
from ..model.rubric import Rubric
from ..model.states import AuditAction, ItemScoreStatus, RatingRole
from ..records import audit
from ..records.models import Form, ItemScore, Rating, Sitting, utcnow
from ..records.queries import item_scores as item_scores_q, ratings as ratings_q
from ..settings.policy import ProgramPolicy
from .gradebook_sync import writer_for

ROLES: tuple[RatingRole, ...] = tuple(RatingRole)
EPS = 1e-9


@dataclass(frozen=True)
class Decision:
    status: ItemScoreStatus
    score: float | None = None
    rule: str | None = None  # single | mean | lower | higher | adjudicated | no_response
    rating_ids: tuple[int, ...] = ()


def second_needed(exam: str, item_id: str, sitting_id: int, share: float) -> bool:
    """Whether this response gets a second rating: a deterministic draw at ``share``."""
    if share >= 1:
        return True
    if share <= 0:
        return False
    digest = hashlib.sha256(f"second|{exam}|{item_id}|{sitting_id}".encode()).hexdigest()
    return int(digest[:15], 16) / 16**15 < share


def decide(ratings: dict[RatingRole, Rating], needs_second: bool, policy: ProgramPolicy) -> Decision:
    """The decision for one response from its ratings (pure)."""
    scored = {role: r for role, r in ratings.items() if r.score is not None}
    first, second = scored.get(RatingRole.first), scored.get(RatingRole.second)
    adj = scored.get(RatingRole.adjudication)
    if adj is not None:
        ids = tuple(r.id for r in (first, second, adj) if r is not None)
        return Decision(ItemScoreStatus.final, adj.score, "adjudicated", ids)
    if first is not None and not needs_second:
        return Decision(ItemScoreStatus.final, first.score, "single", (first.id,))
    if first is not None and second is not None:
        ids = (first.id, second.id)
        a, b = first.score, second.score
        assert a is not None and b is not None  # ``scored`` holds scored ratings only
        if abs(a - b) <= policy.rating_tolerance + EPS:
            rule = policy.rating_resolution
            value = {"mean": (a + b) / 2, "lower": min(a, b), "higher": max(a, b)}[rule]
            return Decision(ItemScoreStatus.final, value, rule, ids)
        return Decision(ItemScoreStatus.adjudication, None, None, ids)
    return Decision(ItemScoreStatus.pending, None, None, tuple(r.id for r in scored.values()))


@dataclass
class ResponseContext:
    """Where one response lives: its sitting, candidate, form and nbgrader grade cell."""

    sitting: Sitting
    manifest: Manifest
    number: int
    points: float

    @property
    def grade_id(self) -> str:
        return grade_ids(self.number)["grade"]

    @property
    def assignment(self) -> str:
        return self.manifest.assignment


def response_context(session: Session, sitting_id: int, item_id: str) -> ResponseContext:
    sitting = session.get(Sitting, sitting_id)
    if sitting is None:
        raise ExamBuilderError(f"no sitting {sitting_id}")
    manifests = session.info.setdefault("eb_manifests", {})  # parsed once per form and transaction
    if sitting.form_id not in manifests:
        form = session.get(Form, sitting.form_id)
        assert form is not None  # a sitting's form is never deleted
        manifests[sitting.form_id] = Manifest.model_validate(form.manifest)
    manifest = manifests[sitting.form_id]
    for entry in manifest.items:
        if entry.item_id == item_id:
            return ResponseContext(sitting, manifest, entry.number, entry.points)
    raise ExamBuilderError(f"item {item_id!r} is not on form {manifest.assignment} (sitting {sitting_id})")


def _level_text(rubric: Rubric | None, rating: Rating) -> str:
    if rubric is None:
        return ", ".join(f"{k}: {v:g}" for k, v in sorted(rating.levels.items()))
    parts = []
    for c in rubric.criteria:
        if c.id in rating.levels:
            try:
                lv = c.level(rating.levels[c.id])
                label = f"{lv.label} " if lv.label else ""
                parts.append(f"{c.name}: {label}({lv.points:g} of {c.max_points:g}) {lv.descriptor}".strip())
            except KeyError:
                parts.append(f"{c.name}: {rating.levels[c.id]:g}")
    return "; ".join(parts)


RULE_TEXT = {
    "single": "one rating",
    "mean": "the mean of two ratings",
    "lower": "the lower of two ratings",
    "higher": "the higher of two ratings",
    "adjudicated": "an adjudicated rating",
    "no_response": "no response was given",
}


def gradebook_comment(decision: Decision, ratings: list[Rating], rubric: Rubric | None, points: float) -> str | None:
    """The comment nbgrader shows with the score: the rule and the rubric levels of each rating."""
    if decision.status != ItemScoreStatus.final:
        return None
    if decision.rule == "no_response":
        return "No response."
    lines = [f"Rubric score: {decision.score:g} of {points:g} ({RULE_TEXT.get(decision.rule or '', decision.rule)})."]
    by_id = {r.id: r for r in ratings}
    used = [by_id[i] for i in decision.rating_ids if i in by_id]
    if decision.rule == "adjudicated":
        used = [r for r in used if r.role == RatingRole.adjudication]
    for n, r in enumerate(used, start=1):
        text = f"Rating {n}: {_level_text(rubric, r)}"
        if r.comment:
            text += f". Comment: {r.comment}"
        lines.append(text)
    return "\n".join(lines)


def ratings_of(session: Session, sitting_id: int, item_id: str) -> dict[RatingRole, Rating]:
    rows = ratings_q.select_ratings_of_response(session, sitting_id, item_id)
    return {r.role: r for r in rows}


def persist(session: Session, ctx: ResponseContext, item_id: str, decision: Decision, rubric: Rubric | None,
            ratings: list[Rating], actor: str, reason: str, key: bytes) -> bool:
    """Store the decision, mirror it into nbgrader's gradebook; audit when the score changes."""
    row = item_scores_q.select_item_score(session, ctx.sitting.id, item_id)
    old = (row.status, row.score, row.rule, tuple(row.rating_ids or ())) if row else None
    new = (decision.status, decision.score, decision.rule, tuple(decision.rating_ids))
    if old == new:
        return False
    if row is None:
        row = ItemScore(sitting_id=ctx.sitting.id, item_id=item_id)
        session.add(row)
    row.status, row.score, row.rule = decision.status, decision.score, decision.rule
    row.rating_ids = list(decision.rating_ids)
    row.rubric_hash = rubric.content_hash() if rubric else None
    row.decided_at = utcnow()
    session.flush()
    comment = gradebook_comment(decision, ratings, rubric, ctx.points)
    writer = writer_for(session, ctx.assignment, ctx.manifest.notebook, key)
    old_score = writer.set_manual(ctx.sitting.candidate_id, ctx.grade_id, decision.score, comment)
    audit.record(session, actor, AuditAction.item_score, "response", f"{ctx.sitting.id}:{item_id}", reason,
                 sitting=ctx.sitting.id, item=item_id, assignment=ctx.assignment, grade_id=ctx.grade_id,
                 status=decision.status, score=decision.score, old_score=old_score, rule=decision.rule,
                 ratings=list(decision.rating_ids))
    return True


def resolve(session: Session, sitting_id: int, item_id: str, policy: ProgramPolicy, rubric: Rubric | None,
            actor: str, reason: str, key: bytes, rerate: bool = False) -> Decision:
    """Decide one response from its current ratings and store the decision (caller's transaction)."""
    ctx = response_context(session, sitting_id, item_id)
    ratings = ratings_of(session, sitting_id, item_id)
    if rerate:
        decision = Decision(ItemScoreStatus.rerate, None, None,
                            tuple(r.id for r in ratings.values() if r.score is not None))
    else:
        needs = second_needed(ctx.sitting.exam_id, item_id, sitting_id, policy.double_rating_share)
        decision = decide(ratings, needs, policy)
    persist(session, ctx, item_id, decision, rubric, list(ratings.values()), actor, reason, key)
    return decision


#: The rule of a blank open response's score: 0 without any rating (``record_no_response``).
NO_RESPONSE = "no_response"


def record_no_response(session: Session, sitting_id: int, item_id: str, actor: str, key: bytes) -> bool:
    """A blank open response scores 0 without rating (as nbgrader does for an untouched cell)."""
    ctx = response_context(session, sitting_id, item_id)
    return persist(session, ctx, item_id, Decision(ItemScoreStatus.final, 0.0, NO_RESPONSE, ()), None, [], actor,
                   "no response was given", key)
