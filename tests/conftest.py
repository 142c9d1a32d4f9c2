"""Test-wide environment: the venv's executables (dagster-dbt calls `dbt`) and a throwaway
Dagster instance, whichever way pytest is started."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

VENV_BIN = Path(__file__).resolve().parents[1] / ".venv" / "bin"


@pytest.fixture(scope="session", autouse=True)
def project_environment(tmp_path_factory):
    os.environ["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"
    os.environ["DAGSTER_HOME"] = str(tmp_path_factory.mktemp("dagster_home"))
    yield
