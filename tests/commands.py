"""The `tallyhouse run` command line, for tests that need a real child process (crashes,
kills, exit statuses): one spelling of it for every such test."""

from __future__ import annotations

import sys
from pathlib import Path


def tallyhouse_run(catalog: Path, landing: Path, warehouse: Path, as_of: str) -> list[str]:
    """`tallyhouse run` with this interpreter, so the child imports the tree under test."""
    return [
        sys.executable,
        "-m",
        "dagster_project.cli",
        "run",
        "--catalog",
        str(catalog),
        "--landing",
        str(landing),
        "--warehouse",
        str(warehouse),
        "--as-of",
        as_of,
    ]
