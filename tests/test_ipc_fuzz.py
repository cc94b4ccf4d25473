"""IPC robustness: garbage, truncated, oversized frames and wrong tokens at both ends.

Neither end may crash: the program keeps running (and reloading), the controller
reports an ``IpcProblem``.
"""

from __future__ import annotations

import os
import random
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_session import TIMEOUT, Recorder, make_session, wait_loaded, write

from hcride import protocol
from hcride.controller import events as ev
from hcride.controller.interpreter import hcride_root
from hcride.controller.ipc import IpcServer
from hcride.controller.session import Session

LOGIC = 'def value():\n    return "v1"\n'
MAIN = """
import time, logic
while True:
    print("value", logic.value(), flush=True)
    time.sleep(0.05)
"""


def _connect(address: str) -> socket.socket:
    family, target = protocol.parse_address(address)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    sock.connect(target)
    return sock


def _hello(token: str) -> bytes:
    return protocol.encode(protocol.message("hello", token=token, pid=0, mode="auto"))


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Session, Recorder]]:
    write(tmp_path / "logic.py", LOGIC)
    write(tmp_path / "main.py", MAIN)
    rec = Recorder()
    session = make_session(tmp_path, rec)
    wait_loaded(rec, "logic")
    yield session, rec
    session.close()


def _assert_alive(session: Session, rec: Recorder, tmp_path: Path, version: str) -> None:
    assert session.running and session.connected
    ok, data, error = session.inspect_wait("modules")
    assert ok, error
    write(tmp_path / "logic.py", LOGIC.replace("v1", version))
    rec.wait_output(f"value {version}")


@pytest.mark.parametrize("use_tcp", [False, True])
def test_controller_survives_hostile_connections(tmp_path: Path, use_tcp: bool) -> None:
    write(tmp_path / "logic.py", LOGIC)
    write(tmp_path / "main.py", MAIN)
    rec = Recorder()
    session = make_session(tmp_path, rec, use_tcp=use_tcp)
    try:
        wait_loaded(rec, "logic")
        assert session._ipc is not None
        address = session._ipc.address
        assert address.startswith("tcp:") == use_tcp
        if not use_tcp:
            assert (os.stat(os.path.dirname(address)).st_mode & 0o777) == 0o700
        rng = random.Random(4)
        attacks = [
            rng.randbytes(300),
            struct.pack(">I", protocol.MAX_FRAME + 1) + b"x" * 16,
            struct.pack(">I", 100) + b'{"v": 1, "ty',  # truncated, then closed
            _hello("0" * 64),  # wrong token
            _hello(""),
            protocol.encode(protocol.message("result", result={})),  # no hello first
            protocol.encode({"v": 99, "type": "hello", "token": session._ipc.token}),
            struct.pack(">I", 5) + b"\xff\xfe\x00{}",
            protocol.encode(protocol.message("hello", token=123)),
        ]
        for payload in attacks:
            sock = _connect(address)
            try:
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_WR)
                while sock.recv(4096):
                    pass
            except OSError:
                pass
            finally:
                sock.close()
        deadline = time.monotonic() + TIMEOUT
        while len(rec.of(ev.IpcProblem)) < len(attacks) and time.monotonic() < deadline:
            time.sleep(0.05)
        problems = [e.message for e in rec.of(ev.IpcProblem)]
        assert len(problems) >= len(attacks), problems
        assert any("wrong token" in p for p in problems)
        assert any("exceeds" in p for p in problems)
        _assert_alive(session, rec, tmp_path, "v2")
    finally:
        session.close()


def test_malformed_messages_after_hello(live: tuple[Session, Recorder], tmp_path: Path) -> None:
    """A second hello (even with the token) is refused while the program is connected;
    semantically malformed messages are reported, not raised."""
    session, rec = live
    assert session._ipc is not None
    sock = _connect(session._ipc.address)
    sock.sendall(
        protocol.encode(
            protocol.message("hello", token=session._ipc.token, pid=session.pid, mode="auto")
        )
    )
    reply = protocol.recv_message(sock, protocol.TO_CONTROLLER)
    assert reply is not None and reply["type"] == "error" and "already" in reply["message"]
    sock.close()
    for body in (
        protocol.message("modules", modules="nope"),
        protocol.message("result", result=[1, 2]),
        protocol.message("reply", id="x", ok=True),
        protocol.message("error", message="?"),
    ):
        session._on_message(body)
    assert sum("malformed" in e.message for e in rec.of(ev.IpcProblem)) == 3
    _assert_alive(session, rec, tmp_path, "v3")


def test_server_drops_a_peer_that_breaks_the_protocol() -> None:
    problems: list[str] = []
    server = IpcServer(lambda m: None, problems.append)
    try:
        for _ in range(2):  # after the first peer is dropped a new one is accepted
            sock = _connect(server.address)
            sock.sendall(_hello(server.token) + struct.pack(">I", 3) + b"{x}")
            reply = protocol.recv_message(sock, protocol.TO_CONTROLLER)
            assert reply is not None and reply["type"] == "error"
            assert protocol.recv_message(sock, protocol.TO_CONTROLLER) is None  # closed
            sock.close()
            deadline = time.monotonic() + TIMEOUT
            while server.connected and time.monotonic() < deadline:
                time.sleep(0.01)
        assert len(problems) == 2 and all("JSON" in p for p in problems)
    finally:
        server.close()


def _fake_controller(tmp_path: Path) -> tuple[socket.socket, str]:
    path = tmp_path / "c.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    server.settimeout(TIMEOUT)
    return server, str(path)


def _start_program(tmp_path: Path, address: str, token: str) -> subprocess.Popen[str]:
    env = dict(os.environ, HCRIDE_IPC=address, HCRIDE_TOKEN=token, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = str(hcride_root())
    return subprocess.Popen(
        [sys.executable, "-m", "hcride.runtime", "--project", str(tmp_path), "--",
         str(tmp_path / "main.py")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.parametrize(
    "attack",
    ["garbage", "oversized", "unknown_type", "bad_version", "truncated", "bad_fields"],
)
def test_program_survives_a_hostile_controller(tmp_path: Path, attack: str) -> None:
    write(tmp_path / "logic.py", LOGIC)
    write(
        tmp_path / "main.py",
        """
        import sys, time, logic
        for i in range(40):
            time.sleep(0.05)
        print("finished", logic.value(), flush=True)
        sys.exit(3)
        """,
    )
    server, address = _fake_controller(tmp_path)
    proc = _start_program(tmp_path, address, "secret")
    try:
        conn, _ = server.accept()
        conn.settimeout(TIMEOUT)
        hello = protocol.recv_message(conn, protocol.TO_CONTROLLER)
        assert hello is not None and hello["type"] == "hello" and hello["token"] == "secret"
        payload = {
            "garbage": random.Random(1).randbytes(200),
            "oversized": struct.pack(">I", protocol.MAX_FRAME + 10),
            "unknown_type": protocol.encode({"v": 1, "type": "format_disk"}),
            "bad_version": protocol.encode({"v": 0, "type": "ping"}),
            "truncated": struct.pack(">I", 50) + b'{"v":1',
            "bad_fields": protocol.encode(protocol.message("build", build="x", modules=3))
            + protocol.encode(protocol.message("inspect", id=1, what="globals", module=5))
            + protocol.encode(protocol.message("inspect", id=2, what="children",
                                               module="logic", path=[1, 2]))
            + protocol.encode(protocol.message("ping")),
        }[attack]
        conn.sendall(payload)
        if attack == "truncated":
            conn.shutdown(socket.SHUT_WR)
        replies = []
        try:
            while True:
                msg = protocol.recv_message(conn, protocol.TO_CONTROLLER)
                if msg is None:
                    break
                replies.append(msg)
                kinds = [m["type"] for m in replies]
                if attack == "bad_fields" and "pong" in kinds and kinds.count("reply") == 2:
                    break
        except (OSError, protocol.ProtocolError):
            pass
        kinds = [m["type"] for m in replies]
        if attack == "bad_fields":
            assert "pong" in kinds and "error" in kinds
            errors = [m for m in replies if m["type"] == "reply"]
            assert errors and all(not m["ok"] and m["error"] for m in errors)
        elif attack != "truncated":
            assert "error" in kinds, replies
        out, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 3, err
        assert "finished v1" in out
        conn.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        server.close()


def test_frame_reader_rejects_malformed_twins() -> None:
    """Every message type both ends receive decodes, and its malformed twin does not."""
    for allowed in (protocol.TO_RUNTIME, protocol.TO_CONTROLLER):
        for kind in allowed:
            reader = protocol.FrameReader(allowed)
            frame = protocol.encode(protocol.message(kind))
            assert reader.feed(frame[:3]) == []
            assert [m["type"] for m in reader.feed(frame[3:])] == [kind]
            for bad in (
                protocol.encode({"v": 2, "type": kind}),
                protocol.encode({"v": 1, "type": kind + "x"}),
                struct.pack(">I", 4) + b"[1] ",
                struct.pack(">I", 2) + b"\xc3\x28",
            ):
                with pytest.raises(protocol.ProtocolError):
                    protocol.FrameReader(allowed).feed(bad)
        with pytest.raises(protocol.ProtocolError):
            protocol.FrameReader(allowed, max_frame=10).feed(struct.pack(">I", 11))
