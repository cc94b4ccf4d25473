"""The watcher watches only folders that may hold sources, in a real project on disk.

A project with a ``.venv`` of a few hundred folders (and ``.hcr``, ``__pycache__``,
hidden folders, a virtual environment known by its ``pyvenv.cfg``, a symbolic link
out of the project): none of them is watched, saves in packages are seen, folders
made, renamed or deleted after the start are followed. Every wait polls with a
generous timeout; nothing asserts how long anything took.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_session import wait_until, write

from hcride.controller.watcher import Watcher

VENV_PACKAGES = 60
VENV_SUBFOLDERS = 5  # 60 * (1 + 5) = 360 folders under site-packages alone


class Batches:
    """Collects the watcher's batches."""

    def __init__(self) -> None:
        self.batches: list[set[Path]] = []
        self._lock = threading.Lock()

    def __call__(self, batch: set[Path]) -> None:
        with self._lock:
            self.batches.append(set(batch))

    def seen(self) -> set[Path]:
        with self._lock:
            return set().union(*self.batches)

    def clear(self) -> None:
        with self._lock:
            self.batches.clear()

    def wait_seen(self, *paths: Path) -> None:
        wait_until(lambda: set(paths) <= self.seen(), what=f"{[str(p) for p in paths]} in a batch")


def _make_project(root: Path, outside: Path) -> Path:
    project = root / "proj"
    write(project / "main.py", "import pkg\n")
    write(project / "pkg" / "__init__.py", "")
    write(project / "pkg" / "sub" / "__init__.py", "")
    write(project / "pkg" / "sub" / "deep" / "mod.py", "VALUE = 1\n")
    write(project / "pkg" / "__pycache__" / "junk.py", "")
    (project / "pkg" / "__pycache__" / "nested").mkdir()
    (project / "data").mkdir()
    venv = project / ".venv"
    write(venv / "pyvenv.cfg", "home = /usr/bin\n")
    (venv / "bin").mkdir()
    site = venv / "lib" / "python3.11" / "site-packages"
    for i in range(VENV_PACKAGES):
        for j in range(VENV_SUBFOLDERS):
            (site / f"dist{i}" / f"part{j}").mkdir(parents=True)
        write(site / f"dist{i}" / "__init__.py", "")
    write(project / "tools" / "myenv" / "pyvenv.cfg", "home = /usr/bin\n")
    (project / "tools" / "myenv" / "lib").mkdir()
    write(project / ".hcr" / "builds" / "1" / "main.py", "")
    write(project / ".git" / "objects" / "ab" / "cd.py", "")
    write(outside / "linked" / "lib.py", "")
    os.symlink(outside / "linked", project / "linked")
    return project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _make_project(tmp_path.resolve(), tmp_path.resolve() / "outside")


@pytest.fixture
def batches() -> Batches:
    return Batches()


@pytest.fixture
def watcher(project: Path, batches: Batches) -> Iterator[Watcher]:
    w = Watcher(project, batches)
    w.start()
    yield w
    w.stop()


def _kernel_watches() -> int | None:
    """inotify watches this process holds (Linux), or None where that is not known."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        return None
    count = 0
    for fd in fds.iterdir():
        try:
            if os.readlink(fd) != "anon_inode:inotify":
                continue
            info = (Path("/proc/self/fdinfo") / fd.name).read_text()
        except OSError:
            continue
        count += sum(line.startswith("inotify wd:") for line in info.splitlines())
    return count


def _expected(project: Path, *rel: str) -> list[Path]:
    return sorted([project, *(project / r for r in rel)])


BASE = ("data", "pkg", "pkg/sub", "pkg/sub/deep", "tools")


def test_watches_only_folders_that_may_hold_sources(project: Path, watcher: Watcher) -> None:
    assert len([d for d, _, _ in os.walk(project / ".venv")]) > 300
    watched = watcher.watched_folders()
    assert watched == _expected(project, *BASE)
    for folder in watched:
        rel = folder.relative_to(project).parts
        assert not {".venv", ".hcr", "__pycache__", ".git", "myenv", "linked"} & set(rel)


@pytest.mark.skipif(_kernel_watches() is None, reason="needs Linux /proc and inotify")
def test_the_kernel_holds_one_watch_per_watched_folder(project: Path, batches: Batches) -> None:
    before = _kernel_watches()
    w = Watcher(project, batches)
    w.start()
    try:
        assert w.watched_folders() == _expected(project, *BASE)
        assert _kernel_watches() == before + len(BASE) + 1
    finally:
        w.stop()


def test_saves_in_a_nested_package_are_seen(
    project: Path, watcher: Watcher, batches: Batches
) -> None:
    mod = project / "pkg" / "sub" / "deep" / "mod.py"
    # Truncate and write.
    with open(mod, "w", encoding="utf-8") as f:
        f.write("VALUE = 2\n")
    batches.wait_seen(mod)
    # Write a temporary file and rename it over the source.
    batches.clear()
    tmp = mod.with_name(".mod.py.swp")
    tmp.write_text("VALUE = 3\n", encoding="utf-8")
    os.replace(tmp, mod)
    batches.wait_seen(mod)
    assert tmp not in batches.seen()
    # A burst of saves to two files ends in batches naming both.
    batches.clear()
    init = project / "pkg" / "__init__.py"
    for n in range(20):
        mod.write_text(f"VALUE = {n}\n", encoding="utf-8")
        init.write_text(f"N = {n}\n", encoding="utf-8")
    batches.wait_seen(mod, init)


def test_a_folder_made_after_the_start_is_watched(
    project: Path, watcher: Watcher, batches: Batches
) -> None:
    new = project / "newpkg" / "inner"
    first = write(new / "first.py", "A = 1\n")  # mkdir -p and write at once
    batches.wait_seen(first)
    wait_until(lambda: new in watcher.watched_folders(), what="newpkg/inner watched")
    assert project / "newpkg" in watcher.watched_folders()
    batches.clear()
    second = write(new / "second.py", "B = 1\n")
    first.write_text("A = 2\n", encoding="utf-8")
    batches.wait_seen(first, second)
    # A new folder that is ignored is not watched.
    write(project / "newpkg" / "__pycache__" / "x.py", "")
    write(project / "newpkg" / ".cache" / "y.py", "")
    sentinel = write(project / "newpkg" / "sentinel.py", "")
    batches.wait_seen(sentinel)
    assert watcher.watched_folders() == _expected(project, *BASE, "newpkg", "newpkg/inner")


def test_saves_in_ignored_folders_produce_nothing(
    project: Path, watcher: Watcher, batches: Batches
) -> None:
    site = project / ".venv" / "lib" / "python3.11" / "site-packages"
    ignored = [
        write(site / "dist3" / "__init__.py", "X = 1\n"),
        write(site / "dist7" / "part2" / "new.py", "X = 1\n"),
        write(project / ".venv" / "top.py", ""),
        write(project / ".hcr" / "builds" / "1" / "main.py", "X = 1\n"),
        write(project / "pkg" / "__pycache__" / "junk.py", "X = 1\n"),
        write(project / ".git" / "objects" / "ab" / "cd.py", "X = 1\n"),
        write(project / "tools" / "myenv" / "lib" / "x.py", ""),
        write(project / ".hidden.py", ""),
    ]
    (project / ".venv" / "newdir").mkdir()
    write(project / ".venv" / "newdir" / "z.py", "")
    # A save that is seen, made after the others: once it is in a batch, theirs would be.
    sentinel = project / "main.py"
    sentinel.write_text("import pkg  # edited\n", encoding="utf-8")
    batches.wait_seen(sentinel)
    assert not set(ignored) & batches.seen()
    assert all(".venv" not in p.parts for p in batches.seen())
    assert watcher.watched_folders() == _expected(project, *BASE)


def test_a_deleted_folder_made_again_is_watched_again(
    project: Path, watcher: Watcher, batches: Batches
) -> None:
    sub = project / "pkg" / "sub"
    shutil.rmtree(sub)
    wait_until(
        lambda: watcher.watched_folders() == _expected(project, "data", "pkg", "tools"),
        what="pkg/sub and pkg/sub/deep unwatched",
    )
    batches.wait_seen(sub / "deep" / "mod.py")  # the deletion is a change too
    batches.clear()
    mod = write(sub / "deep" / "mod.py", "VALUE = 5\n")
    batches.wait_seen(mod)
    wait_until(lambda: sub / "deep" in watcher.watched_folders(), what="deep watched again")
    batches.clear()
    mod.write_text("VALUE = 6\n", encoding="utf-8")
    batches.wait_seen(mod)


def test_a_renamed_folder_is_followed(project: Path, watcher: Watcher, batches: Batches) -> None:
    old = project / "pkg" / "sub"
    new = project / "pkg" / "renamed"
    os.rename(old, new)
    # Both the old path (gone) and the new one (new) of the module are changes.
    batches.wait_seen(old / "deep" / "mod.py", new / "deep" / "mod.py")
    expected = _expected(project, "data", "pkg", "pkg/renamed", "pkg/renamed/deep", "tools")
    wait_until(lambda: watcher.watched_folders() == expected, what="renamed tree watched")
    batches.clear()
    mod = new / "deep" / "mod.py"
    mod.write_text("VALUE = 7\n", encoding="utf-8")
    batches.wait_seen(mod)
    assert old / "deep" / "mod.py" not in batches.seen()
    # Moved out of the project's sources (into a hidden name): no longer watched.
    os.rename(new, project / "pkg" / ".attic")
    wait_until(
        lambda: watcher.watched_folders() == _expected(project, "data", "pkg", "tools"),
        what="hidden tree unwatched",
    )


def test_a_virtual_environment_made_after_the_start_is_dropped(
    project: Path, watcher: Watcher, batches: Batches
) -> None:
    sandbox = project / "sandbox"
    (sandbox / "lib").mkdir(parents=True)
    wait_until(lambda: sandbox / "lib" in watcher.watched_folders(), what="sandbox watched")
    write(sandbox / "pyvenv.cfg", "home = /usr/bin\n")
    wait_until(
        lambda: watcher.watched_folders() == _expected(project, *BASE),
        what="sandbox unwatched once it holds pyvenv.cfg",
    )


def test_a_folder_deleted_and_made_again_at_once_stays_watched(
    project: Path, watcher: Watcher, batches: Batches
) -> None:
    # As a checkout or a code generator does: the late events about the former folder
    # must not take the watch of the new one away.
    sub = project / "pkg" / "sub"
    mod = sub / "deep" / "mod.py"
    for n in range(5):
        shutil.rmtree(sub)
        write(mod, f"VALUE = {n}\n")
        batches.wait_seen(mod)
        wait_until(
            lambda: watcher.watched_folders() == _expected(project, *BASE), what="pkg/sub watched"
        )
        batches.clear()
        mod.write_text(f"VALUE = {n} + 1\n", encoding="utf-8")
        batches.wait_seen(mod)
        batches.clear()
