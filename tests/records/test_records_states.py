"""model.states: each state reads, compares and serialises as its value; every lifecycle column
of the models is typed with its enum and listed in ``COLUMNS``."""
from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import Enum

from exam_builder.model import states as st
from exam_builder.records.models import Base

ENUMS = sorted(set(st.COLUMNS.values()), key=lambda e: e.__name__)


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_a_state_is_its_value(enum):
    for member in enum:
        v = member.value
        assert member == v and hash(member) == hash(v) and {v: 1}[member] == 1 and {member: 1}[v] == 1
        assert str(member) == v and f"{member}" == v and format(member,
                                                                ">20") == format(v, ">20") and "%s" % member == v
        assert json.dumps({member: [member]}) == json.dumps({v: [v]})
        out = io.StringIO()
        csv.writer(out).writerow([member])
        assert out.getvalue().strip() == v
        assert member.replace("_", " ") == v.replace("_", " ")
        assert enum(v) is member
        assert member.__doc__ and member.__doc__ != enum.__doc__, f"{enum.__name__}.{member.name} says what it means"


def test_every_state_column_is_typed_and_listed():
    typed = {(t.name, c.name): c.type.enum_class for t in Base.metadata.sorted_tables for c in t.columns
             if isinstance(c.type, Enum)}
    assert typed == st.COLUMNS
    for (table, column), enum in st.COLUMNS.items():
        col = Base.metadata.tables[table].c[column]
        assert col.type.length >= max(len(v) for v in enum.values())


def test_sitting_helpers():
    assert [s for s in st.SittingStatus if s.is_open] == list(st.SITTING_OPEN) == ["scheduled", "in_progress"]
    finished = ["submitted", "voided", "absent"]
    assert [s for s in st.SittingStatus if s.is_finished] == list(st.SITTING_FINISHED) == finished
    assert "in_progress" in st.SITTING_OPEN
    assert st.Outcome("pass") is st.Outcome.passed and st.Outcome.failed == "fail"
