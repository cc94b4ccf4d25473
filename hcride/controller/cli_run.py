"""``hcride run --watch``: a session driven from a terminal.

The program keeps the terminal (stdin, stdout, stderr) unless ``--events -`` asks
for the event stream on stdout; then the program's output travels inside it as
``output`` events and our stdin is forwarded to the program. hcride's own lines go
to stderr, prefixed ``hcride:``. The exit code is the program's (128 + N when
signal N ended it).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

from hcride.controller import events as ev
from hcride.controller.session import Session


def describe(event: ev.Event) -> list[str]:
    """The ``hcride:`` lines for one event (none for output and routine ones)."""
    if isinstance(event, (ev.ReloadApplied, ev.ReloadRejected, ev.ReloadFailed)):
        return event.result.summary()
    if isinstance(event, ev.BuildRejected):
        return [f"build {event.build}: " + line for line in event.result.summary()] or [
            f"build {event.build} rejected"
        ]
    if isinstance(event, ev.BuildReady):
        names = ", ".join(event.modules)
        line = f"build {event.build}: {names} checked in {event.duration_ms:.1f} ms"
        if event.held_back:
            line += f"; still running the old version: {', '.join(event.held_back)}"
        return [line]
    if isinstance(event, ev.BackToRunning):
        if not event.was_refused:
            return []
        return [f"{event.module}: back to the running version (nothing to reload)"]
    if isinstance(event, ev.RestartNeeded):
        return [f"restart needed: {event.file} is the main script and is never reloaded"]
    if isinstance(event, ev.ProgramConnected) and event.reconnected:
        return [f"program {event.pid} reconnected: live reload goes on"]
    if isinstance(event, ev.LiveReload):
        return [event.message]
    if isinstance(event, ev.ProgramConnected):
        if event.mode == "detect":
            return [f"program {event.pid} connected (manual mode if it imports "
                    "hotcodereloading, else auto)"]
        return [f"program {event.pid} connected ({event.mode} mode)"]
    if isinstance(event, ev.ProgramExited):
        if event.signal:
            return [f"program killed by {event.signal}"]
        return [f"program exited with code {event.returncode}"]
    if isinstance(event, ev.IpcProblem):
        return [f"ipc: {event.message}"]
    if isinstance(event, ev.RuntimeNotice):
        return [event.message]
    return []


class _Printer:
    """Writes events as ``hcride:`` lines and, if asked, as JSON lines."""

    def __init__(self, events: TextIO | None, echo_output: bool, mode: str = "detect",
                 log: TextIO | None = None) -> None:
        self._events = events
        self._log = log
        """Where hcride's own lines go (None: stderr, shared with the program)."""
        self._echo_output = echo_output
        self._lock = threading.Lock()
        self._detect = mode == "detect"
        self._resolved = ""
        """Under detect: the mode the program last reported (auto until it imports the
        API)."""
        self._built = False
        """A build was sent to this program (a switch before that is its start-up)."""

    def _mode_lines(self, event: ev.Event) -> list[str]:
        """Under detect, a program in auto mode that imports the API (a save added a
        reload handler) is in manual mode from then on: its later saves wait for a
        perform_code_reload() it may never make. Say so, once per change."""
        if not self._detect:
            return []
        if isinstance(event, ev.ProgramStarted):
            self._resolved, self._built = "", False
        elif isinstance(event, ev.BuildReady):
            self._built = True
        elif isinstance(event, ev.ModulesChanged) and event.mode in ("auto", "manual"):
            before, self._resolved = self._resolved, event.mode
            if before == "auto" and event.mode == "manual" and self._built:
                return ["the program imported hotcodereloading: manual mode from now on, "
                        "builds apply when it calls perform_code_reload() (hcride run "
                        "--mode auto applies them as they arrive, handlers included)"]
        return []

    def __call__(self, event: ev.Event) -> None:
        with self._lock:
            if self._events is not None:
                self._events.write(event.to_json() + "\n")
                self._events.flush()
            if isinstance(event, ev.Output):
                if self._echo_output:
                    stream = sys.stdout if event.stream == "stdout" else sys.stderr
                    stream.write(event.text)
                    stream.flush()
                return
            # One write for the event: the program shares the terminal, and a line of
            # its output must not land between our text and its newline (print() writes
            # them apart on an unbuffered stderr).
            lines = describe(event) + self._mode_lines(event)
            text = "".join(f"hcride: {line}\n" for line in lines)
            if isinstance(event, ev.ReloadFailed) and event.result.error:
                text += event.result.error
            if text:
                out = self._log or sys.stderr
                out.write(text)
                out.flush()


def _forward_stdin(session: Session) -> None:
    try:
        for line in sys.stdin:
            session.send_stdin(line)
    except (OSError, ValueError):
        pass
    session.close_stdin()


def exit_code(returncode: int | None) -> int:
    if returncode is None:
        return 1
    return 128 - returncode if returncode < 0 else returncode


def run_watched(args: argparse.Namespace, script: Path, project: Path) -> int:
    """Run ``script`` (``args.module`` as ``python -m``: ``script`` is its file) under
    a session; return the program's exit code."""
    events_arg = getattr(args, "events", None)
    to_stdout = events_arg == "-"
    stream: TextIO | None = None
    if to_stdout:
        stream = sys.stdout
    elif events_arg:
        stream = open(events_arg, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
    log_arg = getattr(args, "log", None)
    log = open(log_arg, "a", encoding="utf-8") if log_arg else None  # noqa: SIM115
    program_args = list(getattr(args, "args", None) or ())
    if getattr(args, "module", None) is None:  # after -m MODULE every word is the program's
        program_args = [a for a in program_args if a != "--"]
    printer = _Printer(stream, echo_output=False, mode=getattr(args, "mode", "detect"), log=log)
    session = Session(
        project=project,
        script=script,
        args=tuple(program_args),
        python=getattr(args, "python", None),
        mode=getattr(args, "mode", "detect"),
        watch=bool(getattr(args, "watch", True)),
        capture_output=to_stdout,
        on_event=printer,
        module=getattr(args, "module", None),
    )
    previous = signal.getsignal(signal.SIGINT)
    interrupts = 0

    def on_sigint(signum: int, frame: object) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            session.interrupt()  # the program is in its own process group
        else:
            threading.Thread(target=session.stop, daemon=True).start()

    try:
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGINT, on_sigint)
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signal.SIGTERM, lambda s, f: threading.Thread(
                target=session.stop, daemon=True).start())  # fmt: skip
        try:
            session.start()
        except OSError as exc:
            print(f"hcride: cannot start {session.python}: {exc}", file=sys.stderr)
            return 127
        if to_stdout:
            threading.Thread(target=_forward_stdin, args=(session,), daemon=True).start()
        code: int | None = None
        while code is None:
            code = session.wait(timeout=0.5)
        return exit_code(code)
    finally:
        session.close()
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGINT, previous)
        if stream is not None and not to_stdout:
            stream.close()
        if log is not None:
            log.close()
