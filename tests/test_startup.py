"""What a command's start-up loads: no grammar it never uses.

jsonschema (under nbformat) would import ``rfc3987_syntax``, which compiles a Lark grammar at import
(1.5 s of CPU in every process), for the "iri" format no schema we read uses; ``exam_builder`` blocks
it (``exam_builder/__init__.py``). A fresh Python, as the console script starts one."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_command_never_compiles_the_iri_grammar_and_notebooks_still_validate():
    code = ("import sys\n"
            "from exam_builder.cli import cli\n"
            "import nbformat, nbformat.validator, jsonschema\n"
            "nbformat.validate(nbformat.v4.new_notebook())\n"
            "print('loaded' if sys.modules.get('rfc3987_syntax') else 'not loaded')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "not loaded"
