"""The variables pane's data, read from a real running program."""

from __future__ import annotations

from pathlib import Path

from helpers_session import Recorder, make_session, wait_loaded, write

from hcride.runtime import inspector

STATE = """
import time

big = list(range(10_000_000))
table = {"a": [1, 2, {"deep": "yes"}], 7: "seven", (1, 2): "tuple key"}
tags = {"x"}
text = "y" * 5000


class Bad:
    def __repr__(self):
        raise ValueError("no repr for you")


class Slow:
    def __repr__(self):
        time.sleep(30)
        return "slow"


class Point:
    __slots__ = ("x", "y")

    def __init__(self):
        self.x = 1
        self.y = 2


class Box:
    def __init__(self):
        self.items = [1, 2, 3]

    @property
    def explode(self):
        raise RuntimeError("properties are never called")


bad = Bad()
slow = Slow()
point = Point()
box = Box()
"""


def test_inspect_live_program(tmp_path: Path) -> None:
    write(tmp_path / "state.py", STATE)
    write(tmp_path / "main.py", "import time, state\nprint('ready', flush=True)\ntime.sleep(99)\n")
    rec = Recorder()
    session = make_session(tmp_path, rec)
    try:
        wait_loaded(rec, "state")
        rec.wait_output("ready")
        ok, data, error = session.inspect_wait("modules")
        assert ok, error
        assert "state" in [m["name"] for m in data["modules"]]

        ok, data, error = session.inspect_wait("globals", "state", timeout=60)
        assert ok, error
        items = {item["name"]: item for item in data["items"]}
        assert {"big", "table", "bad", "slow", "point", "box", "Bad"} <= set(items)
        assert all(len(item["repr"]) <= inspector.REPR_LIMIT for item in data["items"])
        assert items["big"]["length"] == 10_000_000 and items["big"]["expandable"]
        assert items["big"]["repr"].startswith("[0, 1, 2")
        assert "repr failed: ValueError: no repr for you" in items["bad"]["repr"]
        assert "timed out" in items["slow"]["repr"]
        assert items["Bad"]["kind"] == "class"
        assert items["text"]["repr"].endswith("...")

        ok, page, error = session.inspect_wait(
            "children", "state", path=["big"], offset=9_999_900, limit=100
        )
        assert ok, error
        assert page["total"] == 10_000_000 and len(page["items"]) == 100
        assert page["items"][0]["key"] == "i:9999900" and page["items"][-1]["repr"] == "9999999"

        ok, page, error = session.inspect_wait("children", "state", path=["table"])
        assert ok, error
        keys = {item["name"]: item["key"] for item in page["items"]}
        assert set(keys) == {"['a']", "[7]", "[(1, 2)]"}
        ok, inner, error = session.inspect_wait(
            "children", "state", path=["table", keys["['a']"], "i:2"]
        )
        assert ok, error
        assert inner["items"][0]["name"] == "['deep']" and inner["items"][0]["repr"] == "'yes'"
        tuple_key = keys["[(1, 2)]"]
        ok, inner, error = session.inspect_wait("children", "state", path=["table", tuple_key])
        assert ok and inner["total"] == 0, error  # a str has no children

        ok, attrs, error = session.inspect_wait("children", "state", path=["point"])
        assert ok, error
        assert [(i["name"], i["repr"]) for i in attrs["items"]] == [(".x", "1"), (".y", "2")]
        ok, attrs, error = session.inspect_wait("children", "state", path=["box"])
        assert ok, error
        assert [i["name"] for i in attrs["items"]] == [".items"]

        ok, _, error = session.inspect_wait("children", "state", path=["nope"])
        assert not ok and "nope" in (error or "")
        ok, _, error = session.inspect_wait("globals", "no_such_module")
        assert not ok and error

        # The program was only read: it still runs, its list is whole.
        ok, data, error = session.inspect_wait("globals", "state", timeout=60)
        assert ok and session.running
        assert {i["name"]: i for i in data["items"]}["big"]["length"] == 10_000_000
    finally:
        session.close()


class _FakeEngine:
    def __init__(self, module: object) -> None:
        self.module = module

    def module_infos(self) -> list[dict]:
        return []

    def get_module(self, name: str) -> object:
        return self.module if name == "m" else None

    def name_status(self, name: str) -> dict[str, str]:
        return {"a": "preserved"}


def test_handle_in_process_paging_and_status() -> None:
    import types

    module = types.ModuleType("m")
    module.a = list(range(250))  # type: ignore[attr-defined]
    module.s = frozenset(range(5))  # type: ignore[attr-defined]
    engine = _FakeEngine(module)
    data = inspector.handle(engine, {"what": "globals", "module": "m"})
    assert [(i["name"], i["status"]) for i in data["items"]] == [("a", "preserved"), ("s", None)]
    pages = [
        inspector.handle(
            engine, {"what": "children", "module": "m", "path": ["a"], "offset": o, "limit": 100}
        )
        for o in (0, 100, 200)
    ]
    assert [len(p["items"]) for p in pages] == [100, 100, 50]
    page = inspector.handle(engine, {"what": "children", "module": "m", "path": ["s"]})
    assert sorted(int(i["repr"]) for i in page["items"]) == list(range(5))
    for bad in (
        {"what": "children", "module": "m", "path": []},
        {"what": "children", "module": "m", "path": ["a", "zz"]},
        {"what": "children", "module": "m", "path": ["a", "i:999"]},
        {"what": "globals", "module": "m", "offset": -1},
        {"what": "teleport", "module": "m"},
    ):
        try:
            inspector.handle(engine, bad)
        except inspector.InspectError:
            continue
        raise AssertionError(f"accepted {bad}")


def test_bounded_repr_is_bounded() -> None:
    nested = [[list(range(1000))] * 1000] * 1000
    assert len(inspector.bounded_repr(nested)) <= inspector.REPR_LIMIT
    assert inspector.bounded_repr((1,)) == "(1,)"
    assert inspector.bounded_repr({1: "a"}) == "{1: 'a'}"
    assert inspector.bounded_repr(set()) == "set()"
    assert len(inspector.bounded_repr(10**10000)) <= inspector.REPR_LIMIT


def test_hostile_objects_cost_one_row_not_the_page() -> None:
    """A proxy whose ``__class__`` raises, sets whose ``__len__`` lies or raises and
    whose ``__iter__`` raises: the page is still answered, with every other global."""
    import types

    class Proxy:  # like werkzeug's LocalProxy outside a request
        @property
        def __class__(self):  # type: ignore[override]
            raise RuntimeError("working outside of application context")

    class LyingSet(set):
        def __len__(self) -> int:
            raise RuntimeError("len")

        def __iter__(self):  # type: ignore[override]
            raise RuntimeError("iter")

    class NegativeSet(frozenset):
        def __len__(self) -> int:
            return -1

    module = types.ModuleType("m")
    module.proxy = Proxy()  # type: ignore[attr-defined]
    module.lying = LyingSet({1, 2, 3})  # type: ignore[attr-defined]
    module.negative = NegativeSet({4})  # type: ignore[attr-defined]
    module.fine = [1, 2]  # type: ignore[attr-defined]
    engine = _FakeEngine(module)
    data = inspector.handle(engine, {"what": "globals", "module": "m"})
    items = {i["name"]: i for i in data["items"]}
    assert set(items) == {"proxy", "lying", "negative", "fine"}
    assert items["lying"]["length"] == 3 and items["negative"]["length"] == 1
    page = inspector.handle(engine, {"what": "children", "module": "m", "path": ["lying"]})
    assert page["total"] == 3 and sorted(i["repr"] for i in page["items"]) == ["1", "2", "3"]
    page = inspector.handle(engine, {"what": "children", "module": "m", "path": ["negative"]})
    assert page["total"] == 1 and page["items"][0]["repr"] == "4"
    child = inspector.handle(
        engine, {"what": "children", "module": "m", "path": ["lying", "p:0"]}
    )
    assert child["total"] == 0


def test_offsets_past_any_end_give_empty_pages() -> None:
    import types

    module = types.ModuleType("m")
    module.a = {"k": 1}  # type: ignore[attr-defined]
    module.s = {1}  # type: ignore[attr-defined]
    engine = _FakeEngine(module)
    for path in (["a"], ["s"]):
        for offset in (10**30, 2**63, 2**63 - 1):
            data = inspector.handle(
                engine,
                {"what": "children", "module": "m", "path": path, "offset": offset,
                 "limit": 2**63},
            )  # fmt: skip
            assert data["items"] == [] and data["total"] == 1
    try:
        inspector.handle(engine, {"module": "m"})
    except inspector.InspectError as exc:
        assert "unknown inspect request None" in str(exc)
    else:
        raise AssertionError("a request without 'what' was answered")
