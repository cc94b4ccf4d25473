"""The runtime's first step inside the program: its configuration and a light import
hook, so that a program pays for the engine only once it imports a project module.

Imports only ``os``, ``sys``, ``_thread`` (loaded at every start of the interpreter)
and ``importlib.machinery`` (a fraction of a millisecond), never ``ast``,
``dataclasses``, ``typing`` or the engine: ``hcride run`` on a program that imports no
project module costs about what ``python`` costs.

The launcher calls ``configure()`` (project, main script and the exact bytes of it
that run, mode), ``when_created()`` for what must be attached to the engine (its
reporting, the watchdog), then ``install()``: a meta path finder goes first that tells
a reloadable project file by string work alone (``ProjectFiles``, the rules the engine
uses too). The first import of a project module creates the engine (``engine()``) and
hands that import over to it; the light finder steps aside. ``get_engine()`` (the API)
creates the configured engine the same way when it comes first: this module holds the
process's one engine (a program run by plain ``python`` gets a default one).
"""

from __future__ import annotations

import _thread
import os
import sys
from importlib.machinery import PathFinder, SourceFileLoader

from hcride.runtime.projectfiles import ProjectFiles

TYPE_CHECKING = False
if TYPE_CHECKING:  # no ``typing`` at run time: it costs milliseconds at start
    from collections.abc import Callable
    from typing import Any

    from hcride.runtime.engine import Engine

class _Config:
    """What the launcher said, kept until the engine is made from it."""

    def __init__(self, project: str, main_file: str | None, mode: str,
                 main_source: bytes | None) -> None:
        self.project = project
        self.main_file = main_file
        self.mode = mode
        self.main_source = main_source
        self.files = ProjectFiles(project, main_file)
        self.when_created: list[Callable[[Engine], object]] = []


_config: _Config | None = None
_engine: Engine | None = None
_lock = _thread.RLock()
_finder: _LightFinder | None = None
_maker: int | None = None
"""The thread making the engine, while it does: its imports then (the engine's own)
are nobody's project modules. Other threads wait for the engine."""


def configure(project: str, main_file: str | None, mode: str = "detect",
              main_source: bytes | None = None) -> None:
    """The engine to make, when one is needed: ``project`` and ``main_file`` are real
    paths; ``main_source`` the bytes of the main script that run (its digest tells a
    later edit of the main script: "restart needed")."""
    global _config
    with _lock:
        _config = _Config(project, main_file, mode, main_source)


def configured() -> bool:
    """Did a launcher configure the engine of this process?"""
    return _config is not None


def when_created(callback: Callable[[Engine], object]) -> None:
    """Call ``callback(engine)`` when the engine is made, before it adopts the modules
    already imported (at once if it exists)."""
    with _lock:
        if _engine is not None:
            callback(_engine)
            return
        assert _config is not None, "configure() first"
        _config.when_created.append(callback)


def install() -> None:
    """Put the light finder first on ``sys.meta_path``: the first import of a project
    module makes the engine."""
    global _finder
    with _lock:
        if _finder is None and _engine is None:
            _finder = _LightFinder()
            sys.meta_path.insert(0, _finder)


def engine() -> Engine:
    """The configured engine, made (and installed) on first use."""
    global _engine, _finder, _maker
    made = _engine
    if made is not None:  # the API asks at every call: no lock once made
        return made
    with _lock:
        if _engine is not None:
            return _engine
        assert _config is not None, "configure() first"
        _maker = _thread.get_ident()
        try:
            from hcride.runtime import engine as engine_module

            made = engine_module.Engine(
                _config.project, _config.main_file, _config.mode,
                main_source=_config.main_source,
            )
            for callback in _config.when_created:
                callback(made)
            _config.when_created.clear()
            made.install()  # its own finder goes first; it adopts what was imported before
        finally:
            _maker = None
        if _finder is not None:
            try:
                sys.meta_path.remove(_finder)
            except ValueError:
                pass
            _finder = None
        _engine = made
        return made


def get_engine() -> Engine:
    """The process's engine: the one the launcher configured (made on first use), or,
    for a program started without ``hcride run`` (plain ``python main.py`` using the
    API), one made now for the project ``HCRIDE_PROJECT`` or the main script's folder."""
    if _engine is not None:  # the API asks at every call
        return _engine
    with _lock:
        if _config is None:
            main_file = getattr(sys.modules.get("__main__"), "__file__", None)
            main = os.path.realpath(main_file) if main_file else None
            project = os.environ.get("HCRIDE_PROJECT") or (
                os.path.dirname(main) if main else os.getcwd())
            configure(os.path.realpath(project), main)
    return engine()


class _LightFinder:
    """Goes first on ``sys.meta_path`` until the engine exists; finds nothing itself: it
    makes the engine at the first import of a reloadable module and hands it over."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        config = _config
        if config is None or _engine is not None or _maker == _thread.get_ident():
            return None
        spec = PathFinder.find_spec(fullname, path)
        if (
            spec is None
            or spec.origin is None
            or not isinstance(spec.loader, SourceFileLoader)
            or config.files.origin(spec.origin) is None
        ):
            return None
        made = engine()
        from hcride.runtime.engine import _Finder

        return _Finder(made).find_spec(fullname, path, target)
