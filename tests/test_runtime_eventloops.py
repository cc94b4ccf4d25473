"""Auto mode reaches a main thread idle in an event loop, in real programs.

Each program waits in its framework's loop (Qt's ``exec()``, Tk's ``mainloop()``,
asyncio, ``pygame.event.wait()``) with nothing to do: no timer, no input event. A
save must be applied all the same (the ``ReloadApplied`` event arrives while the
program is idle), and only then is the edited slot poked (through stdin, read on a
worker thread and handed to the loop) to show its new behaviour. The runtime counts
how it reached the main thread: a known loop is woken through the loop itself, so
no signal interrupts anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_session import Recorder, make_session, wait_loaded, write
from helpers_xvfb import xvfb_display

from hcride.controller import events as ev
from hcride.controller.session import Session

SLOT = """
def text():
    return "v1"
"""

WAKEUPS = (
    "__import__('hcride.runtime.agent', fromlist=['x'])._agent.wakeups"
)
"""Counts of the ways the agent reached the main thread (an expression in the program)."""


@pytest.fixture
def xvfb(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private X server on a free display, killed afterwards."""
    with xvfb_display() as display:
        monkeypatch.setenv("DISPLAY", display)
        yield display


def _edit_and_poke(tmp_path: Path, rec: Recorder, session: Session) -> dict[str, int]:
    """Save v2 of the slot; the reload must apply while the program idles; then poke
    the slot and see v2. Returns the agent's wake-up counts."""
    wait_loaded(rec, "slot")
    rec.wait_output("ready")
    assert session.mode == "auto"
    write(tmp_path / "slot.py", SLOT.replace('"v1"', '"v2"'))
    applied = rec.wait_for(ev.ReloadApplied)  # nothing but the save happened
    assert applied.result.reloaded == ["slot"]
    assert "text" in applied.result.modules[0].patched
    session.send_stdin("poke\n")
    out = rec.wait_output("slot says v2")
    assert "slot says v1" not in out
    line = out.split("wakeups ")[-1].splitlines()[0]
    return eval(line)  # a dict literal printed by the program


def test_qt_exec_idle_gets_the_reload(tmp_path: Path, sessions: list[Session]) -> None:
    write(tmp_path / "slot.py", SLOT)
    write(
        tmp_path / "main.py",
        f"""
        import sys, threading
        from PySide6.QtCore import QObject, Signal
        from PySide6.QtWidgets import QApplication, QLabel
        import slot

        class Window(QLabel):
            def refresh(self):
                self.setText(slot.text())
                print("slot says", self.text(), "wakeups", dict({WAKEUPS}), flush=True)

        class Poker(QObject):
            poke = Signal()

        app = QApplication(sys.argv)
        window = Window("-")
        window.show()
        poker = Poker()
        poker.poke.connect(window.refresh)

        def read():
            for _ in sys.stdin:
                poker.poke.emit()  # queued to the main thread

        threading.Thread(target=read, daemon=True).start()
        print("ready", flush=True)
        sys.exit(app.exec())
        """,
    )
    rec = Recorder()
    session = make_session(tmp_path, rec)  # QT_QPA_PLATFORM=offscreen (conftest)
    sessions.append(session)
    wakeups = _edit_and_poke(tmp_path, rec, session)
    assert wakeups.get("qt", 0) >= 1, wakeups
    assert wakeups.get("signal", 0) == 0, wakeups


def test_tk_mainloop_idle_gets_the_reload(
    tmp_path: Path, sessions: list[Session], xvfb: str
) -> None:
    write(tmp_path / "slot.py", SLOT)
    write(
        tmp_path / "main.py",
        f"""
        import sys, threading
        import tkinter as tk
        import slot

        root = tk.Tk()
        label = tk.Label(root, text="-")
        label.pack()

        def refresh(event=None):
            label.config(text=slot.text())
            print("slot says", label.cget("text"), "wakeups", dict({WAKEUPS}), flush=True)

        root.bind("<<Poke>>", refresh)

        def read():
            for _ in sys.stdin:
                root.event_generate("<<Poke>>", when="tail")

        threading.Thread(target=read, daemon=True).start()
        root.after(0, lambda: print("ready", flush=True))
        root.mainloop()
        """,
    )
    rec = Recorder()
    session = make_session(tmp_path, rec)
    sessions.append(session)
    wakeups = _edit_and_poke(tmp_path, rec, session)
    assert wakeups.get("tk", 0) >= 1, wakeups
    assert wakeups.get("signal", 0) == 0, wakeups


@pytest.mark.parametrize("runner", ["run_forever", "run_until_complete"])
def test_asyncio_idle_gets_the_reload(
    tmp_path: Path, sessions: list[Session], runner: str
) -> None:
    write(tmp_path / "slot.py", SLOT)
    start = (
        "loop.call_soon(setup); loop.run_forever()"
        if runner == "run_forever"
        else "loop.run_until_complete(forever())"
    )
    write(
        tmp_path / "main.py",
        f"""
        import asyncio, sys
        import slot

        def on_line():
            sys.stdin.readline()
            print("slot says", slot.text(), "wakeups", dict({WAKEUPS}), flush=True)

        def setup():
            loop.add_reader(sys.stdin.fileno(), on_line)
            print("ready", flush=True)

        async def forever():
            setup()
            await asyncio.Event().wait()

        loop = asyncio.new_event_loop()
        {start}
        """,
    )
    rec = Recorder()
    session = make_session(tmp_path, rec)
    sessions.append(session)
    wakeups = _edit_and_poke(tmp_path, rec, session)
    assert wakeups.get("asyncio", 0) >= 1, wakeups
    assert wakeups.get("signal", 0) == 0, wakeups


def test_pygame_event_wait_idle_gets_the_reload(
    tmp_path: Path, sessions: list[Session]
) -> None:
    write(tmp_path / "slot.py", SLOT)
    write(
        tmp_path / "main.py",
        f"""
        import os, sys, threading
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ["SDL_AUDIODRIVER"] = "dummy"
        import pygame
        import slot

        pygame.display.init()
        screen = pygame.display.set_mode((64, 48))
        POKE = pygame.event.custom_type()

        def read():
            for _ in sys.stdin:
                pygame.event.post(pygame.event.Event(POKE))

        threading.Thread(target=read, daemon=True).start()
        pygame.event.clear()
        print("ready", flush=True)
        while True:
            event = pygame.event.wait()  # blocks in SDL: no Python runs while idle
            if event.type == POKE:
                print("slot says", slot.text(), "wakeups", dict({WAKEUPS}), flush=True)
        """,
    )
    rec = Recorder()
    session = make_session(tmp_path, rec)
    sessions.append(session)
    wakeups = _edit_and_poke(tmp_path, rec, session)
    assert wakeups.get("pygame", 0) >= 1, wakeups


def test_pygame_frame_loop_gets_the_reload_without_a_signal(
    tmp_path: Path, sessions: list[Session]
) -> None:
    """The usual game loop (events, draw, ``clock.tick``) runs Python every frame: the
    reload is applied between two bytecodes, and nothing is interrupted."""
    write(tmp_path / "slot.py", SLOT)
    write(
        tmp_path / "main.py",
        f"""
        import os, sys, threading
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ["SDL_AUDIODRIVER"] = "dummy"
        import pygame
        import slot

        pygame.display.init()
        screen = pygame.display.set_mode((64, 48))
        clock = pygame.time.Clock()
        poked = threading.Event()
        threading.Thread(target=lambda: [poked.set() for _ in sys.stdin], daemon=True).start()
        print("ready", flush=True)
        while True:
            for event in pygame.event.get():
                pass
            screen.fill((0, 0, 0))
            pygame.display.flip()
            if poked.is_set():
                poked.clear()
                print("slot says", slot.text(), "wakeups", dict({WAKEUPS}), flush=True)
            clock.tick(30)
        """,
    )
    rec = Recorder()
    session = make_session(tmp_path, rec)
    sessions.append(session)
    wakeups = _edit_and_poke(tmp_path, rec, session)
    assert wakeups.get("pending", 0) >= 1, wakeups
    assert wakeups.get("signal", 0) == 0, wakeups


def test_program_c_calls_are_not_cut_short(tmp_path: Path, sessions: list[Session]) -> None:
    """The main thread spends its time in its own C calls (``usleep`` through ctypes)
    between short stretches of Python: reloads are applied between two bytecodes and
    no call ends early with EINTR (a signal would cut each one short)."""
    write(tmp_path / "slot.py", SLOT)
    write(
        tmp_path / "main.py",
        f"""
        import ctypes, ctypes.util, errno, sys, threading
        import slot

        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        poked = threading.Event()
        threading.Thread(target=lambda: [poked.set() for _ in sys.stdin], daemon=True).start()
        calls = interrupted = 0
        print("ready", flush=True)
        while True:
            if libc.usleep(10000) != 0 and ctypes.get_errno() == errno.EINTR:
                interrupted += 1
            calls += 1
            if poked.is_set():
                poked.clear()
                print("slot says", slot.text(), "interrupted", interrupted, "of", calls,
                      "wakeups", dict({WAKEUPS}), flush=True)
        """,
    )
    rec = Recorder()
    session = make_session(tmp_path, rec)
    sessions.append(session)
    wait_loaded(rec, "slot")
    rec.wait_output("ready")
    for number in range(2, 6):
        write(tmp_path / "slot.py", SLOT.replace('"v1"', f'"v{number}"'))
        rec.wait_for(ev.ReloadApplied, lambda e, n=number: e.result.modules[0].version == n)
    session.send_stdin("poke\n")
    out = rec.wait_output("slot says v5")
    line = out.split("slot says v5")[-1].splitlines()[0]
    assert " interrupted 0 of " in line, line
    wakeups = eval(line.split("wakeups ")[-1])
    assert wakeups.get("pending", 0) == 4, wakeups
    assert wakeups.get("signal", 0) == 0, wakeups


def test_blocking_accept_gets_the_reload(tmp_path: Path, sessions: list[Session]) -> None:
    """The main thread waits in ``socket.accept()`` (a server between clients)."""
    import socket

    write(tmp_path / "slot.py", SLOT)
    write(
        tmp_path / "main.py",
        f"""
        import socket
        import slot

        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()
        print("ready port", server.getsockname()[1], flush=True)
        while True:
            conn, _ = server.accept()
            conn.sendall(("slot says " + slot.text() + " wakeups " + repr(dict({WAKEUPS}))
                          + "\\n").encode())
            conn.close()
        """,
    )
    rec = Recorder()
    session = make_session(tmp_path, rec)
    sessions.append(session)
    wait_loaded(rec, "slot")
    port = int(rec.wait_output("ready port").split("ready port ")[1].split()[0])
    write(tmp_path / "slot.py", SLOT.replace('"v1"', '"v2"'))
    assert rec.wait_for(ev.ReloadApplied).result.reloaded == ["slot"]  # while in accept()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as client:
        answer = client.makefile().readline()
    assert answer.startswith("slot says v2"), answer
    wakeups = eval(answer.split("wakeups ")[1])
    assert wakeups.get("signal", 0) >= 1, wakeups  # a blocked system call: the signal
