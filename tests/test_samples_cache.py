"""samples/cache: the seed's mydb / myCache example, in a real subprocess.

The ``after_code_reload`` handler clears the cache only when ``has_module_changed(mydb)``:
reloading ``mydb`` clears it; reloading another module (even the handler's own) keeps it.
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
SAMPLE = REPO / "samples" / "cache"
LINE = re.compile(r"^(?P<label>\w+): (?P<values>.*) \| cached: (?P<cached>\d+), "
                  r"db queries: (?P<queries>\d+)$")


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


def edit(path: Path, old: str, new: str) -> None:
    source = path.read_text(encoding="utf-8")
    assert source.count(old) == 1, (path, old)
    write_atomically(path, source.replace(old, new))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "cache"
    shutil.copytree(SAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_cache_cleared_only_when_mydb_reloads(project: Path) -> None:
    prog = Program(project, "0", "0.05")
    try:
        first = prog.wait_for(LINE)
        assert first["values"] == "alpha-v1, beta-v1, gamma-v1"
        assert (first["cached"], first["queries"]) == ("3", "3")
        prog.wait_for(LINE)

        # (The handler prints inside perform_code_reload(), before main.py's [reload] line.)
        # Another module: the handler runs, sees mydb unchanged, keeps the cache.
        edit(project / "report.py", 'return f"values:', 'return f"report:')
        prog.wait_for(r"^mydb unchanged: cache kept \(3 entries\)$")
        prog.wait_for(r"^\[reload\] applied: report$")
        kept = prog.wait_for(LINE)
        assert kept["label"] == "report", kept.string
        assert (kept["values"], kept["cached"], kept["queries"]) == (
            "alpha-v1, beta-v1, gamma-v1", "3", "3"), kept.string

        # The handler's own module: still not mydb, the cache (a preserved global) stays.
        edit(project / "cache.py", "cache kept (", "cache still kept (")
        prog.wait_for(r"^mydb unchanged: cache still kept \(3 entries\)$")
        prog.wait_for(r"^\[reload\] applied: cache$")
        kept = prog.wait_for(LINE)
        assert (kept["cached"], kept["queries"]) == ("3", "3"), kept.string

        # mydb itself: the cache is cleared, the next lookups ask the new code.
        edit(project / "mydb.py", 'return f"{key}-v1"', 'return f"{key}-v2"')
        prog.wait_for(r"^mydb changed: cache cleared$")
        prog.wait_for(r"^\[reload\] applied: mydb$")
        fresh = prog.wait_for(LINE)
        assert (fresh["values"], fresh["cached"], fresh["queries"]) == (
            "alpha-v2, beta-v2, gamma-v2", "3", "6"), fresh.string
        steady = prog.wait_for(LINE)
        assert (steady["values"], steady["queries"]) == ("alpha-v2, beta-v2, gamma-v2", "6")
    finally:
        prog.close()

    handler_lines = [line for line in prog.out if line.startswith("mydb ")]
    assert handler_lines == [
        "mydb unchanged: cache kept (3 entries)",
        "mydb unchanged: cache still kept (3 entries)",
        "mydb changed: cache cleared",
    ], prog.out
