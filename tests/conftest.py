"""Shared test harness.

The runtime tests start a REAL program in a REAL subprocess, edit REAL files and drive
the program over its stdin: the program's main script (``DRIVER``) reads one JSON
command per line (``reload``, ``changed``, ``eval``, ``exec``, ``quit``), runs it and
answers with one JSON line prefixed ``@@`` on stdout. Everything else the program
prints is collected (``Program.output``, ``Program.stderr``). Every wait has a
timeout: a hung program fails the test instead of hanging the suite.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import functools  # noqa: E402
import json  # noqa: E402
import queue  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from hcride.controller.session import Session  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PROGRAM_PYTHON = os.environ.get("HCR_PYTHON") or sys.executable
"""The interpreter the programs under test run on (``HCR_PYTHON``: another CPython, with
nothing installed; the runtime reaches it through ``PYTHONPATH``, as under the IDE)."""
TIMEOUT = 60.0
"""Seconds to wait for one answer from a program (machines are noisy)."""
PROGRAM_FRAMEWORKS = "flask sqlalchemy aiohttp pygame-ce 'PySide6-Essentials>=6.11,<6.12'"
"""What the tests' programs import, as ``pip install`` names (``.ci/run`` puts them in
each other CPython's venv)."""


@functools.cache
def _missing_on_program(names: tuple[str, ...]) -> tuple[str, ...]:
    code = ("import importlib.util, sys; "
            "print(' '.join(n for n in sys.argv[1:] if importlib.util.find_spec(n) is None))")
    done = subprocess.run([PROGRAM_PYTHON, "-c", code, *names], capture_output=True,
                          text=True, timeout=TIMEOUT, check=True)
    return tuple(done.stdout.split())


def require_on_program(*modules: str) -> None:
    """Fail at once, naming them, when the program's interpreter (``HCR_PYTHON``) cannot
    import a framework the test's program imports (instead of a timeout later on)."""
    missing = _missing_on_program(modules)
    if missing:
        pytest.fail(f"the program's interpreter {PROGRAM_PYTHON} cannot import "
                    f"{', '.join(missing)}: pip install {PROGRAM_FRAMEWORKS} there")

DRIVER = '''\
import json as _json
import sys as _sys
import traceback as _traceback

{before_api}
from hcride import hotcodereloading as hcr
{prelude}


def _answer(obj):
    _sys.stdout.write("@@" + _json.dumps(obj, default=repr) + "\\n")
    _sys.stdout.flush()


def _main():
    for _line in _sys.stdin:
        if not _line.strip():
            continue
        _cmd = _json.loads(_line)
        _op = _cmd["op"]
        try:
            if _op == "reload":
                _answer({{"ok": True, "value": hcr.perform_code_reload().to_dict()}})
            elif _op == "changed":
                _answer({{"ok": True, "value": hcr.has_any_module_changed()}})
            elif _op == "eval":
                _answer({{"ok": True, "value": eval(_cmd["expr"], globals())}})
            elif _op == "exec":
                globals()["_result"] = None
                exec(_cmd["code"], globals())
                _answer({{"ok": True, "value": globals().get("_result")}})
            elif _op == "quit":
                _answer({{"ok": True, "value": None}})
                return
        except Exception:
            _answer({{"ok": False, "error": _traceback.format_exc()}})


_main()
'''


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def program_env() -> dict[str, str]:
    """Our environment with the checkout first on ``PYTHONPATH`` (for ``PROGRAM_PYTHON``)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


class ProgramError(AssertionError):
    pass


class Program:
    """A running program under test, with its project folder."""

    def __init__(self, root: Path, cmd: list[str], env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.root = root
        self.cmd = cmd
        self.output: list[str] = []
        self.stderr_lines: list[str] = []
        self._answers: queue.Queue[str | None] = queue.Queue()
        full_env = dict(os.environ)
        full_env["PYTHONUNBUFFERED"] = "1"
        full_env.pop("HCRIDE_IPC", None)
        full_env["PYTHONPATH"] = program_env()["PYTHONPATH"]
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            cmd,
            cwd=str(cwd or root),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=full_env,
        )
        self._out_thread = threading.Thread(target=self._read_stdout, daemon=True)
        self._err_thread = threading.Thread(target=self._read_stderr, daemon=True)
        self._out_thread.start()
        self._err_thread.start()

    # -------------------------------------------------------------- plumbing

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("@@"):
                self._answers.put(line[2:])
            else:
                self.output.append(line.rstrip("\n"))
        self._answers.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    @property
    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)

    def request(self, op: str, **fields: Any) -> Any:
        """Send one command; return its value, or raise with the program's traceback."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise ProgramError(f"program is gone ({exc}); stderr:\n{self.stderr}") from None
        try:
            line = self._answers.get(timeout=TIMEOUT)
        except queue.Empty:
            raise ProgramError(f"no answer to {op} in {TIMEOUT}s; stderr:\n{self.stderr}") from None
        if line is None:
            self.proc.wait(timeout=TIMEOUT)
            self._err_thread.join(timeout=5)
            raise ProgramError(
                f"program exited ({self.proc.returncode}) during {op}; stderr:\n{self.stderr}"
            )
        answer = json.loads(line)
        if not answer["ok"]:
            raise ProgramError(f"{op} {fields} raised in the program:\n{answer['error']}")
        return answer["value"]

    def reload(self) -> dict[str, Any]:
        """``perform_code_reload()`` in the program: the ReloadResult as a dict."""
        return self.request("reload")

    def changed(self) -> bool:
        """``has_any_module_changed()`` in the program."""
        return self.request("changed")

    def eval(self, expr: str) -> Any:
        return self.request("eval", expr=expr)

    def exec(self, code: str) -> Any:
        """Run statements in the main script's namespace; returns ``_result``."""
        return self.request("exec", code=dedent(code))

    def write(self, rel: str, text: str) -> Path:
        """Save a file of the project, like an editor would."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text), encoding="utf-8")
        return path

    def modules(self) -> dict[str, dict[str, Any]]:
        """The engine's view of the modules, by name."""
        infos = self.eval(
            "__import__('hcride.runtime.bootstrap', fromlist=['x']).get_engine().module_infos()"
        )
        return {m["name"]: m for m in infos}

    def wait_stderr(self, needle: str) -> str:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if needle in self.stderr:
                return self.stderr
            time.sleep(0.02)
        raise ProgramError(f"{needle!r} never appeared on stderr:\n{self.stderr}")

    def quit(self) -> int:
        """Ask the driver to return; the program's exit code."""
        if self.proc.poll() is None:
            try:
                self.request("quit")
            except ProgramError:
                pass
        return self.wait()

    def wait(self) -> int:
        try:
            code = self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=TIMEOUT)
        self._out_thread.join(timeout=5)
        self._err_thread.join(timeout=5)
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=TIMEOUT)
        for stream in (self.proc.stdout, self.proc.stderr, self.proc.stdin):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


def write_project(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text), encoding="utf-8")


def driver_source(prelude: str = "", before_api: str = "") -> str:
    return DRIVER.format(prelude=dedent(prelude), before_api=dedent(before_api))


def launcher_cmd(root: Path, script: str = "main.py", *args: str,
                 extra: tuple[str, ...] = ()) -> list[str]:
    return [PROGRAM_PYTHON, "-m", "hcride.runtime", "--project", str(root), *extra, "--",
            str(root / script), *args]


def hcride_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "hcride", "run", *args]


Start = Callable[..., Program]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """``start(files, prelude=..., ...)`` writes a project into ``tmp_path/proj`` (the
    driver as ``main.py`` unless ``files`` has one) and runs it under the runtime."""
    programs: list[Program] = []

    def _start(
        files: dict[str, str] | None = None,
        prelude: str = "",
        *,
        before_api: str = "",
        args: tuple[str, ...] = (),
        extra: tuple[str, ...] = (),
        plain: bool = False,
        cmd: list[str] | None = None,
        env: dict[str, str] | None = None,
        root: Path | None = None,
    ) -> Program:
        proj = root or tmp_path / "proj"
        proj.mkdir(parents=True, exist_ok=True)
        files = dict(files or {})
        driven = "main.py" not in files
        files.setdefault("main.py", driver_source(prelude, before_api))
        write_project(proj, files)
        if cmd is None:
            if plain:
                cmd = [PROGRAM_PYTHON, str(proj / "main.py"), *args]
            else:
                cmd = launcher_cmd(proj, "main.py", *args, extra=extra)
        program = Program(proj, cmd, env=env)
        programs.append(program)
        if driven:  # the project is loaded: edits from now on are edits of a running program
            program.eval("1")
        return program

    yield _start
    for program in programs:
        program.close()


@pytest.fixture
def sessions() -> Iterator[list[Session]]:
    """Controller sessions a test made; closed (program stopped) after it."""
    made: list[Session] = []
    yield made
    for session in made:
        session.close()
