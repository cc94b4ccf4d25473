"""Build N: snapshot the changed sources, check them, and describe what the program loads.

Nim's compiler writes new libraries into nimcache and the program loads copies; here
each build copies the changed sources into ``PROJECT/.hcr/builds/N/`` and the program
loads those copies, never the file an editor may be writing. A build is checked
before the program hears of it: syntax (file, line, column, message) and class shapes
against the version last handed to the program. A build that cannot apply is
reported with a ``ReloadResult`` whose ``rejected`` says why, and is not sent.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcride.analysis import decode_source, source_digest, type_changes
from hcride.controller.events import BuildReady, BuildRejected, BuildStarted, Event, RestartNeeded
from hcride.controller.incremental import CheckError, Version, full_version, new_version
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
        """Files of a rejected build: built again with the next build."""
        self._rejected: dict[Path, str | None] = {}
        """Per file of the last rejected build: the digest refused (None: unreadable)."""
        self._running: dict[Path, str] = {}
        """Per file: the digest of the version the program reported running."""
        self._names: dict[Path, str] = {}
        self._lock = threading.Lock()
        self.parses = 0
        """Sources parsed so far (a count for tests: nothing is parsed before a save)."""
        self.builds_dir = self.project / ".hcr" / "builds"
        self._next = self._first_free_number()

    def _first_free_number(self) -> int:
        try:
            numbers = [int(p.name) for p in self.builds_dir.iterdir() if p.name.isdigit()]
        except OSError:
            return 1
        return max(numbers, default=0) + 1

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
        save is a change."""
        for info in infos:
            try:
                path = Path(info["file"]).resolve()
            except (KeyError, TypeError, OSError, ValueError):
                continue
            if info.get("name") != "__main__":
                self._names[path] = str(info["name"])
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

    # -- building -------------------------------------------------------------------

    def build(self, paths: Iterable[Path]) -> BuildOutcome | None:
        """Build the given files (plus files of the last rejected build).

        Returns None when nothing changed relative to what the program was given.
        """
        started = time.perf_counter()
        wanted = {p.resolve() for p in paths} | self._carry
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
            candidates.append((path, data))
        if {p for p, _ in candidates} == set(self._rejected) and all(
            self._is_refused(p, d) for p, d in candidates
        ):
            candidates = []  # already reported once (semantics.md: reported once)
        if not candidates and not restart:
            return None
        number = self._next
        self._next += 1
        outcome = BuildOutcome(number, restart_needed=restart)
        files = tuple(str(p) for p, _ in candidates) + tuple(restart)
        self._emit(BuildStarted(build=number, files=files))
        for file in restart:
            self._emit(RestartNeeded(file=file))
        if not candidates:
            return outcome
        checked: list[tuple[Path, bytes, Version]] = []
        for path, data in candidates:
            name = self.name_of(path)
            if data is None:
                outcome.rejected.append(
                    Rejection(name, "unreadable", "source file deleted or unreadable", str(path))
                )
                continue
            try:
                text = decode_source(data)
            except (UnicodeDecodeError, LookupError, SyntaxError) as exc:
                outcome.rejected.append(Rejection(name, "unreadable", str(exc), str(path)))
                continue
            base = self._base_version(path)
            self.parses += 1
            try:
                version = new_version(base, text, data, str(path))
            except CheckError as exc:
                outcome.rejected.append(
                    Rejection(name, "syntax", exc.message, str(path), exc.line, exc.col)
                )
                continue
            if base is not None:
                for change in type_changes(name, base.table, version.table):
                    outcome.rejected.append(
                        Rejection(
                            name,
                            "type_change",
                            change.describe(),
                            str(path),
                            change.lineno,
                            0,
                            change.cls,
                            list(change.differences),
                        )
                    )
            checked.append((path, data, version))
        duration = (time.perf_counter() - started) * 1000
        if outcome.rejected:
            self._carry = {p for p, _ in candidates}
            self._rejected = {p: source_digest(d) if d is not None else None for p, d in candidates}
            result = ReloadResult(
                ok=False, rejected=outcome.rejected, build=number, duration_ms=duration
            )
            self._emit(BuildRejected(build=number, result=result))
            return outcome
        self._carry.clear()
        self._rejected.clear()
        folder = self.builds_dir / str(number)
        for path, data, _version in checked:
            snapshot = folder / path.relative_to(self.project)
            try:
                snapshot.parent.mkdir(parents=True, exist_ok=True)
                snapshot.write_bytes(data)
            except OSError as exc:  # read-only project, full disk, .hcr not a folder
                message = (
                    f"cannot write the build snapshot {snapshot}: {exc.strerror or exc}"
                    " (hcride keeps builds in the project's .hcr folder: it must be writable)"
                )
                outcome.rejected.append(Rejection(self.name_of(path), "error", message, str(path)))
                self._carry = {p for p, _ in candidates}  # built again with the next save
                result = ReloadResult(
                    ok=False, rejected=outcome.rejected, build=number,
                    duration_ms=(time.perf_counter() - started) * 1000,
                )  # fmt: skip
                self._emit(BuildRejected(build=number, result=result))
                return outcome
        for path, data, version in checked:
            snapshot = folder / path.relative_to(self.project)
            outcome.modules.append(
                {
                    "name": self.name_of(path),
                    "file": str(path),
                    "snapshot": str(snapshot),
                    "digest": version.digest,
                }
            )
            with self._lock:
                self._base_bytes[path] = data
                self._base[path] = version
        self._ensure_gitignore()
        self._send({"build": number, "modules": outcome.modules})
        duration = (time.perf_counter() - started) * 1000
        self._emit(
            BuildReady(
                build=number,
                modules=tuple(m["name"] for m in outcome.modules),
                duration_ms=round(duration, 3),
            )
        )
        self._prune(number)
        return outcome

    def _is_refused(self, path: Path, data: bytes | None) -> bool:
        if path not in self._rejected:
            return False
        refused = self._rejected[path]
        return refused is None if data is None else refused == source_digest(data)

    def _ensure_gitignore(self) -> None:
        marker = self.project / ".hcr" / ".gitignore"
        if not marker.exists():
            try:
                marker.write_text("*\n")
            except OSError:
                pass

    def _prune(self, newest: int) -> None:
        try:
            entries = [p for p in self.builds_dir.iterdir() if p.name.isdigit()]
        except OSError:
            return
        for entry in entries:
            if int(entry.name) <= newest - KEEP_BUILDS:
                shutil.rmtree(entry, ignore_errors=True)


def all_sources(project: Path) -> list[Path]:
    """Every source file of the project the watcher would build (for ``build_now``)."""
    return list(iter_sources(project))


