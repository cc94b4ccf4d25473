"""Start the user's program under the runtime: ``python -m hcride.runtime``.

    python -m hcride.runtime [--project DIR] [--mode MODE] [--events FILE] -- SCRIPT ARGS...

The script runs as the real ``__main__`` module with its own ``sys.argv`` and its
folder first on ``sys.path``, exactly as ``python SCRIPT ARGS`` would run it; its
exit code, output and signals are its own. The runtime reports on stderr with lines
prefixed ``hcride:`` (and as JSON lines with ``--events``). With ``HCRIDE_IPC`` set,
the agent connects to the controller first.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from hcride.runtime.engine import Engine, configure


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hcride.runtime")
    parser.add_argument("--project", type=Path)
    parser.add_argument("--mode", choices=("detect", "manual", "auto"), default="detect")
    parser.add_argument("--events", help="JSON lines of reload results to FILE ('-': stdout)")
    parser.add_argument("--quiet", action="store_true", help="no 'hcride:' lines on stderr")
    parser.add_argument("script", type=Path)
    parser.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _event_name(result: dict[str, Any]) -> str:
    return {"failed": "reload_failed", "rejected": "reload_rejected"}.get(
        result.get("status", ""), "reload_applied"
    )


def _attach_reporting(engine: Engine, quiet: bool, events: str | None) -> None:
    from hcride.runtime.report import ReloadResult

    stream: TextIO | None = None
    if events == "-":
        stream = sys.stdout
    elif events:
        stream = open(events, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def on_event(kind: str, payload: dict[str, Any]) -> None:
        if kind != "result":
            return
        if not quiet:
            for line in ReloadResult.from_dict(payload).summary():
                print(f"hcride: {line}", file=sys.stderr, flush=True)
            if payload.get("error") and payload.get("status") == "failed":
                print(payload["error"], file=sys.stderr, end="", flush=True)
        if stream is not None:
            record = {"event": _event_name(payload), "time": time.time(), "result": payload}
            stream.write(json.dumps(record, default=str) + "\n")
            stream.flush()

    engine.add_listener(on_event)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    rest = list(args.args)
    if rest and rest[0] == "--":
        rest.pop(0)
    script = args.script.resolve()
    if not script.is_file():
        print(f"hcride: no such script: {args.script}", file=sys.stderr)
        return 2
    project = (args.project or script.parent).resolve()
    engine = configure(project, script, args.mode)
    ipc = os.environ.get("HCRIDE_IPC")
    _attach_reporting(engine, quiet=args.quiet or bool(ipc), events=args.events)
    engine.install()
    if ipc:
        from hcride.runtime import agent

        agent.start(engine)
    elif not args.quiet:
        from hcride.runtime.watchdog import ReloadWatchdog

        def say(kind: str, message: str) -> None:
            print(f"hcride: {message}", file=sys.stderr, flush=True)

        ReloadWatchdog(engine, say).start()
    return run_script(script, rest)


def run_script(script: Path, argv: list[str]) -> int:
    """Run ``script`` as ``__main__`` in this process (as pdb and coverage do)."""
    import builtins
    import traceback

    import __main__

    source = script.read_bytes()
    sys.argv[:] = [str(script), *argv]
    sys.path[0] = str(script.parent)
    main_globals = __main__.__dict__
    main_globals.clear()
    main_globals.update(
        __name__="__main__",
        __file__=str(script),
        __builtins__=builtins,
        __package__=None,
        __spec__=None,
        __loader__=None,
        __cached__=None,
        __doc__=None,
    )
    try:
        code = compile(source, str(script), "exec", dont_inherit=True)
        exec(code, main_globals)  # noqa: S102 - this is running the user's program
    except SystemExit:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        tb = exc.__traceback__
        # Hide this launcher's frame: the user sees their program's traceback.
        if tb is not None and tb.tb_frame.f_code is run_script.__code__:
            tb = tb.tb_next
            exc.__traceback__ = tb  # the default hook prints the exception's own traceback
        sys.excepthook(type(exc), exc, tb)  # type: ignore[arg-type]
        del traceback
        return 1
    return 0
