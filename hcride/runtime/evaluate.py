"""``evaluate`` requests (standard library only): an expression or statements run in a
module of the running program, on its main thread at a safe point (where a reload
would apply), answered with a ``reply``. The IDE's live console uses it, and so does
"run the new initializer" of a stale global.

Request: ``{"type": "evaluate", "id": R, "module": str, "code": str}``, and
``"initializes": NAME`` when the code runs the new initializer of the stale global (or
``Class.attr``) ``NAME``: once it ran, the live value is the file's and not stale. The code is
evaluated as an expression when it is one, else run as statements, with the module's
globals. Reply data: ``{"value": bounded repr or None, "type": type name or "",
"statement": bool}``; an exception is ``ok: false`` with its traceback as ``error``.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

from hcride import protocol

MAX_CODE = 100_000
"""Characters of code one request may carry."""
FILENAME = "<hcride console>"


def problem(msg: dict[str, Any]) -> str | None:
    """Why ``msg`` cannot be run (None: it can)."""
    request_id, module, code = msg.get("id"), msg.get("module"), msg.get("code")
    if not isinstance(request_id, int) or isinstance(request_id, bool):
        return f"id is {request_id!r}, not an integer"
    if not isinstance(module, str) or not module:
        return f"module is {module!r}, not a module name"
    if not isinstance(code, str) or not code.strip():
        return "code is not a non-empty string"
    initializes = msg.get("initializes")
    if initializes is not None and (not isinstance(initializes, str) or not initializes):
        return f"initializes is {initializes!r}, not a name"
    if len(code) > MAX_CODE:
        return f"code is {len(code)} characters (at most {MAX_CODE})"
    if module not in sys.modules:
        return f"no module {module!r} is loaded in the program"
    return None


def reply(request_id: Any, ok: bool, data: Any, error: str | None) -> dict[str, Any]:
    return protocol.message("reply", id=request_id, ok=ok, data=data, error=error)


def run(msg: dict[str, Any], engine: Any = None) -> dict[str, Any]:
    """On the main thread: run the request, return the reply message (``engine``: told
    of a stale value given again, ``initializes``)."""
    request_id = msg.get("id")
    reason = problem(msg)
    if reason is not None:
        return reply(request_id, False, None, f"evaluate: {reason}")
    namespace = vars(sys.modules[msg["module"]])
    code = msg["code"]
    try:
        try:
            compiled = compile(code, FILENAME, "eval")
            statement = False
        except SyntaxError:
            compiled = compile(code, FILENAME, "exec")
            statement = True
        value = eval(compiled, namespace)  # noqa: S307 (the user's own program, on request)
    except (Exception, SystemExit) as exc:  # the program must run on; Ctrl+C still stops it
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        text = "".join(line for line in lines if __file__ not in line)
        return reply(request_id, False, None, text.strip())
    if engine is not None and msg.get("initializes"):
        engine.forget_stale(msg["module"], msg["initializes"])
    if statement:
        return reply(request_id, True, {"value": None, "type": "", "statement": True}, None)
    # Imported here, not at start: a program never asked pays nothing for it.
    from hcride.runtime.inspector import bounded_repr

    try:
        shown = bounded_repr(value)
    except Exception as exc:  # a broken __repr__
        shown = f"<repr failed: {type(exc).__name__}>"
    data = {"value": shown, "type": type(value).__name__, "statement": False}
    return reply(request_id, True, data, None)


def submit(agent: Any, msg: dict[str, Any]) -> None:
    """From the agent's reader: answer a malformed request at once, else have the main
    thread run it at its next safe point."""
    reason = problem(msg)
    if reason is not None:
        agent.send(reply(msg.get("id"), False, None, f"evaluate: {reason}"))
        return
    agent.run_on_main(lambda: agent.send(run(msg, agent.engine)))
