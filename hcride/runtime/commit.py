"""Commit one module's new version into the live module (``semantics.md``, "Applying
a batch", step 3), without running what the rules say must not run again.

- A ``def`` whose body changed is compiled and run *without its decorators* (a
  "donor"); the live function objects that carry the def's code (``finder.carriers``:
  behind decorators, in registries, as bound methods) take the donor's code. The
  decorators, the route table or registry they filled, keep their single entry.
- A ``def`` whose decorator list changed runs with its new decorators; the name is
  rebound and the old function forwards to the new object (``patching.forward``).
- A ``class`` is never run again: each changed member is compiled inside a bare
  ``class Name:`` of the same name and run in a copy of the live class's namespace
  (so metaclasses, ``__init_subclass__`` and class decorators do not run; a
  ``super()`` cell is pointed at the live class), then patched like a function.
- Closures made from a nested ``def``/``lambda`` whose code changed are collected
  (``closure_work``) for one search at the end of the batch.
- New names are bound at once (the running code cannot see them); every other
  change is recorded in the ``UndoLog`` and made by ``UndoLog.apply``.

Statements run with the live module as globals and a scratch mapping of the batch's
pending values as locals (``_run``), so a statement sees the new values of the
statements before it although nothing live has changed yet.
"""

from __future__ import annotations

import ast
import copy
import types
from dataclasses import dataclass
from typing import Any

from hcride.analysis import statements as st
from hcride.analysis.diff import decorators, decorators_changed
from hcride.analysis.incremental import Update
from hcride.analysis.statements import ModuleTable, Statement
from hcride.runtime import handlers
from hcride.runtime.compat import (
    merge_module_annotations,
    renew_class_type_params,
    shift_first_line,
    type_param_names,
)
from hcride.runtime.finder import carriers, changed_nested, nested_functions
from hcride.runtime.imports import bound_by_import
from hcride.runtime.patching import (
    MISSING,
    UndoLog,
    clear_caches,
    forward,
    patch_closure,
    patch_code,
    shift_code,
    shift_functions,
)
from hcride.runtime.plan import CommitPlan
from hcride.runtime.report import ModuleReport

_BLOCKS = (ast.If, ast.Try, ast.With, ast.AsyncWith) + (
    (ast.TryStar,) if hasattr(ast, "TryStar") else ()
)


@dataclass
class ClosureWork:
    """A nested code object that changed: closures made from ``old`` take ``new``."""

    old: types.CodeType
    new: types.CodeType
    report: ModuleReport
    moved: bool = False
    """Only its lines changed (its def moved): the closures' tracebacks follow; nothing
    is reported."""


class ModuleCommit:
    """Applies one module's new table to its live namespace (one use)."""

    def __init__(self, name: str, ns: dict[str, Any], filename: str, old: ModuleTable,
                 new: ModuleTable, undo: UndoLog, flags: int,
                 codes: dict[int, types.CodeType], report: ModuleReport,
                 closure_work: list[ClosureWork], text: str) -> None:
        self.name = name
        self.ns = ns
        self.filename = filename
        self.old = old
        self.new = new
        self.undo = undo
        self.flags = flags
        self.codes = codes
        self.report = report
        self.closure_work = closure_work
        self.text = text
        """The new version's source."""
        self.overlay: dict[str, Any] = {}
        """Names this commit will rebind, with their new values (see ``_run``)."""
        self.old_definitions: frozenset[str] = frozenset()
        """Names the running version's ``def``/``class`` statements bind (``run``)."""
        self.stale_from: dict[str, str] = {}
        """Stale globals and class attributes (``Class.attr``): the text of the
        statement that made their live value (given by the engine, updated here)."""
        self.judged: set[str] = set()
        """The keys of ``stale_from`` this commit looked at (``judge_stale``)."""
        self.same_decorators: dict[int, bool] = {}
        """Whether each changed def keeps its decorators (by ``id``, from the plan)."""
        self.rebound: list[tuple[str, Any, Any]] = []
        """``(name, old, new)`` of each existing global this commit rebinds (a ``Final``
        constant, a def whose decorators changed, an import): the engine rebinds the
        copies other modules took with ``from module import name``."""

    # ------------------------------------------------------------------ module

    def run(self, update: Update, plan: CommitPlan) -> dict[str, str]:
        """Commit the module; returns what happened to each global (its status).

        ``plan`` holds what the two tables say (worked out before the pause): this costs
        what changed, not the size of the module."""
        ns, report = self.ns, self.report
        self.same_decorators = plan.same_decorators
        # Statements outside the changed lines are the running version's own: only
        # imports and Final constants run again; moved definitions get their line
        # numbers corrected. An unchanged assignment never runs, so a global the
        # program deleted stays deleted.
        status = plan.status  # the plan is used once: its lists are the report's
        report.preserved = plan.preserved
        # A definition followed by another of the same name (``@overload`` stubs,
        # ``@f.register def _``) is not what the name holds: only the last one is.
        last_def = plan.last_def
        if update.delta:
            for stmt in update.moved:
                name = stmt.names[0] if stmt.names else ""
                if last_def.get(name) is stmt and name in ns:
                    self.shift(ns[name], stmt, update.delta)
        old_bound = plan.old_bound
        self.old_definitions = plan.old_definitions
        old_blocks: list[tuple[ast.stmt, list[str]]] | None = None
        for stmt in plan.work:
            before = plan.before.get(id(stmt), stmt)  # not changed: itself
            same = before is not None and before.text == stmt.text
            kind = stmt.kind
            if kind in (st.DEF, st.CLASS):
                self._definition(stmt, before, same, last_def, status)
            elif kind == st.IMPORT:
                # Read from the modules already imported; else run the statement.
                scratch = bound_by_import(stmt.spec, ns) if stmt.spec is not None else None
                if scratch is None:
                    scratch = dict(self.overlay)
                    exec(self.code_of(stmt), ns, scratch)  # noqa: S102 - imports are declarations
                # A name the module binds again further down (its own ``def setup``
                # after ``from turtle import *``, ``y = wrap(y)`` after ``from x import
                # y``) keeps that binding, as in a fresh run.
                shadowed = plan.shadowed.get(id(stmt), ())
                for name, value in scratch.items():
                    if name not in shadowed and self.overlay.get(name, MISSING) is not value and (
                        ns.get(name, MISSING) is not value
                    ):
                        self.bind(name, value)
            elif kind == st.ASSIGN:
                fresh = [n for n in stmt.names if n not in old_bound]
                if fresh:
                    values = self.run_statement(stmt)
                    for name in fresh:
                        self.bind(name, values[name])
                        status[name] = "initialized"
                    report.initialized.extend(fresh)
                kept = [n for n in stmt.names if n in old_bound and n in ns]
                for name in kept:
                    status[name] = "preserved"
                report.preserved.extend(kept)
                for name in kept:
                    if not same and self._patch_lambda(stmt, name):
                        self.judge_stale(name, None)
                    elif self.judge_stale(name, before.text if before else "", stmt.text):
                        report.stale.append(name)
            elif kind == st.FINAL:
                values = self.run_statement(stmt)
                for name in stmt.names:
                    self.bind(name, values[name])
                    status[name] = "reevaluated"
                report.reevaluated.extend(stmt.names)
            elif kind == st.DOC and not same and stmt.node is not None:
                value = ast.literal_eval(stmt.node.value)  # type: ignore[attr-defined]
                self.bind("__doc__", value)
            elif kind == st.OTHER and not same:
                if old_blocks is None:
                    old_blocks = _parse_blocks([s for s in plan.replaced if s.kind == st.OTHER])
                self._block(stmt, old_blocks)
        for key in list(self.stale_from):
            if key in self.judged:
                continue
            cls = key.split(".")[0] if "." in key else None
            if cls is not None:  # a class attribute of a class this reload left alone
                unchanged = cls in last_def and id(last_def[cls]) not in plan.before
            else:
                unchanged = status.get(key) == "preserved"
            if unchanged:  # still the old value
                report.stale.append(key)
            else:  # no longer assigned, or given a value again
                del self.stale_from[key]
        if plan.docstring_removed:
            self.undo.later_item(ns, "__doc__", None)
        gone = [name for name in dict.fromkeys(plan.gone) if name in ns]
        for name in gone:
            self.undo.later_del_item(ns, name)
            report.removed.append(name)
        if gone:
            saved = handlers.snapshot()
            handlers.forget(self.name, set(gone))
            self.undo.on_undo(handlers.restore, saved)
        return status

    def _definition(self, stmt: Statement, before: Statement | None, same: bool,
                    last_def: dict[str, Statement], status: dict[str, str]) -> None:
        name = stmt.names[0]
        if last_def[name] is not stmt:  # shadowed: run its decorators, bind nothing
            if not same:
                self.run_statement(stmt)
                self.report.patched.append(name)
            return
        live = self.ns.get(name, MISSING)
        if same and live is not MISSING:
            assert before is not None
            self.shift(live, stmt, stmt.lineno - before.lineno)
            return
        if live is MISSING or (before is None and name not in self.old_definitions):
            # New, or shadowing what the name held so far (a ``from turtle import *``
            # name, an assigned value): the old object is not the module's to patch.
            self.bind(name, self.run_statement(stmt)[name])
            self.report.added.append(name)
            status[name] = "added"
            return
        status[name] = "patched"
        if stmt.kind == st.DEF and (stmt.node is not None or id(stmt) in self.codes):
            known = self.same_decorators.get(id(stmt))  # (worked out when staged)
            same_decorators = before is not None and (
                known if known is not None else not decorators_changed(before, stmt))
            if not same_decorators and before is not None and registers_handler(before):
                handlers.forget(self.name, {name})  # its new version registers again
            lines = (before.lineno, before.end_lineno) if before is not None else (0, 0)
            value = self.patch_def(
                live, name, lines, same_decorators, name,
                lambda: self.run_bare_statement(stmt, name),
                lambda: self.run_statement(stmt)[name],
            )
            if value is not MISSING:
                self.bind(name, value)
        elif isinstance(live, type) and before is not None and before.kind == st.CLASS:
            if stmt.node is not None:
                renew_class_type_params(live, stmt.node, self.ns, self.filename, self.undo)
            self.patch_class(live, before, stmt, name, (name,))
            shift_first_line(live, stmt.lineno - before.lineno, self.undo)
        else:
            self.bind(name, self.run_statement(stmt)[name])
            self.report.patched.append(name)

    def _patch_lambda(self, stmt: Statement, name: str) -> bool:
        """``key = lambda s: s.lower()`` changed: the global keeps its object, which
        takes the new code. True if done (or reported as impossible)."""
        live = self.ns.get(name)
        if not isinstance(live, types.FunctionType) or live.__code__.co_filename != self.filename:
            return False
        return self._patch_function_from(live, self.code_of(stmt), name)

    def _patch_function_from(self, live: types.FunctionType, code_of_statement: types.CodeType,
                             label: str) -> bool:
        """``live`` (made by a ``lambda`` in a statement that changed) takes the code of
        that lambda in the statement's new code. True if done (or reported as
        impossible: its free variables changed); False when there is no one such code."""
        made = [c for c in code_of_statement.co_consts
                if isinstance(c, types.CodeType) and c.co_name == live.__code__.co_name]
        if len(made) != 1:
            return False
        code = made[0]
        if live.__code__.co_freevars != code.co_freevars:
            self.report.closures_skipped.append(
                f"{label}: free variables changed ({', '.join(live.__code__.co_freevars)}) -> "
                f"({', '.join(code.co_freevars)}); it keeps its old code"
            )
            return True
        for old, new in changed_nested(live.__code__, code):
            self.closure_work.append(ClosureWork(old, new, self.report))
        patch_closure(live, code, self.undo)
        self.report.patched.append(label)
        return True

    def judge_stale(self, key: str, before: str | None, now: str = "") -> bool:
        """Is the live value of ``key`` (a global, or ``Class.attr``) stale: made by a
        statement whose text differs from the one the file has now (``now``)?
        ``before``: the running version's text of it (None: the value was just made
        from the new text, nothing is stale). The text that made the live value is
        kept over later reloads, so the mark lasts until a reload (or the user) gives
        the value again, or the file says what made it again."""
        self.judged.add(key)
        if before is None:
            self.stale_from.pop(key, None)
            return False
        origin = self.stale_from.get(key, before)
        if now == origin:
            self.stale_from.pop(key, None)
            return False
        self.stale_from[key] = origin
        return True

    def _patch_member_lambda(self, live: type, chain: tuple[str, ...], member: Statement,
                             name: str, qual: str) -> bool:
        """``fmt = lambda self, row: ...`` (or ``staticmethod(lambda ...)``) in a class
        body changed: the class keeps its function, which takes the new code. True if
        done (or reported as impossible)."""
        have = live.__dict__.get(name)
        func = have.__func__ if isinstance(have, (staticmethod, classmethod)) else have
        if not isinstance(func, types.FunctionType) or func.__code__.co_filename != self.filename:
            return False
        return self._patch_function_from(func, self.member_code(chain, member), qual)

    # ------------------------------------------------------------------- blocks

    def _block(self, stmt: Statement, old_blocks: list[tuple[ast.stmt, list[str]]]) -> None:
        """A changed top-level ``if``/``try``/``with``: its code is not run again, but
        the definitions inside it are patched like top-level ones; a new one is
        reported as needing a restart."""
        node = stmt.node
        first_line = stmt.text.strip().splitlines()[0][:80]
        if not isinstance(node, _BLOCKS):
            self.report.skipped.append(first_line)
            return
        if _skeleton(node) not in {_skeleton(b) for b, _ in old_blocks}:
            self.report.skipped.append(first_line)
        olds: dict[str, list[tuple[ast.stmt, list[str]]]] = {}
        for block, lines in old_blocks:
            for d in _block_defs(block):
                olds.setdefault(d.name, []).append((d, lines))  # type: ignore[attr-defined]
        nth: dict[str, int] = {}
        for d in _block_defs(node):
            name = d.name  # type: ignore[attr-defined]
            previous = olds.get(name, [])
            # The n-th definition of a name in the block was the n-th before (the
            # two branches of an ``if``).
            n = nth[name] = nth.get(name, -1) + 1
            if n < len(previous):
                previous = [previous[n]]
            dump = ast.dump(d)
            if any(ast.dump(o) == dump for o, _ in previous):
                continue  # unchanged
            live = self.ns.get(name, MISSING)
            if not previous:
                if live is MISSING:
                    self.report.needs_restart.append(
                        f"{name} (line {d.lineno}): new definition inside a top-level "
                        f"'{first_line.split()[0].rstrip(':')}' block; restart to bind it"
                    )
                continue
            if live is MISSING:
                continue  # defined in a branch that did not run
            if isinstance(d, ast.ClassDef):
                if not (isinstance(live, type) and live.__module__ == self.name):
                    continue
                old_node, old_lines = previous[0]
                before = st.split_body([old_node], old_lines, module_level=False)[0]
                after = st.split_body([d], st.split_lines(self.text), module_level=False)[0]
                self.patch_class(live, before, after, name, (name,))
                continue
            for old_node, _ in previous:
                span = (_first_line(old_node), old_node.end_lineno or old_node.lineno)
                if not carriers(live, name, self.filename, span, strict=True):
                    continue  # another branch's definition
                same_decorators = [ast.dump(x) for x in old_node.decorator_list] == [  # type: ignore[attr-defined]
                    ast.dump(x) for x in d.decorator_list  # type: ignore[attr-defined]
                ]
                code = compile(ast.Module([d], []), self.filename, "exec", flags=self.flags,
                               dont_inherit=True)
                value = self.patch_def(
                    live, name, span, same_decorators, name,
                    lambda d=d, name=name: self.run_bare_def(d, name),
                    lambda code=code, name=name: self._run(code, (name,))[name],
                )
                if value is not MISSING:
                    self.bind(name, value)
                break

    # ------------------------------------------------------------ running code

    def code_of(self, stmt: Statement) -> types.CodeType:
        return self.codes.get(id(stmt)) or compile_statement(stmt, self.filename, self.flags)

    def _run(self, code: types.CodeType, names: tuple[str, ...],
             binds: str | None = None) -> dict[str, Any]:
        """Run module-level ``code``; return what it bound to ``names``. Nothing live
        is rebound: the caller decides."""
        self.before_running(code, binds)
        scratch = dict(self.overlay)
        exec(code, self.ns, scratch)  # noqa: S102 - running the user's new code is the point
        merge_module_annotations(self.ns, scratch, self.undo)
        return {n: scratch.get(n, MISSING) for n in names}

    def before_running(self, code: types.CodeType, binds: str | None = None) -> None:
        """New code is about to run (an initializer, a constant, a decorator): if it
        names something whose changes wait for ``apply``, apply them now, so that it
        runs the batch's new functions (the batch is then applied in more than one
        step). ``binds``: the name a bare ``def`` stores (not a use of it: a batch of
        modules that each define ``compute`` is still applied in one step)."""
        pending = self.undo.pending_names
        if not pending:
            return
        used = _names_used(code)
        if binds is not None:
            used.discard(binds)
        if not pending.isdisjoint(used):
            self.undo.apply_when_quiet()

    def run_statement(self, stmt: Statement) -> dict[str, Any]:
        return self._run(self.code_of(stmt), stmt.names)

    def run_bare_statement(self, stmt: Statement, name: str) -> Any:
        """``run_bare_def`` of a changed ``def`` statement; one compiled from its text
        (no syntax tree) has no decorators: its code is the bare def."""
        if stmt.node is None:
            return self._run(self.codes[id(stmt)], (name,), binds=name)[name]
        return self.run_bare_def(stmt.node, name)

    def run_bare_def(self, node: ast.stmt, name: str) -> Any:
        """The function a ``def`` makes, without calling its decorators (compiled when
        the version was staged: ``codes`` by ``id`` of the node)."""
        code = self.codes.get(id(node)) or compile_bare_def(node, self.filename, self.flags)
        return self._run(code, (name,), binds=name)[name]

    def bind(self, name: str, value: Any) -> None:
        """Bind ``name``: at once if new, else at apply time."""
        if name in self.ns:
            old = self.ns[name]
            self.undo.later_item(self.ns, name, value)
            if old is not value and not (name.startswith("__") and name.endswith("__")):
                self.rebound.append((name, old, value))
        else:
            self.undo.set_item(self.ns, name, value)
        self.overlay[name] = value

    # ---------------------------------------------------------------- functions

    def patch_def(self, live: Any, name: str, old_lines: tuple[int, int],
                  same_decorators: bool, label: str, run_bare: Any, run_full: Any) -> Any:
        """Patch the live object of a changed ``def``. Returns the object to bind
        under the name when it must be rebound, else MISSING.

        ``run_bare()`` makes the new function without its decorators; ``run_full()``
        runs the def with them (the decorator list changed, or no function carrying
        the old code could take the new one: ``super()`` gained or lost)."""
        if same_decorators:
            targets = carriers(live, name, self.filename, old_lines)
            if targets:
                donor = run_bare()
                if isinstance(donor, types.FunctionType) and all(
                    t.__code__.co_freevars == donor.__code__.co_freevars for t in targets
                ):
                    for target in targets:
                        for old, new in changed_nested(target.__code__, donor.__code__):
                            self.closure_work.append(ClosureWork(old, new, self.report))
                        patch_code(target, donor, self.undo)
                    clear_caches(live)
                    self.report.patched.append(label)
                    return MISSING
        value = run_full()
        olds = (
            [live] if isinstance(live, (types.FunctionType, classmethod, staticmethod, property))
            and not (isinstance(live, types.FunctionType)
                     and live.__code__.co_filename != self.filename)
            else carriers(live, name, self.filename, old_lines)
        )
        for old in olds:
            forward(old, value, self.undo)
        self.report.patched.append(label)
        return value

    def shift(self, live: Any, stmt: Statement, delta: int) -> None:
        """An unchanged def or class that moved ``delta`` lines: keep its tracebacks
        accurate."""
        if not delta or live is MISSING:
            return
        if stmt.kind == st.DEF:
            functions = carriers(live, stmt.names[0], self.filename)
            shift_functions(functions, delta, self.undo)
            for func in functions[:1]:  # closures made from its nested defs move too
                for old, new in nested_functions(func.__code__, shift_code(func.__code__, delta)):
                    self.closure_work.append(ClosureWork(old, new, self.report, moved=True))
        elif isinstance(live, type):
            shift_first_line(live, delta, self.undo)
            for member in stmt.body:
                attr = live.__dict__.get(member.names[0], MISSING) if member.names else MISSING
                if member.kind in (st.DEF, st.CLASS):
                    self.shift(attr, member, delta)

    # ------------------------------------------------------------------ classes

    def patch_class(self, live: type, before: Statement, stmt: Statement, label: str,
                    chain: tuple[str, ...]) -> None:
        """Give ``live`` the new members of ``stmt`` without running the ``class``
        statement; ``live`` keeps its identity."""
        old_off, new_off = before.body_offset, stmt.body_offset
        old_members = st.keyed(before.body)
        old_names = st.bound_names(before.body)
        report = self.report
        for key, member in st.keyed(stmt.body).items():
            prior = old_members.get(key)
            same = prior is not None and prior.text == member.text
            if member.kind not in (st.DEF, st.CLASS, st.ASSIGN, st.FINAL):
                continue
            for name in member.names:
                qual = f"{label}.{name}"
                have = live.__dict__.get(name, MISSING)
                if same:
                    assert prior is not None
                    self.shift(have, member, (member.lineno + new_off) - (prior.lineno + old_off))
                    if member.kind == st.ASSIGN and qual in self.stale_from:
                        self.judged.add(qual)  # unchanged since: still the old value
                        report.stale.append(qual)
                    continue
                if member.kind == st.DEF:
                    if member.node is None:
                        raise RuntimeError(f"hcride: no syntax tree for {qual}")

                    def run_full(m: Statement = member, n: str = name) -> Any:
                        return self.run_member(live, chain, m, strip=False)[n]

                    def run_bare(m: Statement = member, n: str = name) -> Any:
                        return self.run_member(live, chain, m, strip=True)[n]

                    if have is MISSING:
                        self.undo.later_attr(live, name, run_full())
                        report.added.append(qual)
                        continue
                    same_decorators = prior is not None and not decorators_changed(prior, member)
                    lines = ((prior.lineno + old_off, prior.end_lineno + old_off)
                             if prior is not None else (0, 0))
                    value = self.patch_def(have, name, lines, same_decorators, qual,
                                           run_bare, run_full)
                    if value is not MISSING:
                        self.undo.later_attr(live, name, value)
                elif member.kind == st.CLASS:
                    if isinstance(have, type) and prior is not None:
                        self.patch_class(have, prior, member, qual, (*chain, name))
                    else:
                        self.undo.later_attr(live, name,
                                             self.run_member(live, chain, member)[name])
                        report.added.append(qual)
                elif member.kind == st.ASSIGN:
                    if have is MISSING and name not in old_names:
                        self.undo.later_attr(live, name,
                                             self.run_member(live, chain, member)[name])
                        report.initialized.append(qual)
                    elif have is not MISSING:
                        if self._patch_member_lambda(live, chain, member, name, qual):
                            self.judge_stale(qual, None)
                        elif self.judge_stale(qual, prior.text if prior else "", member.text):
                            report.stale.append(qual)
                elif member.kind == st.FINAL:
                    self.undo.later_attr(live, name, self.run_member(live, chain, member)[name])
                    report.reevaluated.append(qual)
        still = st.bound_names(stmt.body)
        for member in before.body:
            if member.kind == st.DEF and member.names[0] not in still:
                name = member.names[0]
                if name in live.__dict__:
                    self.undo.later_del_attr(live, name)
                    report.removed.append(f"{label}.{name}")

    def member_code(self, chain: tuple[str, ...], member: Statement,
                    strip: bool = False) -> types.CodeType:
        """The code of a bare ``class`` (nested as ``chain``) holding only ``member``:
        the class body's code, which makes the member when run."""
        node = member.node
        assert node is not None
        if strip:
            node = copy.copy(node)
            node.decorator_list = []  # type: ignore[attr-defined]
        first = max(1, member.lineno - 1)
        for cls_name in reversed(chain):
            fields: dict[str, Any] = dict(name=cls_name, bases=[], keywords=[], body=[node],
                                          decorator_list=[])
            if "type_params" in ast.ClassDef._fields:
                fields["type_params"] = []
            node = ast.ClassDef(**fields, lineno=first, col_offset=0,
                                end_lineno=member.end_lineno, end_col_offset=0)
        body = compile(ast.Module([node], []), self.filename, "exec", flags=self.flags,
                       dont_inherit=True)
        for cls_name in chain:
            body = next(c for c in body.co_consts
                        if isinstance(c, types.CodeType) and c.co_name == cls_name)
        return body

    def run_member(self, live: type, chain: tuple[str, ...], member: Statement,
                   strip: bool = False) -> dict[str, Any]:
        """Run one class-body statement as a bare ``class`` of the same name(s) would,
        in a copy of the live class's namespace; no metaclass, no class hooks.

        A ``__class__`` cell (zero-argument ``super()``) is pointed at ``live``."""
        body = self.member_code(chain, member, strip)
        self.before_running(body)
        scratch = {k: v for k, v in live.__dict__.items() if k not in ("__dict__", "__weakref__")}
        for name, param in type_param_names(live).items():  # class C[T]: its members see T
            scratch.setdefault(name, param)
        exec(body, self.ns, scratch)  # noqa: S102 - the class body's new member
        cell = scratch.get("__classcell__")
        if isinstance(cell, types.CellType):
            cell.cell_contents = live
        made = {n: scratch.get(n, MISSING) for n in member.names}
        for n, value in made.items():
            # What ``type.__new__`` does for a class statement: a descriptor learns
            # its owner and name (cached_property, ORM columns, attrs fields).
            set_name = getattr(type(value), "__set_name__", None)
            if value is not MISSING and set_name is not None and live.__dict__.get(n) is not value:
                set_name(value, live, n)
        return made


_CO_OPTIMIZED = 0x1


def _names_used(code: types.CodeType) -> set[str]:
    """The names (globals, attributes) ``code`` loads when it runs now: its own and
    those of class bodies and comprehensions in it, not of the functions it defines
    (they run later, after ``apply``)."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and (
            not const.co_flags & _CO_OPTIMIZED
            or const.co_name in ("<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>")
        ):
            names |= _names_used(const)
    return names


def _first_line(node: ast.stmt) -> int:
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])


def _block_defs(node: ast.AST) -> list[ast.stmt]:
    """The definitions at module scope inside a top-level block (nested blocks too)."""
    out: list[ast.stmt] = []
    for name in ("body", "orelse", "finalbody", "handlers"):
        for child in getattr(node, name, None) or []:
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.append(child)
            elif isinstance(child, (*_BLOCKS, ast.ExceptHandler)):
                out.extend(_block_defs(child))
    return out


class _WithoutDefinitions(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.AST) -> None:
        return None

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef


def _skeleton(node: ast.AST) -> str:
    """A block without its definitions: what "other top-level code" it runs."""
    return ast.dump(_WithoutDefinitions().visit(copy.deepcopy(node)))


def _parse_blocks(statements: list[Statement]) -> list[tuple[ast.stmt, list[str]]]:
    """The running version's changed blocks, parsed again (tables keep no trees)."""
    out = []
    for stmt in statements:
        text = "\n" * (stmt.lineno - 1) + stmt.text
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = st.split_lines(text)
        out.extend((n, lines) for n in tree.body if isinstance(n, _BLOCKS))
    return out


def compile_bare_def(node: ast.stmt, filename: str, flags: int = 0) -> types.CodeType:
    """A ``def`` compiled without its decorators (run, it makes the bare function)."""
    bare = copy.copy(node)
    bare.decorator_list = []  # type: ignore[attr-defined]
    return compile(ast.Module([bare], []), filename, "exec", flags=flags, dont_inherit=True)


def compile_statement(stmt: Statement, filename: str, flags: int = 0) -> types.CodeType:
    if stmt.node is not None:
        return compile(ast.Module([stmt.node], []), filename, "exec", flags=flags,
                       dont_inherit=True)
    # The text is whole lines: `import os; n = 0` is two statements, run only this one.
    tree = ast.parse("\n" * (stmt.lineno - 1) + stmt.text, filename)
    nodes = [n for n in tree.body if st.classify(n) == (stmt.kind, stmt.names)][:1]
    return compile(ast.Module(nodes or tree.body, []), filename, "exec", flags=flags,
                   dont_inherit=True)


def registers_handler(stmt: Statement) -> bool:
    """Is ``stmt`` a definition decorated ``@before_code_reload``/``@after_code_reload``?"""
    return any(
        d.rsplit(".", 1)[-1] in ("before_code_reload", "after_code_reload")
        for d in decorators(stmt) or ()
    )
