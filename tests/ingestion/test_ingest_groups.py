"""Ingestion in groups of files (bounded memory) gives the statuses of one pass."""

from __future__ import annotations

import pytest

import dagster_project.lib.ingestion as ingestion
from dagster_project.lib.ingestion import ingest_landing
from dagster_project.lib.warehouse import connect_warehouse
from tests.ingestion.test_ingest_fixture import EXPECTED, RECEIVED_AT, build_landing, records


@pytest.fixture
def warehouse(tmp_path):
    con = connect_warehouse(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


def test_one_file_per_group_gives_the_hand_worked_statuses(tmp_path, warehouse, monkeypatch):
    # Every file its own group: the duplicates across files (02-array.json:2 and
    # 04-rows.parquet:3 repeat events of 01-events.jsonl) must still be found.
    monkeypatch.setattr(ingestion, "GROUP_BYTES", 1)
    landing = build_landing(tmp_path)
    files, _ = ingestion.discover_landing_files(landing)
    assert len(ingestion._file_groups([(n, (f, f.name)) for n, f in enumerate(files)])) == 6
    summary = ingest_landing(warehouse, landing, RECEIVED_AT)

    got = records(warehouse)
    assert {ref: status for ref, (status, _, _) in got.items()} == {
        ref: status for ref, (status, _) in EXPECTED.items()
    }
    assert summary.records == len(EXPECTED)
    # Receipt order runs across groups: file order, then line order.
    ordered = warehouse.execute(
        "select file_seq, record_no from raw.event_records order by record_seq"
    ).fetchall()
    assert ordered == sorted(ordered)
    assert [
        n
        for (n,) in warehouse.execute(
            "select records from raw.landing_files order by file_seq"
        ).fetchall()
    ] == [29, 2, 0, 3, 0, 0]
