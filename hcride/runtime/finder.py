"""Find the function objects that carry a definition's code, without searching the heap.

A ``def`` the user edits is not always what its name holds: decorators wrap it
(with or without ``functools.wraps``), registries keep it, ``property``,
``classmethod``, ``functools.partial`` and bound methods hold it. ``carriers``
walks, from what the module or class holds under the name, only the edges a
decorator can use to keep the function: ``__wrapped__``, ``__func__``, the cells
of a closure, ``fget``/``fset``/``fdel``, ``partial.func`` and the attributes of
small callable objects. The walk is bounded (depth and object count), so its cost
does not depend on the size of the program's heap.

Closures made at run time (a view defined inside ``create_app()``, a decorator's
inner wrapper) are not reachable from the module. They are found by their *code*:
``changed_nested`` pairs each nested code object of a function's running code with
its new version, and ``closures_of`` asks the garbage collector which functions
refer to the old code objects. That is a search of the heap, done only when the
code of a nested ``def``/``lambda`` changed.
"""

from __future__ import annotations

import functools
import gc
import types
from collections.abc import Iterator
from typing import Any

_MAX_DEPTH = 8
_MAX_OBJECTS = 256
_SMALL_DICT = 32


def _edges(obj: Any) -> Iterator[Any]:
    """The objects a decorator may keep the decorated function in. Types are tested
    with ``type()``, not ``isinstance``: a proxy (werkzeug's ``LocalProxy``) may
    raise from its ``__class__``."""
    kind = type(obj)
    if kind is types.FunctionType:
        for cell in obj.__closure__ or ():
            try:
                yield cell.cell_contents
            except ValueError:  # an empty cell
                continue
        wrapped = obj.__dict__.get("__wrapped__")
        if wrapped is not None:
            yield wrapped
        return
    if issubclass(kind, (types.MethodType, classmethod, staticmethod)):
        yield obj.__func__
        return
    if issubclass(kind, property):
        yield from (f for f in (obj.fget, obj.fset, obj.fdel) if f is not None)
        return
    if issubclass(kind, functools.partial):
        yield obj.func
        return
    if issubclass(kind, (type, types.ModuleType, str, bytes, int, float)) or not (
        callable(obj) or hasattr(kind, "__get__")  # a descriptor: cached_property
    ):
        return
    try:
        attrs = object.__getattribute__(obj, "__dict__")
    except AttributeError:
        attrs = None
    for name in ("fget", "fset", "fdel"):  # a property written in C (PySide6's Property)
        if hasattr(kind, name):
            value = getattr(obj, name, None)
            if value is not None:
                yield value
    for name in ("__wrapped__", "__func__"):  # lru_cache, other wrappers
        value = attrs.get(name) if isinstance(attrs, dict) else None
        if value is None and hasattr(kind, name):
            value = getattr(obj, name, None)
        if value is not None:
            yield value
    if isinstance(attrs, dict) and len(attrs) <= _SMALL_DICT:
        # An object a decorator returned (a command, a hybrid property): its own
        # attributes, but only the function-like ones.
        for value in list(attrs.values()):
            if callable(value) or issubclass(type(value), (property, classmethod, staticmethod)):
                yield value


def functions_in(root: Any) -> list[types.FunctionType]:
    """Every plain function reachable from ``root`` by ``_edges``, outermost first.
    An object whose attributes raise is not followed."""
    found: list[types.FunctionType] = []
    seen: set[int] = set()
    level = [root]
    depth = 0
    while level and depth < _MAX_DEPTH and len(seen) < _MAX_OBJECTS:
        nxt: list[Any] = []
        for obj in level:
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if type(obj) is types.FunctionType:
                found.append(obj)
            try:
                nxt.extend(_edges(obj))
            except Exception:  # noqa: S112 - a proxy or descriptor that refuses: skip it
                continue
        level = nxt
        depth += 1
    return found


def carriers(
    root: Any, name: str, filename: str, lines: tuple[int, int] | None = None,
    strict: bool = False,
) -> list[types.FunctionType]:
    """The functions reachable from ``root`` made from the ``def name`` of ``filename``.

    ``lines`` (first and last line of the definition in the running version) tells
    two definitions of the same name apart (a property's getter and setter); when
    nothing lies in that range, every function of that name counts, unless
    ``strict`` (the two branches of an ``if``)."""
    named = [
        f for f in functions_in(root)
        if f.__code__.co_name == name and f.__code__.co_filename == filename
    ]
    if lines is None or (len(named) <= 1 and not strict):
        return named
    first, last = lines
    inside = [f for f in named if first <= f.__code__.co_firstlineno <= last]
    return inside if inside or strict else named


def _nested(code: types.CodeType, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], types.CodeType]:
    """Nested code objects of ``code`` by path: names, a repeated name numbered."""
    out: dict[tuple[str, ...], types.CodeType] = {}
    counts: dict[str, int] = {}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            n = counts.get(const.co_name, 0)
            counts[const.co_name] = n + 1
            path = (*prefix, f"{const.co_name}#{n}")
            out[path] = const
            out.update(_nested(const, path))
    return out


def _signature(code: types.CodeType) -> tuple[Any, ...]:
    """What a code object does, without its line numbers."""
    consts = tuple(
        _signature(c) if isinstance(c, types.CodeType) else (type(c).__name__, repr(c))
        for c in code.co_consts
    )
    return (code.co_code, consts, code.co_names, code.co_varnames, code.co_freevars,
            code.co_cellvars, code.co_argcount, code.co_kwonlyargcount, code.co_flags)


def changed_nested(
    old: types.CodeType, new: types.CodeType
) -> list[tuple[types.CodeType, types.CodeType]]:
    """(old, new) pairs of the nested codes of a function whose behaviour changed.

    A nested code whose only difference is its line numbers is not listed: closures
    made from it keep their code (and no search is needed)."""
    before = _nested(old)
    if not before:
        return []
    after = _nested(new)
    pairs = []
    for path, code in before.items():
        replacement = after.get(path)
        if replacement is not None and _signature(code) != _signature(replacement):
            pairs.append((code, replacement))
    return pairs


def nested_functions(old: types.CodeType, new: types.CodeType) -> list[
        tuple[types.CodeType, types.CodeType]]:
    """(old, new) pairs of the nested ``def``s and ``lambda``s of two versions of a
    function's code, by their place in it (comprehensions and class bodies left out:
    no function outlives its call made from them)."""
    after = _nested(new)
    return [
        (code, after[path]) for path, code in _nested(old).items()
        if path in after and (not code.co_name.startswith("<") or code.co_name == "<lambda>")
    ]


def closures_of(codes: list[types.CodeType]) -> list[types.FunctionType]:
    """Every live function whose code is one of ``codes`` (a search of the heap)."""
    if not codes:
        return []
    wanted = {id(c) for c in codes}
    return [
        f for f in gc.get_referrers(*codes)
        if isinstance(f, types.FunctionType) and id(f.__code__) in wanted
    ]
