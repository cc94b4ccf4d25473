"""The keeper: a small process between the controller and the program it runs.

    python -m hcride.controller.keeper --control FD --status FD [--socket-dir DIR] -- CMD...

Why a process of its own: the program and everything it starts must end with the
controller, even when the controller is killed with SIGKILL (nothing of it runs
then), the program ignores SIGTERM, or a child of the program left its process
group (``start_new_session=True``, a double-forked daemon). Only something that
outlives the controller can do that, and only a parent sees all those descendants:

- The keeper makes itself a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``,
  Linux), so every orphaned descendant of the program is re-parented to it instead
  of to init, and stays findable by walking ``/proc`` from the keeper down, whatever
  session or process group it moved to. No cgroup is needed.
- The program gets ``PR_SET_PDEATHSIG(SIGKILL)``: if the keeper itself dies, so does
  the program.
- The controller holds the write end of the ``--control`` pipe. When the controller
  dies, the kernel closes it and the keeper reads EOF: it sends SIGTERM to every
  descendant, SIGKILL after ``GRACE_S`` to those still there, removes the
  controller's socket folder (``--socket-dir``), and exits. The controller writes
  ``k`` on the pipe to have every descendant killed at once (Stop after its grace).
- SIGTERM to the keeper (Stop sends it to the process group, which the program
  shares) is passed on to descendants outside that group; SIGINT is the program's
  business, the keeper ignores it.
- When the program ends, what it left running is ended the same way, then the keeper
  exits with the program's status (re-raising the signal that killed it), so the
  controller sees the program's own exit code.

On ``--status`` the keeper writes one line: ``pid N`` once the program runs, or
``error MESSAGE`` when it could not be started. Standard library only.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
GRACE_S = 1.0
"""How long descendants get between SIGTERM and SIGKILL."""

_libc: ctypes.CDLL | None = None


def _prctl(option: int, value: int) -> bool:
    global _libc
    if not sys.platform.startswith("linux"):
        return False
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return _libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _die_with(keeper: int) -> Callable[[], None]:
    def die_with_parent() -> None:
        """In the program, before exec: SIGKILL when the keeper dies."""
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != keeper:  # the keeper died before prctl took effect
            os._exit(1)

    return die_with_parent


def descendants(root: int) -> list[int]:
    """Every live process below ``root``, from ``/proc`` (parents first)."""
    children: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) < 2 or fields[0] == b"Z":
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
    found: list[int] = []
    stack = list(children.get(root, ()))
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


class Keeper:
    def __init__(self, control: int, status: int, socket_dir: str | None) -> None:
        self.control = control
        self.status = status
        self.socket_dir = socket_dir
        self.program: subprocess.Popen[bytes] | None = None
        self.program_status: int | None = None
        self._term = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        os.set_blocking(self._wake_r, False)

    # -- signals and reaping ------------------------------------------------------

    def _install_signals(self) -> None:
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda s, f: None)
        signal.signal(signal.SIGINT, lambda s, f: None)  # a handler, not SIG_IGN: exec resets it
        signal.signal(signal.SIGHUP, lambda s, f: None)

        def on_term(signum: int, frame: object) -> None:
            self._term = True

        signal.signal(signal.SIGTERM, on_term)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.program is not None and pid == self.program.pid:
                self.program_status = status
                self.program.returncode = os.waitstatus_to_exitcode(status)

    def _wait(self, timeout: float | None) -> bytes | None:
        """Sleep until a signal, a control byte or ``timeout``; the control bytes read
        (b"" on EOF), or None if none came."""
        try:
            ready, _, _ = select.select([self.control, self._wake_r], [], [], timeout)
        except InterruptedError:
            ready = []
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._wake_r, 512):
                pass
        if self.control in ready:
            try:
                return os.read(self.control, 64)
            except OSError:
                return b""
        return None

    # -- ending descendants -------------------------------------------------------

    def _signal_all(self, sig: int, outside_group_only: bool = False) -> list[int]:
        me = os.getpid()
        group = os.getpgid(0)
        pids = descendants(me)
        for pid in pids:
            if outside_group_only:
                with contextlib.suppress(OSError):
                    if os.getpgid(pid) == group:
                        continue
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
                if sig == signal.SIGTERM:
                    os.kill(pid, signal.SIGCONT)  # a stopped process cannot act on it
        return pids

    def end_all(self, grace: float = GRACE_S) -> None:
        """SIGTERM to every descendant, SIGKILL after ``grace`` to those still there."""
        if not self._signal_all(signal.SIGTERM):
            self._reap()
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            self._reap()
            if not descendants(os.getpid()):
                return
            self._wait(0.05)
        self.kill_all()

    def kill_all(self) -> None:
        for _ in range(100):  # a fork racing with us: go again
            self._reap()
            if not self._signal_all(signal.SIGKILL):
                return
            time.sleep(0.01)
        self._reap()

    # -- main loop ----------------------------------------------------------------

    def run(self, command: list[str]) -> int:
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        self._install_signals()
        try:
            self.program = subprocess.Popen(command, preexec_fn=_die_with(os.getpid()))
        except OSError as exc:
            self._say(f"error {exc}")
            return 127
        self._say(f"pid {self.program.pid}")
        controller_gone = False
        while self.program_status is None:
            data = self._wait(None)
            if self._term:
                self._term = False
                self._signal_all(signal.SIGTERM, outside_group_only=True)
            if data is not None:
                if not data:  # EOF: the controller is gone
                    controller_gone = True
                    self.end_all()
                    break
                if b"k" in data:
                    self.kill_all()
            self._reap()
        self.end_all()  # whatever the program left running
        if controller_gone and self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
        return self.program_status if self.program_status is not None else 0

    def _say(self, line: str) -> None:
        with contextlib.suppress(OSError):
            os.write(self.status, (line + "\n").encode("utf-8", "replace"))
            os.close(self.status)


def _exit_like(status: int) -> None:
    """Exit with the program's wait status: its code, or the signal that killed it."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file of ours
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, signal.SIG_DFL)  # not possible (nor needed) for SIGKILL
        with contextlib.suppress(OSError, ValueError):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
            os.kill(os.getpid(), sig)
            time.sleep(1)
        os._exit(128 + sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    control = status = -1
    socket_dir: str | None = None
    while args and args[0] != "--":
        option, value = args[0], args[1]
        if option == "--control":
            control = int(value)
        elif option == "--status":
            status = int(value)
        elif option == "--socket-dir":
            socket_dir = value
        args = args[2:]
    command = args[1:]
    keeper = Keeper(control, status, socket_dir)
    code = keeper.run(command)
    if keeper.program_status is not None:
        _exit_like(keeper.program_status)
    os._exit(code)


if __name__ == "__main__":
    main()
