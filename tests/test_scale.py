"""Costs that must grow with what changed, not with the project: counted, never timed.

A real program importing many project modules runs under a real controller; the
tests count what crossed the wire and what the controller parsed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers_session import Recorder, make_session, wait_until, write

from hcride.controller import events as ev
from hcride.controller.state import ModuleStatus, SessionState

N = 60

MAIN = """
import time

import pkg

pkg.load_all()
print("ready", flush=True)
while True:
    time.sleep(0.02)
"""

PKG_INIT = f"""
import importlib


def load_all():
    for i in range({N}):
        importlib.import_module(f"pkg.m{{i}}")
"""

MODULE = """
from dataclasses import dataclass

counter = {i}


@dataclass
class Thing:
    x: int = 0


def value():
    return counter
"""


def big_project(root: Path) -> Path:
    write(root / "main.py", MAIN)
    write(root / "pkg" / "__init__.py", PKG_INIT)
    for i in range(N):
        write(root / "pkg" / f"m{i}.py", MODULE.format(i=i))
    return root


def fold(recorder: Recorder, project: Path) -> SessionState:
    state = SessionState(project)
    for event in list(recorder.events):
        state.apply(event)
    return state


def test_modules_are_sent_as_deltas_one_entry_per_import(tmp_path: Path) -> None:
    project = big_project(tmp_path / "proj")
    rec = Recorder()
    session = make_session(project, rec)
    try:
        rec.wait_output("ready")
        wait_until(lambda: len(fold(rec, project).modules) >= N + 2, what="every module")
        lists = rec.of(ev.ModulesChanged)
        entries = sum(len(e.modules) for e in lists)
        # pkg, m0..m59 and the main script: one entry each (the whole list on every
        # import would be about N * N / 2 = 1,800 entries).
        assert entries <= N + 4, [len(e.modules) for e in lists]
        assert sum(e.full for e in lists) == 1, "the whole list once, on connecting"
        state = fold(rec, project)
        assert {f"pkg.m{i}" for i in range(N)} <= set(state.modules)

        before = len(lists)
        target = project / "pkg" / "m7.py"
        target.write_text(target.read_text().replace("return counter", "return -counter"))
        rec.wait_for(ev.ReloadApplied, lambda e: "pkg.m7" in e.result.reloaded)
        wait_until(
            lambda: fold(rec, project).modules["pkg.m7"].version == 2, what="m7 at version 2"
        )
        after = rec.of(ev.ModulesChanged)[before:]
        assert sum(len(e.modules) for e in after) <= 3, [e.modules for e in after]
        state = fold(rec, project)
        assert len(state.modules) == N + 2, "a delta keeps the modules it does not name"
        assert state.status_for_file(str(target)) == ModuleStatus.RELOADED
        assert state.module_for_file(str(project / "pkg" / "m8.py")).version == 1
    finally:
        session.close()


def test_controller_parses_nothing_at_start_and_first_save_is_checked(tmp_path: Path) -> None:
    project = big_project(tmp_path / "proj")
    rec = Recorder()
    session = make_session(project, rec)
    try:
        rec.wait_output("ready")
        wait_until(lambda: len(fold(rec, project).modules) >= N + 2, what="every module")
        assert session.builder.parses == 0

        # The first save of a module is checked against the version the program runs:
        # a field added to a dataclass is refused before the program is told.
        target = project / "pkg" / "m3.py"
        target.write_text(target.read_text().replace("x: int = 0", "x: int = 0\n    y: int = 1"))
        rejected = rec.wait_for(ev.BuildRejected)
        assert "field 'y' added" in rejected.result.rejected[0].describe()
        assert not rec.of(ev.ReloadApplied) and not rec.of(ev.ReloadRejected)
        assert session.builder.parses <= 2, "the running version and the saved one"

        # Saved back to the running text: nothing to build, still nothing else parsed.
        target.write_text(MODULE.format(i=3).lstrip("\n"))
        other = project / "pkg" / "m4.py"
        other.write_text(other.read_text().replace("return counter", "return 2 * counter"))
        rec.wait_for(ev.ReloadApplied, lambda e: "pkg.m4" in e.result.reloaded)
        assert session.builder.parses <= 4
    finally:
        session.close()


def test_watcher_threads_are_fixed_whatever_the_number_of_folders(tmp_path: Path) -> None:
    import threading

    from hcride.controller.watcher import Watcher

    project = tmp_path / "proj"
    for i in range(80):
        write(project / f"pkg{i}" / "mod.py", "X = 1\n")
    seen: list[set[Path]] = []
    before = threading.active_count()
    watcher = Watcher(project, seen.append)
    watcher.start()
    try:
        assert len(watcher.watched_folders()) == 81
        started = threading.active_count() - before
        assert started <= 2, [t.name for t in threading.enumerate()]
        for i in range(80, 100):  # folders made while running are watched too
            write(project / f"pkg{i}" / "mod.py", "X = 1\n")
        wait_until(lambda: len(watcher.watched_folders()) == 101, what="101 watched folders")
        assert threading.active_count() - before == started
        newest = project / "pkg99" / "mod.py"
        seen.clear()
        newest.write_text("X = 2\n")
        wait_until(lambda: any(newest in batch for batch in list(seen)), what="the save")
    finally:
        watcher.stop()
    wait_until(lambda: threading.active_count() <= before, what="the watcher's threads ended")


ENGINE = "__import__('hcride.runtime.bootstrap', fromlist=['x']).get_engine()"
MODS = 40


def _many_modules() -> tuple[dict[str, str], str]:
    files = {f"lib/m{i}.py": f"VALUE = {i}\n\n\ndef value():\n    return VALUE\n"
             for i in range(MODS)}
    files["lib/__init__.py"] = ""
    prelude = "import importlib\n" + "".join(
        f"importlib.import_module('lib.m{i}')\n" for i in range(MODS)
    )
    return files, prelude


def test_polling_stats_only_the_files_that_changed(start) -> None:
    files, prelude = _many_modules()
    prog = start(files, prelude)
    assert prog.changed() is False  # the first poll looks at every module once
    stats = prog.eval(f"{ENGINE}.stats")
    for _ in range(20):
        assert prog.changed() is False
        assert prog.reload()["ok"]
    assert prog.eval(f"{ENGINE}.stats") == stats, "nothing changed: nothing stat-ed"
    prog.write("lib/m7.py", "VALUE = 7\n\n\ndef value():\n    return -VALUE\n")
    assert prog.changed() is True
    assert prog.eval(f"{ENGINE}.stats") == stats + 1, "only the saved file"
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["lib.m7"], result
    assert prog.eval("__import__('lib.m7', fromlist=['x']).value()") == -7
    for _ in range(5):
        assert prog.changed() is False
    assert prog.eval(f"{ENGINE}.stats") <= stats + 2
    # a module imported later is looked at once, then only when it changes
    prog.write("lib/late.py", "X = 1\n")
    prog.exec("import lib.late")
    prog.write("lib/late.py", "X = 1\nY = 2\n")
    assert prog.changed() is True
    assert prog.reload()["reloaded"] == ["lib.late"]


def test_a_warm_start_imports_from_the_cache_without_parsing(start, tmp_path: Path) -> None:
    files, prelude = _many_modules()
    env = {"PYTHONDONTWRITEBYTECODE": ""}  # empty: bytecode is cached, as for users
    first = start(files, prelude, env=env)
    assert first.eval(f"{ENGINE}.parses") == MODS + 1  # lib and its modules
    first.quit()
    second = start(files, prelude, env=env)
    assert second.eval(f"{ENGINE}.parses") == 0
    # the cached tables are the real ones: a reload after a warm start applies
    second.write("lib/m3.py", "VALUE = 3\n\n\ndef value():\n    return VALUE * 100\n")
    result = second.reload()
    assert result["ok"] and result["reloaded"] == ["lib.m3"], result
    assert second.eval("__import__('lib.m3', fromlist=['x']).value()") == 300
    second.quit()
    # a source changed between two runs is parsed again (invalidated like a .pyc)
    (tmp_path / "proj" / "lib" / "m5.py").write_text("VALUE = 55\n\n\ndef value():\n    return 5\n")
    files.pop("lib/m3.py")
    files.pop("lib/m5.py")
    third = start(files, prelude, env=env)
    assert third.eval(f"{ENGINE}.parses") == 2  # m3 (saved in the second run) and m5
    assert third.eval("__import__('lib.m5', fromlist=['x']).VALUE") == 55
    assert third.eval("__import__('lib.m3', fromlist=['x']).value()") == 300


MEMORY_PROBE = """
import dataclasses  # noqa: F401  (what the modules import: not theirs to count)
import sys
import tracemalloc

import lib  # the first project import makes hcride's engine: not the modules' cost

tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
import lib.all  # noqa: F401
grown = tracemalloc.get_traced_memory()[0] - before
tracemalloc.stop()
source = 0
for name, module in list(sys.modules.items()):
    if name.startswith("lib.m"):
        with open(module.__file__, "rb") as handle:
            source += len(handle.read())
print("grown", grown, "source", source, flush=True)
"""

MEMORY_MODULE = '''"""Module {i}."""
from dataclasses import dataclass

COUNT = {i}
NAMES = ["a", "b", "c"]


@dataclass
class Item{i}:
    x: int = 0
    y: int = 0

    def total(self):
        return self.x + self.y


def compute(n):
    total = 0
    for k in range(n):
        total += k * COUNT
    return total
'''


def test_the_runtime_keeps_about_the_source_text_per_module(tmp_path: Path) -> None:
    """Issue 12: the runtime's bookkeeping for N imported modules is at most twice
    their source text (it kept lines, tables and copies: ten times). Measured in the
    program with tracemalloc, next to plain python importing the same modules, both
    with their caches warm; counted bytes, not time."""
    import subprocess
    import sys

    from conftest import PROGRAM_PYTHON, launcher_cmd, program_env

    root = tmp_path / "proj"
    count = 120
    write(root / "lib" / "__init__.py", "")
    for i in range(count):
        write(root / "lib" / f"m{i}.py", MEMORY_MODULE.format(i=i))
    write(root / "lib" / "all.py", "".join(f"import lib.m{i}\n" for i in range(count)))
    write(root / "main.py", MEMORY_PROBE)
    env = program_env()
    env["PYTHONDONTWRITEBYTECODE"] = ""  # caches on, as for users

    def measure(cmd: list[str]) -> tuple[int, int]:
        out = ""
        for _ in range(2):  # the first run writes the caches
            proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True,
                                  timeout=120)
            assert proc.returncode == 0, proc.stderr
            out = proc.stdout
        values = out.split()
        return int(values[1]), int(values[3])

    plain, source = measure([PROGRAM_PYTHON, str(root / "main.py")])
    ours, _ = measure(launcher_cmd(root))
    assert source > count * 250
    extra = ours - plain
    assert extra <= 2 * source, (
        f"{extra} bytes of bookkeeping for {source} bytes of source ({extra / source:.1f}x);"
        f" {sys.version_info[:2]}"
    )


PAUSE_OPCODES = """
import sys
from hcride.runtime.bootstrap import get_engine

def _count(frame, event, arg):
    frame.f_trace_opcodes = True
    if event == "opcode":
        _counter[0] += 1
    return _count

_engine = get_engine()
assert _engine.has_any_module_changed()  # the save is seen (and staged) here
_counter = [0]
sys.settrace(_count)
_r = _engine.reload()
sys.settrace(None)
assert _r.ok and _r.reloaded == [_name], _r.summary()
_result = _counter[0]
"""


def _long_module(functions: int, variant: int) -> str:
    body = "".join(
        f"STATE_{i} = [{i}]\n\n\ndef func_{i}(a):\n    return a + {i}\n\n\n"
        for i in range(1, functions)
    )
    return f"import math\n\n\ndef func_0(a):\n    return a * {variant}\n\n\n{body}"


def test_the_pause_of_a_one_function_change_does_not_grow_with_the_module(start) -> None:
    """Issue 12: the reload's pause costs what changed. Counted in bytecodes the
    program runs inside perform_code_reload() (staging is done when the save is seen),
    for one function changed in a module of 200 and of 4,000 definitions: the same
    work, where every step that walked the module's statements made it 20 times more."""
    small, big = _long_module(100, 1), _long_module(2000, 1)
    prog = start({"small.py": small, "big.py": big}, "import small, big")
    counts = {}
    for name, text in (("small", small), ("big", big)):
        for variant in (2, 3):  # the second reload is the one counted
            prog.write(f"{name}.py", text.replace("a * 1", f"a * {variant}"))
            counts[name] = prog.exec(f"_name = {name!r}\n" + PAUSE_OPCODES)
        assert prog.eval(f"{name}.func_0(2)") == 6
    assert counts["big"] <= counts["small"] * 1.1 + 50, counts


def _reference_order(names: list[str], deps: dict[str, set[str]]) -> list[str]:
    """The former quadratic-to-cubic loop, kept as the specification."""
    done: list[str] = []
    remaining = list(names)
    while remaining:
        ready = [n for n in remaining if not deps[n] - set(done)] or remaining[:1]
        done.append(ready[0])
        remaining.remove(ready[0])
    return done


def test_dependency_order_matches_the_specification_on_random_graphs() -> None:
    import random

    from hcride.runtime.engine import order_by_dependencies

    rng = random.Random(12)
    for size in (0, 1, 2, 5, 30, 120):
        for _ in range(30):
            names = [f"m{i}" for i in range(size)]
            deps = {n: {rng.choice(names) for _ in range(rng.randint(0, 3))} - {n} for n in names}
            assert order_by_dependencies(names, deps) == _reference_order(names, deps)


def test_dependency_order_of_a_long_chain_is_linear_work() -> None:
    from hcride.runtime.engine import order_by_dependencies

    names = [f"m{i}" for i in range(20_000)]  # each imports the next: reverse order
    deps = {n: {names[i + 1]} for i, n in enumerate(names[:-1])}
    deps[names[-1]] = set()
    assert order_by_dependencies(names, deps) == names[::-1]


def test_polling_still_sees_changes_after_a_watched_folder_went_away(start) -> None:
    files, prelude = _many_modules()
    files["gone/__init__.py"] = ""
    files["gone/mod.py"] = "X = 1\n"
    prog = start(files, prelude + "import gone.mod\n")
    assert prog.changed() is False
    shutil.rmtree(prog.root / "gone")
    prog.write("lib/m2.py", "VALUE = 2\n\n\ndef value():\n    return 22\n")
    assert prog.changed() is True
    result = prog.reload()
    assert "lib.m2" in result["reloaded"], result
    assert any(r["module"] == "gone.mod" for r in result["rejected"]), result
    prog.write("lib/m4.py", "VALUE = 4\n\n\ndef value():\n    return 44\n")
    assert prog.changed() is True  # every file is looked at now: still seen
    assert "lib.m4" in prog.reload()["reloaded"]


BATCH_COUNTS = """
import sys
from hcride.runtime import patching
_compiled = []
sys.addaudithook(lambda event, args: _compiled.append(str(args[1]))
                 if event == "compile" else None)
_applies = []
_prepared = patching.UndoLog._prepared
def _counting(self):
    _applies.append(1)
    return _prepared(self)
patching.UndoLog._prepared = _counting
"""


def test_a_batch_compiles_each_changed_function_once_and_applies_in_one_step(start) -> None:
    """Issue 12: a batch of many modules costs what changed in each. Counted: the
    compilations of the batch's files (the changed def of each; the imports that run
    again are read from the modules already imported), and the steps the batch's
    changes are made in: one, although every module defines a function of the same
    name (each module's def counted as a use of the previous module's pending one, so
    a batch of 1,000 was applied in 1,000 steps)."""
    n = 20
    text = ("import os\nimport json\nfrom collections import OrderedDict\n\n\n"
            "def compute(k):\n    return k * {}\n")
    files = {f"m{i}.py": text.format(1) for i in range(n)}
    imports = "\n".join(f"import m{i}" for i in range(n))
    prog = start(files, imports + "\n" + BATCH_COUNTS)
    prog.exec("_compiled.clear(); _applies.clear()")
    for i in range(n):
        prog.write(f"m{i}.py", text.format(2))
    result = prog.reload()
    assert result["ok"] and len(result["reloaded"]) == n, result
    assert prog.eval("[m0.compute(1), m19.compute(1)]") == [2, 2]
    compiled = [c for c in prog.eval("_compiled") if c.endswith(".py") and "/m" in c]
    assert len(compiled) <= n, compiled  # one per changed def (from its text)
    assert prog.eval("len(_applies)") == 1
