"""An all-text Parquet file is staged as fields (no JSON document per row): every record gets
the same row in raw.event_records as through the document, and as the same events in JSONL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.lib.ingestion import ingest_landing
from dagster_project.lib.ingestion.readers import (
    _parquet_columns,
    stage_parquet_documents,
    stage_parquet_fields,
)
from dagster_project.lib.ingestion.records import classify_batch, ensure_raw_tables, prepare_batch
from dagster_project.lib.warehouse import connect_warehouse

RECEIVED_AT = datetime(2026, 12, 1, tzinfo=UTC)
COLUMNS = ("id", "schemaName", "timestamp", "accountId", "attributes", "dimensions")
TS = "2026-11-05T08:00:00Z"

# (id, timestamp, accountId, schemaName, attributes text, dimensions text): the odd corners of
# the JSON document the Parquet path builds (nulls dropped at every depth of an object, numbers
# re-printed, text that is not JSON, derived ids, escapes) next to ordinary rows.
# fmt: off
EDGE_ROWS = [
    ("e1", TS, "acc", "s", '[{"name":"tokens","value":1.50,"unit":"t"},{"name":"n","value":" 7 "}]', '{"region":"eu"}'),
    ("e2", TS, "acc", "s", '{"x": null, "y": 3, "z": 1e5}', '{"region": null, "k": "v"}'),
    ("e3", TS, "acc", "s", '{"y": {"z": null}}', None),
    ("e4", TS, "acc", "s", "abc", None),
    ("e5", TS, "acc", "s", "null", None),
    ("e6", TS, "acc", "s", "[]", "{}"),
    ("e7", TS, "acc", "s", "  [1, 2]", None),
    ("e8", TS, "acc", "s", '[{"name":"a"}]', None),
    ("e9", TS, "acc", "s", '[{"name":"a","value":1},{"name":"a","value":2}]', None),
    ("e10", TS, "acc", "s", '{"a":1,"b":[1,{"c":null}]}', None),
    ("e11", TS, "acc", "s", '{"a": 12345678901234567890123, "b": -0, "c": 0.1e-3}', None),
    ("e12", TS, "acc", "s", '{"a": 1e400}', None),
    (None, TS, "acc", "s", '{"a": 1}', None),
    (None, TS, "acc", "s", '{"a":1}', None),  # the same payload, id-less: DUPLICATE
    (None, TS, "acc", "s", '{"a": 2}', '{"k": "v"}'),
    ("", TS, "acc", "s", None, None),
    ("x" * 513, TS, "acc", "s", None, None),
    ('q"u\\o/té✓\u0001', TS, "acc", "s", '{"a": "2"}', '{"ü": "ß"}'),
    ("e13", None, "acc", "s", None, None),
    ("e14", "yesterday", "acc", "s", None, None),
    ("e15", "2026-12-05T00:00:00Z", "acc", "s", None, None),
    ("e16", "2026-11-01 00:00:00", "acc", "s", '{"a": "1.0000000000001"}', None),
    ("e17", TS, None, "s", None, None),
    ("e18", TS, "", "s", None, None),
    ("e19", TS, "acc", None, None, None),
    ("e1", TS, "acc", "s", '[{"name":"tokens","value":1.5,"unit":"t"},{"name":"n","value":" 7 "}]', '{"region":"eu"}'),
    ("e1", TS, "acc", "s", '[{"name":"tokens","value":2,"unit":"t"}]', '{"region":"eu"}'),
    ("e20", TS, "acc", "s", None, '{"k": 5}'),
    ("e21", TS, "acc", "s", None, "notjson"),
    ("e22", TS, "acc", "s", None, '{"a": {"b": null}}'),
    ("e23", TS, "acc", "s", '{"a": NaN}', None),
    ("e24", TS, "acc", "s", '{"a": " 1e3 ", "b": "-.5"}', None),
]
# fmt: on


def write_parquet(path: Path, rows: list[tuple], names: tuple[str, ...]) -> Path:
    order = ("id", "timestamp", "accountId", "schemaName", "attributes", "dimensions")
    data = {name: pa.array([row[order.index(name)] for row in rows], pa.string()) for name in names}
    pq.write_table(pa.table(data), path)
    return path


def raw_rows_staged_by(stage, path: Path, warehouse: Path) -> list[tuple]:
    con = connect_warehouse(warehouse)
    try:
        ensure_raw_tables(con)
        prepare_batch(con)
        con.execute(
            "insert into batch_files values (1, ?, 'sha', ?, 'parquet', 0, null)",
            [path.name, path.name],
        )
        stage(con, 1, path, _parquet_columns(con, path))
        classify_batch(con, RECEIVED_AT)
        return con.execute("select * from raw.event_records order by record_seq").fetchall()
    finally:
        con.close()


def test_fields_and_documents_give_the_same_raw_records(tmp_path):
    for name, columns in [
        ("all.parquet", COLUMNS),
        # Without the optional columns every id is derived from the payload.
        ("required.parquet", ("timestamp", "accountId", "schemaName")),
    ]:
        path = write_parquet(tmp_path / name, EDGE_ROWS, columns)
        by_fields = raw_rows_staged_by(stage_parquet_fields, path, tmp_path / f"f-{name}.duckdb")
        by_document = raw_rows_staged_by(
            stage_parquet_documents, path, tmp_path / f"d-{name}.duckdb"
        )
        assert len(by_fields) == len(EDGE_ROWS)
        for got, expected in zip(by_fields, by_document, strict=True):
            assert got == expected

    # A few of them worked out by hand, so the two paths cannot agree on a wrong answer.
    rows = raw_rows_staged_by(
        stage_parquet_fields,
        write_parquet(tmp_path / "again.parquet", EDGE_ROWS, COLUMNS),
        tmp_path / "again.duckdb",
    )
    by_no = {row[4]: row for row in rows}  # record_no
    status, reason, payload = 14, 15, 16
    assert by_no[1][status] == "ACCEPTED"
    assert by_no[1][12] == {"tokens": Decimal("1.5"), "n": Decimal("7")}
    assert by_no[2][12] == {"y": Decimal("3"), "z": Decimal("100000")}
    assert by_no[2][13] == {"k": "v"}
    assert by_no[4][reason] == "attributes must be a list of {name, value} or an object"
    assert by_no[4][payload] == (
        '{"id":"e4","schemaName":"s","timestamp":"2026-11-05T08:00:00Z",'
        '"accountId":"acc","attributes":"abc"}'
    )
    assert by_no[13][status] == "ACCEPTED" and by_no[13][6].startswith("sha256:")
    assert by_no[14][status] == "DUPLICATE" and by_no[14][6] == by_no[13][6]
    assert by_no[15][status] == "ACCEPTED" and by_no[15][6] != by_no[13][6]
    assert by_no[19][reason] == "missing timestamp"
    assert by_no[26][status] == "DUPLICATE"  # 1.5 is 1.50
    assert by_no[27][status] == "DUPLICATE_CONFLICT"
    assert by_no[28][reason] == "dimension 'k' must be a string"


def test_the_same_events_as_parquet_and_as_jsonl_give_the_same_raw_tables(tmp_path):
    events = [
        {
            "id": "a1",
            "schemaName": "llm_call",
            "timestamp": TS,
            "accountId": "acc_1",
            "attributes": [{"name": "tokens", "value": 1200, "unit": "tokens"}],
            "dimensions": {"model": "opus"},
        },
        {
            "id": "a2",
            "schemaName": "llm_call",
            "timestamp": TS,
            "accountId": "acc_1",
            "attributes": {"tokens": "15.25"},
        },
        {
            "schemaName": "llm_call",
            "timestamp": TS,
            "accountId": "acc_2",
            "attributes": {"tokens": 3},
        },
        {
            "schemaName": "llm_call",
            "timestamp": TS,
            "accountId": "acc_2",
            "attributes": {"tokens": 3},
        },
        {
            "id": "a1",
            "schemaName": "llm_call",
            "timestamp": TS,
            "accountId": "acc_1",
            "attributes": [{"name": "tokens", "value": 1200, "unit": "tokens"}],
            "dimensions": {"model": "opus"},
        },
        {
            "id": "a2",
            "schemaName": "llm_call",
            "timestamp": TS,
            "accountId": "acc_1",
            "attributes": {"tokens": "16"},
        },
        {"id": "a3", "schemaName": "llm_call", "accountId": "acc_1"},
        {
            "id": "a4",
            "schemaName": "llm_call",
            "timestamp": TS,
            "accountId": "acc_1",
            "attributes": {"tokens": "many"},
        },
        {
            "id": "a5",
            "schemaName": "llm_call",
            "timestamp": TS,
            "accountId": "acc_1",
            "dimensions": {"model": 4},
        },
    ]
    tables = {}
    for fmt in ("jsonl", "parquet"):
        landing = tmp_path / fmt / "landing"
        landing.mkdir(parents=True)
        if fmt == "jsonl":
            # The lines as the Parquet path's document prints them: same keys in the same order.
            lines = [json.dumps(e, separators=(",", ":"), ensure_ascii=False) for e in events]
            (landing / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            data = {
                name: pa.array(
                    [
                        None
                        if name not in e
                        else json.dumps(e[name])
                        if name in ("attributes", "dimensions")
                        else e[name]
                        for e in events
                    ],
                    pa.string(),
                )
                for name in COLUMNS
            }
            pq.write_table(pa.table(data), landing / "events.parquet")
        con = connect_warehouse(tmp_path / fmt / "warehouse.duckdb")
        try:
            ingest_landing(con, landing, RECEIVED_AT)
            tables[fmt] = con.execute(
                """select * exclude (raw_ref, source_file, received_at)
                   from raw.event_records order by record_seq"""
            ).fetchall()
        finally:
            con.close()
    assert tables["parquet"] == tables["jsonl"]
    statuses = [row[-3] for row in tables["parquet"]]
    assert statuses == [
        "ACCEPTED", "ACCEPTED", "ACCEPTED", "DUPLICATE", "DUPLICATE",
        "DUPLICATE_CONFLICT", "INVALID", "INVALID", "INVALID",
    ]  # fmt: skip
