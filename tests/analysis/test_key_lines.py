"""The key-validation line's own statistic, the strong candidates' choice, against a hand-worked example.

Worked by hand (no code of ours): ten candidates with objective totals 9, 8, 8, 7, 6, 5, 4, 3, 2, 1
and answers to one item keyed A. The strong group is the top 27% rounded up: ceil(2.7) = 3
candidates, the totals 9, 8, 8 (the tie at 8 fits inside the group). They answered B, B, A: the
distractor B has 2/3 of the group, the key 1/3, so the line flags B. With 30% the group is the same
3; with 10% it is the one candidate with 9, who chose B (share 1, key 0).
"""
from __future__ import annotations

import pytest

from exam_builder.analysis.keys import strong_choice, strong_group

TOTALS = [9, 8, 8, 7, 6, 5, 4, 3, 2, 1]
ANSWERS = ["B", "B", "A", "A", "A", "C", None, "A", "C", "C"]


def test_the_strong_group_is_the_top_share_rounded_up():
    assert strong_group(TOTALS, 0.27) == [0, 1, 2]
    assert strong_group(TOTALS, 0.30) == [0, 1, 2]
    assert strong_group(TOTALS, 0.10) == [0]
    assert strong_group([5, 5, 5], 0.27) == [0]  # ties at the border: the earlier sitting
    assert strong_group([], 0.27) == []


def test_the_distractor_the_strong_group_chose_with_its_share_and_the_keys():
    choice, share, key_share, n = strong_choice(ANSWERS, [float(t) for t in TOTALS], "A", 0.27)
    assert (choice, n) == ("B", 3)
    assert share == pytest.approx(2 / 3) and key_share == pytest.approx(1 / 3)
    assert strong_choice(ANSWERS, [float(t) for t in TOTALS], "A", 0.10) == ("B", 1.0, 0.0, 1)
    # everyone strong chose the key: no distractor, the key's share 1
    assert strong_choice(["A", "A", "B"], [3.0, 2.0, 1.0], "A", 0.5) == (None, None, 1.0, 2)
