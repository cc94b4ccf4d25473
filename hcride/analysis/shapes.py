"""Class shapes: the part of a class definition that existing instances depend on.

Nim refuses a reload when a type definition changed; hcride refuses one when the
shape of a class that exists in both versions changed (``semantics.md``, "Type
changes"). A shape is read from source alone, so the build step can reject a
change before the running program is even told.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

_ENUM_HINTS = ("Enum", "Flag")


@dataclass(frozen=True)
class ClassShape:
    """What instances of a class depend on, as source text."""

    name: str
    bases: tuple[str, ...]
    metaclass: str | None
    keywords: tuple[str, ...]
    slots: str | None
    fields: tuple[tuple[str, str], ...]
    """Class-level annotations in order: (name, annotation text)."""
    enum_members: tuple[tuple[str, str], ...]
    """For classes whose bases look like an Enum: (member, value text)."""
    init_attributes: tuple[str, ...]
    """Attributes ``__init__`` assigns on ``self``, in first-assignment order."""
    decorators: tuple[str, ...]
    nested: tuple[ClassShape, ...] = ()
    declared: tuple[tuple[str, str], ...] = ()
    """Class attributes made by a field constructor, which the class's metaclass or
    base collects when the ``class`` statement runs (an ORM column, a Django model or
    form field, a serializer field): (name, value text)."""


def _text(node: ast.AST) -> str:
    return ast.unparse(node)


def _looks_like_enum(bases: tuple[str, ...]) -> bool:
    return any(hint in base.rsplit(".", 1)[-1] for base in bases for hint in _ENUM_HINTS)


def _self_attributes(init: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, ...]:
    args = init.args.posonlyargs + init.args.args
    if not args:
        return ()
    self_name = args[0].arg
    found: dict[str, None] = {}

    def targets_of(node: ast.AST) -> list[ast.expr]:
        if isinstance(node, ast.Assign):
            return list(node.targets)
        if isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            return [node.target]
        return []

    def collect(target: ast.expr) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                collect(elt.value if isinstance(elt, ast.Starred) else elt)
        elif (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == self_name
        ):
            found.setdefault(target.attr)

    # Walk the body but not nested functions or classes: their `self` is another one.
    stack: list[ast.AST] = list(init.body)
    ordered: list[ast.AST] = []
    while stack:
        node = stack.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        ordered.append(node)
        stack[0:0] = list(ast.iter_child_nodes(node))
    for node in ordered:
        for target in targets_of(node):
            collect(target)
    return tuple(found)


_FIELD_CALLS = ("Column", "mapped_column", "relationship", "column_property", "synonym",
                "composite", "deferred", "ForeignKey", "ib", "attrib")
"""Constructors of fields a class collects when it is made: SQLAlchemy's (also as
``db.Column``), attrs' ``attr.ib()``; and anything named ``...Field`` (Django models
and forms, WTForms)."""


def _field_call(value: ast.expr | None) -> bool:
    """Is ``value`` a call of a field constructor (``Column(String)``,
    ``models.CharField(max_length=20)``, ``fields.Str()``)?"""
    if not isinstance(value, ast.Call):
        return False
    name = _text(value.func)
    last = name.rsplit(".", 1)[-1]
    return last in _FIELD_CALLS or last.endswith("Field") or name.startswith("fields.")


_FIELD_DECORATORS = ("dataclass", "define", "frozen", "mutable", "s", "attrs", "dataclass_json")
_FIELD_BASES = ("NamedTuple", "TypedDict", "BaseModel", "Struct", "Model")


def _is_constant_annotation(annotation: ast.expr) -> bool:
    """``Final``, ``Final[int]``, ``ClassVar``, ``ClassVar[...]`` (any module prefix)."""
    node = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.split("[")[0].rsplit(".", 1)[-1] in ("Final", "ClassVar")
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    return name in ("Final", "ClassVar")


def _declares_no_fields(node: ast.ClassDef, bases: tuple[str, ...]) -> bool:
    """A plain class: no decorator (dataclass, attrs...), no field-declaring base
    (NamedTuple, TypedDict, pydantic...) and no annotation other than constants.
    In such a class a ``Final``/``ClassVar`` annotation declares a constant."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if _text(target).rsplit(".", 1)[-1] in _FIELD_DECORATORS or _text(target).startswith(
            ("attr.", "attrs.")
        ):
            return False
    if any(b.rsplit(".", 1)[-1].split("[")[0] in _FIELD_BASES for b in bases):
        return False
    return all(
        _is_constant_annotation(s.annotation)
        for s in node.body
        if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
        and s.target.id != "__slots__"
    )


def class_shape(node: ast.ClassDef) -> ClassShape:
    """Extract the shape of a class from its definition."""
    bases = tuple(_text(b) for b in node.bases)
    metaclass = None
    keywords: list[str] = []
    for kw in node.keywords:
        if kw.arg == "metaclass":
            metaclass = _text(kw.value)
        else:
            keywords.append(f"{kw.arg}={_text(kw.value)}" if kw.arg else f"**{_text(kw.value)}")
    slots = None
    fields: list[tuple[str, str]] = []
    members: list[tuple[str, str]] = []
    declared: list[tuple[str, str]] = []
    init_attributes: tuple[str, ...] = ()
    nested: list[ClassShape] = []
    is_enum = _looks_like_enum(bases)
    constants_only = _declares_no_fields(node, bases)
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if stmt.target.id == "__slots__":
                slots = _text(stmt.value) if stmt.value else None
            elif constants_only and _is_constant_annotation(stmt.annotation):
                continue  # `speed: Final = 10` in a plain class: a constant, not a field
            else:
                fields.append((stmt.target.id, _text(stmt.annotation)))
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if not isinstance(target, ast.Name):
                    continue
                if target.id == "__slots__":
                    slots = _text(stmt.value)
                elif is_enum and not target.id.startswith("_"):
                    members.append((target.id, _text(stmt.value)))
                elif bases and _field_call(stmt.value):
                    declared.append((target.id, _text(stmt.value)))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == "__init__":
            init_attributes = _self_attributes(stmt)
        elif isinstance(stmt, ast.ClassDef):
            nested.append(class_shape(stmt))
    return ClassShape(
        name=node.name,
        bases=bases,
        metaclass=metaclass,
        keywords=tuple(keywords),
        slots=slots,
        fields=tuple(fields),
        enum_members=tuple(members),
        init_attributes=init_attributes,
        decorators=tuple(_text(d) for d in node.decorator_list),
        nested=tuple(nested),
        declared=tuple(declared),
    )


def _diff_sequence(label: str, old: tuple[str, ...], new: tuple[str, ...]) -> list[str]:
    """Differences between two ordered lists of names, in words."""
    out: list[str] = []
    added = [n for n in new if n not in old]
    removed = [n for n in old if n not in new]
    if len(old) == len(new) and len(added) == 1 and len(removed) == 1:
        return [f"{label} '{removed[0]}' replaced by '{added[0]}'"]
    out.extend(f"{label} '{n}' added" for n in added)
    out.extend(f"{label} '{n}' removed" for n in removed)
    if not out and old != new:
        out.append(f"{label}s reordered: ({', '.join(old)}) -> ({', '.join(new)})")
    return out


def _diff_pairs(label: str, old: tuple[tuple[str, str], ...], new: tuple[tuple[str, str], ...],
                what: str) -> list[str]:
    out: list[str] = []
    old_map, new_map = dict(old), dict(new)
    for name, value in new:
        if name not in old_map:
            out.append(f"{label} '{name}' added")
        elif old_map[name] != value:
            out.append(f"{label} '{name}' {what} changed from '{old_map[name]}' to '{value}'")
    out.extend(f"{label} '{name}' removed" for name, _ in old if name not in new_map)
    if not out and [n for n, _ in old] != [n for n, _ in new]:
        out.append(
            f"{label}s reordered: ({', '.join(n for n, _ in old)}) -> "
            f"({', '.join(n for n, _ in new)})"
        )
    return out


def diff_shapes(old: ClassShape, new: ClassShape) -> list[str]:
    """Each difference between two shapes of one class, in words; empty if equal."""
    out: list[str] = []
    out += _diff_sequence("base", old.bases, new.bases)
    if old.metaclass != new.metaclass:
        out.append(f"metaclass changed from '{old.metaclass}' to '{new.metaclass}'")
    out += _diff_sequence("class keyword", old.keywords, new.keywords)
    if old.slots != new.slots:
        out.append(f"__slots__ changed from '{old.slots}' to '{new.slots}'")
    out += _diff_pairs("field", old.fields, new.fields, "annotation")
    out += _diff_pairs("enum member", old.enum_members, new.enum_members, "value")
    out += _diff_pairs("field", old.declared, new.declared, "definition")
    old_attrs, new_attrs = set(old.init_attributes), set(new.init_attributes)
    out += [
        f"instance attribute 'self.{n}' added in __init__"
        for n in new.init_attributes
        if n not in old_attrs
    ]
    out += [
        f"instance attribute 'self.{n}' removed from __init__"
        for n in old.init_attributes
        if n not in new_attrs
    ]
    out += _diff_sequence(
        "decorator", tuple(f"@{d}" for d in old.decorators), tuple(f"@{d}" for d in new.decorators)
    )
    old_nested = {s.name: s for s in old.nested}
    for inner in new.nested:
        if inner.name in old_nested:
            out += [f"class {inner.name}: {d}" for d in diff_shapes(old_nested[inner.name], inner)]
    return out
