"""ORM fields declared as plain class attributes: SQLAlchemy's classic declarative
style (``name = Column(String)``, also Flask-SQLAlchemy's ``db.Column``), Django's
``models.CharField()``, WTForms and marshmallow fields. The class's metaclass collects
them when the ``class`` statement runs (SQLAlchemy maps a column, Django's
``contribute_to_class``), and hcride does not run that statement again.

A field added by a save is part of the class's shape (the rows have no such column):
it must be refused with the reason, as a dataclass field is. Tried by hand: the column
was "initialized" as a bare class attribute the mapper never saw (``user.email`` is
the ``Column`` object itself); Django's ``votes = models.IntegerField(default=0)`` the
same. Run by ``hcride run --watch`` while the program queries the table."""

from __future__ import annotations

from pathlib import Path

from conftest import require_on_program
from helpers_cli_run import CliRun
from helpers_session import TIMEOUT, wait_until, write

MODELS = """
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String)

    def greet(self):
        return "hi " + self.name
"""

MAIN = """
import time

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import models

engine = create_engine("sqlite://")
models.Base.metadata.create_all(engine)
with Session(engine) as s:
    s.add(models.User(name="ann"))
    s.commit()
last = None
while True:
    with Session(engine) as s:
        text = ", ".join(u.greet() for u in s.scalars(select(models.User)))
    if text != last:
        print(text + "\\n", end="", flush=True)  # one write: hcride's lines (same pipe) never split it
        last = text
    time.sleep(0.05)
"""


def test_a_column_added_to_a_classic_declarative_model_is_refused(tmp_path: Path) -> None:
    require_on_program("sqlalchemy")
    write(tmp_path / "models.py", MODELS)
    write(tmp_path / "main.py", MAIN)
    run = CliRun(tmp_path / "main.py")
    try:
        run.wait_line("hi ann")
        run.wait_line("connected")
        # A method body: applied while it queries.
        mark = len(run.lines)
        write(tmp_path / "models.py", MODELS.replace('"hi "', '"hello "'))
        run.wait_line("hello ann", mark)
        # A column: the mapper and the table would not know it.
        mark = len(run.lines)
        write(tmp_path / "models.py", MODELS.replace('"hi "', '"hello "').replace(
            "    name = Column(String)\n", "    name = Column(String)\n    email = Column(String)\n"))
        wait_until(lambda: any("rejected models" in ln or "reloaded models" in ln
                               for ln in run.lines[mark:]), TIMEOUT, "the save's outcome")
        line = next(ln for ln in run.lines[mark:] if "models" in ln and "ed models" in ln)
        assert "rejected models: class User:" in line and "email" in line, line
    finally:
        run.stop()
