"""The coordinator's desk: accommodation decisions, who may not sit, the program's report (Voila, staff only).

``CoordinatorSession`` is everything a coordinator does, without widgets, through the domain
functions only (``records.accommodations``, ``records.eligibility``, ``analysis.report``): no SQL
here. ``CoordinatorApp`` draws it with ipywidgets and the accessible widgets of ``exam_builder.ui``
and calls the same object, so tests and scripts take the app's code path.

What it promises:

* **Who decides is never typed in hub mode.** Signed in through JupyterHub (``exam_builder.hub``),
  the coordinator is the hub user the server put into the kernel (``records.identity``): every
  approval, revocation and audit entry carries that name with ``identity: hub``. In the standalone
  token mode (``exam-builder coordinator``) a name is asked once and recorded as self-declared.
* **A reason with every decision**, kept in the audit trail (``audit.record``, same transaction).
* **No diagnosis, ever.** An accommodation holds the arrangement and the letter's date only; the
  screen says so, and the domain refuses details that look medical.
* **Plain words** for a non-programmer: the kinds and eligibility barriers as sentences
  (``KIND_TEXT``, ``Barrier.plain``), screens with a heading that takes focus, every box labelled.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis.subscores import subscore_precision
from ..errors import ExamBuilderError
from ..model.states import AccommodationKind, AccommodationStatus
from ..records import accommodations as acc_domain, identity
from ..records.audit import MAX_REASON
from ..records.eligibility import Barrier, evaluate
from ..records.text import text_problem
from ..ui.page import esc as _e, focus_on, heading, status_html as _say, style_css
from ..ui.widgets import Assist, ChoiceGroup, TextForm

#: An accommodation kind as the coordinator reads it.
KIND_TEXT = {AccommodationKind.extended_time: "Extra time", AccommodationKind.scribe: "A scribe",
             AccommodationKind.separate_room: "A separate room", AccommodationKind.other: "Another arrangement",
             AccommodationKind.breaks: "Breaks with the clock stopped",
             AccommodationKind.large_print: "Large print (printed forms at 18 pt)"}
#: Said on the requests screen: the record never holds a diagnosis.
NO_DIAGNOSIS_TEXT = ("An accommodation records the arrangement and the date of the provider's letter only. "
                     "Never write a diagnosis, a condition or what the letter says; the details below are "
                     "the arrangement, not a diagnosis.")
#: The screens, in the order of the switcher at the top.
SCREENS = {"requests": "Accommodation requests", "eligibility": "Who may not sit", "keys": "Key validation",
           "appeals": "Appeals", "report": "Program report"}
#: The notebook Voila serves (``exam-builder coordinator``, ``exam-builder hub-service coordinator``).
NOTEBOOK = Path(__file__).resolve().parent / "coordinator.ipynb"


@dataclass(frozen=True)
class Request:
    """One accommodation request waiting for a decision, as the screen shows it."""

    id: int
    candidate_id: str
    name: str
    kind: AccommodationKind
    multiplier: float | None
    details: str
    letter_on_file: dt.date | None
    requested_on: dt.date | None
    breaks: str = ""  # breaks only: "2 breaks of 10 minutes"

    @property
    def kind_text(self) -> str:
        text = KIND_TEXT.get(self.kind, str(self.kind))
        if self.breaks:
            return f"{text} ({self.breaks})"
        return f"{text} (time × {self.multiplier:g})" if self.multiplier else text

    @property
    def label(self) -> str:
        return f"{self.name} ({self.candidate_id}): {self.kind_text}"


@dataclass(frozen=True)
class NotEligible:
    """A candidate who may not sit now, and every reason (``eligibility.evaluate``)."""

    candidate_id: str
    name: str
    cohort: str
    reasons: list[str]
    barriers: list[Barrier] = field(default_factory=list)


class CoordinatorSession:
    """One coordinator's session on one exam; the widgets and scripts call these methods."""

    def __init__(self, course, exam: str):
        self.course = course
        self.exam = exam
        self.caution: list[str] = []  # key validation: too few candidates for its flags to be evidence (validation)
        self.signin = identity.StaffSignIn("decisions", "every decision records who made it",
                                           lambda: course.grading_settings.coordinators)  # "carla diaz" is Carla Diaz

    # -- who acts ---------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        """Who decides: the hub user, else the name typed (None before a sign-in)."""
        return self.signin.name

    @name.setter
    def name(self, typed: str | None) -> None:  # what a page may send: never replaces the hub user
        self.signin.typed = typed

    @property
    def hub_signed(self) -> bool:
        """Signed in through JupyterHub: the name is the server's, never typed."""
        return self.signin.hub_signed

    def sign_in(self, name: str) -> None:
        """Token mode: the name typed once, recorded as self-declared."""
        self.signin.sign_in(name)

    def _actor(self) -> str:
        return self.signin.require()  # the hub user whatever a page sent

    @staticmethod
    def _reason(reason: str, required: bool) -> str:
        reason = (reason or "").strip()
        if required and not reason:
            raise ExamBuilderError("say why in the Reason box: it is kept with your decision")
        problem = text_problem(reason, MAX_REASON) if reason else None
        if problem is not None:
            raise ExamBuilderError(f"the reason {problem}")
        return reason

    # -- accommodation requests -------------------------------------------------------
    def waiting(self) -> list[Request]:
        """Requests waiting for a decision, by candidate."""
        with self.course.db.read() as s:
            return [Request(a.id, a.candidate_id, a.candidate.name, AccommodationKind(a.kind), a.multiplier,
                            a.details or "", a.letter_on_file, a.requested_on,
                            acc_domain.breaks_text(a.break_count, a.break_minutes))
                    for a in acc_domain.list_accommodations(s, status=AccommodationStatus.requested)]

    def default_multiplier(self, request: Request) -> float | None:
        """What the approve form offers: the request's figure, else the program's (policy)."""
        if request.kind != AccommodationKind.extended_time:
            return None
        return request.multiplier or self.course.policy.extended_time_multiplier

    def approve(self, accommodation_id: int, reason: str, letter_on_file: dt.date | None = None,
                multiplier: float | None = None) -> str:
        """Approve a request; returns what to tell the coordinator (with the new time limit)."""
        actor, reason = self._actor(), self._reason(reason, required=True)
        with self.course.db.transaction() as s:
            acc = acc_domain.approve(s, accommodation_id, actor, reason, letter_on_file=letter_on_file,
                                     multiplier=multiplier, zone=self.course.zone)
            cand, name, kind = acc.candidate_id, acc.candidate.name, AccommodationKind(acc.kind)
            limit = acc_domain.personal_time_limit(s, self.course.policy, cand)
        return f"Approved {KIND_TEXT[kind].lower()} for {name} ({cand}). Their time limit is now {limit} minutes."

    def revoke(self, accommodation_id: int, reason: str) -> str:
        """Turn a request (or an approval) down; the reason is required."""
        actor, reason = self._actor(), self._reason(reason, required=True)
        with self.course.db.transaction() as s:
            acc = acc_domain.revoke(s, accommodation_id, actor, reason, zone=self.course.zone)
            cand, name, kind = acc.candidate_id, acc.candidate.name, AccommodationKind(acc.kind)
        return f"Turned down {KIND_TEXT[kind].lower()} for {name} ({cand})."

    # -- eligibility and the report ---------------------------------------------------
    def not_eligible(self, today: dt.date | None = None) -> list[NotEligible]:
        """Candidates who may not sit now, with every reason (the same rules as the ledger)."""
        from ..records.absence import settle_course

        settle_course(self.course, exam_id=self.exam)  # a no-show is absent, never "a result still pending"
        with self.course.db.read() as s:
            rows = evaluate(s, self.course.policy, self.exam, today=today, zone=self.course.zone)
        return [NotEligible(e.candidate_id, e.name, e.cohort, list(e.reasons), list(e.barriers))
                for e in rows if not e.eligible]

    # -- key validation (grading.keys, analysis.keys) ----------------------------------
    def validation(self) -> list:
        """The validation lines to review (flagged or commented on), comments blind."""
        from ..analysis.keys import flagged, too_few_text, validation_lines

        lines = validation_lines(self.course, self.exam)
        self.caution = too_few_text(self.course, lines)  # whether the flags can be read as evidence at all
        return flagged(lines)

    def validation_state(self) -> str:
        from ..analysis.keys import closure_text

        return closure_text(self.course, self.exam)

    def decide_key(self, item_id: str, action: str, reason: str, accept: str = "", form: str = ""):
        """Record a decision (not applied) and return its impact: whose totals and pass/fail change."""
        from ..grading.keys import impact, mark_provisional, record_decision

        actor, reason = self._actor(), self._reason(reason, required=True)
        did = record_decision(self.course, self.exam, item_id, action, reason, actor,
                              accept=accept.strip() or None, form=form.strip() or None)
        self._reprint(mark_provisional(self.course, self.exam, did, subscore_precision(self.course, self.exam)))
        return impact(self.course, self.exam, did)

    def apply_key(self, decision_id: int):
        from ..grading.keys import apply

        done = apply(self.course, self.exam, decision_id, self._actor(),
                     precision=subscore_precision(self.course, self.exam))
        done.pdfs = self._reprint(done.reports)
        return done

    def _reprint(self, reports) -> str:
        """The PDFs of score reports written again, printed again (``reports.pdf``): the line saying so, or ""."""
        from ..reports.pdf import reprint_score_reports

        return reprint_score_reports(self.course, self.exam, list(reports)).text(self.course.root)

    def close_keys(self, note: str) -> str:
        from ..grading.keys import close

        closure, reports = close(self.course, self.exam, self._actor(), self._reason(note, required=False),
                                 precision=subscore_precision(self.course, self.exam))
        pdfs = self._reprint(reports)
        return (f"Key validation closed (closure {closure}): results are final; {len(reports)} score report(s) "
                "written again without 'provisional'." + (f" {pdfs[0].upper()}{pdfs[1:]}." if pdfs else ""))

    # -- appeals (grading.appeals) ------------------------------------------------------
    def appeals(self) -> list:
        """Every appeal of the exam with its sitting, oldest first."""
        from ..records.queries import recourse as recourse_q

        with self.course.db.read() as s:
            rows = recourse_q.select_appeals(s, self.exam)
            out = [(a.id, sit.id, sit.candidate_id, str(a.category), a.received_on, a.words, a.rater,
                    str(a.decision) if a.decision else "", a.voided) for a, sit in rows]
        return out

    def reratings(self) -> dict:
        """Each score appeal -> how far its re-rating is (``appeals.Rerating``: who, how many done, the points)."""
        from ..grading.appeals import rerating_states

        return rerating_states(self.course, self.exam)

    def record_appeal(self, sitting_id: int, category: str, words: str, received_on: dt.date) -> str:
        from ..grading.appeals import record

        aid = record(self.course, sitting_id, category, self._reason(words, required=True), received_on,
                     self._actor())
        return f"Appeal {aid} recorded for sitting {sitting_id} ({category}, received {received_on})."

    def assign_appeal(self, appeal_id: int, rater: str) -> str:
        from ..grading.appeals import assign_rater

        assign_rater(self.course, appeal_id, rater, self._actor())
        return f"Appeal {appeal_id}: the written answers go to {rater.strip()}, blind to the earlier ratings."

    def decide_appeal(self, appeal_id: int, decision: str, reason: str, void: bool = False) -> str:
        from ..grading.appeals import DECISION_TEXT, decide
        from ..model.states import AppealDecision

        done = decide(self.course, self.exam, appeal_id, decision, self._reason(reason, required=True),
                      self._actor(), void=void, precision=subscore_precision(self.course, self.exam))
        return (f"Appeal {appeal_id} {DECISION_TEXT[AppealDecision(decision)]}: {len(done['scores'])} score(s) "
                f"changed, {len(done['outcomes'])} outcome(s) changed"
                + ("; the sitting is voided and is not an attempt" if done["voided"] else "")
                + (f"; {done['effect'].text()}" if done["effect"] is not None else "")
                + "; the candidate's letter is written."
                + (f" {pdfs[0].upper()}{pdfs[1:]}." if (pdfs := self._reprint(done["reports"])) else ""))

    def report_folder(self) -> Path:
        """Where the report goes: the course's reports/ folder, as `exam-builder report` writes it."""
        return self.course.report_dir(self.exam)

    def write_report(self) -> Path:
        from ..analysis.report import write_report

        return write_report(self.course, self.exam, self.report_folder())


COORDINATOR_CSS = """<style>
/* the output area around the desk must not clip a focus ring drawn outside its control (WCAG 2.4.7) */
.jp-OutputArea:has(.eb-coord), .jp-OutputArea-child:has(.eb-coord), .jp-OutputArea-output:has(.eb-coord) {
  overflow: visible !important; }
/* a control Tab scrolls into view keeps room for its focus ring above and below it */
html, body, .lm-BoxPanel-child:has(.eb-coord) { scroll-padding: 2em 0; }
/* ipywidgets' own CSS takes the outline off its boxes (outline: none !important): a keyboard user would see
   only a border's colour change; the desk's ring wins here (more specific) */
.eb-app.eb-coord :is(input, textarea):focus-visible, .eb-app.eb-coord input[type="date"]:focus-within {
  outline: 3px solid #b34700 !important; outline-offset: 2px; }
.eb-coord table { border-collapse: collapse; width: 100%; }
/* a long word (an item id, a URL in a comment) may break where it cannot fit, but a column is never narrowed
   below its longest word for it: "anywhere" let the table break "Item" and "0.74" mid-word at 1366 px */
.eb-coord th, .eb-coord td { border: 1px solid #6b6b6b; padding: 0.3em 0.5em; text-align: left; vertical-align: top;
  overflow-wrap: break-word; }
.eb-coord td.eb-nowrap { white-space: nowrap; }  /* an item id is one word: never "ibno-mc-" over "02" */
.eb-coord .eb-note { border-left: 4px solid #0b4f8a; padding-left: 0.8em; }
.eb-coord .eb-ok { border: 2px solid #1d6b2f; background: #eaf6ec; padding: 0.5em; }
@media (max-width: 40em) {
  .eb-coord thead { position: absolute; left: -9999px; }
  .eb-coord tr, .eb-coord td { display: block; }
  .eb-coord td::before { content: attr(data-label) ": "; font-weight: bold; }
}
/* the key validation and appeals tables' nine or ten columns, whose words are never broken, need a laptop's
   width: narrower (200% zoom, a tablet) each line is a block of labelled values, as on a phone */
@media (max-width: 64em) {
  .eb-coord table.eb-wide thead { position: absolute; left: -9999px; }
  .eb-coord table.eb-wide tr, .eb-coord table.eb-wide td { display: block; }
  .eb-coord table.eb-wide td::before { content: attr(data-label) ": "; font-weight: bold; }
}
</style>"""


class CoordinatorApp:
    """The ipywidgets front of ``CoordinatorSession``: sign in (token mode), then three screens."""

    def __init__(self, session: CoordinatorSession):
        import ipywidgets as w

        self.w = w
        self.session = session
        label = {"description_width": "initial"}
        self.assist = Assist()
        self.message = w.HTML()
        self.title = w.HTML("<h1>Coordinator's desk</h1>")
        self.who = w.HTML()

        self.name = TextForm(label="Your name", button="Sign in")
        self.name.on_submit(lambda text: self._run(lambda: self._sign_in(text), self.message))
        self.sign_in_panel = w.VBox([
            w.HTML(f"{heading('Sign in', 'sign-in')}<p>Type your name once: every decision records who made "
                   "it.</p>"), self.name])

        self.screen = ChoiceGroup(list(SCREENS.items()), "Show", value="requests", appearance="buttons")
        self.screen.observe(lambda _c: self._run(self._show_screen, self.message), "value")

        # requests
        self.decision_message = w.HTML()
        self.requests_head = w.HTML()
        self.requests_table = w.HTML()
        self.choice = ChoiceGroup([], "Choose a request")
        self.choice.observe(lambda _c: self._run(self._on_choice, self.decision_message), "value")
        self.multiplier = w.BoundedFloatText(value=1.5, min=1.05, max=acc_domain.MAX_MULTIPLIER, step=0.05,
                                             description="Extra time: the exam's time multiplied by",
                                             style=label, layout=w.Layout(width="auto"))
        self.letter = w.DatePicker(description="Date of the provider's letter", style=label)
        self.reason = w.Text(description="Reason (kept with your decision)", style=label,
                             layout=w.Layout(width="auto"))
        self.approve_button = w.Button(description="Approve", button_style="primary")
        self.approve_button.on_click(lambda _b: self._run(self._approve, self.decision_message))
        self.revoke_button = w.Button(description="Turn down", button_style="warning")
        self.revoke_button.on_click(lambda _b: self._run(self._revoke, self.decision_message))
        buttons = w.HBox([self.approve_button, self.revoke_button])
        buttons.add_class("eb-buttons")
        self.decision = w.VBox([self.choice, self.multiplier, self.letter, self.reason, buttons])
        self.requests_panel = w.VBox([self.requests_head, w.HTML(f"<p class='eb-note'>{_e(NO_DIAGNOSIS_TEXT)}</p>"),
                                      self.requests_table, self.decision, self.decision_message])

        # eligibility
        self.eligibility_panel = w.VBox([w.HTML()])

        # report
        self.report_button = w.Button(description="Write the program's report", button_style="primary")
        self.report_message = w.HTML()
        self.report_button.on_click(lambda _b: self._run(self._report, self.report_message))
        self.report_panel = w.VBox([
            w.HTML(f"{heading('Program report', 'report')}<p>The report on this exam: the cohort, scores, "
                   f"how reliable the exam was, the questions and the graders. It is written to the "
                   f"course's reports folder ({_e(self.session.report_folder())}).</p>"),
            self.report_button, self.report_message])

        self._build_keys(w, label)
        self._build_appeals(w, label)
        self.main = w.VBox([self.who, self.screen, self.requests_panel, self.eligibility_panel, self.keys_panel,
                            self.appeals_panel, self.report_panel])
        self.root = w.VBox([w.HTML(style_css(16) + COORDINATOR_CSS), self.assist, self.title, self.sign_in_panel,
                            self.main, self.message])
        self.root.add_class("eb-app")
        self.root.add_class("eb-coord")
        self.main.layout.display = "none"
        if session.hub_signed:  # the hub said who this is: nothing to type
            self.sign_in_panel.children = ()
            self.sign_in_panel.layout.display = "none"
            self._open(f"Signed in through JupyterHub as {session.name}.")

    # -- actions ----------------------------------------------------------------------
    def _run(self, fn, where) -> None:
        try:
            fn()
        except ExamBuilderError as exc:
            where.value = _say(str(exc), "refused")
            self.assist.announce(f"Not done: {exc}")

    def _sign_in(self, text: str) -> None:
        self.session.sign_in(text)
        self.sign_in_panel.layout.display = "none"
        self._open(f"Signed in as {self.session.name}. Your name is recorded with every decision "
                   "(typed here, not checked by a sign-in service).")

    def _open(self, who: str) -> None:
        self.who.value = f"<p>{_e(who)}</p>"
        self.main.layout.display = ""
        self._show_screen()

    def _show_screen(self) -> None:
        current = self.screen.value or "requests"
        for key, panel in (("requests", self.requests_panel), ("eligibility", self.eligibility_panel),
                           ("keys", self.keys_panel), ("appeals", self.appeals_panel), ("report", self.report_panel)):
            panel.layout.display = "" if key == current else "none"
        if current == "requests":
            self.refresh_requests()
        elif current == "eligibility":
            self.refresh_eligibility()
        elif current == "keys":
            self.refresh_keys()
        elif current == "appeals":
            self.refresh_appeals()
        self.assist.move_focus(focus_on(current))

    def refresh_requests(self) -> None:
        self._requests = {str(r.id): r for r in self.session.waiting()}
        n = len(self._requests)
        self.requests_head.value = heading(f"Accommodation requests waiting for a decision: {n}", "requests")
        if not n:
            self.requests_table.value = "<p>No request is waiting. Requests come from the accommodations sheet or " \
                                        "<code>exam-builder accommodation request</code>.</p>"
        else:
            rows = "".join(
                f"<tr><td data-label='Candidate'>{_e(r.name)} ({_e(r.candidate_id)})</td>"
                f"<td data-label='Asked for'>{_e(r.kind_text)}</td>"
                f"<td data-label='Arrangement (no diagnosis)'>{_e(r.details or 'none given')}</td>"
                f"<td data-label='Provider letter dated'>{_e(r.letter_on_file or 'not on file yet')}</td>"
                f"<td data-label='Requested on'>{_e(r.requested_on or '')}</td></tr>" for r in self._requests.values())
            self.requests_table.value = (
                "<table><thead><tr><th scope='col'>Candidate</th><th scope='col'>Asked for</th>"
                "<th scope='col'>Arrangement (no diagnosis)</th><th scope='col'>Provider letter dated</th>"
                "<th scope='col'>Requested on</th></tr></thead><tbody>" + rows + "</tbody></table>")
        options = [(k, r.label) for k, r in self._requests.items()]
        current = self.choice.value
        if options != list(self.choice.options):
            self.choice.value = None
            self.choice.options = options
        self.choice.value = current if current in self._requests else (options[0][0] if options else None)
        self.decision.layout.display = "" if options else "none"
        self._on_choice()

    def _chosen(self) -> Request:
        r = self._requests.get(self.choice.value or "")
        if r is None:
            raise ExamBuilderError("choose a request first")
        return r

    def _on_choice(self) -> None:
        r = self._requests.get(self.choice.value or "")
        extended = r is not None and r.kind == AccommodationKind.extended_time
        self.multiplier.layout.display = "" if extended else "none"
        if r is not None and extended:
            self.multiplier.value = self.session.default_multiplier(r)
        needs_letter = r is not None and r.letter_on_file is None
        self.letter.layout.display = "" if needs_letter else "none"
        self.letter.value = None

    def _approve(self) -> None:
        r = self._chosen()
        multiplier = self.multiplier.value if r.kind == AccommodationKind.extended_time else None
        if r.kind == AccommodationKind.extended_time and multiplier == r.multiplier:
            multiplier = None  # as requested: nothing changed
        text = self.session.approve(r.id, self.reason.value, letter_on_file=self.letter.value, multiplier=multiplier)
        self._decided(text)

    def _revoke(self) -> None:
        self._decided(self.session.revoke(self._chosen().id, self.reason.value))

    def _decided(self, text: str) -> None:
        self.reason.value = ""
        self.refresh_requests()
        self.decision_message.value = _say(text, "done")
        self.assist.announce(text)

    def refresh_eligibility(self) -> None:
        rows = self.session.not_eligible()
        head = heading(f"Who may not sit the exam now: {len(rows)}", "eligibility")
        if not rows:
            body = "<p>Every candidate on the roster may sit the exam.</p>"
        else:
            body = ("<table><thead><tr><th scope='col'>Candidate</th><th scope='col'>Class</th>"
                    "<th scope='col'>Why not</th></tr></thead><tbody>" + "".join(
                        f"<tr><td data-label='Candidate'>{_e(e.name)} ({_e(e.candidate_id)})</td>"
                        f"<td data-label='Class'>{_e(e.cohort or '-')}</td>"
                        f"<td data-label='Why not'><ul>{''.join(f'<li>{_e(t)}</li>' for t in e.reasons)}</ul></td></tr>"
                        for e in rows) + "</tbody></table>")
        self.eligibility_panel.children[0].value = (
            f"{head}<p>The program's rules (attendance, attempts, waiting periods, tutoring) as they stand "
            f"today. The same reasons stop a candidate at sign-in.</p>{body}")

    # -- key validation -----------------------------------------------------------------
    def _build_keys(self, w, label) -> None:
        self.keys_view = w.HTML()
        self.key_item = ChoiceGroup([], "Item to decide on")
        self.key_action = ChoiceGroup([("keep", "Keep the key"), ("accept", "Accept another answer as well"),
                                       ("credit", "Credit everyone"), ("drop", "Drop the item")], "Decision",
                                      value="keep")
        self.key_accept = w.Text(description="Other answer to accept (its choice label, e.g. B)", style=label,
                                 layout=w.Layout(width="auto"))
        self.key_form = w.Text(description="On form (its label, e.g. A)", style=label, layout=w.Layout(width="auto"))
        self.key_reason = w.Text(description="Reason (kept with the decision)", style=label,
                                 layout=w.Layout(width="auto"))
        self.key_impact_button = w.Button(description="Record and show the impact", button_style="primary")
        self.key_impact_button.on_click(lambda _b: self._run(self._key_impact, self.keys_message))
        self.key_apply_button = w.Button(description="Apply this decision", button_style="warning", disabled=True)
        self.key_apply_button.on_click(lambda _b: self._run(self._key_apply, self.keys_message))
        self.key_close_button = w.Button(description="Close key validation")
        self.key_close_button.add_class("eb-key-close")  # where focus goes once Apply no longer applies
        self.key_close_button.on_click(lambda _b: self._run(self._key_close, self.keys_message))
        self.key_impact = w.HTML()
        self.keys_message = w.HTML()
        self._decision_id: int | None = None
        buttons = w.HBox([self.key_impact_button, self.key_apply_button, self.key_close_button])
        buttons.add_class("eb-buttons")
        self.keys_panel = w.VBox([self.keys_view, self.key_item, self.key_action, self.key_accept, self.key_form,
                                  self.key_reason, buttons, self.key_impact, self.keys_message])

    def refresh_keys(self) -> None:
        lines = self.session.validation()
        head = heading(f"Key validation: {len(lines)} item line(s) to review", "keys")
        state = _e(self.session.validation_state())
        caution = self.session.caution
        # before the lines: with too few candidates on a form, its flags are not evidence
        warn = ("" if not caution else f"<div class='eb-caution' role='note'><p><strong>{_e(caution[0])}</strong></p>"
                + ("<ul>" + "".join(f"<li>{_e(c)}</li>" for c in caution[1:]) + "</ul>" if caution[1:] else "")
                + "</div>")
        if not lines:
            body = "<p>No objective item is past a threshold or commented on.</p>"
        else:
            def pct(v):
                return "" if v is None else f"{v:.0%}"

            def num(v):
                return "" if v is None else f"{v:.2f}"

            body = ("<table class='eb-wide'><caption>Items past a threshold or commented on. Comments are shown "
                    "without names, by form.</caption><thead><tr>" + "".join(f"<th scope='col'>{c}</th>" for c in (
                        "Form and question", "Item", "Key", "Candidates", "Facility", "Discrimination",
                        "Strong candidates chose", "Why flagged", "Comments", "Decision")) + "</tr></thead><tbody>"
                    + "".join(
                        f"<tr><td data-label='Form and question' class='eb-nowrap'>{_e(ln.form)} Q{ln.number}</td>"
                        f"<td data-label='Item' class='eb-nowrap'>{_e(ln.item_id)}</td>"
                        f"<td data-label='Key'>{_e(ln.key)}</td>"
                        f"<td data-label='Candidates'>{ln.n}</td>"
                        f"<td data-label='Facility'>{num(ln.facility)}</td>"
                        f"<td data-label='Discrimination'>{_e(ln.discrimination_text())}</td>"
                        f"<td data-label='Strong candidates chose'>"
                        f"{_e(f'{ln.strong_choice} ({pct(ln.strong_choice_share)}; key {pct(ln.strong_key_share)})') if ln.strong_choice else ''}</td>"  # noqa: E501
                        f"<td data-label='Why flagged'>{_e('; '.join(ln.flags))}</td>"
                        f"<td data-label='Comments'>{''.join(f'<p>Form {_e(f)}: {_e(c)}</p>' for f, c in ln.comments)}</td>"  # noqa: E501
                        f"<td data-label='Decision'>{_e(ln.decision)}</td></tr>" for ln in lines)
                    + "</tbody></table>")
        self.keys_view.value = (f"{head}<p>{state}. Each item's line: how many got it right (facility), how well it "
                                f"separates strong from weak candidates (discrimination), the answer strong "
                                f"candidates chose, and the candidates' comments. Decide with the item's author; "
                                f"the impact is shown before anything changes.</p>{warn}{body}")
        options = list(dict.fromkeys((ln.item_id, f"{ln.item_id} (form {ln.form} Q{ln.number})") for ln in lines))
        seen: set[str] = set()
        options = [o for o in options if not (o[0] in seen or seen.add(o[0]))]
        current = self.key_item.value
        if options != list(self.key_item.options):
            self.key_item.value = None
            self.key_item.options = options
        self.key_item.value = current if current in dict(options) else (options[0][0] if options else None)

    def _key_impact(self) -> None:
        if not self.key_item.value:
            raise ExamBuilderError("choose an item first")
        imp = self.session.decide_key(self.key_item.value, self.key_action.value or "keep", self.key_reason.value,
                                      self.key_accept.value, self.key_form.value)
        self._decision_id = imp.decision_id
        rows = "".join(
            f"<tr><td data-label='Candidate'>{_e(c.candidate_name)} ({_e(c.candidate_id)})</td>"
            f"<td data-label='Total'>{_e(f'{c.old_total:g}' if c.old_total is not None else 'pending')} → "
            f"{_e(f'{c.new_total:g}' if c.new_total is not None else 'pending')} of {c.new_max:g}</td>"
            f"<td data-label='Points needed'>{c.old_cut:.2f} → {c.new_cut:.2f}</td>"
            f"<td data-label='Result'>{_e(c.old_status)} → {_e(c.new_status)}"
            f"{' (changes)' if c.outcome_changes else ''}</td></tr>" for c in imp.changes)
        self.key_impact.value = (
            "<h3>Impact before it is applied</h3>"
            + f"<p role='status'>{_e(imp.summary())}. Nothing has changed yet.</p>"
            + ("<table><thead><tr><th scope='col'>Candidate</th><th scope='col'>Total</th>"
               "<th scope='col'>Points needed</th><th scope='col'>Result</th></tr></thead><tbody>" + rows
               + "</tbody></table>" if imp.changes else "<p>No candidate's points change.</p>"))
        self.key_apply_button.disabled = False
        self.key_reason.value = ""
        self.keys_message.value = ""
        self.refresh_keys()
        self.assist.announce(imp.summary())

    def _key_apply(self) -> None:
        if self._decision_id is None:
            raise ExamBuilderError("record a decision and read its impact first")
        done = self.session.apply_key(self._decision_id)
        text = (f"Decision {self._decision_id} applied: {done.rescored} score(s) changed in the gradebook, "
                f"{len(done.outcomes)} result(s) changed, {len(done.reports)} score report(s) written again."
                + (f" {done.pdfs[0].upper()}{done.pdfs[1:]}." if done.pdfs else "")
                if not done.nothing else f"Decision {self._decision_id} was already applied: nothing changed.")
        self.key_apply_button.disabled = True  # a disabled button drops the keyboard's focus: put it beside
        self._decision_id = None
        self.refresh_keys()
        self.keys_message.value = _say(text, "done")
        self.assist.announce(text)
        self.assist.move_focus(".eb-coord button.eb-key-close")

    def _key_close(self) -> None:
        text = self.session.close_keys(self.key_reason.value)
        self.refresh_keys()
        self.keys_message.value = _say(text, "done")
        self.assist.announce(text)

    # -- appeals --------------------------------------------------------------------------
    def _build_appeals(self, w, label) -> None:
        self.appeals_view = w.HTML()
        self.appeal_sitting = w.BoundedIntText(value=0, min=0, max=10**9, description="Sitting number",
                                               style=label, layout=w.Layout(width="auto"))
        self.appeal_category = ChoiceGroup([("procedure", "How the exam was run"),
                                            ("accommodation", "An accommodation not given"),
                                            ("score", "The score")], "What the appeal is about", value="score")
        self.appeal_words = w.Textarea(description="The candidate's own words", style=label,
                                       layout=w.Layout(width="100%"))
        self.appeal_received = w.DatePicker(description="Received on", style=label)
        self.appeal_record_button = w.Button(description="Record the appeal", button_style="primary")
        self.appeal_record_button.on_click(lambda _b: self._run(self._appeal_record, self.appeals_message))
        self.appeal_choice = ChoiceGroup([], "Appeal")
        self.appeal_rater = w.Text(description="Rater (who has not rated these answers)", style=label,
                                   layout=w.Layout(width="auto"))
        self.appeal_assign_button = w.Button(description="Send to the rater")
        self.appeal_assign_button.on_click(lambda _b: self._run(self._appeal_assign, self.appeals_message))
        self.appeal_decision = ChoiceGroup([("upheld", "Upheld"), ("partly", "Partly upheld"), ("denied", "Denied")],
                                           "Decision", value="denied")
        self.appeal_void = w.Checkbox(description="Void the sitting (it is not an attempt)", indent=False)
        self.appeal_reason = w.Text(description="Reason (given in the candidate's letter)", style=label,
                                    layout=w.Layout(width="auto"))
        self.appeal_decide_button = w.Button(description="Record the decision", button_style="warning")
        self.appeal_decide_button.on_click(lambda _b: self._run(self._appeal_decide, self.appeals_message))
        self.appeals_message = w.HTML()
        record_box = w.VBox([w.HTML("<h3>Record an appeal</h3>"), self.appeal_sitting,
                             self.appeal_category, self.appeal_words, self.appeal_received,
                             w.HBox([self.appeal_record_button])])
        self.appeal_decide_box = w.VBox([w.HTML("<h3>Decide an appeal</h3>"),
                                         self.appeal_choice, self.appeal_rater, w.HBox([self.appeal_assign_button]),
                                         self.appeal_decision, self.appeal_void, self.appeal_reason,
                                         w.HBox([self.appeal_decide_button])])
        self.appeals_panel = w.VBox([self.appeals_view, record_box, self.appeal_decide_box, self.appeals_message])

    def refresh_appeals(self) -> None:
        rows = self.session.appeals()
        reratings = self.session.reratings()
        days = self.session.course.recourse_settings.appeal_deadline_days
        head = heading(f"Appeals: {len(rows)}", "appeals")
        body = "<p>No appeal is recorded.</p>" if not rows else (
            "<table class='eb-wide'><thead><tr>" + "".join(f"<th scope='col'>{c}</th>" for c in (
                "Appeal", "Sitting", "Candidate", "About", "Received", "Their words", "Rater", "Re-rating",
                "Decision"))
            + "</tr></thead><tbody>" + "".join(
                f"<tr><td data-label='Appeal'>{a}</td><td data-label='Sitting'>{sid}</td>"
                f"<td data-label='Candidate'>{_e(cand)}</td><td data-label='About'>{_e(cat)}</td>"
                f"<td data-label='Received'>{_e(rec)}</td><td data-label='Their words'>{_e(words)}</td>"
                f"<td data-label='Rater'>{_e(rater or '')}</td>"
                f"<td data-label='Re-rating'>{_e(reratings[a].text()) if a in reratings else ''}</td>"
                f"<td data-label='Decision'>{_e(dec or 'open')}{' (sitting voided)' if void else ''}</td></tr>"
                for a, sid, cand, cat, rec, words, rater, dec, void in rows) + "</tbody></table>")
        self.appeals_view.value = (f"{head}<p>An appeal must be received within {days} days of the score report. "
                                   "A score appeal's written answers go to a rater who has not rated them, blind "
                                   "to the earlier ratings; the rater re-rates them in the grader's desk, and the "
                                   "Re-rating column says when that is done.</p>" + body)
        options = [(str(a), f"Appeal {a}: sitting {sid}, {cat}") for a, sid, _c, cat, _r, _w, _ra, dec, _v in rows
                   if not dec]
        current = self.appeal_choice.value
        if options != list(self.appeal_choice.options):
            self.appeal_choice.value = None
            self.appeal_choice.options = options
        self.appeal_choice.value = current if current in dict(options) else (options[0][0] if options else None)
        self.appeal_decide_box.layout.display = "" if options else "none"

    def _appeal_done(self, text: str) -> None:
        self.refresh_appeals()
        self.appeals_message.value = _say(text, "done")
        self.assist.announce(text)

    def _appeal_record(self) -> None:
        if not self.appeal_received.value:
            raise ExamBuilderError("give the day the appeal was received")
        text = self.session.record_appeal(int(self.appeal_sitting.value), self.appeal_category.value or "score",
                                          self.appeal_words.value, self.appeal_received.value)
        self.appeal_words.value = ""
        self._appeal_done(text)

    def _appeal_chosen(self) -> int:
        if not self.appeal_choice.value:
            raise ExamBuilderError("choose an appeal first")
        return int(self.appeal_choice.value)

    def _appeal_assign(self) -> None:
        self._appeal_done(self.session.assign_appeal(self._appeal_chosen(), self.appeal_rater.value))

    def _appeal_decide(self) -> None:
        text = self.session.decide_appeal(self._appeal_chosen(), self.appeal_decision.value or "denied",
                                          self.appeal_reason.value, void=bool(self.appeal_void.value))
        self.appeal_reason.value = ""
        self.appeal_void.value = False
        self._appeal_done(text)
        if self.appeal_decide_box.layout.display == "none":  # no open appeal left: the focused button is gone
            self.assist.move_focus(focus_on("appeals"))

    def _report(self) -> None:
        self.report_message.value = "<p role='status'>Writing the report…</p>"
        path = self.session.write_report()
        text = f"The report is written: {path}"
        self.report_message.value = (f"<p role='status' class='eb-ok'>The report is written. Open it from the "
                                     f"course folder: <code>{_e(path)}</code> (its tables are in "
                                     f"<code>{_e(path.parent / 'tables')}</code>).</p>")
        self.assist.announce(text)

    def display(self):
        from IPython.display import display

        display(self.root)
        return self


def app_from_environment() -> CoordinatorApp:
    """The app for the notebook that ``exam-builder coordinator`` (a typed, self-declared name) or
    the hub service (the hub user, set by the server before this runs) serves; course and exam from env."""
    from ..course import Course

    identity.standalone()
    course = Course(os.environ.get("EXAM_BUILDER_COURSE", "."))
    return CoordinatorApp(CoordinatorSession(course, course.exam_name(os.environ.get("EXAM_BUILDER_EXAM"))))
