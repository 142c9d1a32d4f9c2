"""Ingestion in groups of files (bounded memory), each group its own transaction, gives the
statuses of one pass; a fault keeps the groups before it, whole, and the next run goes on."""

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


def test_jsonl_blocks_are_not_held_until_the_group_commits(tmp_path, warehouse, monkeypatch):
    """A group of files is one transaction; each JSONL block must be freed once it is staged,
    not kept alive by DuckDB until commit (a registered Arrow table is: 2.4 GiB beyond the
    memory limit at 10M JSONL.gz records)."""
    import pyarrow as pa

    from dagster_project.lib.ingestion import readers

    monkeypatch.setattr(readers, "READ_BLOCK_BYTES", 64 << 10)
    landing = tmp_path / "landing"
    landing.mkdir()
    line = '{"id": "evt-%07d", "timestamp": "2026-11-02T10:00:00Z", "accountId": "acc_1", '
    line += '"schemaName": "api_request", "attributes": {"pad": "' + "x" * 150 + '"}}\n'
    (landing / "events-a.jsonl").write_text("".join(line % n for n in range(20_000)))
    block_bytes = []
    staged_arrow = []
    read_blocks, classify_batch = readers.iter_jsonl_blocks, ingestion.classify_batch

    def counted(path, compressed):
        for table in read_blocks(path, compressed):
            block_bytes.append(table.nbytes)
            yield table

    def classify(con, received_at):  # runs inside the group's transaction, after staging
        staged_arrow.append(pa.total_allocated_bytes())
        classify_batch(con, received_at)

    monkeypatch.setattr(readers, "iter_jsonl_blocks", counted)
    monkeypatch.setattr(ingestion, "classify_batch", classify)
    summary = ingest_landing(warehouse, landing, RECEIVED_AT)

    assert summary.records == 20_000
    assert len(block_bytes) > 40  # the file was read in many blocks
    # At most the last block may still be alive; all of them would be > 40 blocks' bytes.
    assert staged_arrow[0] <= 2 * max(block_bytes)


def test_each_group_commits_before_the_next_is_staged(tmp_path, warehouse, monkeypatch):
    """One transaction for the whole batch kept every group's replaced staging tables until
    it ended (at 100M records, ~1.5 GB of spill a group). Another connection sees each
    group's files and records committed while the next group is being classified."""
    monkeypatch.setattr(ingestion, "GROUP_BYTES", 1)
    landing = build_landing(tmp_path)
    observer = warehouse.cursor()  # its own connection: it sees committed rows only
    seen = []
    classify_batch = ingestion.classify_batch

    def classify(con, received_at):
        seen.append(
            observer.execute(
                "select (select count(*) from raw.landing_files), "
                "(select count(*) from raw.event_records)"
            ).fetchall()[0]
        )
        classify_batch(con, received_at)

    monkeypatch.setattr(ingestion, "classify_batch", classify)
    ingest_landing(warehouse, landing, RECEIVED_AT)

    # A file rejected whole is one record of its own (record_no 0).
    per_file = dict(
        warehouse.execute("select file_seq, count(*) from raw.event_records group by 1").fetchall()
    )
    assert len(per_file) == 6
    assert seen == [(k, sum(per_file[f] for f in range(1, k + 1))) for k in range(6)]


def test_a_fault_keeps_the_groups_before_it_and_the_next_run_gives_one_pass(
    tmp_path, warehouse, monkeypatch
):
    monkeypatch.setattr(ingestion, "GROUP_BYTES", 1)
    landing = build_landing(tmp_path)
    names = [f.name for f in ingestion.discover_landing_files(landing)[0]]
    stage = ingestion.stage_landing_files

    def fail_on_fourth(con, files):
        if any(landing_file.name == names[3] for _, landing_file in files):
            raise OSError("disk full")  # a fault outside the file, not a broken file
        return stage(con, files)

    monkeypatch.setattr(ingestion, "stage_landing_files", fail_on_fourth)
    with pytest.raises(OSError, match="disk full"):
        ingest_landing(warehouse, landing, RECEIVED_AT)

    # The first three files are in, whole; nothing of the fourth or later.
    committed = warehouse.execute("select file_name from raw.landing_files order by 1")
    assert [name for (name,) in committed.fetchall()] == names[:3]
    assert warehouse.execute(
        "select count(*), count(distinct file_seq), max(file_seq) from raw.event_records"
    ).fetchall() == [(32, 3, 3)]  # 29 + 2 records, and the third file, rejected whole

    monkeypatch.setattr(ingestion, "stage_landing_files", stage)
    summary = ingest_landing(warehouse, landing, RECEIVED_AT)
    assert summary.files_already_ingested == names[:3]
    assert sorted(summary.files_ingested + list(summary.files_rejected)) == sorted(names[3:])
    got = records(warehouse)
    assert {ref: status for ref, (status, _, _) in got.items()} == {
        ref: status for ref, (status, _) in EXPECTED.items()
    }
    ordered = warehouse.execute(
        "select file_seq, record_no from raw.event_records order by record_seq"
    ).fetchall()
    assert ordered == sorted(ordered)
