"""The ``hcride`` command: the IDE, ``hcride run``, samples, version.

``USAGE`` is the block the README shows under "The command line" (a test keeps the two
equal). Arguments are checked before Qt is imported, and so is the display: Qt aborts
the process when it cannot open a window, so that case is said in one line first.

``hcride run SCRIPT`` is the program's own start-up: in its plain form it is read
without ``argparse`` and ``pathlib`` (``quick_run``), whose imports would cost more
than the rest of hcride's start.
"""

from __future__ import annotations

import os
import sys

from hcride import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from pathlib import Path

USAGE = """\
hcride [PROJECT | FILE]                 open the IDE (no argument: the last project)
hcride --sample [NAME]                  open an editable copy of a sample (no NAME: list them)
hcride run [--project DIR] [--events FILE|-] [--watch] [--mode detect|manual|auto]
           [--python PATH] [--log FILE] SCRIPT|FOLDER|-m MODULE [ARGS...]
hcride --version | --help [run]"""

HELP = f"""\
{USAGE}

Live-edit running Python programs (Nim-style hot code reloading).

  PROJECT           a folder: open it as the project
  FILE              a file: open it, with its folder as the project
  run SCRIPT        run SCRIPT as __main__ under the runtime (FOLDER: its main.py);
                    `hcride run --help` explains the options
  run -m MODULE     run MODULE as `python -m MODULE` does (found from the current
                    folder; the project: the current folder)
  --sample NAME     a shipped sample (bouncing, counter...), copied to
                    ~/hcride-samples/NAME (or $HCRIDE_SAMPLES/NAME) when installed
"""


def build_run_parser() -> argparse.ArgumentParser:
    import argparse
    from pathlib import Path

    run = argparse.ArgumentParser(
        prog="hcride run",
        description="Run SCRIPT as __main__; the project's modules are hot-reloaded at "
        "perform_code_reload() (or as builds arrive, with --watch). SCRIPT may be a "
        "folder: its main.py runs, with the folder as the project. -m MODULE runs a "
        "module as python -m does; every word after MODULE is the program's.",
    )
    run.add_argument("--project", type=Path, help="project folder (default: the script's "
                     "folder; with -m: the current folder)")
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
    run.add_argument(
        "-m", dest="module", metavar="MODULE",
        help="run MODULE as __main__ as python -m does (found from the current folder, "
        "first on sys.path; a package: its __main__); the project is the current "
        "folder unless --project says; MODULE is never reloaded, what it imports is",
    )
    run.add_argument("script", type=Path, nargs="?", metavar="SCRIPT|FOLDER")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")
    return run


def build_ide_parser() -> argparse.ArgumentParser:
    import argparse
    from pathlib import Path

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
        quick = quick_run(argv[1:])
        if quick is not None:
            script, project, rest, mode, events, module = quick
            return launch_here(script, project, rest, mode, events, module=module)
        parsed = parse_run_args(argv[1:])
        if isinstance(parsed, str):
            return fail(parsed)
        return run_command(parsed)
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


_QUICK_OPTIONS = ("--project", "--events", "--mode")
_VALUE_OPTIONS = ("--project", "--events", "--mode", "--python", "--log")
_MODES = ("detect", "manual", "auto")
_MODULE_USAGE = "hcride run [options] -m MODULE [ARGS...]"


def quick_run(
    argv: list[str],
) -> tuple[str | None, str, list[str], str, str | None, str | None] | None:
    """``hcride run ARGV`` without a controller, read without ``argparse``:
    ``(script, project, args, mode, events, module)`` as ``parse_run_args()`` and
    ``resolve_script()`` would give them, when ARGV has the plain form: options spelled
    in full (``--project``, ``--events``, ``--mode``; ``--opt VALUE`` or
    ``--opt=VALUE``), then an existing SCRIPT (or a FOLDER with a ``main.py``) and the
    program's ARGS without ``--``, or ``-m MODULE`` and the program's ARGS (the
    launcher looks for the module: ``script`` None). None for anything else (help,
    abbreviations, ``--watch``, mistakes...): argparse reads that, with its own
    messages."""
    options: dict[str, str | None] = {"--project": None, "--events": None, "--mode": "detect"}
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-m":
        name, equals, value = argv[i].partition("=")
        if name not in _QUICK_OPTIONS:
            return None
        if not equals:
            if i + 1 == len(argv) or (argv[i + 1].startswith("-") and argv[i + 1] != "-"):
                return None
            i += 1
            value = argv[i]
        options[name] = value
        i += 1
    module = None
    if argv[i:i + 1] == ["-m"]:
        i += 1
        if i == len(argv) or not argv[i] or argv[i].startswith("-"):
            return None
        module = argv[i]
    if i == len(argv) or options["--mode"] not in _MODES:
        return None
    if module is None and "--" in argv[i + 1:]:
        return None
    script, project = argv[i], options["--project"]
    if project is not None and (not project or not os.path.isdir(project)):
        return None
    mode, events = str(options["--mode"]), options["--events"]
    if module is not None:
        return None, os.path.realpath(project or "."), argv[i + 1:], mode, events, module
    if script and os.path.isdir(script):
        script = os.path.join(script, "main.py")
    if not script or not os.path.isfile(script):
        return None
    script = os.path.realpath(script)
    project = os.path.realpath(project or os.path.dirname(script))
    return script, project, argv[i + 1:], mode, events, None


def split_module(argv: list[str]) -> tuple[list[str], list[str]] | str | None:
    """``hcride run ARGV`` of the form ``[OPTIONS] -m MODULE [ARGS...]``:
    ``(OPTIONS + ["-m", MODULE], ARGS)``: every word after the module is the
    program's, as after ``python -m MODULE`` (argparse would read ``--flag`` there as
    ours). None: no ``-m`` before the script; a string: what is wrong."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in ("-", "--") or not word.startswith("-"):
            return None
        if word.startswith("-m"):  # -m MODULE, or -mMODULE as python takes it
            module = word[2:] or (argv[i + 1] if i + 1 < len(argv) else "")
            if not module:
                return f"-m needs a module name: {_MODULE_USAGE}"
            return [*argv[:i], "-m", module], argv[i + (1 if word[2:] else 2):]
        name, equals, _ = word.partition("=")
        if (not equals and name.startswith("--")
                and any(option.startswith(name) for option in _VALUE_OPTIONS)):
            i += 1  # its value (an abbreviation too, as argparse reads it)
        i += 1
    return None


def parse_run_args(argv: list[str]) -> argparse.Namespace | str:
    """``hcride run ARGV`` read by argparse (``-m MODULE ARGS`` split first), or what
    is wrong in words."""
    split = split_module(argv)
    if isinstance(split, str):
        return split
    args = build_run_parser().parse_args(argv if split is None else split[0])
    if split is not None:
        args.args = split[1]
    return args


def resolve_script(args: argparse.Namespace) -> tuple[Path | None, Path] | str:
    """``(script, project)`` for ``hcride run``, or what is wrong in words. With
    ``-m`` the script is None (the program's interpreter finds the module) and the
    project defaults to the current folder."""
    from pathlib import Path

    if args.project is not None and not args.project.is_dir():
        return f"--project: no such folder: {args.project}"
    if getattr(args, "module", None) is not None:
        return None, (args.project or Path.cwd()).resolve()
    if args.script is None:
        return ("which program? give its main script or its folder: "
                "hcride run [options] SCRIPT|FOLDER|-m MODULE [ARGS...] (hcride run --help)")
    target: Path = args.script
    if target.is_dir():
        script = target / "main.py"
        if not script.is_file():
            if (target / "__main__.py").is_file():
                folder = target.resolve()
                where = "" if folder.parent == Path.cwd().resolve() else f"cd {folder.parent}; "
                return (f"{target} is a package run with `python -m {folder.name}` (it "
                        "has a __main__.py and no main.py): run it so, "
                        f"`{where}hcride run -m {folder.name}` (the package's modules are "
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
    module: str | None = getattr(args, "module", None)
    if args.log and not args.watch:
        return fail("--log goes with --watch (without a controller the program prints "
                    "hcride's lines itself, on its stderr)")
    if args.watch:
        from hcride.controller.cli_run import run_watched

        if module is not None:  # the controller must know the main script
            try:
                from hcride.programs import find_program_module

                script = find_program_module(module, project, args.python)
            except LookupError as exc:
                return fail(str(exc))
            except OSError as exc:
                return fail(str(exc), 127)
        assert script is not None
        return run_watched(args, script=script, project=project)
    rest = list(args.args)
    if module is None and rest[:1] == ["--"]:  # as ``python -m hcride.runtime ... --
        rest.pop(0)  # SCRIPT ARGS`` drops it (after -m MODULE, every word is the program's)
    return launch_here(None if script is None else str(script), str(project), rest,
                       args.mode, args.events, args.python, module=module)


def launch_here(script: str | None, project: str, args: list[str], mode: str,
                events: str | None, python: str | None = None,
                module: str | None = None) -> int:
    """Become the program, so that stdin/stdout/stderr, the exit code and signals are
    its own (no controller; the runtime finds changes by content hash). The launcher
    runs ``script`` (or ``module``, as ``python -m``) as ``__main__``, as ``python -m
    hcride.runtime`` does: in this very process when the program's interpreter is ours
    (no second one to start), else that interpreter replaces this process
    (``python``, or the project's ``.venv``, as with ``--watch``: it has the program's
    packages). Children find hcride on ``PYTHONPATH``."""
    from hcride.programs import program_interpreter

    chosen = program_interpreter(project, python)
    if chosen is not None:
        from hcride.controller.interpreter import runtime_path

        paths = os.environ.get("PYTHONPATH", "")
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(runtime_path()), paths) if p)
        launcher = ["--project", project, "--mode", mode]
        if events:
            launcher += ["--events", events]
        target = ["-m", module] if module is not None else [str(script)]
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execv(chosen, [str(chosen), "-m", "hcride.runtime", *launcher, "--",
                              *target, *args])
        except OSError as exc:
            return fail(f"cannot start {chosen}: {exc.strerror or exc}", 127)
    root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    paths = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (root, paths) if p)
    from hcride.runtime.launcher import launch

    return launch(script, args, project=project, mode=mode, events=events, module=module)


