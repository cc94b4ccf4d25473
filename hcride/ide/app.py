"""``hcride [PROJECT | FILE]``: create the application and show the main window."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from hcride.ide.main_window import MainWindow


def create_window(project: Path | None, file: Path | None = None, **options: Any) -> MainWindow:
    """The main window on ``project``, with ``file`` open in a tab.

    ``project`` None: the file's folder, else the last project. ``options`` go to
    ``MainWindow`` (``settings=`` in tests).
    """
    from hcride.ide.main_window import MainWindow

    if project is None and file is not None:
        project = file.parent

    window = MainWindow(project=project.resolve() if project else None, **options)
    if file is not None:
        window.open_file(file)
    return window


def main(project: Path | None = None, file: Path | None = None) -> int:
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    QCoreApplication.setOrganizationName("hcride")
    QCoreApplication.setApplicationName("hcride")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    if project is not None and not project.is_dir():
        print(f"hcride: not a folder: {project}", file=sys.stderr)
        return 2
    window = create_window(project, file)
    window.show()
    return app.exec()
