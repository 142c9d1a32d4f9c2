"""The models are portable (docs/scale-out.md): no engine-specific function outside the
adapter.dispatch macros of dbt_project/macros, so the same files run on DuckDB and Spark."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[1] / "dbt_project" / "models"

# DuckDB-only and Spark-only syntax; each has a dispatch macro (portable.sql, money.sql).
ENGINE_SPECIFIC = {
    r"\blist\s*\(": "list() -> array_of()",
    r"\blist_\w+\s*\(": "list_* -> a dispatch macro",
    r"\blen\s*\(": "len() -> array_size()",
    r"\btimezone\s*\(": "timezone() -> to_local_timestamp()",
    r"\bfrom_utc_timestamp\s*\(": "-> to_local_timestamp()",
    r"\bepoch\s*\(": "epoch() -> epoch_seconds()",
    r"\bunix_timestamp\s*\(": "-> epoch_seconds()",
    r"\bstrftime\s*\(|\bstrptime\s*\(|\bdate_format\s*\(": "date formatting",
    r"\bjson_\w+\s*\(|->>|\bget_json_object\s*\(|\bfrom_json\s*\(": "JSON extraction",
    r"\bcollect_(list|set)\s*\(": "-> array_of() / sorted_array_of()",
    r"\belement_at\s*\(": "-> array_element()",
    r"\barray_except\s*\(|\bmap_from_entries\s*\(": "-> keys_not_in() / map_of()",
    r"\bhugeint\b": "-> money_int_type()",
    r"\btimestamptz\b": "-> as_of() / a dispatch macro",
    r"::": "cast(x as type)",
    r"\btry_cast\s*\(|\btry\s*\(": "a dispatch macro",
    r"\bregexp_full_match\s*\(|\brlike\b": "regular expressions",
    r"\bstring_agg\s*\(|\bgroup_concat\s*\(|\blistagg\s*\(": "list aggregation",
    r"\bround\s*\(|\btrunc\s*\(": "money rounding -> round_money() / money.sql",
    r"//": "integer division -> money_idiv()",
    r"\blambda\b|\s->\s": "lambdas",
    r"\{\s*'\w+'\s*:": "struct literals",
    r"\[\s*\]": "empty list literal -> empty_string_array()",
    r"\bdate_diff\s*\(|\bdatediff\s*\(": "-> dbt.datediff()",
}


def _sql_without_comments(text: str) -> str:
    # Jinja comments and statements ({% set ... %}) are not SQL.
    text = re.sub(r"\{#.*?#\}|\{%.*?%\}", "", text, flags=re.S)
    return "\n".join(line.split("--", 1)[0] for line in text.splitlines())


def _model_files() -> list[Path]:
    return sorted(MODELS.rglob("*.sql"))


def test_there_are_models_to_check():
    assert len(_model_files()) >= 20


@pytest.mark.parametrize("model", _model_files(), ids=lambda p: p.stem)
def test_model_has_no_engine_specific_function(model: Path):
    sql = _sql_without_comments(model.read_text())
    found = [
        f"{m.group(0).strip()!r} ({hint})"
        for pattern, hint in ENGINE_SPECIFIC.items()
        for m in re.finditer(pattern, sql, flags=re.I)
    ]
    assert not found, f"{model.relative_to(MODELS.parent)} uses engine-specific SQL: {found}"


def test_the_check_catches_engine_specific_sql():
    sample = "select list(x), timezone(tz, ts), a::int, {'k': 1} from t -- list( in a comment"
    sql = _sql_without_comments(sample)
    hits = [p for p in ENGINE_SPECIFIC if re.search(p, sql, flags=re.I)]
    assert len(hits) == 4
