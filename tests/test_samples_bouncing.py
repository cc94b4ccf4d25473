"""samples/bouncing: the seed's SDL example, live edited in a real subprocess.

The test cannot press F9 in another process's (dummy) window, so it writes its own
main script into a copy of the sample: the script imports the sample's ``logic``,
runs ``init()``/``update()`` like the sample's ``main.py``, and on commands read from
stdin posts a synthetic F9 ``KEYDOWN`` event (``logic.update``'s own F9 branch then
calls ``perform_code_reload()``) or saves the display surface to PNG together with
the position globals. The test reads the pixels back from the PNGs.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import PROGRAM_PYTHON, require_on_program

pygame = pytest.importorskip("pygame")

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "bouncing"
PINK = (255, 128, 128)
YELLOW = (255, 255, 128)
BLUE = (0, 0, 255)

DRIVER = r'''
"""Test driver: the sample's main loop, plus commands from stdin."""
import json
import queue
import sys
import threading

import pygame

import logic

from hcride import hotcodereloading as hcr

commands = queue.Queue()
reloads = []


def read_commands():
    for line in sys.stdin:
        commands.put(line.split())


@hcr.after_code_reload
def note_reload():
    reloads.append(sorted(m for m in ("logic",) if hcr.has_module_changed(m)))


def state(**extra):
    keys = ("pos_x", "pos_y", "d_x", "d_y", "run_game")
    return {**{k: getattr(logic, k) for k in keys}, "reloads": reloads, **extra}


def emit(record):
    print(json.dumps(record), flush=True)


threading.Thread(target=read_commands, daemon=True).start()
logic.init()
emit(state(event="ready"))
frames = 0
while logic.run_game:
    try:
        cmd = commands.get_nowait()
    except queue.Empty:
        cmd = None
    if cmd and cmd[0] == "snap":
        # the surface shows the last update(): the globals are the ones it drew with
        pygame.image.save(pygame.display.get_surface(), cmd[1])
        emit(state(event="snap", path=cmd[1], frames=frames))
    elif cmd and cmd[0] == "f9":
        # a real F9 keypress, as far as logic.update() can tell
        pygame.event.post(pygame.event.Event(
            pygame.KEYDOWN, key=pygame.K_F9, mod=0, scancode=66, unicode=""))
        before = state()
        logic.update()
        frames += 1
        emit(state(event="f9", before=before, frames=frames))
        continue
    elif cmd and cmd[0] == "quit":
        pygame.event.post(pygame.event.Event(
            pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, scancode=41, unicode=""))
    logic.update()
    frames += 1
logic.destroy()
emit({"event": "bye", "frames": frames})
'''


class Program:
    """The copied sample running under ``python -m hcride.runtime`` (on ``PROGRAM_PYTHON``)."""

    def __init__(self, project: Path) -> None:
        env = dict(os.environ)
        env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYTHONUNBUFFERED="1",
                   PYGAME_HIDE_SUPPORT_PROMPT="1")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [PROGRAM_PYTHON, "-m", "hcride.runtime", "--project", str(project), "--",
             str(project / "driver.py")],
            cwd=project, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, True), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, False), daemon=True).start()

    def _pump(self, stream, is_stdout: bool) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            (self.lines.put if is_stdout else self.stderr.append)(line)
        if is_stdout:
            self.lines.put(None)

    def send(self, *words: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(" ".join(words) + "\n")
        self.proc.stdin.flush()

    def expect(self, event: str, timeout: float = 60) -> dict:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no {event!r} from the program; stderr:\n{''.join(self.stderr)}")
            if line is None:
                self.proc.wait(timeout=30)
                pytest.fail(f"program ended (rc={self.proc.returncode}) before {event!r}; "
                            f"stderr:\n{''.join(self.stderr)}")
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("event") == event:
                    return record

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


@pytest.fixture
def program(tmp_path: Path):  # type: ignore[no-untyped-def]
    require_on_program("pygame")
    project = tmp_path / "bouncing"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "driver.py").write_text(DRIVER, encoding="utf-8")
    prog = Program(project)
    yield project, prog
    prog.close()


def rect_of(png: Path, colour: tuple[int, int, int]) -> tuple[int, pygame.Rect | None]:
    """How many pixels of ``colour`` the frame has, and their bounding box."""
    surface = pygame.image.load(str(png))
    mask = pygame.mask.from_threshold(surface, (*colour, 255), (1, 1, 1, 255))
    boxes = mask.get_bounding_rects()
    box = boxes[0].unionall(boxes[1:]) if boxes else None
    return mask.count(), box


def expected_rect(s: dict) -> pygame.Rect:
    """The part of the 50x50 rectangle centred on (pos_x, pos_y) inside the window."""
    return pygame.Rect(s["pos_x"] - 25, s["pos_y"] - 25, 50, 50).clip(pygame.Rect(0, 0, 640, 480))


def step(s: dict) -> dict:
    """One update() of the seed's rules, to predict where the rectangle goes next."""
    s = dict(s)
    s["pos_x"] += s["d_x"]
    s["pos_y"] += s["d_y"]
    if s["pos_x"] >= 640:
        s["d_x"] = -2
    if s["pos_x"] <= 0:
        s["d_x"] = 2
    if s["pos_y"] >= 480:
        s["d_y"] = -2
    if s["pos_y"] <= 0:
        s["d_y"] = 2
    return s


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


KEYS = ("pos_x", "pos_y", "d_x", "d_y")


def test_colour_edit_and_f9_keep_position(program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project, prog = program
    ready = prog.expect("ready")
    assert (ready["pos_x"], ready["pos_y"], ready["d_x"], ready["d_y"]) == (1, 0, 1, 1)

    # Let it bounce a while, well away from the start, then take the "before" frame.
    before_png = tmp_path / "before.png"
    for _ in range(200):
        prog.send("snap", str(before_png))
        before = prog.expect("snap")
        if before["pos_x"] > 40:
            break
    assert before["pos_x"] > 40, before
    count, box = rect_of(before_png, PINK)
    assert count > 0 and box == expected_rect(before), (count, box, before)
    assert rect_of(before_png, YELLOW)[0] == 0

    # The live edit: the seed's colour change, in the copy's logic.py.
    logic = project / "logic.py"
    source = logic.read_text(encoding="utf-8")
    line = "window.fill((255, 128, 128), rect)"
    assert source.count(line) == 1
    write_atomically(logic, source.replace(line, "window.fill((255, 255, 128), rect)"))

    # F9: logic.update() reloads itself, from inside update(), then finishes on its old code.
    prog.send("f9")
    f9 = prog.expect("f9")
    assert f9["reloads"] == [["logic"]], (f9, "".join(prog.stderr))
    # Globals preserved: the F9 frame moved on from where the rectangle was ...
    assert {k: f9[k] for k in KEYS} == {k: v for k, v in step(f9["before"]).items() if k in KEYS}
    assert f9["frames"] > before["frames"]
    assert f9["before"]["pos_x"] >= before["pos_x"] or f9["before"]["d_x"] < 0

    # The F9 frame was drawn by the old code; take the "after" frame from a later one.
    after_png = tmp_path / "after.png"
    for _ in range(200):
        prog.send("snap", str(after_png))
        after = prog.expect("snap")
        if after["frames"] > f9["frames"]:
            break
    assert after["frames"] > f9["frames"], after
    # ... and so did every frame after it, on the new code: not back to (1, 0).
    predicted = dict(f9)
    for _ in range(after["frames"] - f9["frames"]):
        predicted = step(predicted)
    assert {k: after[k] for k in KEYS} == {k: predicted[k] for k in KEYS}
    assert after["reloads"] == [["logic"]]  # once, not every frame

    count, box = rect_of(after_png, YELLOW)
    assert count > 0 and box == expected_rect(after), (count, box, after)
    assert rect_of(after_png, PINK)[0] == 0
    blue, _ = rect_of(after_png, BLUE)
    assert blue == 640 * 480 - count

    hcr_lines = [line for line in prog.stderr if line.startswith("hcride:")]
    assert any("logic" in line for line in hcr_lines), prog.stderr

    prog.send("quit")
    bye = prog.expect("bye")
    assert bye["frames"] >= after["frames"]
    assert prog.proc.wait(timeout=60) == 0, "".join(prog.stderr)

    for name, png in (("before", before_png), ("after", after_png)):
        copy_to = os.environ.get("HCRIDE_SAMPLE_PNG_DIR")
        if copy_to:  # for a human to look at: HCRIDE_SAMPLE_PNG_DIR=/tmp pytest ...
            shutil.copy(png, Path(copy_to) / f"bouncing_{name}.png")


def test_sample_main_runs_and_escape_quits(tmp_path: Path) -> None:
    """The sample's own main.py (no driver): starts, draws, and quits on Escape.

    A tiny wrapper wraps ``logic.update`` to post an Escape keypress at the 30th frame,
    then runs the untouched main.py as ``__main__``."""
    require_on_program("pygame")
    project = tmp_path / "bouncing"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
    wrapper = tmp_path / "press_escape.py"
    wrapper.write_text(
        "import runpy, sys, threading, pygame\n"
        "import logic\n"
        "real_update = logic.update\n"
        "calls = 0\n"
        "def update():\n"
        "    global calls\n"
        "    calls += 1\n"
        "    if calls == 30:\n"
        "        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE))\n"
        "    real_update()\n"
        "logic.update = update\n"
        "runpy.run_path(sys.argv[1], run_name='__main__')\n"
        "print('frames', calls, 'pos', logic.pos_x, logic.pos_y, flush=True)\n",
        encoding="utf-8",
    )
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
               PYGAME_HIDE_SUPPORT_PROMPT="1")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(project), str(REPO), env.get("PYTHONPATH")) if p)
    done = subprocess.run([PROGRAM_PYTHON, str(wrapper), str(project / "main.py")],
                          cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "frames 30 pos 31 30" in done.stdout, done.stdout
