"""The runtime's end of the IPC channel, inside the user's program (standard library only).

``start(engine)`` is called by the launcher, on the main thread, before the main
script runs, when ``HCRIDE_IPC`` names the controller. It connects, says hello with
the session token, and from then on:

- ``build``: hands the snapshots to the engine (``submit_build``); in auto mode it
  then asks the main thread to apply them;
- ``reload``: asks the main thread to apply pending builds now (in either mode: the
  user asked explicitly);
- ``inspect``: answered on a separate thread by ``hcride.runtime.inspector``, so a
  slow ``repr`` never delays a build;
- ``evaluate``: code run in a module on the main thread at its next safe point
  (``hcride.runtime.evaluate``; no reload happens with it), answered with a ``reply``;
- ``ping``: ``pong``.

Engine events (results, module changes, pending builds) are forwarded as messages.

Applying on the main thread without the program's cooperation (``wakeup``), least
intrusive way first, each given ``STEP_S`` before the next is tried:

1. a simulated signal (``_thread.interrupt_main(signum)``): no signal is sent, but
   the main thread runs the handler at its next bytecode, so a main thread running
   Python is reached without interrupting any system call;
2. the event loop the main thread idles in, if the program has one: Qt (a queued
   signal), Tk (``after``), asyncio (``call_soon_threadsafe``);
3. an event in pygame's queue (``pygame.event.wait()`` wakes for nothing else), and a
   signal (``signal.pthread_kill``) if the main thread is blocked in a system call
   (``time.sleep``, ``input()``, a socket, a lock: Python runs the handler and resumes
   the call). A main thread computing in C gets no signal: it would only cut the
   call short; it is reached when it returns to Python.

Whichever comes first applies the reload, unless the main thread is in the middle of
an import or of the runtime itself; then it asks again shortly after. A main thread
that stays inside an import (its main loop runs at import time) is told about once.
A watchdog (``watchdog``) reports a reload that waits in a handler.

Nothing the controller sends can raise into the program: a broken frame is answered
with an ``error`` message and the connection is closed; the program runs on without
a controller.
"""

from __future__ import annotations

import _thread
import atexit
import collections
import contextlib
import itertools
import os
import queue
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType
from typing import Any

from hcride import protocol
from hcride.runtime import evaluate, wakeup
from hcride.runtime.watchdog import ReloadWatchdog

EXIT_FLUSH_S = 2.0
"""At most this long at exit to send the messages still queued."""
RETRY_S = 0.01
"""Delay before asking the main thread again when it was not at a safe point."""
RECONNECT_S = 5.0
"""How long the agent tries to connect again after a framing error."""
MAX_RECONNECTS = 5
"""Framing errors in a minute after which the agent stops reconnecting."""
SLOW_RETRY_S = 0.5
"""The same, once the main thread has stayed inside an import for a while."""
IMPORT_NOTICE_S = 2.0
"""After this long inside one import, the agent says why no reload applies (once)."""
STEP_S = 0.04
"""How long each way of reaching the main thread has before the next one is tried."""
REPOST_S = 0.5
"""Then, how often the quiet ways are tried again."""
BUSY_S = 0.005
"""CPU time the main thread must have used over a step to count as computing (no
signal) rather than blocked in a system call (a signal wakes it)."""

_UNSAFE_SUFFIXES = tuple(
    os.path.join("hcride", *parts)
    for parts in (
        ("runtime", "engine.py"),
        ("runtime", "patching.py"),
        ("runtime", "commit.py"),
        ("runtime", "finder.py"),
        ("runtime", "handlers.py"),
        ("hotcodereloading.py",),
    )
)
"""Frames of these files on the main thread's stack mean: not a safe point."""


def _signal_number() -> int | None:
    rtmin = getattr(signal, "SIGRTMIN", None)
    if rtmin is not None:
        return int(rtmin) + 3
    return int(getattr(signal, "SIGUSR2", 0)) or None


class Agent:
    """One connection to the controller, its threads, and the main-thread trigger."""

    def __init__(self, engine: Any, sock: socket.socket) -> None:
        self.engine = engine
        self.sock = sock
        self._out: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._counter = itertools.count(1)
        self._queued = 0
        """Messages queued so far; ``_written``: sent so far (by the writer)."""
        self._written = 0
        self._inspect: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._closed = False
        self._sock_lock = threading.Lock()
        """Held while a frame is written and while the socket is replaced."""
        self.address = ""
        """The controller's address, to reconnect after a framing error."""
        self._token = ""
        self.reconnects = 0
        self._reconnected_at: list[float] = []
        self.exit_with_controller = False
        """End the program when the controller goes away (it owns the program)."""
        self._want_reload = False
        self._jobs: collections.deque[Callable[[], None]] = collections.deque()
        """Work for the main thread's next safe point (``evaluate`` requests)."""
        self._in_handler = False
        self._signum: int | None = None
        self._main_ident = threading.main_thread().ident
        self.wakeups: dict[str, int] = {}
        """How the main thread was reached, by way: ``pending`` (between bytecodes),
        ``qt``, ``tk``, ``asyncio``, ``pygame`` (posted) and ``signal`` (sent)."""
        self._wake = threading.Event()
        self._served = threading.Event()
        self._way = "pending"
        """How the handler about to run was asked for: ``pending`` or ``signal``."""
        self._poster = wakeup.LoopPoster(self._from_loop)
        self._cpu = wakeup.CpuClock()
        self._unsafe_since: float | None = None
        self._unsafe_reason = ""
        self._told: set[str] = set()

    # -- startup --------------------------------------------------------------------

    def install_signal(self) -> bool:
        """Install the reload handler; only possible from the main thread."""
        signum = _signal_number()
        if signum is None or threading.current_thread() is not threading.main_thread():
            return False
        try:
            signal.signal(signum, self._on_signal)
        except (ValueError, OSError, RuntimeError):
            return False
        self._signum = signum
        return True

    def _hello(self, reconnect: bool = False) -> dict[str, Any]:
        return protocol.message(
            "hello",
            token=self._token,
            pid=os.getpid(),
            python=sys.version.split()[0],
            executable=sys.executable,
            # Before the script runs, "detect" cannot be resolved yet: say so; the
            # resolved mode follows with every "modules" message.
            mode=self.engine.mode if self.engine.mode != "detect" else "detect",
            main=str(self.engine.main_file or ""),
            auto_signal=self._signum is not None,
            reconnect=reconnect,
        )

    def run(self, token: str) -> None:
        atexit.register(self._flush_at_exit)
        self._token = token
        self.send(self._hello())
        threading.Thread(target=self._writer, name="hcride-agent-out", daemon=True).start()
        threading.Thread(target=self._inspector, name="hcride-agent-inspect", daemon=True).start()
        self.engine.controlled = True
        self.engine.add_listener(self._on_engine_event)
        threading.Thread(target=self._reader, name="hcride-agent", daemon=True).start()
        threading.Thread(target=self._waker, name="hcride-agent-wake", daemon=True).start()
        self._watchdog = ReloadWatchdog(self.engine, self.notice).start()
        self._on_engine_event("modules", {"modules": self.engine.module_infos(), "full": True})

    # -- sending --------------------------------------------------------------------

    def send(self, msg: dict[str, Any]) -> None:
        """Queue a message (safe from any thread, signal handlers included)."""
        self._queued = next(self._counter)  # no lock: a signal handler may call this
        self._out.put(msg)

    def _writer(self) -> None:
        while True:
            msg = self._out.get()
            if msg is None or self._closed:
                return
            try:
                data = protocol.encode(msg)
            except (protocol.ProtocolError, TypeError, ValueError) as exc:
                data = protocol.encode(protocol.message("error", message=f"unsendable: {exc}"))
            try:
                with self._sock_lock:
                    self.sock.sendall(data)
            except OSError:
                # The reader sees the same broken connection and decides: reconnect
                # (after a framing error) or end (the controller is gone).
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_RDWR)
            self._written += 1  # written, or dropped with a broken connection

    def _flush_at_exit(self) -> None:
        """The program is ending: let the writer send what is queued first (the result
        of a reload applied just before ``sys.exit`` must reach the controller)."""
        deadline = time.monotonic() + EXIT_FLUSH_S
        while not self._closed and self._written < self._queued:
            if time.monotonic() > deadline:
                return
            time.sleep(0.002)

    def _on_engine_event(self, kind: str, payload: Any) -> None:
        if self._closed:
            return
        if kind == "result":  # payload: the ReloadResult
            self.send(protocol.message("result", result=payload.to_dict()))
        elif kind == "modules":
            # What changed (the whole list only once, on connecting): a program that
            # imports N modules sends N entries, not N * N / 2.
            self.send(
                protocol.message(
                    "modules",
                    modules=payload.get("modules", []),
                    removed=payload.get("removed", []),
                    full=bool(payload.get("full", False)),
                    mode=self.engine.resolved_mode(),
                )
            )
        elif kind == "pending":
            self.send(protocol.message("pending", build=payload.get("build")))

    # -- receiving ------------------------------------------------------------------

    def _reader(self) -> None:
        # The hello was the first frame out (queued before the writer started).
        while not self._closed:
            try:
                msg = protocol.recv_message(self.sock, protocol.TO_RUNTIME)
            except protocol.ProtocolError as exc:
                # A broken frame (either way: the controller answers one of ours with
                # an "error" frame, which the runtime never receives otherwise): the
                # stream cannot be resynchronised, but a new connection can.
                self._refuse(str(exc), close=False)
                if self._reconnect():
                    continue
                self._close()
                print("hcride: lost the connection to the controller after a framing "
                      f"error ({exc}); live reload is off until the program restarts",
                      file=sys.stderr, flush=True)
                return
            except OSError:
                self._controller_gone()
                return
            if msg is None:
                self._controller_gone()
                return
            try:
                self._dispatch(msg)
            except Exception as exc:  # a bad field must not kill the channel
                reason = f"cannot handle {msg.get('type')}: {exc!r}"
                self.send(protocol.message("error", message=reason))

    def _dispatch(self, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        if kind == "ping":
            self.send(protocol.message("pong"))
        elif kind == "build":
            build = msg.get("build")
            modules = msg.get("modules")
            reason = _build_problem(build, modules)
            if reason is not None:
                self.send(protocol.message("error", message=f"malformed build message: {reason}"))
                return
            self.engine.submit_build(build, modules)
            if self.engine.resolved_mode() == "auto":
                self.request_reload()
        elif kind == "reload":
            self.request_reload()
        elif kind == "inspect":
            self._inspect.put(msg)
        elif kind == "evaluate":
            evaluate.submit(self, msg)

    def _controller_gone(self) -> None:
        """The controller closed the connection (it stopped, crashed or was killed)."""
        self._close()
        if self.exit_with_controller:
            os.kill(os.getpid(), signal.SIGTERM)

    def _refuse(self, reason: str, close: bool = True) -> None:
        """The controller sent something unusable: say so, then drop the channel."""
        with contextlib.suppress(OSError, protocol.ProtocolError), self._sock_lock:
            self.sock.settimeout(1.0)
            self.sock.sendall(protocol.encode(protocol.message("error", message=reason)))
        if close:
            self._close()

    def _reconnect(self) -> bool:
        """A new connection with the same token; the controller gets the hello, the
        whole module list, and sends the builds it kept meanwhile."""
        with self._sock_lock, contextlib.suppress(OSError):
            self.sock.close()
        now = time.monotonic()
        self._reconnected_at = [t for t in self._reconnected_at if now - t < 60.0] + [now]
        if not self.address or len(self._reconnected_at) > MAX_RECONNECTS:
            return False
        deadline = time.monotonic() + RECONNECT_S
        while time.monotonic() < deadline and not self._closed:
            try:
                sock = connect(self.address, timeout=max(0.1, deadline - time.monotonic()))
            except (OSError, ValueError):
                return False
            try:
                with self._sock_lock:
                    sock.sendall(protocol.encode(self._hello(reconnect=True)))
                    self.sock = sock
            except OSError:
                sock.close()
                time.sleep(0.1)
                continue
            self.reconnects += 1
            self._on_engine_event(
                "modules", {"modules": self.engine.module_infos(), "full": True}
            )
            return True
        return False

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.engine.controlled = False  # standalone again: pending = changed on disk
        self._out.put(None)
        self._inspect.put(None)
        with contextlib.suppress(OSError):
            self.sock.close()

    # -- inspection -----------------------------------------------------------------

    def _inspector(self) -> None:
        from hcride.runtime import inspector

        while True:
            msg = self._inspect.get()
            if msg is None:
                return
            request_id = msg.get("id")
            try:
                data = inspector.handle(self.engine, msg)
                reply = protocol.message("reply", id=request_id, ok=True, data=data, error=None)
            except inspector.InspectError as exc:
                reply = protocol.message(
                    "reply", id=request_id, ok=False, data=None, error=str(exc)
                )
            except Exception as exc:
                reply = protocol.message(
                    "reply", id=request_id, ok=False, data=None, error=f"inspector failed: {exc!r}"
                )
            self.send(reply)

    # -- applying on the main thread -------------------------------------------------

    def request_reload(self) -> None:
        """Have the main thread apply pending builds at its next safe point."""
        self._want_reload = True
        self._wake.set()

    def run_on_main(self, job: Callable[[], None]) -> None:
        """Have the main thread run ``job`` at its next safe point (no reload)."""
        self._jobs.append(job)
        self._wake.set()

    def _wanted(self) -> bool:
        return self._want_reload or bool(self._jobs)

    def _count(self, way: str) -> None:
        self.wakeups[way] = self.wakeups.get(way, 0) + 1

    def _waker(self) -> None:
        """Reaches the main thread for each request, least intrusive way first."""
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._wanted() and threading.main_thread().is_alive():
                self._served.clear()
                self._reach_main_thread()

    def _reach_main_thread(self) -> None:
        # 1. Between two bytecodes, if the main thread runs Python: interrupts nothing.
        self._simulate_signal()
        if self._served.wait(STEP_S):
            return
        # 2. The main thread waits in C: through the event loop it idles in, if known.
        cpu_before = self._cpu.read()
        frame = wakeup.main_frame()
        for name in self._poster.post_to_loops(frame):
            self._count(name)
        del frame
        if self._served.wait(STEP_S):
            return
        # 3. pygame.event.wait() wakes only for an event; a blocked system call
        # (sleep, input, accept, a lock) only for a signal. A main thread that computes
        # in C gets no signal: it would not help, only cut its call short.
        if self._poster.post_pygame():
            self._count("pygame")
        cpu_after = self._cpu.read()
        blocked = cpu_before is None or cpu_after is None or cpu_after - cpu_before < BUSY_S
        if blocked and self._send_signal():
            self._count("signal")
            self._way = "signal"
        # 4. Still nothing: keep knocking on the loops, quietly, until served.
        while self._wanted() and not self._served.wait(REPOST_S):
            frame = wakeup.main_frame()
            self._poster.post_to_loops(frame)
            del frame
            self._simulate_signal()

    def _simulate_signal(self) -> bool:
        """Trip the handler's flag without sending anything: it runs between two
        bytecodes of the main thread, and no system call is interrupted."""
        if self._signum is None:
            return False
        self._way = "pending"
        try:
            _thread.interrupt_main(self._signum)
        except (ValueError, OSError, RuntimeError):
            return False
        return True

    def _send_signal(self) -> bool:
        if self._signum is None or self._main_ident is None:
            return False
        try:
            signal.pthread_kill(self._main_ident, self._signum)
        except (OSError, ValueError, ProcessLookupError):
            return False
        return True

    def _later(self, delay: float) -> None:
        timer = threading.Timer(delay, self._wake.set)
        timer.daemon = True
        timer.start()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._apply(frame, "pending" if self._way == "pending" else "")

    def _from_loop(self) -> None:
        self._apply(sys._getframe(), "")

    def _apply(self, frame: FrameType | None, way: str) -> None:
        """On the main thread: apply pending builds if this is a safe point."""
        self._served.set()
        if not self._wanted():
            return
        unsafe = "a reload" if self._in_handler else _unsafe_reason(frame)
        if unsafe is not None:
            self._later(self._unsafe_wait(unsafe))
            return
        self._unsafe_since = None
        if way:
            self._count(way)
        if self._jobs:
            self._run_jobs()
        if not self._want_reload:
            return
        self._in_handler = True
        self._want_reload = False
        try:
            self.engine.reload()
        except Exception:
            traceback.print_exc()
        finally:
            self._in_handler = False

    def _run_jobs(self) -> None:
        self._in_handler = True
        try:
            while self._jobs:
                job = self._jobs.popleft()
                try:
                    job()
                except Exception:
                    traceback.print_exc()
        finally:
            self._in_handler = False

    def _unsafe_wait(self, reason: str) -> float:
        """How long to wait before trying again; says once why a reload cannot apply
        when the main thread stays inside an import."""
        now = time.monotonic()
        if self._unsafe_since is None or self._unsafe_reason != reason:
            self._unsafe_since, self._unsafe_reason = now, reason
            return RETRY_S
        if now - self._unsafe_since < IMPORT_NOTICE_S:
            return RETRY_S
        if reason.startswith("import ") and reason not in self._told:
            self._told.add(reason)
            module = reason.split(" ", 1)[1]
            self.notice(
                "inside_import",
                f"no reload can apply while the main thread is still inside 'import "
                f"{module}': that module's top level runs the program's loop, and a module "
                "is reloadable once its import has returned. Call the loop from a function "
                "instead (if __name__ == '__main__': main()).",
            )
        return SLOW_RETRY_S

    def notice(self, kind: str, message: str) -> None:
        """Tell the controller something the user should know (safe from any thread)."""
        if not self._closed:
            self.send(protocol.message("notice", what=kind, message=message))


def _build_problem(build: Any, modules: Any) -> str | None:
    """Why a ``build`` message cannot be used (None: it can)."""
    if not isinstance(build, int) or isinstance(build, bool) or build < 0:
        return f"build number {build!r}"
    if not isinstance(modules, list):
        return f"modules is {type(modules).__name__}, not a list"
    for index, entry in enumerate(modules):
        if not isinstance(entry, dict):
            return f"modules[{index}] is {type(entry).__name__}, not an object"
        for field in ("name", "snapshot"):
            if not isinstance(entry.get(field), str) or not entry[field]:
                return f"modules[{index}] has no {field} string"
    return None


def _unsafe_reason(frame: FrameType | None) -> str | None:
    """Why the main thread is not at a safe point: ``import NAME`` while it is inside
    an import, ``the runtime`` inside hcride's own code; None when it is safe."""
    depth = 0
    module: str | None = None
    while frame is not None and depth < 400:
        name = frame.f_code.co_filename
        if name.startswith("<frozen importlib"):
            return f"import {module or '?'}"
        if name.endswith(_UNSAFE_SUFFIXES):
            return "the runtime"
        if frame.f_code.co_name == "<module>":
            module = frame.f_globals.get("__name__", "?")
        frame = frame.f_back
        depth += 1
    return None


_agent: Agent | None = None


def connect(address: str, timeout: float = 10.0) -> socket.socket:
    family, target = protocol.parse_address(address)
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            sock.connect(target)
            sock.settimeout(None)
            return sock
        except OSError:
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def start(engine: Any) -> Agent | None:
    """Connect to the controller named by ``HCRIDE_IPC``; None if that fails (the
    program then runs standalone, and says so on stderr)."""
    global _agent
    address = os.environ.get(protocol.ENV_ADDRESS)
    token = os.environ.get(protocol.ENV_TOKEN, "")
    # The program's own children must not connect in its name.
    os.environ.pop(protocol.ENV_ADDRESS, None)
    os.environ.pop(protocol.ENV_TOKEN, None)
    exit_with_controller = os.environ.pop(protocol.ENV_EXIT_WITH_CONTROLLER, "") == "1"
    if not address:
        return None
    try:
        sock = connect(address)
    except OSError as exc:
        print(f"hcride: cannot reach the controller at {address}: {exc}", file=sys.stderr)
        return None
    agent = Agent(engine, sock)
    agent.address = address
    agent.exit_with_controller = exit_with_controller
    agent.install_signal()
    agent.run(token)
    _agent = agent
    return agent
