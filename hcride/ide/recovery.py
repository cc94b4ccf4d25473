"""Hot exit: unsaved buffers are copied to a per-user recovery folder while you type,
so that an IDE killed with ``kill -9`` (or a power cut) loses nothing: the next start
opens them again, still unsaved. A buffer's copy is removed when it is saved, or
closed or reverted on purpose."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from hcride.ide.atomic import atomic_write


def default_dir() -> Path:
    """``<AppDataLocation>/recovery`` (``~/.local/share/hcride/hcride/recovery``)."""
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".hcride") / "recovery"


@dataclass(frozen=True)
class Recovered:
    """An unsaved buffer found in the recovery folder."""

    path: Path
    text: str
    saved_at: float


class Recovery:
    """``save(path, text)`` after edits, ``discard(path)`` on save/close; ``pending()``
    at start. Each buffer is one JSON file named after its path's hash."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._written: dict[str, str] = {}
        """path -> digest of the text last written (to write only what changed)."""
        self.writes = 0
        """Files written (tests count work with it)."""

    def _file(self, path: Path | str) -> Path:
        return self.folder / (hashlib.sha1(str(path).encode()).hexdigest()[:20] + ".json")

    def save(self, path: Path | str, text: str) -> bool:
        """Keep ``text`` for ``path``; False when it was already kept (nothing written)."""
        digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
        if self._written.get(str(path)) == digest:
            return False
        record = {"path": str(path), "text": text, "time": time.time(), "pid": os.getpid()}
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(self._file(path), json.dumps(record).encode("utf-8", "surrogatepass"))
        except OSError:
            return False  # a full disk must not stop the editor
        self._written[str(path)] = digest
        self.writes += 1
        return True

    def kept(self) -> set[str]:
        """The paths this IDE has copies of."""
        return set(self._written)

    def discard(self, path: Path | str) -> None:
        self._written.pop(str(path), None)
        try:
            self._file(path).unlink()
        except OSError:
            pass

    def pending(self, under: Path | None = None) -> list[Recovered]:
        """The kept buffers (of files inside ``under`` when given), oldest first."""
        out: list[Recovered] = []
        if not self.folder.is_dir():
            return out
        root = str(under) + os.sep if under is not None else ""
        for file in self.folder.glob("*.json"):
            try:
                record = json.loads(file.read_text("utf-8", "surrogatepass"))
                path, text = Path(record["path"]), str(record["text"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if not root or str(path).startswith(root):
                out.append(Recovered(path, text, float(record.get("time", 0))))
        return sorted(out, key=lambda r: r.saved_at)
