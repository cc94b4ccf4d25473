"""Where themes and icons live: the repository's top-level ``resources/`` folder.

The folder is found relative to this package (``hcride/ide/../../resources``), or
through ``HCRIDE_RESOURCES``. When it is missing (an installed wheel without it), the
IDE still works: themes fall back to built-in colours and actions have no icons.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from PySide6.QtGui import QIcon


def resources_dir() -> Path:
    override = os.environ.get("HCRIDE_RESOURCES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "resources"


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
