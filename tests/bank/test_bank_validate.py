"""The validator on banks built in memory: each rule, and the vocabulary as configuration."""
from __future__ import annotations

import math

import pytest
from bank_helpers import problem_lines, run_cli
from traitlets.config import Config

from exam_builder.bank import Bank
from exam_builder.bank.validate import validate
from exam_builder.model.item import Choice, Item, Kind, Scenario, Status, Where
from exam_builder.model.rubric import Rubric
from exam_builder.settings.policy import ProgramPolicy

POLICY = ProgramPolicy()


def choices(*texts: str, key: int = 0) -> tuple[Choice, ...]:
    return tuple(Choice(text=t, correct=(i == key)) for i, t in enumerate(texts))


def item(ident: str = "i-1", kind: Kind = Kind.multiple_choice, cell: int = 1, **over) -> Item:
    data = dict(
        id=ident, kind=kind, stem=f"Question {ident}?", points=1, competency="peer-support", module=1,
        status=Status.live, author="A. Rivera", reviewer="J. Chen", rationale="Because.",
        choices=choices("Listen", "Advise", "Refer") if kind is Kind.multiple_choice else
        choices("True", "False") if kind is Kind.true_false else (),
        where=Where(file="bank.ipynb", cell=cell),
    )
    data.update(over)
    return Item(**data)


def rubric(rid: str, max_points: float = 2, **over) -> Rubric:
    levels = [{"points": 0, "descriptor": "No"}, {"points": max_points, "descriptor": "Yes"}]
    return Rubric(**{"id": rid, "criteria": [{"id": "c", "name": "C", "levels": levels}], "file": f"rubrics/{rid}.yaml",
                     "line": 1, **over})


def check(*objs, rubrics=(), policy=POLICY, broken=None) -> list[str]:
    bank = Bank(
        items={o.id: o for o in objs if isinstance(o, Item)},
        scenarios={o.id: o for o in objs if isinstance(o, Scenario)},
    )
    return [str(p) for p in validate(bank, {r.id: r for r in rubrics}, policy, broken)]


def test_valid_items_have_no_problems():
    sc = Scenario(id="sc-1", title="T", text="Vignette.", where=Where(file="bank.ipynb", cell=2))
    assert check(
        item("mc-1"),
        item("tf-1", Kind.true_false, stem="Hope matters."),
        item("or-1", Kind.open_response, points=2),
        sc,
        item("sc-1a", cell=3, scenario="sc-1", stem="First?"),
        item("sc-1b", Kind.true_false, cell=4, scenario="sc-1", stem="Second."),
        rubrics=[rubric("or-1")],
    ) == []


@pytest.mark.parametrize(
    "over,expected",
    [
        ({"points": -1}, "points must be above 0 and at most 100 (it is -1); write e.g. 'points: 1'"),
        ({"points": math.inf}, "points must be above 0 and at most 100 (it is inf); write e.g. 'points: 1'"),
        ({"competency": ""},
         "no competency; add 'competency: <one of peer-support, in-but-not-of, change-agent>' to the header"),
        ({"competency": "change agent"}, "write the competency 'change agent' as its slug: 'competency: change-agent'"),
        ({"module": None}, "no module; add 'module: <one of 1, 2, 3, 4, 5, 6, 7, 8, 9>' to the header"),
        ({"difficulty": "Hard"}, "unknown difficulty 'Hard'; use one of easy, medium, hard"),
        ({"stem": ""}, "the item has no question (stem); write it on the lines below the header"),
        ({"choices": choices("Listen", "Advise", "Refer", key=9)},
         "no choice is marked as the key; mark the right answer '- [x]'"),
        ({"choices": ()},
         "a multiple-choice item needs at least 3 choices (it has 0); write each as '- [ ] text' below the stem"),
        ({"choices": choices("None of the above", "Neither of these", "Listen")},
         "choice A ('None of the above') must come last; 'all/none of the above' stays last when choices are shuffled"),
    ],
)
def test_one_rule_each(over, expected):
    assert check(item(**over)) == [f"bank.ipynb:cell 1 [i-1]: {expected}"]


def test_anchored_choices_may_share_the_end():
    assert check(item(choices=choices("Listen", "Advise", "All of the above", "None of the above"))) == []


def test_true_false_rules():
    tf = lambda **o: item("tf", Kind.true_false, **o)  # noqa: E731
    assert check(tf(choices=choices("true", "false"))) == [
        "bank.ipynb:cell 1 [tf]: a true/false item has exactly the choices True and False (it has 'true', 'false'); "
        "use those two, or make it [MC]"
    ]
    assert check(tf(choices=choices("True", "False", "Not sure", key=2))) == [
        "bank.ipynb:cell 1 [tf]: a true/false item has exactly the choices True and False (it has 'True', 'False', "
        "'Not sure'); use those two, or make it [MC]",
        "bank.ipynb:cell 1 [tf]: the key 'Not sure' is not True or False; mark True or False '- [x]'",
    ]
    assert check(tf(choices=())) == [
        "bank.ipynb:cell 1 [tf]: no choices; write '- [ ] True' and '- [ ] False' and mark the key '- [x]'"
    ]


def test_review_rules():
    assert check(item(status=Status.reviewed, reviewer="")) == [
        "bank.ipynb:cell 1 [i-1]: warning: status is reviewed but no reviewer is named; add 'reviewer: <name>'"
    ]
    assert check(item(status=Status.draft, reviewer="", author="", rationale="")) == [
        "bank.ipynb:cell 1 [i-1]: warning: no rationale; add '> **Rationale:** why the key is right' (it is shown in "
        "feedback)",
        "bank.ipynb:cell 1 [i-1]: warning: no author; add 'author: <name>' to the header",
    ]
    assert check(item(reviewer="a. rivera")) == [
        "bank.ipynb:cell 1 [i-1]: warning: A. Rivera is both author and reviewer; ask someone else to review it"
    ]


def test_open_response_and_rubric_links():
    orr = item("or-1", Kind.open_response, points=3, rubric="r-1")
    assert check(orr, rubrics=[rubric("r-1", 3, item="or-9")]) == [
        "bank.ipynb:cell 1 [or-1]: rubric 'r-1' (rubrics/r-1.yaml) says it scores item 'or-9', not this one; "
        "fix 'item:' in the rubric or 'rubric:' in this item"
    ]
    assert check(orr, broken={"r-1": "rubrics/r-1.yaml"}) == [
        "bank.ipynb:cell 1 [or-1]: rubric 'r-1' has errors (rubrics/r-1.yaml); fix them first"
    ]
    assert check(orr, rubrics=[rubric("r-1", 3), rubric("r-2")]) == [
        "rubrics/r-2.yaml:line 1 [r-2]: warning: rubric 'r-2' scores no item; give an [OR] item the id 'r-2' "
        "or 'rubric: r-2', or remove the file"
    ]


def test_scenario_with_one_item_and_id_shared_with_a_scenario():
    sc = Scenario(id="s-1", text="Vignette.", where=Where(file="bank.ipynb", cell=1))
    assert check(sc, item("s-1a", cell=2, scenario="s-1")) == [
        "bank.ipynb:cell 1 [s-1]: warning: only one item uses this scenario; a scenario is shared by several items "
        "(add another, or fold the vignette into the item's stem)"
    ]
    lines = check(sc, item("s-1", cell=2, scenario="s-1"))
    assert ("bank.ipynb:cell 1 [s-1]: scenario id 's-1' is also used at bank.ipynb:cell 2; give each item and "
            "scenario its own id") in lines
    assert ("bank.ipynb:cell 2 [s-1]: item id 's-1' is also used at bank.ipynb:cell 1; give each item and scenario "
            "its own id") in lines


def test_vocabulary_is_configuration():
    """Another program's competencies, modules and difficulty levels, set as traitlets."""
    cfg = Config()
    cfg.ProgramPolicy.competencies = {"ethics": "Ethics"}
    cfg.ProgramPolicy.modules = {"A1": "Intro"}
    cfg.ProgramPolicy.difficulty_levels = {"basic": 0.9}
    other = ProgramPolicy(config=cfg)
    assert check(item(competency="ethics", module=1, difficulty="basic"), policy=other) == [
        "bank.ipynb:cell 1 [i-1]: unknown module 1; use one of A1 (the vocabulary is c.ProgramPolicy.modules)"
    ]
    assert check(item(), policy=other) == [
        "bank.ipynb:cell 1 [i-1]: unknown competency 'peer-support'; use one of ethics (the vocabulary is "
        "c.ProgramPolicy.competencies)",
        "bank.ipynb:cell 1 [i-1]: unknown module 1; use one of A1 (the vocabulary is c.ProgramPolicy.modules)",
        "bank.ipynb:cell 1 [i-1]: unknown difficulty 'medium'; use one of basic",
    ]


def test_vocabulary_from_nbgrader_config(mini_course):
    """The check reads the vocabulary from the course's nbgrader_config.py."""
    with open(mini_course / "nbgrader_config.py", "a") as f:
        f.write('\nc.ProgramPolicy.competencies = {"peer-support": "Peer Support", "change-agent": "Change Agent"}\n')
    result = run_cli(mini_course, "check")
    assert result.exit_code == 1
    assert problem_lines(result.stdout) == [
        "source/cps/base.ipynb:cell 3 [base-mc-01]: unknown competency 'in-but-not-of'; use one of peer-support, "
        "change-agent (the vocabulary is c.ProgramPolicy.competencies)"
    ]
