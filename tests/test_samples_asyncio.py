"""samples/asyncio: running coroutines and generators finish on their old code, new
ones run the new code (the seed's closure-iterator rule), in a real subprocess.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers_samples import Program, copy_sample, write_atomically

REPO = Path(__file__).resolve().parent.parent
WORKER = re.compile(r"^worker (?P<w>\d+) (?P<v>v\d): (?P<value>\d+|done)$")
ROUNDS = 60


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_sample("asyncio", tmp_path)


def test_running_tasks_and_generators_keep_their_code(project: Path) -> None:
    tasks = project / "tasks.py"
    prog = Program(project, str(ROUNDS), "0.05")
    try:
        prog.wait_for(r"^\[main\] started worker 1$")
        prog.wait_for(r"^worker 1 v1: 3$")

        source = tasks.read_text(encoding="utf-8")
        assert source.count('{name} v1:') == 2 and source.count("n += 1\n") == 1
        source = source.replace("{name} v1:", "{name} v2:").replace("n += 1\n", "n += 10\n")
        write_atomically(tasks, source)

        prog.wait_for(r"^\[reload\] applied: tasks$")
        prog.wait_for(r"^\[main\] started worker 2$")
        prog.wait_for(r"^worker 2 v2: 21$")
        prog.wait_for(r"^worker 1 v1: done$")
    finally:
        prog.close()

    out = prog.out
    reload_at = out.index("[reload] applied: tasks")
    lines = [(i, m) for i, m in ((i, WORKER.match(line)) for i, line in enumerate(out)) if m]
    one = [(i, m["v"], m["value"]) for i, m in lines if m["w"] == "1"]
    two = [(i, m["v"], m["value"]) for i, m in lines if m["w"] == "2"]
    # Worker 1 started before the reload: every line, also after it, is the old code,
    # and its generator (made before the reload) kept counting by one, to the end.
    assert all(v == "v1" for _, v, _ in one), out
    assert [value for _, _, value in one] == [str(n) for n in range(1, ROUNDS + 1)] + ["done"]
    assert any(i > reload_at for i, _, value in one if value != "done"), (
        "worker 1 finished before the reload was applied; the test needs it running", out)
    # Worker 2 started after it: the new coroutine code, with a new generator.
    assert all(v == "v2" and i > reload_at for i, v, _ in two), out
    assert [value for _, _, value in two][:3] == ["1", "11", "21"], out
    assert not [line for line in prog.err if "Traceback" in line], prog.err
