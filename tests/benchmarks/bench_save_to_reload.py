"""Benchmark: time from a save to the running program executing the new code.

    python tests/benchmarks/bench_save_to_reload.py [--edits 30] [--sizes 1000 10000]

For each module size and save style (in place: truncate and write; rename: write a
temporary file and rename it over the module), starts a real program under
``hcride run --watch`` and under ``jurigged``, makes ``--edits`` edits of one
function in the middle of the module, and measures the time from the save to the
program's first call that returns the new value (the program polls every 1 ms, so
that adds up to 1 ms). Prints p50/p90 and how many saves were applied, plus the
pause inside the program per reload as hcride reports it (``duration_ms``).

Not collected by pytest (no ``test_`` prefix): speed is measured here, never in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 10.0
"""How long one save may take to show before it counts as not applied."""

MAIN = """
import time, mod
last = None
print("ready", flush=True)
while True:
    value = mod.marker()
    if value != last:
        print("seen", value, time.time(), flush=True)
        last = value
    time.sleep(0.001)
"""


def module_source(lines: int, value: int) -> str:
    """A module of about ``lines`` lines with ``marker()`` in the middle."""
    blocks = max(1, lines // 4)
    parts = [f"def f{i}(x):\n    y = x + {i}\n    return y * 2\n\n" for i in range(blocks)]
    parts.insert(blocks // 2, f"def marker():\n    return {value}\n\n")
    return "".join(parts)


def save(path: Path, text: str, style: str) -> None:
    if style == "inplace":
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        temp = path.with_name(f".{path.name}.tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)


def command(tool: str, project: Path, events: Path) -> list[str]:
    if tool == "hcride":
        return [sys.executable, "-m", "hcride", "run", "--watch", "--events", str(events),
                str(project / "main.py")]  # fmt: skip
    jurigged = Path(sys.executable).with_name("jurigged")
    return [str(jurigged), str(project / "main.py")]


def run_case(tool: str, lines: int, style: str, edits: int) -> dict:
    project = Path(tempfile.mkdtemp(prefix=f"bench-{tool}-"))
    try:
        (project / "main.py").write_text(MAIN)
        mod = project / "mod.py"
        mod.write_text(module_source(lines, 0))
        events = project / "events.jsonl"
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen(
            command(tool, project, events), cwd=project, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        seen: queue.Queue[tuple[int, float]] = queue.Queue()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                parts = line.split()
                if parts and parts[0] == "seen":
                    seen.put((int(parts[1]), float(parts[2])))
                elif parts and parts[0] == "ready":
                    seen.put((-1, 0.0))

        threading.Thread(target=read, daemon=True).start()
        latencies: list[float] = []
        applied = 0
        try:
            while seen.get(timeout=60)[0] != 0:
                pass
            time.sleep(2.0 if tool == "jurigged" else 0.5)  # let the watcher settle
            for i in range(1, edits + 1):
                text = module_source(lines, i)
                started = time.time()
                save(mod, text, style)
                deadline = time.monotonic() + WAIT_S
                while time.monotonic() < deadline:
                    try:
                        value, when = seen.get(timeout=0.1)
                    except queue.Empty:
                        continue
                    if value == i:
                        latencies.append((when - started) * 1000)
                        applied += 1
                        break
                time.sleep(0.05)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        pauses = []
        if events.exists():
            for line in events.read_text().splitlines():
                record = json.loads(line)
                if record.get("event") == "reload_applied":
                    pauses.append(float(record["result"]["duration_ms"]))
        return {"latencies": latencies, "applied": applied, "pauses": pauses}
    finally:
        shutil.rmtree(project, ignore_errors=True)


def pct(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--tools", nargs="+", default=["hcride", "jurigged"])
    args = parser.parse_args()
    rows = []
    for lines in args.sizes:
        for style in ("inplace", "rename"):
            for tool in args.tools:
                result = run_case(tool, lines, style, args.edits)
                rows.append((tool, lines, style, result))
                print(f"  done {tool} {lines} {style}", file=sys.stderr, flush=True)
    header = f"{'tool':9} {'lines':>6} {'save':8} {'p50 ms':>8} {'p90 ms':>8} {'applied':>8} "
    header += f"{'pause p50':>10} {'pause p90':>10}"
    print(header)
    print("-" * len(header))
    for tool, lines, style, r in rows:
        print(
            f"{tool:9} {lines:>6} {style:8} {pct(r['latencies'], 0.5):>8} "
            f"{pct(r['latencies'], 0.9):>8} {r['applied']:>4}/{args.edits:<3} "
            f"{pct(r['pauses'], 0.5):>10} {pct(r['pauses'], 0.9):>10}"
        )
    print(
        f"\npython {sys.version.split()[0]}, {os.cpu_count()} cpus; latency = save to the "
        "program's first call of the new code; pause = time inside the program per reload "
        "(hcride's duration_ms)"
    )

if __name__ == "__main__":
    main()
