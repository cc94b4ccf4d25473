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
- ``ping``: ``pong``.

Engine events (results, module changes, pending builds) are forwarded as messages.

Applying on the main thread without the program's cooperation: the agent sends a
signal to the main thread (``signal.pthread_kill``). Python runs the handler on the
main thread between two bytecodes, and also when the main thread is blocked in
``time.sleep``, ``input()`` or a read (the system call is interrupted, the handler
runs, the call resumes). The handler applies the reload unless the main thread is in
the middle of an import or of the runtime itself; then it asks again shortly after.

Nothing the controller sends can raise into the program: a broken frame is answered
with an ``error`` message and the connection is closed; the program runs on without
a controller.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import sys
import threading
import time
import traceback
from types import FrameType
from typing import Any

from hcride import protocol

RETRY_S = 0.01
"""Delay before asking the main thread again when it was not at a safe point."""

_UNSAFE_SUFFIXES = tuple(
    os.path.join("hcride", *parts)
    for parts in (
        ("runtime", "engine.py"),
        ("runtime", "patching.py"),
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
        self._inspect: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._closed = False
        self.exit_with_controller = False
        """End the program when the controller goes away (it owns the program)."""
        self._want_reload = False
        self._in_handler = False
        self._signum: int | None = None
        self._main_ident = threading.main_thread().ident

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

    def run(self, token: str) -> None:
        self.send(
            protocol.message(
                "hello",
                token=token,
                pid=os.getpid(),
                python=sys.version.split()[0],
                executable=sys.executable,
                # Before the script runs, "detect" cannot be resolved yet: say so; the
                # resolved mode follows with every "modules" message.
                mode=self.engine.mode if self.engine.mode != "detect" else "detect",
                main=str(self.engine.main_file or ""),
                auto_signal=self._signum is not None,
            )
        )
        threading.Thread(target=self._writer, name="hcride-agent-out", daemon=True).start()
        threading.Thread(target=self._inspector, name="hcride-agent-inspect", daemon=True).start()
        self.engine.controlled = True
        self.engine.add_listener(self._on_engine_event)
        threading.Thread(target=self._reader, name="hcride-agent", daemon=True).start()
        self._on_engine_event("modules", {"modules": self.engine.module_infos(), "full": True})

    # -- sending --------------------------------------------------------------------

    def send(self, msg: dict[str, Any]) -> None:
        """Queue a message (safe from any thread, signal handlers included)."""
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
                self.sock.sendall(data)
            except OSError:
                self._close()
                return

    def _on_engine_event(self, kind: str, payload: dict[str, Any]) -> None:
        if self._closed:
            return
        if kind == "result":
            self.send(protocol.message("result", result=payload))
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
                self._refuse(str(exc))
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

    def _controller_gone(self) -> None:
        """The controller closed the connection (it stopped, crashed or was killed)."""
        self._close()
        if self.exit_with_controller:
            os.kill(os.getpid(), signal.SIGTERM)

    def _refuse(self, reason: str) -> None:
        """The controller sent something unusable: say so, then drop the channel."""
        with contextlib.suppress(OSError, protocol.ProtocolError):
            self.sock.sendall(protocol.encode(protocol.message("error", message=reason)))
        self._close()

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
        if self._signum is None or self._main_ident is None:
            return
        if not threading.main_thread().is_alive():
            return
        with contextlib.suppress(OSError, ValueError, ProcessLookupError):
            signal.pthread_kill(self._main_ident, self._signum)

    def _later(self) -> None:
        timer = threading.Timer(RETRY_S, self.request_reload)
        timer.daemon = True
        timer.start()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if not self._want_reload:
            return
        if self._in_handler or not _safe_point(frame):
            self._later()
            return
        self._in_handler = True
        self._want_reload = False
        try:
            self.engine.reload()
        except Exception:
            traceback.print_exc()
        finally:
            self._in_handler = False


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


def _safe_point(frame: FrameType | None) -> bool:
    """False while the main thread is inside an import or the runtime itself."""
    depth = 0
    while frame is not None and depth < 400:
        name = frame.f_code.co_filename
        if name.startswith("<frozen importlib") or name.endswith(_UNSAFE_SUFFIXES):
            return False
        frame = frame.f_back
        depth += 1
    return True


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
    agent.exit_with_controller = exit_with_controller
    agent.install_signal()
    agent.run(token)
    _agent = agent
    return agent
