"""The IDE driving a real program: run, edit, save, reload, reject, fix, stop, crash."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtGui import QAction

from hcride.ide import MainWindow
from hcride.ide.models.console import StreamRole
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
from dataclasses import dataclass

counter = 0


@dataclass
class Ball:
    x: int = 0


def tick():
    global counter
    counter += 1
    print(f"hello {counter}", flush=True)
"""


def write_project(root: Path, main: str = MAIN, logic: str = LOGIC) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.py").write_text(textwrap.dedent(main))
    (root / "logic.py").write_text(textwrap.dedent(logic))
    return root


@pytest.fixture
def make_window(qtbot, tmp_path: Path) -> Iterator:
    windows: list[MainWindow] = []

    def make(project: Path) -> MainWindow:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(project=project, settings=settings)
        window.tabs.ask = lambda title, text, choices: "Discard"
        window.ask_stop = lambda text: True
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.tabs.ask = lambda title, text, choices: "Discard"
        window.close()


def log_results(window: MainWindow) -> list[str]:
    model = window.log_model
    return [model.index(r, 0).data(ResultRole) for r in range(model.rowCount())]


def log_texts(window: MainWindow, row: int) -> list[str]:
    """Every detail line under a log row, depth first."""
    model = window.log_model
    out: list[str] = []
    stack = [model.index(row, 0)]
    while stack:
        idx = stack.pop()
        for r in range(model.rowCount(idx) - 1, -1, -1):
            child = model.index(r, 0, idx)
            out.append(child.data())
            stack.append(child)
    return out


def tree_state(window: MainWindow, name: str) -> tuple[str, str]:
    model = window.tree_model
    stack = [QModelIndex()]
    while stack:
        parent = stack.pop()
        for r in range(model.rowCount(parent)):
            idx = model.index(r, 0, parent)
            if idx.data() in (name, f"{name}.py"):
                return model.index(r, 1, parent).data(), model.index(r, 2, parent).data()
            stack.append(idx)
    return "", ""


def variable(window: MainWindow, name: str) -> tuple[str, str] | None:
    view = window.variables_pane.view
    model = view.model()
    for r in range(model.rowCount()):
        if model.index(r, 0).data() == name:
            return model.index(r, 2).data(), model.index(r, 3).data()
    return None


def run_and_wait(qtbot, window: MainWindow) -> None:
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: "hello" in window.console_model.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: tree_state(window, "logic")[1] == "unchanged", timeout=WAIT)


def test_edit_save_reload_preserves_globals(qtbot, make_window, tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj")
    window = make_window(project)
    assert window.findChild(object, "moduleTree") is not None
    run_and_wait(qtbot, window)
    assert tree_state(window, "logic") == ("v1", "unchanged")
    assert tree_state(window, "main")[1] == "main script"

    editor = window.open_file(project / "logic.py")
    assert window.findChild(type(editor), "editor") is editor
    editor.set_text(editor.text().replace('f"hello {counter}"', 'f"bye {counter}"'))
    assert editor.is_modified
    window.actionSave.trigger()
    assert not editor.is_modified
    qtbot.waitUntil(lambda: "applied" in log_results(window), timeout=WAIT)
    qtbot.waitUntil(lambda: "bye" in window.console_model.text(), timeout=WAIT)
    assert tree_state(window, "logic") == ("v2", "reloaded")
    row = log_results(window).index("applied")
    assert any(t.startswith("patched: ") and "tick" in t for t in log_texts(window, row))
    assert any(t.startswith("preserved: ") and "counter" in t for t in log_texts(window, row))
    # the preserved counter kept counting: its live value is large, not reset to 0
    window._show_module("logic")
    qtbot.waitUntil(lambda: variable(window, "counter") is not None, timeout=WAIT)
    value, mark = variable(window, "counter")
    assert int(value) > 1 and mark == "preserved"
    # the editor's undo brings the old text back (set_text is undoable)
    editor.undo()
    assert 'f"hello {counter}"' in editor.text()


def test_rejected_shape_change_then_fixed(qtbot, make_window, tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj")
    window = make_window(project)
    run_and_wait(qtbot, window)
    editor = window.open_file(project / "logic.py")
    original = editor.text()
    editor.set_text(original.replace("    x: int = 0\n", "    x: int = 0\n    speed: int = 1\n"))
    window.actionSave.trigger()
    qtbot.waitUntil(lambda: "rejected" in log_results(window), timeout=WAIT)
    row = log_results(window).index("rejected")
    texts = log_texts(window, row)
    assert any("Ball" in t for t in texts), texts
    assert any("speed" in t for t in texts), texts
    assert tree_state(window, "logic")[1] == "rejected"
    qtbot.waitUntil(lambda: bool(editor.problem_lines), timeout=WAIT)
    line = editor.problem_lines[0]
    assert "speed" in editor.annotation(line)
    assert "Ball" in editor.text().splitlines()[line - 1] or line > 1
    # the program still runs the old code
    count = window.console_model.rowCount()
    qtbot.waitUntil(lambda: window.console_model.rowCount() > count + 2, timeout=WAIT)
    assert window.state.running
    # revert and save: applies, marks cleared
    editor.set_text(original.replace('f"hello {counter}"', 'f"fixed {counter}"'))
    window.actionSave.trigger()
    qtbot.waitUntil(lambda: "applied" in log_results(window), timeout=WAIT)
    qtbot.waitUntil(lambda: "fixed" in window.console_model.text(), timeout=WAIT)
    assert tree_state(window, "logic")[1] == "reloaded"
    assert editor.problem_lines == []


def test_syntax_error_marked_and_program_runs_on(qtbot, make_window, tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj")
    window = make_window(project)
    run_and_wait(qtbot, window)
    editor = window.open_file(project / "logic.py")
    editor.set_text(editor.text().replace("def tick():", "def tick(:"))
    window.actionSave.trigger()
    qtbot.waitUntil(lambda: "rejected" in log_results(window), timeout=WAIT)
    assert tree_state(window, "logic")[1] == "error"
    qtbot.waitUntil(lambda: bool(editor.problem_lines), timeout=WAIT)
    line = editor.problem_lines[0]
    assert "def tick(:" in editor.text().splitlines()[line - 1]
    assert editor.annotation(line)
    # activating the log row opens the file at the error's line
    row = log_results(window).index("rejected")
    window._on_log_activated(window.log_model.index(row, 0))
    assert window.editor() is editor and editor.current_line() == line
    count = window.console_model.rowCount()
    qtbot.waitUntil(lambda: window.console_model.rowCount() > count + 2, timeout=WAIT)


def test_stop_restart_and_unsaved_text_kept(qtbot, make_window, tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj")
    window = make_window(project)
    run_and_wait(qtbot, window)
    editor = window.open_file(project / "logic.py")
    editor.set_text(editor.text() + "\n# unsaved note\n")
    window.actionStop.trigger()
    qtbot.waitUntil(lambda: not window.state.running, timeout=WAIT)
    assert "stopped" in log_results(window)
    assert window.status_run.text().startswith("○")
    assert tree_state(window, "logic")[1] == ""
    assert editor.is_modified and "# unsaved note" in editor.text()
    window.actionRestart.trigger()
    qtbot.waitUntil(lambda: window.state.running, timeout=WAIT)
    qtbot.waitUntil(lambda: log_results(window).count("started") == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: tree_state(window, "logic")[1] == "unchanged", timeout=WAIT)
    window.actionRestart.trigger()
    qtbot.waitUntil(lambda: log_results(window).count("started") == 3, timeout=WAIT)
    assert window.editor() is editor
    assert editor.is_modified and "# unsaved note" in editor.text()


CRASHING_MAIN = """\
import sys
import time

import logic

for _ in range(3):
    logic.tick()
    time.sleep(0.05)
print("going down", file=sys.stderr, flush=True)
sys.exit(3)
"""


def test_crash_reports_exit_code_and_keeps_unsaved_text(qtbot, make_window, tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj", main=CRASHING_MAIN)
    window = make_window(project)
    editor = window.open_file(project / "logic.py")
    editor.set_text(editor.text() + "\n# work in progress\n")
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: any("code 3" in r for r in log_results(window)), timeout=WAIT)
    assert "exited with code 3" in window.status_run.text()
    qtbot.waitUntil(lambda: "going down" in window.console_model.text(), timeout=WAIT)
    qtbot.waitUntil(
        lambda: "program exited with code 3" in window.console_model.text(), timeout=WAIT
    )
    rows = window.console_model
    streams = {rows.index(r).data(): rows.index(r).data(StreamRole) for r in range(rows.rowCount())}
    assert streams["going down"] == "stderr" and streams["hello 1"] == "stdout"
    assert rows.index(list(streams).index("going down")).data(Qt.ItemDataRole.ForegroundRole)
    assert editor.is_modified and "# work in progress" in editor.text()
    assert window.actionRun.isEnabled()


def test_reload_mode_manual_waits_for_reload_now(qtbot, make_window, tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj")
    window = make_window(project)
    assert window.reload_mode == "detect" and window.mode_actions["detect"].isChecked()
    assert window.status_mode.text() == "detect mode"
    window.findChild(QAction, "actionModeManual").trigger()
    assert window.reload_mode == "manual" and not window.mode_actions["detect"].isChecked()
    assert window.status_mode.text() == "manual mode"
    run_and_wait(qtbot, window)
    assert window.driver.session.requested_mode == "manual"
    manual = "manual mode (chosen in Run > Reload Mode)"
    qtbot.waitUntil(lambda: window.status_mode.text() == manual, timeout=WAIT)

    editor = window.open_file(project / "logic.py")
    editor.set_text(editor.text().replace('f"hello {counter}"', 'f"bye {counter}"'))
    window.actionSave.trigger()
    qtbot.waitUntil(lambda: tree_state(window, "logic")[1] == "build pending", timeout=WAIT)
    count = window.console_model.rowCount()
    qtbot.waitUntil(lambda: window.console_model.rowCount() > count + 5, timeout=WAIT)
    assert "bye" not in window.console_model.text(), "manual mode: not applied on save"
    assert "applied" not in log_results(window)
    assert tree_state(window, "logic") == ("v1", "build pending")

    window.actionReload.trigger()  # F9
    qtbot.waitUntil(lambda: "applied" in log_results(window), timeout=WAIT)
    qtbot.waitUntil(lambda: "bye" in window.console_model.text(), timeout=WAIT)
    assert tree_state(window, "logic") == ("v2", "reloaded")

    # another mode is shown as the one a restart will use, and is kept per project
    window.set_reload_mode("auto")
    assert window.status_mode.text() == f"{manual} (auto on restart)"
    window.actionRestart.trigger()
    qtbot.waitUntil(lambda: log_results(window).count("started") == 2, timeout=WAIT)
    auto = "auto mode (chosen in Run > Reload Mode)"
    qtbot.waitUntil(lambda: window.status_mode.text() == auto, timeout=WAIT)
    assert window.driver.session.requested_mode == "auto"
    window.set_reload_mode("detect")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert settings.value(window._key("reload_mode")) == "detect"
