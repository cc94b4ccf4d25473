"""Which files of a project are sources the controller watches and builds."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

IGNORED_DIRS = frozenset(
    {"__pycache__", ".hcr", "site-packages", "node_modules", "venv", "env", ".venv", ".env"}
)


def _is_venv(folder: Path) -> bool:
    return (folder / "pyvenv.cfg").is_file()


def is_ignored(project: Path, path: Path) -> bool:
    """True for files the watcher skips: not ``.py``, outside the project, or under
    ``.hcr/``, ``__pycache__``, a virtual environment or a hidden folder."""
    if path.suffix != ".py":
        return True
    try:
        rel = path.relative_to(project)
    except ValueError:
        return True
    folder = project
    for part in rel.parts[:-1]:
        if part in IGNORED_DIRS or part.startswith("."):
            return True
        folder = folder / part
        if _is_venv(folder):
            return True
    return rel.name.startswith(".")


def iter_sources(project: Path) -> Iterator[Path]:
    """Every ``.py`` file of the project that is not ignored."""
    for root, dirs, files in os.walk(project):
        here = Path(root)
        dirs[:] = [
            d
            for d in dirs
            if d not in IGNORED_DIRS and not d.startswith(".") and not _is_venv(here / d)
        ]
        for name in files:
            if name.endswith(".py") and not name.startswith("."):
                yield here / name
