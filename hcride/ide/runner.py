"""Drive a controller ``Session`` without blocking the GUI.

Starting, stopping and restarting a program can take seconds (a grace period before
SIGKILL), so those calls run one at a time on a worker thread. Inspect requests are
sent from another thread (a program busy printing may read its socket late, and the
send must not block the GUI). Events and inspect replies come back through the
``EventBridge``.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hcride.controller import events as ev
from hcride.ide.bridge import EventBridge

log = logging.getLogger(__name__)


def _session_class() -> Any:
    from hcride.controller.session import Session

    return Session


class SessionDriver:
    """One project's program: ``run``, ``stop``, ``restart``, ``reload``, ``inspect``."""

    def __init__(self, bridge: EventBridge, session_factory: Callable[..., Any] | None = None):
        self.bridge = bridge
        self.session: Any = None
        self._factory = session_factory
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="hcride-session")
        self._sender = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="hcride-inspect")
        self.mode = "auto"
        """The reload mode given to the next Run/Restart (``auto``, ``manual``, ``detect``)."""
        self.busy = False
        self.script: Path | None = None
        self._started_with: tuple = ()
        self._generation = 0
        """Bumped by ``detach``: events and replies of the sessions before are dropped."""

    @property
    def running(self) -> bool:
        return bool(self.session is not None and self.session.running)

    def _poster(self) -> Callable[[ev.Event], None]:
        """``bridge.post`` for the session made now: silent once it was detached."""
        generation = self._generation

        def post(event: ev.Event) -> None:
            if generation == self._generation:
                self.bridge.post(event)

        return post

    def _deliver(self, callback: Callable[..., None]) -> Callable[..., None]:
        """``callback`` run in the GUI thread, unless the session was detached meanwhile
        (a reply about the program of another project)."""
        generation = self._generation

        def deliver(*args: Any) -> None:
            if generation == self._generation:
                self.bridge.call(callback, *args)

        return deliver

    def detach(self) -> None:
        """Another project: close the session (its program stopped, its project no
        longer watched) and drop whatever it still reports, so that the program's
        last output and its "stopped" do not land in the new project's panes."""
        self._generation += 1
        session, self.session = self.session, None
        self.script = None
        self._started_with = ()
        if session is not None:
            self._submit(session.close)

    def _submit(self, fn: Callable[[], None]) -> concurrent.futures.Future:
        post = self._poster()

        def job() -> None:
            self.busy = True
            try:
                fn()
            except Exception as exc:  # a failure to start must reach the user
                log.exception("session call failed")
                post(ev.IpcProblem(message=f"{type(exc).__name__}: {exc}"))
            finally:
                self.busy = False

        return self._pool.submit(job)

    def run(
        self,
        project: Path,
        script: Path,
        args: tuple[str, ...] = (),
        python: str | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        module: str | None = None,
    ) -> None:
        """Start ``script`` (a Session with these settings and ``self.mode``); with
        ``module``, run as ``python -m module``, whose file ``script`` is."""
        self.script = script
        self._started_with = (script, tuple(args), python, cwd,
                              tuple(sorted((env or {}).items())), module)

        post = self._poster()
        generation = self._generation

        def start() -> None:
            if generation != self._generation:
                return  # another project was opened before this Run got its turn
            if self.session is not None:
                self.session.close()
            factory = self._factory or _session_class()
            self.session = session = factory(
                project=project,
                script=script,
                args=args,
                watch=True,
                capture_output=True,
                on_event=post,
                mode=self.mode,
                python=python,
                cwd=cwd,
                env=env or {},
                module=module,
            )
            session.start()
            if generation != self._generation:  # detached while it started
                session.close()
                if self.session is session:
                    self.session = None

        self._submit(start)

    def stop(self) -> None:
        session = self.session
        if session is not None:
            self._submit(lambda: session.stop() if session.running else None)

    def restart(
        self,
        project: Path,
        script: Path,
        args: tuple[str, ...] = (),
        python: str | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        module: str | None = None,
    ) -> None:
        """Restart; a new Session when the run configuration changed since Run."""
        session = self.session
        mode_changed = getattr(session, "requested_mode", self.mode) != self.mode
        wanted = (script, tuple(args), python, cwd, tuple(sorted((env or {}).items())), module)
        if session is None or wanted != self._started_with or mode_changed:
            self.run(project, script, args, python, cwd, env, module)
        else:
            self._submit(session.restart)

    def build_now(self, paths: list[Path] | None = None, reload: bool = True) -> None:
        session = self.session
        if session is not None and session.running:
            self._submit(lambda: session.build_now(paths, reload=reload))

    def send_stdin(self, text: str) -> None:
        session = self.session
        if session is not None and session.running:
            self._sender.submit(session.send_stdin, text)

    def inspect(self, what: str, callback: Callable[[bool, Any, str | None], None], **kw: Any):
        """``Session.inspect`` with the reply delivered in the GUI thread."""
        session = self.session
        if session is None or not session.running:
            callback(False, None, "not running")
            return

        reply = self._deliver(callback)

        def send() -> None:
            try:
                session.inspect(what, callback=reply, **kw)
            except Exception as exc:
                reply(False, None, str(exc))

        self._sender.submit(send)

    def evaluate(
        self, module: str, code: str, callback: Callable[[bool, Any, str | None], None],
        initializes: str | None = None,
    ) -> None:
        """``Session.evaluate`` with the answer delivered in the GUI thread."""
        session = self.session
        if session is None or not session.running:
            callback(False, None, "not running")
            return

        reply = self._deliver(callback)

        def send() -> None:
            try:
                session.evaluate(module, code, reply, initializes)
            except Exception as exc:
                reply(False, None, str(exc))

        self._sender.submit(send)

    def close(self, wait: bool = True) -> None:
        session, self.session = self.session, None
        if session is not None:
            self._pool.submit(session.close)
        self._pool.shutdown(wait=wait)
        self._sender.shutdown(wait=False, cancel_futures=True)
