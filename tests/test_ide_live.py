"""Beyond reloads, with a real program (issue 10 items 10-12): the live console runs
code in a module at a safe point; a stale global's new initializer runs on request;
a reload is reverted from its log row as a new reload."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from hcride.ide import MainWindow
from hcride.ide.live import initializer
from hcride.ide.models.reload_log import ResultRole

pytestmark = pytest.mark.gui
WAIT = 60_000

MAIN = """\
import time

import logic

while True:
    logic.tick()
    time.sleep(0.05)
"""

LOGIC = """\
SPEED = 10
counter = 0


class Sprite:
    LIMIT: int = 3


def tick():
    global counter
    counter += 1
    print(f"hello {counter} speed {SPEED}", flush=True)
"""


@pytest.fixture
def window(qtbot, tmp_path: Path) -> Iterator[MainWindow]:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "main.py").write_text(MAIN)
    (project / "logic.py").write_text(LOGIC)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(project=project, settings=settings, recovery_dir=tmp_path / "rec")
    win.tabs.ask = lambda *a: "Discard"
    win.ask_stop = lambda text: True
    qtbot.addWidget(win)
    win.show()
    win.actionRun.trigger()
    qtbot.waitUntil(lambda: "hello" in win.console_model.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: "logic" in win.state.modules, timeout=WAIT)
    yield win
    win.close()


def rows(window: MainWindow) -> list[str]:
    window.console_model.flush()
    return window.console_model.text().splitlines()


def results(window: MainWindow) -> list[str]:
    model = window.log_model
    return [model.index(r, 0).data(ResultRole) for r in range(model.rowCount())]


def variable(window: MainWindow, name: str) -> tuple[str, str] | None:
    model = window.variables_model
    for r in range(model.rowCount()):
        if model.index(r, 0).data() == name:
            return model.index(r, 2).data(), model.index(r, 3).data()
    return None


def save(window: MainWindow, old: str, new: str) -> None:
    editor = window.open_file(window.project / "logic.py")
    editor.set_text(editor.text().replace(old, new))
    window.actionSave.trigger()


def test_initializer_text() -> None:
    assert initializer(LOGIC, "SPEED") == "SPEED = 10"
    assert initializer(LOGIC, "Sprite.LIMIT") == "Sprite.LIMIT = 3"
    assert initializer(LOGIC, "missing") is None
    assert initializer("x = (1,\n     2)\n", "x") == "x = (1,\n     2)"


def test_live_console_runs_code_in_a_module(qtbot, window: MainWindow) -> None:
    pane = window.console_pane
    qtbot.waitUntil(lambda: pane.live_module.findText("logic") >= 0, timeout=WAIT)
    pane.live_module.setCurrentText("logic")
    QTest.keyClicks(pane.live_input, "SPEED * 4 + 2")
    QTest.keyClick(pane.live_input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "= 42   (int)" in rows(window), timeout=WAIT)
    assert "» logic: SPEED * 4 + 2" in rows(window)

    # a statement changes the program's state; the Variables pane shows it
    window._show_module("logic")
    QTest.keyClicks(pane.live_input, "counter = -1000000")
    QTest.keyClick(pane.live_input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "✓ done" in rows(window), timeout=WAIT)
    qtbot.waitUntil(lambda: any(r.startswith("hello -99") for r in rows(window)), timeout=WAIT)
    qtbot.waitUntil(lambda: (variable(window, "counter") or ("0",))[0].startswith("-99"),
                    timeout=WAIT)  # fmt: skip

    # an exception is shown, the program runs on
    QTest.keyClicks(pane.live_input, "1 / 0")
    QTest.keyClick(pane.live_input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "ZeroDivisionError: division by zero" in rows(window),
                    timeout=WAIT)  # fmt: skip
    count = len(rows(window))
    qtbot.waitUntil(lambda: len(rows(window)) > count + 3, timeout=WAIT)
    assert window.state.running


def test_stale_global_new_initializer_on_request(qtbot, window: MainWindow) -> None:
    save(window, "SPEED = 10", "SPEED = 20")
    qtbot.waitUntil(lambda: "applied" in results(window), timeout=WAIT)
    window._show_module("logic")
    qtbot.waitUntil(lambda: variable(window, "SPEED") is not None, timeout=WAIT)
    assert variable(window, "SPEED") == ("10", "stale")
    row = next(r for r in range(window.variables_model.rowCount())
               if window.variables_model.index(r, 0).data() == "SPEED")  # fmt: skip
    assert window.variables_pane.stale_name(window.variables_model.index(row, 0)) == "SPEED"
    assert any(r.endswith("speed 10") for r in rows(window)), "the live value is the old one"

    window.variables_pane.run_initializer.emit("SPEED")
    qtbot.waitUntil(lambda: any(r.endswith("speed 20") for r in rows(window)), timeout=WAIT)
    qtbot.waitUntil(lambda: "initializer run" in results(window), timeout=WAIT)
    qtbot.waitUntil(lambda: variable(window, "SPEED") == ("20", "re-initialized"),
                    timeout=WAIT)  # fmt: skip


def test_revert_a_reload_from_its_log_row(qtbot, window: MainWindow) -> None:
    save(window, 'f"hello {counter}', 'f"bye {counter}')
    qtbot.waitUntil(lambda: any(r.startswith("bye") for r in rows(window)), timeout=WAIT)
    qtbot.waitUntil(lambda: "applied" in results(window), timeout=WAIT)  # output comes first
    applied = results(window).index("applied")
    assert window.revert_reload(applied) is True
    assert (window.project / "logic.py").read_text() == LOGIC, "the file is back"
    assert not window.editor().is_modified and window.editor().text() == LOGIC
    qtbot.waitUntil(lambda: results(window).count("applied") == 2, timeout=WAIT)
    last_bye = max(i for i, r in enumerate(rows(window)) if r.startswith("bye"))
    qtbot.waitUntil(lambda: any(r.startswith("hello") for r in rows(window)[last_bye:]),
                    timeout=WAIT)  # fmt: skip
    assert window.state.running
