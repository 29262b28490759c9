#!/usr/bin/env bash
# Rebuild the author's desk's prebuilt JupyterLab extension (labextension/ -> exam_builder/lab/labextensions/)
# after editing labextension/src or labextension/style: `make labextension`. Users never run this: the built
# assets are committed and installed by `make install` (docs/authoring-in-jupyterlab.md says why).
# Needs node and npm; JupyterLab's own staging folder gives the shared packages' versions.
set -euo pipefail
cd "$(dirname "$0")/../labextension"
PY="${PY:-../.venv/bin/python}"
CORE="$("$PY" -c 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))')"
OUT=../exam_builder/lab/labextensions/exam-builder-lab
npm ci --no-audit --no-fund --loglevel=error
rm -rf "$OUT"
node node_modules/@jupyterlab/builder/lib/build-labextension.js --core-path "$CORE" .
# what the committed build was made from (tests/lab/test_labextension_build.py compares it with the source)
"$PY" -c 'import sys; sys.path.insert(0, ".."); from exam_builder.lab import source_digest; print(source_digest())' \
  > "$OUT/source.sha256"
