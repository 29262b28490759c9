"""Issue 28: the export as a real QTI 3 player shows it: Cito's qti-components web components (installed
from npm by ``scripts/node-deps.sh`` into ``.cache/qti-player``, never shipped) in Debian's chromium.

Every kind renders; answered as a candidate would (a click on a choice, typing in the box), the key
scores the full item (SCORE 1, the fraction of the points) and a wrong answer none; and the rationale,
shown only once response processing has set FEEDBACK, is hidden before the attempt and shown after it.
The page is the delivery host's part a player leaves to its host: it loads an item's file, and on
"submit" runs the item's response processing (``processResponse``), as a host does.
"""
from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest
from qti_kit import REPO, every_kind

from exam_builder.qti.export import build_package, select_items

PLAYER = REPO / ".cache" / "qti-player" / "node_modules" / "@citolab" / "qti-components" / "cdn" / "index.js"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>QTI 3 player</title></head>
<body><main id="host"></main>
<script type="module">
import { qtiTransformItem } from './player.js';
window.loadItem = async (name) => {
  const xml = await (await fetch(name)).text();
  const host = document.getElementById('host');
  host.replaceChildren(qtiTransformItem().parse(xml).htmlDoc());
  await customElements.whenDefined('qti-assessment-item');
  const item = host.querySelector('qti-assessment-item');
  await item.updateComplete;
  return item.identifier;
};
window.submitItem = () => {
  const item = document.querySelector('qti-assessment-item');
  item.processResponse();
  const score = item.getOutcome('SCORE');
  return score ? String(score.value) : null;
};
window.ready = true;
</script></body></html>
"""

#: item -> (how the key is given, how a wrong answer is given): ("click", [choice ids]) or ("type", text)
ANSWERS = {
    "tf-01": (("click", ["B"]), ("click", ["A"])),
    "i-7-mc": (("click", ["B"]), ("click", ["A"])),
    "ms-partial": (("click", ["A", "C", "D"]), ("click", ["B"])),
    "ms-aon": (("click", ["A", "B"]), ("click", ["A", "C"])),
    "ms-default": (("click", ["A", "B"]), ("click", ["C"])),
    "sa-words": (("type", "mutual support"), ("type", "advice")),
    "sa-number": (("type", "988"), ("type", "5")),
    "sa-exact": (("type", "5"), ("type", "6")),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The exported items of every kind, the player and the page, served on loopback."""
    if not PLAYER.exists():
        pytest.skip("the QTI 3 player is not installed (make node-deps: scripts/node-deps.sh)")
    root = tmp_path_factory.mktemp("player")
    bank, rubrics = every_kind()
    pkg = build_package(bank, rubrics, select_items(bank))
    for name, data in pkg.files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    shutil.copy(PLAYER, root / "player.js")
    (root / "index.html").write_text(PAGE)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", bank
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(f"{site[0]}/index.html")
    pg.wait_for_function("window.ready === true")
    yield pg
    context.close()
    assert errors == []


def answer(page, how) -> None:
    kind, what = how
    if kind == "click":
        for ident in what:
            page.locator(f'qti-simple-choice[identifier="{ident}"]').click()
    else:
        box = page.locator("qti-text-entry-interaction input")
        box.click()
        box.press_sequentially(what)  # typed, key by key, as a candidate does
        box.press("Tab")


def rationale(page):
    """The open feedback dialog (the player's, in its shadow root)."""
    return page.locator("qti-modal-feedback dialog[open]")


def rationale_text(page) -> str:
    """The text the open dialog shows: the feedback's content, slotted into it."""
    return page.evaluate("""() => [...document.querySelectorAll('qti-modal-feedback')]
        .filter(f => f.shadowRoot && f.shadowRoot.querySelector('dialog[open]'))
        .map(f => f.innerText).join('\\n')""")


@pytest.mark.parametrize("item", sorted(ANSWERS))
def test_the_key_scores_full_a_wrong_answer_none_and_the_rationale_shows_after(page, site, item):
    bank = site[1]
    original = bank.items["7-mc" if item == "i-7-mc" else item]
    key, wrong = ANSWERS[item]
    for how, want in ((key, "1"), (wrong, "0")):
        assert page.evaluate("name => loadItem(name)", f"items/{item}.xml") == item
        stem_start = original.stem.split("\n")[0]
        assert page.get_by_text(stem_start, exact=False).first.is_visible()
        if original.choices:
            texts = page.locator("qti-simple-choice").all_inner_texts()
            assert sorted(t.strip() for t in texts) == sorted(c.text for c in original.choices)
        assert rationale(page).count() == 0  # not before the attempt
        answer(page, how)
        assert float(page.evaluate("submitItem()")) == float(want), (item, how)
        if original.rationale:
            rationale(page).wait_for(state="visible")
            assert original.rationale.split("\n")[0] in rationale_text(page)
        else:
            assert rationale(page).count() == 0


def test_an_open_response_and_a_scenario_render_and_the_rationale_shows_after_the_attempt(page, site):
    bank = site[1]
    assert page.evaluate("name => loadItem(name)", "items/or-01.xml") == "or-01"
    assert page.get_by_text("Describe a plan.").is_visible()
    page.locator("qti-extended-text-interaction textarea").press_sequentially("We listen first.")
    assert rationale(page).count() == 0
    page.evaluate("submitItem()")
    rationale(page).wait_for(state="visible")
    assert "Look for voices." in rationale_text(page)
    # the scenario opens the body for a player that is not a delivery host
    page.evaluate("name => loadItem(name)", "items/i-7-mc.xml")
    assert page.get_by_text(bank.scenarios["sc-unit"].text.split("\n")[0]).first.is_visible()


def test_the_player_page_itself_is_the_test_harness_not_the_product():
    """The player is a test tool: nothing of exam-builder's package imports or ships it."""
    assert not any("qti-components" in p.read_text() for p in (REPO / "exam_builder").rglob("*.py"))
    assert Path(REPO / "scripts" / "node-deps.sh").read_text().count("@citolab/qti-components@") == 1
