"""The grader app: score open responses with rubrics, in JupyterLab or in Voila (staff server only).

``GraderSession`` is everything a grader does, without widgets: sign in, pick an item, take the
next response of the queue, choose a level per criterion (or type level numbers: "213" then
Enter), save, see one's own progress. ``GraderApp`` draws it with ipywidgets and calls the same
object, so scripted graders (tests, the demo) take exactly the app's code path.

What a grader sees: the question (from the released, key-free notebook), the response under an
anonymous id, the rubric's criteria, descriptors and anchor responses, their own choices. Never
the candidate's id or name, never another grader's score. Candidate text is shown escaped.
"""
from __future__ import annotations

import html
import os
from dataclasses import dataclass

from ..errors import ExamBuilderError
from ..rubrics.model import Rubric
from .queue import Claim, Progress, RatingQueue, open_items
from .resolution import Decision


@dataclass(frozen=True)
class ItemChoice:
    item_id: str
    label: str  # what the picker shows


class GraderSession:
    """One grader's session on one exam; the widgets and scripted graders call these methods."""

    def __init__(self, course, exam: str):
        self.course = course
        self.exam = exam
        self.rater: str | None = None
        self.queue: RatingQueue | None = None
        self.current: Claim | None = None
        self.levels: dict[str, float] = {}
        self.skipped: set[str] = set()  # anonymous ids given back in this session
        self.last: Decision | None = None
        self._stems: dict[str, str] = {}

    # -- sign in and pick -------------------------------------------------------------
    def sign_in(self, name: str) -> None:
        name = (name or "").strip()
        if len(name) < 2:
            raise ExamBuilderError("type your name to sign in: every score records who gave it")
        self.rater = name

    def _need_rater(self) -> str:
        if not self.rater:
            raise ExamBuilderError("sign in first")
        return self.rater

    def items(self) -> list[ItemChoice]:
        out = []
        for n, (item_id, _rubric) in enumerate(open_items(self.course, self.exam), start=1):
            out.append(ItemChoice(item_id, f"Written question {n} ({item_id})"))
        return out

    def pick(self, item_id: str) -> Claim | None:
        """Work on ``item_id``: the queue opens at this grader's next response."""
        self._need_rater()
        self.queue = RatingQueue(self.course, self.exam, item_id)
        return self.next()

    @property
    def rubric(self) -> Rubric:
        if self.queue is None:
            raise ExamBuilderError("pick a question first")
        return self.queue.rubric

    def question(self) -> str:
        """The question as candidates saw it (read from the released notebook: no key)."""
        if self.queue is None:
            return ""
        item = self.queue.item_id
        if item not in self._stems:
            from ..delivery.form_view import load_form_view
            from ..assembly.forms import load_forms
            from ..assembly.release import released_notebook

            stem = ""
            with self.course.db.read() as s:
                forms = load_forms(s, self.exam)
            for _form, m in forms:
                if any(e.item_id == item for e in m.items):
                    try:
                        stem = load_form_view(released_notebook(self.course, m.assignment), self.course.root).item(item).stem
                    except (ExamBuilderError, KeyError):
                        continue
                    break
            self._stems[item] = stem
        return self._stems[item]

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
        criterion = next((c for c in self.rubric.criteria if c.id == criterion_id), None)
        if criterion is None:
            raise ExamBuilderError(f"no criterion {criterion_id!r} in rubric {self.rubric.id}")
        criterion.level(float(points))  # KeyError for a level that does not exist
        self.levels[criterion_id] = float(points)

    def keys(self, typed: str) -> bool:
        """Keyboard shortcuts: digit k picks the k-th level (lowest first) of each criterion in
        order; Enter (a newline) saves. Returns True when it saved."""
        if self.current is None:
            return False
        digits = [ch for ch in typed if ch.isdigit()]
        for criterion, ch in zip(self.rubric.criteria, digits):
            k = int(ch)
            if 1 <= k <= len(criterion.levels):
                self.levels[criterion.id] = criterion.levels[k - 1].points
        if "\n" in typed or "\r" in typed:
            self.save()
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
        if self.queue is None or not self.rater:
            return None
        return self.queue.progress(self.rater)

    def score_so_far(self) -> float | None:
        try:
            return self.rubric.score(self.levels)
        except (ValueError, KeyError):
            return None


# -- widgets ----------------------------------------------------------------------------
def _text_html(text: str) -> str:
    return f"<div style='white-space:pre-wrap;border:1px solid #ccc;padding:8px;background:#fafafa'>{html.escape(text)}</div>"


class GraderApp:
    """The ipywidgets front of ``GraderSession`` (JupyterLab or Voila)."""

    def __init__(self, session: GraderSession):
        import ipywidgets as w

        self.w = w
        self.session = session
        self.message = w.HTML()
        self.name = w.Text(placeholder="Your name", description="Grader")
        self.sign_in_button = w.Button(description="Sign in", button_style="primary")
        self.sign_in_button.on_click(lambda _b: self._run(self._sign_in))
        self.item = w.Dropdown(description="Question", options=[])
        self.start = w.Button(description="Start scoring")
        self.start.on_click(lambda _b: self._run(self._pick))
        self.header = w.HTML()
        self.question = w.HTML()
        self.response = w.HTML()
        self.criteria_box = w.VBox()
        self.anchors = w.Accordion()
        self.comment = w.Textarea(placeholder="Comment (optional)", layout=w.Layout(width="100%", height="4em"))
        self.keybox = w.Textarea(placeholder="Shortcuts: type one level number per criterion (1 = lowest), then Enter to save",
                                 continuous_update=True, rows=1, layout=w.Layout(width="100%"))
        self.keybox.observe(self._on_keys, "value")
        self.save_button = w.Button(description="Save and next", button_style="success")
        self.save_button.on_click(lambda _b: self._run(self._save))
        self.give_back_button = w.Button(description="Give back")
        self.give_back_button.on_click(lambda _b: self._run(self._give_back))
        self.progress_bar = w.IntProgress(min=0, max=1, value=0, description="Yours")
        self.progress_text = w.HTML()
        self.toggles: dict[str, object] = {}
        self.sign_in_panel = w.HBox([self.name, self.sign_in_button])
        self.pick_panel = w.HBox([self.item, self.start])
        self.work_panel = w.VBox([
            self.header, self.question, self.response,
            w.HTML("<b>Rubric</b>"), self.criteria_box, self.anchors,
            self.comment, self.keybox, w.HBox([self.save_button, self.give_back_button]),
            w.HBox([self.progress_bar, self.progress_text]),
        ])
        self.pick_panel.layout.display = "none"
        self.work_panel.layout.display = "none"
        self.root = w.VBox([self.sign_in_panel, self.pick_panel, self.work_panel, self.message])

    # -- actions ----------------------------------------------------------------------
    def _run(self, fn) -> None:
        try:
            self.message.value = ""
            fn()
        except ExamBuilderError as exc:
            self.message.value = f"<span style='color:#9c2a00'>{html.escape(str(exc))}</span>"

    def _sign_in(self) -> None:
        self.session.sign_in(self.name.value)
        self.item.options = [(c.label, c.item_id) for c in self.session.items()]
        self.sign_in_panel.layout.display = "none"
        self.pick_panel.layout.display = ""
        self.message.value = f"Signed in as {html.escape(self.session.rater or '')}."

    def _pick(self) -> None:
        if not self.item.value:
            raise ExamBuilderError("choose a question")
        self.session.pick(self.item.value)
        self._build_rubric()
        self.work_panel.layout.display = ""
        self._show()

    def _save(self) -> None:
        self.session.save(self.comment.value)
        self._show()
        self.message.value = "Saved."

    def _give_back(self) -> None:
        self.session.give_back()
        self._show()

    def _on_keys(self, change) -> None:
        typed = change["new"]
        if not typed:
            return
        try:
            saved = self.session.keys(typed)
        except ExamBuilderError as exc:
            self.message.value = f"<span style='color:#9c2a00'>{html.escape(str(exc))}</span>"
            saved = False
            self.keybox.value = typed.replace("\n", "").replace("\r", "")
        if saved:
            self.keybox.value = ""
            self._show()
            self.message.value = "Saved."
        else:
            self._sync_toggles()

    # -- drawing ----------------------------------------------------------------------
    def _build_rubric(self) -> None:
        w = self.w
        rubric = self.session.rubric
        rows, self.toggles, anchor_panels, titles = [], {}, [], []
        for c in rubric.criteria:
            options = [(f"{k}: {lv.label} ({lv.points:g})" if lv.label else f"{k}: {lv.points:g} pts", lv.points)
                       for k, lv in enumerate(c.levels, start=1)]
            toggle = w.ToggleButtons(options=options, value=None, style={"button_width": "auto"})
            toggle.observe(lambda ch, cid=c.id: self._choose(cid, ch["new"]), "value")
            self.toggles[c.id] = toggle
            desc = "".join(f"<li><b>{k}</b> ({lv.points:g}): {html.escape(lv.descriptor)}</li>"
                           for k, lv in enumerate(c.levels, start=1))
            rows.append(w.VBox([w.HTML(f"<b>{html.escape(c.name)}</b> {html.escape(c.description)}<ul>{desc}</ul>"), toggle]))
            for k, lv in enumerate(c.levels, start=1):
                if lv.anchor:
                    anchor_panels.append(w.HTML(_text_html(lv.anchor)))
                    titles.append(f"Anchor: {c.name}, level {k} ({lv.points:g})")
        self.criteria_box.children = rows
        self.anchors.children = anchor_panels
        for i, t in enumerate(titles):
            self.anchors.set_title(i, t)
        notes = f"<p><i>{html.escape(rubric.notes)}</i></p>" if rubric.notes else ""
        self.question.value = f"<b>Question</b>{_text_html(self.session.question())}{notes}"

    def _choose(self, criterion_id: str, points) -> None:
        if points is None or self.session.current is None:
            return
        self._run(lambda: self.session.choose(criterion_id, points))
        self._show_score()

    def _sync_toggles(self) -> None:
        for cid, toggle in self.toggles.items():
            value = self.session.levels.get(cid)
            if toggle.value != value:
                toggle.value = value
        self._show_score()

    def _show_score(self) -> None:
        score = self.session.score_so_far()
        current = self.session.current
        role = {"first": "first rating", "second": "second rating (independent)", "adjudication": "adjudication"}
        if current is not None:
            total = self.session.rubric.max_points
            shown = "choose a level for every criterion" if score is None else f"{score:g} of {total:g}"
            self.header.value = (f"<b>Response {html.escape(current.anon_id)}</b> · {role.get(current.role, current.role)}"
                                 f" · score: {shown}")

    def _show(self) -> None:
        current = self.session.current
        self.comment.value = current.comment if current else ""
        if current is None:
            self.header.value = "<b>Nothing left for you on this question.</b> Pick another question, or come back later."
            self.response.value = ""
            self.save_button.disabled = self.give_back_button.disabled = True
        else:
            self.response.value = f"<b>Response</b>{_text_html(current.text)}"
            self.save_button.disabled = self.give_back_button.disabled = False
        self._sync_toggles()
        p = self.session.progress()
        if p is not None:
            self.progress_bar.max = max(1, p.mine + p.open_for_me)
            self.progress_bar.value = p.mine
            self.progress_text.value = (f"you rated {p.mine} · {p.open_for_me} left for you · "
                                        f"{p.needed} rating(s) still needed on this question")

    def display(self):
        from IPython.display import display

        display(self.root)
        return self


def app_from_environment() -> GraderApp:
    """The app for the notebook that ``exam-builder grader`` serves (course and exam from env)."""
    from ..course import Course

    course = Course(os.environ.get("EXAM_BUILDER_COURSE", "."))
    exam = os.environ.get("EXAM_BUILDER_EXAM", "cps")
    return GraderApp(GraderSession(course, exam))
