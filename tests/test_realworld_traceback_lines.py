"""Tracebacks after a save that moved code: the app-factory layout (Flask's
``create_app``, aiohttp's nested handlers) makes its views as closures when the
program starts. A save that adds lines above the factory (an import, a helper) moves
the factory's text; the views made from it must report their new lines, or a
traceback names the wrong line (here a blank one) and the IDE's traceback link
jumps there. Top-level functions and methods are moved (checked here too); a closure
made before the save kept its old line numbers."""

from __future__ import annotations

from pathlib import Path

from helpers_cli_run import CliRun
from helpers_session import write

APP = """
import traceback

ROUTES = {}


def create_app():
    def index():
        return "index"

    def broken():
        raise ValueError("broken view")

    ROUTES.update(index=index, broken=broken)


def handle(name):
    try:
        return ROUTES[name]()
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return f"error at line {frame.lineno}: {frame.line}"


def top():
    raise KeyError("top")


def where_top():
    try:
        top()
    except KeyError as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return f"top at line {frame.lineno}: {frame.line}"
"""

MAIN = """
import time

import app

app.create_app()
last = None
while True:
    text = app.handle("broken") + " | " + app.where_top()
    if text != last:
        print(text + "\\n", end="", flush=True)  # one write: hcride's lines (same pipe) never split it
        last = text
    time.sleep(0.05)
"""


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_closures_made_before_a_save_report_their_moved_lines(tmp_path: Path) -> None:
    write(tmp_path / "app.py", APP)
    write(tmp_path / "main.py", MAIN)
    source = (tmp_path / "app.py").read_text()
    run = CliRun(tmp_path / "main.py")
    try:
        run.wait_line(f"error at line {_line_of(source, 'broken view')}: "
                      'raise ValueError("broken view")')
        run.wait_line("connected")
        mark = len(run.lines)
        moved = source.replace("import traceback\n",
                               "import logging\nimport traceback\n\nlog = logging.getLogger()\n")
        write(tmp_path / "app.py", moved)
        run.wait_line("reloaded app v2", mark)
        # The first line printed after the save: between the save and the reload the
        # tracebacks quote the running text (the program prints nothing new), after it
        # the new lines at their new numbers; never the new file's text at old numbers.
        line = run.wait_line("top at line", mark)
        assert f"top at line {_line_of(moved, 'KeyError')}: raise KeyError" in line, line
        assert line.startswith(f"error at line {_line_of(moved, 'broken view')}: "
                               'raise ValueError("broken view")'), line
    finally:
        run.stop()
