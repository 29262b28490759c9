"""Fixtures of the bank tests: a tiny valid course of made-up items."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bank_helpers import BASE, REPO


@pytest.fixture
def mini_course(tmp_path: Path) -> Path:
    """A course with five valid items, one scenario and one rubric; the check passes on it."""
    root = tmp_path / "course"
    shutil.copytree(BASE, root)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    return root
