"""The generator's own minimal reading of a catalog folder (yaml/csv only, independent of the loader)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

# Stand-in for "open-ended" in epoch seconds: far beyond any timestamp the generator writes.
OPEN_END = 2**62


@dataclass
class SchemaView:
    name: str
    attributes: list[tuple[str, str | None]]  # (name, unit)
    dimensions: list[str]


@dataclass
class AccountView:
    account_id: str
    aliases: list[str]
    timezone: str
    # Union of plan-assignment coverage as half-open UTC epoch-second intervals, sorted.
    covered: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class CatalogView:
    schemas: list[SchemaView]
    accounts: list[AccountView]
    # String literals compared with dimensions.X in meter filters: feeding them back keeps
    # filters matching on any catalog, not only the generated one.
    dimension_literals: dict[str, list[str]]


def _read_rows(catalog: Path, stem: str) -> list[dict[str, str]]:
    csv_path = catalog / f"{stem}.csv"
    if csv_path.exists():
        with csv_path.open(newline="", encoding="utf-8") as fh:
            return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]
    pq_path = catalog / f"{stem}.parquet"
    if pq_path.exists():
        import pyarrow.parquet as pq

        table = pq.read_table(pq_path).to_pylist()
        return [{k: "" if v is None else str(v).strip() for k, v in r.items()} for r in table]
    return []


def _local_midnight_utc(day: date, tz: ZoneInfo) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


def _collect_literals(node: object, out: dict[str, list[str]]) -> None:
    if isinstance(node, dict):
        for args in node.values():
            if isinstance(args, list):
                dims = [
                    a["var"][len("dimensions.") :]
                    for a in args
                    if isinstance(a, dict)
                    and isinstance(a.get("var"), str)
                    and a["var"].startswith("dimensions.")
                ]
                for dim in dims:
                    for a in args:
                        lits = a if isinstance(a, list) else [a]
                        for lit in lits:
                            if isinstance(lit, str) and lit not in out.setdefault(dim, []):
                                out[dim].append(lit)
            _collect_literals(args, out)
    elif isinstance(node, list):
        for item in node:
            _collect_literals(item, out)


def _parse_attribute(item: object) -> tuple[str, str | None]:
    if isinstance(item, dict):
        unit = item.get("unit")
        return str(item["name"]), None if unit in (None, "") else str(unit)
    return str(item), None


def read_catalog(catalog_dir: Path) -> CatalogView:
    """Read the schemas, accounts, aliases and plan coverage a generator needs."""
    catalog = Path(catalog_dir)
    pricing = yaml.safe_load((catalog / "pricing.yaml").read_text(encoding="utf-8")) or {}
    schemas = [
        SchemaView(
            name=str(s["name"]),
            attributes=[_parse_attribute(a) for a in s.get("attributes") or []],
            dimensions=[str(d) for d in s.get("dimensions") or []],
        )
        for s in pricing.get("event_schemas") or []
    ]
    literals: dict[str, list[str]] = {}
    for meter in pricing.get("usage_meters") or []:
        _collect_literals(meter.get("filter"), literals)

    accounts: dict[str, AccountView] = {}
    for row in _read_rows(catalog, "accounts"):
        aliases = [a.strip() for a in row.get("aliases", "").split(";") if a.strip()]
        accounts[row["account_id"]] = AccountView(
            row["account_id"], aliases, row.get("timezone") or "UTC"
        )
    intervals: dict[str, list[tuple[int, int]]] = {}
    for row in _read_rows(catalog, "plan_assignments"):
        acc = accounts.get(row["account_id"])
        if acc is None:
            continue
        tz = ZoneInfo(acc.timezone)
        lo = _local_midnight_utc(date.fromisoformat(row["effective_from"]), tz)
        until = row.get("effective_until", "")
        hi = (
            _local_midnight_utc(date.fromisoformat(until) + timedelta(days=1), tz)
            if until
            else OPEN_END
        )
        if hi > lo:
            intervals.setdefault(acc.account_id, []).append((lo, hi))
    for acc_id, ivs in intervals.items():
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted(ivs):
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        accounts[acc_id].covered = merged
    return CatalogView(schemas, list(accounts.values()), literals)
