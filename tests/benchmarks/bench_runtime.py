"""Benchmark the runtime: reload pause, call overhead, memory growth.

    python tests/benchmarks/bench_runtime.py [--repeat N]

Prints, side by side in one run:

1. for a one-function change in 100, 1,000, 10,000 and 100,000-line modules: the
   pause inside ``perform_code_reload()`` (the program's main thread stopped at its safe
   point) right after the save was staged and, every other round, after the program
   did other work that left the processor's caches cold; and before it the
   ``has_any_module_changed()`` that sees the save, reads and stages it (under a
   controller the agent's thread does that part as the build arrives); next to
   ``importlib.reload`` of the same module;
   then the same 10,000-line pause while the program holds 1,000,000 live objects
   (a search of the whole heap per reload would show there), and, with those
   objects, a change inside a nested ``lambda`` (the one case that searches the heap
   for closures made from the old code);
2. the cost of calling a function reloaded 10 times vs one never reloaded;
3. memory growth (tracemalloc and RSS) over 1,000 reloads of a 1,000-line module.

Not collected by pytest (no ``test_`` prefix): speed is measured here, never in tests.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import statistics
import sys
import tempfile
import time
import timeit
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hcride.runtime import bootstrap  # noqa: E402


def make_module(lines: int, variant: int = 0, nested: bool = False) -> str:
    """A module of about ``lines`` lines: functions, globals and a class every 100.
    ``nested``: the function that changes holds a lambda, and the lambda changes."""
    out = ['"""Generated benchmark module."""', "import math", "", "TOTAL = 0", ""]
    i = 0
    while len(out) < lines:
        if i % 10 == 0:
            out += [
                f"class Shape{i}:",
                f"    sides = {i % 7}",
                "    def __init__(self, x):",
                "        self.x = x",
                "    def area(self):",
                "        return math.pi * self.x * self.x",
                "",
            ]
        body = f"    return a * {variant + 1} + b + {i}" if i == 0 else f"    return a + b + {i}"
        if i == 0 and nested:
            body = f"    inner = lambda: a * {variant + 1}\n    return inner() + b"
        out += [
            f"STATE_{i} = [{i}, {i + 1}, {i + 2}]",
            f"def func_{i}(a, b=1):",
            '    """Add things."""',
            "    total = 0",
            "    for k in range(3):",
            "        total += k",
            body,
            "",
        ]
        i += 1
    return "\n".join(out) + "\n"


def write(path: Path, text: str) -> None:
    path.write_text(text)
    # A distinct mtime for every version even on coarse clocks.
    stamp = time.time_ns() + 1_000_000
    os.utime(path, ns=(stamp, stamp))


def churn() -> None:
    """What a running program does between a save and its reload: other work, which
    leaves the processor's caches cold (the staging of a 100,000-line module just
    before the pause warms them for what the pause reads)."""
    junk = [str(i) * 3 for i in range(300_000)]
    del junk


def bench_pause(sizes: list[int], repeat: int, root: Path, tag: str = "",
                nested: bool = False) -> list[tuple[int, float, float, float, float]]:
    """``(lines, pause ms, detect and stage ms, importlib.reload ms, pause ms with
    cold caches)``, medians."""
    rows = []
    hcr_dir = root / "hcr"
    plain_dir = root / "plain"
    if not hcr_dir.exists():
        hcr_dir.mkdir()
        plain_dir.mkdir()
        bootstrap.configure(os.path.realpath(hcr_dir), None)
        bootstrap.engine()  # made and installed now
        sys.path[:0] = [str(hcr_dir), str(plain_dir)]
    from hcride.runtime.bootstrap import get_engine

    engine = get_engine()
    for size in sizes:
        hname, pname = f"hmod_{size}{tag}", f"pmod_{size}{tag}"
        write(hcr_dir / f"{hname}.py", make_module(size, 0, nested))
        write(plain_dir / f"{pname}.py", make_module(size, 0, nested))
        importlib.import_module(hname)
        plain = importlib.import_module(pname)
        hcr_times, stage_times, plain_times, cold_times = [], [], [], []
        for r in range(0, 2 * repeat + 2):  # rounds 0 and 1 warm up, untimed
            cold = r % 2 == 1
            write(hcr_dir / f"{hname}.py", make_module(size, r + 1, nested))
            t0 = time.perf_counter()
            assert engine.has_any_module_changed()
            t1 = time.perf_counter()
            if cold:
                churn()
            t2 = time.perf_counter()
            result = engine.reload()
            t3 = time.perf_counter()
            assert result.ok and result.reloaded == [hname], result.summary()
            if r <= 1:
                continue
            if cold:
                cold_times.append((t3 - t2) * 1000)
                continue
            hcr_times.append((t3 - t2) * 1000)
            stage_times.append((t1 - t0) * 1000)
            write(plain_dir / f"{pname}.py", make_module(size, r + 1, nested))
            t0 = time.perf_counter()
            importlib.reload(plain)
            plain_times.append((time.perf_counter() - t0) * 1000)
        rows.append((size, statistics.median(hcr_times), statistics.median(stage_times),
                     statistics.median(plain_times), statistics.median(cold_times)))
    return rows


def bench_calls(root: Path) -> tuple[float, float]:
    """Seconds per million calls: a function reloaded 10 times vs never reloaded."""
    from hcride.runtime.bootstrap import get_engine

    engine = get_engine()
    folder = engine.project
    src = "def hot(a, b):\n    return a + b + {n}\n\ndef cold(a, b):\n    return a + b + 1\n"
    write(folder / "callmod.py", src.format(n=0))
    mod = importlib.import_module("callmod")
    for n in range(1, 11):
        write(folder / "callmod.py", src.format(n=n))
        assert engine.reload().ok
    hot, cold = mod.hot, mod.cold
    assert hot(1, 1) == 12
    best = {"hot": float("inf"), "cold": float("inf")}
    for _ in range(7):
        for name, fn in (("hot", hot), ("cold", cold)):
            t = timeit.timeit(lambda fn=fn: fn(1, 2), number=1_000_000)
            best[name] = min(best[name], t)
    return best["hot"], best["cold"]


def rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def bench_memory(reloads: int) -> tuple[float, float]:
    from hcride.runtime.bootstrap import get_engine

    engine = get_engine()
    path = engine.project / "memmod.py"
    write(path, make_module(1000, 0))
    importlib.import_module("memmod")
    for r in range(1, 21):  # warm up caches (linecache, interned strings)
        write(path, make_module(1000, r))
        assert engine.reload().ok
    gc.collect()
    tracemalloc.start()
    base_traced = tracemalloc.get_traced_memory()[0]
    base_rss = rss_kb()
    for r in range(21, 21 + reloads):
        write(path, make_module(1000, r % 2 + 100))
        assert engine.reload().ok
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - base_traced
    tracemalloc.stop()
    return grown / 1e6, (rss_kb() - base_rss) / 1e3


def main() -> None:
    # importlib.reload() must compile each version: a .pyc written for the previous one,
    # whose mtime second and size are the same, would be loaded instead.
    sys.dont_write_bytecode = True
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reloads", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"Python {sys.version.split()[0]}, median of {args.repeat} reloads each\n")
        print("1. Pause for a one-function change")
        print(f"{'lines':>7} | {'perform_code_reload':>20} | {'importlib.reload':>17} | ratio"
              f" | {'cold caches':>12} | {'has_any_module_changed':>22} (reads, stages)")
        for size, ours, stage, theirs, cold in bench_pause([100, 1000, 10000, 100000],
                                                           args.repeat, root):
            print(f"{size:>7} | {ours:>17.2f} ms | {theirs:>14.2f} ms | {ours / theirs:.2f}x"
                  f" | {cold:>9.2f} ms | {stage:>19.2f} ms")
        ballast = [[n] for n in range(1_000_000)]  # a million live, tracked objects
        print("   the same, while the program holds 1,000,000 live objects:")
        for label, nested in (("one function changed", False),
                              ("a lambda inside it changed (closures searched)", True)):
            ((size, ours, stage, theirs, cold),) = bench_pause(
                [10000], args.repeat, root, f"_big{int(nested)}", nested)
            print(f"{size:>7} | {ours:>17.2f} ms | {theirs:>14.2f} ms | {ours / theirs:.2f}x"
                  f" | {cold:>9.2f} ms | {stage:>19.2f} ms   {label}")
        del ballast
        gc.collect()
        hot, cold = bench_calls(root)
        print("\n2. Call overhead (1,000,000 calls, best of 7)")
        print(f"   reloaded 10 times: {hot * 1000:.1f} ms   never reloaded: {cold * 1000:.1f} ms"
              f"   ratio {hot / cold:.2f}x")
        traced, rss = bench_memory(args.reloads)
        print(f"\n3. Memory growth over {args.reloads} reloads of a 1,000-line module")
        print(f"   tracemalloc: {traced:+.2f} MB   RSS: {rss:+.2f} MB")


if __name__ == "__main__":
    main()
