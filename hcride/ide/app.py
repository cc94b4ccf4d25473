"""``hcride [PROJECT]``: create the application and show the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication


def main(project: Path | None = None) -> int:
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    QCoreApplication.setOrganizationName("hcride")
    QCoreApplication.setApplicationName("hcride")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from hcride.ide.main_window import MainWindow

    if project is not None and not project.is_dir():
        print(f"hcride: not a folder: {project}", file=sys.stderr)
        return 2
    window = MainWindow(project=project.resolve() if project else None)
    window.show()
    return app.exec()
