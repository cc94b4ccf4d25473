"""Which files are a project's reloadable modules (``ProjectFiles``): string work on
real paths, shared by the bootstrap's light import hook and the engine.

Imports only ``os``: it is loaded at the start of every program under the runtime.
"""

from __future__ import annotations

import os

HCRIDE_ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
"""The ``hcride`` package's folder: never reloadable, whatever the project."""
_VENV_MARKERS = ("site-packages", "dist-packages", "__pypackages__")


class ProjectFiles:
    """Which files are reloadable modules of ``project``: ``.py`` files inside it (by
    their real path), not the main script, not hcride's own, not under a folder named
    ``site-packages``, ``dist-packages`` or ``__pypackages__``, a hidden folder or a
    virtual environment (a folder holding ``pyvenv.cfg``); a symbolic link to a file
    is judged by where it points. ``project`` and ``main_file`` are real paths."""

    def __init__(self, project: str, main_file: str | None = None) -> None:
        self.project = project
        self._prefix = project if project.endswith(os.sep) else project + os.sep
        self._hcride = HCRIDE_ROOT + os.sep
        self._main = main_file or ""
        self._dirs: dict[str, bool] = {}
        self._origins: dict[str, tuple[str, bool]] = {}

    def _inside(self, real: str) -> bool:
        return real == self.project or real.startswith(self._prefix)

    def origin(self, origin: str) -> str | None:
        """``origin`` (a module's file as the import system found it) resolved, if it
        is a reloadable module's file, else None.

        Asked for every import: string work, one ``realpath`` per folder (cached) and
        one ``lstat``, where ``is_reloadable_file`` resolves every part."""
        if not origin.endswith(".py"):
            return None
        folder, name = os.path.split(origin)
        known = self._origins.get(folder)
        if known is None:
            real = os.path.realpath(folder)
            ours = (real + os.sep).startswith(self._hcride)
            ok = self._inside(real) and not ours and self._dir_ok(real)
            known = self._origins[folder] = (real, ok)
        real, ok = known
        if not ok:
            return None
        path = os.path.join(real, name)
        if os.path.islink(path):  # a link to a file: judge where it points
            return os.path.realpath(path) if self.is_reloadable_file(path) else None
        if path == origin:
            path = origin  # one string for both names of the file (kept per module)
        return None if path == self._main else path

    def is_reloadable_file(self, path: str) -> bool:
        """Is the file at ``path`` (resolved first) a reloadable module's?"""
        real = os.path.realpath(path)
        if os.path.splitext(real)[1] != ".py" or real == self._main:
            return False
        if not self._inside(real) or (real + os.sep).startswith(self._hcride):
            return False
        return self._dir_ok(os.path.dirname(real))

    def _dir_ok(self, folder: str) -> bool:
        """May a real folder hold reloadable modules (itself and every folder up to the
        project)?"""
        cached = self._dirs.get(folder)
        if cached is not None:
            return cached
        if folder == self.project or not self._inside(folder):
            ok = True
        else:
            name = os.path.basename(folder)
            ok = (
                name not in _VENV_MARKERS
                and not name.startswith(".")
                and not os.path.exists(os.path.join(folder, "pyvenv.cfg"))
                and self._dir_ok(os.path.dirname(folder))
            )
        self._dirs[folder] = ok
        return ok
