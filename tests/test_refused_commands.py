"""A refused command changes nothing, whatever the course folder holds (issue 23).

A small course is built once through the real CLI (a made-up bank, a roster, two forms released
by nbgrader, keys in ``exports/``). Each case copies it, plants something hostile where the
program writes or reads (a lock or scratch folder that links to ``rubrics/``, a lock that is a
folder, a hard link or a pipe, a ``.exam-builder`` that is a file, a blueprint or ``exports/``
that links out of the course, ...), runs a real command that must be refused, and asserts: a
non-zero exit, a message naming the path, no traceback, and every file (link targets and the
folder outside the course included, with their modes) and every row of the database exactly as
before. The control cases run the same commands on the clean copy and see them succeed, so a
refusal above is the plant's doing.

``test_no_module_writes_around_files`` fails when a module of the package writes, replaces or
clears a file any way other than ``exam_builder.files`` (where every path is checked first).
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from coursekit import REPO, approve_offered_items, rows_of, tree_of

from exam_builder.assembly.synthetic import synthetic_bank, write_bank
from exam_builder.cli import cli
from exam_builder.course import Course

BLUEPRINT = """\
title: Synthetic certification exam
forms: 2
seed: 11
cut_score: 70%
points: {true_false: 1, multiple_choice: 1, open_response: 6}
counts:
  peer-support: {true_false: 2, multiple_choice: 3, open_response: 1}
  in-but-not-of: {true_false: 2, multiple_choice: 3}
  change-agent: {true_false: 1, multiple_choice: 3}
max_overlap: 4
"""
ROSTER = "candidate id,first name,last name,email,cohort\nc1,Ada,Ashgrove,,s26\nc2,Bea,Bell,,s26\n"
BAD_ROSTER = "candidate id,first name,last name,email,cohort\nc3,Cy,Cole,,s26\nc4,D\x00a,Dunn,,s26\n"


def run(root: Path, *args: str):
    """The real command, in this process (the console script's code path, its error handling included)."""
    return CliRunner(env={"COLUMNS": "250", "EXAM_BUILDER_LOCK_WAIT": "0"}).invoke(
        cli, ["--course", str(root), *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A course with a made-up bank, a roster, two forms built and released, keys in exports/."""
    site = tmp_path_factory.mktemp("template")
    root = site / "course"
    root.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    bank, rubrics = synthetic_bank(120, 5)
    write_bank(bank, rubrics, root / "source" / "syn", root / "rubrics")
    (root / "source" / "syn" / "blueprint.yaml").write_text(BLUEPRINT, encoding="utf-8")
    assert run(root, "db", "upgrade").exit_code == 0
    course = Course(root)
    approve_offered_items(course)
    course.db.dispose()
    (root / "in").mkdir()
    (root / "in" / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (root / "in" / "bad-roster.csv").write_text(BAD_ROSTER, encoding="utf-8")
    assert run(root, "roster", "import", str(root / "in" / "roster.csv")).exit_code == 0
    out = run(root, "build", "syn")
    assert out.exit_code == 0, out.output
    assert (root / "exports" / "syn" / "keys" / "syn-A-key.csv").is_file()
    assert (root / RUBRIC).is_file()  # the plants' links to a rubric point at a real file
    return root


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the template course (``<site>/course``) and a folder outside it (``<site>/outside``)."""
    shutil.copytree(template, tmp_path / "course", symlinks=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "notes.txt").write_text("a file outside the course\n", encoding="utf-8")
    shutil.copy(template / "source" / "syn" / "blueprint.yaml", outside / "blueprint.yaml")
    (outside / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return tmp_path


# --------------------------------------------------------------------------------- the snapshot

def snapshot(site: Path) -> tuple[dict, dict]:
    """The course and the folder outside it, file by file, and the database, row by row."""
    return tree_of(site), rows_of(f"sqlite:///{site / 'course' / 'gradebook.db'}")


# ------------------------------------------------------------------------------------ the plants

def link(path: Path, target: str | Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


def replace_with_folder(path: Path) -> None:
    if os.path.lexists(path):
        path.unlink()
    path.mkdir()
    (path / "keep.txt").write_text("not the program's\n", encoding="utf-8")


def replace_with_fifo(path: Path) -> None:
    if os.path.lexists(path):
        path.unlink()
    os.mkfifo(path)


def private_folder_is_a_file(c: Path) -> None:
    shutil.rmtree(c / ".exam-builder")
    (c / ".exam-builder").write_text("not a folder\n", encoding="utf-8")


def hard_link(path: Path, target: Path) -> None:
    if os.path.lexists(path):
        path.unlink()
    os.link(target, path)


RUBRIC = "rubrics/it-0007.yaml"  # an open-response item's rubric of the synthetic bank (the template checks it)

# (id, plant(course, outside), command, the path the message must name)
CASES: list[tuple[str, Callable[[Path, Path], None], tuple[str, ...], str]] = [
    # -- the course's private folder (the cases, then variations)
    ("lock-links-to-rubrics-folder", lambda c, o: link(c / ".exam-builder/lock", "../rubrics"),
     ("roster", "import", "in/bad-roster.csv"), ".exam-builder/lock"),
    ("lock-links-to-a-rubric", lambda c, o: link(c / ".exam-builder/lock", f"../{RUBRIC}"),
     ("roster", "import", "in/bad-roster.csv"), ".exam-builder/lock"),
    ("scratch-links-to-rubrics-folder", lambda c, o: link(c / ".exam-builder/scratch", "../rubrics"),
     ("roster", "import", "in/bad-roster.csv"), ".exam-builder/scratch"),
    ("scratch-links-to-a-rubric", lambda c, o: link(c / ".exam-builder/scratch", f"../{RUBRIC}"),
     ("roster", "import", "in/bad-roster.csv"), ".exam-builder/scratch"),
    ("scratch-links-to-rubrics-on-build", lambda c, o: link(c / ".exam-builder/scratch", "../rubrics"),
     ("build", "syn", "--seed", "99"), ".exam-builder/scratch"),
    ("lock-is-a-folder", lambda c, o: replace_with_folder(c / ".exam-builder/lock"),
     ("roster", "import", "in/roster.csv"), ".exam-builder/lock"),
    ("private-folder-is-a-file", lambda c, o: private_folder_is_a_file(c),
     ("roster", "import", "in/roster.csv"), ".exam-builder"),
    ("private-folder-links-to-rubrics", lambda c, o: (shutil.rmtree(c / ".exam-builder"),
                                                      (c / ".exam-builder").symlink_to("rubrics")),
     ("roster", "import", "in/bad-roster.csv"), ".exam-builder"),
    ("private-folder-links-out", lambda c, o: (shutil.rmtree(c / ".exam-builder"),
                                               (c / ".exam-builder").symlink_to(o)),
     ("build", "syn"), ".exam-builder"),
    ("lock-is-a-hard-link-to-a-rubric", lambda c, o: hard_link(c / ".exam-builder/lock", c / RUBRIC),
     ("roster", "import", "in/bad-roster.csv"), ".exam-builder/lock"),
    ("lock-is-a-pipe", lambda c, o: replace_with_fifo(c / ".exam-builder/lock"),
     ("roster", "import", "in/roster.csv"), ".exam-builder/lock"),
    ("scratch-holds-a-link-to-rubrics", lambda c, o: link(c / ".exam-builder/scratch/leftover", "../../rubrics"),
     ("roster", "import", "in/bad-roster.csv"), ".exam-builder/scratch/leftover"),
    ("scratch-holds-a-pipe", lambda c, o: (private(c / ".exam-builder/scratch"),
                                           os.mkfifo(c / ".exam-builder/scratch/pipe")),
     ("build", "syn"), ".exam-builder/scratch/pipe"),
    ("secret-links-to-a-rubric", lambda c, o: link(c / ".exam-builder/secret", f"../{RUBRIC}"),
     ("sitting", "open", "syn", "--room", "R1"), ".exam-builder/secret"),
    ("secret-is-a-folder", lambda c, o: replace_with_folder(c / ".exam-builder/secret"),
     ("sitting", "open", "syn", "--room", "R1"), ".exam-builder/secret"),
    # -- links out of the course, and what `build` writes
    ("blueprint-links-out", lambda c, o: link(c / "source/syn/blueprint.yaml", o / "blueprint.yaml"),
     ("build", "syn"), "source/syn/blueprint.yaml"),
    ("blueprint-links-out-check", lambda c, o: link(c / "source/syn/blueprint.yaml", o / "blueprint.yaml"),
     ("check",), "source/syn/blueprint.yaml"),
    ("blueprint-named-to-check-links-out", lambda c, o: link(c / "source/syn/blueprint.yaml", o / "blueprint.yaml"),
     ("check", "source/syn/blueprint.yaml"), "source/syn/blueprint.yaml"),
    ("blueprint-links-to-rubrics", lambda c, o: link(c / "source/syn/blueprint.yaml", f"../../{RUBRIC}"),
     ("build", "syn"), "source/syn/blueprint.yaml"),
    ("rubrics-folder-links-out", lambda c, o: (shutil.copytree(c / "rubrics", o / "rubrics"),
                                               link(c / "rubrics", o / "rubrics")),
     ("build", "syn"), "rubrics"),
    ("exam-folder-links-out", lambda c,
     o: (shutil.copytree(c / "source/syn", o / "syn"), link(c / "source/syn", o / "syn")),
     ("build", "syn"), "source/syn"),
    ("exports-links-out", lambda c,
     o: (shutil.copytree(c / "exports", o / "exports"), link(c / "exports", o / "exports")),
     ("build", "syn"), "exports"),
    ("exports-links-to-rubrics", lambda c, o: link(c / "exports", "rubrics"),
     ("build", "syn", "--seed", "99"), "exports"),
    ("key-links-to-a-rubric", lambda c, o: link(c / "exports/syn/keys/syn-A-key.csv", f"../../../{RUBRIC}"),
     ("build", "syn"), "exports/syn/keys/syn-A-key.csv"),
    ("key-is-a-folder", lambda c, o: replace_with_folder(c / "exports/syn/keys/syn-B-key.html"),
     ("build", "syn", "--seed", "99"), "exports/syn/keys/syn-B-key.html"),
    ("released-form-links-out", lambda c, o: (shutil.copytree(c / "release/syn-A", o / "syn-A"),
                                              link(c / "release/syn-A", o / "syn-A")),
     ("build", "syn"), "release/syn-A"),
    ("form-source-holds-a-link-nbgrader-would-copy", lambda c, o: link(c / "source/syn-B/notes.txt", o / "notes.txt"),
     ("build", "syn", "--seed", "99"), "source/syn-B/notes.txt"),
    ("form-source-notebook-is-a-pipe", lambda c, o: replace_with_fifo(c / "source/syn-A/syn-A.ipynb"),
     ("build", "syn"), "source/syn-A/syn-A.ipynb"),
    ("qti-export-folder-links-out", lambda c, o: link(c / "exports", o),
     ("export", "qti"), "exports"),
    ("qti-out-is-a-link", lambda c, o: link(c / "in/bank.zip", f"../{RUBRIC}"),
     ("export", "qti", "--out", "in/bank.zip"), "in/bank.zip"),
    # -- sheets, outputs and settings
    ("seat-cards-folder-links-out", lambda c, o: (shutil.copytree(c / "exports", o / "exports"),
                                                  link(c / "exports", o / "exports")),
     ("sitting", "open", "syn", "--room", "R1"), "exports"),
    ("report-folder-links-to-rubrics", lambda c, o: link(c / "reports", "rubrics"),
     ("report", "syn"), "reports"),
    ("report-file-is-a-pipe", lambda c, o: ((c / "reports/out/syn").mkdir(parents=True),
                                            os.mkfifo(c / "reports/out/syn/report.json")),
     ("report", "syn"), "reports/out/syn/report.json"),
    ("roster-in-the-course-links-out", lambda c, o: link(c / "in/roster.csv", o / "roster.csv"),
     ("roster", "import", "in/roster.csv"), "in/roster.csv"),
    ("results-csv-links-to-a-rubric", lambda c, o: link(c / "exports/results.csv", f"../{RUBRIC}"),
     ("results", "syn", "--csv", "exports/results.csv"), "exports/results.csv"),
    ("eligibility-csv-is-a-pipe", lambda c, o: replace_with_fifo(c / "in/eligibility.csv"),
     ("eligibility", "syn", "--csv", "in/eligibility.csv"), "in/eligibility.csv"),
    ("practice-folder-links-out", lambda c, o: link(c / "practice", o),
     ("practice", "build", "drill", "--exam", "syn"), "practice"),
    ("config-links-out", lambda c, o: (shutil.copy(c / "nbgrader_config.py", o / "nbgrader_config.py"),
                                       link(c / "nbgrader_config.py", o / "nbgrader_config.py")),
     ("roster", "import", "in/roster.csv"), "nbgrader_config.py"),
    ("config-is-a-pipe", lambda c, o: replace_with_fifo(c / "nbgrader_config.py"),
     ("roster", "import", "in/roster.csv"), "nbgrader_config.py"),
    ("item-stats-in-the-course-links-out", lambda c, o: ((o / "stats.csv").write_text("item_id,p_value\n"),
                                                         link(c / "in/stats.csv", o / "stats.csv")),
     ("build", "syn", "--item-stats", "in/stats.csv"), "in/stats.csv"),
]


def private(folder: Path) -> None:
    folder.mkdir(mode=0o700, exist_ok=True)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_refused_command_changes_nothing(site: Path, case, monkeypatch):
    _name, plant, args, named = case
    course = site / "course"
    plant(course, site / "outside")
    monkeypatch.chdir(course)  # paths on the command line are the course's, as a person types them
    before = snapshot(site)
    out = run(course, *args)
    assert out.exit_code != 0, out.output
    assert "Traceback" not in out.output
    assert re.search(rf"(^|\s|/){re.escape(named)}:", out.output, re.M), out.output
    after = snapshot(site)
    assert after[1] == before[1], "the database changed"
    changed = sorted(k for k in set(before[0]) | set(after[0]) if before[0].get(k) != after[0].get(k))
    assert changed == [], changed


CONTROL = [
    ("roster", "import", "in/roster.csv"),
    ("build", "syn"),
    ("build", "syn", "--seed", "99"),
    ("check",),
    ("export", "qti"),
    ("results", "syn", "--csv", "exports/results.csv"),
    ("eligibility", "syn", "--csv", "in/eligibility.csv"),
    ("sitting", "open", "syn", "--room", "R1"),
    ("report", "syn"),
]


@pytest.mark.parametrize("args", CONTROL, ids=[" ".join(a) for a in CONTROL])
def test_the_same_commands_succeed_on_the_clean_course(site: Path, args, monkeypatch):
    """Without the plants the commands above do their work: their refusals are the plants' doing."""
    monkeypatch.chdir(site / "course")
    out = run(site / "course", *args)
    assert out.exit_code == 0, out.output


def test_the_bad_roster_alone_is_refused_and_changes_nothing(site: Path, monkeypatch):
    """The sheet the private-folder cases import is refused for its own row, with the folder as it should be."""
    monkeypatch.chdir(site / "course")
    before = snapshot(site)
    out = run(site / "course", "roster", "import", "in/bad-roster.csv")
    assert out.exit_code == 1
    assert "in/bad-roster.csv:row 2:column first name" in out.output
    assert snapshot(site) == before


def test_a_sitting_refused_for_its_exam_makes_no_secret(site: Path, monkeypatch):
    """The course's secret is made on first need: not by a command refused before it needs it."""
    monkeypatch.chdir(site / "course")
    before = snapshot(site)
    out = run(site / "course", "sitting", "open", "nosuch", "--room", "R1")
    assert out.exit_code == 1 and "no exam 'nosuch'" in out.output, out.output
    assert snapshot(site) == before
    assert not (site / "course" / ".exam-builder" / "secret").exists()


def test_a_killed_commands_leftovers_are_still_cleared(site: Path, monkeypatch):
    """Refusing links in the scratch folder does not stop the lock's clearing of what a dead command left."""
    scratch = site / "course" / ".exam-builder" / "scratch"
    private(scratch)
    (scratch / "release-backup-x" / "0").mkdir(parents=True)
    (scratch / "release-backup-x" / "0" / "syn-A.ipynb").write_text("{}", encoding="utf-8")
    (scratch / "stray.tmp").write_text("", encoding="utf-8")
    monkeypatch.chdir(site / "course")
    assert run(site / "course", "roster", "import", "in/roster.csv").exit_code == 0
    assert list(scratch.iterdir()) == []


# --------------------------------------------------------------------- one door for every write

PACKAGE = REPO / "exam_builder"

#: Ways of writing, replacing or clearing a file or folder; outside ``files.py`` each is an error
#: unless it is listed in ``ALLOWED`` with the reason it needs no check.
WRITES = re.compile(
    r"\.write_text\(|\.write_bytes\(|\.mkdir\(|os\.makedirs\(|os\.mkdir\(|\.touch\(|shutil\.(rmtree|copy\w*|move)\("
    r"|os\.(replace|rename|renames|unlink|remove|rmdir|link|symlink|truncate|ftruncate|chmod)\(|\.unlink\(|\.rmdir\("
    r"|\.chmod\(|tempfile\.(mkstemp|mkdtemp|NamedTemporaryFile|TemporaryDirectory)\(|nbformat\.write\("
    r"|\bopen\([^)]*,\s*(mode\s*=\s*)?[\"'][rbt]*[wax+][rwabxt+]*[\"']|os\.open\([^)]*O_(WRONLY|RDWR|CREAT|TRUNC|APPEND)"
)

#: (module, text on the line): why the write needs no check of ``files``.
ALLOWED = {
    ("lab/install.py", "target.parent.mkdir(parents=True, exist_ok=True)"):
        "the lab extension's installer: writes into the Python environment's prefix (share/, etc/), never a course",
    ("lab/install.py", "target.unlink()"):
        "the lab extension's installer: writes into the Python environment's prefix (share/, etc/), never a course",
    ("lab/install.py", "shutil.rmtree(target)"):
        "the lab extension's installer: writes into the Python environment's prefix (share/, etc/), never a course",
    ("lab/install.py", "shutil.copytree(BUILT, target)"):
        "the lab extension's installer: writes into the Python environment's prefix (share/, etc/), never a course",
    ("lab/install.py", "config.parent.mkdir(parents=True, exist_ok=True)"):
        "the lab extension's installer: writes into the Python environment's prefix (share/, etc/), never a course",
    ("lab/install.py", "config.write_text(SWITCH.read_text())"):
        "the lab extension's installer: writes into the Python environment's prefix (share/, etc/), never a course",
    ("demo/__init__.py", "shutil.rmtree(target)"): "the demo makes its own fresh course folder",
    ("demo/__init__.py", "target.mkdir(parents=True)"): "the demo makes its own fresh course folder",
    ("loadtest/rehearse.py", 'stdout=open(self.log, "ab")'): "the rehearsal's server log in its scratch folder",
    ("loadtest/rehearse.py", 'tempfile.mkdtemp(prefix="eb-rehearse-")'): "a new folder of the system's",
    ("loadtest/rehearse.py", "shutil.rmtree(where, ignore_errors=True)"): "the rehearsal's own temporary folder",
    ("delivery/server.py", "source_file(page_dir, self.kernel_id).write_text("): "the server's own temporary folder",
    ("delivery/server.py", "source_file(page_dir, kernel_id).unlink("): "the server's own temporary folder",
    ("delivery/server.py", "released_file(page_dir, kernel_id).unlink("): "the server's own temporary folder",
    ("delivery/server.py", "tempfile.mkdtemp(prefix=PAGES_PREFIX)"): "a new folder of the system's",
    ("delivery/server.py", "shutil.rmtree(folder, ignore_errors=True)"):
        "a pages folder of this user's server that is gone (it names its dead pid)",
    ("delivery/server.py", "shutil.rmtree(page_dir, ignore_errors=True)"): "the server's own temporary folder",
    ("delivery/server.py", "os.chmod(page_dir, 0o700)"): "the server's own temporary folder",
    ("hub/config.py", "os.chmod(s.state_dir, 0o700)"): "the hub's state folder, not a course's",
    ("lock.py", "os.ftruncate(fd, 0)"): "the lock's own descriptor, from files.open_in_place (checked, one name)",
    ("assembly/synthetic.py", "folder.mkdir(parents=True, exist_ok=True)"): "made-up banks for tests and benchmarks",
    ("assembly/synthetic.py",
     "rubrics_dir.mkdir(parents=True, exist_ok=True)"): "made-up banks for tests and benchmarks",
    ("assembly/synthetic.py", '(rubrics_dir / f"{rid}.yaml").write_text('): "made-up banks for tests and benchmarks",
    ("assembly/synthetic.py", "nbformat.write("): "made-up banks for tests and benchmarks",
}


def test_no_module_writes_around_files():
    found, used = [], set()
    for path in sorted(PACKAGE.rglob("*.py")):
        name = str(path.relative_to(PACKAGE))
        if name == "files.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if not WRITES.search(code):
                continue
            allowed = [key for key in ALLOWED if key[0] == name and key[1] in code]
            if allowed:
                used.update(allowed)
            else:
                found.append(f"exam_builder/{name}:{n}: {line.strip()}")
    assert found == [], ("write through exam_builder.files (replace_file, private_dir, remove_tree, ...), which checks "
                         "the path first:\n" + "\n".join(found))
    assert set(ALLOWED) - used == set(), "allowed writes no longer in the code: remove them from ALLOWED"


def test_the_scan_finds_a_write():
    """The scan above is not blind: each way of writing it knows is found."""
    for line in ('p.write_text("x")', 'open(p, "w")', 'open(log, mode="ab")', "shutil.rmtree(p)", "os.replace(a, b)",
                 "p.unlink()",
                 "p.mkdir()", "os.open(p, os.O_RDWR | os.O_CREAT)", "tempfile.mkstemp(dir=d)", "nbformat.write(nb, f)"):
        assert WRITES.search(line), line
    for line in ('open(p, "rb")', "os.open(p, os.O_RDONLY)", 'def open(self, ready: Callable[["PageClient"]]):',
                 'text.replace("a", "b")', "df.rename(columns=x)"):
        assert not WRITES.search(line), line
