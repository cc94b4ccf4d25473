"""A lost channel between the controller and the program: after a framing error the
program connects again and live reload goes on; when it cannot, or when the project
folder is moved away, the user is told (CLI line, IDE status bar) and offered a
restart; a project folder restored at its path is watched again."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from helpers_session import Recorder, make_session, wait_loaded, write

from hcride import protocol
from hcride.controller import events as ev
from hcride.controller.cli_run import describe
from hcride.controller.session import Session

LOGIC = 'def value():\n    return "v1"\n'

MAIN = """
import sys, threading, time
import logic
import hcride.runtime.agent as agent

def commands():
    for line in sys.stdin:
        me = agent._agent
        if line.startswith("unreachable"):  # the controller's address stops working
            me.address = "/nonexistent/hcride.sock"
        if line.startswith("garble") or line.startswith("unreachable"):
            with me._sock_lock:  # a frame no controller can read
                me.sock.sendall(b"\\xff\\xff\\xff\\xffnot a frame")

threading.Thread(target=commands, daemon=True).start()
while True:
    print("value", logic.value(), flush=True)
    time.sleep(0.1)
"""


def _start(tmp_path: Path, sessions: list[Session]) -> tuple[Session, Recorder]:
    write(tmp_path / "logic.py", LOGIC)
    write(tmp_path / "main.py", MAIN)
    rec = Recorder()
    session = make_session(tmp_path, rec)
    sessions.append(session)
    wait_loaded(rec, "logic")
    rec.wait_output("value v1")
    return session, rec


def _edit_applies(tmp_path: Path, rec: Recorder, version: str) -> None:
    write(tmp_path / "logic.py", LOGIC.replace("v1", version))
    rec.wait_for(ev.ReloadApplied, lambda e: e.result.modules[0].version == int(version[1:]))
    rec.wait_output(f"value {version}")


@pytest.mark.parametrize("direction", ["to_program", "to_controller"])
def test_framing_error_reconnects(tmp_path: Path, sessions: list[Session], direction: str) -> None:
    session, rec = _start(tmp_path, sessions)
    if direction == "to_program":  # the program receives a frame that is not JSON
        conn = session._ipc._conn  # type: ignore[union-attr]
        assert conn is not None
        conn.sendall(b"\x00\x00\x00\x05hello")
    else:  # the controller receives an oversized, broken frame
        session.send_stdin("garble\n")
    again = rec.wait_for(ev.ProgramConnected, lambda e: e.reconnected)
    assert describe(again) == [f"program {again.pid} reconnected: live reload goes on"]
    assert rec.of(ev.IpcProblem)  # what broke is reported too
    _edit_applies(tmp_path, rec, "v2")
    _edit_applies(tmp_path, rec, "v3")
    assert session.running and not rec.of(ev.LiveReload)


def test_channel_lost_for_good_is_said_with_a_restart(
    tmp_path: Path, sessions: list[Session]
) -> None:
    session, rec = _start(tmp_path, sessions)
    session.send_stdin("unreachable\n")
    lost = rec.wait_for(ev.LiveReload, lambda e: not e.ok)
    assert "restart the program" in lost.message
    assert describe(lost) == [lost.message]  # the CLI's hcride: line
    assert session.running  # the program runs on, standalone
    rec.wait_output("value v1")
    restarted = time.time()
    session.restart()  # and a restart brings live reload back
    assert session.wait_connected(60)
    rec.wait_for(ev.ModulesChanged, lambda e: e.time >= restarted
                 and any(m.get("name") == "logic" for m in e.modules))
    before = len(rec.of(ev.ReloadApplied))
    write(tmp_path / "logic.py", LOGIC.replace("v1", "v2"))
    rec.wait_for(ev.ReloadApplied, lambda e: len(rec.of(ev.ReloadApplied)) > before)


def test_project_folder_moved_away_and_restored(tmp_path: Path, sessions: list[Session]) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    session, rec = _start(project, sessions)
    aside = tmp_path / "proj.saved"
    os.rename(project, aside)
    gone = rec.wait_for(ev.LiveReload, lambda e: not e.ok)
    assert "is gone" in gone.message and "restart" in gone.message
    shutil.copytree(aside, project)  # restored from a copy: a new folder, new inodes
    back = rec.wait_for(ev.LiveReload, lambda e: e.ok)
    assert "watching it again" in back.message
    _edit_applies(project, rec, "v2")
    assert session.running


def test_protocol_hello_may_say_reconnect() -> None:
    hello = protocol.message("hello", token="t", pid=1, reconnect=True)
    assert protocol.decode_body(protocol.encode(hello)[4:], protocol.TO_CONTROLLER) == hello
