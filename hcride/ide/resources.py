"""Themes and icons, from ``hcride.bundled.resources_dir()``: the checkout's top-level
``resources/`` folder, the copy inside an installed wheel, or ``HCRIDE_RESOURCES``.
A missing file is not an error: themes fall back to built-in colours, actions have no
icon.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from PySide6.QtGui import QIcon

from hcride.bundled import resources_dir

__all__ = ["icon", "resources_dir", "theme_data"]


@cache
def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg`` (an empty icon when absent)."""
    path = resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


@cache
def theme_data(name: str) -> dict[str, Any]:
    """The parsed ``resources/themes/<name>.json`` (empty when absent or broken)."""
    path = resources_dir() / "themes" / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
