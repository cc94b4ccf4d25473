"""The samples' READMEs hold in the IDE's default reload mode (issue 10 item 4): the
asyncio and counter samples call perform_code_reload() themselves; under Detect they
run in Manual mode and see every save at their own reload point."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from hcride.ide import MainWindow

pytestmark = pytest.mark.gui
WAIT = 60_000
SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture
def open_sample(qtbot, tmp_path: Path) -> Iterator:
    windows: list[MainWindow] = []

    def make(name: str, args: str = "") -> MainWindow:
        project = tmp_path / name
        shutil.copytree(SAMPLES / name, project, ignore=shutil.ignore_patterns(".hcr", "__pycache__"))
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(project=project, settings=settings, recovery_dir=tmp_path / "rec")
        window.tabs.ask = lambda *a: "Discard"
        window.ask_stop = lambda text: True
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        assert window.reload_mode == "detect", "the default"
        if args:
            window.set_run_config(window.run_config().with_(args=args))
        window.actionRun.trigger()
        return window

    yield make
    for window in windows:
        window.close()


def text(window: MainWindow) -> str:
    window.console_model.flush()
    return window.console_model.text()


def log_text(window: MainWindow) -> str:
    """Every line of the reload log, details included."""
    out: list[str] = []
    stack = [n for e in window.state.log for n in e.details]
    while stack:
        node = stack.pop()
        out.append(node.text)
        stack.extend(node.children)
    return "\n".join(out)


def save(window: MainWindow, file: str, *edits: tuple[str, str]) -> None:
    editor = window.open_file(window.project / file)
    new = editor.text()
    for old, replacement in edits:
        assert old in new
        new = new.replace(old, replacement)
    editor.set_text(new)
    window.actionSave.trigger()


def test_asyncio_sample_readme(qtbot, open_sample) -> None:
    window = open_sample("asyncio", "40 0.1")
    qtbot.waitUntil(lambda: "worker 1 v1: 3" in text(window), timeout=WAIT)
    qtbot.waitUntil(lambda: window.status_mode.text().startswith("manual mode (detect"),
                    timeout=WAIT)  # fmt: skip
    save(window, "tasks.py", ("v1", "v2"), ("n += 1", "n += 10"))
    # "worker 2 starts, prints v2 and counts 1, 11, 21..."; worker 1 goes on with v1
    qtbot.waitUntil(lambda: "worker 2 v2: 21" in text(window), timeout=WAIT)
    assert "[main] started worker 2" in text(window)
    after = text(window).split("[main] started worker 2", 1)[1]
    assert "worker 1 v1:" in after, "worker 1 keeps its code"


def test_counter_sample_readme(qtbot, open_sample) -> None:
    window = open_sample("counter")
    qtbot.waitUntil(lambda: "count is 2" in text(window), timeout=WAIT)
    save(window, "counter.py", ('f"count is {value}"', 'f"total {value}"'))
    qtbot.waitUntil(lambda: "[reload] applied: counter" in text(window), timeout=WAIT)
    qtbot.waitUntil(lambda: "counter.py reloaded (1 so far), value kept at" in text(window),
                    timeout=WAIT)  # fmt: skip
    kept = int(text(window).split("value kept at ")[1].split()[0])
    qtbot.waitUntil(lambda: f"total {kept + 1}" in text(window), timeout=WAIT)
    save(window, "counter.py", ("    step: int = 1\n", "    step: int = 1\n    speed: int = 2\n"))
    qtbot.waitUntil(lambda: "field 'speed' added" in log_text(window), timeout=WAIT)
    count = text(window).count("total")
    qtbot.waitUntil(lambda: text(window).count("total") > count + 2, timeout=WAIT)
    editor = window.editor()
    assert editor.problem_lines, "the refused field is marked"
    # removing the line is the running version again: said in the log, marks cleared
    save(window, "counter.py", ("    speed: int = 2\n", ""))
    qtbot.waitUntil(lambda: any(e.result.startswith("back to") for e in window.state.log),
                    timeout=WAIT)  # fmt: skip
    qtbot.waitUntil(lambda: editor.problem_lines == [], timeout=WAIT)
    save(window, "counter.py", ('f"total {value}"', 'f"sum {value}"'))
    qtbot.waitUntil(lambda: text(window).count("[reload] applied: counter") == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: "sum " in text(window), timeout=WAIT)
