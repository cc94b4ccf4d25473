"""What newer CPythons add to functions, classes and modules follows the source on
every reload (issue 11, items 2 and 3): 3.12's ``__type_params__`` and ``type X = ...``
aliases, 3.13's class ``__firstlineno__``, 3.14's lazy annotations (an annotation naming
something imported only under ``if TYPE_CHECKING:``; a module's annotations when a new
annotated global is added).

These run the program on the newest CPython the machine has (``HCR_NEWEST_PYTHON``,
else Debian's 3.14 from ``pythons.sh``, else pyenv's newest): the rules must hold on
every version, and the newest is where they broke. The runtime reaches that
interpreter through a copy of ``hcride`` under the test's folder (a chroot interpreter
sees only ``/tmp``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import REPO, Program, dedent, driver_source, write_project

LAUNCHERS = Path(os.environ.get("HCR_PYWORK", "/srv/hcr-pyver")) / "bin"


def _version(python: str) -> tuple[int, int] | None:
    """The version of ``python``, if it runs and sees this machine's ``/tmp`` (a chroot
    launcher whose bind mounts are gone, after a reboot, still starts, in an empty
    ``/tmp`` of its own, where the tests' projects are not)."""
    with tempfile.TemporaryDirectory() as folder:
        marker = Path(folder) / "seen"
        marker.write_text("")
        code = ("import os, sys; print(*sys.version_info[:2], "
                f"os.path.exists({str(marker)!r}))")
        try:
            out = subprocess.run([python, "-c", code], capture_output=True, text=True,
                                 timeout=120, check=True, cwd=folder).stdout
            major, minor, seen = out.split()
        except (OSError, subprocess.SubprocessError, ValueError):
            return None
    return (int(major), int(minor)) if seen == "True" else None


_NEWEST: list[tuple[tuple[int, int], str]] = []


def newest_python() -> tuple[tuple[int, int], str]:
    if not _NEWEST:
        chosen = os.environ.get("HCR_NEWEST_PYTHON")
        candidates = [chosen] if chosen else [
            *(str(LAUNCHERS / f"python3.{n}") for n in (14,)),
            *(str(p) for p in Path.home().glob(".pyenv/versions/3.*/bin/python")),
        ]
        found = [(v, c) for c in candidates if Path(c).exists() and (v := _version(c))]
        found = [(v, c) for v, c in found if (3, 13) <= v < (3, 15)]
        if not found:
            pytest.fail("needs CPython 3.13 or 3.14: set HCR_NEWEST_PYTHON")
        _NEWEST.append(max(found))
    return _NEWEST[0]


@pytest.fixture
def newest(tmp_path: Path):
    """``newest(files, prelude)``: a driven program on the newest CPython."""
    version, python = newest_python()
    site = tmp_path / "site"
    shutil.copytree(REPO / "hcride", site / "hcride",
                    ignore=shutil.ignore_patterns("__pycache__", "ide", "controller"))
    programs: list[Program] = []

    def _start(files: dict[str, str], prelude: str) -> Program:
        proj = tmp_path / "proj"
        write_project(proj, {**files, "main.py": driver_source(prelude)})
        cmd = [python, "-m", "hcride.runtime", "--project", str(proj), "--",
               str(proj / "main.py")]
        program = Program(proj, cmd, env={"PYTHONPATH": str(site)})
        programs.append(program)
        assert program.eval("__import__('sys').version_info[:2]") == list(version)
        return program

    yield _start
    for program in programs:
        program.close()


def test_type_alias_follows_the_source_like_a_def(newest) -> None:
    prog = newest({"shapes.py": "type Pair = tuple[int, int]\ncount = 0\n"}, "import shapes")
    assert prog.eval("str(shapes.Pair.__value__)") == "tuple[int, int]"
    prog.write("shapes.py", "type Pair = tuple[str, str]\ncount = 5\n")
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("str(shapes.Pair.__value__)") == "tuple[str, str]"
    report = result["modules"][0]
    assert "Pair" in report["reevaluated"] and "Pair" not in report["preserved"]
    assert prog.eval("shapes.count") == 0  # a plain global still keeps its value


def test_type_params_of_patched_generic_function_and_class(newest) -> None:
    prog = newest({"gen.py": """
        def first[T](items: list[T]) -> T:
            return items[0]


        class Box[T]:
            def get[S](self, default: S) -> T | S:
                return default
    """}, "import gen\nkept = gen.first")
    prog.write("gen.py", """
        def first[U, V](items: list[U]) -> U:
            return items[-1]


        class Box[T]:
            def get[R](self, default: R) -> T | R:
                return (default, default)
    """)
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("kept is gen.first and kept([1, 2])") == 2
    assert prog.eval("[p.__name__ for p in gen.first.__type_params__]") == ["U", "V"]
    assert prog.eval("gen.first.__annotations__['return'] is gen.first.__type_params__[0]")
    assert prog.eval("[p.__name__ for p in gen.Box.get.__type_params__]") == ["R"]
    assert prog.eval("gen.Box().get(3)") == [3, 3]
    # The class's own parameters change: its members see the new one.
    prog.exec("box = gen.Box()")
    prog.write("gen.py", """
        def first[U, V](items: list[U]) -> U:
            return items[-1]


        class Box[T, W]:
            def get[R](self, default: R) -> W | R:
                return [default]
    """)
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("[p.__name__ for p in gen.Box.__type_params__]") == ["T", "W"]
    assert prog.eval("box.get(4)") == [4]
    assert prog.eval("str(gen.Box[int, str])").endswith("Box[int, str]")


def test_class_first_line_moves_with_lines_inserted_above(newest) -> None:
    source = "class Box:\n    def get(self):\n        return 1\n"
    prog = newest({"boxes.py": source}, "import boxes, inspect")
    prog.write("boxes.py", "# one\n# two\n# three\n\n" + source.replace("1", "2"))
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("boxes.Box.__firstlineno__") == 5
    assert prog.eval("inspect.getsource(boxes.Box)") == source.replace("1", "2")
    prog.write("boxes.py", "# one\n\n" + source.replace("1", "2"))  # moved, unchanged
    assert prog.reload()["ok"]
    assert prog.eval("boxes.Box.__firstlineno__") == 3
    assert prog.eval("inspect.getsource(boxes.Box)") == source.replace("1", "2")


def test_annotation_imported_only_for_type_checkers(newest) -> None:
    future = "" if newest_python()[0] >= (3, 14) else "from __future__ import annotations\n"
    source = future + dedent("""
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from decimal import Decimal


        def price(x: Decimal) -> Decimal:
            return 1


        class Till:
            total: int = 0

            def add(self, x: Decimal) -> None:
                self.total += 1
    """)
    prog = newest({"shop.py": source}, "import shop")
    prog.write("shop.py", source.replace("return 1", "return 2").replace("+= 1", "+= 5"))
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("shop.price(0)") == 2
    assert prog.exec("t = shop.Till(); t.add(0); _result = t.total") == 5


def test_new_annotated_global_keeps_the_module_annotations(newest) -> None:
    prog = newest({"conf.py": "name: str = 'a'\nsize: int = 1\n"},
                  "import conf, typing")
    prog.write("conf.py", "name: str = 'a'\nsize: int = 1\nratio: float = 0.5\n")
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("conf.ratio") == 0.5
    assert prog.eval("sorted(typing.get_type_hints(conf))") == ["name", "ratio", "size"]
    assert prog.eval("str(typing.get_type_hints(conf)['ratio'])") == "<class 'float'>"
