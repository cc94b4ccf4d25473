"""Bad files and refused saves hold nothing back (issue 13.1), and a save back to the
running text says so (issue 9.12 / 10.1): ``hcride run --watch`` in real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers_session import TIMEOUT, wait_until, write

from hcride.controller.interpreter import hcride_root

MAIN = """
import sys, time, logic, other
while other.value() != "done":
    print("values", logic.value(), other.value(), flush=True)
    time.sleep(0.05)
print("bye", logic.value(), flush=True)
sys.exit(3)
"""
LOGIC = 'def value():\n    return "L1"\n'
OTHER = 'def value():\n    return "O1"\n'


def _run(tmp_path: Path, events: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(hcride_root()), PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "hcride", "run", "--watch", "--events", str(events),
         str(tmp_path / "main.py")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env,
    )  # fmt: skip


def _events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _applied(path: Path, module: str, version: int) -> bool:
    return any(
        e["event"] == "reload_applied"
        and any(m["name"] == module and m["version"] == version for m in e["result"]["modules"])
        for e in _events(path)
    )


def test_broken_files_hold_nothing_back_and_saving_back_says_so(tmp_path: Path) -> None:
    write(tmp_path / "logic.py", LOGIC)
    write(tmp_path / "other.py", OTHER)
    write(tmp_path / "main.py", MAIN)
    events = tmp_path / "events.jsonl"
    proc = _run(tmp_path, events)
    try:
        wait_until(lambda: {"logic", "other"} <= {m["name"] for e in _events(events)
                                                  if e["event"] == "modules_changed"
                                                  for m in e["modules"]},
                   what="modules loaded")  # fmt: skip
        # A scratch file the program never imports, broken three ways.
        (tmp_path / "scratch.py").write_text("def broken(:\n")
        wait_until(lambda: any(e["event"] == "build_rejected" for e in _events(events)))
        (tmp_path / "py2.py").write_text("print 'hello'\n")
        (tmp_path / "noise.py").write_bytes(bytes(range(256)) * 4)
        write(tmp_path / "other.py", OTHER.replace("O1", "O2"))
        wait_until(lambda: _applied(events, "other", 2), what="other v2 despite scratch files")
        # A refused save of a real module: later saves of other modules still apply.
        write(tmp_path / "logic.py", 'def value(:\n    return "L2"\n')
        wait_until(lambda: any(e["event"] == "build_rejected"
                               and e["result"]["rejected"][0]["module"] == "logic"
                               for e in _events(events)), what="logic refused")  # fmt: skip
        write(tmp_path / "other.py", OTHER.replace("O1", "O3"))
        wait_until(lambda: _applied(events, "other", 3), what="other v3 despite logic")
        # Back to the running text: said, and logic is held back no more.
        write(tmp_path / "logic.py", LOGIC)
        wait_until(lambda: any(e["event"] == "back_to_running" for e in _events(events)),
                   what="back to the running version")  # fmt: skip
        write(tmp_path / "other.py", OTHER.replace("O1", "done"))
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 3, err
    assert "bye L1" in out and "values L1 O3" in out
    assert "rejected scratch: " in err and "not imported by the program" in err
    assert "rejected logic: " in err
    assert "still running the old version: logic" in err
    assert "hcride: logic: back to the running version (nothing to reload)" in err
    ready = [e for e in _events(events) if e["event"] == "build_ready"]
    assert ready[-1]["held_back"] == []
    (back,) = [e for e in _events(events) if e["event"] == "back_to_running"]
    assert back["module"] == "logic" and back["was_refused"] is True


def test_symlink_loop_saved_with_a_real_save(tmp_path: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    """13.4: a symlink loop made in the project in the same batch as a real save: the
    save applies, the loop is reported, no traceback reaches the watcher thread."""
    from helpers_session import Recorder, make_session, wait_loaded

    from hcride.controller import events as ev

    write(tmp_path / "logic.py", LOGIC)
    write(tmp_path / "other.py", OTHER)
    write(tmp_path / "main.py", MAIN)
    recorder = Recorder()
    session = make_session(tmp_path, recorder)
    try:
        wait_loaded(recorder, "logic")
        (tmp_path / "loop_a.py").symlink_to(tmp_path / "loop_b.py")
        (tmp_path / "loop_b.py").symlink_to(tmp_path / "loop_a.py")
        write(tmp_path / "logic.py", LOGIC.replace("L1", "L2"))
        recorder.wait_output("values L2 O1")
        recorder.wait_for(ev.BuildRejected, lambda e: any(
            r.module.startswith("loop_") for r in e.result.rejected))  # fmt: skip
    finally:
        session.close()
    assert "Traceback" not in capfd.readouterr().err
