"""Light and dark themes: the Qt palette, the editor's colours, the panes' accents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from hcride.ide.resources import theme_data

THEMES = ("light", "dark")

_FALLBACK_STATES = {
    "not loaded": "#9a9aa2",
    "unchanged": "#6f9f6f",
    "changed on disk": "#d9a400",
    "build pending": "#3a86d9",
    "reloaded": "#1aa34a",
    "rejected": "#d9480f",
    "error": "#d01c28",
    "main script": "#7a5bd6",
    "restart needed": "#e07b00",
}


def bgr(colour: str | QColor) -> int:
    """Scintilla's colour integer (0xBBGGRR) for ``#rrggbb``."""
    c = QColor(colour)
    return c.red() | (c.green() << 8) | (c.blue() << 16)


@dataclass
class Theme:
    name: str
    palette: dict[str, str] = field(default_factory=dict)
    editor: dict[str, Any] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    console: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dark(self) -> bool:
        return self.name == "dark"

    def colour(self, key: str, default: str = "#808080") -> QColor:
        """A top-level accent (``changed_background``, ``preserved``, ``initialized``)."""
        return QColor(str(self.extra.get(key, default)))

    def state_colour(self, status: str) -> QColor:
        return QColor(self.states.get(status) or _FALLBACK_STATES.get(status, "#808080"))

    def console_colour(self, stream: str) -> QColor:
        fallback = {"stderr": "#c0182a", "system": "#3874d8"}.get(stream, "")
        value = self.console.get(stream, fallback)
        return QColor(value) if value else QColor(self.palette.get("Text", "#1e1e24"))

    def editor_colour(self, key: str, default: str) -> str:
        return str(self.editor.get(key, default))

    def qpalette(self) -> QPalette:
        pal = QPalette()
        for role_name, value in self.palette.items():
            role = getattr(QPalette.ColorRole, role_name, None)
            if role is None:
                continue
            colour = QColor(value)
            pal.setColor(QPalette.ColorGroup.All, role, colour)
        disabled = QColor(self.palette.get("PlaceholderText", "#8a8a94"))
        for role in (
            QPalette.ColorRole.Text,
            QPalette.ColorRole.WindowText,
            QPalette.ColorRole.ButtonText,
        ):
            pal.setColor(QPalette.ColorGroup.Disabled, role, disabled)
        return pal


def load_theme(name: str) -> Theme:
    if name not in THEMES:
        name = "light"
    data = theme_data(name)
    known = {"name", "palette", "editor", "states", "console"}
    return Theme(
        name=name,
        palette=dict(data.get("palette", {})),
        editor=dict(data.get("editor", {})),
        states=dict(data.get("states", {})),
        console=dict(data.get("console", {})),
        extra={k: v for k, v in data.items() if k not in known},
    )


def apply_palette(theme: Theme) -> None:
    """Give the whole application the theme's palette (Fusion style, so it shows)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    if theme.palette:
        app.setPalette(theme.qpalette())
