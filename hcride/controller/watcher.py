"""Watch a project folder and hand over batches of changed sources, debounced.

Editors save in several ways: truncate and write (two or more modify events), write a
temporary file and rename it over the original (a move event whose destination is
the source), or delete and create. Every event that names a source file marks it
dirty; a batch is handed over once no event has arrived for ``quiet`` seconds (or
``max_wait`` after the first event of a burst, so a stream of saves still builds).
The build reads the files when it runs, so the last content wins.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from hcride.controller.paths import is_ignored

# watchdog warns when the recursive watch meets a folder it already watches (our own
# .hcr/builds/N folders appear this way); harmless, and noisy in every session.
warnings.filterwarnings("ignore", message="Callback with id", category=RuntimeWarning)

_WRITES = frozenset({"created", "modified", "moved", "deleted", "closed"})
QUIET_S = 0.02
MAX_WAIT_S = 0.5


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        # Reads (our own builds read the files) raise "opened"/"closed_no_write": skip.
        if event.is_directory or event.event_type not in _WRITES:
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                path = raw.decode() if isinstance(raw, bytes) else raw
                self._watcher.touch(Path(path))


class Watcher:
    """Calls ``on_batch(paths)`` on its own thread with each debounced set of files."""

    def __init__(
        self,
        project: Path,
        on_batch: Callable[[set[Path]], None],
        *,
        quiet: float = QUIET_S,
        max_wait: float = MAX_WAIT_S,
    ) -> None:
        self.project = project.resolve()
        self._on_batch = on_batch
        self._quiet = quiet
        self._max_wait = max_wait
        self._dirty: set[Path] = set()
        self._first = 0.0
        self._last = 0.0
        self._cond = threading.Condition()
        self._stopped = False
        self._observer = Observer()
        self._observer.schedule(_Handler(self), str(self.project), recursive=True)
        self._thread = threading.Thread(target=self._loop, name="hcride-watch", daemon=True)

    def start(self) -> None:
        self._observer.start()
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        try:
            self._observer.stop()
            self._observer.join(timeout=5)
        except RuntimeError:
            pass

    def touch(self, path: Path) -> None:
        """Mark ``path`` dirty (called by watchdog, or by hand)."""
        if is_ignored(self.project, path):
            return
        now = time.monotonic()
        with self._cond:
            if not self._dirty:
                self._first = now
            self._dirty.add(path)
            self._last = now
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._dirty and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                now = time.monotonic()
                due = min(self._last + self._quiet, self._first + self._max_wait)
                if now < due:
                    self._cond.wait(due - now)
                    continue
                batch, self._dirty = self._dirty, set()
            try:
                self._on_batch(batch)
            except Exception:  # a failing build must not stop the watcher
                import traceback

                traceback.print_exc()
