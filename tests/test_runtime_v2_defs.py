"""Runtime v2 (semantics.md, second version): functions are found by their code,
decorators run once, closures get new code, definitions inside top-level blocks are
patched. Each test runs a real program in a subprocess, on this interpreter and on
the oldest and newest other CPythons installed (``interpreters``)."""

from __future__ import annotations

from tests.helpers_interpreters import run_fixture  # noqa: F401 - the `run` fixture

DECORATED = """
import functools

routes = {}
made = []


def route(path):
    def deco(fn):
        if path in routes:
            raise ValueError(f"View function mapping is overwriting an existing endpoint {path}")
        routes[path] = fn
        return fn
    return deco


def counted(fn):
    made.append(fn.__name__)

    def inner(*args, **kwargs):
        return "counted:" + fn(*args, **kwargs)
    return inner


def wrapped(fn):
    made.append(fn.__name__)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return "wrapped:" + fn(*args, **kwargs)
    return wrapper


@route("/")
def index():
    return "index v1"


@counted
def plain(x):
    return f"plain v1 {x}"


@wrapped
@route("/both")
def both():
    return "both v1"


class View:
    @counted
    def get(self):
        return "get v1"
"""

DECORATED_PRELUDE = """
import logic
from logic import index, plain, both
view = logic.View()
bound = view.get
"""


def test_body_edit_does_not_run_decorators_and_reaches_every_holder(run) -> None:
    prog = run({"logic.py": DECORATED}, DECORATED_PRELUDE)
    assert prog.eval("[logic.routes['/'](), plain(1), both(), bound()]") == [
        "index v1", "counted:plain v1 1", "wrapped:both v1", "counted:get v1",
    ]
    prog.write("logic.py", DECORATED.replace("v1", "v2")
               .replace("def plain(x):\n    return f\"plain v2 {x}\"",
                        "def plain(x, y=10):\n    return f\"plain v2 {x} {y}\""))
    result = prog.reload()
    assert result["ok"], result
    assert {"index", "plain", "both", "View.get"} <= set(result["modules"][0]["patched"])
    # The route table, a wrapper without functools.wraps (its closure cell), a
    # wraps wrapper, a bound method: all run the new body, signature included.
    assert prog.eval(
        "[logic.routes['/'](), logic.routes['/both'](), index(), plain(1), plain(1, y=5),"
        " both(), bound()]"
    ) == ["index v2", "both v2", "index v2", "counted:plain v2 1 10", "counted:plain v2 1 5",
          "wrapped:both v2", "counted:get v2"]
    # Decorators ran once, at first load: no second registration, no new wrapper.
    assert prog.eval("[sorted(logic.routes), logic.made]") == [
        ["/", "/both"], ["plain", "both", "get"]]
    assert prog.eval("logic.index is index and logic.plain is plain")


def test_decorator_list_change_reaches_references_taken_before(run) -> None:
    prog = run({"logic.py": DECORATED}, DECORATED_PRELUDE)
    new = DECORATED.replace('@route("/")\ndef index():\n    return "index v1"',
                            '@counted\n@route("/home")\ndef index():\n    return "index v3"')
    prog.write("logic.py", new)
    result = prog.reload()
    assert result["ok"], result
    # The name is rebound to the newly decorated object, and the function
    # imported before forwards to it (decorators included).
    assert prog.eval("[logic.index(), index(), logic.routes['/home']()]") == [
        "counted:index v3", "counted:index v3", "index v3"]
    assert prog.eval("logic.made[-1]") == "index"
    # A body edit after that patches the new function: old references follow.
    prog.write("logic.py", new.replace("index v3", "index v4"))
    assert prog.reload()["ok"]
    assert prog.eval("[logic.index(), index(), logic.routes['/home']()]") == [
        "counted:index v4", "counted:index v4", "index v4"]


CLOSURES = """
import functools


def make_adder(n):
    return lambda x: x + n


def make_counter():
    count = 0

    def inc():
        nonlocal count
        count += 1
        return count
    return inc


def make_greeter(name):
    def greet():
        return "hi " + name
    return greet


def deco(fn):
    def wrapper(*args):
        return "w1:" + fn(*args)
    return wrapper


@deco
def f():
    return "f"


key = lambda s: s.lower()
"""

CLOSURES_PRELUDE = """
import logic
add5 = logic.make_adder(5)
inc = logic.make_counter()
inc()
greet = logic.make_greeter("bob")
registry = {"f": logic.f}
key = logic.key
"""


def test_closures_get_new_code_and_keep_their_cells(run) -> None:
    prog = run({"logic.py": CLOSURES}, CLOSURES_PRELUDE)
    assert prog.eval("[add5(1), registry['f'](), sorted(['b', 'A'], key=key)]") == [
        6, "w1:f", ["A", "b"]]
    new = (CLOSURES.replace("x + n", "x + n + 100").replace("count += 1", "count += 10")
           .replace('"w1:"', '"w2:"').replace("s.lower()", "s.upper()[::-1]")
           .replace('def make_greeter(name):\n    def greet():\n        return "hi " + name',
                    'def make_greeter(name, punct="!"):\n    def greet():\n'
                    '        return "hi " + name + punct'))
    prog.write("logic.py", new)
    result = prog.reload()
    assert result["ok"], result
    report = result["modules"][0]
    # The lambda from make_adder, the counter (its count kept), the inner wrapper of
    # a decorator held in a registry, a lambda global (same object, new code).
    assert prog.eval("[add5(1), inc(), registry['f'](), key('Ab'), key is logic.key]") == [
        106, 11, "w2:f", "BA", True]
    # A closure whose free variables changed keeps its code, and the report says so.
    assert prog.eval("greet()") == "hi bob"
    assert prog.eval("logic.make_greeter('amy')()") == "hi amy!"
    assert any(s.startswith("make_greeter.<locals>.greet: free variables changed")
               for s in report["closures_skipped"]), report
    assert "key" in report["patched"] and "key" not in report["stale"], report


BLOCKS = """
import sys

if sys.version_info >= (3,):
    def fast():
        return "fast v1"
else:
    def fast():
        return "slow v1"

try:
    import json
except ImportError:
    json = None
else:
    def dump(x):
        return "dump v1 " + json.dumps(x)

with open(__file__) as _f:
    class Reader:
        def read(self):
            return "read v1"
"""


def test_definitions_in_top_level_blocks_are_patched_new_ones_named(run) -> None:
    prog = run({"logic.py": BLOCKS}, "import logic\nfrom logic import fast, dump\n"
                                     "reader = logic.Reader()")
    prog.write("logic.py", BLOCKS.replace("v1", "v2").replace(
        '    def dump(x):', '    def extra():\n        return 1\n\n    def dump(x):'))
    result = prog.reload()
    assert result["ok"], result
    report = result["modules"][0]
    assert prog.eval("[fast(), dump(1), reader.read()]") == ["fast v2", "dump v2 1", "read v2"]
    assert {"fast", "dump", "Reader.read"} <= set(report["patched"]), report
    # The block's other code did not change and did not run again.
    assert report["skipped"] == [], report
    assert prog.eval("hasattr(logic, 'extra')") is False
    assert any(s.startswith("extra (line ") and "restart" in s
               for s in report["needs_restart"]), report


def test_heap_searched_only_when_nested_code_changed(run) -> None:
    """Count the searches of the heap: none for a body edit of a decorated function
    or a method, one for a batch whose nested code (a closure's def) changed."""
    prog = run({"logic.py": DECORATED + CLOSURES.replace("import functools\n", "")},
               DECORATED_PRELUDE + "\nimport gc\nsearches = []\n_real = gc.get_referrers\n"
               "gc.get_referrers = lambda *a: searches.append(len(a)) or _real(*a)\n"
               "add5 = logic.make_adder(5)\n")
    base = DECORATED + CLOSURES.replace("import functools\n", "")
    prog.write("logic.py", base.replace("index v1", "index v2").replace("get v1", "get v2"))
    assert prog.reload()["ok"]
    assert prog.eval("[index(), bound(), searches]") == ["index v2", "counted:get v2", []]
    prog.write("logic.py", base.replace("index v1", "index v2").replace("get v1", "get v2")
               .replace("x + n", "x + n + 1"))
    assert prog.reload()["ok"]
    assert prog.eval("[add5(1), searches]") == [7, [1]]
