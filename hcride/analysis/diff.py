"""Compare two versions of a module: what changed, and which type changes forbid it."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from hcride.analysis.shapes import diff_shapes
from hcride.analysis.statements import CLASS, DEF, ModuleTable, Statement, split_lines


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
            found.append(
                TypeChange(module, name, tuple(differences), difference_line(stmt, differences[0]))
            )
    return found


def class_line(stmt: Statement) -> int:
    """The line of the ``class`` keyword (a statement's first line is its first decorator)."""
    for index, line in enumerate(split_lines(stmt.text)):
        if line.lstrip().startswith("class "):
            return stmt.lineno + index
    return stmt.lineno


def difference_line(stmt: Statement, difference: str) -> int:
    """The line in the new version a shape difference points at: the added or changed
    field, member or ``self.`` assignment; else the ``class`` line."""
    if difference.startswith("decorator"):
        return stmt.lineno
    match = re.search(r"'([^']+)'", difference)
    if not match:
        return class_line(stmt)
    name = match.group(1)
    offset = stmt.body_offset
    if name.startswith("self."):
        for member in stmt.body:
            if member.names == ("__init__",):
                for index, line in enumerate(split_lines(member.text)):
                    if re.search(rf"\b{re.escape(name)}\b", line):
                        return member.lineno + offset + index
        return class_line(stmt)
    for member in stmt.body:
        if name in member.names:
            return member.lineno + offset
    return class_line(stmt)


def changed_statements(old: ModuleTable, new: ModuleTable) -> list[Statement]:
    """Statements of ``new`` whose text differs from (or is absent in) ``old``."""
    before = old.by_key()
    return [s for k, s in new.by_key().items() if (b := before.get(k)) is None or b.text != s.text]


def removed_statements(old: ModuleTable, new: ModuleTable) -> list[Statement]:
    """Statements of ``old`` with no statement of the same key in ``new``."""
    after = new.by_key()
    return [s for k, s in old.by_key().items() if k not in after]


def decorators(stmt: Statement) -> tuple[str, ...] | None:
    """The decorators of a ``def`` or ``class`` statement, as normalized source text;
    None if its text cannot be parsed on its own."""
    node = stmt.node
    if node is None:
        text = stmt.text
        if stmt.kind in (DEF, CLASS) and not text.lstrip().startswith("@"):
            return ()  # a definition's text starts at its first decorator
        if text[:1] in (" ", "\t"):  # a class member: parse it inside a block
            text = "if 1:\n" + text
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return None
        node = tree.body[0]
        if isinstance(node, ast.If):
            node = node.body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return None
    return tuple(ast.unparse(d) for d in node.decorator_list)


def decorators_changed(old: Statement, new: Statement) -> bool:
    """True when a definition's decorators differ between two versions: its live
    object cannot be patched in place and must be replaced by the new one."""
    before, after = decorators(old), decorators(new)
    return before is None or after is None or before != after
