"""The runtime's start-up costs nothing until the program imports a project module
(issue 12: fixed cost of ``hcride run``): the engine (and ``ast``, ``dataclasses``,
``typing``...) is not imported by a program that imports no project module; the first
project import makes it, with everything a start under the engine had: reloads of what
ran, the main script's digest of the bytes that ran, the mode, ``--events``, the
``hcride:`` lines, modules imported before it adopted, one engine for every thread."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    DRIVER,
    PROGRAM_PYTHON,
    TIMEOUT,
    dedent,
    hcride_cmd,
    launcher_cmd,
    program_env,
    write_project,
)

from hcride.runtime.engine import Engine
from hcride.runtime.projectfiles import HCRIDE_ROOT, ProjectFiles

HEAVY = {
    "hcride.runtime.engine", "hcride.analysis", "hcride.runtime.report",
    "hcride.runtime.watchdog", "ast", "dataclasses", "typing", "json", "argparse",
    "pathlib", "traceback", "linecache", "tokenize", "inspect", "threading", "hashlib",
    "gettext", "locale", "shutil",
}
"""Modules ``hcride run`` must not add to an empty program (unless ``python -m`` itself
loads them at start, as an editable install's path hook loads ``pathlib``)."""
BOOT = {"hcride", "hcride.runtime", "hcride.runtime.bootstrap", "hcride.runtime.projectfiles",
        "hcride.runtime.launcher"}
SHOW = "import sys\nprint(sorted(sys.modules))\n"

LAZY_DRIVER = DRIVER.replace("from hcride import hotcodereloading as hcr\n", "")
"""The test driver without the API: the engine is made by the first project import."""
ENGINE_LOADED = "'hcride.runtime.engine' in __import__('sys').modules"


def lazy_main(prelude: str = "") -> str:
    return LAZY_DRIVER.format(before_api="", prelude=dedent(prelude))


def loaded(cmd: list[str], cwd: Path) -> set[str]:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                          env=program_env())
    assert proc.returncode == 0, proc.stderr
    return set(ast.literal_eval(proc.stdout.splitlines()[-1]))


def test_hcride_run_of_a_program_without_project_imports_loads_no_engine(tmp_path: Path) -> None:
    write_project(tmp_path, {"main.py": SHOW, "logic.py": "X = 1\n"})
    plain = loaded([sys.executable, "-m", "main"], tmp_path)  # -m: runpy's imports too
    under = loaded(hcride_cmd(str(tmp_path / "main.py")), tmp_path)
    added = under - plain
    assert {m for m in added if m.startswith("hcride")} == BOOT | {"hcride.cli",
                                                                   "hcride.programs"}, added
    assert not added & HEAVY, sorted(added & HEAVY)
    # The same with options and the program's own arguments.
    events = tmp_path / "events.jsonl"
    under = loaded(hcride_cmd("--mode", "manual", f"--events={events}", "--project",
                              str(tmp_path), str(tmp_path / "main.py"), "-x", "a"), tmp_path)
    assert not (under - plain) & HEAVY, sorted((under - plain) & HEAVY)
    assert events.exists() and events.read_text() == ""  # opened at start, as before


def test_the_launcher_alone_loads_no_engine(tmp_path: Path) -> None:
    """``python -m hcride.runtime`` (what the IDE starts), on the program's interpreter;
    it reads its command line with argparse."""
    with_argparse = ("import argparse\n_p = argparse.ArgumentParser()\n"
                     "_p.add_argument('--project')\n_p.parse_args(['--project', '.'])\n")
    write_project(tmp_path, {"main.py": SHOW, "with_argparse.py": with_argparse + SHOW})
    plain = loaded([PROGRAM_PYTHON, "-m", "main"], tmp_path)
    # What argparse itself loads to parse is not the launcher's doing (3.14's argparse
    # colours its help: a parser loads dataclasses, inspect, shutil...).
    plain |= loaded([PROGRAM_PYTHON, "-m", "with_argparse"], tmp_path)
    under = loaded(launcher_cmd(tmp_path), tmp_path)
    added = under - plain
    assert {m for m in added if m.startswith("hcride")} == BOOT, added
    assert not added & (HEAVY - {"argparse", "gettext", "locale", "shutil"}), added


def test_the_first_project_import_makes_the_engine_and_reloads_apply(start, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    proj = tmp_path / "proj"
    prog = start({"main.py": lazy_main(), "logic.py": "def f():\n    return 1\n"},
                 cmd=launcher_cmd(proj, extra=("--events", str(events))))
    assert prog.eval(ENGINE_LOADED) is False
    prog.exec("import logic")
    assert prog.eval(ENGINE_LOADED) is True
    threads = "[t.name for t in __import__('threading').enumerate()]"
    assert "hcride-watchdog" in prog.eval(threads)  # attached when the engine was made
    # Saved after the import, before the program uses the API: the engine knows the
    # version that runs, so this is a change to apply.
    prog.write("logic.py", "def f():\n    return 2\n")
    prog.exec("from hcride import hotcodereloading as hcr")
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["logic"], result
    assert prog.eval("logic.f()") == 2
    assert prog.modules()["logic"]["version"] == 2
    prog.wait_stderr("hcride: reloaded logic v2")
    [record] = [json.loads(line) for line in events.read_text().splitlines()]
    assert record["event"] == "reload_applied" and record["result"]["reloaded"] == ["logic"]
    finders = "[type(f).__module__ for f in __import__('sys').meta_path]"
    assert [m for m in prog.eval(finders) if m.startswith("hcride")] == ["hcride.runtime.engine"]


def test_the_main_scripts_digest_is_of_the_bytes_that_ran(start) -> None:
    """The main script saved before the engine exists is still "restart needed"."""
    prog = start({"main.py": lazy_main(), "logic.py": "X = 1\n"})
    prog.eval("1")
    main = prog.root / "main.py"
    main.write_text(main.read_text() + "\n# saved before any project import\n")
    prog.exec("import logic\nfrom hcride import hotcodereloading as hcr")
    result = prog.reload()
    assert result["restart_needed"] == [str(main)], result
    prog.wait_stderr("restart needed")
    assert prog.modules()["__main__"]["state"] == "restart_needed"


def test_modules_imported_around_the_import_system_are_adopted(start) -> None:
    """A project module the light finder never saw (loaded from its file by hand) is
    tracked once the engine is made, by the API here."""
    prog = start({"main.py": lazy_main(), "side.py": "def f():\n    return 1\n"})
    prog.exec("""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("side", "side.py")
        side = importlib.util.module_from_spec(spec)
        sys.modules["side"] = side
        spec.loader.exec_module(side)
    """)
    assert prog.eval(ENGINE_LOADED) is False
    prog.exec("from hcride import hotcodereloading as hcr")
    assert "side" in prog.modules()
    prog.write("side.py", "def f():\n    return 2\n")
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["side"], result
    assert prog.eval("side.f()") == 2


def test_threads_importing_project_modules_at_once_share_one_engine(start) -> None:
    files = {f"lib/m{i}.py": f"def f():\n    return {i}\n" for i in range(8)}
    files["lib/__init__.py"] = ""
    files["main.py"] = lazy_main()
    prog = start(files)
    prog.exec("""
        import importlib, threading
        barrier = threading.Barrier(8)

        def work(i):
            barrier.wait()
            importlib.import_module(f"lib.m{i}")

        workers = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        from hcride import hotcodereloading as hcr
    """)
    modules = prog.modules()
    assert {f"lib.m{i}" for i in range(8)} <= set(modules), modules
    finders = "[type(f).__module__ for f in __import__('sys').meta_path]"
    assert [m for m in prog.eval(finders) if m.startswith("hcride")] == ["hcride.runtime.engine"]
    prog.write("lib/m3.py", "def f():\n    return -3\n")
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["lib.m3"], result
    assert prog.eval("__import__('lib.m3', fromlist=['x']).f()") == -3


@pytest.mark.parametrize("mode", ["auto", "manual", "detect"])
def test_the_engine_made_later_has_the_mode_asked_for(start, mode: str) -> None:
    prog = start({"main.py": lazy_main(), "logic.py": "X = 1\n"}, extra=("--mode", mode))
    prog.exec("import logic")
    engine = "__import__('hcride.runtime.bootstrap', fromlist=['x']).get_engine()"
    assert prog.eval(f"[{engine}.mode, {engine}.resolved_mode()]") == [
        mode, "auto" if mode == "detect" else mode,
    ]


def test_a_project_module_that_raises_at_import_fails_as_under_python(tmp_path: Path) -> None:
    write_project(tmp_path, {"main.py": "import logic\n",
                             "logic.py": "def fail():\n    raise ValueError('boom')\n\n\nfail()\n"})
    under = subprocess.run(hcride_cmd(str(tmp_path / "main.py")), cwd=tmp_path,
                           capture_output=True, text=True, timeout=TIMEOUT, env=program_env())
    plain = subprocess.run([sys.executable, str(tmp_path / "main.py")], cwd=tmp_path,
                           capture_output=True, text=True, timeout=TIMEOUT, env=program_env())
    assert under.returncode == plain.returncode == 1
    assert under.stderr == plain.stderr and "ValueError: boom" in under.stderr


def test_project_files_rules(tmp_path: Path) -> None:
    """Which files are reloadable: the rules the light finder and the engine share."""
    project = tmp_path / "proj"
    write_project(project, {
        "main.py": "", "logic.py": "", "pkg/sub.py": "", "notes.txt": "",
        ".hidden/h.py": "", "site-packages/s.py": "", "a/dist-packages/d.py": "",
        "__pypackages__/p.py": "", "env/pyvenv.cfg": "", "env/lib/e.py": "",
        "deep/er/ok.py": "",
    })
    write_project(tmp_path, {"outside.py": ""})
    (project / "to_outside.py").symlink_to(tmp_path / "outside.py")
    (project / "to_logic.py").symlink_to(project / "logic.py")
    (project / "linked").symlink_to(project / "pkg", target_is_directory=True)
    (tmp_path / "link_in").symlink_to(project / "logic.py")
    files = ProjectFiles(str(project), str(project / "main.py"))
    engine = Engine(project, project / "main.py")
    expected = {
        "logic.py": str(project / "logic.py"),
        "pkg/sub.py": str(project / "pkg" / "sub.py"),
        "deep/er/ok.py": str(project / "deep" / "er" / "ok.py"),
        "linked/sub.py": str(project / "pkg" / "sub.py"),
        "to_logic.py": str(project / "logic.py"),
        "main.py": None, "notes.txt": None, ".hidden/h.py": None, "site-packages/s.py": None,
        "a/dist-packages/d.py": None, "__pypackages__/p.py": None, "env/lib/e.py": None,
        "to_outside.py": None,
    }
    for rel, want in expected.items():
        origin = str(project / rel)
        assert files.origin(origin) == want, rel
        assert engine.reloadable_origin(origin) == want, rel
        assert files.is_reloadable_file(origin) is (want is not None), rel
        assert engine.is_reloadable_file(Path(origin)) is (want is not None), rel
    assert files.origin(str(tmp_path / "outside.py")) is None
    assert files.is_reloadable_file(str(tmp_path / "link_in")) is True  # judged by its target
    hcride_file = os.path.join(HCRIDE_ROOT, "runtime", "bootstrap.py")
    assert ProjectFiles(os.path.dirname(HCRIDE_ROOT)).origin(hcride_file) is None
    assert ProjectFiles(os.path.dirname(HCRIDE_ROOT)).is_reloadable_file(hcride_file) is False


MACHINERY = {"hcride.runtime.commit", "hcride.runtime.plan", "hcride.runtime.patching",
             "hcride.runtime.finder", "hcride.runtime.imports", "hcride.analysis.incremental"}


def test_the_reload_machinery_is_loaded_at_the_first_save(start) -> None:
    """A program that is never edited does not pay for committing reloads (0.3 MB of
    code objects and a few ms at start): the engine loads it when a save is staged."""
    prog = start({"logic.py": "def f():\n    return 1\n"}, "import logic")
    loaded = "sorted(m for m in __import__('sys').modules if m.startswith('hcride'))"
    assert not MACHINERY & set(prog.eval(loaded))
    prog.write("logic.py", "def f():\n    return 2\n")
    assert prog.reload()["ok"]
    assert prog.eval("logic.f()") == 2
    assert MACHINERY <= set(prog.eval(loaded))


def test_a_program_that_polls_loads_the_machinery_at_its_first_poll(start) -> None:
    """(Not in the first reload's pause: the seed's loop polls every frame.)"""
    prog = start({"logic.py": "def f():\n    return 1\n"}, "import logic")
    loaded = "sorted(m for m in __import__('sys').modules if m.startswith('hcride'))"
    assert prog.changed() is False
    assert MACHINERY <= set(prog.eval(loaded))
