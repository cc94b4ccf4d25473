"""Read Python tracebacks out of console text: the file and line a row points at, and
the place in the project where the last traceback of a program's output happened."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')
SYNTAX_ERRORS = ("SyntaxError", "IndentationError", "TabError")


@dataclass(frozen=True)
class Location:
    """A place in a file; ``line`` is 1-based."""

    file: str
    line: int


@dataclass(frozen=True)
class Crash:
    """Where an uncaught exception happened, as far as the project is concerned."""

    file: str
    line: int
    message: str
    """The traceback's last line (``ZeroDivisionError: division by zero``)."""


def location(row: str) -> Location | None:
    """``File "/p/x.py", line 3, in f`` -> ``Location('/p/x.py', 3)``; else None."""
    match = FRAME.match(row)
    if match is None:
        return None
    return Location(match["file"], int(match["line"]))


def last_crash(lines: Sequence[str], project: Path | None) -> Crash | None:
    """The innermost frame inside ``project`` of the last traceback in ``lines``
    (a syntax error's own ``File`` line counts as its innermost frame)."""
    start = None
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("Traceback (most recent call last)") or (
            location(lines[i]) is not None and i + 1 < len(lines) and _syntax_tail(lines, i)
        ):
            start = i
            break
    if start is None:
        return None
    frames: list[Location] = []
    message = ""
    for row in lines[start:]:
        loc = location(row)
        if loc is not None:
            frames.append(loc)
        elif row and not row[0].isspace() and not row.startswith("Traceback"):
            message = row.strip()
    root = str(project) if project is not None else ""
    for loc in reversed(frames):
        inside = not root or loc.file == root or loc.file.startswith(root.rstrip("/") + "/")
        if inside and Path(loc.file).is_file():
            return Crash(loc.file, loc.line, message)
    return None


def _syntax_tail(lines: Sequence[str], i: int) -> bool:
    """Is the ``File`` row at ``i`` a bare syntax error report (no ``Traceback``)?"""
    for row in lines[i + 1 : i + 5]:
        if row.split(":", 1)[0].strip() in SYNTAX_ERRORS:
            return True
    return False
