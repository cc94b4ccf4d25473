"""Write PNGs of the IDE in a running session, light and dark (not collected by pytest).

    /work/venv/bin/python tests/screenshots.py [OUT_DIR] [--sizes]

Runs a small project, makes one reload apply and one get rejected, then grabs the
window to ``resources/screenshots/ide-light.png`` and ``ide-dark.png``. With
``--sizes``, also ``ide-<theme>-1280x800.png`` and ``ide-<theme>-1000x650.png`` (to
check that nothing is clipped on smaller screens).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

MAIN = """import time

import logic

while True:
    logic.update()
    time.sleep(0.1)
"""
LOGIC = '''"""A ball that moves; edit me while the program runs."""
from dataclasses import dataclass


@dataclass
class Ball:
    x: float = 0.0
    y: float = 0.0


ball = Ball()
frames = 0
trail = list(range(50_000))
settings = {"speed": 2, "colour": "red"}


def update():
    global frames
    frames += 1
    ball.x += settings["speed"]
    print(f"frame {frames}: ball at {ball.x:.0f}", flush=True)
'''


def pump(app: QApplication, seconds: float, until=None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return
        time.sleep(0.01)


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    sizes = [(1400, 860)]
    if "--sizes" in sys.argv:
        sizes += [(1280, 800), (1000, 650)]
    out = Path(args[0]) if args else ROOT / "resources" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    from hcride.ide import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "bouncing"
        project.mkdir()
        (project / "main.py").write_text(MAIN)
        (project / "logic.py").write_text(LOGIC)
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)
        window = MainWindow(project=project, settings=settings, theme="light")
        window.ask_stop = lambda text: True
        window.resize(1400, 860)
        window.show()
        window.run()
        pump(app, 20, lambda: "frame 3" in window.console_model.text())
        pump(app, 20, lambda: "logic" in window.state.modules)
        pump(app, 1.0)
        editor = window.open_file(project / "logic.py")
        editor.set_text(editor.text().replace(": ball at", ": the ball is at"))
        window.save()
        pump(app, 20, lambda: any(e.result == "applied" for e in window.state.log))
        pump(app, 1.5)
        text = editor.text().replace(
            "    y: float = 0.0\n", "    y: float = 0.0\n    speed: int = 3\n"
        )
        editor.set_text(text)
        window.save()
        pump(app, 20, lambda: any(e.result == "rejected" for e in window.state.log))
        window.log_model.sync()
        window.expand_log()
        window._show_module("logic")
        pump(app, 2.5)
        for width, height in sizes:
            window.resize(width, height)
            suffix = "" if (width, height) == sizes[0] else f"-{width}x{height}"
            for name in ("light", "dark"):
                window.set_theme(name)
                pump(app, 1.2)
                path = out / f"ide-{name}{suffix}.png"
                window.grab().save(str(path))
                print(path)
        window.tabs.ask = lambda *a: "Discard"
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
