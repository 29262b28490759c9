"""Everything a user can type or set is documented, and everything documented exists.

After datasette's tests/test_docs.py: the lists come from the code, never from this file. Every
command and subcommand of the click group, every option of each, and every ``config=True``
setting of exam-builder's settings classes (``exam_builder.settings.SETTINGS``) must appear in
README.md or docs/*.md in code form (`exam-builder sitting open EXAM --room R`,
`c.ProgramPolicy.max_attempts`); every such mention must name a command, option or setting that
exists; and docs/reference.md must be what ``scripts/docs_reference.py`` writes.
"""
from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from traitlets.config import Configurable

from exam_builder.cli import cli
from exam_builder.settings import SETTINGS as SETTINGS_CLASSES

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SETTING_RE = re.compile(r"\bc\.([A-Z]\w*)\.(\w+|\*)")


def _script():
    spec = importlib.util.spec_from_file_location("docs_reference", ROOT / "scripts" / "docs_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reference = _script()
COMMANDS = {" ".join(path): cmd for path, cmd in reference.commands(cli)}
OPTIONS = [(path, name) for path, cmd in [("", cli), *COMMANDS.items()]
           for opt in reference.options(cmd) for name in reference.option_names(opt)]
SETTINGS = [f"c.{cls.__name__}.{name}" for cls, name, _trait in reference.settings()]


def code_lines() -> Iterator[tuple[str, list[str]]]:
    """Per line of the docs, where it is and the code it holds: its `spans`, or the line in a fence."""
    for doc in DOCS:
        fenced = False
        for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            where = f"{doc.relative_to(ROOT)}:{n}"
            yield where, [re.split(r"\s#\s", line)[0].strip()] if fenced else re.findall(r"`([^`]+)`", line)


def _token(text: str) -> str:
    return text.strip("[](){}<>…,.;:'\"")


def parse_command(text: str) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """A mention `exam-builder a b --x ...`: its command paths, (path, option) pairs, and what does not exist.

    ``import/sync`` names two subcommands; option values and arguments are skipped.
    """
    paths, options, wrong = [], [], []
    cmd: click.Command = cli
    path: list[str] = []
    tokens = [_token(t) for t in text.split()[1:]]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token:
            continue
        if token.startswith("-"):
            name = token.split("=")[0]
            if name in ("--help", "-h"):
                continue
            opt = next((o for o in reference.options(cmd) if name in o.opts or name in o.secondary_opts), None)
            if opt is None:
                wrong.append(f"{' '.join(['exam-builder', *path])} has no option {name}")
            else:
                options.append((" ".join(path), name))
                if isinstance(cmd, click.Group) and not opt.is_flag and "=" not in token:
                    i += 1  # a root option's value, not a command
            continue
        if isinstance(cmd, click.Group):
            names = token.split("/")
            missing = [n for n in names if n not in cmd.commands]
            if missing:
                wrong.append(f"{' '.join(['exam-builder', *path])} has no command {' / '.join(missing)}")
                break
            paths += [" ".join([*path, n]) for n in names[1:]]
            path.append(names[0])
            cmd = cmd.commands[names[0]]
            paths.append(" ".join(path))
    return paths, options, wrong


def mentions() -> tuple[set[str], set[tuple[str, str]], set[str], list[str]]:
    """Commands, (command, option) pairs and settings the docs mention; and mentions of what does not exist.

    An option in a span of its own counts for the last command mentioned on the same line (a row
    of the reference's table).
    """
    commands, options, settings, wrong = set(), set(), set(), []
    for where, spans in code_lines():
        last = None
        for span in spans:
            for cls, name in SETTING_RE.findall(span):
                settings.add(f"c.{cls}.{name}")
            if span.startswith("exam-builder"):
                paths, opts, bad = parse_command(span)
                commands |= set(paths)
                options |= set(opts)
                wrong += [f"{where}: {b}" for b in bad]
                last = paths[-1] if paths else ""
            elif last is not None:
                for token in span.split():
                    for name in _token(token).split("/"):
                        if name.startswith("--"):
                            options.add((last, name.split("=")[0]))
            elif span.startswith("--"):
                options.add(("", _token(span.split()[0])))  # the root group's options, said once
    return commands, options, settings, wrong


MENTIONED_COMMANDS, MENTIONED_OPTIONS, MENTIONED_SETTINGS, WRONG = mentions()


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_is_documented(path):
    assert path in MENTIONED_COMMANDS, f"`exam-builder {path}` is not in README.md or docs/*.md"


@pytest.mark.parametrize("path,option", OPTIONS, ids=[f"{p} {o}".strip() for p, o in OPTIONS])
def test_every_option_is_documented(path, option):
    assert (path, option) in MENTIONED_OPTIONS, f"`exam-builder {path} {option}` is not in README.md or docs/*.md"


@pytest.mark.parametrize("setting", SETTINGS)
def test_every_setting_is_documented(setting):
    assert setting in MENTIONED_SETTINGS, f"`{setting}` is not in README.md or docs/*.md"


def test_every_documented_command_and_option_exists():
    assert WRONG == []


def _configurables() -> dict[str, type[Configurable]]:
    """exam-builder's settings classes and nbgrader's (``c.CourseDirectory.db_url``)."""
    import nbgrader.apps  # noqa: F401  (loads nbgrader's configurables)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    found = {c.__name__: c for c in subclasses(Configurable) if c.__module__.startswith("nbgrader.")}
    return {**found, **{c.__name__: c for c in SETTINGS_CLASSES.values()}}


def test_every_documented_setting_exists():
    known = _configurables()
    wrong = []
    for setting in sorted(MENTIONED_SETTINGS):
        _c, cls, name = setting.split(".")
        if cls not in known:
            wrong.append(f"{setting}: no settings class {cls}")
        elif name != "*" and name not in known[cls].class_trait_names(config=True):
            wrong.append(f"{setting}: {cls} has no setting {name}")
    assert wrong == []


def test_the_reference_is_up_to_date():
    """docs/reference.md is what scripts/docs_reference.py writes (run it after changing a command or setting)."""
    assert reference.REFERENCE.read_text(encoding="utf-8") == reference.reference(), \
        "docs/reference.md is out of date: run python scripts/docs_reference.py"
