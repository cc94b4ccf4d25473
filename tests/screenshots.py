"""Write PNGs of the IDE in a running session, light and dark (not collected by pytest).

    /work/venv/bin/python tests/screenshots.py [OUT_DIR] [--sizes]

Runs the counter sample (a copy), makes one reload apply and one get rejected, asks
the live console for a value, then grabs the window to ``resources/screenshots/ide-light.png`` and ``ide-dark.png``. With
``--sizes``, also ``ide-<theme>-1280x800.png`` and ``ide-<theme>-1000x650.png`` (to
check that nothing is clipped on smaller screens).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = ROOT / "samples" / "counter"
"""The sample shown (copied to a temporary folder, so its builds stay out of the repo)."""


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
        project = Path(tmp) / "counter"
        shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns(".hcr", "__pycache__"))
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)
        window = MainWindow(
            project=project, settings=settings, theme="light", recovery_dir=Path(tmp) / "rec"
        )
        window.ask_stop = lambda text: True
        window.resize(1400, 860)
        window.show()
        window.run()
        pump(app, 20, lambda: "count is 3" in window.console_model.text())
        pump(app, 20, lambda: "counter" in window.state.modules)
        editor = window.open_file(project / "counter.py")
        editor.set_text(editor.text().replace('f"count is {value}"', 'f"the count is {value}"'))
        window.save()
        pump(app, 20, lambda: any(e.result == "applied" for e in window.state.log))
        pump(app, 1.5)
        editor.set_text(editor.text().replace(
            "    step: int = 1\n", "    step: int = 1\n    speed: int = 2\n"
        ))  # fmt: skip
        window.save()
        pump(app, 20, lambda: any(e.result == "rejected" for e in window.state.log))
        window._show_module("counter")
        window.console_pane.set_modules(["__main__", "counter"], "counter")
        window.evaluate_in_program("counter", "counter.value * 10")
        pump(app, 10, lambda: "(int)" in window.console_model.text())
        window.log_model.sync()
        window.expand_log()
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
