"""A real Flask app (blueprint, app factory, ``login_required``-style wrappers with and
without ``functools.wraps``) served on 127.0.0.1 by a werkzeug server thread inside
the program, while requests flow from the test and the views, the wrappers, a view
made inside ``create_app()`` and a helper are edited (issue 9, items 1, 2 and 4)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from helpers_session import TIMEOUT, wait_until, write

from hcride.controller.interpreter import hcride_root

INIT = """
from flask import Flask

from . import views


def create_app():
    app = Flask(__name__)
    app.register_blueprint(views.bp)

    @app.route("/inner")
    def inner():
        return "inner v1"

    return app
"""

AUTH = """
import functools

from flask import current_app


def login_required(view):
    app = current_app  # a proxy in the wrapper's cells: it raises outside a request

    def wrapped_view(**kwargs):
        return "[auth v1] " + view(**kwargs) + ("" if app.name else "?")
    return wrapped_view


def login_required_wraps(view):
    @functools.wraps(view)
    def wrapped_view(**kwargs):
        return "[wraps v1] " + view(**kwargs)
    return wrapped_view
"""

VIEWS = """
from flask import Blueprint

from . import helpers
from .auth import login_required, login_required_wraps

bp = Blueprint("views", __name__)


@bp.route("/")
def index():
    return "index v1 " + helpers.tag()


@bp.route("/secret", endpoint="secret")
@login_required
def secret():
    return "secret v1"


@bp.route("/private")
@login_required_wraps
def private():
    return "private v1"
"""

HELPERS = """
def tag():
    return "tag v1"
"""

SERVER = """
import threading

from werkzeug.serving import make_server

from app import create_app

app = create_app()
server = make_server("127.0.0.1", 0, app, threaded=True)
port = server.server_port
threading.Thread(target=server.serve_forever, daemon=True).start()
"""


def _get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
        return response.read().decode()


def test_flask_views_wrappers_and_helpers_edited_while_serving(start) -> None:
    files = {"app/__init__.py": INIT, "app/auth.py": AUTH, "app/views.py": VIEWS,
             "app/helpers.py": HELPERS}
    prog = start(files, SERVER)
    port = prog.eval("port")
    assert [_get(port, p) for p in ("/", "/secret", "/private", "/inner")] == [
        "index v1 tag v1", "[auth v1] secret v1", "[wraps v1] private v1", "inner v1"]

    errors: list[str] = []
    served = [0]
    stop = threading.Event()

    def requests() -> None:  # traffic all along
        while not stop.is_set():
            try:
                _get(port, "/")
                served[0] += 1
            except (urllib.error.URLError, OSError) as exc:
                errors.append(repr(exc))
            time.sleep(0.01)

    thread = threading.Thread(target=requests, daemon=True)
    thread.start()
    try:
        edits = [
            ("app/views.py", VIEWS.replace("index v1", "index v2"), "/", "index v2 tag v1"),
            ("app/helpers.py", HELPERS.replace("tag v1", "tag v2"), "/", "index v2 tag v2"),
            ("app/views.py", VIEWS.replace("index v1", "index v2").replace("secret v1",
                                                                           "secret v2"),
             "/secret", "[auth v1] secret v2"),
            ("app/auth.py", AUTH.replace("auth v1", "auth v2"), "/secret",
             "[auth v2] secret v2"),
            ("app/auth.py", AUTH.replace("auth v1", "auth v2").replace("wraps v1", "wraps v2"),
             "/private", "[wraps v2] private v1"),
            ("app/views.py", VIEWS.replace("index v1", "index v2").replace(
                "secret v1", "secret v2").replace("private v1", "private v3"),
             "/private", "[wraps v2] private v3"),
            ("app/__init__.py", INIT.replace("inner v1", "inner v2"), "/inner", "inner v2"),
        ]
        for rel, text, path, expected in edits:
            prog.write(rel, text)
            result = prog.reload()
            assert result["ok"], result
            assert _get(port, path) == expected, (rel, result)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert errors == [] and served[0] > 0
    # One registration each: decorators did not run again.
    assert prog.eval("sorted(r.rule for r in app.url_map.iter_rules())") == [
        "/", "/inner", "/private", "/secret", "/static/<path:filename>"]
    assert "already" not in prog.stderr and "rolled back" not in prog.stderr


MAIN_AUTO = """
from werkzeug.serving import make_server

from app import create_app

server = make_server("127.0.0.1", 0, create_app())
print("port", server.server_port, flush=True)
server.serve_forever()
"""


def test_flask_served_by_the_main_thread_under_hcride_run_watch(tmp_path: Path) -> None:
    """Auto mode: the program never imports the API; the main thread sits in
    ``serve_forever()``; each save is visible in the next responses."""
    for rel, text in {"app/__init__.py": INIT, "app/auth.py": AUTH, "app/views.py": VIEWS,
                      "app/helpers.py": HELPERS, "main.py": MAIN_AUTO}.items():
        write(tmp_path / rel, text)
    env = dict(os.environ, PYTHONPATH=str(hcride_root()), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hcride", "run", "--watch", str(tmp_path / "main.py")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("port "), line
        port = int(line.split()[1])
        assert _get(port, "/secret") == "[auth v1] secret v1"
        time.sleep(0.5)  # the watcher is up before the first save
        steps = [
            ("app/views.py", VIEWS.replace("secret v1", "secret v2"), "/secret",
             "[auth v1] secret v2"),
            ("app/auth.py", AUTH.replace("auth v1", "auth v2"), "/secret", "[auth v2] secret v2"),
            ("app/__init__.py", INIT.replace("inner v1", "inner v2"), "/inner", "inner v2"),
        ]
        for rel, text, path, expected in steps:
            write(tmp_path / rel, text)
            wait_until(lambda p=path, e=expected: _get(port, p) == e, TIMEOUT, what=expected)
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert "rolled back" not in err and "rejected" not in err, err
