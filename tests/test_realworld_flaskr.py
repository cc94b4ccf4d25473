"""Flask's tutorial app, flaskr (app factory, sqlite ``db`` module with ``g``, blueprints
``auth`` and ``blog``, ``login_required`` with ``functools.wraps``, a
``before_app_request`` hook), served by the main thread under ``hcride run --watch``
while a logged-in client makes requests and the developer edits it.

A new view on a blueprint that is already registered is refused by Flask itself
("The setup method 'route' can no longer be called..."): the batch rolls back, the
one-line report quotes Flask's first line, the app keeps serving the running code,
and the next edit applies once the new route is taken out again.
"""

from __future__ import annotations

import http.cookiejar
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from conftest import require_on_program
from helpers_cli_run import CliRun
from helpers_session import TIMEOUT, wait_until, write

INIT = """
import os

from flask import Flask


def create_app():
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(SECRET_KEY="dev",
                            DATABASE=os.path.join(app.instance_path, "flaskr.sqlite"))
    os.makedirs(app.instance_path, exist_ok=True)

    from . import db
    db.init_app(app)

    from . import auth
    app.register_blueprint(auth.bp)

    from . import blog
    app.register_blueprint(blog.bp)
    app.add_url_rule("/", endpoint="index")
    return app
"""

DB = """
import sqlite3

from flask import current_app, g

SCHEMA = '''
CREATE TABLE IF NOT EXISTS user (id INTEGER PRIMARY KEY, username TEXT UNIQUE, password TEXT);
CREATE TABLE IF NOT EXISTS post (id INTEGER PRIMARY KEY, author_id INTEGER, title TEXT);
'''


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row
    return g.db


def close_db(e=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db():
    get_db().executescript(SCHEMA)


def init_app(app):
    app.teardown_appcontext(close_db)
"""

AUTH = """
import functools

from flask import Blueprint, g, redirect, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from flaskr.db import get_db

bp = Blueprint("auth", __name__, url_prefix="/auth")


def login_required(view):
    @functools.wraps(view)
    def wrapped_view(**kwargs):
        if g.user is None:
            return redirect(url_for("auth.login"))
        return view(**kwargs)

    return wrapped_view


@bp.before_app_request
def load_logged_in_user():
    user_id = session.get("user_id")
    g.user = None if user_id is None else get_db().execute(
        "SELECT * FROM user WHERE id = ?", (user_id,)).fetchone()


@bp.route("/register", methods=("POST",))
def register():
    db = get_db()
    db.execute("INSERT INTO user (username, password) VALUES (?, ?)",
               (request.form["username"], generate_password_hash(request.form["password"])))
    db.commit()
    return "registered"


@bp.route("/login", methods=("POST",))
def login():
    user = get_db().execute("SELECT * FROM user WHERE username = ?",
                            (request.form["username"],)).fetchone()
    if user is None or not check_password_hash(user["password"], request.form["password"]):
        return "Incorrect.", 400
    session.clear()
    session["user_id"] = user["id"]
    return "logged in"
"""

BLOG = """
from flask import Blueprint, g, request

from flaskr.auth import login_required
from flaskr.db import get_db

bp = Blueprint("blog", __name__)


@bp.route("/")
def index():
    posts = get_db().execute("SELECT title FROM post ORDER BY id").fetchall()
    return "index v1: " + ", ".join(p["title"] for p in posts)


@bp.route("/create", methods=("POST",))
@login_required
def create():
    db = get_db()
    db.execute("INSERT INTO post (author_id, title) VALUES (?, ?)",
               (g.user["id"], request.form["title"]))
    db.commit()
    return "created v1"
"""

NEW_VIEW = """

@bp.route("/about")
def about():
    return "about"
"""

MAIN = """
from werkzeug.serving import make_server

from flaskr import create_app
from flaskr.db import init_db

app = create_app()
with app.app_context():
    init_db()
server = make_server("127.0.0.1", 0, app)
print(f"port {server.server_port}\\n", end="", flush=True)
server.serve_forever()
"""


def test_flaskr_edited_while_a_logged_in_client_posts(tmp_path: Path) -> None:
    require_on_program("flask")
    for rel, text in {"flaskr/__init__.py": INIT, "flaskr/db.py": DB, "flaskr/auth.py": AUTH,
                      "flaskr/blog.py": BLOG, "main.py": MAIN}.items():
        write(tmp_path / rel, text)
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    run = CliRun(tmp_path / "main.py")
    try:
        port = int(run.wait_line("port ").split()[1])

        def call(path: str, **form: str) -> str:
            data = urllib.parse.urlencode(form).encode() if form else None
            try:
                with opener.open(f"http://127.0.0.1:{port}{path}", data, timeout=30) as r:
                    return r.read().decode()
            except urllib.error.HTTPError as exc:
                return f"HTTP {exc.code}"

        assert call("/auth/register", username="ann", password="pw") == "registered"
        assert call("/auth/login", username="ann", password="pw") == "logged in"
        assert call("/create", title="first") == "created v1"
        time.sleep(0.5)  # the watcher is up before the first save
        blog = BLOG.replace("index v1", "index v2")
        write(tmp_path / "flaskr/blog.py", blog)
        wait_until(lambda: call("/") == "index v2: first", TIMEOUT, "index v2")
        # The wrapper made by login_required (functools.wraps) and the hook.
        write(tmp_path / "flaskr/auth.py", AUTH.replace(
            "return view(**kwargs)", 'return "[" + g.user["username"] + "] " + view(**kwargs)'))
        wait_until(lambda: call("/create", title="second") == "[ann] created v1", TIMEOUT,
                   "wrapper v2")
        # A new view on the registered blueprint: Flask refuses, the batch rolls back.
        mark = len(run.lines)
        write(tmp_path / "flaskr/blog.py", blog + NEW_VIEW)
        line = run.wait_line("reload of flaskr.blog failed and was rolled back", mark)
        assert "AssertionError: The setup method 'route' can no longer be called on the " \
               "blueprint 'blog'" in line, line
        assert call("/").startswith("index v2: first, second")  # posted until applied
        assert call("/about") == "HTTP 404"
        # Take it out again and edit the body: applied.
        write(tmp_path / "flaskr/blog.py", blog.replace("index v2", "index v3"))
        wait_until(lambda: call("/").startswith("index v3: first, second"), TIMEOUT, "index v3")
        assert call("/create", title="third") == "[ann] created v1"
    finally:
        out = run.stop()
    assert out.count("failed and was rolled back") == 1, out
