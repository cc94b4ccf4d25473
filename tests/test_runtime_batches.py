"""Batches apply whole or not at all: syntax errors, type changes, rollback, rejected
versions reported once, dependency order, versions (semantics.md)."""

from __future__ import annotations

import os

GOOD = "def f():\n    return 'good v1'\n"

BAD = """
class Sprite:
    speed: int

    def __init__(self):
        self.x = 0

    def draw(self):
        return "v1"
"""


def test_syntax_error_rejects_batch_and_old_code_keeps_running(start) -> None:
    prog = start({"good.py": GOOD, "bad.py": BAD}, "import good, bad")
    prog.write("good.py", GOOD.replace("v1", "v2"))
    path = prog.write("bad.py", BAD + "\ndef broken(:\n    pass\n")
    result = prog.reload()
    assert not result["ok"] and result["status"] == "rejected" and result["reloaded"] == []
    [rej] = result["rejected"]
    assert rej["module"] == "bad" and rej["kind"] == "syntax"
    assert rej["file"] == str(path)
    assert rej["line"] == 10 and rej["col"] > 0
    assert "SyntaxError" in rej["message"]
    # Nothing of the batch applied; the program runs on the old code.
    assert prog.eval("[good.f(), bad.Sprite().draw()]") == ["good v1", "v1"]
    assert prog.modules()["good"]["version"] == 1


def test_type_change_rejects_whole_batch_naming_each_difference(start) -> None:
    prog = start({"good.py": GOOD, "bad.py": BAD}, "import good, bad\ns = bad.Sprite()")
    prog.write("good.py", GOOD.replace("v1", "v2"))
    changed = (BAD.replace("speed: int", "speed: int\n    hp: int")
               .replace("self.x = 0", "self.x = 0\n        self.y = 0")
               .replace("class Sprite:", "class Sprite(object):")
               .replace('"v1"', '"v2"'))
    prog.write("bad.py", changed)
    result = prog.reload()
    assert not result["ok"] and result["reloaded"] == [], result
    [rej] = result["rejected"]
    assert rej["kind"] == "type_change" and rej["module"] == "bad" and rej["cls"] == "Sprite"
    assert "field 'hp' added" in rej["differences"]
    assert "instance attribute 'self.y' added in __init__" in rej["differences"]
    assert "base 'object' added" in rej["differences"]
    assert prog.eval("[good.f(), s.draw()]") == ["good v1", "v1"]
    # Reported on stderr too, one line per rejected difference.
    stderr = prog.wait_stderr("field 'hp' added")
    assert "hcride: rejected bad: class Sprite" in stderr

    # Reported once: not pending any more, no retry every frame.
    assert prog.changed() is False
    result = prog.reload()
    assert result["ok"] and result["status"] == "empty" and result["rejected"] == []
    assert prog.modules()["bad"]["state"] == "rejected"

    # Fixing the bad module (keeping a method change) applies it AND the good module
    # that was held in the rejected batch.
    prog.write("bad.py", BAD.replace('"v1"', '"v3"'))
    assert prog.changed() is True
    result = prog.reload()
    assert result["ok"] and sorted(result["reloaded"]) == ["bad", "good"], result
    assert prog.eval("[good.f(), s.draw()]") == ["good v2", "v3"]
    assert prog.modules()["bad"]["version"] == 2 and prog.modules()["good"]["version"] == 2


def test_rejected_version_pending_again_after_next_change(start) -> None:
    prog = start({"bad.py": BAD}, "import bad")
    prog.write("bad.py", BAD + "\nx = (\n")
    assert prog.changed() is True
    assert prog.reload()["rejected"]
    assert prog.changed() is False
    prog.write("bad.py", BAD + "\nx = ((\n")  # still broken, but a new version
    assert prog.changed() is True
    result = prog.reload()
    assert result["rejected"] and result["rejected"][0]["kind"] == "syntax"
    assert prog.changed() is False


def test_exception_while_committing_rolls_back_whole_batch(start) -> None:
    first = "def f():\n    return 'first v1'\n\n\nclass K:\n    def m(self):\n        return 1\n"
    second = "import first\n\n\ndef g():\n    return 'second v1'\n"
    prog = start({"first.py": first, "second.py": second},
                 "import first, second\nfrom first import f\nk = first.K()")
    # first (committed first: second imports it) changes a function, a method and
    # adds a global; second's new global's initializer raises.
    prog.write("first.py", first.replace("v1", "v2").replace("return 1", "return 2")
               + "\nadded = 1\n\n\ndef newfunc():\n    return 0\n")
    prog.write("second.py", second.replace("v1", "v2") + "\nboom = 1 / 0\n")
    result = prog.reload()
    assert not result["ok"] and result["status"] == "failed", result
    assert "ZeroDivisionError" in result["error"] and "Traceback" in result["error"]
    assert "second.py" in result["error"]
    # Everything is as before: first's patched function and method are back.
    assert prog.eval("[f(), first.f(), k.m(), second.g()]") == ["first v1", "first v1", 1,
                                                               "second v1"]
    assert prog.eval("[hasattr(first, n) for n in ('added', 'newfunc')]") == [False, False]
    assert prog.eval("hasattr(second, 'boom')") is False
    assert prog.modules()["first"]["version"] == 1
    # Reported once.
    assert prog.changed() is False
    assert prog.reload()["status"] == "empty"
    # A fixed version applies.
    prog.write("second.py", second.replace("v1", "v3") + "\nboom = 1 / 1\n")
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["first", "second"], result
    assert prog.eval("[f(), k.m(), second.g(), second.boom, first.added]") == [
        "first v2", 2, "second v3", 1.0, 1]


def test_decorator_raising_rolls_back(start) -> None:
    src = "def deco(fn):\n    return fn\n\n\n@deco\ndef f():\n    return 1\n"
    prog = start({"logic.py": src}, "import logic\nfrom logic import f")
    # Contract v2: decorators run only when the decorator list changed.
    prog.write("logic.py", src.replace("@deco\n", "@boom\n").replace("return 1", "return 2")
               .replace("\n\n\n@", "\n\n\ndef boom(fn):\n    raise RuntimeError('deco boom')\n\n\n@"))
    result = prog.reload()
    assert not result["ok"] and "RuntimeError: deco boom" in result["error"], result
    assert prog.eval("[f(), logic.f()]") == [1, 1]
    assert "failed and was rolled back" in prog.wait_stderr("rolled back")


def test_dependency_order_module_before_its_importers(start) -> None:
    # Loaded (and so listed) in the order user, base; user imports base.
    files = {
        "user.py": "from base import CONST\n\n\ndef f():\n    return CONST\n",
        "base.py": "CONST = 1\n",
    }
    prog = start(files, "import user, base")
    prog.write("base.py", "CONST = 1\nNEW = 2\n")
    prog.write("user.py", "from base import CONST, NEW\n\n\ndef f():\n    return CONST + NEW\n")
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["base", "user"], result
    assert prog.eval("user.f()") == 3


def test_versions_count_applied_reloads(start) -> None:
    prog = start({"logic.py": "def f():\n    return 1\n"}, "import logic")
    assert prog.modules()["logic"]["version"] == 1
    for n in (2, 3):
        prog.write("logic.py", f"def f():\n    return {n}\n")
        result = prog.reload()
        assert result["modules"][0]["version"] == n
    prog.write("logic.py", "def f(:\n")
    assert prog.reload()["rejected"]
    assert prog.modules()["logic"]["version"] == 3
    assert prog.eval("logic.f()") == 3


def test_undecodable_source_rejected(start) -> None:
    prog = start({"logic.py": "def f():\n    return 1\n"}, "import logic")
    (prog.root / "logic.py").write_bytes(b"def f():\n    return '\xff\xfe'\n")
    result = prog.reload()
    assert not result["ok"] and result["rejected"][0]["module"] == "logic"
    assert prog.eval("logic.f()") == 1


def test_same_size_saves_within_one_timestamp_tick_are_seen(start) -> None:
    """Two saves in the same mtime tick with the same size: the second one is a new
    version too (stat is only a shortcut, the content hash decides)."""
    prog = start({"logic.py": "def f():\n    return 1\n"}, "import logic, os")
    assert os.path.getsize(prog.root / "logic.py") == len("def f():\n    return 1\n")
    value = prog.exec("""
        with open(logic.__file__, "w") as fh:
            fh.write("def f():\\n    return 2\\n")
        first = hcr.perform_code_reload()
        tick = os.stat(logic.__file__)
        with open(logic.__file__, "w") as fh:
            fh.write("def f():\\n    return 3\\n")
        os.utime(logic.__file__, ns=(tick.st_atime_ns, tick.st_mtime_ns))
        pending = hcr.has_any_module_changed()
        second = hcr.perform_code_reload()
        _result = [first.reloaded, pending, second.reloaded, logic.f()]
    """)
    assert value == [["logic"], True, ["logic"], 3]


def test_unchanged_touch_is_not_pending(start) -> None:
    prog = start({"logic.py": "def f():\n    return 1\n"}, "import logic")
    path = prog.root / "logic.py"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns + 5_000_000_000, st.st_mtime_ns + 5_000_000_000))
    prog.write("logic.py", "def f():\n    return 1\n")  # saved again, same bytes
    assert prog.changed() is False
    result = prog.reload()
    assert result["ok"] and result["status"] == "empty"
    # An edit and its undo before the reload: nothing pending either.
    prog.write("logic.py", "def f():\n    return 2\n")
    assert prog.changed() is True
    prog.write("logic.py", "def f():\n    return 1\n")
    assert prog.changed() is False
    assert prog.reload()["status"] == "empty"
