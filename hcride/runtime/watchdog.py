"""Notices a reload that runs long (a before/after handler that never returns) and
says where it waits (standard library only).

A daemon thread looks at the engine a few times a second. While a reload has been
running for ``first_s`` seconds it reports ``reload waiting in handler
module.name for N s (file:line)`` through ``say(kind, message)``, again each time
the wait doubles, and ``reload went on after N s`` once the reload is over.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

Say = Callable[[str, str], None]

_ENGINE_FILE = os.path.join("hcride", "runtime", "engine.py")
_HANDLER_CALLERS = frozenset({"_call_handler"})
"""Names of the engine's functions that call a handler (the frame above is the handler)."""


def _is_reloading(engine: Any) -> bool:
    return bool(getattr(engine, "_reloading", False))


def _where(frame: FrameType) -> str:
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _qualname(frame: FrameType) -> str:
    code = frame.f_code
    name = getattr(code, "co_qualname", code.co_name)
    module = frame.f_globals.get("__name__", "?")
    return f"{module}.{name}"


def describe_wait(frames: dict[int, FrameType], elapsed: float) -> str:
    """The notice for a reload running for ``elapsed`` seconds: the handler it waits
    in (and where that handler is now) when a thread runs one."""
    seconds = f"{int(elapsed)} s"
    for frame in frames.values():
        innermost = frame
        chain = []
        while frame is not None:
            chain.append(frame)
            frame = frame.f_back
        for index, candidate in enumerate(chain):
            code = candidate.f_code
            if code.co_name in _HANDLER_CALLERS and code.co_filename.endswith(_ENGINE_FILE):
                if index == 0:
                    break
                handler = _qualname(chain[index - 1])
                return f"reload waiting in handler {handler} for {seconds} ({_where(chain[index - 1])})"
        for candidate in chain:
            if candidate.f_code.co_filename.endswith(_ENGINE_FILE):
                return f"reload running for {seconds} ({_where(innermost)})"
    return f"reload running for {seconds}"


class ReloadWatchdog:
    """Reports reloads that run for ``first_s`` seconds or more."""

    def __init__(self, engine: Any, say: Say, first_s: float = 2.0, poll_s: float = 0.25) -> None:
        self.engine = engine
        self._say = say
        self._first_s = first_s
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hcride-watchdog", daemon=True)

    def start(self) -> ReloadWatchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        since: float | None = None
        next_report = self._first_s
        reported = False
        while not self._stop.wait(self._poll_s):
            if not _is_reloading(self.engine):
                if since is not None and reported:
                    elapsed = time.monotonic() - since
                    self._say("reload_resumed", f"reload went on after {elapsed:.1f} s")
                since, reported, next_report = None, False, self._first_s
                continue
            now = time.monotonic()
            if since is None:
                since = now
                continue
            elapsed = now - since
            if elapsed < next_report:
                continue
            frames = sys._current_frames()  # noqa: SLF001
            self._say("reload_waiting", describe_wait(frames, elapsed))
            del frames
            reported = True
            next_report *= 2
