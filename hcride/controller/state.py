"""Fold controller events into what the IDE shows, in plain Python (no Qt).

``SessionState.apply(event)`` turns the event stream of one project into:

- a ``ModuleEntry`` per known module (version, ``ModuleStatus``, message),
- the reload log: one ``LogEntry`` per build or reload attempt (plus program start
  and exit), each a tree of ``LogNode`` details,
- the problems to mark in the editor (``problems``: file -> rejections),
- the status-bar facts (running, mode, number of reloads, last reload time).

The Qt models in ``hcride.ide`` only display this; they never decide a state.
"""

from __future__ import annotations

import enum
import functools
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from hcride.controller import events as ev
from hcride.runtime.report import ModuleReport, Rejection, ReloadResult


class ModuleStatus(str, enum.Enum):
    """What a module's row says at a glance."""

    NOT_LOADED = "not loaded"
    UNCHANGED = "unchanged"
    CHANGED_ON_DISK = "changed on disk"
    BUILD_PENDING = "build pending"
    RELOADED = "reloaded"
    REJECTED = "rejected"
    ERROR = "error"
    MAIN_SCRIPT = "main script"
    RESTART_NEEDED = "restart needed"


def norm(path: str | os.PathLike[str]) -> str:
    """A file path in the one form used as a key (absolute, symlinks resolved)."""
    text = os.fspath(path)
    if not text:
        return ""
    return _realpath(text) if os.path.isabs(text) else os.path.realpath(text)


@functools.lru_cache(maxsize=65536)
def _realpath(text: str) -> str:
    """``os.path.realpath``, remembered: every event names files the session already
    resolved (a thousand-module program reports each one; the IDE asks per row)."""
    return os.path.realpath(text)


@dataclass
class ModuleEntry:
    name: str
    file: str
    """Normalized source path (``norm``)."""
    version: int = 0
    status: ModuleStatus = ModuleStatus.UNCHANGED
    message: str = ""
    """Why the status is what it is (the rejection, the error's last line)."""
    loaded: bool = True


@dataclass
class LogNode:
    """One line of a log entry's details; ``file``/``line`` make it activatable."""

    text: str
    file: str = ""
    line: int = 0
    tooltip: str = ""
    kind: str = ""
    """``patched``, ``initialized``, ``preserved``, ``stale``, ``removed``,
    ``rejected``, ``held back``, ``error``, ``traceback``, ``restart`` or empty."""
    children: list[LogNode] = field(default_factory=list)


@dataclass
class LogEntry:
    """One row of the reload log."""

    time: float
    modules: str
    result: str
    """``building``, ``pending``, ``applied``, ``rejected``, ``failed``, ``empty``,
    ``started``, ``exited``, ``restart needed``, ``back to running version`` or
    ``ipc problem``."""
    duration_ms: float | None = None
    build: int | None = None
    details: list[LogNode] = field(default_factory=list)
    file: str = ""
    line: int = 0

    @property
    def time_text(self) -> str:
        return time.strftime("%H:%M:%S", time.localtime(self.time))

    @property
    def duration_text(self) -> str:
        return "" if self.duration_ms is None else f"{self.duration_ms:.1f} ms"


STALE_LABEL = "stale (initializer changed, live value kept)"
"""The reload log's group of preserved globals whose initializer changed (one group of
its own: after the preserved names it read as if all of them were stale)."""
MAX_LOG_ROWS = 500
"""Reload log rows kept (the newest)."""
LOG_SLACK = 100
"""Rows allowed past the bound before trimming (trimming is then rare)."""

_TB_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def _traceback_nodes(text: str, kind: str) -> LogNode:
    """A node for a traceback: its last line, with one child per frame and line."""
    lines = text.strip().splitlines() or ["error"]
    node = LogNode(f"{kind}: {lines[-1]}", tooltip=text, kind="error")
    for raw in lines:
        child = LogNode(raw.rstrip(), kind="traceback")
        match = _TB_FRAME.search(raw)
        if match:
            child.file, child.line = match.group(1), int(match.group(2))
            node.file, node.line = child.file, child.line  # innermost frame wins
        node.children.append(child)
    return node


class SessionState:
    """Everything the IDE displays about one project and its running program."""

    def __init__(self, project: Path | None = None) -> None:
        self.project = norm(project) if project else ""
        self.modules: dict[str, ModuleEntry] = {}
        self._by_file: dict[str, str] = {}
        """Normalized file -> module name (checked against the entry on lookup)."""
        self.main_script = ""
        self.running = False
        self.pid: int | None = None
        self.mode = ""
        self.reloads = 0
        self.last_reload: float | None = None
        self.returncode: int | None = None
        self.exit_signal: str | None = None
        self.stopped = False
        self.log: list[LogEntry] = []
        self.log_dropped = 0
        """Rows removed from the front of ``log`` so far (it keeps the newest
        ``MAX_LOG_ROWS``): views use it to drop the same rows."""
        self.problems: dict[str, list[Rejection]] = {}
        self.reports: dict[str, ModuleReport] = {}
        """The last applied report of each module (the variables pane marks
        preserved and initialized names with it)."""
        self.main_status: ModuleStatus | None = None
        """The main script's status while running (main script / restart needed)."""
        self.revision = 0
        """Bumped by every change, so views can tell they are stale."""

    # ----------------------------------------------------------------- queries

    def _add_row(self, entry: LogEntry) -> None:
        """Append a log row; past ``MAX_LOG_ROWS + LOG_SLACK`` rows the oldest go, so
        a day of saves keeps memory and view work bounded."""
        self.log.append(entry)
        if len(self.log) > MAX_LOG_ROWS + LOG_SLACK:
            excess = len(self.log) - MAX_LOG_ROWS
            del self.log[:excess]
            self.log_dropped += excess

    def module_for_file(self, file: str, resolved: bool = False) -> ModuleEntry | None:
        """The module loaded from ``file`` (a dict lookup: views ask for every row;
        ``resolved``: ``file`` is already ``norm``'s form, no system call needed)."""
        key = file if resolved else norm(file)
        entry = self.modules.get(self._by_file.get(key, ""))
        if entry is not None and entry.file == key:
            return entry
        return None

    def _index(self, entry: ModuleEntry) -> None:
        """Keep ``module_for_file`` current after ``entry.file`` was set."""
        if entry.file:
            self._by_file[entry.file] = entry.name

    def status_for_file(self, file: str, resolved: bool = False) -> ModuleStatus:
        key = file if resolved else norm(file)
        if key and key == self.main_script and self.main_status is not None:
            return self.main_status
        entry = self.module_for_file(key, resolved=True)
        if entry is None or not entry.loaded:
            return ModuleStatus.NOT_LOADED
        return entry.status

    def problems_for(self, file: str) -> list[Rejection]:
        return self.problems.get(norm(file), [])

    def log_entry_for_build(self, build: int | None) -> LogEntry | None:
        if build is None:
            return None
        for entry in reversed(self.log):
            if entry.build == build:
                return entry
        return None

    # ---------------------------------------------------------------- commands

    def file_saved(self, file: str) -> list[str]:
        """The IDE wrote ``file``; a loaded module becomes "changed on disk".

        Returns the names of the modules whose state changed."""
        key = norm(file)
        if self.running and key == self.main_script:
            self.main_status = ModuleStatus.RESTART_NEEDED
            self.revision += 1
            return []
        entry = self.module_for_file(key)
        if entry is None or not self.running:
            return []
        entry.status = ModuleStatus.CHANGED_ON_DISK
        entry.message = ""
        self.revision += 1
        return [entry.name]

    def apply(self, event: ev.Event) -> bool:
        """Fold one event in; True when anything shown may have changed."""
        handler = getattr(self, "_on_" + event.kind, None)
        if handler is None:
            return False
        handler(event)
        self.revision += 1
        return True

    # --------------------------------------------------------------- handlers

    def _on_program_started(self, event: ev.ProgramStarted) -> None:
        self.running = True
        self.pid = event.pid
        self.main_script = norm(event.script)
        self.main_status = ModuleStatus.MAIN_SCRIPT
        self.returncode = None
        self.exit_signal = None
        self.stopped = False
        self.mode = ""
        self.modules.clear()
        self._by_file.clear()
        self.reports.clear()
        self._add_row(
            LogEntry(event.time, Path(event.script).name, "started", file=self.main_script)
        )

    def _on_program_connected(self, event: ev.ProgramConnected) -> None:
        self.mode = event.mode

    def _on_program_exited(self, event: ev.ProgramExited) -> None:
        self.running = False
        self.pid = None
        self.returncode = event.returncode
        self.exit_signal = event.signal
        self.stopped = event.stopped
        self.main_status = None
        for entry in self.modules.values():
            entry.loaded = False
        how = self.exit_text()
        self._add_row(LogEntry(event.time, Path(self.main_script).name, how))

    def exit_text(self) -> str:
        """``stopped``, ``exited with code 3``, ``killed by SIGKILL``..."""
        if self.stopped:
            return "stopped"
        if self.exit_signal:
            return f"killed by {self.exit_signal}"
        return f"exited with code {self.returncode}"

    def _on_modules_changed(self, event: ev.ModulesChanged) -> None:
        """A delta (the modules that changed; ``removed``), or with ``full`` the whole
        list: work proportional to what changed, not to the project."""
        if event.mode:
            self.mode = event.mode  # "detect" resolves (and may change) as the program runs
        seen: set[str] = set()
        for info in event.modules:
            name = str(info.get("name", ""))
            if not name:
                continue
            seen.add(name)
            file = norm(str(info.get("file", "")))
            version = int(info.get("version", 1) or 1)
            entry = self.modules.get(name)
            if entry is None:
                entry = self.modules[name] = ModuleEntry(name, file, version)
            elif version > entry.version and entry.status not in (
                ModuleStatus.REJECTED,
                ModuleStatus.ERROR,
            ):
                entry.status = ModuleStatus.RELOADED
            entry.file = file or entry.file
            entry.version = version
            entry.loaded = True
            if str(info.get("state", "")) == "pending" and entry.status in (
                ModuleStatus.UNCHANGED,
                ModuleStatus.CHANGED_ON_DISK,
            ):
                entry.status = ModuleStatus.BUILD_PENDING
            self._index(entry)
        gone = [n for n in self.modules if n not in seen] if event.full else event.removed
        for name in gone:
            self.modules.pop(name, None)

    def _entries_for_files(self, files: tuple[str, ...] | list[str]) -> list[ModuleEntry]:
        out = []
        for f in files:
            entry = self.module_for_file(f)
            if entry is not None:
                out.append(entry)
        return out

    def _on_build_started(self, event: ev.BuildStarted) -> None:
        for f in event.files:
            self.problems.pop(norm(f), None)
            if norm(f) == self.main_script and self.running:
                self.main_status = ModuleStatus.RESTART_NEEDED
        for entry in self._entries_for_files(event.files):
            entry.status = ModuleStatus.BUILD_PENDING
            entry.message = ""
        names = ", ".join(Path(f).name for f in event.files)
        self._add_row(LogEntry(event.time, names, "building", build=event.build))

    def _on_build_ready(self, event: ev.BuildReady) -> None:
        for name in event.modules:
            entry = self.modules.get(name)
            if entry is not None:
                entry.status = ModuleStatus.BUILD_PENDING
        row = self.log_entry_for_build(event.build)
        if row is None:
            row = LogEntry(event.time, "", "pending", build=event.build)
            self._add_row(row)
        row.modules = ", ".join(event.modules) or row.modules
        row.result = "pending"
        row.duration_ms = event.duration_ms
        row.details = [
            LogNode(f"{name} still runs its old version (its last save was refused)",
                    file=entry.file if (entry := self.modules.get(name)) else "",
                    kind="held back")
            for name in event.held_back
        ]  # fmt: skip

    def _on_build_rejected(self, event: ev.BuildRejected) -> None:
        self._record_result(event.result, event.time, build=event.build)

    def _on_reload_applied(self, event: ev.ReloadApplied) -> None:
        self._record_result(event.result, event.time)

    def _on_reload_rejected(self, event: ev.ReloadRejected) -> None:
        self._record_result(event.result, event.time)

    def _on_reload_failed(self, event: ev.ReloadFailed) -> None:
        self._record_result(event.result, event.time)

    def _on_back_to_running(self, event: ev.BackToRunning) -> None:
        """A save equal to the running text: no build; a refusal of it is over."""
        key = norm(event.file)
        self.problems.pop(key, None)
        entry = self.module_for_file(key) or self.modules.get(event.module)
        if entry is not None and entry.status in (
            ModuleStatus.CHANGED_ON_DISK, ModuleStatus.BUILD_PENDING,
            ModuleStatus.REJECTED, ModuleStatus.ERROR,
        ):  # fmt: skip
            entry.status = ModuleStatus.RELOADED if entry.version > 1 else ModuleStatus.UNCHANGED
            entry.message = "back to the running version"
        if event.was_refused:
            self._add_row(
                LogEntry(event.time, event.module or Path(event.file).name,
                         "back to running version", file=key,
                         details=[LogNode(f"{event.file} is the text the program runs: "
                                          "nothing to reload", file=key)])
            )  # fmt: skip

    def _on_restart_needed(self, event: ev.RestartNeeded) -> None:
        if self.running:
            self.main_status = ModuleStatus.RESTART_NEEDED
        self._add_row(
            LogEntry(
                event.time,
                Path(event.file).name,
                "restart needed",
                details=[LogNode(f"{event.file} is the main script and is never reloaded")],
                file=norm(event.file),
            )
        )

    def _on_ipc_problem(self, event: ev.IpcProblem) -> None:
        self._add_row(LogEntry(event.time, "", "ipc problem", details=[LogNode(event.message)]))

    # ----------------------------------------------------------------- results

    def _resolve_file(self, rejection: Rejection) -> str:
        """The project file a rejection is about (not a build snapshot)."""
        entry = self.modules.get(rejection.module)
        path = norm(rejection.file) if rejection.file else ""
        if entry is not None and (not path or f"{os.sep}.hcr{os.sep}" in path):
            return entry.file
        if not path and self.project and rejection.module:
            guess = Path(self.project, *rejection.module.split(".")).with_suffix(".py")
            return norm(guess)
        return path

    def _record_result(self, result: ReloadResult, when: float, build: int | None = None) -> None:
        build = build if build is not None else result.build
        status = result.status
        row = self.log_entry_for_build(build)
        if row is None or row.result not in ("building", "pending"):
            row = LogEntry(when, "", status, build=build)
            self._add_row(row)
        row.result = status
        row.time = when
        row.duration_ms = result.duration_ms
        row.details = [n for n in row.details if n.kind == "held back"]
        names: list[str] = list(result.reloaded)
        for report in result.modules:
            if report.name not in names:
                names.append(report.name)
        for rej in result.rejected:
            if rej.module and rej.module not in names:
                names.append(rej.module)
        row.modules = ", ".join(names) or row.modules

        if status == "applied":
            self.reloads += 1
            self.last_reload = when
            for report in result.modules:
                self._apply_report(report, row)
        for rej in result.rejected:
            file = self._resolve_file(rej)
            rej_kind = ModuleStatus.REJECTED if rej.kind == "type_change" else ModuleStatus.ERROR
            entry = self.modules.get(rej.module)
            if entry is not None:
                entry.status = rej_kind
                entry.message = rej.describe()
            if file:
                self.problems.setdefault(file, []).append(rej)
            node = LogNode(rej.describe(), file=file, line=rej.line, kind="rejected")
            if rej.kind == "type_change":
                node.text = f"{rej.module}: class {rej.cls} changed shape (rejected)"
                node.children = [
                    LogNode(d, file=file, line=rej.line, kind="rejected") for d in rej.differences
                ]
            row.details.append(node)
            if not row.file:
                row.file, row.line = file, rej.line
        if result.error is not None and status == "failed":  # else: the rejections say why
            node = _traceback_nodes(result.error, "rolled back")
            row.details.append(node)
            for name in result.reloaded or names:
                entry = self.modules.get(name)
                if entry is not None:
                    entry.status = ModuleStatus.ERROR
                    entry.message = node.text
            if not row.file:
                row.file, row.line = node.file, node.line
        for path in result.restart_needed:
            if self.running:
                self.main_status = ModuleStatus.RESTART_NEEDED
            row.details.append(
                LogNode(
                    f"restart needed: {path} is the main script", file=norm(path), kind="restart"
                )
            )
        for text in result.handler_errors:
            row.details.append(_traceback_nodes(text, "handler raised"))

    def _apply_report(self, report: ModuleReport, row: LogEntry) -> None:
        entry = self.modules.get(report.name)
        file = norm(report.file) if report.file else ""
        if entry is None:
            entry = self.modules[report.name] = ModuleEntry(report.name, file, report.version)
        if file and f"{os.sep}.hcr{os.sep}" not in file:
            entry.file = file
            self._index(entry)
        entry.version = max(entry.version, report.version)
        entry.status = ModuleStatus.RELOADED
        entry.message = f"version {report.version}"
        entry.loaded = True
        self.problems.pop(entry.file, None)
        self.reports[report.name] = report
        node = LogNode(f"{report.name} → version {report.version}", file=entry.file)
        stale = set(report.stale)
        groups = (
            ("patched", report.patched),
            ("added", report.added),
            ("initialized", report.initialized),
            ("preserved", [n for n in report.preserved if n not in stale]),
            (STALE_LABEL, [n for n in report.preserved if n in stale]
             + [n for n in report.stale if n not in report.preserved]),  # fmt: skip
            ("re-evaluated", report.reevaluated),
            ("rebound where imported", report.followed),
            ("removed", report.removed),
            ("not run", report.skipped),
            ("closure not patched", report.closures_skipped),
            ("restart needed", report.needs_restart),
        )
        for label, names in groups:
            if not names:
                continue
            kind = "stale" if label == STALE_LABEL else label
            group = LogNode(f"{label}: {', '.join(names)}", file=entry.file, kind=kind)
            group.children = [LogNode(n, file=entry.file, kind=kind) for n in names]
            node.children.append(group)
        row.details.append(node)
