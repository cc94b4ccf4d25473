"""The before/after reload handlers a program registers (Nim's beforeCodeReload and
afterCodeReload).

A handler is keyed by its module and qualified name, so that the new version of a
module re-registering ``on_reload`` replaces the old entry instead of adding one.
"""

from __future__ import annotations

from collections.abc import Callable

Handler = Callable[[], object]
_Key = tuple[str, str]

before: dict[_Key, Handler] = {}
after: dict[_Key, Handler] = {}


def _key(func: Handler) -> _Key:
    module = getattr(func, "__module__", None) or "__main__"
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
    return module, name


def register(table: dict[_Key, Handler], func: Handler) -> Handler:
    if not callable(func):
        raise TypeError(f"a reload handler must be callable, not {type(func).__name__}")
    table[_key(func)] = func
    return func


def snapshot() -> tuple[dict[_Key, Handler], dict[_Key, Handler]]:
    return dict(before), dict(after)


def restore(saved: tuple[dict[_Key, Handler], dict[_Key, Handler]]) -> None:
    before.clear()
    before.update(saved[0])
    after.clear()
    after.update(saved[1])


def forget(module: str, names: set[str]) -> None:
    """Drop the handlers of ``module`` whose top-level name is in ``names``."""
    for table in (before, after):
        for key in [k for k in table if k[0] == module and k[1].split(".")[0] in names]:
            del table[key]


def ordered(table: dict[_Key, Handler], load_order: dict[str, int]) -> list[Handler]:
    """Handlers in module load order, then registration order."""
    items = list(table.items())
    position = {key: i for i, (key, _) in enumerate(items)}
    items.sort(key=lambda kv: (load_order.get(kv[0][0], 1 << 30), position[kv[0]]))
    return [func for _, func in items]
