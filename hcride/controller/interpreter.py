"""Which Python runs the user's program, and how it reaches the runtime."""

from __future__ import annotations

import contextlib
import hashlib
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


def runtime_path(package: Path | None = None) -> Path:
    """The folder to put on the program's ``PYTHONPATH`` so that ``import hcride``
    finds the runtime: ``hcride_root()`` in a checkout; for an installed hcride, whose
    package lies in a ``site-packages`` folder with every package of hcride's own
    environment (PySide6, watchdog...), a folder of the user's cache that holds only a
    link to the package, so that none of those shadows the program's own packages.
    Falls back to the package's folder when no link can be made."""
    package = (package or Path(__file__).resolve().parent.parent).resolve()
    root = package.parent
    if root.name not in ("site-packages", "dist-packages"):
        return root
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    digest = hashlib.sha1(str(package).encode()).hexdigest()[:16]
    folder = Path(base) / "hcride" / "runtime" / digest
    link = folder / "hcride"
    try:
        if link.is_symlink() and Path(os.readlink(link)) == package:
            return folder
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f".hcride-{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        temp.symlink_to(package, target_is_directory=True)
        os.replace(temp, link)  # atomic: two starts at once both end with the link
    except OSError:
        return root
    return folder


def parse_version(text: object) -> tuple[int, int] | None:
    """``(3, 13)`` from a hello's ``python`` (``"3.13.0"``); None when it says nothing usable."""
    if not isinstance(text, str):
        return None
    parts = text.split(".")
    if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
        return None
    return int(parts[0]), int(parts[1])


def same_grammar(program: tuple[int, int] | None) -> bool:
    """Does the program's interpreter parse Python as ours does? (Unknown: no.)

    When it does not, source our parser refuses may still be valid for the program
    (``def f[T]`` on 3.12, ``except A, B:`` on 3.14): the build leaves the verdict to
    the runtime, which compiles with the program's own interpreter.
    """
    return program == sys.version_info[:2]
