"""Start the user's program under the runtime: ``python -m hcride.runtime``.

    python -m hcride.runtime [--project DIR] [--mode MODE] [--events FILE] -- SCRIPT ARGS...
    python -m hcride.runtime [--project DIR] [--mode MODE] [--events FILE] -- -m MODULE ARGS...

The script runs as the real ``__main__`` module with its own ``sys.argv`` and its
folder first on ``sys.path``, exactly as ``python SCRIPT ARGS`` would run it; a module
as ``python -m MODULE ARGS`` runs it (the current folder first on ``sys.path``, the
project by default; ``__spec__`` names it, its parent packages are imported first and
are reloadable, the module itself is not: it is the main script). Its
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
    from collections.abc import Callable
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
    def on_event(kind: str, payload: Any) -> None:
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
        result = payload  # the ReloadResult
        if not quiet:
            for line in result.summary():
                print(f"hcride: {line}", file=sys.stderr, flush=True)
            if result.error and result.status == "failed":
                print(result.error, file=sys.stderr, end="", flush=True)
        if stream is not None:
            import json
            import time

            data = result.to_dict()
            record = {"event": _event_name(data), "time": time.time(), "result": data}
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
    script: str | None = args.script
    module = None
    if script == "-m":  # ``-- -m MODULE ARGS``, as python's own command line
        if not rest:
            print("hcride: -m needs a module name: -m MODULE [ARGS...]", file=sys.stderr)
            return 2
        script, module = None, rest.pop(0)
    return launch(script, rest, project=args.project, mode=args.mode,
                  events=args.events, quiet=args.quiet, module=module)


def launch(script: str | None, argv: list[str], project: str | None = None,
           mode: str = "detect", events: str | None = None, quiet: bool = False,
           module: str | None = None) -> int:
    """Run ``script`` (or ``module``, as ``python -m`` does: then ``script`` is not
    used) as ``__main__`` with ``argv`` under the runtime (``hcride run`` calls this
    directly). The engine is made when the program first imports a project module
    (``bootstrap``), at once under a controller (``HCRIDE_IPC``)."""
    if module is not None:
        try:  # found before anything is imported: the engine must know its main file
            script = find_module(module)
        except LookupError as exc:
            print(f"hcride: {exc}", file=sys.stderr)
            return 2
        project = os.path.realpath(project or os.getcwd())
    elif script is None or not os.path.isfile(script):
        print(f"hcride: no such script: {script}", file=sys.stderr)
        return 2
    else:
        script = os.path.realpath(script)
        project = os.path.realpath(project or os.path.dirname(script))
    source = None
    if os.path.isfile(script):  # not a module in a zip file
        with open(script, "rb") as file:
            source = file.read()  # the bytes that run, the digest of the running version
    bootstrap.configure(project, script if source is not None else None, mode, source)
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
    if module is not None:
        return run_module(module, argv, script, source)
    return run_script(script, argv, source)


def find_module(name: str, path: list[str] | None = None) -> str:
    """The real path of the file ``python -m NAME`` runs with ``path`` as
    ``sys.path`` (default: ours with the current folder first, as ``python -m`` has
    it), found as the import system finds it but importing nothing (no package's
    ``__init__`` runs: the engine is not made yet); a package: its ``__main__``.
    LookupError: why it cannot run, in words."""
    from importlib.machinery import PathFinder

    if path is None:
        path = [os.getcwd(), *sys.path[1:]]
    if name.startswith("."):
        raise LookupError(f"-m {name}: relative module names are not supported "
                          "(python -m neither)")
    parts = name.split(".")
    if not all(part.isidentifier() for part in parts):
        raise LookupError(f"-m {name}: not a module name")
    search: list[str] | None = path
    spec = None
    for i in range(len(parts)):
        full = ".".join(parts[:i + 1])
        spec = PathFinder.find_spec(full, search)
        if spec is None:
            where = f" in {path[0]} or the interpreter's packages" if i == 0 else ""
            raise LookupError(f"no module named {name!r}{where}")
        search = spec.submodule_search_locations
        if search is None and i < len(parts) - 1:
            raise LookupError(f"no module named {name!r} ({full} is not a package)")
    if search is not None:  # a package runs its __main__, as with python -m
        spec = PathFinder.find_spec(name + ".__main__", list(search))
        if spec is None:
            raise LookupError(f"{name} is a package and has no __main__.py: python -m "
                              "cannot run it either (give one of its modules)")
    assert spec is not None
    if not spec.has_location or not spec.origin:
        raise LookupError(f"-m {name}: no code to run ({spec.origin})")
    return os.path.realpath(spec.origin)


def run_module(module: str, argv: list[str], found: str, source: bytes | None) -> int:
    """Run ``module`` as ``__main__`` in this process, as ``python -m`` (``runpy``)
    runs it: its parent packages imported first (by the import system: reloadable),
    ``__spec__`` its own, ``sys.argv[0]`` its file, the current folder first on
    ``sys.path``. ``found``: its file as ``find_module`` found it, and ``source`` that
    file's bytes that run (the engine holds their digest)."""
    import importlib
    import importlib.util

    sys.argv[:] = ["-m", *argv]  # as python -m does while it looks for the module
    sys.path[0] = os.getcwd()
    spec = None

    def load() -> Any:
        nonlocal spec
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.submodule_search_locations is not None:
            importlib.import_module(module)  # python -m imports the package first
            spec = importlib.util.find_spec(module + ".__main__")
        if spec is None or spec.loader is None or not spec.origin:
            return None
        origin = spec.origin
        if source is not None and os.path.realpath(origin) == found:
            code = compile(source, origin, "exec", dont_inherit=True)
        else:
            code = spec.loader.get_code(spec.name)  # type: ignore[attr-defined]
        sys.argv[0] = origin
        _main_globals(origin, __spec__=spec, __loader__=spec.loader,
                      __package__=spec.parent, __cached__=spec.cached)
        return code

    return _run(load, lambda: f"hcride: cannot run {module} (not found once imported)")


def run_script(script: str, argv: list[str], source: bytes | None = None) -> int:
    """Run ``script`` (its ``source`` when given) as ``__main__`` in this process (as
    pdb and coverage do)."""
    script = os.fspath(script)
    if source is None:
        with open(script, "rb") as file:
            source = file.read()
    sys.argv[:] = [script, *argv]
    sys.path[0] = os.path.dirname(script)
    _main_globals(script)
    return _run(lambda: compile(source, script, "exec", dont_inherit=True), str)


def _main_globals(file: str, **special: Any) -> dict[str, Any]:
    """``__main__``'s namespace, emptied and given the names a module run has."""
    import builtins

    import __main__

    main_globals = __main__.__dict__
    main_globals.clear()
    main_globals.update(
        __name__="__main__",
        __file__=file,
        __builtins__=builtins,
        __package__=None,
        __spec__=None,
        __loader__=None,
        __cached__=None,
        __doc__=None,
    )
    main_globals.update(special)
    return main_globals


def _run(load: Callable[[], Any], missing: Callable[[], str]) -> int:
    """Run the code ``load()`` gives in ``__main__``'s namespace (``load`` sets it up);
    its exception is the program's: its traceback, exit code 1. ``load()`` None: the
    line ``missing()``, exit code 2."""
    import __main__

    try:
        code = load()
        if code is None:
            print(missing(), file=sys.stderr)
            return 2
        exec(code, __main__.__dict__)  # noqa: S102 - this is running the user's program
    except SystemExit:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        tb = exc.__traceback__
        # Hide this launcher's frames: the user sees their program's traceback.
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next
        exc.__traceback__ = tb  # the default hook prints the exception's own traceback
        sys.excepthook(type(exc), exc, tb)  # type: ignore[arg-type]
        return 1
    return 0
