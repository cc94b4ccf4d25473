"""What happened to a session, one frozen dataclass per kind of thing.

The controller emits these to its listeners (the CLI, the IDE); ``hcride run
--events`` writes the same events as JSON lines (``to_json``). Data flows one way:
panes are fed from these and never ask the runtime for state on their own, except
through the controller's inspection calls.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from hcride.runtime.report import ReloadResult


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"
    time: float = field(default_factory=time.time, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["event"] = self.kind
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)


@dataclass(frozen=True)
class ProgramStarted(Event):
    kind: ClassVar[str] = "program_started"
    pid: int
    script: str
    python: str
    argv: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProgramConnected(Event):
    """The runtime inside the program said hello over IPC."""

    kind: ClassVar[str] = "program_connected"
    pid: int
    mode: str
    """``manual`` (the program calls perform_code_reload) or ``auto``."""
    python: str = ""
    reconnected: bool = False
    """The program connected again after its connection broke (a framing error)."""


@dataclass(frozen=True)
class ProgramExited(Event):
    kind: ClassVar[str] = "program_exited"
    returncode: int | None
    signal: str | None = None
    """Name of the signal that ended it (``SIGKILL``), if one did."""
    stopped: bool = False
    """True when the controller stopped it (Stop or Restart)."""


@dataclass(frozen=True)
class Output(Event):
    kind: ClassVar[str] = "output"
    stream: str
    """``stdout`` or ``stderr``."""
    text: str


@dataclass(frozen=True)
class BuildStarted(Event):
    kind: ClassVar[str] = "build_started"
    build: int
    files: tuple[str, ...]


@dataclass(frozen=True)
class BuildReady(Event):
    """A build passed its checks and the program was told."""

    kind: ClassVar[str] = "build_ready"
    build: int
    modules: tuple[str, ...]
    duration_ms: float = 0.0
    held_back: tuple[str, ...] = ()
    """Modules whose last save was refused: the program still runs their old version."""


@dataclass(frozen=True)
class BuildRejected(Event):
    """A build that cannot apply: the program is not told."""

    kind: ClassVar[str] = "build_rejected"
    build: int
    result: ReloadResult
    """A result with ``rejected`` (syntax errors, type changes, unreadable files)."""


@dataclass(frozen=True)
class BackToRunning(Event):
    """A saved file's text is the version the program runs: nothing to build. After a
    refused or rolled-back save (``was_refused``), the module's refusal is over."""

    kind: ClassVar[str] = "back_to_running"
    file: str
    module: str
    was_refused: bool = False


@dataclass(frozen=True)
class RestartNeeded(Event):
    kind: ClassVar[str] = "restart_needed"
    file: str


@dataclass(frozen=True)
class ReloadApplied(Event):
    kind: ClassVar[str] = "reload_applied"
    result: ReloadResult


@dataclass(frozen=True)
class ReloadRejected(Event):
    kind: ClassVar[str] = "reload_rejected"
    result: ReloadResult


@dataclass(frozen=True)
class ReloadFailed(Event):
    """Committing raised; the batch was rolled back."""

    kind: ClassVar[str] = "reload_failed"
    result: ReloadResult


@dataclass(frozen=True)
class ModulesChanged(Event):
    """Reloadable modules that were imported or changed: dicts with ``name``,
    ``file``, ``version``, ``state`` and ``digest``; ``removed`` names the modules no
    longer loaded. With ``full``, ``modules`` is the whole list (the others are gone)."""

    kind: ClassVar[str] = "modules_changed"
    modules: tuple[dict, ...]
    mode: str = ""
    """The runtime's resolved mode now (``detect`` becomes ``manual`` once the program
    imports ``hcride.hotcodereloading``, usually after the first ModulesChanged)."""
    removed: tuple[str, ...] = ()
    full: bool = False


@dataclass(frozen=True)
class IpcProblem(Event):
    """A malformed, oversized or unauthenticated frame, or a lost connection."""

    kind: ClassVar[str] = "ipc_problem"
    message: str


@dataclass(frozen=True)
class RuntimeNotice(Event):
    """The runtime says something that is not a reload result: a reload waiting in a
    handler that has not returned, or why no reload can apply."""

    kind: ClassVar[str] = "runtime_notice"
    what: str
    """``reload_waiting``, ``reload_resumed``, ``inside_import``, ... (free text)."""
    message: str


@dataclass(frozen=True)
class LiveReload(Event):
    """Live reload stopped (``ok`` False: the connection to the program is lost for
    good, the project folder is gone) or works again (``ok`` True)."""

    kind: ClassVar[str] = "live_reload"
    ok: bool
    message: str


def result_event(result: ReloadResult) -> Event:
    """The event that reports ``result``: by its status, not by ``error`` (which says
    why for a refusal too)."""
    status = result.status
    if status == "rejected":
        return ReloadRejected(result=result)
    if status == "failed":
        return ReloadFailed(result=result)
    return ReloadApplied(result=result)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        ProgramStarted,
        ProgramConnected,
        ProgramExited,
        Output,
        BuildStarted,
        BuildReady,
        BuildRejected,
        BackToRunning,
        RestartNeeded,
        ReloadApplied,
        ReloadRejected,
        ReloadFailed,
        ModulesChanged,
        IpcProblem,
        RuntimeNotice,
        LiveReload,
    )
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event written by ``to_dict`` (for tools reading ``--events``)."""
    cls = EVENT_TYPES[data["event"]]
    kwargs = {f.name: data[f.name] for f in fields(cls) if f.name in data}
    if "result" in kwargs:
        kwargs["result"] = ReloadResult.from_dict(kwargs["result"])
    for name in ("files", "modules", "argv", "removed", "held_back"):
        if name in kwargs and isinstance(kwargs[name], list):
            kwargs[name] = tuple(kwargs[name])
    return cls(**kwargs)
