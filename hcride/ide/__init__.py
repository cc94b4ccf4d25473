"""The PySide6 IDE: ``from hcride.ide import MainWindow``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hcride.ide.main_window import MainWindow

__all__ = ["MainWindow"]


def __getattr__(name: str) -> Any:
    if name == "MainWindow":
        from hcride.ide.main_window import MainWindow

        return MainWindow
    raise AttributeError(name)
