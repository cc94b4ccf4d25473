"""Run by ``.ci/run`` with the interpreter of a venv where the wheel was installed
(not editable), from a folder outside the checkout: the installed IDE finds its themes,
icons and samples (offscreen), and ships py.typed and its license."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import hcride  # noqa: E402

package = Path(hcride.__file__).resolve().parent
checkout = Path(sys.argv[1]).resolve()
assert checkout not in package.parents, f"hcride imported from the checkout: {package}"
assert "site-packages" in package.parts, package
assert (package / "py.typed").is_file(), "py.typed missing"
assert "MIT License" in (package / "LICENSE").read_text(), "LICENSE missing"

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from hcride.bundled import resources_dir, sample_names, samples_dir, writable_sample  # noqa: E402
from hcride.ide.app import create_window  # noqa: E402
from hcride.ide.resources import icon, theme_data  # noqa: E402
from hcride.ide.theme import load_theme  # noqa: E402

assert resources_dir() == package / "resources", resources_dir()
assert samples_dir() == package / "samples", samples_dir()
app = QApplication([])
for name in ("run", "stop", "reload", "save", "hcride"):
    assert not icon(name).isNull(), f"icon {name} missing"
light, dark = theme_data("light"), theme_data("dark")
assert light and dark and light != dark, "themes missing"
dark_theme, light_theme = load_theme("dark"), load_theme("light")
assert dark_theme.palette and dark_theme.palette != light_theme.palette, "dark theme is empty"
assert dark_theme.editor and dark_theme.editor != light_theme.editor, "no syntax colours"
assert {"bouncing", "counter"} <= set(sample_names()), sample_names()
with tempfile.TemporaryDirectory() as home:
    folder, copied = writable_sample("bouncing", Path(home))
    assert copied and folder == Path(home) / "bouncing" and (folder / "logic.py").is_file()
    settings = QSettings(str(Path(home) / "s.ini"), QSettings.Format.IniFormat)
    window = create_window(None, folder / "logic.py", settings=settings)
    assert window.project == folder.resolve(), window.project
    editor = window.editor()
    assert editor is not None and editor.path == (folder / "logic.py").resolve()
    window.close()
print("installed wheel: themes, icons, samples, py.typed and LICENSE found in", package)
