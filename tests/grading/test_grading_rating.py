"""Rating: blind double ratings, resolution rules, adjudication, provenance, the gradebook, rubric edits."""
from __future__ import annotations

import json

import gradingkit as kit
import pytest
import yaml
from sqlalchemy import select
from test_grading_objective import gradebook_rows

from exam_builder.course import Course
from exam_builder.errors import ExamBuilderError
from exam_builder.grading.grader_app import GraderApp, GraderSession
from exam_builder.grading.objective import grade_exam
from exam_builder.grading.queue import RatingQueue, open_items
from exam_builder.grading.rubric_scoring import reapply
from exam_builder.records.audit import verify
from exam_builder.records.models import AuditEntry, Candidate, ItemScore, Rating, ScoreFlag, Sitting


def with_policy(course: Course, **settings) -> Course:
    """The same course with ProgramPolicy settings changed in its nbgrader_config.py."""
    cfg = course.root / "nbgrader_config.py"
    cfg.write_text(cfg.read_text() + "".join(f"\nc.ProgramPolicy.{k} = {v!r}" for k, v in settings.items()) + "\n")
    course.db.dispose()
    return Course(course.root)


def first_item(course) -> str:
    return open_items(course, kit.EXAM)[0][0]


def top(rubric) -> dict[str, float]:
    return {c.id: c.max_points for c in rubric.criteria}


def low(rubric) -> dict[str, float]:
    """One step below the top on the first criterion (1.5 points less with the test rubric)."""
    levels = top(rubric)
    levels[rubric.criteria[0].id] = rubric.criteria[0].levels[-2].points
    return levels


def decisions(course, item) -> dict[int, ItemScore]:
    with course.db.read() as s:
        rows = s.execute(select(ItemScore).where(ItemScore.item_id == item)).scalars().all()
        return {r.sitting_id: (r.status, r.score, r.rule, list(r.rating_ids)) for r in rows}


def test_two_ratings_within_tolerance_resolve_by_the_mean_with_provenance(gcourse):
    course = with_policy(gcourse, rating_tolerance=1.5)
    grade_exam(course, kit.EXAM, actor="staff", workers=1)
    item = first_item(course)
    ann, ben = GraderSession(course, kit.EXAM), GraderSession(course, kit.EXAM)
    ann.sign_in("Ann Grader")
    ben.sign_in("Ben Grader")
    claim = ann.pick(item)
    assert claim is not None and claim.role == "first"
    ann.levels = top(ann.rubric)
    decision = ann.save("clear and kind")
    assert decision.status == "pending"  # every response gets a second rating by default
    claim2 = ben.pick(item)
    assert claim2.anon_id == claim.anon_id and claim2.role == "second"  # Ann's response, now Ben's turn
    ben.levels = low(ben.rubric)
    decision = ben.save()
    expected = (ann.rubric.max_points + sum(low(ann.rubric).values())) / 2
    assert decision.status == "final" and decision.rule == "mean" and decision.score == pytest.approx(expected)
    sitting = next(sid for sid, d in decisions(course, item).items() if d[0] == "final")
    with course.db.read() as s:
        ratings = s.execute(select(Rating).where(Rating.sitting_id == sitting, Rating.item_id == item)).scalars().all()
        by_role = {r.role: (r.id, r.rater, r.score) for r in ratings}
        cand = s.get(Sitting, sitting).candidate_id
        assert verify(s).ok
        actions = s.execute(select(AuditEntry.action, AuditEntry.actor)
                            .where(AuditEntry.entity.in_(["rating", "response"]))).all()
    assert by_role["first"][1] == "Ann Grader" and by_role["second"][1] == "Ben Grader"
    assert decisions(course, item)[sitting][3] == [by_role["first"][0], by_role["second"][0]]  # provenance
    assert ("rating", "Ann Grader") in actions and ("rating", "Ben Grader") in actions
    assert ("item_score", "Ben Grader") in actions
    # the gradebook has the manual score and the rubric comment, as the formgrader shows them
    rows = gradebook_rows(course)
    forms = {e.item_id: e.number for m in kit_manifests(course).values() for e in m.items}
    gid = f"q{forms[item]:02d}"
    assert rows[(cand, gid, "grade")][1] == pytest.approx(expected)
    from exam_builder.grading.gradebook_sync import BASE_CELL, COMMENT, SUBMISSION, SUBMITTED_NB

    with course.db.read() as s:
        comment = s.execute(select(COMMENT.c.manual_comment).select_from(COMMENT)
                            .join(SUBMITTED_NB, SUBMITTED_NB.c.id == COMMENT.c.notebook_id)
                            .join(SUBMISSION, SUBMISSION.c.id == SUBMITTED_NB.c.assignment_id)
                            .join(BASE_CELL, BASE_CELL.c.id == COMMENT.c.cell_id)
                            .where(SUBMISSION.c.student_id == cand, BASE_CELL.c.name == gid)).scalar_one()
    assert "mean of two ratings" in comment and "clear and kind" in comment and "Main idea" in comment


def kit_manifests(course):
    from exam_builder.assembly.forms import load_forms

    with course.db.read() as s:
        return {f.assignment: m for f, m in load_forms(s, kit.EXAM)}


@pytest.mark.parametrize("rule,expect", [("lower", min), ("higher", max)])
def test_resolution_rules_lower_and_higher(gcourse, rule, expect):
    course = with_policy(gcourse, rating_tolerance=1.5, rating_resolution=rule)
    item = first_item(course)
    q = RatingQueue(course, kit.EXAM, item)
    a = q.claim("Ann")
    q.save("Ann", a.rating_id, top(q.rubric))
    b = q.claim("Ben")
    assert b.anon_id == a.anon_id and b.role == "second"
    d = q.save("Ben", b.rating_id, low(q.rubric))
    scores = [q.rubric.max_points, sum(low(q.rubric).values())]
    assert d.status == "final" and d.rule == rule and d.score == expect(scores)


def test_wide_gap_goes_to_adjudication_by_a_third_grader(gcourse):
    course = gcourse  # tolerance 1.0; the rubric's steps are 1.5 points
    item = first_item(course)
    q = RatingQueue(course, kit.EXAM, item)
    a = q.claim("Ann")
    q.save("Ann", a.rating_id, top(q.rubric))
    b = q.claim("Ben")
    assert b.anon_id == a.anon_id
    d = q.save("Ben", b.rating_id, {c.id: 0.0 for c in q.rubric.criteria})
    assert d.status == "adjudication" and d.score is None
    # neither earlier grader may adjudicate; they get other responses (or nothing)
    for who in ("Ann", "Ben"):
        other = q.claim(who)
        assert other is None or other.anon_id != a.anon_id
        if other is not None:
            q.release(who, other.rating_id)
    c = q.claim("Cat")
    assert c.anon_id == a.anon_id and c.role == "adjudication"
    d = q.save("Cat", c.rating_id, low(q.rubric), "between the two")
    assert d.status == "final" and d.rule == "adjudicated" and d.score == sum(low(q.rubric).values())
    assert len(d.rating_ids) == 3
    # the results see the adjudicated score; the response is not offered again
    assert q.status()["final"] == 1


def test_blind_anonymous_stable_order_and_one_role_per_grader(gcourse):
    course = gcourse
    item = first_item(course)
    q1, q2 = RatingQueue(course, kit.EXAM, item), RatingQueue(course, kit.EXAM, item)
    order1 = [(r.anon_id, r.sitting_id) for r in q1.responses()]
    assert order1 == [(r.anon_id, r.sitting_id) for r in q2.responses()]  # stable
    with course.db.read() as s:
        people = s.execute(select(Candidate.id, Candidate.first_name, Candidate.last_name)).all()
    for anon, _sid in order1:
        assert anon.startswith("R-") and not any(p.id in anon or p.last_name in anon for p in people)
    # the order is not the candidates' order (ids or names), and it does not change when a name does
    with course.db.transaction() as s:
        for cand in s.execute(select(Candidate)).scalars():
            cand.last_name = "Renamed"
    assert [(r.anon_id, r.sitting_id) for r in RatingQueue(course, kit.EXAM, item).responses()] == order1

    ann = GraderSession(course, kit.EXAM)
    ann.sign_in("Ann Grader")
    first = ann.pick(item)
    ann.levels = top(ann.rubric)
    ann.save("SECRET-FIRST-COMMENT")
    # Ben's app: the widgets never hold Ann's score, comment or name
    ben = GraderSession(course, kit.EXAM)
    app = GraderApp(ben)
    app.name.submit("Ben Grader")
    app.item.value = item
    app.start.click()
    assert ben.current.anon_id == first.anon_id and ben.current.role == "second"
    state = json.dumps([wd.get_state() for wd in walk(app.root)], default=str)
    assert "SECRET-FIRST-COMMENT" not in state and "Ann Grader" not in state
    assert not hasattr(ben.current, "score")
    assert all(p.id not in state for p in people)  # no candidate id anywhere in the widgets
    # Ann never gets that response again, in any role
    seen = set()
    while (c := ann.current) is not None:
        assert c.anon_id != first.anon_id
        seen.add(c.anon_id)
        ann.levels = low(ann.rubric)
        ann.save()
    # keyboard: Ben types the level numbers and Enter in the shortcut box
    app.keybox.value = "32"
    assert ben.levels == {c.id: c.levels[k].points for c, k in zip(ben.rubric.criteria, (2, 1), strict=False)}
    rated = ben.current.rating_id
    app.comment.value = "Typed before the keys."  # a comment, then the shortcut keys' Enter: saved with it
    app.keybox.value = "32\n"
    assert app.keybox.value == "" and "Saved" in app.message.value
    assert "you rated 1" in app.progress_text.value
    with course.db.read() as s:
        assert s.get(Rating, rated).comment == "Typed before the keys."


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def test_double_rating_share_is_a_deterministic_draw(gcourse):
    course = with_policy(gcourse, double_rating_share=0.5)
    item = first_item(course)
    q = RatingQueue(course, kit.EXAM, item)
    needs = [q._needed_roles(r.sitting_id, {}) for r in q.responses() if not r.blank]
    again = [RatingQueue(course, kit.EXAM, item)._needed_roles(r.sitting_id, {}) for r in q.responses() if not r.blank]
    assert needs == again
    single = with_policy(course, double_rating_share=0.0)
    q0 = RatingQueue(single, kit.EXAM, item)
    a = q0.claim("Ann")
    d = q0.save("Ann", a.rating_id, top(q0.rubric))
    assert d.status == "final" and d.rule == "single"


def test_bad_levels_and_strangers_are_refused(gcourse):
    q = RatingQueue(gcourse, kit.EXAM, first_item(gcourse))
    a = q.claim("Ann")
    with pytest.raises(ExamBuilderError, match="choose a level"):
        q.save("Ann", a.rating_id, {})
    with pytest.raises(ExamBuilderError, match="no level worth"):
        q.save("Ann", a.rating_id, {c.id: 2.9 for c in q.rubric.criteria})
    with pytest.raises(ExamBuilderError, match="held by another grader"):
        q.save("Mallory", a.rating_id, top(q.rubric))
    with pytest.raises(ExamBuilderError, match="sign in"):
        q.claim("  ")


def test_claims_that_run_out_return_to_the_queue(gcourse):
    cfg = gcourse.root / "nbgrader_config.py"
    cfg.write_text(cfg.read_text() + "\nc.GradingSettings.claim_timeout_minutes = 0\n")
    course = Course(gcourse.root)
    q = RatingQueue(course, kit.EXAM, first_item(course))
    a = q.claim("Ann")
    b = q.claim("Ben")  # Ann's claim ran out: Ben takes it over
    assert (b.anon_id, b.role) == (a.anon_id, a.role)
    with pytest.raises(ExamBuilderError, match="held by another grader"):
        q.save("Ann", a.rating_id, top(q.rubric))
    assert q.save("Ben", b.rating_id, top(q.rubric)).status == "pending"


def rate_everything(course, item, graders=("Ann", "Ben"), levels=top):
    q = RatingQueue(course, kit.EXAM, item)
    progress = True
    while progress:
        progress = False
        for g in graders:
            c = q.claim(g)
            if c is not None:
                q.save(g, c.rating_id, levels(q.rubric))
                progress = True
    return q


def test_rubric_edit_reapplies_to_every_rating_and_sends_lost_levels_back(gcourse):
    course = gcourse
    grade_exam(course, kit.EXAM, actor="staff", workers=1)
    item = first_item(course)
    q = RatingQueue(course, kit.EXAM, item)
    def mixed(r):
        return {r.criteria[0].id: r.criteria[0].levels[1].points, r.criteria[1].id: r.criteria[1].max_points}

    rate_everything(course, item, levels=mixed)
    before = decisions(course, item)
    assert before and all(d[0] == "final" for d in before.values() if d[2] != "no_response")
    path = course.rubrics_dir / f"{q.rubric.id}.yaml"
    data = yaml.safe_load(path.read_text())

    # 1. a descriptor is reworded: same levels, same scores, new rubric version recorded
    data["criteria"][1]["levels"][0]["descriptor"] = "nothing relevant yet"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    res = reapply(course, kit.EXAM, RatingQueue(course, kit.EXAM, item).rubric, "author", "reworded a descriptor")
    assert not res.rescored and not res.rerate and res.unchanged > 0
    assert decisions(course, item) == before

    # 2. the middle level of the first criterion changes its points: those ratings go back
    data["criteria"][0]["levels"][1]["points"] = 1.0
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    rubric = RatingQueue(course, kit.EXAM, item).rubric
    res = reapply(course, kit.EXAM, rubric, "author", "partial credit is worth 1 point")
    assert res.rerate and not res.rescored
    after = decisions(course, item)
    rated = [sid for sid, d in before.items() if d[2] != "no_response"]
    assert all(after[sid][0] == "rerate" and after[sid][1] is None for sid in rated)
    with course.db.read() as s:
        flags = s.execute(select(ScoreFlag.kind, ScoreFlag.details).where(ScoreFlag.kind == "rerate")).all()
        audit_actions = set(s.execute(select(AuditEntry.action).where(AuditEntry.actor == "author")).scalars())
    assert len(flags) == len(res.rerate) and "Main idea" in flags[0][1]
    assert {"rating_rerate", "item_score"} <= audit_actions
    rows = gradebook_rows(course)  # the gradebook no longer shows a score for them
    from exam_builder.grading.resolution import response_context

    with course.db.read() as s:
        where = [(ctx.sitting.candidate_id, ctx.grade_id) for ctx in (response_context(s, sid, item) for sid in rated)]
    assert all(rows[(cand, gid, "grade")][1] is None for cand, gid in where)
    # the graders re-rate: their claim comes back with what still applies
    ann = RatingQueue(course, kit.EXAM, item)
    c = ann.claim("Ann")
    assert c is not None and set(c.levels) == {rubric.criteria[1].id}
    # 3. an edit that breaks the item's points is refused, nothing changes
    data["criteria"][1]["levels"][-1]["points"] = 10
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ExamBuilderError, match="add up to"):
        reapply(course, kit.EXAM, _load(course, rubric.id), "author", "oops")
    assert decisions(course, item) == after


def _load(course, rid):
    from exam_builder.grading.queue import load_rubric_for

    return load_rubric_for(course, rid)


def test_rerating_after_an_edit_decides_again(gcourse):
    course = gcourse
    item = first_item(course)
    rate_everything(course, item, levels=lambda r: {c.id: c.levels[1].points for c in r.criteria})
    q = RatingQueue(course, kit.EXAM, item)
    path = course.rubrics_dir / f"{q.rubric.id}.yaml"
    data = yaml.safe_load(path.read_text())
    for crit in data["criteria"]:
        crit["levels"][1]["points"] = 1.0
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    rubric = _load(course, q.rubric.id)
    res = reapply(course, kit.EXAM, rubric, "author", "partial is 1 point")
    assert res.rerate
    rate_everything(course, item, levels=lambda r: {c.id: c.levels[1].points for c in r.criteria})
    final = decisions(course, item)
    assert all(d[0] == "final" for d in final.values())
    assert {d[1] for d in final.values() if d[2] != "no_response"} == {2.0}
    with course.db.read() as s:
        assert not s.execute(select(ScoreFlag).where(ScoreFlag.kind == "rerate")).first()


def test_a_save_does_not_read_the_queue_again_yet_sees_what_changed(gcourse, monkeypatch):
    """Each save and progress count checks what the responses come from in a few small queries instead of reading
    every response again (a day's grading was quadratic: ~2,100 saves each reading the whole queue). A new
    submission, a journal row, a notebook file rewritten or a submission set aside is seen at the next claim."""
    from exam_builder.grading.submission import SET_ASIDE
    from exam_builder.records.models import Response

    course = gcourse
    grade_exam(course, kit.EXAM, actor="staff", workers=1)
    item = first_item(course)
    manifests = kit_manifests(course)
    assignment = next(a for a, m in manifests.items() if any(e.item_id == item for e in m.items))
    number = next(e.number for e in manifests[assignment].items if e.item_id == item)
    for i in range(4):  # a few more answers, in the journal
        kit.add_sitting(course, f"x{i:03d}", assignment, {}, {number: f"Made-up answer number {i} about listening."})
    reads = []
    full_read = RatingQueue._sittings
    monkeypatch.setattr(RatingQueue, "_sittings", lambda self, s: reads.append(1) or full_read(self, s))
    ann = GraderSession(course, kit.EXAM)
    ann.sign_in("Ann Grader")
    ann.pick(item)
    saves = 0
    while ann.current is not None:
        ann.levels = top(ann.rubric)
        ann.save()
        ann.progress()  # the grader's desk counts after every save
        saves += 1
    assert saves >= 5 and len(reads) == 1, (saves, len(reads))
    before = {r.anon_id: r for r in ann.queue.responses()}
    assert len(reads) == 1

    new = kit.add_sitting(course, "late001", assignment, {}, {number: "A late answer about listening first."})
    claim = ann.next()  # the late submission is hers to rate
    assert len(reads) == 2 and claim is not None and claim.text == "A late answer about listening first."
    assert len(ann.queue.responses()) == len(before) + 1 and len(reads) == 2

    nb_only = kit.add_sitting(course, "late002", assignment, {}, {})  # no journal row: the notebook is read
    rel_nb = kit.released(course, assignment)
    path = kit.write_submission(course, "late002", assignment, kit.fill(rel_nb, {}, {number: "Written once."}))
    texts = {r.sitting_id: r.text for r in ann.queue.responses()}
    assert texts[nb_only] == "Written once." and len(reads) == 3
    path.write_text(json.dumps(kit.fill(rel_nb, {}, {number: "Written again, longer."}), indent=1), encoding="utf-8")
    texts = {r.sitting_id: r.text for r in ann.queue.responses()}
    assert texts[nb_only] == "Written again, longer." and len(reads) == 4
    # a journal row for it (as the paper room's verification writes) wins over the notebook
    with course.db.transaction() as s:
        s.add(Response(sitting_id=nb_only, item_id=item, value="From the journal."))
    assert {r.sitting_id: r.text for r in ann.queue.responses()}[nb_only] == "From the journal." and len(reads) == 5
    with course.db.transaction() as s:  # grade sets the submission aside: never handed to a grader
        s.add(ScoreFlag(assignment=assignment, candidate_id="late001", grade_id="", kind=SET_ASIDE,
                        details="submitted/late001: unreadable"))
    aside = {r.sitting_id: r.set_aside for r in ann.queue.responses()}
    assert aside[new] and not aside[nb_only] and len(reads) == 6
    assert ann.queue.set_aside() == {("late001", assignment): "submitted/late001: unreadable"} and len(reads) == 6


def test_two_grader_processes_on_one_queue_lose_nothing_and_never_share_a_role(gcourse, tmp_path):
    import subprocess
    import sys
    from collections import Counter
    from pathlib import Path

    from sqlalchemy import func

    course = gcourse
    item = first_item(course)
    manifests = kit_manifests(course)
    assignment = next(a for a, m in manifests.items() if any(e.item_id == item for e in m.items))
    m = manifests[assignment]
    for i in range(24):  # a bigger cohort on that form, answers in the journal
        number = next(e.number for e in m.items if e.item_id == item)
        kit.add_sitting(course, f"x{i:03d}", assignment, {}, {number: f"Made-up answer number {i} about listening."})
    n_responses = len([r for r in RatingQueue(course, kit.EXAM, item).responses() if not r.blank])
    flag = tmp_path / "go"
    worker = Path(__file__).with_name("grader_worker.py")
    procs = [subprocess.Popen([sys.executable, str(worker), str(course.root), kit.EXAM, item, name, str(flag)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in ("Ann Grader", "Ben Grader")]
    flag.write_text("go")
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    saved = sum(int(o[0].split()[-1]) for o in outs)
    with course.db.read() as s:
        rows = s.execute(select(Rating.sitting_id, Rating.role, Rating.rater, Rating.score)
                         .where(Rating.item_id == item)).all()
        audited = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "rating"))
        assert verify(s).ok
    assert len(rows) == saved == audited == 2 * n_responses  # nothing lost, every save audited
    assert all(score is not None for *_x, score in rows)
    assert Counter((sid, role) for sid, role, *_ in rows).most_common(1)[0][1] == 1  # no role twice
    by_response: dict[int, set] = {}
    for sid, _role, rater, _ in rows:
        by_response.setdefault(sid, set()).add(rater)
    assert all(raters == {"Ann Grader", "Ben Grader"} for raters in by_response.values())  # two graders, one role each
    assert {int(o[0].split()[-1]) for o in outs} != {0}  # both worked
    # a third grader settles the wide gaps; then every response is decided
    rate_everything(course, item, graders=("Cat Grader",))
    assert RatingQueue(course, kit.EXAM, item).status() == {"final": n_responses}


def test_the_grader_has_a_port_of_its_own():
    """`exam-builder grader` and the other apps can run on one machine with their default ports."""
    import click

    from exam_builder.cli import cli
    from exam_builder.hub.config import HubSettings

    def port(cmd) -> int:
        return next(p.default for p in cmd.params if isinstance(p, click.Option) and p.name == "port")

    grader = port(cli.commands["grader"])
    commands = [*cli.commands.items(), *((f"practice {n}", c) for n, c in cli.commands["practice"].commands.items())]
    others = {name: port(cmd) for name, cmd in commands
              if name != "grader" and any(isinstance(p, click.Option) and p.name == "port" for p in cmd.params)}
    assert grader == 8870 and {"serve", "proctor", "coordinator", "practice serve"} <= set(others), others
    assert grader not in others.values(), others  # the practice app is on 8868
    assert grader not in HubSettings(course=".").service_ports.values()
