"""A separate process that starts attempts when told to, for the concurrent-start race test.

Each worker has its own engine and connection, as two proctor laptops (or two app servers)
would; both wait at a barrier and then call the ledger at the same moment.
"""
from __future__ import annotations

from exam_builder.course import Course
from exam_builder.errors import ExamBuilderError


def serve(course_root: str, db_url: str, barrier, tasks, results) -> None:
    from traitlets.config import Config

    from exam_builder.records.ledger import NotEligible, open_sitting
    from exam_builder.settings.policy import ProgramPolicy

    course = Course(course_root, db_url=db_url)
    pol = ProgramPolicy(config=Config({"ProgramPolicy": {"waiting_period_days": 0}}))
    with course.db.read() as s:  # connect before the first round
        s.connection()
    results.put(("ready", None, None))
    while True:
        task = tasks.get()
        if task is None:
            break
        candidate = task
        try:
            barrier.wait(timeout=60)
            with course.db.transaction() as s:
                sitting = open_sitting(s, pol, candidate, "cps", "race-proctor", room="race", zone=course.zone)
                attempt = sitting.attempt_no
            results.put(("opened", candidate, attempt))
        except NotEligible as exc:
            results.put(("refused", candidate, exc.reasons))
        except ExamBuilderError as exc:
            results.put(("conflict", candidate, str(exc)))
        except Exception as exc:  # report, do not hang the test
            results.put(("crash", candidate, repr(exc)))
    course.db.dispose()
