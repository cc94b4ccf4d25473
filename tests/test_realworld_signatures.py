"""Decorators that read a function's parameters when they run: FastAPI builds a route's
query and body parameters from them, ``functools.singledispatch``'s ``register``
takes the type from the first parameter's annotation, discord.py a command's
arguments. hcride runs decorators once (a body edit patches the registered
function), so a changed signature under unchanged decorators is patched but the
framework keeps the old one: tried on FastAPI, ``?verbose=true`` added to a route was
silently ignored. The build says so, naming the function (and nothing is said for a
body edit or for an undecorated function).

Here with the standard library's ``singledispatch``: a pretty-printer whose ``int``
implementation is changed to take ``float``; dispatch stays on ``int``, as the notice
says, until a restart."""

from __future__ import annotations

from pathlib import Path

from helpers_cli_run import CliRun
from helpers_session import write

PRETTY = """
from functools import singledispatch


@singledispatch
def pretty(value):
    return repr(value)


@pretty.register
def _(value: int):
    return f"int {value}"


@pretty.register
def _(value: list):
    return "[" + ", ".join(pretty(v) for v in value) + "]"


def total(values, start=0):
    return sum(values, start)
"""

MAIN = """
import time

import pretty

last = None
while True:
    text = pretty.pretty([1, 2.5]) + " total " + str(pretty.total([1, 2]))
    if text != last:
        print(text + "\\n", end="", flush=True)  # one write: hcride's lines (same pipe) never split it
        last = text
    time.sleep(0.05)
"""


def test_a_changed_signature_under_decorators_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "pretty.py", PRETTY)
    write(tmp_path / "main.py", MAIN)
    run = CliRun(tmp_path / "main.py")
    try:
        run.wait_line("[int 1, 2.5] total 3")
        run.wait_line("connected")
        # A body edit of a registered function, and a new parameter of a plain one.
        mark = len(run.lines)
        edited = PRETTY.replace('f"int {value}"', 'f"i{value}"').replace(
            "def total(values, start=0):", "def total(values, start=0, scale=1):").replace(
            "return sum(values, start)", "return sum(values, start) * scale")
        write(tmp_path / "pretty.py", edited)
        run.wait_line("[i1, 2.5] total 3", mark)
        # The int implementation now says it takes float.
        mark = len(run.lines)
        write(tmp_path / "pretty.py", edited.replace("def _(value: int):", "def _(value: float):"))
        line = run.wait_line("parameters of", mark)
        assert line.startswith("hcride: pretty: the parameters of _() changed, but its "
                               "decorators ran once"), line
        assert "restart to register it again" in line, line
        run.wait_line("reloaded pretty v3", mark)
    finally:
        out = run.stop()
    assert out.count("parameters of") == 1, out
    # What the notice warns of: dispatch is still by int.
    assert out.splitlines().count("[i1, 2.5] total 3") == 1, out
