"""samples/settings: the seed's settings / lastReload example, in a real subprocess.

Settings are loaded once at start and survive reloads; the ``after_code_reload``
handler runs exactly once per reload (updating ``last_reload`` and resetting state).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers_samples import Program, copy_sample, write_atomically

REPO = Path(__file__).resolve().parent.parent
TICK = re.compile(r"^(?P<text>.*?)  frame (?P<frame>\d+), reloads (?P<reloads>\d+), "
                  r"last reload (?P<last>never|[\d.]+s ago)$")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_sample("settings", tmp_path)


def test_settings_survive_reloads_and_handler_runs_once_per_reload(project: Path) -> None:
    prog = Program(project, "0", "0.05")
    try:
        first = prog.wait_for(TICK)
        assert first["text"] == "Hello, world!" and first["reloads"] == "0"
        assert first["last"] == "never"
        prog.wait_for(r"frame 3, reloads 0,")

        # The settings file changes too: it is not read again (top-level code does not
        # re-run), and the settings dict is not re-initialized by the reload.
        settings = project / "settings.txt"
        write_atomically(settings, settings.read_text(encoding="utf-8").replace("Hello", "Bonjour"))
        app = project / "app.py"
        source = app.read_text(encoding="utf-8")
        old = "return f\"{settings['greeting']}, {settings['name']}!\""
        assert source.count(old) == 1
        write_atomically(app, source.replace(old, old.replace('!"', '!!!"')))

        prog.wait_for(r"^\[reload\] applied: app$")
        after = prog.wait_for(TICK)
        # New code, old settings; the handler ran once and reset the program state.
        assert after["text"] == "Hello, world!!!", after.string
        assert (after["frame"], after["reloads"]) == ("1", "1"), after.string
        assert after["last"] != "never"
        prog.wait_for(r"frame 4, reloads 1,")  # nothing pending: no handler runs

        source = app.read_text(encoding="utf-8")
        write_atomically(app, source.replace("!!!\"", " (twice reloaded)\""))
        prog.wait_for(r"^\[reload\] applied: app$")
        again = prog.wait_for(TICK)
        assert again["text"] == "Hello, world (twice reloaded)", again.string
        assert (again["frame"], again["reloads"]) == ("1", "2"), again.string
        prog.wait_for(r"frame 3, reloads 2,")
    finally:
        prog.close()

    assert prog.out.count("loading settings from settings.txt") == 1, prog.out
    assert sum(line.startswith("program initialized") for line in prog.out) == 1
    assert prog.out.count("[reload] applied: app") == 2
    assert not [line for line in prog.out if "Bonjour" in line]
    reported = [line for line in prog.err if line.startswith("hcride:")]
    assert reported, prog.err
