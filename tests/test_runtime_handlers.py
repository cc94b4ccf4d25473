"""before/after handlers, has_module_changed (semantics.md steps 2 and 4)."""

from __future__ import annotations

# Three modules loaded in the order first, second, third; "third" imports nothing.
# Each registers handlers that log into the shared `journal` module (not reloaded).
JOURNAL = "log = []\n"


def module(name: str, version: str, extra: str = "") -> str:
    return f'''
from hcride import hotcodereloading as hcr

import journal



def version():
    return "{version}"


@hcr.before_code_reload
def before():
    journal.log.append(("before", "{name}", "{version}"))


@hcr.after_code_reload
def after():
    journal.log.append(("after", "{name}", "{version}",
                        [m for m in ("first", "second", "third", "journal")
                         if hcr.has_module_changed(m)]))
{extra}
'''


PRELUDE = """
import journal
import first
import second
import third
"""


def files() -> dict[str, str]:
    return {
        "journal.py": JOURNAL,
        "first.py": module("first", "v1"),
        "second.py": module("second", "v1"),
        "third.py": module("third", "v1"),
    }


def test_handler_order_and_has_module_changed(start) -> None:
    prog = start(files(), PRELUDE)
    # Handlers never run at first load, nor when nothing is pending.
    assert prog.eval("journal.log") == []
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == [] and result["status"] == "empty"
    assert prog.eval("journal.log") == []
    assert prog.changed() is False

    prog.write("second.py", module("second", "v2"))
    prog.write("third.py", module("third", "v2"))
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["second", "third"], result
    assert prog.eval("journal.log") == [
        # before handlers: the CURRENT code of every module, in load order
        ["before", "first", "v1"],
        ["before", "second", "v1"],
        ["before", "third", "v1"],
        # after handlers: the NEW code of reloaded modules and those of unchanged
        # ones, in load order; has_module_changed true exactly for the batch
        ["after", "first", "v1", ["second", "third"]],
        ["after", "second", "v2", ["second", "third"]],
        ["after", "third", "v2", ["second", "third"]],
    ]
    # Outside a reload, has_module_changed is false for everyone.
    assert prog.eval("[hcr.has_module_changed(m) for m in ('first', second, 'third')]") == [
        False, False, False,
    ]


def test_handler_exception_is_reported_and_does_not_undo(start) -> None:
    prog = start(files(), PRELUDE)
    boom = "\n\n@hcr.after_code_reload\ndef broken():\n    raise RuntimeError('handler boom')\n"
    prog.write("first.py", module("first", "v2", boom))
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["first"], result
    assert len(result["handler_errors"]) == 1
    assert "RuntimeError: handler boom" in result["handler_errors"][0]
    assert "Traceback" in result["handler_errors"][0]
    # The batch stands, and the other handlers still ran.
    assert prog.eval("first.version()") == "v2"
    assert ["after", "third", "v1", ["first"]] in prog.eval("journal.log")
    # A before handler that raises does not stop the batch either. (v3 makes `broken`
    # a before handler: it is no after handler any more, and runs from the next reload.)
    as_before = boom.replace("after_code_reload", "before_code_reload")
    prog.write("first.py", module("first", "v3", as_before))
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["first"], result
    assert result["handler_errors"] == []
    prog.write("first.py", module("first", "v4", as_before))
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["first"], result
    assert prog.eval("first.version()") == "v4"
    assert any("handler boom" in e for e in result["handler_errors"])


def test_removed_handler_no_longer_runs(start) -> None:
    prog = start(files(), PRELUDE)
    prog.write("second.py", "import journal\n")
    assert prog.reload()["ok"]
    prog.exec("journal.log.clear()")
    prog.write("third.py", module("third", "v2"))
    assert prog.reload()["ok"]
    assert [e[1] for e in prog.eval("journal.log")] == ["first", "third", "first", "third"]


def test_handler_in_main_script_runs(start) -> None:
    prog = start(files(), PRELUDE + """
calls = []


@hcr.after_code_reload
def main_after():
    calls.append(hcr.has_module_changed(first))
""")
    prog.write("first.py", module("first", "v2"))
    assert prog.reload()["ok"]
    assert prog.eval("calls") == [True]


def test_handlers_new_in_this_version(start) -> None:
    """A new after handler is new code: it runs after the reload that added it; a new
    before handler is not current code yet: it runs from the next reload on."""
    src = "import journal\n"
    prog = start({"journal.py": JOURNAL, "first.py": src}, "import journal, first")
    prog.write("first.py", src + """
from hcride import hotcodereloading as hcr


@hcr.before_code_reload
def new_before():
    journal.log.append("new before")


@hcr.after_code_reload
def new_after():
    journal.log.append("new after")
""")
    assert prog.reload()["ok"]
    assert prog.eval("journal.log") == ["new after"]
    prog.write("first.py", (prog.root / "first.py").read_text() + "\nx = 1\n")
    assert prog.reload()["ok"]
    assert prog.eval("journal.log") == ["new after", "new before", "new after"]
