"""Check what the runtime sends before any listener sees it (standard library only).

The runtime is authenticated, but a bug in it (or in a program that writes to its
connection) must not reach the IDE's models as a ``version`` that is a string or a
``rejected`` entry that is a number. Each ``check_*`` returns the reason a message
is unusable (``None``: fine); ``clean_modules`` keeps the usable entries of a module
list and says which it dropped.
"""

from __future__ import annotations

from typing import Any

_RESULT_LISTS = ("reloaded", "restart_needed", "handler_errors", "held_back")
_REPORT_LISTS = (
    "patched", "added", "initialized", "preserved", "stale", "reevaluated", "removed", "skipped",
    "closures_skipped", "needs_restart",
)  # fmt: skip


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


is_str_list = _str_list


def _check_fields(data: Any, what: str, required: dict[str, Any], optional: dict[str, Any]) -> (
    str | None
):
    if not isinstance(data, dict):
        return f"{what} is {type(data).__name__}, not an object"
    for name, ok in required.items():
        if name not in data:
            return f"{what} has no {name!r}"
        if not ok(data[name]):
            return f"{what}: {name!r} is {type(data[name]).__name__} {str(data[name])[:40]!r}"
    for name, ok in optional.items():
        if name in data and not ok(data[name]):
            return f"{what}: {name!r} is {type(data[name]).__name__} {str(data[name])[:40]!r}"
    return None


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def check_rejection(data: Any) -> str | None:
    return _check_fields(
        data,
        "rejection",
        {"module": _is_str, "kind": _is_str, "message": _is_str},
        {"file": _is_str, "line": _is_int, "col": _is_int, "cls": _is_str,
         "differences": _str_list},
    )  # fmt: skip


def check_report(data: Any) -> str | None:
    optional: dict[str, Any] = dict.fromkeys(_REPORT_LISTS, _str_list)
    return _check_fields(
        data, "module report", {"name": _is_str, "file": _is_str, "version": _is_int}, optional
    )


def check_result(data: Any) -> str | None:
    """Why ``data`` is not a ``ReloadResult.to_dict()`` (None: it is one)."""
    optional: dict[str, Any] = dict.fromkeys(_RESULT_LISTS, _str_list)
    optional.update(
        ok=lambda v: isinstance(v, bool),
        rejected=lambda v: isinstance(v, list),
        modules=lambda v: isinstance(v, list),
        error=lambda v: v is None or isinstance(v, str),
        duration_ms=lambda v: _is_int(v) or isinstance(v, float),
        build=lambda v: v is None or _is_int(v),
    )
    reason = _check_fields(data, "result", {}, optional)
    if reason is not None:
        return reason
    for entry in data.get("rejected", []):
        reason = check_rejection(entry)
        if reason is not None:
            return reason
    for entry in data.get("modules", []):
        reason = check_report(entry)
        if reason is not None:
            return reason
    return None


def _is_path(value: Any) -> bool:
    return isinstance(value, str) and "\x00" not in value


def check_module_info(data: Any) -> str | None:
    return _check_fields(
        data,
        "module entry",
        {"name": lambda v: isinstance(v, str) and bool(v), "file": _is_path},
        {"version": _is_int, "state": _is_str, "digest": _is_str},
    )


def clean_modules(modules: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """``(usable entries, reasons for the dropped ones)``."""
    kept: list[dict[str, Any]] = []
    dropped: list[str] = []
    for entry in modules:
        reason = check_module_info(entry)
        if reason is None:
            kept.append(entry)
        else:
            dropped.append(reason)
    return kept, dropped


def check_notice(msg: Any) -> str | None:
    """Why a ``notice`` message is unusable (None: fine)."""
    return _check_fields(
        msg,
        "notice",
        {"what": lambda v: isinstance(v, str) and 0 < len(v) <= 100,
         "message": lambda v: isinstance(v, str) and 0 < len(v) <= 4000},
        {},
    )  # fmt: skip
