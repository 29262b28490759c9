"""The committed, prebuilt lab extension is the one its source makes, and `pip install` (so `make install`)
puts it, and the server extension's switch, where JupyterLab and Jupyter Server look for them."""
from __future__ import annotations

import json
import re
from pathlib import Path

from exam_builder.lab import LABEXTENSION, source_digest

REPO = Path(__file__).resolve().parents[2]


def test_the_committed_build_is_of_the_committed_source():
    built = (LABEXTENSION / "source.sha256").read_text().strip()
    assert built == source_digest(), "labextension/ changed since the build: run `make labextension` and commit"


def test_the_build_is_complete_and_installed_by_pip():
    meta = json.loads((LABEXTENSION / "package.json").read_text())
    assert meta["name"] == "exam-builder-lab"
    entry = LABEXTENSION / meta["jupyterlab"]["_build"]["load"]
    assert entry.is_file() and re.fullmatch(r"static/remoteEntry\.[0-9a-f]+\.js", meta["jupyterlab"]["_build"]["load"])
    text = (REPO / "pyproject.toml").read_text()
    data = dict(re.findall(r'^"([^"]+)" = \["([^"]+)"\]$', text.split("[tool.setuptools.data-files]", 1)[1]
                           .split("\n[", 1)[0], re.M))
    assert data["share/jupyter/labextensions/exam-builder-lab"] == \
        "exam_builder/lab/labextensions/exam-builder-lab/package.json"
    assert data["share/jupyter/labextensions/exam-builder-lab/static"] == \
        "exam_builder/lab/labextensions/exam-builder-lab/static/*"
    switch = json.loads((REPO / data["etc/jupyter/jupyter_server_config.d"]).read_text())
    assert switch == {"ServerApp": {"jpserver_extensions": {"exam_builder.lab": True}}}


def test_make_install_puts_the_desk_in_an_environment(tmp_path):
    """What `make install` runs after its editable install (which skips data-files), run twice."""
    from exam_builder.lab.install import BUILT, install

    for _ in range(2):
        link, config = install(tmp_path)
    assert link == tmp_path / "share/jupyter/labextensions/exam-builder-lab" and link.resolve() == BUILT.resolve()
    assert (link / "package.json").is_file()
    assert json.loads(config.read_text()) == {"ServerApp": {"jpserver_extensions": {"exam_builder.lab": True}}}
    makefile = (REPO / "Makefile").read_text()
    assert "$(PY) -m exam_builder.lab.install" in makefile.split("install: $(STAMP)")[0]
