"""The dock panes' widgets: views over the models plus their small controls."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from hcride.ide.models.console import ConsoleModel
from hcride.ide.models.variables import VariablesModel, VarNode

SCROLL_MS = 30
"""While following the console's end: one scroll per this many ms, not one per flush."""


class ColumnFitter(QObject):
    """Keep some columns of a view at a share of its width (within bounds), so that a
    narrow pane shows every column instead of a horizontal scroll bar."""

    def __init__(self, view: QTreeView, columns: dict[int, tuple[float, int, int]]) -> None:
        super().__init__(view)
        self.view = view
        self.columns = columns
        """column -> (share of the width, minimum px, maximum px)."""
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def fit(self) -> None:
        width = self.view.width()
        header = self.view.header()
        for column, (share, low, high) in self.columns.items():
            header.resizeSection(column, max(low, min(high, int(width * share))))


class ConsolePane(QWidget):
    """Program output (``QListView`` named ``console``) and a stdin line (``consoleInput``)."""

    submitted = Signal(str)

    def __init__(self, model: ConsoleModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.view = QListView(self)
        self.view.setObjectName("console")
        self.view.setModel(model)
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        font = self.view.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        self.view.setFont(font)
        link = type(font)(font)
        link.setUnderline(True)
        model.link_font = link
        self.input = QLineEdit(self)
        self.input.setObjectName("consoleInput")
        self.input.setPlaceholderText("stdin: type a line and press Enter")
        self.input.returnPressed.connect(self._submit)
        clear = QPushButton("Clear", self)
        clear.clicked.connect(model.clear)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.input, 1)
        row.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)
        self._follow = True
        bar = self.view.verticalScrollBar()
        bar.valueChanged.connect(lambda v: setattr(self, "_follow", v >= bar.maximum() - 2))
        self._scroll_timer = QTimer(self)
        self._scroll_timer.setSingleShot(True)
        self._scroll_timer.setInterval(SCROLL_MS)
        self._scroll_timer.timeout.connect(self._scroll)
        model.rowsInserted.connect(self._schedule_scroll)

    def _schedule_scroll(self, *_args: object) -> None:
        if self._follow and not self._scroll_timer.isActive():
            self._scroll_timer.start()

    def _scroll(self) -> None:
        if self._follow:
            self.view.scrollToBottom()

    def _submit(self) -> None:
        text = self.input.text()
        self.input.clear()
        self.submitted.emit(text + "\n")


class VariablesPane(QWidget):
    """Globals of a module (``QTreeView`` named ``variablesPane``) with a name filter.

    The view shows the model directly (no proxy: a proxy would call into Python for
    every fetched row of a long list at each layout); the filter hides top-level rows.
    """

    def __init__(self, model: VariablesModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.title = QLabel("No module selected", self)
        self.filter = QLineEdit(self)
        self.filter.setObjectName("variablesFilter")
        self.filter.setPlaceholderText("Filter names")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.apply_filter)
        self.view = QTreeView(self)
        self.view.setObjectName("variablesPane")
        self.view.setModel(model)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.fitter = ColumnFitter(
            self.view, {0: (0.26, 70, 160), 1: (0.24, 60, 150), 3: (0.22, 72, 90)}
        )
        model.modelReset.connect(self.apply_filter)
        model.rowsInserted.connect(
            lambda parent, *_: None if parent.isValid() else self.apply_filter()
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)

    def apply_filter(self, *_args: object) -> None:
        """Hide the globals whose name does not contain the filter text."""
        text = self.filter.text().casefold()
        root = QModelIndex()
        for row, node in enumerate(self.model.root.children):
            hide = bool(text) and text not in node.name.casefold()
            if self.view.isRowHidden(row, root) != hide:
                self.view.setRowHidden(row, root, hide)

    def expanded_nodes(self) -> list[VarNode]:
        """The nodes whose rows are expanded (for refreshes); only expandable nodes
        are looked at, so a long list of numbers costs nothing."""
        out: list[VarNode] = []
        stack = [self.model.root]
        while stack:
            node = stack.pop()
            for child in node.children:
                if child.children and self.view.isExpanded(self.model.index_of(child)):
                    out.append(child)
                    stack.append(child)
        return out


class FindBar(QWidget):
    """Ctrl+F: a search line under the editor (Enter: next, Shift+Enter: previous)."""

    find = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findBar")
        self.line = QLineEdit(self)
        self.line.setObjectName("findInput")
        self.line.setPlaceholderText("Find")
        self.line.returnPressed.connect(lambda: self.find.emit(self.line.text(), True))
        prev = QPushButton("Previous", self)
        prev.clicked.connect(lambda: self.find.emit(self.line.text(), False))
        nxt = QPushButton("Next", self)
        nxt.clicked.connect(lambda: self.find.emit(self.line.text(), True))
        close = QPushButton("✕", self)
        close.setFlat(True)
        close.clicked.connect(self.hide)
        self.status = QLabel("", self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.line, 1)
        layout.addWidget(prev)
        layout.addWidget(nxt)
        layout.addWidget(self.status)
        layout.addWidget(close)

    def keyPressEvent(self, event) -> None:  # noqa: ANN001
        if event.key() == Qt.Key.Key_Escape:
            self.hide()
            return
        super().keyPressEvent(event)

    def open(self, text: str = "") -> None:
        if text:
            self.line.setText(text)
        self.show()
        self.line.setFocus()
        self.line.selectAll()
