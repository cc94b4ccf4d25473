"""The controller on this interpreter, the program on a newer CPython with nothing
installed in its venv, and a module written in syntax only the newer grammar has
(``def f[T]``, ``type X = ...``): saves apply, and a real syntax error is still refused
with its line (issue 11, item 1).

The newer interpreter: ``HCR_CROSS_PYTHON``, else the newest CPython newer than ours
found under ``~/.pyenv/versions`` or on ``PATH`` (``.ci/run`` sets it explicitly).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_session import Recorder, make_session, wait_loaded, write

from hcride.controller import events as ev
from hcride.controller.session import Session


def _version(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        major, minor = out.split()
        return int(major), int(minor)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def newer_python() -> str:
    """An interpreter whose grammar has PEP 695 (3.12+) and is newer than ours."""
    chosen = os.environ.get("HCR_CROSS_PYTHON")
    if chosen:
        return chosen
    candidates = [str(p) for p in Path.home().glob(".pyenv/versions/3.*/bin/python")]
    candidates += [w for n in ("3.12", "3.13", "3.14") if (w := shutil.which(f"python{n}"))]
    ours = sys.version_info[:2]
    found = [(v, c) for c in candidates if (v := _version(c)) and v > ours and v >= (3, 12)]
    if not found:
        pytest.fail(f"no CPython newer than {ours} with PEP 695 found: set HCR_CROSS_PYTHON")
    return max(found)[1]


MODERN = """
type Pair = tuple[int, int]


def first[T](items: list[T]) -> T:
    return items[0]


class Box[T]:
    def __init__(self, item: T) -> None:
        self.item = item

    def get(self) -> T:
        return self.item


def value() -> str:
    return first(["v1"]) + "/" + Box("box").get()
"""

MAIN = """
import sys
import time

import modern

print("python", *sys.version_info[:2], flush=True)
while True:
    print("value", modern.value(), flush=True)
    time.sleep(0.05)
"""


def test_new_syntax_module_edited_under_an_older_controller(
        tmp_path: Path, sessions: list[Session]) -> None:
    python = newer_python()
    version = _version(python)
    assert version is not None and version > sys.version_info[:2]
    subprocess.run([python, "-m", "venv", "--without-pip", str(tmp_path / ".venv")],
                   check=True, timeout=120)
    write(tmp_path / "modern.py", MODERN)
    write(tmp_path / "main.py", MAIN)
    rec = Recorder()
    session = make_session(tmp_path, rec, mode="auto")
    sessions.append(session)
    assert session.python == tmp_path / ".venv" / "bin" / "python"
    rec.wait_output("python {} {}".format(*version))
    wait_loaded(rec, "modern")
    rec.wait_output("value v1/box")

    # An unrelated edit of a module our grammar cannot parse: it applies.
    write(tmp_path / "modern.py", MODERN.replace('["v1"]', '["v2"]'))
    rec.wait_for(ev.ReloadApplied, lambda e: "modern" in e.result.reloaded)
    rec.wait_output("value v2/box")
    assert not rec.of(ev.BuildRejected), rec.dump()

    # A real syntax error is still refused, with its line, and the program runs on.
    write(tmp_path / "modern.py", MODERN.replace("return items[0]", "return items[0"))
    refused = rec.wait_for(ev.Event, lambda e: bool(getattr(getattr(e, "result", None),
                                                            "rejected", None)))
    assert refused.result.rejected[0].line == 5, rec.dump()
    count = rec.stdout().count("value v2/box")
    rec.wait_output("value v2/box" + "\nvalue v2/box" * (count + 2))
