"""Parquet rows become the same JSON documents as JSONL lines: the odd corners of that
document (nulls dropped at every depth of an object, numbers re-printed, text that is not
JSON, derived ids), and the same events as Parquet and as JSONL give the same raw table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.lib.ingestion import ingest_landing
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


def ingested(landing: Path, warehouse: Path) -> list[tuple]:
    con = connect_warehouse(warehouse)
    try:
        ingest_landing(con, landing, RECEIVED_AT)
        return con.execute("select * from raw.event_records order by record_seq").fetchall()
    finally:
        con.close()


def test_odd_parquet_rows_get_their_hand_worked_records(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    write_parquet(landing / "all.parquet", EDGE_ROWS, COLUMNS)
    rows = ingested(landing, tmp_path / "warehouse.duckdb")
    assert len(rows) == len(EDGE_ROWS)
    by_no = {row[4]: row for row in rows}  # record_no
    event_id, attributes, dimensions, status, reason, payload = 6, 12, 13, 14, 15, 16
    assert by_no[1][status] == "ACCEPTED"
    assert by_no[1][attributes] == {"tokens": Decimal("1.5"), "n": Decimal("7")}
    # A null member is dropped with the document's other nulls: absent, not an error.
    assert by_no[2][attributes] == {"y": Decimal("3"), "z": Decimal("100000")}
    assert by_no[2][dimensions] == {"k": "v"}
    assert by_no[3][reason] == "attribute 'y' must be a number or a numeric string"
    assert by_no[4][reason] == "attributes must be a list of {name, value} or an object"
    assert by_no[4][payload] == (
        '{"id":"e4","schemaName":"s","timestamp":"2026-11-05T08:00:00Z",'
        '"accountId":"acc","attributes":"abc"}'
    )
    assert by_no[6][status] == "ACCEPTED" and by_no[6][attributes] == {}
    assert by_no[8][status] == "ACCEPTED" and by_no[8][attributes] == {}  # no value: absent
    assert by_no[9][reason] == "attributes name the same attribute twice"
    assert by_no[11][attributes] == {
        "a": Decimal("12345678901234567890123"),
        "b": Decimal("0"),
        "c": Decimal("0.0001"),
    }
    assert by_no[13][status] == "ACCEPTED" and by_no[13][event_id].startswith("sha256:")
    assert by_no[14][status] == "DUPLICATE" and by_no[14][event_id] == by_no[13][event_id]
    assert by_no[15][status] == "ACCEPTED" and by_no[15][event_id] != by_no[13][event_id]
    assert by_no[16][reason] == "id must be a string of 1-512 characters"
    assert by_no[18][status] == "ACCEPTED" and by_no[18][event_id] == 'q"u\\o/té✓\u0001'
    assert by_no[19][reason] == "missing timestamp"
    assert by_no[26][status] == "DUPLICATE"  # 1.5 is 1.50
    assert by_no[27][status] == "DUPLICATE_CONFLICT"
    assert by_no[28][reason] == "dimension 'k' must be a string"
    assert by_no[29][reason] == "dimensions must be an object of strings"


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


# A JSON object naming a key twice is ambiguous (and cannot be a MAP): that one record is
# INVALID naming the key, and its neighbours in the same batch are ingested as ever.
# (record, expected status, expected reason) in file order.
HEAD = f'"schemaName":"s","timestamp":"{TS}","accountId":"a"'
# fmt: off
REPEATED_KEY_LINES = [
    ('{"id":"k1",' + HEAD + ',"attributes":{"tokens":5}}',
     "ACCEPTED", None),
    ('{"id":"k2",' + HEAD + ',"attributes":{"a":1,"b":3,"a":2}}',
     "INVALID", "attribute 'a' appears twice"),
    ('{"id":"k3",' + HEAD + ',"dimensions":{"k":"x","m":"y","m":"z"}}',
     "INVALID", "dimension 'm' appears twice"),
    # Id-less: its derived id's canonical payload must not stop the batch either.
    ('{' + HEAD + ',"attributes":{"n":1,"n":1}}',
     "INVALID", "attribute 'n' appears twice"),
    ('{"id":"k4","id":"k5",' + HEAD + '}',
     "INVALID", "key 'id' appears twice"),
    ('{"id":"k6",' + HEAD + ',"attributes":{"tokens":"2.5"},"dimensions":{"k":"v"}}',
     "ACCEPTED", None),
    # An unknown field is not read: a key twice inside it is kept as sent, not an error.
    ('{"id":"k7",' + HEAD + ',"note":{"x":1,"x":2}}',
     "ACCEPTED", None),
]
# fmt: on


def test_a_record_naming_a_key_twice_is_one_invalid_record_in_jsonl(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "events.jsonl").write_text(
        "".join(line + "\n" for line, _, _ in REPEATED_KEY_LINES), encoding="utf-8"
    )
    rows = ingested(landing, tmp_path / "warehouse.duckdb")
    assert [(row[14], row[15]) for row in rows] == [(s, r) for _, s, r in REPEATED_KEY_LINES]
    # The bad records are kept as sent, to show what was wrong.
    assert rows[1][16] == REPEATED_KEY_LINES[1][0]
    assert rows[0][12] == {"tokens": Decimal("5")}
    assert (rows[5][12], rows[5][13]) == ({"tokens": Decimal("2.5")}, {"k": "v"})


def test_a_parquet_row_naming_an_attribute_or_dimension_twice_is_one_invalid_record(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    rows_in = [
        ("p1", TS, "acc", "s", '{"a": 1}', None),
        ("p2", TS, "acc", "s", '{"a": 1, "a": 2}', None),
        ("p3", TS, "acc", "s", None, '{"k": "x", "k": "y"}'),
        (None, TS, "acc", "s", '{"b": 1, "b": 2}', None),
        ("p4", TS, "acc", "s", '{"a": 3}', '{"k": "v"}'),
    ]
    write_parquet(landing / "events.parquet", rows_in, COLUMNS)
    rows = ingested(landing, tmp_path / "warehouse.duckdb")
    assert [(row[14], row[15]) for row in rows] == [
        ("ACCEPTED", None),
        ("INVALID", "attribute 'a' appears twice"),
        ("INVALID", "dimension 'k' appears twice"),
        ("INVALID", "attribute 'b' appears twice"),
        ("ACCEPTED", None),
    ]
    assert rows[0][12] == {"a": Decimal("1")}
    assert (rows[4][12], rows[4][13]) == ({"a": Decimal("3")}, {"k": "v"})


# Attribute values of every JSON number type and numeric text, at the edges of what an exact
# DECIMAL(38, 12) holds: 26 integer digits, 12 places. JSON integers skip the text checks
# (records.py), so these prove the shortcut takes no number it should refuse.
# fmt: off
NUMBER_LINES = [
    ('18446744073709551615', "ACCEPTED", Decimal("18446744073709551615")),  # UBIGINT
    ('-9223372036854775808', "ACCEPTED", Decimal("-9223372036854775808")),  # BIGINT
    ('12345678901234567890123456', "ACCEPTED", Decimal("12345678901234567890123456")),
    ('123456789012345678901234567', "INVALID",
     "attribute 'n' is out of range: \"123456789012345678901234567\""),
    ('1.000000000001', "ACCEPTED", Decimal("1.000000000001")),
    ('1.0000000000001', "INVALID",
     "attribute 'n' has more than 12 decimal places: \"1.0000000000001\""),
    ('"0.0000000000001"', "INVALID",
     "attribute 'n' has more than 12 decimal places: \"0.0000000000001\""),
    ('2.5e3', "ACCEPTED", Decimal("2500")),
    ('" 42 "', "ACCEPTED", Decimal("42")),
    ('"4 2"', "INVALID", "attribute 'n' is not numeric: \"4 2\""),
]
# fmt: on


def test_attribute_numbers_of_every_json_type_are_exact_or_named(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "events.jsonl").write_text(
        "".join(
            f'{{"id":"n{i}",{HEAD},"attributes":{{"n":{value}}}}}\n'
            for i, (value, _, _) in enumerate(NUMBER_LINES)
        ),
        encoding="utf-8",
    )
    rows = ingested(landing, tmp_path / "warehouse.duckdb")
    got = [(row[14], row[12]["n"] if row[14] == "ACCEPTED" else row[15]) for row in rows]
    assert got == [(status, outcome) for _, status, outcome in NUMBER_LINES]


def test_a_parquet_file_whose_pages_cannot_be_read_is_rejected_whole_beside_its_group(tmp_path):
    # Its footer reads (the schema check passes); its pages do not. Files of one schema are
    # read together, so the fault first fails the statement that reads all three.
    landing = tmp_path / "landing"
    landing.mkdir()
    write_parquet(landing / "a.parquet", [("a1", TS, "acc", "s", '{"a": 1}', None)], COLUMNS)
    broken = write_parquet(
        landing / "b.parquet",
        [(f"b{i}", TS, "acc", "s", f'{{"a": {i}}}', None) for i in range(2000)],
        COLUMNS,
    )
    body = bytearray(broken.read_bytes())
    body[len(body) // 10 : len(body) // 2] = b"\xab" * (len(body) // 2 - len(body) // 10)
    broken.write_bytes(bytes(body))
    write_parquet(landing / "c.parquet", [("c1", TS, "acc", "s", '{"a": 3}', None)], COLUMNS)

    rows = ingested(landing, tmp_path / "warehouse.duckdb")
    assert [(row[1], row[14]) for row in rows] == [
        ("a.parquet:1", "ACCEPTED"),
        ("b.parquet:0", "INVALID"),
        ("c.parquet:1", "ACCEPTED"),
    ]
    assert rows[1][15].startswith("b.parquet: not a readable Parquet file: ")
    assert (rows[0][12], rows[2][12]) == ({"a": Decimal("1")}, {"a": Decimal("3")})
