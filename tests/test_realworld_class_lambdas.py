"""Lambdas kept as class attributes (``fmt = lambda self, row: ...``, a sort key
wrapped in ``staticmethod``), as report, table and admin classes write them. The
contract gives every function made from the module's code its def's new code,
"a ``lambda`` assigned to a global included": a lambda held by a class is such a
function too, and a global lambda is patched (``tests/test_runtime_v2_defs.py``).
Run by ``hcride run --watch``; the main loop prints the report when it changes."""

from __future__ import annotations

from pathlib import Path

from helpers_cli_run import CliRun
from helpers_session import write

REPORT = """
ROWS = [{"name": "bob", "score": 3}, {"name": "Ann", "score": 5}]


class Report:
    order = staticmethod(lambda row: row["name"])
    fmt = lambda self, row: f"{row['name']}={row['score']}"  # noqa: E731

    def render(self):
        return "; ".join(self.fmt(r) for r in sorted(ROWS, key=self.order))
"""

MAIN = """
import time

import report

last = None
while True:
    text = report.Report().render()
    if text != last:
        print(f"report {text}\\n", end="", flush=True)  # one write: hcride's lines (same pipe) never split it
        last = text
    time.sleep(0.05)
"""


def test_class_attribute_lambdas_run_their_new_code(tmp_path: Path) -> None:
    write(tmp_path / "report.py", REPORT)
    write(tmp_path / "main.py", MAIN)
    run = CliRun(tmp_path / "main.py")
    try:
        run.wait_line("report Ann=5; bob=3")
        run.wait_line("connected")
        # The method that uses them: applied (the control).
        mark = len(run.lines)
        edited = REPORT.replace('return "; ".join', 'return " | ".join')
        write(tmp_path / "report.py", edited)
        run.wait_line("report Ann=5 | bob=3", mark)
        # The lambdas themselves: sort by score, show the score first.
        mark = len(run.lines)
        write(tmp_path / "report.py", edited.replace(
            'lambda row: row["name"]', 'lambda row: row["score"]').replace(
            "f\"{row['name']}={row['score']}\"", "f\"{row['score']}:{row['name']}\""))
        line = run.wait_line("reloaded report v3", mark)
        assert "kept old value" not in line, line
        run.wait_line("report 3:bob | 5:Ann", mark)
    finally:
        run.stop()
