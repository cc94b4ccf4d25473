"""A script run from inside its own package folder, as aiohttp-demos' chat says to
(``cd aiohttpdemo_chat; python main.py``, the package installed with ``pip install
-e``; here ``PYTHONPATH`` plays the install). The script's folder is ``sys.path[0]``,
so the script's ``import util`` and the package's ``from shop.util import fmt`` load
the same file twice, as ``util`` and as ``shop.util``: two module objects, both
running. A save of ``util.py`` must reach both, or half the program keeps the old
code (the controller used to send the build for the name it heard last). The same
without a controller, for a program that polls with ``perform_code_reload()``.
"""

from __future__ import annotations

from pathlib import Path

from helpers_cli_run import CliRun
from helpers_session import write

UTIL = """
def fmt(x):
    return f"<{x}> v1"
"""

VIEWS = """
from shop.util import fmt


def render(x):
    return "views " + fmt(x)
"""

MAIN = """
import time

import util
from shop import views

last = None
while True:
    text = "main " + util.fmt(1) + " | " + views.render(2)
    if text != last:
        print(text + "\\n", end="", flush=True)  # one write: hcride's lines (same pipe) never split it
        last = text
    time.sleep(0.05)
"""


def test_a_module_imported_under_two_names_gets_each_save(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    for rel, text in {"__init__.py": "", "util.py": UTIL, "views.py": VIEWS,
                      "main.py": MAIN}.items():
        write(shop / rel, text)
    run = CliRun(shop / "main.py", PYTHONPATH=str(tmp_path))
    try:
        run.wait_line("main <1> v1 | views <2> v1")
        run.wait_line("connected")
        mark = len(run.lines)
        write(shop / "util.py", UTIL.replace("v1", "v2"))
        run.wait_line("reloaded", mark)
        # One batch: the first line printed after it shows both names on the new code.
        assert run.wait_line("<2> v2", mark) == "main <1> v2 | views <2> v2", run.lines[mark:]
    finally:
        out = run.stop()
    assert "Traceback" not in out, out
    assert "build 1: shop.util, util checked" in out or "build 1: util, shop.util checked" in out, out


POLLING_MAIN = """
import time

import util
from shop import views
from hcride import hotcodereloading as hcr

last = None
while True:
    hcr.perform_code_reload()
    text = "main " + util.fmt(1) + " | " + views.render(2)
    if text != last:
        print(text + "\\n", end="", flush=True)  # one write: hcride's lines (same pipe) never split it
        last = text
    time.sleep(0.05)
"""


def test_a_module_imported_under_two_names_polling_without_a_controller(
        tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    for rel, text in {"__init__.py": "", "util.py": UTIL, "views.py": VIEWS,
                      "main.py": POLLING_MAIN}.items():
        write(shop / rel, text)
    run = CliRun(shop / "main.py", watch=False, PYTHONPATH=str(tmp_path))
    try:
        run.wait_line("main <1> v1 | views <2> v1")
        mark = len(run.lines)
        write(shop / "util.py", UTIL.replace("v1", "v2"))
        run.wait_line("reloaded", mark)
        assert run.wait_line("<2> v2", mark) == "main <1> v2 | views <2> v2", run.lines[mark:]
    finally:
        out = run.stop()
    assert "Traceback" not in out, out
