"""The IDE as used all day (issue 10): reload mode per kind of program, tracebacks that
lead to their line, files opened/created/saved under another name, recent projects,
the window on a small screen. Each test drives the real window, most a real program."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QSize
from PySide6.QtWidgets import QLabel, QListWidget

from hcride.ide import MainWindow
from hcride.ide.main_window import default_size
from hcride.ide.models.reload_log import ResultRole

pytestmark = pytest.mark.gui
WAIT = 60_000


def write(root: Path, **files: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / f"{name}.py").write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def make_window(qtbot, tmp_path: Path) -> Iterator:
    windows: list[MainWindow] = []

    def make(project: Path | None, ini: str = "settings.ini") -> MainWindow:
        settings = QSettings(str(tmp_path / ini), QSettings.Format.IniFormat)
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


def console_rows(window: MainWindow) -> list[str]:
    model = window.console_model
    return [model.index(r).data() for r in range(model.rowCount())]


def edit(window: MainWindow, path: Path, old: str, new: str) -> None:
    editor = window.open_file(path)
    assert old in editor.text()
    editor.set_text(editor.text().replace(old, new))
    window.actionSave.trigger()


# ------------------------------------------------------------------ item 4: modes

PLAIN_MAIN = """\
import time

import logic

while True:
    logic.tick()
    time.sleep(0.05)
"""

LOGIC = """\
counter = 0


def tick():
    global counter
    counter += 1
    print(f"hello {counter}", flush=True)
"""

LATE_MAIN = """\
import os
import time

import logic

here = os.path.dirname(os.path.abspath(__file__))
hcr = None
while True:
    logic.tick()
    if hcr is None and os.path.exists(os.path.join(here, "use-api")):
        import late

        hcr = late.hcr
        print("api imported", flush=True)
    if hcr is not None and os.path.exists(os.path.join(here, "reload-now")):
        os.remove(os.path.join(here, "reload-now"))
        hcr.perform_code_reload()
    time.sleep(0.05)
"""

LATE = """\
from hcride import hotcodereloading as hcr
"""


def test_detect_is_the_default_and_follows_a_late_import_of_the_api(
    qtbot, make_window, tmp_path: Path
) -> None:
    """A plain script gets saves at once; once it imports the API (after its first
    build) the next save waits for its own perform_code_reload()."""
    project = write(tmp_path / "late", main=LATE_MAIN, logic=LOGIC, late=LATE)
    window = make_window(project)
    assert window.reload_mode == "detect" and window.mode_actions["detect"].isChecked()
    assert window.status_mode.text() == "detect mode"
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: "hello" in window.console_model.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: window.status_mode.text().startswith("auto mode"), timeout=WAIT)
    assert "does not import hotcodereloading" in window.status_mode.text()

    edit(window, project / "logic.py", 'f"hello {counter}"', 'f"first {counter}"')
    qtbot.waitUntil(lambda: "first" in window.console_model.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: log_results(window).count("applied") == 1, timeout=WAIT)

    (project / "use-api").write_text("")
    qtbot.waitUntil(lambda: "api imported" in window.console_model.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: window.status_mode.text().startswith("manual mode"), timeout=WAIT)
    assert "imports hotcodereloading" in window.status_mode.text()
    edit(window, project / "logic.py", 'f"first {counter}"', 'f"second {counter}"')
    count = window.console_model.rowCount()
    qtbot.waitUntil(lambda: window.console_model.rowCount() > count + 10, timeout=WAIT)
    assert "second" not in window.console_model.text(), "manual now: waits for the program"
    assert log_results(window).count("applied") == 1
    (project / "reload-now").write_text("")
    qtbot.waitUntil(lambda: "second" in window.console_model.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: log_results(window).count("applied") == 2, timeout=WAIT)


API_MAIN = """\
import time

import logic
from hcride import hotcodereloading as hcr

while True:
    logic.tick()
    hcr.perform_code_reload()
    time.sleep(0.05)
"""


def test_a_program_using_the_api_is_manual_and_reloads_itself(
    qtbot, make_window, tmp_path: Path
) -> None:
    project = write(tmp_path / "api", main=API_MAIN, logic=LOGIC)
    window = make_window(project)
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: window.status_mode.text().startswith("manual mode"), timeout=WAIT)
    assert window.status_mode.text() == (
        "manual mode (detect: the program imports hotcodereloading)"
    )
    edit(window, project / "logic.py", 'f"hello {counter}"', 'f"bye {counter}"')
    qtbot.waitUntil(lambda: "bye" in window.console_model.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: "applied" in log_results(window), timeout=WAIT)  # after output


# --------------------------------------------------------------- item 2: tracebacks

CRASH_MAIN = """\
import time

import logic

for _ in range(3):
    logic.tick()
    time.sleep(0.02)
logic.boom()
"""

CRASH_LOGIC = """\
counter = 0


def tick():
    global counter
    counter += 1
    print(f"hello {counter}", flush=True)


def boom():
    return counter / 0
"""


def test_a_crash_is_marked_and_traceback_rows_open_their_line(
    qtbot, make_window, tmp_path: Path
) -> None:
    project = write(tmp_path / "crash", main=CRASH_MAIN, logic=CRASH_LOGIC)
    window = make_window(project)
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: "code 1" in window.status_run.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: window.editor() is not None and
                    window.editor().path.name == "logic.py", timeout=WAIT)  # fmt: skip
    editor = window.editor()
    assert editor.problem_lines == [11]
    assert "ZeroDivisionError" in editor.annotation(11)
    assert editor.current_line() == 11
    # the main script's frame row of the traceback: activate it, main.py opens there
    rows = console_rows(window)
    frame = next(i for i, r in enumerate(rows) if r.strip().startswith('File "') and
                 r.strip().endswith("<module>") and "main.py" in r)  # fmt: skip
    window.console_pane.view.doubleClicked.emit(window.console_model.index(frame))
    assert window.editor().path == project / "main.py"
    assert window.editor().current_line() == 8
    # a new run clears the mark
    (project / "logic.py").write_text(CRASH_LOGIC.replace("counter / 0", "counter"))
    window.open_file(project / "logic.py")
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: "code 0" in window.status_run.text(), timeout=WAIT)
    assert window.tabs.editor_for(project / "logic.py").problem_lines == []


def test_a_syntax_error_in_the_main_script_is_marked(qtbot, make_window, tmp_path: Path) -> None:
    project = write(tmp_path / "syntax", main="import logic\n\nprint('a'\nx = (1,\n", logic=LOGIC)
    window = make_window(project)
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: "code 1" in window.status_run.text(), timeout=WAIT)
    editor = window.tabs.editor_for(project / "main.py")
    qtbot.waitUntil(lambda: bool(editor.problem_lines), timeout=WAIT)
    assert "SyntaxError" in editor.annotation(editor.problem_lines[0])


# ------------------------------------------------------------ item 5 (File) and 9


def test_open_new_and_save_as(qtbot, make_window, tmp_path: Path) -> None:
    project = write(tmp_path / "files", main="print('hi')\n")
    window = make_window(project)
    assert window.actionOpenFile.shortcut().toString() == "Ctrl+Shift+O"
    outside = tmp_path / "notes.txt"
    outside.write_text("a note\n")
    window.ask_open_file = lambda title, start: str(outside)
    window.actionOpenFile.trigger()
    assert window.editor().path == outside and "a note" in window.editor().text()

    window.ask_save_file = lambda title, start: str(project / "pkg" / "new.py")
    window.actionNewFile.trigger()
    assert (project / "pkg" / "new.py").is_file() and window.editor().path.name == "new.py"
    window.editor().set_text("value = 1\n")
    window.actionSave.trigger()
    assert (project / "pkg" / "new.py").read_text() == "value = 1\n"

    window.ask_save_file = lambda title, start: str(project / "copy.py")
    window.editor().set_text("value = 2\n")
    window.actionSaveAs.trigger()
    assert (project / "copy.py").read_text() == "value = 2\n"
    assert (project / "pkg" / "new.py").read_text() == "value = 1\n", "the old file is kept"
    assert window.editor().path == project / "copy.py" and not window.editor().is_modified
    assert window.tabs.tabText(window.tabs.currentIndex()) == "copy.py"
    window.ask_save_file = lambda title, start: ""  # cancelled: nothing changes
    assert window.save_as_dialog() is False and window.editor().path == project / "copy.py"


def test_recent_projects_about_and_start_page(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window(None, "fresh.ini")
    assert window.stack.currentWidget() is window.start_page
    recent = window.start_page.findChild(QListWidget, "recentProjects")
    label = window.start_page.findChild(QLabel, "recentProjectsLabel")
    assert recent.isHidden() and label.isHidden(), "no unlabelled empty box"
    one = write(tmp_path / "one", main="print(1)\n")
    two = write(tmp_path / "two", main="print(2)\n")
    window.open_project(one)
    window.open_project(two)
    window.recent_menu.aboutToShow.emit()
    entries = [a.text() for a in window.recent_menu.actions()]
    assert entries == [str(two.resolve()), str(one.resolve())]
    window.recent_menu.actions()[1].trigger()
    assert window.project == one.resolve()
    window.open_project(None)
    assert recent.isVisibleTo(window) and label.isVisibleTo(window) and recent.count() == 2
    shown: list[str] = []
    window.show_message = lambda title, html: shown.append(html)
    window.actionAbout.trigger()
    from hcride import __version__

    assert shown and __version__ in shown[0]


def test_default_window_fits_the_screen() -> None:
    assert default_size(QSize(1920, 1080)) == (1280, 800)
    width, height = default_size(QSize(1024, 600))  # a netbook, or 1920x1080 at 1.875x
    assert width <= 1024 * 0.92 and height <= 600 * 0.9


def test_window_starts_within_the_available_screen(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window(write(tmp_path / "fit", main="print(1)\n"))
    screen = window.screen().availableGeometry()
    assert window.frameGeometry().width() <= screen.width()
    assert window.frameGeometry().height() <= screen.height()


SCALED = """\
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

app = QApplication([])
from hcride.ide import MainWindow

project, ini = Path(sys.argv[1]), sys.argv[2]
window = MainWindow(project=project, settings=QSettings(ini, QSettings.Format.IniFormat),
                    recovery_dir=Path(ini).parent / "rec")
window.show()
for _ in range(5):
    app.processEvents()
screen, frame = app.primaryScreen().availableGeometry(), window.frameGeometry()
print(screen.width(), screen.height(), frame.width(), frame.height(), flush=True)
window.close()
"""


@pytest.mark.parametrize("scale", ["1", "1.5"])
def test_window_fits_the_screen_at_a_scale_factor(tmp_path: Path, scale: str) -> None:
    """A real IDE process with QT_SCALE_FACTOR: the window (and its frame) is within
    the screen's available area in device-independent pixels (800x800 offscreen at
    1.5 is 533x533)."""
    import subprocess
    import sys

    project = write(tmp_path / "scaled", main="print(1)\n", logic=LOGIC)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale)
    out = subprocess.run(
        [sys.executable, "-c", SCALED, str(project), str(tmp_path / "s.ini")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    sw, sh, fw, fh = (int(x) for x in out.stdout.split())
    assert fw <= sw and fh <= sh, out.stdout
