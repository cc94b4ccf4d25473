"""The main window: editor tabs in the middle, the panes docked around them.

Controller events reach ``_on_events`` in the GUI thread (through ``EventBridge``);
they are folded into ``SessionState`` (plain Python) and the models are told to
show the new state. Nothing here decides what a reload did.
"""

from __future__ import annotations

import hashlib
import html
import json
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QModelIndex, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFileDialog,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from hcride import __version__
from hcride.controller import events as ev
from hcride.controller.state import LogEntry, LogNode, SessionState, norm
from hcride.ide.atomic import atomic_write
from hcride.ide.bridge import EventBridge
from hcride.ide.editor import CodeEditor, search_flags
from hcride.ide.editor_tabs import EditorTabs
from hcride.ide.live import VersionHistory, initializer, revert_text
from hcride.ide.models.console import ConsoleModel
from hcride.ide.models.module_tree import ModuleTreeModel, PathRole
from hcride.ide.models.reload_log import RESULT_TEXTS, FileRole, LineRole, ReloadLogModel
from hcride.ide.models.variables import VariablesModel
from hcride.ide.panes import ConsolePane, FindBar, VariablesPane, text_margin
from hcride.ide.project_tree import ProjectTree
from hcride.ide.recovery import Recovery
from hcride.ide.recovery import default_dir as recovery_default_dir
from hcride.ide.resources import icon
from hcride.ide.run_config import KINDS, RunConfig, RunConfigDialog
from hcride.ide.run_config import check as check_run_config
from hcride.ide.runner import SessionDriver
from hcride.ide.theme import THEMES, Theme, apply_palette, load_theme
from hcride.ide.tracebacks import last_crash, location

MAIN_CANDIDATES = ("main.py", "__main__.py", "app.py", "run.py")
RELOAD_MODES = {
    "auto": ("&Auto", "apply every save at once"),
    "manual": (
        "&Manual",
        "apply when the program calls perform_code_reload(), or on Reload Now (F9)",
    ),
    "detect": ("&Detect", "manual if the program imports hotcodereloading, else auto"),
}
DEFAULT_MODE = "detect"
"""Right for both kinds of program: one that imports ``hotcodereloading`` decides when
to reload (Nim's model, every sample), any other script gets each save at once."""
MODE_REASONS = {
    ("detect", "manual"): "detect: the program imports hotcodereloading",
    ("detect", "auto"): "detect: the program does not import hotcodereloading",
    ("manual", "manual"): "chosen in Run > Reload Mode",
    ("auto", "auto"): "chosen in Run > Reload Mode",
}
VARIABLES_REFRESH_MS = 1000
RECOVERY_MS = 1000
"""Unsaved buffers reach the recovery folder at most this long after an edit."""


class MainWindow(QMainWindow):
    """``MainWindow(project=Path(...))``; ``open_file(path)`` returns its editor."""

    def __init__(
        self,
        project: Path | None = None,
        settings: QSettings | None = None,
        session_factory: Any = None,
        theme: str | None = None,
        recovery_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowIcon(icon("hcride"))
        self.settings = settings if settings is not None else QSettings("hcride", "hcride")
        self.theme: Theme = load_theme(theme or str(self.settings.value("theme", "light")))
        apply_palette(self.theme)
        self.project: Path | None = None
        self.state = SessionState(None)
        self.recovery = Recovery(recovery_dir or recovery_default_dir())
        """Unsaved buffers kept while typing (hot exit), restored at the next start."""
        self.bridge = EventBridge(self)
        self.bridge.events.connect(self._on_events)
        self.driver = SessionDriver(self.bridge, session_factory)

        self.tree_model = ModuleTreeModel(self.state, self.theme, self)
        self.log_model = ReloadLogModel(self.state, self.theme, self)
        self.variables_model = VariablesModel(self.theme, self)
        self.variables_model.inspector = self._inspect
        self.console_model = ConsoleModel(self.theme, self)

        self._build_central()
        self._build_docks()
        self._build_actions()
        self._build_status()
        self._var_timer = QTimer(self)
        self._var_timer.setInterval(VARIABLES_REFRESH_MS)
        self._var_timer.timeout.connect(self._refresh_variables)
        self.ask_directory: Any = lambda title, start: QFileDialog.getExistingDirectory(
            self, title, start
        )
        """``ask_directory(title, start) -> str`` ("" when cancelled); tests replace it."""
        self.ask_line: Any = lambda current, last: QInputDialog.getInt(
            self, "Go to Line", "Line:", current, 1, last
        )
        """``ask_line(current, last) -> (line, ok)``; tests replace it."""
        self.ask_open_file: Any = lambda title, start: QFileDialog.getOpenFileName(
            self, title, start
        )[0]
        """``ask_open_file(title, start) -> str`` ("" when cancelled); tests replace it."""
        self.ask_save_file: Any = lambda title, start: QFileDialog.getSaveFileName(
            self, title, start
        )[0]
        """``ask_save_file(title, start) -> str`` ("" when cancelled); tests replace it."""
        self.show_message: Any = lambda title, html: QMessageBox.about(self, title, html)
        self.ask_stop: Any = lambda text: (
            QMessageBox.question(self, "Program running", text)
            == QMessageBox.StandardButton.Yes
        )
        """``ask_stop(text) -> bool``: may the running program be stopped? (tests replace it)"""
        self.ask_run_config: Any = self._ask_run_config
        """``ask_run_config(config, project) -> RunConfig | None``; tests replace it."""
        self._recovery_timer = QTimer(self)
        self._recovery_timer.setInterval(RECOVERY_MS)
        self._recovery_timer.timeout.connect(self.keep_unsaved)
        self._recovery_timer.start()
        """``show_message(title, html)``: Help > About (tests replace it)."""
        self.history = VersionHistory()
        """The text of each module before each reload (Revert This Reload)."""
        self._startup_marks: dict[str, list[tuple[int, str]]] = {}
        """Where the last run crashed (file -> [(line, message)]), until the next run."""
        self._restore_layout()
        self.tabs.set_zoom(int(self.settings.value("editor/zoom", 0) or 0))
        self.open_project(project if project is not None else self._last_project(), ask=False)
        self._update_actions()

    # ================================================================= building

    def _build_central(self) -> None:
        self.tabs = EditorTabs(self.theme, self)
        self.tabs.saved.connect(self._on_saved)
        self.tabs.currentEditorChanged.connect(self._on_editor_changed)
        self.find_bar = FindBar(self)
        self.find_bar.hide()
        self.find_bar.find.connect(self._find)
        self.find_bar.changed.connect(self._highlight_matches)
        self.find_bar.replace.connect(self._replace)
        self.find_bar.closed.connect(self._find_closed)
        editor_area = QWidget(self)
        layout = QVBoxLayout(editor_area)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.find_bar)

        self.start_page = QWidget(self)
        self.start_page.setObjectName("startPage")
        sp = QVBoxLayout(self.start_page)
        sp.addStretch(1)
        title = QLabel("<h2>hcride</h2><p>Live-edit a running Python program.</p>", self)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        sp.addWidget(title)
        open_button = QPushButton("Open Project…", self)
        open_button.clicked.connect(lambda: self.open_project_dialog())
        sp.addWidget(open_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.recent_label = QLabel("<b>Recent projects</b>", self)
        self.recent_label.setObjectName("recentProjectsLabel")
        sp.addSpacing(12)
        sp.addWidget(self.recent_label, 0, Qt.AlignmentFlag.AlignHCenter)
        self.recent_list = QListWidget(self)
        self.recent_list.setObjectName("recentProjects")
        self.recent_list.setMaximumWidth(520)
        self.recent_list.setMaximumHeight(220)
        self.recent_list.itemActivated.connect(lambda item: self.open_project(Path(item.text())))
        sp.addWidget(self.recent_list, 0, Qt.AlignmentFlag.AlignHCenter)
        sp.addStretch(2)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(editor_area)
        self.setCentralWidget(self.stack)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.module_tree = ProjectTree(self.tree_model, self, self)
        self.module_tree.doubleClicked.connect(self._on_tree_activated)
        self.module_tree.clicked.connect(self._on_tree_clicked)
        self.tree_dock = self._dock(
            "Project", "projectDock", self.module_tree, Qt.DockWidgetArea.LeftDockWidgetArea
        )

        self.variables_pane = VariablesPane(self.variables_model, self)
        self.variables_dock = self._dock(
            "Variables", "variablesDock", self.variables_pane, Qt.DockWidgetArea.RightDockWidgetArea
        )

        self.console_pane = ConsolePane(self.console_model, self)
        self.console_pane.submitted.connect(self._send_stdin)
        self.console_pane.evaluate.connect(self.evaluate_in_program)
        self.console_pane.notice.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.variables_pane.run_initializer.connect(self.run_new_initializer)
        self.console_pane.view.activated.connect(self._on_console_activated)
        self.console_pane.view.doubleClicked.connect(self._on_console_activated)
        self.console_dock = self._dock(
            "Console", "consoleDock", self.console_pane, Qt.DockWidgetArea.BottomDockWidgetArea
        )

        self.reload_log = QTreeView(self)
        self.reload_log.setObjectName("reloadLog")
        self.reload_log.setModel(self.log_model)
        self.reload_log.setUniformRowHeights(True)
        self.reload_log.setAlternatingRowColors(True)
        self.reload_log.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.reload_log.setExpandsOnDoubleClick(False)
        header = self.reload_log.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        fm = self.reload_log.fontMetrics()
        pad = 2 * text_margin(self.reload_log) + 12
        header.resizeSection(0, self.reload_log.indentation() + fm.horizontalAdvance("00:00:00") + pad)
        header.resizeSection(2, max(fm.horizontalAdvance(r) for r in RESULT_TEXTS) + pad)
        header.resizeSection(3, fm.horizontalAdvance("1000.0 ms") + pad)
        self.reload_log.activated.connect(self._on_log_activated)
        self.reload_log.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.reload_log.customContextMenuRequested.connect(self._log_menu)
        self.reload_log.doubleClicked.connect(self._on_log_activated)
        self.reload_log.expanded.connect(self._span_details)
        self.log_model.rowsInserted.connect(lambda *_: self.reload_log.scrollToBottom())
        self.log_dock = self._dock(
            "Reload Log", "reloadLogDock", self.reload_log, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.splitDockWidget(self.console_dock, self.log_dock, Qt.Orientation.Horizontal)
        self.resize(*default_size(self.screen().availableGeometry().size()))
        self._initial_docks()

    def _initial_docks(self) -> None:
        """Docks at a share of the window (at most 300/460 px wide, 250 high)."""
        width, height = self.width(), self.height()
        self.resizeDocks(
            [self.tree_dock, self.variables_dock],
            [min(300, int(width * 0.22)), min(460, int(width * 0.3))],
            Qt.Orientation.Horizontal,
        )
        self.resizeDocks([self.console_dock], [min(250, int(height * 0.3))], Qt.Orientation.Vertical)

    def _action(
        self,
        text: str,
        name: str,
        shortcut: str | QKeySequence | None,
        slot: Any,
        icon_name: str = "",
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if icon_name:
            action.setIcon(icon(icon_name))
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.actionOpen = a(
            "&Open Project…", "actionOpen", "Ctrl+O", self.open_project_dialog, "open"
        )
        self.actionOpenFile = a(
            "Open &File…", "actionOpenFile", "Ctrl+Shift+O", self.open_file_dialog
        )
        self.actionNewFile = a("&New File…", "actionNewFile", "Ctrl+N", self.new_file_dialog)
        self.actionSave = a("&Save", "actionSave", "Ctrl+S", self.save, "save")
        self.actionSaveAs = a("Save &As…", "actionSaveAs", "Ctrl+Shift+S", self.save_as_dialog)
        self.actionAbout = a("&About hcride", "actionAbout", None, self.about)
        self.actionSaveAll = a("Save A&ll", "actionSaveAll", "Ctrl+Alt+S", self.save_all)
        self.actionClose = a("&Close File", "actionCloseFile", "Ctrl+W", self._close_current)
        self.actionQuit = a("&Quit", "actionQuit", QKeySequence.StandardKey.Quit, self.close)
        self.actionRun = a("&Run", "actionRun", "F5", self.run, "run")
        self.actionStop = a("S&top", "actionStop", "Shift+F5", self.stop, "stop")
        self.actionRestart = a(
            "R&estart", "actionRestart", "Ctrl+Shift+F5", self.restart, "restart"
        )
        self.actionReload = a("Re&load Now", "actionReload", "F9", self.reload_now, "reload")
        self.actionSetMain = a("Set as &Main Script", "actionSetMain", None, self._set_main)
        self.actionRunConfig = a(
            "Run &Configuration…", "actionRunConfig", None, self.edit_run_config
        )
        self.actionUndo = a("&Undo", "actionUndo", None, lambda: self._on_editor("undo"))
        self.actionRedo = a("&Redo", "actionRedo", None, lambda: self._on_editor("redo"))
        self.actionFind = a("&Find…", "actionFind", "Ctrl+F", self._open_find)
        self.actionReplace = a(
            "R&eplace…", "actionReplace", "Ctrl+H", lambda: self._open_find(replace=True)
        )
        self.actionComment = a(
            "Toggle &Comment", "actionToggleComment", "Ctrl+/", lambda: self._on_editor("toggle_comment")
        )
        self.actionZoomIn = a("Zoom &In", "actionZoomIn", "Ctrl+=", lambda: self.zoom_by(1))
        self.actionZoomIn.setShortcuts([QKeySequence("Ctrl+="), QKeySequence("Ctrl++")])
        self.actionZoomOut = a("Zoom &Out", "actionZoomOut", "Ctrl+-", lambda: self.zoom_by(-1))
        self.actionZoomReset = a("&Reset Zoom", "actionZoomReset", "Ctrl+0", self._zoom_reset)
        self.actionGoto = a("&Go to Line…", "actionGoto", "Ctrl+G", self._go_to_line_dialog)
        self.actionDark = a("&Dark Theme", "actionDarkTheme", None, self._toggle_theme)
        self.actionDark.setCheckable(True)
        self.actionDark.setChecked(self.theme.dark)
        self.actionUndo.setToolTip("Undo (Ctrl+Z in the editor)")
        self.actionRedo.setToolTip("Redo (Ctrl+Shift+Z or Ctrl+Y in the editor)")

        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.actionOpen)
        self.recent_menu = file_menu.addMenu("Recent &Projects")
        self.recent_menu.setObjectName("menuRecentProjects")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        for act in (
            None, self.actionNewFile, self.actionOpenFile, None, self.actionSave,
            self.actionSaveAs, self.actionSaveAll, self.actionClose,
        ):  # fmt: skip
            file_menu.addSeparator() if act is None else file_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(self.actionQuit)
        edit_menu = bar.addMenu("&Edit")
        for act in (
            self.actionUndo, self.actionRedo, None, self.actionFind, self.actionReplace,
            self.actionGoto, None, self.actionComment,
        ):  # fmt: skip
            edit_menu.addSeparator() if act is None else edit_menu.addAction(act)
        run_menu = bar.addMenu("&Run")
        for act in (self.actionRun, self.actionStop, self.actionRestart, self.actionReload):
            run_menu.addAction(act)
        run_menu.addSeparator()
        mode_menu = run_menu.addMenu("Reload &Mode")
        mode_menu.setObjectName("menuReloadMode")
        self.mode_group = QActionGroup(self)
        self.mode_group.setExclusive(True)
        self.mode_actions: dict[str, QAction] = {}
        for mode, (text, tip) in RELOAD_MODES.items():
            act = QAction(text, self)
            act.setObjectName(f"actionMode{mode.title()}")
            act.setCheckable(True)
            act.setStatusTip(f"{mode}: {tip} (from the next Run or Restart)")
            act.setToolTip(tip)
            act.triggered.connect(lambda _checked=False, m=mode: self.set_reload_mode(m))
            self.mode_group.addAction(act)
            mode_menu.addAction(act)
            self.mode_actions[mode] = act
        self.mode_actions[DEFAULT_MODE].setChecked(True)
        run_menu.addSeparator()
        run_menu.addAction(self.actionSetMain)
        run_menu.addAction(self.actionRunConfig)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.actionDark)
        for act in (self.actionZoomIn, self.actionZoomOut, self.actionZoomReset):
            view_menu.addAction(act)
        view_menu.addSeparator()
        for dock in (self.tree_dock, self.variables_dock, self.console_dock, self.log_dock):
            view_menu.addAction(dock.toggleViewAction())
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.actionAbout)

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolBar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for act in (self.actionOpen, self.actionSave, None, self.actionRun, self.actionStop):
            toolbar.addSeparator() if act is None else toolbar.addAction(act)
        toolbar.addAction(self.actionRestart)
        toolbar.addAction(self.actionReload)
        toolbar.addSeparator()
        self.run_config_button = QToolButton(self)
        self.run_config_button.setObjectName("runConfigButton")
        self.run_config_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.run_config_button.clicked.connect(self.edit_run_config)
        toolbar.addWidget(self.run_config_button)

    def _build_status(self) -> None:
        self.status_run = QLabel(self)
        self.status_run.setObjectName("statusRunning")
        self.status_mode = QLabel(self)
        self.status_mode.setObjectName("statusMode")
        self.status_reloads = QLabel(self)
        self.status_reloads.setObjectName("statusReloads")
        for w in (self.status_run, self.status_mode, self.status_reloads):
            self.statusBar().addPermanentWidget(w)

    # ================================================================ projects

    def open_project_dialog(self) -> None:
        # next to the open project (another project is rarely inside this one)
        start = str(self.project.parent if self.project is not None else Path.home())
        folder = self.ask_directory("Open Project", start)
        if folder:
            self.open_project(Path(folder))

    def open_project(self, project: Path | None, ask: bool = True) -> bool:
        """Show ``project`` (None: the start page). False when the user cancelled."""
        if ask and not self._may_stop("Opening another project stops it."):
            return False
        if ask and not self.tabs.confirm_discard():
            return False
        self._forget_unsaved()
        if self.project is not None:
            self._save_project_settings()
        self.driver.detach()  # its program stops; what it still reports is not this project's
        self.tabs.close_all()
        self.project = Path(norm(project)) if project is not None and project.is_dir() else None
        self.state = SessionState(self.project)
        self.tree_model.state = self.state
        self.tree_model.set_project(self.project)
        self.log_model.set_state(self.state)
        self._clear_variables("Not running")
        self.console_pane.set_modules([])
        self.console_model.clear()
        self._load_reload_mode()
        if self.project is None:
            self.stack.setCurrentWidget(self.start_page)
            self.recent_list.clear()
            self.recent_list.addItems(self._recent())
            self.recent_list.setVisible(self.recent_list.count() > 0)
            self.recent_label.setVisible(self.recent_list.count() > 0)
            self.setWindowTitle("hcride")
        else:
            self.stack.setCurrentIndex(1)
            self.setWindowTitle(f"{self.project.name} — hcride")
            self._remember_project(self.project)
            files = self.settings.value(self._key("open_files"), [], list) or []
            for f in files:
                if Path(f).is_file():
                    self.tabs.open(Path(f))
            if not self.tabs.count():
                main = self.main_script()
                if main is not None:
                    self.tabs.open(main)
            self._restore_unsaved()
        self._show_run_config()
        self._update_actions()
        return True

    def _run_kind(self) -> str:
        """``script`` or ``module``: what the run configuration starts (an older
        hcride saved none: a script)."""
        kind = str(self.settings.value(self._key("run_kind"), "script") or "script")
        return kind if kind in KINDS else "script"

    def main_script(self) -> Path | None:
        """The file Run starts: the one set with "Set as Main Script", else a usual name;
        for a module (``python -m``), its file as it was found the last time."""
        if self.project is None:
            return None
        if self._run_kind() == "module":
            found = str(self.settings.value(self._key("module_file"), "") or "")
            return Path(found) if found and Path(found).is_file() else None
        chosen = self.settings.value(self._key("main"), "", str)
        if chosen and Path(chosen).is_file():
            return Path(chosen)
        for name in MAIN_CANDIDATES:
            if (self.project / name).is_file():
                return self.project / name
        ed = self.tabs.current()
        return ed.path if ed is not None else None

    # ========================================================= run configuration

    def run_config(self) -> RunConfig:
        """The project's run configuration (kept in its settings)."""
        if self.project is None:
            return RunConfig(mode=self.driver.mode)
        script = self.main_script()
        try:
            env = json.loads(str(self.settings.value(self._key("env"), "{}") or "{}"))
        except ValueError:
            env = {}
        return RunConfig(
            script=str(script) if script else "",
            args=str(self.settings.value(self._key("args"), "") or ""),
            cwd=str(self.settings.value(self._key("cwd"), "") or ""),
            env={str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {},
            python=str(self.settings.value(self._key("python"), "") or ""),
            mode=self.driver.mode,
            kind=self._run_kind(),
            module=str(self.settings.value(self._key("module"), "") or ""),
        )

    def set_run_config(self, config: RunConfig) -> None:
        """Keep ``config`` for this project (Run and Restart use it from now on)."""
        if self.project is None:
            return
        self.settings.setValue(self._key("run_kind"), config.kind)
        self.settings.setValue(self._key("module"), config.module)
        if config.runs_module:  # the main script chosen before stays for Script
            self.settings.setValue(self._key("module_file"),
                                   norm(config.script) if config.script else "")
        elif config.script:
            self.settings.setValue(self._key("main"), norm(config.script))
        self.settings.setValue(self._key("args"), config.args)
        self.settings.setValue(self._key("cwd"), config.cwd)
        self.settings.setValue(self._key("env"), json.dumps(config.env))
        self.settings.setValue(self._key("python"), config.python)
        self.set_reload_mode(config.mode)
        self._show_run_config()

    def edit_run_config(self) -> None:
        """Run > Run Configuration…"""
        if self.project is None:
            return
        chosen = self.ask_run_config(self.run_config(), self.project)
        if chosen is not None:
            self.set_run_config(chosen)

    def _ask_run_config(self, config: RunConfig, project: Path) -> RunConfig | None:
        dialog = RunConfigDialog(config, project, self)
        if dialog.exec() != RunConfigDialog.DialogCode.Accepted:
            return None
        return dialog.config()[0]

    def _show_run_config(self) -> None:
        """The toolbar says what Run starts, with which interpreter, in which mode."""
        if self.project is None:
            self.run_config_button.setText("no project")
            self.run_config_button.setToolTip("")
            return
        config = self.run_config()
        self.run_config_button.setText(config.describe(self.project))
        starts = config.script or "(nothing chosen)"
        if config.runs_module:
            starts = f"python -m {config.module or '(no module)'}" + (
                f" ({config.script})" if config.script else "")
        self.run_config_button.setToolTip(
            f"Run starts {starts}\n"
            f"arguments: {config.args or '(none)'}\n"
            f"working folder: {config.working_dir(self.project)}\n"
            f"interpreter: {config.interpreter(self.project)}"
            f"{'' if config.python else ' (found automatically)'}\n"
            f"environment: {', '.join(config.env) or '(inherited)'}\n"
            f"reload mode: {config.mode}\nClick to change."
        )

    # ============================================================ reload mode

    @property
    def reload_mode(self) -> str:
        """The mode the next Run/Restart uses: ``auto``, ``manual`` or ``detect``."""
        return self.driver.mode

    def set_reload_mode(self, mode: str) -> None:
        """Choose the reload mode (kept per project; applied on the next Run/Restart)."""
        if mode not in RELOAD_MODES:
            raise ValueError(f"unknown reload mode {mode!r}")
        self.driver.mode = mode
        self.mode_actions[mode].setChecked(True)
        if self.project is not None:
            self.settings.setValue(self._key("reload_mode"), mode)
        if self.state.running:
            self.statusBar().showMessage(f"Reload mode {mode}: applies from the next Restart", 5000)
        self._update_actions()
        self._show_run_config()

    def _load_reload_mode(self) -> None:
        mode = DEFAULT_MODE
        if self.project is not None:
            mode = str(self.settings.value(self._key("reload_mode"), DEFAULT_MODE))
        self.driver.mode = mode if mode in RELOAD_MODES else DEFAULT_MODE
        self.mode_actions[self.driver.mode].setChecked(True)

    def _set_main(self) -> None:
        ed = self.tabs.current()
        if ed is not None and ed.path is not None:
            self.set_main_script(ed.path)

    def set_main_script(self, path: Path) -> None:
        """Run starts ``path`` from now on, as a script (kept in the project's settings)."""
        self.settings.setValue(self._key("main"), norm(path))
        was = self.run_config()
        self.settings.setValue(self._key("run_kind"), "script")
        self.statusBar().showMessage(
            f"Main script: {Path(path).name}"
            + (f" (run as a script, no longer -m {was.module})" if was.runs_module else ""),
            4000,
        )
        self._show_run_config()

    # ================================================================ editors

    def open_file(self, path: Path | str, line: int = 0) -> CodeEditor:
        """Open ``path`` in a tab (or focus it) and return its editor."""
        ed = self.tabs.open(Path(path))
        self._mark_problems(ed)
        if line > 0:
            ed.go_to_line(line)
        QWidget.setFocus(ed)
        return ed

    def editor(self) -> CodeEditor | None:
        return self.tabs.current()

    def open_file_dialog(self) -> None:
        """File > Open File: any file, inside the project or not."""
        ed = self.tabs.current()
        start = str(ed.path.parent if ed and ed.path else self.project or Path.home())
        name = self.ask_open_file("Open File", start)
        if name and Path(name).is_file():
            self.open_file(Path(name))

    def new_file_dialog(self) -> None:
        """File > New File: choose its name, then it is created empty and opened."""
        name = self.ask_save_file("New File", str(self.project or Path.home()))
        if not name:
            return
        path = Path(name)
        if not path.exists():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            except OSError as exc:
                self.tabs.warn("New File", f"Could not create {path}:\n{exc}")
                return
            self.tree_model.refresh_folder(path.parent)
        self.open_file(path)

    def save_as_dialog(self) -> bool:
        """File > Save As: write the current buffer under a new name; the tab follows it."""
        ed = self.tabs.current()
        if ed is None:
            return False
        start = str(ed.path) if ed.path else str(self.project or Path.home())
        name = self.ask_save_file("Save As", start)
        if not name:
            return False
        other = self.tabs.editor_for(name)
        if other is not None and other is not ed:
            self.tabs.close_tab(self.tabs.indexOf(other), ask=False)
        old = ed.path
        ed.path = Path(norm(name))
        if not self.tabs.save(ed):
            ed.path = old
            return False
        i = self.tabs.indexOf(ed)
        self.tabs.setTabText(i, ed.path.name)
        self.tabs.setTabToolTip(i, str(ed.path))
        return True

    def about(self) -> None:
        """Help > About: the version and where hcride runs from."""
        import PySide6

        self.show_message(
            "About hcride",
            f"<h3>hcride {__version__}</h3><p>Live-edit a running Python program: "
            "Nim-style hot code reloading, module by module.</p>"
            f"<p>PySide6 {PySide6.__version__}<br>{html.escape(str(Path(__file__).parent))}</p>",
        )

    def save(self) -> bool:
        return self.tabs.save()

    def save_all(self) -> bool:
        return self.tabs.save_all()

    def _close_current(self) -> None:
        if self.tabs.count():
            self.tabs.close_tab(self.tabs.currentIndex())

    def _on_editor(self, method: str) -> None:
        ed = self.tabs.current()
        if ed is not None:
            getattr(ed, method)()

    def _open_find(self, replace: bool = False) -> None:
        """Ctrl+F (Ctrl+H with replace), prefilled with the selection (one line of it)."""
        ed = self.tabs.current()
        selected = ed.selected_text() if ed is not None else ""
        self.find_bar.open(selected if selected and "\n" not in selected else "", replace)

    def _find(self, text: str, forward: bool) -> None:
        ed = self.tabs.current()
        found = ed.find(text, forward, *self.find_bar.options) if ed is not None else False
        if text and not found:
            self.find_bar.status.setText("not found")

    def _highlight_matches(self) -> None:
        ed = self.tabs.current()
        if ed is None or not self.find_bar.isVisible():
            return
        text = self.find_bar.line.text()
        count = ed.highlight_all(text, search_flags(*self.find_bar.options))
        self.find_bar.status.setText(f"{count} found" if text else "")

    def _replace(self, every: bool) -> None:
        ed = self.tabs.current()
        needle = self.find_bar.line.text()
        if ed is None or not needle:
            return
        flags = search_flags(*self.find_bar.options)
        replacement = self.find_bar.replace_line.text()
        if every:
            count = ed.replace_all(needle, replacement, flags)
            self._highlight_matches()
            self.find_bar.status.setText(f"{count} replaced")
        else:
            ed.replace_one(needle, replacement, flags)
            self._highlight_matches()

    def _find_closed(self) -> None:
        """Esc in the find bar: highlights go, the editor has the keyboard again."""
        ed = self.tabs.current()
        if ed is not None:
            ed.clear_highlights()
            QWidget.setFocus(ed)

    def zoom_by(self, step: int) -> None:
        """Ctrl+= / Ctrl+-: every tab's zoom, kept between sessions."""
        self.tabs.set_zoom(self.tabs.zoom + step)
        self.settings.setValue("editor/zoom", self.tabs.zoom)

    def _zoom_reset(self) -> None:
        self.zoom_by(-self.tabs.zoom)

    def _go_to_line_dialog(self) -> None:
        ed = self.tabs.current()
        if ed is None:
            return
        line, ok = self.ask_line(ed.current_line(), max(1, ed.lineCount()))
        if ok:
            ed.go_to_line(line)
            QWidget.setFocus(ed)

    def _on_saved(self, path: str) -> None:
        if self.state.file_saved(path) or self.state.running:
            self.tree_model.refresh()
        self.tree_model.refresh_folder(Path(path).parent)  # a new name shows at once

    def _on_editor_changed(self, ed: CodeEditor | None) -> None:
        if ed is None or ed.path is None:
            return
        if self.find_bar.isVisible():
            self._highlight_matches()
        entry = self.state.module_for_file(str(ed.path))
        if entry is not None and entry.name != self.variables_model.module:
            self._show_module(entry.name)

    def _mark_problems(self, ed: CodeEditor) -> None:
        if ed.path is None:
            return
        marks: list[tuple[int, str]] = list(self._startup_marks.get(norm(ed.path), []))
        for rej in self.state.problems_for(str(ed.path)):
            line = rej.line or (ed.class_line(rej.cls) if rej.cls else 0) or 1
            marks.append((line, _annotation(rej)))
        if marks or ed.problem_lines:
            ed.set_problems(marks)

    # ================================================================ running

    def run(self) -> None:
        if self.project is None or self.driver.running:
            return
        config = self._runnable_config()
        if config is None:
            return
        self.console_model.append_line("system", f"▶ running {config.describe(self.project)}")
        self.driver.run(self.project, Path(config.script), *self._run_args(config))
        self._update_actions(starting=True)

    def _run_args(self, config: RunConfig) -> tuple:
        assert self.project is not None
        return (
            config.argv(),
            config.python or None,
            Path(config.cwd) if config.cwd else self.project,
            config.env,
            config.module if config.runs_module else None,
        )

    def _runnable_config(self) -> RunConfig | None:
        """The run configuration, or None (said in the console, and the dialog opens)
        when it could not run."""
        assert self.project is not None
        config, wrong = check_run_config(self.run_config(), self.project)
        if not wrong:
            if config.runs_module:  # its file is the main script, wherever it is now
                self.settings.setValue(self._key("module_file"), norm(config.script))
            return config
        for text in wrong:
            self.console_model.append_line("system", f"hcride: cannot run: {text}")
        self.edit_run_config()
        return None

    def stop(self) -> None:
        self.driver.stop()

    def restart(self) -> None:
        if self.project is None:
            return
        config = self._runnable_config()
        if config is None:
            return
        self.console_model.append_line("system", f"↻ restarting {config.describe(self.project)}")
        self.driver.restart(self.project, Path(config.script), *self._run_args(config))

    def reload_now(self) -> None:
        """F9: save everything, then build and apply now."""
        self.save_all()
        self.driver.build_now()

    def _send_stdin(self, text: str) -> None:
        if self.driver.running:
            self.console_model.echo_input(text)
            self.driver.send_stdin(text)
        else:  # it ended meanwhile: say so, with the line, rather than drop it
            self._not_sent(text.rstrip("\n"))

    def _not_sent(self, line: str) -> None:
        self.console_model.append_line(
            "system", f"hcride: not sent, the program is not running: {line}"
        )

    def _inspect(self, what: str, callback: Any, **kw: Any) -> None:
        self.driver.inspect(what, callback, **kw)

    # ================================================================= events

    def _on_events(self, batch: list[ev.Event]) -> None:
        changed = modules_changed = False
        applied: ev.ReloadApplied | None = None  # a flood of results: one refresh
        for event in batch:
            if isinstance(event, ev.Output):
                self.console_model.append(event.stream, event.text)
                continue
            changed = self.state.apply(event) or changed
            if isinstance(event, ev.ProgramStarted):
                self._startup_marks.clear()
                self.history.clear()
                self._var_timer.start()
                QTimer.singleShot(300, self._refresh_variables)
            elif isinstance(event, ev.ProgramExited):
                self._clear_variables(f"Not running ({self.state.exit_text()})")
                self.console_model.flush_partial()
                self.console_model.append_line("system", f"■ program {self.state.exit_text()}")
                self._var_timer.stop()
                if not event.stopped and event.returncode:
                    self._mark_crash()
            elif isinstance(event, ev.ReloadApplied):
                self._remember_build(event.result)
                applied = event
            elif isinstance(event, ev.ModulesChanged):
                for info in event.modules:
                    self.history.loaded(norm(str(info.get("file", ""))))
                modules_changed = True  # the live console's list: once per batch
                if self.variables_model.module is None:
                    self._auto_select_module()
            elif isinstance(event, ev.IpcProblem):
                self.console_model.append_line("system", f"hcride: {event.message}")
            elif isinstance(event, ev.RuntimeNotice):
                self.console_model.append_line("system", f"hcride: {event.message}")
                self.statusBar().showMessage(event.message, 15000)
            elif isinstance(event, ev.LiveReload):
                text = event.message if event.ok else (
                    f"{event.message} (Run > Restart, Ctrl+Shift+F5)")  # fmt: skip
                self.console_model.append_line("system", f"hcride: {text}")
                self.statusBar().showMessage(text, 0 if not event.ok else 15000)
            elif isinstance(event, ev.ProgramConnected) and event.reconnected:
                text = "the program reconnected: live reload goes on"
                self.console_model.append_line("system", f"hcride: {text}")
                self.statusBar().showMessage(text, 15000)
        if modules_changed:
            self._live_modules()
        if applied is not None:
            self._after_reload(applied.result)
        if changed:
            self.tree_model.refresh()
            self.log_model.sync()
            for ed in self.tabs.editors():
                self._mark_problems(ed)
            self._update_actions()

    def _mark_crash(self) -> None:
        """The program died of an exception: mark its line (in the project) in the
        editor, opening the file, as a syntax error in a module is marked."""
        self.console_model.flush()
        crash = last_crash(self.console_model.stream_lines("stderr", 400), self.project)
        if crash is None:
            return
        self._startup_marks = {norm(crash.file): [(crash.line, crash.message or "crashed here")]}
        ed = self.open_file(crash.file, crash.line)
        self._mark_problems(ed)

    def _on_console_activated(self, index: QModelIndex) -> None:
        """A ``File "...", line N`` row of a traceback opens that file at that line."""
        loc = location(index.data() or "")
        if loc is not None and Path(loc.file).is_file():
            self.open_file(loc.file, loc.line)

    def _after_reload(self, result: Any) -> None:
        module = self.variables_model.module
        if module is not None and module in self.state.reports:
            self.variables_model.set_marks(_marks(self.state.reports[module]))
        QTimer.singleShot(0, self._refresh_variables)

    def _auto_select_module(self) -> None:
        ed = self.tabs.current()
        entry = self.state.module_for_file(str(ed.path)) if ed and ed.path else None
        if entry is None and self.state.modules:
            entry = next(iter(self.state.modules.values()))
        if entry is not None:
            self._show_module(entry.name)

    def _clear_variables(self, why: str) -> None:
        """The program stopped or the project changed: no stale values on screen."""
        self.variables_model.set_module(None)
        self.variables_pane.title.setText(why)

    def _show_module(self, name: str) -> None:
        report = self.state.reports.get(name)
        self.variables_model.set_marks(_marks(report) if report else {})
        self.variables_pane.title.setText(f"Globals of <b>{name}</b>")
        self.variables_model.set_module(name)

    def _refresh_variables(self) -> None:
        if not self.driver.running or not self.variables_dock.isVisible():
            return
        if self.variables_model.module is None:
            self._auto_select_module()
            return
        self.variables_model.refresh(self.variables_pane.expanded_nodes())

    # ============================================= live console, initializers, revert

    def evaluate_in_program(
        self, module: str, code: str, done: Any = None, echo: bool = True,
        initializes: str | None = None,
    ) -> None:
        """Run ``code`` in ``module`` of the program (its main thread, next safe point);
        the answer goes to the console, then the Variables pane is refreshed."""
        if echo:
            first, *more = code.splitlines() or [""]
            self.console_model.append_line("live", f"» {module}: {first}{' …' if more else ''}")

        def answer(ok: bool, data: Any, error: str | None) -> None:
            if ok and isinstance(data, dict):
                if not data.get("statement"):
                    value, kind = str(data.get("value")), str(data.get("type", ""))
                    self.console_model.append_line("live", f"= {value}   ({kind})")
                else:
                    self.console_model.append_line("live", "✓ done")
            else:
                for line in (error or "no answer").splitlines():
                    self.console_model.append_line("stderr", line)
            if done is not None:
                done(ok and isinstance(data, dict), error)
            QTimer.singleShot(0, self._refresh_variables)

        self.driver.evaluate(module, code, answer, initializes)

    def _live_modules(self) -> None:
        names = ["__main__", *sorted(n for n in self.state.modules if n != "__main__")]
        self.console_pane.set_modules(names, self.variables_model.module)

    def run_new_initializer(self, name: str) -> None:
        """A stale global (or ``Class.attr``): run the initializer its module's file
        has now, in the program, as a reload would run a new global's (reported in the
        log and the console)."""
        module = self.variables_model.module
        entry = self.state.modules.get(module or "")
        if entry is None:
            return
        try:
            source = Path(entry.file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.console_model.append_line("stderr", f"hcride: cannot read {entry.file}: {exc}")
            return
        code = initializer(source, name)
        if code is None:
            self.console_model.append_line(
                "stderr", f"hcride: no plain assignment to {name} in {Path(entry.file).name}"
            )
            return
        mod = entry.name

        def done(ok: bool, error: str | None) -> None:
            result = "initializer run" if ok else "initializer failed"
            node = LogNode(f"{name}: {code}", file=entry.file, kind="initialized" if ok else "error")
            self.state.log.append(LogEntry(time.time(), mod, result, details=[node]))
            self.log_model.sync()
            if ok:
                marks = dict(self.variables_model.marks)
                marks[name] = "re-initialized"
                self.variables_model.set_marks(marks)

        self.evaluate_in_program(mod, code, done, initializes=name)

    def _remember_build(self, result: Any) -> None:
        """Keep the snapshot texts of an applied build (to revert it later)."""
        build = getattr(result, "build", None)
        session = self.driver.session
        if build is None or session is None or self.project is None:
            return
        builder = getattr(session, "builder", None)
        folder = getattr(builder, "_folder", None) or getattr(builder, "builds_dir", None)
        texts: dict[str, bytes] = {}
        for name in result.reloaded:
            entry = self.state.modules.get(name)
            if entry is None or folder is None:
                continue
            try:
                rel = Path(entry.file).relative_to(self.project)
                texts[entry.file] = (Path(folder) / str(build) / rel).read_bytes()
            except (OSError, ValueError):
                continue
        if texts:
            self.history.applied_build(build, texts)

    def revert_reload(self, row: int) -> bool:
        """Put the modules of the reload on log row ``row`` back to the text they had
        before it: written to their files (an open editor takes the text) and applied
        as a new reload, with the same rules. False when it cannot be done."""
        if not 0 <= row < len(self.state.log):
            return False
        entry = self.state.log[row]
        build = entry.build
        files = self.history.files_of(build) if build is not None else []
        texts: dict[str, str] = {}  # file -> its text with that reload taken back
        kept: list[str] = []  # files changed since: their later edits stay
        for file in files:
            before, after = self.history.before(build, file), self.history.after(build, file)
            if before is None or after is None:
                continue
            ed = self.tabs.editor_for(file)
            encoding = ed.encoding if ed is not None else "utf-8"
            try:
                current = ed.text() if ed is not None else Path(file).read_text(encoding)
                old, new = before.decode(encoding), after.decode(encoding)
            except (OSError, UnicodeDecodeError, LookupError):
                continue
            text = revert_text(old, new, current)
            if text is None:  # a later save changed the same lines: taking it back loses them
                self.console_model.append_line("system", (
                    f"↶ cannot revert build {build}: {Path(file).name} was changed since on "
                    "the same lines (revert the later reloads first); nothing was changed"))
                return False  # fmt: skip
            if current != new:
                kept.append(Path(file).name)
            texts[file] = text
        reverted = []
        for file, text in texts.items():
            ed = self.tabs.editor_for(file)
            if ed is not None:
                ed.set_text(text)
                if not self.tabs.save(ed):
                    continue
            else:
                atomic_write(Path(file), text.encode("utf-8"))  # read as UTF-8 above
                self._on_saved(norm(file))
            reverted.append(Path(file).name)
        if not reverted:
            return False
        since = f" (later saves of {', '.join(kept)} kept)" if kept else ""
        self.console_model.append_line(
            "system", f"↶ reverting build {build}: {', '.join(reverted)}{since}"
        )
        self.driver.build_now()
        return True

    def _log_menu(self, pos: Any) -> None:
        index = self.reload_log.indexAt(pos)
        if not index.isValid() or index.parent().isValid():
            return
        row = index.row()
        entry = self.state.log[row] if row < len(self.state.log) else None
        if entry is None or entry.build is None or not self.history.files_of(entry.build):
            return
        menu = QMenu(self)
        menu.addAction(
            f"Revert this reload (build {entry.build})", lambda: self.revert_reload(row)
        ).setEnabled(self.driver.running)
        menu.popup(self.reload_log.viewport().mapToGlobal(pos))

    # ================================================================ hot exit

    def keep_unsaved(self) -> int:
        """Copy each modified buffer whose text changed to the recovery folder, and
        forget the copies of buffers saved, reverted or closed since. Returns the
        number of files written (the timer calls this every ``RECOVERY_MS``)."""
        written = 0
        dirty: set[str] = set()
        for ed in self.tabs.editors():
            if ed.path is not None and ed.is_modified:
                dirty.add(str(ed.path))
                written += self.recovery.save(ed.path, ed.text())
        for path in self.recovery.kept() - dirty:
            self.recovery.discard(path)
        return written

    def _forget_unsaved(self) -> None:
        """The user answered about unsaved work (saved or discarded): drop the copies."""
        for path in self.recovery.kept():
            self.recovery.discard(path)

    def _restore_unsaved(self) -> None:
        """After a crash: reopen the project's unsaved buffers, still unsaved."""
        if self.project is None:
            return
        names = []
        for rec in self.recovery.pending(self.project):
            ed = self.tabs.open(rec.path)
            if ed.text() != rec.text:
                ed.set_text(rec.text)
                names.append(rec.path.name)
            self.recovery.discard(rec.path)
            self.recovery.save(rec.path, rec.text)  # kept until saved or closed
        if names:
            self.statusBar().showMessage(f"Restored unsaved changes: {', '.join(names)}", 15000)
            self.console_model.append_line(
                "system", f"hcride: restored unsaved changes to {', '.join(names)}"
            )

    def _may_stop(self, consequence: str) -> bool:
        """Ask before stopping a running program (Open Project, Quit)."""
        if not self.driver.running:
            return True
        name = self.driver.script.name if self.driver.script else "The program"
        return bool(self.ask_stop(f"{name} is running. {consequence} Stop it?"))

    def _on_tree_clicked(self, index: QModelIndex) -> None:
        entry = self.state.module_for_file(index.data(PathRole) or "")
        if entry is not None:
            self._show_module(entry.name)

    def _on_tree_activated(self, index: QModelIndex) -> None:
        path = index.data(PathRole)
        if path and Path(path).is_file():
            self.open_file(Path(path))

    def _span_details(self, index: QModelIndex) -> None:
        """Detail rows are one line of text: let them use the whole width."""
        for row in range(self.log_model.rowCount(index)):
            self.reload_log.setFirstColumnSpanned(row, index, True)

    def expand_log(self) -> None:
        """Expand every reload log row and its details."""
        stack = [QModelIndex()]
        while stack:
            parent = stack.pop()
            for row in range(self.log_model.rowCount(parent)):
                child = self.log_model.index(row, 0, parent)
                if self.log_model.hasChildren(child):
                    self.reload_log.expand(child)
                    self._span_details(child)
                    stack.append(child)

    def _on_log_activated(self, index: QModelIndex) -> None:
        index = index.siblingAtColumn(0)
        file, line = index.data(FileRole), index.data(LineRole) or 0
        if file and Path(file).is_file():
            self.open_file(Path(file), line)

    # ================================================================= looks

    def _update_actions(self, starting: bool = False) -> None:
        running = self.state.running or starting
        has_project = self.project is not None
        self.actionRun.setEnabled(has_project and not running)
        self.actionStop.setEnabled(running)
        self.actionRestart.setEnabled(has_project)
        self.actionReload.setEnabled(running)
        s = self.state
        unsent = self.console_pane.set_running(s.running)
        if unsent:
            self._not_sent(unsent)
        if s.running:
            self.status_run.setText(f"● running (pid {s.pid})")
        elif s.returncode is not None or s.exit_signal or s.stopped:
            self.status_run.setText(f"○ {s.exit_text()}")
        else:
            self.status_run.setText("○ not running")
        self.status_mode.setText(self._mode_text())
        last = time.strftime("%H:%M:%S", time.localtime(s.last_reload)) if s.last_reload else "—"
        self.status_reloads.setText(f"reloads: {s.reloads}   last: {last}")

    def _mode_text(self) -> str:
        """``detect mode``; while running the program's resolved mode and why, and the
        mode a restart would use when the user chose another one."""
        chosen = self.driver.mode
        if not self.state.running:
            return f"{chosen} mode"
        session = self.driver.session
        requested = getattr(session, "requested_mode", chosen)
        current = self.state.mode or requested
        text = f"{current} mode"
        reason = MODE_REASONS.get((requested, current))
        if reason:
            text += f" ({reason})"
        if requested != chosen:
            text += f" ({chosen} on restart)"
        self.status_mode.setToolTip(RELOAD_MODES.get(current, ("", ""))[1])
        return text

    def set_theme(self, name: str) -> None:
        self.theme = load_theme(name)
        apply_palette(self.theme)
        self.tabs.set_theme(self.theme)
        self.tree_model.set_theme(self.theme)
        self.log_model.set_theme(self.theme)
        self.console_model.set_theme(self.theme)
        self.console_pane.restyle()
        self.variables_model.theme = self.theme
        self.actionDark.setChecked(self.theme.dark)
        self.settings.setValue("theme", self.theme.name)

    def _toggle_theme(self) -> None:
        self.set_theme(THEMES[1] if self.actionDark.isChecked() else THEMES[0])

    # =============================================================== settings

    def _key(self, name: str) -> str:
        digest = hashlib.sha1(str(self.project).encode()).hexdigest()[:12]
        return f"projects/{digest}/{name}"

    def _recent(self) -> list[str]:
        return [p for p in (self.settings.value("recent", [], list) or []) if Path(p).is_dir()]

    def _last_project(self) -> Path | None:
        recent = self._recent()
        return Path(recent[0]) if recent else None

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self._recent():
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _c=False, p=path: self.open_project(Path(p)))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def _remember_project(self, project: Path) -> None:
        recent = [str(project)] + [p for p in self._recent() if p != str(project)]
        self.settings.setValue("recent", recent[:10])

    def _save_project_settings(self) -> None:
        files = [str(e.path) for e in self.tabs.editors() if e.path is not None]
        self.settings.setValue(self._key("open_files"), files)

    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        layout = self.settings.value("window/state")
        if isinstance(layout, QByteArray):
            self.restoreState(layout)
        else:
            QTimer.singleShot(0, self._initial_docks)  # once shown: sizes then apply
        screen = self.screen().availableGeometry()
        if self.minimumSizeHint().width() > screen.width() * 0.92 or (
            self.minimumSizeHint().height() > screen.height() * 0.9
        ):
            self.compact_docks()
        if self.width() > screen.width() or self.height() > screen.height():
            self.resize(*default_size(screen.size()))  # saved on a bigger screen

    def compact_docks(self) -> None:
        """A small screen (or a large scale factor): Variables shares the Project
        dock's place and the Reload Log the Console's, as tabs, so the window fits."""
        self.tabifyDockWidget(self.tree_dock, self.variables_dock)
        self.tabifyDockWidget(self.console_dock, self.log_dock)
        self.tree_dock.raise_()
        self.console_dock.raise_()

    def save_settings(self) -> None:
        if self.project is not None:
            self._save_project_settings()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("theme", self.theme.name)
        self.settings.sync()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self._fit_docks)

    def _fit_docks(self) -> None:
        """On a small window, give the docks a share of it so the editor keeps room
        (docks keep their pixel sizes otherwise, and the editor takes all the loss)."""
        central, w, h = self.centralWidget(), self.width(), self.height()
        horizontal = Qt.Orientation.Horizontal
        if central.width() < 0.45 * w:
            self.resizeDocks(
                [self.tree_dock, self.variables_dock], [int(w * 0.22), int(w * 0.3)], horizontal
            )
        if central.height() < 0.42 * h:
            self.resizeDocks([self.console_dock], [int(h * 0.3)], Qt.Orientation.Vertical)

    # ================================================================ closing

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.tabs.check_disk()
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._may_stop("Quitting stops it.") or not self.tabs.confirm_discard():
            event.ignore()
            return
        self._recovery_timer.stop()
        self._forget_unsaved()
        self.save_settings()
        self._var_timer.stop()
        self.driver.close(wait=True)
        event.accept()


def default_size(screen: QSize) -> tuple[int, int]:
    """1280x800, or less on a small screen (or a large scale factor): the window and
    its frame fit the available screen area."""
    return min(1280, int(screen.width() * 0.92)), min(800, int(screen.height() * 0.9))


def _annotation(rej: Any) -> str:
    """A refusal as said under its line: what is wrong, without the module and the
    file's path (``describe()``'s, for the log and the terminal) that the editor shows."""
    if rej.kind == "type_change":
        return f"class {rej.cls}: " + "; ".join(rej.differences)
    text = rej.message
    if rej.kind == "syntax" and not text.split(":", 1)[0].endswith("Error"):
        text = f"SyntaxError: {text}"
    return text + (f" (column {rej.col})" if rej.col else "")


def _marks(report: Any) -> dict[str, str]:
    marks: dict[str, str] = {}
    for name in report.initialized:
        marks[name] = "initialized"
    for name in report.preserved:
        marks[name] = "preserved"
    for name in report.stale:
        marks[name] = "stale"
    return marks
