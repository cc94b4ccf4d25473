"""IDE memory over many reloads (not collected): RSS of the IDE process, N saves.

    python tests/benchmarks/bench_ide_memory.py [SAVES]

Opens a real window (offscreen) on a small project, runs the program, and saves
``logic.py`` through the editor SAVES times (default 900), each time waiting for the
reload to be applied. Prints the IDE's resident memory after the first 100 saves and
at the end, and the reload log's rows, for hcride as it is (the log keeps its newest
rows) next to the same run with the bound lifted (what the IDE did before).
Each configuration runs in its own process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

MAIN = """import time
import logic
while True:
    logic.tick()
    time.sleep(0.02)
"""
LOGIC = """count = 0

def tick():
    global count
    count += 1
    return {n}
"""


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pump(app, seconds: float, until=None) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return True
        time.sleep(0.002)
    return False


def run(saves: int, bounded: bool) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from hcride.controller import state as state_module

    if not bounded:
        state_module.MAX_LOG_ROWS = 10**9
    from hcride.ide import MainWindow

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as d:
        project = Path(d) / "proj"
        project.mkdir()
        (project / "main.py").write_text(MAIN)
        (project / "logic.py").write_text(LOGIC.format(n=0))
        settings = QSettings(str(Path(d) / "s.ini"), QSettings.Format.IniFormat)
        window = MainWindow(project=project, settings=settings)
        window.tabs.ask = lambda *a: "Discard"
        window.show()
        window.run()
        pump(app, 60, lambda: "logic" in window.state.modules)
        editor = window.open_file(project / "logic.py")
        at_100 = 0.0
        start = rss_mb()
        for i in range(1, saves + 1):
            editor.set_text(LOGIC.format(n=i))
            window.save()
            ok = pump(app, 30, lambda i=i: window.state.reloads >= i)
            if not ok:
                print(f"  save {i} not applied in 30 s; stopping", flush=True)
                break
            if i == 100:
                at_100 = rss_mb()
        end = rss_mb()
        rows = len(window.state.log)
        label = "hcride (log bounded)" if bounded else "unbounded log (before)"
        print(f"{label:24} saves {saves}: RSS start {start:.1f} MB, after 100 saves "
              f"{at_100:.1f} MB, after {saves} saves {end:.1f} MB "
              f"(+{end - at_100:.1f} MB over the last {saves - 100}); log rows {rows}",
              flush=True)  # fmt: skip
        window.stop()
        pump(app, 10, lambda: not window.state.running)
        window.close()


def main() -> None:
    if len(sys.argv) > 2:
        run(int(sys.argv[1]), sys.argv[2] == "bounded")
        return
    saves = int(sys.argv[1]) if len(sys.argv) > 1 else 900
    for mode in ("bounded", "unbounded"):
        subprocess.run([sys.executable, __file__, str(saves), mode], check=False)


if __name__ == "__main__":
    main()
