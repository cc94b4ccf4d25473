"""Run configuration "Module (python -m)": a packaged app (a src layout, started as
``python -m app.server``) run from the IDE, as the user does it: the dialog, the
toolbar, Run, the console, a save of an imported module (applied), a save of the
module itself (restart needed, as for a main script), an unknown module (refused with
the reason, nothing starts), and a configuration saved before modules existed (loads,
as a script)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import hashlib
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel, QWidget
from test_ide_run_config import fake_venv

from hcride.controller.state import norm
from hcride.ide import MainWindow
from hcride.ide.models.reload_log import ResultRole
from hcride.ide.run_config import RunConfig, RunConfigDialog

pytestmark = pytest.mark.gui
WAIT = 60_000

SERVER = """\
import sys
import time

from . import util

print("argv", sys.argv[1:], flush=True)
print("file", __file__, __spec__.name, flush=True)
last = None
while True:
    text = util.fmt(1)
    if text != last:
        print(text, flush=True)
        last = text
    time.sleep(0.05)
"""

UTIL = "def fmt(x):\n    return f'<{x}> v1'\n"


def src_project(root: Path) -> Path:
    """A package in a src layout: ``src/app/{__init__,server,util}.py``."""
    package = root / "src" / "app"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "server.py").write_text(SERVER)
    (package / "util.py").write_text(UTIL)
    (root / "README.md").write_text("an app\n")
    return root


def make_window(qtbot, project: Path, ini: Path) -> MainWindow:
    window = MainWindow(project=project, settings=QSettings(str(ini), QSettings.Format.IniFormat))
    window.tabs.ask = lambda *a: "Discard"
    window.ask_stop = lambda text: True
    qtbot.addWidget(window)
    window.show()
    return window


def tree_status(window: MainWindow, path: Path) -> str:
    index = window.tree_model.index_for_path(path)
    assert index.isValid(), path
    return str(index.siblingAtColumn(2).data())


def log_results(window: MainWindow) -> list[str]:
    model = window.log_model
    return [model.index(r, 0).data(ResultRole) for r in range(model.rowCount())]


def clipped_labels(dialog: QWidget) -> list[str]:
    """The visible labels narrower than their text."""
    return [
        label.text() for label in dialog.findChildren(QLabel)
        if label.isVisible() and label.text() and not label.wordWrap()
        and label.width() < label.sizeHint().width()
    ]  # fmt: skip


def test_a_src_layout_package_runs_as_a_module(qtbot, tmp_path: Path) -> None:
    project = src_project(tmp_path / "proj")
    fake_venv(project)  # the module is looked for by the program's interpreter
    window = make_window(qtbot, project, tmp_path / "settings.ini")
    server = (project / "src" / "app" / "server.py").resolve()
    shots: list[Path] = []

    def fill(config: RunConfig, proj: Path) -> RunConfig | None:
        dialog = RunConfigDialog(config, proj, window)
        dialog.show()
        assert dialog.kind.currentText() == "Script", "a new project runs a script"
        assert dialog.script.isVisible() and not dialog.module.isVisible()
        dialog.kind.setCurrentIndex(dialog.kind.findData("module"))
        assert dialog.module.isVisible() and not dialog.script.isVisible()
        dialog.module.setText("app.server")
        dialog.args.setText("--port 8000")
        dialog.accept()  # not found: src is not on the path yet
        assert dialog.result() != RunConfigDialog.DialogCode.Accepted, "refused"
        errors = dialog.errors.text()
        assert f"No module named 'app.server' in {proj}" in errors, errors
        assert "a src layout? Set the working folder to src, or PYTHONPATH=src" in errors
        dialog.env.setPlainText("PYTHONPATH=src\n")
        dialog.adjustSize()
        qtbot.wait(50)
        assert clipped_labels(dialog) == []
        shot = tmp_path / "run-config-module.png"
        assert dialog.grab().save(str(shot))
        shots.append(shot)
        dialog.accept()
        assert dialog.result() == RunConfigDialog.DialogCode.Accepted, dialog.errors.text()
        return dialog.config()[0]

    window.ask_run_config = fill
    window.run_config_button.click()
    assert shots and shots[0].stat().st_size > 0
    assert window.run_config_button.text() == "-m app.server --port 8000 · .venv/bin/python · detect"
    assert window.main_script() == server, "the module's file is the main script"

    window.actionRun.trigger()
    qtbot.waitUntil(lambda: "<1> v1" in window.console_model.text(), timeout=WAIT)
    text = window.console_model.text()
    assert "argv ['--port', '8000']" in text
    assert f"file {server} app.server" in text
    qtbot.waitUntil(lambda: window.state.modules.get("app.util") is not None
                    and window.state.modules["app.util"].loaded, timeout=WAIT)  # fmt: skip
    assert tree_status(window, server) == "main script"
    assert tree_status(window, project / "src" / "app" / "util.py") == "unchanged"

    editor = window.open_file(project / "src" / "app" / "util.py")
    editor.set_text(editor.text().replace("v1", "v2"))
    window.actionSave.trigger()
    qtbot.waitUntil(lambda: "applied" in log_results(window), timeout=WAIT)
    qtbot.waitUntil(lambda: "<1> v2" in window.console_model.text(), timeout=WAIT)
    assert tree_status(window, project / "src" / "app" / "util.py") == "reloaded"

    editor = window.open_file(server)
    editor.set_text(editor.text().replace("0.05", "0.06"))
    window.actionSave.trigger()
    qtbot.waitUntil(lambda: tree_status(window, server) == "restart needed", timeout=WAIT)
    qtbot.waitUntil(lambda: "restart needed" in log_results(window), timeout=WAIT)
    window.actionRestart.trigger()  # the module again, with its new text
    qtbot.waitUntil(lambda: window.console_model.text().count(f"file {server} app.server") == 2,
                    timeout=WAIT)  # fmt: skip
    qtbot.waitUntil(lambda: tree_status(window, server) == "main script", timeout=WAIT)
    window.actionStop.trigger()
    qtbot.waitUntil(lambda: not window.state.running, timeout=WAIT)
    window.close()

    # kept in the project's settings: the module, and Run starts it again
    again = make_window(qtbot, project, tmp_path / "settings.ini")
    config = again.run_config()
    assert (config.kind, config.module, config.args) == ("module", "app.server", "--port 8000")
    assert Path(config.script) == server
    again.actionRun.trigger()
    qtbot.waitUntil(lambda: "<1> v2" in again.console_model.text(), timeout=WAIT)
    again.actionStop.trigger()
    qtbot.waitUntil(lambda: not again.state.running, timeout=WAIT)
    again.close()


def test_an_unknown_module_is_refused_and_nothing_starts(qtbot, tmp_path: Path) -> None:
    project = src_project(tmp_path / "proj")
    window = make_window(qtbot, project, tmp_path / "settings.ini")
    asked: list[RunConfig] = []
    window.ask_run_config = lambda config, proj: asked.append(config) or None
    window.set_run_config(window.run_config().with_(
        kind="module", module="app.nope", script="", cwd=str(project / "src")))
    window.actionRun.trigger()
    window.console_model.flush()
    text = window.console_model.text()
    assert "hcride: cannot run: No module named 'app.nope'." in text, text
    assert len(asked) == 1 and asked[0].module == "app.nope", "the dialog opened instead"
    assert not window.driver.running and not window.state.running

    # a package without __main__.py: python -m cannot run it either
    dialog = RunConfigDialog(window.run_config().with_(module="app"), project, window)
    dialog.accept()
    assert dialog.result() != RunConfigDialog.DialogCode.Accepted
    assert "app is a package and has no __main__.py" in dialog.errors.text()
    dialog.module.setText("")
    dialog.accept()
    assert "Choose a module" in dialog.errors.text()
    dialog.module.setText("app.server")
    dialog.accept()
    assert dialog.result() == RunConfigDialog.DialogCode.Accepted, dialog.errors.text()
    window.close()


def test_a_configuration_saved_before_modules_loads_as_a_script(qtbot, tmp_path: Path) -> None:
    """The settings an older hcride wrote (no kind, no module) run the script."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "main.py").write_text("print('main')\n")
    (project / "tool.py").write_text("import sys\nprint('tool', sys.argv[1:])\n")
    ini = tmp_path / "settings.ini"
    old = QSettings(str(ini), QSettings.Format.IniFormat)
    prefix = f"projects/{hashlib.sha1(norm(project).encode()).hexdigest()[:12]}/"
    old.setValue(prefix + "main", norm(project / "tool.py"))
    old.setValue(prefix + "args", "a b")
    old.setValue(prefix + "env", '{"GREETING": "hi"}')
    old.setValue(prefix + "reload_mode", "auto")
    old.sync()
    del old

    window = make_window(qtbot, project, ini)
    config = window.run_config()
    assert (config.kind, config.module) == ("script", "")
    assert Path(config.script) == project / "tool.py"
    assert (config.args, config.env, config.mode) == ("a b", {"GREETING": "hi"}, "auto")
    assert window.run_config_button.text() == "tool.py a b · IDE's python · auto"
    dialog = RunConfigDialog(config, project, window)
    assert dialog.kind.currentData() == "script" and dialog.script.text() == "tool.py"
    dialog.show()
    assert dialog.script.isVisible() and not dialog.module.isVisible()
    assert clipped_labels(dialog) == []
    assert dialog.grab().save(str(tmp_path / "run-config-script.png"))
    dialog.close()
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: "tool ['a', 'b']" in window.console_model.text(), timeout=WAIT)
    window.close()
