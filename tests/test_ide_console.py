"""The console with a real program (issue 10 item 7): ANSI colours rendered, stdin
typed in the console and echoed on the prompt's row, rows and parts of rows copied."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QSettings, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from hcride.ide import MainWindow, ansi

pytestmark = pytest.mark.gui
WAIT = 60_000

MAIN = r'''
import sys

print("\x1b[31mred\x1b[0m plain \x1b[1;38;5;208mbold orange\x1b[0m\x1b[K", flush=True)
print("\x1b[42;97m on green \x1b[0m", flush=True)
name = input("Name: ")
print(f"Hello, {name}", flush=True)
try:
    1 / 0
except ZeroDivisionError:
    import traceback
    traceback.print_exc(file=sys.stdout)  # stdout: in order with "Hello" (two pipes race)
    sys.stdout.flush()
input("press Enter to quit")
'''


def test_ansi_spans() -> None:
    spans = ansi.spans("\x1b[31mred\x1b[0m plain \x1b[1;38;5;208mbold\x1b[0m\x1b[2K")
    assert [(s.text, s.fg, s.bold) for s in spans] == [
        ("red", "#cd3131", False), (" plain ", "", False), ("bold", "#ff8700", True),
    ]  # fmt: skip
    assert ansi.plain("\x1b[38;2;1;2;3mx\x1b[0m\x1b[1A") == "x"
    assert ansi.spans("\x1b[38;2;1;2;3mx")[0].fg == "#010203"
    assert ansi.spans("\x1b[44mx")[0].bg == "#2472c8"


def rows(window: MainWindow) -> list[str]:
    model = window.console_model
    return [model.index(r).data() for r in range(model.rowCount())]


def has_colour(image, colour: str, tolerance: int = 40) -> bool:  # noqa: ANN001
    want = QColor(colour)
    for y in range(0, image.height(), 1):
        for x in range(0, image.width(), 1):
            c = image.pixelColor(x, y)
            if (abs(c.red() - want.red()) + abs(c.green() - want.green())
                    + abs(c.blue() - want.blue())) < tolerance:  # fmt: skip
                return True
    return False


def test_console_colours_inline_stdin_and_copy(qtbot, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "main.py").write_text(textwrap.dedent(MAIN))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(project=project, settings=settings)
    window.tabs.ask = lambda *a: "Discard"
    window.ask_stop = lambda text: True
    qtbot.addWidget(window)
    window.show()
    try:
        window.actionRun.trigger()
        qtbot.waitUntil(lambda: "Name: " in rows(window), timeout=WAIT)
        assert "red plain bold orange" in rows(window), "escape codes are not shown"
        view = window.console_pane.view
        view.scrollToTop()
        qtbot.wait(100)
        image = view.viewport().grab().toImage()
        assert has_colour(image, "#cd3131"), "the red part is painted red"
        assert has_colour(image, "#0dbc79"), "the green background is painted"

        # typing in the output goes to the stdin line; the echo lands on the prompt's row
        view.setFocus()
        QTest.keyClicks(view, "Bob")
        assert window.console_pane.input.text() == "Bob"
        QTest.keyClick(window.console_pane.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: "Hello, Bob" in rows(window), timeout=WAIT)
        shown = rows(window)
        assert shown.index("Name: Bob") + 1 == shown.index("Hello, Bob"), shown
        assert "Name: " not in shown and "Bob" not in shown, "one row, in order"

        # copy several rows of the traceback
        qtbot.waitUntil(lambda: "ZeroDivisionError: division by zero" in rows(window),
                        timeout=WAIT)  # fmt: skip
        shown = rows(window)
        first = shown.index("Traceback (most recent call last):")
        last = shown.index("ZeroDivisionError: division by zero")
        model, selection = window.console_model, view.selectionModel()
        selection.clearSelection()
        for r in range(first, last + 1):
            selection.select(model.index(r), QItemSelectionModel.SelectionFlag.Select)
        view.setFocus()
        QTest.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
        copied = QApplication.clipboard().text()
        assert copied.startswith("Traceback (most recent call last):")
        assert copied.endswith("ZeroDivisionError: division by zero")
        assert copied.count("\n") == last - first
        # part of a row: the row opens in a read-only line
        index = model.index(shown.index("Hello, Bob"))
        view.setCurrentIndex(index)
        view.edit(index)
        editor = view.findChild(QLineEdit)
        assert editor is not None and editor.isReadOnly() and editor.text() == "Hello, Bob"
        editor.setSelection(7, 3)
        editor.copy()
        assert QApplication.clipboard().text() == "Bob"
    finally:
        window.close()
