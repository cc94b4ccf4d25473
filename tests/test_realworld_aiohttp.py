"""A small aiohttp shop served by ``web.run_app`` (the main thread idle in asyncio's
loop) under ``hcride run --watch``, edited while a client thread keeps requesting it.

The app is written the way aiohttp's docs write one: a ``web.RouteTableDef`` with a
handler behind a ``functools.wraps`` timing decorator, a class-based ``web.View``
registered with ``@routes.view``, a ``@web.middleware``, a ``web.AppKey`` state in the
application, a module-level hit counter, a helper module the handlers import, a
dataclass model, and an admin sub-application whose own ``page`` decorator adds each
handler to the sub-app's router at import time.

What aiohttp does with a route added while it serves (the README's Limitations):

- ``@routes.get`` only appends to the ``RouteTableDef`` list; ``app.add_routes`` ran
  once in ``create_app`` and is not run again, so the reload applies, the handler is
  bound, and the URL stays 404 until a restart.
- A decorator that calls ``router.add_get`` at import time meets aiohttp's frozen
  router (``RuntimeError: Cannot register a resource into frozen router.``): the batch
  is rolled back with that message and the app keeps serving the running code.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from pathlib import Path

from conftest import require_on_program
from helpers_cli_run import CliRun
from helpers_samples import write_atomically
from helpers_session import TIMEOUT, wait_until, write

MODELS = """
from dataclasses import dataclass


@dataclass
class Item:
    name: str
    price: int

    def label(self) -> str:
        return f"{self.name} at {self.price}"
"""

HELPERS = """
import functools
import time


def render(title: str, **fields) -> str:
    return title + ": " + ", ".join(f"{k}={v}" for k, v in sorted(fields.items()))


def timed(handler):
    @functools.wraps(handler)
    async def wrapper(request):
        start = time.perf_counter()
        response = await handler(request)
        response.headers["X-Took-Ms"] = f"{(time.perf_counter() - start) * 1000:.1f}"
        return response

    return wrapper
"""

VIEWS = """
from aiohttp import web

from shop.helpers import render, timed
from shop.models import Item

routes = web.RouteTableDef()
STATE = web.AppKey("state", dict)
HITS = 0
CATALOG = {"tea": Item("tea", 3), "cake": Item("cake", 5)}


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    global HITS
    HITS += 1
    return web.Response(text=render("index v1", hits=HITS))


@routes.get("/items/{name}")
@timed
async def item(request: web.Request) -> web.Response:
    found = CATALOG.get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound(text="no such item")
    return web.Response(text="item v1: " + found.label())


@routes.view("/counter")
class CounterView(web.View):
    async def get(self) -> web.Response:
        return web.Response(text=f"count v1: {self.request.app[STATE]['count']}")

    async def post(self) -> web.Response:
        self.request.app[STATE]["count"] += 1
        return web.Response(text="ok")
"""

MIDDLEWARE = """
from aiohttp import web


@web.middleware
async def stamp(request: web.Request, handler):
    response = await handler(request)
    response.headers["X-Stamp"] = "v1"
    return response
"""

ADMIN = """
from aiohttp import web

admin = web.Application()


def page(path):
    def register(handler):
        admin.router.add_get(path, handler)
        return handler

    return register


@page("/status")
async def status(request: web.Request) -> web.Response:
    return web.Response(text="admin status v1")
"""

APP = """
from aiohttp import web

from shop import views
from shop.admin import admin
from shop.middleware import stamp


def create_app() -> web.Application:
    app = web.Application(middlewares=[stamp])
    app[views.STATE] = {"count": 0}
    app.add_routes(views.routes)
    app.add_subapp("/admin", admin)
    return app
"""

MAIN = """
import os
import socket

from aiohttp import web

from shop.app import create_app

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
print(f"pid {os.getpid()} port {sock.getsockname()[1]}\\n", end="", flush=True)
web.run_app(create_app(), sock=sock, print=None)
"""

ABOUT = """

@routes.get("/about")
async def about(request: web.Request) -> web.Response:
    return web.Response(text="about")
"""

USERS = """

@page("/users")
async def users(request: web.Request) -> web.Response:
    return web.Response(text="admin users")
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


class Client:
    """GET ``/`` in a loop on its own thread, from before the first save to after the
    last: every answer (or error) is kept, in order."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.answers: list[str] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with urllib.request.urlopen(self.base + "/", timeout=30) as r:
                    self.answers.append(r.read().decode())
            except (OSError, urllib.error.URLError) as exc:
                self.errors.append(repr(exc))
            self._stop.wait(0.03)

    def wait_for(self, text: str, more: int = 1) -> None:
        """Until ``more`` answers from now on contain ``text``."""
        start = len(self.answers)
        wait_until(lambda: sum(text in a for a in self.answers[start:]) >= more,
                   TIMEOUT, f"{more} answers with {text!r}; last: {self.answers[-3:]}")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(TIMEOUT)


def test_aiohttp_app_edited_while_a_client_requests_it(tmp_path: Path) -> None:
    require_on_program("aiohttp")
    files = {"shop/__init__.py": "", "shop/models.py": MODELS, "shop/helpers.py": HELPERS,
             "shop/views.py": VIEWS, "shop/middleware.py": MIDDLEWARE, "shop/admin.py": ADMIN,
             "shop/app.py": APP, "main.py": MAIN}
    for rel, text in files.items():
        write(tmp_path / rel, text)
    views, helpers = tmp_path / "shop/views.py", tmp_path / "shop/helpers.py"
    models, middleware, admin = (tmp_path / "shop/models.py", tmp_path / "shop/middleware.py",
                                 tmp_path / "shop/admin.py")
    run = CliRun(tmp_path / "main.py")
    client = None
    pid = 0
    try:
        started = run.wait_line("port ").split()
        pid, port = int(started[1]), int(started[3])
        run.wait_line("connected")
        base = f"http://127.0.0.1:{port}"

        def call(path: str, post: bool = False) -> tuple[str, dict[str, str]]:
            req = urllib.request.Request(base + path, data=b"" if post else None)
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    return r.read().decode(), dict(r.headers)
            except urllib.error.HTTPError as exc:
                return f"HTTP {exc.code}", dict(exc.headers)

        def text(path: str) -> str:
            return call(path)[0]

        client = Client(base)
        client.wait_for("index v1: hits=", 3)
        for _ in range(3):
            assert call("/counter", post=True)[0] == "ok"

        # A handler body: the next answers show it, the counter goes on.
        views_v2 = VIEWS.lstrip("\n").replace("index v1", "index v2")
        write(views, views_v2)
        client.wait_for("index v2: hits=")

        # The handler behind the timing decorator (functools.wraps): the wrapper stays.
        views_v3 = views_v2.replace("item v1", "item v2")
        write_atomically(views, views_v3)
        wait_until(lambda: text("/items/tea") == "item v2: tea at 3", TIMEOUT, "item v2")
        body, headers = call("/items/cake")
        assert body == "item v2: cake at 5" and "X-Took-Ms" in headers, (body, headers)

        # A method of the class-based view: the app's state is the same dict.
        views_v4 = views_v3.replace("count v1", "count v2")
        write(views, views_v4)
        wait_until(lambda: text("/counter") == "count v2: 3", TIMEOUT, "count v2")

        # The helper module the handlers import.
        write_atomically(helpers, HELPERS.lstrip("\n").replace('title + ": "', 'title + " | "'))
        client.wait_for("index v2 | hits=")

        # The middleware.
        write(middleware, MIDDLEWARE.replace('"v1"', '"v2"'))
        wait_until(lambda: call("/counter")[1].get("X-Stamp") == "v2", TIMEOUT, "stamp v2")

        # A syntax error: refused at its line, the old code keeps answering.
        broken = views_v4.replace("    HITS += 1\n", "    HITS += (1\n")
        line_no = broken.splitlines().index("    HITS += (1") + 1
        mark = len(run.lines)
        write(views, broken)
        refused = run.wait_line("rejected shop.views", mark)
        assert f"views.py:{line_no}:" in refused, refused
        client.wait_for("index v2 | hits=", 3)
        assert text("/counter") == "count v2: 3"
        # Saved back to the running text: nothing to reload.
        mark = len(run.lines)
        write(views, views_v4)
        run.wait_line("shop.views: back to the running version", mark)

        # A field added to the dataclass: refused with the reason, the catalogue's
        # instances keep serving; saved back, the running version again.
        mark = len(run.lines)
        write(models, MODELS.replace("    price: int\n", "    price: int\n    stock: int = 0\n"))
        refused = run.wait_line("rejected shop.models", mark)
        assert "class Item: field 'stock' added" in refused, refused
        assert text("/items/cake") == "item v2: cake at 5"
        mark = len(run.lines)
        write_atomically(models, MODELS.lstrip("\n"))
        run.wait_line("shop.models: back to the running version", mark)

        # A new route in the RouteTableDef: the function is bound (the reload applies),
        # but app.add_routes ran once at start-up: no route until a restart.
        mark = len(run.lines)
        write(views, views_v4 + ABOUT)
        applied = run.wait_line("reloaded shop.views", mark)
        assert "1 added" in applied, applied
        assert text("/about") == "HTTP 404"
        client.wait_for("index v2 | hits=")

        # A new page on the sub-app's router, registered by its decorator at import:
        # aiohttp's router is frozen while the app runs; rolled back with its message.
        mark = len(run.lines)
        write(admin, ADMIN + USERS)
        failed = run.wait_line("reload of shop.admin failed and was rolled back", mark)
        assert "RuntimeError: Cannot register a resource into frozen router." in failed, failed
        assert text("/admin/users") == "HTTP 404"
        assert text("/admin/status") == "admin status v1"
        # Taken out again, a body edit of the same module applies.
        write_atomically(admin, ADMIN.lstrip("\n").replace("status v1", "status v2"))
        wait_until(lambda: text("/admin/status") == "admin status v2", TIMEOUT, "status v2")

        client.wait_for("index v2 | hits=", 3)
        client.stop()
        assert run.proc.poll() is None, "hcride run ended"
    finally:
        if client is not None:
            client.stop()
        out = run.stop()
    # Never restarted: one start, every request answered, the counter never reset.
    assert out.count("port ") == 1, out
    assert not client.errors, client.errors[:5]
    hits = [int(a.rsplit("hits=", 1)[1]) for a in client.answers]
    assert hits == list(range(1, len(hits) + 1)), hits
    versions = [a.split(":")[0].split(" |")[0] for a in client.answers]
    first_v2 = versions.index("index v2")
    assert set(versions[:first_v2]) == {"index v1"} and set(versions[first_v2:]) == {"index v2"}
    assert out.count("failed and was rolled back") == 1, out
    # The program ended with hcride (the keeper leaves nothing behind).
    wait_until(lambda: not _alive(pid), TIMEOUT, f"program {pid} ended")
