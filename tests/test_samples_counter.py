"""samples/counter from a terminal, as the README's walkthrough does it:
``hcride run samples/counter/main.py``, then edit ``counter.py`` and save."""

from __future__ import annotations

import time
from pathlib import Path

from helpers_samples import Program, copy_sample, edit


def test_counter_from_a_terminal(tmp_path: Path) -> None:
    """A save applies, a new dataclass field is refused with its reason, and the
    sample's own line names the module (it printed "[reload] rejected: " with nothing
    after it: the names of the modules reloaded, none when refused)."""
    project = copy_sample("counter", tmp_path)
    code = project / "counter.py"
    prog = Program(project)
    try:
        prog.wait_for(r"^count is 2$")
        edit(code, 'f"count is {value}"', 'f"the count is {value}"')
        prog.wait_for(r"^\[reload\] applied: counter$")
        prog.wait_for(r"^the count is \d+$")
        edit(code, "    step: int = 1\n", "    step: int = 1\n    speed: int = 2\n")
        prog.wait_for(r"^\[reload\] rejected: counter$")
        said = "hcride: rejected counter: class Counter: field 'speed' added"
        deadline = time.monotonic() + 60  # stderr is read by another thread than stdout
        while said not in prog.err and time.monotonic() < deadline:
            time.sleep(0.05)
        assert said in prog.err
        prog.wait_for(r"^the count is \d+$")  # on the old code
        edit(code, "    speed: int = 2\n", "")
        edit(code, 'f"the count is {value}"', 'f"count: {value}"')
        prog.wait_for(r"^\[reload\] applied: counter$")
        prog.wait_for(r"^count: \d+$")
    finally:
        prog.close()
