"""Functions are patched in place (semantics.md, "Applying a batch", functions)."""

from __future__ import annotations

LOGIC = """
import functools


def update():
    return "old update"


def helper():
    return "old helper"


def doomed():
    return "doomed"


def logged(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return "logged:" + func(*args, **kwargs)
    return wrapper


@logged
def decorated():
    return "old decorated"


@functools.lru_cache(maxsize=None)
def cached(n):
    return ("old", n)


async def fetch():
    return "old fetch"


class Thing:
    def method(self):
        return "old method"
"""

PRELUDE = """
import asyncio
import logic
from logic import update, decorated, cached, fetch

callbacks = [logic.helper]
thing = logic.Thing()
bound = thing.method
"""


def test_every_existing_reference_runs_new_code(start) -> None:
    prog = start({"logic.py": LOGIC}, PRELUDE)
    assert prog.eval("[update(), callbacks[0](), bound(), decorated(), cached(1)]") == [
        "old update", "old helper", "old method", "logged:old decorated", ["old", 1],
    ]
    ids = prog.eval("[id(update), id(callbacks[0]), id(decorated), id(logic.Thing)]")
    prog.write("logic.py", LOGIC.replace('"old', '"new'))
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["logic"], result
    report = result["modules"][0]
    assert {"update", "helper", "decorated", "cached", "fetch", "Thing.method"} <= set(
        report["patched"]
    ), report
    # A `from logic import update` reference, a stored callback, a bound method, a
    # functools.wraps-decorated function, an lru_cache'd one (its cache cleared).
    assert prog.eval("[update(), callbacks[0](), bound(), decorated(), cached(1)]") == [
        "new update", "new helper", "new method", "logged:new decorated", ["new", 1],
    ]
    assert prog.eval("asyncio.run(fetch())") == "new fetch"
    # Identity kept: nothing was rebound behind the references.
    assert prog.eval("[id(update), id(callbacks[0]), id(decorated), id(logic.Thing)]") == ids
    assert prog.eval("logic.update is update and logic.decorated is decorated")


def test_new_functions_bound_removed_functions_unbound(start) -> None:
    prog = start({"logic.py": LOGIC}, PRELUDE)
    new = LOGIC.replace('def doomed():\n    return "doomed"\n', "") + (
        "\n\ndef brand_new(x):\n    return x * 2\n"
    )
    prog.write("logic.py", new)
    result = prog.reload()
    assert result["ok"], result
    report = result["modules"][0]
    assert "brand_new" in report["added"]
    assert "doomed" in report["removed"]
    assert prog.eval("logic.brand_new(21)") == 42
    assert prog.eval("hasattr(logic, 'doomed')") is False


def test_defaults_and_signature_change(start) -> None:
    prog = start({"logic.py": "def greet(name='world'):\n    return 'hello ' + name\n"},
                 "import logic\nfrom logic import greet")
    prog.write("logic.py", "def greet(name='there', punct='!'):\n    return 'hi ' + name + punct\n")
    assert prog.reload()["ok"]
    assert prog.eval("greet()") == "hi there!"
    assert prog.eval("greet('you', punct='?')") == "hi you?"


def test_unchanged_function_that_moved_keeps_accurate_tracebacks(start) -> None:
    src = "def boom():\n    raise ValueError('boom')\n"
    prog = start({"logic.py": src}, "import logic")
    prog.write("logic.py", "# a comment\n# another\n\n" + src)
    assert prog.reload()["ok"]
    prog.exec("""
        import traceback
        try:
            logic.boom()
        except ValueError as exc:
            _result = traceback.extract_tb(exc.__traceback__)[-1].lineno
    """)
    assert prog.exec("""
        try:
            logic.boom()
        except ValueError as exc:
            _result = traceback.extract_tb(exc.__traceback__)[-1].lineno
    """) == 5


TRACE_LINE = """
import traceback
try:
    logic.boom()
except ValueError as exc:
    _result = traceback.extract_tb(exc.__traceback__)[-1].line
"""


def test_a_traceback_shows_the_line_that_runs_not_the_saved_one(start) -> None:
    """The runtime keeps no copy of a module's lines while its file says what runs;
    once a new version is saved (and seen), tracebacks of the running code still quote
    the running text, until the reload, after which they quote the new text."""
    src = "def boom():\n    raise ValueError('old line')\n"
    prog = start({"logic.py": src, "other.py": "X = 1\n"}, "import logic, other")
    assert prog.eval("[k for k in __import__('linecache').cache if 'other' in k]") == []
    prog.write("logic.py", "def boom():\n    raise ValueError('new line')\n")
    assert prog.changed() is True
    assert prog.exec(TRACE_LINE) == "raise ValueError('old line')"
    assert prog.reload()["ok"]
    assert prog.exec(TRACE_LINE) == "raise ValueError('new line')"
    prog.write("logic.py", "def boom():\n    raise ValueError('newer')\n")
    prog.write("logic.py", "def boom():\n    raise ValueError('new line')\n")  # saved back
    assert prog.changed() is False
    assert prog.exec(TRACE_LINE) == "raise ValueError('new line')"


def test_a_traceback_between_the_save_and_the_reload_quotes_the_running_line(start) -> None:
    """A save the program has not looked at yet (no poll, no build received: a
    server printing a traceback in that window): the traceback still quotes the line
    that ran, not the saved file's line at that number (it quoted a blank line)."""
    src = "def boom():\n    raise ValueError('old line')\n"
    prog = start({"logic.py": src}, "import logic")
    assert prog.exec(TRACE_LINE) == "raise ValueError('old line')"  # cached by linecache
    prog.write("logic.py", "# moved\n\n\ndef boom():\n    raise ValueError('new line')\n")
    assert prog.exec(TRACE_LINE) == "raise ValueError('old line')"
    prog.exec("import os; os.remove(logic.__file__)")  # deleted: still what runs
    assert prog.exec(TRACE_LINE) == "raise ValueError('old line')"


def test_decorator_added_changed_and_removed(start) -> None:
    deco = (
        "import functools\n\n\n"
        "def tag(label):\n"
        "    def deco(func):\n"
        "        @functools.wraps(func)\n"
        "        def wrapper(*args):\n"
        "            return label + ':' + func(*args)\n"
        "        return wrapper\n"
        "    return deco\n\n\n"
    )
    plain = deco + "def f():\n    return 'v1'\n\n\nclass K:\n    def m(self):\n        return 'm1'\n"
    prog = start({"logic.py": plain}, "import logic\nfrom logic import f\nk = logic.K()")
    prog.write("logic.py", plain.replace("def f():", "@tag('a')\ndef f():")
               .replace("    def m(self):", "    @tag('a')\n    def m(self):")
               .replace("v1", "v2").replace("m1", "m2"))
    assert prog.reload()["ok"]
    # Contract v2: a reference taken before the decorator was added reaches the new
    # decorated object (the old function forwards to it).
    assert prog.eval("[logic.f(), k.m(), f()]") == ["a:v2", "a:m2", "a:v2"]
    prog.write("logic.py", plain.replace("def f():", "@tag('b')\ndef f():")
               .replace("    def m(self):", "    @tag('b')\n    def m(self):")
               .replace("v1", "v3").replace("m1", "m3"))
    assert prog.reload()["ok"]
    assert prog.eval("[logic.f(), k.m(), f()]") == ["b:v3", "b:m3", "b:v3"]
    prog.write("logic.py", plain.replace("v1", "v4").replace("m1", "m4"))
    assert prog.reload()["ok"]
    assert prog.eval("[logic.f(), k.m(), f()]") == ["v4", "m4", "v4"]
