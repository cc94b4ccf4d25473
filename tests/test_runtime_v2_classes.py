"""Runtime v2: a class statement is not run again (no metaclass, no __init_subclass__,
no class decorator), a method gaining or losing super() is patched in place, and
adding ``Final`` to a class constant is not a shape change. Real programs in
subprocesses; the SQLAlchemy test edits a declarative model while rows are queried."""

from __future__ import annotations

from tests.helpers_interpreters import run_fixture  # noqa: F401 - the `run` fixture

HOOKS = """
events = []


class Meta(type):
    def __new__(mcls, name, bases, ns, **kw):
        events.append(("meta", name))
        return super().__new__(mcls, name, bases, ns, **kw)


def register(cls):
    events.append(("decorator", cls.__name__))
    return cls


class Plugin:
    plugins = []

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        events.append(("subclass", cls.__name__))
        Plugin.plugins.append(cls)

    def hello(self):
        return "plugin"


@register
class Echo(Plugin, metaclass=Meta):
    speed = 10

    def run(self):
        return "echo v1"

    def hello(self):
        return "echo"
"""


def test_class_statement_not_run_again_super_gained_and_lost(run) -> None:
    prog = run({"logic.py": HOOKS}, "import logic\necho = logic.Echo()\nhello = echo.hello\n"
                                    "Echo = logic.Echo")
    first = prog.eval("logic.events")
    assert first == [["meta", "Echo"], ["subclass", "Echo"], ["decorator", "Echo"]]
    # A method body edited, and a method that starts using super().
    prog.write("logic.py", HOOKS.replace("echo v1", "echo v2")
               .replace('return "echo"', 'return "echo>" + super().hello()'))
    result = prog.reload()
    assert result["ok"], result
    assert {"Echo.run", "Echo.hello"} <= set(result["modules"][0]["patched"]), result
    assert prog.eval("[echo.run(), echo.hello(), hello()]") == ["echo v2", "echo>plugin",
                                                                "echo>plugin"]
    # The class statement did not run: one metaclass call, one __init_subclass__,
    # one decorator call, one registry entry, the same class.
    assert prog.eval("logic.events") == first
    assert prog.eval("[len(logic.Plugin.plugins), logic.Echo is Echo]") == [1, True]
    # ... and stops using it: the bound method taken at the start follows.
    prog.write("logic.py", HOOKS.replace("echo v1", "echo v3")
               .replace('return "echo"', 'return "echo alone"'))
    assert prog.reload()["ok"]
    assert prog.eval("[echo.run(), echo.hello(), hello()]") == ["echo v3", "echo alone",
                                                                "echo alone"]
    assert prog.eval("logic.events") == first


def test_final_on_class_constant_is_not_a_shape_change(run) -> None:
    prog = run({"logic.py": HOOKS}, "import logic")
    prog.write("logic.py", HOOKS.replace("speed = 10", "speed = 20"))
    result = prog.reload()
    assert result["ok"] and "Echo.speed" in result["modules"][0]["stale"], result
    assert prog.eval("logic.Echo.speed") == 10
    # The message says how to make the value follow the source.
    assert "Final" in prog.wait_stderr("Echo.speed")
    prog.write("logic.py", "from typing import Final\n" + HOOKS.replace(
        "speed = 10", "speed: Final = 30"))
    result = prog.reload()
    assert result["ok"], result
    assert "Echo.speed" in result["modules"][0]["reevaluated"], result
    assert prog.eval("logic.Echo.speed") == 30


MODELS = """
import os

from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Post(Base):
    __tablename__ = "post"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))

    def describe(self):
        return f"v1 {self.title}"

    @property
    def shout(self):
        return self.title.upper() + " v1"


engine = create_engine("sqlite:///" + os.path.join(os.path.dirname(__file__), "posts.db"))
Base.metadata.create_all(engine)
with Session(engine) as _s:
    _s.add_all([Post(title="hello"), Post(title="world")])
    _s.commit()


def query():
    with Session(engine) as s:
        return [(p.describe(), p.shout) for p in s.scalars(select(Post).order_by(Post.id))]
"""

LOOP = """
import threading
import time
import models

seen = []
failures = []
Post = models.Post


def loop():
    while True:
        try:
            seen.append(models.query())
        except Exception as exc:
            failures.append(repr(exc))
        time.sleep(0.005)


threading.Thread(target=loop, daemon=True).start()
"""


def test_sqlalchemy_model_methods_and_properties_edited_while_queried(start) -> None:
    prog = start({"models.py": MODELS}, LOOP)
    prog.exec("""
        import time
        _deadline = time.monotonic() + 30
        while not seen and time.monotonic() < _deadline:
            time.sleep(0.01)
    """)
    assert prog.eval("failures") == []
    assert prog.eval("seen[-1]") == [["v1 hello", "HELLO v1"], ["v1 world", "WORLD v1"]]
    for version in ("v2", "v3"):
        prog.write("models.py", MODELS.replace('f"v1 ', f'f"{version} ')
                   .replace('" v1"', f'" {version}"'))
        result = prog.reload()
        assert result["ok"], result
        assert {"Post.describe", "Post.shout"} <= set(result["modules"][0]["patched"]), result
        prog.exec("""
            _n = len(seen)
            _deadline = time.monotonic() + 30
            while len(seen) < _n + 2 and time.monotonic() < _deadline:
                time.sleep(0.01)
        """)
        assert prog.eval("seen[-1]") == [[f"{version} hello", f"HELLO {version}"],
                                         [f"{version} world", f"WORLD {version}"]]
    # One mapped class, the same one; nothing was refused or rolled back.
    assert prog.eval("[models.Post is Post, len(models.Base.registry.mappers), failures]") == [
        True, 1, []]
    assert "already" not in prog.stderr and "rolled back" not in prog.stderr


MEMBERS = """
import functools


def tag(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return "tag:" + fn(*args)
    return wrapper


class Base:
    def who(self):
        return "base"

    @classmethod
    def kind(cls):
        return "base kind"

    @property
    def label(self):
        return "base label"


class Child(Base):
    def who(self):
        return "child"

    @classmethod
    def kind(cls):
        return "child kind"

    @property
    def label(self):
        return "child label"

    async def fetch(self):
        return "fetch v1"
"""


def test_members_gaining_super_and_decorators_with_super(run) -> None:
    prog = run({"logic.py": MEMBERS}, "import asyncio, logic\nc = logic.Child()\n"
                                      "who = c.who\nkind = logic.Child.kind\nfetch = c.fetch")
    new = (MEMBERS.replace('return "child"', 'return "child>" + super().who()')
           .replace('return "child kind"', 'return "child>" + super().kind()')
           .replace('return "child label"', 'return "child>" + super().label')
           .replace('return "fetch v1"', 'return "fetch>" + super().who()'))
    prog.write("logic.py", new)
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("[c.who(), who(), c.kind(), kind(), c.label, asyncio.run(fetch())]") == [
        "child>base", "child>base", "child>base kind", "child>base kind", "child>base label",
        "fetch>base"]
    # A decorator added to a method that uses super(): the super() cell is the live
    # class, and the bound method taken at the start reaches the decorated one.
    prog.write("logic.py", new.replace("    def who(self):\n        return \"child>\"",
                                       "    @tag\n    def who(self):\n        return \"child>\""))
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("[c.who(), who()]") == ["tag:child>base", "tag:child>base"]
