"""The build step alone: incremental checking, rejections, snapshots, pruning."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from helpers_session import write

from hcride.analysis import split_module
from hcride.controller import build as build_module
from hcride.controller import events as ev
from hcride.controller.build import Builder, module_name
from hcride.controller.incremental import CheckError, full_version, new_version
from hcride.controller.paths import is_ignored

SOURCE = '''"""Doc."""
import os

X = 1

@decorator
def f(a):
    return a + 1


class C:
    field: int

    def __init__(self):
        self.a = 1

    def m(self):
        return 2

# comment between statements
def g(): return 3
a = 1; b = 2
'''


def _edits(rng: random.Random, lines: list[str]) -> list[str]:
    lines = list(lines)
    i = rng.randrange(len(lines) + 1)
    choice = rng.randrange(4)
    if choice == 0 and lines:
        del lines[min(i, len(lines) - 1)]
    elif choice == 1:
        lines.insert(i, rng.choice(["def h():\n", "    pass\n", "Y = 2\n", "# c\n", "\n"]))
    elif choice == 2 and lines:
        j = min(i, len(lines) - 1)
        lines[j] = lines[j].replace("1", "5")
    else:
        lines.insert(i, "class D:\n    z: int = 0\n")
    return lines


def _summary(table: Any) -> list[tuple]:
    return [(s.kind, s.names, s.lineno, s.end_lineno, s.text, s.shape) for s in table.statements]


def test_incremental_matches_full_parse() -> None:
    rng = random.Random(7)
    base = full_version(SOURCE, SOURCE.encode(), "m.py")
    for _ in range(400):
        lines = _edits(rng, list(base.lines))
        text = "".join(lines)
        try:
            expected = split_module(text)
        except SyntaxError:
            with pytest.raises(CheckError):
                new_version(base, text, text.encode(), "m.py")
            continue
        got = new_version(base, text, text.encode(), "m.py")
        assert _summary(got.table) == _summary(expected), text
        base = got


def test_syntax_error_line_and_column() -> None:
    base = full_version(SOURCE, SOURCE.encode(), "m.py")
    text = SOURCE.replace("def g(): return 3", "def g(: return 3")
    with pytest.raises(CheckError) as info:
        new_version(base, text, text.encode(), "m.py")
    assert info.value.line == SOURCE.splitlines().index("def g(): return 3") + 1
    assert info.value.col > 0


def test_builder_rejects_then_accepts_and_prunes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_module, "KEEP_BUILDS", 3)
    write(tmp_path / "main.py", "import pkg.logic\n")
    write(tmp_path / "pkg" / "__init__.py", "")
    logic = write(
        tmp_path / "pkg" / "logic.py", "class Ball:\n    x: int\n\ndef f():\n    return 1\n"
    )
    events: list[ev.Event] = []
    sent: list[dict] = []
    builder = Builder(tmp_path, tmp_path / "main.py", events.append, sent.append)
    builder.load_baseline()
    assert builder.build([logic]) is None  # unchanged: no build
    write(logic, "class Ball:\n    x: int\n    speed: int\n\ndef f():\n    return 1\n")
    outcome = builder.build([logic])
    assert outcome is not None and not outcome.ok and not sent
    (rejected,) = [e for e in events if isinstance(e, ev.BuildRejected)]
    assert rejected.result.rejected[0].cls == "Ball"
    assert builder.build([logic]) is None  # the same refused version: reported once
    for i in range(6):
        write(logic, f"class Ball:\n    x: int\n\ndef f():\n    return {i + 2}\n")
        outcome = builder.build([logic])
        assert outcome is not None and outcome.ok
    assert sent[-1]["modules"][0]["name"] == "pkg.logic"
    snapshot = Path(sent[-1]["modules"][0]["snapshot"])
    assert snapshot.read_text().endswith("return 7\n")
    kept = sorted(int(p.name) for p in (tmp_path / ".hcr" / "builds").iterdir())
    assert len(kept) == 3 and kept[-1] == outcome.build
    write(tmp_path / "main.py", "import pkg.logic\nprint()\n")
    outcome = builder.build([tmp_path / "main.py"])
    assert outcome is not None and outcome.restart_needed == [str(tmp_path / "main.py")]
    assert isinstance(events[-1], ev.RestartNeeded)


def test_ignored_paths(tmp_path: Path) -> None:
    (tmp_path / "env1").mkdir()
    (tmp_path / "env1" / "pyvenv.cfg").write_text("")
    assert is_ignored(tmp_path, tmp_path / ".hcr" / "builds" / "1" / "a.py")
    assert is_ignored(tmp_path, tmp_path / "__pycache__" / "a.py")
    assert is_ignored(tmp_path, tmp_path / ".venv" / "lib" / "a.py")
    assert is_ignored(tmp_path, tmp_path / "env1" / "a.py")
    assert is_ignored(tmp_path, tmp_path / ".git" / "a.py")
    assert is_ignored(tmp_path, tmp_path / "a.txt")
    assert not is_ignored(tmp_path, tmp_path / "pkg" / "a.py")
    assert module_name(tmp_path, tmp_path / "pkg" / "__init__.py") == "pkg"


def test_unwritable_build_folder_is_a_clear_rejection(tmp_path: Path) -> None:
    """Nothing can be snapshotted (here ``.hcr`` is a file; a read-only project is the
    same): the build is rejected with the reason, not lost in a watcher thread's log,
    and the next save after the folder is fixed builds again."""
    write(tmp_path / "main.py", "import logic\n")
    logic = write(tmp_path / "logic.py", "def f():\n    return 1\n")
    (tmp_path / ".hcr").write_text("not a folder")
    events: list[ev.Event] = []
    sent: list[dict] = []
    builder = Builder(tmp_path, tmp_path / "main.py", events.append, sent.append)
    builder.load_baseline()
    write(logic, "def f():\n    return 2\n")
    outcome = builder.build([logic])
    assert outcome is not None and not outcome.ok and not sent
    (rejected,) = [e for e in events if isinstance(e, ev.BuildRejected)]
    (why,) = rejected.result.rejected
    assert why.module == "logic" and ".hcr" in why.message and "writable" in why.message
    assert rejected.result.summary() == [f"rejected {why.describe()}"]
    (tmp_path / ".hcr").unlink()
    outcome = builder.build([])  # the refused files are carried to the next build
    assert outcome is not None and outcome.ok
    assert Path(sent[-1]["modules"][0]["snapshot"]).read_text() == "def f():\n    return 2\n"


def test_form_feed_inside_a_line_does_not_misalign_the_incremental_check() -> None:
    # str.splitlines() would split at the form feed; the parser does not.
    source = (
        'PAGE = "a\x0cb\x0cc\x0cd"\n\ndef g():\n    return 0\n\n'
        "def f():\n    return 1\n\nclass C:\n    x: int\n"
    )
    base = full_version(source, source.encode(), "m.py")
    text = source.replace("return 1", "return 2")
    got = new_version(base, text, text.encode(), "m.py")
    assert _summary(got.table) == _summary(split_module(text))
