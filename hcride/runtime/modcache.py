"""The runtime's per-module cache next to the bytecode (standard library only).

Importing a reloadable module needs its code object and its ``ModuleTable`` (the
statements the reloads diff). Both come from parsing the source; this cache keeps
them in ``__pycache__/NAME.TAG.hcride`` so that the next start of the program
imports a module without parsing or compiling it, as a ``.pyc`` does.

An entry is valid for exactly one content: it carries the source's digest (the
runtime's ``source_digest``), checked against the bytes being imported, as Python's
hash-based ``.pyc`` files are (PEP 552); and the key of the analysis code that made
the table, so a newer hcride never reads an older table. Nothing is written when
``sys.dont_write_bytecode`` is set (``PYTHONDONTWRITEBYTECODE``), and any problem
reading or writing an entry is the same as no entry.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
import types
from pathlib import Path
from typing import Any

from hcride.analysis.statements import ModuleTable, table_from_data, table_to_data

FORMAT = 4


def _analysis_key() -> str:
    """Changes whenever the code that builds tables changes (file sizes and times)."""
    here = Path(__file__).resolve().parent.parent
    parts = [str(FORMAT), sys.version]
    for folder in (here / "analysis",):
        try:
            with os.scandir(folder) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    if entry.name.endswith(".py"):
                        info = entry.stat()
                        parts.append(f"{entry.name}:{info.st_size}:{info.st_mtime_ns}")
        except OSError:
            parts.append("?")
    return "|".join(parts)


KEY = _analysis_key()


def cache_path(source: str) -> str | None:
    """Where the entry of ``source`` lives (None: this Python caches no bytecode)."""
    tag = sys.implementation.cache_tag
    if tag is None:
        return None
    if sys.pycache_prefix is not None:  # rare: let importlib place it
        import importlib.util

        try:
            return importlib.util.cache_from_source(source)[: -len(".pyc")] + ".hcride"
        except (NotImplementedError, ValueError):
            return None
    folder, name = os.path.split(source)
    stem = name.rpartition(".")[0] or name
    return os.path.join(folder, "__pycache__", f"{stem}.{tag}.hcride")


def _entry(source: str, digest: str) -> tuple[bytes, bytes] | None:
    """The marshalled code and packed table of the entry of ``source``, if it was made
    from ``digest`` by this hcride (else None: missing, truncated, another version)."""
    path = cache_path(source)
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            key, cached_digest, code_bytes, packed = marshal.loads(handle.read())
    except Exception:
        return None
    if key != KEY or cached_digest != digest or not isinstance(packed, bytes):
        return None
    return code_bytes, packed


def load(source: str, digest: str) -> types.CodeType | None:
    """The cached code of ``source`` if the entry was made from ``digest`` (its table
    stays on disk: ``load_table``)."""
    entry = _entry(source, digest)
    if entry is None:
        return None
    try:
        code = marshal.loads(entry[0])
    except Exception:
        return None
    return code if isinstance(code, types.CodeType) else None


def load_table(source: str, digest: str) -> ModuleTable | None:
    """The table of the entry of ``source``, if it was made from ``digest`` (a reload
    reads it here rather than keeping every module's table in memory)."""
    entry = _entry(source, digest)
    return None if entry is None else unpack_table(entry[1], digest)


def unpack_table(packed: bytes, digest: str) -> ModuleTable | None:
    """The table packed in a cache entry (None if it is not the table of ``digest``)."""
    try:
        table = table_from_data(marshal.loads(packed))
    except Exception:
        return None
    if table.digest != digest:
        return None
    return table


def store(source: str, digest: str, code: types.CodeType, table: ModuleTable) -> bool:
    """Write the entry (atomically: a reader sees a whole entry or none). False when
    it could not be written."""
    if sys.dont_write_bytecode:
        return False
    path = cache_path(source)
    if path is None:
        return False
    packed = pack_table(table)
    payload: Any = (KEY, digest, marshal.dumps(code), packed)
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temp, "wb") as handle:
            handle.write(marshal.dumps(payload))
        os.replace(temp, path)
    except Exception:  # read-only folder, full disk: no cache
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return False
    return True


def pack_table(table: ModuleTable) -> bytes:
    """``table`` packed (``unpack_table`` reads it): plain data in ``marshal``'s
    format, read back at C speed (unpickling the statement objects took longer than
    the rest of a small module's reload)."""
    return marshal.dumps(table_to_data(table))
