"""What is reloadable and what is pending: the main script, venvs, hcride itself,
content hashes, snapshots, deleted files, polling without the CLI (semantics.md)."""

from __future__ import annotations

import shutil

from conftest import REPO, launcher_cmd


def test_reloadable_modules_exclude_main_venvs_site_packages_and_outside(start) -> None:
    files = {
        "logic.py": "x = 1\n",
        "pkg/__init__.py": "",
        "pkg/sub.py": "from . import helper\n",
        "pkg/helper.py": "y = 1\n",
        ".venv/pyvenv.cfg": "home = /usr/bin\n",
        ".venv/lib/site-packages/vendored.py": "z = 1\n",
        "env/pyvenv.cfg": "home = /usr/bin\n",
        "env/lib/inenv.py": "z = 1\n",
        "site-packages/other.py": "z = 1\n",
    }
    prelude = """
    import sys
    for _p in (".venv/lib/site-packages", "env/lib", "site-packages"):
        sys.path.append(_p)
    import json
    import logic, pkg.sub, vendored, inenv, other
    """
    prog = start(files, prelude)
    names = set(prog.modules())
    assert {"__main__", "logic", "pkg", "pkg.sub", "pkg.helper"} <= names
    assert not names & {"vendored", "inenv", "other", "json"}
    assert not any(n.startswith("hcride") for n in names)
    assert prog.modules()["__main__"]["state"] == "main"
    for rel in ("site-packages/other.py", "env/lib/inenv.py", ".venv/lib/site-packages/vendored.py"):
        prog.write(rel, "z = 2\nw = 3\n")
    prog.write("pkg/helper.py", "y = 1\nnew = 2\n")
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["pkg.helper"], result
    assert prog.eval("[pkg.helper.new, hasattr(other, 'w'), hasattr(inenv, 'w')]") == [
        2, False, False,
    ]


def test_hcride_itself_is_never_reloadable(start, tmp_path) -> None:
    # A project folder that contains hcride's own sources (hacking on hcride).
    main = tmp_path / "elsewhere"
    prog = start(root=main, cmd=launcher_cmd(main, extra=("--project", str(REPO))))
    names = set(prog.modules())
    assert not any(n.startswith("hcride") for n in names), names
    assert prog.eval("__import__('hcride.runtime.bootstrap', fromlist=['x']).get_engine()"
                     ".is_reloadable_file(__import__('pathlib').Path(hcr.__file__))") is False


def test_main_script_change_means_restart_needed_and_program_runs_on(start) -> None:
    prog = start({"logic.py": "def f():\n    return 1\n"}, "import logic")
    main = prog.root / "main.py"
    main.write_text(main.read_text() + "\n# edited\n")
    prog.write("logic.py", "def f():\n    return 2\n")
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["logic"], result
    assert result["restart_needed"] == [str(main)]
    assert prog.eval("logic.f()") == 2  # the program runs on
    assert "restart needed" in prog.wait_stderr("restart needed")
    assert prog.modules()["__main__"]["state"] == "restart_needed"
    # Reported once.
    assert prog.reload()["restart_needed"] == []


def test_snapshot_read_once_save_during_reload_is_next_version(start) -> None:
    """A save that lands while a batch applies does not mix into it: the batch applies
    the version read at its start; the later save is the next pending version."""
    v1 = """
    from hcride import hotcodereloading as hcr


    def f():
        return 1


    @hcr.before_code_reload
    def save_lands_now():
        import pathlib
        path = pathlib.Path(__file__)
        text = path.read_text()
        if "return 2" in text:
            path.write_text(text.replace("return 2", "return 3"))
    """
    prog = start({"logic.py": v1}, "import logic")
    prog.write("logic.py", v1.replace("return 1", "return 2"))
    result = prog.reload()
    assert result["ok"] and result["reloaded"] == ["logic"], result
    assert prog.eval("logic.f()") == 2
    assert "return 3" in (prog.root / "logic.py").read_text()
    assert prog.changed() is True
    assert prog.reload()["reloaded"] == ["logic"]
    assert prog.eval("logic.f()") == 3


def test_deleted_or_unreadable_file_reported_once_old_code_runs(start) -> None:
    prog = start({"gone.py": "def f():\n    return 'gone v1'\n",
                  "dir.py": "def f():\n    return 'dir v1'\n"}, "import gone, dir")
    (prog.root / "gone.py").unlink()
    result = prog.reload()
    assert not result["ok"], result
    [rej] = result["rejected"]
    assert rej["module"] == "gone" and rej["kind"] == "unreadable"
    assert "gone.py" in rej["message"]
    assert prog.eval("gone.f()") == "gone v1"
    assert prog.reload()["rejected"] == []  # once
    assert prog.changed() is False
    # Unreadable (a folder where the file was), found by a polling program first:
    # has_any_module_changed() says so once, and the next reload reports it.
    (prog.root / "dir.py").unlink()
    (prog.root / "dir.py").mkdir()
    assert prog.changed() is True
    result = prog.reload()
    assert [r["module"] for r in result["rejected"]] == ["dir"], result
    assert prog.changed() is False
    assert prog.reload()["rejected"] == []
    assert prog.eval("dir.f()") == "dir v1"
    # Back again, with new content: applies.
    (prog.root / "dir.py").rmdir()
    prog.write("dir.py", "def f():\n    return 'dir v2'\n")
    prog.write("gone.py", "def f():\n    return 'gone v2'\n")
    result = prog.reload()
    assert result["ok"] and sorted(result["reloaded"]) == ["dir", "gone"], result
    assert prog.eval("[gone.f(), dir.f()]") == ["gone v2", "dir v2"]


def test_polling_without_the_cli(start) -> None:
    """A plain ``python main.py`` using the API; the module was imported before the API
    (adopted, not loaded by the engine)."""
    prog = start({"logic.py": "def f():\n    return 1\n"}, before_api="import logic",
                 plain=True)
    assert prog.changed() is False
    prog.write("logic.py", "def f():\n    return 2\n")
    assert prog.exec("""
        _result = []
        while not hcr.has_any_module_changed():
            pass
        _result.append(hcr.perform_code_reload().reloaded)
        _result.append(logic.f())
        _result.append(hcr.has_any_module_changed())
    """) == [["logic"], 2, False]
    assert prog.modules()["logic"]["version"] == 2
    assert "Traceback" not in prog.stderr


def test_nothing_pending_is_ok_empty_and_quiet(start) -> None:
    prog = start({"logic.py": "x = 1\n"}, "import logic")
    for _ in range(3):
        result = prog.reload()
        assert result["ok"] and result["reloaded"] == [] and result["rejected"] == []
        assert result["error"] is None and result["status"] == "empty"
    assert "hcride:" not in prog.stderr


def test_copy_of_project_module_outside_project_not_tracked(start, tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "ext.py").write_text("v = 1\n")
    prog = start({}, f"import sys\nsys.path.append({str(outside)!r})\nimport ext")
    assert "ext" not in prog.modules()
    shutil.copy(outside / "ext.py", prog.root / "copy_of_ext.py")
    assert prog.changed() is False


def test_a_file_imported_under_two_names_is_seen_for_both(start) -> None:
    """A script run from inside its package imports ``util`` and ``shop.util``: one file,
    two modules. A save is seen (and applied) for both, polling without a controller."""
    files = {"shop/__init__.py": "", "shop/util.py": "def price():\n    return 1\n"}
    prog = start(files, "import os, sys\nsys.path.insert(0, os.path.join(os.path.dirname("
                        "os.path.abspath(__file__)), 'shop'))\nimport util, shop.util")
    assert prog.changed() is False
    prog.write("shop/util.py", "def price():\n    return 2\n")
    assert prog.changed() is True
    result = prog.reload()
    assert result["ok"] and sorted(result["reloaded"]) == ["shop.util", "util"], result
    assert prog.eval("[util.price(), shop.util.price()]") == [2, 2]


def test_saving_a_refused_file_back_says_so_without_a_controller(start) -> None:
    """``hcride run`` alone: a refused version saved back to the running text is told on
    stderr, as ``--watch`` and the IDE tell it, and nothing is pending."""
    src = "from dataclasses import dataclass\n\n\n@dataclass\nclass C:\n    x: int = 0\n"
    prog = start({"logic.py": src}, "import logic")
    prog.write("logic.py", src + "    y: int = 1\n")
    assert prog.reload()["status"] == "rejected"
    prog.write("logic.py", src)
    assert prog.changed() is False
    prog.wait_stderr("hcride: logic: back to the running version (nothing to reload)")
