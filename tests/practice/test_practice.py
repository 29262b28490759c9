"""Practice sets and runs: items marked for practice never reach a certification form, a practice
set never holds a certification item (the builder proves it, against the bank and stored forms),
and a run gives right or wrong with the rationale and a summary with what to study next."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from coursekit import approve_offered_items
from sqlalchemy import func, select

from exam_builder.assembly.blueprint import eligible_items, load_blueprint
from exam_builder.bank import Kind, Pool, Where, load_bank
from exam_builder.bank.parse import parse_cell, render_item
from exam_builder.bank.validate import validate
from exam_builder.cli import cli
from exam_builder.course import Course
from exam_builder.errors import ExamBuilderError, ValidationFailed
from exam_builder.model.rubric import load_rubrics
from exam_builder.practice.run import PracticeRun, TimeUp
from exam_builder.practice.sets import assemble_set, build_practice, load_set
from exam_builder.records.models import AuditEntry, Response, Sitting

PRACTICE_NB = "source/cps/practice.ipynb"


def run_cli(course: Course, *args: str):
    return CliRunner().invoke(cli, ["--course", str(course.root), *args], catch_exceptions=False)


def sample(course: Course):
    bank = load_bank([course.source_dir], lambda p: str(p.relative_to(course.root)))
    rubrics, _ = load_rubrics([course.rubrics_dir])
    return bank, rubrics


def counts(course: Course) -> tuple[int, int, int]:
    with course.db.read() as s:
        return tuple(s.execute(select(func.count()).select_from(m)).scalar_one()
                     for m in (Sitting, Response, AuditEntry))


# -- the bank: a practice pool apart -----------------------------------------------------------
def test_the_sample_bank_has_a_practice_pool_that_certification_forms_never_draw(course):
    bank, rubrics = sample(course)
    practice = [i for i in bank.items.values() if i.practice]
    assert len(practice) == 19 and {i.module for i in practice} == set(range(1, 10))
    assert all(i.where.file == PRACTICE_NB for i in practice)
    assert not [p for p in validate(bank, rubrics, course.policy) if p.is_error]
    # approved or not, a practice item is never eligible for a certification form
    bp = load_blueprint(course.exam_dir("cps") / "blueprint.yaml", bank, rubrics, course.policy, "blueprint.yaml")
    elig = eligible_items(bp, bank, rubrics)
    assert not {i.id for i in elig.items} & {i.id for i in practice}
    assert all("practice item" in elig.excluded[i.id] for i in practice if i.id in elig.excluded)
    assert bank.practice() == practice and not set(bank.live()) & set(practice)


def test_a_certification_items_content_and_hash_do_not_mention_the_pool(course):
    bank, _ = sample(course)
    item = bank.items["ps-mc-01"]
    assert "pool" not in item.content()
    moved = item.model_copy(update={"pool": Pool.practice})
    assert moved.content()["pool"] == "practice" and moved.content_hash() != item.content_hash()
    again, problems = parse_cell(render_item(moved), item.where)
    assert not problems and again.pool is Pool.practice and again.content_hash() == moved.content_hash()


def test_a_practice_copy_of_a_certification_question_is_an_error_located_at_the_copy(course):
    bank, rubrics = sample(course)
    original = bank.items["ps-mc-17"]  # uses scenario sc-bound-gift
    nb = course.root / PRACTICE_NB
    data = json.loads(nb.read_text())
    header = render_item(original.model_copy(update={"id": "pr-copy-01", "pool": Pool.practice,
                                                      "stem": original.stem.replace("best", "most")}))
    data["cells"].append({"cell_type": "markdown", "id": "copy01", "metadata": {}, "source": header})
    nb.write_text(json.dumps(data))
    bank, rubrics = sample(course)
    problems = [p for p in validate(bank, rubrics, course.policy) if p.is_error and p.location.item == "pr-copy-01"]
    text = "\n".join(map(str, problems))
    assert f"{PRACTICE_NB}:cell {len(data['cells'])}" in text
    assert "nearly repeats" in text and "'ps-mc-17'" in text
    assert "scenario 'sc-bound-gift' is used by certification items" in text
    result = run_cli(course, "check", PRACTICE_NB)
    assert result.exit_code != 0 and "pr-copy-01" in result.output


def test_a_certification_vignette_retold_in_a_practice_stem_is_an_error_and_stops_the_build(course):
    """Pasted into the practice item's own stem, under no scenario and with a name changed, the story
    shares no scenario id and the stems are not alike; its words in long runs give it away."""
    bank, _ = sample(course)
    story = bank.scenarios["sc-bound-gift"]
    user = next(i for i in bank.items.values() if i.scenario == story.id and not i.practice)
    first = story.text.split()[0]
    retelling = story.text.replace(first, "Jordan", 1) + "\n\nWhat would you say first?"
    nb = course.root / PRACTICE_NB
    data = json.loads(nb.read_text())
    own = next(i for i in bank.items.values() if i.practice and i.kind is Kind.multiple_choice and not i.scenario)
    header = render_item(own.model_copy(update={"id": "pr-told-01", "stem": retelling, "scenario": None}))
    data["cells"].append({"cell_type": "markdown", "id": "told01", "metadata": {}, "source": header})
    nb.write_text(json.dumps(data))
    bank, rubrics = sample(course)
    assert "sc-bound-gift" not in {i.scenario for i in bank.practice()}
    text = "\n".join(str(p) for p in validate(bank, rubrics, course.policy)
                     if p.is_error and p.location.item == "pr-told-01")
    assert f"{PRACTICE_NB}:cell {len(data['cells'])}" in text, text
    assert "retells scenario 'sc-bound-gift'" in text and f"{user.id!r}" in text
    # the builder refuses it too, naming the item, and writes nothing
    approve_offered_items(course)
    result = run_cli(course, "practice", "build", "told", "--module", str(own.module))
    assert result.exit_code != 0 and "pr-told-01" in result.output and "retells scenario" in result.output
    assert not (course.practice_dir / "told.json").exists()
    from exam_builder.bank.review import gate

    with pytest.raises(ValidationFailed) as exc:  # its own proof, as when the bank was checked before the edit
        assemble_set(gate(course, bank), rubrics, course.policy, [], "told", "cps", modules=[own.module])
    assert "practice item 'pr-told-01' retells scenario 'sc-bound-gift'" in str(exc.value)


def test_an_ordinary_practice_item_shares_phrases_not_stories():
    from exam_builder.bank.overlap import RETOLD, plain, retold
    story = plain("Dana has been sober for a year. At a group she says she wants to quit her job and move to be near "
                  "her sister.")
    assert retold(story, plain("Dana has been sober for a year. At a group she says she wants to move near "
                               "her sister. What do you say?")) >= RETOLD
    assert retold(story, plain("A person says she wants to quit her job. What is the best next step?")) < RETOLD
    assert retold(plain("too short"), plain("too short")) == 0.0


def test_an_unknown_pool_is_refused_in_words(course):
    item, problems = parse_cell("**[TF] pr-x** · competency: peer-support · module: 1 · pool: study\n\nA claim.\n\n"
                                "- [x] True\n- [ ] False", Where(file="f.ipynb", cell=2))
    assert any("pool 'study' is unknown" in str(p) for p in problems)


# -- building a set ---------------------------------------------------------------------------
def test_practice_build_writes_a_proven_set_of_practice_items_only_and_audits_it(course):
    before = run_cli(course, "practice", "build", "peer", "--competency", "peer-support")
    assert before.exit_code != 0 and "not live and approved yet" in before.output  # waiting for review
    approve_offered_items(course)
    audits = counts(course)[2]
    result = run_cli(course, "practice", "build", "peer", "--competency", "peer-support", "--minutes", "20",
                     "--by", "A. Coordinator")
    assert result.exit_code == 0, result.output
    assert "overlap: none" in result.output and "/?set=peer" in result.output
    pset = load_set(course, "peer")
    bank, _ = sample(course)
    practice_ids = {i.id for i in bank.items.values() if i.practice}
    assert {i.id for i in pset.items} == {i.id for i in bank.items.values() if i.practice
                                          and i.competency == "peer-support"}
    assert pset.minutes == 20 and pset.built_by == "A. Coordinator"
    assert pset.proof.certification_items == len(bank.items) - len(practice_ids) and pset.proof.form_items == 0
    text = (course.practice_dir / "peer.json").read_text()
    leaked = [i.id for i in bank.items.values() if not i.practice and (f'"{i.id}"' in text or i.stem in text)]
    assert leaked == []
    assert counts(course)[2] == audits + 1
    listed = run_cli(course, "practice", "list")
    assert "peer" in listed.output and "/?set=peer" in listed.output


def test_an_item_that_was_on_a_stored_form_is_refused(course):
    approve_offered_items(course)
    bank, rubrics = sample(course)
    from exam_builder.bank.review import gate

    bank = gate(course, bank)
    form = SimpleNamespace(assignment="cps-A", items=[SimpleNamespace(item_id="pr-mc-03", number=12)])
    with pytest.raises(ValidationFailed) as exc:
        assemble_set(bank, rubrics, course.policy, [form], "m3", "cps", modules=[3])
    assert "source/cps/practice.ipynb:cell" in str(exc.value)
    assert "'pr-mc-03' was on certification form cps-A (question 12)" in str(exc.value)


def test_bad_requests_are_refused_before_anything_is_written(course):
    approve_offered_items(course)
    for args, words in ((["Bad Name"], "practice set name"),
                        (["x", "--competency", "nope"], "unknown competency 'nope'"),
                        (["x", "--module", "42"], "unknown module 42")):
        result = run_cli(course, "practice", "build", *args)
        assert result.exit_code != 0 and words in result.output
    assert not course.practice_dir.exists() or not list(course.practice_dir.iterdir())


def test_a_second_set_with_the_same_title_is_refused_and_a_rebuild_is_not(course):
    """Candidates choose sets by title: a second set that would look the same is refused, naming the first."""
    approve_offered_items(course)
    assert run_cli(course, "practice", "build", "m3", "--module", "3").exit_code == 0
    audits = counts(course)[2]
    again = run_cli(course, "practice", "build", "m3-timed", "--module", "3", "--minutes", "10")
    assert again.exit_code != 0
    assert "practice set 'm3' already has the title 'Practice: Module 3: " in again.output and "--title" in again.output
    assert not (course.practice_dir / "m3-timed.json").exists() and counts(course)[2] == audits
    assert run_cli(course, "practice", "build", "m3", "--module", "3", "--minutes", "10").exit_code == 0  # same set
    titled = run_cli(course, "practice", "build", "m3-timed", "--module", "3", "--title", "Module 3, timed")
    assert titled.exit_code == 0 and load_set(course, "m3-timed").title == "Module 3, timed"


def test_a_broken_set_file_is_named(course):
    course.practice_dir.mkdir()
    (course.practice_dir / "broken.json").write_text("{not json")
    with pytest.raises(ValidationFailed) as exc:
        load_set(course, "broken")
    assert "practice/broken.json" in str(exc.value)


# -- a run ---------------------------------------------------------------------------------------
@pytest.fixture
def every_set(course):
    approve_offered_items(course)
    pset, _ = build_practice(course, "all", "cps", actor="t")
    return pset


def test_a_run_says_right_or_wrong_with_the_rationale_and_never_changes_a_checked_answer(course, every_set):
    before = counts(course)
    run = PracticeRun(every_set, seed=3)
    assert sorted(q.item.id for q in run.questions) == sorted(i.id for i in every_set.items)
    door = [q.number for q in run.questions if q.item.scenario == "sc-pr-door"]
    assert door == list(range(door[0], door[0] + len(door)))  # a scenario's items stay together
    tf = next(q for q in run.questions if q.item.kind.value == "true_false")
    right = run.check(tf.number, tf.key)
    assert right.right and right.headline == "Right." and right.rationale == tf.item.rationale
    mc = next(q for q in run.questions if q.item.kind.value == "multiple_choice")
    wrong_label = next(lab for lab in mc.labels if lab != mc.key)
    wrong = run.check(mc.number, wrong_label)
    assert wrong.verdict == "not right" and wrong.key_labels == (mc.key,)
    assert wrong.key_text.startswith(f"{mc.key}. ") and mc.item.choices[mc.item.key].text in wrong.key_text
    assert run.check(mc.number, mc.key) == wrong  # checked is final for this run
    ms = next(q for q in run.questions if q.item.kind.value == "multiple_select")
    one_key = ms.key.split(",")[0]
    partly = run.check(ms.number, one_key)
    assert partly.verdict == "partly right" and 0 < partly.earned < ms.item.points
    orq = next(q for q in run.questions if q.rated)
    written = run.check(orq.number, "I would ask her what she needs.")
    assert written.verdict == "written" and written.guide and all(":" in g for g in written.guide)
    with pytest.raises(ExamBuilderError):
        run.check(next(q.number for q in run.questions if q.labels and q.number not in run.feedback), "Z")
    summary = run.summary()
    assert summary.right == 1 and summary.checked == 3
    assert [r.name for r in summary.rows] == list(every_set.competency_names.values())
    assert summary.study_next and all(r.share is None or r.share < 0.8 for r in summary.study_next)
    missed = next(r for r in summary.rows if r.slug == mc.item.competency)
    assert f"module {mc.item.module}" in " ".join(missed.missed_modules)
    assert counts(course) == before  # nothing stored: no sitting, no response, no audit entry


def test_a_short_answer_is_checked_against_its_accepted_answers(every_set):
    """Typed words, normalised (case, spacing, end punctuation); the accepted answers in words when not right."""
    run = PracticeRun(every_set, seed=3)
    sa = next(q for q in run.questions if q.item.kind.value == "short_answer")
    assert sa.labels == () and sa.options == [] and not sa.rated
    right = run.check(sa.number, "  wellness recovery   ACTION plan. ")
    assert right.right and right.earned == sa.item.points and right.answer == "wellness recovery   ACTION plan."
    run = PracticeRun(every_set, seed=3)
    wrong = run.check(sa.number, "Wellness Plan")
    assert wrong.verdict == "not right" and wrong.said == "You wrote “Wellness Plan”."
    assert wrong.key_text == "Wellness Recovery Action Plan or Wellness Recovery Action Planning"
    assert wrong.key_labels == () and wrong.rationale == sa.item.rationale
    with pytest.raises(ExamBuilderError):
        PracticeRun(every_set, seed=3).check(sa.number, "x" * 201)


def test_a_chosen_clock_ends_the_run(every_set):
    now = [0.0]
    run = PracticeRun(every_set, seed=1, minutes=10, clock=lambda: now[0])
    assert run.time_left() == dt.timedelta(minutes=10)
    now[0] = 601.0
    assert run.time_up
    with pytest.raises(TimeUp):
        run.check(1, run.questions[0].key)
    assert PracticeRun(every_set).time_left() is None


def test_a_practice_minute_lasts_as_long_as_the_setting_says(every_set):
    """``DeliverySettings.practice_minute_seconds`` (60) is how long a practice clock's minute lasts:
    the browser test's server runs a one-minute clock out in a few seconds with it."""
    from exam_builder.settings.delivery import DeliverySettings

    assert DeliverySettings().practice_minute_seconds == 60.0
    now = [0.0]
    run = PracticeRun(every_set, seed=1, minutes=2, clock=lambda: now[0], minute_seconds=5)
    assert run.time_left() == dt.timedelta(seconds=10)
    now[0] = 9.5
    assert not run.time_up
    now[0] = 10.0
    assert run.time_up


def test_two_runs_come_in_different_orders(every_set):
    orders = {tuple(q.item.id for q in PracticeRun(every_set, seed=s).questions) for s in range(5)}
    assert len(orders) > 1


def test_the_practice_notebook_is_packaged_beside_the_exam_app():
    from exam_builder.delivery.server import EXAM_NOTEBOOK, PRACTICE_NOTEBOOK

    nb = json.loads(Path(PRACTICE_NOTEBOOK).read_text())
    assert PRACTICE_NOTEBOOK.parent == EXAM_NOTEBOOK.parent
    assert "practice_app import launch" in "".join(nb["cells"][0]["source"])
