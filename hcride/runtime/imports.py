"""An import statement run again, read from the modules already imported.

Imports run again at every reload (they are declarations). Compiling each one costs
about 10 us, and a module has tens of them: most of a small module's reload. When
everything an import names is already imported, what it binds can be read from
``sys.modules`` and the modules' attributes, as ``IMPORT_NAME``/``IMPORT_FROM`` would
find it. Anything else (a module not imported yet or still initializing, a name that
is not an attribute, a replaced ``__import__``) returns None, and the statement itself
runs, with its own import side effects and its own errors.
"""

from __future__ import annotations

import builtins
import sys
import types
from typing import Any

from hcride.analysis.statements import ImportSpec, resolve_module

_NONE: Any = object()
"""Not there (an attribute may be None)."""


def bound_by_import(spec: ImportSpec, ns: dict[str, Any]) -> dict[str, Any] | None:
    """The names the import ``spec`` binds run in namespace ``ns``, with their values,
    if nothing needs importing; else None (run the statement)."""
    if not _is_builtin_import(_import_of(ns)):
        return None  # an import hook the program installed sees every import
    module, level, aliases = spec
    out: dict[str, Any] = {}
    if module is None:  # import a.b.c [as d]
        for dotted, asname in aliases:
            if _loaded(dotted) is None:
                return None
            top = dotted.partition(".")[0]
            value = _loaded(top)
            if asname is not None:  # the attribute chain, as IMPORT_FROM walks it
                path = top
                for part in dotted.split(".")[1:]:
                    path = f"{path}.{part}"
                    value = _attribute(value, part, path)
                    if value is _NONE:
                        return None
            if value is None:
                return None
            out[asname or top] = value
        return out
    package = ns.get("__package__")
    if level and not isinstance(package, str):
        return None
    name = resolve_module(module, level, package)
    if name is None:
        return None
    source = _loaded(name)
    if source is None:
        return None
    for attr, asname in aliases:
        if attr == "*":
            star = _public(source)
            if star is None:
                return None
            out.update(star)
            continue
        value = _attribute(source, attr, f"{name}.{attr}")
        if value is _NONE:
            return None
        out[asname or attr] = value
    return out


def _is_builtin_import(function: Any) -> bool:
    """Is ``function`` Python's own ``__import__`` (not a hook put in its place, even
    one installed before hcride was imported)?"""
    return (isinstance(function, types.BuiltinFunctionType)
            and function.__name__ == "__import__"
            and function.__self__ is builtins)


def _import_of(ns: dict[str, Any]) -> Any:
    found = ns.get("__builtins__", builtins)
    if isinstance(found, dict):
        return found.get("__import__")
    return getattr(found, "__import__", None)


def _loaded(name: str) -> Any:
    """The module ``name`` if it is imported and done initializing (else None)."""
    module = sys.modules.get(name)
    if module is None:
        return None
    try:
        spec = getattr(module, "__spec__", None)
        if spec is not None and getattr(spec, "_initializing", False):
            return None
    except Exception:  # an object of the program's own in sys.modules (a settings
        pass  # object raising KeyError): imported, not initializing (3.13's import
        # statement lets that error out; the version that runs got past it once)
    return module


def _attribute(module: Any, attr: str, path: str) -> Any:
    """``from module import attr``: the attribute, else the submodule ``path`` if it
    is imported (``_NONE``: the statement must run, it may import it)."""
    try:
        return getattr(module, attr)
    except AttributeError:
        found = _loaded(path)
        return _NONE if found is None else found
    except Exception:
        return _NONE


def _public(module: Any) -> dict[str, Any] | None:
    """What ``from module import *`` binds (None: let the statement do it)."""
    try:
        names = getattr(module, "__all__", None)
        if names is None:
            return {k: v for k, v in vars(module).items() if not k.startswith("_")}
        if not all(isinstance(n, str) for n in names):
            return None
        return {n: getattr(module, n) for n in names}
    except Exception:
        return None
