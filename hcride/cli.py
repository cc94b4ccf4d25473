"""The ``hcride`` command: the IDE, ``hcride run``, samples, version.

``USAGE`` is the block the README shows under "The command line" (a test keeps the two
equal). Arguments are checked before Qt is imported, and so is the display: Qt aborts
the process when it cannot open a window, so that case is said in one line first.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hcride import __version__

USAGE = """\
hcride [PROJECT | FILE]                 open the IDE (no argument: the last project)
hcride --sample [NAME]                  open an editable copy of a sample (no NAME: list them)
hcride run [--project DIR] [--events FILE|-] [--watch] [--mode detect|manual|auto]
           [--python PATH] [--log FILE] SCRIPT|FOLDER [ARGS...]
hcride --version | --help [run]"""

HELP = f"""\
{USAGE}

Live-edit running Python programs (Nim-style hot code reloading).

  PROJECT           a folder: open it as the project
  FILE              a file: open it, with its folder as the project
  run SCRIPT        run SCRIPT as __main__ under the runtime (FOLDER: its main.py);
                    `hcride run --help` explains the options
  --sample NAME     a shipped sample (bouncing, counter...), copied to
                    ~/hcride-samples/NAME (or $HCRIDE_SAMPLES/NAME) when installed
"""


def build_run_parser() -> argparse.ArgumentParser:
    run = argparse.ArgumentParser(
        prog="hcride run",
        description="Run SCRIPT as __main__; the project's modules are hot-reloaded at "
        "perform_code_reload() (or as builds arrive, with --watch). SCRIPT may be a "
        "folder: its main.py runs, with the folder as the project.",
    )
    run.add_argument("--project", type=Path, help="project folder (default: the script's folder)")
    run.add_argument(
        "--events", metavar="FILE", help="write one JSON object per event to FILE ('-': stdout)"
    )
    run.add_argument(
        "--watch",
        action="store_true",
        help="watch the project, build on every save and notify the program over IPC",
    )
    run.add_argument(
        "--mode",
        choices=("detect", "manual", "auto"),
        default="detect",
        help="manual: only perform_code_reload() applies; auto: builds apply at once; "
        "detect (default): manual if the program imports hotcodereloading",
    )
    run.add_argument("--python", help="interpreter for the program (default: the project's venv)")
    run.add_argument(
        "--log", metavar="FILE",
        help="write hcride's own lines to FILE, not to stderr (a full-screen program: "
        "curses, Textual, whose screen they would cross)",
    )
    run.add_argument("script", type=Path, nargs="?", metavar="SCRIPT|FOLDER")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")
    return run


def build_ide_parser() -> argparse.ArgumentParser:
    ide = argparse.ArgumentParser(prog="hcride", usage=USAGE, add_help=False)
    ide.add_argument("target", nargs="?", type=Path)
    ide.add_argument("--sample", nargs="?", const="", default=None)
    return ide


def fail(message: str, code: int = 2) -> int:
    print(f"hcride: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["-h"], ["--help"]):
        if argv[1:2] == ["run"]:
            build_run_parser().print_help()
        else:
            print(HELP, end="")
        return 0
    if argv[:1] == ["--version"]:
        print(f"hcride {__version__} (Python {sys.version.split()[0]})")
        return 0
    if argv[:1] == ["run"]:
        return run_command(build_run_parser().parse_args(argv[1:]))
    if argv[:1] == ["ide"]:
        argv = argv[1:]
    args = build_ide_parser().parse_args(argv)
    if args.sample is not None:
        return open_sample(args.sample, args.target)
    return open_ide(args.target)


def open_sample(name: str, extra: Path | None) -> int:
    from hcride.bundled import sample_names, writable_sample

    if extra is not None:
        return fail(f"--sample takes one name, not also {extra}")
    if not name:
        print("samples: " + ", ".join(sample_names()))
        print("open one with: hcride --sample NAME")
        return 0
    try:
        folder, copied = writable_sample(name)
    except LookupError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot copy the sample {name!r}: {exc}")
    if copied:
        print(f"hcride: copied the {name} sample to {folder}", file=sys.stderr)
    return open_ide(folder)


def open_ide(target: Path | None) -> int:
    """Check the argument and the display, then start the Qt application."""
    project: Path | None = None
    file: Path | None = None
    if target is not None:
        if target.is_dir():
            project = target.resolve()
        elif target.is_file():
            file = target.resolve()
            project = file.parent
        else:
            return fail(f"no such file or folder: {target}")
    from hcride.ide.preflight import display_problem

    problem = display_problem()
    if problem:
        return fail(problem, 1)
    from hcride.ide.app import main as ide_main

    return ide_main(project, file)


def resolve_script(args: argparse.Namespace) -> tuple[Path, Path] | str:
    """``(script, project)`` for ``hcride run``, or what is wrong in words."""
    if args.script is None:
        return ("which program? give its main script or its folder: "
                "hcride run [options] SCRIPT|FOLDER [ARGS...] (hcride run --help)")
    if args.project is not None and not args.project.is_dir():
        return f"--project: no such folder: {args.project}"
    target: Path = args.script
    if target.is_dir():
        script = target / "main.py"
        if not script.is_file():
            if (target / "__main__.py").is_file():
                name = target.resolve().name
                return (f"{target} is a package run with `python -m {name}` (it has a "
                        "__main__.py and no main.py); hcride run takes a script: run one "
                        f"beside the package that does `import runpy; runpy.run_module("
                        f"\"{name}\", run_name=\"__main__\")` (the package's modules are "
                        "reloadable, its __main__.py is not)")
            inside = sorted(p.parent.name for p in target.glob("*/main.py"))
            hint = (f"; folders in it that have one: {', '.join(inside)}" if inside else
                    f"; give the script to run: hcride run {target}/SCRIPT.py")
            return f"{target} is a folder without a main.py{hint}"
    elif target.is_file():
        script = target
    else:
        return f"no such script: {target}"
    script = script.resolve()
    return script, (args.project or script.parent).resolve()


def run_command(args: argparse.Namespace) -> int:
    resolved = resolve_script(args)
    if isinstance(resolved, str):
        return fail(resolved)
    script, project = resolved
    if args.log and not args.watch:
        return fail("--log goes with --watch (without a controller the program prints "
                    "hcride's lines itself, on its stderr)")
    if args.watch:
        from hcride.controller.cli_run import run_watched

        return run_watched(args, script=script, project=project)
    # No controller: become the program, so that stdin/stdout/stderr, the exit code
    # and signals are the program's own. The runtime finds changes by content hash.
    # The launcher runs the script as __main__, as ``python -m hcride.runtime`` does:
    # in this very process when the program's interpreter is ours (no second one to
    # start), else that interpreter replaces this process (--python, or the project's
    # .venv, as with --watch: it has the program's packages).
    from hcride.controller.interpreter import find_interpreter, runtime_path

    python = find_interpreter(project, args.python)
    launcher = ["--project", str(project)]
    if args.events:
        launcher += ["--events", args.events]
    launcher += ["--mode", args.mode, "--", str(script), *args.args]
    root = str(runtime_path())
    paths = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (root, paths) if p)
    if not _same_environment(python, Path(sys.executable)):
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execv(python, [str(python), "-m", "hcride.runtime", *launcher])
        except OSError as exc:
            return fail(f"cannot start {python}: {exc.strerror or exc}", 127)
    from hcride.runtime.launcher import main as launch

    return launch(launcher)


def _same_environment(python: Path, ours: Path) -> bool:
    """Do the two interpreters run with the same packages? Compared by their folder
    (a venv's ``bin/python`` and ``bin/python3`` are one; two venvs of one base
    interpreter are not, so the final symbolic link is not followed)."""
    try:
        return python.absolute().parent.resolve() == ours.absolute().parent.resolve()
    except OSError:
        return False
