"""The Project pane: the lazily filled file tree and its context menu.

Names are never cut: the name column is as wide as its widest row on screen (a
horizontal scroll bar appears when the pane is narrower), and at least the width the
state columns leave. The context menu opens, makes, renames and deletes (after a
question) files and folders, and shows or sets the main script. Questions go through
``ask_text``, ``ask_yes`` and ``warn``, which tests replace.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QInputDialog,
    QMenu,
    QMessageBox,
    QTreeView,
    QWidget,
)

from hcride.controller.state import norm
from hcride.ide.models.module_tree import IsDirRole, ModuleTreeModel, PathRole

STATE_COLUMNS = {1: (0.2, 46, 58), 2: (0.36, 76, 112)}
"""column -> (share of the pane's width, minimum px, maximum px)."""


class Host(Protocol):
    """What the tree needs from the main window."""

    project: Path | None
    tabs: Any

    def open_file(self, path: Path | str, line: int = 0) -> Any: ...
    def main_script(self) -> Path | None: ...
    def set_main_script(self, path: Path) -> None: ...


class ProjectTree(QTreeView):
    """``QTreeView`` named ``moduleTree`` over a ``ModuleTreeModel``."""

    def __init__(self, model: ModuleTreeModel, host: Host, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("moduleTree")
        self.host = host
        self.setModel(model)
        self.setUniformRowHeights(True)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu_at)
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self.fit_columns)
        for signal in (self.expanded, self.collapsed):
            signal.connect(self._fit_timer.start)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._fit_timer.start)
        self.ask_text: Any = lambda title, label, text: _ask_text(self, title, label, text)
        """``ask_text(title, label, text) -> str | None`` (None: cancelled)."""
        self.ask_yes: Any = lambda title, text: _ask_yes(self, title, text)
        """``ask_yes(title, text) -> bool``."""
        self.warn: Any = lambda title, text: QMessageBox.warning(self, title, text)

    @property
    def tree_model(self) -> ModuleTreeModel:
        model = self.model()
        assert isinstance(model, ModuleTreeModel)
        return model

    # ------------------------------------------------------------------ layout

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit_timer.start()

    def fit_columns(self) -> None:
        """State columns at their share of the width; the name column as wide as its
        widest visible name, and at least what is left."""
        header = self.header()
        width = self.viewport().width()
        used = 0
        for column, (share, low, high) in STATE_COLUMNS.items():
            size = max(low, min(high, int(width * share)))
            header.resizeSection(column, size)
            used += size
        header.resizeSection(0, max(self.sizeHintForColumn(0), width - used))

    # ------------------------------------------------------------ context menu

    def _menu_at(self, pos: QPoint) -> None:
        menu = self.context_menu(self.indexAt(pos))
        menu.exec(self.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def context_menu(self, index: QModelIndex) -> QMenu:
        """The menu for the row at ``index`` (invalid: the project folder)."""
        menu = QMenu(self)
        path = Path(index.data(PathRole)) if index.isValid() else None
        is_dir = bool(index.data(IsDirRole)) if index.isValid() else True
        folder = (path if is_dir else path.parent) if path is not None else self.host.project

        def add(text: str, name: str, slot: Any, enabled: bool = True) -> QAction:
            action = menu.addAction(text)
            action.setObjectName(name)
            action.setEnabled(enabled)
            action.triggered.connect(slot)
            return action

        if path is not None and not is_dir:
            add("Open", "treeOpen", lambda: self.host.open_file(path))
            menu.addSeparator()
        if folder is not None:
            add("New File…", "treeNewFile", lambda: self.new_file(folder))
            add("New Folder…", "treeNewFolder", lambda: self.new_folder(folder))
        if path is not None:
            menu.addSeparator()
            add("Rename…", "treeRename", lambda: self.rename(path))
            add("Delete…", "treeDelete", lambda: self.delete(path))
        menu.addSeparator()
        if path is not None and not is_dir and path.suffix == ".py":
            is_main = self.host.main_script() == Path(norm(path))
            add("Set as Main Script", "treeSetMain", lambda: self.set_main(path), not is_main)
        add("Reveal Main Script", "treeRevealMain", self.reveal_main_script,
            self.host.main_script() is not None)  # fmt: skip
        return menu

    # ----------------------------------------------------------------- actions

    def _checked_name(self, folder: Path, name: str | None) -> Path | None:
        if name is None:
            return None
        name = name.strip()
        if not name or name in (".", "..") or "/" in name or "\0" in name or os.sep in name:
            self.warn("Invalid name", f"{name!r} is not a file or folder name.")
            return None
        target = folder / name
        if target.exists() or target.is_symlink():
            self.warn("Already exists", f"{target} already exists; nothing was changed.")
            return None
        return target

    def new_file(self, folder: Path) -> Path | None:
        """Ask for a name, create the empty file in ``folder``, show it and open it."""
        target = self._checked_name(folder, self.ask_text("New File", "File name:", ""))
        if target is None:
            return None
        try:
            with open(target, "x", encoding="utf-8"):
                pass
        except OSError as exc:
            self.warn("New File", f"Could not create {target}:\n{exc.strerror or exc}")
            return None
        self.tree_model.refresh_folder(folder)
        self.select_path(target)
        self.host.open_file(target)
        return target

    def new_folder(self, folder: Path) -> Path | None:
        target = self._checked_name(folder, self.ask_text("New Folder", "Folder name:", ""))
        if target is None:
            return None
        try:
            target.mkdir()
        except OSError as exc:
            self.warn("New Folder", f"Could not create {target}:\n{exc.strerror or exc}")
            return None
        self.tree_model.refresh_folder(folder)
        self.select_path(target)
        return target

    def _open_editors_under(self, path: Path) -> list[Any]:
        key = norm(path)
        return [
            ed for ed in self.host.tabs.editors()
            if ed.path is not None
            and (norm(ed.path) == key or norm(ed.path).startswith(key + os.sep))
        ]  # fmt: skip

    def rename(self, path: Path) -> Path | None:
        """Ask for a new name; open editors of the file (or of files in the folder)
        follow it. A file with unsaved changes is not renamed under its editor."""
        dirty = [ed for ed in self._open_editors_under(path) if ed.is_modified]
        if dirty:
            names = ", ".join(ed.path.name for ed in dirty)
            self.warn("Rename", f"Save or close {names} first: it has unsaved changes.")
            return None
        target = self._checked_name(path.parent, self.ask_text("Rename", "New name:", path.name))
        if target is None:
            return None
        reopen = []
        for ed in self._open_editors_under(path):
            reopen.append(target / Path(norm(ed.path)).relative_to(norm(path)))
            self.host.tabs.close_tab(self.host.tabs.indexOf(ed), ask=False)
        try:
            os.rename(path, target)
        except OSError as exc:
            self.warn("Rename", f"Could not rename {path}:\n{exc.strerror or exc}")
            reopen = [path / p.relative_to(target) for p in reopen]
            target = None
        for file in reopen:
            if file.is_file():
                self.host.open_file(file)
        self.tree_model.refresh_folder(path.parent)
        if target is not None:
            if self.host.main_script() == Path(norm(path)):
                self.host.set_main_script(target)
            self.select_path(target)
        return target

    def delete(self, path: Path) -> bool:
        """Ask, close the file's editors (asking about unsaved text), delete."""
        what = "the folder and everything in it" if path.is_dir() else "the file"
        if not self.ask_yes("Delete", f"Delete {what} {path}?\nThis cannot be undone."):
            return False
        for ed in self._open_editors_under(path):
            if not self.host.tabs.close_tab(self.host.tabs.indexOf(ed), ask=True):
                return False
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError as exc:
            self.warn("Delete", f"Could not delete {path}:\n{exc.strerror or exc}")
        self.tree_model.refresh_folder(path.parent)
        return not path.exists()

    def set_main(self, path: Path) -> None:
        self.host.set_main_script(path)
        self.tree_model.refresh()

    def reveal_main_script(self) -> None:
        main = self.host.main_script()
        if main is not None:
            self.select_path(main)

    def select_path(self, path: Path | str) -> bool:
        """Expand the folders down to ``path``, select its row and scroll to it."""
        index = self.tree_model.index_for_path(path)
        if not index.isValid():
            return False
        parent = index.parent()
        while parent.isValid():
            self.expand(parent)
            parent = parent.parent()
        self.setCurrentIndex(index)
        self.scrollTo(index)
        return True


def _ask_text(parent: QWidget, title: str, label: str, text: str) -> str | None:
    value, ok = QInputDialog.getText(parent, title, label, text=text)
    return value if ok else None


def _ask_yes(parent: QWidget, title: str, text: str) -> bool:
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel
    answer = QMessageBox.question(parent, title, text, buttons, QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes
