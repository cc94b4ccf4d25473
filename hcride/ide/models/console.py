"""The program's output as a bounded list of lines, appended in throttled batches."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, QTimer

from hcride.ide.theme import Theme

StreamRole = Qt.ItemDataRole.UserRole + 1
MAX_LINES = 10_000
MAX_LINE_CHARS = 2_000
FLUSH_MS = 50
Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()


class ConsoleModel(QAbstractListModel):
    """Lines of ``(stream, text)``; ``stream`` is ``stdout``, ``stderr`` or ``system``.

    ``append`` only buffers; a timer moves the buffer into the model at most every
    ``FLUSH_MS``, keeping the last ``max_lines`` lines (older ones scroll away)."""

    def __init__(self, theme: Theme, parent: Any = None, max_lines: int = MAX_LINES) -> None:
        super().__init__(parent)
        self.theme = theme
        self.max_lines = max_lines
        self._lines: list[tuple[str, str]] = []
        self._pending: list[tuple[str, str]] = []
        self._partial: dict[str, str] = {}
        self.dropped = 0
        """Lines that scrolled away or were skipped while the buffer overflowed."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)

    def append(self, stream: str, text: str) -> None:
        """Add program output (any chunking: partial lines are joined)."""
        if not text:
            return
        text = self._partial.pop(stream, "") + text
        parts = text.split("\n")
        tail = parts.pop()
        if tail:
            if len(tail) > MAX_LINE_CHARS:
                parts.append(tail)
            else:
                self._partial[stream] = tail
        self._pending.extend((stream, p.rstrip("\r")[:MAX_LINE_CHARS]) for p in parts)
        overflow = len(self._pending) - self.max_lines
        if overflow > 0:
            del self._pending[:overflow]
            self.dropped += overflow
        if not self._timer.isActive():
            self._timer.start()

    def append_line(self, stream: str, text: str) -> None:
        """A whole line of ``stream`` (the IDE's own notes use ``system``)."""
        self.flush_partial()
        self.append(stream, text + "\n")

    def flush_partial(self) -> None:
        """Show unterminated output too (a prompt without a newline)."""
        for stream, tail in list(self._partial.items()):
            self._pending.append((stream, tail[:MAX_LINE_CHARS]))
        self._partial.clear()
        if self._pending and not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        first = len(self._lines)
        self.beginInsertRows(QModelIndex(), first, first + len(pending) - 1)
        self._lines.extend(pending)
        self.endInsertRows()
        excess = len(self._lines) - self.max_lines
        if excess > 0:
            self.beginRemoveRows(QModelIndex(), 0, excess - 1)
            del self._lines[:excess]
            self.endRemoveRows()
            self.dropped += excess

    def clear(self) -> None:
        self.beginResetModel()
        self._lines.clear()
        self._pending.clear()
        self._partial.clear()
        self.endResetModel()

    def text(self) -> str:
        """Everything shown, one line per row (tests read this)."""
        return "\n".join(t for _, t in self._lines)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        if self._lines:
            self.dataChanged.emit(self.index(0), self.index(len(self._lines) - 1))

    def rowCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self._lines)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._lines):
            return None
        stream, text = self._lines[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == Qt.ItemDataRole.ForegroundRole and stream != "stdout":
            return self.theme.console_colour(stream)
        if role == StreamRole:
            return stream
        return None
