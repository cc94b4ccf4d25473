"""A PySide6 object idle in ``QCoreApplication.exec()`` under ``hcride run --watch``:
a ``QTimer`` connected to a ``functools.partial`` of a method, a Qt ``Property``
made with the decorator and one made from getter and setter functions. PySide6
classes have a metaclass written in C (``Shiboken.ObjectType``) that refuses
``type.__setattr__``: a member made again (a decorator added) is set with its own
``setattr``."""

from __future__ import annotations

from pathlib import Path

from conftest import require_on_program
from helpers_cli_run import CliRun
from helpers_session import write

MODEL = """
import functools

from PySide6.QtCore import Property, QObject, QTimer, Signal, Slot


class Model(QObject):
    nameChanged = Signal()

    def __init__(self):
        super().__init__()
        self._name = "n"
        self.timer = QTimer()
        self.timer.timeout.connect(functools.partial(self.report, "tick"))
        self.timer.start(100)

    def get_name(self):
        return self._name + " v1"

    def set_name(self, v):
        self._name = v
        self.nameChanged.emit()

    name = Property(str, get_name, set_name, notify=nameChanged)

    @Property(int)
    def answer(self):
        return 41

    def report(self, tag):
        print(f"{tag} {self.property('name')} {self.answer}\\n", end="", flush=True)
"""

MAIN = """
import sys

from PySide6.QtCore import QCoreApplication

import model

app = QCoreApplication(sys.argv)
m = model.Model()
sys.exit(app.exec())
"""


def test_pyside_properties_and_slots_edited_while_idle(tmp_path: Path) -> None:
    require_on_program("PySide6")
    write(tmp_path / "model.py", MODEL)
    write(tmp_path / "main.py", MAIN)
    run = CliRun(tmp_path / "main.py", QT_QPA_PLATFORM="offscreen")
    try:
        run.wait_line("tick n v1 41")
        steps = [
            (MODEL.replace('" v1"', '" v2"'), "tick n v2 41"),  # a getter given to Property()
            (MODEL.replace('" v1"', '" v2"').replace("return 41", "return 42"),
             "tick n v2 42"),  # the body of an @Property(int)
            (MODEL.replace('" v1"', '" v2"').replace("return 41", "return 42").replace(
                "    def report(self, tag):\n        print(f\"{tag}",
                "    @Slot(str)\n    def report(self, tag):\n        print(f\"slot {tag}"),
             "slot tick n v2 42"),  # a decorator added: the member is made again
        ]
        for text, expected in steps:
            mark = len(run.lines)
            write(tmp_path / "model.py", text)
            run.wait_line(expected, mark)
    finally:
        out = run.stop()
    assert "Traceback" not in out and "rolled back" not in out, out
