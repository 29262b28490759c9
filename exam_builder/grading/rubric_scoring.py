"""Rubric scoring: one level per criterion, the score is the sum; re-applied when a rubric changes.

A rating stores the chosen level of each criterion by criterion id and level points. When an
author edits a rubric after scoring has begun, every rating made with the old version is
re-applied to the new one: criteria and levels that still exist keep their choice and the
score is recomputed; a rating whose chosen level (or a criterion) no longer exists goes back to
its grader for re-rating and is flagged. Every change is audited with who and why.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ExamBuilderError
from ..model.rubric import Rubric
from ..model.states import AuditAction, ScoreFlagKind
from ..records import audit
from ..records.models import ScoreFlag, utcnow
from ..records.queries import ratings as ratings_q, score_flags as score_flags_q
from .resolution import resolve, response_context
from .seal import course_key

EPS = 1e-9


def check_levels(rubric: Rubric, levels: dict[str, float]) -> dict[str, float]:
    """The chosen levels as criterion id -> points, or an error saying what to choose."""
    problems = []
    known = {c.id for c in rubric.criteria}
    for cid in levels:
        if cid not in known:
            problems.append(f"criterion {cid!r} is not in rubric {rubric.id!r} (its criteria: "
                            f"{', '.join(c.id for c in rubric.criteria)})")
    clean: dict[str, float] = {}
    for c in rubric.criteria:
        if c.id not in levels or levels[c.id] is None:
            problems.append(f"choose a level for '{c.name}' (criterion {c.id})")  # the id is what a command takes
            continue
        try:
            points = float(levels[c.id])
            c.level(points)
        except (KeyError, TypeError, ValueError):
            valid = ", ".join(f"{lv.points:g}" for lv in c.levels)
            problems.append(f"'{c.name}' has no level worth {levels[c.id]!r} (levels: {valid})")
            continue
        clean[c.id] = points
    if problems:
        raise ExamBuilderError(f"rubric {rubric.id}: " + "; ".join(problems))
    return clean


def rubric_score(rubric: Rubric, levels: dict[str, float]) -> float:
    """The sum of the chosen levels (validated)."""
    return rubric.score(check_levels(rubric, levels))


def check_fits(rubric: Rubric, points: float, where: str) -> None:
    """A rubric's maximum must equal the item's points on the form, or scores would not add up."""
    if abs(rubric.max_points - points) > EPS:
        raise ExamBuilderError(
            f"{rubric.file or 'rubric ' + rubric.id}: its criteria add up to {rubric.max_points:g} points but the item "
            f"is worth {points:g} on {where}; make the top levels add up to {points:g}"
        )


def remap(old: dict[str, float], rubric: Rubric) -> tuple[dict[str, float], list[str]]:
    """Carry chosen levels over to an edited rubric: what still exists, and what must be re-rated."""
    kept, missing = {}, []
    for c in rubric.criteria:
        if c.id in old:
            try:
                c.level(float(old[c.id]))
                kept[c.id] = float(old[c.id])
                continue
            except (KeyError, TypeError, ValueError):
                pass
        missing.append(c.id)
    return kept, missing


@dataclass
class Reapplied:
    rubric: str
    rescored: list[tuple[int, float | None, float]] = field(default_factory=list)  # rating, old, new
    rerate: list[int] = field(default_factory=list)  # ratings sent back to their grader
    unchanged: int = 0


def reapply(course, exam: str, rubric: Rubric, actor: str, reason: str = "rubric edited") -> Reapplied:
    """Re-apply an edited rubric to every rating of ``exam`` made with another version (one transaction)."""
    new_hash = rubric.content_hash()
    result = Reapplied(rubric.id)
    policy = course.policy
    seal_key = course_key(course)
    with course.db.transaction() as s:
        ratings = ratings_q.select_ratings_on_older_rubric(s, exam, rubric.id, new_hash)
        if not ratings:
            return result
        contexts = {}
        for r in ratings:  # validate everything before changing anything
            key = (r.sitting_id, r.item_id)
            if key not in contexts:
                contexts[key] = response_context(s, r.sitting_id, r.item_id)
                check_fits(rubric, contexts[key].points, contexts[key].assignment)
        touched: dict[tuple[int, str], bool] = {}
        for r in ratings:
            ctx = contexts[(r.sitting_id, r.item_id)]
            old_hash = r.rubric_hash
            r.rubric_hash = new_hash
            if r.score is None:  # only claimed: nothing to re-apply
                continue
            kept, missing = remap(dict(r.levels or {}), rubric)
            if missing:
                old = r.score
                r.levels, r.score, r.scored_at, r.claimed_at = kept, None, None, utcnow()
                result.rerate.append(r.id)
                names = ", ".join(c.name for c in rubric.criteria if c.id in missing)
                s.add(ScoreFlag(assignment=ctx.assignment, candidate_id=ctx.sitting.candidate_id, grade_id=ctx.grade_id,
                                kind=ScoreFlagKind.rerate, details=f"rubric {rubric.id} was edited: re-rate {names} "
                                                                   f"({r.role} rating by {r.rater})"))
                audit.record(s, actor, AuditAction.rating_rerate, "rating", r.id, reason, sitting=r.sitting_id,
                             item=r.item_id, role=r.role, rater=r.rater, old_score=old, missing=missing,
                             old_rubric=old_hash, rubric=new_hash)
                touched[(r.sitting_id, r.item_id)] = True
                continue
            new = rubric.score(kept)
            if abs(new - r.score) > EPS or kept != r.levels:
                result.rescored.append((r.id, r.score, new))
                audit.record(s, actor, AuditAction.rating_reapplied, "rating", r.id, reason, sitting=r.sitting_id,
                             item=r.item_id, role=r.role, rater=r.rater, old_score=r.score, score=new,
                             old_rubric=old_hash, rubric=new_hash)
                r.levels, r.score = kept, new
            else:
                result.unchanged += 1
            touched.setdefault((r.sitting_id, r.item_id), False)
        s.flush()
        for (sitting_id, item_id), rerate in touched.items():
            resolve(s, sitting_id, item_id, policy, rubric, actor, reason, seal_key, rerate=rerate)
    return result


def clear_rerate_flag(session, assignment: str, candidate_id: str, grade_id: str) -> None:
    """A re-rated response is no longer waiting: drop its flag."""
    score_flags_q.delete_cell_flag(session, assignment, candidate_id, grade_id, ScoreFlagKind.rerate)
