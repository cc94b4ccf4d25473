"""A private X server for tests of Tk programs (not collected: no ``test_`` prefix)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator


@contextlib.contextmanager
def xvfb_display() -> Iterator[str]:
    """Start Xvfb on a free display; yield its name (``:N``); kill it afterwards."""
    binary = shutil.which("Xvfb")
    assert binary, "Xvfb is needed for the Tk tests (apt install xvfb)"
    for number in range(140, 190):
        if os.path.exists(f"/tmp/.X{number}-lock") or os.path.exists(f"/tmp/.X11-unix/X{number}"):
            continue
        proc = subprocess.Popen(
            [binary, f":{number}", "-nolisten", "tcp", "-screen", "0", "640x480x24"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.exists(f"/tmp/.X11-unix/X{number}"):
                break
            time.sleep(0.05)
        if proc.poll() is not None:
            continue  # lost a race for that display: try the next one
        try:
            yield f":{number}"
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        return
    raise AssertionError("no free X display for Xvfb")
