"""What a reload did, as plain data: returned to the program, sent to the controller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ModuleReport:
    """What one reload did to one module."""

    name: str
    file: str
    version: int
    """The module's version after the reload."""
    patched: list[str] = field(default_factory=list)
    """Functions, methods and classes whose code was replaced in place."""
    added: list[str] = field(default_factory=list)
    """New functions and classes bound."""
    initialized: list[str] = field(default_factory=list)
    """New globals whose statement ran."""
    preserved: list[str] = field(default_factory=list)
    """Existing globals whose live value was kept."""
    stale: list[str] = field(default_factory=list)
    """Preserved globals whose initializer changed: the live value is the old one."""
    reevaluated: list[str] = field(default_factory=list)
    """``Final`` names evaluated again."""
    removed: list[str] = field(default_factory=list)
    """Functions, classes and methods no longer in the source, unbound."""
    skipped: list[str] = field(default_factory=list)
    """Other top-level statements that changed or are new and were not run."""
    closures_skipped: list[str] = field(default_factory=list)
    """Functions made from a changed nested ``def``/``lambda`` that keep their old
    code, each with the reason (its free variables changed)."""
    followed: list[str] = field(default_factory=list)
    """``module.name`` copies other modules took with ``from ... import`` that were
    rebound with the name (they held the old object)."""
    needs_restart: list[str] = field(default_factory=list)
    """New definitions inside a top-level ``if``/``try``/``with`` block: not bound
    (the block does not run again); a restart binds them."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModuleReport:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class Rejection:
    """A reason a batch could not apply, tied to a place in a file."""

    module: str
    kind: str
    """``type_change``, ``syntax``, ``unreadable`` or ``error``."""
    message: str
    file: str = ""
    line: int = 0
    col: int = 0
    cls: str = ""
    differences: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.kind == "type_change":
            return f"{self.module}: class {self.cls}: " + "; ".join(self.differences)
        where = f"{self.file}:{self.line}" + (f":{self.col}" if self.col else "")
        return f"{self.module}: {self.message} ({where})" if self.line else f"{self.module}: {self.message}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rejection:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class ReloadResult:
    """The outcome of one ``perform_code_reload()``."""

    ok: bool = True
    reloaded: list[str] = field(default_factory=list)
    """Names of the modules applied, in the order applied."""
    rejected: list[Rejection] = field(default_factory=list)
    """Why the batch was refused: type changes, syntax errors, unreadable files."""
    error: str | None = None
    """Why, whenever ``ok`` is false: the traceback when committing raised and the
    batch was rolled back; else the first reason it was refused, in words."""
    held_back: list[str] = field(default_factory=list)
    """Modules whose newest version was refused (now or before) and that still run
    their old version; later batches of other modules apply without them."""
    modules: list[ModuleReport] = field(default_factory=list)
    restart_needed: list[str] = field(default_factory=list)
    """Files that changed but are never reloaded (the main script)."""
    handler_errors: list[str] = field(default_factory=list)
    """Tracebacks of before/after handlers that raised (the batch stands)."""
    duration_ms: float = 0.0
    build: int | None = None
    """The controller's build number, when the batch came from one."""

    @property
    def status(self) -> str:
        """``applied``, ``rejected`` (refused before touching anything),
        ``failed`` (rolled back) or ``empty``."""
        if self.rejected:
            return "rejected"
        if self.error is not None:
            return "failed"
        return "applied" if self.reloaded else "empty"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (shallow copies: cheaper than ``asdict``)."""
        data = dict(self.__dict__)
        data["rejected"] = [dict(r.__dict__, differences=list(r.differences))
                            for r in self.rejected]
        data["modules"] = [{k: list(v) if isinstance(v, list) else v
                            for k, v in m.__dict__.items()} for m in self.modules]
        for name in ("reloaded", "restart_needed", "handler_errors", "held_back"):
            data[name] = list(data[name])
        data["status"] = self.status
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReloadResult:
        return cls(
            ok=bool(data.get("ok", True)),
            reloaded=list(data.get("reloaded", [])),
            rejected=[Rejection.from_dict(r) for r in data.get("rejected", [])],
            error=data.get("error"),
            modules=[ModuleReport.from_dict(m) for m in data.get("modules", [])],
            restart_needed=list(data.get("restart_needed", [])),
            handler_errors=list(data.get("handler_errors", [])),
            held_back=list(data.get("held_back", [])),
            duration_ms=float(data.get("duration_ms", 0.0)),
            build=data.get("build"),
        )

    def _batch_line(self) -> str:
        """One line for a batch of many modules: totals, then the first few by name."""
        def total(field: str) -> int:
            return sum(len(getattr(m, field)) for m in self.modules)

        added, removed = total("added"), total("removed")
        counts = [f"{total('patched')} patched", f"{added} added" if added else "",
                  f"{total('initialized')} initialized", f"{total('preserved')} preserved",
                  f"{removed} removed" if removed else ""]
        counts = [c for c in counts if c]
        named = ", ".join(f"{m.name} v{m.version}" for m in self.modules[:_LISTED])
        line = (f"reloaded {len(self.modules)} modules ({', '.join(counts)}) in "
                f"{self.duration_ms:.1f} ms: {named} and {len(self.modules) - _LISTED} more")
        stale = [f"{m.name}.{n}" for m in self.modules for n in m.stale]
        if stale:
            shown = ", ".join(stale[:_LISTED]) + (
                f" and {len(stale) - _LISTED} more" if len(stale) > _LISTED else "")
            line += (f" [kept old value of {shown}: annotate it `Final` to re-evaluate it on "
                     "every reload]")
        return line

    def summary(self) -> list[str]:
        """The lines ``hcride:`` prints for this result."""
        lines: list[str] = []
        for path in self.restart_needed:
            lines.append(f"restart needed: {path} is the main script and is never reloaded")
        if self.error is not None and not self.rejected:
            names = ", ".join(self.reloaded) or "batch"
            lines.append(f"reload of {names} failed and was rolled back: "
                         f"{exception_line(self.error)}")
        for r in self.rejected:
            if r.kind == "type_change" and r.differences:  # one line per difference
                lines.extend(f"rejected {r.module}: class {r.cls}: {d}" for d in r.differences)
            else:
                lines.append(f"rejected {r.describe()}")
        if self.ok and self.reloaded and len(self.modules) > _LISTED:
            lines.append(self._batch_line())
        elif self.ok and self.reloaded:
            parts = []
            for m in self.modules:
                counts = [
                    f"{len(m.patched)} patched",
                    f"{len(m.added)} added" if m.added else "",
                    f"{len(m.initialized)} initialized",
                    f"{len(m.preserved)} preserved",
                    f"{len(m.reevaluated)} re-evaluated" if m.reevaluated else "",
                    f"{len(m.removed)} removed" if m.removed else "",
                ]
                parts.append(f"{m.name} v{m.version} (" + ", ".join(c for c in counts if c) + ")")
                if m.stale:
                    parts[-1] += (
                        f" [kept old value of {', '.join(m.stale)}: annotate it `Final` "
                        "to re-evaluate it on every reload]"
                    )
            lines.append(f"reloaded {'; '.join(parts)} in {self.duration_ms:.1f} ms")
            for m in self.modules:
                lines.extend(f"{m.name}: closure not patched: {c}" for c in m.closures_skipped)
                lines.extend(f"restart needed: {m.name}: {r}" for r in m.needs_restart)
        lines.extend(f"handler raised: {h.strip().splitlines()[-1]}" for h in self.handler_errors)
        named = {r.module for r in self.rejected} | (set() if self.ok else set(self.reloaded))
        held = [m for m in self.held_back if m not in named]  # not refused by this batch
        if held:
            lines.append(f"still running the old version: {', '.join(held)}")
        return lines


_LISTED = 8
"""Modules named one by one in a reload's line; a bigger batch is summed up."""


def exception_line(error: str) -> str:
    """The first line of the exception a traceback text ends with (``AssertionError:
    The setup method 'route' can no longer be called...``), not the last line of a
    message that runs over several lines."""
    lines = error.strip().splitlines()
    if not lines:
        return "error"
    frames = [i for i, line in enumerate(lines) if line.startswith("  File ")]
    if not frames:
        return lines[-1]
    i = frames[-1] + 1
    while i < len(lines) and lines[i].startswith("    "):
        i += 1  # the frame's source line and its carets
    return lines[i] if i < len(lines) else lines[-1]
