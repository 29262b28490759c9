"""Property: any valid item survives parse -> render -> parse, and a notebook's write-back."""
from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
from bank_helpers import write_notebook
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from exam_builder.bank import Bank
from exam_builder.bank.parse import (
    ALMOST_CHOICE,
    CHOICE,
    parse_cell,
    parse_notebook,
    render_item,
    render_scenario,
    write_back,
)
from exam_builder.bank.validate import validate
from exam_builder.model.item import METADATA_KEY, Choice, Item, Kind, Scenario, Status, Where
from exam_builder.model.rubric import Rubric
from exam_builder.settings.policy import ProgramPolicy
from exam_builder.text import BIDI_CONTROLS, text_problem

POLICY = ProgramPolicy()
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# one line of author text: no line breaks, no header separators, trimmed (the parser trims), and
# nothing the one text rule refuses (bidi controls, noncharacters: issue 23)
line = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                          blacklist_characters="·|" + "".join(BIDI_CONTROLS)),
            min_size=1, max_size=30)
    .map(str.strip)
    .filter(lambda s: bool(s) and text_problem(s) is None)
)
# a stem line must not read as a choice or as the rationale
stem_line = line.filter(lambda s: not s.startswith(">") and not CHOICE.match(s) and not ALMOST_CHOICE.match(s))
stem = st.lists(st.one_of(stem_line, st.just("")), min_size=1,
                max_size=4).map(lambda ls: "\n".join(ls).strip()).filter(bool)
rationale = (
    st.lists(st.one_of(line, st.just("")), max_size=3)
    .map(lambda ls: "\n".join(ls).strip())
    .filter(lambda s: not s.lower().startswith("**rationale"))
)
ident = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,12}", fullmatch=True)
name = line
points = st.one_of(st.integers(1, 20).map(float), st.floats(0.01, 100, allow_nan=False, allow_infinity=False))


@st.composite
def items(draw, item_id=None, scenario: str | None = None) -> Item:
    kind = draw(st.sampled_from(list(Kind)))
    if kind is Kind.true_false:
        texts = ["True", "False"]
    elif kind in (Kind.multiple_choice, Kind.multiple_select):
        texts = draw(st.lists(line, min_size=3, max_size=6, unique_by=lambda s: s.casefold()))
    else:
        texts = []
    if kind is Kind.multiple_select:  # two or more keys, and a scoring rule or the default
        keys = draw(st.sets(st.integers(0, len(texts) - 1), min_size=2, max_size=len(texts)))
        scoring = draw(st.sampled_from([None, "all-or-nothing", "partial"]))
    else:
        keys = {draw(st.integers(0, len(texts) - 1))} if texts else set()
        scoring = None
    status = draw(st.sampled_from(list(Status)))
    author = draw(name)
    reviewer = draw(name.filter(lambda r: r.casefold() != author.casefold()))
    return Item(
        id=item_id or draw(ident),
        kind=kind,
        stem=draw(stem),
        choices=tuple(Choice(text=t, correct=(i in keys)) for i, t in enumerate(texts)),
        points=draw(points),
        competency=draw(st.sampled_from(sorted(POLICY.competencies))),
        module=draw(st.sampled_from(sorted(POLICY.modules))),
        difficulty=draw(st.sampled_from(sorted(POLICY.difficulty_levels))),
        status=status,
        author=author,
        reviewer=reviewer,
        rationale=draw(rationale),
        rubric=draw(st.one_of(st.none(), ident)) if kind is Kind.open_response else None,
        scenario=scenario,
        scoring=scoring,
    )


def rubric_for(item: Item) -> Rubric:
    return Rubric(
        id=item.rubric_id,
        criteria=[{"id": "c", "name": "C",
                   "levels": [{"points": 0, "descriptor": "No"}, {"points": item.points, "descriptor": "Yes"}]}],
    )


def errors(bank_items: list[Item], scenarios: list[Scenario] = ()) -> list[str]:
    bank = Bank(items={i.id: i for i in bank_items}, scenarios={s.id: s for s in scenarios})
    rubrics = {i.rubric_id: rubric_for(i) for i in bank_items if i.kind is Kind.open_response}
    return [str(p) for p in validate(bank, rubrics, POLICY) if p.is_error]


@SETTINGS
@given(items())
def test_parse_render_parse(item: Item):
    item = item.model_copy(update={"where": Where(file="f.ipynb", cell=2)})
    assume(not errors([item]))  # e.g. two choices that read the same, or 'none of the above' first
    text = render_item(item)
    parsed, problems = parse_cell(text, item.where)
    assert problems == []
    assert parsed == item
    assert render_item(parsed) == text


@SETTINGS
@given(st.data())
def test_notebook_write_back_round_trip(data):
    scenario = Scenario(id="sc-" + data.draw(ident), title=data.draw(name), text=data.draw(stem))
    n_items = data.draw(st.integers(2, 5))
    ids = data.draw(st.lists(ident, min_size=n_items, max_size=n_items,
                             unique=True).filter(lambda ids: scenario.id not in ids))
    joined = data.draw(st.integers(2, n_items))  # the first `joined` items share the scenario
    drawn = [data.draw(items(item_id=i, scenario=scenario.id if k < joined else None)) for k, i in enumerate(ids)]
    assume(not errors(drawn, [scenario]))

    with tempfile.TemporaryDirectory() as tmp:
        path = write_notebook(Path(tmp) / "bank.ipynb", "# Sample bank\n\nMade up.", render_scenario(scenario),
                              *(render_item(i) for i in drawn))
        first = parse_notebook(path, "bank.ipynb")
        assert first.problems == []
        expected = [i.model_copy(update={"where": Where(file="bank.ipynb", cell=k)}) for k,
                    i in enumerate(drawn, start=3)]
        assert first.items == expected
        assert first.scenarios == [scenario.model_copy(update={"where": Where(file="bank.ipynb", cell=2)})]

        assert write_back(path, first.items, first.scenarios) is True
        again = parse_notebook(path, "bank.ipynb")
        assert again.items == first.items and again.scenarios == first.scenarios
        nb = nbformat.read(str(path), as_version=4)
        for cell, item in zip(nb.cells[2:], first.items, strict=False):
            stored = Item.model_validate(cell.metadata[METADATA_KEY]["item"])
            assert stored == item.model_copy(update={"where": Where()})
        # the text was already canonical: normalizing changes nothing more
        assert write_back(path, again.items, again.scenarios, normalize=True) is False
