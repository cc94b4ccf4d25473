"""Start the user's program under the runtime: ``python -m hcride.runtime``.

    python -m hcride.runtime [--project DIR] [--mode MODE] [--events FILE] -- SCRIPT ARGS...

The script runs as the real ``__main__`` module with its own ``sys.argv`` and its
folder first on ``sys.path``, exactly as ``python SCRIPT ARGS`` would run it; its
exit code, output and signals are its own. The runtime reports on stderr with lines
prefixed ``hcride:`` (and as JSON lines with ``--events``). With ``HCRIDE_IPC`` set,
the agent connects to the controller first.
"""

from __future__ import annotations

import os
import sys

from hcride.runtime import bootstrap

TYPE_CHECKING = False
if TYPE_CHECKING:  # no ``typing``, ``argparse``, ``json`` or engine at start: see bootstrap
    import argparse
    from typing import Any, TextIO

    from hcride.runtime.engine import Engine


def _parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m hcride.runtime")
    parser.add_argument("--project")
    parser.add_argument("--mode", choices=("detect", "manual", "auto"), default="detect")
    parser.add_argument("--events", help="JSON lines of reload results to FILE ('-': stdout)")
    parser.add_argument("--quiet", action="store_true", help="no 'hcride:' lines on stderr")
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _event_name(result: dict[str, Any]) -> str:
    return {"failed": "reload_failed", "rejected": "reload_rejected"}.get(
        result.get("status", ""), "reload_applied"
    )


def _open_events(events: str | None) -> TextIO | None:
    """The stream for ``--events`` (opened at start, as the file is created then)."""
    if events == "-":
        return sys.stdout
    if events:
        return open(events, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
    return None


def _attach_reporting(engine: Engine, quiet: bool, stream: TextIO | None) -> None:
    def on_event(kind: str, payload: dict[str, Any]) -> None:
        if kind == "back":
            if not quiet:
                print(f"hcride: {payload['module']}: back to the running version "
                      "(nothing to reload)", file=sys.stderr, flush=True)
            if stream is not None:
                import json
                import time

                record = {"event": "back_to_running", "time": time.time(), **payload}
                stream.write(json.dumps(record) + "\n")
                stream.flush()
            return
        if kind != "result":
            return
        if not quiet:
            from hcride.runtime.report import ReloadResult

            for line in ReloadResult.from_dict(payload).summary():
                print(f"hcride: {line}", file=sys.stderr, flush=True)
            if payload.get("error") and payload.get("status") == "failed":
                print(payload["error"], file=sys.stderr, end="", flush=True)
        if stream is not None:
            import json
            import time

            record = {"event": _event_name(payload), "time": time.time(), "result": payload}
            stream.write(json.dumps(record, default=str) + "\n")
            stream.flush()

    engine.add_listener(on_event)


def _start_watchdog(engine: Engine) -> None:
    from hcride.runtime.watchdog import ReloadWatchdog

    def say(kind: str, message: str) -> None:
        print(f"hcride: {message}", file=sys.stderr, flush=True)

    ReloadWatchdog(engine, say).start()


def main(argv: list[str] | None = None) -> int:
    """``python -m hcride.runtime``: parse the command line, then ``launch()``."""
    args = _parser().parse_args(argv)
    rest = list(args.args)
    if rest and rest[0] == "--":
        rest.pop(0)
    return launch(args.script, rest, project=args.project, mode=args.mode,
                  events=args.events, quiet=args.quiet)


def launch(script: str, argv: list[str], project: str | None = None, mode: str = "detect",
           events: str | None = None, quiet: bool = False) -> int:
    """Run ``script`` as ``__main__`` with ``argv`` under the runtime (``hcride run``
    calls this directly). The engine is made when the program first imports a project
    module (``bootstrap``), at once under a controller (``HCRIDE_IPC``)."""
    if not os.path.isfile(script):
        print(f"hcride: no such script: {script}", file=sys.stderr)
        return 2
    script = os.path.realpath(script)
    project = os.path.realpath(project or os.path.dirname(script))
    with open(script, "rb") as file:
        source = file.read()  # the bytes that run, and the digest of the running version
    bootstrap.configure(project, script, mode, source)
    ipc = os.environ.get("HCRIDE_IPC")
    stream = _open_events(events)
    bootstrap.when_created(lambda engine: _attach_reporting(engine, quiet or bool(ipc), stream))
    if ipc:
        from hcride.runtime import agent

        agent.start(bootstrap.engine())
    else:
        if not quiet:
            bootstrap.when_created(_start_watchdog)
        bootstrap.install()
    return run_script(script, argv, source)


def run_script(script: str, argv: list[str], source: bytes | None = None) -> int:
    """Run ``script`` (its ``source`` when given) as ``__main__`` in this process (as
    pdb and coverage do)."""
    import builtins

    import __main__

    script = os.fspath(script)
    if source is None:
        with open(script, "rb") as file:
            source = file.read()
    sys.argv[:] = [script, *argv]
    sys.path[0] = os.path.dirname(script)
    main_globals = __main__.__dict__
    main_globals.clear()
    main_globals.update(
        __name__="__main__",
        __file__=script,
        __builtins__=builtins,
        __package__=None,
        __spec__=None,
        __loader__=None,
        __cached__=None,
        __doc__=None,
    )
    try:
        code = compile(source, script, "exec", dont_inherit=True)
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
        return 1
    return 0
