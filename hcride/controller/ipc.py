"""The controller's end of the IPC channel: a listening socket the program connects to.

A Unix domain socket in a private (0700) directory, or loopback TCP where Unix
sockets are not available. Every connection must open with the runtime's ``hello``
carrying the session token, compared with ``hmac.compare_digest``; anything else
(wrong token, garbage, an oversized or truncated frame) closes that connection and
is reported through ``on_problem``. Nothing a peer sends can raise out of here.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from hcride import protocol

HELLO_TIMEOUT = 10.0
"""Seconds a new connection has, in all, to send its whole hello."""
HELLO_MAX = 16 * 1024
"""The largest hello read (it holds a token, a pid and two paths): a bigger frame is
refused from its header, before its body is read."""
MAX_PENDING = 8
"""Connections that have not yet said hello, at most: more are closed at once, so
idle peers cost at most this many threads and buffers."""
BACKLOG = 64
_HEADER_SIZE = 4
"""The frame's length prefix (``protocol``: big-endian unsigned 32 bits)."""

MessageHandler = Callable[[dict[str, Any]], None]
ProblemHandler = Callable[[str], None]


def _recv_until(conn: socket.socket, size: int, deadline: float) -> bytes | None:
    """Exactly ``size`` bytes before ``deadline`` (TimeoutError), None at EOF."""
    data = bytearray()
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        conn.settimeout(left)
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _read_hello(conn: socket.socket, deadline: float) -> dict[str, Any] | None:
    """The first frame, whole before ``deadline`` and at most ``HELLO_MAX`` bytes."""
    header = _recv_until(conn, _HEADER_SIZE, deadline)
    if header is None:
        return None
    size = int.from_bytes(header, "big")
    if size > HELLO_MAX:
        raise protocol.ProtocolError(f"hello of {size} bytes exceeds {HELLO_MAX}")
    body = _recv_until(conn, size, deadline)
    if body is None:
        return None
    return protocol.decode_body(body, protocol.TO_CONTROLLER)


def remove_stale_folders() -> list[str]:
    """Remove our socket folders (``hcride-PID-*`` in the temp folder) whose controller
    is gone: a controller killed with SIGKILL cannot remove its own. Returns them."""
    removed: list[str] = []
    top = tempfile.gettempdir()
    try:
        names = os.listdir(top)
    except OSError:
        return removed
    for name in names:
        parts = name.split("-")
        if len(parts) < 3 or parts[0] != "hcride" or not parts[1].isdigit():
            continue
        path = os.path.join(top, name)
        try:
            if os.lstat(path).st_uid != os.getuid() or not os.path.isdir(path):
                continue
            os.kill(int(parts[1]), 0)
            continue  # its controller still runs
        except ProcessLookupError:
            pass
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


class IpcServer:
    """Accepts the program's connection: one authenticated connection at a time.

    ``accept_hello(hello)`` may refuse a hello with the right token (returns the
    reason), e.g. one from a process that is not the program.
    """

    def __init__(
        self,
        on_message: MessageHandler,
        on_problem: ProblemHandler,
        *,
        on_connect: MessageHandler | None = None,
        on_disconnect: Callable[[], None] | None = None,
        accept_hello: Callable[[dict[str, Any]], str | None] | None = None,
        use_tcp: bool = False,
        max_frame: int = protocol.MAX_FRAME,
    ) -> None:
        self.token = secrets.token_hex(32)
        self._on_message = on_message
        self._on_problem = on_problem
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self._accept_hello = accept_hello
        self._max_frame = max_frame
        self._send_lock = threading.Lock()
        self._conn: socket.socket | None = None
        self._closed = False
        self._pending = threading.BoundedSemaphore(MAX_PENDING)
        self._refusing = False
        self._dir: str | None = None
        self._listener, self.address = self._listen(use_tcp)
        self._thread = threading.Thread(target=self._accept_loop, name="hcride-ipc", daemon=True)
        self._thread.start()

    def _listen(self, use_tcp: bool) -> tuple[socket.socket, str]:
        if not use_tcp and hasattr(socket, "AF_UNIX"):
            remove_stale_folders()
            self._dir = tempfile.mkdtemp(prefix=f"hcride-{os.getpid()}-")  # mode 0700
            os.chmod(self._dir, 0o700)
            path = os.path.join(self._dir, "ipc.sock")
            if len(path.encode()) < 100:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.bind(path)
                os.chmod(path, 0o600)
                sock.listen(BACKLOG)
                return sock, path
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(BACKLOG)
        host, port = sock.getsockname()
        return sock, f"tcp:{host}:{port}"

    @property
    def folder(self) -> str | None:
        """The private folder holding the socket (None with TCP)."""
        return self._dir

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def send(self, msg: dict[str, Any]) -> bool:
        """Send one message to the program; False if there is no connection."""
        conn = self._conn
        if conn is None:
            return False
        try:
            data = protocol.encode(msg)
            with self._send_lock:
                conn.sendall(data)
            return True
        except (OSError, protocol.ProtocolError) as exc:
            self._on_problem(f"cannot send {msg.get('type')}: {exc}")
            return False

    def close(self) -> None:
        """Stop listening and drop the connection. The accept thread closes the
        listening socket itself once it has left ``accept()``: closed from here, its
        descriptor number could be reused by the next server's socket while this
        thread still calls ``accept()`` on that number, and it would take the next
        session's program (its results then reached a dead session)."""
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() (Linux)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5.0)
        with contextlib.suppress(OSError):
            self._listener.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def _accept_loop(self) -> None:
        try:
            self._accept_until_closed()
        finally:
            with contextlib.suppress(OSError):
                self._listener.close()

    def _accept_until_closed(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                if self._closed:
                    return
                time.sleep(0.01)  # EMFILE and the like: do not spin
                continue
            if self._closed:
                with contextlib.suppress(OSError):
                    conn.close()
                return
            if not self._pending.acquire(blocking=False):
                with contextlib.suppress(OSError):
                    conn.close()
                if not self._refusing:  # once per burst, not once per connection
                    self._refusing = True
                    self._on_problem(
                        f"more than {MAX_PENDING} connections without a hello: "
                        "closing new ones until they are gone"
                    )
                continue
            threading.Thread(
                target=self._serve, args=(conn,), name="hcride-ipc-conn", daemon=True
            ).start()

    def _serve(self, conn: socket.socket) -> None:
        authenticated = False
        try:
            try:
                hello = _read_hello(conn, time.monotonic() + HELLO_TIMEOUT)
            finally:
                self._pending.release()
                self._refusing = False
            if hello is None:
                self._on_problem("connection closed before hello")
                return
            if hello.get("type") != "hello":
                self._reject(conn, f"expected hello, got {hello.get('type')!r}")
                return
            token = hello.get("token")
            if not isinstance(token, str) or not hmac.compare_digest(
                token.encode("utf-8", "replace"), self.token.encode()
            ):
                self._reject(conn, "wrong token")
                return
            refusal = self._accept_hello(hello) if self._accept_hello is not None else None
            if refusal is None and self._conn is not None:
                refusal = "the program is already connected"
            if refusal is not None:
                self._reject(conn, refusal)
                return
            authenticated = True
            conn.settimeout(None)
            self._conn = conn
            if self._on_connect is not None:
                self._on_connect(hello)
            while not self._closed:
                msg = protocol.recv_message(conn, protocol.TO_CONTROLLER, self._max_frame)
                if msg is None:
                    return
                try:
                    self._on_message(msg)
                except Exception as exc:  # one unusable message must not cost the channel
                    self._on_problem(f"cannot handle {msg.get('type')} message: {exc!r}")
        except protocol.ProtocolError as exc:
            self._reject(conn, str(exc))
        except TimeoutError:
            self._on_problem("no hello within the time limit; connection closed")
        except OSError as exc:
            if not self._closed and authenticated:
                self._on_problem(f"connection lost: {exc}")
        except Exception as exc:  # a bug in a handler must not kill the channel silently
            self._on_problem(f"internal error handling a message: {exc!r}")
        finally:
            with contextlib.suppress(OSError):
                conn.close()
            if authenticated and self._conn is conn:
                self._conn = None
                if self._on_disconnect is not None:
                    self._on_disconnect()

    def _reject(self, conn: socket.socket, reason: str) -> None:
        """Tell the peer why (best effort), report it; the caller closes."""
        self._on_problem(reason)
        with contextlib.suppress(OSError, protocol.ProtocolError):
            conn.settimeout(1.0)
            conn.sendall(protocol.encode(protocol.message("error", message=reason)))
