"""Patch live functions and classes in place, recording every change for rollback.

Functions keep their identity and get the new version's code object, so every
existing reference (``from logic import update``, a stored callback, a bound method)
runs the new code on its next call. Frames already running keep their own code.

A batch is prepared first (new code compiled and run, decorators called, new
globals initialized) and the changes that other threads could observe half-done
(patched code, rebound names, class attributes) are only *recorded*
(``UndoLog.later``). ``UndoLog.apply`` then makes them all in one call into C code
(``itertools`` and ``collections.deque`` driving ``setattr``, ``dict.__setitem__``
...), which runs no Python bytecode, so the interpreter cannot switch to another
thread in the middle: no thread sees some functions of a batch new and others old.
"""

from __future__ import annotations

import collections
import gc
import itertools
import sys
import threading
import time
import types
from collections.abc import Callable
from typing import Any

from hcride.runtime.compat import function_fields

MISSING: Any = object()
_FORWARD = "__hcride_forward__"


class UndoLog:
    """Every mutation of a batch: made now (``set_item``...) or at ``apply`` (``later_*``),
    undone in reverse order on rollback."""

    def __init__(self) -> None:
        self._steps: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        """``(function, arguments)`` of each undo step (no closure per step: a batch
        of 1,000 modules records tens of thousands)."""
        self._later: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.replaced_codes: set[types.CodeType] = set()
        """Code objects that ``apply`` takes away from functions (see ``quiet``)."""
        self.pending_names: set[str] = set()
        """Names of what has changes waiting for ``apply`` (functions, classes,
        globals): code of the batch that uses one of them must wait for ``apply``."""

    # Made at once: only what the program's running code cannot see (new names).
    def set_item(self, mapping: dict[str, Any], key: str, value: Any) -> None:
        old = mapping.get(key, MISSING)
        self._steps.append((_restore_item, (mapping, key, old)))
        mapping[key] = value

    def del_item(self, mapping: dict[str, Any], key: str) -> None:
        old = mapping.get(key, MISSING)
        if old is MISSING:
            return
        self._steps.append((_restore_item, (mapping, key, old)))
        del mapping[key]

    def set_attr(self, obj: Any, name: str, value: Any) -> None:
        old = obj.__dict__.get(name, MISSING) if hasattr(obj, "__dict__") else MISSING
        self._steps.append((_restore_attr, (obj, name, old)))
        setattr(obj, name, value)

    def on_undo(self, step: Callable[[], object], *args: Any) -> None:
        self._steps.append((step, args))

    # Recorded now, made by apply().
    def later_item(self, mapping: dict[str, Any], key: str, value: Any) -> None:
        old = mapping.get(key, MISSING)
        self._steps.append((_restore_item, (mapping, key, old)))
        self._later.append((dict.__setitem__, (mapping, key, value)))
        self.pending_names.add(key)

    def later_del_item(self, mapping: dict[str, Any], key: str) -> None:
        old = mapping.get(key, MISSING)
        if old is MISSING:
            return
        self._steps.append((_restore_item, (mapping, key, old)))
        self._later.append((dict.pop, (mapping, key, None)))

    def later_attr(self, obj: Any, name: str, value: Any, same_behaviour: bool = False) -> None:
        """``setattr`` at apply time. On a class, ``type.__setattr__``: a metaclass's
        own ``__setattr__`` (Python code) must not run inside the atomic step.
        ``same_behaviour``: a new ``__code__`` that only moved lines (no need to wait
        for threads to leave the old one)."""
        if not same_behaviour:  # a class's attribute, or a function's code
            self.pending_names.add(getattr(obj, "__name__", ""))
            if isinstance(obj, type):
                self.pending_names.add(name)
        if isinstance(obj, type):
            old = obj.__dict__.get(name, MISSING)
            self._steps.append((_restore_attr, (obj, name, old)))
            self._later.append((class_setattr(obj), (obj, name, value)))
        else:
            old = getattr(obj, name)
            if name == "__code__" and not same_behaviour:
                self.replaced_codes.add(old)
            self._steps.append((setattr, (obj, name, old)))
            self._later.append((setattr, (obj, name, value)))

    def later_del_attr(self, cls: type, name: str) -> None:
        old = cls.__dict__.get(name, MISSING)
        if old is MISSING:
            return
        self._steps.append((_restore_attr, (cls, name, old)))
        self._later.append((type.__delattr__ if class_setattr(cls) is type.__setattr__
                            else delattr, (cls, name)))

    def apply(self) -> None:
        """Make every recorded change, in order, in one call into C (see the module
        docstring). The old values stay referenced by the undo steps, so no
        finalizer runs in between; the cyclic collector is paused for the same reason."""
        self._prepared()()

    def _prepared(self) -> Callable[[], None]:
        """What ``apply`` does, ready to run: the Python work (grouping the changes)
        done now, so that running it is the one call into C and nothing else."""
        runs: list[Any] = []
        for func, group in itertools.groupby(self._later, key=lambda op: op[0]):
            runs.append(itertools.starmap(func, [args for _, args in group]))
        self._later = []
        self.pending_names = set()
        changes = itertools.chain.from_iterable(runs)

        def run() -> None:
            enabled = gc.isenabled()
            gc.disable()
            try:
                collections.deque(changes, maxlen=0)
            finally:
                if enabled:
                    gc.enable()

        return run

    def apply_when_quiet(self, attempts: int = 100, pause: float = 0.0005) -> int:
        """``apply``, at a moment when no other thread is inside a function whose code
        the batch replaces, so that no call that started on the old code of one
        function meets the new code of another. Waits at most ``attempts`` short
        pauses: a thread that never leaves such a function (a loop) does not block
        the reload. The last check and the change run with a long switch interval,
        so the interpreter hands no other thread the GIL between the two.
        Returns the pauses waited."""
        waited = 0
        if not self._later:
            return 0
        replaced, self.replaced_codes = self.replaced_codes, set()
        run = self._prepared()
        if not replaced or threading.active_count() == 1:
            run()
            return 0
        interval = sys.getswitchinterval()
        try:
            while True:
                sys.setswitchinterval(1.0)
                if waited >= attempts or not _busy(replaced):
                    run()
                    return waited
                sys.setswitchinterval(interval)
                time.sleep(pause)
                waited += 1
        finally:
            sys.setswitchinterval(interval)

    def rollback(self) -> list[str]:
        """Undo every step, newest first. A step that raises does not stop the others
        (stopping would leave the program half patched); the exceptions are returned,
        one line each, for the report."""
        self._later = []
        problems: list[str] = []
        while self._steps:
            step, args = self._steps.pop()
            try:
                step(*args)
            except Exception as exc:  # any failure is reported, not raised
                problems.append(f"{type(exc).__name__}: {exc}")
        return problems


def _busy(codes: set[types.CodeType]) -> bool:
    """Is a thread other than this one running one of ``codes``?"""
    frames = sys._current_frames()
    del frames[threading.get_ident()]  # (held in a local, this frame would be a cycle)
    for frame in frames.values():
        while frame is not None:
            if frame.f_code in codes:
                return True
            frame = frame.f_back
    return False


def _restore_item(mapping: dict[str, Any], key: str, old: Any) -> None:
    if old is MISSING:
        mapping.pop(key, None)
    else:
        mapping[key] = old


def _restore_attr(obj: Any, name: str, old: Any) -> None:
    if old is MISSING:
        if name in obj.__dict__:
            delattr(obj, name)
    elif isinstance(obj, type):
        class_setattr(obj)(obj, name, old)
    else:
        setattr(obj, name, old)


def class_setattr(cls: type) -> Any:
    """How to set an attribute of ``cls`` without running Python code: ``type.__setattr__``
    (a metaclass's own ``__setattr__`` in Python is skipped), unless the metaclass
    is written in C with its own ``setattr`` (PySide6's ``Shiboken.ObjectType``),
    which ``type.__setattr__`` refuses: then ``setattr``, a C call too."""
    try:  # type.__delattr__ checks that it may skip the metaclass's slot before it looks
        type.__delattr__(cls, "__hcride_no_such_attribute__")
    except TypeError:
        return setattr  # a slot written in C, which type.__setattr__ may not skip
    except AttributeError:
        pass
    return type.__setattr__


def patch_code(target: types.FunctionType, donor: types.FunctionType, undo: UndoLog) -> bool:
    """Give ``target`` the code, defaults, annotations and docstring of ``donor`` (at
    ``undo.apply()``). False when their closures differ (free variables added or
    removed): a function's cells cannot change, so it cannot take that code."""
    if target.__code__.co_freevars != donor.__code__.co_freevars:
        return False
    for name in function_fields(donor):
        value = getattr(donor, name)
        if name == "__code__" or not _same_field(getattr(target, name), value):
            undo.later_attr(target, name, value)
    return True


def _same_field(old: Any, new: Any) -> bool:
    """Is a function field's new value the one it has (None, an empty dict or tuple,
    the same docstring)? Then it is left alone."""
    if old is new:
        return True
    kind = type(old)
    if kind is not type(new):
        return False
    if kind is str:
        return bool(old == new)
    return kind in (dict, tuple) and not old and not new


def patch_closure(target: types.FunctionType, code: types.CodeType, undo: UndoLog,
                  same_behaviour: bool = False) -> bool:
    """A function made by a nested ``def``/``lambda`` takes the new code of its def
    and keeps its cells and defaults. False when the free variables differ.
    ``same_behaviour``: the new code only moved lines."""
    if target.__code__.co_freevars != code.co_freevars:
        return False
    undo.later_attr(target, "__code__", code, same_behaviour=same_behaviour)
    return True


_FORWARDERS: dict[tuple[int, bool], types.CodeType] = {}


def _forwarder(freevars: int, is_async: bool) -> types.CodeType:
    """The code of ``def f(*args, __hcride_forward__, **kwargs)`` that calls
    ``__hcride_forward__`` with its arguments, with ``freevars`` unused free
    variables (a function's code must keep its number of cells)."""
    key = (freevars, is_async)
    code = _FORWARDERS.get(key)
    if code is None:
        names = [f"_hcride_cell{i}" for i in range(freevars)]
        lines = ["def _outer():"]
        lines += [f"    {n} = None" for n in names]
        lines.append(f"    {'async ' if is_async else ''}def forward(*args, {_FORWARD}, **kwargs):")
        if names:
            lines.append("        " + ", ".join(names))
        lines.append(f"        return {'await ' if is_async else ''}{_FORWARD}(*args, **kwargs)")
        lines.append("    return forward")
        scope: dict[str, Any] = {}
        exec(compile("\n".join(lines) + "\n", "<hcride forward>", "exec"), scope)  # noqa: S102
        code = next(c for c in scope["_outer"].__code__.co_consts
                    if isinstance(c, types.CodeType))
        _FORWARDERS[key] = code
    return code


def forward(old: Any, new: Any, undo: UndoLog) -> bool:
    """Make calls of ``old`` (held by references taken before a reload) call ``new``.

    Used when a definition's decorator list changed or its closure changed
    (``super()`` gained or lost): the new object replaces the old one under its
    name, and every reference to the old one keeps working *and* runs the new
    decorators and body, because the old function's code becomes a forwarder to
    the new object (its identity, like any patched function's, is kept).
    ``classmethod``/``staticmethod``/``property`` forward their functions.
    False when ``old`` holds no function (its references keep the old behaviour)."""
    if isinstance(old, types.FunctionType):
        if not callable(new):
            return False
        code = _forwarder(len(old.__code__.co_freevars),
                          bool(old.__code__.co_flags & 0x80))  # CO_COROUTINE
        undo.later_attr(old, "__code__", code)
        undo.later_attr(old, "__defaults__", None)
        undo.later_attr(old, "__kwdefaults__", {_FORWARD: new})
        return True
    if isinstance(old, (classmethod, staticmethod)) and isinstance(new, (classmethod, staticmethod)):
        return forward(old.__func__, new.__func__, undo)
    if isinstance(old, property) and isinstance(new, property):
        done = False
        for a, b in ((old.fget, new.fget), (old.fset, new.fset), (old.fdel, new.fdel)):
            if a is not None and b is not None:
                done = forward(a, b, undo) or done
        return done
    return False


def clear_caches(obj: Any) -> None:
    """``functools.lru_cache``: results computed by the old code are stale."""
    clear = getattr(obj, "cache_clear", None)
    if callable(clear):
        clear()


def shift_code(code: types.CodeType, delta: int) -> types.CodeType:
    """``code`` moved ``delta`` lines down (nested code objects too)."""
    consts = tuple(
        shift_code(c, delta) if isinstance(c, types.CodeType) else c for c in code.co_consts
    )
    return code.replace(co_firstlineno=code.co_firstlineno + delta, co_consts=consts)


def shift_functions(functions: list[types.FunctionType], delta: int, undo: UndoLog) -> None:
    """Make tracebacks of unchanged functions that moved point at their new lines."""
    if not delta:
        return
    for func in functions:
        undo.later_attr(func, "__code__", shift_code(func.__code__, delta), same_behaviour=True)
