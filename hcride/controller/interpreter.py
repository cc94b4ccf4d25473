"""Which Python runs the user's program, and how it reaches the runtime."""

from __future__ import annotations

import os
import sys
from pathlib import Path

VENV_NAMES = (".venv", "venv")


def venv_python(folder: Path) -> Path | None:
    """The interpreter of the virtual environment at ``folder``, if there is one."""
    if not (folder / "pyvenv.cfg").is_file():
        return None
    for candidate in (folder / "bin" / "python", folder / "Scripts" / "python.exe"):
        if candidate.exists():
            return candidate
    return None


def find_interpreter(project: Path, python: str | Path | None = None) -> Path:
    """``python`` if given; else the project's ``.venv``/``venv``; else ours.

    The venv's ``bin/python`` is returned as is (not resolved): resolving the
    symlink would leave the virtual environment.
    """
    if python:
        return Path(os.path.expanduser(str(python)))
    for name in VENV_NAMES:
        found = venv_python(project / name)
        if found is not None:
            return found
    return Path(sys.executable)


def hcride_root() -> Path:
    """The folder that contains the ``hcride`` package: put first on the program's
    ``PYTHONPATH`` so the runtime loads without being installed in its interpreter."""
    return Path(__file__).resolve().parent.parent.parent
