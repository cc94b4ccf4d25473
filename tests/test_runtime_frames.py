"""Running frames, closures, generators and coroutines finish on their old code; new
ones use the new code (semantics.md, "Frames, closures, generators, coroutines")."""

from __future__ import annotations

from conftest import dedent

LOGIC = """
from hcride import hotcodereloading as hcr

log = []


def update():
    log.append("update v1 before")
    result = hcr.perform_code_reload()
    log.append(("update v1 after", result.reloaded, helper()))
    return "update v1"


def helper():
    return "helper v1"


def make_closure():
    def inner():
        return "closure v1"
    return inner


def counter():
    yield "gen v1 a"
    yield "gen v1 b"
    yield "gen v1 c"


async def job(event):
    await event.wait()
    return "coro v1"
"""


def new_logic() -> str:
    return LOGIC.replace(" v1", " v2")


def test_reload_from_inside_a_reloadable_function(start) -> None:
    """The seed's F9 case: logic.update() calls perform_code_reload()."""
    prog = start({"logic.py": LOGIC}, "import logic")
    prog.write("logic.py", new_logic())
    assert prog.eval("logic.update()") == "update v1"  # the running frame finished on old code
    # ... while a function it called after the reload already ran the new code.
    assert prog.eval("logic.log") == ["update v1 before", ["update v1 after", ["logic"],
                                                           "helper v2"]]
    assert prog.eval("logic.update()") == "update v2"  # the next call runs the new code
    assert prog.modules()["logic"]["version"] == 2


def test_generators_started_before_keep_old_code_closures_get_new(start) -> None:
    prog = start({"logic.py": LOGIC}, "import logic\nclosure = logic.make_closure()\n"
                 "gen = logic.counter()\nfirst = next(gen)")
    prog.write("logic.py", new_logic())
    assert prog.reload()["ok"]
    assert prog.eval("[first, next(gen), next(gen)]") == ["gen v1 a", "gen v1 b", "gen v1 c"]
    # Contract v2: a closure that is not running gets the new code of its def.
    assert prog.eval("closure()") == "closure v2"
    assert prog.eval("logic.make_closure()()") == "closure v2"
    assert prog.eval("list(logic.counter())") == ["gen v2 a", "gen v2 b", "gen v2 c"]


def test_coroutines_started_before_keep_old_code(start) -> None:
    prog = start({"logic.py": LOGIC}, "import asyncio\nimport logic")
    result = prog.exec("""
        async def scenario():
            event = asyncio.Event()
            old_task = asyncio.create_task(logic.job(event))
            await asyncio.sleep(0)  # started, suspended in the old code
            with open(logic.__file__) as fh:
                text = fh.read()
            with open(logic.__file__, "w") as fh:
                fh.write(text.replace(" v1", " v2"))
            reloaded = hcr.perform_code_reload().reloaded
            new_task = asyncio.create_task(logic.job(event))
            event.set()
            return [reloaded, await old_task, await new_task]

        _result = asyncio.run(scenario())
    """)
    assert result == [["logic"], "coro v1", "coro v2"]


def test_nested_reload_call_from_a_handler_is_refused(start) -> None:
    src = """
    from hcride import hotcodereloading as hcr

    inner = []


    @hcr.after_code_reload
    def again():
        r = hcr.perform_code_reload()
        inner.append([r.ok, r.error])
    """
    prog = start({"logic.py": src}, "import logic")
    prog.write("logic.py", dedent(src) + "\n\nx = 1\n")
    result = prog.reload()
    assert result["ok"] and result["handler_errors"] == [], result
    [[ok, error]] = prog.eval("logic.inner")
    assert ok is False and "during a reload" in error
