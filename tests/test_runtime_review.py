"""Contract rules (semantics.md) the runtime once broke in corner cases of real code."""

from __future__ import annotations


def test_form_feed_and_line_separator_do_not_hide_a_change(start) -> None:
    """Python counts lines at \\n only; a form feed (a page break between sections) or
    U+2028 inside a string must not shift the statements' lines: the edit applies."""
    src = ("def a():\n    return 'a\u2028'\n\x0c\ndef b():\n    return 'b1'\n\n\n"
           "def c():\n    return 'c1'\n")
    prog = start({"logic.py": src}, "import logic")
    (prog.root / "logic.py").write_text(src.replace("b1", "b2"), encoding="utf-8")
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("[logic.b(), logic.c()]") == ["b2", "c1"]
    (prog.root / "logic.py").write_text(src.replace("c1", "c2"), encoding="utf-8")
    assert prog.reload()["ok"]
    assert prog.eval("[logic.b(), logic.c()]") == ["b1", "c2"]


def test_editing_an_overload_keeps_the_implementation(start) -> None:
    """Only the last definition of a name is what the name holds: editing an
    ``@overload`` stub must not bind the stub (which raises) in place of the function."""
    src = (
        "from typing import overload\n\n\n"
        "@overload\ndef f(x: int) -> int: ...\n\n\n"
        "@overload\ndef f(x: str) -> str: ...\n\n\n"
        "def f(x):\n    return ('impl', x)\n"
    )
    prog = start({"logic.py": src}, "import logic\nfrom logic import f")
    prog.write("logic.py", src.replace("def f(x: int) -> int", "def f(x: float) -> float"))
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("[logic.f(1), f(2), logic.f is f]") == [["impl", 1], ["impl", 2], True]
    prog.write("logic.py", src.replace("'impl'", "'impl2'"))
    assert prog.reload()["ok"]
    assert prog.eval("[logic.f(1), f(2)]") == [["impl2", 1], ["impl2", 2]]


def test_editing_one_singledispatch_case_leaves_the_others(start) -> None:
    """``@show.register def _``: each ``_`` is its own function; an edit of one must not
    give its code to the last ``_`` (what the name ``_`` holds)."""
    src = (
        "from functools import singledispatch\n\n\n"
        "@singledispatch\ndef show(x):\n    return 'any'\n\n\n"
        "@show.register\ndef _(x: int):\n    return 'int1'\n\n\n"
        "@show.register\ndef _(x: str):\n    return 'str1'\n"
    )
    prog = start({"logic.py": src}, "import logic")
    prog.write("logic.py", src.replace("int1", "int2"))
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("[logic.show(1), logic.show('s'), logic.show(1.0)]") == [
        "int2", "str1", "any"]
    prog.write("logic.py", src.replace("int1", "int2").replace("str1", "str2"))
    assert prog.reload()["ok"]
    assert prog.eval("[logic.show(1), logic.show('s'), logic.show(1.0)]") == [
        "int2", "str2", "any"]


def test_handler_whose_decorator_was_removed_no_longer_runs(start) -> None:
    """The after handlers that run are the NEW code's: a function that lost its
    ``@hcr.after_code_reload`` is not one any more (and one that gains it again is)."""
    src = (
        "from hcride import hotcodereloading as hcr\n\n"
        "calls = []\n\n\n"
        "@hcr.after_code_reload\ndef after():\n    calls.append('after')\n"
    )
    plain = src.replace("@hcr.after_code_reload\n", "")
    prog = start({"logic.py": src}, "import logic")
    prog.write("logic.py", plain)
    assert prog.reload()["ok"]
    prog.exec("logic.calls.clear()")
    prog.write("logic.py", plain + "\nx = 1\n")
    assert prog.reload()["ok"]
    assert prog.eval("logic.calls") == []
    prog.write("logic.py", src.replace("'after'", "'again'"))
    assert prog.reload()["ok"]
    assert prog.eval("logic.calls") == ["again"]


def test_module_imported_again_after_del_sys_modules(start) -> None:
    """A program that drops a module from sys.modules and imports it again runs the
    new module object: reloads apply to that one."""
    src = "def f():\n    return 'v1'\n"
    prog = start({"logic.py": src}, "import sys\nimport logic\nfirst = logic")
    prog.exec("del sys.modules['logic']\nimport logic")
    assert prog.eval("logic is not first")
    prog.write("logic.py", src.replace("v1", "v2"))
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("logic.f()") == "v2"


def test_rollback_unimports_a_module_the_batch_imported_first(start) -> None:
    """A rolled-back batch leaves nothing of itself: a module its new code imported
    for the first time is imported (top level, handlers) when a fixed version is."""
    helper = (
        "from hcride import hotcodereloading as hcr\n\nimport journal\n\n"
        "journal.log.append('helper top level')\n\n\n"
        "@hcr.after_code_reload\ndef after():\n    journal.log.append('helper after')\n"
    )
    prog = start({"journal.py": "log = []\n", "helper.py": helper, "logic.py": "x = 1\n"},
                 "import sys\nimport journal, logic")
    prog.write("logic.py", "import helper\n\nx = 1\nboom = 1 / 0\n")
    result = prog.reload()
    assert result["status"] == "failed", result
    assert prog.eval("[hasattr(logic, 'helper'), 'helper' in sys.modules]") == [False, False]
    assert "helper" not in prog.modules()
    prog.write("logic.py", "import helper\n\nx = 1\nboom = 1 / 1\n")
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("journal.log") == ["helper top level", "helper top level", "helper after"]
    assert prog.modules()["helper"]["version"] == 1


def test_statements_sharing_a_line_run_one_at_a_time(start) -> None:
    """`import os; counter = 0`: re-running the import must not re-run the
    assignment on its line (an existing global is preserved)."""
    src = "import os; counter = 0\n\n\ndef f():\n    return 1\n"
    prog = start({"logic.py": src}, "import logic")
    prog.exec("logic.counter = 5")
    prog.write("logic.py", src.replace("return 1", "return 2"))
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("[logic.f(), logic.counter]") == [2, 5]
    assert "counter" in result["modules"][0]["preserved"]


def test_removed_module_docstring_is_gone(start) -> None:
    src = '"""Doc v1."""\n\n\ndef f():\n    return 1\n'
    prog = start({"logic.py": src}, "import logic")
    prog.write("logic.py", "def f():\n    return 1\n")
    assert prog.reload()["ok"]
    assert prog.eval("logic.__doc__") is None
    prog.write("logic.py", src.replace("v1", "v2"))
    assert prog.reload()["ok"]
    assert prog.eval("logic.__doc__") == "Doc v2."


STAGED = """
from hcride.runtime.bootstrap import get_engine
_t = get_engine()._tracked["logic"]
# Each statement the commit runs has its own code: one that binds its names (an
# unchanged import is read from the modules imported: it has none).
_codes = _t.candidate.codes
_result = [s.text for s in _t.candidate.plan.work
           if (id(s) in _codes or s.kind != "import")
           and not set(s.names) <= set(_codes[id(s)].co_names)]
"""


def test_restaged_candidate_runs_its_own_statements(start) -> None:
    """A version staged again (its batch was refused) is compiled again: codes kept by
    statement id from the earlier staging must not be run for this one's statements
    (a moved `K: Final` ran a stale `def f` and rebound f, losing its identity)."""
    consts = "".join(f"K{i}: Final = {i}\n" for i in range(40))
    src = "from typing import Final\n\n\ndef f():\n    return 'v0'\n\n\n" + consts
    prog = start({"logic.py": src, "bad.py": "x = 1\n"}, "import logic, bad\nf = logic.f")
    prog.write("logic.py", src.replace("'v0'", "'v1'\n\n\ndef h():\n    return 0\n"))
    wrong = []
    for i in range(20):
        prog.write("bad.py", f"x = ({i}\n")
        assert prog.reload()["status"] == "rejected"
        wrong += prog.exec(STAGED)
    assert wrong == []
    prog.write("bad.py", "x = 2\n")
    assert prog.reload()["ok"]
    assert prog.eval("[logic.f is f, f(), logic.h(), logic.K39]") == [True, "v1", 0, 39]


def test_a_fault_of_hcride_while_staging_refuses_the_version_with_why(start) -> None:
    """An exception of hcride's own while a new version is staged (here: the commit
    plan raising) refuses that version with the exception in words; the program keeps
    running its code, and the next good save applies."""
    src = "def f():\n    return 1\n"
    prog = start({"logic.py": src}, "import logic")
    prog.exec("""
        import hcride.runtime.plan as _engine_module  # (the engine imports it when staging)
        _real_plan = _engine_module.plan_commit

        def _broken(*args, **kwargs):
            raise KeyError("plan")

        _engine_module.plan_commit = _broken
    """)
    prog.write("logic.py", src.replace("1", "2"))
    assert prog.changed() is True
    result = prog.reload()
    assert result["status"] == "rejected", result
    assert "hcride could not stage this version: KeyError" in result["error"], result
    assert prog.eval("logic.f()") == 1
    prog.exec("_engine_module.plan_commit = _real_plan")
    prog.write("logic.py", src.replace("1", "3"))
    result = prog.reload()
    assert result["ok"] and prog.eval("logic.f()") == 3, result


def test_a_module_held_by_a_rolled_back_batch_applies_later_with_a_true_report(start) -> None:
    """A batch rolled back (another module's new global raised) holds a good module;
    when the bad one is fixed, the good one applies with its own report: each global
    preserved once, the new one initialized once (its staging is not reused half
    spent)."""
    good = "count = 0\nnames = []\n\n\ndef f():\n    return 1\n"
    prog = start({"good.py": good, "bad.py": "x = 1\n"}, "import good, bad")
    changed = good.replace("return 1", "return 2").replace("count = 0", "count = 5")
    prog.write("good.py", changed + "\nlimit = 10\n")
    prog.write("bad.py", "x = 1\ny = 1 / 0\n")
    result = prog.reload()
    assert result["status"] == "failed", result
    assert prog.eval("[good.f(), hasattr(good, 'limit')]") == [1, False]
    prog.write("bad.py", "x = 1\ny = 2\n")
    result = prog.reload()
    assert result["ok"], result
    (report,) = [m for m in result["modules"] if m["name"] == "good"]
    assert sorted(report["preserved"]) == ["count", "names"], report
    assert report["initialized"] == ["limit"] and report["stale"] == ["count"], report
    assert prog.eval("[good.f(), good.limit, good.count]") == [2, 10, 0]
