"""Files the program writes: private, and only where it means to write.

Every file and folder exam-builder writes, replaces or clears (keys and comparisons in
``exports/``, form sources in ``source/<form>/``, seat cards, submissions, autograded copies, score
reports, practice sets, the program's report, and the course's private folder ``.exam-builder/``
with its lock, scratch folder, secret and staff addresses) goes through this module. It promises:

* **Private.** Every folder made for such files is ``0700`` and every file ``0600``, whatever the
  umask (``exports/`` and ``eb_form.manifest`` hold every key, seat cards hold codes, the secret
  checks codes). Folders that exist are left as they are; the files written into them are private.
  Authored files written back (``bank sync``, ``import qti``: ``public=True``) keep their mode.
* **Only where it means to.** Before a path is written, replaced, cleared or read as the program's
  own (``check_owned``): below the course root, no part of it is a symbolic link, every folder on
  the way is a folder, and the path itself is of the type expected (a regular file, or a folder);
  else ``UnsafePath``, an ``ExamBuilderError`` naming the path and what to do. A link is never
  followed, so a ``.exam-builder/scratch`` that links to ``rubrics/`` is refused, never emptied, and
  a ``.exam-builder`` that is a file is named, never a traceback. A path outside the course (one a
  person named, e.g. ``--out``) has its own last part checked the same way.
* **Never through a link, never half-written.** New files are made exclusively (``O_EXCL``, so never
  through a link planted at their name), written in full and renamed into place; the one file
  changed in place (the lock) is opened with ``O_NOFOLLOW`` in its checked folder and must be a
  regular file with one name (a hard link to a rubric would be truncated with it). Folders are
  cleared without following any link in them.
* **Reading is safeload's.** This module opens no file to read it: whether a file already holds
  what would be written is ``safeload.holds`` (no link, no pipe, never blocks), a file of the
  program's own is read with ``safeload.read_bytes`` once ``check_owned`` passed, and ``copy_tree``
  reads through ``safeload.walk_files`` and ``read_bytes`` (``tests/test_one_loader.py``).

Commands check every path they will write before their first change (``check_owned``,
``check_tree`` for a folder that nbgrader writes into), so a refused command changes nothing.
``tests/test_refused_commands.py`` fails when a module writes a file any other way.

API: ``check_owned``, ``check_tree``; ``private_dir``, ``private_temp``, ``place_temp``,
``private_temp_dir``; ``replace_file``, ``replace_files``, ``create_private_file``, ``open_in_place``;
``clear_dir``, ``remove_file``, ``remove_tree``, ``copy_tree``;
``make_private``. ``root`` is the course's root (``Course.root``, resolved), or ``None`` for a path
that is not the course's.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path

from .errors import ExamBuilderError, Location, Problem, ValidationFailed
from .safeload import MAX_COPY_BYTES, absolute, holds, read_bytes, walk_files

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700

_NOFOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class UnsafePath(ExamBuilderError):
    """A path the program would write or read as its own, refused: a link, the wrong type, a hard link."""

    def __init__(self, path: Path, root: Path | None, message: str) -> None:
        super().__init__(f"{shown(path, root)}: {message}")
        self.path = Path(path)
        self.where = shown(path, root)
        self.message = message

    @property
    def problem(self) -> Problem:
        """The refusal as a located problem, for a command that reports every one at once."""
        return Problem(Location(self.where), self.message)


def shown(path: Path | str, root: Path | None) -> str:
    """A path for messages: relative to the course root when inside it (never resolving a link)."""
    p = absolute(Path(path))
    if root is not None:
        with contextlib.suppress(ValueError):
            return str(p.relative_to(root)) or "."
    return str(path)


def _chain(path: Path, root: Path | None) -> list[Path]:
    """The parts of ``path`` that are checked: each one below ``root`` when it is inside, else itself."""
    p = absolute(path)
    if root is not None:
        r = Path(root)
        if p == r:
            return []
        if r in p.parents:
            parts = p.relative_to(r).parts
            return [r.joinpath(*parts[: i + 1]) for i in range(len(parts))]
    return [p]


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "something that is neither a file nor a folder"


def _link_problem(part: Path, want: str) -> str:
    try:
        target = os.readlink(part)
    except OSError:
        target = "?"
    the = want.replace("a ", "the ", 1)
    return (f"a symbolic link (to {target}) where exam-builder writes {want}; it never writes or clears "
            f"anything through a link: remove the link (exam-builder makes {the} itself)")


def check_owned(path: Path, root: Path | None, kind: str = "file") -> bool:
    """Refuse ``path`` as the program's own ``kind`` (``"file"`` or ``"dir"``) unless safe; whether it exists.

    Below ``root`` every part of the path is checked with ``lstat`` (never following a link): no
    link, each folder on the way a folder. The path itself, when it exists, is a regular file
    (``kind="file"``) or a folder (``kind="dir"``). Missing parts are fine (the program makes them).
    """
    chain = _chain(path, root)
    if not chain:  # the course root itself
        return os.path.isdir(path)
    for n, part in enumerate(chain):
        last = n == len(chain) - 1
        want = kind if last else "dir"
        what = "a folder" if want == "dir" else "a file"
        try:
            st = os.lstat(part)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise UnsafePath(part, root, f"cannot be checked ({exc.strerror}); check its permissions") from None
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePath(part, root, _link_problem(part, what))
        if want == "dir" and not stat.S_ISDIR(st.st_mode):
            raise UnsafePath(part, root, f"{_kind(st.st_mode)} where exam-builder makes a folder; "
                                         "move it away (exam-builder makes the folder itself)")
        if want == "file" and not stat.S_ISREG(st.st_mode):
            raise UnsafePath(part, root, f"{_kind(st.st_mode)} where exam-builder writes a file; "
                                         "move it away (exam-builder writes the file itself)")
    return True


def check_tree(path: Path, root: Path | None) -> None:
    """``check_owned(path, root, "dir")`` and, inside it, no link and nothing but files and folders.

    For folders that another program writes into without these checks (nbgrader's
    ``generate_assignment`` writes ``release/<form>/`` from ``source/<form>/``), and folders that are
    backed up and restored whole."""
    if not check_owned(path, root, "dir"):
        return
    for top, dirs, files in os.walk(path, followlinks=False, onerror=_raise):
        for name in [*dirs, *files]:
            p = Path(top) / name
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                raise UnsafePath(p, root, _link_problem(p, "a file or folder"))
            if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
                raise UnsafePath(p, root, f"{_kind(st.st_mode)} in a folder exam-builder writes; remove it")


def _raise(exc: OSError) -> None:
    raise ExamBuilderError(f"{exc.filename}: cannot be read ({exc.strerror}); check its permissions")


def private_dir(path: Path, root: Path | None, *, public: bool = False) -> Path:
    """``path`` checked (``check_owned``) and made with any missing parent, each ``0700`` (``public``:
    the umask's mode); parents that exist are untouched."""
    path = Path(path)
    check_owned(path, root, "dir")
    missing: list[Path] = []
    p = absolute(path)
    while not os.path.lexists(p):
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o777 if public else PRIVATE_DIR)
        except FileExistsError:  # another process made it a moment ago: it must be a folder still
            check_owned(d, root, "dir")
            continue
        except OSError as exc:
            raise ExamBuilderError(f"{shown(d, root)}: cannot make the folder ({exc.strerror})") from None
        if not public:
            os.chmod(d, PRIVATE_DIR)  # exact, whatever the umask
    return path


def private_temp(folder: Path, name: str, root: Path | None, *, public: bool = False) -> tuple[int, str]:
    """A new temporary file for ``name`` in ``folder`` (checked and made): its descriptor and path.

    ``0600``; ``public``: the umask's mode, for authored files. Made with ``O_EXCL``: never through a
    link, never an existing file."""
    private_dir(folder, root, public=public)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    if public:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
    else:
        os.fchmod(fd, PRIVATE_FILE)
    return fd, tmp


def place_temp(tmp: str | Path, path: Path, root: Path | None) -> None:
    """Rename a temporary file of ``private_temp`` to ``path`` (checked first); the temporary file is
    removed if that fails. The rename replaces the name: it never writes through a link."""
    try:
        check_owned(path, root, "file")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def private_temp_dir(folder: Path, prefix: str, root: Path | None) -> Path:
    """A new private folder in ``folder`` (checked and made), e.g. a backup in the course's scratch folder."""
    private_dir(folder, root)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=folder))


def replace_file(path: Path, data: bytes | str, root: Path | None, *, public: bool = False) -> bool:
    """Write ``data`` to ``path`` through a temporary file and a rename; whether the file changed.

    The path is checked first (``check_owned``); the file is ``0600`` (``public``: an existing file
    keeps its mode, a new one gets the umask's) and any folder made for it ``0700``. Written in full
    and synced before the rename: a crash leaves the old file or the new one.
    """
    return bool(replace_files({Path(path): data}, root, public=public))


def replace_files(updates: dict[Path, bytes | str], root: Path | None, *, public: bool = False) -> list[Path]:
    """``replace_file`` for several files, all or nothing: every path checked and every temporary file
    written before the first rename. The files that changed (an identical one is left untouched)."""
    todo: list[tuple[Path, bytes, int | None]] = []
    for path, data in updates.items():
        path = Path(path)
        raw = data.encode("utf-8") if isinstance(data, str) else data
        mode = None
        if check_owned(path, root, "file"):
            st = os.lstat(path)
            mode = stat.S_IMODE(st.st_mode)
            if holds(path, raw):  # safeload's check: a regular file, no link, never blocks
                if not public:
                    make_private(path)
                continue
        todo.append((path, raw, mode))
    written: list[tuple[str, Path]] = []
    try:
        for path, raw, mode in todo:
            fd, tmp = private_temp(path.parent, path.name, root, public=public)
            written.append((tmp, path))
            if public and mode is not None:
                os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())  # on disk before the rename: a crash leaves the old file or the new one
    except BaseException:
        for tmp, _ in written:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for tmp, path in written:
        os.replace(tmp, path)  # made exclusively in the checked folder: replaces the name, never writes through it
    return [path for _, path in written]


def create_private_file(path: Path, data: bytes, root: Path | None) -> bool:
    """Create ``path`` (``0600``) holding ``data``, only if it does not exist yet; whether it did.

    Checked first (``check_owned``). Written to a temporary file first and then linked into place,
    so two processes creating the same file at once never see it half-written: one wins, the other
    reads the winner's.
    """
    path = Path(path)
    check_owned(path, root, "file")
    fd, tmp = private_temp(path.parent, path.name, root)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # never follows a link at ``path``: an existing name is FileExistsError
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: exclusive create instead
            try:
                out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, PRIVATE_FILE)
            except FileExistsError:
                return False
            with os.fdopen(out, "wb") as fh:
                fh.write(data)
                os.fchmod(fh.fileno(), PRIVATE_FILE)
        return True
    finally:
        os.unlink(tmp)


def open_in_place(path: Path, root: Path | None) -> int:
    """A read-write descriptor of the program's file at ``path`` (made ``0600`` if missing), to change in place.

    The folder is checked and opened without following a link, the file is opened in it with
    ``O_NOFOLLOW`` and must be a regular file with no other name (a hard link): what is truncated
    is this file only. The caller closes the descriptor.
    """
    path = Path(path)
    check_owned(path, root, "file")
    folder = private_dir(path.parent, root)
    dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
    try:
        fd = os.open(path.name, os.O_RDWR | os.O_CREAT | _NOFOLLOW | os.O_NONBLOCK, PRIVATE_FILE, dir_fd=dfd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePath(path, root, _link_problem(path, "a file")) from None
        if exc.errno == errno.EISDIR:
            raise UnsafePath(path, root, "a folder where exam-builder writes a file; move it away "
                                         "(exam-builder writes the file itself)") from None
        raise ExamBuilderError(f"{shown(path, root)}: cannot be opened ({exc.strerror}); check its "
                               "permissions") from None
    finally:
        os.close(dfd)
    st = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(st.st_mode):
        problem = f"{_kind(st.st_mode)} where exam-builder writes a file; move it away"
    elif st.st_nlink != 1:
        problem = ("a file with another name elsewhere (a hard link): exam-builder changes this file in place, "
                   "which would change the other one too; remove it (exam-builder makes the file itself)")
    if problem is not None:
        os.close(fd)
        raise UnsafePath(path, root, problem)
    return fd


def clear_dir(path: Path, root: Path | None) -> None:
    """Empty the program's folder at ``path`` (checked), never following a link in it: a link is removed, not its
    target."""
    if not check_owned(path, root, "dir"):
        return
    dfd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
    try:
        with os.scandir(dfd) as entries:
            names = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
        for name, is_dir in names:
            if is_dir:
                shutil.rmtree(name, dir_fd=dfd, ignore_errors=True)  # fd-based: links inside are removed, not followed
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=dfd)
    finally:
        os.close(dfd)


def remove_file(path: Path, root: Path | None) -> None:
    """Remove one name in a folder of the program's (checked); a link is removed, never its target."""
    check_owned(Path(path).parent, root, "dir")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def remove_tree(path: Path, root: Path | None) -> None:
    """Remove the program's folder at ``path`` (checked) and everything in it, following no link."""
    if check_owned(path, root, "dir"):
        shutil.rmtree(path)


def copy_tree(source: Path, target: Path, root: Path | None, label=str, *,
              skip: tuple[str, ...] = (".ipynb_checkpoints",), max_bytes: int = MAX_COPY_BYTES,
              public: bool = False) -> list[Path]:
    """Copy the regular files under ``source`` to a new ``target`` (checked, made here); the files written.

    Read through ``safeload`` (``walk_files`` and bounded ``read_bytes``): what a plain copy would
    read through (a link loop, a link out of ``source``, a pipe, a device: a link to ``/dev/zero``
    would make a copy without end) is refused, all of it at once (``ValidationFailed``), and every
    file is read before the first one is written, so a refused copy writes nothing. Written through
    ``replace_files`` (``0600`` in ``0700`` folders; ``public``: the umask's modes, for a course
    copied for a person to use). A folder of the program's own is checked first by its caller
    (``check_tree``: no link in it at all), e.g. the release backups.
    """
    source, target = Path(source), Path(target)
    files, problems = walk_files(source, ("",), label, skip=skip, folders_named_like_files=False)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise ValidationFailed(errors)
    check_owned(target, root, "dir")
    if os.path.lexists(target):
        raise UnsafePath(target, root, "exists already; exam-builder copies a folder only to a new place")
    data = {target / path.relative_to(source): read_bytes(path, _named(label, path), max_bytes=max_bytes,
                                                          hint="copy only the files a course needs")
            for path in files}
    private_dir(target, root, public=public)
    replace_files(data, root, public=public)
    return list(data)


def _named(label, path: Path) -> str:
    try:
        return label(path)
    except (RuntimeError, OSError, ValueError):
        return str(path)


def make_private(path: Path) -> None:
    """Narrow an existing regular file of ours to ``0600`` (no error if it is missing, a link or not ours)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_mode & 0o077:
            os.fchmod(fd, PRIVATE_FILE)
    except OSError:
        pass
    finally:
        os.close(fd)
