"""The billing code as one hash: stored beside what it computed, so a new release computes
it again (billing.priced_accounts, billing.invoice_period_layouts, catalog.loaded_catalog)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import dagster_project.lib
import rule_engine


@cache
def code_version() -> str:
    """sha256 of every .py file of dagster_project/lib and rule_engine, with its path."""
    digest = hashlib.sha256()
    for root in (Path(dagster_project.lib.__file__).parent, Path(rule_engine.__file__).parent):
        for path in sorted(root.rglob("*.py")):
            digest.update(path.relative_to(root.parent).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
