"""The build step alone: incremental checking, rejections, snapshots, pruning."""

from __future__ import annotations

import os
import random
import stat
from pathlib import Path
from typing import Any

import pytest
from helpers_session import write

from hcride.analysis import split_module
from hcride.analysis.incremental import changed_span, line_count
from hcride.analysis.statements import split_lines
from hcride.controller import build as build_module
from hcride.controller import events as ev
from hcride.controller.build import Builder, module_name
from hcride.controller.incremental import CheckError, full_version, new_version
from hcride.controller.paths import is_ignored
from hcride.runtime.report import ReloadResult

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
        lines = _edits(rng, split_lines(base.text))
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


def _reference_span(old: str, new: str) -> tuple[int, int, int]:
    """Lines equal at the start, then at the end (not overlapping), by splitting both."""
    a, b = split_lines(old), split_lines(new)
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(len(a), len(b)) - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    return p, s, len(b) - len(a)


def test_changed_span_on_texts_matches_comparing_lines() -> None:
    """The span is found without splitting the texts into lines: the same prefix,
    suffix and change in length as comparing lists of lines, and offsets that point at
    those lines, on random edits of characters and lines (no final newline, form feeds,
    blank lines, repeated lines)."""
    rng = random.Random(11)
    alphabet = ["a", "b", "\n", "\n", " ", "\x0c", "x\n"]
    for _ in range(3000):
        old = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        new = list(old)
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(new) + 1)
            if new and rng.random() < 0.4:
                del new[min(i, len(new) - 1) : i + rng.randrange(1, 4)]
            else:
                new[i:i] = rng.choice(alphabet) * rng.randrange(1, 3)
        text = "".join(new)
        span = changed_span(old, text)
        assert (span.prefix, span.suffix, span.delta) == _reference_span(old, text), (old, text)
        if old == text:
            continue
        assert line_count(old[: span.head]) == span.prefix
        assert old[: span.head] == text[: span.head]
        assert old[span.old_tail :] == text[span.new_tail :]
        assert line_count(old[span.old_tail :]) == span.suffix


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


def test_unwritable_build_folder_is_a_clear_rejection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing can be snapshotted (``.hcr`` is a file and the per-user cache is not a
    folder either): the build is rejected with the reason, not lost in a watcher
    thread's log, and the next save after the folder is fixed builds again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "cache").write_text("not a folder")
    project = tmp_path / "project"
    write(project / "main.py", "import logic\n")
    logic = write(project / "logic.py", "def f():\n    return 1\n")
    (project / ".hcr").write_text("not a folder")
    events: list[ev.Event] = []
    sent: list[dict] = []
    builder = Builder(project, project / "main.py", events.append, sent.append)
    builder.load_baseline()
    write(logic, "def f():\n    return 2\n")
    outcome = builder.build([logic])
    assert outcome is not None and not outcome.ok and not sent
    (rejected,) = [e for e in events if isinstance(e, ev.BuildRejected)]
    (why,) = rejected.result.rejected
    assert why.module == "logic" and ".hcr" in why.message and "writable" in why.message
    assert rejected.result.summary() == [f"rejected {why.describe()}"]
    (project / ".hcr").unlink()
    builder = Builder(project, project / "main.py", events.append, sent.append)
    builder.load_baseline()
    write(logic, "def f():\n    return 3\n")
    outcome = builder.build([logic])
    assert outcome is not None and outcome.ok
    assert Path(sent[-1]["modules"][0]["snapshot"]).read_text() == "def f():\n    return 3\n"


def test_read_only_project_builds_into_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """13.8: a read-only project folder (a checkout owned by someone else, a mounted
    share) still builds: the snapshots go to a per-user cache folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project = tmp_path / "project"
    write(project / "main.py", "import logic\n")
    logic = write(project / "logic.py", "def f():\n    return 1\n")
    (project / ".hcr").mkdir()
    (project / ".hcr").chmod(0o500)  # root ignores modes: a read-only .hcr of a file
    events: list[ev.Event] = []
    sent: list[dict] = []
    try:
        if os.access(project / ".hcr", os.W_OK):  # running as root: make it unusable
            (project / ".hcr").chmod(0o700)
            (project / ".hcr").rmdir()
            (project / ".hcr").write_text("")
        builder = Builder(project, project / "main.py", events.append, sent.append)
        builder.load_baseline()
        logic.write_text("def f():\n    return 2\n")
        outcome = builder.build([logic])
        assert outcome is not None and outcome.ok, events
        snapshot = Path(sent[-1]["modules"][0]["snapshot"])
        assert snapshot.is_relative_to(tmp_path / "cache" / "hcride")
        assert snapshot.read_text() == "def f():\n    return 2\n"
    finally:
        if (project / ".hcr").is_dir():
            (project / ".hcr").chmod(0o700)


def test_snapshots_keep_the_sources_permissions(tmp_path: Path) -> None:
    """13.3: a private source (0600) is not copied into a world-readable snapshot."""
    write(tmp_path / "main.py", "import secret\n")
    secret = write(tmp_path / "secret.py", "KEY = 1\n")
    secret.chmod(0o600)
    events: list[ev.Event] = []
    sent: list[dict] = []
    builder = Builder(tmp_path, tmp_path / "main.py", events.append, sent.append)
    builder.load_baseline()
    secret.write_text("KEY = 1\ndef f():\n    return 2\n")
    outcome = builder.build([secret])
    assert outcome is not None and outcome.ok
    snapshot = Path(sent[-1]["modules"][0]["snapshot"])
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / ".hcr").stat().st_mode) == 0o700


def _builder(tmp_path: Path) -> tuple[Builder, list[ev.Event], list[dict]]:
    events: list[ev.Event] = []
    sent: list[dict] = []
    builder = Builder(tmp_path, tmp_path / "main.py", events.append, sent.append)
    builder.load_baseline()
    return builder, events, sent


def test_a_file_never_imported_cannot_refuse_a_build(tmp_path: Path) -> None:
    """13.1: a scratch file with a syntax error (or random bytes, or Python 2) is
    reported once but holds back nothing: the real module saved with it applies."""
    write(tmp_path / "main.py", "import logic\n")
    logic = write(tmp_path / "logic.py", "def f():\n    return 1\n")
    scratch = write(tmp_path / "scratch.py", "x = 1\n")
    builder, events, sent = _builder(tmp_path)
    builder.set_module_names([{"name": "logic", "file": str(logic)}])
    logic.write_text("def f():\n    return 2\n")
    scratch.write_text("print 'python 2'\n")
    outcome = builder.build([logic, scratch])
    assert outcome is not None and outcome.ok
    assert [m["name"] for m in sent[-1]["modules"]] == ["logic"]
    (stray,) = [e for e in events if isinstance(e, ev.BuildRejected)]
    (why,) = stray.result.rejected
    assert why.module == "scratch" and "not imported" in why.message
    scratch.write_bytes(bytes(range(256)))
    logic.write_text("def f():\n    return 3\n")
    outcome = builder.build([logic, scratch])
    assert outcome is not None and outcome.ok and sent[-1]["modules"][0]["name"] == "logic"
    assert builder.build([scratch]) is None  # the same refused bytes: reported once


def test_a_refused_file_is_not_carried_into_later_builds(tmp_path: Path) -> None:
    """13.1: a refused module holds back the files saved with it, not later saves;
    each later build names the module that still runs its old version."""
    write(tmp_path / "main.py", "import logic, other, third\n")
    logic = write(tmp_path / "logic.py", "def f():\n    return 1\n")
    other = write(tmp_path / "other.py", "def g():\n    return 1\n")
    third = write(tmp_path / "third.py", "def h():\n    return 1\n")
    builder, events, sent = _builder(tmp_path)
    builder.set_module_names(
        [{"name": n, "file": str(tmp_path / f"{n}.py")} for n in ("logic", "other", "third")]
    )
    logic.write_text("def f(:\n    return 2\n")
    other.write_text("def g():\n    return 2\n")
    outcome = builder.build([logic, other])
    assert outcome is not None and not outcome.ok and not sent  # saved together: held
    third.write_text("def h():\n    return 2\n")
    outcome = builder.build([third])
    assert outcome is not None and outcome.ok
    assert sorted(m["name"] for m in sent[-1]["modules"]) == ["other", "third"]
    ready = [e for e in events if isinstance(e, ev.BuildReady)][-1]
    assert ready.held_back == ("logic",)
    third.write_text("def h():\n    return 3\n")
    builder.build([third])
    assert [m["name"] for m in sent[-1]["modules"]] == ["third"]
    # Saved back to the running text: said so, and nothing is held back any more.
    logic.write_text("def f():\n    return 1\n")
    assert builder.build([logic]) is None
    back = [e for e in events if isinstance(e, ev.BackToRunning)]
    assert [(b.module, b.was_refused) for b in back] == [("logic", True)]
    third.write_text("def h():\n    return 4\n")
    builder.build([third])
    assert [e for e in events if isinstance(e, ev.BuildReady)][-1].held_back == ()


def test_a_batch_the_program_rolled_back_is_the_running_version_no_more(
    tmp_path: Path,
) -> None:
    """Item 9: after the program rolls a build back, saving the old text again is
    "back to the running version", not a new build."""
    write(tmp_path / "main.py", "import logic\n")
    logic = write(tmp_path / "logic.py", "def f():\n    return 1\n")
    builder, events, sent = _builder(tmp_path)
    logic.write_text("def f():\n    return 1\nX = 1 / 0\n")
    outcome = builder.build([logic])
    assert outcome is not None and outcome.ok
    builder.on_result(ReloadResult(ok=False, error="ZeroDivisionError", build=outcome.build,
                                   reloaded=["logic"]))  # fmt: skip
    logic.write_text("def f():\n    return 1\n")
    assert builder.build([logic]) is None
    (back,) = [e for e in events if isinstance(e, ev.BackToRunning)]
    assert back.was_refused and back.module == "logic"


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


def test_a_symlink_loop_does_not_drop_the_real_save_of_its_batch(tmp_path: Path) -> None:
    """13.4: the loop is reported as unreadable (holding nothing back); the real save
    in the same batch is built; nothing raises into the caller (the watcher thread)."""
    write(tmp_path / "main.py", "import logic\n")
    logic = write(tmp_path / "logic.py", "def f():\n    return 1\n")
    builder, events, sent = _builder(tmp_path)
    (tmp_path / "loop_a.py").symlink_to(tmp_path / "loop_b.py")
    (tmp_path / "loop_b.py").symlink_to(tmp_path / "loop_a.py")
    logic.write_text("def f():\n    return 2\n")
    outcome = builder.build([tmp_path / "loop_a.py", logic, tmp_path / "loop_b.py"])
    assert outcome is not None and outcome.ok
    assert [m["name"] for m in sent[-1]["modules"]] == ["logic"]
    (loop,) = [e for e in events if isinstance(e, ev.BuildRejected)]
    assert {r.module for r in loop.result.rejected} == {"loop_a", "loop_b"}
    assert all("not imported" in r.message for r in loop.result.rejected)
