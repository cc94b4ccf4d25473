"""Data for the IDE's variables pane, read from the live program (standard library only).

Runs on the agent's inspection thread, never on the main thread. It only reads:
``repr`` and ``len`` are the only user code it calls, ``repr`` with a bounded result
(at most ``REPR_LIMIT`` characters) and a time limit per value (``REPR_TIMEOUT_S``,
on a helper thread, so a ``__repr__`` that hangs costs the pane one marker, not the
program). Attributes are read from ``__dict__`` and ``__slots__``, never through
``getattr`` (no properties, no ``__getattr__``).

Requests (``inspect`` messages, see ``hcride.protocol``) and replies (``data``):

``what="modules"``: ``{"modules": [{"name", "file", "version", "state", "digest"}]}``

``what="globals", module=M, offset, limit``:
``{"module": M, "offset", "total", "items": [Item...]}``; an item of a global also has
``"status"``: ``preserved`` | ``initialized`` | ``patched`` | ``added`` |
``reevaluated`` (what the last reload did to it) or ``None``.

``what="children", module=M, path=[global, key, key...], offset, limit``:
``{"module": M, "path", "offset", "total", "items": [Item...]}``

Item: ``{"key": str, "name": str, "type": str, "kind": "value" | "function" |
"class" | "module", "repr": str, "expandable": bool, "length": int | None}``.
``key`` is opaque: pass it back in ``path`` to expand that child. ``name`` is the
label to show (``[3]``, ``'spam'``, ``.speed``). Pages hold at most ``MAX_PAGE``
items; reaching any page of a list costs the same whatever its length.
"""

from __future__ import annotations

import itertools
import json
import queue
import sys
import threading
import time
import types
from typing import Any

REPR_LIMIT = 200
REPR_TIMEOUT_S = 0.25
REQUEST_BUDGET_S = 2.0
PAGE = 100
MAX_PAGE = 1000
_SCALARS = (int, float, complex, bool, type(None))
_SEQUENCES = (list, tuple)
_SETS = (set, frozenset)


class InspectError(Exception):
    """A request that cannot be answered (unknown module, path that no longer exists)."""


# -- bounded repr ---------------------------------------------------------------------


def _container_repr(obj: Any, budget: int, depth: int) -> str:
    t = type(obj)
    if issubclass(t, dict):
        opener, closer = "{", "}"
        items: Any = dict.items(obj)
    elif issubclass(t, _SETS):
        if not _length(obj):
            return f"{t.__name__}()"
        opener, closer = ("{", "}") if t is set else (f"{t.__name__}({{", "})")
        items = obj
    elif issubclass(t, tuple):
        opener, closer = "(", ",)" if len(obj) == 1 else ")"
        items = obj
    else:
        opener, closer = "[", "]"
        items = obj
    if depth > 3:
        return opener + "..." + closer
    parts: list[str] = []
    used = len(opener)
    for entry in itertools.islice(items, 0, budget // 2 + 1):
        if used > budget:
            break
        if issubclass(t, dict):
            key, value = entry
            text = f"{bounded_repr(key, budget - used, depth + 1)}: " + bounded_repr(
                value, budget - used, depth + 1
            )
        else:
            text = bounded_repr(entry, budget - used, depth + 1)
        parts.append(text)
        used += len(text) + 2
    body = ", ".join(parts)
    if len(parts) < (_length(obj) or 0):
        body += ", ..."
    return opener + body + closer


def bounded_repr(obj: Any, limit: int = REPR_LIMIT, depth: int = 0) -> str:
    """``repr(obj)`` cut to ``limit`` characters, computed in bounded time for the
    built-in containers and strings whatever their size."""
    limit = max(limit, 8)
    t = type(obj)
    if t in _SCALARS:
        try:
            text = repr(obj)
        except ValueError:  # an int too long to print
            text = f"<int with about {obj.bit_length() * 30103 // 100000} digits>"
    elif t is str or t is bytes or t is bytearray:
        text = repr(obj[: limit + 1])
    elif (
        (issubclass(t, dict) and t.__repr__ is dict.__repr__)
        or (issubclass(t, list) and t.__repr__ is list.__repr__)
        or (issubclass(t, tuple) and t.__repr__ is tuple.__repr__)
        or (issubclass(t, set) and t.__repr__ is set.__repr__)
        or (issubclass(t, frozenset) and t.__repr__ is frozenset.__repr__)
    ):
        text = _container_repr(obj, limit, depth)
    else:
        text = repr(obj)
        if not isinstance(text, str):
            text = f"<__repr__ returned {type(text).__name__}>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


class _ReprWorker:
    """Computes reprs on a helper thread so one that hangs can be abandoned."""

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[tuple[Any, queue.SimpleQueue[str]]] = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="hcride-repr", daemon=True).start()

    def _loop(self) -> None:
        while True:
            obj, reply = self._requests.get()
            try:
                text = bounded_repr(obj)
            except BaseException as exc:  # noqa: BLE001 - any failure is shown as such
                text = f"<repr failed: {type(exc).__name__}: {_safe_str(exc)}>"
            reply.put(text)
            del obj

    def repr(self, obj: Any, timeout: float) -> str | None:
        reply: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._requests.put((obj, reply))
        try:
            return reply.get(timeout=timeout)
        except queue.Empty:
            return None


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)[:100]
    except Exception:
        return "?"


_worker: _ReprWorker | None = None


def timed_repr(obj: Any, deadline: float) -> str:
    """A bounded repr, or a marker when it takes too long or the budget is spent."""
    global _worker
    left = deadline - time.monotonic()
    if left <= 0:
        return "<not evaluated: inspection time budget spent>"
    if _worker is None:
        _worker = _ReprWorker()
    text = _worker.repr(obj, min(REPR_TIMEOUT_S, left))
    if text is None:
        _worker = None  # the old one is stuck in a __repr__; use a fresh one next time
        return f"<repr timed out after {REPR_TIMEOUT_S:.2f} s>"
    return text


# -- children -------------------------------------------------------------------------


def _attributes(obj: Any) -> dict[str, Any]:
    """Instance attributes read without running user code (``__dict__``, slots)."""
    found: dict[str, Any] = {}
    try:
        namespace = object.__getattribute__(obj, "__dict__")
    except (AttributeError, TypeError):
        namespace = None
    if isinstance(namespace, (dict, types.MappingProxyType)):
        found.update(namespace)
    for klass in type(obj).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            descriptor = klass.__dict__.get(slot)
            if type(descriptor) is types.MemberDescriptorType:
                try:
                    found.setdefault(slot, descriptor.__get__(obj, type(obj)))
                except AttributeError:
                    continue
    return found


def _kind_of(obj: Any) -> str:
    # issubclass(type(obj)), not isinstance: isinstance may read a ``__class__`` property
    # (a proxy's, which can raise or block).
    t = type(obj)
    if issubclass(t, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return "function"
    if issubclass(t, type):
        return "class"
    if issubclass(t, types.ModuleType):
        return "module"
    return "value"


def _length(obj: Any) -> int | None:
    t = type(obj)
    for base in (list, tuple, dict, set, frozenset, str, bytes, bytearray):
        if issubclass(t, base):
            return base.__len__(obj)  # type: ignore[attr-defined]
    return None


def _expandable(obj: Any) -> bool:
    t = type(obj)
    if issubclass(t, (str, bytes, bytearray)) or t in _SCALARS:
        return False
    if issubclass(t, (list, tuple, dict, set, frozenset)):
        return bool(_length(obj))
    if issubclass(t, (types.FunctionType, types.BuiltinFunctionType)):
        return False
    return bool(_attributes(obj))


def _item(key: str, name: str, obj: Any, deadline: float) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "type": _type_name(obj),
        "kind": _kind_of(obj),
        "repr": timed_repr(obj, deadline),
        "expandable": _expandable(obj),
        "length": _length(obj),
    }


def _type_name(obj: Any) -> str:
    t = type(obj)
    module = getattr(t, "__module__", "")
    qualname = getattr(t, "__qualname__", t.__name__)
    return qualname if module in ("builtins", None, "") else f"{module}.{qualname}"


def _simple_key(key: Any) -> bool:
    return type(key) in (str, int, float, bool, type(None))


def _page(obj: Any, offset: int, limit: int, deadline: float) -> tuple[int | None, list[dict]]:
    """The children of ``obj`` from ``offset``: (total, items)."""
    t = type(obj)
    items: list[dict[str, Any]] = []
    if issubclass(t, (list, tuple)):
        total = _length(obj) or 0
        getitem = list.__getitem__ if issubclass(t, list) else tuple.__getitem__
        for index in range(offset, min(total, offset + limit)):
            items.append(_item(f"i:{index}", f"[{index}]", getitem(obj, index), deadline))
        return total, items
    if issubclass(t, dict):
        total = dict.__len__(obj)
        entries = itertools.islice(dict.items(obj), offset, offset + limit)
        for position, (key, value) in enumerate(entries, start=offset):
            code = f"k:{json.dumps(key)}" if _simple_key(key) else f"p:{position}"
            label = f"[{timed_repr(key, deadline)[:80]}]"
            items.append(_item(code, label, value, deadline))
        return total, items
    if issubclass(t, (set, frozenset)):
        total = _length(obj) or 0
        values = _set_iter(obj)
        for position, value in enumerate(itertools.islice(values, offset, offset + limit), offset):
            items.append(_item(f"p:{position}", f"<{position}>", value, deadline))
        return total, items
    attributes = list(_attributes(obj).items())
    for name, value in attributes[offset : offset + limit]:
        items.append(_item(f"a:{name}", f".{name}", value, deadline))
    return len(attributes), items


def _set_iter(obj: Any) -> Any:
    """The items of a set or frozenset, never through a subclass's ``__iter__``."""
    return (set.__iter__ if issubclass(type(obj), set) else frozenset.__iter__)(obj)


def _child(obj: Any, key: Any) -> Any:
    if not isinstance(key, str) or ":" not in key:
        raise InspectError(f"bad key {key!r}")
    tag, _, rest = key.partition(":")
    t = type(obj)
    try:
        if tag == "i" and issubclass(t, (list, tuple)):
            getitem = list.__getitem__ if issubclass(t, list) else tuple.__getitem__
            return getitem(obj, int(rest))
        if tag == "k" and issubclass(t, dict):
            return dict.__getitem__(obj, json.loads(rest))
        if tag == "p" and issubclass(t, dict):
            return next(itertools.islice(dict.values(obj), int(rest), None))
        if tag == "p" and issubclass(t, (set, frozenset)):
            return next(itertools.islice(_set_iter(obj), int(rest), None))
        if tag == "a":
            return _attributes(obj)[rest]
    except (IndexError, KeyError, StopIteration, ValueError, TypeError):
        pass
    raise InspectError(f"no child {key!r} any more")


# -- requests -------------------------------------------------------------------------


def _module(engine: Any, name: Any) -> types.ModuleType:
    if not isinstance(name, str) or not name:
        raise InspectError("missing module name")
    module = engine.get_module(name) if engine is not None else None
    if module is None:
        module = sys.modules.get(name)
    if module is None:
        raise InspectError(f"no module {name!r} in the program")
    return module


def _globals(module: types.ModuleType) -> list[tuple[str, Any]]:
    namespace = dict(module.__dict__)
    return [(k, v) for k, v in namespace.items() if not (k.startswith("__") and k.endswith("__"))]


def _bounds(msg: dict[str, Any]) -> tuple[int, int]:
    offset, limit = msg.get("offset", 0), msg.get("limit", PAGE)
    if not isinstance(offset, int) or not isinstance(limit, int) or offset < 0 or limit < 0:
        raise InspectError("offset and limit must be non-negative integers")
    # Past the end is an empty page; keep slice and islice bounds below sys.maxsize.
    return min(offset, sys.maxsize // 2), min(limit, MAX_PAGE)


def handle(engine: Any, msg: dict[str, Any]) -> Any:
    """Answer one ``inspect`` request; raises ``InspectError`` for a bad one."""
    what = msg.get("what")
    deadline = time.monotonic() + REQUEST_BUDGET_S
    if what not in ("modules", "globals", "children"):
        raise InspectError(f"unknown inspect request {what!r}")
    if what == "modules":
        return {"modules": engine.module_infos() if engine is not None else []}
    offset, limit = _bounds(msg)
    name = msg.get("module")
    module = _module(engine, name)
    if what == "globals":
        status = engine.name_status(name) if engine is not None else {}
        entries = _globals(module)
        items = []
        for key, value in entries[offset : offset + limit]:
            item = _item(key, key, value, deadline)
            item["status"] = status.get(key)
            items.append(item)
        return {"module": name, "offset": offset, "total": len(entries), "items": items}
    if what == "children":
        path = msg.get("path")
        if not isinstance(path, list) or not path or not isinstance(path[0], str):
            raise InspectError("path must be [global name, key, ...]")
        namespace = module.__dict__
        if path[0] not in namespace:
            raise InspectError(f"no global {path[0]!r} in {name}")
        obj = namespace[path[0]]
        for key in path[1:]:
            obj = _child(obj, key)
        total, items = _page(obj, offset, limit, deadline)
        return {"module": name, "path": path, "offset": offset, "total": total, "items": items}
    raise InspectError(f"unknown inspect request {what!r}")
