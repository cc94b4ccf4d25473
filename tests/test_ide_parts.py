"""IDE parts without a program: console, variables paging, saves, files changed on disk."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import stat
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt

from hcride.controller import events as ev
from hcride.ide import MainWindow
from hcride.ide.atomic import atomic_write
from hcride.ide.models.console import ConsoleModel
from hcride.ide.models.variables import PAGE, VariablesModel
from hcride.ide.theme import bgr, load_theme

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "main.py").write_text("import logic\n")
    (project / "logic.py").write_text("x = 1\n")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(project=project, settings=settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.tabs.ask = lambda *a: "Discard"
    win.close()


def test_object_names_and_shortcuts(window: MainWindow) -> None:
    for name in ("moduleTree", "reloadLog", "variablesPane", "console", "editor"):
        assert window.findChild(object, name) is not None, name
    expected = {
        "actionOpen": "Ctrl+O",
        "actionRun": "F5",
        "actionStop": "Shift+F5",
        "actionRestart": "Ctrl+Shift+F5",
        "actionReload": "F9",
        "actionSave": "Ctrl+S",
    }
    for name, keys in expected.items():
        action = window.findChild(object, name)
        assert action is not None and action.shortcut().toString() == keys


def test_bgr() -> None:
    assert bgr("#112233") == 0x332211


def test_console_bounded_and_throttled(qtbot) -> None:
    model = ConsoleModel(load_theme("light"), max_lines=1000)
    for i in range(5000):
        model.append("stdout", f"line {i}\n")
    assert model.rowCount() == 0, "appends are buffered until the next flush"
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    assert model.rowCount() == 1000
    assert model.index(999).data() == "line 4999"
    model.append("stderr", "partial")
    model.append("stderr", " line\n")
    qtbot.waitUntil(lambda: model.index(model.rowCount() - 1).data() == "partial line")


def test_variables_page_by_page(qtbot) -> None:
    model = VariablesModel(load_theme("light"))
    calls: list[dict[str, Any]] = []
    big = 1_000_000

    def inspector(what: str, callback: Any, **kw: Any) -> None:
        calls.append({"what": what, **kw})
        if what == "globals":
            items = [
                {"key": "big", "name": "big", "type": "list", "repr": "[0, 1, ...]",
                 "expandable": True, "length": big, "status": "preserved"},
                {"key": "n", "name": "n", "type": "int", "repr": str(len(calls)),
                 "expandable": False, "length": None, "status": "initialized"},
            ]  # fmt: skip
            callback(True, {"items": items, "total": 2}, None)
        else:
            off, lim = kw["offset"], kw["limit"]
            items = [
                {"key": str(i), "name": f"[{i}]", "type": "int", "repr": str(i)}
                for i in range(off, min(big, off + lim))
            ]
            callback(True, {"items": items, "total": big}, None)

    model.inspector = inspector
    model.set_module("logic")
    assert model.rowCount() == 2
    big_index = model.index(0, 0)
    assert model.index(0, 3).data() == "preserved" and model.index(1, 3).data() == "initialized"
    assert model.index(0, 1).data() == f"list [{big}]"
    assert model.hasChildren(big_index) and model.canFetchMore(big_index)
    model.fetchMore(big_index)
    assert model.rowCount(big_index) == PAGE
    model.fetchMore(big_index)
    assert model.rowCount(big_index) == 2 * PAGE
    assert calls[-1]["path"] == ["big"] and calls[-1]["offset"] == PAGE
    # a refresh highlights the value that changed
    model.refresh()
    assert model.index(1, 2).data() == str(len(calls))
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is not None


def test_atomic_save_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "script.py"
    target.write_text("old\n")
    target.chmod(0o751)
    atomic_write(target, b"new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert [p.name for p in tmp_path.iterdir()] == ["script.py"]


def test_save_through_editor_and_disk_changes(qtbot, window: MainWindow) -> None:
    path = window.project / "logic.py"
    editor = window.open_file(path)
    assert editor.text() == "x = 1\n"
    editor.set_text("x = 2\n")
    assert window.tabs.tabText(window.tabs.indexOf(editor)).startswith("●")
    assert window.save()
    assert path.read_text() == "x = 2\n"
    assert not editor.is_modified
    # changed on disk while unmodified: reloaded
    path.write_text("x = 3\n")
    window.tabs.check_disk()
    assert editor.text() == "x = 3\n" and not editor.is_modified
    # changed on disk while modified: the user chooses
    editor.set_text("x = 4\n")
    asked: list[str] = []
    window.tabs.ask = lambda title, text, choices: asked.append(title) or "Keep my version"
    path.write_text("x = 5\n")
    window.tabs.check_disk()
    assert asked == ["File changed on disk"] and editor.text() == "x = 4\n"
    window.tabs.check_disk()
    assert len(asked) == 1, "asked once per change"


def test_prompt_before_losing_unsaved_work(window: MainWindow) -> None:
    editor = window.open_file(window.project / "logic.py")
    editor.set_text("y = 1\n")
    window.tabs.ask = lambda title, text, choices: "Cancel"
    assert not window.close()
    assert editor.text() == "y = 1\n"
    assert window.tabs.close_tab(window.tabs.indexOf(editor)) is False
    window.tabs.ask = lambda title, text, choices: "Save"
    assert window.tabs.close_tab(window.tabs.indexOf(editor)) is True
    assert (window.project / "logic.py").read_text() == "y = 1\n"


def test_events_from_a_thread_reach_the_models(qtbot, window: MainWindow) -> None:
    import threading

    main = str(window.project / "main.py")
    logic = str(window.project / "logic.py")

    def emit() -> None:
        window.bridge.post(ev.ProgramStarted(pid=1, script=main, python="py"))
        window.bridge.post(
            ev.ModulesChanged(modules=({"name": "logic", "file": logic, "version": 1},))
        )
        for i in range(20000):
            window.bridge.post(ev.Output(stream="stdout", text=f"{i}\n"))

    thread = threading.Thread(target=emit)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: window.console_model.text().endswith("19999"))
    assert window.state.running and window.status_run.text().startswith("●")
    assert window.log_model.rowCount() == 1
