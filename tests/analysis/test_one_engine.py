"""One psychometrics engine and one score matrix: item statistics are computed only in
``analysis.psychometrics``, and points per cell come only from ``records.queries.gradebook``'s
``select_score_matrix`` (nbgrader's rule written once)."""
from __future__ import annotations

import ast
from pathlib import Path

import exam_builder
from exam_builder.analysis import psychometrics as pm
from exam_builder.analysis.items import form_stats
from exam_builder.model.item import Kind
from exam_builder.model.manifest import ManifestItem
from exam_builder.records.queries.gradebook import ScoreMatrix, cell_points

ROOT = Path(exam_builder.__file__).parent
ENGINE = ROOT / "analysis" / "psychometrics.py"
GRADEBOOK = ROOT / "records" / "queries" / "gradebook.py"
#: What computes a statistic: a correlation, a variance, coefficient alpha.
STATISTICS = {"corrcoef", "cronbach_alpha", "coefficient_alpha", "_corr", "_var", "_sample_var", "pearsonr"}


def _sources():
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_statistics_and_the_score_rule_live_in_one_place_each():
    defined, rule, raw = [], [], []
    for path, tree in _sources():
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in STATISTICS and path != ENGINE:
                defined.append(f"{where}: def {node.name}")
            if isinstance(node, ast.Attribute) and node.attr in {"corrcoef", "cronbach_alpha"} and path != ENGINE:
                defined.append(f"{where}: .{node.attr}")
            if isinstance(node, ast.IfExp) and "manual" in ast.unparse(node.test) and path != GRADEBOOK \
                    and where != "grading/seal.py":  # the seal says raw values in words (typed over, extra)
                rule.append(where)  # nbgrader's "manual over auto" rule for points, written again
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "select_cell_scores":
                raw.append(where)
    assert defined == [] and rule == []
    # raw cells (auto, manual, extra) are read only for the seal, which compares them, never for points
    assert set(raw) <= {"records/queries/gradebook.py", "grading/seal.py"}, raw


def test_nbgraders_rule_and_the_matrix_order():
    assert cell_points(1.0, None, None) == 1.0
    assert cell_points(1.0, 0.5, None) == 0.5  # a manual score wins
    assert cell_points(None, 2.0, 0.5) == 2.5 and cell_points(0.0, None, 1.0) == 1.0
    assert cell_points(None, None, 1.0) is None  # not scored: pending, never 0
    m = ScoreMatrix("f", {("a", "g1"): 1.0, ("a", "g2"): None, ("b", "g2"): 2.0}, [])
    assert m.matrix(["b", "a", "z"], ["g2", "g1"]) == [[2.0, None], [None, 1.0], [None, None]]
    assert m.get("a", "g1") == 1.0 and m.get("a", "nope") is None


def test_the_item_analysis_is_the_engines():
    """The command's figures are the engine's: facility and discrimination from ``item_stats``, alpha and the
    totals from ``form_summary``, at any sample size (discrimination from 3 candidates on)."""
    import pandas as pd

    items = [ManifestItem(number=n, item_id=f"i{n}", kind=Kind.true_false, points=p, competency="c",
                          content_hash="0" * 64, key="A") for n, p in ((1, 1), (2, 2), (3, 1))]
    matrix = [[1, 2, 1], [1, 1, 0], [0, 2, 0], [0, 0, 0], [1, 2, 1]]
    st = form_stats("f", items, matrix)
    scores = pd.DataFrame(matrix, dtype=float)
    points = pd.Series([1.0, 2.0, 1.0])
    engine = pm.item_stats(scores, points, min_n=0)
    assert [i.facility for i in st.items] == list(engine["facility"]) == [0.6, 0.7, 0.4]
    assert [i.discrimination for i in st.items] == list(engine["discrimination"])
    assert all(isinstance(i.discrimination, float) for i in st.items)
    summary = pm.form_summary(scores, points)
    assert (st.n, st.mean, st.sd, st.reliability) == (5, summary.mean, summary.sd, summary.alpha)
    assert round(st.reliability, 6) == round(pm.coefficient_alpha(scores), 6)
    # under 3 candidates no correlation; none at all: no figures, and no error
    assert [i.discrimination for i in form_stats("f", items, matrix[:2]).items] == [None, None, None]
    empty = form_stats("f", items, [])
    assert (empty.n, empty.mean, empty.reliability, [i.facility for i in empty.items]) == (0, None, None, [None] * 3)
