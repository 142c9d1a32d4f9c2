"""Ingestion of a hand-written landing folder with one record of every bad kind."""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.lib.ingestion import ingest_landing
from dagster_project.lib.warehouse import connect_warehouse

FIXTURE = Path(__file__).parents[1] / "fixtures" / "landing_bad"
RECEIVED_AT = datetime(2026, 12, 1, tzinfo=UTC)
LONG_ID = "x" * 513

# Worked out by hand from SEMANTICS 1-2 and "which status wins": raw_ref -> (status, reason part).
EXPECTED = {
    "01-events.jsonl:1": ("ACCEPTED", None),
    "01-events.jsonl:3": ("INVALID", "unparseable JSON"),
    # Same payload, other key order and spacing: the canonical payload matches.
    "01-events.jsonl:4": ("DUPLICATE", "same id and payload"),
    "01-events.jsonl:5": ("DUPLICATE_CONFLICT", "different payload"),
    "01-events.jsonl:6": ("INVALID", "missing timestamp"),
    "01-events.jsonl:7": ("INVALID", "missing accountId"),
    "01-events.jsonl:8": ("INVALID", "missing schemaName"),
    "01-events.jsonl:9": ("INVALID", "attribute 'input_tokens' is not numeric"),
    "01-events.jsonl:10": ("INVALID", "attribute 'input_tokens' is not numeric"),
    # A bare NaN is read leniently, then refused naming the attribute (SEMANTICS 2).
    "01-events.jsonl:11": ("INVALID", "attribute 'input_tokens' is not numeric"),
    "01-events.jsonl:12": ("INVALID", "more than 1 day after received_at"),
    "01-events.jsonl:13": ("INVALID", "is not an ISO-8601 timestamp"),
    "01-events.jsonl:14": ("INVALID", "id must be a string"),
    "01-events.jsonl:15": ("INVALID", "id must be a string of 1-512"),
    "01-events.jsonl:16": ("INVALID", "not a JSON object"),
    "01-events.jsonl:17": ("ACCEPTED", None),
    "01-events.jsonl:18": ("ACCEPTED", None),
    "01-events.jsonl:19": ("DUPLICATE", "same id and payload"),  # id-less exact resend
    "01-events.jsonl:20": ("INVALID", "attribute 'input_tokens' is not numeric"),
    # The corrected resend: an INVALID record never claimed evt-012.
    "01-events.jsonl:21": ("ACCEPTED", None),
    "01-events.jsonl:22": ("ACCEPTED", None),
    "01-events.jsonl:23": ("INVALID", "dimension 'model' must be a string"),
    "01-events.jsonl:24": ("ACCEPTED", None),
    "01-events.jsonl:25": ("INVALID", "more than 12 decimal places"),
    # Duplicate wins over invalid fields (SEMANTICS, which status wins).
    "01-events.jsonl:26": ("DUPLICATE_CONFLICT", "different payload"),
    "01-events.jsonl:27": ("ACCEPTED", None),
    "01-events.jsonl:28": ("INVALID", "attributes must be a list"),
    "01-events.jsonl:29": ("INVALID", "the same attribute twice"),
    "01-events.jsonl:30": ("INVALID", "accountId must be a non-empty string"),
    "02-array.json:1": ("ACCEPTED", None),
    "02-array.json:2": ("DUPLICATE", "same id and payload"),
    "03-broken.json:0": ("INVALID", "not valid JSON"),
    "04-rows.parquet:1": ("ACCEPTED", None),
    "04-rows.parquet:2": ("INVALID", "missing timestamp"),
    # The same event as 01-events.jsonl:1, sent as a Parquet row: same canonical payload.
    "04-rows.parquet:3": ("DUPLICATE", "same id and payload"),
    "05-truncated.jsonl.gz:0": ("INVALID", "cannot read compressed file"),
    "06-wrong-schema.parquet:0": ("INVALID", "wrong Parquet schema"),
}


def build_landing(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE, landing)
    pq.write_table(
        pa.table(
            {
                "id": ["evt-201", "evt-202", "evt-001"],
                "schemaName": ["llm_call"] * 3,
                "timestamp": ["2026-11-05T08:00:00Z", None, "2026-11-03T10:15:00Z"],
                "accountId": ["acc_acme_prod"] * 3,
                "attributes": [
                    '{"input_tokens": 5}',
                    '{"input_tokens": 6}',
                    '[{"name": "input_tokens", "value": "1200", "unit": "tokens"},'
                    ' {"name": "output_tokens", "value": 350}]',
                ],
                "dimensions": [None, None, '{"model": "opus", "region": "eu"}'],
            }
        ),
        landing / "04-rows.parquet",
    )
    whole = gzip.compress(
        b'{"id": "evt-301", "schemaName": "llm_call", "timestamp": "2026-11-05T08:00:00Z",'
        b' "accountId": "acc_acme_prod", "attributes": {"input_tokens": 5}}\n' * 50
    )
    (landing / "05-truncated.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    pq.write_table(pa.table({"foo": [1], "bar": ["x"]}), landing / "06-wrong-schema.parquet")
    return landing


def records(con) -> dict[str, tuple]:
    rows = con.execute(
        "select raw_ref, ingest_status, status_reason, event_id from raw.event_records"
    ).fetchall()
    return {ref: (status, reason, event_id) for ref, status, reason, event_id in rows}


@pytest.fixture
def warehouse(tmp_path):
    con = connect_warehouse(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


def test_every_record_gets_its_hand_worked_status(tmp_path, warehouse):
    landing = build_landing(tmp_path)
    summary = ingest_landing(warehouse, landing, RECEIVED_AT)

    got = records(warehouse)
    assert set(got) == set(EXPECTED), (
        "every record exactly once, blank lines and ignored files none"
    )
    for ref, (status, reason_part) in EXPECTED.items():
        assert got[ref][0] == status, f"{ref}: {got[ref]}"
        if reason_part is None:
            assert got[ref][1] is None
        else:
            assert reason_part in got[ref][1], f"{ref}: {got[ref][1]!r}"
    assert summary.files_rejected.keys() == {
        "03-broken.json",
        "05-truncated.jsonl.gz",
        "06-wrong-schema.parquet",
    }
    assert set(summary.files_ignored) == {"README.txt"}
    assert summary.records == len(EXPECTED)


def test_ids_values_and_timestamps_are_read_exactly(tmp_path, warehouse):
    ingest_landing(warehouse, build_landing(tmp_path), RECEIVED_AT)
    rows = {
        ref: (event_id, ts, attributes, dimensions)
        for ref, event_id, ts, attributes, dimensions in warehouse.execute(
            """select raw_ref, event_id, event_timestamp, attributes, dimensions
               from raw.event_records where ingest_status = 'ACCEPTED'"""
        ).fetchall()
    }
    event_id, ts, attributes, dimensions = rows["01-events.jsonl:1"]
    assert attributes == {"input_tokens": Decimal("1200"), "output_tokens": Decimal("350")}
    assert dimensions == {"model": "opus", "region": "eu"}
    # An offset is honoured; a naive timestamp is UTC.
    assert rows["01-events.jsonl:17"][1] == datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    assert rows["01-events.jsonl:17"][2]["input_tokens"] == Decimal("2500")
    assert rows["01-events.jsonl:27"][1] == datetime(2026, 11, 3, 15, 30, tzinfo=UTC)
    # An id-less record gets an id derived from its canonical payload.
    assert rows["01-events.jsonl:18"][0].startswith("sha256:")
    # An explicit null attribute is absent; exponent notation is exact.
    assert rows["01-events.jsonl:22"][2] == {"output_tokens": Decimal("5")}
    assert rows["01-events.jsonl:24"][2] == {"input_tokens": Decimal("0.00001")}
    assert rows["04-rows.parquet:1"][2] == {"input_tokens": Decimal("5")}


def test_ingesting_the_same_files_again_adds_nothing(tmp_path, warehouse):
    landing = build_landing(tmp_path)
    ingest_landing(warehouse, landing, RECEIVED_AT)
    before = records(warehouse)
    # The same bytes again, under the same names and under a new name.
    shutil.copy(landing / "01-events.jsonl", landing / "09-copy-of-01.jsonl")
    summary = ingest_landing(warehouse, landing, datetime(2026, 12, 2, tzinfo=UTC))
    assert summary.records == 0
    assert summary.files_ingested == []
    assert records(warehouse) == before


def test_changed_content_under_a_known_name_is_a_new_file(tmp_path, warehouse):
    landing = build_landing(tmp_path)
    ingest_landing(warehouse, landing, RECEIVED_AT)
    changed = landing / "02-array.json"
    changed.write_text(
        changed.read_text().replace(
            "]\n",
            ', {"id": "evt-102", "schemaName": "llm_call", "timestamp": "2026-11-04T09:00:00Z",'
            ' "accountId": "acc_acme_prod", "attributes": {"input_tokens": 1}}]\n',
        )
    )
    import hashlib

    sha8 = hashlib.sha256(changed.read_bytes()).hexdigest()[:8]
    summary = ingest_landing(warehouse, landing, datetime(2026, 12, 2, tzinfo=UTC))
    got = records(warehouse)
    assert summary.records_by_status == {"DUPLICATE": 2, "ACCEPTED": 1}
    assert got[f"02-array.json@{sha8}:1"][0] == "DUPLICATE"
    assert got[f"02-array.json@{sha8}:2"][0] == "DUPLICATE"
    assert got[f"02-array.json@{sha8}:3"][0] == "ACCEPTED"
    assert got["02-array.json:1"][0] == "ACCEPTED"  # the first version is untouched


def test_records_are_ordered_by_file_name_then_line(tmp_path, warehouse):
    ingest_landing(warehouse, build_landing(tmp_path), RECEIVED_AT)
    refs = [
        ref
        for (ref,) in warehouse.execute(
            "select raw_ref from raw.event_records order by record_seq"
        ).fetchall()
    ]
    assert refs[0] == "01-events.jsonl:1"
    assert refs.index("02-array.json:1") > refs.index("01-events.jsonl:30")
    assert refs.index("04-rows.parquet:1") > refs.index("03-broken.json:0")
