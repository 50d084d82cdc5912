"""Item 5 (the fast half): every data file under the packages matches a package-data pattern
of pyproject.toml, so `pip install .` (not editable) ships it. tools/check_wheel.sh builds and
runs the real wheel in CI."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "flows", "services", "storage", "scheduler")
NOT_SHIPPED = {".py", ".pyc"}


def glob_match(relative: str, pattern: str) -> bool:
    """As setuptools globs: '*' stays within one folder."""
    parts, wanted = relative.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(map(fnmatch, parts, wanted))


def packages_of(path: Path) -> list[Path]:
    """The directories setuptools may take the file's pattern from: every enclosing package
    (namespace packages count; a folder like 'ahaus.d' is no package, only data)."""
    found, folder = [], path.parent
    while folder != ROOT:
        if folder.name.isidentifier():
            found.append(folder)
        folder = folder.parent
    return found


def test_every_data_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns: dict[str, list[str]] = config["package-data"]
    missing = []
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file() or path.suffix in NOT_SHIPPED or "__pycache__" in path.parts:
                continue
            if not any(
                glob_match(path.relative_to(package).as_posix(), pattern)
                for package in packages_of(path)
                for pattern in patterns.get("*", [])
                + patterns.get(".".join(package.relative_to(ROOT).parts), [])
            ):
                missing.append(path.relative_to(ROOT).as_posix())
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
    assert any(path.match("services/cities/ahaus.d/*.toml") for path in ROOT.glob("services/**/*"))
