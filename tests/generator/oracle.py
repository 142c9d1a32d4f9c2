"""Independent reading of a generated landing folder: classifies every record from its content.

Uses only json/csv/yaml/pyarrow and the docs/semantics.md precedence, never the generator's
or the pipeline's code, so it can check the generator's manifest.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml


@dataclass
class CatalogFacts:
    schemas: dict[str, set[str]]  # schema -> declared attribute names
    refs: dict[str, str]  # account id or alias -> account id
    coverage: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)


def read_catalog(catalog: Path) -> CatalogFacts:
    pricing = yaml.safe_load((catalog / "pricing.yaml").read_text())
    schemas = {
        s["name"]: {a["name"] if isinstance(a, dict) else a for a in s.get("attributes") or []}
        for s in pricing["event_schemas"]
    }
    refs: dict[str, str] = {}
    tz: dict[str, ZoneInfo] = {}
    with (catalog / "accounts.csv").open() as fh:
        for row in csv.DictReader(fh):
            refs[row["account_id"]] = row["account_id"]
            tz[row["account_id"]] = ZoneInfo(row["timezone"] or "UTC")
            for alias in filter(None, (row["aliases"] or "").split(";")):
                refs[alias] = row["account_id"]
    coverage: dict[str, list[tuple[datetime, datetime]]] = {}
    with (catalog / "plan_assignments.csv").open() as fh:
        for row in csv.DictReader(fh):
            zone = tz[row["account_id"]]
            lo = datetime.combine(
                date.fromisoformat(row["effective_from"]), datetime.min.time(), zone
            )
            hi = (
                datetime.combine(
                    date.fromisoformat(row["effective_until"]) + timedelta(days=1),
                    datetime.min.time(),
                    zone,
                )
                if row["effective_until"]
                else datetime.max.replace(tzinfo=UTC)
            )
            coverage.setdefault(row["account_id"], []).append((lo, hi))
    return CatalogFacts(schemas, refs, coverage)


def read_records(landing: Path) -> list[tuple[str, int, object]]:
    """(file, 1-based line/row, parsed record or None if unparseable), in ingestion order."""
    out: list[tuple[str, int, object]] = []
    for path in sorted(landing.iterdir()):
        if path.name.startswith(".") or path.name.endswith((".tmp", ".partial")):
            continue
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            for n, row in enumerate(pq.read_table(path).to_pylist(), start=1):
                rec = {k: v for k, v in row.items() if v is not None}
                for col in ("attributes", "dimensions"):
                    if col in rec:
                        rec[col] = json.loads(rec[col])
                out.append((path.name, n, rec))
            continue
        if path.name.endswith(".gz"):
            import gzip

            text = gzip.decompress(path.read_bytes()).decode()
        else:
            text = path.read_text()
        for n, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                rec = None
            out.append((path.name, n, rec if isinstance(rec, dict) else None))
    return out


def _attributes(rec: dict) -> dict[str, object]:
    attrs = rec.get("attributes") or {}
    if isinstance(attrs, list):
        return {a["name"]: a.get("value") for a in attrs}
    return dict(attrs)


def _timestamp(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)  # naive is UTC


def classify(records, facts: CatalogFacts, as_of: datetime) -> list[str]:
    """One kind per record, decided in the pipeline's precedence order."""
    claimed: dict[str, str] = {}
    kinds = []
    for _file, _n, rec in records:
        if rec is None:
            kinds.append("unparseable")
            continue
        canonical = json.dumps(rec, sort_keys=True, separators=(",", ":"))
        rid = rec.get("id", hashlib.sha256(canonical.encode()).hexdigest())
        if isinstance(rid, str) and rid in claimed:
            kinds.append(
                "exact_duplicate" if claimed[rid] == canonical else "conflicting_duplicate"
            )
            continue
        kind = _invalid(rec, as_of)
        if kind:
            kinds.append(kind)
            continue
        claimed[rid] = canonical
        account = facts.refs.get(rec["accountId"])
        ts = _timestamp(rec["timestamp"])
        if account is None:
            kinds.append("unknown_account")
        elif rec["schemaName"] not in facts.schemas:
            kinds.append("unknown_schema")
        elif set(_attributes(rec)) - facts.schemas[rec["schemaName"]]:
            kinds.append("undeclared_attribute")
        elif not any(lo <= ts < hi for lo, hi in facts.coverage.get(account, [])):
            kinds.append("before_plan")
        else:
            kinds.append("clean")
    return kinds


def _invalid(rec: dict, as_of: datetime) -> str | None:
    for key, kind in (
        ("timestamp", "missing_timestamp"),
        ("accountId", "missing_account_id"),
        ("schemaName", "missing_schema_name"),
    ):
        if key not in rec:
            return kind
    if "id" in rec and not (isinstance(rec["id"], str) and 1 <= len(rec["id"]) <= 512):
        return "bad_id"
    ts = _timestamp(rec["timestamp"])
    if ts is None:
        return "bad_timestamp"
    for value in _attributes(rec).values():
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return "non_numeric_attribute"
        if not number.is_finite():
            return "nan_attribute"
    if ts > as_of + timedelta(days=1):
        return "future_timestamp"
    return None
