"""Watch a project folder and hand over batches of changed sources, debounced.

Editors save in several ways: truncate and write (two or more modify events), write a
temporary file and rename it over the original (a move event whose destination is
the source), or delete and create. Every event that names a source file marks it
dirty; a batch is handed over once no event has arrived for ``quiet`` seconds (or
``max_wait`` after the first event of a burst, so a stream of saves still builds).
The build reads the files when it runs, so the last content wins. Where the observer
reports closes (inotify), a source modified and not closed yet is still being written
(an editor that truncates, then writes, possibly descheduled in between on a loaded
machine): its batch waits for the close, at most ``open_wait`` seconds, so an empty
or half-written module is never built.

Only folders that may hold sources are watched, each with its own non-recursive
watch, all read by one thread on Linux (``inotify.InotifyObserver``: watchdog's
``Observer`` would run a thread per watch; elsewhere it is used): the project folder and its subfolders except ``.hcr``, ``__pycache__``,
virtual environments, hidden folders and symbolic links (``paths.iter_folders``). A
recursive watch would put an inotify watch on every folder of a ``.venv`` inside the
project, and a big one can exhaust ``fs.inotify.max_user_watches``. A folder made or
moved into the project later is watched as it appears, and the sources already in it
are announced (they may have been written before its watch existed); a folder that
goes away loses its watch (watchdog would otherwise keep a dead one for that path),
and the sources last known in it are announced (they are gone).
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from hcride.controller.inotify import make_observer
from hcride.controller.paths import is_ignored, is_ignored_dir, iter_folders

log = logging.getLogger(__name__)


def _not_stop_noise(record: logging.LogRecord) -> bool:
    # An emitter stopped between two reads logs this (watchdog); with one emitter per
    # folder every stop of the watcher would print it now and then. Harmless.
    return "called when the thread is inactive" not in record.getMessage()


logging.getLogger("watchdog.observers.inotify").addFilter(_not_stop_noise)

_WRITES = frozenset({"created", "modified", "moved", "deleted", "closed"})
QUIET_S = 0.02
MAX_WAIT_S = 0.5
OPEN_WAIT_S = 2.0
"""How long a batch waits for a source that is open for writing to be closed."""
ROOT_CHECK_S = 0.5
"""How often the project folder itself is checked (moved away, deleted, restored)."""


@dataclass
class _Watched:
    watch: Any
    """The observer's handle (watchdog's ``ObservedWatch`` or an ``InotifyWatch``)."""
    sources: set[Path]
    """The folder's sources seen so far (listed when watched, or named by an event)."""


def _is_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _identity(folder: Path) -> tuple[int, int] | None:
    """``(device, inode)`` of a folder, None if there is no folder at that path."""
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if os.path.isdir(folder) else None


def _path(raw: str | bytes) -> Path | None:
    if not raw:
        return None
    return Path(raw.decode() if isinstance(raw, bytes) else raw)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        # Reads (our own builds read the files) raise "opened"/"closed_no_write": skip.
        if event.event_type not in _WRITES:
            return
        src = _path(event.src_path)
        dest = _path(getattr(event, "dest_path", ""))
        if event.is_directory:
            if src is not None and event.event_type in ("created", "moved", "deleted"):
                self._watcher.folder_event(event.event_type, src, dest)
            return
        for path in (src, dest):
            if path is None:
                continue
            if path.name == "pyvenv.cfg" and event.event_type in ("created", "moved"):
                # A virtual environment being made in a watched folder: stop watching it.
                self._watcher.folder_event("venv", path.parent, None)
            self._watcher.touch(path, event.event_type)


class Watcher:
    """Calls ``on_batch(paths)`` on its own thread with each debounced set of files."""

    def __init__(
        self,
        project: Path,
        on_batch: Callable[[set[Path]], None],
        *,
        quiet: float = QUIET_S,
        max_wait: float = MAX_WAIT_S,
        open_wait: float = OPEN_WAIT_S,
        on_root: Callable[[bool, str], None] | None = None,
    ) -> None:
        self.project = project.resolve()
        self._on_batch = on_batch
        self._on_root = on_root
        self._root_id = _identity(self.project)
        self._root_gone = False
        self._quiet = quiet
        self._max_wait = max_wait
        self._dirty: set[Path] = set()
        self._open_wait = open_wait
        self._writing: dict[Path, float] = {}
        """Sources modified and not closed since (when), if the observer reports closes."""
        self._first = 0.0
        self._last = 0.0
        self._cond = threading.Condition()
        self._stopped = False
        self._observer = make_observer()
        self._closes = bool(getattr(self._observer, "reports_close", False))
        self._handler = _Handler(self)
        # Watches are added and removed by one thread at a time: start() until the first
        # tree is watched, then watchdog's dispatch thread. Folder events arriving before
        # that are held in _held and replayed by start().
        self._watches: dict[Path, _Watched] = {}
        self._watches_lock = threading.Lock()
        self._held: list[tuple[str, Path, Path | None]] | None = []
        self._thread = threading.Thread(target=self._loop, name="hcride-watch", daemon=True)

    def start(self) -> None:
        self._observer.start()
        self._watch_tree(self.project)
        while True:
            with self._watches_lock:
                held, self._held = self._held or [], []  # a list until this loop ends
                if not held:
                    self._held = None
                    break
            for kind, src, dest in held:
                self._folder_changed(kind, src, dest)
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
        with self._watches_lock:
            self._watches.clear()

    def watched_folders(self) -> list[Path]:
        """The folders watched now, sorted."""
        with self._watches_lock:
            return sorted(self._watches)

    def touch(self, path: Path, kind: str = "") -> None:
        """Mark ``path`` dirty (called by watchdog with the event's type, or by hand)."""
        if is_ignored(self.project, path):
            return
        with self._watches_lock:
            record = self._watches.get(path.parent)
            if record is not None:
                record.sources.add(path)
        now = time.monotonic()
        with self._cond:
            if not self._dirty:
                self._first = now
            if kind == "modified" and self._closes:
                self._writing.setdefault(path, now)
            elif kind in ("closed", "moved", "deleted"):
                self._writing.pop(path, None)
            self._dirty.add(path)
            self._last = now
            self._cond.notify_all()

    def folder_event(self, kind: str, src: Path, dest: Path | None) -> None:
        """A folder was ``created``, ``moved`` (to ``dest``) or ``deleted``, or became a
        virtual environment (``venv``). Called by watchdog's dispatch thread."""
        with self._watches_lock:
            if self._held is not None:
                self._held.append((kind, src, dest))
                return
        self._folder_changed(kind, src, dest)

    # Watches ------------------------------------------------------------------------

    def _folder_changed(self, kind: str, src: Path, dest: Path | None) -> None:
        if kind == "venv":
            if src != self.project:  # a project that is a venv's folder stays watched
                self._unwatch(src)
            return
        if kind in ("moved", "deleted") and not _is_folder(src):
            # Gone. (If a folder of that name exists, the event is a late one about a
            # former folder, and its "created" event replaces the watch.)
            self._unwatch(src)
        made = src if kind == "created" else dest
        if made is not None:
            # A watch on that name already is a former folder's (deleted and made again)
            # or came from the walk of the parent folder: watch afresh either way.
            self._unwatch(made)
            self._watch_tree(made, announce=True)

    def _watch_tree(self, top: Path, *, announce: bool = False) -> None:
        """Watch ``top`` and its folders that may hold sources, unless ``top`` is ignored;
        with ``announce``, mark the sources found in them dirty."""
        if top != self.project and (is_ignored_dir(self.project, top) or not _is_folder(top)):
            return
        for folder in iter_folders(top):
            self._watch(folder, announce)
            time.sleep(0)  # let the GUI thread have the GIL between folders (big trees)

    def _watch(self, folder: Path, announce: bool) -> None:
        with self._watches_lock:
            if folder in self._watches:
                return
        try:
            watch = self._observer.schedule(self._handler, str(folder), recursive=False)
        except OSError as exc:
            if folder == self.project:
                raise
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR):  # not just gone already
                log.warning("cannot watch %s: %s", folder, exc)
            return
        # Listed after the watch exists: a file made meanwhile is listed, seen, or both.
        sources: set[Path] = set()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    name = entry.name
                    if name.endswith(".py") and not name.startswith(".") and entry.is_file():
                        sources.add(Path(entry.path))
        except OSError:
            pass
        with self._watches_lock:
            self._watches[folder] = _Watched(watch, sources)
        if announce:
            for path in sources:
                self.touch(path)

    def _unwatch(self, top: Path) -> None:
        """Stop watching ``top`` and every watched folder below it, and mark the sources
        known in them dirty: the folder is gone, and its own events about them may be
        dropped with its watch."""
        with self._watches_lock:
            gone = [f for f in self._watches if f == top or top in f.parents]
            records = [self._watches.pop(f) for f in gone]
        for record in records:
            try:
                self._observer.unschedule(record.watch)
            except KeyError:  # already unscheduled (the observer stopped)
                pass
            for path in record.sources:
                self.touch(path)

    # The project folder itself --------------------------------------------------------

    def _check_root(self) -> None:
        """Watches only see inside the project folder: moved away or deleted, it goes
        quiet; restored (a new folder at its path), its old watches are dead. Say so
        (``on_root(ok, message)``) and watch the new folder. Every ``ROOT_CHECK_S``."""
        ident = _identity(self.project)
        if ident is None:
            if not self._root_gone:
                self._root_gone = True
                self._say(False, f"the project folder {self.project} is gone (moved or "
                          "deleted): live reload is off until it is back; if the "
                          "project now lives elsewhere, restart the program from there")
            return
        if ident != self._root_id:
            self._root_id = ident
            self._rewatch()
            self._say(True, f"the project folder {self.project} is back (a new folder): "
                      "watching it again")
        elif self._root_gone:
            self._say(True, f"the project folder {self.project} is back: live reload goes on")
        self._root_gone = False

    def _say(self, ok: bool, message: str) -> None:
        if self._on_root is not None:
            try:
                self._on_root(ok, message)
            except Exception:
                log.exception("on_root failed")

    def _rewatch(self) -> None:
        """Drop every watch (their folders are gone) and watch the new tree; its sources
        are announced so that what differs from the running program is built."""
        with self._watches_lock:
            records = list(self._watches.values())
            self._watches.clear()
        for record in records:
            try:
                self._observer.unschedule(record.watch)
            except (KeyError, OSError):
                pass
        try:
            self._watch_tree(self.project, announce=True)
        except OSError as exc:
            log.warning("cannot watch %s again: %s", self.project, exc)

    # Batches ------------------------------------------------------------------------

    def _loop(self) -> None:
        next_root_check = time.monotonic() + ROOT_CHECK_S
        while True:
            if time.monotonic() >= next_root_check:  # on this thread: no extra one
                self._check_root()
                next_root_check = time.monotonic() + ROOT_CHECK_S
            with self._cond:
                while not self._dirty and not self._stopped:
                    if not self._cond.wait(max(0.0, next_root_check - time.monotonic())):
                        break
                if self._stopped:
                    return
                if not self._dirty:
                    continue
                now = time.monotonic()
                due = min(self._last + self._quiet, self._first + self._max_wait)
                writing = [self._writing[p] for p in self._dirty if p in self._writing]
                if writing:  # wait for the close (each event wakes this loop up)
                    due = max(due, min(writing) + self._open_wait)
                if now < due:
                    self._cond.wait(due - now)
                    continue
                batch, self._dirty = self._dirty, set()
                for path in batch:  # not closed in time: built as it is now
                    self._writing.pop(path, None)
            try:
                self._on_batch(batch)
            except Exception:  # a failing build must not stop the watcher
                import traceback

                traceback.print_exc()
