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


def _skip_dir(folder: Path) -> bool:
    """True for a folder whose name or content says it holds no project sources."""
    name = folder.name
    return name in IGNORED_DIRS or name.startswith(".") or _is_venv(folder)


def is_ignored_dir(project: Path, folder: Path) -> bool:
    """True for folders the watcher does not watch: outside the project, or ``.hcr/``,
    ``__pycache__``, a virtual environment or a hidden folder, or inside one."""
    try:
        rel = folder.relative_to(project)
    except ValueError:
        return True
    here = project
    for part in rel.parts:
        here = here / part
        if _skip_dir(here):
            return True
    return False


def is_ignored(project: Path, path: Path) -> bool:
    """True for files the watcher skips: not ``.py``, outside the project, or under
    ``.hcr/``, ``__pycache__``, a virtual environment or a hidden folder."""
    if path.suffix != ".py" or path.name.startswith("."):
        return True
    return is_ignored_dir(project, path.parent)


def iter_folders(top: Path) -> Iterator[Path]:
    """``top`` and every folder below it that may hold sources: ignored folders (see
    ``is_ignored_dir``) and symbolic links to folders are skipped, with what is below
    them. ``top`` itself is not checked. Each folder is yielded before it is listed,
    so a caller that starts watching it on the spot misses no subfolder made meanwhile."""
    stack = [top]
    while stack:
        folder = stack.pop()
        yield folder
        try:
            with os.scandir(folder) as entries:
                subs = [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
        except OSError:  # vanished or unreadable
            continue
        stack.extend(sorted((d for d in subs if not _skip_dir(d)), reverse=True))


def iter_sources(project: Path) -> Iterator[Path]:
    """Every ``.py`` file of the project that is not ignored."""
    for root, dirs, files in os.walk(project):
        here = Path(root)
        dirs[:] = [d for d in dirs if not _skip_dir(here / d)]
        for name in files:
            if name.endswith(".py") and not name.startswith("."):
                yield here / name
