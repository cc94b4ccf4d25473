"""The IDE after a refused save that is undone: "back to the running version"."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import stat
import subprocess
import sys
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

from hcride.controller.interpreter import hcride_root

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


@pytest.fixture
def parts_window(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSettings

    from hcride.ide import MainWindow

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


def test_a_read_only_file_asks_before_it_is_overwritten(parts_window) -> None:  # type: ignore[no-untyped-def]
    """13.8: Ctrl+S on a 0444 file asks; Cancel writes nothing, Overwrite saves and
    the file stays read-only."""
    path = parts_window.project / "logic.py"
    path.chmod(0o444)
    editor = parts_window.open_file(path)
    editor.set_text("x = 2\n")
    asked: list[str] = []
    parts_window.tabs.ask = lambda title, text, choices: asked.append(text) or "Cancel"
    assert not parts_window.save()
    assert path.read_text() == "x = 1\n" and editor.is_modified
    assert asked and "read-only" in asked[0]
    parts_window.tabs.ask = lambda title, text, choices: "Overwrite"
    assert parts_window.save()
    assert path.read_text() == "x = 2\n" and not editor.is_modified
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_reload_from_disk_can_be_undone(parts_window) -> None:  # type: ignore[no-untyped-def]
    """13.8: "Reload from disk" over unsaved text: Ctrl+Z brings the text back."""
    path = parts_window.project / "logic.py"
    editor = parts_window.open_file(path)
    editor.set_text("x = 'my unsaved work'\n")
    parts_window.tabs.ask = lambda title, text, choices: "Reload from disk"
    path.write_text("x = 'from disk'\n")
    parts_window.tabs.check_disk()
    assert editor.text() == "x = 'from disk'\n" and not editor.is_modified
    editor.undo()
    assert editor.text() == "x = 'my unsaved work'\n" and editor.is_modified


READ_ONLY_FOLDER_SAVE = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from pathlib import Path
from PySide6.QtWidgets import QApplication
from hcride.ide.editor_tabs import EditorTabs
from hcride.ide.theme import load_theme
app = QApplication([])
folder = Path(sys.argv[1])
tabs = EditorTabs(load_theme("light"))
tabs.warn = lambda title, text: print("WARN", text.replace("\\n", " "))
tabs.ask = lambda title, text, choices: print("ASK", title) or "Overwrite"
ed = tabs.open(folder / "logic.py")
ed.set_text("x = 2\\n")
print("saved" if tabs.save(ed) else "not saved")
ed = tabs.open(folder / "other.py")
ed.set_text("y = 2\\n")
print("saved" if tabs.save(ed) else "not saved")
"""


def test_a_writable_file_in_a_read_only_folder_is_saved_in_place(tmp_path: Path) -> None:
    """13.8: no temporary file can be made in the folder: the file is written in
    place. Run without the power to ignore permissions (root drops DAC override)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "logic.py").write_text("x = 1\n")
    (folder / "other.py").write_text("y = 1\n")
    (folder / "other.py").chmod(0o444)  # and a read-only file there cannot be saved
    folder.chmod(0o555)
    inode = (folder / "logic.py").stat().st_ino
    command = [sys.executable, "-c", READ_ONLY_FOLDER_SAVE, str(folder)]
    if os.geteuid() == 0:
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    env = dict(os.environ, PYTHONPATH=str(hcride_root()))
    try:
        out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=90)
    finally:
        folder.chmod(0o755)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "saved", out.stdout + out.stderr
    assert (folder / "logic.py").read_text() == "x = 2\n"
    assert (folder / "logic.py").stat().st_ino == inode
    assert sorted(p.name for p in folder.iterdir()) == ["logic.py", "other.py"]
    assert lines[1:] == ["ASK Read-only file", lines[2], "not saved"], lines
    assert lines[2].startswith("WARN") and "Permission denied" in lines[2]
    assert (folder / "other.py").read_text() == "y = 1\n"


def test_the_reload_log_is_bounded_and_its_sync_work_too(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """13.9: thousands of saves keep the newest rows only, in the state and in the
    view, and a sync compares only the rows that can still change."""
    from hcride.controller import events as ev
    from hcride.controller import state as state_module
    from hcride.controller.state import SessionState
    from hcride.ide.models import reload_log
    from hcride.ide.models.reload_log import ReloadLogModel
    from hcride.ide.theme import load_theme
    from hcride.runtime.report import ModuleReport, ReloadResult

    state = SessionState()
    model = ReloadLogModel(state, load_theme("light"))
    state.apply(ev.ProgramStarted(pid=1, script="/p/main.py", python="python3"))
    calls = {"n": 0}
    signature = reload_log._signature

    def counting(entry):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return signature(entry)

    monkeypatch.setattr(reload_log, "_signature", counting)
    per_sync: list[int] = []
    for build in range(1, 3001):
        state.apply(ev.BuildStarted(build=build, files=("/p/logic.py",)))
        state.apply(ev.BuildReady(build=build, modules=("logic",)))
        result = ReloadResult(reloaded=["logic"], build=build,
                              modules=[ModuleReport("logic", "/p/logic.py", build + 1)])  # fmt: skip
        state.apply(ev.ReloadApplied(result=result))
        calls["n"] = 0
        model.sync()
        per_sync.append(calls["n"])
    limit = state_module.MAX_LOG_ROWS + state_module.LOG_SLACK
    assert len(state.log) <= limit and state.log_dropped > 0
    assert model.rowCount() == len(state.log)
    assert [model.entry(model.index(r, 0)) for r in range(model.rowCount())] == state.log
    assert model.entry(model.index(model.rowCount() - 1, 0)).build == 3000
    assert max(per_sync[-500:]) <= 3, per_sync[-10:]


def test_the_version_history_for_reverts_is_bounded() -> None:
    """13.9: the texts kept to revert a reload stay bounded over many saves, and the
    text before each kept build is still right."""
    from hcride.controller.state import MAX_LOG_ROWS
    from hcride.ide.live import VersionHistory

    history = VersionHistory()
    history.baseline["/p/logic.py"] = b"v0"
    for build in range(1, 2001):
        history.applied_build(build, {"/p/logic.py": f"v{build}".encode()})
    assert len(history.applied) == MAX_LOG_ROWS
    assert history.before(2000, "/p/logic.py") == b"v1999"
    first_kept = history.applied[0][0]
    assert history.before(first_kept, "/p/logic.py") == f"v{first_kept - 1}".encode()
