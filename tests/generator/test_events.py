"""Generated events: deterministic, shaped as documented, and the manifest matches the files."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from dagster_project.lib.generator import Manifest, generate_catalog, generate_events

from .oracle import classify, read_catalog, read_records

START = date(2026, 11, 2)  # a Monday; the period crosses the US daylight-saving change
ALL_KINDS = {
    "clean", "exact_duplicate", "conflicting_duplicate", "unparseable", "missing_timestamp",
    "missing_account_id", "missing_schema_name", "bad_id", "bad_timestamp",
    "non_numeric_attribute", "nan_attribute", "future_timestamp", "unknown_account",
    "unknown_schema", "undeclared_attribute", "before_plan",
}  # fmt: skip


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    return generate_catalog(tmp_path_factory.mktemp("cat"), accounts=80, seed=3, start=START)


def _generate(catalog: Path, out: Path, **kw) -> Manifest:
    args = {"events": 3000, "days": 14, "seed": 9, "start": START} | kw
    return generate_events(catalog, out, **args)


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return h.hexdigest()


def _check_against_oracle(catalog: Path, out: Path, manifest: Manifest) -> list[str]:
    """Classify every record independently; compare with the manifest and planted.csv."""
    facts = read_catalog(catalog)
    as_of = datetime.fromisoformat(manifest.recommended_as_of)
    records = read_records(out / "landing")
    kinds = classify(records, facts, as_of)
    assert len(records) == manifest.records_total
    assert Counter(f for f, _, _ in records) == Counter(manifest.records_per_file)
    assert sorted(manifest.files) == manifest.files == sorted(manifest.records_per_file)
    counted = Counter(kinds)
    assert {k: v for k, v in manifest.kind_counts.items() if v} == dict(counted)
    with (out / manifest.planted_records_file).open() as fh:
        planted = {row["raw_ref"]: row for row in csv.DictReader(fh)}
    assert len(planted) == sum(v for k, v in counted.items() if k != "clean")
    for (file, n, rec), kind in zip(records, kinds, strict=True):
        row = planted.get(f"{file}:{n}")
        assert (row["kind"] if row else "clean") == kind, (file, n, rec)
        if row:
            assert row["expected_status"] == manifest.kind_expected_status[kind]
            if row["event_id"]:
                assert rec["id"] == row["event_id"]
    statuses = Counter()
    for kind, count in manifest.kind_counts.items():
        statuses[manifest.kind_expected_status[kind]] += count
    assert {k: v for k, v in statuses.items() if v} == {
        k: v for k, v in manifest.expected_status_counts.items() if v
    }
    # Clean records lie inside the period, strictly before the recommended as-of.
    lo = datetime.fromisoformat(manifest.period_start)
    hi = datetime.fromisoformat(manifest.period_end)
    for (_, _, rec), kind in zip(records, kinds, strict=True):
        if kind in ("clean", "future_timestamp"):
            ts = datetime.fromisoformat(rec["timestamp"])
            ts = ts if ts.tzinfo else ts.replace(tzinfo=lo.tzinfo)
            assert lo <= ts < hi < as_of if kind == "clean" else ts > as_of + timedelta(days=1)
    return kinds


def test_jsonl_manifest_matches_files(catalog: Path, tmp_path: Path) -> None:
    manifest = _generate(catalog, tmp_path)
    assert manifest.records_total == 3000
    kinds = _check_against_oracle(catalog, tmp_path, manifest)
    assert set(kinds) == ALL_KINDS  # every planted kind shows up at this size
    assert Manifest.load(tmp_path / "manifest.json") == manifest
    assert manifest.expected_status_counts["clean"] == 3000 - 30
    assert manifest.ingestion_decided_status_counts["INVALID"] == (
        manifest.expected_status_counts["INVALID"] - manifest.kind_counts["undeclared_attribute"]
    )


def test_parquet_manifest_matches_files(catalog: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    manifest = _generate(catalog, tmp_path, fmt="parquet", files=3, bad_share=0.02)
    assert len(manifest.files) == 3 and all(f.endswith(".parquet") for f in manifest.files)
    schema = pq.read_schema(tmp_path / "landing" / manifest.files[0])
    assert schema.names == [
        "id",
        "schemaName",
        "timestamp",
        "accountId",
        "attributes",
        "dimensions",
    ]
    assert {str(t) for t in schema.types} <= {"string", "large_string"}  # UTF-8 text
    kinds = _check_against_oracle(catalog, tmp_path, manifest)
    assert set(kinds) == ALL_KINDS - {"unparseable"}


def test_gzip_reads_back(catalog: Path, tmp_path: Path) -> None:
    manifest = _generate(catalog, tmp_path, events=800, fmt="jsonl.gz")
    assert all(f.endswith(".jsonl.gz") for f in manifest.files)
    _check_against_oracle(catalog, tmp_path, manifest)


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "parquet"])
def test_same_seed_same_bytes(catalog: Path, tmp_path: Path, fmt: str) -> None:
    for name in ("a", "b"):
        _generate(catalog, tmp_path / name, events=1500, fmt=fmt)
    _generate(catalog, tmp_path / "c", events=1500, fmt=fmt, seed=10)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b") != _digest(tmp_path / "c")


def test_realistic_shape(catalog: Path, tmp_path: Path) -> None:
    manifest = _generate(catalog, tmp_path, events=6000, bad_share=0.0)
    assert manifest.records_total == manifest.kind_counts["clean"] == 6000
    lines = [
        json.loads(line)
        for f in manifest.files
        for line in (tmp_path / "landing" / f).read_text().splitlines()
    ]
    facts = read_catalog(catalog)
    stamps = [r["timestamp"] for r in lines]
    assert any(s.endswith("Z") for s in stamps)
    assert any(s[-6] in "+-" and s[-3] == ":" for s in stamps)  # explicit offsets
    assert any(len(s) == 19 for s in stamps)  # naive, read as UTC
    shapes = Counter(type(r["attributes"]).__name__ for r in lines)
    assert shapes["list"] > 1000 and shapes["dict"] > 1000
    values = [
        a["value"] if isinstance(r["attributes"], list) else a
        for r in lines
        for a in (
            r["attributes"] if isinstance(r["attributes"], list) else r["attributes"].values()
        )
    ]
    assert any(isinstance(v, str) for v in values) and any(isinstance(v, int) for v in values)
    assert all(str(v).replace(".", "", 1).isdigit() for v in values)  # no float noise
    # Decimals keep exactly three places in the text, quoted or not ("12.500", 12.500).
    raw = "".join((tmp_path / "landing" / f).read_text() for f in manifest.files)
    gb = re.findall(r'"gb_stored"(?:,"value")?:("?)([^",}]+)\1', raw)
    assert gb and all(re.fullmatch(r"\d+\.\d{3}", v) for _, v in gb)
    assert any(r["accountId"] not in facts.coverage for r in lines)  # aliases in use
    assert sum(1 for r in lines if "id" not in r) == manifest.clean_without_id > 0
    # Heavy tail: the busiest tenth of accounts sends far more than a tenth of the events.
    per_account = sorted(Counter(facts.refs[r["accountId"]] for r in lines).values(), reverse=True)
    assert sum(per_account[: max(1, len(per_account) // 10)]) > 0.3 * len(lines)
    # Weekly rhythm: weekend days are quieter than weekdays.
    by_day = Counter(datetime.fromisoformat(s).astimezone().date() for s in stamps if len(s) > 19)
    weekend = [c for d, c in by_day.items() if d.weekday() >= 5]
    weekday = [c for d, c in by_day.items() if d.weekday() < 5]
    assert sum(weekend) / len(weekend) < 0.8 * sum(weekday) / len(weekday)


def test_other_catalog_shapes(tmp_path: Path) -> None:
    """Events follow any catalog: its schemas, attributes and filter literals."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "pricing.yaml").write_text(
        "event_schemas:\n"
        "  - name: call_minutes\n"
        "    attributes: [{name: minutes, unit: min}]\n"
        "    dimensions: [tier]\n"
        "  - name: heartbeat\n"
        "    dimensions: [host]\n"
        "usage_meters:\n"
        "  - id: gold_minutes\n"
        "    event_schema: call_minutes\n"
        "    aggregation: SUM\n"
        '    value: {"var": "attributes.minutes"}\n'
        '    filter: {"in": [{"var": "dimensions.tier"}, ["gold", "platinum"]]}\n'
        "price_plans: []\n"
    )
    (catalog / "accounts.csv").write_text(
        "account_id,customer_id,name,currency,timezone,aliases\n"
        "a1,c1,A1,USD,Asia/Kolkata,a1-legacy\n"
        "a2,c1,A2,USD,,\n"
    )
    (catalog / "plan_assignments.csv").write_text(
        "assignment_id,account_id,plan_id,effective_from,effective_until\n"
        "p1,a1,x,2026-10-01,2026-11-05\n"
        "p2,a1,x,2026-11-09,\n"
        "p3,a2,x,2026-11-04,\n"
    )
    manifest = generate_events(catalog, tmp_path, 2500, 10, 1, START, bad_share=0.02)
    kinds = _check_against_oracle(catalog, tmp_path, manifest)
    assert set(kinds) == ALL_KINDS
    text = "".join((tmp_path / "landing" / f).read_text() for f in manifest.files)
    assert '"tier":"gold"' in text and '"tier":"platinum"' in text


def test_stale_files_are_replaced_and_arguments_checked(catalog: Path, tmp_path: Path) -> None:
    first = _generate(catalog, tmp_path, events=500)
    second = _generate(catalog, tmp_path, events=500, files=2)
    assert sorted(p.name for p in (tmp_path / "landing").iterdir()) == second.files
    assert set(first.files).isdisjoint(second.files)
    with pytest.raises(ValueError):
        _generate(catalog, tmp_path, fmt="csv")
    empty = _generate(catalog, tmp_path / "empty", events=0)
    assert empty.records_total == 0 and empty.files == []
