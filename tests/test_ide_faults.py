"""The IDE after a refused save that is undone: "back to the running version"."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from test_ide_session import (  # noqa: F401  (make_window is a fixture)
    WAIT,
    log_results,
    make_window,
    run_and_wait,
    tree_state,
    write_project,
)

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("edit", ["syntax", "shape"])
def test_undoing_a_refused_save_clears_marks_and_tree_state(
    qtbot, make_window, tmp_path: Path, edit: str  # noqa: F811
) -> None:
    """Issue 10.1 / 9.12: undo the refused edit, save: the log says "back to running
    version", the module is no longer red, the marks are gone, nothing was rebuilt."""
    project = write_project(tmp_path / "proj")
    window = make_window(project)
    run_and_wait(qtbot, window)
    editor = window.open_file(project / "logic.py")
    original = editor.text()
    if edit == "syntax":
        broken, state = original.replace("def tick():", "def tick(:"), "error"
    else:
        broken, state = original.replace("    x: int = 0\n", "    x: int = 0\n    v: int = 1\n"), (
            "rejected"
        )
    editor.set_text(broken)
    window.actionSave.trigger()
    qtbot.waitUntil(lambda: "rejected" in log_results(window), timeout=WAIT)
    qtbot.waitUntil(lambda: bool(editor.problem_lines), timeout=WAIT)
    assert tree_state(window, "logic")[1] == state
    editor.undo()
    assert editor.text() == original
    window.actionSave.trigger()
    qtbot.waitUntil(lambda: "back to running version" in log_results(window), timeout=WAIT)
    qtbot.waitUntil(lambda: editor.problem_lines == [], timeout=WAIT)
    assert tree_state(window, "logic") == ("v1", "unchanged")
    assert "applied" not in log_results(window)
    assert window.state.running
