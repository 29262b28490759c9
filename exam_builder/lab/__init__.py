"""The author's desk in JupyterLab: a Jupyter server extension (this module) and its lab extension.

The lab extension (``labextension/`` in the repository, built into ``labextensions/exam-builder-lab``
here and installed as a prebuilt extension: docs/authoring-in-jupyterlab.md says why) asks these
endpoints, under the server's base URL, all behind the server's own sign-in (``@authenticated``):

- ``GET exam-builder/api/check?path=P``: ``desk.desk_report`` of the notebook at ``P`` (relative to the
  server's root): its problems by cell with the fix, the bank's problems, each item's review state.
  For a notebook that is not in a course's ``source/``: ``{"bank_notebook": false}``.
- ``GET exam-builder/api/new-item?path=P&kind=MC``: ``desk.new_item_source``, a new item's markdown.
- ``GET exam-builder/preview?path=P&cell=N[&key=1]``: the item of cell ``N`` (1-based) as saved;
  ``POST exam-builder/preview`` with JSON ``{"path", "cell", "source", "key"}``: the item as typed,
  unsaved. Both answer a whole HTML page (``preview.preview_page``) for the panel's frames.
- ``POST assignments/validate`` (nbgrader's Validate button, where nbgrader's validator is enabled) is
  answered for a bank notebook by exam-builder's check, its errors listed as failed cells, so Validate
  never says "Success!" for a notebook with a broken item (nbgrader would only run its code cells);
  any other notebook goes on to nbgrader's own validator. The hub's read-only formgrader service does
  not load this extension (``hub.config.FORMGRADER_EXTENSIONS``).

A path outside the server's root is refused (403); a notebook in no course is a 404 with the reason.
Checks run in a worker thread: the server stays responsive while a large bank is read.

Loading the extension also puts the folder of the Python that runs the server (where the
``exam-builder`` command is installed) on the ``PATH`` of the terminals JupyterLab opens.
"""
from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import sys
from pathlib import Path

from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..course import Course
from ..errors import ExamBuilderError
from ..safeload import read_bytes, read_notebook, safe_rel
from . import desk, preview

#: Where the prebuilt lab extension is (``make install`` links it into the environment's labextensions).
LABEXTENSION = Path(__file__).parent / "labextensions" / "exam-builder-lab"


def source_digest(source: Path | None = None) -> str:
    """SHA-256 of the lab extension's source (``labextension/``: package.json, src/, style/), which the
    build writes beside the built assets so a test can tell a build that is older than its source."""
    import hashlib

    folder = source or Path(__file__).resolve().parents[2] / "labextension"
    digest = hashlib.sha256()
    for path in [folder / "package.json", *sorted((folder / "src").glob("*.js")),
                 *sorted((folder / "style").glob("*.css"))]:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0"
                      + read_bytes(path, str(path), max_bytes=SOURCE_MAX_BYTES) + b"\0")
    return digest.hexdigest()


#: A source file of the lab extension is a few kilobytes; anything bigger is not one.
SOURCE_MAX_BYTES = 4_000_000


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "exam_builder.lab"}]


def _jupyter_labextension_paths() -> list[dict]:
    return [{"src": "labextensions/exam-builder-lab", "dest": "exam-builder-lab"}]


class _Desk:
    """What every handler of the desk does: find the notebook under the root and its course."""

    settings: dict

    def _notebook(self, path: str | None) -> tuple[Course, Path]:
        if not path:
            raise web.HTTPError(400, "give the notebook's path (path=...)")
        root = Path(self.settings["eb_root_dir"]).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise web.HTTPError(403, "the path is outside the server's folder")
        if not target.is_file():
            raise web.HTTPError(404, f"{path}: no such notebook")
        course_root = desk.find_course(target, root)
        if course_root is None:
            raise web.HTTPError(404, f"{path}: not in a course (no nbgrader_config.py in its folder or above)")
        try:
            return Course(course_root), target
        except ExamBuilderError as exc:
            raise web.HTTPError(422, str(exc)) from None


class CheckHandler(_Desk, APIHandler):
    @web.authenticated
    async def get(self) -> None:
        course, path = self._notebook(self.get_argument("path", None))
        try:
            if not desk.is_bank_notebook(course, path):
                self.finish(json.dumps({"bank_notebook": False, "notebook": safe_rel(path, course.root)}))
                return
            report = await asyncio.to_thread(desk.desk_report, course, path)
        finally:
            course.db.dispose()
        self.finish(json.dumps(report))


class NewItemHandler(_Desk, APIHandler):
    @web.authenticated
    async def get(self) -> None:
        course, path = self._notebook(self.get_argument("path", None))
        try:
            made = await asyncio.to_thread(desk.new_item_source, course, path, self.get_argument("kind", "MC"))
        except ValueError as exc:
            raise web.HTTPError(400, str(exc)) from None
        finally:
            course.db.dispose()
        self.finish(json.dumps(made))


class PreviewHandler(_Desk, JupyterHandler):
    """A whole page, for a frame of the panel (``frame-ancestors 'self'`` is the server's own policy)."""

    async def _answer(self, path: str | None, cell: int, source: str | None, key: bool) -> None:
        course, target = self._notebook(path)
        try:
            if source is None:
                nb = await asyncio.to_thread(read_notebook, target, where=path, validate=False)
                if 1 <= cell <= len(nb.cells) and nb.cells[cell - 1].cell_type == "markdown":
                    source = nb.cells[cell - 1].source
            if source is None:
                page = preview.empty_page("Nothing to preview: put the cursor in an item's cell.")
            else:
                page = await asyncio.to_thread(preview.preview_source, course, safe_rel(target, course.root), cell,
                                               source, key)
        finally:
            course.db.dispose()
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(page)

    @web.authenticated
    async def get(self) -> None:
        try:
            cell = int(self.get_argument("cell", "1"))
        except ValueError:
            raise web.HTTPError(400, "cell is a number (1 for the first cell)") from None
        await self._answer(self.get_argument("path", None), cell, None, self.get_argument("key", "0") == "1")

    @web.authenticated
    async def post(self) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
            cell, source, key = int(body.get("cell", 1)), body.get("source"), bool(body.get("key"))
        except (ValueError, TypeError):
            raise web.HTTPError(400, "send JSON: {path, cell, source, key}") from None
        if not isinstance(source, str):
            raise web.HTTPError(400, "source is the cell's text")
        await self._answer(body.get("path"), cell, source, key)


def _validate_handler():
    """nbgrader's Validate, answered by exam-builder's check for a bank notebook (see the module)."""
    try:
        from nbgrader.server_extensions.validate_assignment.handlers import ValidateAssignmentHandler
    except ImportError:  # no nbgrader: no Validate button to answer
        return None

    class BankValidateHandler(_Desk, ValidateAssignmentHandler):
        @web.authenticated
        async def post(self) -> None:
            try:
                path = self.get_argument("path")
            except web.MissingArgumentError:
                path = (self.get_json_body() or {}).get("path")
            root = Path(self.settings["eb_root_dir"]).resolve()
            target = (root / str(path or "")).resolve()
            course_root = desk.find_course(target, root) if target.is_relative_to(root) and target.is_file() else None
            course = Course(course_root) if course_root else None
            try:
                if course is None or not desk.is_bank_notebook(course, target):
                    return super().post()  # nbgrader's own validator (a student's notebook)
                report = await asyncio.to_thread(desk.desk_report, course, target)
            finally:
                if course is not None:
                    course.db.dispose()
            self.finish(json.dumps({"success": True, "value": validate_value(report, target)}))

    return BankValidateHandler


def validate_value(report: dict, path: Path) -> dict:
    """The check's errors in the shape nbgrader's Validate dialog lists ("The following cell failed:")."""
    import html

    try:
        cells = read_notebook(path, validate=False).cells
    except Exception:  # noqa: BLE001 (the check's own message says why it cannot be read)
        cells = []
    failed = []
    for cell in report["cells"]:
        errors = [p for p in cell["problems"] if p["severity"] == "error"]
        if errors:
            n = cell["index"]
            source = cells[n - 1].source if n <= len(cells) else ""
            failed.append({"source": f"cell {n}:\n{source}",
                           "error": html.escape("\n".join(f"exam-builder check: {p['message']}" for p in errors))})
    bank = [p for p in report["bank"] if p["severity"] == "error"]
    if bank:
        failed.append({"source": "the bank", "error": html.escape("\n".join(p["where"] + ": " + p["message"]
                                                                           for p in bank))})
    return {"failed": failed} if failed else {}


def _terminal_path(serverapp) -> None:  # noqa: ANN001 (jupyter_server's ServerApp)
    """Put this Python's scripts folder (``exam-builder``) first on the PATH of the server's terminals.

    Started by a spawner (or by any process without a terminal), JupyterLab's terminals run a login
    shell, and a login shell's ``/etc/profile`` sets PATH afresh: so the terminal's shell is a login
    shell that then puts the folder first and becomes the user's interactive shell. A ``shell_command``
    the site configured is left alone (the folder is still on the PATH the server hands down)."""
    scripts = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if scripts not in parts:
        os.environ["PATH"] = os.pathsep.join([scripts, *[p for p in parts if p]])
    if os.name == "nt" or serverapp.terminado_settings.get("shell_command") is not None:
        return
    shell = os.environ.get("SHELL") or shutil.which("sh") or "/bin/sh"
    command = [shell, "-l", "-c", f'PATH={shlex.quote(scripts)}:"$PATH"; export PATH; exec {shlex.quote(shell)} -i']
    serverapp.terminado_settings = {**serverapp.terminado_settings, "shell_command": command}
    manager = serverapp.web_app.settings.get("terminal_manager")
    if manager is not None:  # the terminals' extension loaded first
        manager.shell_command = command


def _load_jupyter_server_extension(serverapp) -> None:  # noqa: ANN001 (jupyter_server's signature)
    web_app = serverapp.web_app
    web_app.settings["eb_root_dir"] = serverapp.root_dir
    web_app.settings.setdefault("root_dir", serverapp.root_dir)  # what nbgrader's validator reads
    base = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [
        (url_path_join(base, "exam-builder/api/check"), CheckHandler),
        (url_path_join(base, "exam-builder/api/new-item"), NewItemHandler),
        (url_path_join(base, "exam-builder/preview"), PreviewHandler),
    ])
    enabled = serverapp.jpserver_extensions.get("nbgrader.server_extensions.validate_assignment", False)
    validate = _validate_handler() if enabled else None
    if validate is not None:  # in front of nbgrader's own handler, whichever extension loads first
        web_app.add_handlers(".*$", [(url_path_join(base, "assignments/validate"), validate)])
        rules = web_app.default_router.rules
        rules.insert(0, rules.pop(len(rules) - 2))  # add_handlers puts a host's rules before the last one
    _terminal_path(serverapp)
    serverapp.log.info("exam-builder: the author's desk is at %sexam-builder/ (check, preview, new item)", base)
