"""Split Python source into top-level statements, each classified by kind.

Pure functions over text and ``ast`` trees: no imports of user code, no I/O. The
runtime (inside the user's program) and the build step (in the controller) both
use them, so a statement means the same thing on both sides.

Kinds, following ``semantics.md``:

``def``     a top-level ``def`` / ``async def`` with its decorators: patched in place.
``class``   a top-level ``class`` with its decorators: patched, identity kept.
``import``  ``import`` / ``from ... import``: executed again on every reload.
``assign``  an assignment to plain names: runs only for names the module lacks.
``final``   an assignment annotated ``Final``: re-evaluated on every reload.
``decl``    an annotation without a value (``x: int``): nothing to run.
``doc``     the module docstring.
``other``   anything else (calls, loops, ``if``, ``with``, ``try``, ...): never re-run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from hcride.analysis.shapes import ClassShape, class_shape

try:  # the same function as hashlib.blake2b, without importing OpenSSL at start
    from _blake2 import blake2b as _blake2b
except ImportError:  # pragma: no cover - a Python built without _blake2
    from hashlib import blake2b as _blake2b

DEF, CLASS, IMPORT, ASSIGN, FINAL, DECL, DOC, OTHER = (
    "def",
    "class",
    "import",
    "assign",
    "final",
    "decl",
    "doc",
    "other",
)


@dataclass(unsafe_hash=True)
class Statement:
    """One top-level statement of a module (or of a class body). Never changed once
    made (not ``frozen``: a frozen dataclass takes five times as long to make, and a
    reload makes or loads thousands)."""

    kind: str
    names: tuple[str, ...]
    """Names the statement binds (empty for ``other``)."""
    lineno: int
    """First line, decorators included (1-based)."""
    end_lineno: int
    text: str
    """The statement's source lines, exactly as written."""
    node: ast.stmt | None = field(default=None, compare=False, repr=False)
    """The parsed node; None when the statement came from serialized data."""
    body: tuple[Statement, ...] = field(default=(), compare=False, repr=False)
    """For classes: the statements of the class body, classified the same way."""
    shape: ClassShape | None = field(default=None, compare=False, repr=False)
    origin: int = field(default=0, compare=False, repr=False)
    """The line the statement started on when it was parsed. A statement reused at
    another line (``shifted``) keeps its body's line numbers as parsed: add
    ``body_offset`` to them."""
    spec: ImportSpec | None = field(default=None, compare=False, repr=False)
    """For an import: what it imports (``import_spec``), kept with the table so that
    running it again or reading its modules needs no parsing."""

    @property
    def body_offset(self) -> int:
        return self.lineno - self.origin if self.origin else 0

    def shifted(self, delta: int) -> Statement:
        """The same statement ``delta`` lines further down (the body is not copied)."""
        if not delta:
            return self
        return Statement(self.kind, self.names, self.lineno + delta, self.end_lineno + delta,
                         self.text, None, self.body, self.shape, self.origin or self.lineno,
                         self.spec)

    @property
    def key(self) -> tuple[str, ...]:
        """What identifies the statement across two versions of a module."""
        if self.kind in (DEF, CLASS, ASSIGN, FINAL, DECL):
            return (self.kind, *self.names)
        return (self.kind, self.text.strip())


@dataclass(frozen=True)
class ModuleTable:
    """A module's source, split and classified: what the runtime diffs."""

    statements: tuple[Statement, ...]
    digest: str

    def by_key(self) -> dict[tuple[str, ...], Statement]:
        """Statements by key (computed once per table)."""
        cached = self.__dict__.get("_by_key")
        if cached is None:
            cached = keyed(self.statements)
            self.__dict__["_by_key"] = cached
        return cached

    def without_nodes(self) -> ModuleTable:
        """The same table without syntax trees, to keep in memory between reloads."""
        return ModuleTable(strip_nodes(self.statements), self.digest)

    def classes(self) -> dict[str, Statement]:
        return {s.names[0]: s for s in self.statements if s.kind == CLASS}

    def imported_modules(self, package: str | None) -> list[str]:
        """Absolute names of the modules the top-level imports name."""
        found: list[str] = []
        for s in self.statements:
            if s.kind == IMPORT and s.spec is not None:
                found.extend(spec_modules(s.spec, package))
        return found


def table_to_data(table: ModuleTable) -> tuple[Any, ...]:
    """``table`` (without syntax trees) as tuples, strings and numbers, which
    ``marshal`` writes and reads at C speed (``table_from_data`` reads it back)."""
    return (table.digest, tuple(_statement_data(s) for s in table.statements))


def table_from_data(data: tuple[Any, ...]) -> ModuleTable:
    digest, statements = data
    return ModuleTable(tuple(_statement_from(d) for d in statements), digest)


def _statement_data(s: Statement) -> tuple[Any, ...]:
    body = tuple(_statement_data(b) for b in s.body)
    shape = None if s.shape is None else _shape_data(s.shape)
    return (s.kind, s.names, s.lineno, s.end_lineno, s.text, body, shape, s.origin, s.spec)


def _statement_from(d: tuple[Any, ...]) -> Statement:
    kind, names, lineno, end, text, body, shape, origin, spec = d
    return Statement(kind, names, lineno, end, text, None,
                     tuple(_statement_from(b) for b in body) if body else (),
                     None if shape is None else _shape_from(shape), origin, spec)


def _shape_data(shape: ClassShape) -> tuple[Any, ...]:
    return (shape.name, shape.bases, shape.metaclass, shape.keywords, shape.slots,
            shape.fields, shape.enum_members, shape.init_attributes, shape.decorators,
            tuple(_shape_data(n) for n in shape.nested), shape.declared)


def _shape_from(d: tuple[Any, ...]) -> ClassShape:
    *first, nested, declared = d
    return ClassShape(*first, tuple(_shape_from(n) for n in nested), declared)


ImportSpec = tuple[str | None, int, tuple[tuple[str, str | None], ...]]
"""``(module, level, ((name, asname), ...))`` of ``from module import name as asname``
(``module`` "" for ``from . import``); ``(None, 0, ((dotted, asname), ...))`` of
``import dotted as asname``."""


def import_spec(node: ast.stmt) -> ImportSpec:
    """What an ``import`` or ``from ... import`` statement imports, as plain data."""
    aliases = tuple((a.name, a.asname) for a in node.names)  # type: ignore[attr-defined]
    if isinstance(node, ast.ImportFrom):
        return (node.module or "", node.level or 0, aliases)
    return (None, 0, aliases)


def resolve_module(module: str, level: int, package: str | None) -> str | None:
    """The absolute name of ``module`` imported ``level`` dots up from ``package``, as
    the import system resolves it (None where it would refuse)."""
    if not level:
        return module
    if not package:
        return None
    bits = package.rsplit(".", level - 1)
    if len(bits) < level:
        return None
    return f"{bits[0]}.{module}" if module else bits[0]


def source_digest(data: bytes) -> str:
    """The content hash that identifies a version of a source file."""
    return _blake2b(data, digest_size=16).hexdigest()


def is_final_annotation(annotation: ast.expr | None) -> bool:
    """True for ``Final``, ``Final[int]``, ``typing.Final``, ``ClassVar[Final[int]]``."""
    if annotation is None:
        return False
    node = annotation
    if isinstance(node, ast.Subscript):
        base = node.value
        name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", None)
        if name == "ClassVar":
            return is_final_annotation(node.slice)
        node = base
    if isinstance(node, ast.Attribute):
        return node.attr == "Final"
    if isinstance(node, ast.Name):
        return node.id == "Final"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value == "Final" or node.value.startswith(("Final[", "typing.Final"))
    return False


def _target_names(target: ast.expr) -> list[str] | None:
    """Plain names bound by an assignment target, or None if it writes elsewhere."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        names: list[str] = []
        for elt in target.elts:
            inner = _target_names(elt.value if isinstance(elt, ast.Starred) else elt)
            if inner is None:
                return None
            names.extend(inner)
        return names
    return None


def classify(node: ast.stmt) -> tuple[str, tuple[str, ...]]:
    """The kind of a top-level statement and the names it binds."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return DEF, (node.name,)
    if isinstance(node, ast.ClassDef):
        return CLASS, (node.name,)
    if isinstance(node, ast.Import):
        return IMPORT, tuple((a.asname or a.name).split(".")[0] for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return IMPORT, tuple(a.asname or a.name for a in node.names if a.name != "*")
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        if node.value is None:
            return DECL, (node.target.id,)
        kind = FINAL if is_final_annotation(node.annotation) else ASSIGN
        return kind, (node.target.id,)
    if isinstance(node, ast.Assign):
        names: list[str] = []
        for target in node.targets:
            inner = _target_names(target)
            if inner is None:
                return OTHER, ()
            names.extend(inner)
        return ASSIGN, tuple(dict.fromkeys(names))
    if isinstance(node, ast.TypeAlias if hasattr(ast, "TypeAlias") else ()):  # 3.12+
        return FINAL, (node.name.id,)  # type: ignore[attr-defined]  # a declaration, like def
    return OTHER, ()


def imported_names(node: ast.stmt, package: str | None) -> list[str]:
    """Absolute module names an import statement refers to."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return spec_modules(import_spec(node), package)
    return []


def spec_modules(spec: ImportSpec, package: str | None) -> list[str]:
    """Absolute module names an import (its ``import_spec``) refers to: the modules
    ``import`` names; the module ``from`` names and what it may import from it."""
    module, level, aliases = spec
    if module is None:
        return [name for name, _ in aliases]
    base = module
    if level:
        parts = (package or "").split(".")
        if level > 1:
            parts = parts[: -(level - 1)] or [""]
        prefix = ".".join(p for p in parts if p)
        base = f"{prefix}.{base}" if base and prefix else (prefix or base)
    found = [base] if base else []
    found.extend(f"{base}.{name}" if base else name for name, _ in aliases if name != "*")
    return found


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decorators)])


def split_body(
    body: list[ast.stmt], lines: list[str], *, module_level: bool = True, first_line: int = 1
) -> tuple[Statement, ...]:
    """Classify each statement of ``body``; ``lines`` are the source's lines from line
    ``first_line`` on (a chunk of the module that holds ``body``)."""
    skip = first_line
    out: list[Statement] = []
    for index, node in enumerate(body):
        if (
            index == 0
            and module_level
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            kind, names = DOC, ("__doc__",)
        else:
            kind, names = classify(node)
        start = _first_line(node)
        end = node.end_lineno or node.lineno
        text = "".join(lines[start - skip : end - skip + 1])
        inner: tuple[Statement, ...] = ()
        shape = None
        if kind == CLASS:
            assert isinstance(node, ast.ClassDef)
            inner = split_body(node.body, lines, module_level=False, first_line=skip)
            shape = class_shape(node)
        spec = import_spec(node) if kind == IMPORT else None
        out.append(Statement(kind, names, start, end, text, node, inner, shape, start, spec))
    return tuple(out)


def split_module(source: str | bytes, filename: str = "<unknown>") -> ModuleTable:
    """Parse ``source`` and classify its top-level statements.

    Raises ``SyntaxError`` when the source does not parse.
    """
    data = source.encode("utf-8") if isinstance(source, str) else source
    text = source if isinstance(source, str) else decode_source(source)
    return table_from_tree(ast.parse(text, filename), text, source_digest(data))


def table_from_tree(tree: ast.Module, text: str, digest: str) -> ModuleTable:
    """Classify the statements of an already parsed module."""
    return ModuleTable(split_body(tree.body, split_lines(text)), digest)


def keyed(statements: tuple[Statement, ...]) -> dict[tuple[str, ...], Statement]:
    """Statements by key; a repeated key (a property's getter and setter, two
    ``@overload``s) gets its ordinal appended so that no statement is hidden."""
    out: dict[tuple[str, ...], Statement] = {}
    for s in statements:
        key = s.key
        n = 1
        while key in out:
            n += 1
            key = (*s.key, f"#{n}")
        out[key] = s
    return out


def strip_nodes(statements: tuple[Statement, ...]) -> tuple[Statement, ...]:
    return tuple(
        Statement(s.kind, s.names, s.lineno, s.end_lineno, s.text, None, strip_nodes(s.body),
                  s.shape, s.origin, s.spec)
        for s in statements
    )


def decode_source(data: bytes) -> str:
    """Decode source bytes the way the import system does (PEP 263, BOM)."""
    if data.startswith(b"\xef\xbb\xbf") or b"coding" in data[: _two_lines(data)]:
        import io
        import tokenize

        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    else:
        encoding = "utf-8"  # no BOM, no PEP 263 cookie (tokenize's answer, faster)
    text = data.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _two_lines(data: bytes) -> int:
    """The length of the first two lines of ``data`` (where a coding cookie may be)."""
    first = data.find(b"\n")
    if first < 0:
        return len(data)
    second = data.find(b"\n", first + 1)
    return len(data) if second < 0 else second + 1


def split_lines(text: str) -> list[str]:
    """``text``'s lines, ends kept, as the parser counts them: at ``\\n`` only.
    (``str.splitlines`` also splits at form feeds, ``\\x1c``-``\\x1e``, ``\\x85`` and
    U+2028/U+2029, which Python source may contain inside a line.)"""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def bound_names(statements: tuple[Statement, ...]) -> set[str]:
    """Every name a sequence of statements binds."""
    return {n for s in statements for n in s.names if s.kind != DOC}
