"""Build N: snapshot the changed sources, check them, and describe what the program loads.

Nim's compiler writes new libraries into nimcache and the program loads copies; here
each build copies the changed sources into ``PROJECT/.hcr/builds/N/`` and the program
loads those copies, never the file an editor may be writing. A build is checked
before the program hears of it: syntax (file, line, column, message) and class shapes
against the version last handed to the program. A build that cannot apply is
reported with a ``ReloadResult`` whose ``rejected`` says why, and is not sent.
"""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import stat
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcride.analysis import decode_source, source_digest, type_changes
from hcride.analysis import statements as st
from hcride.controller.events import (
    BackToRunning,
    BuildReady,
    BuildRejected,
    BuildStarted,
    Event,
    RestartNeeded,
    RuntimeNotice,
)
from hcride.controller.incremental import CheckError, Version, full_version, new_version
from hcride.controller.interpreter import same_grammar
from hcride.controller.paths import is_ignored, iter_sources
from hcride.runtime.report import Rejection, ReloadResult

KEEP_BUILDS = 20
"""Build folders kept on disk; older ones are pruned."""
SETTLE_S = 0.03
"""How long to wait before reading a file again when it looks half-written."""


@dataclass
class BuildOutcome:
    build: int
    modules: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    restart_needed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


def _decorated_signature(text: str) -> tuple[str, str] | None:
    """``(decorators, parameters and return annotation)`` of a decorated ``def``, as
    syntax-tree dumps (positions left out); None for anything else."""
    try:
        tree = ast.parse(textwrap.dedent(text))
    except SyntaxError:
        return None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.decorator_list:
        return None
    returns = ast.dump(node.returns) if node.returns is not None else ""
    return "|".join(ast.dump(d) for d in node.decorator_list), ast.dump(node.args) + returns


def decorated_signature_changes(
    old: tuple[st.Statement, ...], new: tuple[st.Statement, ...], prefix: str = ""
) -> list[str]:
    """The decorated functions (top level and methods, by qualified name) whose
    parameters or return annotation changed while their decorators did not.

    Their decorators are not run again (a body edit patches the function they
    registered), so a decorator that read the signature when it ran (a FastAPI route,
    ``singledispatch``'s ``register``, a discord.py command) keeps the old one."""
    out: list[str] = []
    olds: dict[tuple[str, str], list[st.Statement]] = {}
    for stmt in old:
        if stmt.kind in (st.DEF, st.CLASS) and len(stmt.names) == 1:
            olds.setdefault((stmt.kind, stmt.names[0]), []).append(stmt)
    taken: dict[tuple[str, str], int] = {}
    for stmt in new:
        if stmt.kind not in (st.DEF, st.CLASS) or len(stmt.names) != 1:
            continue
        key = (stmt.kind, stmt.names[0])
        index = taken.get(key, 0)  # the n-th def of a name pairs with the n-th before
        taken[key] = index + 1
        candidates = olds.get(key, [])
        if index >= len(candidates):
            continue
        prior = candidates[index]
        if prior.text == stmt.text:
            continue
        if stmt.kind == st.CLASS:
            out += decorated_signature_changes(prior.body, stmt.body,
                                               f"{prefix}{stmt.names[0]}.")
            continue
        if "@" not in stmt.text:
            continue
        before, after = _decorated_signature(prior.text), _decorated_signature(stmt.text)
        if before and after and before[0] == after[0] and before[1] != after[1]:
            out.append(prefix + stmt.names[0])
    return out


def user_cache_dir() -> Path:
    """The per-user folder for builds of read-only projects."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hcride"


def _first_free(folder: Path) -> int:
    try:
        numbers = [int(p.name) for p in folder.iterdir() if p.name.isdigit()]
    except OSError:
        return 1
    return max(numbers, default=0) + 1


def _write_snapshot(snapshot: Path, data: bytes, source: Path) -> None:
    """Write a snapshot readable by its owner only when the source is (its mode is the
    source's, plus owner read): a 0600 secret stays 0600."""
    try:
        mode = stat.S_IMODE(source.stat().st_mode) | stat.S_IRUSR | stat.S_IWUSR
    except OSError:
        mode = 0o600
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(snapshot, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fd, mode)  # the umask may have removed bits the source has
        fh.write(data)


def module_name(project: Path, path: Path) -> str:
    """The dotted module name of ``path`` when the project folder is on ``sys.path``."""
    rel = path.relative_to(project).with_suffix("")
    parts = list(rel.parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _read_stable(path: Path) -> bytes:
    """Read ``path``; read again if it changed while being read or looks truncated."""
    data = b""
    for _ in range(5):
        before = path.stat()
        data = path.read_bytes()
        after = path.stat()
        same = (before.st_mtime_ns, before.st_size) == (after.st_mtime_ns, after.st_size)
        if same and (data or after.st_size == 0) and len(data) == after.st_size:
            if data:
                return data
            time.sleep(SETTLE_S)  # empty: maybe truncate-then-write; look once more
            if path.stat().st_size == 0:
                return data
            continue
        time.sleep(SETTLE_S)
    return data


class Builder:
    """Turns a set of changed files into checked, numbered builds. Not thread-safe:
    one build thread calls ``build``; ``set_module_names`` may come from anywhere."""

    def __init__(
        self,
        project: Path,
        main_script: Path | None,
        emit: Callable[[Event], None],
        send: Callable[[dict[str, Any]], None],
    ) -> None:
        self.project = project.resolve()
        self.main_script = main_script.resolve() if main_script else None
        self._emit = emit
        self._send = send
        self._next = 1
        self._base: dict[Path, Version | None] = {}
        """Per file: the version last handed to the program (None: not parsed yet)."""
        self._base_bytes: dict[Path, bytes] = {}
        self._carry: set[Path] = set()
        """Good files held back by a refused build: built again with the next build."""
        self._refused: dict[Path, tuple[str | None, int]] = {}
        """Per file refused (or rolled back by the program) and not saved back or
        applied since: the digest refused (None: unreadable) and the build number."""
        self._unconfirmed: dict[int, list[tuple[Path, bytes | None, Version | None, bytes]]] = {}
        """Builds sent and not answered yet: per file, the baseline before and the data."""
        self._running: dict[Path, str] = {}
        """Per file: the digest of the version the program reported running."""
        self._names: dict[Path, str] = {}
        self._all_names: dict[Path, list[str]] = {}
        """Every name the program loaded a file as (a script run from inside its package
        folder loads ``util.py`` as ``util`` and as ``shop.util``): each gets the build."""
        self._loaded: set[Path] | None = None
        """The files the program imported (None until it says)."""
        self._lock = threading.Lock()
        self._signatures: dict[Path, list[str]] = {}
        """Per file checked: decorated functions whose signature changed (told once the
        build is sent)."""
        self.parses = 0
        """Sources parsed so far (a count for tests: nothing is parsed before a save)."""
        self.program_python: tuple[int, int] | None = sys.version_info[:2]
        """The program's interpreter version (ours until its hello says): a file our
        grammar refuses is handed to a program of another version (or None: unknown)
        unchecked, to judge with its own."""
        self.builds_dir = self.project / ".hcr" / "builds"
        self._folder: Path | None = None
        self._next = _first_free(self.builds_dir)

    # -- baseline -------------------------------------------------------------------

    def load_baseline(self, parse: bool = True) -> None:
        """Remember every project source as the version the program starts from.

        A session does not call this (it would read, and parse, the whole project at
        start): it learns each module's running version from the program's reports
        (``set_module_names``) and parses a file when it is first saved."""
        for path in iter_sources(self.project):
            try:
                data = path.read_bytes()
            except OSError:
                continue
            with self._lock:
                self._base_bytes[path] = data
                self._base[path] = None
        if parse:
            for path in list(self._base_bytes):
                self._base_version(path)

    def _base_version(self, path: Path) -> Version | None:
        with self._lock:
            version = self._base.get(path)
            data = self._base_bytes.get(path)
        if version is not None or data is None:
            return version
        self.parses += 1
        try:
            version = full_version(decode_source(data), data, str(path))
        except (CheckError, SyntaxError, UnicodeDecodeError, LookupError):
            return None
        with self._lock:
            if self._base_bytes.get(path) is data:
                self._base[path] = version
        return version

    def set_module_names(self, infos: Iterable[dict[str, Any]]) -> None:
        """The program reported these modules (imported, or a new version): use its
        names for their files, and its versions as the baseline of the next build.

        A file seen for the first time is read now (not parsed) when it still holds
        the version the program runs, so that its first save is checked against that
        text (class shapes); if it changed already, its digest alone says whether a
        save is a change. A file never reported was never imported by the program."""
        for info in infos:
            try:
                path = Path(info["file"]).resolve()
            except (KeyError, TypeError, OSError, ValueError, RuntimeError):
                continue
            if self._loaded is None:
                self._loaded = set()
            self._loaded.add(path)
            if info.get("name") != "__main__":
                name = str(info["name"])
                self._names[path] = name
                with self._lock:
                    names = self._all_names.setdefault(path, [])
                    if name not in names:
                        names.append(name)
            digest = info.get("digest")
            if not isinstance(digest, str) or not digest:
                continue
            with self._lock:
                self._running[path] = digest
                known = self._base_bytes.get(path)
            if known is not None and source_digest(known) == digest:
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if source_digest(data) == digest:
                with self._lock:
                    self._base_bytes[path] = data
                    self._base[path] = None

    def name_of(self, path: Path) -> str:
        return self._names.get(path) or module_name(self.project, path)

    def names_of(self, path: Path) -> list[str]:
        """Every module the program runs from ``path`` (``name_of`` first)."""
        first = self.name_of(path)
        with self._lock:
            others = [n for n in self._all_names.get(path, ()) if n != first]
        return [first, *others]

    # -- building -------------------------------------------------------------------

    def _imported(self, path: Path) -> bool:
        """Did the program import ``path``? (True until the program has said what it
        loaded: then every file counts.)"""
        return self._loaded is None or path in self._loaded

    def build(self, paths: Iterable[Path]) -> BuildOutcome | None:
        """Build the given files (plus the good files of the last refused build).

        A file whose text is the version the program runs gives a ``BackToRunning``
        event, not a build. A refused file is reported once and not carried: it holds
        back the files saved with it (built again with the next build), never later
        saves. A file the program never imported cannot refuse a build: its problems
        are reported in a build of their own. Returns None when nothing was built.
        """
        started = time.perf_counter()
        wanted = set(self._carry)
        loops: dict[Path, list[Rejection]] = {}
        for given in paths:
            try:
                wanted.add(given.resolve())
            except (RuntimeError, OSError) as exc:  # a symbolic link loop (3.13: OSError)
                if not is_ignored(self.project, given):
                    why = f"cannot read {given}: {exc}"
                    loops[given] = [Rejection(self.name_of(given), "unreadable", why, str(given))]
        wanted = {p for p in wanted if not is_ignored(self.project, p)}
        candidates: list[tuple[Path, bytes | None]] = []
        restart: list[str] = []
        for path in sorted(wanted):
            try:
                data: bytes | None = _read_stable(path)
            except OSError:
                data = None
            with self._lock:
                base = self._base_bytes.get(path)
                base_digest = source_digest(base) if base is not None else None
                if base_digest is None:
                    base_digest = self._running.get(path)
            if data is not None and base_digest is not None and source_digest(data) == base_digest:
                refused = self._refused.pop(path, None)
                self._carry.discard(path)
                if path != self.main_script:
                    self._emit(
                        BackToRunning(file=str(path), module=self.name_of(path),
                                      was_refused=refused is not None)
                    )  # fmt: skip
                continue
            if data is None and base_digest is None:
                continue  # a file we never knew vanished: nothing to report
            if self.main_script is not None and path == self.main_script:
                if data is not None:
                    with self._lock:
                        self._base_bytes[path] = data
                        self._base[path] = None
                    restart.append(str(path))
                continue
            if path not in self._carry and self._is_refused(path, data):
                continue  # the same refused version saved again: reported once
            candidates.append((path, data))
        self._carry = set()
        checked: list[tuple[Path, bytes, Version | None]] = []
        problems: dict[Path, list[Rejection]] = {}
        for path, data in candidates:
            found = self._check(path, data)
            if isinstance(found, list):
                problems[path] = found
            else:
                checked.append((path, data, found))  # type: ignore[arg-type]
        stray = {p: r for p, r in problems.items() if not self._imported(p)} | loops
        refusing = {p: r for p, r in problems.items() if self._imported(p)}
        if stray:
            self._report_stray(stray, dict(candidates), started)
        if not checked and not refusing and not restart:
            return None
        number = self._next
        self._next += 1
        outcome = BuildOutcome(number, restart_needed=restart)
        files = tuple(str(p) for p, _, _ in checked) + tuple(str(p) for p in refusing)
        self._emit(BuildStarted(build=number, files=files + tuple(restart)))
        for file in restart:
            self._emit(RestartNeeded(file=file))
        if refusing:
            for path, found in refusing.items():
                outcome.rejected.extend(found)
                data = dict(candidates)[path]
                self._refused[path] = (source_digest(data) if data is not None else None, number)
            self._carry = {p for p, _, _ in checked}  # held back by the refused files only
            result = ReloadResult(
                ok=False, rejected=outcome.rejected, build=number,
                duration_ms=(time.perf_counter() - started) * 1000,
            )  # fmt: skip
            self._emit(BuildRejected(build=number, result=result))
            return outcome
        if not checked:
            return outcome
        folder = self._builds_folder() / str(number)
        for path, data, _version in checked:
            snapshot = folder / path.relative_to(self.project)
            try:
                _write_snapshot(snapshot, data, path)
            except OSError as exc:  # full disk, no writable build folder at all
                message = (
                    f"cannot write the build snapshot {snapshot}: {exc.strerror or exc}"
                    " (hcride keeps builds in the project's .hcr folder, or in"
                    f" {user_cache_dir()} when that is not writable: one must be writable)"
                )
                outcome.rejected.append(Rejection(self.name_of(path), "error", message, str(path)))
                self._carry = {p for p, _, _ in checked}  # built again with the next save
                result = ReloadResult(
                    ok=False, rejected=outcome.rejected, build=number,
                    duration_ms=(time.perf_counter() - started) * 1000,
                )  # fmt: skip
                self._emit(BuildRejected(build=number, result=result))
                return outcome
        sent: list[tuple[Path, bytes | None, Version | None, bytes]] = []
        for path, data, version in checked:
            snapshot = folder / path.relative_to(self.project)
            for name in self.names_of(path):
                outcome.modules.append(
                    {
                        "name": name,
                        "file": str(path),
                        "snapshot": str(snapshot),
                        "digest": version.digest if version else source_digest(data),
                    }
                )
            with self._lock:
                sent.append((path, self._base_bytes.get(path), self._base.get(path), data))
                self._base_bytes[path] = data
                self._base[path] = version
            self._refused.pop(path, None)
        self._unconfirmed[number] = sent
        if folder.parent == self.builds_dir:
            self._ensure_gitignore()
        self._send({"build": number, "modules": outcome.modules})
        duration = (time.perf_counter() - started) * 1000
        self._emit(
            BuildReady(
                build=number,
                modules=tuple(m["name"] for m in outcome.modules),
                duration_ms=round(duration, 3),
                held_back=self.held_back(),
            )
        )
        for path, _data, _version in checked:
            for qual in self._signatures.pop(path, ()):
                self._emit(RuntimeNotice(
                    what="signature_changed",
                    message=(f"{self.name_of(path)}: the parameters of {qual}() changed, but "
                             "its decorators ran once, at first load: one that read them "
                             "then (a FastAPI route, a singledispatch register, a discord.py "
                             "command) still uses the old ones; restart to register it again"),
                ))  # fmt: skip
        self._prune(folder.parent, number)
        return outcome

    def held_back(self) -> tuple[str, ...]:
        """Modules whose last save was refused (or rolled back): they run their old
        version until the file is saved again."""
        return tuple(sorted(self.name_of(p) for p in self._refused if self._imported(p)))

    def _check(self, path: Path, data: bytes | None) -> Version | list[Rejection] | None:
        """The checked new version of ``path``, or why it cannot apply; None: our grammar
        refuses it but the program's interpreter has another one, so the runtime judges."""
        name = self.name_of(path)
        if data is None:
            return [Rejection(name, "unreadable", "source file deleted or unreadable", str(path))]
        try:
            text = decode_source(data)
        except (UnicodeDecodeError, LookupError, SyntaxError) as exc:
            return [Rejection(name, "unreadable", str(exc), str(path))]
        base = self._base_version(path)
        self.parses += 1
        try:
            version = new_version(base, text, data, str(path))
        except CheckError as exc:
            if not same_grammar(self.program_python):
                return None
            return [Rejection(name, "syntax", exc.message, str(path), exc.line, exc.col)]
        if base is None:
            return version
        refused = [
            Rejection(name, "type_change", change.describe(), str(path), change.lineno, 0,
                      change.cls, list(change.differences))
            for change in type_changes(name, base.table, version.table)
        ]  # fmt: skip
        if not refused:
            self._signatures[path] = decorated_signature_changes(
                base.table.statements, version.table.statements)
        return refused or version

    def _report_stray(
        self, stray: dict[Path, list[Rejection]], data: dict[Path, bytes | None], started: float
    ) -> None:
        """Problems of files the program never imported: reported in a build of their
        own, which holds nothing back."""
        number = self._next
        self._next += 1
        self._emit(BuildStarted(build=number, files=tuple(str(p) for p in stray)))
        rejected: list[Rejection] = []
        for path, found in stray.items():
            for rej in found:
                rej.message += " (not imported by the program: nothing held back)"
            rejected.extend(found)
            if path in data:  # (not a path that could not even be resolved)
                raw = data[path]
                self._refused[path] = (source_digest(raw) if raw is not None else None, number)
        result = ReloadResult(
            ok=False, rejected=rejected, build=number,
            duration_ms=(time.perf_counter() - started) * 1000,
        )  # fmt: skip
        self._emit(BuildRejected(build=number, result=result))

    def on_result(self, result: ReloadResult) -> None:
        """The program's answer to builds up to ``result.build``. A batch it refused or
        rolled back leaves it on the old versions: they are the baseline again (so
        saving the old text back is "back to the running version")."""
        if result.build is None:
            return
        done = sorted(n for n in self._unconfirmed if n <= result.build)
        batches = [self._unconfirmed.pop(n) for n in done]
        if result.ok:
            return
        for number, batch in zip(done, batches, strict=True):
            for path, old_bytes, old_version, new_bytes in batch:
                with self._lock:
                    if self._base_bytes.get(path) is not new_bytes:
                        continue  # a later build of this file was sent since
                    if old_bytes is None:
                        self._base_bytes.pop(path, None)
                        self._base.pop(path, None)
                    else:
                        self._base_bytes[path] = old_bytes
                        self._base[path] = old_version
                self._refused[path] = (source_digest(new_bytes), number)

    def _is_refused(self, path: Path, data: bytes | None) -> bool:
        if path not in self._refused:
            return False
        refused = self._refused[path][0]
        return refused is None if data is None else refused == source_digest(data)

    # -- where builds go ----------------------------------------------------------------

    def _builds_folder(self) -> Path:
        """``PROJECT/.hcr/builds`` (``.hcr`` made 0700), or a per-user cache folder when
        that cannot be written (a read-only project)."""
        if self._folder is not None:
            return self._folder
        try:
            hcr = self.builds_dir.parent
            if not hcr.exists():
                hcr.mkdir(mode=0o700)
            self.builds_dir.mkdir(mode=0o700, exist_ok=True)
            probe = self.builds_dir / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
            self._folder = self.builds_dir
        except OSError:
            digest = hashlib.sha256(str(self.project).encode()).hexdigest()[:16]
            fallback = user_cache_dir() / f"{self.project.name}-{digest}" / "builds"
            try:
                fallback.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError:
                return fallback  # writing the snapshot fails and says why
            self._folder = fallback
            self._next = max(self._next, _first_free(fallback))
        return self._folder

    def _ensure_gitignore(self) -> None:
        marker = self.project / ".hcr" / ".gitignore"
        if not marker.exists():
            try:
                marker.write_text("*\n")
            except OSError:
                pass

    def _prune(self, folder: Path, newest: int) -> None:
        try:
            entries = [p for p in folder.iterdir() if p.name.isdigit()]
        except OSError:
            return
        for entry in entries:
            if int(entry.name) <= newest - KEEP_BUILDS:
                shutil.rmtree(entry, ignore_errors=True)


def all_sources(project: Path) -> list[Path]:
    """Every source file of the project the watcher would build (for ``build_now``)."""
    return list(iter_sources(project))


