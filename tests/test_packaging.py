"""What the wheel ships: every subpackage, resources and samples inside the package,
py.typed and the license (``.ci/run`` builds and installs the real wheel too)."""

from __future__ import annotations

import tomllib
from conftest import REPO


def _setuptools() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"]


def test_every_subpackage_is_listed() -> None:
    on_disk = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "hcride").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    listed = set(_setuptools()["packages"])
    assert on_disk <= listed, f"add to pyproject.toml's packages: {sorted(on_disk - listed)}"


def test_resources_and_samples_ship_inside_the_package() -> None:
    config = _setuptools()
    assert config["package-dir"] == {"hcride.resources": "resources", "hcride.samples": "samples"}
    data = config["package-data"]
    for name, folder in config["package-dir"].items():
        shipped = {p for pattern in data[name] for p in (REPO / folder).glob(pattern)}
        assert shipped, name
    themes = {p.name for p in (REPO / "resources" / "themes").iterdir()}
    assert {"light.json", "dark.json"} <= themes
    assert {p for p in (REPO / "samples").glob("*/*.py")} <= {
        p for pattern in data["hcride.samples"] for p in (REPO / "samples").glob(pattern)}


def test_license_and_py_typed_exist() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    for name in project["license-files"]:
        assert "MIT License" in (REPO / name).read_text(encoding="utf-8")
    assert (REPO / "hcride" / "py.typed").is_file()
    assert "py.typed" in _setuptools()["package-data"]["hcride"]
