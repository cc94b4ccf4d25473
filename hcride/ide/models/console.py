"""The program's output as a bounded list of lines, appended in throttled batches.

Speed matters here: a program may print 100k lines a second. So

- ``append`` only queues the raw text (counting its newlines, in C); splitting into
  lines happens at the next flush, at most every ``FLUSH_MS``;
- one flush shows at most ``flush_lines`` lines: when more arrived since the last one,
  the oldest of them are replaced by a ``… N lines skipped …`` row (the middle of a
  flood is dropped; its start and its end are shown);
- the row bookkeeping lives in C++ (``QStringListModel`` rows), so the view's layout
  passes over the whole scrollback never call into Python; only ``data`` (for the
  few visible rows) is Python. The scrollback is trimmed with one ``removeRows`` per
  flush.
"""

from __future__ import annotations

import collections
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QStringListModel,
    Qt,
    QTimer,
)
from PySide6.QtGui import QFont

from hcride.ide.ansi import plain, sgr_colour
from hcride.ide.theme import Theme
from hcride.ide.tracebacks import FRAME

StreamRole = Qt.ItemDataRole.UserRole + 1
RawRole = Qt.ItemDataRole.UserRole + 2
"""The row as the program wrote it, ANSI escape sequences included (the delegate
paints their colours; ``DisplayRole`` is the plain text)."""
MAX_LINES = 10_000
MAX_LINE_CHARS = 2_000
FLUSH_MS = 50
FLUSH_LINES = 2_000
PARTIAL_MS = 250
"""An unterminated line (a prompt, a progress bar) is shown after this long, in a row
that grows until its newline arrives."""
"""At most this many lines reach the view per flush (40k lines a second)."""
SKIPPED = "… {} lines skipped …"
Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()
_END_PARTIALS = "\x00end"
"""A queued marker: show unterminated lines queued before it (``flush_partial``)."""


class ConsoleModel(QStringListModel):
    """Lines of ``(stream, text)``; ``stream`` is ``stdout``, ``stderr``, ``stdin`` or
    ``system``.

    ``append`` only queues; a timer moves the queue into the model at most every
    ``FLUSH_MS``, keeping the last ``max_lines`` lines (older ones scroll away)."""

    def __init__(
        self,
        theme: Theme,
        parent: Any = None,
        max_lines: int = MAX_LINES,
        flush_lines: int = FLUSH_LINES,
    ) -> None:
        super().__init__(parent)
        self.theme = theme
        self.max_lines = max_lines
        self.flush_lines = max(1, min(flush_lines, max_lines))
        self._lines: list[tuple[str, str]] = []
        self._queue: collections.deque[tuple[str, str]] = collections.deque()
        self._queued_lines = 0
        self._partial: dict[str, str] = {}
        self.dropped = 0
        """Lines that scrolled away or were skipped in a flood."""
        self.skipped = 0
        """Lines never shown because a flush had more than ``flush_lines``."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)
        self._open: dict[str, int] = {}
        """Rows showing a line still waiting for its newline: stream -> row."""
        self._completed: dict[str, str] = {}
        self._cut: set[str] = set()
        """Streams whose current line was cut at ``MAX_LINE_CHARS``: the rest of it,
        up to its newline, is dropped (one row per line, however long)."""
        self._partial_timer = QTimer(self)
        self._partial_timer.setSingleShot(True)
        self._partial_timer.setInterval(PARTIAL_MS)
        self._partial_timer.timeout.connect(self._show_partials)
        self.link_font: QFont | None = None
        """The view's font, underlined: traceback ``File`` rows are shown in it."""

    # ---------------------------------------------------------------- feeding

    def append(self, stream: str, text: str) -> None:
        """Add program output (any chunking: partial lines are joined)."""
        if not text:
            return
        self._queue.append((stream, text))
        self._queued_lines += text.count("\n")
        if self._queued_lines > 8 * self.flush_lines:
            self.flush()  # the GUI fell behind: keep the queue bounded
        elif not self._timer.isActive():
            self._timer.start()

    def append_line(self, stream: str, text: str) -> None:
        """A whole line of ``stream`` (the IDE's own notes use ``system``)."""
        self.flush_partial()
        self.append(stream, text + "\n")

    def flush_partial(self) -> None:
        """Show unterminated output too (a prompt without a newline)."""
        self._queue.append((_END_PARTIALS, ""))
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Move the queued output into the model (the timer calls this)."""
        self._timer.stop()
        new = self._take_lines()
        for stream, text in self._completed.items():  # the open row gets its whole line
            self._set_row(self._open.pop(stream), stream, text)
        self._completed.clear()
        if self._partial and not self._partial_timer.isActive():
            self._partial_timer.start()
        if not new:
            return
        first = len(self._lines)
        self._lines.extend(new)
        self.insertRows(first, len(new))
        excess = len(self._lines) - self.max_lines
        if excess > 0:
            del self._lines[:excess]
            self.removeRows(0, excess)
            self.dropped += excess
            self._open = {k: r - excess for k, r in self._open.items() if r >= excess}

    def _set_row(self, row: int, stream: str, text: str) -> None:
        if 0 <= row < len(self._lines):
            self._lines[row] = (stream, text[:MAX_LINE_CHARS])
            self.dataChanged.emit(self.index(row), self.index(row))

    def _show_partials(self) -> None:
        """Show (or grow) the rows of lines that have no newline yet."""
        self.flush()
        for stream, tail in self._partial.items():
            row = self._open.get(stream)
            if row is not None:
                self._set_row(row, stream, tail)
                continue
            row = len(self._lines)
            self._lines.append((stream, tail[:MAX_LINE_CHARS]))
            self.insertRows(row, 1)
            self._open[stream] = row

    def _take_lines(self) -> list[tuple[str, str]]:
        queue, self._queue = self._queue, collections.deque()
        skip = max(0, self._queued_lines - self.flush_lines)
        self._queued_lines = 0
        out: list[tuple[str, str]] = []
        partial = self._partial
        skipped = 0
        for stream, text in queue:
            if stream == _END_PARTIALS:
                for name, tail in partial.items():
                    if name in self._open:
                        self._completed[name] = tail
                    else:
                        out.append((name, tail[:MAX_LINE_CHARS]))
                partial.clear()
                continue
            if skip:
                count = text.count("\n")
                if count == 0:
                    pass
                elif count <= skip:  # every line ending in this chunk is skipped
                    skip -= count
                    skipped += count
                    partial.pop(stream, None)
                    self._open.pop(stream, None)  # its row keeps what it showed
                    text = text[text.rindex("\n") + 1 :]
                else:
                    text = text.split("\n", skip)[-1]
                    skipped += skip
                    skip = 0
                    partial.pop(stream, None)
                    self._open.pop(stream, None)
                if skip == 0 and skipped:
                    out.append(("system", SKIPPED.format(skipped)))
                    self.skipped += skipped
                    self.dropped += skipped
                if not text:
                    continue
            if stream in self._cut:
                if "\n" not in text:
                    continue
                text = text[text.index("\n") + 1 :]
                self._cut.discard(stream)
                if not text:
                    continue
            text = partial.pop(stream, "") + text
            parts = text.split("\n")
            tail = parts.pop()
            if parts and stream in self._open and stream not in self._completed:
                self._completed[stream] = parts.pop(0).rstrip("\r")
            out.extend((stream, p.rstrip("\r")[:MAX_LINE_CHARS]) for p in parts)
            if tail:
                if len(tail) > MAX_LINE_CHARS:
                    if stream in self._open and stream not in self._completed:
                        self._completed[stream] = tail
                    else:
                        out.append((stream, tail[:MAX_LINE_CHARS]))
                    self._cut.add(stream)
                else:
                    partial[stream] = tail
        return out

    def clear(self) -> None:
        self._timer.stop()
        self._lines.clear()
        self._queue.clear()
        self._queued_lines = 0
        self._partial.clear()
        self._partial_timer.stop()
        self._open.clear()
        self._completed.clear()
        self._cut.clear()
        self.setStringList([])

    def text(self) -> str:
        """Everything shown, one line per row (tests read this)."""
        return "\n".join(plain(t) for _, t in self._lines)

    def row_texts(self, rows: list[int]) -> list[str]:
        """The plain text of ``rows`` (for copying)."""
        return [plain(self._lines[r][1]) for r in sorted(rows) if 0 <= r < len(self._lines)]

    def echo_input(self, text: str) -> None:
        """Show a line the user typed for the program's stdin, in order with the
        output: after a prompt still waiting for its newline (``input("Name: ")``),
        on the prompt's row (``Name: Bob``), as a terminal shows it."""
        self.flush()
        line = text.rstrip("\n")
        colour = sgr_colour(self.theme.console_colour("stdin").name())
        for stream in ("stdout", "stderr"):
            if stream not in self._partial:
                continue
            prompt = self._partial.pop(stream)
            row = self._open.pop(stream, None)
            self._completed.pop(stream, None)
            merged = f"{prompt}{colour}{line}\x1b[0m"
            if row is not None:
                self._set_row(row, stream, merged)
            else:
                self._lines.append((stream, merged[:MAX_LINE_CHARS]))
                self.insertRows(len(self._lines) - 1, 1)
            return
        self.append("stdin", line + "\n")

    def prompt_row(self) -> int | None:
        """The last row when it shows a line still waiting for its newline (a prompt,
        ``input("name? ")``): the inline stdin input is typed after its text."""
        last = len(self._lines) - 1
        if last >= 0 and last in self._open.values():
            return last
        return None

    def stream_lines(self, stream: str, limit: int) -> list[str]:
        """The last ``limit`` rows of ``stream`` shown (a crash's traceback)."""
        out: list[str] = []
        for name, text in reversed(self._lines):
            if name == stream:
                out.append(plain(text))
                if len(out) >= limit:
                    break
        return out[::-1]

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        if self._lines:
            self.dataChanged.emit(self.index(0), self.index(len(self._lines) - 1))

    # ------------------------------------------------------------ model API
    # rowCount/index stay C++ (QStringListModel keeps one empty string per row).

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsEditable  # a read-only line editor: copy part of a row
        )

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        return False  # output is never edited

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if not index.isValid() or row >= len(self._lines):
            return None
        stream, raw = self._lines[row]
        text = plain(raw)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return text
        if role == RawRole:
            return raw
        if role == Qt.ItemDataRole.ForegroundRole and stream != "stdout":
            return self.theme.console_colour(stream)
        if role == StreamRole:
            return stream
        if role == Qt.ItemDataRole.FontRole and self.link_font and FRAME.match(text):
            return self.link_font  # a link: activating the row opens the file there
        if role == Qt.ItemDataRole.ToolTipRole and FRAME.match(text):
            return "Double-click or Enter: open this file at this line"
        return None
