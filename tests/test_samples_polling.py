"""samples/polling: the seed's polling alternative, under plain ``python main.py``.

No launcher, no controller: the loop asks ``has_any_module_changed()`` and reloads.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers_samples import Program, copy_sample, edit

REPO = Path(__file__).resolve().parent.parent
JOB = re.compile(r"^job (?P<n>\d+): (?P<what>\w+)$")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_sample("polling", tmp_path)


def test_polling_reloads_under_plain_python(project: Path) -> None:
    worker = project / "worker.py"
    prog = Program(project, "0", "0.05", plain=True)
    try:
        first = prog.wait_for(JOB)
        assert (first["n"], first["what"]) == ("1", "polishing")
        prog.wait_for(r"^job 3: polishing$")  # nothing changed: no reload

        edit(worker, ': polishing"', ': shining"')
        prog.wait_for(r"^\[poll\] change found, reloaded: worker$")
        job = prog.wait_for(JOB)
        assert job["what"] == "shining", job.string
        assert int(job["n"]) > 3  # jobs_done was preserved: the count goes on

        # A broken version is reported once, and the old code keeps running: the
        # polling loop does not retry it every tick.
        edit(worker, ': shining"', ': shining" +')
        prog.wait_for(r"^\[poll\] change found, not applied \(rejected\):$")
        prog.wait_for(r"rejected worker.*SyntaxError")
        stuck = prog.wait_for(JOB)
        later = prog.wait_for(re.compile(rf"^job {int(stuck['n']) + 3}: shining$"))
        assert later

        edit(worker, ': shining" +', ': gleaming"')
        prog.wait_for(r"^\[poll\] change found, reloaded: worker$")
        job = prog.wait_for(JOB)
        assert job["what"] == "gleaming" and int(job["n"]) > int(stuck["n"]), job.string
    finally:
        prog.close()

    polls = [line for line in prog.out if line.startswith("[poll]")]
    assert polls == [
        "[poll] change found, reloaded: worker",
        "[poll] change found, not applied (rejected):",
        "[poll] change found, reloaded: worker",
    ], prog.out
    counts = [int(m["n"]) for m in map(JOB.match, prog.out) if m]
    assert counts == list(range(1, len(counts) + 1))  # never reset
    assert not [line for line in prog.err if line.startswith("hcride:")], prog.err
