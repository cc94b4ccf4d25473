"""Unit tests of the pure source analysis (``hcride.analysis``)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from hcride.analysis import (
    changed_statements,
    class_shape,
    decode_source,
    diff_shapes,
    removed_statements,
    source_digest,
    split_module,
    type_changes,
)
from hcride.analysis import statements as st


def table(src: str) -> st.ModuleTable:
    return split_module(textwrap.dedent(src).lstrip("\n"))


def kinds(src: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(s.kind, s.names) for s in table(src).statements]


def shape_diff(old: str, new: str) -> list[str]:
    def shape(src: str):
        node = ast.parse(textwrap.dedent(src)).body[-1]
        assert isinstance(node, ast.ClassDef)
        return class_shape(node)

    return diff_shapes(shape(old), shape(new))


# ------------------------------------------------------------------ statement kinds


def test_statement_kinds() -> None:
    assert kinds('''
        """Doc."""
        from typing import ClassVar, Final
        import os.path, json as j
        SPEED: Final = 5
        LIMIT: Final[int] = 6
        OTHER: "Final" = 7
        QUALIFIED: typing.Final = 8
        CV: ClassVar[Final[int]] = 9
        count: int = 0
        decl: int
        a, (b, *rest) = 1, (2, 3, 4)
        x = y = 0
        obj.attr = 1
        items[0] = 1
        count += 1
        print("hi")
        if x:
            pass
        def f(): pass
        async def g(): pass
        class C: pass
    ''') == [
        ("doc", ("__doc__",)),
        ("import", ("ClassVar", "Final")),
        ("import", ("os", "j")),
        ("final", ("SPEED",)),
        ("final", ("LIMIT",)),
        ("final", ("OTHER",)),
        ("final", ("QUALIFIED",)),
        ("final", ("CV",)),
        ("assign", ("count",)),
        ("decl", ("decl",)),
        ("assign", ("a", "b", "rest")),
        ("assign", ("x", "y")),
        ("other", ()),
        ("other", ()),
        ("other", ()),
        ("other", ()),
        ("other", ()),
        ("def", ("f",)),
        ("def", ("g",)),
        ("class", ("C",)),
    ]


def test_classvar_without_final_is_plain_assign() -> None:
    assert kinds("X: ClassVar[int] = 1\n") == [("assign", ("X",))]


def test_docstring_only_first_statement() -> None:
    assert kinds('x = 1\n"not a docstring"\n') == [("assign", ("x",)), ("other", ())]


def test_decorated_statement_starts_at_first_decorator() -> None:
    src = "import functools\n\n\n@functools.lru_cache\n@other(\n    1,\n)\ndef f():\n    pass\n"
    stmt = table(src).statements[1]
    assert (stmt.kind, stmt.lineno, stmt.end_lineno) == ("def", 4, 9)
    assert stmt.text.startswith("@functools.lru_cache\n@other(")
    cls = table("@dataclass\nclass C:\n    x: int\n").statements[0]
    assert (cls.lineno, cls.end_lineno) == (1, 3)


def test_class_body_is_classified() -> None:
    [cls] = table("""
        class C:
            kind = "k"
            LIMIT: Final = 1
            x: int
            def m(self): pass
            class Inner: pass
    """).statements
    assert [(s.kind, s.names) for s in cls.body] == [
        ("assign", ("kind",)), ("final", ("LIMIT",)), ("decl", ("x",)),
        ("def", ("m",)), ("class", ("Inner",)),
    ]


def test_imported_modules_with_relative_levels() -> None:
    t = table("""
        import a.b, c
        from . import sibling
        from .mod import name
        from .. import up
        from ..pkg2.deep import thing
        from x.y import z
        from . import *
    """)
    found = t.imported_modules("top.pkg")
    assert found == [
        "a.b", "c",
        "top.pkg", "top.pkg.sibling",
        "top.pkg.mod", "top.pkg.mod.name",
        "top", "top.up",
        "top.pkg2.deep", "top.pkg2.deep.thing",
        "x.y", "x.y.z",
        "top.pkg",
    ]
    # A top-level module's relative import resolves without a package.
    assert table("from .m import n\n").imported_modules("") == ["m", "m.n"]


def test_syntax_error_raises_with_position() -> None:
    with pytest.raises(SyntaxError) as info:
        split_module("x = 1\ndef f(:\n    pass\n", "mod.py")
    assert info.value.lineno == 2 and info.value.filename == "mod.py"


def test_digest_is_of_bytes_and_decode_follows_pep263() -> None:
    assert source_digest(b"x = 1\n") == source_digest(b"x = 1\n")
    assert source_digest(b"x = 1\n") != source_digest(b"x = 2\n")
    latin = "# -*- coding: latin-1 -*-\ns = 'caf\xe9'\n".encode("latin-1")
    assert "café" in decode_source(latin)
    assert decode_source(b"\xef\xbb\xbfx = 1\r\n") == "x = 1\n"
    assert split_module(latin).digest == source_digest(latin)


def test_changed_and_removed_statements() -> None:
    old = table("import os\nx = 1\ndef f():\n    return 1\ndef g():\n    pass\nprint(1)\n")
    new = table("import os\nx = 2\ndef f():\n    return 1\ndef h():\n    pass\nprint(2)\n")
    assert [(s.kind, s.names) for s in changed_statements(old, new)] == [
        ("assign", ("x",)), ("def", ("h",)), ("other", ()),
    ]
    assert [(s.kind, s.names, s.text) for s in removed_statements(old, new)] == [
        ("def", ("g",), "def g():\n    pass\n"), ("other", (), "print(1)\n"),
    ]


def test_repeated_keys_are_not_hidden() -> None:
    [cls] = table("""
        class C:
            @property
            def v(self): return 1
            @v.setter
            def v(self, value): pass
    """).statements
    assert len(st.keyed(cls.body)) == 2


# ------------------------------------------------------------------ class shapes


def test_dataclass_fields() -> None:
    base = "@dataclass\nclass P:\n    x: int = 0\n    y: int = 0\n"
    assert shape_diff(base, base.replace("y: int = 0", "y: int = 5")) == []
    assert shape_diff(base, base + "    z: int = 0\n") == ["field 'z' added"]
    assert shape_diff(base, base.replace("    y: int = 0\n", "")) == ["field 'y' removed"]
    assert shape_diff(base, base.replace("y: int", "y: float")) == [
        "field 'y' annotation changed from 'int' to 'float'"
    ]
    assert shape_diff(base, base.replace("x: int = 0\n    y: int = 0",
                                         "y: int = 0\n    x: int = 0")) == [
        "fields reordered: (x, y) -> (y, x)"
    ]


def test_namedtuple_and_typeddict_fields() -> None:
    nt = "class NT(NamedTuple):\n    a: int\n    b: str\n"
    assert shape_diff(nt, nt + "    c: float\n") == ["field 'c' added"]
    td = "class TD(TypedDict, total=False):\n    a: int\n"
    assert shape_diff(td, td.replace("a: int", "a: str")) == [
        "field 'a' annotation changed from 'int' to 'str'"
    ]
    assert shape_diff(td, td.replace("total=False", "total=True")) == [
        "class keyword 'total=False' replaced by 'total=True'"
    ]


def test_enum_members() -> None:
    e = "class Color(Enum):\n    RED = 1\n    GREEN = 2\n\n    def f(self): pass\n"
    assert shape_diff(e, e.replace("GREEN = 2", "GREEN = 2\n    BLUE = 3")) == [
        "enum member 'BLUE' added"
    ]
    assert shape_diff(e, e.replace("GREEN = 2", "GREEN = 20")) == [
        "enum member 'GREEN' value changed from '2' to '20'"
    ]
    assert shape_diff(e, e.replace("    RED = 1\n", "")) == ["enum member 'RED' removed"]
    assert shape_diff(e, e.replace("def f(self): pass", "def f(self): return 1")) == []
    flag = "class Perm(enum.IntFlag):\n    R = 4\n"
    assert shape_diff(flag, flag + "    W = 2\n") == ["enum member 'W' added"]


def test_slots_bases_metaclass() -> None:
    s = "class S:\n    __slots__ = ('x',)\n"
    assert shape_diff(s, s.replace("('x',)", "('x', 'y')")) == [
        "__slots__ changed from '('x',)' to '('x', 'y')'"
    ]
    b = "class Player(Sprite, Mixin):\n    pass\n"
    assert shape_diff(b, b.replace("Sprite", "Entity")) == [
        "base 'Sprite' replaced by 'Entity'"
    ]
    assert shape_diff(b, b.replace(", Mixin", "")) == ["base 'Mixin' removed"]
    assert shape_diff(b, b.replace("Sprite, Mixin", "Mixin, Sprite")) == [
        "bases reordered: (Sprite, Mixin) -> (Mixin, Sprite)"
    ]
    m = "class M(Base, metaclass=ABCMeta):\n    pass\n"
    assert shape_diff(m, m.replace("ABCMeta", "Meta2")) == [
        "metaclass changed from 'ABCMeta' to 'Meta2'"
    ]


def test_init_self_attributes() -> None:
    c = textwrap.dedent("""
    class C:
        def __init__(self, a):
            self.a = a
            self.b, (self.c, *self.rest) = 1, (2, 3)
            self.count += 1
            def helper(self):
                self.not_mine = 1
            if a:
                self.d: int = 4
            other.e = 5
    """)
    shape = class_shape(ast.parse(textwrap.dedent(c)).body[0])  # type: ignore[arg-type]
    assert shape.init_attributes == ("a", "b", "c", "rest", "count", "d")
    assert shape_diff(c, c.replace("self.a = a", "self.a = a\n        self.z = 0")) == [
        "instance attribute 'self.z' added in __init__"
    ]
    assert shape_diff(c, c.replace("        self.count += 1\n", "")) == [
        "instance attribute 'self.count' removed from __init__"
    ]
    # A changed value of an existing attribute is not a type change.
    assert shape_diff(c, c.replace("self.a = a", "self.a = a * 2")) == []
    # Any name for self.
    me = "class C:\n    def __init__(me):\n        me.x = 1\n"
    assert shape_diff(me, me.replace("me.x = 1", "me.x = 1\n        me.y = 2")) == [
        "instance attribute 'self.y' added in __init__"
    ]


def test_class_decorators() -> None:
    d = "@dataclass\nclass C:\n    x: int\n"
    assert shape_diff(d, d.replace("@dataclass", "@dataclass(frozen=True)")) == [
        "decorator '@dataclass' replaced by '@dataclass(frozen=True)'"
    ]
    assert shape_diff(d, "@total_ordering\n" + d) == ["decorator '@total_ordering' added"]
    assert shape_diff(d, d.replace("@dataclass\n", "")) == ["decorator '@dataclass' removed"]


def test_nested_classes() -> None:
    n = "class Outer:\n    class Inner:\n        x: int\n\n    def m(self): pass\n"
    assert shape_diff(n, n.replace("x: int", "x: int\n        y: int")) == [
        "class Inner: field 'y' added"
    ]
    # A new nested class is not a type change.
    assert shape_diff(n, n + "\n    class Fresh:\n        pass\n") == []


def test_not_type_changes() -> None:
    c = textwrap.dedent('''
    class C(Base):
        """Doc."""
        kind = "k"

        def __init__(self):
            self.x = 1

        def m(self):
            return 1
    ''')
    changed = (c.replace('"""Doc."""', '"""Another doc."""')
               .replace("return 1", "return 2")
               .replace('kind = "k"', 'kind = "other"\n    extra = 1')
               + "\n    def new_method(self):\n        return 3\n"
               + "\n    @property\n    def p(self):\n        return 4\n")
    assert shape_diff(c, changed) == []


def test_type_changes_of_a_module() -> None:
    old = table("class A:\n    x: int\n\n\nclass B:\n    pass\n\n\nclass Gone:\n    pass\n")
    new = table("class A:\n    x: str\n\n\nclass B(Base):\n    pass\n\n\n"
                "class Renamed:\n    y: int\n\n\nclass Fresh(Other):\n    pass\n")
    changes = type_changes("mod", old, new)
    assert [(c.module, c.cls, c.differences) for c in changes] == [
        ("mod", "A", ("field 'x' annotation changed from 'int' to 'str'",)),
        ("mod", "B", ("base 'Base' added",)),
    ]
    assert changes[1].lineno == 5
    assert changes[0].describe() == (
        "mod: class A: field 'x' annotation changed from 'int' to 'str'"
    )
    assert changes[0].to_dict()["differences"] == [
        "field 'x' annotation changed from 'int' to 'str'"
    ]


def test_decorators_changed() -> None:
    from hcride.analysis.diff import decorators, decorators_changed

    old = table("@a\n@b(1)\ndef f():\n    pass\n\n\nclass C:\n    @staticmethod\n"
                "    def m():\n        pass\n").without_nodes()
    new = table("@a\n@b( 1 )\ndef f():\n    return 1\n\n\nclass C:\n    @classmethod\n"
                "    def m(cls):\n        pass\n")
    assert decorators(old.statements[0]) == ("a", "b(1)")  # parsed from text
    assert not decorators_changed(old.statements[0], new.statements[0])  # layout only
    assert decorators_changed(old.statements[1].body[0], new.statements[1].body[0])
    assert decorators(old.statements[1].body[0]) == ("staticmethod",)


def test_fields_made_by_constructors_are_part_of_the_shape() -> None:
    """ORM columns and model/form/serializer fields assigned in a class body are
    collected by the class when it is made: adding, removing or redefining one is a
    shape change; a plain class attribute (even a call) is not."""
    old = split_module(
        "class User(Base):\n    id = Column(Integer, primary_key=True)\n"
        "    name = models.CharField(max_length=20)\n    tags = fields.List(fields.Str())\n"
        "    cache = dict()\n"
    )
    new = split_module(
        "class User(Base):\n    id = Column(Integer, primary_key=True)\n"
        "    name = models.CharField(max_length=40)\n    email = db.Column(String)\n"
        "    cache = dict(a=1)\n    limit = 10\n"
    )
    (change,) = type_changes("m", old, new)
    assert change.differences == (
        "field 'name' definition changed from 'models.CharField(max_length=20)' to "
        "'models.CharField(max_length=40)'",
        "field 'email' added",
        "field 'tags' removed",
    )
    plain = split_module("class Point:\n    origin = Column(1)\n")
    assert type_changes("m", plain, split_module("class Point:\n    origin = Column(2)\n")) == []


FAST = '''"""Doc."""
from __future__ import annotations

import os

LIMIT = 3


def plain(n):
    total = 0
    for k in range(n):
        total += k
    return total


async def later(x=1):
    return x
    # a trailing comment


@decorated
def wrapped():
    return 1


def text():
    return """
not code
"""


class Box:
    def m(self):
        return 1
'''

EDITS = [
    ("total += k", "total += k * 2"),  # a body line
    ("def plain(n):", "def plain(n, m=2):"),  # the signature
    ("    return total\n", "    return total  # why\n    # a comment\n\n"),  # comments
    ("    return x\n", "    y = x\n    return y\n"),  # lines added (the rest moves)
    ("    return 1\n\n\ndef text", "    return 2\n\n\ndef text"),  # decorated: parsed
    ("not code", "still not code"),  # a string line at column 0: parsed
    ("    return total\n", "    return total\nX = 1\n"),  # code beside the def: parsed
    ("def plain(n):", "def plain(n=LIMIT):"),  # a default that loads a name: parsed
    ("    return x\n", "    return x\n\n\ndef extra():\n    pass\n"),  # a new def: parsed
    ("for k in range(n):", "for k in range(n)"),  # a syntax error: the same error
]


@pytest.mark.parametrize(("old", "new"), EDITS)
def test_a_changed_def_compiled_from_text_gets_the_table_parsing_gets(old: str, new: str) -> None:
    # update_table with the module's compiler flags may compile a changed def from its
    # text without a syntax tree; the table must be the one parsing gives, and a
    # syntax error the same one.
    from hcride.analysis.incremental import update_table

    table = st.split_module(FAST, "m.py").without_nodes()
    changed = FAST.replace(old, new, 1)
    assert changed != FAST

    def shape(t: st.ModuleTable) -> list[tuple[object, ...]]:
        return [(s.kind, s.names, s.lineno, s.end_lineno, s.text) for s in t.statements]

    try:
        parsed = update_table(table, FAST, changed, "d", "m.py")
    except SyntaxError as exc:
        with pytest.raises(SyntaxError) as fast_error:
            update_table(table, FAST, changed, "d", "m.py", flags=0)
        assert (fast_error.value.msg, fast_error.value.lineno) == (exc.msg, exc.lineno)
        return
    fast = update_table(table, FAST, changed, "d", "m.py", flags=0)
    assert shape(fast.table) == shape(parsed.table) == shape(st.split_module(changed, "m.py"))
    assert (fast.first, fast.stop, fast.delta) == (parsed.first, parsed.stop, parsed.delta)
    if fast.code is not None:  # the code makes the def's function at its lines
        (stmt,) = fast.fresh
        scope: dict[str, object] = {}
        exec(fast.code, {"__name__": "m"}, scope)
        func = scope[stmt.names[0]]
        assert func.__code__.co_firstlineno == stmt.lineno  # type: ignore[attr-defined]
    expected_fast = old in ("total += k", "def plain(n):", "    return total\n",
                            "    return x\n") and "X = 1" not in new and "LIMIT" not in new \
        and "extra" not in new
    assert (fast.code is not None) == expected_fast, (old, new)
