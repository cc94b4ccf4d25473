"""The Project pane on a real window: every file, names in full, filled lazily, a
context menu that makes, renames and deletes files on disk, and module states while
a real program runs."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QSettings
from PySide6.QtGui import QAction

from hcride.ide import MainWindow
from hcride.ide.models.module_tree import FETCH_BATCH, PathRole

pytestmark = pytest.mark.gui
WAIT = 60_000
LONG = "a_module_with_a_rather_long_name_that_used_to_be_cut.py"

MAIN = """\
import time

import pkg.logic

while True:
    pkg.logic.tick()
    time.sleep(0.05)
"""

LOGIC = """\
counter = 0


def tick():
    global counter
    counter += 1
    print(f"hello {counter}", flush=True)
"""


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_project(root: Path) -> Path:
    write(root / "main.py", MAIN)
    write(root / "pkg" / "__init__.py")
    write(root / "pkg" / "logic.py", LOGIC)
    write(root / "pkg" / LONG, "X = 1\n")
    write(root / "README.md", "# readme\n")
    write(root / "config.toml", "[tool]\n")
    write(root / "data" / "table.csv", "a,b\n")
    write(root / ".hcr" / "builds" / "1" / "main.py")
    write(root / "__pycache__" / "junk.pyc")
    return root


@pytest.fixture
def make_window(qtbot, tmp_path: Path) -> Iterator:
    windows: list[MainWindow] = []

    def make(project: Path) -> MainWindow:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
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


def names(window: MainWindow, parent: QModelIndex | None = None) -> list[str]:
    model = window.tree_model
    parent = parent if parent is not None else QModelIndex()
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def row_of(window: MainWindow, path: Path) -> QModelIndex:
    index = window.tree_model.index_for_path(path)
    assert index.isValid(), f"{path} not in the tree"
    return index


def menu_action(window: MainWindow, index: QModelIndex, name: str) -> QAction:
    menu = window.module_tree.context_menu(index)
    action = menu.findChild(QAction, name)
    assert action is not None, [a.objectName() for a in menu.actions()]
    return action


def test_every_file_shown_lazily_with_full_names(qtbot, make_window, tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    window = make_window(project)
    model = window.tree_model
    assert names(window) == ["data", "pkg", "config.toml", "main.py", "README.md"]
    assert model.listings == 1, "only the project folder is listed at first"
    pkg = row_of(window, project / "pkg")
    assert model.hasChildren(pkg)
    window.module_tree.expand(pkg)
    qtbot.waitUntil(lambda: model.rowCount(pkg) == 3, timeout=WAIT)
    assert names(window, pkg) == ["__init__.py", LONG, "logic.py"]
    # the name column is as wide as the longest name on screen: nothing is cut
    tree = window.module_tree
    window.resize(500, 400)
    qtbot.waitUntil(lambda: tree.header().sectionSize(0) >= tree.sizeHintForColumn(0))
    text = tree.fontMetrics().horizontalAdvance(LONG)
    assert tree.header().sectionSize(0) >= text + tree.indentation()
    # a file made on disk by another program shows up in a listed folder
    write(project / "pkg" / "later.txt", "x")
    qtbot.waitUntil(lambda: "later.txt" in names(window, pkg), timeout=WAIT)
    (project / "config.toml").unlink()
    qtbot.waitUntil(lambda: "config.toml" not in names(window), timeout=WAIT)


def test_a_big_folder_is_listed_in_slices(qtbot, make_window, tmp_path: Path) -> None:
    project = tmp_path / "big"
    for i in range(FETCH_BATCH * 2 + 10):
        write(project / "many" / f"f{i:05}.txt")
    for i in range(50):
        write(project / f"dir{i:02}" / "x.py")
    window = make_window(project)
    model = window.tree_model
    assert model.listings == 1
    many = row_of(window, project / "many")
    assert model.canFetchMore(many)
    model.fetchMore(many)
    assert model.rowCount(many) == FETCH_BATCH
    while model.canFetchMore(many):
        model.fetchMore(many)
    assert model.rowCount(many) == FETCH_BATCH * 2 + 10
    assert model.listings == 2, "the 50 other folders were never listed"


def test_context_menu_new_rename_delete_main(qtbot, make_window, tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    window = make_window(project)
    tree = window.module_tree
    pkg = row_of(window, project / "pkg")

    tree.ask_text = lambda title, label, text: "fresh.py"
    menu_action(window, pkg, "treeNewFile").trigger()
    fresh = project / "pkg" / "fresh.py"
    assert fresh.is_file()
    assert "fresh.py" in names(window, pkg)
    assert window.editor() is not None and window.editor().path == fresh

    warnings: list[str] = []
    tree.warn = lambda title, text: warnings.append(text)
    menu_action(window, pkg, "treeNewFile").trigger()  # the same name again
    assert warnings and "already exists" in warnings[-1]

    tree.ask_text = lambda title, label, text: "sub"
    menu_action(window, pkg, "treeNewFolder").trigger()
    assert (project / "pkg" / "sub").is_dir() and "sub" in names(window, pkg)

    tree.ask_text = lambda title, label, text: "renamed.py"
    menu_action(window, row_of(window, fresh), "treeRename").trigger()
    renamed = project / "pkg" / "renamed.py"
    assert renamed.is_file() and not fresh.exists()
    assert "renamed.py" in names(window, pkg) and "fresh.py" not in names(window, pkg)
    assert window.tabs.editor_for(renamed) is not None, "the open editor follows the file"
    assert window.tabs.editor_for(fresh) is None

    tree.ask_yes = lambda title, text: False
    menu_action(window, row_of(window, renamed), "treeDelete").trigger()
    assert renamed.is_file(), "answering no deletes nothing"
    questions: list[str] = []
    tree.ask_yes = lambda title, text: questions.append(text) or True
    menu_action(window, row_of(window, renamed), "treeDelete").trigger()
    assert not renamed.exists() and "renamed.py" in questions[0]
    assert "renamed.py" not in names(window, pkg)
    assert window.tabs.editor_for(renamed) is None

    other = write(project / "tools" / "run_me.py", "print('hi')\n")
    window.tree_model.refresh_folder(project)
    menu_action(window, row_of(window, other), "treeSetMain").trigger()
    assert window.main_script() == other
    tree.setCurrentIndex(row_of(window, project / "README.md"))
    menu_action(window, QModelIndex(), "treeRevealMain").trigger()
    assert tree.currentIndex().data(PathRole) == str(other)
    assert not menu_action(window, row_of(window, other), "treeSetMain").isEnabled()


def test_module_states_while_running_without_relisting(qtbot, make_window, tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    window = make_window(project)
    model = window.tree_model
    pkg = row_of(window, project / "pkg")
    window.module_tree.expand(pkg)
    qtbot.waitUntil(lambda: model.rowCount(pkg) == 3, timeout=WAIT)
    listed = model.listings
    window.actionRun.trigger()
    qtbot.waitUntil(lambda: "hello" in window.console_model.text(), timeout=WAIT)
    logic = row_of(window, project / "pkg" / "logic.py")
    qtbot.waitUntil(lambda: logic.siblingAtColumn(2).data() == "unchanged", timeout=WAIT)
    assert logic.siblingAtColumn(1).data() == "v1"
    assert row_of(window, project / "main.py").siblingAtColumn(2).data() == "main script"
    assert row_of(window, project / "README.md").siblingAtColumn(2).data() == ""
    editor = window.open_file(project / "pkg" / "logic.py")
    editor.set_text(editor.text().replace("hello", "bye"))
    window.actionSave.trigger()
    qtbot.waitUntil(lambda: "bye" in window.console_model.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: logic.siblingAtColumn(1).data() == "v2", timeout=WAIT)
    assert logic.siblingAtColumn(2).data() == "reloaded"
    # module events repaint rows and never list the project again; a save relists
    # only the folder it wrote in (atomic saves make a temporary file there)
    assert model.canFetchMore(row_of(window, project / "data")), "never listed"
    assert model.listings <= listed + 4
    window.stop()
