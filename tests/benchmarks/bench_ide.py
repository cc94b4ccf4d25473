"""IDE benchmark (not collected): start-up time and worst event-loop stalls.

    /work/venv/bin/python tests/benchmarks/bench_ide.py

Prints: time to the window shown; the worst gap between 5 ms timer ticks while the
program prints as fast as it can, and while a 10-million-element list is shown (as
ranges, the last thousand items paged in) in the variables pane, with the variables
refreshed every second as usual.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

T0 = time.perf_counter()
from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

FLOOD = """import logic
while True:
    logic.spam()
"""
FLOOD_LOGIC = """import sys
n = 0
def spam():
    global n
    for _ in range(1000):
        n += 1
        sys.stdout.write(f"line {n}\\n")
"""
BIG = """import time
import logic
while True:
    time.sleep(0.05)
"""
BIG_LOGIC = "big = list(range(10_000_000))\n"


class StallMeter:
    def __init__(self) -> None:
        self.worst = 0.0
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def start(self) -> None:
        self.worst, self.last = 0.0, time.perf_counter()
        self.timer.start()


def pump(app: QApplication, seconds: float, until=None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return
        time.sleep(0.002)


def session(app, tmp: Path, name: str, main: str, logic: str):
    from hcride.ide import MainWindow

    project = tmp / name
    project.mkdir()
    (project / "main.py").write_text(main)
    (project / "logic.py").write_text(logic)
    settings = QSettings(str(tmp / f"{name}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(project=project, settings=settings)
    window.ask_stop = lambda text: True
    window.show()
    return window


def main() -> None:
    app = QApplication.instance() or QApplication([])
    from hcride.ide import MainWindow

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        settings = QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat)
        window = MainWindow(project=None, settings=settings)
        window.show()
        app.processEvents()
        print(f"start-up to window shown (incl. imports): {time.perf_counter() - T0:.3f} s")
        window.close()

        meter = StallMeter()
        window = session(app, tmp, "flood", FLOOD, FLOOD_LOGIC)
        window.run()
        pump(app, 30, lambda: window.console_model.rowCount() > 1000)
        meter.start()
        pump(app, 5.0)
        lines = window.console_model.dropped + window.console_model.rowCount()
        print(f"worst stall while printing flat out: {meter.worst * 1000:.1f} ms "
              f"({lines} lines reached the console in ~5 s)")  # fmt: skip
        window.stop()
        pump(app, 10, lambda: not window.state.running)
        window.close()

        window = session(app, tmp, "big", BIG, BIG_LOGIC)
        window.run()
        pump(app, 60, lambda: "logic" in window.state.modules)
        meter.start()
        window._show_module("logic")
        model = window.variables_model
        pump(app, 30, lambda: model.rowCount() > 0)
        view = window.variables_pane.view
        big = next(
            model.index(r, 0) for r in range(model.rowCount()) if model.index(r, 0).data() == "big"
        )
        # big is shown as ranges of ranges: expand it, its last range, that one's last
        # range (the items), and page through those items to the end
        node = big
        for _ in range(3):
            view.expand(node)
            pump(app, 0.5)
            view.scrollToBottom()
            if model.canFetchMore(node):
                model.fetchMore(node)
            pump(app, 0.5)
            first = model.index(0, 0, node)
            if first.isValid() and model.node(first).lo is not None:  # a range
                node = model.index(model.rowCount(node) - 1, 0, node)
        for _ in range(10):
            pump(app, 0.3)
            view.scrollToBottom()
            if model.canFetchMore(node):
                model.fetchMore(node)
        pump(app, 1.5)
        rows = model.rowCount(big)
        print(f"worst stall with a 10M-element list expanded and paged ({rows} range rows, "
              f"{node.data()}: {model.rowCount(node)} items fetched): "
              f"{meter.worst * 1000:.1f} ms")  # fmt: skip
        window.stop()
        pump(app, 10, lambda: not window.state.running)
        window.close()


if __name__ == "__main__":
    main()
