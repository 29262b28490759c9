"""Debian's chromium (never a downloaded browser), with the flags a closed network needs: one
place for every browser test (the ``browser`` fixture in ``tests/conftest.py`` uses it)."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
