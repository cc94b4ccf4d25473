"""samples/settings: the seed's settings / lastReload example, in a real subprocess.

Settings are loaded once at start and survive reloads; the ``after_code_reload``
handler runs exactly once per reload (updating ``last_reload`` and resetting state).
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "settings"
TICK = re.compile(r"^(?P<text>.*?)  frame (?P<frame>\d+), reloads (?P<reloads>\d+), "
                  r"last reload (?P<last>never|[\d.]+s ago)$")


class Program:
    """``python -m hcride run main.py 0 0.05`` on a copy of the sample."""

    def __init__(self, project: Path, *args: str) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hcride", "run", str(project / "main.py"), *args],
            cwd=project, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.out: list[str] = []
        self.err: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.out, True),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err, False),
                         daemon=True).start()

    def _pump(self, stream, sink: list[str], is_stdout: bool) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            sink.append(line.rstrip("\n"))
            if is_stdout:
                self.lines.put(line.rstrip("\n"))
        if is_stdout:
            self.lines.put(None)

    def wait_for(self, pattern: str | re.Pattern[str], timeout: float = 60) -> re.Match[str]:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if line is None or time.monotonic() > deadline:
                pytest.fail(f"waited for {regex.pattern!r}; stdout:\n" + "\n".join(self.out)
                            + "\nstderr:\n" + "\n".join(self.err))
            match = regex.search(line)
            if match:
                return match

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "settings"
    shutil.copytree(SAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_settings_survive_reloads_and_handler_runs_once_per_reload(project: Path) -> None:
    prog = Program(project, "0", "0.05")
    try:
        first = prog.wait_for(TICK)
        assert first["text"] == "Hello, world!" and first["reloads"] == "0"
        assert first["last"] == "never"
        prog.wait_for(r"frame 3, reloads 0,")

        # The settings file changes too: it is not read again (top-level code does not
        # re-run), and the settings dict is not re-initialized by the reload.
        settings = project / "settings.txt"
        write_atomically(settings, settings.read_text(encoding="utf-8").replace("Hello", "Bonjour"))
        app = project / "app.py"
        source = app.read_text(encoding="utf-8")
        old = "return f\"{settings['greeting']}, {settings['name']}!\""
        assert source.count(old) == 1
        write_atomically(app, source.replace(old, old.replace('!"', '!!!"')))

        prog.wait_for(r"^\[reload\] applied: app$")
        after = prog.wait_for(TICK)
        # New code, old settings; the handler ran once and reset the program state.
        assert after["text"] == "Hello, world!!!", after.string
        assert (after["frame"], after["reloads"]) == ("1", "1"), after.string
        assert after["last"] != "never"
        prog.wait_for(r"frame 4, reloads 1,")  # nothing pending: no handler runs

        source = app.read_text(encoding="utf-8")
        write_atomically(app, source.replace("!!!\"", " (twice reloaded)\""))
        prog.wait_for(r"^\[reload\] applied: app$")
        again = prog.wait_for(TICK)
        assert again["text"] == "Hello, world (twice reloaded)", again.string
        assert (again["frame"], again["reloads"]) == ("1", "2"), again.string
        prog.wait_for(r"frame 3, reloads 2,")
    finally:
        prog.close()

    assert prog.out.count("loading settings from settings.txt") == 1, prog.out
    assert sum(line.startswith("program initialized") for line in prog.out) == 1
    assert prog.out.count("[reload] applied: app") == 2
    assert not [line for line in prog.out if "Bonjour" in line]
    reported = [line for line in prog.err if line.startswith("hcride:")]
    assert reported, prog.err
