"""Export then import gives back the same items: equal content hashes, except what an import always
sets (status draft, no reviewer: imported items await review here)."""
from __future__ import annotations

from qti_kit import REPO, every_kind

from exam_builder.assembly.blueprint import check_blueprint
from exam_builder.bank.check import check
from exam_builder.bank.parse import parse_notebook
from exam_builder.course import Course
from exam_builder.model.item import Status
from exam_builder.qti.export import build_package, select_items, write_zip
from exam_builder.qti.importer import import_package, read_package


def as_imported(item):
    """What import gives for an exported item: the same content as a draft awaiting review."""
    return item.model_copy(update={"status": Status.draft, "reviewer": ""})


def test_export_then_import_gives_back_every_kind(tmp_path):
    bank, rubrics = every_kind()
    pkg = write_zip(build_package(bank, rubrics, select_items(bank)), tmp_path / "exports" / "every-kind.zip")
    result = import_package(pkg, tmp_path / "source" / "imported", existing_ids=set())
    assert result.imported.errors == []
    parsed = parse_notebook(result.notebook)
    assert parsed.problems == []
    assert [i.id for i in parsed.items] == list(bank.items)  # the original ids, "7-mc" too
    for got in parsed.items:
        assert got.content_hash() == as_imported(bank.items[got.id]).content_hash(), got.id
    assert parsed.scenarios == [s.model_copy(update={"where": parsed.scenarios[0].where})
                                for s in bank.scenarios.values()]
    # the scorer rubric comes along as a note after its item (the parser skips it)
    assert "Rubric plan-rubric: Plan" in result.notebook.read_text()


def test_the_sample_bank_round_trips(tmp_path):
    report = check(Course(REPO), blueprint_check=check_blueprint)
    bank = report.bank
    pkg = write_zip(build_package(bank, report.rubrics, select_items(bank)), tmp_path / "bank.zip")
    imported = read_package(pkg)
    assert imported.errors == []
    where = imported.items[0].where
    assert {i.id: i.content_hash() for i in imported.items} == {
        i.id: as_imported(i.model_copy(update={"where": where})).content_hash() for i in bank.items.values()}
    assert {s.id: s.content_hash() for s in imported.scenarios} == {s.id: s.content_hash()
                                                                    for s in bank.scenarios.values()}


def test_export_import_export_gives_the_same_item_files(tmp_path):
    """The rules written out for the rationale and the scenario in the body read back, so a second export
    is byte for byte the first (but the status and reviewer an import resets)."""
    from exam_builder.bank import Bank

    bank, rubrics = every_kind()
    first = build_package(bank, rubrics, select_items(bank))
    pkg = write_zip(first, tmp_path / "one.zip")
    parsed = parse_notebook(import_package(pkg, tmp_path / "in", existing_ids=set()).notebook)
    again = Bank(items={i.id: i.model_copy(update={"status": bank.items[i.id].status,
                                                    "reviewer": bank.items[i.id].reviewer}) for i in parsed.items},
                 scenarios={s.id: s for s in parsed.scenarios})
    second = build_package(again, rubrics, select_items(again))
    assert {n: d for n, d in second.files.items() if n != "imsmanifest.xml"} == \
        {n: d for n, d in first.files.items() if n != "imsmanifest.xml"}
