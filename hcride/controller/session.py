"""A session: one user program running under the runtime, driven by the controller.

The API the CLI (``cli_run``) and the IDE (``hcride.ide.runner``) drive:

    session = Session(
        project=Path("samples/counter"),
        script=Path("samples/counter/main.py"),
        args=(),
        python=None,              # None: project's .venv/venv interpreter, else sys.executable
        mode="detect",            # "detect" | "manual" | "auto"
        watch=True,               # watch the project and build on save
        capture_output=True,      # False: child inherits our stdin/stdout/stderr (CLI)
        on_event=callback,        # called with each hcride.controller.events.Event,
                                  # from background threads
    )
    session.start()               # ProgramStarted, then ProgramConnected when IPC is up
    session.running -> bool
    session.pid -> int | None
    session.mode -> str           # resolved mode once connected ("manual" / "auto")
    session.stop(grace=2.0)       # SIGTERM to the process group, SIGKILL after grace;
                                  # blocks until exited; ProgramExited(stopped=True)
    session.restart()
    session.build_now(paths=None) # F9: build the given (or all changed) files now and,
                                  # in auto mode or with reload=True, apply at once
    session.request_reload()      # ask the runtime to apply pending builds now
    session.send_stdin(text)      # with capture_output=True
    session.inspect(what, module=None, path=(), offset=0, limit=100,
                    callback=fn)  # fn(ok: bool, data, error: str | None) from a
                                  # background thread; what = "modules" | "globals" |
                                  # "children". See hcride/protocol.py.
    session.wait(timeout=None) -> int | None   # the exit code
    session.close()               # stop if running, stop watching, remove the socket

Additions beyond the contract: ``cwd`` (the program's working directory, default:
ours), ``env`` (variables set for the program), ``inspect_wait(...) -> (ok, data, error)``, ``connected`` (bool),
``wait_connected(timeout)``, ``python`` (the interpreter used), ``builder``,
``module`` (``"app.main"``: run as ``python -m app.main``; ``script`` is then the file
that runs, the main script).
"""

from __future__ import annotations

import codecs
import contextlib
import itertools
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hcride import protocol
from hcride.controller import keeper as keeper_module
from hcride.controller import messages
from hcride.controller.build import Builder, all_sources
from hcride.controller.events import (
    Event,
    IpcProblem,
    LiveReload,
    ModulesChanged,
    Output,
    ProgramConnected,
    ProgramExited,
    ProgramStarted,
    RuntimeNotice,
    result_event,
)
from hcride.controller.interpreter import find_interpreter, parse_version, runtime_path
from hcride.controller.ipc import IpcServer
from hcride.runtime.report import ReloadResult

RECONNECT_GRACE_S = 6.0
"""How long a program whose connection broke has to reconnect before the user is told."""

InspectCallback = Callable[[bool, Any, "str | None"], None]

KEEPER_START_S = 60.0
"""How long the keeper may take to start the program (a loaded machine)."""
KEEPER_KILL_S = 5.0
"""After Stop's grace: how long the keeper may take to SIGKILL every descendant."""


def _read_line(fd: int, timeout: float) -> str:
    """One line from ``fd`` (the keeper's status), "" on EOF or timeout."""
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 256)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace").strip()


class Session:
    """Start, watch, build for, inspect and stop one program. Thread-safe."""

    def __init__(
        self,
        project: Path,
        script: Path,
        args: Sequence[str] = (),
        python: str | Path | None = None,
        mode: str = "detect",
        watch: bool = True,
        capture_output: bool = True,
        on_event: Callable[[Event], None] | None = None,
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        use_tcp: bool = False,
        module: str | None = None,
    ) -> None:
        self.project = Path(project).resolve()
        self.script = Path(script).resolve()
        self.module = module
        """Run as ``python -m module`` (then ``script`` is the file that runs)."""
        self.args = tuple(args)
        self.python = find_interpreter(self.project, python)
        self.requested_mode = mode
        self.mode = mode
        self.watch = watch
        self.capture_output = capture_output
        self.cwd = cwd
        self.env = dict(env or {})
        """Variables added to (or replacing) the IDE's environment for the program."""
        self._on_event = on_event
        self._use_tcp = use_tcp
        self._lock = threading.RLock()
        self._proc: subprocess.Popen[bytes] | None = None
        """The keeper process; the program is its child (``_program_pid``)."""
        self._program_pid: int | None = None
        self._pid_known = threading.Event()
        """Set once the keeper said which pid the program has."""
        self._control = -1
        """Our end of the keeper's control pipe (closed: the keeper ends everything)."""
        self._stopping = False
        self._exited = threading.Event()
        self._exited.set()
        self._connected = threading.Event()
        self._gone = threading.Event()
        """Set while no program is connected: its last messages have all been read."""
        self._gone.set()
        self._returncode: int | None = None
        self._ipc: IpcServer | None = None
        self._outbox: list[dict[str, Any]] = []
        self._requests: dict[int, InspectCallback] = {}
        self._ids = itertools.count(1)
        self._build_lock = threading.Lock()
        self.builder = Builder(self.project, self.script, self._emit, self._send_build)
        self._watcher: Any = None
        self._closed = False

    # -- events ---------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a listener's bug must not break the session
            import traceback

            traceback.print_exc()

    # -- properties -----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and not self._exited.is_set()

    @property
    def pid(self) -> int | None:
        """The program's process id (not its keeper's) while it runs."""
        return self._program_pid if self.running else None

    @property
    def connected(self) -> bool:
        return self._connected.is_set() and self.running

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Start the program (and the watcher, the first time)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("session is closed")
            if self.running:
                raise RuntimeError("program already running")
            self._connected.clear()
            self._outbox.clear()
            self._stopping = False
            self._returncode = None
            self.mode = self.requested_mode
            # No baseline read at start: the program's module reports give it, file by
            # file (Builder.set_module_names); a file is parsed when first saved.
            self.builder = Builder(self.project, self.script, self._emit, self._send_build)
            if self._ipc is None:
                self._ipc = IpcServer(
                    self._on_message,
                    lambda text: self._emit(IpcProblem(message=text)),
                    on_connect=self._on_connect,
                    on_disconnect=self._on_disconnect,
                    accept_hello=self._check_hello,
                    use_tcp=self._use_tcp,
                )
            self._spawn()
            if self.watch and self._watcher is None:
                from hcride.controller.watcher import Watcher

                self._watcher = Watcher(self.project, self._on_batch, on_root=self._on_root)
                self._watcher.start()

    def _command(self) -> list[str]:
        return [
            str(self.python), "-m", "hcride.runtime", "--project", str(self.project),
            "--mode", self.requested_mode, "--",
            *(["-m", self.module] if self.module is not None else [str(self.script)]),
            *self.args,
        ]  # fmt: skip

    def _environment(self) -> dict[str, str]:
        assert self._ipc is not None
        env = dict(os.environ)
        env.update(self.env)
        root = str(runtime_path())
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        env[protocol.ENV_ADDRESS] = self._ipc.address
        env[protocol.ENV_TOKEN] = self._ipc.token
        env[protocol.ENV_EXIT_WITH_CONTROLLER] = "1"
        if self.capture_output:
            env["PYTHONUNBUFFERED"] = "1"
            env.setdefault("PYTHONIOENCODING", "utf-8")
        return env

    def _spawn(self) -> None:
        """Start the program under a keeper (``hcride.controller.keeper``), which ends
        it and everything it started when we die or stop it."""
        assert self._ipc is not None
        self._pid_known.clear()
        self._program_pid = None
        pipe = subprocess.PIPE if self.capture_output else None
        control_r, control_w = os.pipe()
        status_r, status_w = os.pipe()
        keeper = [
            sys.executable, "-I", "-S", str(Path(keeper_module.__file__)),
            "--control", str(control_r), "--status", str(status_w),
        ]  # fmt: skip
        if self._ipc.folder:
            keeper += ["--socket-dir", self._ipc.folder]
        try:
            proc = subprocess.Popen(
                [*keeper, "--", *self._command()],
                env=self._environment(),
                cwd=str(self.cwd) if self.cwd else None,
                stdin=pipe,
                stdout=pipe,
                stderr=pipe,
                start_new_session=True,
                pass_fds=(control_r, status_w),
            )
        except BaseException:
            os.close(control_w)
            raise
        finally:
            os.close(control_r)
            os.close(status_w)
        try:
            line = _read_line(status_r, KEEPER_START_S)
        finally:
            os.close(status_r)
        if not line.startswith("pid "):
            os.close(control_w)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
            reason = line[len("error "):] if line.startswith("error ") else "the keeper did not start"
            raise OSError(f"cannot start {self.python}: {reason}")
        self._proc = proc
        self._program_pid = int(line.split()[1])
        self._control = control_w
        self._exited.clear()
        self._pid_known.set()
        self._emit(
            ProgramStarted(pid=self._program_pid, script=str(self.script),
                           python=str(self.python), argv=self.args)
        )  # fmt: skip
        readers = []
        if self.capture_output:
            for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr)):
                thread = threading.Thread(
                    target=self._pump, args=(name, stream), name=f"hcride-{name}", daemon=True
                )
                thread.start()
                readers.append(thread)
        threading.Thread(
            target=self._reap, args=(proc, readers, control_w), name="hcride-wait", daemon=True
        ).start()

    def _pump(self, name: str, stream: Any) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        fd = stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            text = decoder.decode(chunk, final=not chunk)
            if text:
                self._emit(Output(stream=name, text=text))
            if not chunk:
                return

    def _reap(
        self, proc: subprocess.Popen[bytes], readers: list[threading.Thread], control: int
    ) -> None:
        code = proc.wait()  # the keeper ends the program's leftovers before it exits
        with contextlib.suppress(OSError):
            os.close(control)
        for thread in readers:
            thread.join(timeout=2.0)
        # Read what the program sent before it exited (the result of a reload applied
        # just before sys.exit) before saying it exited.
        self._gone.wait(timeout=2.0)
        sig = None
        if code < 0:
            with contextlib.suppress(ValueError):
                sig = signal.Signals(-code).name
        with self._lock:
            self._returncode = code
            self._connected.clear()
            failed = list(self._requests.values())
            self._requests.clear()
        for callback in failed:
            self._call(callback, False, None, "program exited")
        self._emit(ProgramExited(returncode=code, signal=sig, stopped=self._stopping))
        self._exited.set()

    def stop(self, grace: float = 2.0) -> None:
        """SIGTERM to the program's process group, SIGKILL after ``grace``; blocks."""
        proc = self._proc
        if proc is None or self._exited.is_set():
            return
        self._stopping = True
        self._signal_group(proc, signal.SIGTERM)  # the keeper passes it to every descendant
        if self._exited.wait(grace):
            return
        with contextlib.suppress(OSError):
            os.write(self._control, b"k")  # the keeper SIGKILLs every descendant
        if not self._exited.wait(KEEPER_KILL_S):
            self._signal_group(proc, signal.SIGKILL)
            self._exited.wait()

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)

    def interrupt(self) -> None:
        """SIGINT to the program's process group (Ctrl-C in a terminal)."""
        proc = self._proc
        if proc is not None and not self._exited.is_set():
            self._signal_group(proc, signal.SIGINT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def wait(self, timeout: float | None = None) -> int | None:
        """The program's exit code (negative: killed by that signal), or None on timeout."""
        if self._proc is None:
            return None
        if not self._exited.wait(timeout):
            return None
        return self._returncode

    def close(self) -> None:
        """Stop the program, the watcher and the IPC server."""
        self.stop()
        with self._lock:
            self._closed = True
            watcher, self._watcher = self._watcher, None
            ipc, self._ipc = self._ipc, None
        if watcher is not None:
            watcher.stop()
        if ipc is not None:
            ipc.close()

    # -- stdin ----------------------------------------------------------------------

    def send_stdin(self, text: str) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None or self._exited.is_set():
            return
        with contextlib.suppress(OSError, ValueError):
            proc.stdin.write(text.encode("utf-8"))
            proc.stdin.flush()

    def close_stdin(self) -> None:
        proc = self._proc
        if proc is not None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    # -- builds ---------------------------------------------------------------------

    def _on_batch(self, paths: set[Path]) -> None:
        with self._build_lock:
            self.builder.build(paths)

    def build_now(self, paths: Iterable[Path] | None = None, reload: bool = False) -> None:
        """Build the given files (default: every changed source) now; with ``reload``
        (or in auto mode, where it happens anyway) the program applies it at once."""
        files = [Path(p) for p in paths] if paths is not None else all_sources(self.project)
        with self._build_lock:
            self.builder.build(files)
        if reload:
            self.request_reload()

    def _send_build(self, fields: dict[str, Any]) -> None:
        self._send(protocol.message("build", **fields), queue_if_offline=True)

    def request_reload(self) -> None:
        self._send(protocol.message("reload"))

    def ping(self) -> None:
        self._send(protocol.message("ping"))

    def _send(self, msg: dict[str, Any], queue_if_offline: bool = False) -> bool:
        with self._lock:
            ipc = self._ipc
            if ipc is None or not self._connected.is_set():
                if queue_if_offline and self.running:
                    self._outbox.append(msg)
                return False
        return ipc.send(msg)

    # -- inspection -----------------------------------------------------------------

    def inspect(
        self,
        what: str,
        module: str | None = None,
        path: Sequence[str] = (),
        offset: int = 0,
        limit: int = 100,
        callback: InspectCallback | None = None,
    ) -> None:
        """Ask the program; ``callback(ok, data, error)`` gets the answer (see
        ``hcride.runtime.inspector`` for the data)."""
        request_id = next(self._ids)
        if callback is not None:
            with self._lock:
                self._requests[request_id] = callback
        msg = protocol.message(
            "inspect", id=request_id, what=what, module=module, path=list(path),
            offset=offset, limit=limit,
        )  # fmt: skip
        if not self._send(msg) and callback is not None:
            with self._lock:
                self._requests.pop(request_id, None)
            self._call(callback, False, None, "program not connected")

    def evaluate(self, module: str, code: str, callback: InspectCallback,
                 initializes: str | None = None) -> None:
        """Run ``code`` (an expression, or statements) in ``module`` of the program, on
        its main thread at the next safe point; ``callback(ok, data, error)`` gets
        ``{"value", "type", "statement"}`` or the traceback (``hcride.runtime.evaluate``).
        ``initializes``: the stale global (or ``Class.attr``) the code gives its value
        from the file again (then no longer reported stale)."""
        request_id = next(self._ids)
        with self._lock:
            self._requests[request_id] = callback
        fields: dict[str, Any] = {"initializes": initializes} if initializes else {}
        msg = protocol.message("evaluate", id=request_id, module=module, code=code, **fields)
        if not self._send(msg):
            with self._lock:
                self._requests.pop(request_id, None)
            self._call(callback, False, None, "program not connected")

    def inspect_wait(
        self,
        what: str,
        module: str | None = None,
        path: Sequence[str] = (),
        offset: int = 0,
        limit: int = 100,
        timeout: float = 10.0,
    ) -> tuple[bool, Any, str | None]:
        """``inspect`` that blocks for the answer (for scripts and tests)."""
        done = threading.Event()
        box: list[tuple[bool, Any, str | None]] = []

        def callback(ok: bool, data: Any, error: str | None) -> None:
            box.append((ok, data, error))
            done.set()

        self.inspect(what, module, path, offset, limit, callback)
        if not done.wait(timeout):
            return False, None, "no answer in time"
        return box[0]

    @staticmethod
    def _call(callback: InspectCallback, ok: bool, data: Any, error: str | None) -> None:
        try:
            callback(ok, data, error)
        except Exception:
            import traceback

            traceback.print_exc()

    # -- messages from the runtime --------------------------------------------------

    def _check_hello(self, hello: dict[str, Any]) -> str | None:
        pid = hello.get("pid")
        # The program may say hello before the keeper's "pid N" line reached us.
        self._pid_known.wait(KEEPER_START_S)
        proc = self._proc
        if proc is None or self._exited.is_set() or pid != self._program_pid:
            return f"hello from pid {pid!r}, which is not the program"
        return None

    def _on_connect(self, hello: dict[str, Any]) -> None:
        pid = hello.get("pid")
        mode = hello.get("mode")
        if isinstance(mode, str):
            self.mode = mode
        self.builder.program_python = parse_version(hello.get("python"))
        with self._lock:
            self._gone.clear()
            self._connected.set()
            outbox, self._outbox = self._outbox, []
        self._emit(
            ProgramConnected(pid=int(pid or 0), mode=self.mode, python=str(hello.get("python", "")),
                             reconnected=hello.get("reconnect") is True)
        )  # fmt: skip
        for msg in outbox:
            self._send(msg)

    def _on_disconnect(self) -> None:
        """The connection closed: every message the program sent has been read (its
        exit is reported now, not after ``_reap``'s fallback wait). The program may
        also run on: the runtime reconnects after a framing error; if it has not
        within ``RECONNECT_GRACE_S``, say so."""
        self._connected.clear()
        self._gone.set()
        proc = self._proc
        timer = threading.Timer(RECONNECT_GRACE_S, self._check_reconnected, args=(proc,))
        timer.daemon = True
        timer.start()

    def _check_reconnected(self, proc: Any) -> None:
        if proc is not self._proc or self._exited.is_set() or self._stopping:
            return
        if self._connected.is_set():
            return
        self._emit(LiveReload(ok=False, message=(
            "lost the connection to the program and it did not reconnect: live reload is "
            "off; restart the program to get it back")))  # fmt: skip

    def _on_root(self, ok: bool, message: str) -> None:
        """The watcher lost or found again the project folder."""
        self._emit(LiveReload(ok=ok, message=message))

    def _on_message(self, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        if kind == "modules":
            modules = msg.get("modules")
            if not isinstance(modules, list):
                self._malformed(kind, f"modules is {type(modules).__name__}, not a list")
                return
            removed = msg.get("removed", [])
            if not messages.is_str_list(removed):
                self._malformed(kind, f"removed is {removed!r:.60}, not a list of names")
                removed = []
            full = msg.get("full", False)
            if not isinstance(full, bool):
                self._malformed(kind, f"full is {full!r:.60}, not true or false")
                full = False
            infos, dropped = messages.clean_modules(modules)
            if dropped:
                self._malformed(kind, f"{len(dropped)} entries dropped ({dropped[0]})")
            if isinstance(msg.get("mode"), str):
                self.mode = msg["mode"]
            self.builder.set_module_names(infos)
            self._emit(
                ModulesChanged(
                    modules=tuple(infos), mode=self.mode, removed=tuple(removed),
                    full=full,
                )
            )  # fmt: skip
        elif kind == "result":
            data = msg.get("result")
            reason = messages.check_result(data)
            if reason is not None:
                self._malformed(kind, reason)
                return
            result = ReloadResult.from_dict(data)  # type: ignore[arg-type]
            with self._build_lock:
                self.builder.on_result(result)
            self._emit(result_event(result))
        elif kind == "pending":
            build = msg.get("build")
            if not isinstance(build, int) or isinstance(build, bool):
                self._malformed(kind, f"build is {build!r}")
        elif kind == "reply":
            self._on_reply(msg)
        elif kind == "notice":
            reason = messages.check_notice(msg)
            if reason is not None:
                self._malformed(kind, reason)
                return
            self._emit(RuntimeNotice(what=msg["what"], message=msg["message"]))
        elif kind == "error":
            text = msg.get("message")
            text = text if isinstance(text, str) else repr(text)
            if len(text) > 2000:
                text = text[:2000] + "…"
            self._emit(IpcProblem(message=f"the program refused a message: {text}"))

    def _malformed(self, kind: str, reason: str) -> None:
        self._emit(IpcProblem(message=f"malformed {kind} message from the program: {reason}"))

    def _on_reply(self, msg: dict[str, Any]) -> None:
        request_id = msg.get("id")
        if not isinstance(request_id, int) or isinstance(request_id, bool):
            self._malformed("reply", f"id is {request_id!r}")
            return
        with self._lock:
            callback = self._requests.pop(request_id, None)
        ok, error = msg.get("ok"), msg.get("error")
        if not isinstance(ok, bool) or not (error is None or isinstance(error, str)):
            self._malformed("reply", f"ok is {ok!r}, error is {error!r}")
            if callback is not None:
                self._call(callback, False, None, "malformed reply from the program")
            return
        if callback is not None:
            self._call(callback, ok, msg.get("data"), error)
