"""Helpers for tests of hostile course folders (issue 23): the real command in a process of its own
(so a hang is a timeout, not a stuck test run), pipes, links to endless devices, and a snapshot
of a folder that never reads through a pipe or a device.
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_cmd(root: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``exam-builder --course ROOT ARGS`` as a person runs it in the course folder: its own process, this
    checkout's code.

    A command that blocks (on a pipe) or reads without end (``/dev/zero``) fails the test at
    ``timeout`` with ``subprocess.TimeoutExpired`` instead of hanging the run.
    """
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "COLUMNS": "250", "EXAM_BUILDER_LOCK_WAIT": "5"}
    return subprocess.run([sys.executable, "-m", "exam_builder", "--course", str(root), *args], capture_output=True,
                          text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL, cwd=root)


def fifo(path: Path) -> Path:
    """A named pipe at ``path`` (nobody ever writes to it: a reader would wait forever)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def endless(path: Path) -> Path:
    """A symbolic link at ``path`` to ``/dev/zero`` (a reader or a copy would never end)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to("/dev/zero")
    return path


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: (kind, bytes of a regular file / target of a link / mode), read safely."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = os.lstat(path)
            key = str(path.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[key] = ("link", os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                out[key] = ("file", path.read_bytes(), stat.S_IMODE(st.st_mode))
            elif stat.S_ISDIR(st.st_mode):
                out[key] = ("dir",)
            else:
                out[key] = ("special", stat.S_IFMT(st.st_mode))
    return out
