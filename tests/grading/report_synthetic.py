"""A made-up window large enough for every section of the program's report (two forms of 40
candidates sharing items, choices with distractors, double ratings, two attempts, training end
dates and eligibility barriers), built as ``gather`` would return it, without a course."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from exam_builder.analysis.report import STANDING_COLUMNS, CutTrace, FormData, ReportData

LETTERS = "ABCD"


def big_window(n: int = 40, seed: int = 7) -> ReportData:
    rng = np.random.default_rng(seed)
    shared = ["core-01", "core-02", "core-03", "core-04"]
    forms, results, ratings = [], [], []
    sitting = 0
    for label, own, shift in (("A", [f"a-{i}" for i in range(6)], 0.0), ("B", [f"b-{i}" for i in range(6)], 0.4)):
        items = shared + own + [f"or-{label}"]
        numbers = list(range(1, len(items) + 1))
        ability = rng.normal(0, 1, n)
        difficulty = rng.normal(shift, 0.8, len(items))
        right = rng.random((n, len(items))) < 1 / (1 + np.exp(-(ability[:, None] - difficulty[None, :])))
        max_points = pd.Series([1.0] * (len(items) - 1) + [4.0], index=numbers)
        scores = right.astype(float)
        scores[:, -1] = np.clip(np.round(2 + ability + rng.normal(0, 0.5, n)), 0, 4)
        ids = list(range(sitting + 1, sitting + n + 1))
        sitting += n
        keys = pd.Series({num: "B" for num in numbers[:-1]}, dtype=object)
        choices = pd.DataFrame([[("B" if r else rng.choice(list("ACD"))) for r in row[:-1]] + [None] for row in right],
                               index=ids, columns=numbers, dtype=object)
        frame = pd.DataFrame(scores, index=ids, columns=numbers)
        forms.append(FormData(f"cps-{label}", label, 8.0, float(max_points.sum()), frame, max_points, choices, keys,
                              dict(zip(numbers, items, strict=False)), {num: ("open_response" if num == numbers[-1] else
                                                                "multiple_choice") for num in numbers}))
        for k, sid in enumerate(ids):
            total = float(frame.loc[sid].sum())
            results.append({"sitting": sid, "candidate": f"c{sid:03d}",
                            "cohort": f"2026-{'spring' if k % 2 else 'fall'}",
                            "form": label, "attempt": 1 + (k % 3 == 0), "status": "submitted",
                            "result": "pass" if total >= 8 else "fail", "total": total,
                            "max_total": float(max_points.sum()), "cut": 8.0,
                            "submitted_at": dt.datetime(2026, 3 + k % 3, 2, 12), "extended_time": k % 10 == 0,
                            "scribe": k == 5, "extra_minutes": 0, "sub:Recovery": total / max_points.sum()})
            decided = float(frame.loc[sid, numbers[-1]])
            for role, rater, noise in (("first", "Ann", 0), ("second", "Bo" if k % 2 else "Cy", rng.integers(-1, 2))):
                ratings.append({"response": f"{sid}:or-{label}", "item": f"or-{label}", "rater": rater, "role": role,
                                "score": float(np.clip(decided + noise, 0, 4)), "max_points": 4.0,
                                "decided": decided, "at": dt.datetime(2026, 3 + k % 3, 10)})
    res = pd.DataFrame(results)
    standing = []
    for k, cid in enumerate(sorted(res.candidate.unique())):
        passed = res[(res.candidate == cid) & (res.result == "pass")]
        barriers = () if len(passed) else (("no_attempts",) if k % 4 == 0 else ("waiting", "tutoring"))
        standing.append({"candidate": cid, "cohort": res[res.candidate == cid].cohort.iloc[0], "eligible": False if
                         barriers or len(passed) else True, "barriers": ("passed",) if len(passed) else barriers,
                         "sat": True, "training_ended_on": dt.date(2026, 2, 16) if k % 5 else None,
                         "first_sat_on": dt.date(2026, 3, 2),
                         "passed_on": passed.submitted_at.iloc[0].date() if len(passed) else None})
    for k in range(3):  # on the roster, never sat: late for or absent from too many modules
        standing.append({"candidate": f"x{k}", "cohort": "2026-fall", "eligible": False, "barriers": ("attendance",),
                         "sat": False, "training_ended_on": dt.date(2026, 2, 16), "first_sat_on": None,
                         "passed_on": None})
    return ReportData("cps", "CPS written exam", "all time", res, forms, pd.DataFrame(ratings),
                      pd.Series({"extended_time": 4, "scribe": 1}), 6, pd.DataFrame(standing, columns=STANDING_COLUMNS),
                      f"the {len(standing)} candidate(s) on the roster", cut_trace=trace())


def trace() -> CutTrace:
    """Where the cuts came from: study 2's decision in force, form A re-cut from it, form B built before it and
    kept; one key decision; key validation closed."""
    return CutTrace(
        studies=[(2, "Spring panel", "Modified Angoff")],
        decision={"id": 1, "study": 2, "adopted": 0.6, "recommended": 0.62, "round": 2, "by": "the board",
                  "on": "2026-03-01", "reason": "the panel's recommendation, less one SE",
                  "recorded_by": "Carla Coordinator", "recorded": "2026-03-01 10:00 EST"},
        forms=[{"form": "A", "cut": 8.0, "points": 14.0, "frozen": 8.5, "built": "2026-02-01 09:00 EST",
                "built_after_decision": False},
               {"form": "B", "cut": 8.0, "points": 14.0, "frozen": 8.0, "built": "2026-02-01 09:00 EST",
                "built_after_decision": False}],
        recuts=[{"form": "A", "previous": 8.5, "cut": 8.0, "decision": 1, "reason": "board adopted study 2",
                 "by": "Carla Coordinator", "at": "2026-03-02 09:00 EST"}],
        keys=[{"item": "core-02", "action": "another answer accepted as well", "reason": "two answers defensible",
               "by": "Carla Coordinator", "at": "2026-03-03 09:00 EST", "applied": "2026-03-03 09:05 EST"}],
        closed=("2026-03-04 09:00 EST", "Carla Coordinator"))
