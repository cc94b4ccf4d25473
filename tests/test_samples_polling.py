"""samples/polling: the seed's polling alternative, under plain ``python main.py``.

No launcher, no controller: the loop asks ``has_any_module_changed()`` and reloads.
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
SAMPLE = REPO / "samples" / "polling"
JOB = re.compile(r"^job (?P<n>\d+): (?P<what>\w+)$")


class Program:
    """Plain ``python main.py ARGS`` on a copy of the sample: no hcride launcher, no
    controller; hcride is only importable (PYTHONPATH)."""

    def __init__(self, project: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HCRIDE")}
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, str(project / "main.py"), *args],
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


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "polling"
    shutil.copytree(SAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_polling_reloads_under_plain_python(project: Path) -> None:
    worker = project / "worker.py"
    prog = Program(project, "0", "0.05")
    try:
        first = prog.wait_for(JOB)
        assert (first["n"], first["what"]) == ("1", "polishing")
        prog.wait_for(r"^job 3: polishing$")  # nothing changed: no reload

        edit(worker, ': polishing"', ': shining"')
        prog.wait_for(r"^\[poll\] change found, reloaded: worker$")
        job = prog.wait_for(JOB)
        assert job["what"] == "shining", job.string
        assert int(job["n"]) > 3  # jobs_done was preserved: the count goes on

        # A broken version is reported once, and the old code keeps running: the
        # polling loop does not retry it every tick.
        edit(worker, ': shining"', ': shining" +')
        prog.wait_for(r"^\[poll\] change found, not applied \(rejected\):$")
        prog.wait_for(r"rejected worker.*SyntaxError")
        stuck = prog.wait_for(JOB)
        later = prog.wait_for(re.compile(rf"^job {int(stuck['n']) + 3}: shining$"))
        assert later

        edit(worker, ': shining" +', ': gleaming"')
        prog.wait_for(r"^\[poll\] change found, reloaded: worker$")
        job = prog.wait_for(JOB)
        assert job["what"] == "gleaming" and int(job["n"]) > int(stuck["n"]), job.string
    finally:
        prog.close()

    polls = [line for line in prog.out if line.startswith("[poll]")]
    assert polls == [
        "[poll] change found, reloaded: worker",
        "[poll] change found, not applied (rejected):",
        "[poll] change found, reloaded: worker",
    ], prog.out
    counts = [int(m["n"]) for m in map(JOB.match, prog.out) if m]
    assert counts == list(range(1, len(counts) + 1))  # never reset
    assert not [line for line in prog.err if line.startswith("hcride:")], prog.err
