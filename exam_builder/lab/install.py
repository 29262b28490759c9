"""Put the author's desk where Jupyter looks, in an environment: `python -m exam_builder.lab.install`.

A wheel install does this by itself (``pyproject.toml``'s ``data-files``), but an editable install
(``make install``'s ``pip install -e .``) leaves data files out. So ``make install`` runs this too:

- ``<prefix>/share/jupyter/labextensions/exam-builder-lab``: a link to the committed build in the
  package (``exam_builder/lab/labextensions/exam-builder-lab``), so ``make labextension`` is seen
  at JupyterLab's next start; a copy where links cannot be made;
- ``<prefix>/etc/jupyter/jupyter_server_config.d/exam_builder.json``: the server extension's switch,
  as ``jupyter server extension enable --sys-prefix exam_builder.lab`` would write it (under the
  file name the wheel uses, so the two never both exist).

``prefix`` is the running Python's environment (``sys.prefix``). Running it again changes nothing.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILT = HERE / "labextensions" / "exam-builder-lab"
SWITCH = HERE / "exam_builder.json"  # the file the wheel's data-files install, too


def install(prefix: Path) -> list[Path]:
    """Link the lab extension and write the server extension's switch under ``prefix``; the paths made."""
    target = prefix / "share" / "jupyter" / "labextensions" / "exam-builder-lab"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)  # a copy from an earlier install, or the wheel's data files
    try:
        target.symlink_to(BUILT, target_is_directory=True)
    except OSError:
        shutil.copytree(BUILT, target)
    config = prefix / "etc" / "jupyter" / "jupyter_server_config.d" / "exam_builder.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(SWITCH.read_text())
    return [target, config]


def main() -> None:
    for path in install(Path(sys.prefix)):
        print(f"exam-builder's author's desk: {path}")


if __name__ == "__main__":
    main()
