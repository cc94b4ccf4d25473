"""``hcride run --watch`` on a project, as a user runs it, with its output collected
(not collected by pytest: no ``test_`` prefix)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from conftest import PROGRAM_PYTHON
from helpers_session import TIMEOUT

from hcride.controller.interpreter import hcride_root


class CliRun:
    """``hcride run --watch SCRIPT``; stdout and stderr (the program's and hcride's
    own ``hcride:`` lines) collected line by line, in one list, in the order they
    arrive. The two are read apart, as a terminal user tells them apart: on one pipe,
    an unbuffered ``print("report", text)`` (written in pieces) could be cut by an
    ``hcride:`` line that hcride wrote to stderr between two pieces."""

    def __init__(self, script: Path | Sequence[str], *options: str, watch: bool = True,
                 cwd: Path | None = None, **env: str) -> None:
        """``options`` go before SCRIPT (``--python``, ``--project``); SCRIPT may be
        words (``["-m", "app.main"]``); ``cwd``: the folder it runs in (default: ours);
        a ``PYTHONPATH`` in ``env`` comes after hcride's own folder; ``watch=False``: no
        controller (the program polls). Without ``--python`` in ``options`` the program
        runs on ``PROGRAM_PYTHON`` (``HCR_PYTHON``, a venv of another CPython with the
        frameworks; else hcride's own interpreter), the controller on this one."""
        program = [str(script)] if isinstance(script, Path) else list(script)
        if PROGRAM_PYTHON != sys.executable and "--python" not in options:
            options = ("--python", PROGRAM_PYTHON, *options)
        path = os.pathsep.join(p for p in (str(hcride_root()), env.pop("PYTHONPATH", "")) if p)
        full = dict(os.environ, PYTHONUNBUFFERED="1", **env, PYTHONPATH=path)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hcride", "run", *(["--watch"] if watch else []), *options,
             *program],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full, cwd=cwd,
        )
        self.lines: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(pipe,), daemon=True)
                         for pipe in (self.proc.stdout, self.proc.stderr)]
        for reader in self._readers:
            reader.start()

    def _read(self, pipe: Any) -> None:
        for line in pipe:
            self.lines.append(line.rstrip("\n"))  # (list.append is atomic)

    def wait_line(self, needle: str, after: int = 0) -> str:
        """The first line from ``after`` on that contains ``needle``."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if needle in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} never printed:\n" + "\n".join(self.lines[-40:]))

    def stop(self) -> str:
        """Terminate; everything printed."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for reader in self._readers:
            reader.join(timeout=TIMEOUT)
        return "\n".join(self.lines)


def after_first_line(cmd: list[str], cwd: Path, env: dict[str, str],
                     then: Callable[[], None]) -> tuple[str, str, str, int]:
    """Run ``cmd`` (no stdin) and call ``then()`` once it printed its first line:
    ``(first line, the rest of stdout, stderr, exit code)``."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        then()
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return first, out, err, proc.returncode
