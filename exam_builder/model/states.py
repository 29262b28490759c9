"""Every lifecycle state a table stores, as one typed enum per column (cf. PrairieLearn's db-types.ts).

Contract:

- One ``State`` enum per lifecycle column of ``records.models``; the column is typed with it
  (``models.state_type``) and the database refuses any other value with a CHECK constraint
  named ``ck_<table>_<column>`` (migration 0006). Reading a row gives the member, writing
  accepts the member or its value.
- A ``State`` is a ``str``: it compares, hashes, sorts and serialises (JSON, CSV, audit
  hashes) exactly as its value, and ``str()``, f-strings and ``format()`` give the value
  (``f"{SittingStatus.in_progress}"`` is ``in_progress``), so text shown to people and the
  audit chain read as they did when states were plain strings.
- The stored words that were free text are typed the same way (migration 0011): a sitting
  event's kind (``EventKind``, written only by ``records.events.record_event``), a sitting's
  submit reason (``SubmitReason``) and an audit entry's action (``AuditAction``, whose values
  are the words the hash chain has always covered).
- Only states the code writes are here. To add one: add the member here, then a migration
  that drops and re-creates the column's CHECK constraint with the new value list (see
  ``docs/architecture.md``); an old constraint would refuse the new state.
"""
from __future__ import annotations

from enum import Enum


class State(str, Enum):
    """A stored state: a string that is its value wherever text is made from it.

    Members are declared as ``name = "value", "what the state means"``; the meaning is the
    member's ``__doc__``.
    """

    def __new__(cls, value: str, doc: str = "") -> "State":
        member = str.__new__(cls, value)
        member._value_ = value
        member.__doc__ = doc
        return member

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """The values the database accepts, in declaration order (the CHECK constraint's list)."""
        return tuple(m.value for m in cls)


class SittingStatus(State):
    """Where a sitting (``eb_sitting.status``) is in its life; the clock is in its columns."""

    scheduled = "scheduled", "Opened by a proctor with an access code; the candidate has not started."
    in_progress = "in_progress", "Started: the clock runs until submitted by the candidate or at the deadline."
    submitted = "submitted", "Handed in (``submit_reason`` says by whom); answers can no longer change. Graded."
    voided = "voided", "Cancelled by a proctor or the records office; it does not count as an attempt."
    absent = "absent", ("A no-show: the sign-in window closed unstarted, or a proctor marked it absent. It counts as "
                        "an "
                        "attempt only when ``ProgramPolicy.absent_counts_as_attempt`` says so; never a result.")

    @property
    def is_open(self) -> bool:
        """Still to be taken or being taken: answers, time and windows may change."""
        return self in SITTING_OPEN

    @property
    def is_finished(self) -> bool:
        """Submitted, voided or absent: nothing about it can change any more (an absent one may still be voided)."""
        return self in SITTING_FINISHED


#: Sittings still to be taken or being taken (the proctor's live view, window moves).
SITTING_OPEN: tuple[SittingStatus, ...] = (SittingStatus.scheduled, SittingStatus.in_progress)
#: Sittings that can no longer change.
SITTING_FINISHED: tuple[SittingStatus, ...] = (SittingStatus.submitted, SittingStatus.voided, SittingStatus.absent)


class Outcome(State):
    """The result of a graded sitting (``eb_sitting.outcome``); NULL until grading records one."""

    passed = "pass", "At or above the cut score."
    failed = "fail", "Below the cut score: tutoring is offered before another attempt."


class AttendanceStatus(State):
    """Attendance at one module of one class (``eb_attendance.status``)."""

    present = "present", "There for the module."
    late = "late", "There, but arrived late; counts with absences towards the program's limit."
    absent = "absent", "Not there."


#: Attendance that counts towards the limit of eligibility (late or absent).
ATTENDANCE_MISSED: tuple[AttendanceStatus, ...] = (AttendanceStatus.late, AttendanceStatus.absent)


class AccommodationStatus(State):
    """Where an accommodation request is (``eb_accommodation.status``); only approved ones act."""

    requested = "requested", "Asked for; not in effect until approved."
    approved = "approved", "In effect: it changes how the candidate sits the exam (a provider's letter is on file)."
    revoked = "revoked", "Withdrawn; kept for the record, no longer in effect."


class AccommodationKind(State):
    """What an accommodation changes (``eb_accommodation.kind``)."""

    extended_time = "extended_time", "More time: the time limit is multiplied by its ``multiplier``."
    scribe = "scribe", "Someone enters the answers the candidate dictates (responses record the scribe's name)."
    separate_room = "separate_room", "The candidate sits in a room of their own."
    breaks = "breaks", ("Stop-the-clock breaks: ``break_count`` breaks of at most ``break_minutes`` each, taken "
                        "from the exam screen.")
    other = "other", "Another arrangement, described in ``details`` (never a diagnosis)."
    large_print = "large_print", ("Printed forms in large print (at least 18 pt, one question per page where it "
                                  "helps): ``exam-builder print`` uses it for the candidate's booklet.")


class RatingRole(State):
    """Which rating of an open response a row is (``eb_rating.role``)."""

    first = "first", "The first rating; every open response gets one."
    second = "second", "An independent second rating (the rater does not see the first), for a share of responses."
    adjudication = "adjudication", "A third rating when the first two are too far apart; its score decides."


#: The independent ratings, whose agreement the report measures.
INDEPENDENT_ROLES: tuple[RatingRole, ...] = (RatingRole.first, RatingRole.second)


class ItemScoreStatus(State):
    """Whether an open response's score is decided (``eb_item_score.status``)."""

    pending = "pending", "Ratings are missing: no score yet."
    adjudication = "adjudication", "Two ratings too far apart: waiting for an adjudication."
    rerate = "rerate", "A rubric edit removed a level a rating chose: waiting for a re-rating."
    final = "final", "Decided: the score stands and is mirrored into nbgrader's gradebook."


class ScoreFlagKind(State):
    """Something odd found while scoring a submission (``eb_score_flag.kind``)."""

    missing_notebook = "missing_notebook", "No notebook in the submission: every question scores 0."
    invalid_notebook = "invalid_notebook", "The notebook could not be read: set aside, everything stays pending."
    malformed_cell = "malformed_cell", "A cell is not shaped as a notebook cell."
    bad_timestamp = "bad_timestamp", "timestamp.txt is not a time; scored without one."
    deleted_cell = "deleted_cell", "A graded cell is missing from the submission."
    duplicated_cell = "duplicated_cell", "Two cells share a grade id; the last one counts (as in nbgrader)."
    unknown_cell = "unknown_cell", "A cell has a grade id the form does not have; ignored."
    edited_locked_cell = "edited_locked_cell", "A locked cell was edited; the released text is used."
    changed_points = "changed_points", "A cell claims other points than the form gives."
    changed_cell_type = "changed_cell_type", "A cell's type was changed."
    changed_metadata = "changed_metadata", "A cell's nbgrader flags were changed; the gradebook's are used."
    junk_answer = "junk_answer", "An answer cell holds something other than a choice; scored 0."
    unknown_label = "unknown_label", "An answer names a label the form does not show; scored 0."
    unknown_candidate = "unknown_candidate", "A submission folder that names no candidate of the course: not graded."
    rerate = "rerate", "A rubric edit removed a level a rating chose: the response must be re-rated."


#: The flag kinds objective scoring writes; re-running it replaces exactly these.
OBJECTIVE_FLAG_KINDS: tuple[ScoreFlagKind, ...] = (
    ScoreFlagKind.missing_notebook,
    ScoreFlagKind.invalid_notebook,
    ScoreFlagKind.malformed_cell,
    ScoreFlagKind.bad_timestamp,
    ScoreFlagKind.deleted_cell,
    ScoreFlagKind.duplicated_cell,
    ScoreFlagKind.unknown_cell,
    ScoreFlagKind.edited_locked_cell,
    ScoreFlagKind.changed_points,
    ScoreFlagKind.changed_cell_type,
    ScoreFlagKind.changed_metadata,
    ScoreFlagKind.junk_answer,
    ScoreFlagKind.unknown_label,
)

class ReviewDecision(State):
    """A reviewer's decision on one version of an item (``eb_item_review.decision``, ``bank.review``)."""

    approve = "approve", "The item may be used on certification forms, as long as its content stays as reviewed."
    revise = "revise", "The author must change the item; it waits for another review."
    retire = "retire", "The item is taken out of use for good, whatever its content becomes."


class SubmitReason(State):
    """Who or what handed a sitting in (``eb_sitting.submit_reason``); NULL until it is submitted."""

    candidate = "candidate", "The candidate pressed Submit."
    deadline = "deadline", "The clock ran out: submitted automatically, at the deadline."
    proctor = "proctor", "A proctor submitted it."
    paper = "paper", ("Sat on paper: handed in once every page of its answer sheet was scanned and every unclear "
                      "mark verified.")


class EventKind(State):
    """What happened in a sitting (``eb_sitting_event.kind``); written only by ``records.events.record_event``."""

    opened = "opened", "A proctor opened the sitting with an access code (details: room, by, date)."
    sign_in = "sign_in", "The candidate signed in for the first time (details: source)."
    resume = "resume", "The candidate signed in again to a started sitting (details: source)."
    sign_in_refused = "sign_in_refused", "A sign-in was refused (details: why, source); shown to the proctor."
    taken_over = "taken_over", "The sitting was opened on another screen, which took it over; shown to the proctor."
    receipt_shown = "receipt_shown", "A submitted sitting's receipt was shown again at sign-in (details: source)."
    identity_confirmed = "identity_confirmed", "The candidate confirmed the name shown was theirs."
    identity_rejected = "identity_rejected", "The candidate said the name shown was not theirs; shown to the proctor."
    start = "start", "The candidate started the exam: the clock runs."
    refused_change = "refused_change", ("A change to an answer was refused (details: item, what, why); shown to the "
                                        "proctor.")
    limit = "limit", "A save limit was reached (rate, rows or size); once a minute at most; shown to the proctor."
    warning = "warning", "The candidate was warned that time is running out (details: minutes)."
    time_added_shown = "time_added_shown", "The candidate was shown that time was added (details: minutes)."
    draft_dropped = "draft_dropped", "A draft answer was dropped: the answer changed on another screen."
    submit = "submit", "The sitting was handed in (details: reason, receipt)."
    time_added = "time_added", "A proctor added time (details: minutes, by)."
    scribe = "scribe", "A proctor recorded the scribe (details: scribe, by)."
    paused = "paused", "A proctor paused the sitting or its room (details: by, reason, room)."
    resumed = "resumed", "A proctor resumed it (details: by, reason, room, seconds stopped)."
    break_started = "break_started", "The candidate started a break (details: minutes, break, of)."
    break_ended = "break_ended", "A break ended (details: why, seconds)."
    voided = "voided", "The sitting was voided (details: by)."
    window = "window", "Its sign-in window was moved (details: by, opens, closes)."
    code_reissued = "code_reissued", "A new access code was issued (details: by)."
    absent = "absent", "The sitting was made absent (details: by, reason)."
    absent_undone = "absent_undone", "An absent sitting was opened again (details: by, reason)."


#: Sitting events the proctor is shown as alerts.
ALERT_KINDS: tuple[EventKind, ...] = (EventKind.taken_over, EventKind.sign_in_refused, EventKind.refused_change,
                                      EventKind.limit, EventKind.identity_rejected)


class KeyAction(State):
    """A key-validation decision on one objective item (``eb_key_decision.action``, ``grading.keys``)."""

    keep = "keep", "The key stands: nothing changes."
    accept_also = "accept", "Another answer is accepted as well as the key (full points for either)."
    credit = "credit", "Everyone who sat the item gets its points, whatever they answered."
    drop = "drop", "The item is taken out of scoring: the form's total loses its points and the cut rescales."


class AppealCategory(State):
    """What a candidate's appeal is about (``eb_appeal.category``, ``grading.appeals``)."""

    procedure = "procedure", "How the exam was run (the room, the proctor, the software)."
    accommodation = "accommodation", "An approved accommodation was not given as approved."
    score = "score", "The score: the written answers rated again by a rater who has not rated them."


class AppealDecision(State):
    """How an appeal was decided (``eb_appeal.decision``; NULL while it is open)."""

    upheld = "upheld", "The appeal succeeds: the score is changed (re-rated) or the sitting voided."
    partly = "partly", "The appeal succeeds in part."
    denied = "denied", "The appeal fails: the result stands."


class AuditAction(State):
    """What an audit entry records (``eb_audit.action``): the change, named as the entry's hash has always read it."""

    accommodation_request = "accommodation.request", "An accommodation was requested."
    accommodation_approve = "accommodation.approve", "An accommodation was approved (in effect from now)."
    accommodation_revoke = "accommodation.revoke", "An accommodation was revoked."
    sign_in_unlock = "sign_in.unlock", "A source locked out after wrong access codes was let in again."
    roster_import = "roster.import", "A roster sheet was imported."
    attendance_import = "attendance.import", "An attendance sheet was imported."
    homework_import = "homework.import", "A homework sheet was imported."
    homework_sync = "homework.sync", "Homework was read from the gradebook."
    sitting_open = "sitting.open", "A sitting was opened (or scheduled) for a candidate."
    sitting_void = "sitting.void", "A sitting was voided."
    sitting_outcome = "sitting.outcome", "A sitting's outcome (pass or fail) was recorded."
    sitting_absent = "sitting.absent", "A sitting was made absent (a no-show)."
    sitting_absent_undone = "sitting.absent_undone", "An absent sitting was opened again."
    sitting_pause = "sitting.pause", "A proctor paused a sitting."
    sitting_resume = "sitting.resume", "A proctor resumed a paused sitting."
    sitting_window = "sitting.window", "A sitting's sign-in window was moved."
    sitting_reissue_code = "sitting.reissue_code", "A sitting's access code was issued again."
    sitting_break = "sitting.break", "The candidate started a break."
    sitting_break_end = "sitting.break_end", "A break ended (the candidate came back or its time ran out)."
    add_time = "add_time", "A proctor added time to a sitting."
    record_scribe = "record_scribe", "A proctor recorded a sitting's scribe."
    tutoring_offer = "tutoring.offer", "Tutoring was offered after a fail."
    tutoring_attend = "tutoring.attend", "Tutoring was attended."
    exam_created = "exam.created", "An exam was created by the first build of its forms."
    form_built = "form.built", "A form was built."
    form_rebuilt = "form.rebuilt", "A form was built again (not yet issued)."
    form_released = "form.released", "A form was released again, unchanged."
    item_reviewed = "item.reviewed", "A reviewer decided on an item's version."
    practice_set_built = "practice_set_built", "A practice set was built."
    score_objective = "score_objective", "Objective scoring of an assignment's submissions."
    score_objective_unknown = "score_objective.unknown_candidates", "Submissions naming no candidate were not graded."
    rating = "rating", "A rater scored an open response (or changed the score)."
    rating_claim_expired = "rating_claim_expired", "A rater's claim on a response expired unrated."
    rating_rerate = "rating_rerate", "A rubric edit removed a level a rating chose: the rating must be redone."
    rating_reapplied = "rating_reapplied", "A rubric edit changed points: the rating's score was computed again."
    item_score = "item_score", "An open response's score was decided."
    paper_print = "paper.print", "A form's booklet or answer sheets were printed (who, how many copies)."
    paper_scan = "paper.scan", "A scanned answer-sheet page was read into a sitting's journal."
    paper_verify = "paper.verify", "A staff member confirmed or corrected an unclear mark read from paper."
    study_created = "study.created", "A standard-setting study was created (method, scope, the definition)."
    study_panelist = "study.panelist", "A panelist joined a standard-setting study (role, conflict declaration)."
    study_round = "study.round", "A round of a standard-setting study was opened or closed."
    study_ratings = "study.ratings", "Panelists' ratings were entered into a study's open round."
    standard_adopted = "standard.adopted", "The board adopted a cut score from a standard-setting study."
    form_recut = "form.recut", "A frozen form's cut score was changed by a recorded decision."
    key_decision = "key.decision", "A key-validation decision on an item was recorded (not yet applied)."
    key_applied = "key.applied", "A key-validation decision was applied: the affected sittings were re-scored."
    key_closed = "key.closed", "Key validation of an exam's submitted sittings was closed: their results are final."
    appeal_recorded = "appeal.recorded", "A candidate's appeal was recorded."
    appeal_rerate = "appeal.rerate", "A score appeal's written answers were sent to a rater who had not rated them."
    appeal_decided = "appeal.decided", "An appeal was decided (upheld, partly, denied) with its reason."


#: Every stored state: ``(table, column)`` -> its enum (what migrations 0006, 0007, 0009, 0010 and 0011 and their
#: tests check).
COLUMNS: dict[tuple[str, str], type[State]] = {
    ("eb_sitting", "status"): SittingStatus,
    ("eb_sitting", "outcome"): Outcome,
    ("eb_attendance", "status"): AttendanceStatus,
    ("eb_accommodation", "status"): AccommodationStatus,
    ("eb_accommodation", "kind"): AccommodationKind,
    ("eb_rating", "role"): RatingRole,
    ("eb_item_score", "status"): ItemScoreStatus,
    ("eb_score_flag", "kind"): ScoreFlagKind,
    ("eb_item_review", "decision"): ReviewDecision,
    ("eb_sitting", "submit_reason"): SubmitReason,
    ("eb_sitting_event", "kind"): EventKind,
    ("eb_audit", "action"): AuditAction,
    ("eb_key_decision", "action"): KeyAction,
    ("eb_appeal", "category"): AppealCategory,
    ("eb_appeal", "decision"): AppealDecision,
}
