"""The grader app: score open responses with rubrics, in JupyterLab or in Voila (staff server only).

``GraderSession`` is everything a grader does, without widgets: sign in, pick an item, take the
next response of the queue, choose a level per criterion (or type level numbers: "213" then
Enter), save, see one's own progress. ``GraderApp`` draws it with ipywidgets and calls the same
object, so scripted graders (tests, the demo) take exactly the app's code path.

What a grader sees: the question and, for a question that follows a scenario, the scenario
above it under a heading "Scenario" (both from the released, key-free notebook through
``delivery.form_view``, as the candidate read them), the response under an anonymous id, the
rubric's criteria, descriptors and anchor responses, their own choices. Never the candidate's id
or name, never another grader's score, with one exception: an adjudicator who gave one of the two
ratings (a coordinator or senior grader, ``grading.adjudication``) sees both. Candidate text is
shown escaped; the scenario, the question and the rubric's notes are markdown (rendered with the
candidate app's ``md``, which escapes raw HTML, in its ``eb-story`` look for the scenario).

Who rates: signed in through JupyterHub (``exam_builder.hub``), the grader is the hub user the
server put into the kernel (``records.identity``): no name box, and no way to rate as anyone
else. In the standalone token mode the grader types a name, recorded as self-declared.

The scoring screen puts the response and the rubric side by side (stacked on narrow screens),
keeps Save at the bottom of the screen, marks the chosen level in words as well as by look, and
says what is left: "3 of 18 left for you" counts the responses ``RatingQueue.claim`` would still
hand this grader (see ``RatingQueue._count``), and what waits for whom ("2 responses wait for
adjudication by a third grader: you rated them, so someone else must"). Nothing hides under the
Save bar: where the screen is tall enough (500 CSS px: a laptop, a phone) the bar sticks to the
bottom, and the page's ``scroll-padding-bottom`` is the bar's measured height (``SaveBarRoom``),
so a control that takes focus (every level's row, the comment box, the shortcut box) scrolls clear
of it however the bar wraps; at 200% zoom the bar follows the work instead of taking a third of
the screen. The bar's message wraps on a line of its own and is never cut. The desk names its
questions one way everywhere, by the item's code: "Written question ps-or-03" in the list, on an
appeal answer and in a saved message (never a position: forms order questions differently, so a
number would not be the one candidates saw).

Appeal re-ratings (``grading.appeals``): a grader the coordinator sent a score appeal's written
answers to (``exam-builder appeal assign``, the coordinator's desk) sees "Appeal re-ratings waiting
for you: N" above the questions and rates each answer on a screen like the scoring screen: the
scenario and the question as the candidate read them, the answer, the rubric (an answer left
blank is not sent: it stays at 0, see ``appeals``). Never the earlier ratings or scores, the
candidate's name or the appeal's words; a grader who is not the appeal's rater never sees it.
Saving goes through ``appeals.rerate``, the path of ``exam-builder appeal rerate`` (audited as the
grader); the coordinator then decides the appeal.
"""
from __future__ import annotations

import base64
import html
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anywidget

from ..errors import ExamBuilderError
from ..kinds.base import points_phrase
from ..model.rubric import Criterion, Rubric
from ..model.states import RatingRole
from ..records import identity
from ..records.queries import ratings as ratings_q
from ..ui.page import focus_on, heading, md, style_css
from ..ui.widgets import Assist, ChoiceGroup, TextForm
from . import adjudication as adj, appeals
from .adjudication import AdjudicationRule
from .appeals import ToRerate
from .queue import Claim, Progress, RatingQueue, load_rubric_for, open_items
from .resolution import Decision

if TYPE_CHECKING:
    from ..delivery.form_view import ScenarioView


@dataclass(frozen=True)
class ItemChoice:
    item_id: str
    label: str  # what the picker shows


class GraderSession:
    """One grader's session on one exam; the widgets and scripted graders call these methods."""

    def __init__(self, course, exam: str):
        self.course = course
        self.exam = exam
        self.signin = identity.StaffSignIn("scores", "every score records who gave it", self._known_names)
        self.queue: RatingQueue | None = None
        self._queues: dict[str, RatingQueue] = {}  # item -> its queue (``_queue``)
        self.current: Claim | None = None
        self.levels: dict[str, float] = {}
        self.skipped: set[str] = set()  # anonymous ids given back in this session
        self.last: Decision | None = None
        self._views: dict[str, tuple[str, ScenarioView | None]] = {}
        self._labels: dict[str, str] | None = None  # item id -> "Written question ps-or-03"
        self.appeal: ToRerate | None = None  # the appeal answer open for re-rating
        self.appeal_rubric: Rubric | None = None
        self.appeal_levels: dict[str, float] = {}
        self.appeal_total = 0  # how many answers waited when the re-rating began (for "2 of 3")

    # -- sign in and pick -------------------------------------------------------------
    def _known_names(self) -> list[str]:
        """The names this exam's grading already knows, one spelling each: the settings' adjudicators, then every
        name ratings were given under (a grader typing "hank grader" after "Hank Grader" is the same rater)."""
        settings = self.course.grading_settings
        with self.course.db.read() as s:
            raters = ratings_q.select_rater_names(s, self.exam)
        return [*settings.coordinators, *settings.senior_graders, *raters]

    @property
    def rater(self) -> str | None:
        """Who rates: the hub user, else the name typed (None before a sign-in)."""
        return self.signin.name

    @rater.setter
    def rater(self, typed: str | None) -> None:  # what a page may send: never replaces the hub user
        self.signin.typed = typed

    @property
    def hub_signed(self) -> bool:
        """Signed in through JupyterHub: the name is the server's, never typed."""
        return self.signin.hub_signed

    def sign_in(self, name: str) -> None:
        self.signin.sign_in(name)

    def _need_rater(self) -> str:
        return self.signin.require()

    def items(self) -> list[ItemChoice]:
        """The exam's written questions as the desk names them everywhere: "Written question ps-or-03", by
        the item's code (a position would mislead: each form orders its questions its own way)."""
        if self._labels is None:
            self._labels = {item_id: f"Written question {item_id}"
                            for item_id, _rubric in open_items(self.course, self.exam)}
        return [ItemChoice(item_id, label) for item_id, label in self._labels.items()]

    def waiting_for_me(self) -> list[tuple[ItemChoice, int, int]]:
        """Per written question, what waits for this grader: (question, to score, to adjudicate).

        Counted by the same rule the queue hands responses out by (``RatingQueue.progress``): "to
        adjudicate" are the adjudications this grader may take now (or holds), "to score" the other
        responses they can still be given; responses given back in this session count in neither.
        """
        rater = self._need_rater()
        out = []
        for choice in self.items():
            p = self._queue(choice.item_id).progress(rater, skip=self.skipped)
            adjudicate = dict(p.adjudication).get(adj.YOURS, 0)
            out.append((choice, max(p.open_for_me - adjudicate, 0), adjudicate))
        return out

    def label(self, item_id: str) -> str:
        """How the desk names ``item_id`` in a sentence: "written question ps-or-03", as the picker does."""
        found = next((c.label for c in self.items() if c.item_id == item_id), f"Written question {item_id}")
        return found[0].lower() + found[1:]

    def _queue(self, item_id: str) -> RatingQueue:
        """The question's queue, one per question for this session: what it read is kept (and checked
        for changes) between the picker's counts and the scoring, not read again for each."""
        if item_id not in self._queues:
            self._queues[item_id] = RatingQueue(self.course, self.exam, item_id)
        return self._queues[item_id]

    def pick(self, item_id: str) -> Claim | None:
        """Work on ``item_id``: the queue opens at this grader's next response."""
        self._need_rater()
        self.queue = self._queue(item_id)
        return self.next()

    @property
    def rubric(self) -> Rubric:
        if self.queue is None:
            raise ExamBuilderError("pick a question first")
        return self.queue.rubric

    def question(self) -> str:
        """The question as candidates saw it (read from the released notebook: no key)."""
        return self._view()[0]

    def scenario(self) -> ScenarioView | None:
        """The scenario the question belongs to, as candidates read it beside the question (the
        released notebook's vignette cell); None for a question without one."""
        return self._view()[1]

    def _view(self) -> tuple[str, ScenarioView | None]:
        """The picked item's stem and scenario from the first released form that holds it."""
        if self.queue is None:
            return "", None
        item = self.queue.item_id
        if item not in self._views:
            from ..assembly.forms import load_forms
            from ..assembly.release import released_notebook
            from ..delivery.form_view import load_form_view

            found: tuple[str, ScenarioView | None] = ("", None)
            with self.course.db.read() as s:
                forms = load_forms(s, self.exam)
            for _form, m in forms:
                if any(e.item_id == item for e in m.items):
                    try:
                        view = load_form_view(released_notebook(self.course, m.assignment), self.course.root)
                        it = view.item(item)
                    except (ExamBuilderError, KeyError):
                        continue
                    found = (it.stem, view.scenarios.get(it.scenario) if it.scenario else None)
                    break
            self._views[item] = found
        return self._views[item]

    # -- the queue --------------------------------------------------------------------
    def next(self) -> Claim | None:
        """Take the next response (an unfinished one first); None when nothing is left for you."""
        rater = self._need_rater()
        if self.queue is None:
            raise ExamBuilderError("pick a question first")
        self.current = self.queue.claim(rater, skip=self.skipped)
        self.levels = dict(self.current.levels) if self.current else {}
        return self.current

    def choose(self, criterion_id: str, points: float) -> None:
        if self.current is None:
            raise ExamBuilderError("no response is open")
        choose_level(self.rubric, self.levels, criterion_id, points)

    def keys(self, typed: str, comment: str = "") -> bool:
        """Keyboard shortcuts: digit k picks the k-th level (lowest first) of each criterion in
        order; Enter (a newline) saves, with ``comment``. Returns True when it saved."""
        if self.current is None:
            return False
        if typed_levels(self.rubric, self.levels, typed):
            self.save(comment)
            return True
        return False

    def save(self, comment: str = "") -> Decision:
        """Save the open response's rating at once, then move to the next response."""
        rater = self._need_rater()
        if self.current is None or self.queue is None:
            raise ExamBuilderError("no response is open")
        self.last, self.current = self.queue.save_and_next(rater, self.current.rating_id, self.levels, comment,
                                                           skip=self.skipped)
        self.levels = dict(self.current.levels) if self.current else {}
        return self.last

    def give_back(self) -> Claim | None:
        """Return the open response to the queue (e.g. you recognise the writer) and move on."""
        if self.current is not None and self.queue is not None:
            self.queue.release(self._need_rater(), self.current.rating_id)
            self.skipped.add(self.current.anon_id)  # not offered to this grader again this session
        self.current = None
        return self.next()

    def progress(self) -> Progress | None:
        """This grader's progress on the picked question (responses given back do not count as left)."""
        if self.queue is None or not self.rater:
            return None
        return self.queue.progress(self.rater, skip=self.skipped)

    def score_so_far(self) -> float | None:
        try:
            return self.rubric.score(self.levels)
        except (ValueError, KeyError):
            return None


    # -- appeal re-ratings (grading.appeals) ---------------------------------------------
    def appeal_answers(self) -> list[ToRerate]:
        """The score appeals' written answers waiting for this grader's re-rating: none unless the
        coordinator sent an appeal to them (and none before a sign-in)."""
        return appeals.waiting_for(self.course, self.exam, self.rater)

    def open_appeal(self, restart: bool = False) -> ToRerate | None:
        """Open the first appeal answer waiting for you (None when none waits): blind, as
        ``appeals.to_rerate`` gives it. ``restart``: count "1 of N" from here."""
        self._need_rater()
        waiting = self.appeal_answers()
        if restart or self.appeal_total < len(waiting):
            self.appeal_total = len(waiting)
        self.appeal = waiting[0] if waiting else None
        self.appeal_levels = {}
        self.appeal_rubric = load_rubric_for(self.course, self.appeal.rubric_id) if self.appeal else None
        return self.appeal

    def appeal_position(self) -> tuple[int, int]:
        """(this answer's place, how many waited when the re-rating began): "answer 2 of 3"."""
        left = len(self.appeal_answers())
        return self.appeal_total - left + 1, self.appeal_total

    def choose_appeal(self, criterion_id: str, points: float) -> None:
        if self.appeal is None or self.appeal_rubric is None:
            raise ExamBuilderError("no appeal answer is open")
        choose_level(self.appeal_rubric, self.appeal_levels, criterion_id, points)

    def appeal_keys(self, typed: str, comment: str = "") -> bool:
        """The shortcut keys on an appeal answer, as ``keys``; Enter saves, with ``comment``. True when it saved."""
        if self.appeal is None or self.appeal_rubric is None:
            return False
        if typed_levels(self.appeal_rubric, self.appeal_levels, typed):
            self.save_appeal(comment)
            return True
        return False

    def save_appeal(self, comment: str = "") -> float:
        """Record the re-rating of the open appeal answer (``appeals.rerate``, the CLI's path: audited
        as this grader), then open the next one; the answer's score."""
        rater = self._need_rater()
        if self.appeal is None or self.appeal_rubric is None:
            raise ExamBuilderError("no appeal answer is open")
        score = appeals.rerate(self.course, self.appeal.appeal_id, rater, self.appeal.item_id, self.appeal_levels,
                               comment)
        self.open_appeal()
        return score

    def appeal_score_so_far(self) -> float | None:
        if self.appeal_rubric is None:
            return None
        try:
            return self.appeal_rubric.score(self.appeal_levels)
        except (ValueError, KeyError):
            return None


def choose_level(rubric: Rubric, levels: dict[str, float], criterion_id: str, points: float) -> None:
    """Set one criterion's level in ``levels``; an unknown criterion or level is refused."""
    criterion = next((c for c in rubric.criteria if c.id == criterion_id), None)
    if criterion is None:
        raise ExamBuilderError(f"no criterion {criterion_id!r} in rubric {rubric.id}")
    criterion.level(float(points))  # KeyError for a level that does not exist
    levels[criterion_id] = float(points)


def typed_levels(rubric: Rubric, levels: dict[str, float], typed: str) -> bool:
    """The shortcut keys into ``levels``: digit k is the k-th level (lowest first) of each criterion
    in order; True when the text holds Enter (a newline): the caller saves."""
    digits = [ch for ch in typed if ch.isdigit()]
    for criterion, ch in zip(rubric.criteria, digits, strict=False):
        k = int(ch)
        if 1 <= k <= len(criterion.levels):
            levels[criterion.id] = criterion.levels[k - 1].points
    return "\n" in typed or "\r" in typed


# -- widgets ----------------------------------------------------------------------------
ROLE_NAMES = {RatingRole.first: "first rating",
              RatingRole.second: "second rating (independent: you do not see the first)",
              RatingRole.adjudication: "adjudication (the two ratings differ; yours decides)"}
#: An adjudication by one of the two raters (a coordinator or the senior grader): both ratings are shown.
ROLE_SHOWN = "adjudication (the two ratings differ: yours and the other are shown; yours decides)"

#: The grader's desk on top of the candidate app's look (text size, contrast, labels above boxes):
#: the response and the rubric side by side, stacked below 900 CSS px (a phone, 200% zoom); the
#: bar with Save stays at the bottom of a screen at least 500 CSS px high (the output area around
#: the app must not clip, or ``sticky`` has nothing to stick to), the room under focused controls
#: its measured height (``SaveBarRoom``); the chosen level is bold, framed and says so.
GRADER_CSS = """<style>
.jp-OutputArea:has(.eb-grader), .jp-OutputArea-child:has(.eb-grader), .jp-OutputArea-output:has(.eb-grader) {
  overflow: visible !important; }
html, body, .lm-BoxPanel-child:has(.eb-grader) { scroll-padding-bottom: var(--eb-savebar-room, 10em); }
.eb-grader input, .eb-grader textarea, .eb-grader button, .eb-grader summary, .eb-grader .eb-choice {
  scroll-margin: 0.75em 0; }
.lm-BoxPanel-child:has(.eb-grader) { padding-bottom: 0 !important; }
.eb-app.eb-grader { max-width: 96em; }
.eb-grader h2 { font-size: 1.25em; margin: 0.4em 0; }
.eb-grader h3 { font-size: 1.1em; margin: 0.8em 0 0.3em; }
.eb-grader h4 { font-size: 1em; margin: 0 0 0.2em; }
.eb-grader p { margin: 0.3em 0; }
.eb-grader .widget-box.eb-columns { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
  gap: 0 2em; align-items: start; width: 100%; }
@media (max-width: 900px) { .eb-grader .widget-box.eb-columns { grid-template-columns: minmax(0, 1fr); } }
.eb-grader .eb-col { min-width: 0; width: auto; }
.eb-grader .eb-question { border-left: 4px solid #0b4f8a; padding-left: 0.8em; }
.eb-grader .eb-response { white-space: pre-wrap; overflow-wrap: anywhere; border: 2px solid #6b6b6b;
  border-radius: 4px; padding: 0.6em; background: #fff; }
.eb-grader .eb-criterion { border: 1px solid #6b6b6b; border-radius: 4px; padding: 0.4em 0.8em; margin: 0.4em 0; }
.eb-grader fieldset.eb-choices { margin: 0.2em 0; }
.eb-grader fieldset.eb-choices .eb-choice { margin: 0.15em 0; padding: 0.3em 0.5em; }
.eb-grader fieldset.eb-choices .eb-choice.eb-chosen { font-weight: bold; border-color: #111; border-width: 3px; }
.eb-grader fieldset.eb-choices .eb-choice.eb-chosen span::after { content: " ✓ chosen"; }
.eb-grader .eb-chosen { font-weight: bold; }
.eb-grader details.eb-anchors { margin: 0.3em 0; }
.eb-grader details.eb-anchors summary { cursor: pointer; color: #0b4f8a; text-decoration: underline; padding: 0.2em 0; }
.eb-grader details.eb-anchors blockquote { margin: 0.2em 0 0.6em 0; border-left: 4px solid #6b6b6b;
  padding-left: 0.6em; white-space: pre-wrap; overflow-wrap: anywhere; }
.eb-grader .widget-box.eb-savebar { z-index: 5; background: #fff; border-top: 2px solid #6b6b6b; padding: 0.3em 0;
  flex-flow: column nowrap; align-items: stretch; gap: 0; }
@media (min-height: 500px) { .eb-grader .widget-box.eb-savebar { position: sticky; bottom: 0; } }
.eb-grader .eb-savebar > .eb-bar-message { width: 100%; min-width: 0; height: auto; }
.eb-grader .eb-savebar > .eb-bar-message .widget-html-content { white-space: normal; overflow-wrap: anywhere;
  height: auto; }
.eb-grader .eb-savebar > .eb-bar-message p, .eb-grader .eb-savebar > .eb-bar-message div { margin: 0.1em 0; }
.eb-grader .eb-savebar .eb-error { padding: 0.2em 0.5em; }
.eb-grader .eb-savebar .widget-html-content:empty { display: none; }
.eb-grader .eb-no-anchors { font-style: italic; }
.eb-grader .eb-work { padding-bottom: 1em; }
.eb-grader .widget-box.eb-savebar.eb-idle { border-top: 0; }
.eb-grader .eb-shown { border: 1px solid #6b6b6b; border-radius: 4px; padding: 0.4em 0.8em; margin: 0.4em 0; }
.eb-grader .eb-shown ul { margin: 0.2em 0; padding-left: 1.4em; }
.eb-grader .eb-actions { flex-flow: row wrap; align-items: center; gap: 0.2em 1em; }
.eb-grader .eb-top { flex-flow: row wrap; align-items: center; justify-content: space-between; gap: 0.2em 1em; }
.eb-grader .widget-dropdown { flex-direction: column; align-items: stretch; width: 100%; max-width: 40em;
  height: auto; }
.eb-grader .widget-dropdown .widget-label { width: auto; max-width: none; text-align: left; white-space: normal;
  height: auto; line-height: 1.5; font-weight: bold; margin-bottom: 0.2em; }
.eb-grader .widget-dropdown select { width: 100%; height: auto; min-height: 2.2em; border: 2px solid #6b6b6b;
  flex: none; }
.eb-grader .eb-name { max-width: 30em; }
.eb-grader .jupyter-button { width: auto; flex: none; }
.eb-grader .eb-keys textarea { font-variant-numeric: tabular-nums; }
.eb-grader .eb-appeal-note { border-left: 4px solid #0b4f8a; padding-left: 0.8em; }
</style>"""


#: Measures the Save bar while it sticks to the bottom of the screen and keeps the page's
#: ``--eb-savebar-room`` at its height (0 where it does not stick): the ``scroll-padding-bottom`` that
#: scrolls a focused control clear of the bar is then exactly the bar, however it wraps (a phone, a
#: long message, an error) - never a guess in em that a taller bar outgrows (WCAG 2.4.11). A level
#: taking focus brings its whole row in (its ring is drawn on the row), not only its small radio.
SAVEBAR_JS = """
function render({ el }) {
  const root = document.documentElement;
  let bar = null;
  const measure = () => {
    // the bar shown now, found again each time: a screen change may draw a new one, and the scoring and the
    // appeal panels each have one (a kept reference, or the first in the page, may be the hidden one)
    const bars = (el.closest(".eb-grader") || document).querySelectorAll(".eb-savebar");
    const now = [...bars].find((b) => b.getClientRects().length) || null;
    if (now !== bar) {
      if (bar) sizes.unobserve(bar);
      bar = now;
      if (bar) sizes.observe(bar, { box: "border-box" });  // its rule (a border) counts in its height
    }
    const sticks = bar && bar.getClientRects().length && getComputedStyle(bar).position === "sticky";
    const room = sticks ? `${Math.ceil(bar.getBoundingClientRect().height)}px` : "0px";
    if (root.style.getPropertyValue("--eb-savebar-room") !== room) root.style.setProperty("--eb-savebar-room", room);
  };
  const sizes = new ResizeObserver(measure);
  new MutationObserver(measure).observe(document.body, { childList: true, subtree: true });  // screens drawn
  window.addEventListener("resize", measure);
  measure();
  if (!window.ebLevelRows) {  // a level's focus ring is drawn on its whole row: bring the row in, not only the radio
    window.ebLevelRows = true;
    document.addEventListener("focusin", (ev) => {
      const row = ev.target.closest && ev.target.closest(".eb-grader .eb-choice");
      if (row) setTimeout(() => row.scrollIntoView({ block: "nearest" }), 0);  // after the browser's own scroll
    });
  }
}
export default { render };
"""


class SaveBarRoom(anywidget.AnyWidget):
    """Keeps the page's room under focused controls equal to the sticky Save bar (``SAVEBAR_JS``)."""

    _esm = SAVEBAR_JS


def _escaped_block(text: str, cls: str) -> str:
    """Candidate text, escaped (never rendered: a response is data, not markup)."""
    return f"<div class='{cls}'>{html.escape(text)}</div>"


def _level_number(criterion: Criterion, points: float | None) -> int | None:
    """The chosen level's number (1 = lowest), or None."""
    return next((k for k, lv in enumerate(criterion.levels, start=1) if lv.points == points), None)


def chosen_html(criterion: Criterion, points: float | None) -> str:
    """What is chosen for a criterion, in words (not by look only)."""
    k = _level_number(criterion, points)
    if k is None:
        return "<p>Not chosen yet.</p>"
    lv = criterion.levels[k - 1]
    name = f" {html.escape(lv.label)}" if lv.label else ""
    return f"<p class='eb-chosen'>✔ Chosen: level {k}{name} ({points_phrase(lv.points)})</p>"


#: Said on the appeal re-rating screen, above the answer.
APPEAL_NOTE = ("A candidate appealed their score. Rate this answer afresh with the rubric, as you would any "
               "response: the earlier ratings, the scores, the candidate's name and the appeal are not shown to "
               "you, so your rating is independent. The coordinator decides the appeal once every answer is "
               "re-rated.")


def level_text(k: int, level) -> str:
    """How a level reads in the rubric: its number (the shortcut key), name, points and descriptor."""
    name = f" {level.label}" if level.label else ""
    return f"{k}{name} ({points_phrase(level.points)}): {level.descriptor}"


def progress_text(p: Progress, rule: AdjudicationRule | None = None) -> str:
    """What a grader can trust: what is left for them, and what waits for others and for whom
    (with the course's ``rule``, a sentence per reason an adjudication waits)."""
    # a second rating this grader may give is counted once, as theirs: "1 of 1 left for you; 1 waiting for a second
    # rating" read as two responses when it was the one they held
    mine_second = f" ({p.second_for_me} of them a second rating)" if p.second_for_me else ""
    parts = [f"you rated {p.mine}", f"{p.open_for_me} of {p.responses} left for you{mine_second}"]
    parts.append(f"{p.waiting_second - p.second_for_me} waiting for a second rating by another grader")
    if p.waiting_adjudication and (rule is None or not p.adjudication):
        parts.append(f"{p.waiting_adjudication} waiting for adjudication")
    if p.set_aside:  # unreadable submissions: the coordinator has the file's name, graders need not
        parts.append(f"{p.set_aside} set aside until the coordinator replaces an unreadable file")
    text = "Your progress on this question: " + "; ".join(parts) + "."
    if rule is not None:
        text += "".join(f" {rule.desk_sentence(why, n)}." for why, n in p.adjudication)
    return text


def waiting_html(rows: list[tuple[ItemChoice, int, int]]) -> str:
    """The picker's list of what waits for this grader on each question, in words."""
    def said(to_score: int, to_adjudicate: int) -> str:
        parts = [f"{to_score} to score"] if to_score else []
        if to_adjudicate:
            parts.append(f"{to_adjudicate} to adjudicate")
        return ", ".join(parts) or "nothing for you now"

    items = "".join(f"<li>{html.escape(c.label)}: {said(n, a)}</li>" for c, n, a in rows)
    return f"<h3 id='eb-waiting'>Waiting for you</h3><ul aria-labelledby='eb-waiting'>{items}</ul>" if rows else ""


def scenario_html(scenario: ScenarioView) -> str:
    """The scenario as the candidate app shows it beside its questions (the released vignette
    cell through the same ``md`` and the page's ``eb-story`` look), under a heading of its own."""
    return (f"<section class='eb-story eb-scenario' aria-label='Scenario'><h3>Scenario</h3>"
            f"{md(scenario.text)}</section>")


def shown_html(rubric: Rubric, shown) -> str:
    """The two ratings an adjudicator who gave one of them sees (escaped; never who gave the other)."""
    if not shown:
        return ""
    blocks = []
    for r in shown:
        rows = []
        for c in rubric.criteria:
            k = _level_number(c, r.levels.get(c.id))
            if k is None:
                rows.append(f"<li>{html.escape(c.name)}: not chosen</li>")
            else:
                lv = c.levels[k - 1]
                name = f" {html.escape(lv.label)}" if lv.label else ""
                rows.append(f"<li>{html.escape(c.name)}: level {k}{name} ({points_phrase(lv.points)})</li>")
        comment = f"<p>Comment: {html.escape(r.comment)}</p>" if r.comment else ""
        blocks.append(f"<div class='eb-shown'><h4>{html.escape(r.label)} ({html.escape(str(r.role))} rating): "
                      f"{r.score:g} of {rubric.max_points:g} points</h4><ul>{''.join(rows)}</ul>{comment}</div>")
    return "<h3>The two ratings</h3>" + "".join(blocks)


class GraderApp:
    """The ipywidgets front of ``GraderSession``: sign in -> choose a question -> score responses.

    Scoring screen: the question and the response on the left, the rubric (levels, anchors,
    comment, shortcut keys) on the right, stacked on narrow screens; Save stays in view.
    """

    def __init__(self, session: GraderSession):
        import ipywidgets as w

        self.w = w
        self.session = session
        self.style = w.HTML(style_css(16) + GRADER_CSS)
        self.title = w.HTML("<h1>Grader's desk</h1>")
        self.assist = Assist()
        self.message = w.HTML()

        # Enter or Sign in sends the name inside the submit message itself: an ipywidgets Text's
        # value may still be on its way when Enter arrives (fast typing signed "Ben" in as "Be")
        self.name = TextForm(label="Your name", button="Sign in")
        self.name.add_class("eb-name")
        self.name.on_submit(lambda text: self._run(lambda: self._sign_in(text)))
        self.sign_in_panel = w.VBox([
            w.HTML(f"{heading('Sign in', 'sign-in')}<p>Type your name: every score records who gave it.</p>"),
            self.name])

        self.item = w.Dropdown(description="Written question", options=[])
        self.start = w.Button(description="Start scoring", button_style="primary")
        self.start.on_click(lambda _b: self._run(self._pick))
        self.waiting = w.HTML()  # per question, what waits for this grader (to score, to adjudicate)
        self.pick_panel = w.VBox([
            w.HTML(f"{heading('Choose a question', 'pick')}<p>You score one written question at a time, "
                   "one response after another.</p>"), self.item, self.start, self.waiting])

        # appeal re-ratings: shown only to the grader a score appeal was sent to
        self.appeal_count = w.HTML()
        self.appeal_start = w.Button(description="Re-rate the appeal answers", button_style="primary")
        self.appeal_start.on_click(lambda _b: self._run(self._open_appeal))
        self.appeal_notice = w.VBox([self.appeal_count, self.appeal_start])
        self.appeal_header = w.HTML()
        self.appeal_back = w.Button(description="Back to the questions")
        self.appeal_back.on_click(lambda _b: self._run(self._to_pick))
        self.appeal_question = w.HTML()
        self.appeal_answer = w.HTML()
        self.appeal_rubric_head = w.HTML()
        self.appeal_criteria = w.VBox()
        self.appeal_comment = w.Textarea(description="Comment for the record (optional)", rows=2,
                                         continuous_update=False)  # as the scoring screen's comment (below)
        self.appeal_keybox = w.Textarea(description="Shortcut keys: one level number per criterion (1 = lowest), "
                                                    "then Enter to save", continuous_update=True, rows=1)
        self.appeal_keybox.add_class("eb-keys")
        self.appeal_keybox.observe(self._on_appeal_keys, "value")
        self.appeal_pickers: dict[str, ChoiceGroup] = {}
        self.appeal_chosen: dict[str, w.HTML] = {}
        a_left = w.VBox([self.appeal_question, self.appeal_answer])
        a_right = w.VBox([self.appeal_rubric_head, self.appeal_criteria, self.appeal_comment, self.appeal_keybox])
        for col in (a_left, a_right):
            col.add_class("eb-col")
        a_columns = w.Box([a_left, a_right])
        a_columns.add_class("eb-columns")
        a_top = w.HBox([self.appeal_header, self.appeal_back])
        a_top.add_class("eb-top")
        # on the page only while an appeal answer is open: its boxes' labels are the scoring screen's own
        self._appeal_parts = (a_top, w.HTML(f"<p class='eb-appeal-note'>{APPEAL_NOTE}</p>"), a_columns)
        self.appeal_panel = w.VBox([])
        self.appeal_panel.add_class("eb-work")
        self.appeal_save = w.Button(description="Save the re-rating", button_style="primary")
        self.appeal_save.on_click(lambda _b: self._run(self._save_appeal))
        self.appeal_score = w.HTML()
        self.appeal_actions = w.HBox([self.appeal_save, self.appeal_score])
        self.appeal_actions.add_class("eb-actions")

        self.header = w.HTML()
        self.other_question = w.Button(description="Choose another question")
        self.other_question.on_click(lambda _b: self._run(self._to_pick))
        self.progress_text = w.HTML()
        self.question = w.HTML()
        self.response = w.HTML()
        self.rubric_head = w.HTML()
        self.shown = w.HTML()
        self.criteria_box = w.VBox()
        # the comment is sent when the box loses focus (to Save, the shortcut box): one message, which leaves
        # the page before Save's click. Sent at every keystroke, ipywidgets holds all but the first back while
        # one is on its way (its one-message-in-flight throttle) and Save's click went ahead of them: a comment
        # typed fast was saved as its first letter ("re-rated answer 3" as "r").
        self.comment = w.Textarea(description="Comment for the record (optional)", rows=2, continuous_update=False)
        self.keybox = w.Textarea(description="Shortcut keys: one level number per criterion (1 = lowest), "
                                             "then Enter to save", continuous_update=True, rows=1)
        self.keybox.add_class("eb-keys")
        self.keybox.observe(self._on_keys, "value")
        self.pickers: dict[str, ChoiceGroup] = {}
        self.chosen: dict[str, w.HTML] = {}
        left = w.VBox([self.question, self.response])
        right = w.VBox([self.shown, self.rubric_head, self.criteria_box, self.comment, self.keybox])
        for col in (left, right):
            col.add_class("eb-col")
        self.columns = w.Box([left, right])
        self.columns.add_class("eb-columns")
        top = w.HBox([self.header, self.other_question])
        top.add_class("eb-top")
        self.work_panel = w.VBox([top, self.progress_text, self.columns])
        self.work_panel.add_class("eb-work")  # room below the last box: focus scrolls it clear of the Save bar

        self.save_button = w.Button(description="Save and next", button_style="primary")
        self.save_button.on_click(lambda _b: self._run(self._save))
        self.give_back_button = w.Button(description="Give back", tooltip="Return this response to the queue "
                                                                          "(for example, you know who wrote it)")
        self.give_back_button.on_click(lambda _b: self._run(self._give_back))
        self.score_text = w.HTML()
        self.actions = w.HBox([self.save_button, self.give_back_button, self.score_text])
        self.actions.add_class("eb-actions")
        self.message.add_class("eb-bar-message")  # beside the buttons where it fits: a save does not grow the bar
        self.bar = w.VBox([self.actions, self.appeal_actions, self.message])
        self.bar.add_class("eb-savebar")
        self.bar.add_class("eb-idle")  # no buttons yet (see _mark_bar)

        self.pick_panel.layout.display = "none"
        self.work_panel.layout.display = "none"
        self.actions.layout.display = "none"
        for part in (self.appeal_notice, self.appeal_panel, self.appeal_actions):
            part.layout.display = "none"
        self.bar_room = SaveBarRoom()
        self.root = w.VBox([self.style, self.assist, self.bar_room, self.title, self.sign_in_panel,
                            self.appeal_notice, self.pick_panel, self.work_panel, self.appeal_panel, self.bar])
        self.root.add_class("eb-app")
        self.root.add_class("eb-grader")
        if session.hub_signed:  # the hub said who this is: straight to the questions
            self.sign_in_panel.children = ()
            self._to_pick()
            self.message.value = f"Signed in through JupyterHub as {html.escape(session.rater or '')}."

    # -- actions ----------------------------------------------------------------------
    def _run(self, fn) -> None:
        try:
            self.message.value = ""
            fn()
        except ExamBuilderError as exc:
            self._error(exc)

    def _error(self, exc: ExamBuilderError) -> None:
        self.message.value = f"<div class='eb-error'>{html.escape(str(exc))}</div>"
        self.assist.announce(str(exc))  # said at once, wherever focus is

    def _sign_in(self, name: str) -> None:
        if self.sign_in_panel.layout.display == "none":  # signed in already: a second submit does nothing
            return
        self.session.sign_in(name)
        self._to_pick()
        self.message.value = f"Signed in as {html.escape(self.session.rater or '')}."

    def _to_pick(self) -> None:
        choices = [(c.label, c.item_id) for c in self.session.items()]
        self.item.options = choices
        if choices and self.item.value is None:
            self.item.value = choices[0][1]
        self.sign_in_panel.layout.display = "none"
        self.work_panel.layout.display = "none"
        self.actions.layout.display = "none"
        self.appeal_panel.layout.display = "none"
        self.appeal_panel.children = ()
        self.appeal_actions.layout.display = "none"
        self.pick_panel.layout.display = ""
        self.waiting.value = waiting_html(self.session.waiting_for_me())
        waiting = len(self.session.appeal_answers())
        self.appeal_notice.layout.display = "" if waiting else "none"  # nothing at all for anyone else
        self.appeal_count.value = heading(f"Appeal re-ratings waiting for you: {waiting}", "appeals") + (
            "<p>The coordinator sent you written answers from a score appeal: rate each one afresh with its "
            "rubric. You are not shown the earlier ratings, the scores or who wrote it.</p>")
        self.assist.move_focus(focus_on("appeals" if waiting else "pick"))
        self._mark_bar()

    def _mark_bar(self) -> None:
        """The bar's rule only above its buttons: on a screen without them (sign-in, the questions, nothing
        left) the line under the last row read as a stray rule."""
        working = self.actions.layout.display != "none" or self.appeal_actions.layout.display != "none"
        (self.bar.remove_class if working else self.bar.add_class)("eb-idle")

    def _pick(self) -> None:
        if not self.item.value:
            raise ExamBuilderError("choose a question")
        self.session.pick(self.item.value)
        self._build_rubric()
        self.pick_panel.layout.display = "none"
        self.work_panel.layout.display = ""
        self._show()
        self.assist.move_focus(focus_on("work"))

    def _save(self) -> None:
        anon = self.session.current.anon_id if self.session.current else ""
        decision = self.session.save(self.comment.value)
        self._saved(anon, decision)
        self.assist.move_focus(focus_on("work"))  # a click: start the next response at its top

    def _saved(self, anon: str, decision: Decision | None) -> None:
        """After a save: the next response (after keys, focus stays in the shortcut box for the next ones)."""
        self._show()
        self.message.value = f"Saved. Your rating of response {html.escape(anon)} is recorded."
        current = self.session.current
        self.assist.announce(f"Saved. Next: response {current.anon_id}." if current else
                             "Saved. Nothing left for you on this question.")
        if current is None:
            self.assist.move_focus(focus_on("work"))

    def _open_appeal(self) -> None:
        if self.session.open_appeal(restart=True) is None:
            self._to_pick()
            raise ExamBuilderError("no appeal answer waits for you any more")
        self.appeal_notice.layout.display = "none"
        self.pick_panel.layout.display = "none"
        self.appeal_panel.children = self._appeal_parts
        self.appeal_panel.layout.display = ""
        self.appeal_actions.layout.display = ""
        self._show_appeal()
        self._mark_bar()
        self.assist.move_focus(focus_on("appeal"))

    def _save_appeal(self) -> None:
        item = self.session.appeal.item_id if self.session.appeal else ""
        self.session.save_appeal(self.appeal_comment.value)
        self._appeal_saved(item)
        if self.session.appeal is not None:
            self.assist.move_focus(focus_on("appeal"))  # a click: start the next answer at its top

    def _appeal_saved(self, item: str) -> None:
        """After a save: the next answer (after keys, focus stays in the shortcut box, as on a response),
        or, when none is left, the questions."""
        text = f"Saved. Your re-rating of {html.escape(self.session.label(item))} is recorded."
        if self.session.appeal is None:
            self._to_pick()
            self.message.value = (f"{text} Every appeal answer sent to you is re-rated: the coordinator decides "
                                  "the appeal.")
            self.assist.announce(f"{text} No appeal answer is left for you.")
            return
        self.message.value = text
        self.assist.announce(f"{text} Next: {self.session.label(self.session.appeal.item_id)}.")
        self._show_appeal()

    def _on_appeal_keys(self, change) -> None:
        typed = change["new"]
        if not typed:
            return
        item = self.session.appeal.item_id if self.session.appeal else ""
        try:
            saved = self.session.appeal_keys(typed, self.appeal_comment.value)
        except ExamBuilderError as exc:
            self._error(exc)
            saved = False
            self.appeal_keybox.value = typed.replace("\n", "").replace("\r", "")
        if saved:
            self.appeal_keybox.value = ""
            self._appeal_saved(item)
        else:
            self._sync_appeal_pickers()

    def _give_back(self) -> None:
        self.session.give_back()
        self._show()
        self.message.value = "Given back: another grader will score that response."
        self.assist.move_focus(focus_on("work"))

    def _on_keys(self, change) -> None:
        typed = change["new"]
        if not typed:
            return
        anon = self.session.current.anon_id if self.session.current else ""
        try:
            saved = self.session.keys(typed, self.comment.value)
        except ExamBuilderError as exc:
            self._error(exc)
            saved = False
            self.keybox.value = typed.replace("\n", "").replace("\r", "")
        if saved:
            self.keybox.value = ""
            self._saved(anon, self.session.last)
        else:
            self._sync_pickers()

    # -- drawing ----------------------------------------------------------------------
    def _criteria(self, rubric: Rubric, on_choose) -> tuple[list, dict[str, ChoiceGroup], dict]:
        """A box per criterion: its levels as a named radio group, what is chosen in words, its anchors."""
        w = self.w
        rows, pickers, chosen = [], {}, {}
        for c in rubric.criteria:
            about = f": {c.description}" if c.description else ""
            picker = ChoiceGroup([(str(k), level_text(k, lv)) for k, lv in enumerate(c.levels, start=1)],
                                 legend=f"{c.name} (up to {points_phrase(c.max_points)}){about}")
            picker.observe(lambda ch, c=c: on_choose(c, ch["new"]), "value")
            pickers[c.id] = picker
            chosen[c.id] = w.HTML()
            parts = [picker, chosen[c.id]]
            anchors = "".join(f"<p><b>Level {k}{(' ' + html.escape(lv.label)) if lv.label else ''} "
                              f"({points_phrase(lv.points)})</b></p><blockquote>{html.escape(lv.anchor)}</blockquote>"
                              for k, lv in enumerate(c.levels, start=1) if lv.anchor)
            if anchors:
                parts.append(w.HTML(f"<details class='eb-anchors'><summary>Anchor responses: {html.escape(c.name)}"
                                    f"</summary>{anchors}</details>"))
            else:  # said, so a missing link does not read as a page that did not load
                parts.append(w.HTML(f"<p class='eb-no-anchors'>No anchor responses: the rubric gives none for "
                                    f"{html.escape(c.name)}.</p>"))
            box = w.VBox(parts)
            box.add_class("eb-criterion")
            rows.append(box)
        return rows, pickers, chosen

    def _build_rubric(self) -> None:
        rubric = self.session.rubric
        rows, self.pickers, self.chosen = self._criteria(rubric, self._choose)
        self.criteria_box.children = rows
        notes = md(rubric.notes) if rubric.notes else ""
        self.rubric_head.value = f"<h3>Rubric</h3>{notes}"
        scenario = self.session.scenario()
        story = scenario_html(scenario) if scenario is not None else ""
        self.question.value = f"{story}<h3>Question</h3><div class='eb-question'>{md(self.session.question())}</div>"

    def _choose(self, criterion: Criterion, number: str | None) -> None:
        """A level chosen on the page: its value is the level's number (the shortcut key)."""
        if number is None or self.session.current is None:
            return
        self._run(lambda: self.session.choose(criterion.id, criterion.levels[int(number) - 1].points))
        self._show_score()

    def _sync_pickers(self) -> None:
        for c in self.session.rubric.criteria:
            k = _level_number(c, self.session.levels.get(c.id))
            value = None if k is None else str(k)
            if self.pickers[c.id].value != value:
                self.pickers[c.id].value = value
        self._show_score()

    def _show_score(self) -> None:
        for c in self.session.rubric.criteria:
            self.chosen[c.id].value = chosen_html(c, self.session.levels.get(c.id))
        score = self.session.score_so_far()
        if self.session.current is None:
            self.score_text.value = ""
        elif score is None:
            self.score_text.value = "Score: choose a level for every criterion"
        else:
            self.score_text.value = f"<b>Score: {score:g} of {self.session.rubric.max_points:g}</b>"

    def _show(self) -> None:
        current = self.session.current
        self.comment.value = current.comment if current else ""
        if current is None:
            self.header.value = heading("Nothing left for you on this question", "work")
            self.response.value = ""
            self.columns.layout.display = "none"
            self.actions.layout.display = "none"
        else:
            role = ROLE_SHOWN if current.shown else ROLE_NAMES.get(current.role, current.role)
            self.header.value = heading(html.escape(f"Response {current.anon_id}: {role}"), "work")
            self.response.value = f"<h3>Response</h3>{_escaped_block(current.text, 'eb-response')}" + (
                f"<img class='eb-paper' style='max-width:100%;border:1px solid #555' alt='The response, written on "
                f"paper (scanned)' src='data:image/png;base64,{base64.b64encode(current.image).decode('ascii')}'>"
                if current.image else "")
            self.columns.layout.display = ""
            self.actions.layout.display = ""
        self._mark_bar()
        self.shown.value = shown_html(self.session.rubric, current.shown) if current else ""
        self._sync_pickers()
        p = self.session.progress()
        if p is not None:
            done = ""
            if current is None:
                done = (" Every response to this question has the ratings it needs." if not p.needed else
                        " Nothing more is yours to rate here; the rest waits for others, as said above. "
                        "Choose another question.")
            text = progress_text(p, self.session.queue.rule if self.session.queue else None)
            self.progress_text.value = f"<p>{html.escape(text)}{done}</p>"

    def _show_appeal(self) -> None:
        """The open appeal answer: the scenario and question as the candidate read them, the answer,
        the rubric. Nothing else: no earlier rating, score, name or appeal."""
        x, rubric = self.session.appeal, self.session.appeal_rubric
        if x is None or rubric is None:
            return
        place, total = self.session.appeal_position()
        self.appeal_header.value = heading(html.escape(f"Appeal re-rating {place} of {total}: "
                                                       f"{self.session.label(x.item_id)}"), "appeal")
        story = scenario_html(x.scenario) if x.scenario is not None else ""
        self.appeal_question.value = f"{story}<h3>Question</h3><div class='eb-question'>{md(x.question)}</div>"
        self.appeal_answer.value = f"<h3>Answer</h3>{_escaped_block(x.answer, 'eb-response')}" + (
            f"<img class='eb-paper' style='max-width:100%;border:1px solid #555' alt='The answer, written on "
            f"paper (scanned)' src='data:image/png;base64,{base64.b64encode(x.image).decode('ascii')}'>"
            if x.image else "")
        notes = md(rubric.notes) if rubric.notes else ""
        self.appeal_rubric_head.value = f"<h3>Rubric</h3>{notes}"
        rows, self.appeal_pickers, self.appeal_chosen = self._criteria(rubric, self._choose_appeal)
        self.appeal_criteria.children = rows
        self.appeal_comment.value = ""
        self._sync_appeal_pickers()

    def _choose_appeal(self, criterion: Criterion, number: str | None) -> None:
        if number is None or self.session.appeal is None:
            return
        self._run(lambda: self.session.choose_appeal(criterion.id, criterion.levels[int(number) - 1].points))
        self._show_appeal_score()

    def _sync_appeal_pickers(self) -> None:
        rubric = self.session.appeal_rubric
        if rubric is None:
            return
        for c in rubric.criteria:
            k = _level_number(c, self.session.appeal_levels.get(c.id))
            value = None if k is None else str(k)
            if self.appeal_pickers[c.id].value != value:
                self.appeal_pickers[c.id].value = value
        self._show_appeal_score()

    def _show_appeal_score(self) -> None:
        rubric = self.session.appeal_rubric
        if rubric is None:
            return
        for c in rubric.criteria:
            self.appeal_chosen[c.id].value = chosen_html(c, self.session.appeal_levels.get(c.id))
        score = self.session.appeal_score_so_far()
        self.appeal_score.value = ("Score: choose a level for every criterion" if score is None else
                                   f"<b>Score: {score:g} of {rubric.max_points:g}</b>")

    def display(self):
        from IPython.display import display

        display(self.root)
        return self


def app_from_environment() -> GraderApp:
    """The app for the notebook that ``exam-builder grader`` (a typed, self-declared name) or the
    hub service (the hub user, set by the server before this runs) serves; course and exam from env."""
    from ..course import Course

    identity.standalone()

    course = Course(os.environ.get("EXAM_BUILDER_COURSE", "."))
    exam = course.exam_name(os.environ.get("EXAM_BUILDER_EXAM"))
    return GraderApp(GraderSession(course, exam))
