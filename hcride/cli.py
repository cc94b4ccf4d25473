"""The ``hcride`` command.

``hcride [PROJECT]``                       open the IDE (``hcride.ide``)
``hcride run [options] SCRIPT [ARGS...]``  run a program under the HCR runtime
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hcride", description="Live-edit running Python programs (hot code reloading)."
    )
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser(
        "run",
        help="run a program under the hot code reloading runtime",
        description="Run SCRIPT as __main__; reloadable modules of the project are "
        "hot-reloaded at perform_code_reload() (or automatically with --watch).",
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
    run.add_argument("script", type=Path)
    run.add_argument("args", nargs=argparse.REMAINDER)
    ide = sub.add_parser("ide", help="open the IDE (the default command)")
    ide.add_argument("project", nargs="?", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("run", "ide", "-h", "--help"):
        argv.insert(0, "ide")
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return run_command(args)
    from hcride.ide.app import main as ide_main

    return ide_main(args.project)


def run_command(args: argparse.Namespace) -> int:
    script = args.script.resolve()
    if not script.is_file():
        print(f"hcride: no such script: {args.script}", file=sys.stderr)
        return 2
    project = (args.project or script.parent).resolve()
    if args.watch or args.python:
        from hcride.controller.cli_run import run_watched

        return run_watched(args, script=script, project=project)
    # No controller: become the program, so that stdin/stdout/stderr, the exit code
    # and signals are the program's own. The runtime finds changes by content hash.
    # In this very process (no second interpreter to start): the launcher runs the
    # script as __main__, as ``python -m hcride.runtime`` would.
    launcher = ["--project", str(project)]
    if args.events:
        launcher += ["--events", args.events]
    launcher += ["--mode", args.mode, "--", str(script), *args.args]
    root = str(Path(__file__).resolve().parent.parent)
    paths = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (root, paths) if p)
    from hcride.runtime.launcher import main as launch

    return launch(launcher)
