"""Carry controller events and callbacks from background threads into the GUI thread.

``post`` may be called from any thread; it queues the item and, when the GUI has
not been told yet, emits one queued signal. The GUI drains the queue in slices of
a few milliseconds, so a program printing as fast as it can produces a handful of
signals per frame instead of one per line, and never a long stall.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from hcride.controller.events import Event

SLICE_SECONDS = 0.012


class EventBridge(QObject):
    """Thread-safe inbox; ``events`` is emitted in the GUI thread with a list of events."""

    events = Signal(list)
    _wake = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: collections.deque[Event | tuple[Callable[..., Any], tuple]] = (
            collections.deque()
        )
        self._lock = threading.Lock()
        self._scheduled = False
        self._wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)

    def post(self, event: Event) -> None:
        """Queue a controller event (any thread)."""
        self._put(event)

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` in the GUI thread (any thread may call this)."""
        self._put((fn, args))

    def _put(self, item: Event | tuple[Callable[..., Any], tuple]) -> None:
        with self._lock:
            self._queue.append(item)
            if self._scheduled:
                return
            self._scheduled = True
        self._wake.emit()

    @Slot()
    def _drain(self) -> None:
        deadline = time.perf_counter() + SLICE_SECONDS
        batch: list[Event] = []
        while time.perf_counter() < deadline:
            with self._lock:
                if not self._queue:
                    self._scheduled = False
                    break
                item = self._queue.popleft()
            if isinstance(item, tuple):
                if batch:
                    self.events.emit(batch)
                    batch = []
                fn, args = item
                fn(*args)
            else:
                batch.append(item)
                if len(batch) >= 2000:
                    self.events.emit(batch)
                    batch = []
        else:
            QTimer.singleShot(0, self._drain)  # more to do: let the GUI breathe first
        if batch:
            self.events.emit(batch)
