"""Can Qt open a window here? Checked before Qt is imported, because Qt aborts the
process (exit 134, a core dump message) when it has no display or its X11 plugin
cannot load. Standard library only.

The system libraries are those Qt's X11 plugin (``libqxcb.so`` of PySide6) links,
found with ``ldd`` on a bare Debian/Ubuntu; the README's list is the same.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
from pathlib import Path

X11_PACKAGES: dict[str, str] = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
}
"""Shared library -> the Debian/Ubuntu package that provides it."""

APT_LINE = "sudo apt install " + " ".join(dict.fromkeys(X11_PACKAGES.values()))
"""What a bare Debian or Ubuntu needs for Qt's X11 plugin (the README says the same)."""

HEADLESS_HINT = "or run without a window: QT_QPA_PLATFORM=offscreen"


def xcb_plugin() -> Path | None:
    """PySide6's X11 platform plugin, found without importing Qt."""
    spec = importlib.util.find_spec("PySide6")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def missing_libraries(plugin: Path) -> list[str]:
    """The libraries ``ldd`` reports "not found" for ``plugin`` (none when no ldd)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True,
                             timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    missing = [line.split()[0] for line in out.splitlines() if "not found" in line]
    return list(dict.fromkeys(missing))


def _x11_server_answers(display: str) -> bool:
    """False only when ``display`` names a local X server whose socket does not answer."""
    host, _, rest = display.partition(":")
    number = rest.split(".")[0]
    if host not in ("", "unix") or not number.isdigit():
        return True  # remote or unusual: let Qt try
    path = f"/tmp/.X11-unix/X{number}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        try:
            sock.connect(path)
        except OSError:
            pass
        else:
            return True
    # An abstract-namespace socket (Xvfb listens on both on Linux).
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        try:
            sock.connect("\0" + path)
        except OSError:
            return False
    return True


def display_problem(env: dict[str, str] | None = None) -> str | None:
    """One line saying why Qt cannot open a window, or None when it should."""
    env = dict(os.environ if env is None else env)
    platform = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if platform and platform != "xcb":
        return None  # offscreen, wayland, vnc...: Qt's own choice, nothing to check here
    if not platform and env.get("WAYLAND_DISPLAY"):
        return None
    display = env.get("DISPLAY", "")
    if not display:
        return ("no display: DISPLAY and WAYLAND_DISPLAY are not set; start hcride from a "
                f"desktop session, or set DISPLAY (ssh -X, Xvfb), {HEADLESS_HINT}")
    plugin = xcb_plugin()
    missing = missing_libraries(plugin) if plugin is not None else []
    if missing:
        return (f"Qt's X11 plugin cannot load: {', '.join(missing)} missing; on Debian or "
                f"Ubuntu: {APT_LINE}")
    if not _x11_server_answers(display):
        return (f"no X server answers on DISPLAY={display}: start one (Xvfb {display} &) or "
                f"set DISPLAY to a running one, {HEADLESS_HINT}")
    return None
