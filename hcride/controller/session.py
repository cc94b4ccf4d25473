"""A session: one user program running under the runtime, driven by the controller.

CONTRACT (written before the implementation so the CLI and the IDE can be built in
parallel; the implementer keeps these names and signatures):

    session = Session(
        project=Path("samples/counter"),
        script=Path("samples/counter/main.py"),
        args=(),
        python=None,              # None: project's .venv/venv interpreter, else sys.executable
        mode="detect",            # "detect" | "manual" | "auto"
        watch=True,               # watch the project and build on save
        capture_output=True,      # False: child inherits our stdin/stdout/stderr (CLI)
        on_event=callback,        # called with each hcride.controller.events.Event,
                                  # from background threads
    )
    session.start()               # ProgramStarted, then ProgramConnected when IPC is up
    session.running -> bool
    session.pid -> int | None
    session.mode -> str           # resolved mode once connected ("manual" / "auto")
    session.stop(grace=2.0)       # SIGTERM to the process group, SIGKILL after grace;
                                  # blocks until exited; ProgramExited(stopped=True)
    session.restart()
    session.build_now(paths=None) # F9: build the given (or all changed) files now and,
                                  # in auto mode or with reload=True, apply at once
    session.request_reload()      # ask the runtime to apply pending builds now
    session.send_stdin(text)      # with capture_output=True
    session.inspect(what, module=None, path=(), offset=0, limit=100,
                    callback=fn)  # fn(ok: bool, data, error: str | None) from a
                                  # background thread; what = "modules" | "globals" |
                                  # "children". See hcride/protocol.py.
    session.wait(timeout=None) -> int | None   # the exit code
    session.close()               # stop if running, stop watching, remove the socket
"""
