"""The settings sample's logic (the seed's ``settings`` / ``lastReload`` example).

The settings are loaded once, when this module is first imported. A reload keeps
them: a reload never runs an assignment of an existing global again (``settings``
keeps its contents), nor a top-level loop or call (the settings file is not read
again, ``init_program()`` does not run again). What should happen on every reload
goes in an ``after_code_reload`` handler: here it notes the time in ``last_reload``
and resets the program's state.

Try it: change the text in ``render()`` and save. The greeting from the settings
stays, ``last_reload`` moves, and the frame count starts again from 0.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from hcride import hotcodereloading as hcr

SETTINGS_FILE = Path(__file__).with_name("settings.txt")

settings: dict[str, str] = {}
last_reload: float | None = None
state: dict[str, int] = {}
reloads: int = 0


def load_settings() -> Iterator[tuple[str, str]]:
    print(f"loading settings from {SETTINGS_FILE.name}", flush=True)
    for line in SETTINGS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            yield key.strip(), value.strip()


def init_program() -> None:
    print(f"program initialized with settings {settings}", flush=True)
    reset_program_state()


def reset_program_state() -> None:
    state.clear()
    state["frames"] = 0


for k, v in load_settings():
    settings[k] = v

init_program()


@hcr.after_code_reload
def on_reload() -> None:
    global last_reload, reloads
    last_reload = time.time()
    reloads += 1
    reset_program_state()


def render() -> str:
    return f"{settings['greeting']}, {settings['name']}!"


def tick() -> None:
    state["frames"] += 1
    since = "never" if last_reload is None else f"{time.time() - last_reload:.1f}s ago"
    print(
        f"{render()}  frame {state['frames']}, reloads {reloads}, last reload {since}",
        flush=True,
    )
