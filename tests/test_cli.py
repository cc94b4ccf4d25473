"""The ``hcride`` command explains itself: version, help, folders, bad paths, no display,
samples, and ``hcride FILE`` opening the file with its folder as the project."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, TIMEOUT, dedent, write_project
from helpers_cli_run import after_first_line

import hcride as hcride_pkg
from hcride import __version__
from hcride.cli import USAGE, parse_run_args, quick_run, resolve_script


def hcride(*args: str, cwd: Path, env: dict[str, str] | None = None,
           drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in drop}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "hcride", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)


NO_DISPLAY = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")


def test_version(tmp_path: Path) -> None:
    proc = hcride("--version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"hcride {__version__} (Python ")


def test_help_is_the_readme_usage(tmp_path: Path) -> None:
    proc = hcride("--help", cwd=tmp_path, drop=NO_DISPLAY)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(USAGE + "\n")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The command line", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block is not None and block.group(1) == USAGE + "\n"
    run_help = hcride("--help", "run", cwd=tmp_path)
    assert "--python" in run_help.stdout and "SCRIPT|FOLDER" in run_help.stdout


def test_run_without_a_script_says_what_to_give(tmp_path: Path) -> None:
    proc = hcride("run", cwd=tmp_path)
    assert proc.returncode == 2
    assert "which program?" in proc.stderr and "SCRIPT|FOLDER" in proc.stderr
    assert "args" not in proc.stderr


QUICK = [  # read without argparse
    ["main.py"], ["main.py", "a", "-x", "--flag", "--mode", "auto"], ["app"], ["app/"],
    ["--mode", "manual", "main.py"], ["--mode=auto", "main.py", "x"],
    ["--events", "-", "main.py"], ["--events=-", "main.py"], ["--events", "ev.jsonl", "main.py"],
    ["--events=", "main.py"], ["--project", ".", "main.py"], ["--project=app", "app/main.py"],
    ["--project", "app", "--project", ".", "--mode", "auto", "--mode", "detect", "main.py"],
    ["./main.py", "main.py"],
    ["-m", "app.main"], ["-m", "app.main", "a", "--flag", "--", "x", "--watch"],
    ["--mode", "auto", "-m", "pkg", "-m", "x"], ["--project=app", "--events", "-", "-m", "x.y"],
]
NOT_QUICK = [  # argparse reads these, with its messages
    [], ["--help"], ["-h", "main.py"], ["--proj", ".", "main.py"], ["--watch", "main.py"],
    ["--python", sys.executable, "main.py"], ["--mode", "fast", "main.py"], ["--mode"],
    ["--mode", "main.py"], ["--events", "--mode", "auto", "main.py"], ["--", "main.py"],
    ["main.py", "--", "x"], ["main.py", "x", "--"], ["nope.py"], ["empty"], [""],
    ["--project", "", "main.py"], ["--project", "nowhere", "main.py"], ["-", "main.py"],
    ["--events", "-a b", "main.py"],
    ["-m"], ["-m", "-x"], ["-m", ""], ["--watch", "-m", "app"], ["-mapp"], ["--mode", "-m", "x"],
    ["--python", sys.executable, "-m", "app"], ["--project", "nowhere", "-m", "app"],
]


def test_quick_run_reads_what_argparse_reads(tmp_path: Path, monkeypatch) -> None:
    """``hcride run``'s plain forms are read without argparse, to the same values."""
    write_project(tmp_path, {"main.py": "", "app/main.py": ""})
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    for argv in QUICK:
        quick = quick_run(argv)
        assert quick is not None, argv
        args = parse_run_args(argv)
        assert not isinstance(args, str), (argv, args)
        resolved = resolve_script(args)
        assert not isinstance(resolved, str), (argv, resolved)
        assert not args.watch and args.python is None
        script = None if resolved[0] is None else str(resolved[0])
        expected = (script, str(resolved[1]), args.args, args.mode, args.events, args.module)
        assert quick == expected, argv
    for argv in NOT_QUICK:
        assert quick_run(argv) is None, argv


def test_run_a_folder_runs_its_main(tmp_path: Path) -> None:
    write_project(tmp_path / "app", {
        "main.py": """
            import sys
            import helper
            print("main", __name__, sys.argv[1:], helper.VALUE)
        """,
        "helper.py": "VALUE = 42\n",
    })
    proc = hcride("run", "app", "x", "--flag", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "main __main__ ['x', '--flag'] 42"


def test_run_a_folder_without_main_says_what_is_missing(tmp_path: Path) -> None:
    write_project(tmp_path / "samples", {"one/main.py": "", "two/main.py": "", "x.py": ""})
    proc = hcride("run", "samples", cwd=tmp_path)
    assert proc.returncode == 2
    assert "samples is a folder without a main.py" in proc.stderr
    assert "one, two" in proc.stderr
    assert "no such script" not in proc.stderr
    write_project(tmp_path / "lib", {"x.py": ""})
    proc = hcride("run", "lib", cwd=tmp_path)
    assert proc.returncode == 2 and "hcride run lib/SCRIPT.py" in proc.stderr


def test_run_on_a_package_folder_says_how_to_run_it(tmp_path: Path) -> None:
    """aiohttp-demos' polls and most packaged apps run as ``python -m pkg``: the folder
    has a ``__main__.py`` (relative imports: not runnable as a script). The message
    gives the ``hcride run -m`` command that runs it, from where it runs."""
    write_project(tmp_path / "tool", {"__init__.py": "", "core.py": "X = 'ran core'\n",
                                      "__main__.py": "from .core import X\nprint(X)\n"})
    proc = hcride("run", "tool", cwd=tmp_path)
    assert proc.returncode == 2
    assert "tool is a package run with `python -m tool`" in proc.stderr, proc.stderr
    assert "`hcride run -m tool`" in proc.stderr, proc.stderr
    proc = hcride("run", "-m", "tool", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == "ran core\n", (proc.stdout, proc.stderr)
    proc = hcride("run", ".", cwd=tmp_path / "tool")
    assert f"`cd {tmp_path}; hcride run -m tool`" in proc.stderr, proc.stderr


def test_run_refuses_a_missing_project_folder(tmp_path: Path) -> None:
    write_project(tmp_path, {"main.py": "print('ran')\n"})
    proc = hcride("run", "--project", str(tmp_path / "nonexistent"), "main.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert "--project: no such folder" in proc.stderr
    assert "ran" not in proc.stdout


def test_ide_on_a_missing_path_is_refused_before_any_display_check(tmp_path: Path) -> None:
    proc = hcride(str(tmp_path / "nope.py"), cwd=tmp_path, drop=NO_DISPLAY)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"hcride: no such file or folder: {tmp_path / 'nope.py'}"


def test_no_display_is_one_line_not_a_qt_abort(tmp_path: Path) -> None:
    proc = hcride(str(tmp_path), cwd=tmp_path, drop=NO_DISPLAY)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "DISPLAY" in lines[0] and "QT_QPA_PLATFORM=offscreen" in lines[0]


def _free_display() -> str:
    for n in range(150, 250):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            with socket.socket(socket.AF_UNIX) as s:
                try:
                    s.connect(f"\0/tmp/.X11-unix/X{n}")
                except OSError:
                    return f":{n}"
    pytest.fail("no free X display number")


def test_a_display_nobody_serves_is_one_line(tmp_path: Path) -> None:
    display = _free_display()
    proc = hcride(str(tmp_path), cwd=tmp_path, drop=NO_DISPLAY, env={"DISPLAY": display})
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    # Which of the two depends on the machine's libraries; both say how to fix it.
    assert ("Qt's X11 plugin cannot load" in lines[0] and "sudo apt install" in lines[0]) or (
        f"no X server answers on DISPLAY={display}" in lines[0]), lines[0]


def test_missing_libraries_name_their_packages() -> None:
    from hcride.ide.preflight import APT_LINE, X11_PACKAGES, missing_libraries, xcb_plugin

    plugin = xcb_plugin()
    assert plugin is not None
    out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
    assert missing_libraries(plugin) == list(dict.fromkeys(
        line.split()[0] for line in out.splitlines() if "not found" in line))
    for lib in re.findall(r"(lib\S+\.so\.\d+) =>", out):
        if lib.startswith(("libxcb", "libxkb", "libX11-xcb")):
            assert lib in X11_PACKAGES, f"{lib} is linked by the plugin but not listed"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert APT_LINE in " ".join(readme.split())


def test_sample_list_and_unknown_sample(tmp_path: Path) -> None:
    proc = hcride("--sample", cwd=tmp_path, drop=NO_DISPLAY)
    assert proc.returncode == 0
    assert "bouncing" in proc.stdout and "counter" in proc.stdout
    proc = hcride("--sample", "nope", cwd=tmp_path, drop=NO_DISPLAY)
    assert proc.returncode == 2 and "no sample named 'nope'" in proc.stderr


def test_installed_layout_copies_a_sample_once_to_a_writable_folder(tmp_path: Path) -> None:
    """The wheel's layout (resources and samples inside the package): the sample is copied
    out to be edited, and a second call keeps the user's edits."""
    site = tmp_path / "site"
    ignore = shutil.ignore_patterns("__pycache__", ".hcr")
    shutil.copytree(REPO / "hcride", site / "hcride", ignore=ignore)
    shutil.copytree(REPO / "samples", site / "hcride" / "samples", ignore=ignore)
    shutil.copytree(REPO / "resources", site / "hcride" / "resources", ignore=ignore)
    code = dedent("""
        import sys
        from pathlib import Path
        from hcride.bundled import resources_dir, writable_sample
        home = Path(sys.argv[1])
        first = writable_sample("bouncing", home)
        (first[0] / "logic.py").write_text("EDITED = 1\\n")
        second = writable_sample("bouncing", home)
        print(resources_dir(), *first, *second, (second[0] / "logic.py").read_text().strip())
    """)
    home = tmp_path / "home"
    proc = subprocess.run([sys.executable, "-c", code, str(home)], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    target = home / "bouncing"
    assert proc.stdout.split() == [
        str(site / "hcride" / "resources"), str(target), "True", str(target), "False",
        "EDITED", "=", "1"]
    assert (target / "main.py").read_text() == (REPO / "samples/bouncing/main.py").read_text()


@pytest.mark.gui
def test_open_a_file_opens_its_folder_as_the_project(qtbot, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from hcride.ide.app import create_window

    write_project(tmp_path / "proj", {"main.py": "import tool\n", "tool.py": "X = 1\n"})
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = create_window(None, tmp_path / "proj" / "tool.py", settings=settings)
    qtbot.addWidget(window)
    assert window.project == (tmp_path / "proj").resolve()
    editor = window.editor()
    assert editor is not None and editor.path == (tmp_path / "proj" / "tool.py").resolve()


POLLING = """
import sys, time
import helper
from hcride import hotcodereloading as hcr

print("prefix", sys.prefix, flush=True)
for _ in range(600):
    if hcr.perform_code_reload().reloaded:
        print("value", helper.value(), flush=True)
        break
    time.sleep(0.05)
"""


def test_run_without_watch_uses_the_projects_venv_and_polls(tmp_path: Path) -> None:
    """Without --watch the program runs on the interpreter --watch would use (the
    project's .venv: its packages) and finds its changes itself. It ran on hcride's
    own interpreter (ModuleNotFoundError for the venv's packages); and with --python it
    ran under a controller without a watcher, so no save was ever applied."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / ".venv")],
                   check=True, timeout=TIMEOUT)
    write_project(tmp_path, {"helper.py": "def value():\n    return 'v1'\n",
                             "main.py": POLLING})
    for options in ((), ("--python", str(tmp_path / ".venv" / "bin" / "python"))):
        (tmp_path / "helper.py").write_text("def value():\n    return 'v1'\n")
        first, out, err, code = after_first_line(
            [sys.executable, "-m", "hcride", "run", *options, "main.py"], tmp_path,
            dict(os.environ, PYTHONUNBUFFERED="1"),
            lambda: (tmp_path / "helper.py").write_text("def value():\n    return 'v2'\n"),
        )  # fmt: skip
        assert first == f"prefix {tmp_path / '.venv'}\n", (first, err, options)
        assert out == "value v2\n" and code == 0, (out, err, options)
        assert "hcride: reloaded helper v2" in err, err


def test_log_without_watch_is_refused(tmp_path: Path) -> None:
    write_project(tmp_path, {"main.py": "print('ran')\n"})
    proc = hcride("run", "--log", "x.log", "main.py", cwd=tmp_path)
    assert proc.returncode == 2 and "--log goes with --watch" in proc.stderr, proc.stderr


def test_an_installed_hcride_lends_the_program_only_its_runtime(tmp_path: Path) -> None:
    """Installed (pipx, a wheel), hcride's package lies in a site-packages folder with
    PySide6, watchdog and the rest of its environment: that folder on the program's
    PYTHONPATH shadowed the program's own versions (a program on its .venv imported
    hcride's watchdog). The program gets a folder with the hcride package alone."""
    site = tmp_path / "env" / "lib" / "site-packages"
    shutil.copytree(Path(hcride_pkg.__file__).parent, site / "hcride",
                    ignore=shutil.ignore_patterns("__pycache__"))
    write_project(site / "neighbour_pkg", {"__init__.py": ""})
    project = tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project / ".venv")],
                   check=True, timeout=TIMEOUT)
    write_project(project, {"main.py": (
        "import importlib.util, hcride.hotcodereloading\n"
        "print(importlib.util.find_spec('neighbour_pkg') is None, sys.prefix)\n"
    ).replace("import importlib", "import sys, importlib")})
    # hcride as installed: imported from that site-packages (not through PYTHONPATH).
    launch = (f"import sys; sys.path.insert(0, {str(site)!r}); import hcride.cli; "
              "sys.exit(hcride.cli.main())")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    env.pop("PYTHONPATH", None)
    for options in ((), ("--watch",)):
        proc = subprocess.run(
            [sys.executable, "-c", launch, "run", *options, "main.py"], cwd=project, env=env,
            capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert proc.stdout == f"True {project / '.venv'}\n", (options, proc.stdout, proc.stderr)
    links = list((tmp_path / "cache" / "hcride" / "runtime").glob("*/hcride"))
    assert len(links) == 1 and links[0].resolve() == (site / "hcride").resolve(), links
