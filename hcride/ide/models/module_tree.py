"""Every file of the project, filled lazily, with each loaded module's version and state.

A folder is listed when the view first shows its contents (``canFetchMore`` /
``fetchMore``), in slices of ``FETCH_BATCH`` rows, so opening a 20,000-file project
or running a 1,000-module program costs the GUI what is on screen. A listed folder
is watched (``QFileSystemWatcher``: one inotify watch per listed folder) and listed
again when it changes; only its rows that changed are inserted or removed. The
module states are an overlay read from ``SessionState`` per row (a dict lookup):
``refresh`` repaints the state columns of the listed rows, nothing is re-listed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

from hcride.controller.state import ModuleStatus, SessionState, norm
from hcride.ide.models.base import ColumnsModel
from hcride.ide.theme import Theme

HIDDEN = frozenset({".git", ".hcr", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
"""Names never shown: version control and tool caches (hcride's own ``.hcr`` too)."""
FETCH_BATCH = 500
"""Rows added per ``fetchMore``: a folder of 20,000 files is listed as it scrolls."""
PathRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2
IsDirRole = Qt.ItemDataRole.UserRole + 3
Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()


@dataclass(eq=False)
class Node:
    name: str
    path: str
    is_dir: bool
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    row: int = 0
    """This node's row under its parent (kept current on every insert/remove)."""
    listed: bool = False
    """A folder whose entries were read (maybe not all inserted yet: ``pending``)."""
    pending: list[tuple[str, bool]] = field(default_factory=list)
    """Entries read but not inserted yet (``fetchMore`` adds them in slices)."""


def list_folder(folder: str) -> list[tuple[str, bool]]:
    """``(name, is_dir)`` of a folder's entries: folders first, then by name."""
    out: list[tuple[str, bool]] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name in HIDDEN:
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                out.append((entry.name, is_dir))
    except OSError:
        return []
    out.sort(key=lambda e: (not e[1], e[0].casefold(), e[0]))
    return out


def status_icon(colour: QColor, size: int = 12) -> QIcon:
    pix = QPixmap(size * 2, size * 2)
    pix.setDevicePixelRatio(2.0)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(colour.darker(130))
    p.setBrush(colour)
    p.drawEllipse(2, 2, size - 4, size - 4)
    p.end()
    return QIcon(pix)


class ModuleTreeModel(ColumnsModel):
    """Columns: file or folder, version, state (``ModuleStatus`` text)."""

    HEADERS = ("Module", "Version", "State")

    def __init__(self, state: SessionState, theme: Theme, parent: Any = None) -> None:
        super().__init__(parent)
        self.state = state
        self.theme = theme
        self._icons: dict[str, QIcon] = {}
        self.root = Node("", "", True, listed=True)
        self._by_path: dict[str, Node] = {}
        self._listed: set[Node] = set()
        """Folders listed so far: ``refresh`` repaints their rows, nothing else."""
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self.refresh_folder)
        self.listings = 0
        """Folders listed so far (a count for tests: the tree lists what is shown)."""

    # ---------------------------------------------------------------- feeding

    def set_project(self, project: Path | None) -> None:
        self.beginResetModel()
        folders = self._watcher.directories()
        if folders:
            self._watcher.removePaths(folders)
        self._by_path = {}
        self._listed = set()
        if project is None:
            self.root = Node("", "", True, listed=True)
        else:
            self.root = Node(project.name, norm(project), True)
            self._by_path[self.root.path] = self.root
            self._list(self.root)
            self._insert_pending(self.root, signal=False)
        self.endResetModel()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._icons.clear()
        self.refresh()

    def refresh(self) -> None:
        """The state changed: repaint the version and state columns of the listed rows
        (one signal per listed folder)."""
        for node in list(self._listed):
            if node.children:
                first, last = node.children[0], node.children[-1]
                self.dataChanged.emit(
                    self.createIndex(first.row, 0, first), self.createIndex(last.row, 2, last)
                )

    def index_for_path(self, path: str | Path) -> QModelIndex:
        """The row of ``path``, listing the folders on the way (invalid if outside)."""
        key = norm(path)
        node = self._by_path.get(key)
        if node is None and self.root.path and key.startswith(self.root.path + os.sep):
            here = self.root
            for part in Path(key).relative_to(self.root.path).parts:
                self._fetch_all(here)
                here = next((c for c in here.children if c.name == part), None)  # type: ignore[assignment]
                if here is None:
                    return QModelIndex()
            node = here
        if node is None or node is self.root:
            return QModelIndex()
        return self.createIndex(node.row, 0, node)

    def refresh_folder(self, folder: str | Path) -> None:
        """``folder`` changed on disk: insert and remove the rows that changed."""
        node = self._by_path.get(norm(folder))
        if node is None or not node.is_dir or not node.listed:
            return
        if not os.path.isdir(node.path):
            if node.parent is not None:
                self.refresh_folder(node.parent.path)
            return
        if node.pending:  # partly inserted: list it again from the start
            self._remove_rows(node, 0, len(node.children))
            node.listed, node.pending = False, []
            self._list(node)
            self._insert_pending(node)
            return
        fresh = list_folder(node.path)
        self.listings += 1
        wanted = {name for name, _ in fresh}
        row = 0
        while row < len(node.children):  # removals, one contiguous run at a time
            if node.children[row].name in wanted:
                row += 1
                continue
            end = row
            while end < len(node.children) and node.children[end].name not in wanted:
                end += 1
            self._remove_rows(node, row, end)
        have = {c.name for c in node.children}
        for pos, (name, is_dir) in enumerate(fresh):  # insertions, in sorted position
            if name in have:
                continue
            self.beginInsertRows(self._index_of(node), pos, pos)
            child = Node(name, os.path.join(node.path, name), is_dir, node)
            node.children.insert(pos, child)
            self._renumber(node, pos)
            self._by_path[child.path] = child
            self.endInsertRows()

    # ------------------------------------------------------------ internals

    def _list(self, node: Node) -> None:
        node.pending = list_folder(node.path)
        node.listed = True
        self._listed.add(node)
        self.listings += 1
        if node.path and node.path not in self._watcher.directories():
            self._watcher.addPath(node.path)

    def _insert_pending(self, node: Node, signal: bool = True) -> None:
        batch, node.pending = node.pending[:FETCH_BATCH], node.pending[FETCH_BATCH:]
        if not batch:
            return
        start = len(node.children)
        if signal:
            self.beginInsertRows(self._index_of(node), start, start + len(batch) - 1)
        for offset, (name, is_dir) in enumerate(batch):
            child = Node(name, os.path.join(node.path, name), is_dir, node, row=start + offset)
            node.children.append(child)
            self._by_path[child.path] = child
        if signal:
            self.endInsertRows()

    def _fetch_all(self, node: Node) -> None:
        if not node.listed:
            self._list(node)
        while node.pending:
            self._insert_pending(node)

    def _remove_rows(self, node: Node, start: int, end: int) -> None:
        """Remove children ``start`` to ``end - 1`` (and forget what is below them)."""
        if end <= start:
            return
        self.beginRemoveRows(self._index_of(node), start, end - 1)
        gone = node.children[start:end]
        del node.children[start:end]
        self._renumber(node, start)
        stack = list(gone)
        while stack:
            dead = stack.pop()
            self._by_path.pop(dead.path, None)
            self._listed.discard(dead)
            if dead.is_dir and dead.listed:
                self._watcher.removePath(dead.path)
            stack.extend(dead.children)
        self.endRemoveRows()

    @staticmethod
    def _renumber(node: Node, start: int) -> None:
        for row in range(start, len(node.children)):
            node.children[row].row = row

    def _index_of(self, node: Node) -> QModelIndex:
        if node is self.root or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row, 0, node)

    # ------------------------------------------------------------ model API

    def _node(self, index: Index) -> Node:
        return index.internalPointer() if index.isValid() else self.root

    def index(self, row: int, column: int, parent: Index = ROOT) -> QModelIndex:
        node = self._node(parent)
        if 0 <= row < len(node.children) and 0 <= column < 3:
            return self.createIndex(row, column, node.children[row])
        return QModelIndex()

    def parent(self, index: Index = ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        node: Node = index.internalPointer()
        up = node.parent
        if up is None or up is self.root:
            return QModelIndex()
        return self.createIndex(up.row, 0, up)

    def rowCount(self, parent: Index = ROOT) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def hasChildren(self, parent: Index = ROOT) -> bool:
        node = self._node(parent)
        if parent.isValid() and parent.column() != 0:
            return False
        return node.is_dir and (not node.listed or bool(node.children) or bool(node.pending))

    def canFetchMore(self, parent: Index) -> bool:
        node = self._node(parent)
        return node.is_dir and (not node.listed or bool(node.pending))

    def fetchMore(self, parent: Index) -> None:
        node = self._node(parent)
        if not node.is_dir:
            return
        if not node.listed:
            self._list(node)
        self._insert_pending(node)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node: Node = index.internalPointer()
        col = index.column()
        if role == PathRole:
            return node.path
        if role == IsDirRole:
            return node.is_dir
        if node.is_dir:
            if role == Qt.ItemDataRole.DisplayRole and col == 0:
                return node.name
            if role == Qt.ItemDataRole.DecorationRole and col == 0:
                return self._standard_icon(QStyle.StandardPixmap.SP_DirIcon)
            if role == Qt.ItemDataRole.ToolTipRole:
                return node.path
            return None
        status = self.state.status_for_file(node.path, resolved=True)
        if role == StatusRole:
            return status.value
        if role == Qt.ItemDataRole.DisplayRole and col == 0:
            return node.name
        if status == ModuleStatus.NOT_LOADED:
            if role == Qt.ItemDataRole.DecorationRole and col == 0:
                if node.name.endswith(".py"):
                    return self._icon(status.value)
                return self._standard_icon(QStyle.StandardPixmap.SP_FileIcon)
            if role == Qt.ItemDataRole.ToolTipRole:
                return node.path
            return "" if role == Qt.ItemDataRole.DisplayRole else None
        entry = self.state.module_for_file(node.path, resolved=True)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 1:
                return f"v{entry.version}" if entry is not None and entry.loaded else ""
            return status.value if col == 2 else None
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return self._icon(status.value)
        if role == Qt.ItemDataRole.ForegroundRole and col == 2:
            return self.theme.state_colour(status.value)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [node.path, status.value]
            if entry is not None:
                lines.insert(0, f"module {entry.name}")
            if entry is not None and entry.message:
                lines.append(entry.message)
            return "\n".join(lines)
        return None

    def _icon(self, status: str) -> QIcon:
        if status not in self._icons:
            self._icons[status] = status_icon(self.theme.state_colour(status))
        return self._icons[status]

    def _standard_icon(self, which: QStyle.StandardPixmap) -> QIcon:
        key = f"std:{int(which.value)}"
        if key not in self._icons:
            style = QApplication.style() if QApplication.instance() is not None else None
            self._icons[key] = style.standardIcon(which) if style is not None else QIcon()
        return self._icons[key]
