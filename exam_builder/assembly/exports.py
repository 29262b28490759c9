"""Outputs for authors, staff side (``exports/<exam>/``, git-ignored): keys and the form comparison."""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from rich.table import Table

from ..bank import Bank
from ..files import check_owned
from ..kinds import kind_for
from ..model.manifest import Manifest
from .assemble import Assembly
from .release import write_atomic

KEY_COLUMNS = ["number", "grade_id", "item_id", "kind", "competency", "module", "points", "key", "key_text",
               "rubric", "scenario", "difficulty", "anchor"]


def _env() -> Environment:
    return Environment(loader=PackageLoader("exam_builder.assembly", "templates"),
                       autoescape=select_autoescape(["html", "j2"]), keep_trailing_newline=True)


def key_rows(manifest: Manifest, bank: Bank) -> list[dict]:
    rows = []
    for e in manifest.items:
        item = bank.items.get(e.item_id)
        key_text = ""
        if e.key and item is not None:
            key_text = kind_for(e.kind).key_text(e, item)
        rows.append({
            "number": e.number, "grade_id": e.grade_id, "item_id": e.item_id, "kind": e.kind.value,
            "competency": e.competency, "module": "" if e.module is None else e.module,
            "points": f"{e.points:g}", "key": e.key or "", "key_text": key_text, "rubric": e.rubric or "",
            "scenario": e.scenario or "", "difficulty": e.difficulty, "anchor": "yes" if e.anchor else "",
        })
    return rows


def key_paths(folder: Path, manifest: Manifest) -> tuple[Path, Path]:
    """Where the key of one form goes: CSV and HTML in ``keys/`` of the exam's exports folder
    (``Course.exports_dir``: ``exports/<exam>/``)."""
    keys = folder / "keys"
    return keys / f"{manifest.assignment}-key.csv", keys / f"{manifest.assignment}-key.html"


def comparison_path(folder: Path, exam: str, assembly: Assembly) -> Path:
    """Where the form comparison of an assembly goes, in the exam's exports folder."""
    labels = "".join(m.form for m in assembly.manifests)
    return folder / f"{exam}-forms-{labels}.html"


def write_key(folder: Path, root: Path, manifest: Manifest, bank: Bank) -> tuple[Path, Path]:
    """The key of one form as CSV and as a printable HTML page, in the exam's exports ``folder`` of the
    course at ``root``."""
    rows = key_rows(manifest, bank)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=KEY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    csv_path, html_path = key_paths(folder, manifest)
    html = _env().get_template("form_key.html.j2").render(m=manifest, rows=rows, manifest_hash=manifest.hash())
    check_owned(csv_path, root)  # both checked before either is written
    check_owned(html_path, root)
    write_atomic(csv_path, buf.getvalue(), root=root)
    write_atomic(html_path, html, root=root)
    return csv_path, html_path


def cut_cells(assembly: Assembly, cuts: Mapping[str, tuple[float, str]]) -> list[str]:
    """Each form's points to pass, with its share of the form's points (``*``: a frozen cut, see ``cut_notes``)."""
    return [f"{cuts[b.label][0]:.2f} ({cuts[b.label][0] / b.points:.1%})" + ("*" if cuts[b.label][1] else "")
            if b.label in cuts and b.points else "" for b in assembly.balance]


def cut_notes(cuts: Mapping[str, tuple[float, str]]) -> list[str]:
    """Why a form's points to pass are not the ones this build gives (a form kept as issued)."""
    return [f"* form {label}: {note}" for label, (_cut, note) in cuts.items() if note]


def write_comparison(folder: Path, root: Path, exam: str, assembly: Assembly, competencies: dict[str, str],
                     max_overlap: int, cuts: Mapping[str, tuple[float, str]] | None = None,
                     cut_source: str = "") -> Path:
    """The form comparison: points per competency, expected difficulty, each form's points to pass and where
    they come from (``cuts``, ``cut_source``: ``build.BuildResult``), overlap matrix."""
    first = assembly.manifests[0]
    path = comparison_path(folder, exam, assembly)
    used = sorted({c for b in assembly.balance for c in b.points_by_competency},
                  key=lambda c: list(competencies).index(c) if c in competencies else len(competencies))
    html = _env().get_template("form_comparison.html.j2").render(
        title=first.title, seed=first.seed, balance=assembly.balance, overlap=assembly.overlap,
        tolerance=assembly.tolerance, spread=assembly.spread, difficulty_source=assembly.difficulty_source,
        competencies=[(c, competencies.get(c, c)) for c in used], max_overlap=max_overlap,
        cuts=cut_cells(assembly, cuts or {}) if cuts else [], cut_source=cut_source, cut_notes=cut_notes(cuts or {}),
    )
    write_atomic(path, html, root=root)
    return path


def comparison_table(assembly: Assembly, competencies: dict[str, str],
                     cuts: Mapping[str, tuple[float, str]] | None = None) -> Table:
    """The balance report for the terminal, with each form's points to pass (``cut_lines`` says where they come
    from)."""
    table = Table(title=f"Forms compared (difficulty: {assembly.difficulty_source})")
    table.add_column("")
    for b in assembly.balance:
        table.add_column(f"Form {b.label}", justify="right")
    table.add_row("Questions", *[str(b.items) for b in assembly.balance])
    table.add_row("Total points", *[f"{b.points:g}" for b in assembly.balance])
    comps = sorted({c for b in assembly.balance for c in b.points_by_competency},
                   key=lambda c: list(competencies).index(c) if c in competencies else 99)
    for c in comps:
        table.add_row(competencies.get(c, c), *[f"{b.points_by_competency.get(c, 0):g}" for b in assembly.balance])
    table.add_row("Expected score", *[f"{b.expected:.1%}" for b in assembly.balance])
    if cuts:
        table.add_row("Points to pass", *cut_cells(assembly, cuts))
    for a in assembly.balance:
        table.add_row(f"Shared with {a.label}",
                      *[str(assembly.overlap[(a.label, b.label)]) if a.label != b.label else "·"
                                                  for b in assembly.balance])
    ok = "within" if assembly.spread <= assembly.tolerance + 1e-9 else "OUTSIDE"
    table.caption = f"spread of expected scores {assembly.spread:.1%}, {ok} the tolerance of {assembly.tolerance:.1%}"
    return table


def cut_lines(cuts: Mapping[str, tuple[float, str]], cut_source: str) -> list[str]:
    """Under the table: where the points to pass come from, and why a form kept as issued has other ones."""
    return ([f"points to pass: {cut_source}"] if cuts and cut_source else []) + cut_notes(cuts)
