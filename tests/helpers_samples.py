"""Running the samples in tests: a real subprocess on a copy of a sample, its output
read line by line with a timeout, and edits written the way editors save."""

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
from conftest import PROGRAM_PYTHON

REPO = Path(__file__).resolve().parent.parent


def copy_sample(name: str, tmp_path: Path) -> Path:
    copy = tmp_path / name
    shutil.copytree(REPO / "samples" / name, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


class Program:
    """``python -m hcride run main.py ARGS`` on a copy of a sample; with ``plain=True``,
    plain ``python main.py ARGS`` (no launcher, no controller: hcride is only importable).
    The program runs on ``PROGRAM_PYTHON`` (``HCR_PYTHON``): ``hcride run --python``."""

    def __init__(self, project: Path, *args: str, plain: bool = False) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HCRIDE")}
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [PROGRAM_PYTHON, str(project / "main.py"), *args] if plain else
            [sys.executable, "-m", "hcride", "run",
             *(["--python", PROGRAM_PYTHON] if PROGRAM_PYTHON != sys.executable else []),
             str(project / "main.py"), *args],
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


def edit(path: Path, old: str, new: str) -> None:
    source = path.read_text(encoding="utf-8")
    assert source.count(old) == 1, (path, old)
    write_atomically(path, source.replace(old, new))
