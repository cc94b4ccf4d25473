"""``hcride run --watch`` in a real terminal-less process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from helpers_cli_run import CliRun
from helpers_session import TIMEOUT, wait_until, write

from hcride.controller.interpreter import hcride_root

MAIN = """
import sys, time, logic
print("ready", flush=True)
while logic.value() != "done":
    time.sleep(0.05)
print("bye", flush=True)
sys.exit(7)
"""
LOGIC = 'class Ball:\n    x: int\n\ndef value():\n    return "v1"\n'


def _run(tmp_path: Path, *options: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(hcride_root()), PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "hcride", "run", "--watch", *options, str(tmp_path / "main.py")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env,
    )  # fmt: skip


def test_run_watch_prints_lines_and_returns_the_exit_code(tmp_path: Path) -> None:
    write(tmp_path / "logic.py", LOGIC)
    write(tmp_path / "main.py", MAIN)
    events = tmp_path / "events.jsonl"
    proc = _run(tmp_path, "--events", str(events))
    try:
        wait_until(lambda: events.exists() and "program_connected" in events.read_text())
        wait_until(lambda: '"logic"' in events.read_text(), what="logic loaded")
        write(tmp_path / "logic.py", LOGIC.replace("    x: int\n", "    x: int\n    speed: int\n"))
        wait_until(lambda: "build_rejected" in events.read_text(), what="rejection")
        time.sleep(0.2)
        write(tmp_path / "logic.py", LOGIC.replace("v1", "done"))
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 7, err
    assert "ready" in out and "bye" in out
    assert "hcride: build 1: rejected logic: class Ball: field 'speed' added" in err
    assert "hcride: reloaded logic v2 (1 patched, 0 initialized, 0 preserved)" in err
    kinds = [json.loads(line)["event"] for line in events.read_text().splitlines()]
    for kind in ("program_started", "build_rejected", "build_ready", "reload_applied",
                 "program_exited"):  # fmt: skip
        assert kind in kinds


def test_run_watch_events_on_stdout_carry_the_output(tmp_path: Path) -> None:
    write(tmp_path / "logic.py", LOGIC)
    write(tmp_path / "main.py", MAIN.replace('print("ready", flush=True)', 'print(input())'))
    proc = _run(tmp_path, "--events", "-")
    try:
        assert proc.stdin is not None
        proc.stdin.write("hello there\n")
        proc.stdin.flush()
        time.sleep(1.0)
        write(tmp_path / "logic.py", LOGIC.replace("v1", "done"))
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 7, err
    records = [json.loads(line) for line in out.splitlines()]
    text = "".join(r["text"] for r in records if r["event"] == "output" and r["stream"] == "stdout")
    assert text == "hello there\nbye\n"
    assert records[-1]["event"] == "program_exited" and records[-1]["returncode"] == 7


def test_main_script_change_is_reported_once_and_the_program_runs_on(tmp_path: Path) -> None:
    write(tmp_path / "logic.py", LOGIC)
    write(tmp_path / "main.py", MAIN.replace('time.sleep(0.05)', 'time.sleep(0.02)'))
    events = tmp_path / "events.jsonl"
    proc = _run(tmp_path, "--events", str(events))
    try:
        wait_until(lambda: events.exists() and '"logic"' in events.read_text(), what="loaded")
        write(tmp_path / "main.py", MAIN + "\n# edited\n")
        wait_until(lambda: "restart_needed" in events.read_text(), what="restart needed")
        time.sleep(0.5)  # give a duplicate report the chance to show up
        write(tmp_path / "logic.py", LOGIC.replace("v1", "done"))
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 7, err  # it ran on, on the old main script, and took the reload
    assert err.count("restart needed") == 1, err


CHATTY = """
import os, sys, logic
# One write per line, flat out, to the terminal hcride shares with the program.
while not os.path.exists(sys.argv[1]):
    sys.stdout.write(logic.word() + "\\n")
"""


def test_hcride_lines_stay_whole_while_the_program_prints_flat_out(tmp_path: Path) -> None:
    """The program and hcride share the terminal (here one file for stdout and stderr):
    each ``hcride:`` line is one write, so a program line never lands inside it
    (``... in 0.4 mstick 3``)."""
    write(tmp_path / "logic.py", 'def word():\n    return "tick 0"\n')
    write(tmp_path / "main.py", CHATTY)
    events, out, stop = tmp_path / "events.jsonl", tmp_path / "out.txt", tmp_path / "stop"
    env = dict(os.environ, PYTHONPATH=str(hcride_root()), PYTHONUNBUFFERED="1")
    with open(out, "w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hcride", "run", "--watch", "--events", str(events),
             str(tmp_path / "main.py"), str(stop)],
            stdin=subprocess.DEVNULL, stdout=sink, stderr=sink, env=env,
        )  # fmt: skip
    try:
        wait_until(lambda: events.exists() and '"logic"' in events.read_text(), what="loaded")
        for n in range(1, 11):
            write(tmp_path / "logic.py", f'def word():\n    return "tick {n}"\n')
            wait_until(lambda n=n: events.read_text().count('"reload_applied"') >= n,
                       what=f"reload {n}")
        stop.write_text("")
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = out.read_text().splitlines()
    ours = [line for line in lines if "hcride:" in line]
    assert len([line for line in ours if "hcride: reloaded logic" in line]) == 10, ours
    broken = [line for line in ours if not line.startswith("hcride:") or "tick" in line]
    assert not broken, broken
    assert set(lines) - set(ours) <= {f"tick {n}" for n in range(11)}


POLLER = """
import os, sys, time, logic
while not os.path.exists(sys.argv[1]):
    try:
        print("value", logic.value(), flush=True)
    except Exception as exc:
        print("error", type(exc).__name__, exc, flush=True)
    time.sleep(0.02)
"""


def test_a_file_still_being_written_is_built_when_the_writer_closes_it(tmp_path: Path) -> None:
    """An editor that writes in place truncates the file, then writes: on a loaded
    machine (or a slow disk) the two can be far apart. The file is open for writing
    between them; building it then applied an empty module (every function removed:
    the program's next call raised AttributeError). The watcher waits for the close."""
    write(tmp_path / "logic.py", 'def value():\n    return "v1"\n')
    write(tmp_path / "main.py", POLLER)
    events, stop = tmp_path / "events.jsonl", tmp_path / "stop"
    env = dict(os.environ, PYTHONPATH=str(hcride_root()), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hcride", "run", "--watch", "--events", str(events),
         str(tmp_path / "main.py"), str(stop)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env,
    )  # fmt: skip
    try:
        wait_until(lambda: events.exists() and '"logic"' in events.read_text(), what="loaded")
        for n, pause in ((2, 0.3), (3, 0.6)):
            with open(tmp_path / "logic.py", "w", encoding="utf-8") as fh:
                fh.flush()  # truncated: an empty file, still open
                time.sleep(pause)
                fh.write('def value():\n    return "v1"\n\n\n')  # half of it
                fh.flush()
                time.sleep(pause)
                fh.write(f'def helper():\n    return "v{n}"\n')
            wait_until(lambda n=n: events.read_text().count('"reload_applied"') >= n - 1,
                       what=f"save {n} applied")
        time.sleep(0.3)
        stop.write_text("")
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "error" not in out, out[-2000:]
    assert err.count("hcride: reloaded logic") == 2, err
    assert "removed" not in err and "added" in err, err


SERVER_LOOP = """
import time
import views

last = None
while True:
    text = views.page()
    if text != last:
        print(text, flush=True)
        last = text
    time.sleep(0.05)
"""

VIEWS = 'def page():\n    return "page v1"\n'

WITH_HANDLER = '''
from hcride import hotcodereloading as hcr

CACHE = {}


@hcr.after_code_reload
def clear_cache():
    CACHE.clear()


def page():
    return "page v2"
'''


def test_a_program_that_starts_using_the_api_is_told_it_is_manual_now(tmp_path: Path) -> None:
    """A program in Auto mode (under Detect) whose save adds an ``after_code_reload``
    handler (Django's URL caches, a template cache) imports the API: it is in Manual
    mode from then on and later saves wait for a ``perform_code_reload()`` it never
    makes. The terminal says so, and how to keep Auto mode."""
    write(tmp_path / "views.py", VIEWS)
    write(tmp_path / "main.py", SERVER_LOOP)
    run = CliRun(tmp_path / "main.py")
    try:
        run.wait_line("page v1")
        run.wait_line("connected")
        mark = len(run.lines)
        write(tmp_path / "views.py", WITH_HANDLER)
        run.wait_line("page v2", mark)
        line = run.wait_line("manual mode", mark)
        assert line.startswith("hcride: the program imported hotcodereloading: manual mode"), line
        assert "--mode auto" in line, line
    finally:
        out = run.stop()
    assert out.count("manual mode") == 2, out  # the connect line, and this one


def test_mode_auto_keeps_applying_a_program_that_uses_handlers(tmp_path: Path) -> None:
    write(tmp_path / "views.py", VIEWS)
    write(tmp_path / "main.py", SERVER_LOOP)
    run = CliRun(tmp_path / "main.py", "--mode", "auto")
    try:
        run.wait_line("page v1")
        run.wait_line("connected (auto mode)")
        mark = len(run.lines)
        write(tmp_path / "views.py", WITH_HANDLER)
        run.wait_line("page v2", mark)
        write(tmp_path / "views.py", WITH_HANDLER.replace("page v2", "page v3"))
        run.wait_line("page v3", mark)
    finally:
        out = run.stop()
    assert "manual mode" not in out, out


def test_log_sends_hcride_lines_to_a_file_not_to_the_programs_screen(tmp_path: Path) -> None:
    """A full-screen program (Textual, curses) owns the terminal: hcride's lines,
    written at the cursor, crossed its screen (tried with a Textual clock app).
    ``--log FILE`` writes them to FILE; the program's stderr gets none."""
    write(tmp_path / "views.py", VIEWS)
    write(tmp_path / "main.py", SERVER_LOOP)
    log = tmp_path / "hcride.log"
    run = CliRun(tmp_path / "main.py", "--log", str(log))
    try:
        run.wait_line("page v1")
        wait_until(lambda: log.exists() and "connected" in log.read_text(), what="connected")
        write(tmp_path / "views.py", VIEWS.replace("v1", "v2"))
        run.wait_line("page v2")
        wait_until(lambda: "reloaded views v2" in log.read_text(), what="logged")
    finally:
        out = run.stop()
    assert "hcride:" not in out, out
    assert log.read_text().startswith("hcride: program "), log.read_text()
