"""The standard-setting study's workflows on the database: create it, seat the panel, run the rounds,
take ratings, record the board's decision, give forms their cuts and re-cut frozen ones.

Every change is one transaction with its audit entry (``records.audit``); bad input raises
``ExamBuilderError`` (a sheet's problems all at once, located by row and column) and writes
nothing. The numbers are ``compute``'s; this module only reads and stores.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from ..assembly.blueprint import StandardRef
from ..assembly.standard_line import BlueprintEdit, comment_for, decision_number, line_for
from ..errors import ExamBuilderError
from ..model.manifest import Manifest
from ..model.states import AuditAction
from ..records import audit, identity
from ..records.csvfile import Column, read_csv
from ..records.db import Database
from ..records.models import FormCut, Panelist, StandardDecision, Study, StudyItem, StudyRating, StudyRound, utcnow
from ..records.queries import standard as q
from ..records.text import shown, text_problem
from . import compute as c


@dataclass(frozen=True)
class ScopeItem:
    """An item put in a study's scope (from a form's manifest or the live bank)."""

    item_id: str
    kind: str
    points: float
    rated: bool
    content_hash: str


@dataclass
class RoundView:
    """One round's ratings as the numbers need them: panelist name -> item -> expected points."""

    number: int
    closed: bool
    matrix: dict[str, dict[str, float]]
    raw: dict[str, dict[str, float]]  # as entered (percent, or points for an open response)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (panelist, item) not rated yet
    notes: dict[str, dict[str, str]] = field(default_factory=dict)  # panelist -> item -> their note


@dataclass
class StudyView:
    """A study read whole: its row, items, panel, rounds and decisions."""

    study: Study
    items: list[c.RatedItem]
    hashes: dict[str, str]
    panel: list[Panelist]
    rounds: list[RoundView]
    changes: dict[int, dict[str, int]]  # round -> panelist -> items changed from the round before
    decisions: list[StandardDecision]

    @property
    def last_closed(self) -> RoundView | None:
        closed = [r for r in self.rounds if r.closed]
        return closed[-1] if closed else None

    @property
    def open_round(self) -> RoundView | None:
        return next((r for r in self.rounds if not r.closed), None)

    @property
    def points(self) -> float:
        return sum(i.points for i in self.items)

    def form_items(self, manifest: Manifest) -> list[c.RatedItem]:
        """The study's items on a form; ``ExamBuilderError`` naming the items it did not rate (or rated in
        another version)."""
        by_id = {i.item_id: i for i in self.items}
        unrated = [e.item_id for e in manifest.items if e.item_id not in by_id]
        changed = [e.item_id for e in manifest.items
                   if e.item_id in by_id and self.hashes[e.item_id] != e.content_hash]
        if unrated or changed:
            why = ([f"not rated in study {self.study.id}: {', '.join(unrated)}"] if unrated else []) + (
                [f"edited since study {self.study.id} rated them: {', '.join(changed)}"] if changed else [])
            raise ExamBuilderError(f"form {manifest.assignment} cannot take its cut from the standard: items "
                                   + "; ".join(why) + ". Rate them in a new study, or build from rated items.")
        return [by_id[e.item_id] for e in manifest.items]


def _text(value: str, what: str, limit: int, multiline: bool = False) -> str:
    value = (value or "").strip()
    why = text_problem(value, limit, multiline)
    if why is not None:
        raise ExamBuilderError(f"{what} {why}")
    return value


def create_study(db: Database, exam: str, items: Sequence[ScopeItem], *, method: str, scope: dict, mcc: str,
                 title: str = "", sd_flag: float = 0.15, actor: str, reason: str = "") -> int:
    """A new study of ``exam`` over ``items`` (audited ``study.created``); its id."""
    if method not in c.METHODS:
        raise ExamBuilderError(f"method {shown(method)} is not one of {', '.join(c.METHODS)}")
    if not items:
        raise ExamBuilderError(f"the study of {exam} has no items in scope")
    mcc = _text(mcc, "the definition of the minimally competent candidate", 4000, multiline=True)
    if not mcc:
        raise ExamBuilderError("a study needs the panel's definition of the minimally competent candidate (--mcc)")
    title = _text(title, "the title", 256)
    with db.transaction() as s:
        study = Study(exam_id=exam, title=title or f"{c.METHODS[method]} study of {exam}", method=method,
                      scope=scope, mcc=mcc, sd_flag=sd_flag, created_by=actor)
        s.add(study)
        s.flush()
        for n, it in enumerate(items, 1):
            s.add(StudyItem(study_id=study.id, item_id=it.item_id, position=n, kind=it.kind, points=it.points,
                            rated=it.rated, content_hash=it.content_hash))
        audit.record(s, actor, AuditAction.study_created, "study", study.id, reason or f"standard setting for {exam}",
                     exam=exam, method=method, scope=scope, items=len(items), sd_flag=sd_flag)
        return study.id


def _study(s: Session, study_id: int) -> Study:
    study = s.get(Study, study_id)
    if study is None:
        raise ExamBuilderError(f"no study {study_id}; `exam-builder standard list` shows the studies")
    return study


def add_panelist(db: Database, study_id: int, *, name: str, role: str, conflict: str, actor: str) -> int:
    """Seat a panelist with their role and conflict-of-interest declaration (audited ``study.panelist``)."""
    name = _text(name, "the panelist's name", 128)
    role = _text(role, "the panelist's role", 128)
    conflict = _text(conflict, "the conflict-of-interest declaration", 2000, multiline=True)
    if not name or not role or not conflict:
        raise ExamBuilderError("a panelist needs a name, a role and a conflict-of-interest declaration "
                               "(write 'none' when there is none)")
    with db.transaction() as s:
        _study(s, study_id)
        same = next((p.name for p in q.select_panelists(s, study_id)
                     if identity.name_key(p.name) == identity.name_key(name)), None)
        if same is not None:  # a panelist signs in by name, whatever its case: two seats may not share one
            raise ExamBuilderError(f"{name} is already on the panel of study {study_id}"
                                   + (f" (as {same})" if same != name else ""))
        if q.select_rounds(s, study_id):
            raise ExamBuilderError(f"study {study_id} has begun its rounds; the panel is seated before round 1")
        p = Panelist(study_id=study_id, name=name, role=role, conflict=conflict)
        s.add(p)
        s.flush()
        audit.record(s, actor, AuditAction.study_panelist, "study", study_id, f"{name} joins the panel as {role}",
                     panelist=name, role=role, conflict=conflict)
        return p.id


def open_round(db: Database, study_id: int, actor: str, reopen: str = "") -> int:
    """Open the next round. A later round starts from each panelist's ratings of the round before
    (kept as ``carried`` rows: what they change is a new row, so every change is kept). A study the
    board decided on gets another round only when ``reopen`` says why (audited ``study.round``, step
    ``reopened``); its decision stays in force until the board decides again."""
    reopen = _text(reopen, "the reason for reopening", 500)
    with db.transaction() as s:
        _study(s, study_id)
        decisions = q.select_decisions(s, study_id=study_id)
        if decisions and not reopen:
            d = decisions[-1]
            raise ExamBuilderError(
                f"study {study_id} is decided: decision {len(decisions)} ({d.decided_by} adopted {d.adopted:.1%} of "
                f"the points on {d.decided_on.isoformat()}, on round {d.round_no}). Another round reopens the study; "
                "say so and why with --reopen --reason '...' (audited; the decision stays in force until the board "
                "decides again)")
        if reopen and not decisions:
            raise ExamBuilderError(f"study {study_id} has no decision to reopen; open the round without --reopen")
        panel = q.select_panelists(s, study_id)
        if not panel:
            raise ExamBuilderError(f"study {study_id} has no panelists; add them first "
                                   "(exam-builder standard panelist)")
        rounds = q.select_rounds(s, study_id)
        if rounds and rounds[-1].closed_at is None:
            raise ExamBuilderError(f"round {rounds[-1].number} of study {study_id} is still open; close it first")
        number = len(rounds) + 1
        s.add(StudyRound(study_id=study_id, number=number, opened_by=actor))
        if rounds:
            for (pid, item), row in _latest(q.select_ratings(s, study_id, rounds[-1].number)).items():
                s.add(StudyRating(study_id=study_id, round_no=number, panelist_id=pid, item_id=item, value=row.value,
                                  note=row.note, carried=True, rated_by=row.rated_by))
        s.flush()
        if reopen:
            audit.record(s, actor, AuditAction.study_round, "study", study_id, reopen, round=number, step="reopened",
                         decisions=len(decisions))
        else:
            audit.record(s, actor, AuditAction.study_round, "study", study_id, f"round {number} opened",
                         round=number, step="opened")
        return number


def close_round(db: Database, study_id: int, actor: str) -> int:
    """Close the open round once every panelist has rated every item (refused, naming what is missing)."""
    with db.transaction() as s:
        view = _read(s, study_id)
        r = view.open_round
        if r is None:
            raise ExamBuilderError(f"study {study_id} has no open round; open one (exam-builder standard round-open)")
        if r.missing:
            raise ExamBuilderError(f"round {r.number} cannot close: {len(r.missing)} rating(s) missing\n"
                                   + "\n".join(missing_lines(r, len(view.items))))
        row = next(x for x in q.select_rounds(s, study_id) if x.number == r.number)
        row.closed_at, row.closed_by = utcnow(), actor
        audit.record(s, actor, AuditAction.study_round, "study", study_id, f"round {r.number} closed", round=r.number,
                     step="closed")
        return r.number


def missing_lines(r: RoundView, n_items: int) -> list[str]:
    """Every missing rating of a round, one line per panelist (what the facilitator chases): the items
    they have not rated, or that they have rated none."""
    by: dict[str, list[str]] = {}
    for p, item in r.missing:
        by.setdefault(p, []).append(item)
    return [f"  {p}: has rated none of the {n_items} items" if len(items) == n_items
            else f"  {p}: {len(items)} of {n_items} items not rated: {', '.join(items)}" for p, items in by.items()]


@dataclass(frozen=True)
class Imported:
    """What a ratings sheet did to the open round: ratings new to it, changed (value or note) and unchanged
    (not written again), and how many of the round's ratings are still missing."""

    round_no: int
    new: int
    changed: int
    unchanged: int
    missing: int
    blank: int = 0  # rows left without a rating: skipped (a sheet printed for the whole panel, partly filled in)


RATING_COLUMNS = (Column("panelist", ("panelist name", "name"), max_chars=128), Column("item", ("item id", "item_id")),
                  Column("rating", ("value", "probability", "expected points")),
                  Column("note", ("notes", "comment"), required=False, max_chars=2000))


def import_ratings(db: Database, study_id: int, path: Path, root: Path | None, actor: str) -> Imported:
    """Ratings from a CSV (panelist, item, rating, note) into the open round: every row checked first,
    every problem located (row and column), nothing written unless all are good (audited ``study.ratings``).
    A rating equal to the one the round holds (value and note) is unchanged and not written again. A row with
    the rating left blank is skipped (counted in ``blank``): `standard sheet` prints a row for every panelist and
    item, and a panelist who rates on the panelist's screen leaves theirs blank; a note without a rating is an
    error, since it would be lost."""
    sheet = read_csv(path, RATING_COLUMNS, root)
    with db.transaction() as s:
        view = _read(s, study_id)
        r = view.open_round
        if r is None:
            raise ExamBuilderError(f"{sheet.label}: study {study_id} has no open round to take ratings; open one "
                                   "(exam-builder standard round-open)")
        panel = {identity.name_key(p.name): p for p in view.panel}  # as the panelist's screen matches names
        items = {i.item_id: i for i in view.items}
        seen: dict[tuple[str, str], int] = {}
        good = []
        blank = 0
        for row in sheet.rows:
            if not row.get("rating").strip():
                if row.get("note").strip():
                    sheet.error(row.number, "rating", "a note without a rating: give the rating, or remove the note")
                else:
                    blank += 1
                continue
            who = sheet.required(row, "panelist", "the panelist")
            item = sheet.required(row, "item", "the item id")
            value = sheet.number(row, "rating", "the rating (a percent written without its % sign, or an open "
                                 "response's expected points)", 0, 100)
            if who is not None and identity.name_key(who) not in panel:
                sheet.error(row.number, "panelist", f"{shown(who)} is not on the panel of study {study_id}")
                who = None
            elif who is not None:
                who = panel[identity.name_key(who)].name
            if item is not None and item not in items:
                sheet.error(row.number, "item", f"item {shown(item)} is not in the scope of study {study_id}")
                item = None
            if who is None or item is None or value is None:
                continue
            why = c.rating_problem(value, items[item], view.study.method)
            if why:
                sheet.error(row.number, "rating", why)
                continue
            if (who, item) in seen:
                sheet.error(row.number, "item", f"{who} rates {item} twice (rows {seen[(who, item)]} and "
                                                f"{row.number}); keep one")
                continue
            seen[(who, item)] = row.number
            good.append((panel[identity.name_key(who)].id, item, value, row.get("note")))
        sheet.raise_if_errors()
        held = _latest(q.select_ratings(s, study_id, r.number))
        new = changed = unchanged = 0
        for pid, item, value, note in good:
            before = held.get((pid, item))
            if before is not None and before.value == value and (before.note or "") == (note or ""):
                unchanged += 1
                continue
            if before is None:
                new += 1
            else:
                changed += 1
            s.add(StudyRating(study_id=study_id, round_no=r.number, panelist_id=pid, item_id=item, value=value,
                              note=note, rated_by=actor))
        s.flush()
        missing = len(r.missing) - new
        audit.record(s, actor, AuditAction.study_ratings, "study", study_id, f"ratings of round {r.number} from "
                     f"{sheet.label}", round=r.number, ratings=new + changed, new=new, changed=changed,
                     unchanged=unchanged, blank=blank, file=sheet.label)
        return Imported(r.number, new, changed, unchanged, missing, blank)


def rate(db: Database, study_id: int, panelist_id: int, item_id: str, value: float, note: str, actor: str) -> str:
    """One panelist's rating of one item in the open round (the panelist's screen): ``new``, ``changed`` or
    ``unchanged``. As in a sheet's import, a rating equal to the one the round holds (value and note) is not
    written again."""
    with db.transaction() as s:
        view = _read(s, study_id)
        r = view.open_round
        if r is None:
            raise ExamBuilderError(f"study {study_id} has no open round")
        item = next((i for i in view.items if i.item_id == item_id), None)
        if item is None or panelist_id not in {p.id for p in view.panel}:
            raise ExamBuilderError(f"item {item_id} or panelist {panelist_id} is not in study {study_id}")
        why = c.rating_problem(value, item, view.study.method)
        if why:
            raise ExamBuilderError(why)
        note = _text(note, "the note", 2000, multiline=True)
        before = _latest(q.select_ratings(s, study_id, r.number, panelist_id)).get((panelist_id, item_id))
        if before is not None and before.value == value and (before.note or "") == note:
            return "unchanged"
        s.add(StudyRating(study_id=study_id, round_no=r.number, panelist_id=panelist_id, item_id=item_id, value=value,
                          note=note, rated_by=actor))
        s.flush()
        status = "new" if before is None else "changed"
        audit.record(s, actor, AuditAction.study_ratings, "study", study_id, f"a rating of round {r.number}",
                     round=r.number, ratings=1, item=item_id, new=int(before is None), changed=int(before is not None),
                     unchanged=0)
        return status


def _latest(rows: Sequence[StudyRating]) -> dict[tuple[int, str], StudyRating]:
    out: dict[tuple[int, str], StudyRating] = {}
    for row in rows:  # oldest first: the newest wins
        out[(row.panelist_id, row.item_id)] = row
    return out


def _read(s: Session, study_id: int) -> StudyView:
    study = _study(s, study_id)
    rows = q.select_study_items(s, study_id)
    items = [c.RatedItem(r.item_id, r.points, r.rated) for r in rows]
    panel = q.select_panelists(s, study_id)
    names = {p.id: p.name for p in panel}
    rounds, changes = [], {}
    previous: dict[tuple[int, str], StudyRating] | None = None
    for rnd in q.select_rounds(s, study_id):
        latest = _latest(q.select_ratings(s, study_id, rnd.number))
        raw: dict[str, dict[str, float]] = {names[p.id]: {} for p in panel}
        matrix: dict[str, dict[str, float]] = {names[p.id]: {} for p in panel}
        notes: dict[str, dict[str, str]] = {}
        for (pid, item_id), row in latest.items():
            item = next(i for i in items if i.item_id == item_id)
            raw[names[pid]][item_id] = row.value
            if row.note:
                notes.setdefault(names[pid], {})[item_id] = row.note
            matrix[names[pid]][item_id] = c.expected_points(row.value, item)
        missing = [(p.name, i.item_id) for p in panel for i in items if i.item_id not in raw[p.name]]
        if previous is not None:
            changes[rnd.number] = {names[p.id]: sum(1 for i in items if (p.id, i.item_id) in latest
                                                    and (p.id, i.item_id) in previous
                                                    and latest[(p.id, i.item_id)].value
                                                    != previous[(p.id, i.item_id)].value) for p in panel}
        previous = latest
        rounds.append(RoundView(rnd.number, rnd.closed_at is not None, matrix, raw, missing, notes))
    decisions = q.select_decisions(s, study_id=study_id)
    for kept in (study, *panel, *decisions):  # read whole: the view outlives its session
        s.expunge(kept)
    return StudyView(study, items, {r.item_id: r.content_hash for r in rows}, panel, rounds, changes, decisions)


def read_study(db: Database, study_id: int) -> StudyView:
    """The study, read whole (see ``StudyView``)."""
    with db.read() as s:
        return _read(s, study_id)


def newest_study(db: Database, exam: str) -> int | None:
    """The id of the exam's newest study (what the panelists' hub service shows), or None."""
    with db.read() as s:
        studies = q.select_studies(s, exam)
        return studies[-1].id if studies else None


def recommended_share(view: StudyView, rnd: RoundView) -> float:
    """The panel's recommended standard: the recommended cut over every item in scope, as a share of their points."""
    return c.recommended_cut(rnd.matrix, view.items) / view.points


@dataclass(frozen=True)
class PendingDecision:
    """The board's decision as it will be recorded (``plan_decision``), shown before anything is written."""

    study_id: int
    exam: str
    number: int  # its number within the study, as the blueprint names it
    round_no: int
    recommended: float
    adopted: float
    reason: str
    board: str
    decided_on: dt.date
    scope_decisions: int  # decisions of the study when planned: another recorded meanwhile refuses the plan

    @property
    def ref(self) -> StandardRef:
        return StandardRef(study=self.study_id, decision=self.number)

    def comment(self) -> str:
        """The comment line written above the blueprint's ``standard:``."""
        return comment_for(self.study_id, self.board, self.adopted, self.recommended, self.decided_on)


def _plan(s: Session, study_id: int, adopted: float | None, board: str, decided_on: dt.date,
          reason: str) -> PendingDecision:
    view = _read(s, study_id)
    rnd = view.last_closed
    if rnd is None or view.open_round is not None:
        raise ExamBuilderError(f"study {study_id} has a round still open or none closed; the board decides on "
                               "the last closed round")
    rec = recommended_share(view, rnd)
    share = rec if adopted is None else adopted
    if not 0 < share <= 1:
        raise ExamBuilderError(f"the adopted cut must be above 0% and at most 100% of the points; not {share:.1%}")
    if adopted is not None and abs(adopted - rec) > 1e-9 and not reason:
        raise ExamBuilderError(f"the board adopts {adopted:.1%}, not the panel's {rec:.1%}: give the reason "
                               "(--reason)")
    n = len(view.decisions)
    return PendingDecision(study_id, view.study.exam_id, n + 1, rnd.number, rec, share,
                           reason or "the panel's recommendation adopted", board, decided_on, n)


def plan_decision(db: Database, study_id: int, *, adopted: float | None, board: str, decided_on: dt.date,
                  reason: str) -> PendingDecision:
    """The board's decision on the last closed round, checked and not recorded: ``adopted`` (a share of the
    points; None adopts the recommendation) with the reason, who decided and when."""
    board = _text(board, "the board's name", 128)
    reason = _text(reason, "the reason", 500)
    if not board:
        raise ExamBuilderError("say who decided (--board: the oversight board or its chair)")
    with db.read() as s:
        return _plan(s, study_id, adopted, board, decided_on, reason)


def record_decision(db: Database, pending: PendingDecision, blueprint: BlueprintEdit, root: Path,
                    actor: str) -> StandardDecision:
    """Record the decision and write it into the exam's blueprint, together (audited ``standard.adopted`` with
    the blueprint's SHA-256 before and after): the file is replaced last in the transaction, and put back if
    the transaction does not commit, so the records and the blueprint never disagree."""
    written = False
    try:
        with db.transaction() as s:
            again = _plan(s, pending.study_id, pending.adopted, pending.board, pending.decided_on, pending.reason)
            if again.scope_decisions != pending.scope_decisions or again.round_no != pending.round_no:
                raise ExamBuilderError(f"study {pending.study_id} changed while the decision was being recorded; "
                                       "nothing was written. Run the command again")
            row = StandardDecision(study_id=pending.study_id, exam_id=pending.exam, round_no=pending.round_no,
                                   recommended=pending.recommended, adopted=pending.adopted, reason=pending.reason,
                                   decided_by=pending.board, decided_on=pending.decided_on, recorded_by=actor)
            s.add(row)
            s.flush()
            audit.record(s, actor, AuditAction.standard_adopted, "study", pending.study_id, row.reason,
                         exam=pending.exam, decision=pending.number, round=pending.round_no,
                         recommended=round(pending.recommended, 6), adopted=round(pending.adopted, 6),
                         decided_by=pending.board, decided_on=pending.decided_on.isoformat(),
                         blueprint=blueprint.label, blueprint_sha256_before=blueprint.before_hash,
                         blueprint_sha256_after=blueprint.after_hash, blueprint_line=line_for(pending.study_id,
                                                                                              pending.number))
            blueprint.write(root)
            written = True
    except BaseException:
        if written:
            blueprint.undo(root)
        raise
    return row


@dataclass(frozen=True)
class Standard:
    """The standard in force for an exam: the newest decision and the study it rests on."""

    decision: StandardDecision
    view: StudyView

    def form_cut(self, manifest: Manifest) -> float:
        """The raw cut of a form from the study's ratings (``compute.adopted_form_cut``)."""
        rnd = next(r for r in self.view.rounds if r.number == self.decision.round_no)
        items = self.view.form_items(manifest)
        return c.adopted_form_cut(c.recommended_cut(rnd.matrix, items), manifest.total_points,
                                  self.decision.recommended, self.decision.adopted)


def standard_in_force(s: Session, exam: str) -> Standard | None:
    """The exam's newest decision with its study, or None when no board has decided."""
    decisions = q.select_decisions(s, exam_id=exam)
    if not decisions:
        return None
    return Standard(decisions[-1], _read(s, decisions[-1].study_id))


@dataclass(frozen=True)
class InForce:
    """Which decision is in force for an exam: its newest, across all its studies (what the blueprint must name)."""

    decision_id: int
    study_id: int
    number: int  # within its study
    adopted: float
    decided_by: str
    decided_on: dt.date

    def status(self, d: StandardDecision, number: int, named: tuple[int, int] | None = None) -> str:
        """Decision ``d`` (``number`` within its study) in words: in force, or superseded by which decision;
        ``named``: the (study, decision) the exam's blueprint names, so an in-force decision it already names is
        not asked for again."""
        if d.id == self.decision_id:
            line = line_for(d.study_id, number)
            if named == (d.study_id, number):
                return f"in force for {d.exam_id} (the blueprint names it: `{line}`)"
            return f"in force for {d.exam_id} (the blueprint must name it: `{line}`)"
        which = (f"this study's decision {self.number}" if d.study_id == self.study_id
                 else f"study {self.study_id}'s decision {self.number}")
        return (f"superseded by {which} ({self.decided_by} adopted {self.adopted:.1%} of the points on "
                f"{self.decided_on.isoformat()}), the decision in force")


def in_force(s: Session, exam: str) -> InForce | None:
    """The exam's decision in force (its newest, of any study), or None when no board has decided."""
    decisions = q.select_decisions(s, exam_id=exam)
    if not decisions:
        return None
    d = decisions[-1]
    return InForce(d.id, d.study_id, decision_number(s, d), d.adopted, d.decided_by, d.decided_on)


def recut(db: Database, form_id: int, manifest: Manifest, new_cut: float, previous: float, decision_id: int,
          changed: Sequence[str], reason: str, actor: str, final_changed: Sequence[str] = ()) -> None:
    """Record a frozen form's new cut (``eb_form_cut``; audited ``form.recut`` with the candidates whose result
    changes, listed to the person before this is called, and those of them that were final, which the person
    acknowledged)."""
    reason = _text(reason, "the reason", 500)
    if not reason:
        raise ExamBuilderError("a re-cut needs a reason (--reason)")
    with db.transaction() as s:
        s.add(FormCut(form_id=form_id, cut_score=new_cut, previous=previous, decision_id=decision_id, reason=reason,
                      actor=actor))
        s.flush()
        audit.record(s, actor, AuditAction.form_recut, "form", manifest.assignment, reason, cut=new_cut,
                     previous=previous, decision=decision_id, results_changed=list(changed),
                     final_results_changed=list(final_changed))
