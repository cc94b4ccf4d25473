"""The Qt-free folding of controller events into module states and the reload log."""

from __future__ import annotations

from pathlib import Path

from hcride.controller import events as ev
from hcride.controller.state import ModuleStatus, SessionState, norm
from hcride.runtime.report import ModuleReport, Rejection, ReloadResult


def started(tmp_path: Path) -> tuple[SessionState, str, str]:
    main = tmp_path / "main.py"
    logic = tmp_path / "logic.py"
    main.write_text("import logic\n")
    logic.write_text("x = 1\n")
    state = SessionState(tmp_path)
    state.apply(ev.ProgramStarted(pid=42, script=str(main), python="python3"))
    state.apply(ev.ProgramConnected(pid=42, mode="auto"))
    state.apply(
        ev.ModulesChanged(
            modules=({"name": "logic", "file": str(logic), "version": 1, "state": "loaded"},)
        )
    )
    return state, str(main), str(logic)


def test_start_connect_and_modules(tmp_path: Path) -> None:
    state, main, logic = started(tmp_path)
    assert state.running and state.mode == "auto" and state.pid == 42
    assert state.status_for_file(main) == ModuleStatus.MAIN_SCRIPT
    assert state.status_for_file(logic) == ModuleStatus.UNCHANGED
    assert state.module_for_file(logic).version == 1
    assert state.status_for_file(str(tmp_path / "other.py")) == ModuleStatus.NOT_LOADED
    assert state.log[0].result == "started"


def test_save_build_apply(tmp_path: Path) -> None:
    state, _, logic = started(tmp_path)
    assert state.file_saved(logic) == ["logic"]
    assert state.status_for_file(logic) == ModuleStatus.CHANGED_ON_DISK
    state.apply(ev.BuildStarted(build=1, files=(logic,)))
    assert state.status_for_file(logic) == ModuleStatus.BUILD_PENDING
    assert state.log[-1].result == "building"
    state.apply(ev.BuildReady(build=1, modules=("logic",), duration_ms=2.0))
    assert state.log[-1].result == "pending"
    report = ModuleReport(
        "logic", logic, 2, patched=["update"], preserved=["x"], stale=["x"], initialized=["y"]
    )
    result = ReloadResult(reloaded=["logic"], modules=[report], duration_ms=3.5, build=1)
    state.apply(ev.ReloadApplied(result=result))
    entry = state.module_for_file(logic)
    assert entry.status == ModuleStatus.RELOADED and entry.version == 2
    assert state.reloads == 1 and state.last_reload is not None
    rows = [r for r in state.log if r.build == 1]
    assert len(rows) == 1, "one row per build"
    row = rows[0]
    assert row.result == "applied" and row.modules == "logic" and row.duration_text == "3.5 ms"
    texts = [c.text for c in row.details[0].children]
    assert "patched: update" in texts
    assert "initialized: y" in texts
    assert "stale (initializer changed, live value kept): x" in texts
    assert not any(t.startswith("preserved:") for t in texts), "x is listed once, as stale"
    assert state.reports["logic"].preserved == ["x"]


def test_type_change_rejected_then_fixed(tmp_path: Path) -> None:
    state, _, logic = started(tmp_path)
    state.apply(ev.BuildStarted(build=3, files=(logic,)))
    rej = Rejection(
        "logic",
        "type_change",
        "shape changed",
        file=str(tmp_path / ".hcr" / "builds" / "3" / "logic.py"),
        line=4,
        cls="Ball",
        differences=["field 'speed' added"],
    )
    state.apply(ev.BuildRejected(build=3, result=ReloadResult(ok=False, rejected=[rej], build=3)))
    entry = state.module_for_file(logic)
    assert entry.status == ModuleStatus.REJECTED
    assert "field 'speed' added" in entry.message
    problems = state.problems_for(logic)
    assert problems and problems[0].line == 4, "snapshot path mapped back to the project file"
    row = state.log[-1]
    assert row.result == "rejected" and row.file == norm(logic) and row.line == 4
    assert row.details[0].children[0].text == "field 'speed' added"
    # fixed: the next build clears the marks and applies
    state.apply(ev.BuildStarted(build=4, files=(logic,)))
    assert state.problems_for(logic) == []
    result = ReloadResult(reloaded=["logic"], modules=[ModuleReport("logic", logic, 2)], build=4)
    state.apply(ev.ReloadApplied(result=result))
    assert state.module_for_file(logic).status == ModuleStatus.RELOADED


def test_syntax_error_is_error_state(tmp_path: Path) -> None:
    state, _, logic = started(tmp_path)
    rej = Rejection("logic", "syntax", "invalid syntax", file=logic, line=2, col=5)
    state.apply(ev.ReloadRejected(result=ReloadResult(ok=False, rejected=[rej])))
    assert state.status_for_file(logic) == ModuleStatus.ERROR
    assert state.problems_for(logic)[0].message == "invalid syntax"


def test_rejection_with_its_error_text_is_not_a_rollback(tmp_path: Path) -> None:
    state, _, logic = started(tmp_path)
    rej = Rejection("logic", "syntax", "invalid syntax", file=logic, line=2, col=5)
    result = ReloadResult(ok=False, rejected=[rej], error=rej.describe())
    state.apply(ev.ReloadRejected(result=result))
    row = state.log[-1]
    assert row.result == "rejected"
    assert not any(d.text.startswith("rolled back") for d in row.details)


def test_closures_skipped_and_restarts_are_listed(tmp_path: Path) -> None:
    state, _, logic = started(tmp_path)
    report = ModuleReport("logic", logic, 2, patched=["make"],
                          closures_skipped=["make.<locals>.f: free variables changed"],
                          needs_restart=["extra (line 4): new definition inside a block"])
    state.apply(ev.ReloadApplied(result=ReloadResult(reloaded=["logic"], modules=[report])))
    texts = [c.text for c in state.log[-1].details[0].children]
    assert "closure not patched: make.<locals>.f: free variables changed" in texts
    assert "restart needed: extra (line 4): new definition inside a block" in texts


def test_rollback_traceback_is_activatable(tmp_path: Path) -> None:
    state, _, logic = started(tmp_path)
    tb = f'Traceback (most recent call last):\n  File "{logic}", line 7, in <module>\nZeroDivisionError: x'
    state.apply(ev.ReloadFailed(result=ReloadResult(ok=False, reloaded=["logic"], error=tb)))
    row = state.log[-1]
    assert row.result == "failed"
    assert row.details[0].text == "rolled back: ZeroDivisionError: x"
    assert (row.file, row.line) == (logic, 7)
    assert state.status_for_file(logic) == ModuleStatus.ERROR


def test_main_script_restart_needed_and_exit(tmp_path: Path) -> None:
    state, main, logic = started(tmp_path)
    state.apply(ev.RestartNeeded(file=main))
    assert state.status_for_file(main) == ModuleStatus.RESTART_NEEDED
    state.apply(ev.ProgramExited(returncode=3))
    assert not state.running and state.exit_text() == "exited with code 3"
    assert state.status_for_file(main) == ModuleStatus.NOT_LOADED
    assert state.status_for_file(logic) == ModuleStatus.NOT_LOADED
    assert state.log[-1].result == "exited with code 3"
    state.apply(ev.ProgramStarted(pid=43, script=main, python="python3"))
    assert state.status_for_file(main) == ModuleStatus.MAIN_SCRIPT
    state.apply(ev.ProgramExited(returncode=None, signal="SIGTERM", stopped=True))
    assert state.exit_text() == "stopped"


def test_unknown_events_are_ignored(tmp_path: Path) -> None:
    state = SessionState(tmp_path)
    assert state.apply(ev.Output(stream="stdout", text="hi\n")) is False


def test_back_to_the_running_version_clears_the_refusal(tmp_path: Path) -> None:
    """Item 9: saved back to the running text after a refused save: the module is
    no longer red or "changed on disk", its marks go, and the log says why."""
    state, _, logic = started(tmp_path)
    state.file_saved(logic)
    state.apply(ev.BuildStarted(build=2, files=(logic,)))
    rej = Rejection("logic", "syntax", "invalid syntax", file=logic, line=2, col=5)
    state.apply(ev.BuildRejected(build=2, result=ReloadResult(ok=False, rejected=[rej], build=2)))
    assert state.status_for_file(logic) == ModuleStatus.ERROR and state.problems_for(logic)
    state.file_saved(logic)
    assert state.status_for_file(logic) == ModuleStatus.CHANGED_ON_DISK
    state.apply(ev.BackToRunning(file=logic, module="logic", was_refused=True))
    assert state.status_for_file(logic) == ModuleStatus.UNCHANGED
    assert state.problems_for(logic) == []
    assert state.log[-1].result == "back to running version"
    # A plain save of unchanged text: no row, but no "changed on disk" left either.
    rows = len(state.log)
    state.file_saved(logic)
    state.apply(ev.BackToRunning(file=logic, module="logic"))
    assert state.status_for_file(logic) == ModuleStatus.UNCHANGED and len(state.log) == rows


def test_held_back_modules_are_named_in_the_build_row(tmp_path: Path) -> None:
    state, _, logic = started(tmp_path)
    state.apply(ev.BuildStarted(build=5, files=(logic,)))
    state.apply(ev.BuildReady(build=5, modules=("other",), held_back=("logic",)))
    result = ReloadResult(reloaded=["other"], modules=[ModuleReport("other", "", 2)], build=5)
    state.apply(ev.ReloadApplied(result=result))
    row = state.log_entry_for_build(5)
    assert any("logic still runs its old version" in n.text for n in row.details)


def test_a_refused_batch_is_reported_as_rejected_although_error_says_why() -> None:
    """``error`` is set whenever ``ok`` is false (contract v2); the event still tells a
    refusal (nothing touched) from a rollback."""
    refusal = Rejection(module="m", kind="type_change", message="class C changed shape",
                        file="m.py", line=3, cls="C", differences=["field 'speed' added"])
    rejected = ReloadResult(ok=False, rejected=[refusal], error="class C: field 'speed' added")
    failed = ReloadResult(ok=False, error="Traceback ...\nValueError: boom")
    applied = ReloadResult(reloaded=["m"])
    assert isinstance(ev.result_event(rejected), ev.ReloadRejected)
    assert isinstance(ev.result_event(failed), ev.ReloadFailed)
    assert isinstance(ev.result_event(applied), ev.ReloadApplied)
