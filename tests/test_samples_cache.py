"""samples/cache: the seed's mydb / myCache example, in a real subprocess.

The ``after_code_reload`` handler clears the cache only when ``has_module_changed(mydb)``:
reloading ``mydb`` clears it; reloading another module (even the handler's own) keeps it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers_samples import Program, copy_sample, edit

REPO = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^(?P<label>\w+): (?P<values>.*) \| cached: (?P<cached>\d+), "
                  r"db queries: (?P<queries>\d+)$")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_sample("cache", tmp_path)


def test_cache_cleared_only_when_mydb_reloads(project: Path) -> None:
    prog = Program(project, "0", "0.05")
    try:
        first = prog.wait_for(LINE)
        assert first["values"] == "alpha-v1, beta-v1, gamma-v1"
        assert (first["cached"], first["queries"]) == ("3", "3")
        prog.wait_for(LINE)

        # (The handler prints inside perform_code_reload(), before main.py's [reload] line.)
        # Another module: the handler runs, sees mydb unchanged, keeps the cache.
        edit(project / "report.py", 'return f"values:', 'return f"report:')
        prog.wait_for(r"^mydb unchanged: cache kept \(3 entries\)$")
        prog.wait_for(r"^\[reload\] applied: report$")
        kept = prog.wait_for(LINE)
        assert kept["label"] == "report", kept.string
        assert (kept["values"], kept["cached"], kept["queries"]) == (
            "alpha-v1, beta-v1, gamma-v1", "3", "3"), kept.string

        # The handler's own module: still not mydb, the cache (a preserved global) stays.
        edit(project / "cache.py", "cache kept (", "cache still kept (")
        prog.wait_for(r"^mydb unchanged: cache still kept \(3 entries\)$")
        prog.wait_for(r"^\[reload\] applied: cache$")
        kept = prog.wait_for(LINE)
        assert (kept["cached"], kept["queries"]) == ("3", "3"), kept.string

        # mydb itself: the cache is cleared, the next lookups ask the new code.
        edit(project / "mydb.py", 'return f"{key}-v1"', 'return f"{key}-v2"')
        prog.wait_for(r"^mydb changed: cache cleared$")
        prog.wait_for(r"^\[reload\] applied: mydb$")
        fresh = prog.wait_for(LINE)
        assert (fresh["values"], fresh["cached"], fresh["queries"]) == (
            "alpha-v2, beta-v2, gamma-v2", "3", "6"), fresh.string
        steady = prog.wait_for(LINE)
        assert (steady["values"], steady["queries"]) == ("alpha-v2, beta-v2, gamma-v2", "6")
    finally:
        prog.close()

    handler_lines = [line for line in prog.out if line.startswith("mydb ")]
    assert handler_lines == [
        "mydb unchanged: cache kept (3 entries)",
        "mydb unchanged: cache still kept (3 entries)",
        "mydb changed: cache cleared",
    ], prog.out
