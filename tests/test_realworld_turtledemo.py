"""CPython's own turtledemo clock (``turtledemo/clock.py`` of the CPython the program
runs on, copied unchanged into a project) runs under ``hcride run --watch`` on a private
X server, idle in Tk's ``mainloop()`` with its ``ontimer`` tick, while a developer
edits it.

The module starts with ``from turtle import *`` and then defines its own ``setup()``,
shadowing turtle's. Imports run again at every reload (they are declarations), but
a name the module binds after the import must keep the module's own binding, as a
fresh run would have it: after a reload ``clock.setup`` is still the clock's.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from conftest import PROGRAM_PYTHON, require_on_program
from helpers_cli_run import CliRun
from helpers_xvfb import xvfb_display

MAIN = """
import sys

import clock

clock.mode("logo")
clock.main()


def report():
    day = clock.datum(clock.datetime(2026, 11, 25))
    line = (f"setup from {clock.setup.__module__} | stamp from {clock.stamp.__module__}"
            f" | datum {day}\\n")
    sys.stdout.write(line)  # one write: never split by the runtime's own lines
    sys.stdout.flush()
    clock.ontimer(report, 100)


report()
clock.mainloop()
"""


def test_turtledemo_clock_edited_while_ticking(tmp_path: Path) -> None:
    require_on_program("tkinter")
    # The clock of the CPython the program runs on (``PROGRAM_PYTHON``), as a user has it.
    folder = subprocess.run(
        [PROGRAM_PYTHON, "-c", "import os, turtledemo; print(os.path.dirname(turtledemo.__file__))"],
        capture_output=True, text=True, check=True).stdout.strip()
    source = (Path(folder) / "clock.py").read_text(encoding="utf-8")
    assert "from turtle import *" in source and "\ndef setup():" in source
    (tmp_path / "clock.py").write_text(source, encoding="utf-8")
    (tmp_path / "main.py").write_text(MAIN, encoding="utf-8")
    with xvfb_display() as display:
        run = CliRun(tmp_path / "main.py", DISPLAY=display)
        try:
            run.wait_line("setup from clock | stamp from turtle | datum Nov. 25 2026")
            time.sleep(0.5)  # the watcher is up before the first save
            clock = tmp_path / "clock.py"
            # 1. A function body: the next tick shows it; turtle's import ran again
            #    but the clock's own setup() keeps its name.
            source = source.replace('return "%s %d %d" % (m, t, j)',
                                    'return "%s %d, %d" % (m, t, j)')
            mark = len(run.lines)
            clock.write_text(source, encoding="utf-8")
            line = run.wait_line("datum Nov. 25, 2026", mark)
            assert line.startswith("setup from clock |"), line
            # 2. A new function shadowing one of turtle's names, used by the edited body.
            source = source.replace("def datum(z):", 'def stamp():\n    return "(mine)"\n\n'
                                    "def datum(z):")
            source = source.replace('return "%s %d, %d" % (m, t, j)',
                                    'return "%s %d, %d %s" % (m, t, j, stamp())')
            mark = len(run.lines)
            clock.write_text(source, encoding="utf-8")
            line = run.wait_line("datum Nov. 25, 2026 (mine)", mark)
            assert line.startswith("setup from clock | stamp from clock |"), line
            report = run.wait_line("hcride: reloaded clock", mark)
            assert "1 patched, 1 added" in report, report  # stamp is new, not turtle's
            # 3. Another body edit: neither shadowing name goes back to turtle's.
            source = source.replace('"(mine)"', '"(mine v2)"')
            mark = len(run.lines)
            clock.write_text(source, encoding="utf-8")
            line = run.wait_line("(mine v2)", mark)
            assert line.startswith("setup from clock | stamp from clock |"), line
        finally:
            out = run.stop()
    assert "rejected" not in out and "rolled back" not in out and "Traceback" not in out, out


SETTINGS = """
import functools
from json import dumps

dumps = functools.partial(dumps, sort_keys=True)


def render(data):
    return "v1 " + dumps(data)
"""


def test_a_global_that_wraps_an_imported_name_keeps_its_value(start) -> None:
    """``from json import dumps`` then ``dumps = partial(dumps, ...)``: the import runs
    again at each reload, the preserved global keeps the wrapped value."""
    prog = start({"settings.py": SETTINGS}, "import settings")
    assert prog.eval("settings.render({'b': 1, 'a': 2})") == 'v1 {"a": 2, "b": 1}'
    prog.write("settings.py", SETTINGS.replace('"v1 "', '"v2 "'))
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("settings.render({'b': 1, 'a': 2})") == 'v2 {"a": 2, "b": 1}'
    assert prog.eval("type(settings.dumps).__name__") == "partial"
