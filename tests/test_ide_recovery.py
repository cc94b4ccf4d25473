"""Nothing is lost, nothing is silent (issue 10 item 8): unsaved buffers survive an IDE
killed with SIGKILL; Open Project and Quit ask before stopping a running program; the
Variables pane says "not running" when the program stops."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from hcride.ide import MainWindow

pytestmark = pytest.mark.gui
WAIT = 60_000
REPO = Path(__file__).resolve().parent.parent

IDE_SCRIPT = """\
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from hcride.ide import MainWindow

app = QApplication([])
project, ini, recovery = (Path(a) for a in sys.argv[1:4])
window = MainWindow(project=project, settings=QSettings(str(ini), QSettings.Format.IniFormat),
                    recovery_dir=recovery)
window.show()
editor = window.open_file(project / "logic.py")
editor.gotoPos(editor.textLength())
QTest.keyClicks(editor, "# typed before the crash")


def check():
    if window.recovery.writes:
        print("kept", flush=True)
    else:
        QTimer.singleShot(100, check)


QTimer.singleShot(100, check)
app.exec()
"""


def make_project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "main.py").write_text("import time\n\nimport logic\n\nwhile True:\n"
                                  "    logic.tick()\n    time.sleep(0.05)\n")  # fmt: skip
    (root / "logic.py").write_text("counter = 0\n\n\ndef tick():\n    global counter\n"
                                   "    counter += 1\n    print(counter, flush=True)\n")  # fmt: skip
    return root


def test_unsaved_buffer_survives_kill_9(qtbot, tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    ini, recovery = tmp_path / "settings.ini", tmp_path / "recovery"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-c", IDE_SCRIPT, str(project), str(ini), str(recovery)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "kept"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    assert "typed" not in (project / "logic.py").read_text(), "never saved"

    settings = QSettings(str(ini), QSettings.Format.IniFormat)
    window = MainWindow(project=project, settings=settings, recovery_dir=recovery)
    window.tabs.ask = lambda *a: "Discard"
    qtbot.addWidget(window)
    editor = window.tabs.editor_for(project / "logic.py")
    assert editor is not None and editor.is_modified
    assert editor.text().endswith("# typed before the crash")
    window.console_model.flush()
    assert "restored unsaved changes to logic.py" in window.console_model.text()
    assert "Restored" in window.statusBar().currentMessage()
    # nothing changed since: nothing is written again; saving drops the copy
    assert window.keep_unsaved() == 0
    window.actionSave.trigger()
    window.keep_unsaved()
    assert list(recovery.glob("*.json")) == []
    window.close()


def test_recovery_writes_only_after_edits(qtbot, tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(project=project, settings=settings, recovery_dir=tmp_path / "rec")
    window.tabs.ask = lambda *a: "Discard"
    qtbot.addWidget(window)
    editor = window.open_file(project / "logic.py")
    assert window.keep_unsaved() == 0, "unmodified: nothing kept"
    editor.set_text(editor.text() + "# one\n")
    assert window.keep_unsaved() == 1 and window.keep_unsaved() == 0
    editor.set_text(editor.text() + "# two\n")
    assert window.keep_unsaved() == 1
    assert len(list((tmp_path / "rec").glob("*.json"))) == 1
    editor.undo()
    editor.undo()
    assert not editor.is_modified
    window.keep_unsaved()
    assert list((tmp_path / "rec").glob("*.json")) == [], "reverted: the copy goes"
    window.close()


def test_open_project_and_quit_ask_before_stopping(qtbot, tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    other = make_project(tmp_path / "other")
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(project=project, settings=settings, recovery_dir=tmp_path / "rec")
    window.tabs.ask = lambda *a: "Discard"
    asked: list[str] = []
    answer = [False]
    window.ask_stop = lambda text: asked.append(text) or answer[0]
    qtbot.addWidget(window)
    window.show()
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: bool(window.state.running and window.state.modules), timeout=WAIT)
    window._show_module("logic")
    qtbot.waitUntil(lambda: window.variables_model.rowCount() > 0, timeout=WAIT)

    assert window.open_project(other) is False
    assert asked and "main.py is running" in asked[-1] and "Stop it?" in asked[-1]
    assert window.project == project.resolve() and window.state.running
    assert window.close() is False, "Quit cancelled: the window stays"
    assert window.state.running and len(asked) == 2

    window.actionStop.trigger()
    qtbot.waitUntil(lambda: not window.state.running, timeout=WAIT)
    assert window.variables_model.rowCount() == 0
    assert window.variables_pane.title.text() == "Not running (stopped)"
    answer[0] = True
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: window.state.running, timeout=WAIT)
    pid = window.state.pid
    assert window.open_project(other) is True and window.project == other.resolve()
    assert len(asked) == 3 and window.variables_pane.title.text().startswith("Not running")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the program was not stopped")
    window.close()
