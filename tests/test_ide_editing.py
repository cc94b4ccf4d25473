"""Editing basics through the real window and keyboard (issue 10 item 6): replace with
case / word / regex options, highlight of every match, find prefilled from the
selection, Esc back to the editor, toggle comment, Ctrl+Shift+Z, zoom for all tabs."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from hcride.ide import MainWindow

pytestmark = pytest.mark.gui

TEXT = "alpha = 1\nbeta = alpha\nAlpha_beta = alpha + beta\n"


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "main.py").write_text("import logic\n")
    (project / "logic.py").write_text(TEXT)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(project=project, settings=settings)
    win.tabs.ask = lambda *a: "Discard"
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitExposed(win)
    yield win
    win.tabs.ask = lambda *a: "Discard"
    win.close()


def key(window: MainWindow, keys: str) -> None:
    """Press a shortcut as the user does, with the keyboard focus where it is."""
    from PySide6.QtGui import QKeySequence

    seq = QKeySequence(keys)[0]
    target = QApplication.focusWidget() or window
    QTest.keyClick(target, seq.key(), seq.keyboardModifiers())


def test_replace_with_options_and_highlight_all(qtbot, window: MainWindow) -> None:
    editor = window.open_file(window.project / "logic.py")
    key(window, "Ctrl+H")
    bar = window.find_bar
    assert bar.isVisible() and bar.replace_row.isVisible()
    QTest.keyClicks(bar.line, "alpha")
    assert len(editor.highlighted()) == 4, "case-insensitive: Alpha_beta's Alpha too"
    assert bar.status.text() == "4 found"
    bar.case.setChecked(True)
    assert len(editor.highlighted()) == 3
    bar.word.setChecked(True)
    assert len(editor.highlighted()) == 3, "alpha in Alpha_beta is not a word"
    bar.replace_line.setText("gamma")
    bar.replace_button.click()  # selects the first match
    bar.replace_button.click()  # replaces it, selects the next
    assert editor.text().startswith("gamma = 1\n")
    bar.replace_all_button.click()
    assert editor.text() == "gamma = 1\nbeta = gamma\nAlpha_beta = gamma + beta\n"
    assert bar.status.text() == "2 replaced" and editor.highlighted() == []
    editor.undo()
    assert editor.text() == "gamma = 1\nbeta = alpha\nAlpha_beta = alpha + beta\n", "one step"
    # a regex with a group
    bar.word.setChecked(False)
    bar.regex.setChecked(True)
    bar.line.setText(r"(\w+) = (\d)")
    assert len(editor.highlighted()) == 1
    bar.replace_line.setText(r"\1: int = \2")
    bar.replace_all_button.click()
    assert editor.text().startswith("gamma: int = 1\n")
    # Esc: the bar closes, highlights go and the editor has the keyboard
    bar.line.setText("beta")
    bar.line.setFocus()
    QTest.keyClick(bar.line, Qt.Key.Key_Escape)
    assert not bar.isVisible() and editor.highlighted() == []
    assert QApplication.focusWidget() is editor


def test_find_prefilled_from_the_selection(qtbot, window: MainWindow) -> None:
    editor = window.open_file(window.project / "logic.py")
    editor.setSel(10, 14)  # "beta"
    key(window, "Ctrl+F")
    assert window.find_bar.line.text() == "beta" and not window.find_bar.replace_row.isVisible()
    assert len(editor.highlighted()) == 3


def test_toggle_comment_redo_and_zoom(qtbot, window: MainWindow, tmp_path: Path) -> None:
    editor = window.open_file(window.project / "logic.py")
    editor.setSel(0, editor.positionFromLine(2))  # the first two lines
    QWidget.setFocus(editor)
    key(window, "Ctrl+/")
    assert editor.text() == "# alpha = 1\n# beta = alpha\nAlpha_beta = alpha + beta\n"
    key(window, "Ctrl+/")
    assert editor.text() == TEXT
    key(window, "Ctrl+Z")
    assert editor.text().startswith("# alpha")
    key(window, "Ctrl+Shift+Z")
    assert editor.text() == TEXT, "Ctrl+Shift+Z redoes"

    other = window.open_file(window.project / "main.py")
    key(window, "Ctrl+=")
    key(window, "Ctrl+=")
    assert other.zoom_level() == 2 and editor.zoom_level() == 2, "every tab"
    key(window, "Ctrl+-")
    assert editor.zoom_level() == 1
    window.close()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    again = MainWindow(project=window.project, settings=settings)
    again.tabs.ask = lambda *a: "Discard"
    qtbot.addWidget(again)
    assert again.editor().zoom_level() == 1, "kept between sessions"
    again.actionZoomReset.trigger()
    assert all(e.zoom_level() == 0 for e in again.tabs.editors())
    again.close()
