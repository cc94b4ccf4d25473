"""Classify a new version of a module by parsing only the statements that changed.

A save usually touches one function of a long module. Parsing 10,000 lines costs
about 80 ms; finding the changed lines (common prefix and suffix) and parsing the
top-level statements around them costs about a millisecond. The result is the table
``split_module`` would give, built from the previous version's table with the
changed statements replaced and the ones below moved. When the changed chunk does
not parse on its own, the whole module is parsed, so a verdict (and a syntax
error's position) never depends on the shortcut.

The two versions are compared as whole texts, never split into lists of lines: the
common prefix and suffix are found by comparing slices (C speed), and line numbers
by counting newlines, so the Python-level work is the changed statements' (a module
of 100,000 lines costs what one of 1,000 does, plus a few passes of ``memcmp``).
"""

from __future__ import annotations

import ast
import types
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from operator import attrgetter

from hcride.analysis.statements import (
    DEF,
    ModuleTable,
    Statement,
    split_body,
    split_lines,
    strip_nodes,
    table_from_tree,
)


@dataclass(frozen=True)
class Update:
    """A new version's table and which of its statements were parsed anew."""

    table: ModuleTable
    fresh: tuple[Statement, ...]
    """Statements parsed from the changed lines (they carry syntax trees)."""
    first: int = 0
    """Index of the first fresh statement, in both tables (the ones before are shared)."""
    stop: int = 0
    """Index in the old table of the first statement after the replaced ones."""
    delta: int = 0
    """How many lines the statements after the fresh ones moved."""
    code: types.CodeType | None = None
    """When the only fresh statement is an undecorated ``def`` compiled straight from
    its text (``_changed_def``; it has no syntax tree): that code (it makes the
    function)."""

    def kept_table(self) -> ModuleTable:
        """The table to keep between versions: fresh statements without syntax trees."""
        if not self.fresh:
            return self.table
        statements = self.table.statements
        end = self.first + len(self.fresh)
        return ModuleTable(
            statements[: self.first] + strip_nodes(self.fresh) + statements[end:],
            self.table.digest,
        )

    @property
    def moved(self) -> tuple[Statement, ...]:
        """The statements after the fresh ones: the old ones, ``delta`` lines away."""
        return self.table.statements[self.first + len(self.fresh) :]


def line_count(text: str) -> int:
    """How many lines the parser sees in ``text`` (split at ``\\n`` only)."""
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


@dataclass(frozen=True)
class Span:
    """Where two versions of a text differ, in whole lines."""

    prefix: int
    """Lines equal at the start."""
    suffix: int
    """Lines equal at the end (not overlapping the prefix)."""
    delta: int
    """The change in the number of lines."""
    head: int
    """Offset of the first line after the prefix (the same in both texts)."""
    old_tail: int
    """Offset in the old text of the first line of the suffix."""
    new_tail: int
    """Offset in the new text of the first line of the suffix."""
    old_lines: int = 0
    """How many lines the old text has."""


def changed_span(old: str, new: str) -> Span:
    """The lines equal at the start and at the end of ``old`` and ``new``, as splitting
    both into lines and comparing them would find (longest prefix first, then the
    longest suffix that does not overlap it), without splitting them."""
    c = _common_prefix(old, new)
    head = old.rfind("\n", 0, c) + 1  # the start of the line the first difference is in
    if c == len(old) == len(new):  # the same text
        n = line_count(old)
        return Span(n, 0, 0, len(old), len(old), len(new), n)
    prefix = old.count("\n", 0, head)
    d = _common_suffix(old, new, min(len(old), len(new)) - head)
    old_tail, new_tail = len(old) - d, len(new) - d
    # The suffix must start at a line start in both texts: at once, or after the
    # first newline in it (the text after a position is the same in both).
    if not ((old_tail == 0 or old[old_tail - 1] == "\n")
            and (new_tail == 0 or new[new_tail - 1] == "\n")):
        k = old.find("\n", old_tail)
        step = len(old) - old_tail if k < 0 else k - old_tail + 1
        old_tail, new_tail = old_tail + step, new_tail + step
    # Newlines are counted once over each text (``count`` reads 2 GB/s: a 100 KB
    # module's whole text costs 50 us a pass): the prefix, the suffix and the two
    # middles. An unterminated last line counts as a line of the suffix, or of the
    # middle when the suffix is empty.
    suffix = 0
    if old_tail < len(old):
        suffix = old.count("\n", old_tail) + (not old.endswith("\n"))
    old_middle = old.count("\n", head, old_tail)
    new_middle = new.count("\n", head, new_tail)
    if old_tail == len(old) and old and not old.endswith("\n"):
        old_middle += 1
    if new_tail == len(new) and new and not new.endswith("\n"):
        new_middle += 1
    return Span(prefix, suffix, new_middle - old_middle, head, old_tail, new_tail,
                prefix + old_middle + suffix)


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix."""
    limit = min(len(a), len(b))
    if limit <= _SHORT and a.isascii() and b.isascii():
        x = int.from_bytes(a[:limit].encode(), "big") ^ int.from_bytes(b[:limit].encode(), "big")
        return limit - (x.bit_length() + 7) // 8
    return _common_run(a, b, limit, from_end=False)


def _common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the common suffix, at most ``limit``."""
    if limit <= _SHORT and a.isascii() and b.isascii():
        x = (int.from_bytes(a[len(a) - limit :].encode(), "little")
             ^ int.from_bytes(b[len(b) - limit :].encode(), "little"))
        return limit - (x.bit_length() + 7) // 8
    return _common_run(a, b, limit, from_end=True)


_SHORT = 4096
"""Up to this many characters of ASCII text, the first difference is found at once:
the highest set bit of the two texts, as numbers, xor-ed (a few passes at C speed;
longer texts are compared in blocks, ``_common_run``, which reads only up to it)."""


def _common_run(a: str, b: str, limit: int, *, from_end: bool) -> int:
    """How many characters from the start (or the end) of ``a`` and ``b`` are equal,
    at most ``limit``: slices are compared in blocks that double while equal and halve
    near the first difference."""
    la, lb = len(a), len(b)
    done, step = 0, 1024
    while done < limit:
        step = min(step, limit - done)
        if from_end:
            equal = a[la - done - step : la - done] == b[lb - done - step : lb - done]
        else:
            equal = a[done : done + step] == b[done : done + step]
        if equal:
            done += step
            step *= 2
        elif step == 1:
            break
        else:
            step //= 2
    return done


def _line_start(text: str, offset: int, back: int) -> int:
    """The offset of the line ``back`` lines above the line starting at ``offset``."""
    for _ in range(back):
        offset = text.rfind("\n", 0, offset - 1) + 1
    return offset


def _line_end(text: str, offset: int, lines: int) -> int:
    """The offset just after ``lines`` more lines from the line starting at ``offset``."""
    for _ in range(lines):
        k = text.find("\n", offset)
        if k < 0:
            return len(text)
        offset = k + 1
    return offset


def _parse_at(chunk: str, line: int, filename: str) -> ast.Module:
    """``chunk`` parsed as if it started at ``line``: after as many empty lines (the
    tokenizer skips them at C speed) when they are few, else parsed alone and its
    nodes moved down (a walk over the chunk's nodes, not the module's lines)."""
    if line <= _PAD_LINES:
        return ast.parse("\n" * (line - 1) + chunk, filename)
    tree = ast.parse(chunk, filename)
    return ast.increment_lineno(tree, line - 1)


_PAD_LINES = 2000
"""Up to here padding is cheaper than moving the nodes (measured: 13 ns a line
against about 40 us for a function's nodes)."""

_END = attrgetter("end_lineno")
_START = attrgetter("lineno")


def update_table(
    old: ModuleTable,
    old_text: str,
    text: str,
    digest: str,
    filename: str,
    flags: int | None = None,
) -> Update:
    """The table of ``text``, reusing ``old`` (the table of ``old_text``).

    Raises ``SyntaxError`` exactly as parsing the whole of ``text`` would. ``flags``:
    the module's ``from __future__`` compiler flags, to compile a changed ``def``
    without parsing it into a tree (``Update.code``); None: always parse.
    """
    span = changed_span(old_text, text)
    delta = span.delta
    first, last = span.prefix + 1, span.old_lines - span.suffix
    # changed old lines first..last (last < first: lines were only inserted)
    statements = old.statements
    i = bisect_left(statements, first, key=_END)  # first statement ending at or after the change
    j = bisect_right(statements, last, key=_START)  # first statement starting after it
    j = max(i, j)
    lo, hi = first, last
    if i < j:
        lo = min(lo, statements[i].lineno)
        hi = max(hi, statements[j - 1].end_lineno)
    # New lines lo .. hi + delta: those above the change are the old ones, those below
    # the suffix's.
    start = _line_start(text, span.head, first - lo)
    stop = _line_end(text, span.new_tail, hi - last)
    chunk = text[start:stop]
    if flags is not None and j == i + 1:
        found = _changed_def(statements[i], chunk, lo, filename, flags)
        if found is not None:
            stmt, code = found
            moved = tuple(s.shifted(delta) for s in statements[j:]) if delta else statements[j:]
            table = ModuleTable(statements[:i] + (stmt,) + moved, digest)
            return Update(table, (stmt,), i, j, delta, code)
    try:
        tree = _parse_at(chunk, lo, filename)
    except SyntaxError:
        tree = None
    if tree is None:
        full = ast.parse(text, filename)  # the exact error, or a chunk that was unsound
        table = table_from_tree(full, text, digest)
        return Update(table, table.statements, 0, len(statements), 0)
    fresh = split_body(tree.body, split_lines(chunk), module_level=i == 0, first_line=lo)
    moved = tuple(s.shifted(delta) for s in statements[j:]) if delta else statements[j:]
    table = ModuleTable(statements[:i] + fresh + moved, digest)
    return Update(table, fresh, i, j, delta)


def _changed_def(old: Statement, chunk: str, lo: int, filename: str,
                 flags: int) -> tuple[Statement, types.CodeType] | None:
    """A save that changed one undecorated top-level ``def`` (its body, its
    signature), which is still one such ``def`` of the same name: its statement and
    its code, compiled from the text (no syntax tree: parsing one and compiling it
    costs twice as much). None for anything else (parse as usual): a decorator, a line
    at column 0 other than a comment, or code beside the ``def`` (its module code
    then loads other names or makes other functions)."""
    if old.kind != DEF or not old.text.startswith(("def ", "async def ")):
        return None
    name = old.names[0]
    if not chunk.startswith((f"def {name}(", f"async def {name}(")):
        return None
    lines = split_lines(chunk)
    last = 0  # the last line of code (trailing blank and comment lines are not the def's)
    for k, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if k and line[0] not in " \t":
            return None
        last = k
    if last < len(lines) - 1 and ('"""' in chunk or "'''" in chunk):
        return None  # a trailing "comment" may be a string's last line: parse
    try:
        code = compile("\n" * (lo - 1) + chunk, filename, "exec", flags=flags,
                       dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError):
        return None  # parsed as usual: the same error, where parsing puts it
    functions = [c for c in code.co_consts if isinstance(c, types.CodeType)]
    if code.co_names != (name,) or len(functions) != 1 or functions[0].co_name != name:
        return None
    text = "".join(lines[: last + 1])
    return Statement(DEF, (name,), lo, lo + last, text, origin=lo), code
