"""exam-builder: author, deliver and grade certification exams on nbgrader, Voila and ipywidgets."""

import sys as _sys

__version__ = "0.1.0"

# jsonschema (under nbformat, which every command that reads a notebook imports) loads ``rfc3987_syntax`` when it
# is installed (jupyter-events asks for jsonschema's format checkers), and that module builds a Lark grammar at
# import: 1.5 s of CPU in every process, for the "iri" format no schema of nbformat, nbgrader or Jupyter uses.
# Blocked here ("import rfc3987_syntax" fails, which jsonschema expects and skips), as the candidate's kernel
# blocks debugpy (``delivery/app_ipykernel.py``). A process that imported it before us keeps it.
_sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
