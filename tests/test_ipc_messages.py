"""Every message type each end can receive, well-formed and malformed, over a real wire.

Controller side: the program under edit relays JSON lines read from its stdin through
its own agent's connection, so each message travels the real path (IpcServer frame
reader, Session dispatch, events). Runtime side: a fake controller accepts the
program's connection and sends each message. After each malformed twin the receiver
must still answer (inspect, ping) and reload (a save applies).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers_session import TIMEOUT, Recorder, make_session, wait_loaded, wait_until, write

from hcride import protocol
from hcride.controller import events as ev
from hcride.controller.interpreter import hcride_root
from hcride.controller.session import Session

LOGIC = 'def value():\n    return "v1"\n'
RELAY = """
import json, sys, logic
from hcride.runtime import agent

print("relay ready", flush=True)
for line in sys.stdin:
    agent._agent.send(json.loads(line))
    print("relayed", flush=True)
"""


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[tuple[Session, Recorder]]:
    write(tmp_path / "logic.py", LOGIC)
    write(tmp_path / "main.py", RELAY)
    rec = Recorder()
    session = make_session(tmp_path, rec)
    wait_loaded(rec, "logic")
    rec.wait_output("relay ready")
    yield session, rec
    session.close()


def _relay(session: Session, rec: Recorder, msg: dict[str, Any]) -> None:
    before = rec.stdout().count("relayed")
    session.send_stdin(json.dumps(msg) + "\n")
    wait_until(lambda: rec.stdout().count("relayed") > before, what="relayed")


def _still_serving(session: Session, rec: Recorder, tmp_path: Path, version: str) -> None:
    assert session.running and session.connected, rec.dump()
    ok, data, error = session.inspect_wait("globals", module="logic")
    assert ok, error
    assert any(item["name"] == "value" for item in data["items"])
    write(tmp_path / "logic.py", LOGIC.replace("v1", version))
    rec.wait_for(ev.ReloadApplied, lambda e: e.result.reloaded == ["logic"])
    ok, data, error = session.inspect_wait("children", module="logic", path=["value"])
    assert ok, error


M = protocol.message

CONTROLLER_TWINS: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    # kind: (well-formed, [malformed twins])
    "modules": (
        M("modules", modules=[{"name": "extra", "file": "/nowhere/extra.py", "version": 1,
                               "state": "loaded", "digest": ""}], mode="auto",
          removed=["gone"], full=False),
        [
            M("modules", modules="nope"),
            M("modules", modules=[], removed="logic"),
            M("modules", modules=[], removed=[5, None]),
            M("modules", modules=[], full="yes"),
            M("modules"),
            M("modules", modules=[1, "x", None]),
            M("modules", modules=[{"name": 5, "file": "\x00", "version": "abc"}]),
            M("modules", modules=[{"name": "m", "file": ["x"], "version": 10**30}]),
            M("modules", modules=[{"name": "logic", "file": "a\x00b", "version": 2}], mode=7),
        ],
    ),
    "pending": (M("pending", build=7), [M("pending", build="x"), M("pending")]),
    "result": (
        M("result", result={"ok": True, "reloaded": [], "build": 3}),
        [
            M("result", result=[1, 2]),
            M("result"),
            M("result", result={"rejected": [1]}),
            M("result", result={"rejected": [{"module": 5}]}),
            M("result", result={"rejected": [{"module": "m", "kind": "syntax", "message": 1,
                                              "line": "x", "differences": 3}]}),
            M("result", result={"error": 5, "reloaded": ["logic"]}),
            M("result", result={"reloaded": "logic", "modules": [{"name": "logic",
                                                                   "patched": "abc"}]}),
            M("result", result={"modules": [7], "duration_ms": "slow"}),
            M("result", result={"handler_errors": [None], "restart_needed": [{}]}),
            M("result", result={"held_back": "logic", "modules": [
                {"name": "logic", "file": "l.py", "version": 2, "closures_skipped": [3],
                 "needs_restart": "extra"}]}),
            M("result", result={"build": 2.5, "ok": "true", "reloaded": ["x" * 100_000] * 20}),
        ],
    ),
    "reply": (
        M("reply", id=999_999, ok=True, data=None, error=None),
        [
            M("reply", id=[1], ok=True),
            M("reply", id={"a": 1}),
            M("reply"),
            M("reply", id=10**40, ok="yes", data=[1] * 1000, error=5),
        ],
    ),
    "pong": (M("pong"), [M("pong", extra=[1, 2, 3])]),
    "notice": (
        M("notice", what="reload_waiting", message="reload waiting in handler m.h for 2 s"),
        [
            M("notice"),
            M("notice", what=5, message="x"),
            M("notice", what="reload_waiting", message=["x"]),
            M("notice", what="", message=""),
            M("notice", what="w" * 1000, message="y" * 200_000),
        ],
    ),
    "error": (
        M("error", message="the controller sent x"),
        [M("error"), M("error", message={"nested": [1]}), M("error", message="y" * 200_000)],
    ),
}


@pytest.mark.parametrize("kind", sorted(CONTROLLER_TWINS))
def test_controller_receives_each_message_and_its_malformed_twins(
    relay: tuple[Session, Recorder], tmp_path: Path, kind: str
) -> None:
    session, rec = relay
    good, twins = CONTROLLER_TWINS[kind]
    _relay(session, rec, good)
    for bad in twins:
        problems = len(rec.of(ev.IpcProblem))
        _relay(session, rec, bad)
        if kind in ("modules", "result", "pending", "reply", "notice"):
            wait_until(lambda n=problems: len(rec.of(ev.IpcProblem)) > n,
                       what=f"an IpcProblem for {str(bad)[:200]}")
            text = rec.of(ev.IpcProblem)[-1].message
            assert kind in text and "lost" not in text, text
    if kind == "error":
        messages = [e.message for e in rec.of(ev.IpcProblem)]
        assert any("the controller sent x" in m for m in messages)
    if kind == "notice":  # the well-formed one reached the listeners, only it
        notices = [e.message for e in rec.of(ev.RuntimeNotice)]
        assert notices == ["reload waiting in handler m.h for 2 s"], notices
    if kind == "result":  # the well-formed one reached the listeners
        assert any(e.result.build == 3 for e in rec.of(ev.ReloadApplied)), rec.dump()
    if kind == "modules":
        assert any(m["name"] == "extra" for e in rec.of(ev.ModulesChanged) for m in e.modules)
    for event in rec.events:  # whatever reached the listeners is well typed
        if isinstance(event, ev.ModulesChanged):
            assert all(isinstance(name, str) for name in event.removed)
            assert isinstance(event.full, bool)
            for info in event.modules:
                assert isinstance(info.get("name"), str) and isinstance(info.get("file"), str)
                assert isinstance(info.get("version", 0), int)
        if isinstance(event, (ev.ReloadApplied, ev.ReloadRejected, ev.ReloadFailed)):
            r = event.result
            assert all(isinstance(n, str) for n in r.reloaded), r
            assert r.error is None or isinstance(r.error, str)
            assert all(isinstance(x.message, str) and isinstance(x.line, int) for x in r.rejected)
            assert all(isinstance(m.patched, list) for m in r.modules)
            r.summary()
    assert session.connected, rec.dump()
    _still_serving(session, rec, tmp_path, "v2")


# -- the runtime's end ------------------------------------------------------------------

PROGRAM = """
import time, logic
data = {"items": list(range(5)), "name": "n"}
while True:
    print("value", logic.value(), flush=True)
    time.sleep(0.05)
"""


class FakeController:
    """Accepts the program's connection and talks to it frame by frame."""

    def __init__(self, tmp_path: Path) -> None:
        write(tmp_path / "logic.py", LOGIC)
        write(tmp_path / "main.py", PROGRAM)
        self.tmp_path = tmp_path
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(tmp_path / "c.sock"))
        self.server.listen(1)
        self.server.settimeout(TIMEOUT)
        env = dict(os.environ, HCRIDE_IPC=str(tmp_path / "c.sock"), HCRIDE_TOKEN="t",
                   PYTHONUNBUFFERED="1", PYTHONPATH=str(hcride_root()))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hcride.runtime", "--project", str(tmp_path), "--",
             str(tmp_path / "main.py")],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.conn, _ = self.server.accept()
        self.conn.settimeout(TIMEOUT)
        hello = self.recv()
        assert hello["type"] == "hello" and hello["token"] == "t"
        self.wait_for(lambda m: m["type"] == "modules"
                      and any(i["name"] == "logic" for i in m["modules"]))
        self.builds = 0

    def recv(self) -> dict[str, Any]:
        msg = protocol.recv_message(self.conn, protocol.TO_CONTROLLER)
        assert msg is not None, "the program closed the connection"
        return msg

    def send(self, msg: dict[str, Any]) -> None:
        protocol.send_message(self.conn, msg)

    def wait_for(self, pred: Any) -> dict[str, Any]:
        while True:  # recv times out after TIMEOUT: no endless wait
            msg = self.recv()
            if pred(msg):
                return msg

    def ask(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Send ``msg`` then a ping: the first error/reply/result before the pong."""
        self.send(msg)
        self.send(M("ping"))
        answer: dict[str, Any] | None = None
        ponged = False
        while not ponged or (answer is None and msg["type"] in ("inspect", "evaluate")):
            got = self.recv()  # the inspect reply may come after the pong (its own thread)
            if got["type"] == "pong":
                ponged = True
            elif got["type"] in ("error", "reply") and answer is None:
                answer = got
        return answer or {"type": "pong"}

    def good_build(self, version: str) -> dict[str, Any]:
        self.builds += 1
        snapshot = write(self.tmp_path / ".hcr" / f"b{self.builds}" / "logic.py",
                         LOGIC.replace("v1", version))
        self.send(M("build", build=self.builds, modules=[
            {"name": "logic", "file": str(self.tmp_path / "logic.py"),
             "snapshot": str(snapshot), "digest": ""}]))
        return self.wait_for(lambda m: m["type"] == "result" and m["result"]["build"] == self.builds)

    def close(self) -> None:
        self.conn.close()
        self.server.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeController]:
    controller = FakeController(tmp_path)
    yield controller
    controller.close()


def _inspect(**fields: Any) -> dict[str, Any]:
    return M("inspect", id=fields.pop("id", 1), **fields)


RUNTIME_TWINS: dict[str, tuple[dict[str, Any] | None, list[dict[str, Any]]]] = {
    "ping": (M("ping"), [M("ping", extra={"a": [1] * 1000}, id="x")]),
    "reload": (M("reload"), [M("reload", modules="all", force=[None])]),
    "build": (
        None,  # FakeController.good_build
        [
            M("build", build="x", modules=[]),
            M("build", build=1, modules=3),
            M("build", build=1),
            M("build", modules=[]),
            M("build", build=1, modules=[1, "x"]),
            M("build", build=1, modules=[{}]),
            M("build", build=1, modules=[{"name": "logic", "snapshot": 5}]),
            M("build", build=1, modules=[{"name": ["logic"], "snapshot": "/x"}]),
            M("build", build=True, modules=[]),
            M("build", build=-(10**30), modules=[]),
        ],
    ),
    "inspect": (
        _inspect(what="children", module="__main__", path=["data", 'k:"items"']),
        [
            _inspect(),
            _inspect(what=5),
            _inspect(what="globals"),
            _inspect(what="globals", module=["logic"]),
            _inspect(what="globals", module="no.such.module"),
            _inspect(what="globals", module="logic", offset=-1),
            _inspect(what="globals", module="logic", limit=-5),
            _inspect(what="globals", module="logic", offset="0"),
            _inspect(what="globals", module="logic", offset=1.5),
            _inspect(what="children", module="logic"),
            _inspect(what="children", module="logic", path="value"),
            _inspect(what="children", module="logic", path=[]),
            _inspect(what="children", module="logic", path=["nothing_here"]),
            _inspect(what="children", module="__main__", path=["data", 'k:"gone"']),
            _inspect(what="children", module="__main__", path=["data", "zz"]),
            _inspect(what="children", module="__main__", path=["data", 7]),
            _inspect(what="children", module="__main__", path=["data", "k:{bad json"]),
            _inspect(what="children", module="__main__", path=["data", 'k:"items"',
                                                                "i:99"]),
            _inspect(id=[1], what="children", module="__main__", path=["data", {"k": 1}]),
        ],
    ),
}

def _evaluate(**fields: Any) -> dict[str, Any]:
    return M("evaluate", id=fields.pop("id", 1), **fields)


RUNTIME_TWINS["evaluate"] = (
    _evaluate(id=7, module="logic", code="value() + '!'"),
    [
        _evaluate(),
        _evaluate(id="x", module="logic", code="1"),
        _evaluate(id=True, module="logic", code="1"),
        _evaluate(module=5, code="1"),
        _evaluate(module="", code="1"),
        _evaluate(module="no.such.module", code="1"),
        _evaluate(module="logic", code=""),
        _evaluate(module="logic", code=["1"]),
        _evaluate(module="logic", code="x" * 200_000),
        _evaluate(module="logic", code="1 +"),
        _evaluate(module="logic", code="undefined_name"),
        _evaluate(module="logic", code="import sys; sys.exit(3)"),
        _evaluate(id=[1], module={"a": 1}, code=None),
    ],
)

# Well-formed but extreme: answered with data, not refused.
HUGE_INSPECTS = [
    _inspect(what="globals", module="__main__", offset=10**30),
    _inspect(what="globals", module="__main__", limit=10**30),
    _inspect(what="children", module="__main__", path=["data"], offset=10**30),
    _inspect(what="children", module="__main__", path=["data", 'k:"items"'],
             offset=2**63, limit=2**63),
]


@pytest.mark.parametrize("kind", sorted(RUNTIME_TWINS))
def test_runtime_receives_each_message_and_its_malformed_twins(
    fake: FakeController, kind: str
) -> None:
    good, twins = RUNTIME_TWINS[kind]
    if good is None:
        assert fake.good_build("v2")["result"]["reloaded"] == ["logic"]
    else:
        answer = fake.ask(good)
        if kind == "ping":
            assert answer["type"] == "pong"
        if kind == "inspect":
            assert answer["type"] == "reply" and answer["ok"], answer
            assert [i["name"] for i in answer["data"]["items"]] == [f"[{n}]" for n in range(5)]
        if kind == "evaluate":
            assert answer["type"] == "reply" and answer["id"] == 7 and answer["ok"], answer
            assert answer["data"] == {"value": "'v1!'", "type": "str", "statement": False}
            answer = fake.ask(_evaluate(id=8, module="__main__", code="data['name'] = 'm'"))
            assert answer["ok"] and answer["data"]["statement"] is True, answer
            answer = fake.ask(_evaluate(id=9, module="__main__", code="data['name']"))
            assert answer["data"]["value"] == "'m'", "the statement ran in the program"
    for bad in twins:
        answer = fake.ask(bad)
        if kind == "build":
            assert answer["type"] == "error" and "build" in answer["message"], (bad, answer)
        elif kind in ("inspect", "evaluate"):
            assert answer["type"] == "reply" and answer["id"] == bad["id"], (bad, answer)
            assert answer["ok"] is False and isinstance(answer["error"], str), (bad, answer)
            assert answer["error"] and "inspector failed" not in answer["error"], (bad, answer["error"])
        else:
            assert answer["type"] == "pong", answer
    if kind == "inspect":
        for msg in HUGE_INSPECTS:
            answer = fake.ask(msg)
            assert answer["type"] == "reply" and answer["ok"], (msg, answer)
            assert len(answer["data"]["items"]) <= 1000
    # The program answers and reloads as before.
    assert fake.ask(M("ping"))["type"] == "pong"
    result = fake.good_build("v3")["result"]
    assert result["reloaded"] == ["logic"] and result["error"] is None, result
    assert fake.proc.poll() is None
