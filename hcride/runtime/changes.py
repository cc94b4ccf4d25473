"""Which source files changed, without looking at every file (standard library only).

``has_any_module_changed()`` is called every frame by a polling program. Stat-ing
every tracked file per call costs time proportional to the project; instead the
folders of the tracked modules are watched with inotify (Linux) and each poll reads
the queued events without blocking: one system call when nothing changed, whatever
the number of modules. The kernel queues an event before the ``write`` that caused
it returns, so a change is never seen later than with ``stat``.

No thread: events wait in the kernel until the program polls. Where inotify is not
available, or its queue overflowed, ``drain`` says so (None) and the caller looks
at every file, as before.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
from typing import Any

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
_MASK = (
    IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
    | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR
)  # fmt: skip
_EVENT = struct.Struct("iIII")


class ChangeFeed:
    """One inotify descriptor, read without blocking by ``drain``."""

    def __init__(self, libc: Any, fd: int) -> None:
        self._libc = libc
        self._fd = fd
        self._folders: dict[int, str] = {}
        self._watched: set[str] = set()
        self._pid = os.getpid()
        self.broken = False
        """A folder could not be watched or a watched one went away: ``drain``
        answers None (look at every file) from then on."""

    @classmethod
    def open(cls) -> ChangeFeed | None:
        """A feed, or None where inotify is not available."""
        if not sys.platform.startswith("linux"):
            return None
        try:
            import ctypes
            import ctypes.util

            libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        except (OSError, AttributeError):
            return None
        return cls(libc, fd) if fd >= 0 else None

    def watch(self, folder: str) -> None:
        """Report changes to the files of ``folder`` (not of its subfolders)."""
        if folder in self._watched or self.broken:
            return
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(folder), _MASK)
        if wd < 0:  # the watch limit, or the folder is gone: poll by stat instead
            self.broken = True
            return
        self._folders[wd] = folder
        self._watched.add(folder)

    def drain(self) -> set[str] | None:
        """The paths named by events since the last call (None: unknown, look at
        every file)."""
        if os.getpid() != self._pid:  # a forked child shares the queue: not its own
            self.broken = True
        changed: set[str] = set()
        while not self.broken:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                self.broken = True
                break
            offset = 0
            while offset + _EVENT.size <= len(data):
                wd, mask, _cookie, size = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size : offset + _EVENT.size + size].split(b"\0", 1)[0]
                offset += _EVENT.size + size
                if mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF):
                    self.broken = True  # events lost, or a watched folder went away
                    continue
                folder = self._folders.get(wd)
                if folder is not None and name:
                    changed.add(os.path.join(folder, os.fsdecode(name)))
        return None if self.broken else changed

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)
