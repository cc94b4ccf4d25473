"""Helpers for the controller tests: a Session with a recorder of its events.

Not collected by pytest (no ``test_`` prefix). Every wait polls with a generous
timeout; nothing asserts how long anything took.
"""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hcride.controller import events as ev
from hcride.controller.session import Session

TIMEOUT = 60.0


class Recorder:
    """Collects events; ``wait_for`` polls until one matches."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self._lock = threading.Lock()

    def __call__(self, event: ev.Event) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: type[ev.Event]) -> list[Any]:
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]

    def stdout(self) -> str:
        return "".join(e.text for e in self.of(ev.Output) if e.stream == "stdout")

    def stderr(self) -> str:
        return "".join(e.text for e in self.of(ev.Output) if e.stream == "stderr")

    def wait_for(
        self, kind: type[ev.Event], pred: Callable[[Any], bool] = lambda e: True,
        timeout: float = TIMEOUT,
    ) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.of(kind):
                if pred(event):
                    return event
            time.sleep(0.02)
        raise AssertionError(f"no {kind.__name__} in {timeout}s; events:\n{self.dump()}")

    def wait_output(self, needle: str, timeout: float = TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.stdout()
            if needle in out:
                return out
            time.sleep(0.02)
        raise AssertionError(f"{needle!r} never printed; events:\n{self.dump()}")

    def dump(self) -> str:
        lines = []
        for e in self.events:
            text = e.to_json()
            lines.append(text if len(text) < 400 else text[:400] + "...")
        return "\n".join(lines)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def wait_until(pred: Callable[[], bool], timeout: float = TIMEOUT, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or pred}")


def make_session(project: Path, recorder: Recorder, **kwargs: Any) -> Session:
    session = Session(project, project / "main.py", on_event=recorder, **kwargs)
    session.start()
    assert session.wait_connected(TIMEOUT), recorder.dump()
    return session


def wait_loaded(recorder: Recorder, module: str) -> None:
    """Until the runtime reports ``module`` loaded (so edits are edits of live code)."""
    recorder.wait_for(
        ev.ModulesChanged, lambda e: any(m.get("name") == module for m in e.modules)
    )
