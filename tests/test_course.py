"""The course asks nbgrader's ``CourseDirectory`` for its folders and hangs every settings object.

A course whose ``nbgrader_config.py`` renames nbgrader's folders or changes its layout is
honoured by exam-builder as by nbgrader's own apps; an exam left unnamed is the course's only
exam, or a clear error naming the exams.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from exam_builder.course import Course
from exam_builder.errors import ExamBuilderError


def make_course(root: Path, config: str = "", exams: tuple[str, ...] = ()) -> Course:
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\n" + config, encoding="utf-8")
    for exam in exams:
        (root / "source" / exam).mkdir(parents=True)
        (root / "source" / exam / "blueprint.yaml").write_text("exam: x\n", encoding="utf-8")
    return Course(root)


def test_nbgrader_default_layout(tmp_path):
    course = make_course(tmp_path / "c")
    root = course.root
    assert (course.source_dir, course.release_dir, course.submitted_dir, course.autograded_dir, course.feedback_dir) \
        == (root / "source", root / "release", root / "submitted", root / "autograded", root / "feedback")
    assert course.exam_dir("cps") == root / "source" / "cps"
    assert course.submission_dir("c1", "cps-A") == root / "submitted" / "c1" / "cps-A"
    assert course.feedback_path("c1", "cps-A") == root / "feedback" / "c1" / "cps-A"
    assert course.coursedir.root == str(root)


def test_a_renamed_submitted_directory_is_honoured(tmp_path):
    """c.CourseDirectory.submitted_directory moves where submissions are written and read."""
    from exam_builder.grading.objective import submission_folders

    course = make_course(tmp_path / "c", 'c.CourseDirectory.submitted_directory = "handed_in"\n'
                                         'c.CourseDirectory.feedback_directory = "reports_back"\n')
    assert course.submitted_dir == course.root / "handed_in"
    assert course.submission_dir("c1", "cps-A") == course.root / "handed_in" / "c1" / "cps-A"
    assert course.feedback_path("c1", "cps-A") == course.root / "reports_back" / "c1" / "cps-A"
    (course.root / "handed_in" / "c1" / "cps-A").mkdir(parents=True)
    (course.root / "submitted" / "c2" / "cps-A").mkdir(parents=True)  # the default folder is not read
    assert submission_folders(course, "cps-A") == [course.root / "handed_in" / "c1" / "cps-A"]
    # nbgrader's own apps get the same config
    assert course.nbgrader_config().CourseDirectory.submitted_directory == "handed_in"


def test_a_changed_directory_structure_is_honoured(tmp_path):
    course = make_course(tmp_path / "c",
                         'c.CourseDirectory.directory_structure = "{nbgrader_step}/{assignment_id}/{student_id}"\n')
    assert course.submission_dir("c1", "cps-A") == course.root / "submitted" / "cps-A" / "c1"
    assert course.submitted_dir == course.root / "submitted"


def test_the_course_root_wins_over_the_config(tmp_path):
    course = make_course(tmp_path / "c", f"c.CourseDirectory.root = {str(tmp_path / 'elsewhere')!r}\n")
    assert course.coursedir.root == str(course.root)
    assert course.source_dir == course.root / "source"


def test_settings_are_read_once_from_the_course_config(tmp_path):
    course = make_course(tmp_path / "c", "c.GradingSettings.workers = 3\nc.ProgramPolicy.max_attempts = 2\n"
                                         "c.DeliverySettings.timezone = 'Europe/Paris'\n")
    assert course.grading_settings.workers == 3
    assert course.grading_settings is course.grading_settings
    assert course.policy.max_attempts == 2
    assert course.delivery_settings.timezone == "Europe/Paris"
    assert course.proctor_settings is course.proctor_settings
    assert course.server_settings is course.server_settings


def test_an_unnamed_exam_is_the_course_s_only_exam(tmp_path):
    assert make_course(tmp_path / "one", exams=("cps",)).exam_name() == "cps"
    assert make_course(tmp_path / "named", exams=("cps",)).exam_name("other") == "other"
    with pytest.raises(ExamBuilderError, match=r"2 exams \(alpha, beta\); name the one you mean"):
        make_course(tmp_path / "two", exams=("alpha", "beta")).exam_name()
    with pytest.raises(ExamBuilderError, match="no exam in"):
        make_course(tmp_path / "none").exam_name()
