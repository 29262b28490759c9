"""Write docs/reference.md: every command with its options, and every setting, from the code itself.

The commands come from the click group (``exam_builder.cli.cli``), the settings from the traitlets
classes the course reads (``exam_builder.settings.SETTINGS``), so the reference cannot drift from
the code: ``tests/test_docs.py`` fails when docs/reference.md is not what this script writes.

    python scripts/docs_reference.py          # rewrite docs/reference.md
    python scripts/docs_reference.py --check  # exit 1 if it is out of date
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "reference.md"
MAX_DEFAULT = 48  # longer defaults (the competencies, the modules) are cut: the source has them whole


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command and group under ``group``, depth first, by name."""
    for name in sorted(group.commands):
        cmd = group.commands[name]
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from commands(cmd, (*path, name))


def options(cmd: click.Command) -> list[click.Option]:
    """A command's options as the docs name them (``--help`` is every command's)."""
    return [p for p in cmd.params if isinstance(p, click.Option)]


def option_names(opt: click.Option) -> list[str]:
    return [n for n in (*opt.opts, *opt.secondary_opts) if n.startswith("--")]


def settings() -> Iterator[tuple[type, str, object]]:
    """(class, name, trait) of every ``config=True`` trait of exam-builder's settings classes."""
    from exam_builder.settings import SETTINGS

    for cls in SETTINGS.values():
        for name, trait in sorted(cls.class_traits(config=True).items()):
            yield cls, name, trait


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _first_line(text: str | None) -> str:
    """The help's first paragraph, on one line."""
    return _cell((text or "").strip().split("\n\n")[0])


def _usage(path: tuple[str, ...], cmd: click.Command) -> str:
    args = [p.human_readable_name.upper() + ("..." if p.nargs == -1 else "")
            for p in cmd.params if isinstance(p, click.Argument)]
    return " ".join(["exam-builder", *path, *args])


def _metavar(opt: click.Option) -> str:
    """What an option takes, as a person would write it (not click's type names)."""
    t = opt.type
    if opt.metavar:
        return opt.metavar
    if isinstance(t, click.Choice):
        return "|".join(map(str, t.choices))
    if isinstance(t, click.DateTime):
        return "YYYY-MM-DD"
    if isinstance(t, click.Path):
        return "DIR" if not t.file_okay else ("FILE" if not t.dir_okay else "PATH")
    if isinstance(t, (click.types.IntParamType, click.types.FloatParamType)):
        return "N"
    return "NAME" if opt.name in ("by", "actor") else (opt.name or "value").upper()


def _option(opt: click.Option) -> str:
    names = "/".join(option_names(opt))
    if opt.is_flag or opt.count:
        return f"`{names}`"
    default = f" (default {opt.default})" if opt.show_default and opt.default not in (None, "") else ""
    return f"`{names} {_metavar(opt)}`" + ("…" if opt.multiple else "") + default


def _default(trait) -> str:
    text = trait.default_value_repr()
    return _cell(text if len(text) <= MAX_DEFAULT else text[:MAX_DEFAULT - 1] + "…")


def reference() -> str:
    """The text of docs/reference.md."""
    from exam_builder.cli import CHANGES_COURSE, cli

    out = [
        "# Reference",
        "",
        "Every command with its options, and every setting of `nbgrader_config.py`. Generated from the code by",
        "`python scripts/docs_reference.py`; `tests/test_docs.py` checks it is up to date. `--help` after any",
        "command says more about it.",
        "",
        "## Commands",
        "",
        "Every command takes the course first: " + ", ".join(_option(o) for o in options(cli)) + ".",
        "Commands marked 🔒 change the course and run one at a time (the course lock).",
        "",
        "| command | options | what it does |",
        "| --- | --- | --- |",
    ]
    for path, cmd in commands(cli):
        lock = " 🔒" if " ".join(path) in CHANGES_COURSE else ""
        opts = _cell(", ".join(_option(o) for o in options(cmd)))
        out.append(f"| `{_usage(path, cmd)}`{lock} | {opts} | {_first_line(cmd.help)} |")
    out += ["", "## Settings", "",
            "Set in the course's `nbgrader_config.py`, e.g. `c.ProgramPolicy.max_attempts = 2`.", ""]
    current = None
    for cls, name, trait in settings():
        if cls is not current:
            current = cls
            out += ["", f"### {cls.__name__}", "", _first_line(cls.__doc__), "",
                    "| setting | default | what it does |", "| --- | --- | --- |"]
        out.append(f"| `c.{cls.__name__}.{name}` | `{_default(trait)}` | {_first_line(trait.help) or '-'} |")
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"


def main(argv: list[str]) -> int:
    text = reference()
    if "--check" in argv:
        if not REFERENCE.exists() or REFERENCE.read_text(encoding="utf-8") != text:
            print(f"{REFERENCE} is out of date: run python scripts/docs_reference.py", file=sys.stderr)
            return 1
        return 0
    REFERENCE.write_text(text, encoding="utf-8")
    print(f"wrote {REFERENCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
