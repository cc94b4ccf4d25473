"""Real programs against the runtime's fast paths (an import run again read from the
modules already imported, a changed ``def`` compiled from its text, tracebacks that
quote the running code): what a user's program does, in a real subprocess, on the
program's interpreter, must come out as if the statements had run.
"""

from __future__ import annotations

from pathlib import Path

from helpers_cli_run import CliRun
from helpers_interpreters import run_fixture  # noqa: F401 - the ``run`` fixture
from helpers_session import write

# --------------------------------------------------------------------------- imports

HOOK = """
import builtins
SEEN = []
_orig = builtins.__import__
def _hook(name, *args, **kwargs):
    SEEN.append(name)
    return _orig(name, *args, **kwargs)
builtins.__import__ = _hook
"""


def test_an_import_hook_installed_before_the_api_sees_the_imports_run_again(start) -> None:
    """A program that wraps ``builtins.__import__`` first thing (a profiler, a lazy
    importer, a sandbox), before it imports ``hotcodereloading``: the engine is made
    after the hook (its own imports go through it), and the hook must still see the
    imports run again, as it does when installed later."""
    files = {"logic.py": "import json\n\n\ndef f():\n    return 1\n"}
    prog = start(files, "import logic", before_api=HOOK)
    prog.exec("SEEN.clear()")
    prog.write("logic.py", "import json\n\n\ndef f():\n    return 2\n")
    assert prog.reload()["ok"]
    assert prog.eval("logic.f()") == 2
    assert "json" in prog.eval("SEEN")


def test_a_hook_that_hands_out_proxies_keeps_them_after_a_reload(start) -> None:
    """An instrumenting import hook returns a wrapper for a project module; the import
    run again must bind what the hook returns, not the bare module."""
    hook = """
    import builtins, types
    _orig = builtins.__import__
    class Traced(types.ModuleType):
        pass
    def _hook(name, globals=None, locals=None, fromlist=(), level=0):
        module = _orig(name, globals, locals, fromlist, level)
        if name == "dep" and not fromlist:
            traced = Traced("dep")
            traced.__dict__.update(module.__dict__)
            return traced
        return module
    builtins.__import__ = _hook
    """
    files = {
        "dep.py": "X = 1\n",
        "logic.py": "import dep\n\n\ndef f():\n    return type(dep).__name__\n",
    }
    prog = start(files, "import logic", before_api=hook)
    assert prog.eval("logic.f()") == "Traced"
    prog.write("logic.py", "import dep\n\n\ndef f():\n    return 'v2 ' + type(dep).__name__\n")
    assert prog.reload()["ok"]
    assert prog.eval("logic.f()") == "v2 Traced"


IMPORT_ORACLE = """
import ast, importlib, sys
def check(modname):
    mod = sys.modules[modname]
    src = open(mod.__file__).read()
    bad = []
    for node in ast.parse(src).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            scratch = {}
            exec(compile(ast.Module([node], []), mod.__file__, "exec"), dict(vars(mod)), scratch)
            for k, v in scratch.items():
                if k != "json" and getattr(mod, k, None) is not v:
                    bad.append((ast.unparse(node), k, repr(getattr(mod, k, None))[:60], repr(v)[:60]))
    return bad
"""

PACKAGE = {
    "app/__init__.py": "from .util import helper\nfrom . import models\n",
    "app/util.py": "def helper():\n    return 'h'\n\n\ndef _private():\n    pass\n\n\nPUBLIC = 1\n",
    "app/models/__init__.py": "__all__ = ['User', 'base']\nfrom .user import User\n",
    "app/models/base.py": "class Base:\n    pass\n",
    "app/models/user.py": "from .base import Base\n\n\nclass User(Base):\n    pass\n",
    "app/tools/__init__.py": "tool = 'attr-shadows-submodule'\n",
    "app/tools/tool.py": "X = 1\n",
    "app/views/__init__.py": "",
    "app/views/deep/__init__.py": "",
    "app/views/deep/page.py": '''\
from __future__ import annotations

import os.path
import os.path as osp
import xml.etree.ElementTree as ET
import xml.etree
from ... import util
from ...util import *
from ...models import *
from ..deep import page as me
from .. import deep
from ...tools import tool
import app.tools.tool as tool_mod
import app.tools.tool
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from collections import OrderedDict
try:
    import nonexistent_mod_zz
except ImportError:
    nonexistent_mod_zz = None
import json
json = None


def render(x: OrderedDict) -> str:
    return "v1"
''',
}


def test_every_import_form_binds_what_running_it_binds_on_each_interpreter(run) -> None:
    """Relative imports three levels up, star imports with and without ``__all__``,
    ``import a.b.c as d`` where a package attribute shadows the submodule, imports under
    ``TYPE_CHECKING`` and ``try``, a name the module rebinds later (``json = None``),
    under ``from __future__ import annotations``: after a reload each import's names are
    what running it binds now (checked by running each import again in the program)."""
    prog = run(PACKAGE, "import app.tools.tool\nimport app.views.deep.page as page\n" + IMPORT_ORACLE)
    assert prog.eval("check('app.views.deep.page')") == []
    src = (prog.root / "app/views/deep/page.py").read_text()
    prog.write("app/views/deep/page.py", src.replace('"v1"', '"v2"'))
    # the program rebinds what imports bound; a star-imported module gets a name
    prog.exec("import app.util; app.util.NEW = 5; page.PUBLIC = None; page.tool = None; "
              "page.tool_mod = None")
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("page.render(None)") == "v2"
    assert prog.eval("check('app.views.deep.page')") == []
    assert prog.eval("page.NEW") == 5
    assert prog.eval("page.json") is None
    assert prog.eval("page.nonexistent_mod_zz") is None
    assert prog.eval("page.render.__annotations__") == {"x": "OrderedDict", "return": "str"}


DEP = """\
import functools


def tag(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return "T" + fn(*args)
    return wrapper


def f():
    return "f1"
"""


def test_an_aliased_from_import_follows_a_def_whose_decorators_changed(start) -> None:
    """``from dep import f as g``: a save adds a decorator to ``dep.f`` (the name is
    rebound to the decorated object). The import run again binds ``g`` to it, as it
    binds an unaliased ``from dep import f`` (which is followed); the alias kept the old
    function (same with the imports run as statements: the rebinding is followed by
    name, and ``g`` is not ``f``)."""
    logic = "from dep import f as g\nimport dep\n\n\ndef use():\n    return g()\n"
    prog = start({"dep.py": DEP, "logic.py": logic}, "import logic")
    prog.write("dep.py", DEP.replace("def f():", "@tag\ndef f():").replace("f1", "f2"))
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("logic.use()") == "Tf2"
    assert prog.eval("logic.g is logic.dep.f") is True, result["modules"]


# ------------------------------------------------------------------------------ defs


def test_a_def_whose_string_closes_on_a_comment_like_line_takes_later_edits(start) -> None:
    """A def returning a multi-line string whose last line starts with ``#`` at column
    0 (a shell script, a Makefile, a config template): that line is the def's, not a
    trailing comment. An edit of it must reach the program."""
    v1 = ('def banner():\n    return """hello\n# end"""\n\n\n'
          'def other():\n    return 1\n')
    prog = start({"logic.py": v1}, "import logic")
    v2 = v1.replace("hello", "hi")
    prog.write("logic.py", v2)
    assert prog.reload()["ok"]
    assert prog.eval("logic.banner()") == "hi\n# end"
    prog.write("logic.py", v2.replace("# end", "# fin"))
    result = prog.reload()
    assert result["ok"], result
    assert result["modules"][0]["patched"] == ["banner"], result  # it said 0 patched
    assert prog.eval("logic.banner()") == "hi\n# fin", result


def test_changed_defs_of_every_shape_in_a_crlf_latin1_tab_indented_module(start) -> None:
    """One-def saves (the text-compiled path) in a module with a coding cookie, CRLF
    line endings, tab indentation, non-ASCII strings and no newline at the end: a
    signature with keyword-only arguments and ``*args``, an async def, a generator, a
    one-line def at the end; tracebacks name the right line after a later def moved."""
    v1 = (b"# -*- coding: latin-1 -*-\r\n"
          b"import json\r\n\r\n\r\n"
          b"def f(a, *args, k=1, **kw):\r\n\treturn 'caf\xe9' + str(a)\r\n\r\n"
          b"async def g():\r\n\treturn 1\r\n\r\n"
          b"def gen():\r\n\tyield 1\r\n# trailing\r\n\r\n"
          b"def last(): return 'x'")
    prog = start({"logic.py": ""}, "import logic")
    steps = [
        (v1, "logic.f(1)", "caf\xe91"),
        ((b"'caf\xe9' + str(a)", b"'th\xe9' + str(a) + str(k)"), "logic.f(1)", "th\xe911"),
        ((b"k=1", b"k=2, j=3"), "logic.f(1, j=0)", "th\xe912"),
        ((b"return 'x'", b"return 'y'"), "logic.last()", "y"),
        ((b"\tyield 1", b"\tyield 2\r\n\tyield 3"), "list(logic.gen())", [2, 3]),
        ((b"\treturn 1", b"\treturn 5"), "__import__('asyncio').run(logic.g())", 5),
        ((b"return 'y'", b"return 1/0"), "1", 1),
        ((b"\tyield 2", b"\t# c\r\n\tyield 2"), "list(logic.gen())", [2, 3]),
    ]
    data = b""
    for edit, expr, value in steps:
        data = edit if isinstance(edit, bytes) else data.replace(*edit)
        (prog.root / "logic.py").write_bytes(data)
        result = prog.reload()
        assert result["ok"], result
        assert prog.eval(expr) == value
    assert prog.exec("""
    import traceback
    try:
        logic.last()
    except ZeroDivisionError as exc:
        _result = traceback.extract_tb(exc.__traceback__)[-1]
        _result = [_result.lineno, _result.line]
    """) == [17, "def last(): return 1/0"]


# ------------------------------------------------------------------------ tracebacks

MAIN_TB = """
import time
import traceback


def fail():
    raise ValueError("main line")


while True:
    try:
        fail()
    except ValueError as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        print(f"main {frame.lineno}: {frame.line}", flush=True)
    time.sleep(0.1)
"""


def test_main_script_tracebacks_quote_the_running_text_after_an_edit(tmp_path: Path) -> None:
    """The main script is never reloaded: after a save ("restart needed") it runs on
    with the text it started with, and its tracebacks must quote that text, not the
    saved file's line at the old number (here the line above it)."""
    write(tmp_path / "main.py", MAIN_TB)
    run = CliRun(tmp_path / "main.py")
    try:
        run.wait_line('main 6: raise ValueError("main line")')
        run.wait_line("connected")
        mark = len(run.lines)
        write(tmp_path / "main.py", "import os\n" + MAIN_TB)
        after = run.lines.index(run.wait_line("restart needed", mark), mark) + 1
        line = run.wait_line("main 6:", after)
    finally:
        run.stop()
    assert line == 'main 6: raise ValueError("main line")', line


SETTINGS = '''\
import sys


class _Settings:
    """A module that replaces itself with an object (configuration, lazy values):
    an unknown attribute raises KeyError, not AttributeError."""

    def __init__(self):
        self._values = {"DEBUG": True}

    def __getattr__(self, name):
        return self._values[name]


sys.modules[__name__] = _Settings()
'''


def test_an_import_of_a_module_replaced_by_an_object_runs_again(start) -> None:
    """``import settings`` works in Python when ``sys.modules['settings']`` is an
    object whose ``__getattr__`` raises KeyError (the import system ignores errors
    reading ``__spec__``); the same import run again must not fail the reload."""
    logic = "import settings\n\n\ndef f():\n    return settings.DEBUG\n"
    prog = start({"settings.py": SETTINGS, "logic.py": logic}, "import logic")
    prog.write("logic.py", logic.replace("return settings.DEBUG", "return not settings.DEBUG"))
    result = prog.reload()
    assert result["ok"], result["error"]
    assert prog.eval("logic.f()") is False
