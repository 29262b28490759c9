"""In CI every skip is a failure: a green CI means every test ran.

`make test` installs every real part a test needs (chromium, PostgreSQL, configurable-http-proxy,
the console script, psutil); a test that would skip on a CI machine therefore shows something
missing or broken there, whatever its cause: ``pytest.skip`` in a test or a fixture, a
``skipif``/``skip`` marker, ``pytest.importorskip`` in a test or at a module's top (a skipped
collection). The rule is one, at the report hooks, not a list of causes: when ``CI`` is set (and
not ``0``/``false``/``no``), a skipped report becomes a failed one whose message is the skip's
reason. pytest shows a skip in a test's setup (a fixture, a marker) as an error of the setup, and
a module skipped while collected as a collection error, which stops the run. ``xfail`` is not a
skip and is left alone.

tests/conftest.py imports the two hooks; ``pytest -p ci_skips`` loads them on their own
(tests/test_ci_skips.py does so on a tiny test file).
"""
from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """Whether this run is CI's (``.ci/run`` exports ``CI=true``, as CI services do)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _reason(longrepr) -> str:
    """A skip's reason: the third field of its ``(path, line, "Skipped: reason")``, else its text."""
    text = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test skipped in its setup, call or teardown (``pytest.skip``, a marker, ``importorskip``)."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and in_ci():
        report.outcome = "failed"
        report.longrepr = f"CI must run this test, but it was skipped: {_reason(report.longrepr)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A whole module skipped while it was collected (``importorskip`` or ``skip`` at its top)."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and in_ci():
        report.outcome = "failed"
        report.longrepr = f"CI must run {collector.nodeid}, but it was skipped: {_reason(report.longrepr)}"
