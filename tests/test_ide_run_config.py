"""Run configuration per project (issue 10 item 3): main script, arguments, working
folder, environment, interpreter (the project's venv found and shown, any path
accepted), reload mode; edited in a dialog, kept in the settings, shown in the toolbar."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from hcride.ide import MainWindow
from hcride.ide.run_config import RunConfig, RunConfigDialog

pytestmark = pytest.mark.gui
WAIT = 60_000

SHOW = """\
import os
import sys
import time

print("argv", sys.argv[1:], flush=True)
print("cwd", os.getcwd(), flush=True)
print("greeting", os.environ.get("GREETING"), flush=True)
print("python", sys.executable, flush=True)
time.sleep(30)
"""


def fake_venv(project: Path) -> Path:
    """A project venv as ``find_interpreter`` sees one (pyvenv.cfg + bin/python)."""
    venv = project / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = {Path(sys.executable).parent}\n")
    (venv / "bin" / "python").symlink_to(sys.executable)
    return venv / "bin" / "python"


def test_run_configuration_dialog_toolbar_and_run(qtbot, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "main.py").write_text("print('main')\n")
    (project / "show.py").write_text(SHOW)
    work = tmp_path / "work"
    work.mkdir()
    venv_python = fake_venv(project)
    ini = tmp_path / "settings.ini"
    window = MainWindow(project=project, settings=QSettings(str(ini), QSettings.Format.IniFormat))
    window.tabs.ask = lambda *a: "Discard"
    window.ask_stop = lambda text: True
    qtbot.addWidget(window)
    window.show()
    button = window.run_config_button
    assert button.text() == "main.py · .venv/bin/python · detect", "the venv is found and shown"
    assert "found automatically" in button.toolTip()

    seen: list[str] = []

    def fill(config: RunConfig, proj: Path) -> RunConfig | None:
        dialog = RunConfigDialog(config, proj, window)
        seen.append(dialog.python.placeholderText())
        dialog.script.setText("show.py")
        dialog.args.setText("--size 3 'two words'")
        dialog.cwd.setText(str(work))
        dialog.env.setPlainText("GREETING=hello there\nnot an assignment\n")
        dialog.mode.setCurrentText("auto")
        dialog.accept()
        assert dialog.result() != RunConfigDialog.DialogCode.Accepted, "refused"
        assert "Environment line 2" in dialog.errors.text()
        dialog.env.setPlainText("# a comment\nGREETING=hello there\n")
        dialog.python.setText(str(tmp_path / "no-such-python"))
        dialog.accept()
        assert "is not an executable file" in dialog.errors.text()
        dialog.python.setText("")
        dialog.accept()
        assert dialog.result() == RunConfigDialog.DialogCode.Accepted
        return dialog.config()[0]

    window.ask_run_config = fill
    button.click()
    assert seen == ["found automatically: .venv/bin/python"]
    assert button.text() == "show.py --size 3 'two words' · .venv/bin/python · auto"
    assert window.reload_mode == "auto"

    window.actionRun.trigger()
    qtbot.waitUntil(lambda: "\npython " in window.console_model.text(), timeout=WAIT)
    text = window.console_model.text()
    assert "argv ['--size', '3', 'two words']" in text
    assert f"cwd {work}" in text
    assert "greeting hello there" in text
    assert f"python {venv_python}" in text
    window.actionStop.trigger()
    qtbot.waitUntil(lambda: not window.state.running, timeout=WAIT)
    window.close()

    # kept in the project's settings
    again = MainWindow(project=project, settings=QSettings(str(ini), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    config = again.run_config()
    assert Path(config.script).name == "show.py" and config.argv() == ("--size", "3", "two words")
    assert config.env == {"GREETING": "hello there"} and config.cwd == str(work)
    assert config.mode == "auto"
    again.close()


def test_any_interpreter_path_and_a_bad_one_is_refused_with_a_reason(qtbot, tmp_path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "main.py").write_text("import sys\nprint('python', sys.executable)\n")
    window = MainWindow(
        project=project,
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
    )
    window.ask_stop = lambda text: True
    qtbot.addWidget(window)
    asked: list[RunConfig] = []
    window.ask_run_config = lambda config, proj: asked.append(config) or None
    window.set_run_config(window.run_config().with_(python=str(tmp_path / "nope")))
    window.actionRun.trigger()
    window.console_model.flush()
    assert "cannot run: Interpreter" in window.console_model.text()
    assert len(asked) == 1 and not window.driver.running, "the dialog opened instead"
    window.set_run_config(window.run_config().with_(python=sys.executable))
    assert sys.executable in window.run_config_button.text()
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: f"python {sys.executable}" in window.console_model.text(),
                    timeout=WAIT)  # fmt: skip
    window.close()
