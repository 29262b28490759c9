"""Demo stage 'assembly': build and release the sample CPS exam's three forms.

Runs the same ``build`` as ``exam-builder build cps``: assembles three parallel forms from the
live items under ``source/cps/blueprint.yaml``, releases each with nbgrader's own
generate_assignment, proves ``release/`` holds no key, stores the manifests (audited) and
writes the keys and the form comparison to ``exports/cps/``. Then builds again to show that an
unchanged bank gives a no-op.

Reads from ``ctx.state``: nothing (the bank stage has checked the bank). Leaves in
``ctx.state``: ``"forms"``: the assignment names, e.g. ``["cps-A", "cps-B", "cps-C"]``;
``"form_keys"``: assignment -> path of its key CSV (staff side).
"""
from __future__ import annotations

from ...assembly.build import build
from ...assembly.exports import comparison_table
from ...errors import ExamBuilderError, rel


def _cuts(result) -> str:
    """The forms' cuts in points: one figure when they agree (the blueprint's), else each form's own (a standard
    in force gives each form its cut from its items' ratings)."""
    cuts = {o.manifest.form: o.manifest.cut_score for o in result.outcomes}
    if len(set(cuts.values())) == 1:
        return f"{next(iter(cuts.values())):.2f} points"
    return "by form " + ", ".join(f"{f} {c:.2f}" for f, c in cuts.items()) + " points (from the study's ratings)"


def run(ctx) -> None:
    course, console = ctx.course, ctx.console
    result = build(course, ctx.exam, actor=ctx.actor, reason="demo: forms for the spring cohort", console=console)
    bp = result.blueprint
    console.print(
        f"{bp.title}: {len(result.outcomes)} forms of {bp.items_per_form} questions, {bp.form_points:g} points, "
        f"cut score {_cuts(result)}, {bp.time_limit(course.policy)} minutes, seed "
        f"{result.assembly.manifests[0].seed}",
        highlight=False,
    )
    console.print(comparison_table(result.assembly, course.policy.competencies))
    for o in result.outcomes:
        m = o.manifest
        console.print(f"  {m.assignment}: {o.status}; released to "
                      f"{rel(course.release_dir / m.assignment, course.root)}/; "
                      f"manifest {m.hash()[:12]}", highlight=False)
    console.print(f"Keys (staff only): {rel(result.keys[0][0].parent, course.root)}/ "
                  f"({', '.join(p.name for pair in result.keys for p in pair)})", highlight=False)
    console.print(f"Form comparison: {rel(result.comparison, course.root)}", highlight=False)

    again = build(course, ctx.exam, actor=ctx.actor, console=console)
    if again.changed:
        raise ExamBuilderError("a second build of an unchanged bank changed forms; the build is not deterministic")
    console.print("Built again with nothing changed: a no-op (same manifests, same files).", highlight=False)
    ctx.state["forms"] = result.assignments
    ctx.state["form_keys"] = {m.assignment: str(csv) for m,
                              (csv, _) in zip((o.manifest for o in result.outcomes), result.keys, strict=False)}
