"""The editor area: one ``CodeEditor`` per open file, saves, and changes on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, Signal
from PySide6.QtWidgets import QMessageBox, QTabWidget, QWidget

from hcride.controller.state import norm
from hcride.ide.atomic import atomic_write, is_read_only
from hcride.ide.editor import CodeEditor, source_encoding
from hcride.ide.resources import resources_dir
from hcride.ide.theme import Theme

Ask = Callable[[str, str, list[str]], str]
"""``ask(title, text, choices) -> choice``: how the tabs ask the user something."""


def ask_with_message_box(parent: QWidget) -> Ask:
    def ask(title: str, text: str, choices: list[str]) -> str:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
        buttons = {box.addButton(c, QMessageBox.ButtonRole.ActionRole): c for c in choices}
        box.exec()
        return buttons.get(box.clickedButton(), choices[-1])

    return ask


class EditorTabs(QTabWidget):
    """Tabs of editors. The current one has objectName ``editor``."""

    saved = Signal(str)
    """A file was written (its normalized path)."""
    currentEditorChanged = Signal(object)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("editorTabs")
        self.setTabsClosable(True)
        self.setMovable(True)
        self.setDocumentMode(True)
        self.theme = theme
        self.zoom = 0
        """Scintilla's zoom of every tab (View > Zoom, Ctrl+wheel in any tab)."""
        self.ask: Ask = ask_with_message_box(self)
        self.warn: Callable[[str, str], object] = lambda title, text: QMessageBox.warning(
            self, title, text
        )
        """``warn(title, text)``: tell the user something went wrong (tests replace it)."""
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._on_disk_change)
        self.tabCloseRequested.connect(lambda i: self.close_tab(i))
        self.currentChanged.connect(self._on_current_changed)
        self._style_close_buttons()

    # ---------------------------------------------------------------- access

    def editors(self) -> list[CodeEditor]:
        return [w for i in range(self.count()) if isinstance(w := self.widget(i), CodeEditor)]

    def current(self) -> CodeEditor | None:
        w = self.currentWidget()
        return w if isinstance(w, CodeEditor) else None

    def editor_for(self, path: str | Path) -> CodeEditor | None:
        key = norm(path)
        for ed in self.editors():
            if ed.path is not None and norm(ed.path) == key:
                return ed
        return None

    def modified(self) -> list[CodeEditor]:
        return [e for e in self.editors() if e.is_modified]

    # ------------------------------------------------------------- open/save

    def open(self, path: Path) -> CodeEditor:
        path = Path(norm(path))
        ed = self.editor_for(path)
        if ed is None:
            ed = CodeEditor(path)
            ed.apply_theme(self.theme)
            ed.set_zoom(self.zoom)
            ed.zoom.connect(lambda level: self.set_zoom(level))
            ed.load(path.read_bytes() if path.exists() else b"")
            ed.modifiedChanged.connect(lambda _m, e=ed: self._update_title(e))
            self.addTab(ed, path.name)
            self.setTabToolTip(self.indexOf(ed), str(path))
            self._watch(path)
        self.setCurrentWidget(ed)
        self._on_current_changed(self.currentIndex())
        return ed

    def save(self, ed: CodeEditor | None = None) -> bool:
        ed = ed or self.current()
        if ed is None or ed.path is None:
            return False
        try:
            data = ed.text().encode(ed.encoding)
        except UnicodeEncodeError as exc:
            self.warn(
                "Save failed",
                f"Could not save {ed.path}: the file is {ed.encoding} and the text has "
                f"characters {ed.encoding} cannot hold ({exc.object[exc.start:exc.end]!r}).\n"
                "Change its coding line to utf-8 or remove them; nothing was written.",
            )  # fmt: skip
            return False
        if is_read_only(ed.path):
            choice = self.ask(
                "Read-only file",
                f"{ed.path.name} is read-only. Overwrite it anyway (it stays read-only)?",
                ["Overwrite", "Cancel"],
            )
            if choice != "Overwrite":
                return False
        try:
            atomic_write(ed.path, data)
        except OSError as exc:
            self.warn("Save failed", f"Could not save {ed.path}:\n{exc}")
            return False
        ed.mark_saved(data)
        self._watch(ed.path)
        self.saved.emit(norm(ed.path))
        return True

    def save_all(self) -> bool:
        return all(self.save(ed) for ed in self.modified())

    def close_tab(self, index: int, ask: bool = True) -> bool:
        ed = self.widget(index)
        if not isinstance(ed, CodeEditor):
            return False
        if ask and ed.is_modified:
            choice = self.ask(
                "Unsaved changes",
                f"{ed.path.name if ed.path else 'This file'} has unsaved changes.",
                ["Save", "Discard", "Cancel"],
            )
            if choice == "Cancel" or (choice == "Save" and not self.save(ed)):
                return False
        if ed.path is not None and str(ed.path) in self._watcher.files():
            self._watcher.removePath(str(ed.path))
        self.removeTab(index)
        ed.deleteLater()
        return True

    def confirm_discard(self) -> bool:
        """Ask about unsaved editors before they would be lost; False: cancel."""
        dirty = self.modified()
        if not dirty:
            return True
        names = ", ".join(e.path.name for e in dirty if e.path)
        choice = self.ask(
            "Unsaved changes", f"Save changes to {names}?", ["Save All", "Discard", "Cancel"]
        )
        if choice == "Cancel":
            return False
        return self.save_all() if choice == "Save All" else True

    def close_all(self) -> None:
        while self.count():
            self.close_tab(0, ask=False)

    def set_zoom(self, level: int) -> None:
        """The same zoom in every tab (Ctrl+wheel in one of them zooms them all)."""
        for ed in self.editors():
            if ed.zoom_level() != level:
                ed.set_zoom(level)
        first = self.editors()[0] if self.count() else None
        self.zoom = first.zoom_level() if first is not None else max(-8, min(20, level))

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for ed in self.editors():
            ed.apply_theme(theme)
        self._style_close_buttons()

    def _style_close_buttons(self) -> None:
        """A plain grey cross on every tab, a soft square behind it on hover (the
        style's own button is a red box on the current tab)."""
        image = resources_dir() / "icons" / f"close-{self.theme.name}.svg"
        if not image.is_file():
            return
        hover = "rgba(255, 255, 255, 40)" if self.theme.dark else "rgba(0, 0, 0, 30)"
        self.tabBar().setStyleSheet(
            f"QTabBar::close-button {{ image: url({image.as_posix()}); border-radius: 3px;"
            " margin: 2px; }"
            f"QTabBar::close-button:hover {{ background: {hover}; }}"
            f"QTabBar::close-button:pressed {{ background: {hover}; }}"
        )

    # --------------------------------------------------------------- changes

    def _watch(self, path: Path) -> None:
        if path.exists() and str(path) not in self._watcher.files():
            self._watcher.addPath(str(path))

    def _on_disk_change(self, name: str) -> None:
        ed = self.editor_for(name)
        path = Path(name)
        if ed is None:
            return
        self._watch(path)  # a rename-over (atomic save) drops the watch
        try:
            data = path.read_bytes()
        except OSError:
            return  # deleted: keep the buffer; saving recreates the file
        if data == ed.disk_bytes:
            return  # our own save, or no real change
        if not ed.is_modified:
            ed.load(data)
            return
        choice = self.ask(
            "File changed on disk",
            f"{path.name} changed on disk and has unsaved changes here.",
            ["Reload from disk", "Keep my version"],
        )
        if choice == "Reload from disk":
            _reload_undoably(ed, data)
        else:
            ed.disk_bytes = data  # do not ask again for the same content

    def check_disk(self) -> None:
        """Look for changes the watcher may have missed (called on window focus)."""
        for ed in self.editors():
            if ed.path is not None and ed.path.exists():
                self._on_disk_change(str(ed.path))

    # ----------------------------------------------------------------- looks

    def _update_title(self, ed: CodeEditor) -> None:
        i = self.indexOf(ed)
        if i >= 0 and ed.path is not None:
            self.setTabText(i, ("● " if ed.is_modified else "") + ed.path.name)

    def _on_current_changed(self, index: int) -> None:
        for ed in self.editors():
            ed.setObjectName("editorTab")
        ed = self.current()
        if ed is not None:
            ed.setObjectName("editor")
        self.currentEditorChanged.emit(ed)


def _reload_undoably(ed: CodeEditor, data: bytes) -> None:
    """Show the file's new content as one undoable step: Ctrl+Z brings back the text
    that was in the editor (then unsaved again)."""
    ed.encoding = source_encoding(data)
    ed.set_text(data.decode(ed.encoding, "replace"))
    ed.mark_saved(data)
