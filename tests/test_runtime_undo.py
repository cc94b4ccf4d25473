"""The undo log of a batch: a rollback step that raises does not stop the others."""

from __future__ import annotations

from hcride.runtime.patching import UndoLog


class Refuses:
    """An object whose attribute cannot be put back (a C type, a frozen proxy...)."""

    def __init__(self) -> None:
        self.__dict__["value"] = "old"

    def __setattr__(self, name: str, value: object) -> None:
        if value == "old":
            raise TypeError("cannot restore")
        self.__dict__[name] = value


def test_rollback_runs_every_step_and_reports_the_ones_that_raised() -> None:
    first: dict[str, object] = {"a": 1}
    last: dict[str, object] = {"b": 2}
    stubborn = Refuses()
    undo = UndoLog()
    undo.set_item(first, "a", 10)
    undo.set_attr(stubborn, "value", "new")
    undo.set_item(last, "b", 20)
    problems = undo.rollback()
    assert first == {"a": 1} and last == {"b": 2}  # steps before and after the failure ran
    assert stubborn.value == "new"
    assert len(problems) == 1 and "cannot restore" in problems[0]
