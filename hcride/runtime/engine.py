"""The HCR engine inside the user's program: tracks reloadable modules and applies
batches of new versions with the rules of ``semantics.md``.

Standard library only. One engine per process (``bootstrap.get_engine()``).

A reload goes: collect what is pending -> stage (parse, type check; nothing live is
touched) -> before handlers -> commit in dependency order, every mutation logged so
that an exception rolls the whole batch back -> after handlers -> report.
"""

from __future__ import annotations

import ast
import gc
import heapq
import importlib.machinery
import linecache
import os
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hcride.analysis import statements as st
from hcride.analysis.statements import ModuleTable
from hcride.runtime import changes, handlers, modcache
from hcride.runtime.projectfiles import ProjectFiles
from hcride.runtime.report import ModuleReport, Rejection, ReloadResult

if TYPE_CHECKING:  # the reload machinery is imported at the first save (see _prepare)
    from hcride.analysis.incremental import Update
    from hcride.runtime.commit import ClosureWork, ModuleCommit
    from hcride.runtime.patching import UndoLog
    from hcride.runtime.plan import CommitPlan

Listener = Callable[[str, Any], None]
"""Told ``(kind, payload)``: a dict, or for ``"result"`` the ``ReloadResult``."""


@dataclass
class Candidate:
    """A new version of a module's source, read once, waiting to be applied."""

    text: str
    digest: str
    data: bytes
    stat: int | None = None
    build: int | None = None
    reported: bool = False
    """Already part of a batch that was refused: not pending until something changes."""
    codes: dict[int, types.CodeType] = field(default_factory=dict)
    """Compiled statements of the staged version, by ``id`` of the statement."""
    update: Update | None = None
    """How the staged version's table was derived from the running one."""
    plan: CommitPlan | None = None
    """What committing it will do (worked out from the tables when it was staged)."""
    problems: list[Rejection] = field(default_factory=list)
    """Why it cannot apply (syntax error, class shape changes), found when staged."""
    staged_on: bytes | None = None
    """The running version (its bytes) it was staged against."""
    kept: ModuleTable | None = None
    """The staged table as kept once applied (no syntax trees), made when staged."""


@dataclass(slots=True, eq=False)
class History:
    """What happened to a tracked module since its import (for most modules: nothing,
    and they share one ``PRISTINE`` history)."""

    version: int = 1
    state: str = "unchanged"
    status: dict[str, str] | None = None
    """Per global: what the last reload did to it."""
    missing_reported: bool = False
    pinned: bool = False
    """The running text is in ``linecache`` (the file on disk differs from it)."""
    known_digest: str | None = None
    """The digest, once computed for a reload (a module never edited hashes on demand)."""
    stale_from: dict[str, str] | None = None
    """Stale globals and class attributes: the text of the statement that made their
    live value (``ModuleCommit.judge_stale``)."""


PRISTINE = History()
"""The history of every module nothing happened to; never written."""


def _in_history(name: str) -> Any:
    """A ``Tracked`` attribute kept in its ``History`` (made on the first write)."""

    def get(self: Tracked) -> Any:
        return getattr(self.history, name)

    def set_(self: Tracked, value: Any) -> None:
        if self.history is PRISTINE:
            self.history = History()
        setattr(self.history, name, value)

    return property(get, set_)


@dataclass(slots=True)
class Tracked:
    """A reloadable module and the version of its source that is running.

    What is kept is the running version's bytes and little else (``slots``; no text,
    lines, digest or table until something needs one; what reloads change lives in a
    ``History`` made on first use): a program importing a thousand modules must not pay
    for their sources several times over."""

    name: str
    module: types.ModuleType
    path: str
    """The source file, resolved."""
    data: bytes
    """The running version's source, as read from its file or build."""
    table_ref: ModuleTable | bytes | None
    """The statement table, or where to get it until a reload needs it: None when it
    is in the cache next to the bytecode (``modcache``, read again then), its packed
    form when it could not be written there (a module never edited never unpacks it)."""
    order: int
    origin: str = ""
    """The file name the module was imported by (its cache entry's key)."""
    stat: int | None = None
    candidate: Candidate | None = None
    history: History = PRISTINE

    version = _in_history("version")
    state = _in_history("state")
    status = _in_history("status")
    missing_reported = _in_history("missing_reported")
    pinned = _in_history("pinned")
    known_digest = _in_history("known_digest")
    stale_from = _in_history("stale_from")

    @property
    def source(self) -> str:
        """The running version's text (decoded on demand)."""
        return st.decode_source(self.data)

    @property
    def digest(self) -> str:
        return self.known_digest or st.source_digest(self.data)

    @property
    def table(self) -> ModuleTable:
        ref = self.table_ref
        if isinstance(ref, ModuleTable):
            return ref
        table = None
        if isinstance(ref, bytes):
            table = modcache.unpack_table(ref, self.digest)
        elif self.origin:
            table = modcache.load_table(self.origin, self.digest)
        if table is None:  # no cache entry (any more): the running source says the same
            table = st.split_module(self.source, self.path).without_nodes()
        self.table_ref = table
        return table

    def info(self, digest: str | None = None) -> dict[str, Any]:
        state = self.state
        if self.candidate is not None:
            state = "rejected" if self.candidate.reported else "pending"
        return {
            "name": self.name,
            "file": self.path,
            "version": self.version,
            "state": state,
            "digest": digest or self.digest,
        }

    def pin(self) -> None:
        """Tracebacks show the running text (the file on disk is another version)."""
        text = self.source
        lines = st.split_lines(text)
        for key in {self.path, self.origin or self.path}:
            linecache.cache[key] = (len(text), None, lines, key)
        self.pinned = True

    def unpin(self) -> list[object]:
        """Tracebacks read the file again; returns the entries taken out of
        ``linecache`` (freeing a long module's lines takes a while: the caller may
        keep them until a better moment than a reload's pause)."""
        removed: list[object] = []
        if self.pinned:
            for key in {self.path, self.origin or self.path}:
                removed.append(linecache.cache.pop(key, None))
            self.pinned = False
        return removed


_SIZE_BITS = 40


def _stat(path: str | Path) -> int | None:
    """What ``stat`` says of a file's version: its modification time and size in one
    int (a tuple would cost three objects per module), or None."""
    try:
        s = os.stat(path)
    except OSError:
        return None
    return (s.st_mtime_ns << _SIZE_BITS) | (s.st_size & ((1 << _SIZE_BITS) - 1))


_RACY_NS = 2_000_000_000


def _settled(stat: int | None) -> int | None:
    """``stat`` if it may stand for the content read with it, else None.

    A file modified moments ago can be saved again within the same timestamp tick
    with the same size, and (mtime, size) would not change: such a stat is not
    remembered, so the next check reads and hashes the file (as git's "racily clean"
    entries). Only recently saved files pay for it."""
    if stat is None or time.time_ns() - (stat >> _SIZE_BITS) < _RACY_NS:
        return None
    return stat


class _Loader(importlib.machinery.SourceFileLoader):
    """Loads a reloadable module from source, remembering the exact text it ran.

    Each engine has its own subclass holding it (``Engine._loader``): a loader per
    module carries no more than the import system's own."""

    _engine: Engine

    def get_code(self, fullname: str) -> types.CodeType:
        data = self.get_data(self.path)
        digest = st.source_digest(data)
        cached = modcache.load(self.path, digest)  # the code of exactly these bytes
        table: bytes | None = None  # the table stays in the cache entry until needed
        if cached is not None:
            code = cached
        else:
            self._engine.parses += 1
            text = st.decode_source(data)
            tree = ast.parse(text, self.path)
            code = compile(tree, self.path, "exec", dont_inherit=True)
            made = st.table_from_tree(tree, text, digest).without_nodes()
            if not modcache.store(self.path, digest, code, made):
                table = modcache.pack_table(made)  # no cache here: kept packed
        resolved = self._engine.reloadable_origin(self.path) or self.path
        self._engine._record(fullname, resolved, data, table, origin=self.path, digest=digest)
        return code


class _Finder:
    """Routes imports of the project's modules to ``_Loader`` (a meta path finder;
    not derived from ``importlib.abc``, whose import costs milliseconds at start)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if (
            spec is None
            or spec.origin is None
            or not isinstance(spec.loader, importlib.machinery.SourceFileLoader)
        ):
            return None
        resolved = self._engine.reloadable_origin(spec.origin)
        if resolved is None:
            return None
        spec.loader = self._engine._loader(fullname, spec.origin)
        return spec


class Engine:
    """Tracks the program's reloadable modules and applies reloads."""

    def __init__(self, project: Path | str, main_file: Path | str | None = None,
                 mode: str = "detect", main_source: bytes | None = None):
        """``main_source``: the main script's bytes that run (read from ``main_file``
        when not given); an edit of the main script is told by its digest."""
        self.project = Path(project).resolve()
        self.main_file = Path(main_file).resolve() if main_file else None
        self.mode = mode
        self.controlled = False
        """True when a controller announces builds: then only builds are pending."""
        self._tracked: dict[str, Tracked] = {}
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._reloading = False
        self._batch: set[str] = set()
        self._first_imports: list[str] = []
        """Modules first imported while the batch being committed ran."""
        self._files = ProjectFiles(
            str(self.project), str(self.main_file) if self.main_file else None)
        self._order = 0
        self._loader = type("_Loader", (_Loader,), {"_engine": self})
        self._announced: list[str] = []
        """Modules first imported since the current reload started (told to listeners)."""
        self._modules_seen = 0
        self._checked: dict[str, str] = {}
        self._installed = False
        self._main_digest: str | None = None
        self._main_stat: int | None = None
        self._main_reported: str | None = None
        self._problems: list[Rejection] = []
        """Unreadable files found by has_any_module_changed(), for the next reload."""
        self.reloads = 0
        self.parses = 0
        """Modules the loader parsed and compiled (not found in the cache next to the
        bytecode): a count for tests."""
        self.stats = 0
        """Source files stat-ed to look for changes (standalone): a count for tests."""
        self._feed: changes.ChangeFeed | None = None
        self._feed_tried = False
        self._recheck: set[str] = set()
        """Modules to look at in the next scan whatever the feed says (new ones)."""
        self._by_file: dict[str, str | tuple[str, ...]] = {}
        """The module of each file (a tuple for a file imported under several names: a
        script run from inside its package imports ``util`` and ``shop.util``)."""
        self._main_dirty = True
        self._changes = 0
        """Bumped whenever what is pending may have changed."""
        self._answered = (-1, False)
        self._retired: list[object] = []
        """What a reload took out of use, freed outside its pause."""
        self._main_data = main_source
        """The main script's bytes that run (for its tracebacks once it is edited)."""
        if main_source is not None:  # read earlier: the first check reads the file
            self._main_digest = st.source_digest(main_source)
        elif self.main_file is not None:
            self._main_stat = _settled(_stat(self.main_file))
            try:
                self._main_data = self.main_file.read_bytes()
                self._main_digest = st.source_digest(self._main_data)
            except OSError:
                self._main_digest = None

    # ----------------------------------------------------------------- tracking

    def install(self) -> None:
        """Route future imports of project modules through the engine and adopt the
        ones already imported."""
        if self._installed:
            return
        self._installed = True
        sys.meta_path.insert(0, _Finder(self))
        _read_running_lines(self)
        self.adopt_loaded_modules()

    def _main_lines(self, filename: str) -> list[str] | None:
        """``running_lines`` of the main script (never reloaded: once edited, "restart
        needed", its tracebacks still quote what runs)."""
        main, data = self.main_file, self._main_data
        if main is None or data is None or os.path.basename(filename) != main.name:
            return None
        try:
            if os.path.realpath(filename) != str(main):
                return None
        except (OSError, ValueError):
            return None
        if _file_holds(filename, data):
            return None
        text = st.decode_source(data)
        lines = st.split_lines(text)
        linecache.cache[filename] = (len(text), None, lines, filename)
        return list(lines)

    def running_lines(self, filename: str) -> list[str] | None:
        """The lines of the version that runs, if ``filename`` is a tracked module's
        and its file says another version (saved, not reloaded yet; deleted): they
        are pinned in ``linecache`` until the file says what runs again. None: the
        file says what runs (or is no module's)."""
        name = self._by_file.get(filename)
        if name is None:
            try:
                resolved = self._files.origin(filename)
            except (OSError, ValueError):
                return None
            name = self._by_file.get(resolved) if resolved else None
        if name is None:
            return self._main_lines(filename)
        tracked = self._tracked.get(name if isinstance(name, str) else name[0])
        if tracked is None or _file_holds(filename, tracked.data):
            return None
        tracked.pin()
        entry = linecache.cache.get(filename)
        if entry is None or len(entry) < 3:  # a third name of the file (a link): not
            return st.split_lines(tracked.source)  # pinned (unpin would not see it)
        return list(entry[2])

    def is_reloadable_file(self, path: Path) -> bool:
        """Is the file at ``path`` a reloadable module's (``ProjectFiles``)?"""
        try:
            return self._files.is_reloadable_file(os.fspath(path))
        except (OSError, ValueError):
            return False

    def reloadable_origin(self, origin: str) -> str | None:
        """``origin`` resolved, if it is a reloadable module's file (else None): the
        import hook asks this for every import (string work, cached per folder)."""
        return self._files.origin(origin)

    def _record(self, name: str, path: str, data: bytes, table: bytes | None, origin: str,
                digest: str) -> None:
        """A reloadable module was (re-)imported from ``data``. ``path``: its file,
        resolved; ``origin``: the path it was imported by (its code's file name);
        ``table``: the packed table when the cache next to the bytecode has none."""
        with self._lock:
            module = sys.modules.get(name)
            if module is None:
                return
            old = self._tracked.get(name)
            self._changes += 1
            if self._feed_tried:  # before the first poll every module is looked at
                self._recheck.add(name)
            if old is not None:  # importlib.reload(), or a new import after
                # `del sys.modules[name]`: a fresh start, maybe in a new module object
                old.unpin()  # what runs now is what the file says
                old.module = module
                old.data, old.table_ref, old.origin = data, table, origin
                old.known_digest = None
                old.stat, old.candidate = _settled(_stat(path)), None
                return
            self._order += 1
            tracked = self._tracked[name] = Tracked(
                name, module, path, data, table, self._order, origin,
                stat=_settled(_stat(path)),
            )
            self._follow(tracked)
            if self._reloading:
                self._first_imports.append(name)
                self._announced.append(name)
        if self._listeners:
            self._notify("modules", {"modules": [tracked.info(digest)]})

    def adopt_loaded_modules(self) -> None:
        """Track reloadable modules imported without the engine's loader (before it was
        installed, or by other import machinery)."""
        found: list[str] = []
        if len(sys.modules) == self._modules_seen:
            return
        self._modules_seen = len(sys.modules)
        for name, module in list(sys.modules.items()):
            if name in self._tracked or name == "__main__":
                continue
            file = getattr(module, "__file__", None)
            if not file or self._checked.get(name) == file:
                continue
            self._checked[name] = file
            path = Path(file)
            if not self.is_reloadable_file(path):
                continue
            try:
                data = path.read_bytes()
                text = st.decode_source(data)
                table = st.split_module(text, str(path))
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                continue
            with self._lock:
                self._order += 1
                self._tracked[name] = Tracked(
                    name, module, str(path.resolve()), data, table.without_nodes(),
                    self._order, file, stat=_settled(_stat(file)),
                )
                if self._feed_tried:
                    self._recheck.add(name)
                self._changes += 1
                self._follow(self._tracked[name])
            found.append(name)
        if found:
            self._notify("modules", {"modules": self.module_infos(found)})

    # --------------------------------------------------------------- public API

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _notify(self, kind: str, payload: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            try:
                listener(kind, payload)
            except Exception:  # a listener must never break the program
                traceback.print_exc()

    def announce_mode(self) -> None:
        """Tell the listeners the resolved mode again (an empty modules delta): the
        API's first import turns "detect" into manual while the program runs."""
        self._notify("modules", {"modules": []})

    def resolved_mode(self) -> str:
        if self.mode in ("manual", "auto"):
            return self.mode
        return "manual" if "hcride.hotcodereloading" in sys.modules else "auto"

    def module_infos(self, names: list[str] | None = None) -> list[dict[str, Any]]:
        """Every module's info (main script first), or only those of ``names`` still
        tracked (``"__main__"`` names the main script): listeners get what changed."""
        with self._lock:
            if names is None:
                tracked = sorted(self._tracked.values(), key=lambda t: t.order)
            else:
                tracked = [self._tracked[n] for n in dict.fromkeys(names) if n in self._tracked]
            infos = [t.info() for t in tracked]
        if self.main_file is not None and (names is None or "__main__" in names):
            infos.insert(0, {
                "name": "__main__",
                "file": str(self.main_file),
                "version": 1,
                "state": "restart_needed" if self._main_reported else "main",
                "digest": self._main_digest or "",
            })
        return infos

    def get_module(self, name: str) -> types.ModuleType | None:
        if name == "__main__":
            return sys.modules.get("__main__")
        tracked = self._tracked.get(name)
        return tracked.module if tracked else None

    def name_status(self, name: str) -> dict[str, str]:
        tracked = self._tracked.get(name)
        return dict(tracked.status or {}) if tracked else {}

    def forget_stale(self, module: str, key: str) -> None:
        """The live value of ``key`` (a global of ``module``, or ``Class.attr``) was
        given again from the module's text (the IDE's "run the new initializer"): it is
        not stale any more."""
        with self._lock:
            tracked = self._tracked.get(module)
            if tracked is not None and tracked.stale_from and key in tracked.stale_from:
                remaining = dict(tracked.stale_from)
                del remaining[key]
                tracked.stale_from = remaining or None

    def has_module_changed(self, module: types.ModuleType | str) -> bool:
        """Inside handlers: is ``module`` part of the batch being applied?"""
        name = module if isinstance(module, str) else getattr(module, "__name__", "")
        return name in self._batch

    def submit_build(self, build: int, modules: list[dict[str, Any]]) -> None:
        """A controller's build: read each snapshot now (once), apply at the next reload."""
        with self._lock:
            self._retired.clear()
            for entry in modules:
                tracked = self._tracked.get(str(entry.get("name")))
                if tracked is None:
                    continue
                try:
                    data = Path(entry["snapshot"]).read_bytes()
                except (OSError, KeyError, TypeError):
                    continue
                self._set_candidate(tracked, data, None, build)
        self._notify("pending", {"build": build})

    def _set_candidate(
        self, tracked: Tracked, data: bytes, stat: int | None, build: int | None
    ) -> bool:
        """Note a version read from disk or a build. True if it is newly pending."""
        self._changes += 1
        digest = st.source_digest(data)
        if tracked.history.missing_reported:
            tracked.missing_reported = False
        previous = tracked.candidate
        if previous is not None and previous.digest == digest:
            previous.stat = stat
            return False
        if previous is not None and previous.reported:
            # The user changed a refused module: retry the modules held with it.
            for other in self._tracked.values():
                if other.candidate is not None:
                    other.candidate.reported = False
        if data == tracked.data:
            tracked.candidate = None
            tracked.unpin()  # the file says what runs again
            if previous is not None and not self.controlled:  # (a controller says it)
                self._notify("back", {"module": tracked.name, "was_refused": previous.reported})
            return False
        try:
            text = st.decode_source(data)
        except (UnicodeDecodeError, SyntaxError, LookupError) as exc:
            text = f"\0undecodable: {exc}"
        tracked.candidate = Candidate(text, digest, data, stat, build)
        # (Tracebacks of the running code show its own lines: ``running_lines``.)
        self._prepare(tracked)  # now, not in the reload's pause
        return True

    def _follow(self, tracked: Tracked) -> None:
        """Watch a newly tracked module's folder for changes (once a feed exists)."""
        known = self._by_file.get(tracked.path)
        if known is None or known == tracked.name:
            self._by_file[tracked.path] = tracked.name
        else:
            names = (known,) if isinstance(known, str) else known
            if tracked.name not in names:
                self._by_file[tracked.path] = (*names, tracked.name)
        if self._feed is not None:
            self._feed.watch(os.path.dirname(tracked.path))

    def _maybe_changed(self) -> list[Tracked]:
        """Standalone: the tracked modules whose file may have changed since the last
        look: those the change feed names, and new ones; every one without a feed."""
        if not self._feed_tried:  # first poll: start watching (not at import time)
            self._feed_tried = True
            # A program that polls expects reloads: the machinery is loaded now, not in
            # the first reload's pause (under a controller, the agent's thread loads it
            # with the first build).
            from hcride.runtime import commit, plan  # noqa: F401
            self._feed = changes.ChangeFeed.open()
            if self._feed is not None:
                if self.main_file is not None:
                    self._feed.watch(str(self.main_file.parent))
                for tracked in self._tracked.values():
                    self._feed.watch(os.path.dirname(tracked.path))
                self._recheck.update(self._tracked)
        changed = self._feed.drain() if self._feed is not None else None
        if changed is None:
            self._main_dirty = True
            self._recheck.clear()
            return list(self._tracked.values())
        names, self._recheck = self._recheck, set()
        main = str(self.main_file) if self.main_file is not None else None
        for path in changed:
            name = self._by_file.get(path)
            if isinstance(name, str):
                names.add(name)
            elif name is not None:
                names.update(name)
            elif path == main:
                self._main_dirty = True
        return [self._tracked[n] for n in names if n in self._tracked]

    def _any_pending(self) -> bool:
        """Is any version pending and not refused? (Recomputed only after a change.)"""
        if self._answered[0] != self._changes:
            pending = any(
                t.candidate is not None and not t.candidate.reported
                for t in self._tracked.values()
            )
            self._answered = (self._changes, pending)
        return self._answered[1]

    def _scan(self) -> list[Rejection]:
        """Standalone mode: read the sources whose file changed (by stat, then by
        content hash), looking only at those the change feed names. Returns files
        that vanished or became unreadable, once each."""
        problems: list[Rejection] = []
        for tracked in self._maybe_changed():
            self.stats += 1
            now = _stat(tracked.path)
            seen = tracked.candidate.stat if tracked.candidate else tracked.stat
            if now == seen and now is not None:
                continue
            try:
                with open(tracked.path, "rb") as handle:
                    data = handle.read()
            except OSError as exc:
                if not tracked.missing_reported:
                    tracked.missing_reported = True
                    problems.append(Rejection(
                        tracked.name, "unreadable",
                        f"cannot read {tracked.path}: {exc.strerror or exc}; "
                        "the loaded code keeps running",
                        file=tracked.path,
                    ))
                continue
            if tracked.candidate is None and data == tracked.data:
                tracked.stat = _settled(now)
                continue
            self._set_candidate(tracked, data, _settled(now), None)
        return problems

    def _check_main(self) -> str | None:
        if self.main_file is None or self._main_digest is None:
            return None
        if self._feed is not None and not self._main_dirty:
            return None
        self._main_dirty = False
        now = _stat(self.main_file)
        if now == self._main_stat and now is not None:
            return None
        self._main_stat = _settled(now)
        try:
            digest = st.source_digest(self.main_file.read_bytes())
        except OSError:
            return None
        if digest == self._main_digest:
            self._main_reported = None
            return None
        if digest == self._main_reported:
            return None
        self._main_reported = digest
        return str(self.main_file)

    def has_any_module_changed(self) -> bool:
        """Is a new version of any reloadable module ready (and not yet refused)?"""
        with self._lock:
            self._retired.clear()
            if not self.controlled:
                self.adopt_loaded_modules()
                self._problems.extend(self._scan())
                if self._problems:
                    return True  # to be reported by the next perform_code_reload()
            return self._any_pending()

    # ------------------------------------------------------------------ reload

    def reload(self) -> ReloadResult:
        """Apply every pending version as one batch (``perform_code_reload``)."""
        if self._reloading:
            return ReloadResult(ok=False, error="perform_code_reload() called during a reload")
        with self._lock:
            self._reloading = True
            self._announced = []
            result: ReloadResult | None = None
            # No cyclic collection during the reload: parsing and compiling a batch
            # allocates many short-lived objects (a thousand modules: 170,000, and a
            # third of the batch's time went to collections finding no cycles in them).
            collecting = gc.isenabled()
            gc.disable()
            try:
                result = self._reload()
            finally:
                if collecting and not gc.isenabled():
                    gc.enable()
                self._reloading = False
                self._batch = set()
                if result is None or result.reloaded or result.rejected or result.error:
                    self._changes += 1  # candidates were applied, refused or rolled back
        if result.reloaded or result.rejected or result.error or result.restart_needed:
            self.reloads += 1 if result.reloaded and result.ok else 0
            if not self._listeners:
                return result
            self._notify("result", result)  # (a listener that sends it makes the dict)
            touched = ["__main__", *self._announced, *result.reloaded]
            touched += [r.module for r in result.rejected]
            touched += [t.name for t in list(self._tracked.values()) if t.candidate is not None]
            # What changed, not the whole list: the batch, what it imported first (gone
            # again after a rollback: "removed"), what is still pending or refused.
            gone = [n for n in self._announced if n not in self._tracked]
            self._notify("modules", {"modules": self.module_infos(touched), "removed": gone})
        return result

    def _reload(self) -> ReloadResult:
        started = time.perf_counter()
        result = ReloadResult()
        self._retired.clear()  # a program that never polls frees them here
        if not self.controlled:
            self.adopt_loaded_modules()
            result.rejected.extend(self._problems + self._scan())
            self._problems = []
        restart = None if self.controlled else self._check_main()  # else: the controller says
        if restart:
            result.restart_needed.append(restart)
        if not self._any_pending():  # nothing to do: no walk over every module
            result.ok = not result.rejected
            if result.rejected:
                result.error = result.rejected[0].describe()
            result.duration_ms = (time.perf_counter() - started) * 1000
            return result
        # A refused version is not pending: it holds back nothing but itself.
        pending = [t for t in self._tracked.values()
                   if t.candidate is not None and not t.candidate.reported]
        if not pending:
            result.ok = not result.rejected
            if result.rejected:
                result.error = result.rejected[0].describe()
            result.held_back = self._held_back()
            result.duration_ms = (time.perf_counter() - started) * 1000
            return result
        result.build = max((t.candidate.build or 0 for t in pending), default=0) or None  # type: ignore[union-attr]

        staged, rejected = self._stage(pending)
        if rejected:
            for t in pending:
                t.candidate.reported = True  # type: ignore[union-attr]
            result.ok = False
            result.rejected.extend(rejected)
            result.error = rejected[0].describe()
            result.held_back = self._held_back()
            result.duration_ms = (time.perf_counter() - started) * 1000
            return result

        order = self._dependency_order(staged)
        self._batch = {t.name for t, _ in order}
        load_order = self._load_order()
        for handler in handlers.ordered(handlers.before, load_order):
            self._call_handler(handler, result)

        from hcride.runtime.patching import UndoLog

        undo = UndoLog()
        saved_handlers = handlers.snapshot()
        reports: list[ModuleReport] = []
        closure_work: list[ClosureWork] = []
        commits: list[ModuleCommit] = []
        self._first_imports = []
        try:
            for tracked, new_table in order:
                reports.append(self._commit_module(tracked, new_table, undo, closure_work,
                                                   commits))
            self._follow_imports(commits, undo)
            self._patch_closures(closure_work, undo)
            undo.apply_when_quiet()
        except BaseException as exc:
            undo_problems = undo.rollback()
            handlers.restore(saved_handlers)
            self._forget_first_imports()
            for t in pending:
                t.candidate.reported = True  # type: ignore[union-attr]
                t.candidate.staged_on = None  # type: ignore[union-attr]  # its plan was used
                t.state = "failed"
            result.ok = False
            result.reloaded = [t.name for t, _ in order]
            result.error = "".join(traceback.format_exception(exc))
            if undo_problems:
                result.error += "rollback incomplete (the program may run a mix of versions;" \
                    " restart it):\n" + "\n".join(undo_problems) + "\n"
            result.held_back = self._held_back()
            result.duration_ms = (time.perf_counter() - started) * 1000
            if isinstance(exc, KeyboardInterrupt):  # SystemExit too is rolled back
                raise
            return result

        # What the batch made and no longer needs (the undo log, the staged plans and
        # syntax trees) is freed when this returns, while the cyclic collector is still
        # paused: the collection after the reload then walks only what stays (it walked
        # 130,000 such objects after a batch of 1,000 modules). What it replaced (old
        # tables: a long module's are large; old lines) is freed after the pause.
        for (tracked, _table), report in zip(order, reports, strict=False):
            candidate = tracked.candidate
            assert candidate is not None and candidate.update is not None
            assert candidate.kept is not None
            old_table = tracked.table_ref
            if len(candidate.update.table.statements) > _FREED_LATER:
                # A long module's old table, new text and plan: freeing them takes
                # a millisecond at 100,000 lines (a small module's, freed at once,
                # spare the collector a walk over them instead).
                self._retired.append((old_table, candidate))
            tracked.data = candidate.data
            tracked.table_ref = candidate.kept  # (made with the update, when staged)
            tracked.stat = candidate.stat  # None: hash the file at the next check
            tracked.candidate = None
            history = tracked.history  # (its fields at once, not through properties)
            if history is PRISTINE:
                history = tracked.history = History()
            history.known_digest = candidate.digest
            history.version += 1
            history.state = "reloaded"
            report.version = history.version
            # The file says what runs (a newer save pins it again); the old lines are
            # freed after the pause.
            if history.pinned:
                self._retired.extend(tracked.unpin())
        result.reloaded = [t.name for t, _ in order]
        result.modules = reports
        result.held_back = self._held_back()
        for handler in handlers.ordered(handlers.after, self._load_order()):
            self._call_handler(handler, result)
        result.duration_ms = (time.perf_counter() - started) * 1000
        return result

    def _held_back(self) -> list[str]:
        """Modules whose newest version was refused: they run their old version."""
        held = [t for t in self._tracked.values()
                if t.candidate is not None and t.candidate.reported]
        return [t.name for t in sorted(held, key=lambda t: t.order)]

    def _forget_first_imports(self) -> None:
        """Rollback: a module the batch imported first is not imported any more, so
        that importing it again runs its top level (and registers its handlers)."""
        for name in reversed(self._first_imports):
            module = sys.modules.get(name)
            if module is not None and module is self._tracked[name].module:
                del sys.modules[name]
                parent, _, child = name.rpartition(".")
                if parent and getattr(sys.modules.get(parent), child, None) is module:
                    delattr(sys.modules[parent], child)
            self._tracked.pop(name, None)
            self._checked.pop(name, None)
        self._first_imports = []

    def _load_order(self) -> dict[str, int]:
        order = {t.name: t.order for t in self._tracked.values()}
        order["__main__"] = 0
        return order

    @staticmethod
    def _call_handler(handler: Callable[[], object], result: ReloadResult) -> None:
        try:
            handler()
        except Exception as exc:
            result.handler_errors.append("".join(traceback.format_exception(exc)))

    def _stage(
        self, pending: list[Tracked]
    ) -> tuple[list[tuple[Tracked, ModuleTable]], list[Rejection]]:
        """Every pending version staged (``_prepare``: usually done when it arrived)."""
        staged: list[tuple[Tracked, ModuleTable]] = []
        rejected: list[Rejection] = []
        for tracked in pending:
            rejected.extend(self._prepare(tracked))
            candidate = tracked.candidate
            assert candidate is not None
            if candidate.update is not None:
                staged.append((tracked, candidate.update.table))
        return staged, rejected

    def _prepare(self, tracked: Tracked) -> list[Rejection]:
        """Stage a module's new version against its running one: parse (only what
        changed), compile, check class shapes and plan the commit; touch nothing live.
        Done once per candidate (again only if the running version changed meanwhile),
        when it arrives, so the reload's pause does not include it. Returns why it
        cannot apply (nothing: it can)."""
        # The reload machinery, imported at the first save (a program that is never
        # edited does not load it: 0.3 MB and a few ms at start).
        from hcride.analysis.diff import type_changes
        from hcride.analysis.incremental import update_table
        from hcride.runtime.commit import compile_bare_def
        from hcride.runtime.commit import compile_statement as _compile
        from hcride.runtime.plan import forget_deleted, future_flags, plan_commit

        candidate = tracked.candidate
        assert candidate is not None
        if candidate.staged_on is tracked.data:
            return candidate.problems
        candidate.staged_on = tracked.data
        candidate.update = candidate.plan = candidate.kept = None
        candidate.codes = {}
        problems: list[Rejection] = []
        candidate.problems = problems
        path = tracked.path
        if candidate.text.startswith("\0undecodable: "):
            problems.append(Rejection(tracked.name, "syntax", candidate.text[14:], file=path))
            return problems
        old_table = tracked.table
        try:
            update = update_table(old_table, tracked.source, candidate.text,
                                  candidate.digest, path, future_flags(old_table))
            namespace = tracked.module.__dict__
            plan = plan_commit(old_table, update.table, update, namespace.get("__package__"))
            forget_deleted(plan, namespace)
            # Keyed by id(): the update and plan are kept with them, so the ids stay
            # their own. What the commit runs is compiled now, not in the pause: the
            # changed statements, the constants that run again, each changed def
            # without its decorators (with them only if they changed). Unchanged
            # imports are read from the modules already imported (``bound_by_import``);
            # one that must import something is compiled when it runs.
            codes: dict[int, types.CodeType] = {}
            fresh = {id(stmt) for stmt in update.fresh}
            if update.code is not None:  # a def compiled from its text (no tree)
                codes[id(update.fresh[0])] = update.code
            for stmt in plan.work:
                node = stmt.node
                if id(stmt) in codes or stmt.kind == st.IMPORT and id(stmt) not in fresh:
                    continue
                if stmt.kind == st.DEF and node is not None and node.decorator_list:  # type: ignore[attr-defined]
                    codes[id(node)] = compile_bare_def(node, path, plan.flags)
                    if plan.same_decorators.get(id(stmt)):
                        continue  # the decorators do not run again
                codes[id(stmt)] = _compile(stmt, path, plan.flags)
                if stmt.kind == st.DEF and node is not None and id(node) not in codes:
                    codes[id(node)] = codes[id(stmt)]  # undecorated: the bare def is the def
        except SyntaxError as exc:
            problems.append(Rejection(
                tracked.name, "syntax", f"SyntaxError: {exc.msg}", file=path,
                line=exc.lineno or 0, col=exc.offset or 0,
            ))
            return problems
        except (ValueError, RecursionError, MemoryError) as exc:
            problems.append(Rejection(tracked.name, "syntax", f"{type(exc).__name__}: {exc}",
                                      file=path))
            return problems
        except Exception as exc:  # hcride's own fault: refuse the version, say why
            problems.append(_staging_error(tracked.name, path, exc))
            return problems
        try:
            shapes = type_changes(tracked.name, old_table, update.table)
        except Exception as exc:
            problems.append(_staging_error(tracked.name, path, exc))
            return problems
        for change in shapes:
            problems.append(Rejection(
                tracked.name, "type_change",
                f"class {change.cls}: " + "; ".join(change.differences),
                file=path, line=change.lineno, cls=change.cls,
                differences=list(change.differences),
            ))
        candidate.update, candidate.plan, candidate.codes = update, plan, codes
        candidate.kept = update.kept_table()
        return problems

    def _dependency_order(
        self, staged: list[tuple[Tracked, ModuleTable]]
    ) -> list[tuple[Tracked, ModuleTable]]:
        """A module before the modules that import it; otherwise load order."""
        by_name = {t.name: (t, table) for t, table in staged}
        deps: dict[str, set[str]] = {}
        for tracked, _table in staged:
            assert tracked.candidate is not None and tracked.candidate.plan is not None
            wanted = tracked.candidate.plan.imports
            deps[tracked.name] = {n for n in wanted if n in by_name and n != tracked.name}
        names = sorted(by_name, key=lambda n: by_name[n][0].order)
        return [by_name[n] for n in order_by_dependencies(names, deps)]

    # ------------------------------------------------------------------ commit

    def _commit_module(self, tracked: Tracked, new: ModuleTable, undo: UndoLog,
                       closure_work: list[ClosureWork],
                       commits: list[ModuleCommit]) -> ModuleReport:
        """Prepare one module of the batch (``commit.ModuleCommit``); the changes the
        running code can see are made later, all at once, by ``undo.apply()``."""
        filename = tracked.path
        old = tracked.table
        candidate = tracked.candidate
        assert candidate is not None and candidate.update is not None
        assert candidate.plan is not None and candidate.update.table is new
        from hcride.runtime.commit import ModuleCommit

        report = ModuleReport(tracked.name, filename, tracked.version + 1)
        commit = ModuleCommit(tracked.name, tracked.module.__dict__, filename, old, new, undo,
                              candidate.plan.flags, candidate.codes, report, closure_work,
                              candidate.text)
        commit.stale_from = dict(tracked.stale_from or {})
        commits.append(commit)
        status = commit.run(candidate.update, candidate.plan)
        previous = tracked.status, tracked.stale_from
        tracked.status, tracked.stale_from = status, commit.stale_from or None
        undo.on_undo(_set_history, tracked, *previous)
        return report

    def _follow_imports(self, commits: list[ModuleCommit], undo: UndoLog) -> None:
        """A name a module of the batch rebinds (a ``Final`` constant, a def whose
        decorators changed, what an import brings) is rebound too where another module
        took it with ``from module import name`` (``as alias``, or ``*``), unless it binds it
        again further down, and still holds the old object: as a fresh run would have
        it. Only modules whose source names the module are read (and the main script)."""
        from hcride.runtime.patching import MISSING

        batch = {c.name: c for c in commits}
        for commit in commits:
            if not commit.rebound:
                continue
            needle = commit.name.rpartition(".")[2].encode()
            for holder, namespace, table in self._holders(needle, commit.name, batch):
                holders = taken_from(table, namespace.get("__package__"), commit.name)
                bound_here = batch[holder].overlay if holder in batch else {}
                for name, old, new in commit.rebound:
                    for local in holders(name):  # ``name``, or an alias of it
                        if local not in bound_here and namespace.get(local, MISSING) is old:
                            undo.later_item(namespace, local, new)
                            commit.report.followed.append(f"{holder}.{local}")

    def _holders(self, needle: bytes, module: str, batch: dict[str, ModuleCommit]) -> list[
            tuple[str, dict[str, Any], ModuleTable]]:
        """``(name, namespace, statement table)`` of the modules (and the main script)
        whose source mentions ``needle``: those that may have imported from ``module``."""
        found = []
        for tracked in list(self._tracked.values()):
            if tracked.name == module or needle not in tracked.data:
                continue
            candidate = tracked.candidate
            table = (candidate.update.table if tracked.name in batch and candidate is not None
                     and candidate.update is not None else tracked.table)
            found.append((tracked.name, tracked.module.__dict__, table))
        main = sys.modules.get("__main__")
        if main is not None and self.main_file is not None:
            try:
                data = self.main_file.read_bytes()
                if needle in data:
                    found.append(("__main__", main.__dict__, st.split_module(data)))
            except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
                pass
        return found

    @staticmethod
    def _patch_closures(work: list[ClosureWork], undo: UndoLog) -> None:
        """Closures made from nested code that changed take the new code (one search
        of the heap for the whole batch, only when there is such code)."""
        if not work:
            return
        from hcride.runtime.finder import closures_of
        from hcride.runtime.patching import patch_closure

        by_code = {id(w.old): w for w in work}
        done: set[tuple[int, int]] = set()
        for func in closures_of([w.old for w in work]):
            item = by_code[id(func.__code__)]
            label = func.__qualname__
            if patch_closure(func, item.new, undo, same_behaviour=item.moved):
                if not item.moved and (id(item.report), id(item.old)) not in done:
                    done.add((id(item.report), id(item.old)))
                    item.report.patched.append(label)
            else:
                item.report.closures_skipped.append(
                    f"{label}: free variables changed "
                    f"({', '.join(func.__code__.co_freevars)}) -> "
                    f"({', '.join(item.new.co_freevars)}); it keeps its old code"
                )


def _file_holds(filename: str, data: bytes) -> bool:
    """Does the file say ``data``? (False when it cannot be read: gone, the version
    that runs is still the one loaded.)"""
    try:
        with open(filename, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


_FREED_LATER = 256
"""Statements from which what a reload replaced is freed after its pause."""


def _read_running_lines(engine: Engine) -> None:
    """Tracebacks, ``inspect`` and debuggers read a module's lines through
    ``linecache``, which reads its file again when it changed: after a save, before
    the reload (the program may print a traceback in between), that would put the new
    text at the old code's line numbers. ``linecache`` asks ``engine`` first."""
    original = linecache.updatecache

    def updatecache(filename: str, module_globals: Any = None) -> list[str]:
        try:
            lines = engine.running_lines(filename)
        except Exception:  # never break a traceback
            lines = None
        return lines if lines is not None else original(filename, module_globals)

    updatecache.__wrapped__ = original  # type: ignore[attr-defined]
    linecache.updatecache = updatecache


def _set_history(tracked: Tracked, status: dict[str, str] | None,
                 stale_from: dict[str, str] | None) -> None:
    tracked.status, tracked.stale_from = status, stale_from


def taken_from(table: ModuleTable, package: str | None,
               module: str) -> Callable[[str], list[str]]:
    """For a module's statement ``table``: the names it holds that come from
    ``module``'s attribute ``name`` (``from module import name`` or ``name as alias``
    being the last top-level statement binding them, or a ``from module import *``
    that no later statement overrides)."""
    taken: dict[str, str | None] = {}
    """Each bound name: the attribute of ``module`` it was imported as (None: bound
    otherwise)."""
    star = False
    for stmt in table.statements:
        spec = stmt.spec
        if stmt.kind == st.IMPORT and spec is not None and spec[0] is not None:
            if st.spec_modules(spec, package)[:1] == [module]:
                for attr, alias in spec[2]:
                    if attr == "*":
                        star = True
                        taken = {n: a for n, a in taken.items() if a is not None}
                    else:
                        taken[alias or attr] = attr
                continue
        if stmt.kind != st.DOC:
            taken.update(dict.fromkeys(stmt.names))
    by_attribute: dict[str, list[str]] = {}
    for local, attr in taken.items():
        if attr is not None:
            by_attribute.setdefault(attr, []).append(local)

    def holders(name: str) -> list[str]:
        found = by_attribute.get(name, [])
        return [*found, name] if star and name not in taken else found

    return holders


def _staging_error(module: str, path: str, exc: Exception) -> Rejection:
    """A version hcride failed to stage (a fault of hcride's, not of the code): it is
    refused, with the exception in words, and the program runs on."""
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    place = f" at {os.path.basename(where.filename)}:{where.lineno}" if where else ""
    return Rejection(module, "error", f"hcride could not stage this version: "
                     f"{type(exc).__name__}: {exc}{place}", file=path)


def order_by_dependencies(names: list[str], deps: dict[str, set[str]]) -> list[str]:
    """``names`` (given in load order) with each one after the names it depends on;
    among those ready, load order first; a cycle is broken at its first name in load
    order. O((names + edges) log names)."""
    rank = {name: i for i, name in enumerate(names)}
    waiting = {name: len(deps.get(name, ())) for name in names}
    users: dict[str, list[str]] = {}
    for name in names:
        for dep in deps.get(name, ()):
            users.setdefault(dep, []).append(name)
    ready = [rank[n] for n in names if not waiting[n]]
    heapq.heapify(ready)
    done: list[str] = []
    placed: set[str] = set()
    cursor = 0  # the first name, in load order, that may not be placed yet
    while len(done) < len(names):
        if ready:
            name = names[heapq.heappop(ready)]
            if name in placed:
                continue
        else:  # a cycle: take the first remaining name in load order
            while names[cursor] in placed:
                cursor += 1
            name = names[cursor]
        placed.add(name)
        done.append(name)
        for user in users.get(name, ()):
            waiting[user] -= 1
            if waiting[user] == 0 and user not in placed:
                heapq.heappush(ready, rank[user])
    return done
