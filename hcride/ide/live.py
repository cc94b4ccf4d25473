"""Working on the running program beyond reloads: the statement that re-initializes a
stale global (or class attribute), and the texts a module had before each reload (to
put a module back to its version before a reload)."""

from __future__ import annotations

import ast
import difflib
from pathlib import Path

from hcride.controller.state import MAX_LOG_ROWS


def initializer(source: str, name: str) -> str | None:
    """The code that gives ``name`` its value as written in ``source`` now.

    ``SPEED`` -> the module's top-level assignment to ``SPEED`` (its whole statement);
    ``Sprite.LIMIT`` -> ``Sprite.LIMIT = <the value written in the class body>``.
    None when there is no such plain assignment (an augmented assignment, a tuple
    target, a name set by a loop...)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    cls, _, attr = name.rpartition(".")
    body: list[ast.stmt] = tree.body
    if cls:
        found = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls]
        if not found:
            return None
        body = found[-1].body
    for node in reversed(body):
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == attr for t in node.targets
        ):
            value = node.value
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == attr
        ):
            value = node.value
        if value is None:
            continue
        expression = ast.get_source_segment(source, value)
        if expression is None:
            return None
        target = f"{cls}.{attr}" if cls else attr
        return f"{target} = {expression}"
    return None


def revert_text(before: str, after: str, current: str) -> str | None:
    """``current`` with the change ``before`` -> ``after`` taken back, as ``git revert``
    does: each hunk of that change whose lines ``current`` still has as ``after`` had
    them gets ``before``'s lines again; edits made since elsewhere in the file stay.
    None when a later edit changed the same lines (the revert would lose it)."""
    if current == after:
        return before
    a, b, c = (t.splitlines(keepends=True) for t in (after, before, current))
    at: dict[int, int] = {}  # line of ``after`` -> the same, unchanged line of ``current``
    for tag, i1, i2, j1, _j2 in difflib.SequenceMatcher(None, a, c, autojunk=False).get_opcodes():
        if tag == "equal":
            at.update((i1 + k, j1 + k) for k in range(i2 - i1))
    edits: list[tuple[int, int, list[str]]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i1 < i2:  # lines of ``after`` to put back as ``before`` had them
            start = at.get(i1, -1)
            if start < 0 or any(at.get(k) != start + k - i1 for k in range(i1, i2)):
                return None  # changed since (or not together any more)
            end = start + i2 - i1
        else:  # lines ``after`` removed: back between the same neighbours
            if i1 == 0:
                start = 0 if (not a or at.get(0) == 0) else -1
            elif i1 == len(a):
                start = len(c) if at.get(i1 - 1) == len(c) - 1 else -1
            else:
                above = at.get(i1 - 1)
                start = at.get(i1, -1) if above is not None and at.get(i1) == above + 1 else -1
            if start < 0:
                return None
            end = start
        edits.append((start, end, b[j1:j2]))
    out = list(c)
    for start, end, lines in reversed(edits):
        out[start:end] = lines
    return "".join(out)


class VersionHistory:
    """Per file, the text the program ran before each applied build."""

    def __init__(self) -> None:
        self.baseline: dict[str, bytes] = {}
        """The text each module was first loaded with (read when first reported)."""
        self.applied: list[tuple[int, dict[str, bytes]]] = []
        """(build, {file: text}) for each applied build, in order."""

    def clear(self) -> None:
        self.baseline.clear()
        self.applied.clear()

    def loaded(self, file: str) -> None:
        """The program reported ``file`` as loaded: remember its first text."""
        if file and file not in self.baseline:
            try:
                self.baseline[file] = Path(file).read_bytes()
            except OSError:
                pass

    def applied_build(self, build: int, texts: dict[str, bytes]) -> None:
        """Remember ``build``'s texts. Only the newest ``MAX_LOG_ROWS`` builds are kept
        (the reload log shows no older rows to revert from); the texts of older ones
        are folded into ``baseline``, so ``before`` stays right for the kept ones."""
        self.applied.append((build, texts))
        if len(self.applied) > MAX_LOG_ROWS:
            for _number, old in self.applied[:-MAX_LOG_ROWS]:
                self.baseline.update(old)
            del self.applied[:-MAX_LOG_ROWS]

    def files_of(self, build: int) -> list[str]:
        for number, texts in self.applied:
            if number == build:
                return list(texts)
        return []

    def after(self, build: int, file: str) -> bytes | None:
        """``file``'s text in ``build`` (None: not in it)."""
        for number, texts in self.applied:
            if number == build:
                return texts.get(file)
        return None

    def before(self, build: int, file: str) -> bytes | None:
        """``file``'s text before ``build`` was applied (None: unknown)."""
        earlier = None
        for number, texts in self.applied:
            if number >= build:
                break
            if file in texts:
                earlier = texts[file]
        return earlier if earlier is not None else self.baseline.get(file)
