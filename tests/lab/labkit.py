"""A real `jupyter lab` on a small course, with exam-builder's server extension and prebuilt lab extension.

``Lab`` runs the venv's ``jupyter lab`` in its own process group (SIGKILL takes its kernels and
terminals with it), with ``exam_builder.lab`` enabled on the command line and the repository's
built lab extension on ``JUPYTER_PATH`` (as ``make install`` puts it in the environment), and a PATH
without the venv's scripts, as when JupyterLab is started by its full path from the course folder.
``start()`` returns once the server answers; a failed start raises with the log's tail.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
JUPYTER = Path(sys.executable).parent / "jupyter"
TOKEN = "labtoken-for-tests"
BASE = REPO / "tests" / "bank" / "base_course"
LABEXT_PATH = REPO / "exam_builder" / "lab"  # holds labextensions/exam-builder-lab

#: A blueprint the base course can fill (one true/false, one multiple choice).
BLUEPRINT = """title: Mini exam
forms: 1
seed: 1
cut_score: 70%
points: {true_false: 1, multiple_choice: 1}
counts:
  peer-support: {true_false: 1, multiple_choice: 1}
"""

HEAD = ("competency: peer-support | module: 1 | points: 1 | difficulty: medium | status: draft | "
        "author: A. Author")
GOOD = (f"**[MC] lab-mc-01** | {HEAD}\n\nWhat helps most on a first visit?\n\n- [ ] Advice\n"
        "- [x] Listening\n- [ ] A pamphlet\n\n> **Rationale:** Listening builds trust.")
TWO_KEYS = GOOD.replace("- [ ] Advice", "- [x] Advice")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_course(root: Path) -> Path:
    """The bank tests' base course (five valid items, a scenario, a rubric), a fillable blueprint and
    ``source/cps/desk.ipynb`` (module 1) with one good item, plus a student-style notebook outside source/."""
    shutil.copytree(BASE, root)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "source/cps/blueprint.yaml").write_text(BLUEPRINT)
    write_cells(root / "source/cps/desk.ipynb", ["# Desk items\n\nA note for authors.", GOOD], module=1)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, root / "scratch.ipynb")
    return root


def write_cells(path: Path, cells: list[str], module: int | None = None) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(c) for c in cells]
    if module is not None:
        nb.metadata["exam_builder"] = {"module": module}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


class Lab:
    """`jupyter lab` on ``root`` (see the module)."""

    def __init__(self, root: Path):
        self.root, self.port, self.proc = root, free_port(), None
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = root.parent / f"lab-{self.port}.log"

    def start(self) -> "Lab":
        env = {**os.environ, "JUPYTER_PATH": str(LABEXT_PATH), "PATH": "/usr/local/bin:/usr/bin:/bin",
               "JUPYTER_CONFIG_DIR": str(self.root.parent / "jupyter-config"), "HOME": str(self.root.parent)}
        env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO), os.environ.get("PYTHONPATH", "")] if p)
        cmd = [str(JUPYTER), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={self.root}",
               "--ServerApp.jpserver_extensions={'exam_builder.lab': True}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers
            cmd.append("--allow-root")
        self.proc = subprocess.Popen(cmd, env=env, cwd=self.root, stdout=open(self.log, "ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.get("api/status")
                return self
            except OSError:
                assert self.proc.poll() is None, self.log.read_text()[-3000:]
                assert time.monotonic() < deadline, "jupyter lab did not start: " + self.log.read_text()[-3000:]
                time.sleep(0.3)

    def request(self, path: str, body: dict | None = None, token: bool = True,
                method: str | None = None) -> tuple[int, str, dict]:
        """One HTTP request (JSON body when given): status, text and headers."""
        headers = {"Authorization": f"token {TOKEN}"} if token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)

    def get(self, path: str) -> tuple[int, str, dict]:
        return self.request(path)

    def json(self, path: str, body: dict | None = None) -> dict:
        code, text, _ = self.request(path, body)
        assert code == 200, (code, text)
        return json.loads(text)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
