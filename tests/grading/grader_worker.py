"""A scripted grader in its own process: signs in, picks an item and rates until nothing is left.

Used by the concurrency test; it goes through ``GraderSession`` (the app's code path) and
types level numbers as a grader would. Prints how many ratings it saved.
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from exam_builder.course import Course
from exam_builder.grading.grader_app import GraderSession


def main(root: str, exam: str, item: str, rater: str, start_flag: str) -> None:
    while not Path(start_flag).exists():  # start together with the other graders
        time.sleep(0.01)
    session = GraderSession(Course(root), exam)
    session.sign_in(rater)
    session.pick(item)
    rng = random.Random(rater)
    saved = 0
    while session.current is not None:
        digits = "".join(str(rng.randint(1, len(c.levels))) for c in session.rubric.criteria)
        assert session.keys(digits + "\n")
        saved += 1
    print(saved, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:6])
