"""The run's clock does not cost a parse: every night sets a new TALLYHOUSE_AS_OF, and dbt parses
again any file that read an env var while it was parsed (the `run_clock` macro reads it only
when the model runs)."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import dbt_ok


def _parse(target: Path, as_of: str) -> list[dict]:
    """`dbt parse` into target with the given clock: dbt's JSON log events."""
    done = dbt_ok(
        "--log-format",
        "json",
        "--log-level",
        "debug",
        "parse",
        "--target-path",
        str(target),
        TALLYHOUSE_AS_OF=as_of,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _partial_parse_message(events: list[dict]) -> str:
    [message] = [e["info"]["msg"] for e in events if e["info"]["name"] == "PartialParsingEnabled"]
    return message


def test_a_new_clock_parses_nothing_again_and_the_model_still_reads_it(tmp_path):
    target = tmp_path / "target"
    _parse(target, "2026-12-02T00:00:00Z")
    events = _parse(target, "2026-12-03T00:00:00Z")
    # A file that read the clock while parsed would be listed as changed and parsed again.
    assert _partial_parse_message(events).endswith("0 files changed.")
    assert not [e for e in events if e["info"]["name"] == "PartialParsingFile"]

    # ...and the clock reaches the model when it runs (compiles), not the parse's.
    dbt_ok(
        "compile",
        "--select",
        "int_invoices",
        "--target-path",
        str(target),
        # Its own file: the profile's default is the demo's warehouse in the repository.
        TALLYHOUSE_WAREHOUSE=str(tmp_path / "warehouse.duckdb"),
        TALLYHOUSE_AS_OF="2026-12-04T00:00:00Z",
    )
    [compiled] = (target / "compiled").rglob("int_invoices.sql")
    assert "cast('2026-12-04T00:00:00Z' as timestamptz)" in compiled.read_text()
