"""Read a catalog folder (pricing.yaml + tables as CSV or Parquet) into typed models."""

from __future__ import annotations

import csv
import hashlib
import io
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml
from pydantic import BaseModel, ValidationError

from rule_engine import LogicError, load_logic

from .models import (
    RATE_CARD_TYPES,
    Account,
    Catalog,
    CreditGrant,
    Customer,
    EventSchema,
    PlanAssignment,
    PricePlan,
    PricingRule,
    UsageMeter,
    WalletTransaction,
)
from .problems import CatalogError, CatalogProblem, did_you_mean
from .validate import SeenIds, validate_catalog

PRICING_FILE = "pricing.yaml"
PRICING_SECTIONS = ("event_schemas", "usage_meters", "price_plans")


@dataclass(frozen=True)
class TableSpec:
    """One catalog table: its file stem, row model, id column and `;`-separated list columns."""

    stem: str
    model: type[BaseModel]
    id_column: str
    kind: str
    required: bool
    list_columns: tuple[str, ...] = ()


TABLES: tuple[TableSpec, ...] = (
    TableSpec("customers", Customer, "customer_id", "customer", True),
    TableSpec("accounts", Account, "account_id", "account", True, ("aliases",)),
    TableSpec("plan_assignments", PlanAssignment, "assignment_id", "plan_assignment", True),
    # A catalog without credits or wallets is ordinary: those two files may be absent.
    TableSpec("credit_grants", CreditGrant, "credit_id", "credit_grant", False, ("applies_to",)),
    TableSpec(
        "wallet_transactions", WalletTransaction, "transaction_id", "wallet_transaction", False
    ),
)
TABLE_SUFFIXES = (".csv", ".parquet")


# --- YAML with exact numbers ---------------------------------------------------------------


class _DecimalSafeLoader(yaml.SafeLoader):
    """SafeLoader that reads every number as a Decimal and notices duplicate keys.

    PyYAML would turn `rate: 0.1` into the float 0.1000000000000000055...; money must never
    pass through a float. Duplicate keys are silently last-wins in YAML, which hides typos.
    """

    def __init__(self, stream: Any):
        super().__init__(stream)
        self.duplicate_keys: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, typing.Hashable) and key in seen:
                self.duplicate_keys.append(
                    f"line {key_node.start_mark.line + 1}: duplicate key '{key}'"
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _construct_decimal_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")
    special = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
    if text.lower() in special:
        return Decimal(special[text.lower()])
    if ":" in text:  # YAML 1.1 base-60 floats (`1:30.5`): exact via the integer parts
        sign = -1 if text.startswith("-") else 1
        value = Decimal(0)
        for part in text.lstrip("+-").split(":"):
            value = value * 60 + Decimal(part)
        return sign * value
    return Decimal(text)


def _construct_decimal_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    # Hex, octal, base-60 and underscores are handled by PyYAML; integers are exact anyway.
    return Decimal(loader.construct_yaml_int(node))


_DecimalSafeLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal_float)
_DecimalSafeLoader.add_constructor("tag:yaml.org,2002:int", _construct_decimal_int)


def load_yaml_exact(text: str) -> tuple[Any, list[str]]:
    """Parse YAML with every number as a Decimal; returns (document, duplicate-key notes)."""
    loader = _DecimalSafeLoader(text)
    try:
        return loader.get_single_data(), loader.duplicate_keys
    finally:
        loader.dispose()


# --- pydantic errors → catalog problems ----------------------------------------------------


def _show(value: Any) -> str:
    if isinstance(value, str):
        text = f"'{value}'"
    elif isinstance(value, Decimal):
        text = str(value)
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _format_loc(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The BaseModel classes an annotation can hold (through Optional, unions, tuples)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, list):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (sub)model at `loc`, to suggest a fix for an unknown field."""
    candidates: list[type[BaseModel]] = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        by_tag = [
            m
            for m in candidates
            if "type" in m.model_fields
            and part in typing.get_args(m.model_fields["type"].annotation)
        ]
        if by_tag and not any(part in m.model_fields for m in candidates):
            candidates = by_tag  # a discriminated-union tag in the error location
            continue
        nested = [m.model_fields[part].annotation for m in candidates if part in m.model_fields]
        candidates = [m for annotation in nested for m in _models_in(annotation)]
        if not candidates:
            return []
    return sorted({name for m in candidates for name in m.model_fields})


def _tag_parts(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # Discriminated unions put the tag into the location (`action.UPDATE.target`); the user
    # wrote `action.target`.
    return tuple(
        p
        for i, p in enumerate(loc)
        if not (i and loc[i - 1] == "action" and p in ("UPDATE", "ADD"))
    )


def pydantic_problems(error: ValidationError, model: type[BaseModel]) -> list[str]:
    """Render a pydantic ValidationError as short catalog problem texts, one per error."""
    texts = []
    for item in error.errors():
        loc = _tag_parts(tuple(item["loc"]))
        path = _format_loc(loc)
        kind, ctx, value = item["type"], item.get("ctx") or {}, item.get("input")
        if kind == "missing":
            texts.append(f"missing required field '{path}'")
        elif kind == "extra_forbidden":
            hint = did_you_mean(loc[-1], _fields_at(model, tuple(item["loc"])[:-1]))
            texts.append(f"unknown field '{path}'{hint}")
        elif kind in ("enum", "literal_error"):
            expected = [
                e.strip().strip("'")
                for e in str(ctx.get("expected", "")).replace(" or ", ", ").split(",")
            ]
            hint = did_you_mean(value, expected)
            texts.append(f"{path}: {_show(value)} is not one of {', '.join(expected)}{hint}")
        elif kind == "union_tag_invalid":
            expected = [e.strip().strip("'") for e in str(ctx.get("expected_tags", "")).split(",")]
            hint = did_you_mean(ctx.get("tag"), expected)
            texts.append(
                f"{path}.type: {_show(ctx.get('tag'))} is not one of {', '.join(expected)}{hint}"
            )
        elif kind == "union_tag_not_found":
            texts.append(f"missing required field '{path}.type'")
        elif kind == "string_pattern_mismatch" and "A-Z]{3}" in str(ctx.get("pattern")):
            texts.append(f"{path}: {_show(value)} is not a 3-letter ISO 4217 currency code")
        elif kind == "string_pattern_mismatch":
            texts.append(f"{path}: {_show(value)} may only contain letters, digits, '_' and '-'")
        else:
            message = item["msg"][:1].lower() + item["msg"][1:]
            texts.append(f"{path}: {message} (got {_show(value)})")
    return texts


# --- pricing.yaml --------------------------------------------------------------------------


class _Collector:
    """Collects problems while parsing, so a broken object never stops the rest."""

    def __init__(self) -> None:
        self.problems: list[CatalogProblem] = []

    def add(self, file: str, object_id: str, problem: str, kind: str = "") -> None:
        self.problems.append(CatalogProblem(file, object_id, problem, kind))

    def parse(self, model: type[BaseModel], raw: Any, file: str, object_id: str, kind: str) -> Any:
        try:
            return model.model_validate(raw)
        except ValidationError as error:
            for text in pydantic_problems(error, model):
                self.add(file, object_id, text, kind)
            return None

    def logic(
        self, raw: dict[str, Any], keys: tuple[str, ...], object_id: str, kind: str
    ) -> tuple[dict[str, Any], bool]:
        """(raw object with its JSON Logic fields loaded exactly, whether all of them loaded).

        The rule engine's loader turns numbers into Decimals and YAML dates into ISO strings,
        and refuses what JSON cannot hold (NaN, sets); text is parsed as JSON Logic text.
        """
        converted, ok = dict(raw), True
        for key in keys:
            if converted.get(key) is None:
                continue
            try:
                converted[key] = load_logic(converted[key])
            except (LogicError, ValueError, TypeError) as error:
                self.add(PRICING_FILE, object_id, f"{key}: {error}", kind)
                converted[key], ok = None, False
        return converted, ok


def _entries(
    raw: Any, section: str, out: _Collector, plan_id: str = ""
) -> Iterator[tuple[int, dict]]:
    kind = "price_plan" if plan_id else ""
    if raw is None:
        return
    if not isinstance(raw, list):
        out.add(PRICING_FILE, plan_id, f"{section} must be a list", kind)
        return
    for index, item in enumerate(raw):
        if isinstance(item, dict):
            yield index, item
        else:
            text = f"{section} #{index + 1} must be a mapping, got {_show(item)}"
            out.add(PRICING_FILE, plan_id, text, kind)


def _entry_id(
    item: dict, key: str, section: str, index: int, kind: str, prefix: str = ""
) -> tuple[str, str]:
    """(object id, kind) for messages; an entry without a usable id is named by position."""
    value = item.get(key)
    if isinstance(value, str) and value:
        return prefix + value, kind
    return f"{prefix}{section} #{index + 1}", ""


def _parse_pricing(root: Path, out: _Collector, seen: SeenIds) -> dict[str, tuple]:
    parsed: dict[str, tuple] = {"event_schemas": (), "usage_meters": (), "price_plans": ()}
    path = root / PRICING_FILE
    if not path.is_file():
        out.add(PRICING_FILE, "", "file not found")
        return parsed
    try:
        document, duplicates = load_yaml_exact(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, InvalidOperation) as error:
        out.add(PRICING_FILE, "", f"cannot be parsed: {error}".replace("\n", " "))
        return parsed
    for note in duplicates:
        out.add(PRICING_FILE, "", note)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        out.add(PRICING_FILE, "", "must be a mapping with event_schemas, usage_meters, price_plans")
        return parsed
    for key in document:
        if key not in PRICING_SECTIONS:
            out.add(
                PRICING_FILE, "", f"unknown section '{key}'{did_you_mean(key, PRICING_SECTIONS)}"
            )

    schemas = []
    for index, item in _entries(document.get("event_schemas"), "event_schemas", out):
        object_id, kind = _entry_id(item, "name", "event_schemas", index, "event_schema")
        if kind:
            seen.event_schemas.add(object_id)
        schema = out.parse(EventSchema, item, PRICING_FILE, object_id, kind)
        if schema is not None:
            schemas.append(schema)

    meters = []
    for index, item in _entries(document.get("usage_meters"), "usage_meters", out):
        object_id, kind = _entry_id(item, "id", "usage_meters", index, "usage_meter")
        if kind:
            seen.usage_meters.add(object_id)
        item, logic_ok = out.logic(item, ("value", "filter"), object_id, kind)
        meter = out.parse(UsageMeter, item, PRICING_FILE, object_id, kind)
        if meter is not None and logic_ok:
            meters.append(meter)

    plans = []
    for index, item in _entries(document.get("price_plans"), "price_plans", out):
        plan_id, kind = _entry_id(item, "id", "price_plans", index, "price_plan")
        if kind:
            seen.price_plans.add(plan_id)
        cards_seen = seen.rate_cards.setdefault(plan_id, set())
        cards = []
        for card_index, card in _entries(item.get("rate_cards"), "rate_cards", out, plan_id):
            card_id, card_kind = _entry_id(
                card, "id", "rate_cards", card_index, "rate_card", f"{plan_id}."
            )
            if card_kind:
                cards_seen.add(card_id.removeprefix(f"{plan_id}."))
            card_type = card.get("type")
            if not isinstance(card_type, str) or card_type not in RATE_CARD_TYPES:
                problem = (
                    f"type: {_show(card_type)} is not one of {', '.join(RATE_CARD_TYPES)}"
                    f"{did_you_mean(card_type, RATE_CARD_TYPES)}"
                    if card_type is not None
                    else "missing required field 'type'"
                )
                out.add(PRICING_FILE, card_id, problem, card_kind)
                continue
            model = RATE_CARD_TYPES[card_type]
            parsed_card = out.parse(model, card, PRICING_FILE, card_id, card_kind)
            if parsed_card is not None:
                cards.append(parsed_card)
        rules = []
        for rule_index, rule in _entries(item.get("pricing_rules"), "pricing_rules", out, plan_id):
            rule_id, rule_kind = _entry_id(
                rule, "id", "pricing_rules", rule_index, "pricing_rule", f"{plan_id}."
            )
            rule, logic_ok = out.logic(rule, ("condition", "computation"), rule_id, rule_kind)
            parsed_rule = out.parse(PricingRule, rule, PRICING_FILE, rule_id, rule_kind)
            if parsed_rule is not None and logic_ok:
                rules.append(parsed_rule)
        header = {**item, "rate_cards": tuple(cards), "pricing_rules": tuple(rules)}
        plan = out.parse(PricePlan, header, PRICING_FILE, plan_id, kind)
        if plan is not None:
            plans.append(plan)

    parsed.update(
        event_schemas=tuple(schemas), usage_meters=tuple(meters), price_plans=tuple(plans)
    )
    return parsed


# --- tables --------------------------------------------------------------------------------


class _FloatValue(ValueError):
    pass


def _cell(value: Any, column: str, list_column: bool) -> Any:
    """One cell, normalized: blank → None, `a;b` → tuple for list columns, floats refused."""
    if isinstance(value, str):
        value = value.strip()
        if list_column:
            return tuple(part.strip() for part in value.split(";") if part.strip())
        return value or None
    if value is None:
        return () if list_column else None
    if isinstance(value, float):
        # A float column (a Parquet DOUBLE) has already lost exactness; refuse it.
        raise _FloatValue(
            f"{column}: floating-point value {value!r}; store it as a decimal or a string"
        )
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return tuple(_cell(item, column, False) for item in value if item is not None)
    return value  # Decimal, date, datetime from Parquet


def _table_path(root: Path, spec: TableSpec, out: _Collector) -> Path | None:
    present = [root / f"{spec.stem}{suffix}" for suffix in TABLE_SUFFIXES]
    present = [p for p in present if p.is_file()]
    if len(present) > 1:
        out.add(
            present[0].name, "", f"both {present[0].name} and {present[1].name} exist; keep one"
        )
        return None
    if not present:
        if spec.required:
            out.add(f"{spec.stem}.csv", "", "file not found (CSV or Parquet)")
        return None
    return present[0]


def _read_rows(
    path: Path, out: _Collector
) -> tuple[list[str], Iterator[tuple[str, dict[str, Any]]]] | None:
    """(columns, iterator of (position label, raw row)) for a CSV or Parquet table."""
    if path.suffix == ".parquet":
        try:
            table = pq.read_table(path)
        except Exception as error:  # noqa: BLE001 - any unreadable file is one catalog problem
            out.add(path.name, "", f"cannot be read: {error}")
            return None
        rows = table.to_pylist()
        return table.column_names, ((f"row {n}", row) for n, row in enumerate(rows, start=1))
    try:
        # utf-8-sig: spreadsheets save a byte-order mark; everything is read as text so that
        # decimals stay exact (no type inference).
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        out.add(path.name, "", f"is not UTF-8 text: {error}")
        return None
    # newline='' lets the csv module see quoted line breaks inside a field as data.
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        out.add(path.name, "", "is empty (a header row is required)")
        return None
    columns = [name.strip() for name in header]

    def rows() -> Iterator[tuple[str, dict[str, Any]]]:
        for values in reader:
            label = f"line {reader.line_num}"
            if not any(v.strip() for v in values):
                continue  # blank line
            if len(values) != len(columns):
                out.add(
                    path.name, label, f"has {len(values)} fields, the header has {len(columns)}"
                )
                continue
            yield label, dict(zip(columns, values, strict=True))

    return columns, rows()


def _parse_table(root: Path, spec: TableSpec, out: _Collector, seen: set[str]) -> tuple:
    path = _table_path(root, spec, out)
    if path is None:
        return ()
    read = _read_rows(path, out)
    if read is None:
        return ()
    columns, rows = read
    fields = spec.model.model_fields
    for name in {c for c in columns if columns.count(c) > 1}:
        out.add(path.name, "", f"column '{name}' appears more than once")
    for name in columns:
        if name not in fields:
            out.add(path.name, "", f"unknown column '{name}'{did_you_mean(name, fields)}")
    missing = [n for n, f in fields.items() if f.is_required() and n not in columns]
    for name in missing:
        out.add(path.name, "", f"missing column '{name}'")
    if missing:
        return ()
    parsed = []
    for label, raw in rows:
        object_id, kind = label, ""
        raw_id = raw.get(spec.id_column)
        if raw_id is not None and str(raw_id).strip():
            object_id, kind = str(raw_id).strip(), spec.kind
            seen.add(object_id)
        try:
            values = {
                column: _cell(value, column, column in spec.list_columns)
                for column, value in raw.items()
                if column in fields
            }
        except _FloatValue as error:
            out.add(path.name, object_id, str(error), kind)
            continue
        values = {column: value for column, value in values.items() if value is not None}
        row = out.parse(spec.model, values, path.name, object_id, kind)
        if row is not None:
            parsed.append(row)
    return tuple(parsed)


# --- the catalog ---------------------------------------------------------------------------


def catalog_files(path: str | Path) -> list[Path]:
    """The files that make up the catalog (pricing.yaml and the tables present), by name."""
    root = Path(path)
    names = [PRICING_FILE] + [
        f"{spec.stem}{suffix}" for spec in TABLES for suffix in TABLE_SUFFIXES
    ]
    return sorted((root / name for name in names if (root / name).is_file()), key=lambda p: p.name)


def catalog_version(path: str | Path) -> str:
    """sha256 over the catalog files (name and content, sorted by name): the version rated."""
    digest = hashlib.sha256()
    for file in catalog_files(path):
        content = file.read_bytes()
        # Name and length frame each file, so moving bytes between files changes the version.
        digest.update(f"{file.name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def read_catalog(path: str | Path) -> tuple[Catalog, list[CatalogProblem]]:
    """Parse and validate the catalog; returns what parsed and every problem found."""
    root = Path(path)
    out = _Collector()
    if not root.is_dir():
        out.add(str(root), "", "catalog folder not found")
        return Catalog(root=root, version=""), out.problems
    seen = SeenIds()
    pricing = _parse_pricing(root, out, seen)
    tables = {spec.stem: _parse_table(root, spec, out, seen.table(spec.stem)) for spec in TABLES}
    catalog = Catalog(root=root, version=catalog_version(root), **pricing, **tables)
    return catalog, out.problems + validate_catalog(catalog, seen)


def check_catalog(path: str | Path) -> list[CatalogProblem]:
    """Every problem with the catalog at `path` (empty when it is valid)."""
    return read_catalog(path)[1]


def load_catalog(path: str | Path) -> Catalog:
    """Load and validate the catalog at `path`; raise CatalogError listing every problem."""
    catalog, problems = read_catalog(path)
    if problems:
        raise CatalogError(problems)
    return catalog
