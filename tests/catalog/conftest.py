"""Fixtures for catalog tests: a private copy of the demo catalog to break on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dagster_project.lib.catalog import DEMO_CATALOG, check_catalog


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(DEMO_CATALOG, target)
    return target


def edit(catalog_dir: Path, file: str, old: str, new: str) -> None:
    """Replace the first occurrence of `old` in one catalog file (it must be there)."""
    path = catalog_dir / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(catalog_dir: Path, file: str, line: str) -> None:
    with (catalog_dir / file).open("a", encoding="utf-8") as handle:
        handle.write(line.rstrip("\n") + "\n")


def messages(catalog_dir: Path) -> list[str]:
    return [str(problem) for problem in check_catalog(catalog_dir)]
