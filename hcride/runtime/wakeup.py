"""Ways to get a function run on the main thread soon, from another thread
(standard library only; frameworks are used only if the program already imported them).

From the least to the most intrusive:

- (in the agent) a simulated signal, ``_thread.interrupt_main(signum)``: the handler
  runs between two bytecodes of the main thread. Interrupts nothing; runs only when
  the main thread executes Python.
- ``post_to_loops``: the event loop the main thread idles in runs the function as one
  of its own callbacks: Qt (PySide6, PyQt6, PyQt5, PySide2: a queued signal to an
  object living in the application's thread), Tk (``after`` on the default root,
  which threaded Tcl marshals to the interpreter's thread) and asyncio
  (``call_soon_threadsafe`` on the loop the main thread is running).
- ``post_pygame``: an event posted to SDL's queue wakes ``pygame.event.wait()``
  (which no signal can wake); the program sees one extra user event.
- a signal (sent by the agent): wakes ``time.sleep``, ``input()``, socket and lock
  waits, and cuts short a C call that does not retry after ``EINTR``.

``main_thread_busy`` tells a main thread computing in C (no signal helps) from one
blocked in a system call (a signal wakes it).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

Callback = Callable[[], None]

_QT_CORES = ("PySide6.QtCore", "PyQt6.QtCore", "PyQt5.QtCore", "PySide2.QtCore")


class _QtWaker:
    """A QObject living in the application's thread with a queued signal to a slot."""

    def __init__(self, core: Any, app: Any, func: Callback) -> None:
        signal_type = getattr(core, "Signal", None) or core.pyqtSignal

        def fire(_self: Any) -> None:
            func()

        cls = type("HcrideWaker", (core.QObject,), {"wake": signal_type(), "fire": fire})
        self.app = app
        self.obj = cls()
        self.obj.moveToThread(app.thread())
        queued = getattr(core.Qt, "ConnectionType", core.Qt).QueuedConnection
        self.obj.wake.connect(self.obj.fire, queued)

    def post(self) -> None:
        self.obj.wake.emit()


class LoopPoster:
    """Posts ``func`` to the event loops of the main thread the program uses."""

    def __init__(self, func: Callback) -> None:
        self._func = func
        self._qt: dict[str, _QtWaker] = {}
        self._tk_busy = threading.Lock()
        self._pygame_type: int | None = None

    def post_to_loops(self, main_frame: Any) -> list[str]:
        """Post to every known loop; the names of those posted to."""
        posted = []
        for name, post in (("qt", self._post_qt), ("tk", self._post_tk)):
            with contextlib.suppress(Exception):  # a framework half torn down
                if post():
                    posted.append(name)
        with contextlib.suppress(Exception):
            if self._post_asyncio(main_frame):
                posted.append("asyncio")
        return posted

    def _post_qt(self) -> bool:
        done = False
        for module_name in _QT_CORES:
            core = sys.modules.get(module_name)
            if core is None:
                continue
            app = core.QCoreApplication.instance()
            if app is None:
                continue
            waker = self._qt.get(module_name)
            if waker is None or waker.app is not app:
                waker = self._qt[module_name] = _QtWaker(core, app, self._func)
            waker.post()
            done = True
        return done

    def _post_tk(self) -> bool:
        tkinter = sys.modules.get("tkinter")
        root = getattr(tkinter, "_default_root", None) if tkinter is not None else None
        if root is None:
            return False
        if not self._tk_busy.acquire(blocking=False):
            return True  # a post is still on its way

        def post() -> None:
            # Threaded Tcl runs this in the interpreter's thread and blocks this thread
            # until then (or raises when the main thread is not in mainloop).
            try:
                root.after(0, self._func)
            except Exception:
                pass
            finally:
                self._tk_busy.release()

        threading.Thread(target=post, name="hcride-tk-wake", daemon=True).start()
        return True

    def _post_asyncio(self, frame: Any) -> bool:
        if "asyncio" not in sys.modules:
            return False
        loop = _running_loop(frame)
        if loop is None or loop.is_closed():
            return False
        loop.call_soon_threadsafe(self._func)
        return True

    def post_pygame(self) -> bool:
        """Post a user event to SDL's queue if pygame's display is up."""
        pygame = sys.modules.get("pygame")
        if pygame is None:
            return False
        try:
            if not pygame.display.get_init():
                return False
            if self._pygame_type is None:
                self._pygame_type = pygame.event.custom_type()
            pygame.event.post(pygame.event.Event(self._pygame_type, hcride_wakeup=True))
        except Exception:
            return False
        return True


def _running_loop(frame: Any) -> Any:
    """The asyncio loop whose ``run_forever`` is on this stack (innermost first)."""
    depth = 0
    while frame is not None and depth < 200:
        code = frame.f_code
        if code.co_name in ("run_forever", "_run_once") and code.co_filename.endswith(
            ("base_events.py",)
        ):
            loop = frame.f_locals.get("self")
            if loop is not None and hasattr(loop, "call_soon_threadsafe"):
                return loop
        frame = frame.f_back
        depth += 1
    return None


def main_frame() -> Any:
    """The main thread's innermost Python frame (None if it has none)."""
    ident = threading.main_thread().ident
    return sys._current_frames().get(ident) if ident is not None else None  # noqa: SLF001


class CpuClock:
    """The main thread's CPU time, to tell computing from waiting."""

    def __init__(self) -> None:
        self._clock: int | None = None
        ident = threading.main_thread().ident
        getter = getattr(time, "pthread_getcpuclockid", None)
        if getter is not None and ident is not None:
            with contextlib.suppress(OSError, OverflowError, ValueError):
                self._clock = getter(ident)

    def read(self) -> float | None:
        if self._clock is None:
            return None
        try:
            return time.clock_gettime(self._clock)
        except OSError:
            return None
