"""The project's Python files with each loaded module's version and state."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from hcride.controller.state import ModuleStatus, SessionState, norm
from hcride.ide.models.base import ColumnsModel
from hcride.ide.theme import Theme

SKIP_DIRS = {".git", ".hcr", "__pycache__", "site-packages", "node_modules", ".venv", "venv"}
MAX_FILES = 5000
PathRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2
Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()


@dataclass(eq=False)
class Node:
    name: str
    path: str
    is_dir: bool
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)

    def row(self) -> int:
        return self.parent.children.index(self) if self.parent else 0


def scan(project: Path) -> Node:
    """The tree of ``*.py`` files under ``project`` (virtualenvs and caches skipped)."""
    root = Node(project.name, norm(project), True)
    count = 0
    dirs: dict[str, Node] = {root.path: root}
    for folder, subdirs, files in os.walk(project):
        subdirs[:] = sorted(
            d
            for d in subdirs
            if d not in SKIP_DIRS
            and not d.startswith(".")
            and not (Path(folder, d) / "pyvenv.cfg").exists()
        )
        parent = dirs.get(norm(folder), root)
        for d in subdirs:
            node = Node(d, norm(Path(folder, d)), True, parent)
            dirs[node.path] = node
            parent.children.append(node)
        for f in sorted(files):
            if f.endswith(".py") and count < MAX_FILES:
                parent.children.append(Node(f, norm(Path(folder, f)), False, parent))
                count += 1
    _prune(root)
    return root


def _prune(node: Node) -> bool:
    """Drop folders without Python files; True when ``node`` keeps something."""
    node.children = [c for c in node.children if not c.is_dir or _prune(c)]
    return bool(node.children) or not node.is_dir


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
    """Columns: file or module, version, state (``ModuleStatus`` text)."""

    HEADERS = ("Module", "Version", "State")

    def __init__(self, state: SessionState, theme: Theme, parent: Any = None) -> None:
        super().__init__(parent)
        self.state = state
        self.theme = theme
        self._icons: dict[str, QIcon] = {}
        self.root = Node("", "", True)
        self._by_path: dict[str, Node] = {}

    # ---------------------------------------------------------------- feeding

    def set_project(self, project: Path | None) -> None:
        self.beginResetModel()
        self.root = scan(project) if project else Node("", "", True)
        self._by_path = {}
        stack = [self.root]
        while stack:
            node = stack.pop()
            self._by_path[node.path] = node
            stack.extend(node.children)
        self.endResetModel()

    def rescan(self, project: Path | None) -> None:
        """Re-read the file list when it changed (keeps the view when it did not)."""
        fresh = scan(project) if project else Node("", "", True)
        if _shape(fresh) != _shape(self.root):
            self.set_project(project)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._icons.clear()
        self.refresh()

    def refresh(self) -> None:
        """The state changed: repaint version and state columns of every row."""
        for node in self._by_path.values():
            if node.is_dir or node.parent is None:
                continue
            row = node.row()
            self.dataChanged.emit(self.createIndex(row, 0, node), self.createIndex(row, 2, node))

    def index_for_path(self, path: str) -> QModelIndex:
        node = self._by_path.get(norm(path))
        if node is None or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row(), 0, node)

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
        return self.createIndex(up.row(), 0, up)

    def rowCount(self, parent: Index = ROOT) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node: Node = index.internalPointer()
        col = index.column()
        if role == PathRole:
            return node.path
        if node.is_dir:
            if role == Qt.ItemDataRole.DisplayRole and col == 0:
                return node.name
            return None
        status = self.state.status_for_file(node.path)
        entry = self.state.module_for_file(node.path)
        if role == StatusRole:
            return status.value
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return node.name
            if col == 1:
                return f"v{entry.version}" if entry is not None and entry.loaded else ""
            return "" if status == ModuleStatus.NOT_LOADED else status.value
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


def _shape(node: Node) -> tuple:
    return (node.path, tuple(_shape(c) for c in node.children))
