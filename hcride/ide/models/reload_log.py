"""The reload log: one row per build or reload, expandable into its details."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from hcride.controller.state import LogEntry, LogNode, SessionState
from hcride.ide.models.base import ColumnsModel
from hcride.ide.theme import Theme

FileRole = Qt.ItemDataRole.UserRole + 1
LineRole = Qt.ItemDataRole.UserRole + 2
ResultRole = Qt.ItemDataRole.UserRole + 3
Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()

_RESULT_STATE = {
    "applied": "reloaded",
    "rejected": "rejected",
    "failed": "error",
    "building": "build pending",
    "pending": "build pending",
    "restart needed": "restart needed",
    "ipc problem": "error",
    "started": "main script",
}

RESULT_TEXTS = (
    "applied", "rejected", "failed", "building", "pending", "restart needed", "ipc problem",
    "started", "stopped", "exited with code 255", "killed by SIGKILL",
    "back to running version", "initializer run", "initializer failed",
)  # fmt: skip
"""Every result a row can show (the Result column is made wide enough for each)."""


class _Item:
    """A stable handle for ``internalPointer`` (entries and nodes are plain data)."""

    __slots__ = ("data", "parent", "children", "row", "sig")

    def __init__(self, data: LogEntry | LogNode, parent: _Item | None, row: int) -> None:
        self.data = data
        self.parent = parent
        self.row = row
        self.children: list[_Item] | None = None
        self.sig: tuple = ()

    def kids(self) -> list[_Item]:
        if self.children is None:
            nodes = self.data.details if isinstance(self.data, LogEntry) else self.data.children
            self.children = [_Item(n, self, i) for i, n in enumerate(nodes)]
        return self.children


class ReloadLogModel(ColumnsModel):
    """Columns: time, modules, result, duration. Detail rows use column 0."""

    HEADERS = ("Time", "Modules", "Result", "Duration")

    def __init__(self, state: SessionState, theme: Theme, parent: Any = None) -> None:
        super().__init__(parent)
        self.state = state
        self.theme = theme
        self._rows: list[_Item] = []
        self._dropped = 0
        self._open: set[int] = set()
        """Rows whose entry may still change (a build waiting for its result)."""

    def set_state(self, state: SessionState) -> None:
        self.beginResetModel()
        self.state = state
        self._rows = []
        self._dropped = state.log_dropped
        self._open = set()
        self.endResetModel()
        self.sync()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 3))

    def sync(self) -> None:
        """Show new log entries and changes to existing ones (a build's row is
        updated when its result arrives), and drop the rows the state dropped. Only
        rows that can still change (building, pending, the newest) are compared, so a
        sync costs the same after 10 rows as after 10,000."""
        entries = self.state.log
        dropped = self.state.log_dropped - self._dropped
        if dropped > 0:
            gone = min(dropped, len(self._rows))
            if gone:
                self.beginRemoveRows(QModelIndex(), 0, gone - 1)
                del self._rows[:gone]
                for i, item in enumerate(self._rows):
                    item.row = i
                self.endRemoveRows()
            self._dropped = self.state.log_dropped
            self._open = {row - gone for row in self._open if row >= gone}
        if len(self._rows) > len(entries):  # a state that lost rows another way
            self.beginResetModel()
            self._rows, self._open = [], set()
            self.endResetModel()
        if self._rows:
            self._open.add(len(self._rows) - 1)
        for row in sorted(self._open):
            if row >= len(entries):
                continue
            item = self._rows[row]
            entry = entries[row]
            sig = _signature(entry)
            if entry is item.data and sig == item.sig:
                continue
            if item.children:
                self.beginRemoveRows(self.createIndex(row, 0, item), 0, len(item.children) - 1)
                item.children = []
                self.endRemoveRows()
            item.children = None
            item.data, item.sig = entry, sig
            self.dataChanged.emit(self.createIndex(row, 0, item), self.createIndex(row, 3, item))
        self._open = {r for r in self._open if r < len(entries) and _open(entries[r])}
        if len(entries) > len(self._rows):
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, len(entries) - 1)
            for i in range(first, len(entries)):
                item = _Item(entries[i], None, i)
                item.sig = _signature(entries[i])
                self._rows.append(item)
                if _open(entries[i]):
                    self._open.add(i)
            self.endInsertRows()

    def entry(self, index: Index) -> LogEntry | LogNode | None:
        return index.internalPointer().data if index.isValid() else None

    # ------------------------------------------------------------ model API

    def index(self, row: int, column: int, parent: Index = ROOT) -> QModelIndex:
        items = self._rows if not parent.isValid() else parent.internalPointer().kids()
        if 0 <= row < len(items) and 0 <= column < 4:
            return self.createIndex(row, column, items[row])
        return QModelIndex()

    def parent(self, index: Index = ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        up = index.internalPointer().parent
        return QModelIndex() if up is None else self.createIndex(up.row, 0, up)

    def rowCount(self, parent: Index = ROOT) -> int:
        if not parent.isValid():
            return len(self._rows)
        if parent.column() != 0:
            return 0
        return len(parent.internalPointer().kids())

    def hasChildren(self, parent: Index = ROOT) -> bool:
        if not parent.isValid():
            return bool(self._rows)
        if parent.column() != 0:
            return False
        data = parent.internalPointer().data
        return bool(data.details if isinstance(data, LogEntry) else data.children)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        data = index.internalPointer().data
        col = index.column()
        if role == FileRole:
            return data.file
        if role == LineRole:
            return data.line
        if isinstance(data, LogEntry):
            if role == ResultRole:
                return data.result
            if role == Qt.ItemDataRole.DisplayRole:
                return (data.time_text, data.modules, data.result, data.duration_text)[col]
            if role == Qt.ItemDataRole.ForegroundRole and col == 2:
                return self._result_colour(data.result)
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{data.result} (build {data.build})" if data.build is not None else (
                    data.result if col == 2 else None)  # fmt: skip
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return data.text if col == 0 else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return data.tooltip or data.text
        if role == Qt.ItemDataRole.ForegroundRole and data.kind in ("rejected", "error", "stale"):
            return self.theme.state_colour("error" if data.kind != "stale" else "restart needed")
        return None

    def _result_colour(self, result: str) -> QColor | None:
        state = _RESULT_STATE.get(result)
        if state is None:
            state = "error" if result.startswith(("exited with code", "killed")) else ""
            if result in ("exited with code 0", "stopped"):
                return None
        return self.theme.state_colour(state) if state else None


def _open(entry: LogEntry) -> bool:
    """Can this row still change? (A build row gets its result later.)"""
    return entry.result in ("building", "pending")


def _signature(entry: LogEntry | LogNode | None) -> tuple:
    if not isinstance(entry, LogEntry):
        return ()
    return (
        entry.result,
        entry.modules,
        entry.duration_ms,
        len(entry.details),
        id(entry.details),
        entry.file,
    )
