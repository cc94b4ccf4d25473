"""Classes keep their identity; their members are patched in place (semantics.md)."""

from __future__ import annotations

SHAPES = """
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, Final


class Base:
    def hello(self):
        return "base"


class Sprite(Base):
    kind = "sprite"
    LIMIT: ClassVar[Final[int]] = 10

    def __init__(self, x):
        self.x = x

    def hello(self):
        return "old " + super().hello()

    def move(self):
        return self.x + 1

    def going(self):
        return "going"

    @property
    def label(self):
        return f"old label {self.x}"

    @classmethod
    def make(cls):
        return ("old make", cls.__name__)

    @staticmethod
    def unit():
        return "old unit"


@dataclass
class Point:
    x: int = 0
    y: int = 0

    def norm(self):
        return abs(self.x) + abs(self.y)


class Color(Enum):
    RED = 1
    GREEN = 2

    def describe(self):
        return "old " + self.name
"""

PRELUDE = """
import pickle
import logic

sprite = logic.Sprite(1)
point = logic.Point(3, -4)
red = logic.Color.RED
classes = (logic.Sprite, logic.Point, logic.Color)
"""


def new_shapes() -> str:
    return (
        SHAPES.replace('"old ', '"new ')
        .replace('("old make"', '("new make"')
        .replace("f\"old label", "f\"new label")
        .replace('    def going(self):\n        return "going"\n\n', "")
        .replace('kind = "sprite"', 'kind = "changed initializer"\n    speed_cap = 99')
        .replace("LIMIT: ClassVar[Final[int]] = 10", "LIMIT: ClassVar[Final[int]] = 20")
        .replace("return self.x + 1", "return self.x + 100")
        .replace(
            "        return abs(self.x) + abs(self.y)\n",
            "        return abs(self.x) + abs(self.y) + self.bonus()\n\n"
            "    def bonus(self):\n        return 1000\n",
        )
    )


def test_classes_keep_identity_and_get_new_behaviour(start) -> None:
    prog = start({"logic.py": SHAPES}, PRELUDE)
    assert prog.eval("[sprite.hello(), sprite.move(), sprite.label, logic.Sprite.make()]") == [
        "old base", 2, "old label 1", ["old make", "Sprite"],
    ]
    prog.write("logic.py", new_shapes())
    result = prog.reload()
    assert result["ok"], result
    report = result["modules"][0]
    assert {"Sprite.hello", "Sprite.move", "Sprite.label", "Sprite.make", "Sprite.unit",
            "Point.norm", "Color.describe"} <= set(report["patched"]), report
    assert "Point.bonus" in report["added"]
    assert "Sprite.going" in report["removed"]
    # Same class objects; existing instances are still instances and get new behaviour.
    assert prog.eval("classes == (logic.Sprite, logic.Point, logic.Color)")
    assert prog.eval("isinstance(sprite, logic.Sprite) and isinstance(point, logic.Point)")
    assert prog.eval("red is logic.Color.RED and isinstance(red, logic.Color)")
    assert prog.eval(
        "[sprite.hello(), sprite.move(), sprite.label, logic.Sprite.make(), sprite.unit()]"
    ) == ["new base", 101, "new label 1", ["new make", "Sprite"], "new unit"]
    # A new method, on an existing instance; a removed one is gone.
    assert prog.eval("point.norm()") == 1007
    assert prog.eval("hasattr(sprite, 'going')") is False
    assert prog.eval("red.describe()") == "new RED"
    # Class attributes: existing preserved (stale), new initialized, Final re-evaluated.
    assert prog.eval("[logic.Sprite.kind, logic.Sprite.speed_cap, logic.Sprite.LIMIT]") == [
        "sprite", 99, 20,
    ]
    assert "Sprite.kind" in report["stale"]
    assert "Sprite.speed_cap" in report["initialized"]
    assert "Sprite.LIMIT" in report["reevaluated"]


def test_instances_still_pickle_after_reload(start) -> None:
    prog = start({"logic.py": SHAPES}, PRELUDE)
    prog.write("logic.py", new_shapes())
    assert prog.reload()["ok"]
    prog.exec("""
        copy = pickle.loads(pickle.dumps(sprite))
        pcopy = pickle.loads(pickle.dumps(point))
        ccopy = pickle.loads(pickle.dumps(red))
        _result = [type(copy) is logic.Sprite, copy.x, copy.move(), pcopy == point,
                   ccopy is logic.Color.RED]
    """)
    assert prog.exec("_result = [type(copy) is logic.Sprite, copy.x, copy.move(), "
                     "pcopy == point, ccopy is logic.Color.RED]") == [True, 1, 101, True, True]


def test_super_in_new_and_patched_methods_of_subclasses(start) -> None:
    src = (
        'class A:\n    def who(self):\n        return "A"\n\n\n'
        'class B(A):\n    def who(self):\n        return "B>" + super().who()\n'
    )
    prog = start({"logic.py": src}, "import logic\nb = logic.B()")
    prog.write("logic.py", src.replace('"B>"', '"B2>"') + (
        "\n    def extra(self):\n        return 'extra>' + super().who()\n"
    ))
    assert prog.reload()["ok"]
    assert prog.eval("[b.who(), b.extra()]") == ["B2>A", "extra>A"]
    # Twice: the second patch of a patched method still finds the right class.
    prog.write("logic.py", src.replace('"B>"', '"B3>"') + (
        "\n    def extra(self):\n        return 'extra2>' + super().who()\n"
    ))
    assert prog.reload()["ok"]
    assert prog.eval("[b.who(), b.extra()]") == ["B3>A", "extra2>A"]


def test_new_class_bound_and_removed_class_unbound(start) -> None:
    src = "class Old:\n    pass\n"
    prog = start({"logic.py": src}, "import logic")
    prog.write("logic.py", "class New:\n    def hi(self):\n        return 'hi'\n")
    result = prog.reload()
    assert result["ok"], result
    assert "New" in result["modules"][0]["added"]
    assert "Old" in result["modules"][0]["removed"]
    assert prog.eval("[logic.New().hi(), hasattr(logic, 'Old')]") == ["hi", False]


def test_nested_class_methods_patched(start) -> None:
    src = """
    class Outer:
        class Inner:
            def value(self):
                return "old inner"
    """
    prog = start({"logic.py": src}, "import logic\ninner = logic.Outer.Inner()\n"
                 "Inner = logic.Outer.Inner")
    prog.write("logic.py", src.replace("old inner", "new inner"))
    assert prog.reload()["ok"]
    assert prog.eval("[inner.value(), logic.Outer.Inner is Inner]") == ["new inner", True]


def test_property_with_setter_patched(start) -> None:
    src = (
        "class Box:\n"
        "    def __init__(self):\n"
        "        self._v = 0\n\n"
        "    @property\n"
        "    def v(self):\n"
        "        return ('get1', self._v)\n\n"
        "    @v.setter\n"
        "    def v(self, value):\n"
        "        self._v = value + 1\n"
    )
    prog = start({"logic.py": src}, "import logic\nbox = logic.Box()")
    prog.write("logic.py", src.replace("get1", "get2").replace("value + 1", "value + 100"))
    result = prog.reload()
    assert result["ok"], result
    prog.exec("box.v = 1")
    assert prog.eval("box.v") == ["get2", 101]
