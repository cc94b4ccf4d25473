"""Imports run again at every reload (semantics.md: they are declarations). An import
whose modules are all imported already is read from them rather than compiled and
run; every form of import must bind what running it binds, and anything that needs
importing (or an import hook the program installed) runs the statement itself."""

from __future__ import annotations

LOGIC = '''\
import os.path
import os.path as osp
import json as j
from collections import OrderedDict as OD, deque
from . import helper
from .helper import VALUE
from .helper import *
from .sub import leaf
import pkg.sub.leaf as leaf_alias
from pkg.sub import leaf as leaf2


def f():
    return "v1"
'''


def test_every_form_of_import_binds_what_running_it_binds(start) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/helper.py": "__all__ = ['STAR', 'VALUE']\nVALUE = 1\nSTAR = 's'\n_HIDDEN = 0\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/leaf.py": "X = 1\n",
        "pkg/logic.py": LOGIC,
    }
    prog = start(files, "import pkg.logic as logic")
    # The program rebinds what the imports bound (as a test double would, or code
    # that deleted a name): running the imports again binds them back.
    prog.exec("""
    for _n in ("os", "osp", "j", "OD", "deque", "helper", "VALUE", "STAR", "leaf",
               "leaf_alias", "leaf2"):
        setattr(logic, _n, None)
    import pkg.helper
    pkg.helper.VALUE = 2
    """)
    prog.write("pkg/logic.py", LOGIC.replace('"v1"', '"v2"'))
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("logic.f()") == "v2"
    assert prog.eval("""[
        logic.os is __import__("os"),
        logic.osp is __import__("os").path,
        logic.j is __import__("json"),
        logic.OD is __import__("collections").OrderedDict,
        logic.deque is __import__("collections").deque,
        logic.helper is __import__("pkg.helper").helper,
        logic.VALUE, logic.STAR, hasattr(logic, "_HIDDEN"),
        logic.leaf is __import__("pkg.sub.leaf").sub.leaf,
        logic.leaf_alias is logic.leaf, logic.leaf2 is logic.leaf,
    ]""") == [True, True, True, True, True, True, 2, "s", False, True, True, True]


def test_an_import_of_a_module_not_imported_yet_runs_and_imports_it(start) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/extra.py": "print('extra ran', flush=True)\nN = 5\n",
        "pkg/logic.py": "from pkg import extra\n\n\ndef f():\n    return extra.N\n",
    }
    prog = start(files, "import pkg.logic as logic")
    # The program drops the module (a plugin system unloading it): the import runs
    # again and imports it anew, with its top level.
    prog.exec("import sys; del sys.modules['pkg.extra']; del sys.modules['pkg'].extra")
    prog.write("pkg/logic.py", "from pkg import extra\n\n\ndef f():\n    return extra.N + 1\n")
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("logic.f()") == 6
    assert prog.eval("'pkg.extra' in __import__('sys').modules") is True
    assert prog.eval("logic.extra is __import__('sys').modules['pkg.extra']") is True


def test_a_failing_import_rolls_back_with_its_own_error(start) -> None:
    files = {
        "dep.py": "A = 1\n",
        "logic.py": "from dep import A\n\n\ndef f():\n    return 1\n",
    }
    prog = start(files, "import logic")
    prog.exec("import dep; del dep.A")  # what the import takes is gone
    prog.write("logic.py", "from dep import A\n\n\ndef f():\n    return 2\n")
    result = prog.reload()
    assert not result["ok"] and result["status"] == "failed", result
    assert "cannot import name 'A' from 'dep'" in result["error"], result["error"]
    assert 'File "' in result["error"] and "logic.py\", line 1" in result["error"]
    assert prog.eval("logic.f()") == 1  # rolled back


COMPILES = """
import sys
_compiled = []
def _audit(event, args):
    if event == "compile":
        _compiled.append(args[1])
sys.addaudithook(_audit)
"""


def test_a_body_edit_compiles_only_the_changed_function_however_many_imports(start) -> None:
    # Imports run again on every reload; compiling each costs more than the edit
    # (a module with 60 imports: 60 compilations for one changed line). Counted with
    # the interpreter's own "compile" audit events, staging and commit together.
    imports = "".join(
        f"from collections import {name}\nimport {mod}\n"
        for name, mod in zip(
            ["OrderedDict", "deque", "Counter", "ChainMap", "defaultdict", "namedtuple"] * 5,
            ["os", "json", "re", "math", "string", "textwrap"] * 5, strict=True,
        )
    )
    text = imports + "\n\ndef f():\n    return 1\n"
    prog = start({"logic.py": text}, "import logic\n" + COMPILES)
    prog.exec("_compiled.clear()")
    prog.write("logic.py", text.replace("return 1", "return 2"))
    assert prog.reload()["ok"]
    assert prog.eval("logic.f()") == 2
    compiled = [c for c in prog.eval("_compiled") if str(c).endswith("logic.py")]
    assert len(compiled) <= 2, compiled  # the changed def (parsed, then compiled)
