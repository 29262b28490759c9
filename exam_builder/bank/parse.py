"""Read items from ordinary notebook markdown cells, and write them back.

An item cell reads well as it is::

    **[MC] core-07** · competency: change-agent · module: 7 · points: 1 · status: live · author: A. Rivera · reviewer:
    J. Chen
    A peer specialist notices that a unit rule keeps people from ... What is the best response?
    - [ ] Ignore it; rules are the staff's business.
    - [x] Raise it with the team, bringing the people's own words.
    > **Rationale:** A change agent ...

``[TF]`` true/false (choices ``True`` and ``False``), ``[MC]`` multiple choice, ``[OR]`` open
response (``rubric:`` names its rubric, by default the item id), ``[SCENARIO]`` a vignette that
items join with ``scenario: <id>``. Markdown cells without such a header are notes and are
skipped. The parser never raises on bad content: it returns what it could read and the problems.

Every value obeys the program's one rule for its kind: ids (the item's, ``rubric:``, ``scenario:``)
the id rule and every text (header values, stem, choices, rationale, vignette) the text rule of
``exam_builder.text``; ``points`` and ``module`` the number rule of ``exam_builder.numbers`` (``0_5``,
``٣`` or ``inf`` is an error, never 5, 3 or infinity). A refused text is kept only in its escaped,
visible form (``text.visible``), so nothing that lists or saves the bank ever meets it raw.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import numbers, safeload
from ..errors import Location, Problem
from ..kinds import all_kinds, kind_for_tag
from ..model.item import METADATA_KEY, SCENARIO_TAG, Choice, Item, Pool, Scenario, Status, Where, points_text
from ..model.rubric import MAX_COUNT, MAX_ITEM_POINTS
from ..text import ID, id_problem, is_id, text_problem, visible

if TYPE_CHECKING:  # nbformat is imported when a notebook is read: its import alone takes seconds
    import nbformat

HEADER = re.compile(r"^\s*\*\*\[(?P<tag>[^\]]*)\]\s*(?P<id>[^*]*?)\s*\*\*(?P<rest>.*)$")
CHOICE = re.compile(r"^\s*[-*]\s+\[(?P<mark>[ xX])\]\s?(?P<text>.*)$")
# A line that is meant as a choice but whose box is not "[ ]" or "[x]" ("- [v]", "- []", "- [xx]").
ALMOST_CHOICE = re.compile(r"^\s*[-*]\s*\[(?P<mark>[^\]]{0,3})\]")
RATIONALE_LABEL = re.compile(r"^\*\*Rationale:?\*\*:?\s*", re.IGNORECASE)
ID_PATTERN = ID  # the one id rule (exam_builder.text): use ``text.is_id``, which also bounds the length
#: The header's separators: '·' as printed, or '|', which every keyboard has.
FIELD_SEP = re.compile(r"\s*[·|]\s*")
#: A separator that starts the next field: a value (an ``accept:`` list) may hold '|' or '·' itself.
FIELD_START = re.compile(r"\s*[·|]\s*(?=[A-Za-z][\w-]*\s*:)")
#: A separator the header does not use, before a field name (', module: 4', '; points: 1', '- status: live').
WRONG_SEP = re.compile(r"(?:^|\s*)(?P<sep>[,;/\\-])\s*(?=[A-Za-z][\w-]*\s*:)")
#: JupyterLab continues a list on Enter, so typing '- [ ] ' after it doubles the marker: '- [ ] - [x] text'.
DOUBLED = re.compile(r"^(?P<extra>(?:\s*[-*]\s+\[[ xX]\]\s*)+)(?=[-*]\s+\[[ xX]\])")
ITEM_FIELDS = ("competency", "module", "points", "difficulty", "status", "pool", "author", "reviewer", "rubric",
               "scenario")
SCENARIO_FIELDS = ("title",)


# What a broken header still looks like: a kind tag near the start of the first line ("[TF] x",
# "**[MC x**", "*[OR] x*"), or choice boxes with a key in a cell whose first line is no header.
LOOSE_TAG = re.compile(r"^\s*[*_]{0,3}\s*\[\s*(?P<tag>[A-Za-z]{2,8})\s*[\]*\s]", re.IGNORECASE)
KEY_CHOICE = re.compile(r"^\s*[-*]\s+\[[xX]\]")
FENCE = re.compile(r"^\s*(```|~~~)")


def _unfenced(lines: list[str]) -> list[str]:
    """The lines outside code fences (an author's notes show item syntax in fences on purpose)."""
    out, fenced = [], False
    for line in lines:
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and not line.startswith("    "):
            out.append(line)
    return out


def looks_like_item(source: str) -> str | None:
    """Why a markdown cell that is not an item looks like one (a lost ``**``, a stray space), or None.

    Without this an item whose header an author broke vanishes from the bank without a word.
    """
    lines = _unfenced(source.replace("\r\n", "\n").strip("\n").split("\n"))
    first = next((line for line in lines if line.strip()), "")
    if HEADER.match(first):
        return None
    tags = {k.tag for k in all_kinds()} | {SCENARIO_TAG}
    m = LOOSE_TAG.match(first)
    if m and m.group("tag").upper() in tags:
        return f"its first line starts with [{m.group('tag')}]"
    choices = [line for line in lines if CHOICE.match(line)]
    if len(choices) >= 2 and any(KEY_CHOICE.match(line) for line in choices):
        return f"it has {len(choices)} choices with a key ('- [x]')"
    return None


@dataclass
class ParsedNotebook:
    """What one notebook holds: items and scenarios in cell order, and what was wrong."""

    path: Path
    items: list[Item] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    generated: bool = False  # a form rendered by the builder, not part of the bank


def _letter(index: int) -> str:
    """A choice's name in messages (``kinds.base.label``: the kinds import this module)."""
    return chr(ord("A") + index) if index < 26 else str(index + 1)


def is_item_cell(source: str) -> bool:
    first = source.lstrip().split("\n", 1)[0]
    return bool(HEADER.match(first))


def _header_id(source: str) -> str | None:
    m = HEADER.match(source.lstrip().split("\n", 1)[0])
    return (m.group("id").strip() or None) if m else None


def _split_fields(rest: str) -> tuple[list[str], str | None]:
    """The header's fields after the id, and the wrong separator the author used (or None).

    A field starts after '·' or '|' followed by ``name:``, so a value may hold either (a short
    answer's ``accept:`` list is checked by its kind). Fields written with ',' or ';' between
    them are read at that separator, and the separator is returned so that one message says so.
    """
    rest = rest.strip()
    if not rest:
        return [], None
    parts = [p.strip() for p in FIELD_START.split(rest) if p.strip()]
    wrong = None
    split: list[str] = []
    for part in parts:
        part = part.lstrip("·|").strip()
        m = WRONG_SEP.search(part)
        if m and (m.start() == 0 or ":" in part[:m.start()]):
            wrong = m.group("sep")
            split += [p.strip() for p in WRONG_SEP.split(part)[::2] if p and p.strip()]
        elif part:
            split.append(part)
    return split, wrong


def parse_cell(source: str, where: Where) -> tuple[Item | Scenario | None, list[Problem]]:
    """Parse one markdown cell; ``(None, [])`` for a cell that is not an item.

    The cell reads top to bottom: header line, stem, choices, rationale. Anything out of that
    order is reported rather than guessed at, so an author's slip never changes an item silently.
    """
    problems: list[Problem] = []
    lines = source.replace("\r\n", "\n").strip("\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None, []
    m = HEADER.match(lines[0])
    if not m:
        return None, []
    tag = m.group("tag").strip().upper()
    item_id = m.group("id").strip()
    loc = Location(where.file, cell=where.cell, item=item_id or None)

    def bad(msg: str) -> None:
        problems.append(Problem(loc, msg))

    def bad_warn(msg: str) -> None:
        problems.append(Problem(loc, msg, severity="warning"))

    if not item_id:
        bad("the header has no id; write it after the kind, e.g. **[MC] core-07**")
        return None, problems
    if not is_id(item_id):
        bad(id_problem(item_id))
        item_id = visible(item_id)  # a hidden character in the id is kept escaped, like any refused text

    def checked(what: str, value: str, multiline: bool = False) -> str:
        """``value`` if it obeys the text rule; else the problem is reported and only its escaped form kept."""
        why = text_problem(value, None, multiline, fix="delete it")
        if why is None:
            return value
        bad(f"{what} {why}")
        return visible(value, multiline)

    item_kind = kind_for_tag(tag)
    fields: dict[str, str] = {}
    allowed = SCENARIO_FIELDS if tag == SCENARIO_TAG else ITEM_FIELDS + (item_kind.header_fields if item_kind else ())
    parts, wrong = _split_fields(m.group("rest"))
    if wrong:
        bad(f"the header's fields are separated by {wrong!r}; separate them with ' | ' (or ' · '), e.g. "
            f"'**[{tag}] {item_id}** | competency: peer-support | module: 4 | points: 1'")
    own_fields = item_kind.header_fields if item_kind else ()
    for part in parts:
        if ":" not in part:
            bad(f"header field {part!r} is not 'name: value'; write it as e.g. 'points: 1'")
            continue
        name, value = (s.strip() for s in part.split(":", 1))
        name = name.lower()
        if name not in own_fields and FIELD_SEP.search(value):  # only a kind's own value may hold a separator
            value, *stray = FIELD_SEP.split(value)
            for extra in stray:
                if extra.strip():
                    bad(f"header field {extra.strip()!r} is not 'name: value'; write it as e.g. 'points: 1'")
        if name == "key" and tag != SCENARIO_TAG:
            bad(f"'key: {value}' does not go in the header; mark the key among the choices with '- [x]'")
            continue
        if name not in allowed:
            bad(f"unknown header field {name!r}; use one of: {', '.join(allowed)}")
            continue
        if name in fields:
            bad(f"header field {name!r} is given twice; keep one")
        fields[name] = checked(f"header field {name!r}", value)
        if name in ("rubric", "scenario") and value and not is_id(value):
            bad(id_problem(value, name))
            del fields[name]  # reported once here, not again as a rubric or scenario that is not there
    body = lines[1:]

    if tag == SCENARIO_TAG:
        vignette = checked("the vignette", "\n".join(body).strip(), multiline=True)
        return Scenario(id=item_id, title=fields.get("title", ""), text=vignette, where=where), problems

    if item_kind is None:
        tags = [f"[{k.tag}]" for k in all_kinds()]
        bad(f"unknown item kind [{tag}]; use {', '.join(tags)} or [SCENARIO]")
        return None, problems
    kind = item_kind.kind

    stem_lines: list[str] = []
    choices: list[Choice] = []
    rationale_lines: list[str] = []
    for line in body:
        text = line.strip()
        if doubled := DOUBLED.match(line):
            extra = doubled.group("extra").strip()
            line = line[doubled.end():]
            bad_warn(f"choice {_letter(len(choices))} starts with two list markers ({extra!r} before "
                     f"{line.strip()[:40]!r}), as JupyterLab's list continuation types them; it is read as "
                     f"{line.strip()[:40]!r}: delete the first {extra!r} (after Enter, JupyterLab types '- [ ] ' "
                     "for you: type only the choice's text)")
        choice = CHOICE.match(line)
        if text.startswith(">"):
            rationale_lines.append(text[1:].strip())
        elif choice:
            if rationale_lines:
                bad(f"choice {choice.group('text').strip()[:40]!r} is below the rationale; put every choice above it")
            choices.append(Choice(text=checked(f"choice {_letter(len(choices))}", choice.group("text").strip()),
                                  correct=choice.group("mark") in "xX"))
        elif almost := ALMOST_CHOICE.match(line):
            bad(
                f"choice box '[{almost.group('mark')}]' in {text[:40]!r} is not understood; "
                "write '- [ ]' for a distractor and '- [x]' for the key"
            )
            choices.append(Choice(text=line[almost.end():].strip()))  # counted, so no second complaint about the count
        elif not text:
            if not choices and not rationale_lines:
                stem_lines.append(line)
        elif rationale_lines:
            bad(f"text after the rationale ({text[:40]!r}); start every rationale line with '>'")
        elif choices:
            bad(f"text after the choices ({text[:40]!r}); put the stem above the choices")
        else:
            stem_lines.append(line)
    rationale = "\n".join(rationale_lines).strip()
    rationale = RATIONALE_LABEL.sub("", rationale).strip()

    data: dict = {
        "id": item_id,
        "kind": kind,
        "stem": checked("the stem", "\n".join(stem_lines).strip(), multiline=True),
        "choices": tuple(choices),
        "rationale": checked("the rationale", rationale, multiline=True),
        "where": where,
    }
    for name in ("competency", "difficulty", "author", "reviewer"):
        if name in fields:
            data[name] = fields[name]
    if "points" in fields:
        try:
            data["points"] = numbers.decimal(fields["points"], "points", 0, MAX_ITEM_POINTS, above_low=True)
        except numbers.NumberError as exc:
            bad(f"{exc}; write e.g. 'points: 1'")
    if "module" in fields:
        try:
            data["module"] = numbers.whole_number(fields["module"], "module", 1, MAX_COUNT)
        except numbers.NumberError as exc:
            bad(f"{exc}; write e.g. 'module: 4'")
            data["unread"] = frozenset({"module"})
    if "status" in fields:
        try:
            data["status"] = Status(fields["status"].lower())
        except ValueError:
            bad(f"status {fields['status']!r} is unknown; use draft, reviewed, live or retired")
    if "pool" in fields:
        try:
            data["pool"] = Pool(fields["pool"].lower())
        except ValueError:
            bad(f"pool {fields['pool']!r} is unknown; write 'pool: practice' for a practice item, or leave it out")
    if fields.get("rubric"):
        data["rubric"] = fields["rubric"]
    if fields.get("scenario"):
        data["scenario"] = fields["scenario"]
    own, messages = item_kind.parse_fields(fields)
    refused = frozenset(name for name, value in own.items() if value is None)  # reported below, not missing too
    data.update({name: value for name, value in own.items() if value is not None})
    if refused:
        data["unread"] = data.get("unread", frozenset()) | refused
    for msg in messages:
        bad(msg)
    return Item(**data), problems


def render_item(item: Item) -> str:
    """The markdown an author would write for this item; parsing it gives the item back."""
    fields = [f"competency: {item.competency}"] if item.competency else []
    if item.module is not None:
        fields.append(f"module: {item.module}")
    fields.append(f"points: {points_text(item.points)}")
    fields.append(f"difficulty: {item.difficulty}")
    fields.append(f"status: {item.status.value}")
    if item.practice:
        fields.append(f"pool: {item.pool.value}")
    from ..kinds import kind_for

    fields += kind_for(item.kind).author_fields(item)
    for name in ("author", "reviewer", "rubric", "scenario"):
        value = getattr(item, name)
        if value:
            fields.append(f"{name}: {value}")
    lines = [f"**[{item.kind.tag}] {item.id}** · " + " · ".join(fields), ""]
    if item.stem:
        lines += [item.stem, ""]
    lines += kind_for(item.kind).author_body(item)
    if item.rationale:
        rat = item.rationale.split("\n")
        lines += ["", f"> **Rationale:** {rat[0]}"]
        lines += [f"> {r}" for r in rat[1:]]
    return "\n".join(lines)


def render_scenario(scenario: Scenario) -> str:
    head = f"**[{SCENARIO_TAG}] {scenario.id}**"
    if scenario.title:
        head += f" · title: {scenario.title}"
    return head + ("\n\n" + scenario.text if scenario.text else "")


def read_notebook(path: Path, label: str | None = None) -> tuple[nbformat.NotebookNode | None, list[Problem]]:
    """Read a notebook through the safe reader: a located problem instead of any exception."""
    try:
        return safeload.read_notebook(path, where=label or str(path)), []
    except safeload.LoadError as exc:
        return None, [exc.problem]


def parse_notebook(path: Path, label: str | None = None) -> ParsedNotebook:
    """Parse every item and scenario cell of a notebook."""
    label = label or str(path)
    result = ParsedNotebook(path=path)
    nb, problems = read_notebook(path, label)
    result.problems += problems
    if nb is None:
        return result
    if nb.metadata.get(METADATA_KEY, {}).get("generated"):  # safeload checked it is a mapping
        result.generated = True
        return result
    for n, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "markdown":
            if is_item_cell(cell.source):
                result.problems.append(
                    Problem(
                        Location(label, cell=n, item=_header_id(cell.source)),
                        f"this {cell.cell_type} cell starts like an item, so the item is left out of the bank; "
                        "change the cell type to Markdown",
                    )
                )
            continue
        parsed, problems = parse_cell(cell.source, Where(file=label, cell=n))
        result.problems += problems
        if parsed is None and not problems and (why := looks_like_item(cell.source)):
            result.problems.append(Problem(
                Location(label, cell=n),
                f"this cell looks like an item ({why}) but its first line is not an item header, so it is not "
                "in the bank; start the cell with a header such as '**[MC] item-id** · competency: ...' "
                "(the kind in brackets and the id between two pairs of asterisks)",
                severity="warning",
            ))
        if isinstance(parsed, Item):
            result.items.append(parsed)
        elif isinstance(parsed, Scenario):
            result.scenarios.append(parsed)
    return result


def synced_notebook(
    path: Path, items: list[Item], scenarios: list[Scenario], normalize: bool = False
) -> nbformat.NotebookNode | None:
    """The notebook with each item stored in its cell's ``metadata.exam_builder``; None if unchanged.

    The text stays the truth (authors edit it); the metadata is the parsed copy other tools can
    read without parsing. ``normalize`` also rewrites each item cell in the canonical layout.
    """
    nb = safeload.read_notebook(path, validate=False)  # parsed moments ago; LoadError if it changed since
    by_cell: dict[int, Item | Scenario] = {x.where.cell: x for x in [*items, *scenarios]}
    changed = False
    for n, cell in enumerate(nb.cells, start=1):
        obj = by_cell.get(n)
        if obj is None or cell.cell_type != "markdown" or _header_id(cell.source) != obj.id:
            continue  # not the cell the item was read from (the notebook changed since)
        kind = "scenario" if isinstance(obj, Scenario) else "item"
        meta = {kind: obj.model_dump(mode="json")}
        if cell.metadata.get(METADATA_KEY) != meta:
            cell.metadata[METADATA_KEY] = meta
            changed = True
        if normalize:
            text = render_scenario(obj) if isinstance(obj, Scenario) else render_item(obj)
            if cell.source != text:
                cell.source = text
                changed = True
    return nb if changed else None


def write_notebooks(updates: dict[Path, nbformat.NotebookNode], root: Path | None) -> None:
    """Write several notebooks all or nothing (``files.replace_files``: every path checked and every
    temporary file written first, then the renames); authored files keep their mode."""
    import nbformat

    from ..files import replace_files

    texts = {}
    for path, nb in updates.items():
        text = nbformat.writes(nb)
        texts[path] = text if text.endswith("\n") else text + "\n"  # as nbformat.write
    replace_files(texts, root, public=True)


def write_back(path: Path, items: list[Item], scenarios: list[Scenario], normalize: bool = False,
               root: Path | None = None) -> bool:
    """Store parsed items in each cell's ``metadata.exam_builder``; optionally normalize the text.

    Returns whether the file changed. The write is atomic (a temporary file, then a rename).
    """
    nb = synced_notebook(path, items, scenarios, normalize)
    if nb is not None:
        write_notebooks({path: nb}, root)
    return nb is not None
