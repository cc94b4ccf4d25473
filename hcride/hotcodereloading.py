"""The API a program uses to control its own hot code reloading (Nim's
``hotcodereloading`` module)::

    from hcride import hotcodereloading as hcr

    hcr.perform_code_reload()      # apply pending changes now; returns a ReloadResult
    hcr.has_any_module_changed()   # is a new version of any reloadable module ready?
    hcr.has_module_changed(mod)    # inside handlers: is mod part of this reload?

    @hcr.before_code_reload        # runs before the next reload (this version's code)
    def save_state(): ...

    @hcr.after_code_reload         # runs after each reload (the new version's code)
    def reset_cache(): ...

Importing this module puts the program in "manual" mode: reloads happen only when it
calls ``perform_code_reload()``. It works under ``hcride run`` and under plain
``python main.py`` (changes are then found by polling source files' content hashes).
Standard library only.
"""

from __future__ import annotations

import types

from hcride.runtime import handlers
from hcride.runtime.bootstrap import get_engine
from hcride.runtime.report import ModuleReport, Rejection, ReloadResult

__all__ = [
    "ModuleReport",
    "Rejection",
    "ReloadResult",
    "after_code_reload",
    "before_code_reload",
    "has_any_module_changed",
    "has_module_changed",
    "perform_code_reload",
]


def perform_code_reload() -> ReloadResult:
    """Apply every pending new version of the reloadable modules, as one batch.

    Call it from the program's main loop; it is safe to call from inside a function
    of a reloadable module (that frame finishes on the code it started with)."""
    return get_engine().reload()


def has_any_module_changed() -> bool:
    """True when a new version of a reloadable module is ready to apply."""
    return get_engine().has_any_module_changed()


def has_module_changed(module: types.ModuleType | str) -> bool:
    """Inside a reload handler: True exactly for the modules of the current batch."""
    return get_engine().has_module_changed(module)


def before_code_reload(func):  # type: ignore[no-untyped-def]
    """Register ``func`` to run before each reload (decorator)."""
    return handlers.register(handlers.before, func)


def after_code_reload(func):  # type: ignore[no-untyped-def]
    """Register ``func`` to run after each reload (decorator)."""
    return handlers.register(handlers.after, func)


_engine = get_engine()
if _engine.mode == "detect":
    _engine.announce_mode()  # the program is in manual mode from now on: say so
