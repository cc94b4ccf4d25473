"""A program started by a controller ends when the controller dies (no orphans)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def _wait(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_program_ends_when_the_controller_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    (tmp_path / "logic.py").write_text("def step():\n    return 1\n")
    (tmp_path / "main.py").write_text(
        "import os, time, logic\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "while True:\n"
        "    logic.step()\n"
        "    time.sleep(0.05)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    controller = subprocess.Popen(
        [sys.executable, "-m", "hcride", "run", "--watch", str(tmp_path / "main.py")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait(lambda: pidfile.exists() and pidfile.read_text().strip()), "never started"
        program = int(pidfile.read_text())
        assert _alive(program)
        controller.send_signal(signal.SIGKILL)  # no chance to clean up
        controller.wait(timeout=30)
        assert _wait(lambda: not _alive(program)), "the program outlived its controller"
    finally:
        if controller.poll() is None:
            controller.kill()
        if pidfile.exists() and pidfile.read_text().strip():
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass
