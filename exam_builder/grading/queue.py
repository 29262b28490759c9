"""The rating queue of one open-response item: blind, stable, double-rated, safe to share.

Responses come in a stable pseudo-random order seeded by exam and item (never by name), under
anonymous ids (a keyed hash; the key is a server secret). Each response gets a first rating,
a second independent one for ``ProgramPolicy.double_rating_share`` of them (a deterministic
draw), and an adjudication when the two differ by more than ``rating_tolerance``. A grader
never holds two roles on one response and never sees another grader's score, with one exception
the course chooses: who adjudicates is ``GradingSettings.adjudicator`` (``grading.adjudication``),
and a coordinator or senior grader who gave one of the two ratings adjudicates it, shown the other
rating (``Claim.shown``). A response waiting for adjudication is offered before new ratings to a
grader who may adjudicate it: it finishes a response. ``Progress.adjudication`` and ``waiting``
say what waits and for whom (the grader's desk, ``exam-builder ratings`` and ``results``).

A claim is a ``Rating`` row with no score yet; the unique (sitting, item, role) row is written
in the same transaction that chose it (SQLite: write transactions are serialized; PostgreSQL:
an advisory lock per item), so graders working at once never get the same response in the same
role and never lose a score. A claim not scored within ``claim_timeout_minutes`` returns to the
queue. Saving a rating resolves the response and writes the gradebook, audited.

A response whose submission is set aside (``grade`` could not read the file, or the queue cannot
read the notebook it needs for the text) is never handed to a grader nor settled as blank; the
queue counts it as set aside and tells staff (``set_aside``) the located reason. One bad file
never stops the queue for the others.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import html
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import ExamBuilderError
from ..kinds import rated_entries
from ..model.manifest import Manifest, grade_ids
from ..model.rubric import Rubric, load_rubrics
from ..model.states import AuditAction, ItemScoreStatus, RatingRole
from ..records import audit, identity
from ..records.models import Rating, Secret, Sitting, utcnow
from ..records.queries import (
    item_scores as item_scores_q,
    paper as paper_q,
    ratings as ratings_q,
    responses as responses_q,
    score_flags as score_flags_q,
    sittings as sittings_q,
)
from ..records.queries.dialect import lock_transaction
from ..safeload import LoadError, read_json
from . import adjudication as adj
from .adjudication import AdjudicationRule
from .resolution import ROLES, Decision, record_no_response, resolve, response_context, second_needed
from .rubric_scoring import check_fits, check_levels, clear_rerate_flag
from .seal import course_key
from .submission import SET_ASIDE, not_a_notebook, set_aside_message

SECRET_NAME = "anonymous-response-ids"


@dataclass(frozen=True)
class QueuedResponse:
    """One response in the queue, as graders may know it (no candidate id, no name)."""

    sitting_id: int
    anon_id: str
    order: str
    text: str
    blank: bool
    set_aside: bool = False  # its submission cannot be read: not rated, not settled (staff: ``set_aside``)
    image: bytes | None = None  # a response written on paper: its scanned writing area (PNG, no name or code)


@dataclass(frozen=True)
class ShownRating:
    """A rating shown to an adjudicator who gave one of the two (never who gave the other)."""

    label: str  # "Your rating" | "The other rating"
    role: RatingRole
    levels: dict
    score: float | None  # always a score: only scored ratings are shown
    comment: str


@dataclass(frozen=True)
class Claim:
    """A response a grader holds in one role: what the grader app shows (no other scores, except
    the two ratings to an adjudicator who gave one of them: ``shown``)."""

    rating_id: int
    item_id: str
    role: RatingRole
    anon_id: str
    text: str
    levels: dict  # this grader's own chosen levels so far (a re-rating keeps what still applies)
    comment: str
    shown: tuple[ShownRating, ...] = ()
    image: bytes | None = None  # written on paper: the scanned writing (``eb_paper_page``), shown beside the text


@dataclass(frozen=True)
class Progress:
    """A grader's own progress on one item."""

    mine: int  # ratings this grader has saved on the item
    open_for_me: int  # responses this grader can still be given (the one they hold included)
    needed: int  # ratings still needed by anyone
    responses: int  # responses to rate (blank ones are scored 0 without rating)
    waiting_second: int = 0  # responses rated once that still need their second rating
    waiting_adjudication: int = 0  # responses whose two ratings differ, not yet adjudicated
    set_aside: int = 0  # responses whose submission cannot be read (staff are told which)
    second_for_me: int = 0  # of ``waiting_second``, how many this grader may give (counted in ``open_for_me`` too)
    #: the adjudications waiting, by why as this grader sees it (``adjudication.YOURS``...): (why, count)
    adjudication: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Waiting:
    """Staff's view of one undecided response: the next rating it needs and who may give it."""

    sitting_id: int
    anon_id: str
    step: str  # "first rating" | "second rating" | "adjudication" | "re-rating" | "set aside" | "no response"
    who: str  # in words, with names (staff only)


def anonymous_key(course) -> bytes:
    """The server's secret for anonymous ids, created once and kept in the database."""
    with course.db.read() as s:
        row = s.get(Secret, SECRET_NAME)
        if row is not None:
            return row.value.encode()
    try:
        with course.db.transaction() as s:
            if s.get(Secret, SECRET_NAME) is None:
                s.add(Secret(name=SECRET_NAME, value=secrets.token_hex(32)))
    except IntegrityError:  # another process created it first
        pass
    with course.db.read() as s:
        return s.get(Secret, SECRET_NAME).value.encode()


def anon_id(key: bytes, exam: str, item_id: str, sitting_id: int) -> str:
    return "R-" + hmac.new(key, f"{exam}|{item_id}|{sitting_id}".encode(), hashlib.sha256).hexdigest()[:8].upper()


def order_key(exam: str, item_id: str, sitting_id: int) -> str:
    return hashlib.sha256(f"order|{exam}|{item_id}|{sitting_id}".encode()).hexdigest()


def open_items(course, exam: str) -> list[tuple[str, str | None]]:
    """The open-response items of an exam's forms: (item id, rubric id), in first-form order."""
    from ..assembly.forms import require_forms

    seen: dict[str, str | None] = {}
    with course.db.read() as s:
        for _form, manifest in require_forms(s, exam):
            for entry in rated_entries(manifest):
                seen.setdefault(entry.item_id, entry.rubric or entry.item_id)
    return list(seen.items())


def load_rubric_for(course, rubric_id: str) -> Rubric:
    course.require_inside(course.rubrics_dir)  # the link rule of `check`: never rubrics from out of the course
    rubrics, problems = load_rubrics([course.rubrics_dir], label=lambda p: str(p.relative_to(course.root)))
    errors = [p for p in problems if p.is_error]
    if errors:
        from ..errors import ValidationFailed

        raise ValidationFailed(errors)
    if rubric_id not in rubrics:
        raise ExamBuilderError(f"no rubric {rubric_id!r} in {course.rubrics_dir}; add rubrics/{rubric_id}.yaml")
    return rubrics[rubric_id]


class RatingQueue:
    """The queue of one item of one exam; every method is one short transaction."""

    def __init__(self, course, exam: str, item_id: str, rubric: Rubric | None = None):
        self.course = course
        self.exam = exam
        self.item_id = item_id
        self.policy = course.policy
        self.settings = course.grading_settings
        rubric_id = dict(open_items(course, exam)).get(item_id)
        if rubric_id is None:
            raise ExamBuilderError(f"item {item_id!r} is not an open-response item of exam {exam!r}")
        self.rubric = rubric or load_rubric_for(course, rubric_id)
        self.rule = AdjudicationRule.from_settings(self.settings)
        self._key = anonymous_key(course)
        self._seal_key = course_key(course)
        self._released: dict[str, tuple[str, str]] = {}
        self._aside: dict[tuple[str, str], str] = {}  # (candidate, form) -> why set aside (staff only)
        self._manifests: dict[int, Manifest] = {}  # form id -> its manifest (a frozen form never changes)
        self._read: _Read | None = None  # the responses as last read, and what they were read from
        self._files: dict[Path, tuple] = {}  # the notebooks the last read opened -> their ``_file_mark``

    # -- the responses ----------------------------------------------------------------
    def _sittings(self, s: Session) -> list[tuple[Sitting, Manifest]]:
        rows = sittings_q.select_submitted_with_forms(s, self.exam)
        out = []
        for sitting, form in rows:
            if form.id not in self._manifests:
                self._manifests[form.id] = Manifest.model_validate(form.manifest)
            m = self._manifests[form.id]
            if any(e.item_id == self.item_id for e in m.items):
                out.append((sitting, m))
        for m in {m.assignment: m for _sitting, m in out}.values():  # the rubric fits each form's points
            entry = next(e for e in m.items if e.item_id == self.item_id)
            check_fits(self.rubric, entry.points, m.assignment)
        return out

    def _mark(self, s: Session) -> tuple | None:
        """What the responses are read from, in a few small queries: the submitted sittings whose form holds
        the item, the item's journal, its written pages and the set-aside flags. None while a form is not
        known yet (the responses are read again)."""
        ids, forms = [], set()
        holds = {fid: m.assignment for fid, m in self._manifests.items() if any(e.item_id == self.item_id
                                                                                 for e in m.items)}
        for sid, fid in sittings_q.select_submitted_form_ids(s, self.exam):
            if fid not in self._manifests:
                return None
            if fid in holds:
                ids.append(sid)
                forms.add(holds[fid])
        flagged = score_flags_q.select_flag_details(s, SET_ASIDE, forms) if forms else {}
        return (tuple(ids), responses_q.select_item_mark(s, ids, self.item_id),
                paper_q.select_written_mark(s, ids, self.item_id), tuple(sorted(flagged.items())))

    def _notebook_text(self, candidate: str, manifest: Manifest) -> tuple[str, str | None]:
        """The answer in the collected notebook, when the journal has none (read as data).

        ``(text, None)``, or ``("", why)`` when the notebook cannot be read: set aside.
        """
        number = next(e.number for e in manifest.items if e.item_id == self.item_id)
        gid = grade_ids(number)["grade"]
        path = self.course.submission_dir(candidate, manifest.assignment) / f"{manifest.notebook}.ipynb"
        self._files[path] = _file_mark(path)  # before reading it: a file changed after this is read again
        if manifest.assignment not in self._released:
            from ..assembly.release import released_notebook

            stub = ""
            try:
                rel_path = released_notebook(self.course, manifest.assignment)
                stub = _cell_text(read_json(rel_path, self._where(rel_path)), gid) or ""
            except (OSError, ExamBuilderError):
                pass
            self._released[manifest.assignment] = (gid, stub)
        if not path.exists() and not path.is_symlink():
            return "", None  # no submission: nothing written (grade scores it 0)
        try:
            nb = read_json(path, self._where(path), what="notebook JSON", hint="the file is damaged")
        except LoadError as exc:
            return "", set_aside_message(self.exam, str(exc))
        problem = not_a_notebook(nb, self._where(path))
        if problem is not None:
            return "", set_aside_message(self.exam, problem)
        found = _cell_text(nb, gid)
        if found is None or found == self._released[manifest.assignment][1]:
            return "", None
        return html.unescape(found), None

    def _where(self, path: Path) -> str:
        """A file as messages name it (no ``resolve``: a symlink loop must not raise here)."""
        try:
            return str(path.relative_to(self.course.root))
        except ValueError:
            return str(path)

    def _flagged_aside(self, s: Session, sittings: list[tuple[Sitting, Manifest]]) -> dict[tuple[str, str], str]:
        """Submissions ``grade`` set aside: (candidate, form) -> its located message."""
        forms = {m.assignment for _sit, m in sittings}
        if not forms:
            return {}
        return score_flags_q.select_flag_details(s, SET_ASIDE, forms)

    def responses(self, s: Session | None = None) -> list[QueuedResponse]:
        """Every response to this item in queue order (blank ones and set-aside ones marked, not rated).

        Read once and kept: a claim, a save or a progress count checks in a few small queries (``_mark``) and
        a look at the notebook files it read that nothing they come from changed, instead of reading every
        response again (which made each save cost the whole queue: quadratic over a day's grading)."""
        if s is None:
            with self.course.db.read() as s2:
                return self.responses(s2)
        read = self._read
        if read is not None and read.mark == self._mark(s) and all(
                _file_mark(path) == seen for path, seen in read.files.items()):
            self._aside = dict(read.aside)
            return list(read.responses)
        self._files = {}
        sittings = self._sittings(s)
        ids = [sit.id for sit, _m in sittings]
        texts: dict[int, str | None] = {}
        if ids:
            for sid, rows in responses_q.select_latest_responses(s, ids, self.item_id).items():
                if self.item_id in rows:
                    texts[sid] = rows[self.item_id].value
        written = paper_q.select_written_pages(s, ids)  # answers written on paper: their scanned pages
        flagged = self._flagged_aside(s, sittings)
        aside: dict[tuple[str, str], str] = {}
        out = []
        for sit, m in sittings:
            key = (sit.candidate_id, m.assignment)
            why = flagged.get(key)
            value = ""
            if why is None:
                if sit.id in texts:
                    value = texts[sit.id] or ""
                else:
                    value, why = self._notebook_text(sit.candidate_id, m)
            if why is not None:
                aside[key] = why
            out.append(QueuedResponse(sit.id, anon_id(self._key, self.exam, self.item_id, sit.id),
                                      order_key(self.exam, self.item_id, sit.id), value,
                                      why is None and not value.strip(), why is not None,
                                      getattr(written.get((sit.id, self.item_id)), "image", None)))
        self._aside = aside
        out.sort(key=lambda r: r.order)
        self._read = _Read(self._mark(s), tuple(out), dict(aside), dict(self._files))
        return out

    def set_aside(self) -> dict[tuple[str, str], str]:
        """Staff view: (candidate, form) -> why its response is set aside (names the file; not for graders)."""
        self.responses()
        return dict(self._aside)

    def settle_blanks(self, actor: str) -> int:
        """Score blank responses 0 (rule "no_response"), once; returns how many were settled."""
        n = 0
        with self.course.db.transaction() as s:
            self._lock(s)
            decided = item_scores_q.select_decided_sittings(s, self.item_id)
            for r in self.responses(s):
                if r.blank and r.sitting_id not in decided:
                    n += record_no_response(s, r.sitting_id, self.item_id, actor, self._seal_key)
        return n

    # -- claims -----------------------------------------------------------------------
    def _lock(self, s: Session) -> None:
        """Serialize claims and saves on this item (SQLite already serializes write transactions)."""
        key = int(hashlib.sha256(f"queue|{self.exam}|{self.item_id}".encode()).hexdigest()[:15], 16)
        lock_transaction(s, key)

    def _ratings(self, s: Session) -> dict[int, dict[RatingRole, Rating]]:
        out: dict[int, dict[RatingRole, Rating]] = {}
        for r in ratings_q.select_ratings_of_item(s, self.item_id):
            out.setdefault(r.sitting_id, {})[r.role] = r
        return out

    def _needed_roles(self, sitting_id: int, roles: dict[RatingRole, Rating]) -> list[RatingRole]:
        needed = [RatingRole.first]
        if second_needed(self.exam, self.item_id, sitting_id, self.policy.double_rating_share):
            needed.append(RatingRole.second)
            first, second = roles.get(RatingRole.first), roles.get(RatingRole.second)
            if (first is not None and second is not None and first.score is not None and second.score is not None
                    and abs(first.score - second.score) > self.policy.rating_tolerance + 1e-9):
                needed.append(RatingRole.adjudication)
        return needed

    def _expired(self, r: Rating, now: dt.datetime) -> bool:
        return r.score is None and r.claimed_at < now - dt.timedelta(minutes=self.settings.claim_timeout_minutes)

    def _claim_view(self, r: Rating, resp: QueuedResponse, roles: dict[RatingRole, Rating]) -> Claim:
        shown: tuple[ShownRating, ...] = ()
        rated = [roles[role] for role in (RatingRole.first, RatingRole.second)
                 if role in roles and roles[role].score is not None]
        if r.role == RatingRole.adjudication and self.rule.sees_other_rating(r.rater, [x.rater for x in rated]):
            mine = [x for x in rated if adj.norm(x.rater) == adj.norm(r.rater)]
            others = [x for x in rated if x not in mine]
            shown = tuple(ShownRating(label, x.role, dict(x.levels or {}), x.score, x.comment or "")
                          for label, group in (("Your rating", mine), ("The other rating", others)) for x in group)
        return Claim(r.id, self.item_id, r.role, resp.anon_id, resp.text, dict(r.levels or {}), r.comment or "", shown,
                     resp.image)

    @staticmethod
    def _raters(roles: dict[RatingRole, Rating]) -> list[str]:
        """Who gave the response's first and second ratings (scored ones)."""
        return [roles[role].rater for role in (RatingRole.first, RatingRole.second)
                if role in roles and roles[role].score is not None]

    @staticmethod
    def _groups(rater: str) -> tuple[str, ...]:
        """The hub groups of ``rater`` when this process was signed in as them through JupyterHub."""
        ident = identity.current()
        if ident is not None and ident.fixed and ident.name == rater:
            return ident.groups
        return ()

    def claim(self, rater: str, skip: set[str] | frozenset = frozenset()) -> Claim | None:
        """The next response for ``rater`` (their own unfinished claim first); None when done.

        ``skip``: anonymous ids the grader gave back in this session.
        """
        rater = _who(rater)
        with self.course.db.transaction() as s:
            self._lock(s)
            return self._claim_in(s, rater, utcnow(), skip)

    def _claim_in(self, s: Session, rater: str, now: dt.datetime, skip: set[str] | frozenset) -> Claim | None:
        """The claim itself, in the caller's write transaction."""
        responses = [r for r in self.responses(s) if not r.blank and not r.set_aside and r.anon_id not in skip]
        ratings = self._ratings(s)
        for resp in responses:  # resume an unfinished claim
            for r in ratings.get(resp.sitting_id, {}).values():
                if r.rater == rater and r.score is None:
                    return self._claim_view(r, resp, ratings.get(resp.sitting_id, {}))
        chosen: tuple[QueuedResponse, RatingRole] | None = None
        for resp in responses:  # an adjudication first (it finishes a response), else the first free rating
            role = self._open_role(resp.sitting_id, ratings.get(resp.sitting_id, {}), rater, now)
            if role is not None and (chosen is None or role == RatingRole.adjudication):
                chosen = (resp, role)
                if role == RatingRole.adjudication:
                    break
        if chosen is not None:
            resp, role = chosen
            roles = ratings.get(resp.sitting_id, {})
            held = roles.get(role)
            if held is not None:  # an abandoned claim: take it over
                audit.record(s, rater, AuditAction.rating_claim_expired, "rating", held.id,
                             f"not scored within {self.settings.claim_timeout_minutes} minutes",
                             previous_rater=held.rater, role=role, sitting=resp.sitting_id, item=self.item_id)
                held.rater, held.claimed_at, held.levels, held.comment = rater, now, {}, ""
                s.flush()
                return self._claim_view(held, resp, roles)
            row = Rating(sitting_id=resp.sitting_id, item_id=self.item_id, role=role, rater=rater, levels={},
                         score=None, comment="", rubric_id=self.rubric.id,
                         rubric_hash=self.rubric.content_hash(), claimed_at=now)
            s.add(row)
            s.flush()  # the unique (sitting, item, role) row: a second claim of it fails here
            return self._claim_view(row, resp, roles)
        return None

    def _open_role(self, sitting_id: int, roles: dict[RatingRole, Rating], rater: str,
                   now: dt.datetime) -> RatingRole | None:
        """The role ``rater`` could be given on this response now, if any: a needed role nobody
        holds (or whose claim ran out). A first or second rating never goes to a grader who already
        touches the response; an adjudication goes to whom ``self.rule`` allows."""
        me = adj.norm(rater)
        touching = any(adj.norm(r.rater) == me for role, r in roles.items() if role != RatingRole.adjudication)
        for role in self._needed_roles(sitting_id, roles):
            held = roles.get(role)
            if held is None or self._expired(held, now):
                if role == RatingRole.adjudication:
                    may = self.rule.may(rater, self._raters(roles), self._groups(rater))
                    return role if may else None
                return None if touching else role
        return None

    def release(self, rater: str, rating_id: int) -> None:
        """Give back an unscored claim (e.g. the grader knows the candidate)."""
        rater = _who(rater)
        with self.course.db.transaction() as s:
            self._lock(s)
            r = s.get(Rating, rating_id)
            if r is None or r.rater != rater or r.score is not None:
                raise ExamBuilderError("only your own unscored claim can be given back")
            s.delete(r)

    def save(self, rater: str, rating_id: int, levels: dict[str, float], comment: str = "",
             reason: str = "rubric rating") -> Decision:
        """Save ``rater``'s rating (or change it) and resolve the response; audited."""
        return self.save_and_next(rater, rating_id, levels, comment, reason, take_next=False)[0]

    def save_and_next(self, rater: str, rating_id: int, levels: dict[str, float], comment: str = "",
                      reason: str = "rubric rating", take_next: bool = True,
                      skip: set[str] | frozenset = frozenset()) -> tuple[Decision, Claim | None]:
        """Save a rating and claim the grader's next response, in one transaction."""
        rater = _who(rater)
        clean = check_levels(self.rubric, levels)
        score = self.rubric.score(clean)
        with self.course.db.transaction() as s:
            self._lock(s)
            r = ratings_q.select_rating(s, rating_id, lock=True)
            if r is None or r.item_id != self.item_id:
                raise ExamBuilderError(f"no claim {rating_id} on item {self.item_id}")
            if r.rater != rater:
                raise ExamBuilderError(
                    f"this response is now held by another grader (your claim ran out after "
                    f"{self.settings.claim_timeout_minutes} minutes); take the next one")
            old = r.score
            r.levels, r.score, r.comment = clean, score, (comment or "").strip()
            r.rubric_id, r.rubric_hash, r.scored_at = self.rubric.id, self.rubric.content_hash(), utcnow()
            s.flush()
            audit.record(s, rater, AuditAction.rating, "rating", r.id, reason if old is None else f"changed: {reason}",
                         sitting=r.sitting_id, item=self.item_id, role=r.role, score=score, old_score=old,
                         levels=clean, rubric_hash=r.rubric_hash)
            decision = resolve(s, r.sitting_id, self.item_id, self.policy, self.rubric, rater, reason, self._seal_key)
            ctx = response_context(s, r.sitting_id, self.item_id)
            clear_rerate_flag(s, ctx.assignment, ctx.sitting.candidate_id, ctx.grade_id)
            return decision, (self._claim_in(s, rater, utcnow(), skip) if take_next else None)

    # -- progress ---------------------------------------------------------------------
    def progress(self, rater: str, skip: set[str] | frozenset = frozenset()) -> Progress:
        """``rater``'s progress; ``skip`` as for ``claim`` (given back: not left for them)."""
        rater = _who(rater)
        now = utcnow()
        with self.course.db.read() as s:
            every = self.responses(s)
            responses = [r for r in every if not r.blank and not r.set_aside]
            ratings = self._ratings(s)
            progress = self._count(rater, responses, ratings, now, skip)
            return dataclasses.replace(progress, set_aside=sum(1 for r in every if r.set_aside))

    def _count(self, rater: str, responses: list[QueuedResponse], ratings: dict[int, dict[RatingRole, Rating]],
               now: dt.datetime, skip: set[str] | frozenset = frozenset()) -> Progress:
        """Counts per response, by the same rule ``claim`` follows: "left for you" is how many more
        responses ``claim`` would hand this grader (the one they hold included) if nobody else moved."""
        mine = needed = open_for_me = waiting_second = second_for_me = waiting_adjudication = 0
        why_counts: dict[str, int] = {}
        for resp in responses:
            roles = ratings.get(resp.sitting_id, {})
            mine += sum(1 for r in roles.values() if r.rater == rater and r.score is not None)
            roles_needed = self._needed_roles(resp.sitting_id, roles)
            unscored = [role for role in roles_needed if roles.get(role) is None or roles[role].score is None]
            needed += len(unscored)
            first = roles.get(RatingRole.first)
            second_waits = RatingRole.second in unscored and first is not None and first.score is not None
            waiting_second += second_waits
            holding = any(r.rater == rater and r.score is None for r in roles.values())
            free = self._open_role(resp.sitting_id, roles, rater, now)
            second_for_me += second_waits and resp.anon_id not in skip and bool(holding or free)
            if RatingRole.adjudication in unscored:
                waiting_adjudication += 1
                why = self._adjudication_why(rater, roles, now, resp.anon_id in skip)
                why_counts[why] = why_counts.get(why, 0) + 1
            if resp.anon_id not in skip and (holding or free):
                open_for_me += 1
        order = (adj.YOURS, adj.HELD, adj.YOU_RATED, adj.NOT_YOU, adj.GIVEN_BACK)
        return Progress(mine, open_for_me, needed, len(responses), waiting_second, waiting_adjudication,
                        second_for_me=second_for_me,
                        adjudication=tuple((w, why_counts[w]) for w in order if w in why_counts))

    def _adjudication_why(self, rater: str, roles: dict[RatingRole, Rating], now: dt.datetime,
                          given_back: bool) -> str:
        """Why a waiting adjudication is, or is not, ``rater``'s to do (an ``adjudication`` constant)."""
        held = roles.get(RatingRole.adjudication)
        if held is not None and held.score is None and held.rater == rater:
            return adj.YOURS
        if not self.rule.may(rater, self._raters(roles), self._groups(rater)):
            return self.rule.why_not()
        if given_back:
            return adj.GIVEN_BACK
        if held is not None and not self._expired(held, now):
            return adj.HELD
        return adj.YOURS

    def waiting(self) -> list[Waiting]:
        """Staff view: every response still without a final decision, in queue order, with the next
        rating it needs and who may give it, names and all (a set-aside or unsettled blank one says
        what it needs instead)."""
        now = utcnow()
        out = []
        with self.course.db.read() as s:
            ratings = self._ratings(s)
            statuses = item_scores_q.select_statuses(s, self.item_id)
            for resp in self.responses(s):
                status = statuses.get(resp.sitting_id)
                if status == ItemScoreStatus.final:
                    continue
                if resp.set_aside:
                    out.append(Waiting(resp.sitting_id, resp.anon_id, "set aside",
                                       "the coordinator, who replaces the unreadable file (exam-builder flags)"))
                    continue
                if resp.blank:
                    out.append(Waiting(resp.sitting_id, resp.anon_id, "no response",
                                       "exam-builder grade, which scores a blank answer 0"))
                    continue
                roles = ratings.get(resp.sitting_id, {})
                for role in self._needed_roles(resp.sitting_id, roles):
                    r = roles.get(role)
                    if r is not None and r.score is not None:
                        continue
                    out.append(self._waiting_for(resp, role, r, roles, now, status == ItemScoreStatus.rerate))
                    break
        return out

    def _waiting_for(self, resp: QueuedResponse, role: RatingRole, held: Rating | None,
                     roles: dict[RatingRole, Rating], now: dt.datetime, rerate: bool) -> Waiting:
        if rerate and held is not None:  # scored once, then sent back to its grader by a rubric edit
            return Waiting(resp.sitting_id, resp.anon_id, "re-rating", f"{held.rater} (after a rubric edit)")
        step = {RatingRole.first: "first rating", RatingRole.second: "second rating",
                RatingRole.adjudication: "adjudication"}[role]
        if held is not None and not self._expired(held, now):
            return Waiting(resp.sitting_id, resp.anon_id, step, f"{held.rater} (taken, not saved yet)")
        if role == RatingRole.adjudication:
            who = self.rule.who(self._raters(roles))
        elif role == RatingRole.second:
            first = roles.get(RatingRole.first)
            who = f"any grader but {first.rater}" if first is not None else "any grader"
        else:
            others = [r.rater for r in roles.values() if r.score is not None]
            who = f"any grader but {' or '.join(others)}" if others else "any grader"
        return Waiting(resp.sitting_id, resp.anon_id, step, who)

    def status(self) -> dict[ItemScoreStatus, int]:
        """Staff view: decisions by status (final, adjudication, pending, rerate)."""
        with self.course.db.read() as s:
            rows = item_scores_q.select_status_counts(s, self.item_id)
        return {st: n for st, n in rows}


@dataclass(frozen=True)
class _Read:
    """The responses as ``RatingQueue.responses`` last read them, and what they were read from."""

    mark: tuple | None
    responses: tuple[QueuedResponse, ...]
    aside: dict[tuple[str, str], str]
    files: dict[Path, tuple]  # notebook read -> its ``_file_mark`` before it was read


def _file_mark(path: Path) -> tuple:
    """A file's identity, size and time, of the link and of what it points to (None where there is none)."""
    out: list[tuple | None] = []
    for follow in (False, True):
        try:
            st = os.stat(path, follow_symlinks=follow)
        except OSError:
            out.append(None)
        else:
            out.append((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode))
    return tuple(out)


def _who(rater: str) -> str:
    rater = (rater or "").strip()
    if not rater:
        raise ExamBuilderError("sign in with your name first: every score records who gave it")
    return rater


def _cell_text(nb: object, grade_id: str) -> str | None:
    """The source of the last cell with ``grade_id`` in a notebook read as JSON (nbgrader's choice)."""
    found = None
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        if not isinstance(cell, dict) or not isinstance(cell.get("metadata"), dict):
            continue
        nbg = cell["metadata"].get("nbgrader")
        if isinstance(nbg, dict) and nbg.get("grade_id") == grade_id:
            src = cell.get("source", "")
            found = "".join(x for x in src if isinstance(x, str)) if isinstance(src, list) else str(src)
    return found


__all__ = ["RatingQueue", "Claim", "Progress", "QueuedResponse", "ShownRating", "Waiting", "open_items", "ROLES"]
