"""nbgrader and exam-builder configuration of this course (the CPS sample program).

The repository root is an nbgrader course: authored items in source/, rubrics in rubrics/,
generated forms in source/<exam>-<form>/ and release/, candidate data in submitted/,
autograded/ and feedback/ (never in git). Program rules are ProgramPolicy settings; their
defaults are the Massachusetts CPS program's.
"""
c = get_config()  # noqa: F821 (provided by traitlets)

c.CourseDirectory.course_id = "cps"
c.CourseDirectory.root = "."
# One database for nbgrader's gradebook and exam-builder's own tables (SQLite by default;
# a PostgreSQL URL works the same).
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# The CPS program's rules (these are the defaults; shown so they are easy to change).
c.ProgramPolicy.time_limit_minutes = 180
c.ProgramPolicy.extended_time_multiplier = 1.5
c.ProgramPolicy.max_attempts = 3
c.ProgramPolicy.disqualify_late_or_absent = 4
c.ProgramPolicy.modules_per_class = 3
c.ProgramPolicy.exam_offset_days = 14
c.ProgramPolicy.tutoring_after_failure = "offered"
c.ProgramPolicy.waiting_period_days = 14
c.ProgramPolicy.double_rating_share = 1.0

# The exam room's time zone: every time shown (candidate screens, the proctor's view, attempts,
# the audit log, reports, seat cards) is in it and names it ("10:04 EST").
c.DeliverySettings.timezone = "America/New_York"
# The address candidates type in the room, printed on every seat card (set it before `sitting open`):
# c.DeliverySettings.exam_address = "http://10.0.0.5:8866/"
