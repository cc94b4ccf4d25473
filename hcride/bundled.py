"""Where the files shipped with hcride are: themes, icons and samples.

In a source checkout they are the repository's top-level ``resources/`` and
``samples/`` folders; an installed wheel carries the same files inside the package
(``hcride/resources``, ``hcride/samples``; see ``pyproject.toml``). Standard library
only: the command line uses this before Qt is imported.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    """``hcride/<name>`` in an installed wheel, else the checkout's top-level folder."""
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def resources_dir() -> Path:
    """Themes and icons (``HCRIDE_RESOURCES`` overrides)."""
    override = os.environ.get("HCRIDE_RESOURCES")
    return Path(override) if override else _shipped("resources")


def samples_dir() -> Path:
    """The sample projects (``bouncing``, ``counter``...)."""
    return _shipped("samples")


def sample_names() -> list[str]:
    """The names of the shipped samples (folders with a ``main.py``)."""
    folder = samples_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "main.py").is_file())


def default_samples_home() -> Path:
    """Where shipped samples are copied to be edited: ``$HCRIDE_SAMPLES`` or ``~/hcride-samples``."""
    return Path(os.environ.get("HCRIDE_SAMPLES") or Path.home() / "hcride-samples")


def writable_sample(name: str, home: Path | None = None) -> tuple[Path, bool]:
    """A copy of sample ``name`` the user may edit, and whether it was just made.

    A checkout's own ``samples/NAME`` is used in place when it is writable; a sample
    inside an installed package is copied to ``home/NAME`` once (an existing copy is
    reused as is, keeping the user's edits). Raises ``LookupError`` for an unknown name
    and ``OSError`` when the copy cannot be made.
    """
    if name not in sample_names():
        known = ", ".join(sample_names()) or "none"
        raise LookupError(f"no sample named {name!r} (samples: {known})")
    source = samples_dir() / name
    if source.parent.parent != _PACKAGE and os.access(source, os.W_OK):
        return source, False
    target = (home or default_samples_home()) / name
    if (target / "main.py").is_file():
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".hcr"))
    return target, True
