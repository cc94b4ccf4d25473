"""The console with a real program (issue 10 item 7): ANSI colours rendered, stdin
typed inline in the console (after the program's prompt, as Thonny's shell) and echoed
on the prompt's row, rows and parts of rows copied."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, QSettings, Qt
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

        # typing in the output types inline; the echo lands on the prompt's row
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
        editors = [e for e in view.findChildren(QLineEdit) if e is not window.console_pane.input]
        editor = editors[0] if editors else None
        assert editor is not None and editor.isReadOnly() and editor.text() == "Hello, Bob"
        editor.setSelection(7, 3)
        editor.copy()
        assert QApplication.clipboard().text() == "Bob"
    finally:
        window.close()


PROMPTS = r"""
name = input("name? ")
print(f"got {name!r}", flush=True)
print("age?", flush=True)
age = input()
print(f"age {age!r}", flush=True)
input("more? ")
"""


def type_keys(text: str) -> None:
    """Type as a user does: each key goes to the widget that has the focus."""
    for ch in text:
        widget = QApplication.focusWidget()
        assert widget is not None, "nothing has the keyboard focus"
        QTest.keyClicks(widget, ch)


def press_enter() -> None:
    widget = QApplication.focusWidget()
    assert widget is not None
    QTest.keyClick(widget, Qt.Key.Key_Return)


def test_stdin_typed_inline_after_the_prompt(qtbot, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "main.py").write_text(textwrap.dedent(PROMPTS))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(project=project, settings=settings)
    window.tabs.ask = lambda *a: "Discard"
    window.ask_stop = lambda text: True
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    pane, view, model = window.console_pane, window.console_pane.view, window.console_model
    inline = pane.input
    try:
        window.actionRun.trigger()
        qtbot.waitUntil(lambda: "name? " in rows(window), timeout=WAIT)
        # the inline input sits in the output, on the prompt's row, right after it
        qtbot.waitUntil(inline.isVisible, timeout=WAIT)
        assert inline.parentWidget() is view.viewport(), "typed in the output itself"
        prompt = view.visualRect(model.index(rows(window).index("name? ")))
        after = prompt.left() + view.fontMetrics().horizontalAdvance("name? ")

        def after_the_prompt() -> bool:
            geometry = inline.geometry()
            return (prompt.top() <= geometry.center().y() <= prompt.bottom()
                    and abs(geometry.left() - after) <= 6)  # fmt: skip

        qtbot.waitUntil(after_the_prompt, timeout=WAIT)

        view.setFocus()
        type_keys("Ada")
        assert inline.hasFocus() and inline.text() == "Ada", "typing in the output types inline"
        press_enter()
        qtbot.waitUntil(lambda: "got 'Ada'" in rows(window), timeout=WAIT)
        shown = rows(window)
        assert shown.index("name? Ada") + 1 == shown.index("got 'Ada'"), shown
        assert "name? " not in shown and "Ada" not in shown, "one row, in order"
        assert inline.text() == "" and inline.hasFocus()

        # a prompt that ended its line: the input is on the next line, under it
        qtbot.waitUntil(lambda: "age?" in rows(window), timeout=WAIT)
        age = model.index(rows(window).index("age?"))
        qtbot.waitUntil(lambda: inline.geometry().top() >= view.visualRect(age).bottom() - 1)
        assert view.viewport().rect().contains(inline.geometry()), "visible, not clipped"
        type_keys("36")
        press_enter()
        qtbot.waitUntil(lambda: "age '36'" in rows(window), timeout=WAIT)
        shown = rows(window)
        at = shown.index("age?")
        assert shown[at : at + 3] == ["age?", "36", "age '36'"], shown

        # a line typed but not sent when the program ends is shown, not dropped
        qtbot.waitUntil(lambda: "more? " in rows(window), timeout=WAIT)
        type_keys("late")
        window.actionStop.trigger()
        qtbot.waitUntil(lambda: not inline.isVisible(), timeout=WAIT)
        qtbot.waitUntil(
            lambda: "hcride: not sent, the program is not running: late" in rows(window)
        )
        assert inline.text() == ""
        # no program: no inline input, and typing says why instead of vanishing
        view.setFocus()
        QTest.keyClicks(view, "x")
        assert "not running" in window.statusBar().currentMessage()
        assert inline.text() == "" and not inline.isVisible()
    finally:
        window.close()


def test_inline_input_follows_the_output(qtbot) -> None:
    """Without a program: the inline input stays at the end of the output as rows
    arrive and scroll away (flood limit included), keeps what is typed, moves onto a
    prompt's row, and walks the lines sent with Up/Down."""
    from hcride.ide.models.console import ConsoleModel
    from hcride.ide.panes import ConsolePane
    from hcride.ide.theme import load_theme

    model = ConsoleModel(load_theme("light"), max_lines=300)
    pane = ConsolePane(model)
    qtbot.addWidget(pane)
    pane.resize(500, 200)
    pane.show()
    pane.activateWindow()
    qtbot.waitUntil(pane.isActiveWindow)
    sent: list[str] = []
    pane.submitted.connect(sent.append)
    view, inline = pane.view, pane.input
    assert not inline.isVisible(), "no program, no input"
    pane.set_running(True)
    qtbot.waitUntil(inline.isVisible)
    assert inline.geometry().top() <= 0, "nothing printed yet: on the first line"
    bottom = view.viewport().rect().bottomLeft() + QPoint(40, -3)
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=bottom)
    assert inline.hasFocus(), "a click under the output puts the cursor in the input"

    def at_the_end() -> bool:
        model.flush()
        last = view.visualRect(model.index(model.rowCount() - 1))
        geometry = inline.geometry()
        return (geometry.top() >= last.bottom() - 1
                and view.viewport().rect().contains(geometry))  # fmt: skip

    # rows that nearly fill the view: the input's line scrolls into view (the room it
    # needs once made the scroll bar come and go for ever)
    row_height = view.sizeHintForRow(0) if model.rowCount() else view.fontMetrics().height()
    for i in range(view.viewport().height() // row_height):
        model.append("stdout", f"line {i}\n")
    qtbot.waitUntil(at_the_end)
    # while the output arrives, following its end never jumps up and back
    positions: list[int] = []
    view.verticalScrollBar().valueChanged.connect(positions.append)
    for i in range(20):
        model.append("stdout", f"more {i}\n")
        qtbot.wait(15)
    qtbot.waitUntil(at_the_end)
    assert positions == sorted(positions), positions
    for i in range(1000):
        model.append("stdout", f"line {i}\n")
    qtbot.waitUntil(at_the_end)
    assert model.rowCount() == 300, "the flood limit still holds"
    view.setFocus()
    QTest.keyClicks(view, "abc")
    assert inline.hasFocus() and inline.text() == "abc"
    for i in range(50):
        model.append("stderr", f"more {i}\n")
    qtbot.waitUntil(at_the_end)
    assert inline.text() == "abc", "output arriving keeps what is typed"

    # scrolled up: typing brings the end back into view
    view.scrollToTop()
    QTest.keyClicks(inline, "d")
    qtbot.waitUntil(at_the_end)

    # a prompt without a newline: the input moves onto its row, after it
    model.append("stdout", "\x1b[1;34m>>> \x1b[0m")  # shown after PARTIAL_MS

    def on_the_prompt() -> bool:
        row = model.prompt_row()
        if row is None:
            return False
        prompt, geometry = view.visualRect(model.index(row)), inline.geometry()
        after = prompt.left() + view.fontMetrics().horizontalAdvance(">>> ")
        return (prompt.top() <= geometry.center().y() <= prompt.bottom()
                and abs(geometry.left() - after) <= 6
                and view.viewport().rect().contains(geometry))  # fmt: skip

    qtbot.waitUntil(on_the_prompt)
    assert inline.text() == "abcd"
    QTest.keyClick(inline, Qt.Key.Key_Return)
    assert sent == ["abcd\n"] and inline.text() == ""

    # history: Up and Down walk the lines sent, the line being typed comes back
    QTest.keyClicks(inline, "second")
    QTest.keyClick(inline, Qt.Key.Key_Return)
    QTest.keyClicks(inline, "draft")
    QTest.keyClick(inline, Qt.Key.Key_Up)
    assert inline.text() == "second"
    QTest.keyClick(inline, Qt.Key.Key_Up)
    assert inline.text() == "abcd"
    QTest.keyClick(inline, Qt.Key.Key_Down)
    QTest.keyClick(inline, Qt.Key.Key_Down)
    assert inline.text() == "draft"

    # the program ended: hidden, and the unsent text is handed back to be shown
    assert pane.set_running(False) == "draft"
    assert not inline.isVisible() and inline.text() == ""
    notices: list[str] = []
    pane.notice.connect(notices.append)
    view.setFocus()
    QTest.keyClicks(view, "x")
    assert notices and "not running" in notices[0]
