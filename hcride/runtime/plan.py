"""What committing a module's new version will do, worked out from the two versions'
statement tables before the reload's pause (standard library only).

Staging reads whole tables (which names the old version binds, which definition of a
name comes last, what each import may rebind); that costs time in proportion to the
module. It is done when the new version arrives (the agent's thread under a controller,
``has_any_module_changed()`` standalone), so that the pause in the program's main thread,
``ModuleCommit.run``, costs what changed: a module of 100,000 lines pauses about as long
as one of 1,000.
"""

from __future__ import annotations
import __future__

from dataclasses import dataclass
from operator import attrgetter

from hcride.analysis import statements as st
from hcride.analysis.diff import decorators_changed
from hcride.analysis.incremental import Update
from hcride.analysis.statements import ModuleTable, Statement


@dataclass
class CommitPlan:
    """The source-only half of a commit (``ModuleCommit.run`` does the live half)."""

    work: list[Statement]
    """What runs or is patched, in line order: the changed statements, and every import
    and ``Final`` constant (they run again on every reload)."""
    before: dict[int, Statement | None]
    """For each changed statement (by ``id``): the running version's statement of the
    same key, or None when it is new."""
    preserved: list[str]
    """Names of the unchanged assignments: their globals keep their live values (but
    those the program deleted, which stay deleted: ``forget_deleted``)."""
    status: dict[str, str]
    """``preserved`` as the status of each of those globals (copied by the commit)."""
    last_def: dict[str, Statement]
    """The last ``def``/``class`` of each name: the one the name holds."""
    shadowed: dict[int, Shadowed]
    """For each import (by ``id``): the names statements after it bind."""
    old_bound: frozenset[str]
    """Names the running version binds (to tell a new global from a kept one)."""
    old_definitions: frozenset[str]
    """Names the running version's ``def``/``class`` statements bind."""
    replaced: tuple[Statement, ...]
    """The running version's statements the changed ones replace."""
    gone: list[str]
    """Definitions of the replaced statements no longer bound by the new version."""
    docstring_removed: bool
    flags: int
    """Compiler flags of the module's ``from __future__`` imports."""
    imports: list[str]
    """Modules the new version's top-level imports name (for the batch's order)."""
    same_decorators: dict[int, bool]
    """For each changed ``def`` that replaces one (by ``id``): are its decorators the
    running version's? (Then only its body is new: the decorators do not run again.)"""


def plan_commit(old: ModuleTable, new: ModuleTable, update: Update,
                package: str | None) -> CommitPlan:
    """The plan of committing ``new`` (derived from ``old`` by ``update``)."""
    fresh = update.fresh
    fresh_keys = {id(s): k for k, s in st.keyed(fresh).items()}
    replaced = old.statements[update.first : update.stop]
    old_region = st.keyed(replaced)
    before: dict[int, Statement | None] = {}
    same_decorators: dict[int, bool] = {}
    for stmt in fresh:
        key = fresh_keys.get(id(stmt))
        if key is None:
            continue
        prior = old_region.get(key)
        if prior is None and len(key) == len(stmt.key):  # moved from elsewhere
            prior = old.by_key().get(key)
        before[id(stmt)] = prior
        if stmt.kind == DEF and prior is not None:
            same_decorators[id(stmt)] = not decorators_changed(prior, stmt)
    work = [*fresh]
    preserved: list[str] = []
    last_def: dict[str, Statement] = {}
    shadowed: dict[int, Shadowed] = {}
    last_binder: dict[str, int] = {}
    """For each name, the index of the last statement binding it (a def, class,
    assignment or import: what an import run again must not rebind)."""
    bound: set[str] = set()
    imports: list[str] = []
    statements = new.statements
    for index in range(len(statements) - 1, -1, -1):  # one pass, from the end
        s = statements[index]
        kind = s.kind
        names = s.names
        if kind == IMPORT:
            shadowed[id(s)] = Shadowed(last_binder, index)
            if s.spec is not None:
                imports.extend(st.spec_modules(s.spec, package))
        elif kind in _DEFINITIONS:
            last_def.setdefault(names[0], s)
        if id(s) not in fresh_keys:
            if kind in _RUN_AGAIN:
                work.append(s)
            elif kind == ASSIGN:
                preserved.extend(reversed(names))
        if kind in _BINDERS:
            for name in names:
                last_binder.setdefault(name, index)
        if kind != DOC:
            bound.update(names)
    preserved.reverse()
    work.sort(key=_LINENO)
    old_bound: set[str] = set()
    old_definitions: set[str] = set()
    for s in old.statements:
        if s.kind != DOC:
            old_bound.update(s.names)
            if s.kind in _DEFINITIONS:
                old_definitions.update(s.names)
    gone = [s.names[0] for s in replaced if s.kind in _DEFINITIONS and s.names[0] not in bound]
    docstring_removed = any(s.kind == DOC for s in replaced) and not (
        statements and statements[0].kind == DOC
    )
    return CommitPlan(work, before, preserved, dict.fromkeys(preserved, "preserved"),
                      last_def, shadowed, frozenset(old_bound), frozenset(old_definitions),
                      replaced, gone, docstring_removed, future_flags(new), imports,
                      same_decorators)


DEF, CLASS, IMPORT, ASSIGN, FINAL, DOC = st.DEF, st.CLASS, st.IMPORT, st.ASSIGN, st.FINAL, st.DOC
_DEFINITIONS = frozenset((DEF, CLASS))
_RUN_AGAIN = frozenset((IMPORT, FINAL))
_BINDERS = frozenset((DEF, CLASS, ASSIGN, FINAL, IMPORT))
_LINENO = attrgetter("lineno")


class Shadowed:
    """The names statements after an import bind (``name in shadowed``): that import,
    run again, must not rebind them. A view of the plan's one name index, not a copy
    per import (a module with 90 imports copied a growing set 90 times)."""

    __slots__ = ("_last", "_index")

    def __init__(self, last_binder: dict[str, int], index: int) -> None:
        self._last = last_binder
        self._index = index

    def __contains__(self, name: object) -> bool:
        return self._last.get(name, -1) > self._index  # type: ignore[call-overload]


def forget_deleted(plan: CommitPlan, namespace: dict[str, object]) -> None:
    """Globals of unchanged assignments that the program deleted are not preserved:
    they stay deleted. Looked up when the plan is made (a name deleted between then
    and the reload is still reported as preserved; it is not brought back)."""
    deleted = set(plan.status).difference(namespace)
    if deleted:
        plan.preserved = [n for n in plan.preserved if n not in deleted]
        for name in deleted:
            del plan.status[name]


def future_flags(table: ModuleTable) -> int:
    """Compiler flags of the module's ``from __future__`` imports: a statement compiled
    on its own must mean what it means in its module (``annotations`` above all).
    Such imports come first (after the docstring), so only the first statements count."""
    flags = 0
    for stmt in table.statements:
        if stmt.kind == st.DOC:
            continue
        if stmt.kind != st.IMPORT or not stmt.text.lstrip().startswith("from __future__"):
            break
        for name in stmt.names:
            feature = getattr(__future__, name, None)
            flags |= getattr(feature, "compiler_flag", 0)
    return flags
