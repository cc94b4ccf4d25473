"""``hcride run -m MODULE [ARGS...]``: a module run as ``python -m MODULE`` runs it, with
and without ``--watch``, on hcride's interpreter or the project's ``.venv``.

What the program sees is what ``python -m`` gives it (compared line by line with a
real ``python -m``): ``sys.argv[0]`` the module's file, ``__spec__`` naming the module
(so the relative imports of a package's ``__main__.py`` or ``pkg/cli.py`` work), the
current folder first on ``sys.path``. The module run as ``__main__`` is not reloadable
(a save of it says "restart needed"); the package's ``__init__`` and the modules it
imports are.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import TIMEOUT, write_project
from helpers_cli_run import CliRun, after_first_line
from helpers_session import write

from hcride.controller.interpreter import hcride_root

SHOW = """
    import sys

    from . import util
    from .util import fmt

    print("name", __name__, __spec__.name, __package__)
    print("argv", sys.argv)
    print("file", __file__)
    print("path0", sys.path[0])
    print("util", util.fmt(1), fmt(2), util.__name__)
    print("main", sys.modules["__main__"].__dict__ is globals())
"""

PACKAGE = {
    "app/__init__.py": "",
    "app/util.py": "def fmt(x):\n    return f'<{x}> v1'\n",
    "app/main.py": SHOW,
    "app/__main__.py": """
        from . import util
        print("package main", __name__, __spec__.name, util.fmt(3))
    """,
}


def env() -> dict[str, str]:
    """Ours, with this checkout's hcride importable (``python -m hcride``)."""
    path = os.pathsep.join(p for p in (str(hcride_root()), os.environ.get("PYTHONPATH", ""))
                           if p)
    return dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=path)


def run(cmd: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env(), input=stdin, capture_output=True,
                          text=True, timeout=TIMEOUT)


def hcride(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "hcride", "run", *args], cwd, stdin)


def make_venv(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder / ".venv")],
                   check=True, timeout=TIMEOUT)
    return folder / ".venv" / "bin" / "python"


def test_a_module_runs_as_python_m_runs_it(tmp_path: Path) -> None:
    """Same output as ``python -m app.main ARGS`` (options after the module are the
    program's, ``--watch`` included, as python's own are), with and without a
    controller; a package runs its ``__main__.py``."""
    write_project(tmp_path, PACKAGE)
    args = ["a", "--flag", "--watch"]
    python = run([sys.executable, "-m", "app.main", *args], tmp_path)
    assert python.returncode == 0, python.stderr
    main = tmp_path / "app" / "main.py"
    assert python.stdout.splitlines() == [
        "name __main__ app.main app",
        f"argv {[str(main), *args]}",
        f"file {main}",
        f"path0 {tmp_path}",
        "util <1> v1 <2> v1 app.util",
        "main True",
    ], python.stdout
    for options in ((), ("--watch",), ("--mode", "auto"), ("--python", sys.executable)):
        proc = hcride(*options, "-m", "app.main", *args, cwd=tmp_path)
        assert proc.returncode == 0, (options, proc.stderr)
        assert proc.stdout == python.stdout, (options, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr, proc.stderr
    python = run([sys.executable, "-m", "app"], tmp_path)
    assert python.stdout == "package main __main__ app.__main__ <3> v1\n", python.stderr
    for options in ((), ("--watch",)):
        proc = hcride(*options, "-m", "app", cwd=tmp_path)
        assert (proc.returncode, proc.stdout) == (0, python.stdout), (options, proc.stderr)


def test_a_module_from_the_interpreter_runs_too(tmp_path: Path) -> None:
    """``-m json.tool``: a module of the standard library, not of the project; its
    exit code is its own."""
    for options in ((), ("--watch",)):
        proc = hcride(*options, "-m", "json.tool", cwd=tmp_path, stdin='{"a": [1]}')
        assert proc.returncode == 0, (options, proc.stderr)
        assert proc.stdout == '{\n    "a": [\n        1\n    ]\n}\n', (options, proc.stdout)
        proc = hcride(*options, "-m", "json.tool", cwd=tmp_path, stdin="{nope")
        assert proc.returncode == 1 and "Expecting property name" in proc.stderr, proc.stderr


LOOP = """
    import sys
    import time

    import app
    from . import util

    print("prefix", sys.prefix, flush=True)
    last = None
    while True:
        text = util.fmt(1) + " | " + app.name()
        if text != last:
            print(text, flush=True)
            last = text
        time.sleep(0.05)
"""


def test_watch_reloads_what_the_module_imports_and_not_the_module(tmp_path: Path) -> None:
    """Under ``--watch`` on the project's ``.venv``: a save of a module the ``-m``
    module imports is applied, so is one of the package's ``__init__``; a save of the
    module itself is "restart needed", as for a main script."""
    write_project(tmp_path, {
        "app/__init__.py": "def name():\n    return 'init v1'\n",
        "app/util.py": "def fmt(x):\n    return f'<{x}> v1'\n",
        "app/main.py": LOOP,
    })
    make_venv(tmp_path)
    run_ = CliRun(["-m", "app.main"], cwd=tmp_path)
    try:
        run_.wait_line(f"prefix {tmp_path / '.venv'}")
        run_.wait_line("<1> v1 | init v1")
        run_.wait_line("connected")
        mark = len(run_.lines)
        write(tmp_path / "app" / "util.py", "def fmt(x):\n    return f'<{x}> v2'\n")
        assert "reloaded app.util v2" in run_.wait_line("reloaded", mark)
        run_.wait_line("<1> v2 | init v1", mark)
        mark = len(run_.lines)
        write(tmp_path / "app" / "__init__.py", "def name():\n    return 'init v2'\n")
        assert "reloaded app v2" in run_.wait_line("reloaded", mark)
        run_.wait_line("<1> v2 | init v2", mark)
        mark = len(run_.lines)
        (tmp_path / "app" / "main.py").write_text(LOOP.replace("0.05", "0.06"))
        line = run_.wait_line("restart needed", mark)
        assert str((tmp_path / "app" / "main.py").resolve()) in line, line
    finally:
        out = run_.stop()
    assert "Traceback" not in out, out


POLLING = """
    import sys
    import time

    from hcride import hotcodereloading as hcr

    from . import helper

    print("prefix", sys.prefix, sys.argv[1:], flush=True)
    while True:
        hcr.perform_code_reload()
        if helper.value() != "v1":
            print("value", helper.value(), flush=True)
            break
        time.sleep(0.05)
"""


def test_without_watch_on_the_projects_venv_the_program_polls(tmp_path: Path) -> None:
    """Without a controller, on the project's ``.venv`` (found, or given with
    ``--python``): the interpreter runs the module itself and applies the save when
    it polls."""
    python = make_venv(tmp_path)
    write_project(tmp_path, {"app/__init__.py": "", "app/main.py": POLLING})
    for options in ((), ("--python", str(python))):
        (tmp_path / "app" / "helper.py").write_text("def value():\n    return 'v1'\n")
        first, out, err, code = after_first_line(
            [sys.executable, "-m", "hcride", "run", *options, "-m", "app.main", "x"],
            tmp_path, env(),
            lambda: (tmp_path / "app" / "helper.py").write_text(
                "def value():\n    return 'v2'\n"),
        )  # fmt: skip
        assert first == f"prefix {tmp_path / '.venv'} ['x']\n", (first, err, options)
        assert out == "value v2\n" and code == 0, (out, err, options)
        assert "hcride: reloaded app.helper v2" in err, err


def test_project_option_with_a_src_layout(tmp_path: Path) -> None:
    """``cd src; hcride run --watch --project .. -m app.main``: the module is found
    from the current folder, as python -m finds it, and the project given is watched."""
    project = tmp_path / "proj"
    write_project(project / "src", {
        "app/__init__.py": "def name():\n    return 'init v1'\n",
        "app/util.py": "def fmt(x):\n    return f'<{x}> v1'\n",
        "app/main.py": LOOP,
    })
    run_ = CliRun(["-m", "app.main"], "--project", "..", cwd=project / "src")
    try:
        run_.wait_line("<1> v1 | init v1")
        run_.wait_line("connected")
        mark = len(run_.lines)
        write(project / "src" / "app" / "util.py", "def fmt(x):\n    return f'<{x}> v2'\n")
        assert "reloaded app.util v2" in run_.wait_line("reloaded", mark)
        run_.wait_line("<1> v2 | init v1", mark)
    finally:
        out = run_.stop()
    assert "Traceback" not in out, out


def one_line_usage_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "", proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hcride: "), proc.stderr
    return lines[0]


def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    write_project(tmp_path, {**PACKAGE, "lib/__init__.py": "", "lib/x.py": "",
                             "tool.py": "print('ran')\n"})
    (tmp_path / "app" / "__main__.py").unlink()
    for options in ((), ("--watch",)):
        line = one_line_usage_error(hcride(*options, "-m", cwd=tmp_path))
        assert "-m MODULE" in line, line
        line = one_line_usage_error(hcride(*options, "-m", "nope", "x", cwd=tmp_path))
        assert "no module named 'nope'" in line, line
        line = one_line_usage_error(hcride(*options, "-m", "app.nope", cwd=tmp_path))
        assert "no module named 'app.nope'" in line, line
        line = one_line_usage_error(hcride(*options, "-m", "tool.x", cwd=tmp_path))
        assert "no module named 'tool.x'" in line and "not a package" in line, line
        line = one_line_usage_error(hcride(*options, "-m", "lib", cwd=tmp_path))
        assert "lib is a package" in line and "__main__" in line, line
        line = one_line_usage_error(hcride(*options, "-m", ".app", cwd=tmp_path))
        assert "relative" in line, line
    make_venv(tmp_path)  # the module is looked for by the program's interpreter
    for options in ((), ("--watch",)):
        line = one_line_usage_error(hcride(*options, "-m", "nope", cwd=tmp_path))
        assert "no module named 'nope'" in line, line
        proc = hcride(*options, "-m", "tool", cwd=tmp_path)
        assert (proc.returncode, proc.stdout) == (0, "ran\n"), proc.stderr


def test_help_names_the_module_form(tmp_path: Path) -> None:
    proc = run([sys.executable, "-m", "hcride", "--help", "run"], tmp_path)
    assert "-m MODULE" in proc.stdout and "python -m" in proc.stdout, proc.stdout
    proc = run([sys.executable, "-m", "hcride", "--help"], tmp_path)
    assert "-m MODULE" in proc.stdout, proc.stdout
