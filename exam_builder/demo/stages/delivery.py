"""Demo stage: a proctored sitting in which scripted candidates answer through ``CandidateSession``.

The same object the exam app's widgets call: sign in with the access code (each candidate from
their own seat's address), confirm, start, answer, flag, submit. The sittings are for today,
in the room's time zone, with the whole day as their sign-in window; once submitted, a code
opens nothing (shown with one candidate's code). Nothing is written to the journal directly. The script (not the
candidates) reads the forms' keys to decide who answers well: a seeded mix of strong and weak
candidates and a few who leave items blank; the extended-time candidates get their longer
clock; a scribe, recorded by the proctor, writes for the candidate with that accommodation;
one sitting is voided with a reason; one candidate runs out of time (the server's clock,
simulated by a later clock) and is submitted automatically, and their late change is refused;
mid-sitting the proctor pauses the room (a fire alarm, with its reason), an answer given while
paused is refused, and the resume gives back exactly the time left at the pause.
One candidate never arrives: when the sign-in window closes (the end of the day in the room's
time zone, the clock moved there as ``records.absence.settle_course`` is told), the sitting
becomes absent by itself, audited; under the CPS policy it is not an attempt, which their
eligibility shows. Then ``collect`` writes the nbgrader submissions.
For the recourse stage (issue 26), the anchor items (on every form) carry a wrong key in this demo:
the candidates who know the material choose the authored choice after the keyed one (the script's
knowledge, ``_miskeyed``; the seeded draws are the same), and every sixth candidate comments on a
question they think is keyed wrong before submitting (``CandidateSession.comment``).
One candidate is scripted to sit just below their form's cut (``borderline_plan``, computed from the
form's items, points, rubrics and effective cut): they answer a miskeyed item with the answer key
validation will accept, and comment on it, so accepting it turns their fail into a pass on every demo
course, whatever the other candidates' random ratings. The grading stage's scripted graders give their
written answers the planned levels (``ctx.state["borderline"]``).

Reads ``ctx.state``: ``"eligible"`` (records stage; default every candidate) and
``"accommodations"`` (candidate id -> approved kinds). Leaves ``ctx.state["sittings"]``:
candidate id -> sitting id of every sitting opened (voided included),
``ctx.state["submissions"]``: the notebooks written to ``submitted/``, and
``ctx.state["borderline"]``: {"candidate", "sitting", "plan"} (a ``Borderline``), when one was scripted.
"""
from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass

from rich.progress import Progress
from rich.table import Table

from ...assembly.forms import load_forms
from ...clock import shown as shown_time
from ...delivery import sittings as ops
from ...delivery.candidate_app import clock_text
from ...delivery.collect import collect
from ...delivery.proctor_session import STATE_TEXT, overview, totals
from ...delivery.session import CandidateSession, Receipt, SignInFailed, SittingClosed, SittingPaused, format_minutes
from ...grading.queue import load_rubric_for
from ...kinds import kind_for
from ...model.item import LABELS
from ...model.manifest import Manifest
from ...model.rubric import Rubric
from ...records.cuts import effective_cuts
from ...records.models import utcnow
from ...records.queries.candidates import select_candidate_ids
from ...records.queries.sittings import select_submit_reasons

SEED = 20260301
ROOM = "Room 101"
PROCTOR = "demo-proctor"
OPEN_TEXTS = {
    "good": ("I would start by listening and asking what they want from our time together. I might share a "
             "short part of my own story about feeling unheard, only if it helps them, and then ask what has "
             "helped before. We would decide the next step together, and I would keep to what I promised."),
    "fair": "I would listen to them and tell them my story so they know recovery is possible.",
    "weak": "Tell them to follow the treatment plan.",
}


class LaterClock:
    """The server clock, moved forward to simulate a long sitting in a short demo."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)
        self.stopped_at: dt.datetime | None = None  # held still (the fire alarm's minutes, read to the second)

    def __call__(self) -> dt.datetime:
        return self.stopped_at if self.stopped_at is not None else utcnow() + self.offset


def _fire_alarm(course, exam: str, cs: CandidateSession, clock: LaterClock, item) -> str:
    """The proctor pauses the room for 12 minutes mid-sitting; what happened, in one line."""
    clock.stopped_at = clock()
    before = cs.time_left()
    paused = ops.pause_room(course, exam, ROOM, PROCTOR, "fire alarm: everyone left the room", now=clock())
    clock.stopped_at += dt.timedelta(minutes=12)  # the room is outside for 12 minutes
    try:
        cs.answer(item.item_id, item.labels[0] if item.labels else "while paused")
        refused = "an answer given while paused was SAVED"
    except SittingPaused:
        refused = "an answer given while paused was refused"
    resumed = ops.resume_room(course, exam, ROOM, PROCTOR, "all clear: back in the room", now=clock())
    after = cs.time_left()
    clock.offset, clock.stopped_at = clock.stopped_at - utcnow(), None
    same = "as at the pause" if after == before else f"NOT as at the pause ({clock_text(before)})"
    return (f"room paused (fire alarm) for 12 minutes: {len(paused)} sitting(s) paused, {len(resumed)} resumed; "
            f"{refused}; {cs.candidate_id} resumed with {clock_text(after)} left, {same}")


#: How many of the anchor items (on every form) carry a wrong key in the demo: key validation finds them.
MISKEYED = 3


def _miskeyed(forms: list) -> dict[str, dict[str, str]]:
    """The demo's miskeyed items: the first ``MISKEYED`` items on every form, whose really right answer is the
    authored choice after the keyed one; form -> item -> that answer's label on the form (the script's knowledge)."""
    from ...model.item import LABELS

    if not forms:
        return {}
    common = sorted(set.intersection(*({e.item_id for e in m.items if e.key and "," not in e.key} for _f, m in forms)))
    out: dict[str, dict[str, str]] = {m.assignment: {} for _f, m in forms}
    for item in common[:MISKEYED]:
        for _f, m in forms:
            e = next(x for x in m.items if x.item_id == item)
            order = list(e.option_order) or [0, 1]
            keyed = order[LABELS.index(e.key)]
            out[m.assignment][item] = LABELS[order.index((keyed + 1) % len(order))]
    return out


def _comment(cs: CandidateSession, key: dict, items: list, really: dict, turn: int = 0) -> int:
    """The candidate comments on a question they think is keyed wrong: a miskeyed one they answered right (the
    commenters take the miskeyed items in turn, ``turn``, so each is commented on), else the first question of
    choices they answered wrong."""
    miskeyed = [i for i in items if i.item_id in really]
    k = turn % len(miskeyed) if miskeyed else 0
    for it in miskeyed[k:] + miskeyed[:k] + [i for i in items if i.item_id not in really]:
        a = cs.answer_of(it.item_id)
        if it.labels and a is not None and a.value not in (None, key.get(it.item_id)) and "," not in (a.value or ""):
            cs.comment(it.item_id, f"I chose {a.value}. I think {a.value} is right too: the question does not say "
                                   "which comes first.")
            return 1
    return 0


#: What the scripted borderline candidate types where no choice is offered (a typed answer no key accepts).
NOT_SURE = "not sure"
EPS = 1e-9  # the pass rule's tolerance (``grading.results``: total + 1e-9 >= cut)


@dataclass(frozen=True)
class Borderline:
    """The scripted borderline candidate's sitting: the answers that put their total just below the form's cut, and
    the miskeyed item whose really right answer (``accepted``), once key validation accepts it, adds ``gain``."""

    assignment: str
    item_id: str  # the miskeyed item answered with the answer key validation will accept
    number: int  # its question number on the form
    accepted: str  # that answer's label on the form
    gain: float  # the points accepting it adds
    answers: dict[str, str]  # item -> what the candidate answers (a label, or written text)
    levels: dict[str, dict[str, float]]  # written item -> criterion -> points the scripted graders give
    total: float  # the total before the key decision: below the cut
    cut: float


def _points(e, answer: str, key: str | None = None) -> float:
    """What ``answer`` scores on manifest entry ``e`` against its key (or ``key``), by the kind's own scoring."""
    return kind_for(e.kind).score(answer, (e.key or "") if key is None else key, e.points, e.scoring)


def _rubric_sums(rubric: Rubric) -> dict[float, dict[str, float]]:
    """Every score a rubric can give -> one choice of levels that gives it (the most even choice first)."""
    out: dict[float, dict[str, float]] = {}
    choices = itertools.product(*[[lv.points for lv in c.levels] for c in rubric.criteria])
    for pts in sorted(choices, key=lambda p: max(p) - min(p)):
        levels = {c.id: v for c, v in zip(rubric.criteria, pts, strict=True)}
        out.setdefault(round(rubric.score(levels), 6), levels)
    return out


def borderline_plan(manifest: Manifest, cut: float, really: dict[str, str], rubrics: dict[str, Rubric],
                    rng: random.Random) -> Borderline | None:
    """A sitting of ``manifest`` whose total is just below ``cut`` (the form's effective cut) and passes once the
    first miskeyed item (``really``: item -> the really right label, ``_miskeyed``) accepts that answer: the
    objective items answered right or wrong (which ones: ``rng``), the written answers' levels chosen from their
    rubrics, all read from the form's own items, points and scoring. None when the form has no such sitting (no
    miskeyed item of choices, a written item without its rubric, or no total lands in [cut - gain, cut))."""
    entries = {e.item_id: e for e in manifest.items}
    target = next((e for e in manifest.items if e.item_id in really and kind_for(e.kind).offers_options
                   and e.key), None)
    if target is None:
        return None
    accepted = really[target.item_id]
    gain = _points(target, accepted, accepted)  # accepted as well: it scores as the key does
    if _points(target, accepted) > 0 or gain <= 0:
        return None  # its really right answer already scores: accepting it would change nothing
    answers: dict[str, str] = {target.item_id: accepted}
    fixed, pool, written = 0.0, [], []
    for e in manifest.items:
        kind = kind_for(e.kind)
        if e.item_id == target.item_id:
            continue
        if kind.rated:
            if not e.rubric or e.rubric not in rubrics:
                return None
            written.append(e)
            continue
        if not kind.offers_options or not e.option_order or not e.key:
            answers[e.item_id] = NOT_SURE
            fixed += _points(e, NOT_SURE)
            continue
        labels = LABELS[:len(e.option_order)]
        right = _points(e, e.key)
        wrong = next((lab for lab in labels if lab not in kind.key_labels(e.key) and lab != really.get(e.item_id)
                      and _points(e, lab) == 0), None)
        if wrong is None or right <= 0:
            answers[e.item_id] = e.key
            fixed += right
        else:
            pool.append((e.item_id, right, wrong))
    rng.shuffle(pool)  # which questions they get wrong: spread over the form
    reach: dict[float, tuple[str, ...]] = {0.0: ()}  # objective points -> the items answered right
    for item, pts, _wrong in pool:
        for got, chosen in list(reach.items()):
            reach.setdefault(round(got + pts, 6), chosen + (item,))
    sums: dict[float, dict[str, dict[str, float]]] = {0.0: {}}  # written points -> levels per item
    for e in written:
        step: dict[float, dict[str, dict[str, float]]] = {}
        for got, chosen in sums.items():
            for pts, levels in _rubric_sums(rubrics[e.rubric or ""]).items():
                step.setdefault(round(got + pts, 6), {**chosen, e.item_id: levels})
        sums = step
    top = max(sums) if sums else 0.0
    share = cut / manifest.total_points if manifest.total_points else 0.5
    best = None
    for obj, right_items in reach.items():
        for wr, levels in sums.items():
            total = fixed + obj + wr
            if total + EPS < cut <= total + gain + EPS:
                rank = (abs(wr - share * top), -total)  # written points as borderline as the rest
                if best is None or rank < best[0]:
                    best = (rank, total, right_items, levels)
    if best is None:
        return None
    _rank, total, right_items, levels = best
    for item, _pts, wrong in pool:
        answers[item] = entries[item].key if item in right_items else wrong  # type: ignore[assignment]
    for e in written:
        answers[e.item_id] = OPEN_TEXTS["fair"]
    return Borderline(manifest.assignment, target.item_id, target.number, accepted, gain, answers, levels,
                      round(total, 6), cut)


def _profile(rng: random.Random) -> tuple[str, float, float]:
    """(name, chance of a right answer, chance of leaving an item blank)."""
    r = rng.random()
    if r < 0.70:
        return "strong", 0.88, 0.0
    if r < 0.88:
        return "weak", 0.50, 0.02
    return "blanks", 0.80, 0.20


def run(ctx) -> None:
    course, console, exam = ctx.course, ctx.console, ctx.exam
    rng = random.Random(SEED)
    with course.db.read() as s:
        forms = load_forms(s, exam)
        keys = {m.assignment: {it.item_id: it.key for it in m.items} for _f, m in forms}
        everyone = select_candidate_ids(s)
        effective = effective_cuts(s, forms)  # the study's cut per form, or a recorded re-cut
        cuts = {m.assignment: effective[f.id] for f, m in forms}
    truth = _miskeyed(forms)  # form -> item -> the answer that is really right (the key is wrong)
    if not keys:
        console.print("[yellow]no forms were built; run the assembly stage first[/]")
        return
    eligible = ctx.state.get("eligible", everyone)
    accommodations = ctx.state.get("accommodations", {})

    opened = ops.open_sittings(course, exam, ROOM, PROCTOR, eligible)
    console.print(f"sitting opened in {ROOM}: {len(opened.opened)} access codes; seat cards in "
                  f"{opened.seat_cards.relative_to(course.root) if opened.seat_cards else '-'}")
    for cid, _name, reasons in opened.refused:
        console.print(f"  no code for {cid}: {'; '.join(reasons)}")

    scribe_for = next((o for o in opened.opened if "scribe" in accommodations.get(o.candidate_id, [])), None)
    plain = [o for o in opened.opened if o is not scribe_for
             and o.time_limit_minutes == course.policy.time_limit_minutes]
    void_one = plain[0] if plain else None
    late_one = plain[1] if len(plain) > 1 else None
    pause_at = plain[2] if len(plain) > 2 else None  # the room is paused while this candidate writes
    paused_line = ""
    no_show = plain[-1] if len(plain) > 3 else None  # never arrives: absent when the window closes
    borderline_one = plain[3] if len(plain) > 4 else None  # sits just below the cut (``borderline_plan``)
    borderline: dict = {}
    notes: dict[str, str] = {}
    receipts: dict[str, tuple[str, Receipt]] = {}  # the first candidate to submit, for the demo
    sittings_by_candidate: dict[str, int] = {}
    commented = 0

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("candidates answering", total=len(opened.opened))
        for seat, o in enumerate(opened.opened, start=1):
            sittings_by_candidate[o.candidate_id] = o.sitting_id
            if o is no_show:
                progress.advance(task)
                continue
            clock = LaterClock()
            cs = CandidateSession(course, clock=clock).sign_in(o.code, source=f"10.0.101.{seat}")
            cs.confirm_identity()
            if o is scribe_for:
                ops.record_scribe(course, o.sitting_id, "Sam Scribe", PROCTOR, "approved scribe accommodation")
                notes[o.candidate_id] = "scribe: Sam Scribe"
            if o.time_limit_minutes != course.policy.time_limit_minutes:
                notes[o.candidate_id] = f"extended time: {format_minutes(o.time_limit_minutes)}"
            cs.start()
            name, p_right, p_blank = _profile(rng)
            key = keys[cs.form.assignment]
            really = truth.get(cs.form.assignment, {})
            items = list(cs.form.items)
            stop_at = len(items) // 2 if o in (void_one, late_one) else len(items)
            if o is borderline_one:
                plan = _borderline(course, forms, cs.form.assignment, cuts, really)
                if plan is not None:
                    for it in items:
                        cs.answer(it.item_id, plan.answers[it.item_id])
                    cs.comment(plan.item_id, f"I chose {plan.accepted}. I think {plan.accepted} is right too: the "
                                             "question does not say which comes first.")
                    commented += 1
                    borderline = {"candidate": o.candidate_id, "sitting": o.sitting_id, "plan": plan}
                    stop_at = 0  # answered as planned; the seeded draws go on for the next candidate
            for n, it in enumerate(items[:stop_at]):
                if o is pause_at and n == stop_at // 2:
                    paused_line = _fire_alarm(course, exam, cs, clock, it)
                if rng.random() < p_blank:
                    continue
                if it.labels:  # a question of choices (the scripted candidates write the rest)
                    right = really.get(it.item_id, key.get(it.item_id))  # who knows the material answers right
                    wrong = [lab for lab in it.labels if lab != right]
                    cs.answer(it.item_id, right if rng.random() < p_right else rng.choice(wrong))
                else:
                    quality = "good" if rng.random() < p_right else rng.choice(["fair", "weak"])
                    cs.answer(it.item_id, OPEN_TEXTS[quality])
                if rng.random() < 0.03:
                    cs.flag(it.item_id)
            if o is void_one:
                ops.void(course, o.sitting_id, PROCTOR, "candidate felt unwell and left; may sit again")
                notes[o.candidate_id] = "voided by the proctor"
            elif o is late_one:
                clock.offset = dt.timedelta(minutes=o.time_limit_minutes, seconds=1)  # the clock runs out
                cs.check_deadline()
                try:
                    cs.answer(items[-1].item_id, items[-1].labels[0] if items[-1].labels else "too late")
                except SittingClosed:
                    notes[o.candidate_id] = "time ran out: submitted automatically; a late change was refused"
            else:
                if seat % 6 == 0 and o is not borderline_one:  # a few say their answer is right too (issue 26)
                    commented += _comment(cs, key, items, really, seat // 6)
                receipt = cs.submit()
                receipts.setdefault("first", (o.candidate_id, receipt))
            progress.advance(task)

    if paused_line:
        console.print(paused_line, highlight=False)
    if borderline:
        plan = borderline["plan"]
        console.print(f"{borderline['candidate']} is scripted to sit just below the cut of {plan.assignment}: "
                      f"{plan.total:g} points of the {plan.cut:.2f} needed, with Q{plan.number} ({plan.item_id}, "
                      f"miskeyed) answered {plan.accepted}, its really right answer: accepting it in key "
                      f"validation (+{plan.gain:g}) would pass them; and a comment on it", highlight=False)
    if commented:
        console.print(f"{commented} candidate(s) left a comment on a question (\"Comment on this question\"; "
                      "read after the exam, in key validation)", highlight=False)
    if "first" in receipts:
        cid, receipt = receipts["first"]
        console.print(f"{cid}'s receipt: confirmation number {receipt.confirmation} "
                      f"(the first 40 bits of the receipt hash, to read aloud)", highlight=False)
    used = next((o for o in opened.opened if o not in (void_one, late_one)), None)
    if used is not None:
        try:
            CandidateSession(course).sign_in(used.code, source="10.0.101.250")
        except SignInFailed as exc:
            console.print(f"{used.candidate_id}'s code typed again after the submit: \"{exc}\"", highlight=False)

    if no_show is not None:
        notes[no_show.candidate_id] = _no_show(course, console, exam, no_show.candidate_id, no_show.sitting_id)
    result = collect(course, exam, console=console)
    rows = overview(course, exam)
    with course.db.read() as s:
        reasons = select_submit_reasons(s)
    counts: dict[str, int] = {}
    for row in rows:
        key = row.status + (f" ({reasons[row.sitting_id]})" if reasons.get(row.sitting_id) else "")
        counts[key] = counts.get(key, 0) + 1
    console.print("sittings: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    console.print("the proctor's room view would show: " + ", ".join(
        f"{n} {STATE_TEXT[state].lower()}" for state, n in totals(rows).items()), highlight=False)
    table = Table(title=f"{exam}: sittings worth a look (of {len(rows)})")
    for col in ("sitting", "candidate", "status", "answered", "time", "note"):
        table.add_column(col)
    for row in rows:
        if row.candidate_id in notes or row.answered < row.total:
            status = row.status + (f" ({reasons[row.sitting_id]})" if reasons.get(row.sitting_id) else "")
            table.add_row(str(row.sitting_id), row.candidate_id, status, f"{row.answered}/{row.total}",
                          format_minutes(row.time_limit_minutes), notes.get(row.candidate_id, "left items blank"))
    console.print(table)
    console.print(f"collected {len(result.written)} nbgrader submissions into submitted/ "
                  f"({len(result.unchanged)} already there)")
    ctx.state["sittings"] = sittings_by_candidate
    ctx.state["submissions"] = result.written + result.unchanged
    if borderline:
        ctx.state["borderline"] = borderline


def _borderline(course, forms: list, assignment: str, cuts: dict[str, float], really: dict[str, str]):
    """The borderline plan on ``assignment`` (``borderline_plan``), with its form's rubrics and effective cut."""
    m = next(m for _f, m in forms if m.assignment == assignment)
    rubrics = {e.rubric: load_rubric_for(course, e.rubric) for e in m.items if e.rubric}
    return borderline_plan(m, cuts[assignment], really, rubrics, random.Random(f"{SEED}|{assignment}"))


def _no_show(course, console, exam: str, candidate: str, sitting_id: int) -> str:
    """The window of a sitting nobody started closes: absent (audited), counted as the policy says."""
    from ...records.absence import closed_at, settle_course, zone_named
    from ...records.eligibility import evaluate
    from ...records.models import Sitting

    zone = zone_named(course.delivery_settings.timezone)
    with course.db.read() as s:
        closes = closed_at(s.get(Sitting, sitting_id), zone)
    settle_course(course, now=closes, exam_id=exam)  # the clock moved to the window's close
    with course.db.read() as s:
        sit = s.get(Sitting, sitting_id)
        status, attempt = str(sit.status), sit.attempt_no
        [e] = evaluate(s, course.policy, exam, [candidate], today=ops.room_today(course, closes), zone=zone)
    counts = "counts as an attempt" if attempt is not None else "is not an attempt"
    console.print(f"{candidate} never arrived: when the sign-in closed ({shown_time(closes, zone)}) sitting "
                  f"{sitting_id} became {status} (decided by exam-builder, audited); under the CPS policy it "
                  f"{counts}", highlight=False)
    console.print(f"{candidate}'s eligibility now: {'eligible' if e.eligible else 'not eligible'}, "
                  f"{e.attempts_used} attempt(s) used, {e.attempts_left} left"
                  + (f" ({'; '.join(e.reasons)})" if e.reasons else ""), highlight=False)
    return "never arrived: absent when the sign-in closed, not an attempt" if attempt is None else \
        "never arrived: absent when the sign-in closed, counts as an attempt"
