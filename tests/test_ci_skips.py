"""The CI rule (tests/ci_skips.py): with ``CI`` set, every way a test can skip fails instead.

A tiny test folder with one test per cause runs in a pytest of its own (a subprocess, the rule
loaded with ``-p ci_skips``), once as on a developer's machine (``CI=false``) and once as in CI
(``CI=true``, on 2 xdist workers as `make test` runs).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CONFTEST = '''
import pytest

@pytest.fixture
def database():
    pytest.skip("no PostgreSQL server (EXAM_BUILDER_PG_URL unset)")
'''

CAUSES = '''
import os
import pytest

def test_runs():
    pass

def test_skip_in_the_test():
    pytest.skip("Debian's chromium is not installed")

def test_skip_in_a_fixture(database):
    pass

@pytest.mark.skipif(not hasattr(os, "no_such_call"), reason="no named pipes here")
def test_skipif_marker():
    pass

@pytest.mark.skip(reason="configurable-http-proxy is missing")
def test_skip_marker():
    pass

def test_importorskip_in_the_test():
    pytest.importorskip("no_such_module_for_ci_skips")

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_xfail_is_not_a_skip():
    assert False
'''

MODULE = '''
import pytest

pytest.importorskip("psutil_not_installed_here")

def test_never_collected():
    pass
'''

#: The skip in each test of CAUSES, by the test's name: what the CI failure must name.
REASONS = {
    "test_skip_in_the_test": "Debian's chromium is not installed",
    "test_skip_in_a_fixture": "no PostgreSQL server (EXAM_BUILDER_PG_URL unset)",
    "test_skipif_marker": "no named pipes here",
    "test_skip_marker": "configurable-http-proxy is missing",
    "test_importorskip_in_the_test": "could not import 'no_such_module_for_ci_skips'",
}


def _pytest(folder: Path, ci: str, *args: str) -> tuple[int, dict[str, int], str]:
    """Its exit code, the counts of its last line, and all it printed (lines wide enough not to be cut)."""
    env = {**os.environ, "CI": ci, "COLUMNS": "400",
           "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "ci_skips", "-p", "no:cacheprovider", "-rfEsx",
                           *args, str(folder)], cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    last = out.strip().splitlines()[-1]
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|xfailed|errors?)", last)}
    return proc.returncode, counts, out


def _folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "conftest.py").write_text(CONFTEST)
    for name, text in files.items():
        (folder / f"{name}.py").write_text(text)
    return folder


def test_every_skip_fails_in_ci_and_only_there(tmp_path):
    folder = _folder(tmp_path, test_causes=CAUSES)
    code, counts, out = _pytest(folder, "false")
    assert code == 0 and counts == {"passed": 1, "skipped": 5, "xfailed": 1}, out
    code, counts, out = _pytest(folder, "true", "-n", "2")
    # a skip in the setup (a fixture, a marker) fails as an error of the setup, as pytest reports any
    assert code == 1 and counts == {"passed": 1, "failed": 2, "errors": 3, "xfailed": 1}, out
    for test, reason in REASONS.items():
        when = "FAILED" if test in ("test_skip_in_the_test", "test_importorskip_in_the_test") else "ERROR"
        assert f"{when} test_causes.py::{test} - CI must run this test, but it was skipped: {reason}" in out, test


def test_a_module_skipped_while_collected_fails_in_ci(tmp_path):
    folder = _folder(tmp_path, test_module=MODULE)
    code, counts, out = _pytest(folder, "false")
    assert code == 5 and counts == {"skipped": 1}, out  # 5: no test ran
    code, counts, out = _pytest(folder, "true")
    assert code == 2 and counts == {"error": 1}, out  # 2: interrupted, as by any collection error
    assert ("ERROR test_module.py - CI must run test_module.py, but it was skipped: could not import "
            "'psutil_not_installed_here'") in out, out
