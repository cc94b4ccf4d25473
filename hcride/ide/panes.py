"""The dock panes' widgets: views over the models plus their small controls."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
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
from hcride.ide.models.variables import TopLevelFilter, VariablesModel, VarNode


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
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        font = self.view.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        self.view.setFont(font)
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
        model.rowsInserted.connect(self._scroll)

    def _scroll(self, *_args: object) -> None:
        if self._follow:
            self.view.scrollToBottom()

    def _submit(self) -> None:
        text = self.input.text()
        self.input.clear()
        self.submitted.emit(text + "\n")


class VariablesPane(QWidget):
    """Globals of a module (``QTreeView`` named ``variablesPane``) with a name filter."""

    def __init__(self, model: VariablesModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = TopLevelFilter(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(0)
        self.title = QLabel("No module selected", self)
        self.filter = QLineEdit(self)
        self.filter.setObjectName("variablesFilter")
        self.filter.setPlaceholderText("Filter names")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = QTreeView(self)
        self.view.setObjectName("variablesPane")
        self.view.setModel(self.proxy)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 110)
        header.resizeSection(1, 110)
        header.resizeSection(3, 84)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)

    def expanded_nodes(self) -> list[VarNode]:
        """The source nodes whose rows are expanded and visible (for refreshes)."""
        out: list[VarNode] = []
        stack = [QModelIndex()]
        while stack:
            parent = stack.pop()
            for row in range(self.proxy.rowCount(parent)):
                idx = self.proxy.index(row, 0, parent)
                if self.view.isExpanded(idx):
                    out.append(self.model.node(self.proxy.mapToSource(idx)))
                    stack.append(idx)
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
