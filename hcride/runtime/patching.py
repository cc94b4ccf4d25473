"""Patch live functions and classes in place, recording every change for rollback.

Functions keep their identity and get the new version's code object, so every
existing reference (``from logic import update``, a stored callback, a bound method)
runs the new code on its next call. Frames already running keep their own code.
"""

from __future__ import annotations

import types
import weakref
from collections.abc import Callable
from typing import Any

MISSING: Any = object()
_FUNCTION_FIELDS = ("__code__", "__defaults__", "__kwdefaults__", "__doc__", "__annotations__")


class UndoLog:
    """Every mutation of a batch, undone in reverse order on rollback."""

    def __init__(self) -> None:
        self._steps: list[Callable[[], None]] = []

    def set_item(self, mapping: dict[str, Any], key: str, value: Any) -> None:
        old = mapping.get(key, MISSING)
        self._steps.append(lambda: _restore_item(mapping, key, old))
        mapping[key] = value

    def remember_item(self, mapping: dict[str, Any], key: str) -> None:
        """Restore ``mapping[key]`` on rollback, whatever the batch does to it."""
        old = mapping.get(key, MISSING)
        self._steps.append(lambda: _restore_item(mapping, key, old))

    def del_item(self, mapping: dict[str, Any], key: str) -> None:
        old = mapping.get(key, MISSING)
        if old is MISSING:
            return
        self._steps.append(lambda: _restore_item(mapping, key, old))
        del mapping[key]

    def set_attr(self, obj: Any, name: str, value: Any) -> None:
        old = obj.__dict__.get(name, MISSING) if hasattr(obj, "__dict__") else MISSING
        self._steps.append(lambda: _restore_attr(obj, name, old))
        setattr(obj, name, value)

    def del_attr(self, obj: Any, name: str) -> None:
        old = obj.__dict__.get(name, MISSING)
        if old is MISSING:
            return
        self._steps.append(lambda: _restore_attr(obj, name, old))
        delattr(obj, name)

    def on_undo(self, step: Callable[[], None]) -> None:
        self._steps.append(step)

    def rollback(self) -> None:
        while self._steps:
            self._steps.pop()()


def _restore_item(mapping: dict[str, Any], key: str, old: Any) -> None:
    if old is MISSING:
        mapping.pop(key, None)
    else:
        mapping[key] = old


def _restore_attr(obj: Any, name: str, old: Any) -> None:
    if old is MISSING:
        if name in obj.__dict__:
            delattr(obj, name)
    else:
        setattr(obj, name, old)


def source_function(obj: Any, filename: str) -> types.FunctionType | None:
    """The function written in ``filename`` behind ``obj``: ``obj`` itself, or what a
    decorator wrapped (``__wrapped__``, ``__func__``). None if there is none.

    The innermost one wins: a decorator defined in the same file makes a wrapper whose
    code is in ``filename`` too, but the ``def`` the user edits is the wrapped one."""
    found = None
    seen = 0
    while obj is not None and seen < 32:
        seen += 1
        if isinstance(obj, types.FunctionType) and obj.__code__.co_filename == filename:
            found = obj
        if isinstance(obj, (classmethod, staticmethod)):
            obj = obj.__func__
            continue
        obj = getattr(obj, "__wrapped__", None)
    return found


def patch_function(old: Any, new: Any, filename: str, undo: UndoLog) -> bool:
    """Give ``old``'s source function the code of ``new``'s. False if not possible
    (no source function on one side, or a different closure layout).

    Functions ``old``'s replaced (``adopt_references``) are patched as well."""
    target = source_function(old, filename)
    donor = source_function(new, filename)
    if target is None or donor is None:
        return False
    if target.__code__.co_freevars != donor.__code__.co_freevars:
        return False
    for ref in [weakref.ref(target), *_replaced.get(target, [])]:
        func = ref()
        if func is not None and func.__code__.co_freevars == donor.__code__.co_freevars:
            _patch_one(func, donor, undo)
    clear = getattr(old, "cache_clear", None)
    if callable(clear):  # functools.lru_cache: results of the old code are stale
        clear()
    return True


def _patch_one(target: types.FunctionType, donor: types.FunctionType, undo: UndoLog) -> None:
    saved = {name: getattr(target, name) for name in _FUNCTION_FIELDS}
    saved_dict = dict(target.__dict__)

    def undo_patch() -> None:
        for name, value in saved.items():
            setattr(target, name, value)
        target.__dict__.clear()
        target.__dict__.update(saved_dict)

    undo.on_undo(undo_patch)
    for name in _FUNCTION_FIELDS:
        setattr(target, name, getattr(donor, name))
    for key, value in donor.__dict__.items():
        if key != "__wrapped__":
            target.__dict__[key] = value


_replaced: weakref.WeakKeyDictionary[types.FunctionType, list[weakref.ref]] = (
    weakref.WeakKeyDictionary()
)
"""Source function -> the older functions it replaced under its name."""


def adopt_references(old: Any, new: Any, filename: str, undo: UndoLog) -> None:
    """``new`` replaces ``old`` under its name (its decorators changed, so ``old``
    could not simply be patched): later patches of ``new`` reach the references to
    ``old`` that already exist, as they would have had ``old`` stayed."""
    target = source_function(old, filename)
    donor = source_function(new, filename)
    if target is None or donor is None or target is donor:
        return
    previous = _replaced.get(donor)
    _replaced[donor] = [weakref.ref(target), *_replaced.get(target, [])]

    def undo_adopt() -> None:
        if previous is None:
            _replaced.pop(donor, None)
        else:
            _replaced[donor] = previous

    undo.on_undo(undo_adopt)


def patch_member(old: Any, new: Any, filename: str, undo: UndoLog) -> bool:
    """Patch a class attribute in place: a method, class/static method or property."""
    if isinstance(old, property) and isinstance(new, property):
        pairs = [(old.fget, new.fget), (old.fset, new.fset), (old.fdel, new.fdel)]
        if any((a is None) != (b is None) for a, b in pairs):
            return False
        return all(a is None or patch_function(a, b, filename, undo) for a, b in pairs)
    if type(old) is not type(new) and not (
        isinstance(old, types.FunctionType) or isinstance(new, types.FunctionType)
    ):
        return False
    if isinstance(old, (classmethod, staticmethod)) != isinstance(new, (classmethod, staticmethod)):
        return False
    return patch_function(old, new, filename, undo)


def rebind_class_cell(obj: Any, new_cls: type, old_cls: type) -> Any:
    """A copy of a member of ``new_cls`` whose ``__class__`` cell (what zero-argument
    ``super()`` uses) points at ``old_cls``, the class that keeps its identity."""
    if isinstance(obj, property):
        return property(
            *(rebind_class_cell(f, new_cls, old_cls) for f in (obj.fget, obj.fset, obj.fdel)),
            obj.__doc__,
        )
    if isinstance(obj, classmethod):
        return classmethod(rebind_class_cell(obj.__func__, new_cls, old_cls))
    if isinstance(obj, staticmethod):
        return staticmethod(rebind_class_cell(obj.__func__, new_cls, old_cls))
    if not isinstance(obj, types.FunctionType) or not obj.__closure__:
        return obj
    names = obj.__code__.co_freevars
    cells = tuple(
        types.CellType(old_cls)
        if name == "__class__" and _cell_value(cell) is new_cls
        else cell
        for name, cell in zip(names, obj.__closure__, strict=False)
    )
    copy = types.FunctionType(obj.__code__, obj.__globals__, obj.__name__, obj.__defaults__, cells)
    copy.__kwdefaults__ = obj.__kwdefaults__
    copy.__qualname__ = obj.__qualname__
    copy.__doc__ = obj.__doc__
    copy.__annotations__ = obj.__annotations__
    copy.__dict__.update(obj.__dict__)
    copy.__module__ = obj.__module__
    return copy


def _cell_value(cell: types.CellType) -> Any:
    try:
        return cell.cell_contents
    except ValueError:
        return MISSING


def shift_code(code: types.CodeType, delta: int) -> types.CodeType:
    """``code`` moved ``delta`` lines down (nested code objects too)."""
    consts = tuple(
        shift_code(c, delta) if isinstance(c, types.CodeType) else c for c in code.co_consts
    )
    return code.replace(co_firstlineno=code.co_firstlineno + delta, co_consts=consts)


def shift_function(obj: Any, filename: str, delta: int, undo: UndoLog) -> None:
    """Make tracebacks of an unchanged function that moved point at its new lines."""
    if not delta:
        return
    targets = [obj.fget, obj.fset, obj.fdel] if isinstance(obj, property) else [obj]
    for item in targets:
        func = source_function(item, filename)
        if func is None:
            continue
        old_code = func.__code__
        undo.on_undo(lambda f=func, c=old_code: setattr(f, "__code__", c))
        func.__code__ = shift_code(old_code, delta)
