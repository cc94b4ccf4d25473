"""A program started by a controller ends when the controller dies (no orphans)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def _wait(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_program_ends_when_the_controller_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    (tmp_path / "logic.py").write_text("def step():\n    return 1\n")
    (tmp_path / "main.py").write_text(
        "import os, time, logic\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "while True:\n"
        "    logic.step()\n"
        "    time.sleep(0.05)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    controller = subprocess.Popen(
        [sys.executable, "-m", "hcride", "run", "--watch", str(tmp_path / "main.py")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait(lambda: pidfile.exists() and pidfile.read_text().strip()), "never started"
        program = int(pidfile.read_text())
        assert _alive(program)
        controller.send_signal(signal.SIGKILL)  # no chance to clean up
        controller.wait(timeout=30)
        assert _wait(lambda: not _alive(program)), "the program outlived its controller"
    finally:
        if controller.poll() is None:
            controller.kill()
        if pidfile.exists() and pidfile.read_text().strip():
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass


CHILD = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(sys.argv[1], "w").write(str(os.getpid()))
while True:
    time.sleep(0.05)
"""

STUBBORN_MAIN = """
import os, signal, subprocess, sys, time
import logic
signal.signal(signal.SIGTERM, lambda *a: print("ignoring SIGTERM", flush=True))
here = os.path.dirname(os.path.abspath(__file__))
child = os.path.join(here, "child.py")
subprocess.Popen([sys.executable, child, os.path.join(here, "pid-newsession")],
                 start_new_session=True)
subprocess.Popen([sys.executable, child, os.path.join(here, "pid-samegroup")])
if os.fork() == 0:  # a daemon: fork, setsid, fork again, parent gone
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, child, os.path.join(here, "pid-daemon")])
    os._exit(0)
open(os.path.join(here, "pid-main"), "w").write(str(os.getpid()))
while True:
    logic.step()
    time.sleep(0.05)
"""

PIDS = ("pid-main", "pid-newsession", "pid-samegroup", "pid-daemon")


def _stubborn_project(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "logic.py").write_text("def step():\n    return 1\n")
    (root / "child.py").write_text(CHILD)
    (root / "main.py").write_text(STUBBORN_MAIN)


def _pids(root: Path) -> list[int]:
    return [int((root / name).read_text()) for name in PIDS]


def _all_written(root: Path) -> bool:
    return all((root / n).exists() and (root / n).read_text().strip() for n in PIDS)


def _kill_leftovers(root: Path) -> None:
    for name in PIDS:
        try:
            os.kill(int((root / name).read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def test_everything_the_program_started_ends_with_a_killed_controller(tmp_path: Path) -> None:
    """13.2: a program that ignores SIGTERM, a child in its own session, a child in the
    program's group and a double-forked daemon all end when the controller is killed
    with SIGKILL; its socket folder does not stay behind in the temp folder."""
    project = tmp_path / "p"
    _stubborn_project(project)
    temp = tmp_path / "t"
    temp.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO), TMPDIR=str(temp))
    controller = subprocess.Popen(
        [sys.executable, "-m", "hcride", "run", "--watch", str(project / "main.py")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait(lambda: _all_written(project)), "never started"
        assert _wait(lambda: any(temp.glob("hcride-*")))
        pids = _pids(project)
        assert all(_alive(p) for p in pids)
        controller.send_signal(signal.SIGKILL)
        controller.wait(timeout=30)
        for pid, name in zip(pids, PIDS, strict=True):
            assert _wait(lambda pid=pid: not _alive(pid)), f"{name} outlived its controller"
        assert _wait(lambda: not any(temp.glob("hcride-*"))), list(temp.iterdir())
    finally:
        if controller.poll() is None:
            controller.kill()
        _kill_leftovers(project)


def test_stop_ends_every_descendant_before_reporting_the_end(tmp_path: Path) -> None:
    """13.2: Stop ends the program and what it started outside its process group; the
    end is reported once they are gone (their open stdout no longer delays it)."""
    from helpers_session import Recorder

    from hcride.controller import events as ev
    from hcride.controller.session import Session

    project = tmp_path / "p"
    _stubborn_project(project)
    alive_at_exit: list[bool] = []
    recorder = Recorder()

    def on_event(event: ev.Event) -> None:
        recorder(event)
        if isinstance(event, ev.ProgramExited) and _all_written(project):
            alive_at_exit.extend(_alive(p) for p in _pids(project))

    session = Session(project, project / "main.py", on_event=on_event, watch=False)
    try:
        session.start()
        assert _wait(lambda: _all_written(project)), recorder.dump()
        assert session.pid == _pids(project)[0]
        session.stop(grace=1.0)
        assert alive_at_exit == [False] * len(PIDS)
        (exited,) = recorder.of(ev.ProgramExited)
        assert exited.stopped
    finally:
        session.close()
        _kill_leftovers(project)


def test_stale_socket_folders_of_dead_controllers_are_removed(tmp_path: Path) -> None:
    """A controller killed before its keeper ran leaves its folder: the next one
    removes it (and leaves a live controller's folder alone)."""
    temp = tmp_path / "t"
    temp.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (temp / f"hcride-{dead.pid}-abc").mkdir()
    (temp / f"hcride-{os.getpid()}-live").mkdir()
    code = (
        "import tempfile; from hcride.controller.ipc import IpcServer;"
        "s = IpcServer(lambda m: None, print); print(s.address); s.close()"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), TMPDIR=str(temp))
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert sorted(p.name for p in temp.iterdir()) == [f"hcride-{os.getpid()}-live"]


IDE = """
import os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from hcride.ide import MainWindow
app = QApplication([])
project = Path(sys.argv[1])
window = MainWindow(project=project, settings=QSettings(sys.argv[2], QSettings.Format.IniFormat))
window.show()
window.run()
while True:
    app.processEvents()
    time.sleep(0.01)
"""


def test_everything_the_program_started_ends_with_a_killed_ide(tmp_path: Path) -> None:
    """13.2: the same when the controller is the IDE, killed with SIGKILL."""
    project = tmp_path / "p"
    _stubborn_project(project)
    temp = tmp_path / "t"
    temp.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO), TMPDIR=str(temp))
    ide = subprocess.Popen(
        [sys.executable, "-c", IDE, str(project), str(tmp_path / "s.ini")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait(lambda: _all_written(project), timeout=60), "never started"
        pids = _pids(project)
        ide.send_signal(signal.SIGKILL)
        ide.wait(timeout=30)
        for pid, name in zip(pids, PIDS, strict=True):
            assert _wait(lambda pid=pid: not _alive(pid)), f"{name} outlived the IDE"
        assert _wait(lambda: not any(temp.glob("hcride-*"))), list(temp.iterdir())
    finally:
        if ide.poll() is None:
            ide.kill()
        _kill_leftovers(project)


def test_a_hello_before_the_keeper_names_the_pid_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The program may connect before the keeper's "pid N" line is read: its hello
    waits for the pid instead of being refused as "not the program"."""
    from helpers_session import Recorder

    from hcride.controller import events as ev
    from hcride.controller import session as session_module
    from hcride.controller.session import Session

    project = tmp_path / "p"
    project.mkdir()
    (project / "logic.py").write_text("def step():\n    return 1\n")
    (project / "main.py").write_text("import time, logic\nwhile True:\n    time.sleep(0.05)\n")
    read_line = session_module._read_line
    hellos: list[int] = []

    def late(fd: int, timeout: float) -> str:
        line = read_line(fd, timeout)
        _wait(lambda: bool(hellos), timeout=30)  # the program's hello came first
        return line

    recorder = Recorder()
    session = Session(project, project / "main.py", on_event=recorder, watch=False)
    check = session._check_hello

    def counting(hello):  # type: ignore[no-untyped-def]
        hellos.append(hello.get("pid"))
        return check(hello)

    monkeypatch.setattr(session_module, "_read_line", late)
    monkeypatch.setattr(session, "_check_hello", counting)
    try:
        session.start()
        assert session.wait_connected(60), recorder.dump()
        assert hellos == [session.pid]
        assert not recorder.of(ev.IpcProblem)
    finally:
        session.close()
