"""Top-level statements: imports re-run, new names initialized, existing preserved,
``Final`` re-evaluated, everything else never re-run (semantics.md)."""

from __future__ import annotations

LOGIC = """
from typing import Final

import helper

SPEED: Final = 5
count = 0
items = []
a, (b, *rest) = 1, (2, 3, 4)
print("logic top level ran", flush=True)
helper.side_effect("logic")


def bump():
    global count
    count += 1
    items.append(count)
    return count
"""

HELPER = """
runs = []


def side_effect(who):
    runs.append(who)
"""


def test_existing_globals_preserved_new_initialized_final_reevaluated(start) -> None:
    prog = start({"logic.py": LOGIC, "helper.py": HELPER}, "import logic, helper")
    assert prog.eval("[logic.bump(), logic.bump()]") == [1, 2]
    new = (
        LOGIC.replace("count = 0", "count = 1000")
        .replace("SPEED: Final = 5", "SPEED: Final = 7")
        .replace("a, (b, *rest) = 1, (2, 3, 4)", "a, (b, *rest) = 10, (20, 30)")
        + "\n\nfresh = count * 10\nnew_a, new_b = 'x', 'y'\n"
    )
    prog.write("logic.py", new)
    result = prog.reload()
    assert result["ok"], result
    report = result["modules"][0]
    # Existing names keep their live values even though the initializer changed.
    assert prog.eval("[logic.count, logic.items, logic.a, logic.b, logic.rest]") == [
        2, [1, 2], 1, 2, [3, 4],
    ]
    assert {"count", "items", "a", "b", "rest"} <= set(report["preserved"])
    assert {"count", "a", "b", "rest"} <= set(report["stale"])
    assert "items" not in report["stale"]
    # New names run once, now, seeing the live state; Final names are re-evaluated.
    assert prog.eval("[logic.fresh, logic.new_a, logic.new_b, logic.SPEED]") == [20, "x", "y", 7]
    assert {"fresh", "new_a", "new_b"} <= set(report["initialized"])
    assert "SPEED" in report["reevaluated"]
    # Other top-level statements (a print, a call) did not run again.
    assert prog.eval("helper.runs") == ["logic"]
    assert prog.output.count("logic top level ran") == 1
    # A second reload: the name initialized by the first one is now preserved.
    prog.write("logic.py", new.replace("fresh = count * 10", "fresh = -1"))
    result = prog.reload()
    assert result["ok"] and prog.eval("logic.fresh") == 20
    assert "fresh" in result["modules"][0]["stale"]


def test_imports_rerun_and_new_project_module_becomes_reloadable(start) -> None:
    prog = start({"logic.py": "import json\n\n\ndef f():\n    return 1\n",
                  "extra.py": "print('extra top level', flush=True)\nvalue = 1\n\n\n"
                              "def g():\n    return 'g1'\n"},
                 "import logic")
    assert "extra" not in prog.modules()
    prog.write("logic.py", "import json\nimport extra\nfrom os import path as ospath\n"
                           "from extra import g\n\n\ndef f():\n    return extra.value\n")
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("[logic.f(), logic.g(), logic.ospath.__name__]") == [1, "g1", "posixpath"]
    assert prog.output.count("extra top level") == 1  # its whole top level ran once
    assert prog.modules()["extra"]["version"] == 1
    # From then on it is a reloadable module like the others.
    prog.write("extra.py", "print('extra top level', flush=True)\nvalue = 1\n\n\n"
                           "def g():\n    return 'g2'\n")
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["extra"], result
    assert prog.eval("logic.g()") == "g2"
    assert prog.output.count("extra top level") == 1
    assert prog.modules()["extra"]["version"] == 2


def test_value_whose_eq_raises_does_not_disturb_a_reload(start) -> None:
    src = """
    class Ambiguous:
        def __eq__(self, other):
            raise ValueError("truth value of an array is ambiguous")

        def __bool__(self):
            raise ValueError("truth value of an array is ambiguous")

        __hash__ = None


    data = Ambiguous()
    table = {"k": Ambiguous()}


    class Holder:
        arr = Ambiguous()


    def f():
        return 1
    """
    prog = start({"logic.py": src}, "import logic\nkeep = logic.data")
    prog.write("logic.py", src.replace("return 1", "return 2").replace(
        "data = Ambiguous()", "data = Ambiguous()  # changed initializer"))
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("[logic.f(), logic.data is keep]") == [2, True]


def test_module_docstring_updated(start) -> None:
    prog = start({"logic.py": '"""Old doc."""\nx = 1\n'}, "import logic")
    prog.write("logic.py", '"""New doc."""\nx = 1\n')
    assert prog.reload()["ok"]
    assert prog.eval("logic.__doc__") == "New doc."


def test_stale_global_stays_stale_over_a_later_reload(start) -> None:
    """``reloads = 0`` -> ``reloads = 100``: stale (the live value came from ``= 0``).
    A later save of another line of the module: the live value still came from ``= 0``
    and the file says ``= 100``, so it is still stale, but the report says preserved."""
    prog = start({"logic.py": "SPEED = 10\n\n\ndef f():\n    return 1\n"}, "import logic")
    prog.write("logic.py", "SPEED = 20\n\n\ndef f():\n    return 1\n")
    result = prog.reload()
    assert result["ok"] and "SPEED" in result["modules"][0]["stale"], result
    prog.write("logic.py", "SPEED = 20\n\n\ndef f():\n    return 2\n")
    result = prog.reload()
    assert result["ok"] and prog.eval("[logic.SPEED, logic.f()]") == [10, 2], result
    assert "SPEED" in result["modules"][0]["stale"], result["modules"][0]


def test_stale_ends_when_the_file_says_the_value_again_or_it_is_given_again(start) -> None:
    """The stale mark follows the text that made the live value: saving the old
    initializer back ends it; so does giving the value again from the file (the IDE's
    "run the new initializer", which tells the runtime); class attributes too."""
    src = "SPEED = 10\n\n\nclass Car:\n    top = 100\n\n\ndef f():\n    return 1\n"
    prog = start({"logic.py": src}, "import logic")
    prog.write("logic.py", src.replace("SPEED = 10", "SPEED = 20").replace("top = 100",
                                                                         "top = 200"))
    report = prog.reload()["modules"][0]
    assert sorted(report["stale"]) == ["Car.top", "SPEED"], report
    prog.write("logic.py", src.replace("SPEED = 10", "SPEED = 20").replace("1\n", "2\n"))
    report = prog.reload()["modules"][0]
    assert report["stale"] == ["SPEED"], report  # Car.top = 100 again: its own value
    prog.write("logic.py", src.replace("SPEED = 10", "SPEED = 20").replace("top = 100",
                                                                         "top = 300"))
    assert sorted(prog.reload()["modules"][0]["stale"]) == ["Car.top", "SPEED"]
    prog.write("logic.py", src.replace("SPEED = 10", "SPEED = 20").replace(
        "top = 100", "top = 300").replace("1\n", "2\n"))  # the class left alone
    assert sorted(prog.reload()["modules"][0]["stale"]) == ["Car.top", "SPEED"]
    prog.exec("logic.SPEED = 20\nlogic.Car.top = 300\nget_engine = __import__('hcride.runtime.bootstrap', "
              "fromlist=['x']).get_engine\nget_engine().forget_stale('logic', 'SPEED')\n"
              "get_engine().forget_stale('logic', 'Car.top')")
    prog.write("logic.py", src.replace("SPEED = 10", "SPEED = 20").replace(
        "top = 100", "top = 300").replace("1\n", "3\n"))
    report = prog.reload()["modules"][0]
    assert report["stale"] == [] and prog.eval("[logic.SPEED, logic.f()]") == [20, 3], report
    prog.write("logic.py", src.replace("SPEED = 10", "SPEED = 30").replace(
        "top = 100", "top = 300").replace("1\n", "3\n"))
    assert prog.reload()["modules"][0]["stale"] == ["SPEED"]


def test_a_rebound_name_follows_into_the_modules_that_imported_it(start) -> None:
    """A ``Final`` constant re-evaluated (and a def rebound by a changed decorator)
    reaches the copies other modules took with ``from settings import *`` or ``from
    settings import NAME``, and the main script's, where they still hold the old
    object; a module's own binding of the same name is left alone."""
    settings = ("from typing import Final\n\nJUMP: Final = 20\nWIDTH = 480\n\n\n"
                "def deco(f):\n    return f\n\n\ndef speed():\n    return 1\n")
    files = {
        "settings.py": settings,
        "sprites.py": "from settings import *\n\n\ndef jump():\n    return JUMP\n",
        "named.py": "from settings import JUMP, speed\n",
        "own.py": "import settings\n\nJUMP = 20\n",
    }
    prog = start(files, "import sprites, named, own\nfrom settings import JUMP")
    assert prog.eval("[sprites.jump(), named.JUMP, JUMP]") == [20, 20, 20]
    prog.write("settings.py", settings.replace("JUMP: Final = 20", "JUMP: Final = 25")
               .replace("def speed", "@deco\ndef speed"))
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("[sprites.jump(), sprites.JUMP, named.JUMP, JUMP, own.JUMP]") == [
        25, 25, 25, 25, 20]
    assert prog.eval("named.speed is __import__('settings').speed")
    (report,) = result["modules"]
    assert {"sprites.JUMP", "named.JUMP", "__main__.JUMP", "named.speed"} <= set(
        report["followed"]), report
