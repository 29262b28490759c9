"""Fixtures of the hub tests (``hubkit``: a real JupyterHub, and Debian's chromium that resolves ``*.localhost``)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from hubkit import hub_browser, hub_desks, hub_site  # noqa: E402,F401 (fixtures)
