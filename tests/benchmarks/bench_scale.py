"""Benchmark: hcride on a big project, next to its reference in the same run.

    python tests/benchmarks/bench_scale.py [--modules 1000] [--files 20000] [--rounds 3]
                                           [--skip-ide] [--startup-only] [--batch-only]

Generates a project whose main script imports ``--modules`` project modules (50 per
package), and a variant padded to ``--files`` files (unimported modules, data and
text files in 20 files per folder). Prints, median of ``--rounds``:

- start-up: ``hcride run`` of a program importing every module, next to plain
  ``python`` (warm ``.pyc``), whole process and per imported module;
- fixed cost of ``hcride run`` on an empty script, next to plain ``python``
  (``--startup-only``: these start-up rows alone);
- a batch of every module changed: ``perform_code_reload()`` next to
  ``importlib.reload`` of each, in new processes, alternating (``--batch-only``: this
  row alone);
- inside the program (standalone ``hcride run``): ``has_any_module_changed()`` per
  call and ``perform_code_reload()`` with nothing pending, next to reading a flag;
  the runtime's memory (tracemalloc of its tracking, next to the source text size);
- ``--watch``: from start to the program connected with every module reported, the
  first save to the reload applied, and the controller's threads, on both projects;
- the IDE (offscreen): Run until the module tree knows every module, the worst gap
  of a 5 ms ``QTimer`` heartbeat meanwhile, and the IDE's RSS growth.

Not collected by pytest: speed is measured here, never in tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PER_PACKAGE = 50

MODULE = '''"""Module {i}."""
from dataclasses import dataclass

COUNT = {i}
NAMES = ["a", "b", "c"]


@dataclass
class Item{i}:
    x: int = 0
    y: int = 0

    def total(self):
        return self.x + self.y


def compute(n):
    total = 0
    for k in range(n):
        total += k * COUNT
    return total


def describe(item):
    return f"{{item.x}}, {{item.y}}: {{compute(3)}}"
'''

MAIN = '''import os
import sys
import time

T0 = time.perf_counter()
{imports}
IMPORTED = time.perf_counter() - T0
print(f"imported {{IMPORTED * 1000:.3f}}", flush=True)
if os.environ.get("BENCH_STAY"):
    print("ready", flush=True)
    while True:
        time.sleep(0.02)
'''

PROBE = '''import dataclasses  # noqa: F401  (what the modules import: not theirs to count)
import sys
import time
import tracemalloc

hcr = None
if "hcride.runtime.bootstrap" in sys.modules:  # under hcride run (plain: never import it)
    from hcride import hotcodereloading as hcr
tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
import main_imports  # noqa: F401  (every module)
grown = tracemalloc.get_traced_memory()[0] - before
tracemalloc.stop()
source = 0
for name, module in list(sys.modules.items()):
    file = getattr(module, "__file__", None) or ""
    if name.startswith("app") and file.endswith(".py"):
        with open(file, "rb") as handle:
            source += len(handle.read())
print(f"import_bytes {{grown}} source_bytes {{source}}")
if hcr is not None:
    from hcride.runtime.bootstrap import get_engine

    print(f"tracked {{len(get_engine()._tracked)}}")

    def per_call(fn, n):
        fn()
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(n):
                fn()
            best = min(best, (time.perf_counter() - t) / n)
        return best * 1e6

    flag = False
    print(f"has_any_module_changed_us {{per_call(hcr.has_any_module_changed, 200):.3f}}")
    print(f"perform_code_reload_us {{per_call(hcr.perform_code_reload, 200):.3f}}")
    print(f"flag_us {{per_call(lambda: flag, 200):.4f}}")
'''


BATCH = '''import gc
import importlib
import re
import sys
import time

import main_imports  # noqa: F401  (every module)

mods = [m for n, m in sorted(sys.modules.items()) if n.startswith("app.pkg") and n.count(".") == 2]


def edit(k):
    for module in mods:
        with open(module.__file__, encoding="utf-8") as handle:
            text = handle.read()
        with open(module.__file__, "w", encoding="utf-8") as handle:
            handle.write(re.sub(r"total \\+= (\\d+ \\+ )?k", f"total += {{k}} + k", text))


if "hcride.runtime.bootstrap" in sys.modules:  # under hcride run
    from hcride import hotcodereloading as hcr

    hcr.has_any_module_changed()  # polled once, as a running program has: feed open
edit(int(sys.argv[1]))
# The same start for both: the collections the imports owe (a full one, after 1,000
# modules) are made here, not inside whichever is measured first.
gc.collect()
if "hcride.runtime.bootstrap" in sys.modules:
    t = time.perf_counter()
    result = hcr.perform_code_reload()
    took = time.perf_counter() - t
    assert result.ok and len(result.reloaded) == len(mods), result.summary()
else:
    t = time.perf_counter()
    for module in mods:
        importlib.reload(module)
    took = time.perf_counter() - t
print(f"batch_ms {{took * 1000:.1f}} modules {{len(mods)}}")
'''


def make_project(root: Path, modules: int, files: int = 0) -> Path:
    """``modules`` imported modules; padded with other files up to ``files``."""
    root.mkdir(parents=True)
    imports = []
    for i in range(modules):
        pkg = root / "app" / f"pkg{i // PER_PACKAGE}"
        if not pkg.exists():
            pkg.mkdir(parents=True)
            (pkg / "__init__.py").write_text("")
        (pkg / f"m{i}.py").write_text(MODULE.format(i=i))
        imports.append(f"import app.pkg{i // PER_PACKAGE}.m{i}")
    (root / "app" / "__init__.py").write_text("")
    text = "\n".join(imports)
    (root / "main.py").write_text(MAIN.format(imports=text))
    (root / "main_imports.py").write_text(text + "\n")
    (root / "probe.py").write_text(PROBE.format())
    (root / "batch.py").write_text(BATCH.format())
    (root / "empty.py").write_text("")
    made = sum(1 for _ in root.rglob("*") if _.is_file())
    n = 0
    while made < files:
        folder = root / "extra" / f"d{n // 20}"
        folder.mkdir(parents=True, exist_ok=True)
        kind = n % 3
        name = ("u{n}.py", "data{n}.json", "notes{n}.txt")[kind].format(n=n)
        (folder / name).write_text(MODULE.format(i=n) if kind == 0 else "{}\n" * 20)
        made += 1
        n += 1
    return root


def median_time(cmd: list[str], rounds: int, cwd: Path, env: dict[str, str] | None = None) -> (
    tuple[float, str]
):
    times, out = [], ""
    for _ in range(rounds):
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}")
        out = proc.stdout
    return statistics.median(times), out


def plain_env() -> dict[str, str]:
    """Our environment, with bytecode caching on (as on a user's machine)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def env_for_hcride() -> dict[str, str]:
    env = plain_env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def imported_ms(out: str) -> float:
    for line in out.splitlines():
        if line.startswith("imported "):
            return float(line.split()[1])
    return float("nan")


def row(what: str, hcride: str, ref: str, ratio: str = "") -> None:
    print(f"{what:<58} {hcride:>14} {ref:>14} {ratio:>8}")


def bench_startup(project: Path, modules: int, rounds: int) -> None:
    py = sys.executable
    env = env_for_hcride()
    hcr = [py, "-m", "hcride", "run", "--project", str(project)]
    plain = plain_env()
    median_time([py, "main.py"], 1, project, plain)  # warm the .pyc
    median_time(hcr + ["main.py"], 1, project, env)  # and hcride's cache
    plain_t, plain_out = median_time([py, "main.py"], rounds, project, plain)
    hcr_t, hcr_out = median_time(hcr + ["main.py"], rounds, project, env)
    row(f"start-up, process importing {modules} modules", f"{hcr_t * 1000:.0f} ms",
        f"{plain_t * 1000:.0f} ms", f"{hcr_t / plain_t:.2f}x")  # fmt: skip
    hi, pi = imported_ms(hcr_out), imported_ms(plain_out)
    row("  per imported module (inside the program)", f"{hi / modules * 1000:.0f} us",
        f"{pi / modules * 1000:.0f} us", f"{hi / pi:.2f}x")  # fmt: skip
    plain_t, _ = median_time([py, "empty.py"], rounds, project, plain)
    hcr_t, _ = median_time(hcr + ["empty.py"], rounds, project, env)
    row("fixed cost of `hcride run` on an empty script", f"{hcr_t * 1000:.0f} ms",
        f"{plain_t * 1000:.0f} ms", f"{hcr_t / plain_t:.2f}x")  # fmt: skip


def _values(out: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in out.splitlines():
        parts = line.split()
        for key, value in zip(parts[::2], parts[1::2], strict=False):
            try:
                values[key] = float(value)
            except ValueError:
                pass
    return values


def bench_probe(project: Path, rounds: int) -> None:
    """Inside the program: polling, an empty reload, the memory of the imports (each
    value the median of ``rounds`` runs, as the other rows)."""
    env = env_for_hcride()
    cmd = [sys.executable, "-m", "hcride", "run", "--project", str(project), "probe.py"]
    values = _median_values([_values(median_time(cmd, 1, project, env)[1])
                             for _ in range(rounds)])
    plain = _median_values([_values(median_time([sys.executable, "probe.py"], 1, project,
                                                plain_env())[1]) for _ in range(rounds)])
    flag = values.get("flag_us", float("nan"))
    row(f"has_any_module_changed() per call ({values.get('tracked', 0):.0f} modules)",
        f"{values.get('has_any_module_changed_us', 0):.1f} us", f"{flag:.2f} us")  # fmt: skip
    row("perform_code_reload(), nothing pending",
        f"{values.get('perform_code_reload_us', 0):.1f} us", f"{flag:.2f} us")  # fmt: skip
    extra = values.get("import_bytes", 0) - plain.get("import_bytes", 0)
    src = values.get("source_bytes", 1)
    row("runtime bookkeeping: extra memory of the imports vs source", f"{extra / 1e6:.1f} MB",
        f"{src / 1e6:.1f} MB", f"{extra / src:.1f}x")  # fmt: skip
    row("  memory of the imports (tracemalloc), hcride vs plain",
        f"{values.get('import_bytes', 0) / 1e6:.1f} MB",
        f"{plain.get('import_bytes', 0) / 1e6:.1f} MB")  # fmt: skip


def _median_values(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs if key in run)
            for key in runs[0]} if runs else {}


def bench_batch(project: Path, rounds: int) -> None:
    """A batch of every module changed: one perform_code_reload() next to
    importlib.reload() of each (plain python), each in a new process, alternating,
    median of ``rounds``. Edits the project's modules."""
    env = env_for_hcride()
    hcr: list[float] = []
    plain: list[float] = []
    modules = 0.0
    for k in range(rounds):
        cmd = [sys.executable, "-m", "hcride", "run", "--project", str(project), "batch.py",
               str(2 * k + 1)]
        values = _values(median_time(cmd, 1, project, env)[1])
        hcr.append(values.get("batch_ms", float("nan")))
        modules = values.get("modules", 0)
        values = _values(median_time([sys.executable, "batch.py", str(2 * k + 2)], 1, project,
                                     plain_env())[1])
        plain.append(values.get("batch_ms", float("nan")))
    h, p = statistics.median(hcr), statistics.median(plain)
    row(f"batch of {modules:.0f} changed modules: perform_code_reload "
        "vs importlib.reload", f"{h:.0f} ms", f"{p:.0f} ms", f"{h / p:.2f}x")  # fmt: skip


def wait(pred: Callable[[], bool], timeout: float = 300.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.002)
    return False


def bench_watch(project: Path, modules: int, label: str) -> None:
    from hcride.controller import events as ev
    from hcride.controller.session import Session
    from hcride.controller.state import SessionState

    state = SessionState(project)
    lock = threading.Lock()
    applied: list[float] = []

    def on_event(event: ev.Event) -> None:
        with lock:
            state.apply(event)
            if isinstance(event, ev.ReloadApplied):
                applied.append(time.perf_counter())

    env = env_for_hcride()  # warm the caches first, as a second run of the day would be
    median_time([sys.executable, "-m", "hcride", "run", "main.py"], 1, project, env)
    os.environ["BENCH_STAY"] = "1"
    before = threading.active_count()
    t0 = time.perf_counter()
    session = Session(project, project / "main.py", on_event=on_event, watch=True)
    try:
        session.start()
        ok = wait(lambda: len(state.modules) >= modules + 1)
        started = time.perf_counter() - t0
        threads = threading.active_count() - before
        target = project / "app" / "pkg0" / "m1.py"
        t1 = time.perf_counter()
        text = target.read_text()
        assert "self.x + self.y" in text
        target.write_text(text.replace("self.x + self.y", "self.x - self.y"))
        ok = ok and wait(lambda: bool(applied), 60)
        first = (applied[0] - t1) * 1000 if applied else float("nan")
        parsed = session.builder.parses
    finally:
        session.close()
        os.environ.pop("BENCH_STAY", None)
    row(f"--watch start to every module reported ({label})", f"{started * 1000:.0f} ms", "")
    row(f"  first save to reload applied ({label})", f"{first:.0f} ms", "",
        "" if ok else "FAILED")  # fmt: skip
    row(f"  controller threads (program's pipes + watcher) ({label})", f"{threads}", "")
    row(f"  files parsed by the controller ({label})", f"{parsed}", "")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_ide(project: Path, modules: int, label: str) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from hcride.ide import MainWindow

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)
        t_open = time.perf_counter()
        window = MainWindow(project=project, settings=settings)
        window.show()
        app.processEvents()
        opened = time.perf_counter() - t_open
        worst = [0.0]
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            worst[0] = max(worst[0], now - last[0])
            last[0] = now

        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(tick)
        os.environ["BENCH_STAY"] = "1"
        rss0 = rss_mb()
        last[0] = time.perf_counter()
        timer.start()
        t0 = time.perf_counter()
        window.run()
        end = time.monotonic() + 120
        while time.monotonic() < end and len(window.state.modules) < modules + 1:
            app.processEvents()
            time.sleep(0.001)
        shown = time.perf_counter() - t0
        done = len(window.state.modules) >= modules + 1
        for _ in range(50):
            app.processEvents()
            time.sleep(0.002)
        timer.stop()
        growth = rss_mb() - rss0
        window.stop()
        end = time.monotonic() + 30
        while time.monotonic() < end and window.state.running:
            app.processEvents()
            time.sleep(0.005)
        os.environ.pop("BENCH_STAY", None)
        window.tabs.ask = lambda title, text, choices: "Discard"
        window.ask_stop = lambda text: True
        window.close()
        app.processEvents()
    row(f"IDE: open project ({label})", f"{opened * 1000:.0f} ms", "")
    row(f"IDE: Run until the tree knows every module ({label})", f"{shown * 1000:.0f} ms", "",
        "" if done else "NOT DONE")  # fmt: skip
    row(f"IDE: worst GUI freeze meanwhile ({label})", f"{worst[0] * 1000:.0f} ms", "")
    row(f"IDE: RSS growth during Run ({label})", f"{growth:.1f} MB", "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-ide", action="store_true")
    parser.add_argument("--startup-only", action="store_true",
                        help="only the start-up rows: hcride run next to python")
    parser.add_argument("--batch-only", action="store_true",
                        help="only the batch row: perform_code_reload next to importlib.reload")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # measure with .pyc, as users run
    tmp = Path(tempfile.mkdtemp(prefix="hcride-bench-scale-"))
    try:
        small = make_project(tmp / "modules", args.modules)
        row("what", "hcride", "reference", "ratio")
        if args.batch_only:
            bench_batch(small, args.rounds)
            return
        bench_startup(small, args.modules, args.rounds)
        if args.startup_only:
            return
        big = make_project(tmp / "files", args.modules, args.files)
        bench_probe(small, args.rounds)
        bench_batch(small, args.rounds)
        bench_watch(small, args.modules, f"{args.modules} modules")
        bench_watch(big, args.modules, f"{args.files} files")
        if not args.skip_ide:
            bench_ide(small, args.modules, f"{args.modules} modules")
            bench_ide(big, args.modules, f"{args.files} files")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
