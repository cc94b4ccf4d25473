"""Compare two versions of a module: what changed, and which type changes forbid it."""

from __future__ import annotations

from dataclasses import dataclass

from hcride.analysis.shapes import diff_shapes
from hcride.analysis.statements import ModuleTable, Statement


@dataclass(frozen=True)
class TypeChange:
    """A class whose shape differs between the running and the new version."""

    module: str
    cls: str
    differences: tuple[str, ...]
    lineno: int
    """Line of the class statement in the new version."""

    def describe(self) -> str:
        return f"{self.module}: class {self.cls}: " + "; ".join(self.differences)

    def to_dict(self) -> dict:
        return {
            "module": self.module,
            "cls": self.cls,
            "differences": list(self.differences),
            "lineno": self.lineno,
        }


def type_changes(module: str, old: ModuleTable, new: ModuleTable) -> list[TypeChange]:
    """Every class present in both versions whose shape changed."""
    old_classes = old.classes()
    found: list[TypeChange] = []
    for name, stmt in new.classes().items():
        before = old_classes.get(name)
        if before is None or before.shape is None or stmt.shape is None:
            continue
        if before.text == stmt.text:
            continue
        differences = diff_shapes(before.shape, stmt.shape)
        if differences:
            found.append(TypeChange(module, name, tuple(differences), stmt.lineno))
    return found


def changed_statements(old: ModuleTable, new: ModuleTable) -> list[Statement]:
    """Statements of ``new`` whose text differs from (or is absent in) ``old``."""
    before = old.by_key()
    return [s for k, s in new.by_key().items() if (b := before.get(k)) is None or b.text != s.text]


def removed_statements(old: ModuleTable, new: ModuleTable) -> list[Statement]:
    """Statements of ``old`` with no statement of the same key in ``new``."""
    after = new.by_key()
    return [s for k, s in old.by_key().items() if k not in after]
