"""``hcride run``: the program's own argv, stdio, exit code and signals; ``hcride:``
lines on stderr; ``--events`` JSON lines (issue 3, item 4)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from conftest import TIMEOUT, dedent, hcride_cmd, launcher_cmd, program_env, write_project


def run(cmd: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=TIMEOUT, env=program_env())


def test_exit_code_argv_and_stdio_are_the_programs(tmp_path: Path) -> None:
    write_project(tmp_path, {"main.py": """
        import sys
        import logic
        print("argv", sys.argv[1:], sys.argv[0].endswith("main.py"))
        print("stdin", sys.stdin.read().upper().strip())
        print("to stderr", file=sys.stderr)
        print("name", __name__, logic.ANSWER)
        sys.exit(3)
    """, "logic.py": "ANSWER = 42\n"})
    proc = run(hcride_cmd(str(tmp_path / "main.py"), "a", "--flag", "-x"), tmp_path,
               stdin="some input\n")
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.splitlines() == [
        "argv ['a', '--flag', '-x'] True",
        "stdin SOME INPUT",
        "name __main__ 42",
    ]
    assert proc.stderr == "to stderr\n"


def test_uncaught_exception_exits_1_with_the_usual_traceback(tmp_path: Path) -> None:
    write_project(tmp_path, {"main.py": """
        def fail():
            raise ValueError("boom")


        fail()
    """})
    under = run(hcride_cmd(str(tmp_path / "main.py")), tmp_path)
    plain = run([sys.executable, str(tmp_path / "main.py")], tmp_path)
    assert under.returncode == plain.returncode == 1
    assert under.stderr == plain.stderr  # no launcher frames
    assert "ValueError: boom" in under.stderr and "Traceback" in under.stderr


def test_syntax_error_in_main_script_reported_as_python_does(tmp_path: Path) -> None:
    write_project(tmp_path, {"main.py": "x = 1\nprint(x\n"})
    under = run(hcride_cmd(str(tmp_path / "main.py")), tmp_path)
    plain = run([sys.executable, str(tmp_path / "main.py")], tmp_path)
    assert under.returncode == plain.returncode == 1
    assert under.stderr == plain.stderr


def test_missing_script_exits_2(tmp_path: Path) -> None:
    proc = run(hcride_cmd(str(tmp_path / "nope.py")), tmp_path)
    assert proc.returncode == 2 and "hcride: no such script" in proc.stderr


def _wait_line(proc: subprocess.Popen[str], expected: str) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the program prints it at once; EOF if it died
    assert line.strip() == expected, (line, proc.stderr.read() if proc.stderr else "")


def test_signals_end_the_program_as_they_would_end_python(tmp_path: Path) -> None:
    write_project(tmp_path, {"main.py": """
        import time
        print("ready", flush=True)
        while True:
            time.sleep(0.05)
    """})
    for sig in (signal.SIGTERM, signal.SIGINT):
        proc = subprocess.Popen(hcride_cmd(str(tmp_path / "main.py")), cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_line(proc, "ready")
            proc.send_signal(sig)
            assert proc.wait(timeout=TIMEOUT) == -sig
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=TIMEOUT)
            proc.stdout.close()  # type: ignore[union-attr]
            proc.stderr.close()  # type: ignore[union-attr]


def test_events_json_lines_and_hcride_lines_on_stderr(start, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    prog = start({"logic.py": "def f():\n    return 1\n\n\nclass C:\n    x: int\n"},
                 "import logic",
                 cmd=hcride_cmd("--events", str(events), str(tmp_path / "proj" / "main.py")))
    assert prog.reload()["status"] == "empty"
    prog.write("logic.py", "def f():\n    return 2\n\n\nclass C:\n    x: int\n")
    assert prog.reload()["ok"]
    prog.write("logic.py", "def f():\n    return 3\n\n\nclass C:\n    x: str\n")
    assert not prog.reload()["ok"]
    prog.write("logic.py", "def f():\n    return 4\n\n\nclass C:\n    x: int\n\n\ny = 1 / 0\n")
    assert prog.reload()["status"] == "failed"
    assert prog.quit() == 0
    records = [json.loads(line) for line in events.read_text().splitlines()]
    assert [r["event"] for r in records] == ["reload_applied", "reload_rejected",
                                            "reload_failed"]
    applied = records[0]["result"]
    assert applied["reloaded"] == ["logic"] and applied["modules"][0]["patched"] == ["f"]
    assert isinstance(records[0]["time"], float)
    assert records[1]["result"]["rejected"][0]["differences"] == [
        "field 'x' annotation changed from 'int' to 'str'"
    ]
    assert "ZeroDivisionError" in records[2]["result"]["error"]
    hcride_lines = [line for line in prog.stderr_lines if line.startswith("hcride:")]
    assert len(hcride_lines) == 3, prog.stderr
    assert hcride_lines[0].startswith("hcride: reloaded logic v2 (1 patched")
    assert hcride_lines[0].endswith(" ms")
    assert hcride_lines[1] == (
        "hcride: rejected logic: class C: field 'x' annotation changed from 'int' to 'str'"
    )
    assert "failed and was rolled back: ZeroDivisionError" in hcride_lines[2]
    assert "Traceback" in prog.stderr  # the rollback's traceback follows


def test_events_to_stdout(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "logic.py": "def f():\n    return 1\n",
        "main.py": """
            import pathlib
            import logic
            from hcride import hotcodereloading as hcr
            path = pathlib.Path(logic.__file__)
            path.write_text(path.read_text().replace("return 1", "return 22"))
            hcr.perform_code_reload()
            print("value", logic.f())
        """,
    })
    proc = run(launcher_cmd(tmp_path, extra=("--events", "-")), tmp_path)
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()
    assert json.loads(first)["event"] == "reload_applied"
    assert second == "value 22"


def test_project_defaults_to_script_folder_and_counter_sample_runs(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parent.parent / "samples" / "counter"
    write_project(tmp_path, {
        "main.py": (sample / "main.py").read_text(),
        "counter.py": (sample / "counter.py").read_text(),
    })
    proc = run(hcride_cmd(str(tmp_path / "main.py"), "2"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["count is 1", "count is 2"]


def test_hcride_lines_go_to_stderr_only(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "logic.py": "def f():\n    return 1\n",
        "main.py": dedent("""
            import pathlib
            import logic
            from hcride import hotcodereloading as hcr
            path = pathlib.Path(logic.__file__)
            path.write_text(path.read_text().replace("return 1", "return 2"))
            hcr.perform_code_reload()
            print(logic.f())
        """),
    })
    proc = run(hcride_cmd(str(tmp_path / "main.py")), tmp_path)
    assert proc.stdout == "2\n"
    assert proc.stderr.startswith("hcride: reloaded logic v2")
