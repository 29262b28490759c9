"""Files that hold keys, access codes or candidate data: readable by their owner only.

The contract: every folder this package creates for such files is created ``0700`` and every
such file ``0600``, whatever the umask, so another account on the same machine can read none
of them (``eb_form.manifest`` and ``exports/`` hold every key; seat cards hold codes; the
course secret checks codes). Existing folders are left as they are; the files written into
them are still private. Used by ``records.db`` (the SQLite file), ``assembly.release.write_atomic``
(exports, form sources, submissions), ``delivery.sittings`` (seat cards) and ``Course.secret``.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parent, each ``0700`` (parents that exist are untouched)."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # another process made it a moment ago
            continue
        os.chmod(d, PRIVATE_DIR)  # exact, whatever the umask
    return path


def private_temp(folder: Path, name: str) -> tuple[int, str]:
    """A new temporary file next to ``name`` in ``folder`` (``0600``): its descriptor and path."""
    private_dir(folder)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    os.fchmod(fd, PRIVATE_FILE)
    return fd, tmp


def create_private_file(path: Path, data: bytes) -> bool:
    """Create ``path`` (``0600``) holding ``data``, only if it does not exist yet; whether it did.

    Written to a temporary file first and then linked into place, so two processes creating the
    same file at once never see it half-written: one wins, the other reads the winner's.
    """
    path = Path(path)
    fd, tmp = private_temp(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: exclusive create instead
            try:
                out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
            except FileExistsError:
                return False
            with os.fdopen(out, "wb") as fh:
                fh.write(data)
            os.chmod(path, PRIVATE_FILE)
        return True
    finally:
        os.unlink(tmp)


def make_private(path: Path) -> None:
    """Narrow an existing file of ours to ``0600`` (no error if it is missing or not ours)."""
    try:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, PRIVATE_FILE)
    except OSError:
        pass
