"""The dock panes' widgets: views over the models plus their small controls."""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from hcride.ide import ansi
from hcride.ide.models.console import ConsoleModel, RawRole
from hcride.ide.models.variables import MARKS, VariablesModel, VarNode

SCROLL_MS = 30
"""While following the console's end: one scroll per this many ms, not one per flush."""
EDIT_MARGINS = (2, 1)
"""The horizontal and vertical margins a frameless ``QLineEdit`` keeps around its text
(``QLineEditPrivate``'s constants)."""
MIN_INPUT_PX = 80
"""Narrower than this after a long prompt, the inline input goes to the next line."""
NOT_RUNNING = "The program is not running: what you type here goes to its stdin while it runs (F5)"


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


def text_margin(widget: QWidget | None) -> int:
    """How far from a row's left edge an item view's style starts its text (the ANSI
    painter and the inline input use the same, so their text lines up)."""
    style = widget.style() if widget is not None else QApplication.style()
    return style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1


class ConsoleDelegate(QStyledItemDelegate):
    """Paints rows that carry ANSI colours span by span; the editor it opens on a
    selected row (click it again, or F2) is read-only: select part of it and copy."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        raw = index.data(RawRole) or ""
        if "\x1b" not in raw:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        default = opt.palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        fg_role = index.data(Qt.ItemDataRole.ForegroundRole)
        if fg_role is not None and not selected:
            default = QColor(fg_role)
        rect = opt.rect.adjusted(text_margin(widget), 0, -2, 0)
        x = rect.left()
        painter.save()
        for span in ansi.spans(raw):
            font = QFont(opt.font)
            font.setBold(span.bold)
            metrics = QFontMetrics(font)
            width = metrics.horizontalAdvance(span.text)
            if span.bg and not selected:
                painter.fillRect(x, rect.top(), width, rect.height(), QColor(span.bg))
            painter.setFont(font)
            painter.setPen(QColor(span.fg) if span.fg and not selected else default)
            painter.drawText(
                x, rect.top(), width, rect.height(),
                int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), span.text,
            )  # fmt: skip
            x += width
            if x > rect.right():
                break
        painter.restore()

    def text_width(self, index: QModelIndex, font: QFont) -> int:
        """How wide the row's text is painted (its bold spans included)."""
        raw = index.data(RawRole) or ""
        font = index.data(Qt.ItemDataRole.FontRole) or font
        if "\x1b" not in raw:
            return QFontMetrics(font).horizontalAdvance(index.data() or "")
        width = 0
        for span in ansi.spans(raw):
            bold = QFont(font)
            bold.setBold(span.bold)
            width += QFontMetrics(bold).horizontalAdvance(span.text)
        return width

    def createEditor(
        self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex
    ) -> QWidget:
        editor = QLineEdit(parent)
        editor.setReadOnly(True)
        editor.setFrame(False)
        editor.setFont(option.font)
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        if isinstance(editor, QLineEdit):
            editor.setText(index.data() or "")
            editor.selectAll()

    def setModelData(self, editor: QWidget, model: object, index: QModelIndex) -> None:
        return  # read-only


class ConsoleView(QListView):
    """The console's rows (one height for all). ``room`` pixels stay scrollable under
    the last row: the line where the inline stdin input waits when the output ends
    with a newline.

    The room is part of the contents' size, set before Qt computes the scroll range
    from it: extending the range afterwards made Qt clamp the scroll position at each
    layout (the end jumped up and back while output arrived) and, when the rows
    nearly filled the view, show and hide the scroll bar forever."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.room = 0
        self._padded = False

    def set_room(self, pixels: int) -> bool:
        """Keep ``pixels`` scrollable under the last row; True when that changed."""
        if pixels == self.room:
            return False
        self.room = pixels
        self.updateGeometries()
        return True

    def updateGeometries(self) -> None:
        if self.room or self._padded:
            model = self.model()
            rows = model.rowCount() if model is not None else 0
            height = rows * self.sizeHintForRow(0) if rows else 0
            self.resizeContents(self.contentsSize().width(), height + self.room)
            self._padded = bool(self.room)
        super().updateGeometries()


class InlineInput(QLineEdit):
    """The program's stdin, typed in the output itself: a frameless line over the
    console's last row, after the prompt's text. Up and Down walk the lines sent."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("consoleInput")
        self.setFrame(False)
        self.setToolTip("The program's stdin: Enter sends the line; Up/Down: lines sent before")
        self.history: list[str] = []
        self._at = 0
        """Where Up/Down are in ``history``; ``len(history)``: the line being typed."""
        self._draft = ""

    def remember(self, line: str) -> None:
        """A line sent: the newest in the history (not twice in a row)."""
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
        self._at = len(self.history)
        self._draft = ""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Up and self._at > 0:
            if self._at == len(self.history):
                self._draft = self.text()
            self._at -= 1
            self.setText(self.history[self._at])
            return
        if key == Qt.Key.Key_Down and self._at < len(self.history):
            self._at += 1
            self.setText(self.history[self._at] if self._at < len(self.history) else self._draft)
            return
        super().keyPressEvent(event)


class ConsolePane(QWidget):
    """Program output (``QListView`` named ``console``) with the program's stdin typed
    inline (``consoleInput``), and the live console line (``liveInput``) under it.

    While a program runs, its stdin is typed in the output, as in Thonny's shell: after
    the prompt it printed without a newline (``input("name? ")``), or on the line under
    the last row; typing anywhere in the output types there, Enter sends the line and
    it stays on the prompt's row. With no program the input is hidden and typing says
    why. Ctrl+C copies the selected rows (a click on a selected row, or F2, opens it in
    a read-only line to copy part of it); a right click offers Copy, Copy All, Select
    All and Clear."""

    submitted = Signal(str)
    evaluate = Signal(str, str)
    """(module, code): run in the program (the live console line)."""
    notice = Signal(str)
    """A message for the status bar (typing while no program runs)."""

    def __init__(self, model: ConsoleModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.view = ConsoleView(self)
        self.view.setObjectName("console")
        self.view.setModel(model)
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.SelectedClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.delegate = ConsoleDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        font = self.view.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        self.view.setFont(font)
        link = type(font)(font)
        link.setUnderline(True)
        model.link_font = link
        self.input = InlineInput(self.view.viewport())
        self.input.setFont(font)
        self.input.returnPressed.connect(self._submit)
        self.input.hide()
        self.restyle()
        self._running = False
        for watched in (self.view, self.view.viewport(), self.input):
            watched.installEventFilter(self)
        clear = QPushButton("Clear", self)
        clear.setToolTip("Clear the console's output")
        clear.clicked.connect(model.clear)
        self.live_module = QComboBox(self)
        self.live_module.setObjectName("liveModule")
        self.live_module.setToolTip("The module the live line runs in")
        self.live_module.setMinimumContentsLength(10)
        self.live_module.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.live_input = QLineEdit(self)
        self.live_input.setObjectName("liveInput")
        self.live_input.setPlaceholderText(
            "live: an expression or statement, run in the program at its next safe point"
        )
        self.live_input.returnPressed.connect(self._evaluate)
        live_label = QLabel("Live", self)
        live_label.setToolTip("Evaluate or run code inside the running program")
        live = QHBoxLayout()
        live.setContentsMargins(0, 0, 0, 0)
        live.addWidget(live_label)
        live.addWidget(self.live_module)
        live.addWidget(self.live_input, 1)
        live.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.view, 1)
        layout.addLayout(live)
        self._history: list[str] = []
        self._follow = True
        bar = self.view.verticalScrollBar()
        bar.valueChanged.connect(lambda v: setattr(self, "_follow", v >= bar.maximum() - 2))
        self._scroll_timer = QTimer(self)
        self._scroll_timer.setSingleShot(True)
        self._scroll_timer.setInterval(SCROLL_MS)
        self._scroll_timer.timeout.connect(self._scroll)
        model.rowsInserted.connect(self._schedule_scroll)
        self._place_timer = QTimer(self)
        self._place_timer.setSingleShot(True)
        self._place_timer.setInterval(0)
        self._place_timer.timeout.connect(self.place_input)
        for signal in (model.rowsInserted, model.rowsRemoved, model.dataChanged,
                       model.modelReset, bar.valueChanged):  # fmt: skip
            signal.connect(self._schedule_place)

    # ------------------------------------------------------------ inline stdin

    def restyle(self) -> None:
        """The inline input in the theme's stdin colour, over the rows (no background
        of its own): the text typed looks as it will once sent."""
        palette = QPalette(self.input.palette())
        palette.setColor(QPalette.ColorRole.Text, self.model.theme.console_colour("stdin"))
        palette.setColor(QPalette.ColorRole.Base, QColor(0, 0, 0, 0))
        self.input.setPalette(palette)

    def set_running(self, running: bool) -> str:
        """Show the inline input while a program runs; hide it when none does and
        return the text typed but never sent (for the caller to show)."""
        unsent = ""
        if running != self._running:
            self._running = running
            if not running:
                unsent = self.input.text()
                self.input.clear()
                if self.input.hasFocus():
                    self.view.setFocus()
            self.place_input()
        return unsent

    def _schedule_place(self, *_args: object) -> None:
        if not self._place_timer.isActive():
            self._place_timer.start()

    def input_rect(self) -> tuple[QRect, bool] | None:
        """Where the inline input's text goes, in the viewport, and whether that is on
        the prompt's row: after the prompt on the last row (when the program printed
        one without a newline), else on the line under the last row. None while no
        program runs."""
        if not self._running:
            return None
        view, model = self.view, self.model
        width = view.viewport().width()
        margin = text_margin(view)
        rows = model.rowCount()
        prompt = model.prompt_row()
        if prompt is not None:
            index = model.index(prompt)
            rect = view.visualRect(index)
            x = rect.left() + margin + self.delegate.text_width(index, view.font())
            if width - x >= MIN_INPUT_PX:
                return QRect(x, rect.top(), width - x, rect.height()), True
        if rows:
            last = view.visualRect(model.index(rows - 1))
            top, left, height = last.bottom() + 1, last.left(), last.height()
        else:
            top, left, height = -view.verticalOffset(), 0, view.fontMetrics().height()
        return QRect(left + margin, top, width - left - margin, height), False

    def place_input(self) -> None:
        """Put the inline input at the end of the output (it follows the last row as
        output arrives, is scrolled with the rows, and keeps what is typed)."""
        self._place_timer.stop()
        where = self.input_rect()
        if where is None:
            self.view.set_room(0)
            self.input.hide()
            return
        rect, on_prompt = where
        dx, dy = EDIT_MARGINS  # the line edit's own margins: its text starts at rect
        grown = self.view.set_room(dy if on_prompt else rect.height() + dy)  # all in view
        self.input.setGeometry(rect.adjusted(-dx, -dy, 0, dy))
        self.input.show()
        if grown:
            self._schedule_scroll()  # following the end: the input's line too

    def _type_inline(self) -> None:
        """Typing in the output: to the end of it, into the inline input."""
        self._follow = True
        self.place_input()
        self.view.scrollToBottom()
        self.input.setFocus()

    def _not_running(self) -> None:
        self.notice.emit(NOT_RUNNING)
        rect = self.view.viewport().rect()
        QToolTip.showText(self.view.viewport().mapToGlobal(rect.bottomLeft()), NOT_RUNNING,
                          self.view)  # fmt: skip

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self.input:
            if kind == QEvent.Type.KeyPress and not self.view.viewport().rect().contains(
                self.input.geometry()
            ):  # scrolled away from the end: typing brings it back
                self._follow = True
                self.view.scrollToBottom()
            return False
        if watched is self.view.viewport():
            if kind == QEvent.Type.Resize:
                self._schedule_place()
            elif kind == QEvent.Type.MouseButtonRelease and self._running:
                pos = cast(QMouseEvent, event).position().toPoint()
                if not self.view.indexAt(pos).isValid():  # a click under the output
                    self.input.setFocus()
            return False
        if watched is self.view and kind == QEvent.Type.KeyPress:
            key = cast(QKeyEvent, event)
            if key.matches(QKeySequence.StandardKey.Copy):
                self.copy()
                return True
            editing = self.view.state() == QAbstractItemView.State.EditingState
            if key.matches(QKeySequence.StandardKey.Paste) and not editing:
                if not self._running:
                    self._not_running()
                    return True
                self._type_inline()
                self.input.paste()
                return True
            text = key.text()
            plain = not key.modifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
            )
            if plain and text and text.isprintable() and not editing:
                if not self._running:
                    self._not_running()
                    return True
                self._type_inline()
                self.input.insert(text)  # typing in the output types inline
                return True
        return False

    def copy(self, every: bool = False) -> str:
        """Put the selected rows (all rows with ``every``) on the clipboard."""
        if every:
            rows = list(range(self.model.rowCount()))
        else:
            rows = [i.row() for i in self.view.selectionModel().selectedIndexes()]
        text = "\n".join(self.model.row_texts(rows))
        if text:
            QApplication.clipboard().setText(text)
        return text

    def _menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction("Copy", self.copy).setEnabled(self.view.selectionModel().hasSelection())
        menu.addAction("Copy All", lambda: self.copy(every=True))
        menu.addAction("Select All", self.view.selectAll)
        menu.addSeparator()
        menu.addAction("Clear", self.model.clear)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _schedule_scroll(self, *_args: object) -> None:
        if self._follow and not self._scroll_timer.isActive():
            self._scroll_timer.start()

    def _scroll(self) -> None:
        if self._follow:
            self.view.scrollToBottom()

    def _submit(self) -> None:
        text = self.input.text()
        self.input.clear()
        self.input.remember(text)
        self.submitted.emit(text + "\n")

    def _evaluate(self) -> None:
        code = self.live_input.text()
        module = self.live_module.currentText()
        if not code.strip() or not module:
            return
        self._history.append(code)
        self.live_input.clear()
        self.evaluate.emit(module, code)

    def set_modules(self, names: list[str], current: str | None = None) -> None:
        """The modules the live line can run in (the current choice is kept)."""
        keep = current or self.live_module.currentText()
        if getattr(self, "_live_names", None) != names:  # not N itemText calls per event
            self._live_names = list(names)
            self.live_module.blockSignals(True)
            self.live_module.clear()
            self.live_module.addItems(names)
            self.live_module.blockSignals(False)
        if keep in names:
            self.live_module.setCurrentText(keep)


class VariablesPane(QWidget):
    """Globals of a module (``QTreeView`` named ``variablesPane``) with a name filter.

    The view shows the model directly (no proxy: a proxy would call into Python for
    every fetched row of a long list at each layout); the filter hides top-level rows.
    """

    run_initializer = Signal(str)
    """A stale global's name: run its new initializer in the program."""

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
        fm = self.view.fontMetrics()
        marks = max(fm.horizontalAdvance(m) for m in (*MARKS, "Reload")) + 2 * text_margin(
            self.view) + 8  # fmt: skip  # every mark whole ("stale" was "preserved …")
        self.fitter = ColumnFitter(
            self.view, {0: (0.26, 70, 160), 1: (0.24, 60, 150), 3: (0.0, marks, marks)}
        )
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
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

    def stale_name(self, index: QModelIndex) -> str | None:
        """The name on a top-level row marked stale (its initializer changed)."""
        if not index.isValid() or index.parent().isValid():
            return None
        mark = self.model.index(index.row(), 3).data() or ""
        return self.model.index(index.row(), 0).data() if "stale" in mark else None

    def _menu(self, pos: QPoint) -> None:
        name = self.stale_name(self.view.indexAt(pos))
        if name is None:
            return
        menu = QMenu(self)
        menu.addAction(
            f"Run the new initializer of {name} now", lambda: self.run_initializer.emit(name)
        )
        menu.popup(self.view.viewport().mapToGlobal(pos))

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
    """Ctrl+F / Ctrl+H under the editor: find (Enter: next, Shift+Enter: previous),
    match case / whole word / regex, and with Ctrl+H a replace line (Replace, Replace
    All). Every match is highlighted while the bar is open; Esc closes it."""

    find = Signal(str, bool)
    """(text, forward): go to the next or previous match."""
    changed = Signal()
    """The text or an option changed: highlight again."""
    replace = Signal(bool)
    """Replace (False) or Replace All (True)."""
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findBar")
        self.line = QLineEdit(self)
        self.line.setObjectName("findInput")
        self.line.setPlaceholderText("Find")
        self.line.returnPressed.connect(self._enter)
        self.line.textChanged.connect(lambda _t: self.changed.emit())
        self.line.setMinimumWidth(120)
        self.case = QCheckBox("Aa", self)
        self.case.setObjectName("findCase")
        self.case.setToolTip("Match case")
        self.word = QCheckBox("Word", self)
        self.word.setObjectName("findWord")
        self.word.setToolTip("Whole words only")
        self.regex = QCheckBox(".*", self)
        self.regex.setObjectName("findRegex")
        self.regex.setToolTip("Regular expression (ECMAScript syntax; \\1 in the replacement)")
        for box in (self.case, self.word, self.regex):
            box.toggled.connect(lambda _c: self.changed.emit())
        prev = QPushButton("▲", self)
        prev.setToolTip("Previous match (Shift+Enter)")
        prev.clicked.connect(lambda: self.find.emit(self.line.text(), False))
        nxt = QPushButton("▼", self)
        nxt.setToolTip("Next match (Enter)")
        nxt.clicked.connect(lambda: self.find.emit(self.line.text(), True))
        for button in (prev, nxt):
            button.setMaximumWidth(32)
        close = QPushButton("✕", self)
        close.setFlat(True)
        close.setToolTip("Close (Esc)")
        close.clicked.connect(self.close_bar)
        self.status = QLabel("", self)
        self.status.setMinimumWidth(70)
        self.replace_line = QLineEdit(self)
        self.replace_line.setObjectName("replaceInput")
        self.replace_line.setPlaceholderText("Replace with (regex: \\1 for a group)")
        self.replace_line.returnPressed.connect(lambda: self.replace.emit(False))
        self.replace_button = QPushButton("Replace", self)
        self.replace_button.clicked.connect(lambda: self.replace.emit(False))
        self.replace_all_button = QPushButton("Replace All", self)
        self.replace_all_button.setObjectName("replaceAll")
        self.replace_all_button.clicked.connect(lambda: self.replace.emit(True))
        top = QHBoxLayout()
        for w, stretch in ((self.line, 1), (self.case, 0), (self.word, 0), (self.regex, 0),
                           (prev, 0), (nxt, 0), (self.status, 0), (close, 0)):  # fmt: skip
            top.addWidget(w, stretch)
        self.replace_row = QWidget(self)
        bottom = QHBoxLayout(self.replace_row)
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.replace_line, 1)
        bottom.addWidget(self.replace_button)
        bottom.addWidget(self.replace_all_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.replace_row)

    @property
    def options(self) -> tuple[bool, bool, bool]:
        """(match case, whole word, regex)."""
        return self.case.isChecked(), self.word.isChecked(), self.regex.isChecked()

    def _enter(self) -> None:
        from PySide6.QtWidgets import QApplication

        shift = bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.find.emit(self.line.text(), not shift)

    def keyPressEvent(self, event) -> None:  # noqa: ANN001
        if event.key() == Qt.Key.Key_Escape:
            self.close_bar()
            return
        super().keyPressEvent(event)

    def close_bar(self) -> None:
        self.hide()
        self.closed.emit()

    def open(self, text: str = "", replace: bool = False) -> None:
        if text:
            self.line.setText(text)
        self.replace_row.setVisible(replace)
        self.show()
        self.line.setFocus()
        self.line.selectAll()
        self.changed.emit()
