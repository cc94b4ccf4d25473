"""13.5: the IPC server spends bounded time, memory and threads on peers that have
not proved the token: real sockets (Unix and loopback TCP), real threads."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from hcride import protocol
from hcride.controller import ipc as ipc_module
from hcride.controller.ipc import HELLO_MAX, MAX_PENDING, IpcServer


@pytest.fixture(params=["unix", "tcp"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[IpcServer, list[str], list[dict]]]:
    problems: list[str] = []
    hellos: list[dict] = []
    srv = IpcServer(lambda m: None, problems.append, on_connect=hellos.append,
                    use_tcp=request.param == "tcp")  # fmt: skip
    yield srv, problems, hellos
    srv.close()


def _connect(address: str) -> socket.socket:
    family, target = protocol.parse_address(address)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect(target)
    return sock


def _closed_by_peer(sock: socket.socket) -> bool:
    """True when the server closed the connection (after any error frame)."""
    try:
        sock.settimeout(0.05)
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except TimeoutError:
        return False
    except OSError:
        return True


def _wait(pred, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_hello_deadline_is_total_not_per_read(
    server: tuple[IpcServer, list[str], list[dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One byte at a time, each well within the old per-read limit: closed anyway."""
    srv, problems, hellos = server
    monkeypatch.setattr(ipc_module, "HELLO_TIMEOUT", 0.5)
    frame = protocol.encode(protocol.message("hello", token=srv.token, pid=1, mode="auto"))
    sock = _connect(srv.address)
    sent = 0
    try:
        for byte in frame:  # 0.1 s a byte: the whole frame would take many deadlines
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            sent += 1
            if _closed_by_peer(sock):
                break
            time.sleep(0.05)
    finally:
        sock.close()
    assert sent < len(frame) // 2, "the trickling peer was never cut off"
    assert not hellos
    assert any("time limit" in p for p in problems)


def test_an_oversized_hello_is_refused_from_its_header(
    server: tuple[IpcServer, list[str], list[dict]],
) -> None:
    srv, problems, hellos = server
    sock = _connect(srv.address)
    try:
        sock.sendall(struct.pack(">I", 16 * 1024 * 1024))  # and no body at all
        assert _wait(lambda: _closed_by_peer(sock))
    finally:
        sock.close()
    assert any(f"exceeds {HELLO_MAX}" in p for p in problems), problems
    assert not hellos


def test_idle_connections_are_capped_and_the_program_still_gets_in(
    server: tuple[IpcServer, list[str], list[dict]],
) -> None:
    srv, problems, hellos = server
    before = threading.active_count()
    idle = [_connect(srv.address) for _ in range(60)]
    try:
        time.sleep(0.3)
        assert threading.active_count() <= before + MAX_PENDING
        refused = sum(_closed_by_peer(s) for s in idle)
        assert refused >= 60 - MAX_PENDING
        assert sum("without a hello" in p for p in problems) <= 2, problems
    finally:
        for sock in idle:
            sock.close()
    assert _wait(lambda: threading.active_count() <= before)
    good = _connect(srv.address)
    try:
        good.sendall(protocol.encode(protocol.message("hello", token=srv.token, pid=7)))
        assert _wait(lambda: bool(hellos))
        assert hellos[0]["pid"] == 7
    finally:
        good.close()


@pytest.mark.parametrize("use_tcp", [False, True])
def test_a_closed_server_never_takes_the_next_servers_program(use_tcp: bool) -> None:
    """13.13: the IDE makes a new session (and server) per Run. A closed server's
    accept thread, still in ``accept()`` on its descriptor number, took connections
    of the next server whose socket reused that number: the new program's hello met
    the old token ("wrong token"), the program ran unconnected, saves never applied."""
    for _round in range(6):
        problems: list[str] = []
        hellos: list[dict] = []
        srv = IpcServer(lambda m: None, problems.append, on_connect=hellos.append,
                        use_tcp=use_tcp)  # fmt: skip
        try:
            sock = _connect(srv.address)
            try:
                sock.sendall(protocol.encode(protocol.message("hello", token=srv.token, pid=9)))
                assert _wait(lambda h=hellos, p=problems: bool(h or p)), "the hello went nowhere"
                assert hellos and not problems, problems
            finally:
                sock.close()
        finally:
            srv.close()
