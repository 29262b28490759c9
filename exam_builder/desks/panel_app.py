"""The panelist's screen: one standard-setting study's items, rated one at a time (Voila, staff only).

``PanelSession`` is everything a panelist does, without widgets, through ``standard.study`` only
(no SQL here). ``PanelApp`` draws it with ipywidgets and the accessible widgets of
``exam_builder.ui`` and calls the same object, so tests and scripts take the app's code path.

What it promises:

* **Who rates is never typed in hub mode.** Signed in through JupyterHub (the ``panelists`` group),
  the panelist is the hub user; in the standalone token mode (``exam-builder standard panel``) a
  name is typed once (recorded as self-declared). Either way the name must be one seated on the
  study's panel, and every rating is recorded (and audited) under it. The name is matched as the
  grader's desk matches one: case, surrounding and repeated spaces do not matter ("ann park" signs in
  Ann Park, and the ratings are recorded under the name as seated).
* **Each item as the panel needs it**: the question, its key in words and the author's rationale,
  its points, and for a written answer its rubric's levels (what each criterion's points mean); one
  rating per item, the probability in steps of 5% that a minimally competent candidate earns the point
  (Yes/No in a Yes/No study), for an open response the expected points; a note; progress ("12 of 40
  rated"). The rating is a compact grid, so Save stays near it on a phone.
* **Saved where the panelist is.** Save goes on to the next item not yet rated, and its confirmation
  ("Saved: ps-mc-03 rated 70%.") stands just above that item's heading with the focus on it (so it is
  in view), and is said through a polite live region.
* **Never another panelist's ratings in round 1.** From round 2 on, the panel's previous round
  is shown per item as its mean and range, never by name, and, where candidates have sat the item,
  its facility (the share of its points they earned).
* **Between rounds it says where the study is**: no round opened yet, a round closed (the next one
  or the board's decision follows), or the board's decision (nothing more to rate).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ExamBuilderError
from ..kinds import kind_for
from ..model.manifest import ManifestItem
from ..model.rubric import Rubric
from ..records import identity
from ..standard.compute import METHODS
from ..ui.page import esc as _e, focus_on, heading, md, status_html as _say, style_css
from ..ui.widgets import Assist, ChoiceGroup, TextForm

#: The notebook Voila serves (``exam-builder standard panel``, ``exam-builder hub-service panelist``).
NOTEBOOK = Path(__file__).resolve().parent / "panel.ipynb"


@dataclass(frozen=True)
class Card:
    """One item as the panelist sees it."""

    index: int  # 0-based position in the study
    of: int
    item_id: str
    points: float
    rated: bool  # an open response: expected points
    question: str  # HTML
    key: str
    rationale: str  # HTML
    value: float | None  # this panelist's rating in the open round
    note: str
    panel_before: str  # the panel's previous round for this item (round 2 on), else ""
    rubric: str = ""  # HTML: a written answer's rubric levels, else ""
    facility: str = ""  # round 2 on, where candidates have sat: the share of its points they earned, else ""


def _pts(x: float) -> str:
    return f"{x:g} point" + ("" if x == 1 else "s")


def rubric_html(rubric: Rubric) -> str:
    """A written answer's rubric as a panelist needs it: each criterion with what each of its levels is worth."""
    parts = [f"<p><strong>Rubric:</strong> graders choose one level per criterion; the points add up to at most "
             f"{_pts(rubric.max_points)}.</p>"]
    for cr in rubric.criteria:
        about = f": {_e(cr.description)}" if cr.description else ""
        levels = "".join(f"<li><strong>{_pts(lv.points)}</strong>{' (' + _e(lv.label) + ')' if lv.label else ''}: "
                         f"{_e(lv.descriptor)}</li>" for lv in cr.levels)
        parts.append(f"<p>{_e(cr.name)} (up to {_pts(cr.max_points)}){about}</p><ul>{levels}</ul>")
    return f"<div class='eb-rubric'>{''.join(parts)}</div>"


class PanelSession:
    """One panelist's session on one study; the widgets and scripts call these methods."""

    def __init__(self, course, study_id: int):
        from ..assembly.build import load_checked_bank
        from ..standard.study import read_study

        self.course, self.study_id = course, study_id
        self.signin = identity.StaffSignIn("ratings", "every rating records who gave it")
        view = read_study(course.db, study_id)
        self.title, self.method, self.mcc = view.study.title, view.study.method, view.study.mcc
        self.exam = view.study.exam_id
        bank, rubrics = load_checked_bank(course, view.study.exam_id)
        self.items = view.items
        self.bank = {i.item_id: bank.items.get(i.item_id) for i in view.items}
        self.rubrics = {i: rubrics.get(it.rubric_id) for i, it in self.bank.items() if it is not None}
        self._facility: dict[str, tuple[float, int]] | None = None  # read once, when round 2 first shows it

    # -- who rates --------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        return self.signin.name

    @property
    def hub_signed(self) -> bool:
        return self.signin.hub_signed

    def sign_in(self, name: str) -> None:
        """Token mode: a name typed once, which must be on the study's panel (case and spaces aside); the
        panelist is then known by the name they were seated under."""
        typed = self.signin.sign_in(name)
        seated = self._seated(typed)
        if seated is None:
            self.signin.typed = None
            raise ExamBuilderError(f"{typed} is not on the panel of this study; the coordinator seats panelists "
                                   "(exam-builder standard panelist)")
        if seated[0] != typed:
            self.signin.sign_in(seated[0])

    def _seated(self, name: str | None) -> tuple[str, int] | None:
        """The panel's seat of ``name`` (matched as ``identity.name_key`` does): (name as seated, id)."""
        from ..standard.study import read_study

        key = identity.name_key(name)
        return next(((p.name, p.id) for p in read_study(self.course.db, self.study_id).panel
                     if key and identity.name_key(p.name) == key), None)

    def _me(self) -> tuple[str, str, int]:
        """(who records: the hub user or the seated name; the name as seated; the panelist's id)."""
        actor = self.signin.require()
        seated = self._seated(actor)
        if seated is None:
            raise ExamBuilderError(f"{actor} is not on the panel of this study")
        return actor, seated[0], seated[1]

    # -- the items --------------------------------------------------------------------
    def round_state(self) -> tuple[int | None, int, int]:
        """(the open round or None, items this panelist has rated in it, items in all)."""
        from ..standard.study import read_study

        _actor, name, _pid = self._me()
        r = read_study(self.course.db, self.study_id).open_round
        if r is None:
            return None, 0, len(self.items)
        return r.number, len(r.raw.get(name, {})), len(self.items)

    def between_rounds(self) -> str:
        """Where the study stands while no round is open, in words for the panelist."""
        from ..standard.study import read_study

        view = read_study(self.course.db, self.study_id)
        last = view.last_closed
        if last is None:
            return "No round has opened yet: the facilitator opens round 1."
        decided = [d for d in view.decisions if d.round_no == last.number]
        if decided:
            d = decided[-1]
            return (f"The board has decided: {d.decided_by} adopted a cut of {d.adopted:.1%} of the points on "
                    f"{d.decided_on:%d %B %Y}, from the panel's ratings of round {d.round_no}. There is nothing more "
                    "to rate. Your ratings are kept with the study.")
        return (f"Round {last.number} is closed and your ratings are kept. The facilitator opens round "
                f"{last.number + 1} if the panel rates again; otherwise the board decides.")

    def _facility_of(self, item_id: str) -> str:
        if self._facility is None:
            from ..analysis.impact import facility

            self._facility = facility(self.course, self.exam)
        if not self._facility:
            return ""  # no past candidates: the study has no impact data to show
        if item_id not in self._facility:
            return "No past candidate has answered this item yet."
        share, n = self._facility[item_id]
        return (f"Past candidates earned {share:.0%} of its points on average ({n} "
                f"{'response' if n == 1 else 'responses'}).")

    def card(self, index: int) -> Card:
        from ..standard.study import read_study

        _actor, name, _pid = self._me()
        index = max(0, min(index, len(self.items) - 1))
        it = self.items[index]
        item = self.bank[it.item_id]
        view = read_study(self.course.db, self.study_id)
        r = view.open_round
        value = r.raw.get(name, {}).get(it.item_id) if r else None
        note = r.notes.get(name, {}).get(it.item_id, "") if r else ""
        before = facility = ""
        done = [x for x in view.rounds if x.closed]
        if r is not None and r.number > 1 and done:  # never another panelist's round-1 rating, and never a name
            shares = [row[it.item_id] / it.points for row in done[-1].matrix.values() if it.item_id in row]
            if shares:
                before = (f"The panel in round {done[-1].number}: mean {sum(shares) / len(shares):.0%}, "
                          f"from {min(shares):.0%} to {max(shares):.0%} ({len(shares)} panelists).")
            facility = self._facility_of(it.item_id)  # impact data from round 2 on, never in round 1
        rubric = ""
        if item is None:
            question, key, rationale = "<p>This item is no longer in the bank.</p>", "", ""
        else:
            kind = kind_for(item.kind)
            import random

            order = kind.choice_order(item, False, random.Random(0))
            entry = ManifestItem(number=index + 1, item_id=item.id, kind=item.kind, points=item.points,
                                 competency=item.competency, content_hash="", option_order=order,
                                 key=kind.form_key(item, order))
            question = md(kind.question_source(entry, item))
            found = self.rubrics.get(it.item_id) if kind.rated else None
            key = (kind.key_text(entry, item) if not kind.rated else
                   "rated by graders with its rubric (below)" if found is not None else "rated with its rubric")
            rubric = rubric_html(found) if found is not None else ""
            rationale = md(item.rationale) if item.rationale else "<p>No rationale written.</p>"
        return Card(index, len(self.items), it.item_id, it.points, it.rated, question, key, rationale, value, note,
                    before, rubric, facility)

    def options(self, card: Card) -> list[tuple[str, str]]:
        """The ratings a panelist may give this item, as (value, words)."""
        if card.rated:
            steps = int(round(card.points * 2))
            return [(f"{k / 2:g}", f"{k / 2:g} of {card.points:g} points") for k in range(steps + 1)]
        if self.method == "yes_no":
            return [("100", "Yes: would earn the point"), ("0", "No: would not")]
        return [(str(p), f"{p}%") for p in range(0, 101, 5)]

    def rate(self, index: int, value: str | None, note: str) -> str:
        """Record this panelist's rating of item ``index`` in the open round; what to tell them."""
        from ..standard.study import rate

        actor, _name, pid = self._me()
        if value is None:
            raise ExamBuilderError("choose a rating first")
        it = self.items[index]
        kept = rate(self.course.db, self.study_id, pid, it.item_id, float(value), note or "", actor) == "unchanged"
        said = (("Yes" if float(value) else "No") if self.method == "yes_no" and not it.rated
                else f"{value}{'' if it.rated else '%'}")
        return f"Saved: {it.item_id} rated {said}{' (unchanged)' if kept else ''}."

    def next_unrated(self, after: int) -> int | None:
        _actor, name, _pid = self._me()
        from ..standard.study import read_study

        r = read_study(self.course.db, self.study_id).open_round
        mine = r.raw.get(name, {}) if r else {}
        n = len(self.items)
        return next(((after + k) % n for k in range(1, n + 1) if self.items[(after + k) % n].item_id not in mine),
                    None)


PANEL_CSS = """<style>
/* the output area would clip the focus ring of the first rating: the page is the only scroller */
.jp-OutputArea:has(.eb-panel), .jp-OutputArea-child:has(.eb-panel), .jp-OutputArea-output:has(.eb-panel) {
  overflow: visible !important; }
/* a control scrolled into view keeps room for its focus ring above and below it */
html, body, .lm-BoxPanel-child:has(.eb-panel) { scroll-padding: 2em 0; }
.eb-panel .eb-key { border-left: 4px solid #1d6b2f; padding-left: 0.8em; }
.eb-panel .eb-note { border-left: 4px solid #0b4f8a; padding-left: 0.8em; }
.eb-panel .eb-ok { border: 2px solid #1d6b2f; background: #eaf6ec; padding: 0.5em; }
.eb-panel .eb-rubric { border-left: 4px solid #6b6b6b; padding-left: 0.8em; }
.eb-panel .eb-rubric ul { margin: 0.2em 0 0.6em 0; padding-left: 1.2em; }
/* the rating as a compact grid (0% to 100%: 21 choices), so Save stays near it on a phone */
.eb-panel fieldset.eb-choices[data-appearance="radios"] { display: grid; gap: 0.3em;
  grid-template-columns: repeat(auto-fill, minmax(6.2em, 1fr)); }
.eb-panel .widget-vbox:has(.eb-points) fieldset.eb-choices[data-appearance="radios"] {
  grid-template-columns: repeat(auto-fill, minmax(11em, 1fr)); }  /* "4.5 of 6 points" on one line */
.eb-panel fieldset.eb-choices[data-appearance="radios"] legend { grid-column: 1 / -1; }
.eb-panel fieldset.eb-choices[data-appearance="radios"] .eb-choice { padding: 0.35em 0.5em; margin: 0; }
</style>"""


class PanelApp:
    """The ipywidgets front of ``PanelSession``: sign in (token mode), then the items one at a time."""

    def __init__(self, session: PanelSession):
        import ipywidgets as w

        self.w, self.session, self.index = w, session, 0
        self.assist = Assist()
        self.message = w.HTML()
        self.title = w.HTML("<h1>Panelist's screen</h1>")
        self.who = w.HTML()
        self.name = TextForm(label="Your name", button="Sign in")
        self.name.on_submit(lambda text: self._run(lambda: self._sign_in(text)))
        self.sign_in_panel = w.VBox([w.HTML(f"{heading('Sign in', 'sign-in')}<p>Type your name as the coordinator "
                                            "seated you on the panel: every rating records who gave it.</p>"),
                                     self.name])
        ask = ("would a minimally competent candidate earn its point: yes or no?" if session.method == "yes_no"
               else "how likely is it that a minimally competent candidate earns its point?")
        self.intro = w.HTML(f"<div class='eb-note'><p><strong>{_e(session.title)}</strong> ({METHODS[session.method]}"
                            f"). For each item, {ask} For a written answer: how many points would they earn? The "
                            f"minimally competent candidate, as the panel defined them:</p>{md(session.mcc)}</div>")
        self.progress = w.HTML()
        self.saved = w.HTML()  # Save's confirmation, just above the item it moved on to
        self.item = w.HTML()
        self.rating = ChoiceGroup([], "Your rating")
        # the note reaches the kernel when the box is left (before the Save that follows), never half-typed
        self.note = w.Textarea(description="Your note (optional)", style={"description_width": "initial"},
                               layout=w.Layout(width="auto"), continuous_update=False)
        self.save = w.Button(description="Save rating", button_style="primary")
        self.save.on_click(lambda _b: self._run(self._save))
        self.prev = w.Button(description="Previous item")
        self.prev.on_click(lambda _b: self._run(lambda: self._go(self.index - 1)))
        self.next = w.Button(description="Next item")
        self.next.on_click(lambda _b: self._run(lambda: self._go(self.index + 1)))
        buttons = w.HBox([self.save, self.prev, self.next])
        buttons.add_class("eb-buttons")
        self.main = w.VBox([self.who, self.intro, self.progress, self.saved, self.item, self.rating, self.note,
                            buttons])
        self.root = w.VBox([w.HTML(style_css(16) + PANEL_CSS), self.assist, self.title, self.sign_in_panel,
                            self.main, self.message])
        self.root.add_class("eb-app")
        self.root.add_class("eb-panel")
        self.main.layout.display = "none"
        if session.hub_signed:  # the hub said who this is: nothing to type
            self.sign_in_panel.children = ()
            self.sign_in_panel.layout.display = "none"
            self._open(f"Signed in through JupyterHub as {session.name}.")

    def _run(self, fn) -> None:
        try:
            fn()
        except ExamBuilderError as exc:
            self.message.value = _say(str(exc), "refused")
            self.assist.announce(f"Not done: {exc}")

    def _sign_in(self, text: str) -> None:
        self.session.sign_in(text)
        self.sign_in_panel.layout.display = "none"
        self._open(f"Signed in as {self.session.name} (typed here, not checked by a sign-in service).")

    def _open(self, who: str) -> None:
        self.who.value = f"<p>{_e(who)}</p>"
        self.main.layout.display = ""
        self._go(0)

    def _go(self, index: int, saved: str = "") -> None:
        """Show item ``index``; ``saved``: Save's confirmation, shown above it with the focus on it."""
        self.message.value = ""
        card = self.session.card(index)
        self.index = card.index
        rnd, done, n = self.session.round_state()
        self.progress.value = (f"<p>Round {rnd}: you have rated {done} of {n} items.</p>" if rnd else
                               f"<p class='eb-note'>{_e(self.session.between_rounds())}</p>")
        self.saved.value = (f"<p class='eb-ok' data-eb='saved' tabindex='-1'>{_e(saved)}</p>" if saved else "")
        head = heading(f"Item {card.index + 1} of {card.of}: {_e(card.item_id)} ({_pts(card.points)})", "item")
        before = "".join(f"<p class='eb-note'>{_e(x)}</p>" for x in (card.panel_before, card.facility) if x)
        card_class = "eb-card eb-points" if card.rated else "eb-card"  # points, not percents: wider choices
        self.item.value = (f"<div class='{card_class}'>{head}{card.question}"
                           f"<p class='eb-key'><strong>Key:</strong> {_e(card.key)}</p>"
                           f"{card.rubric}<div><strong>Rationale:</strong> {card.rationale}</div>{before}</div>")
        self.rating.value = None
        self.rating.options = self.session.options(card)
        self.rating.legend = ("Points a minimally competent candidate would earn" if card.rated else
                              "Chance that a minimally competent candidate earns the point")
        current = None if card.value is None else (f"{card.value:g}")
        self.rating.value = current if current in [o[0] for o in self.rating.options] else None
        self.note.value = card.note
        for b in (self.save, self.rating, self.note):
            b.disabled = rnd is None
        self.prev.disabled = card.index == 0
        self.next.disabled = card.index == card.of - 1
        self.assist.move_focus(".eb-app [data-eb='saved']" if saved else focus_on("item"))

    def _save(self) -> None:
        text = self.session.rate(self.index, self.rating.value, self.note.value)
        nxt = self.session.next_unrated(self.index)
        if nxt is None:
            text += " Every item is rated: the facilitator closes the round."
        self._go(self.index if nxt is None else nxt, saved=text)
        self.assist.announce(text)

    def display(self):
        from IPython.display import display

        display(self.root)
        return self


def app_from_environment() -> PanelApp:
    """The app for the notebook ``exam-builder standard panel`` or the hub service serves: course and study from
    the environment (the hub service: the exam's newest study)."""
    from ..course import Course

    identity.standalone()
    course = Course(os.environ.get("EXAM_BUILDER_COURSE", "."))
    study = os.environ.get("EXAM_BUILDER_STUDY", "")
    if not study.isdigit():  # the hub service: the exam's newest study
        from ..standard.study import newest_study

        found = newest_study(course.db, course.exam_name(os.environ.get("EXAM_BUILDER_EXAM")))
        if found is None:
            raise ExamBuilderError("no standard-setting study of this exam yet: the coordinator creates one "
                                   "(exam-builder standard create)")
        study = str(found)
    return PanelApp(PanelSession(course, int(study)))
