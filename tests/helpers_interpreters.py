"""The ``run`` fixture: ``start`` (conftest) with the program under this interpreter and
under the oldest and newest other CPythons installed with pyenv, when present."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

_PYENV = Path.home() / ".pyenv" / "versions"
INTERPRETERS = [sys.executable] + [
    str(p) for p in (_PYENV / "3.10.13" / "bin" / "python", _PYENV / "3.13.0" / "bin" / "python")
    if p.exists()
]


@pytest.fixture(name="run", params=INTERPRETERS, ids=lambda p: "py" + Path(p).parent.parent.name)
def run_fixture(request, start, tmp_path):  # noqa: ANN001, ANN201
    """``run(files, prelude)``: ``start`` with the program under each interpreter."""
    python = request.param

    def _run(files, prelude=""):
        root = tmp_path / "proj"
        cmd = [python, "-m", "hcride.runtime", "--project", str(root), "--",
               str(root / "main.py")]
        env = {"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        return start(files, prelude, cmd=cmd, env=env, root=root)

    return _run
