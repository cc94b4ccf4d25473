"""Check a new version of a module the way the runtime will apply it: parse and
compile only the top-level statements around the changed lines
(``hcride.analysis.incremental``), so a build of a 10,000-line module costs about a
millisecond. Any doubt falls back to parsing the whole module, so a verdict (and a
syntax error's position) never depends on the shortcut.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from hcride.analysis.incremental import update_table
from hcride.analysis.statements import ModuleTable, source_digest, table_from_tree


@dataclass(frozen=True)
class Version:
    """One version of a module's source, split into top-level statements."""

    digest: str
    text: str
    table: ModuleTable


class CheckError(Exception):
    """The new source does not compile: carries line, column and message."""

    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


def full_version(text: str, data: bytes, filename: str) -> Version:
    """Parse and compile the whole module (raises ``CheckError``)."""
    try:
        tree = ast.parse(text, filename)
        compile(tree, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise CheckError(exc.msg or "invalid syntax", exc.lineno or 0, exc.offset or 0) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise CheckError(str(exc), 0, 0) from None
    table = table_from_tree(tree, text, source_digest(data)).without_nodes()
    return Version(table.digest, text, table)


def new_version(old: Version | None, text: str, data: bytes, filename: str) -> Version:
    """The checked ``Version`` of ``text``, reusing ``old`` where lines are unchanged.

    Raises ``CheckError`` when the new source does not compile.
    """
    if old is None:
        return full_version(text, data, filename)
    try:
        update = update_table(old.table, old.text, text, source_digest(data), filename)
        for stmt in update.fresh:  # compile-time errors (``return`` outside a function...)
            if stmt.node is not None:  # (else compiled from its text already)
                compile(ast.Module([stmt.node], []), filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise CheckError(exc.msg or "invalid syntax", exc.lineno or 0, exc.offset or 0) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise CheckError(str(exc), 0, 0) from None
    return Version(update.table.digest, text, update.kept_table())
