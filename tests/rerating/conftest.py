from __future__ import annotations

import pytest

from tests.orchestration.conftest import TinyWarehouse, billed_tiny


@pytest.fixture(scope="session")
def tiny_billed(tmp_path_factory) -> TinyWarehouse:
    return billed_tiny(tmp_path_factory)
