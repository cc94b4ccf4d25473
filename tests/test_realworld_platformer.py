"""A platformer laid out the way the KidsCanCode pygame tutorials (and most beginner
games) lay one out: ``settings.py`` holds the constants, ``sprites.py`` starts with
``from settings import *``, and ``main.py`` holds the ``Game`` loop and does ``from
settings import *`` and ``from sprites import *``. Run by ``hcride run --watch`` with
SDL's dummy video driver; the game makes its player jump every few frames and prints
the jump speed and where the player is.

A constant the user re-tunes is the point of such a layout. hcride keeps a global's
live value and says so (``kept old value of PLAYER_ACC: annotate it `Final` ...``);
the constant annotated ``Final`` is re-evaluated, and the modules that took it with
``from settings import *`` must see the new value too, as Nim's importers see a
changed ``const``.
"""

from __future__ import annotations

from pathlib import Path

from conftest import require_on_program
from helpers_cli_run import CliRun
from helpers_session import TIMEOUT, wait_until, write

SETTINGS = """
from typing import Final

TITLE = "Jumpy!"
WIDTH = 480
HEIGHT = 600
FPS = 60

# Player properties
PLAYER_ACC = 0.5
PLAYER_FRICTION = -0.12
PLAYER_GRAV = 0.8
PLAYER_JUMP: Final = 20

PLATFORM_LIST = [(0, HEIGHT - 40, WIDTH, 40), (WIDTH / 2 - 50, HEIGHT * 3 / 4, 100, 20)]
"""

SPRITES = """
import pygame as pg

from settings import *

vec = pg.math.Vector2


class Player(pg.sprite.Sprite):
    def __init__(self, game):
        pg.sprite.Sprite.__init__(self)
        self.game = game
        self.image = pg.Surface((30, 40))
        self.rect = self.image.get_rect()
        self.pos = vec(WIDTH / 2, HEIGHT - 40)
        self.vel = vec(0, 0)
        self.acc = vec(0, 0)

    def jump(self):
        self.rect.y += 1
        hits = pg.sprite.spritecollide(self, self.game.platforms, False)
        self.rect.y -= 1
        if hits:
            self.vel.y = -PLAYER_JUMP
            return True
        return False

    def update(self):
        self.acc = vec(0, PLAYER_GRAV)
        self.acc.x = PLAYER_ACC
        self.acc.x += self.vel.x * PLAYER_FRICTION
        self.vel += self.acc
        self.pos += self.vel + 0.5 * self.acc
        if self.pos.x > WIDTH:
            self.pos.x = 0
        self.rect.midbottom = self.pos


class Platform(pg.sprite.Sprite):
    def __init__(self, x, y, w, h):
        pg.sprite.Sprite.__init__(self)
        self.image = pg.Surface((w, h))
        self.rect = self.image.get_rect()
        self.rect.x = x
        self.rect.y = y
"""

MAIN = """
import pygame as pg

from settings import *
from sprites import *


class Game:
    def __init__(self):
        pg.display.init()
        self.screen = pg.display.set_mode((WIDTH, HEIGHT))
        pg.display.set_caption(TITLE)
        self.clock = pg.time.Clock()
        self.frame = 0

    def new(self):
        self.all_sprites = pg.sprite.Group()
        self.platforms = pg.sprite.Group()
        self.player = Player(self)
        self.all_sprites.add(self.player)
        for plat in PLATFORM_LIST:
            p = Platform(*plat)
            self.all_sprites.add(p)
            self.platforms.add(p)
        self.run()

    def run(self):
        while True:
            self.clock.tick(FPS)
            self.frame += 1
            pg.event.pump()
            self.update()

    def update(self):
        self.all_sprites.update()
        if self.player.vel.y > 0:
            hits = pg.sprite.spritecollide(self.player, self.platforms, False)
            if hits:
                self.player.pos.y = hits[0].rect.top
                self.player.vel.y = 0
        if self.frame % 15 == 0:
            if self.player.jump():
                print(f"jump {round(-self.player.vel.y)}\\n", end="", flush=True)
            print(f"tag {self.player.tag() if hasattr(self.player, 'tag') else '-'}\\n", end="",
                  flush=True)


g = Game()
g.new()
"""


def _project(root: Path) -> Path:
    for rel, text in {"settings.py": SETTINGS, "sprites.py": SPRITES, "main.py": MAIN}.items():
        write(root / rel, text)
    return root / "main.py"


def test_platformer_sprites_and_settings_edited_while_it_plays(tmp_path: Path) -> None:
    require_on_program("pygame")
    run = CliRun(_project(tmp_path), SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    try:
        run.wait_line("jump 20")
        run.wait_line("connected")
        # A method added to the sprite class and called from the main script's loop.
        mark = len(run.lines)
        write(tmp_path / "sprites.py", SPRITES.replace(
            "    def update(self):",
            '    def tag(self):\n        return "player v2"\n\n    def update(self):', 1))
        run.wait_line("reloaded sprites v2 (0 patched, 1 added", mark)
        run.wait_line("tag player v2", mark)
        # A re-tuned plain constant: kept, and the user is told why and what to do.
        mark = len(run.lines)
        write(tmp_path / "settings.py", SETTINGS.replace("PLAYER_ACC = 0.5", "PLAYER_ACC = 0.8"))
        line = run.wait_line("reloaded settings v2", mark)
        assert "kept old value of PLAYER_ACC: annotate it `Final`" in line, line
        # An attribute added in __init__: a shape change, refused with the reason.
        mark = len(run.lines)
        write(tmp_path / "sprites.py", SPRITES.replace(
            "        self.acc = vec(0, 0)\n", "        self.acc = vec(0, 0)\n        self.lives = 3\n"))
        line = run.wait_line("rejected sprites", mark)
        assert "class Player: instance attribute 'self.lives' added in __init__" in line, line
        run.wait_line("jump 20", len(run.lines))
    finally:
        out = run.stop()
    assert "Traceback" not in out, out


def test_final_constant_reaches_the_modules_that_star_imported_it(tmp_path: Path) -> None:
    """``PLAYER_JUMP: Final = 20`` -> ``30`` in settings.py: settings re-evaluates it,
    and ``sprites`` (``from settings import *``), whose ``Player.jump`` reads it, jumps
    with 30. The same for the main script's own ``from settings import *`` copy."""
    require_on_program("pygame")
    run = CliRun(_project(tmp_path), SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    try:
        run.wait_line("jump 20")
        run.wait_line("connected")
        mark = len(run.lines)
        write(tmp_path / "settings.py", SETTINGS.replace("PLAYER_JUMP: Final = 20",
                                                         "PLAYER_JUMP: Final = 30"))
        run.wait_line("reloaded settings v2", mark)
        after = len(run.lines)
        wait_until(lambda: len([ln for ln in run.lines[after:] if ln.startswith("jump")]) >= 3,
                   TIMEOUT, "three jumps after the reload")
        jumps = [ln for ln in run.lines[after:] if ln.startswith("jump")]
        assert jumps[:3] == ["jump 30"] * 3, jumps
    finally:
        out = run.stop()
    assert "Traceback" not in out, out
