"""The IPC protocol between the controller and the runtime in the user's program.

One module of message types shared by both ends (as Thonny's ``common.py``).
Standard library only: the runtime imports it inside the user's process.

Wire format: a frame is a 4-byte big-endian length followed by that many bytes of
UTF-8 JSON encoding one object with at least ``{"v": PROTOCOL_VERSION, "type": ...}``.
Frames over ``MAX_FRAME`` bytes are refused. The first frame on a connection is the
runtime's ``hello``; it carries the session token, which the controller checks with
``hmac.compare_digest`` before it reads anything else.

Messages, controller -> runtime:

``build``     ``{"build": N, "modules": [{"name", "file", "snapshot", "digest"}]}``
              a checked build: read each snapshot (a copy of the source) once.
``reload``    ``{}``: apply pending builds now (the IDE's Reload action, auto mode).
``inspect``   ``{"id": R, "what": "modules" | "globals" | "children", "module": str,
              "path": [keys...], "offset": int, "limit": int}``
``evaluate``  ``{"id": R, "module": str, "code": str}``: run an expression or statements
              in a module on the main thread at its next safe point (no reload); see
              ``hcride.runtime.evaluate``.
``ping``      ``{}``

Messages, runtime -> controller:

``hello``     ``{"token", "pid", "python", "executable", "mode", "main", "reconnect"}``
              (``reconnect``: true when the runtime connects again after a broken frame;
              the controller then sends the builds it kept meanwhile)
``modules``   ``{"modules": [ModuleInfo...], "removed": [name...], "full": bool}``: the
              modules that were imported or changed version or state (``full``: the
              whole list, sent once on connecting; the receiver drops the others), and
              the names no longer loaded (a rolled-back batch's first imports).
``pending``   ``{"build": N}``: a build was received and waits for the program.
``result``    ``{"result": ReloadResult.to_dict()}`` after every reload attempt.
``reply``     ``{"id": R, "ok": bool, "data": ..., "error": str | None}`` to ``inspect``
              and ``evaluate``.
``pong``      ``{}``
``error``     ``{"message": str}``: the peer sent something this end cannot use.
``notice``    ``{"what": str, "message": str}``: something the user should know that is
              not a reload result (``reload_waiting``: a handler has not returned for N s;
              ``reload_resumed``; ``inside_import``: the main loop runs inside an import,
              so no reload can apply).
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

PROTOCOL_VERSION = 1
MAX_FRAME = 16 * 1024 * 1024
_HEADER = struct.Struct(">I")

TO_RUNTIME = frozenset({"build", "reload", "inspect", "evaluate", "ping"})
TO_CONTROLLER = frozenset(
    {"hello", "modules", "pending", "result", "reply", "pong", "error", "notice"}
)

ENV_ADDRESS = "HCRIDE_IPC"
"""Environment variable naming the controller's address (a socket path or host:port)."""
ENV_TOKEN = "HCRIDE_TOKEN"
"""Environment variable with the session token (hex)."""
ENV_EXIT_WITH_CONTROLLER = "HCRIDE_EXIT_WITH_CONTROLLER"
"""Set to ``1``: the program ends (SIGTERM to itself) when the controller's connection
closes, so a crashed or killed IDE leaves no orphan program behind."""


class ProtocolError(Exception):
    """A frame or message that breaks the protocol."""


def message(kind: str, **fields: Any) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "type": kind, **fields}


def encode(msg: dict[str, Any]) -> bytes:
    """One frame for ``msg``."""
    body = json.dumps(msg, separators=(",", ":"), default=str).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds {MAX_FRAME}")
    return _HEADER.pack(len(body)) + body


def decode_body(body: bytes, allowed: frozenset[str]) -> dict[str, Any]:
    """Parse and validate a frame's body; raise ``ProtocolError`` with a clear reason."""
    try:
        msg = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError too
        raise ProtocolError(f"frame is not UTF-8 JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise ProtocolError("frame is not a JSON object")
    if msg.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {msg.get('v')!r}, expected {PROTOCOL_VERSION}")
    kind = msg.get("type")
    if kind not in allowed:
        raise ProtocolError(f"unknown message type {kind!r}")
    return msg


class FrameReader:
    """Reassembles frames from a byte stream fed in arbitrary pieces."""

    def __init__(self, allowed: frozenset[str], max_frame: int = MAX_FRAME) -> None:
        self._buffer = bytearray()
        self._allowed = allowed
        self._max = max_frame

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Add bytes; return the complete messages. Raises ``ProtocolError``."""
        self._buffer += data
        out: list[dict[str, Any]] = []
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if size > self._max:
                raise ProtocolError(f"frame of {size} bytes exceeds {self._max}")
            if len(self._buffer) < _HEADER.size + size:
                break
            body = bytes(self._buffer[_HEADER.size : _HEADER.size + size])
            del self._buffer[: _HEADER.size + size]
            out.append(decode_body(body, self._allowed))
        return out


def recv_message(
    sock: socket.socket, allowed: frozenset[str], max_frame: int = MAX_FRAME
) -> dict[str, Any] | None:
    """Read exactly one message from a blocking socket; None at a clean EOF."""
    header = _recv_exact(sock, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > max_frame:
        raise ProtocolError(f"frame of {size} bytes exceeds {max_frame}")
    body = _recv_exact(sock, size)
    if body is None:
        raise ProtocolError("connection closed in the middle of a frame")
    return decode_body(body, allowed)


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            if chunks:
                raise ProtocolError("connection closed in the middle of a frame")
            return None
        chunks += chunk
    return bytes(chunks)


def send_message(sock: socket.socket, msg: dict[str, Any]) -> None:
    sock.sendall(encode(msg))


def parse_address(address: str) -> tuple[int, Any]:
    """``(family, address)`` for ``socket.connect``: a path, or ``tcp:HOST:PORT``."""
    if address.startswith("tcp:"):
        host, _, port = address[4:].rpartition(":")
        return socket.AF_INET, (host, int(port))
    return socket.AF_UNIX, address
