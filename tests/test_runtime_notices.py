"""The runtime says why a reload waits: a handler that never returns (the controller,
the CLI and a plain ``hcride run`` are told), a main loop inside an import."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import TIMEOUT, launcher_cmd
from helpers_session import Recorder, make_session, wait_loaded, write

from hcride.controller import events as ev
from hcride.controller.cli_run import describe
from hcride.controller.session import Session

HANGS = """
import threading
from hcride import hotcodereloading as hcr

release = threading.Event()

@hcr.before_code_reload
def save_the_world():
    release.wait()

def text():
    return "v1"
"""


def test_handler_that_never_returns_is_reported(tmp_path: Path, sessions: list[Session]) -> None:
    write(tmp_path / "slot.py", HANGS)
    write(
        tmp_path / "main.py",
        """
        import sys, threading, time
        import slot

        def release():
            for _ in sys.stdin:
                slot.release.set()

        threading.Thread(target=release, daemon=True).start()
        print("ready", flush=True)
        while True:
            time.sleep(0.05)
        """,
    )
    rec = Recorder()
    session = make_session(tmp_path, rec, mode="auto")
    sessions.append(session)
    wait_loaded(rec, "slot")
    rec.wait_output("ready")
    write(tmp_path / "slot.py", HANGS.replace('"v1"', '"v2"'))
    notice = rec.wait_for(ev.RuntimeNotice, lambda e: e.what == "reload_waiting")
    assert "reload waiting in handler slot.save_the_world for " in notice.message
    assert "slot.py:" in notice.message  # where the handler waits
    assert describe(notice) == [notice.message]  # the CLI's hcride: line
    assert not rec.of(ev.ReloadApplied)
    session.send_stdin("go\n")  # the handler returns: the reload goes on and applies
    applied = rec.wait_for(ev.ReloadApplied)
    assert applied.result.reloaded == ["slot"]
    rec.wait_for(ev.RuntimeNotice, lambda e: e.what == "reload_resumed")


def test_handler_that_never_returns_is_reported_without_a_controller(tmp_path: Path) -> None:
    """``hcride run`` without ``--watch``: the program calls perform_code_reload()."""
    write(tmp_path / "slot.py", HANGS)
    write(
        tmp_path / "main.py",
        """
        import time
        from hcride import hotcodereloading as hcr
        import slot
        print("ready", flush=True)
        while not hcr.has_any_module_changed():
            time.sleep(0.05)
        hcr.perform_code_reload()
        """,
    )
    proc = subprocess.Popen(
        launcher_cmd(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().strip() == "ready"
        write(tmp_path / "slot.py", HANGS.replace('"v1"', '"v2"'))
        deadline = time.monotonic() + TIMEOUT
        line = ""
        while time.monotonic() < deadline and "reload waiting" not in line:
            line = proc.stderr.readline()
        assert line.startswith("hcride: reload waiting in handler slot.save_the_world for ")
    finally:
        proc.kill()
        proc.wait(timeout=TIMEOUT)


def test_main_loop_inside_an_import_is_explained_once(tmp_path: Path) -> None:
    """main.py only does ``import game``; game's top level runs the loop forever. No
    reload can apply (a module is reloadable once its import returned): the CLI says
    why, once, however many saves follow."""
    write(tmp_path / "logic.py", 'def text():\n    return "v1"\n')
    write(tmp_path / "main.py", "import game\n")
    write(
        tmp_path / "game.py",
        """
        import time
        import logic
        print("ready", flush=True)
        while True:
            time.sleep(0.02)
        """,
    )
    cmd = [sys.executable, "-m", "hcride", "run", "--watch", "--events", str(tmp_path / "ev"),
           str(tmp_path / "main.py")]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True)
    reader.start()
    seen: list[str] = []

    def wait_for(needle: str) -> None:
        """Read stderr lines until one contains ``needle``; fail (not hang) at the deadline."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(line)
            if needle in line:
                return
        raise AssertionError(f"no line with {needle!r} in {TIMEOUT}s:\n{''.join(seen)}")

    try:
        assert proc.stdout.readline().strip() == "ready"
        for number in (2, 3, 4):
            write(tmp_path / "logic.py", f'def text():\n    return "v{number}"\n')
            wait_for(f"build {number - 1}: logic checked")
            if number == 2:
                wait_for("no reload can apply")
        time.sleep(3)  # longer than the runtime waits before it speaks: nothing more
    finally:
        proc.terminate()
        proc.wait(timeout=TIMEOUT)
        reader.join(timeout=TIMEOUT)
    while not lines.empty():
        seen.append(lines.get())
    text = "".join(seen)
    said = [line for line in text.splitlines() if "no reload can apply" in line]
    assert len(said) == 1, text
    assert said[0].startswith("hcride: no reload can apply while the main thread is still "
                              "inside 'import game'"), said
    assert "reloaded" not in text


def test_manual_mode_works_inside_an_import(tmp_path: Path, sessions: list[Session]) -> None:
    """The same program shape in Manual mode: the loop inside ``import game`` calls
    ``perform_code_reload()`` itself, and that applies."""
    write(tmp_path / "logic.py", 'def text():\n    return "v1"\n')
    write(tmp_path / "main.py", "import game\n")
    write(
        tmp_path / "game.py",
        """
        import time
        from hcride import hotcodereloading as hcr
        import logic
        print("ready", flush=True)
        while True:
            if hcr.perform_code_reload().reloaded:
                print("now", logic.text(), flush=True)
            time.sleep(0.02)
        """,
    )
    rec = Recorder()
    session = make_session(tmp_path, rec)
    sessions.append(session)
    wait_loaded(rec, "logic")
    rec.wait_output("ready")
    write(tmp_path / "logic.py", 'def text():\n    return "v2"\n')
    rec.wait_output("now v2")
    assert session.mode == "manual"
    assert not rec.of(ev.RuntimeNotice)
