"""Where a program runs: the interpreter that has its packages, and the file that
``python -m MODULE`` runs in it. Shared by the CLI and the IDE's run configuration;
standard library only, and light (``hcride run`` loads it into the program's process).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # (typing, pathlib: not loaded into the program by ``hcride run``)
    from collections.abc import Mapping
    from pathlib import Path


_PROBE = """import sys
from hcride.runtime.launcher import find_module
try:
    print("found", find_module(sys.argv[1]))
except LookupError as exc:
    print("error", exc)
"""


def find_program_module(module: str, project: Path, python: str | None,
                        cwd: Path | None = None,
                        env: Mapping[str, str] | None = None) -> Path:
    """The file ``python -m MODULE`` runs in the program, looked for by the program's
    interpreter (``launcher.find_module``: nothing imported; by that interpreter in a
    process of its own when it is not ours, or when ``env`` sets a ``PYTHONPATH``).
    ``cwd``: the program's working folder, first on its ``sys.path`` (default: ours);
    ``env``: the variables set for the program (the IDE's run configuration).
    LookupError: why it cannot run; OSError: that interpreter does not start."""
    import subprocess
    from pathlib import Path

    chosen = program_interpreter(str(project), python)
    extra = dict(env or {})
    if chosen is None and "PYTHONPATH" not in extra:
        from hcride.runtime.launcher import find_module

        path = None if cwd is None else [os.path.abspath(cwd), *sys.path[1:]]
        return Path(find_module(module, path))
    from hcride.controller.interpreter import runtime_path

    chosen = chosen or Path(sys.executable)
    environ = dict(os.environ)
    environ.update(extra)  # as the program gets them (``Session._environment``)
    environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(runtime_path()), environ.get("PYTHONPATH", "")) if p)
    try:
        proc = subprocess.run([str(chosen), "-c", _PROBE, module], env=environ, text=True,
                              capture_output=True, stdin=subprocess.DEVNULL, timeout=60,
                              cwd=cwd)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OSError(f"cannot start {chosen}: {exc}") from exc
    kind, _, text = proc.stdout.strip().partition(" ")
    if kind == "found":
        return Path(text)
    if kind == "error":
        raise LookupError(text)
    last = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
    raise OSError(f"cannot start {chosen}: {last}")


def program_interpreter(project: str, python: str | None) -> Path | None:
    """The program's interpreter (``python``, or the project's ``.venv``) when its
    packages are not ours; None when the program can run on ours."""
    if python is None and not any(
        os.path.isfile(os.path.join(project, name, "pyvenv.cfg")) for name in (".venv", "venv")
    ):
        return None
    from pathlib import Path

    from hcride.controller.interpreter import find_interpreter

    chosen = find_interpreter(Path(project), python)
    return None if _same_environment(chosen, Path(sys.executable)) else chosen


def _same_environment(python: Path, ours: Path) -> bool:
    """Do the two interpreters run with the same packages? Compared by their folder
    (a venv's ``bin/python`` and ``bin/python3`` are one; two venvs of one base
    interpreter are not, so the final symbolic link is not followed)."""
    try:
        return python.absolute().parent.resolve() == ours.absolute().parent.resolve()
    except OSError:
        return False
