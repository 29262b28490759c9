"""`exam-builder import qti` given hostile packages: each is refused with a located message, exit 1,
and nothing is written (the course and the --into folder byte for byte as they were).

Zip bombs (by size, by ratio, by total, and one that lies about its sizes), members and hrefs that
climb out of the package (``..``, absolute names, percent-encoded, URLs, symbolic links), and XML
that declares entities (an external entity reading a secret file, a billion laughs). Then
``export qti`` writes ``exports/qti/`` private whatever the umask.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_qti_import import MANIFEST21, QTI21_ITEM

from exam_builder.cli import cli
from exam_builder.qti import package as qti_package

SECRET = "TOP-SECRET-4471"
ITEM_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def run(course: Path, *args: str):
    """The CLI as a user runs it; an exception (a traceback) fails the test."""
    return CliRunner().invoke(cli, ["--course", str(course), *args], catch_exceptions=False)


def manifest(*hrefs: str) -> str:
    """A QTI 2.1 manifest naming one item resource per href."""
    res = "".join(f'<resource identifier="R{n}" type="imsqti_item_xmlv2p1" href="{h}"><file href="{h}"/></resource>\n'
                  for n, h in enumerate(hrefs))
    return MANIFEST21.replace(MANIFEST21[MANIFEST21.index("<resource "):MANIFEST21.index("</resources>")], res)


def zip_of(path: Path, files: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def folder_of(path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file and link under ``root`` with its bytes (a link: where it points), and every folder.

    The course lock and the database the CLI opens for every course-changing command are left out:
    the importer writes neither.
    """
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        if rel.parts[:2] == ("course", ".exam-builder"):
            continue
        out[f"{rel}/"] = b""
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            p = Path(dirpath) / name
            if rel == Path("course") and name.startswith("gradebook.db"):
                continue
            out[str(rel / name)] = os.readlink(p).encode() if p.is_symlink() else p.read_bytes()
    return out


@pytest.fixture(scope="module")
def site_template(tmp_path_factory) -> Path:
    """A folder holding a course (run once, so its lock and database exist) and a secret file beside it: made
    once for the module, copied by ``site``."""
    from coursekit import new_course_dir

    top = tmp_path_factory.mktemp("qti-site")
    (top / "secret.txt").write_text(SECRET)
    (top / "outside.xml").write_text(QTI21_ITEM.replace("Their own experience", SECRET))
    run(new_course_dir(top / "course"), "import", "qti", str(top / "nothing.zip"))
    return top


@pytest.fixture
def site(tmp_path: Path, site_template: Path) -> Path:
    """tmp_path holding a course (run once, so its lock and database exist) and a secret file beside it."""
    shutil.copytree(site_template, tmp_path, symlinks=True, dirs_exist_ok=True)
    return tmp_path


def refused(site: Path, package: Path, *expected: str, args: tuple[str, ...] = ()) -> str:
    """Import ``package``; assert exit 1, every expected text in the output, no secret, nothing written."""
    before = snapshot(site)
    result = run(site / "course", "import", "qti", str(package), "--into", str(site / "course" / "source" / "new"),
                 *args)
    assert result.exit_code == 1, result.output
    for text in expected:
        assert text in result.output, result.output
    assert SECRET not in result.output and "Traceback" not in result.output
    assert "nothing was written" in result.output
    assert snapshot(site) == before  # byte for byte: no notebook, no folder, no temporary file
    return result.output


# -- zip bombs -----------------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_from_its_central_directory(site):
    pkg = zip_of(site / "bomb.zip", {"imsmanifest.xml": MANIFEST21, "q1.xml": bytes(60 * 1024 * 1024)})
    refused(site, pkg, f"{pkg}/q1.xml: the member inflates to 60.0 MB, over the 32.0 MB limit for one file")


def test_a_member_that_inflates_a_thousand_times_is_refused(site):
    pkg = zip_of(site / "ratio.zip", {"imsmanifest.xml": MANIFEST21, "q1.xml": bytes(2 * 1024 * 1024)})
    out = refused(site, pkg, f"{pkg}/q1.xml: the member inflates ", "over the limit of 200 times (a zip bomb?)")
    assert "it is not inflated" in out


def test_members_over_the_package_limit_together_are_refused(site, monkeypatch):
    monkeypatch.setattr(qti_package, "MAX_PACKAGE_BYTES", 4 * 1024 * 1024)  # each member is under every other limit
    pkg = zip_of(site / "many.zip",
                 {"imsmanifest.xml": MANIFEST21, **{f"pad{n}.xml": bytes(1024 * 1024) for n in range(5)}})
    refused(site, pkg, f"{pkg}: the members inflate to 5.0 MB together, over the 4.0 MB limit for a package")


def test_reading_past_the_package_limit_stops_even_when_the_declared_sizes_pass(site, monkeypatch):
    """One 0.9 MB item named 4 times by the manifest: each read counts, the 4th passes the (lowered) limit."""
    monkeypatch.setattr(qti_package, "MAX_PACKAGE_BYTES", 3 * 1024 * 1024)
    big = QTI21_ITEM.replace("Advice", "advice " * 130_000)
    pkg = zip_of(site / "again.zip", {"imsmanifest.xml": manifest(*["q1.xml"] * 4), "q1.xml": big})
    refused(site, pkg, f"{pkg}/q1.xml: reading this member takes the package past 3.0 MB read in all")


def test_a_zip_listing_too_many_members_is_refused_before_its_list_is_read(site):
    """70,000 empty members: more than a zip's end record holds, so it is a zip64 one."""
    pkg = site / "crowd.zip"
    with zipfile.ZipFile(pkg, "w") as zf:
        for n in range(70_000):
            zf.writestr(f"{n}.xml", b"")
    refused(site, pkg, f"{pkg}: the zip lists 70,000 members in 3.7 MB, over the limit of 50,000 members")


def lying_zip(path: Path, name: str, data: bytes, declared: int) -> Path:
    """A zip whose local header and central directory both say ``name`` inflates to ``declared`` bytes."""
    zip_of(path, {"imsmanifest.xml": MANIFEST21, name: data})
    raw = bytearray(path.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # the uncompressed size in each header
        pos = 0
        while (pos := raw.find(sig, pos)) >= 0:
            header_name_at = pos + (30 if sig == b"PK\x03\x04" else 46)
            if raw[header_name_at:header_name_at + len(name)] == name.encode():
                raw[pos + offset:pos + offset + 4] = struct.pack("<L", declared)
            pos += 4
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo(name).file_size == declared  # the lie is what the central directory says
    return path


def test_a_zip_that_lies_about_its_sizes_is_refused_while_inflating(site):
    pkg = lying_zip(site / "liar.zip", "q1.xml", bytes(60 * 1024 * 1024), declared=1000)
    refused(site, pkg, f"{pkg}/q1.xml: the member cannot be inflated: its bytes do not match the zip's checksum (CRC)")


def _peak_rss_mb(*runs: list[str]) -> list[float]:
    """Peak memory (MB) of a fresh Python after each CLI run in turn, as the kernel counted it.

    The kernel's high-water mark of the child's own memory (``VmHWM``): ``getrusage``'s ``ru_maxrss``
    would do in a process of its own, but on Linux a child started from this one keeps the parent's
    (pytest's) peak across ``exec``, so it would measure pytest, not the import.
    """
    code = ("import json, resource, sys\n"
            "from exam_builder.cli import cli\n"
            "for args in json.loads(sys.argv[1]):\n"
            "    try:\n        cli.main(args, standalone_mode=False)\n"
            "    except BaseException:\n        pass\n"
            "    hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
            "    print('PEAK', hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)\n")
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code, json.dumps(runs)], capture_output=True, text=True, env=env,
                          timeout=300)
    peaks = [int(line.split()[1]) / 1024 for line in done.stdout.splitlines() if line.startswith("PEAK")]  # KB
    assert len(peaks) == len(runs), done.stdout + done.stderr
    return peaks


def test_a_bomb_is_refused_in_little_memory(site):
    """Refusing a 60 MB bomb raises the peak of a process that has just refused a missing file by under 30 MB
    (reading it whole would add 120 MB: its bytes and their join)."""
    pkg = zip_of(site / "bomb.zip", {"imsmanifest.xml": MANIFEST21, "q1.xml": bytes(60 * 1024 * 1024)})
    course = str(site / "course")
    base, bomb = _peak_rss_mb(["--course", course, "import", "qti", str(site / "nothing.zip")],
                              ["--course", course, "import", "qti", str(pkg), "--into", str(site / "in")])
    print(f"peak memory: {base:.0f} MB after refusing a missing package, {bomb:.0f} MB after refusing a 60 MB bomb")
    assert bomb < base + 30, (base, bomb)
    assert not (site / "in").exists()


# -- out of the package --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../evil.xml", "items/../../evil.xml", "/tmp/evil.xml", "..\\evil.xml"])
def test_zip_members_that_climb_out_or_are_absolute_are_refused(site, name):
    pkg = zip_of(site / "climb.zip", {"imsmanifest.xml": MANIFEST21, "q1.xml": QTI21_ITEM, name: QTI21_ITEM})
    out = refused(site, pkg, f"{pkg}/{name}: the member has ")
    assert "a package's files are read only inside it" in out


@pytest.mark.parametrize("href", [
    "../outside.xml", "%2e%2e/outside.xml", "items/%2E%2E/..%2Foutside.xml", "items/../../outside.xml",
    "{site}/outside.xml", "file://{site}/outside.xml",
])
@pytest.mark.parametrize("form", ["folder", "zip"])
def test_a_manifest_href_out_of_the_package_is_refused(site, href, form):
    href = href.format(site=site)
    files = {"imsmanifest.xml": manifest("q1.xml", href), "q1.xml": QTI21_ITEM.replace("Peer_Q1", "Peer_Q2")}
    pkg = folder_of(site / "pkg", files) if form == "folder" else zip_of(site / "pkg.zip", files)
    refused(site, pkg, f"{pkg}/imsmanifest.xml:line 6: the href {href!r} ",
            "only the package's own files are read", args=("--skip-problems",))  # never skipped into a partial import


def test_a_stimulus_reference_out_of_the_package_is_refused(site):
    item = """<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="s1" title="S" adaptive="false" time-dependent="false">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier"/>
  <qti-assessment-stimulus-ref identifier="st" href="../%2e%2e/secret.txt"/>
  <qti-item-body><qti-extended-text-interaction response-identifier="RESPONSE"/></qti-item-body>
</qti-assessment-item>
"""  # noqa: E501 (the file's lines as written: the message below names line 4)
    pkg = folder_of(site / "pkg", {"items/s1.xml": item})
    refused(site, pkg, f"{pkg}/items/s1.xml:line 4: the href '../%2e%2e/secret.txt' points outside the package")


def test_a_symlinked_item_pointing_outside_is_refused_with_or_without_a_manifest(site):
    pkg = folder_of(site / "pkg", {"imsmanifest.xml": manifest("q1.xml")})
    (pkg / "q1.xml").symlink_to(site / "outside.xml")
    refused(site, pkg, f"{pkg}/q1.xml: a symbolic link to {site / 'outside.xml'}, outside the package")
    (pkg / "imsmanifest.xml").unlink()  # listed from the folder instead
    refused(site, pkg, f"{pkg}/q1.xml: a symbolic link out of {pkg}/")


def test_a_symlinked_folder_pointing_outside_is_refused(site):
    (site / "elsewhere").mkdir()
    (site / "elsewhere" / "q1.xml").write_text(QTI21_ITEM.replace("Advice", SECRET))
    pkg = folder_of(site / "pkg", {"imsmanifest.xml": manifest("items/q1.xml")})
    (pkg / "items").symlink_to(site / "elsewhere")
    refused(site, pkg, f"{pkg}/items/q1.xml: a symbolic link to {site / 'elsewhere' / 'q1.xml'}, outside the package")


# -- XML that declares entities ------------------------------------------------------------------


def xxe_item(site: Path) -> str:
    return QTI21_ITEM.replace(ITEM_HEAD,
                              ITEM_HEAD + '<!DOCTYPE assessmentItem [<!ENTITY s SYSTEM '
                                          f'"file://{site}/secret.txt">]>\n') \
        .replace("Advice", "&s;")


LAUGHS = ITEM_HEAD + "<!DOCTYPE assessmentItem [\n <!ENTITY l0 \"lol\">\n" + "".join(
    f' <!ENTITY l{n} "{f"&l{n - 1};" * 10}">\n' for n in range(1, 10)) + "]>\n" + QTI21_ITEM[len(ITEM_HEAD):].replace(
    "Advice", "&l9;")


@pytest.mark.parametrize("form", ["folder", "zip"])
def test_an_external_entity_is_refused_at_its_doctype_and_never_read(site, form):
    files = {"imsmanifest.xml": MANIFEST21, "q1.xml": xxe_item(site)}
    pkg = folder_of(site / "pkg", files) if form == "folder" else zip_of(site / "pkg.zip", files)
    refused(site, pkg, f"{pkg}/q1.xml:line 2: the XML declares a document type (<!DOCTYPE assessmentItem>): "
                       "DTDs and entity declarations are not read")


def test_a_billion_laughs_is_refused_at_its_doctype(site):
    pkg = folder_of(site / "pkg", {"q1.xml": LAUGHS})  # no manifest: the folder's XML files are read
    refused(site, pkg, f"{pkg}/q1.xml:line 2: the XML declares a document type")


def test_a_doctype_in_the_manifest_is_refused(site):
    doc = MANIFEST21.replace(ITEM_HEAD, ITEM_HEAD + '<!DOCTYPE manifest SYSTEM "http://example.invalid/cp.dtd">\n')
    pkg = zip_of(site / "pkg.zip", {"imsmanifest.xml": doc, "q1.xml": QTI21_ITEM})
    refused(site, pkg,
            f"{pkg}/imsmanifest.xml:line 2: the XML declares a document type (<!DOCTYPE manifest SYSTEM ...>)")


def test_numbers_that_are_not_numbers_are_located_not_a_traceback(site):
    item = QTI21_ITEM.replace('maxChoices="1"', 'maxChoices="one"')
    pkg = folder_of(site / "pkg", {"q1.xml": item})
    refused(site, pkg, f"{pkg}/q1.xml:line 10 [peer_q1]: max-choices must be a whole number from 0 to 1000, not 'one'")


def test_a_clean_package_still_imports(site):
    """The same reader lets a plain package through (so the refusals above are not everything refused)."""
    pkg = zip_of(site / "fine.zip", {"imsmanifest.xml": MANIFEST21, "q1.xml": QTI21_ITEM})
    result = run(site / "course", "import", "qti", str(pkg), "--into", str(site / "course" / "source" / "new"),
                 "--pool", "certification")
    assert result.exit_code == 0, result.output
    assert (site / "course" / "source" / "new" / "fine.ipynb").exists()


# -- exports/qti is private ----------------------------------------------------------------------


def test_export_qti_writes_a_private_folder_and_file_whatever_the_umask(course_dir):
    old = os.umask(0o022)
    try:
        result = run(course_dir, "export", "qti", "--items", "ps-tf-01")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    out = course_dir / "exports" / "qti" / "items.zip"
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    assert (mode(course_dir / "exports"), mode(out.parent), mode(out)) == (0o700, 0o700, 0o600)
    assert [p.name for p in out.parent.iterdir()] == ["items.zip"]  # no temporary file left
