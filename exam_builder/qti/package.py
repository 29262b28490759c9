"""Reading a QTI package from elsewhere, safely: the one way the importer reads a zip's or a folder's files.

A package comes from another system (a vendor, an LMS, a colleague's email) and is read as
hostile. ``Package.open(path, label)`` checks the whole package before anything is inflated or
parsed; ``resolve(href, base, where)`` turns a manifest's or an item's ``href`` into a member
name; ``read(name)`` gives a member's bytes and ``read_xml(name)`` its parsed XML. Every refusal
is ``Refused``: located ``Problem`` records (the member, and the manifest or item line where an
``href`` is), never a traceback. The importer writes nothing when a package is refused, even
with ``--skip-problems``.

The limits (module constants, read when a package is opened or read, so a caller may lower them):

* ``MAX_MEMBER_BYTES`` (32 MB): one member, inflated. An item is a few KB; the manifest of a
  5,000-item bank with exam-builder's metadata is about 20 MB.
* ``MAX_PACKAGE_BYTES`` (256 MB): the zip file itself; all members together by the sizes the zip
  declares; and every byte read, counted as it streams (a member read twice counts twice).
* ``MAX_RATIO`` (200): a member's inflated size over its compressed size, for members over
  ``RATIO_FLOOR`` (1 MB; a smaller one cannot hurt). XML deflates 3 to 60 times; a zip bomb
  a thousand times or more.
* ``MAX_MEMBERS`` (50,000): members of a zip or XML files of a folder. A zip's central directory
  (the list of members) is not read at all when its end record says it lists more or is over
  ``MAX_MEMBERS`` KB.

A zip is checked from its central directory before any member is inflated: the limits above; a
member name with ``..``, an absolute name (``/x``, ``C:``), a NUL, a name given twice, an
encrypted member, a symbolic link or an unknown compression method refuses the package. Then a
member is inflated in chunks and counted: it stops past ``MAX_MEMBER_BYTES`` or past the size the
zip declared, and the package stops past ``MAX_PACKAGE_BYTES``, since the declared sizes can lie;
a member whose bytes do not match their CRC (a lie about its size does that) is refused.

A folder's files are read only inside it: the path is resolved (every symbolic link followed) and
must lie in the folder's real path, be a regular file (opened without following a last link) and
be at most ``MAX_MEMBER_BYTES``. A folder without a manifest is listed by ``safeload.walk_files``
(links out of it are errors). An ``href`` is a URI reference: percent-decoded once
(``%2e%2e/`` is ``../``) and resolved against the file that names it; a URL with a scheme
(``file:``, ``http:``), an absolute path, or one climbing above the package's top is refused.

XML has no DTD here: a document with a ``<!DOCTYPE`` (where entities are declared: an external
entity reading a local file, or an internal one expanding a billion times) is refused at its
DOCTYPE, before its internal subset is read, so no entity is ever declared, fetched or
expanded. The parser also refuses the network, loads no DTD, resolves no entity and keeps
libxml2's tree limits (no ``huge_tree``).
"""
from __future__ import annotations

import lzma
import os
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

from ..errors import Location, Problem
from ..safeload import walk_files

MB = 1024 * 1024
#: One member, inflated (an item is a few KB; a 5,000-item bank's manifest about 20 MB).
MAX_MEMBER_BYTES = 32 * MB
#: The zip file; its members together as declared; every byte read, as counted while reading.
MAX_PACKAGE_BYTES = 256 * MB
#: Inflated over compressed size of one member larger than ``RATIO_FLOOR``.
MAX_RATIO = 200
RATIO_FLOOR = 1 * MB
#: Members of a zip (its central directory is then at most this many KB), XML files of a folder.
MAX_MEMBERS = 50_000
#: Problems listed before "... and N more" when a zip's central directory is refused.
MAX_LISTED = 10
CHUNK = 64 * 1024
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_READ_ERRORS = (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, OSError, zlib.error,
                lzma.LZMAError, ValueError)


class Refused(Exception):
    """A package, or a member of it, that is not read: located problems. ``fatal``: stop reading the package."""

    def __init__(self, problems: list[Problem], fatal: bool = False) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
        self.fatal = fatal


def _mb(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n:,} bytes"


def _refuse(file: str, message: str, line: int | None = None, fatal: bool = False) -> Refused:
    return Refused([Problem(Location(file, line=line), message)], fatal=fatal)


def _bad_name(name: str) -> str | None:
    """Why a zip member's name is refused (it would name a file outside the package), or None."""
    if "\0" in name:
        return "has a NUL character in its name"
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return "has an absolute name"
    if ".." in norm.split("/"):
        return "has '..' in its name (it would climb out of the package)"
    return None


def _normal(name: str) -> str:
    """A member name without empty or '.' parts (``./items//a.xml`` is ``items/a.xml``)."""
    return "/".join(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))


def _central_directory(path: Path, size: int) -> tuple[int, int] | None:
    """(members, bytes) of a zip's central directory from its end record, as ``zipfile`` finds it; None if none.

    Read before ``zipfile`` is let at the file, since ``zipfile`` reads the whole central directory
    into objects at once (a few million tiny members would take gigabytes).
    """
    with path.open("rb") as fh:
        tail_len = min(size, 22 + 65535 + 20 + 56)
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
        pos = len(tail) - 22 if tail[-22:-18] == b"PK\x05\x06" and tail[-2:] == b"\0\0" else tail.rfind(b"PK\x05\x06")
        if pos < 0 or len(tail) - pos < 22:
            return None
        _, _, _, _, entries, cd_size, cd_offset, _ = struct.unpack("<4s4H2LH", tail[pos:pos + 22])
        if (entries == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF) and pos >= 20 \
                and tail[pos - 20:pos - 16] == b"PK\x06\x07":
            (z64_offset,) = struct.unpack("<Q", tail[pos - 12:pos - 4])
            if z64_offset + 56 > size:
                return None
            fh.seek(z64_offset)
            rec = fh.read(56)
            if rec[:4] != b"PK\x06\x06":
                return None
            entries, cd_size = struct.unpack("<QQ", rec[32:48])
        return entries, cd_size


@dataclass
class Package:
    """An opened package: a zip or a folder. Use as a context manager (the zip is closed after)."""

    path: Path
    label: str
    zip: zipfile.ZipFile | None = None
    members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)  # zip: normal name -> entry
    root: Path | None = None  # folder: its real path
    read_bytes: int = 0  # every byte read so far (MAX_PACKAGE_BYTES)

    # ------------------------------------------------------------------------------- opening

    @classmethod
    def open(cls, path: Path, label: str) -> Package:
        """The package at ``path`` after its checks (a zip's central directory, a folder's path); ``Refused``."""
        try:
            st = path.stat()
        except (OSError, RuntimeError) as exc:
            raise _refuse(label, f"cannot read the package ({getattr(exc, 'strerror', None) or exc})",
                          fatal=True) from None
        if stat.S_ISDIR(st.st_mode):
            return cls(path=path, label=label, root=path.resolve(strict=True))
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(label, "not a QTI package: give a zip or a folder (this is a pipe or a device)", fatal=True)
        if st.st_size > MAX_PACKAGE_BYTES:
            raise _refuse(label, f"the zip is {_mb(st.st_size)}, over the {_mb(MAX_PACKAGE_BYTES)} limit for a package",
                          fatal=True)
        try:
            cd = _central_directory(path, st.st_size)
        except (OSError, struct.error) as exc:
            raise _refuse(label, f"cannot read the zip ({exc})", fatal=True) from None
        if cd is not None and (cd[0] > MAX_MEMBERS or cd[1] > MAX_MEMBERS * 1024):
            raise _refuse(label, f"the zip lists {cd[0]:,} members in {_mb(cd[1])}, over the limit of {MAX_MEMBERS:,} "
                                 "members; it is not read", fatal=True)
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, struct.error) as exc:
            raise _refuse(label, f"not a QTI package (a zip or a folder): {exc}", fatal=True) from None
        pkg = cls(path=path, label=label, zip=zf)
        try:
            pkg._check_zip()
        except BaseException:
            zf.close()
            raise
        return pkg

    def _check_zip(self) -> None:
        """Every entry of the central directory within the limits, before anything is inflated."""
        infos = self.zip.infolist()
        problems: list[Problem] = []
        if len(infos) > MAX_MEMBERS:
            raise _refuse(self.label, f"the zip lists {len(infos):,} members, over the limit of {MAX_MEMBERS:,}",
                          fatal=True)
        total = 0
        for info in infos:
            name = info.filename
            where = Location(f"{self.label}/{name}")
            why = _bad_name(name)
            if why is not None:
                problems.append(Problem(where, f"the member {why}; a package's files are read only inside it"))
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                problems.append(Problem(where,
                                        "the member is a symbolic link; links are not followed: put the file itself "
                                        "in"))
                continue
            if info.is_dir():
                continue
            key = _normal(name)
            if key in self.members:
                problems.append(Problem(where, "the zip holds this name twice; which one is meant is unclear"))
                continue
            if info.flag_bits & 0x1:
                problems.append(Problem(where, "the member is encrypted; give the package without a password"))
                continue
            if info.compress_type not in _METHODS:
                problems.append(Problem(where, f"the member is compressed with method {info.compress_type}, which is "
                                               "not read (stored, deflate, bzip2 and LZMA are)"))
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                problems.append(Problem(where, f"the member inflates to {_mb(info.file_size)}, over the "
                                               f"{_mb(MAX_MEMBER_BYTES)} limit for one file; it is not inflated"))
                continue
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                ratio = info.file_size / max(info.compress_size, 1)
                problems.append(Problem(where, f"the member inflates {ratio:,.0f} times ({_mb(info.compress_size)} to "
                                               f"{_mb(info.file_size)}), over the limit of {MAX_RATIO} times (a zip "
                                               "bomb?); it is not inflated"))
                continue
            total += info.file_size
            self.members[key] = info
        if total > MAX_PACKAGE_BYTES:
            problems.append(Problem(Location(self.label), f"the members inflate to {_mb(total)} together, over the "
                                                          f"{_mb(MAX_PACKAGE_BYTES)} limit for a package; nothing is "
                                                          "inflated"))
        if problems:
            if len(problems) > MAX_LISTED:
                more = len(problems) - MAX_LISTED
                problems = problems[:MAX_LISTED] + [Problem(Location(self.label),
                                                            f"... and {more:,} more such member(s)")]
            raise Refused(problems, fatal=True)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------- names

    def where(self, name: str) -> str:
        """A member as messages name it: ``<package>/<member>``."""
        return f"{self.label}/{name}"

    def names(self) -> tuple[list[str], list[Problem]]:
        """Every file of the package (sorted member names) and what was odd listing a folder (errors are refusals)."""
        if self.zip is not None:
            return sorted(self.members), []
        folder = self.path

        def label(p: Path) -> str:
            return self.label if p == folder else self.where(p.relative_to(folder).as_posix())

        files, problems = walk_files(folder, (".xml",), label)
        if len(files) > MAX_MEMBERS:
            raise _refuse(self.label, f"the folder holds {len(files):,} XML files, over the limit of {MAX_MEMBERS:,}",
                          fatal=True)
        return [f.relative_to(folder).as_posix() for f in files], problems

    def resolve(self, href: str, base: str, where: Location) -> str:
        """The member an ``href`` (a URI reference) names, relative to the member ``base`` (``""``: the top).

        ``Refused`` (located at ``where``: the manifest or item line) for a URL, an absolute path or one
        that climbs out of the package.
        """
        def refused(why: str) -> Refused:
            return Refused([Problem(where, f"the href {href!r} {why}; only the package's own files are read")])

        if not href.strip():
            raise Refused([Problem(where, "an empty href; name the file in the package")])
        try:
            parts = urlsplit(href)
        except ValueError:
            raise refused("is not a valid URI") from None
        if parts.scheme or parts.netloc:
            raise refused(f"is a URL ({parts.scheme or 'network'}:)")
        path = unquote(parts.path).replace("\\", "/")
        if "\0" in path:
            raise refused("has a NUL character")
        if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
            raise refused("is an absolute path")
        stack = [p for p in base.split("/")[:-1] if p]
        for part in path.split("/"):
            if part == "..":
                if not stack:
                    raise refused("points outside the package (it climbs above its top folder)")
                stack.pop()
            elif part not in ("", "."):
                stack.append(part)
        return "/".join(stack)

    # ------------------------------------------------------------------------------- reading

    def exists(self, name: str) -> bool:
        """Whether the package has a member of that name (a folder: whether the path exists, even as a bad link)."""
        if self.zip is not None:
            return name in self.members
        return name != "" and os.path.lexists(self.path / name)

    def read(self, name: str) -> bytes:
        """A member's bytes (``exists`` first). ``Refused`` if it is out of the package or over a limit."""
        return self._read_zip(name) if self.zip is not None else self._read_file(name)

    def _budget(self, n: int, name: str) -> None:
        self.read_bytes += n
        if self.read_bytes > MAX_PACKAGE_BYTES:
            raise _refuse(self.where(name), f"reading this member takes the package past {_mb(MAX_PACKAGE_BYTES)} read "
                                            "in all (the limit for a package); the rest is not read", fatal=True)

    def _chunks(self, fh, name: str, declared: int | None) -> bytes:
        """Read ``fh`` in chunks, counting, refusing as soon as a limit is passed."""
        out: list[bytes] = []
        n = 0
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                return b"".join(out)
            n += len(chunk)
            if n > MAX_MEMBER_BYTES:
                raise _refuse(self.where(name), f"the member inflates past the {_mb(MAX_MEMBER_BYTES)} limit for one "
                                                "file; it is not read further")
            if declared is not None and n > declared:
                raise _refuse(self.where(name), f"the member inflates past the {_mb(declared)} the zip declares for "
                                                "it (the zip lies about its sizes); it is not read further")
            self._budget(len(chunk), name)
            out.append(chunk)

    def _read_zip(self, name: str) -> bytes:
        info = self.members[name]
        try:
            with self.zip.open(info) as fh:
                return self._chunks(fh, name, info.file_size)
        except _READ_ERRORS as exc:
            msg = str(exc)
            if "CRC" in msg:
                msg = "its bytes do not match the zip's checksum (CRC); the zip is damaged or lies about its sizes"
            raise _refuse(self.where(name), f"the member cannot be inflated: {msg}") from None

    def _read_file(self, name: str) -> bytes:
        full = self.path / name
        where = self.where(name)
        try:
            real = full.resolve(strict=True)
        except (OSError, RuntimeError):
            raise _refuse(where, "a symbolic link that loops or points nowhere; it is not read") from None
        if real != self.root and self.root not in real.parents:
            raise _refuse(where, f"a symbolic link to {real}, outside the package; links out of it are not "
                                 "followed: copy the file in instead")
        try:
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise _refuse(where, f"cannot read the file ({exc.strerror})") from None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise _refuse(where, "a folder, not a file")
            if not stat.S_ISREG(st.st_mode):
                raise _refuse(where, "not a regular file (a pipe or device?); it is not read")
            if st.st_size > MAX_MEMBER_BYTES:
                raise _refuse(where,
                              f"the file is {_mb(st.st_size)}, over the {_mb(MAX_MEMBER_BYTES)} limit for one file")
            try:
                return self._chunks(fh, name, None)
            except OSError as exc:
                raise _refuse(where, f"cannot read the file ({exc.strerror})") from None

    def read_xml(self, name: str, problems: list[Problem]) -> etree._Element | None:
        """A member parsed as XML (``parse_xml``); None, with the problem appended, when it is not XML."""
        return parse_xml(self.read(name), self.where(name), problems)


# ----------------------------------------------------------------------------------- XML


class _NoDoctype:
    """A parser target that stops the parse at a DOCTYPE, before its internal subset is read."""

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _Doctype(name, system)

    def close(self) -> None:
        return None


class _Doctype(Exception):
    def __init__(self, name: str, system: str | None) -> None:
        super().__init__(name)
        self.name = name
        self.system = system


def _parser(**kw: object) -> etree.XMLParser:
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, dtd_validation=False,
                           huge_tree=False, **kw)


def _doctype_line(data: bytes) -> int | None:
    """The line of ``<!DOCTYPE`` in the bytes (ASCII-compatible encodings and UTF-16 with a byte-order mark)."""
    text = data
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return None
    pos = text.find(b"<!DOCTYPE")
    return text.count(b"\n", 0, pos) + 1 if pos >= 0 else None


def _parsed(data: bytes, where: str, problems: list[Problem], parser: etree.XMLParser) -> etree._Element | None:
    """The tree, or None and a located problem when the bytes are not well-formed XML."""
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        problems.append(Problem(Location(where, line=exc.lineno), f"not well-formed XML: {exc.msg}"))
    except etree.LxmlError as exc:
        problems.append(Problem(Location(where), f"cannot read the XML: {exc}"))
    return None


def parse_xml(data: bytes, where: str, problems: list[Problem]) -> etree._Element | None:
    """Untrusted XML as a tree: ``Refused`` for a DOCTYPE (never read further), None and a located problem
    when the bytes are not well-formed XML."""
    seen: list[Problem] = []
    try:
        _parsed(data, where, seen, _parser(target=_NoDoctype()))  # a first pass: stops at a DOCTYPE
    except _Doctype as exc:
        raise _refuse(where, f"the XML declares a document type (<!DOCTYPE {exc.name}"
                             f"{' SYSTEM ...' if exc.system else ''}>): DTDs and entity declarations are not read "
                             "(QTI does not use them); remove the DOCTYPE", line=_doctype_line(data)) from None
    if seen:
        problems.extend(seen)
        return None
    root = _parsed(data, where, problems, _parser(remove_comments=True, remove_pis=True))
    if root is not None and root.getroottree().docinfo.doctype:  # the first pass makes this unreachable
        raise _refuse(where, "the XML declares a document type (<!DOCTYPE>): DTDs are not read; remove it")
    return root
