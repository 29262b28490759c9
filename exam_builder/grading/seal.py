"""Seals on the gradebook: every score that reaches results is one exam-builder wrote and audited.

nbgrader's gradebook is a set of tables that other tools can change (the formgrader's score box,
``nbgrader`` commands, a person with SQL). exam-builder writes scores only in two audited places
(objective scoring, ``objective._write_batch``; a decided open response, ``resolution.persist``),
both through ``GradebookWriter``, which then seals what the gradebook holds: per assignment,
candidate and grade cell, the auto score, manual score and extra credit, with an HMAC-SHA256 of
them under a key derived from the course's secret (``<course>/.exam-builder/secret``, never in
the database, so a person who can change the tables cannot forge a seal).

``check(conn, key, assignment, candidates)`` compares the gradebook with the seals (pure
comparison in ``differences``): a grade whose values differ from its seal, a grade with no seal,
and a seal whose HMAC does not verify are each a ``Tampered`` naming the candidate, the grade cell
and both values. ``results`` refuses to record outcomes while any exist, and the program's report
names them.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from ..records.models import utcnow
from ..records.queries.gradebook import select_cell_scores
from ..records.queries.seals import replace_seals, select_seals

Values = tuple[float | None, float | None, float | None]  # auto, manual, extra credit
AUTO, MANUAL = 0, 1  # the fields of ``Values`` that exam-builder writes
#: Each field of ``Values``: its name for people (with its article), nbgrader's column, the formgrader's box.
FIELDS = (("an automatic score", "auto_score", None), ("a manual score", "manual_score", "score"),
          ("extra credit", "extra_credit", "extra credit"))


def seal_key(secret: bytes) -> bytes:
    """The seals' own key, derived from the course's secret (the secret itself keys access codes)."""
    return hmac.new(secret, b"exam-builder grade seal v1", hashlib.sha256).digest()


def course_key(course) -> bytes:
    """The seals' key of a course (created with the course's secret on first need)."""
    return seal_key(course.secret)


def _num(v: float | None) -> str:
    return "-" if v is None else repr(round(float(v), 6))


def mac(key: bytes, assignment: str, candidate: str, grade: str, values: Values) -> str:
    message = "\x1f".join([assignment, candidate, grade, *(_num(v) for v in values)])
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def _same(a: Values, b: Values) -> bool:
    return all((x is None and y is None) or (x is not None and y is not None and abs(x - y) < 1e-9)
               for x, y in zip(a, b, strict=False))


@dataclass(frozen=True)
class Tampered:
    """A grade that exam-builder did not write as it stands."""

    assignment: str
    candidate_id: str
    grade_id: str
    gradebook: Values | None  # what the gradebook holds (None: the grade is gone)
    recorded: Values | None  # what exam-builder wrote (None: no seal)
    broken: bool = False  # the seal's HMAC does not verify: the record itself was changed

    @staticmethod
    def _text(v: Values | None) -> str:
        if v is None:
            return "nothing"
        auto, manual, extra = v
        score = manual if manual is not None else auto
        out = "no score" if score is None else f"{score:g}"
        if manual is not None and auto is not None:
            out += f" (typed over the automatic {auto:g})"
        if extra:
            out += f" plus {extra:g} extra credit"
        return out

    def changes(self) -> list[tuple[str, str]]:
        """Per field that differs from what exam-builder recorded: what the gradebook holds, in words,
        and how to put it back (empty the field, or the exact value to restore)."""
        now, rec = self.gradebook, self.recorded
        if now is None or rec is None:
            return []
        out = []
        for i, (named, column, box) in enumerate(FIELDS):
            a, b = now[i], rec[i]
            if (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9):
                continue
            name = named.split(" ", 1)[1] if named.startswith(("a ", "an ")) else named
            held = f"no {name}" if a is None else f"{named} of {a:g}"
            was = "none" if b is None else f"{b:g}"
            where = f"`{column}` in the gradebook" + ("" if box is None else f", the formgrader's {box} box")
            fix = f"empty the {name} ({where})" if b is None else f"set the {name} back to {b:g} ({where})"
            out.append((f"{held} where exam-builder recorded {was}", fix))
        return out

    def message(self) -> str:
        where = f"{self.assignment}, candidate {self.candidate_id}, grade {self.grade_id}"
        if self.broken:
            return f"{where}: the seal of this score was changed outside exam-builder (its record does not verify)"
        if self.recorded is None:
            return (f"{where}: the gradebook holds {self._text(self.gradebook)}, which exam-builder never wrote "
                    "(changed outside exam-builder: in the formgrader or the database); to restore, empty "
                    "this grade's scores")
        changes = self.changes()
        if not changes:  # the grade is gone from the gradebook
            return (f"{where}: the gradebook holds {self._text(self.gradebook)}, but exam-builder recorded "
                    f"{self._text(self.recorded)} (changed outside exam-builder: in the formgrader or the "
                    "database); to restore, put the grade back from a backup")
        return (f"{where}: the gradebook holds " + "; ".join(h for h, _f in changes)
                + " (changed outside exam-builder: in the formgrader or the database); to restore, "
                + "; ".join(f for _h, f in changes))


def differences(key: bytes, assignment: str, gradebook: dict[tuple[str, str], Values],
                seals: dict[tuple[str, str], tuple[Values, str]]) -> list[Tampered]:
    """Every (candidate, grade) whose gradebook values are not the sealed ones (pure)."""
    out = []
    for (cand, grade) in sorted(set(gradebook) | set(seals)):
        now = gradebook.get((cand, grade))
        sealed = seals.get((cand, grade))
        if sealed is None:
            if now is not None and any(v is not None for v in now):  # an empty grade is nbgrader's own row
                out.append(Tampered(assignment, cand, grade, now, None))
            continue
        values, tag = sealed
        if not hmac.compare_digest(tag, mac(key, assignment, cand, grade, values)):
            out.append(Tampered(assignment, cand, grade, now, values, broken=True))
        elif now is None or not _same(now, values):
            out.append(Tampered(assignment, cand, grade, now, values))
    return out


def _gradebook(conn: Connection, assignment: str, candidates: set[str] | None) -> dict[tuple[str, str], Values]:
    return {(st, name): (auto, manual, extra)
            for st, name, auto, manual, extra in select_cell_scores(conn, assignment, candidates)}


def _seals(conn: Connection, assignment: str, candidates: set[str] | None) -> dict[tuple[str, str], tuple[Values, str]]:
    rows = select_seals(conn, assignment, candidates)
    return {(r.candidate_id, r.grade_id): ((r.auto_score, r.manual_score, r.extra_credit), r.mac) for r in rows}




def seal(conn: Connection, key: bytes, assignment: str, written: dict[tuple[str, str], set[int]],
         current: dict[tuple[str, str], Values] | None = None) -> int:
    """Seal what this write put into the gradebook: ``written`` maps (candidate, grade cell) to the
    fields written (``AUTO``, ``MANUAL``). Only those fields take the gradebook's new values; every
    other field keeps its sealed value, so a score changed outside exam-builder stays named after
    a later write (re-scoring never launders it), and a seal that does not verify is left as it is.
    A grade with no seal yet (a new submission's rows) is sealed as the gradebook holds it.
    ``current``: every grade of these candidates as the write left it, when the writer knows it
    (``GradebookWriter.write`` builds it in memory), else read back from the gradebook."""
    cands = {c for c, _g in written}
    if not cands:
        return 0
    if current is None:
        current = _gradebook(conn, assignment, cands)
    old = _seals(conn, assignment, cands)
    now = utcnow()
    rows = []
    for (c, g), values in sorted(current.items()):
        before = old.get((c, g))
        if before is not None and not hmac.compare_digest(before[1], mac(key, assignment, c, g, before[0])):
            new, tag = before  # a forged record stays forged: check() names it
        else:
            fields = written.get((c, g), set())
            kept = before[0] if before is not None else values  # a new grade: sealed as the gradebook holds it
            new = (values[0] if 0 in fields else kept[0], values[1] if 1 in fields else kept[1],
                   values[2] if 2 in fields else kept[2])
            tag = mac(key, assignment, c, g, new)
        rows.append({"assignment": assignment, "candidate_id": c, "grade_id": g, "auto_score": new[0],
                     "manual_score": new[1], "extra_credit": new[2], "mac": tag, "sealed_at": now})
    replace_seals(conn, assignment, cands, rows)
    return len(rows)


def check(conn: Connection, key: bytes, assignment: str, candidates: Iterable[str] | None = None,
          rows: Iterable[tuple] | None = None) -> list[Tampered]:
    """The grades of ``assignment`` (of these candidates) that differ from what exam-builder wrote.
    ``rows``: the assignment's ``select_cell_scores`` rows when the caller has read them already
    (``results``), so the gradebook is read once."""
    wanted = None if candidates is None else set(candidates)
    if rows is None:
        gradebook = _gradebook(conn, assignment, wanted)
    else:
        gradebook = {(st, name): (auto, manual, extra) for st, name, auto, manual, extra in rows
                     if wanted is None or st in wanted}
    return differences(key, assignment, gradebook, _seals(conn, assignment, wanted))
