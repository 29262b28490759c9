"""Commands of the assembly domain: build and release forms, lint them.

``build`` checks the database's revision itself (``assembly.build``), after the bank and the
blueprint are valid, so an author sees their problems before any about the database; ``lint``
takes a database at the current revision (``pass_course_db``).
"""
from __future__ import annotations

from pathlib import Path

import click

from ..course import Course
from ..errors import ExamBuilderError
from .common import by_option, console, pass_course, pass_course_db, reason_option


def balancing_stats(course: Course, exam: str, item_stats: Path | None = None,
                    author_estimates: bool = False) -> tuple[dict[str, float] | None, bool]:
    """The facilities forms are balanced on, and whether they come from past sittings.

    A CSV of item statistics wins; else past sittings' facility (items with enough scored
    responses), unless ``author_estimates`` or the course has no sittings yet: ``None`` then,
    and the authors' estimates are used. Here, above analysis (docs/architecture.md): the build
    takes the facilities as it is given them (``p_values``), never reading past sittings itself.
    """
    if item_stats:
        from ..assembly.build import read_item_stats

        return read_item_stats(item_stats, course.root), False
    if author_estimates or not course.db.has_table("eb_sitting"):
        return None, False
    from ..records.queries.sittings import select_any_submitted

    with course.db.read() as s:  # a course with no sittings yet: no pandas and scipy to load (a second or two)
        if not select_any_submitted(s, exam):
            return None, False
    from ..analysis.items import past_item_stats

    p_values = past_item_stats(course, exam) or None
    return p_values, p_values is not None


@click.command()
@click.argument("exam")
@click.option("--forms", "n_forms", type=click.IntRange(1, 26), default=None,
              help="Number of forms (default: the blueprint's).")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None, help="Seed (default: the blueprint's).")
@click.option("--first-label", default="A", show_default=True,
              help="Label of the first form; use a later letter to build new forms beside issued ones.")
@click.option("--item-stats", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="CSV (item_id,p_value) of item statistics; replaces author estimates "
                   "(default: facility from this exam's past sittings, where an item has 30+ scored responses).")
@click.option("--author-estimates", is_flag=True,
              help="Balance on the authors' estimates only, ignoring past sittings.")
@by_option("Who builds (default: $EXAM_BUILDER_USER or the login name).")
@reason_option("Why the forms are (re)built; kept in the audit trail.", required=False, default="")
@pass_course
def build(course, exam: str, n_forms: int | None, seed: int | None, first_label: str, item_stats: Path | None,
          author_estimates: bool, actor: str | None, reason: str) -> None:
    """Assemble the forms of EXAM, release them with nbgrader and write the keys to exports/."""
    from ..assembly.build import build as run_build
    from ..assembly.exports import comparison_table, cut_lines

    if item_stats is not None:
        course.require_inside(item_stats)  # the link rule of every command, for a sheet kept in the course
    p_values, from_past = balancing_stats(course, exam, item_stats, author_estimates)
    if from_past:
        console.print(f"balancing on past sittings' facility for {len(p_values)} item(s); authors' estimates for the "
                      "rest")
    result = run_build(course, exam, forms=n_forms, seed=seed, first_label=first_label.upper(), p_values=p_values,
                       actor=actor, reason=reason, console=console)
    console.print(comparison_table(result.assembly, course.policy.competencies, result.cuts))
    for line in cut_lines(result.cuts, result.cut_source):
        console.print(line, highlight=False, markup=False)
    if not result.changed:
        console.print(f"[green]nothing changed[/]: forms {', '.join(result.assignments)} are already built and "
                      "released "
                      f"as the bank, blueprint and seed {result.assembly.manifests[0].seed} give them.")
    else:
        for o in result.outcomes:
            console.print(f"  {o.manifest.assignment}: {o.status}")
        console.print(f"[green]released[/] {len(result.changed)} form(s) to {course.release_dir}/ (no key material "
                      "found there)")
    console.print(f"keys (staff only): {result.keys[0][0].parent}/")
    console.print(f"form comparison: {result.comparison}")


@click.command()
@click.argument("exam")
@pass_course_db
def lint(course, exam: str) -> None:
    """Check the stored forms of EXAM and prove release/ holds no key material."""
    from ..assembly.build import lint_stored

    problems, n_forms, n_files = lint_stored(course, exam)
    for p in problems:
        console.print(str(p), highlight=False, markup=False)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise ExamBuilderError(f"lint: {len(errors)} problem(s) in the forms of {exam} or in release/; fix them and "
                               "build again")
    console.print(f"lint: {n_forms} form(s) of {exam} are keyed, equal in points per competency, with unique grade ids "
                  f"and rubrics; {n_files} file(s) under release/ hold no key material.")


COMMANDS = [build, lint]
