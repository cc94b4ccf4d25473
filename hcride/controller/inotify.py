"""One thread for every watched folder: a minimal inotify observer (Linux, ctypes).

watchdog's ``Observer`` runs one emitter thread per watch, so watching each source
folder of a project costs a thread per folder (424 threads for 420 folders). This
observer has the same surface as the part of watchdog's the watcher uses
(``schedule(handler, path)``, ``unschedule(watch)``, ``start``, ``stop``, ``join``)
and hands the handler watchdog's own event objects, but reads every watch from one
inotify descriptor on one thread. Watches are not recursive: the watcher decides
which folders to watch (``paths.iter_folders``).

A rename inside the watched folders arrives as ``IN_MOVED_FROM`` + ``IN_MOVED_TO``
and is handed over as a deletion of the old name and a creation of the new one,
which the watcher treats exactly as a move. ``make_observer()`` returns watchdog's
``Observer`` where inotify is not available.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import select
import struct
import sys
import threading
from dataclasses import dataclass
from typing import Any

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

IN_MODIFY = 0x00000002
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_DONT_FOLLOW = 0x02000000
IN_EXCL_UNLINK = 0x04000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = 0o2000000

MASK = (
    IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
    | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK
)  # fmt: skip
_EVENT = struct.Struct("iIII")
_READ_SIZE = 256 * 1024


@dataclass(eq=False)
class InotifyWatch:
    """What ``schedule`` returns: the folder and its watch descriptor."""

    path: str
    wd: int
    handler: FileSystemEventHandler


def _libc() -> Any:
    name = ctypes.util.find_library("c") or None
    libc = ctypes.CDLL(name, use_errno=True)
    for fn in ("inotify_init1", "inotify_add_watch", "inotify_rm_watch"):
        getattr(libc, fn)  # AttributeError where there is no inotify
    return libc


class InotifyObserver:
    """All watches on one inotify descriptor, read by one thread (``hcride-inotify``)."""

    reports_close = True
    """A write ends with a ``closed`` event (``IN_CLOSE_WRITE``): the watcher may wait
    for it."""

    def __init__(self) -> None:
        self._libc = _libc()
        fd = self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_init1: {os.strerror(err)}")
        self._fd = fd
        self._wake_r, self._wake_w = os.pipe()
        self._watches: dict[int, InotifyWatch] = {}
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="hcride-inotify", daemon=True)

    # -- watchdog's Observer surface ------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def schedule(
        self, handler: FileSystemEventHandler, path: str, recursive: bool = False
    ) -> InotifyWatch:
        """Watch the folder ``path`` (not its subfolders). Raises ``OSError``."""
        if recursive:
            raise ValueError("InotifyObserver watches one folder per schedule()")
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(path), MASK)
        if wd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), path)
        watch = InotifyWatch(path, wd, handler)
        with self._lock:
            self._watches[wd] = watch
        return watch

    def unschedule(self, watch: InotifyWatch) -> None:
        with self._lock:
            if self._watches.get(watch.wd) is not watch:
                raise KeyError(watch.path)
            del self._watches[watch.wd]
        self._libc.inotify_rm_watch(self._fd, watch.wd)  # EINVAL: the folder went away

    def stop(self) -> None:
        self._stopped = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)
        if not self._thread.is_alive():
            self._close()

    # -- reading --------------------------------------------------------------------

    def _close(self) -> None:
        for fd in (self._fd, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fd = self._wake_r = self._wake_w = -1

    def _run(self) -> None:
        while not self._stopped:
            try:
                ready, _, _ = select.select([self._fd, self._wake_r], [], [])
            except (OSError, ValueError):
                return
            if self._stopped or self._wake_r in ready:
                return
            try:
                data = os.read(self._fd, _READ_SIZE)
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                return
            for watch, event in self._events(data):
                try:
                    watch.handler.dispatch(event)
                except Exception:  # a handler's bug must not stop the watching
                    import traceback

                    traceback.print_exc()

    def _events(self, data: bytes) -> list[tuple[InotifyWatch, FileSystemEvent]]:
        out: list[tuple[InotifyWatch, FileSystemEvent]] = []
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _cookie, size = _EVENT.unpack_from(data, offset)
            raw = data[offset + _EVENT.size : offset + _EVENT.size + size]
            offset += _EVENT.size + size
            with self._lock:
                watch = self._watches.get(wd)
                if mask & IN_IGNORED and watch is not None:
                    del self._watches[wd]  # the kernel dropped it (folder deleted)
            if watch is None or mask & (IN_IGNORED | IN_Q_OVERFLOW):
                continue
            name = raw.split(b"\0", 1)[0]
            if not name:
                continue  # about the folder itself: its parent's watch reports it
            path = os.path.join(watch.path, os.fsdecode(name))
            event = _event_for(mask, path)
            if event is not None:
                out.append((watch, event))
        return out


def _event_for(mask: int, path: str) -> FileSystemEvent | None:
    is_dir = bool(mask & IN_ISDIR)
    if mask & (IN_CREATE | IN_MOVED_TO):
        return DirCreatedEvent(path) if is_dir else FileCreatedEvent(path)
    if mask & (IN_DELETE | IN_MOVED_FROM):
        return DirDeletedEvent(path) if is_dir else FileDeletedEvent(path)
    if is_dir:
        return None
    if mask & IN_CLOSE_WRITE:
        return FileClosedEvent(path)
    if mask & IN_MODIFY:
        return FileModifiedEvent(path)
    return None


def make_observer() -> Any:
    """An ``InotifyObserver`` on Linux, else watchdog's ``Observer``."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            return InotifyObserver()
    from watchdog.observers import Observer

    return Observer()
