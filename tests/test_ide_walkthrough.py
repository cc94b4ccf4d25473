"""What following the README's walkthrough under Xvfb found (issue 10's last check),
each driven in the real window with a real program: a project opened while another
runs starts clean; the reload log's results and the Variables pane's marks are not
clipped at the default size; reverting an older reload keeps what was saved since."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QSettings

from hcride.ide import MainWindow
from hcride.ide.models.reload_log import ResultRole
from hcride.ide.panes import text_margin

pytestmark = pytest.mark.gui
WAIT = 60_000
SAMPLES = Path(__file__).resolve().parent.parent / "samples"

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


def label():
    return "hello"


def tick():
    global counter
    counter += 1
    print(f"{label()} {counter} speed {SPEED}", flush=True)
"""


def project(root: Path, logic: str = LOGIC) -> Path:
    root.mkdir(parents=True)
    (root / "main.py").write_text(MAIN)
    (root / "logic.py").write_text(logic)
    return root


@pytest.fixture
def make_window(qtbot, tmp_path: Path) -> Iterator:
    windows: list[MainWindow] = []

    def make(folder: Path) -> MainWindow:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(project=folder, settings=settings, recovery_dir=tmp_path / "rec")
        window.tabs.ask = lambda *a: "Discard"
        window.ask_stop = lambda text: True
        qtbot.addWidget(window)
        window.resize(1280, 800)  # the first window on a 1600x1000 screen
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


def rows(window: MainWindow) -> list[str]:
    window.console_model.flush()
    return window.console_model.text().splitlines()


def results(window: MainWindow) -> list[str]:
    model = window.log_model
    return [model.index(r, 0).data(ResultRole) for r in range(model.rowCount())]


def save(window: MainWindow, file: Path, old: str, new: str) -> None:
    editor = window.open_file(file)
    assert old in editor.text()
    editor.set_text(editor.text().replace(old, new))
    window.actionSave.trigger()


def whole(view, index: QModelIndex) -> bool:  # noqa: ANN001
    """Is the cell's text shown whole (not elided)?"""
    needed = view.fontMetrics().horizontalAdvance(index.data()) + 2 * text_margin(view)
    return view.visualRect(index).width() >= needed


def test_open_project_while_running_starts_clean(qtbot, make_window, tmp_path: Path) -> None:
    """bouncing running, File > Open Project, samples/counter: the new project's console
    said "■ program stopped", its log had a "stopped" row and the status bar "stopped"
    (the old program's last events, arriving after the switch), the Live line still
    offered the old project's module, and the folder dialog opened inside the old
    project (whose only sub-folders are hidden) instead of next to it."""
    one = project(tmp_path / "projects" / "one")
    other = project(tmp_path / "projects" / "other", LOGIC.replace('"hello"', '"other"'))
    window = make_window(one)
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: any(r.startswith("hello") for r in rows(window)), timeout=WAIT)
    pane = window.console_pane
    qtbot.waitUntil(lambda: pane.live_module.findText("logic") >= 0, timeout=WAIT)
    pane.live_module.setCurrentText("logic")
    pid = window.state.pid
    asked: list[str] = []
    window.ask_directory = lambda title, start: asked.append(start) or str(other)

    window.open_project_dialog()
    assert asked == [str(one.parent)], "the dialog starts next to the open project"
    assert window.project == other.resolve()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the old program ends...
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        qtbot.wait(50)
    else:
        pytest.fail("the old program was not stopped")
    qtbot.wait(500)  # ...and whatever its session still reported has arrived
    assert rows(window) == [], "nothing of the old program in the new project's console"
    assert results(window) == []
    assert window.status_run.text() == "○ not running"
    assert pane.live_module.count() == 0, "no module of the old project to run code in"
    assert window.actionRun.isEnabled() and not window.actionStop.isEnabled()

    window.actionRun.trigger()
    qtbot.waitUntil(lambda: any(r.startswith("other") for r in rows(window)), timeout=WAIT)
    assert not any("program stopped" in r for r in rows(window))
    assert results(window)[0] == "started"
    qtbot.waitUntil(lambda: pane.live_module.findText("logic") >= 0, timeout=WAIT)


def test_results_and_marks_are_shown_whole(qtbot, make_window, tmp_path: Path) -> None:
    """The walkthrough's counter steps at the default window size: the log's Result
    column showed "back to running v…" and the Variables pane's Reload column
    "preserved …" for a stale global (the one mark that needs acting on), and the log
    listed "preserved: counter, reloads (initializer changed: live value kept)", as if
    both were stale."""
    folder = tmp_path / "counter"
    shutil.copytree(SAMPLES / "counter", folder, ignore=shutil.ignore_patterns(".hcr", "__pycache__"))
    window = make_window(folder)
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: "counter" in window.state.modules, timeout=WAIT)
    qtbot.waitUntil(lambda: "count is 2" in rows(window), timeout=WAIT)
    code = folder / "counter.py"
    save(window, code, "    step: int = 1\n", "    step: int = 1\n    speed: int = 2\n")
    qtbot.waitUntil(lambda: "rejected" in results(window), timeout=WAIT)
    save(window, code, "    speed: int = 2\n", "")
    qtbot.waitUntil(lambda: "back to running version" in results(window), timeout=WAIT)
    save(window, code, "reloads = 0 ", "reloads = 100 ")
    qtbot.waitUntil(lambda: "applied" in results(window), timeout=WAIT)

    log, model = window.reload_log, window.log_model
    for row in range(model.rowCount()):
        cell = model.index(row, 2)
        assert whole(log, cell), f"{cell.data()!r} is clipped in the Result column"
        assert cell.data(0x03)  # a tooltip with the whole result too
    applied = model.index(results(window).index("applied"), 0)
    details = [applied]
    texts = []
    while details:
        index = details.pop()
        texts.append(index.data())
        details.extend(model.index(r, 0, index) for r in range(model.rowCount(index)))
    assert "preserved: counter" in texts
    assert "stale (initializer changed, live value kept): reloads" in texts

    window._show_module("counter")
    variables = window.variables_model
    qtbot.waitUntil(lambda: variables.rowCount() > 3, timeout=WAIT)
    marks = {variables.index(r, 0).data(): variables.index(r, 3) for r in range(variables.rowCount())}
    assert marks["reloads"].data() == "stale" and marks["counter"].data() == "preserved"
    assert "initializer changed" in marks["reloads"].data(0x03)  # the tooltip says what it means
    for name in ("reloads", "counter"):
        assert whole(window.variables_pane.view, marks[name]), f"{name}'s mark is clipped"
    window.variables_pane.run_initializer.emit("reloads")
    qtbot.waitUntil(lambda: variables.index(
        next(r for r in range(variables.rowCount()) if variables.index(r, 0).data() == "reloads"),
        3).data() == "re-initialized", timeout=WAIT)  # fmt: skip
    row = next(r for r in range(variables.rowCount()) if variables.index(r, 0).data() == "reloads")
    assert whole(window.variables_pane.view, variables.index(row, 3))


def test_revert_an_older_reload_keeps_later_saves(qtbot, make_window, tmp_path: Path) -> None:
    """Reverting the counter's describe() edit after a later save of the same file
    (the walkthrough: `reloads = 100`) put back the whole file as it was before the
    reverted reload, silently dropping the later save. Now only that reload's change
    is taken back; a later edit of the same lines refuses the revert, saying why."""
    folder = project(tmp_path / "proj")
    window = make_window(folder)
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: any(r.startswith("hello 2 ") for r in rows(window)), timeout=WAIT)
    logic = folder / "logic.py"
    save(window, logic, 'return "hello"', 'return "bye"')
    qtbot.waitUntil(lambda: results(window).count("applied") == 1, timeout=WAIT)
    first = results(window).index("applied")
    save(window, logic, "speed {SPEED}", "fast {SPEED}")
    qtbot.waitUntil(lambda: results(window).count("applied") == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: any(r.startswith("bye") and "fast" in r for r in rows(window)),
                    timeout=WAIT)  # fmt: skip

    assert window.revert_reload(first) is True
    expected = LOGIC.replace("speed {SPEED}", "fast {SPEED}")
    assert logic.read_text() == expected, "the later save stays"
    assert window.editor().text() == expected and not window.editor().is_modified
    assert any(r.startswith("↶ reverting build") and "later saves of logic.py kept" in r
               for r in rows(window))  # fmt: skip
    qtbot.waitUntil(lambda: results(window).count("applied") == 3, timeout=WAIT)
    count = len(rows(window))
    qtbot.waitUntil(lambda: any(r.startswith("hello") and "fast" in r for r in rows(window)[count:]),
                    timeout=WAIT)  # fmt: skip

    # the reload of "fast" reverted after a later save changed the same line: refused
    second = [i for i, r in enumerate(results(window)) if r == "applied"][1]
    save(window, logic, "fast {SPEED}", "quick {SPEED}")
    qtbot.waitUntil(lambda: results(window).count("applied") == 4, timeout=WAIT)
    before = logic.read_text()
    assert window.revert_reload(second) is False
    assert logic.read_text() == before and not window.editor().is_modified
    assert any(r.startswith("↶ cannot revert build") and "same lines" in r for r in rows(window))
    assert window.state.running


def test_problem_marks_say_what_without_the_path(qtbot, make_window, tmp_path: Path) -> None:
    """Step 5's syntax error was annotated `counter: expected ':'
    (/tmp/walk-clone/samples/counter/counter.py:26:19)` under its line: the module
    and the path of the file being shown, longer than the line itself."""
    folder = tmp_path / "counter"
    shutil.copytree(SAMPLES / "counter", folder, ignore=shutil.ignore_patterns(".hcr", "__pycache__"))
    window = make_window(folder)
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: "counter" in window.state.modules, timeout=WAIT)
    code = folder / "counter.py"
    save(window, code, "    step: int = 1\n", "    step: int = 1\n    speed: int = 2\n")
    editor = window.editor()
    qtbot.waitUntil(lambda: bool(editor.problem_lines), timeout=WAIT)
    assert editor.annotation(editor.problem_lines[0]) == "class Counter: field 'speed' added"
    save(window, code, "    speed: int = 2\n", "")
    qtbot.waitUntil(lambda: editor.problem_lines == [], timeout=WAIT)
    save(window, code, "def tick() -> None:", "def tick() -> None")
    qtbot.waitUntil(lambda: bool(editor.problem_lines), timeout=WAIT)
    line = editor.problem_lines[0]
    assert editor.text().splitlines()[line - 1] == "def tick() -> None"
    text = editor.annotation(line)
    assert text.startswith("SyntaxError: ") and text.endswith("(column 19)"), text
    assert str(folder) not in text
