"""docs/qti.md's table of constructs is the code's (``qti.content.CONSTRUCTS``): every row, every name, what
import does with it and what it becomes; a change to one without the other fails here."""
from __future__ import annotations

import re

from qti_kit import REPO

from exam_builder.qti.content import CONSTRUCTS


def test_the_docs_table_of_constructs_is_the_codes():
    text = (REPO / "docs" / "qti.md").read_text()
    start = text.index("| construct | import | becomes |")
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        rows.append(cells)
    documented = {}
    for names, severity, becomes in rows:
        for name in re.findall(r"`([^`]+)`", names):
            assert name not in documented, f"{name} is in two rows"
            documented[name] = (severity, becomes)
    assert documented == {n: (r.severity, r.becomes) for n, r in CONSTRUCTS.items()}


def test_the_one_rule_holds_in_the_table():
    """What a candidate would not see is never a warning; formatting is never an error."""
    for name in ("img", "math", "table", "video", "qti-catalog-info", "qti-feedback-inline", "qti-printed-variable"):
        assert CONSTRUCTS[name].severity == "error", name
    for name in ("strong", "em", "span", "qti-stylesheet", "h2", "blockquote"):
        assert CONSTRUCTS[name].severity == "warning", name
