"""``hcride run --watch`` on a project, as a user runs it, with its output collected
(not collected by pytest: no ``test_`` prefix)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import PROGRAM_PYTHON
from helpers_session import TIMEOUT

from hcride.controller.interpreter import hcride_root


class CliRun:
    """``hcride run --watch SCRIPT``; stdout and stderr (the program's and hcride's
    own ``hcride:`` lines) collected line by line, in one list. They share one pipe: a
    line the program prints in pieces (``print(a, b)`` writes ``a``, the space, ``b``,
    the newline) can have an ``hcride:`` line in its middle, so the programs of the
    tests write each line at once (``print(text + "\\n", end="")``)."""

    def __init__(self, script: Path, *options: str, watch: bool = True, **env: str) -> None:
        """``options`` go before SCRIPT (``--python``, ``--project``); a ``PYTHONPATH``
        in ``env`` comes after hcride's own folder; ``watch=False``: no controller (the
        program polls). Without ``--python`` in ``options`` the program runs on
        ``PROGRAM_PYTHON`` (``HCR_PYTHON``, a venv of another CPython with the frameworks;
        else hcride's own interpreter), the controller on this one."""
        if PROGRAM_PYTHON != sys.executable and "--python" not in options:
            options = ("--python", PROGRAM_PYTHON, *options)
        path = os.pathsep.join(p for p in (str(hcride_root()), env.pop("PYTHONPATH", "")) if p)
        full = dict(os.environ, PYTHONUNBUFFERED="1", **env, PYTHONPATH=path)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hcride", "run", *(["--watch"] if watch else []), *options,
             str(script)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

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
        return "\n".join(self.lines)
