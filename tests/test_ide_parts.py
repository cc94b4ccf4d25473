"""IDE parts without a program: console, variables paging, saves, files changed on disk."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import stat
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QSettings, Qt

from hcride.controller import events as ev
from hcride.ide import MainWindow
from hcride.ide.atomic import atomic_write
from hcride.ide.models.console import ConsoleModel, StreamRole
from hcride.ide.models.variables import CHUNK, PAGE, VariablesModel, ranges
from hcride.ide.theme import bgr, load_theme

pytestmark = pytest.mark.gui
ROOT = QModelIndex()


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
    assert model.index(model.rowCount() - 1).data(StreamRole) == "stderr"


def test_console_flood_skips_the_middle_with_a_marker(qtbot) -> None:
    model = ConsoleModel(load_theme("light"), max_lines=10_000, flush_lines=100)
    model.append("stdout", "first\n")
    model.flush()
    # 3 chunks of 50 lines, one line split across two chunks
    chunk = "".join(f"n{i}\n" for i in range(50))
    model.append("stdout", chunk + "spl")
    model.append("stdout", "it\n" + chunk)
    model.append("stdout", chunk)
    model.flush()
    rows = [model.index(r).data() for r in range(model.rowCount())]
    assert rows[0] == "first"
    assert rows[1] == "… 51 lines skipped …"
    assert model.index(1).data(StreamRole) == "system"
    assert rows[-1] == "n49" and len(rows) == 2 + 100
    assert model.skipped == 51
    # a prompt without a newline is shown by flush_partial, in order
    model.append("stdout", "name? ")
    model.append_line("system", "note")
    model.flush()
    assert [model.index(r).data() for r in (-2 + model.rowCount(), model.rowCount() - 1)] == [
        "name? ",
        "note",
    ]


def _big_list_inspector(calls: list[dict[str, Any]], big: int) -> Any:
    def inspector(what: str, callback: Any, **kw: Any) -> None:
        calls.append({"what": what, **kw})
        if what == "globals":
            items = [
                {"key": "big", "name": "big", "type": "list", "repr": "[0, 1, ...]",
                 "expandable": True, "length": big, "status": "preserved"},
                {"key": "n", "name": "n", "type": "int", "repr": str(len(calls)),
                 "expandable": False, "length": None, "status": "initialized"},
                {"key": "small", "name": "small", "type": "list", "repr": "[...]",
                 "expandable": True, "length": 3 * PAGE},
            ]  # fmt: skip
            callback(True, {"items": items, "total": 3}, None)
        else:
            size = big if kw["path"] == ["big"] else 3 * PAGE
            off, lim = kw["offset"], kw["limit"]
            items = [
                {"key": i, "name": f"[{i}]", "type": "int", "repr": str(i)}
                for i in range(off, min(size, off + lim))
            ]
            callback(True, {"items": items, "total": size}, None)

    return inspector


def test_variables_page_by_page(qtbot) -> None:
    model = VariablesModel(load_theme("light"))
    calls: list[dict[str, Any]] = []
    model.inspector = _big_list_inspector(calls, 1_000_000)
    model.set_module("logic")
    assert model.rowCount() == 3
    small = model.index(2, 0)
    assert model.hasChildren(small) and model.canFetchMore(small)
    model.fetchMore(small)
    assert model.rowCount(small) == PAGE
    model.fetchMore(small)
    assert model.rowCount(small) == 2 * PAGE
    assert calls[-1]["path"] == ["small"] and calls[-1]["offset"] == PAGE
    # a refresh highlights the value that changed
    model.refresh()
    assert model.index(1, 2).data() == str(len(calls))
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is not None


def test_variables_huge_list_in_ranges(qtbot) -> None:
    model = VariablesModel(load_theme("light"))
    calls: list[dict[str, Any]] = []
    big = 10_000_000
    model.inspector = _big_list_inspector(calls, big)
    model.set_module("logic")
    big_index = model.index(0, 0)
    assert model.index(0, 3).data() == "preserved" and model.index(1, 3).data() == "initialized"
    assert model.index(0, 1).data() == f"list [{big}]"
    assert model.hasChildren(big_index) and model.canFetchMore(big_index)
    sent = len(calls)
    model.fetchMore(big_index)
    assert len(calls) == sent, "ranges are made without asking the program"
    assert model.rowCount(big_index) == CHUNK
    assert model.index(0, 0, big_index).data() == "[0 … 9999]"
    last = model.index(CHUNK - 1, 0, big_index)
    assert last.data() == "[9990000 … 9999999]" and last.parent() == big_index
    model.fetchMore(last)
    assert model.rowCount(last) == 10
    leaf = model.index(9, 0, last)
    assert leaf.data() == "[9999000 … 9999999]"
    for _ in range(10):
        model.fetchMore(leaf)
    assert model.rowCount(leaf) == 1000 and not model.canFetchMore(leaf)
    assert model.index(999, 2, leaf).data() == str(big - 1)
    assert calls[-1] == {
        "what": "children", "module": "logic", "path": ["big"], "offset": big - PAGE,
        "limit": PAGE,
    }  # fmt: skip
    # refreshing an expanded range asks for its items only
    model.refresh([model.node(big_index), model.node(last), model.node(leaf)])
    assert [c["offset"] for c in calls[-2:]] == [0, big - 1000]
    assert ranges(0, 2500) == [(0, 1000), (1000, 2000), (2000, 2500)]


def test_variables_filter_hides_top_level_rows(window: MainWindow) -> None:
    model = window.variables_model
    calls: list[dict[str, Any]] = []
    model.inspector = _big_list_inspector(calls, 10)
    model.set_module("logic")
    pane = window.variables_pane
    pane.filter.setText("SMA")
    shown = [model.index(r, 0).data() for r in range(3) if not pane.view.isRowHidden(r, ROOT)]
    assert shown == ["small"]
    pane.filter.clear()
    assert not any(pane.view.isRowHidden(r, ROOT) for r in range(3))


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


def test_start_page_then_open_project(qtbot, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QPushButton

    settings = QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat)
    win = MainWindow(project=None, settings=settings)
    qtbot.addWidget(win)
    win.show()
    assert win.project is None and win.stack.currentWidget() is win.start_page
    assert win.windowTitle() == "hcride"
    assert not win.actionRun.isEnabled() and not win.actionStop.isEnabled()
    project = tmp_path / "proj"
    project.mkdir()
    (project / "main.py").write_text("print('hi')\n")
    asked: list[str] = []
    win.ask_directory = lambda title, start: asked.append(title) or ""
    button = next(b for b in win.start_page.findChildren(QPushButton) if "Open" in b.text())
    button.click()
    assert asked == ["Open Project"] and win.project is None, "cancelled: still the start page"
    win.ask_directory = lambda title, start: str(project)
    win.actionOpen.trigger()
    assert win.project == project.resolve() and win.stack.currentIndex() == 1
    assert win.windowTitle().startswith("proj") and win.actionRun.isEnabled()
    assert win.editor() is not None and win.editor().path.name == "main.py"
    win.close()
    # no project given: the last one opens
    again = MainWindow(project=None, settings=settings)
    qtbot.addWidget(again)
    assert again.project == project.resolve()
    again.close()


def test_go_to_line(qtbot, window: MainWindow) -> None:
    path = window.project / "logic.py"
    path.write_text("".join(f"x{i} = {i}\n" for i in range(1, 41)))
    editor = window.open_file(path)
    assert window.actionGoto.shortcut().toString() == "Ctrl+G"
    asked: list[tuple[int, int]] = []
    window.ask_line = lambda current, last: asked.append((current, last)) or (25, True)
    window.actionGoto.trigger()
    assert asked == [(1, 41)]
    assert editor.current_line() == 25
    window.ask_line = lambda current, last: (3, False)  # cancelled
    window.actionGoto.trigger()
    assert editor.current_line() == 25


def test_find_bar(qtbot, window: MainWindow) -> None:
    from PySide6.QtTest import QTest

    path = window.project / "logic.py"
    path.write_text("alpha = 1\nbeta = alpha\ngamma = alpha + beta\n")
    editor = window.open_file(path)
    assert window.actionFind.shortcut().toString() == "Ctrl+F"
    window.actionFind.trigger()
    bar = window.find_bar
    assert bar.isVisible() and window.findChild(object, "findInput") is bar.line
    QTest.keyClicks(bar.line, "alpha")
    QTest.keyClick(bar.line, Qt.Key.Key_Return)
    assert editor.current_line() == 1
    assert editor.text()[editor.selectionStart() : editor.selectionEnd()] == "alpha"
    QTest.keyClick(bar.line, Qt.Key.Key_Return)
    assert editor.current_line() == 2
    QTest.keyClick(bar.line, Qt.Key.Key_Return)
    assert editor.current_line() == 3
    QTest.keyClick(bar.line, Qt.Key.Key_Return)
    assert editor.current_line() == 1, "wraps around"
    bar.line.setText("delta")
    QTest.keyClick(bar.line, Qt.Key.Key_Return)
    assert bar.status.text() == "not found"
    QTest.keyClick(bar.line, Qt.Key.Key_Escape)
    assert not bar.isVisible()


def test_console_shows_a_prompt_without_newline_and_completes_it_in_place(qtbot) -> None:
    """``input("Name: ")`` prints no newline: the prompt must still appear; the row
    grows as more of the line arrives and becomes the whole line, not a second row."""
    model = ConsoleModel(load_theme("light"))
    model.append("stdout", "first\n")
    model.append("stdout", "Name: ")
    qtbot.waitUntil(lambda: model.text() == "first\nName: ", timeout=10_000)
    model.append("stderr", "warning\n")
    model.append("stdout", "Bo")
    qtbot.waitUntil(lambda: model.text() == "first\nName: Bo\nwarning", timeout=10_000)
    model.append("stdout", "b\nnext\n")
    qtbot.waitUntil(lambda: model.text().endswith("next"), timeout=10_000)
    assert model.text() == "first\nName: Bob\nwarning\nnext"
    assert [model.index(r).data(StreamRole) for r in range(4)] == [
        "stdout", "stdout", "stderr", "stdout",
    ]  # fmt: skip


def test_console_very_long_line_is_one_cut_row(qtbot) -> None:
    from hcride.ide.models.console import MAX_LINE_CHARS

    model = ConsoleModel(load_theme("light"))
    line = "x" * 1_000_000
    for start in range(0, len(line), 65536):  # as the pipe delivers it
        model.append("stdout", line[start : start + 65536])
    model.append("stdout", "\nafter\n")
    qtbot.waitUntil(lambda: model.text().endswith("after"), timeout=10_000)
    assert model.rowCount() == 2
    assert model.index(0).data() == "x" * MAX_LINE_CHARS


def test_a_latin1_file_is_saved_in_latin1(window: MainWindow) -> None:
    """A file that is not UTF-8 (PEP 263 ``coding: latin-1``) keeps its bytes: an edit
    and a save change only the edited text, never é into U+FFFD."""
    path = window.project / "legacy.py"
    original = "# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1")
    path.write_bytes(original)
    editor = window.open_file(path)
    assert "café" in editor.text()
    editor.set_text(editor.text() + "x = 1\n")
    assert window.save()
    assert path.read_bytes() == original + b"x = 1\n"
    warnings: list[str] = []
    window.tabs.warn = lambda title, text: warnings.append(text)
    editor.set_text(editor.text() + "s = '€'\n")  # not in latin-1
    assert not window.save()
    assert warnings and "iso-8859-1" in warnings[0] and "nothing was written" in warnings[0]
    assert editor.is_modified and "€" in editor.text()  # the text is kept
    assert path.read_bytes() == original + b"x = 1\n"
    window.tabs.ask = lambda *a: "Discard"  # qtbot closes the window before the fixture's teardown


def test_notices_and_lost_live_reload_reach_status_bar_and_console(
    qtbot, window: MainWindow
) -> None:
    waiting = "reload waiting in handler logic.save for 2 s (logic.py:4)"
    window.bridge.post(ev.RuntimeNotice(what="reload_waiting", message=waiting))
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == waiting)
    qtbot.waitUntil(lambda: window.console_model.text().endswith(f"hcride: {waiting}"))
    window.bridge.post(ev.LiveReload(ok=False, message="live reload is off"))
    qtbot.waitUntil(lambda: "Restart" in window.statusBar().currentMessage())
    assert "live reload is off" in window.statusBar().currentMessage()
    window.bridge.post(ev.ProgramConnected(pid=1, mode="auto", reconnected=True))
    qtbot.waitUntil(lambda: "reconnected" in window.statusBar().currentMessage())
