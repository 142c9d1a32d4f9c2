"""Deterministic, vectorized synthetic usage events (Togai wire shape) with planted faults."""

from __future__ import annotations

import gzip
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from .catalog_view import CatalogView, read_catalog
from .faults import (
    CATALOG_DEPENDENT_STATUSES,
    CLEAN,
    FAULT_STATUS,
    INGESTION_DECIDED_KINDS,
    INGESTION_DECIDED_STATUSES,
    allocate,
)
from .manifest import Manifest

FORMATS = ("jsonl", "jsonl.gz", "parquet")
DAY = 86_400
CHUNK_ROWS = 1_000_000  # rows rendered at once: bounds memory, keeps polars busy
GZIP_LEVEL = 3  # throughput over ratio: landing files are transient

# Diurnal rhythm by local hour (quiet nights, busy afternoons) and a weekend dip.
_HOUR_WEIGHT = np.array(
    [0.22, 0.18, 0.16, 0.16, 0.18, 0.25, 0.40, 0.65, 0.90, 1.05, 1.15, 1.18,
     1.10, 1.15, 1.20, 1.20, 1.12, 1.00, 0.85, 0.70, 0.58, 0.46, 0.36, 0.28]
)  # fmt: skip
_WEEKEND_WEIGHT = 0.45

# Shares among clean records.
_SHARE_NO_ID = 0.005  # the contract allows absent ids (derived from a payload hash)
_SHARE_ALIAS = 0.30  # of the events of accounts that have aliases
_SHARE_STRING_VALUE = 0.35
_SHARE_OBJECT_SHAPE = 0.50
_SHARE_UNIT = 0.80
_TS_FORMAT_P = (0.60, 0.36, 0.04)  # "Z", "+hh:mm" offset, naive (read as UTC)

# Default value pools for well-known dimensions; literals found in the catalog's meter
# filters are added so filters match on any catalog.
_DIM_DEFAULTS: dict[str, list[tuple[str, float]]] = {
    "model": [("opus", 0.2), ("sonnet", 0.5), ("haiku", 0.3)],
    "region": [("us-east-1", 0.45), ("eu-west-1", 0.35), ("ap-northeast-1", 0.20)],
    "endpoint": [
        ("/v1/search", 0.35),
        ("/v1/documents", 0.25),
        ("/v1/embeddings", 0.20),
        ("/v1/export", 0.05),
        ("/v1/health", 0.15),
    ],
    "method": [("GET", 0.6), ("POST", 0.35), ("DELETE", 0.05)],
}
_HOME_DIMS = ("region", "country", "location", "zone")  # an account mostly stays in one

_UNKNOWN_SCHEMAS = ("page_view", "llm_call_v0", "legacy_usage")
_UNDECLARED_ATTRS = ("cached_tokens", "retry_count", "cost_hint", "debug_level")
_BAD_TIMESTAMPS = ("not-a-timestamp", "2026-02-30T10:00:00Z", "31/12/2026 10:00")
_NON_NUMERIC = ("{v}abc", "n/a", "1,2{v}", "twelve")
_NAN_VALUES = ("NaN", "Infinity", "-Infinity")
_GARBAGE_LINES = ("<html><body>502 Bad Gateway</body></html>", "id=evt&schema=llm_call&value=3")
_LONG_ID_PAD = "x" * 600  # ids are 1-512 characters
_N_UNKNOWN_ACCOUNTS = 64

KIND_NAMES = [CLEAN, *FAULT_STATUS]
KIND = {name: code for code, name in enumerate(KIND_NAMES)}


@dataclass
class _Context:
    """Pools and per-account facts shared by sampling and rendering."""

    view: CatalogView
    seed: int
    p0: int  # period start, epoch seconds (UTC)
    p1: int  # period end, exclusive
    as_of: int
    account_ref_pool: list[str]  # account ids, then aliases, then unknown ids
    alias_start: np.ndarray
    alias_count: np.ndarray
    schema_pool: list[str]  # schema names, then unknown schema names
    dim_pool: list[str]
    offset_sec: np.ndarray  # per account, UTC offset at the period start
    offset_str: list[str]
    scales: list[list[int]]  # per schema, per attribute: decimal places (0 or 3)
    n_attr: int
    n_dim: int
    aux: list[str] = field(default_factory=list)


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _offset_str(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    m = abs(seconds) // 60
    return f"{sign}{m // 60:02d}:{m % 60:02d}"


def _attr_scale(name: str) -> int:
    low = name.lower()
    return 3 if ("gb" in low or "stored" in low or low.endswith("_hours")) else 0


def _build_context(view: CatalogView, seed: int, p0: int, p1: int, rng) -> _Context:
    ids = [a.account_id for a in view.accounts]
    taken = set(ids)
    refs = list(ids)
    alias_start = np.zeros(len(ids), dtype=np.int32)
    alias_count = np.zeros(len(ids), dtype=np.int32)
    for i, acc in enumerate(view.accounts):
        alias_start[i] = len(refs)
        alias_count[i] = len(acc.aliases)
        refs.extend(acc.aliases)
        taken.update(acc.aliases)
    # Unknown account ids: look-alikes of real ids (a stale suffix) and plain strangers,
    # checked against every id and alias so ACCOUNT_NOT_FOUND is certain.
    unknown: list[str] = []
    for k in range(_N_UNKNOWN_ACCOUNTS):
        base = ids[int(rng.integers(len(ids)))] + "_old" if k % 2 and ids else f"acc_unknown_{k}"
        while base in taken:
            base += "x"
        taken.add(base)
        unknown.append(base)
    refs.extend(unknown)

    schema_names = {s.name for s in view.schemas}
    schema_pool = [s.name for s in view.schemas] + [
        n for n in _UNKNOWN_SCHEMAS if n not in schema_names
    ]
    if len(schema_pool) == len(view.schemas):
        schema_pool.append("undefined_schema_" + "x" * 8)

    offsets = []
    for acc in view.accounts:
        off = datetime.fromtimestamp(p0, ZoneInfo(acc.timezone)).utcoffset()
        offsets.append(int(off.total_seconds()) if off is not None else 0)
    offset_sec = np.array(offsets, dtype=np.int64)
    return _Context(
        view=view,
        seed=seed,
        p0=p0,
        p1=p1,
        as_of=p1 + DAY,
        account_ref_pool=refs,
        alias_start=alias_start,
        alias_count=alias_count,
        schema_pool=schema_pool,
        dim_pool=[],
        offset_sec=offset_sec,
        offset_str=[_offset_str(o) for o in offsets],
        scales=[[_attr_scale(a) for a, _ in s.attributes] for s in view.schemas],
        n_attr=max([len(s.attributes) for s in view.schemas] + [1]),
        n_dim=max([len(s.dimensions) for s in view.schemas] + [1]),
    )


# --------------------------------------------------------------------------- sampling
#
# Rows are columns of numpy arrays (one dict, one array per field), kept in narrow dtypes:
# at 10M records every byte per row is 10 MB to allocate and fill.


def _coverage_arrays(ctx: _Context):
    """Per account: covered intervals clipped to the period (padded) and their hull."""
    clipped = []
    for acc in ctx.view.accounts:
        ivs = [(max(lo, ctx.p0), min(hi, ctx.p1)) for lo, hi in acc.covered]
        clipped.append([(lo, hi) for lo, hi in ivs if hi > lo])
    k = max([len(c) for c in clipped] + [1])
    lo = np.zeros((len(clipped), k), dtype=np.int64)
    hi = np.zeros((len(clipped), k), dtype=np.int64)
    for i, ivs in enumerate(clipped):
        for j, (a, b) in enumerate(ivs):
            lo[i, j], hi[i, j] = a, b
    hull_lo = np.where(hi[:, 0] > 0, lo[:, 0], 0)
    hull_hi = hi.max(axis=1)
    return lo, hi, hull_lo, hull_hi


def _rhythm_cdf(ctx: _Context, offsets: np.ndarray) -> np.ndarray:
    """Cumulative hourly weight over the period for each UTC offset (local hour, weekday).

    Row g is offset g's CDF shifted by g * (total + 1), so one searchsorted over the
    flattened array serves every offset at once.
    """
    hours = (ctx.p1 - ctx.p0) // 3600
    slots = np.arange(hours, dtype=np.int64)
    first_weekday = datetime.fromtimestamp(ctx.p0, UTC).weekday()
    rows = []
    for off in offsets:
        local = slots + int(round(off / 3600))
        weekday = (first_weekday + np.floor_divide(local, 24)) % 7
        w = _HOUR_WEIGHT[local % 24] * np.where(weekday >= 5, _WEEKEND_WEIGHT, 1.0)
        rows.append(np.concatenate([[0.0], np.cumsum(w)]))
    cdf = np.array(rows)
    span = float(cdf[:, -1].max()) + 1.0
    return cdf + (np.arange(len(offsets)) * span)[:, None]


def _sample_timestamps(rng, ctx: _Context, acct: np.ndarray, cov) -> np.ndarray:
    """Timestamps inside each account's plan coverage, following the daily/weekly rhythm."""
    lo, hi, hull_lo, hull_hi = cov
    offsets, group_of = np.unique(ctx.offset_sec, return_inverse=True)
    cdf = _rhythm_cdf(ctx, offsets)
    width = cdf.shape[1]
    flat = cdf.ravel()
    slot_lo_acc = (hull_lo - ctx.p0) // 3600
    slot_hi_acc = -((ctx.p0 - hull_hi) // 3600)  # ceil
    n = len(acct)
    ts = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    for _round in range(40):
        if len(todo) == 0:
            break
        a = acct[todo]
        base = group_of[a].astype(np.int64) * width
        slot_lo, slot_hi = slot_lo_acc[a], slot_hi_acc[a]
        c_lo, c_hi = flat[base + slot_lo], flat[base + slot_hi]
        target = c_lo + rng.random(len(todo)) * (c_hi - c_lo)
        slot = np.searchsorted(flat, target, side="right") - 1 - base
        slot = np.clip(slot, slot_lo, slot_hi - 1)
        cand = ctx.p0 + slot * 3600 + rng.integers(0, 3600, len(todo))
        ok = np.zeros(len(todo), dtype=bool)
        for j in range(lo.shape[1]):
            ok |= (cand >= lo[a, j]) & (cand < hi[a, j])
        ts[todo[ok]] = cand[ok]
        todo = todo[~ok]
    # Accounts covered for only minutes of the period: their first covered second.
    ts[todo] = hull_lo[acct[todo]]
    return ts


def _attr_values(rng, name: str, acct: np.ndarray, ts: np.ndarray, ctx: _Context, base):
    """Realistic integer values (scale-3 attributes as thousandths) for one attribute."""
    low = name.lower()
    n = len(acct)
    if "token" in low:
        out_like = any(k in low for k in ("output", "completion"))
        mu, sigma = (5.3, 0.9) if out_like else (6.8, 1.1)
        return np.maximum(1, rng.lognormal(mu, sigma, n)).astype(np.int64)
    if "byte" in low:
        return np.clip(rng.lognormal(9.5, 1.8, n), 64, 5e9).astype(np.int64)
    if _attr_scale(name) == 3:
        # Stored volume: per-account level drifting upward through the period, +/-2% noise.
        days_in = (ts - ctx.p0) / DAY
        gb = base["gb"][acct] * (1 + 0.004 * days_in) * rng.uniform(0.98, 1.02, n)
        return np.maximum(1, np.round(gb * 1000)).astype(np.int64)
    if "user" in low or low.endswith("_id"):
        pool = base["users"][acct]
        return 10_000 + np.floor(pool * rng.random(n) ** 2).astype(np.int64)
    if any(k in low for k in ("ms", "latency", "duration")):
        return np.maximum(1, rng.lognormal(5.0, 0.7, n)).astype(np.int64)
    return np.maximum(1, rng.lognormal(2.5, 1.0, n)).astype(np.int64)


def _dim_choices(ctx: _Context) -> list[list[tuple[list[int], np.ndarray]]]:
    """Per schema and dimension: global pool indices of its values and their weights."""
    index: dict[str, int] = {}

    def idx(value: str) -> int:
        if value not in index:
            index[value] = len(ctx.dim_pool)
            ctx.dim_pool.append(value)
        return index[value]

    out = []
    for schema in ctx.view.schemas:
        per_dim = []
        for dim in schema.dimensions:
            pairs = list(_DIM_DEFAULTS.get(dim, []))
            if not pairs and dim not in ctx.view.dimension_literals:
                pairs = [(f"{dim}-{k}", w) for k, w in ((1, 0.5), (2, 0.3), (3, 0.2))]
            known = {v for v, _ in pairs}
            mean_w = float(np.mean([w for _, w in pairs])) if pairs else 1.0
            pairs += [
                (v, mean_w) for v in ctx.view.dimension_literals.get(dim, []) if v not in known
            ]
            w = np.array([p for _, p in pairs], dtype=float)
            per_dim.append(([idx(v) for v, _ in pairs], w / w.sum()))
        out.append(per_dim)
    return out


def _sample_rows(rng, ctx: _Context, n: int, weights, cov, mix) -> dict:
    """Who and when of usage rows: account (heavy-tailed), event schema, timestamp."""
    acct = rng.choice(len(weights), size=n, p=weights).astype(np.int32)
    cum = np.cumsum(mix, axis=1)
    u = rng.random(n)
    schema = np.zeros(n, dtype=np.int8)
    for s in range(len(ctx.view.schemas) - 1):
        schema += u > cum[acct, s]
    ts = _sample_timestamps(rng, ctx, acct, cov)
    return {"acct": acct, "schema": schema, "ts": ts}


def _fill_payload(rng, ctx: _Context, rows, base, dim_choices) -> None:
    """Attribute values, dimensions and the presentation choices of each row."""
    n = len(rows["acct"])
    acct, schema, ts = rows["acct"], rows["schema"], rows["ts"]
    for j in range(ctx.n_attr):
        rows[f"v{j}"] = np.zeros(n, dtype=np.int64)
    for j in range(ctx.n_dim):
        rows[f"d{j}"] = np.zeros(n, dtype=np.int32)
    for s, sv in enumerate(ctx.view.schemas):
        m = np.flatnonzero(schema == s)
        for j, (name, _unit) in enumerate(sv.attributes):
            rows[f"v{j}"][m] = _attr_values(rng, name, acct[m], ts[m], ctx, base)
        for j, dim in enumerate(sv.dimensions):
            pool, w = dim_choices[s][j]
            pick = rng.choice(len(pool), size=len(m), p=w)
            if dim in _HOME_DIMS:
                home = base["home"][acct[m]] % len(pool)
                pick = np.where(rng.random(len(m)) < 0.85, home, pick)
            rows[f"d{j}"][m] = np.asarray(pool, dtype=np.int32)[pick]
    for j in range(ctx.n_attr):
        rows[f"s{j}"] = rng.random(n) < _SHARE_STRING_VALUE
    rows["shape"] = (rng.random(n) < _SHARE_OBJECT_SHAPE).astype(np.int8)
    rows["unit_on"] = rng.random(n) < _SHARE_UNIT
    rows["ts_fmt"] = rng.choice(3, size=n, p=_TS_FORMAT_P).astype(np.int8)
    # accountId: the account id, or one of its aliases for ~30% of an aliased account's events.
    count = ctx.alias_count[acct]
    use_alias = (count > 0) & (rng.random(n) < _SHARE_ALIAS)
    alias_pick = ctx.alias_start[acct] + (rng.random(n) * np.maximum(count, 1)).astype(np.int32)
    rows["acct_ref"] = np.where(use_alias, alias_pick, acct).astype(np.int32)
    rows["schema_ref"] = schema.astype(np.int16)


def _take(rows: dict, idx: np.ndarray) -> dict:
    return {k: v[idx] for k, v in rows.items()}


# --------------------------------------------------------------------------- rendering
#
# Every text piece that repeats (field names, account ids, dates, times of day, offsets) is
# rendered once into a small pool and gathered by index; each (schema, shape) group of rows
# is then one flat `concat_str` whose null pieces drop out. No per-row Python.

_TIME_OF_DAY = pl.Series(
    [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
)
# Per id_mode (0 normal, 1 absent, 2 number, 3 empty, 4 too long): text around the number.
_ID_PREFIX = ('"id":"evt-{seed}-', "", '"id":', '"id":"",', '"id":"' + _LONG_ID_PAD)
_ID_SUFFIX = ('",', "", ",", "", '",')
_ID_PREFIX_RAW = ("evt-{seed}-", "", "", "", _LONG_ID_PAD)
_ID_HAS_NUMBER = (0, 2, 4)


def _gather_optional(pool: pl.Series, idx: np.ndarray) -> pl.Series:
    """pool[idx] with null where idx is -1."""
    series = pl.Series(idx, dtype=pl.Int64)
    return pool.gather(pl.select(pl.when(series >= 0).then(series)).to_series())


def _pools(ctx: _Context) -> dict:
    """String pools gathered by index while rendering (JSON-escaped once, not per row)."""
    return {
        "schema_piece": pl.Series([f'"schemaName":{json.dumps(x)},' for x in ctx.schema_pool]),
        "schema_raw": pl.Series(ctx.schema_pool, dtype=pl.String),
        "acct_piece": pl.Series([f'"accountId":{json.dumps(r)},' for r in ctx.account_ref_pool]),
        "acct_raw": pl.Series(ctx.account_ref_pool, dtype=pl.String),
        "dims_json": pl.Series([json.dumps(d) for d in ctx.dim_pool] or ['""']),
        "aux": pl.Series(ctx.aux or [""], dtype=pl.String),
        "bad_ts_piece": pl.Series([f'"timestamp":{json.dumps(a)},' for a in ctx.aux] or [""]),
        "id_prefix": pl.Series([p.format(seed=ctx.seed) for p in _ID_PREFIX]),
        "id_suffix": pl.Series(list(_ID_SUFFIX)),
        "id_prefix_raw": pl.Series([p.format(seed=ctx.seed) for p in _ID_PREFIX_RAW]),
    }


def _timestamp_pieces(ctx: _Context, rows: dict, ok: np.ndarray, jsonl: bool) -> dict:
    """Date, time-of-day and suffix pieces: UTC with Z, the account's offset, or naive."""
    fmt = rows["ts_fmt"]
    shown = rows["ts"] + np.where(fmt == 1, ctx.offset_sec[rows["acct"]], 0)
    day = np.floor_divide(shown, DAY)
    d0 = int(day[ok].min()) if ok.any() else 0
    d1 = int(day[ok].max()) if ok.any() else 0
    epoch = date(1970, 1, 1)
    head, tail = ('"timestamp":"', '",') if jsonl else ("", "")
    day_pool = pl.Series(
        [f"{head}{(epoch + timedelta(days=d)).isoformat()}T" for d in range(d0, d1 + 1)]
    )
    suffix_pool = pl.Series([f"{x}{tail}" for x in ("Z", "", *ctx.offset_str)])
    suffix = np.where(fmt == 0, 0, np.where(fmt == 2, 1, 2 + rows["acct"]))
    return {
        "ts_day": _gather_optional(day_pool, np.where(ok, day - d0, -1)),
        "ts_tod": _gather_optional(_TIME_OF_DAY, np.where(ok, shown - day * DAY, -1)),
        "ts_suffix": _gather_optional(suffix_pool, np.where(ok, suffix, -1)),
    }


def _attribute_pieces(ctx: _Context, s: int, shape: int) -> list[pl.Expr]:
    """Pieces of the `attributes` JSON of schema s: 0 Togai's list, 1 a plain object."""
    sv = ctx.view.schemas[s]
    pieces: list[pl.Expr] = [pl.lit("[" if shape == 0 else "{")]
    for j, (name, unit) in enumerate(sv.attributes):
        sep = "," if j else ""
        head = f'{{"name":{json.dumps(name)},"value":' if shape == 0 else f"{json.dumps(name)}:"
        v = pl.col(f"v{j}")
        if ctx.scales[s][j] == 0:
            num = v.cast(pl.String)
        else:
            num = pl.concat_str(
                (v // 1000).cast(pl.String), pl.lit("."), (v % 1000).cast(pl.String).str.zfill(3)
            )
        quoted = pl.col(f"s{j}")
        if j == 0:
            # Non-numeric and NaN faults replace the first attribute's value with a string.
            num = pl.coalesce(pl.col("bad_value"), num)
            quoted = quoted | pl.col("bad_value").is_not_null()
        quote = pl.when(quoted).then(pl.lit('"'))  # null (dropped) for a bare number
        pieces += [pl.lit(sep + head), quote, num, quote]
        if shape == 0:
            if unit:
                pieces.append(
                    pl.when(pl.col("unit_on")).then(pl.lit(f',"unit":{json.dumps(unit)}'))
                )
            pieces.append(pl.lit("}"))
    # An undeclared attribute rides along as the last member (null, so dropped, elsewhere).
    sep = "," if sv.attributes else ""
    extra_value = pl.col("extra_val").cast(pl.String)
    if shape == 0:
        extra = pl.concat_str(
            pl.lit(sep + '{"name":'),
            pl.col("extra_name"),
            pl.lit(',"value":'),
            extra_value,
            pl.lit("}"),
        )
    else:
        extra = pl.concat_str(pl.lit(sep), pl.col("extra_name"), pl.lit(":"), extra_value)
    pieces += [extra, pl.lit("]" if shape == 0 else "}")]
    return pieces


def _dimension_pieces(ctx: _Context, s: int) -> list[pl.Expr]:
    pieces: list[pl.Expr] = [pl.lit("{")]
    for j, dim in enumerate(ctx.view.schemas[s].dimensions):
        pieces += [pl.lit(("," if j else "") + json.dumps(dim) + ":"), pl.col(f"d{j}")]
    return [*pieces, pl.lit("}")]


def _render(ctx: _Context, rows: dict, fmt: str, pools: dict) -> pl.DataFrame:
    """One chunk of rows (in arrival order) as JSONL lines or as the Parquet columns.

    Rows are rendered per (schema, shape) group with that group's template, then put back
    in arrival order: no template is evaluated for rows it does not apply to.
    """
    jsonl = fmt != "parquet"
    kind = rows["kind"]
    n = len(kind)
    group = rows["schema"] * 2 + rows["shape"]
    perm = np.argsort(group, kind="stable")
    inverse = np.empty(n, dtype=np.int64)
    inverse[perm] = np.arange(n)
    r = {key: value[perm] for key, value in rows.items()}
    k = r["kind"]

    def present(col: str, missing_kind: str) -> np.ndarray:
        return np.where(k == KIND[missing_kind], -1, r[col])

    def text_of(*kinds: str) -> np.ndarray:
        # The one fault text column means what the row's kind says it means.
        return np.where(np.isin(k, [KIND[x] for x in kinds]), r["fault_text"], -1)

    mode = r["id_mode"]
    bad_ts = text_of("bad_timestamp")
    ts_ok = (k != KIND["missing_timestamp"]) & (bad_ts < 0)
    cols: dict[str, object] = {
        "number": pl.select(
            pl.when(pl.Series(np.isin(mode, _ID_HAS_NUMBER))).then(
                pl.Series(r["n"]).cast(pl.String)
            )
        ).to_series(),
        **_timestamp_pieces(ctx, r, ts_ok, jsonl),
        "unit_on": r["unit_on"],
        "bad_value": _gather_optional(
            pools["aux"], text_of("non_numeric_attribute", "nan_attribute")
        ),
        "extra_name": _gather_optional(pools["aux"], text_of("undeclared_attribute")),
        "extra_val": r["n"] % 50,
    }
    for j in range(ctx.n_attr):
        cols[f"v{j}"] = r[f"v{j}"]
        cols[f"s{j}"] = r[f"s{j}"]
    for j in range(ctx.n_dim):
        cols[f"d{j}"] = pools["dims_json"].gather(r[f"d{j}"])
    if jsonl:
        cols["id_prefix"] = pools["id_prefix"].gather(mode)
        cols["id_suffix"] = pools["id_suffix"].gather(mode)
        cols["schema_piece"] = _gather_optional(
            pools["schema_piece"], present("schema_ref", "missing_schema_name")
        )
        cols["acct_piece"] = _gather_optional(
            pools["acct_piece"], present("acct_ref", "missing_account_id")
        )
        cols["bad_ts_piece"] = _gather_optional(pools["bad_ts_piece"], bad_ts)
    else:
        cols["id"] = pl.select(
            pl.when(pl.Series(mode != 1)).then(
                pl.concat_str(
                    pools["id_prefix_raw"].gather(mode), cols["number"], ignore_nulls=True
                )
            )
        ).to_series()
        cols["schemaName"] = _gather_optional(
            pools["schema_raw"], present("schema_ref", "missing_schema_name")
        )
        cols["accountId"] = _gather_optional(
            pools["acct_raw"], present("acct_ref", "missing_account_id")
        )
        cols["bad_ts"] = _gather_optional(pools["aux"], bad_ts)
    grouped = pl.DataFrame(cols)

    bounds = np.flatnonzero(np.diff(group[perm])) + 1
    starts = np.concatenate([[0], bounds]).astype(np.int64)
    ends = np.concatenate([bounds, [n]]).astype(np.int64)
    parts = []
    for a, b in zip(starts, ends, strict=True):
        if b <= a:
            continue
        g = int(group[perm[a]])
        attrs, dims = _attribute_pieces(ctx, g // 2, g % 2), _dimension_pieces(ctx, g // 2)
        part = grouped.slice(int(a), int(b - a)).lazy()
        if jsonl:
            head = [pl.lit("{"), *map(pl.col, ("id_prefix", "number", "id_suffix", "schema_piece"))]
            head += map(pl.col, ("ts_day", "ts_tod", "ts_suffix", "bad_ts_piece", "acct_piece"))
            line = pl.concat_str(
                [
                    *head,
                    pl.lit('"attributes":'),
                    *attrs,
                    pl.lit(',"dimensions":'),
                    *dims,
                    pl.lit("}"),
                ],
                ignore_nulls=True,  # a missing field or bare number drops its piece
            )
            parts.append(part.select(line=line))
        else:
            timestamp = pl.coalesce(
                pl.col("bad_ts"),
                pl.when(pl.col("ts_day").is_not_null()).then(
                    pl.concat_str(pl.col("ts_day"), pl.col("ts_tod"), pl.col("ts_suffix"))
                ),
            )
            parts.append(
                part.select(
                    "id",
                    "schemaName",
                    timestamp=timestamp,
                    accountId=pl.col("accountId"),
                    attributes=pl.concat_str(attrs, ignore_nulls=True),
                    dimensions=pl.concat_str(dims, ignore_nulls=True),
                )
            )
    # collect_all renders the groups in parallel (one concat_str runs on one thread).
    out = pl.concat(pl.collect_all(parts)).select(pl.all().gather(inverse))
    broken = np.flatnonzero(kind == KIND["unparseable"])
    if jsonl and len(broken):
        # A cut-off write (the first half of a real line) or non-JSON text: few rows, so the
        # Python loop is over faults only.
        texts = out["line"].gather(broken).to_list()
        fixed = [
            ctx.aux[gi] if gi >= 0 else text[: len(text) // 2]
            for text, gi in zip(texts, rows["fault_text"][broken], strict=True)
        ]
        out = out.with_columns(out["line"].scatter(broken, fixed))
    return out


# --------------------------------------------------------------------------- planting


def _plant(rng, ctx: _Context, rows: dict, fmt: str) -> None:
    """Give each template row its single fault (clean rows are left untouched)."""
    kind = rows["kind"]
    # Fault texts live in a small pool (ctx.aux); a row holds an index into it, -1 for none.
    rows["fault_text"] = np.full(len(kind), -1, dtype=np.int32)
    text = rows["fault_text"]

    def aux(value: str) -> int:
        ctx.aux.append(value)
        return len(ctx.aux) - 1

    def where(name: str) -> np.ndarray:
        return np.flatnonzero(kind == KIND[name])

    def cycle(m: np.ndarray, values) -> np.ndarray:
        return np.asarray(values)[np.arange(len(m)) % len(values)]

    m = where("bad_id")
    rows["id_mode"][m] = cycle(m, (2, 3, 4) if fmt != "parquet" else (3, 4))  # Parquet ids: text
    m = where("bad_timestamp")
    text[m] = cycle(m, [aux(t) for t in _BAD_TIMESTAMPS])
    m = where("non_numeric_attribute")
    text[m] = [
        aux(_NON_NUMERIC[i % len(_NON_NUMERIC)].format(v=int(rows["v0"][r]) % 1000))
        for i, r in enumerate(m)
    ]
    m = where("nan_attribute")
    text[m] = cycle(m, [aux(t) for t in _NAN_VALUES])
    m = where("future_timestamp")
    # Beyond as-of + 1 day by at least a day, up to a year: INVALID for any run near the as-of.
    rows["ts"][m] = ctx.as_of + 2 * DAY + rng.integers(0, 365 * DAY, len(m))
    m = where("unknown_account")
    n_known = len(ctx.account_ref_pool) - _N_UNKNOWN_ACCOUNTS
    rows["acct_ref"][m] = n_known + rng.integers(0, _N_UNKNOWN_ACCOUNTS, len(m))
    m = where("unknown_schema")
    n_schemas = len(ctx.view.schemas)
    rows["schema_ref"][m] = n_schemas + rng.integers(0, len(ctx.schema_pool) - n_schemas, len(m))
    m = where("undeclared_attribute")
    for r in m:
        declared = {a for a, _ in ctx.view.schemas[rows["schema"][r]].attributes}
        candidates = [a for a in _UNDECLARED_ATTRS if a not in declared]
        name = candidates[0] if candidates else f"undeclared_{len(declared)}"
        text[r] = aux(json.dumps(name))
    m = where("before_plan")
    if len(m):
        # Accounts that joined last: a few hours to three weeks before their first local day.
        first = np.array(
            [acc.covered[0][0] if acc.covered else -1 for acc in ctx.view.accounts], dtype=np.int64
        )
        candidates = np.flatnonzero(first >= 0)
        latest = candidates[np.argsort(-first[candidates], kind="stable")]
        pool = latest[: max(1, len(latest) // 4)]
        acct = pool[rng.integers(0, len(pool), len(m))]
        rows["acct"][m] = acct
        rows["acct_ref"][m] = acct  # the plain id: the fault is the date alone
        rows["ts"][m] = np.minimum(first[acct], ctx.p1) - rng.integers(3600, 21 * DAY, len(m))
    m = where("unparseable")[::5]  # the rest are cut-off lines
    text[m] = cycle(m, [aux(t) for t in _GARBAGE_LINES])


# --------------------------------------------------------------------------- writing

_PARQUET_COLUMNS = ("id", "schemaName", "timestamp", "accountId", "attributes", "dimensions")


class _FileSink:
    """One landing file, written chunk by chunk, then renamed into place.

    Writers write, then rename (contract §1.1): a reader never sees a half-written file.
    """

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        self.tmp = path.with_name(path.name + ".partial")
        self.raw = self.gz = self.parquet = None

    def write(self, df: pl.DataFrame) -> None:
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            # Every column is UTF-8 text; attributes and dimensions hold JSON text.
            schema = pa.schema([(c, pa.string()) for c in _PARQUET_COLUMNS])
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(
                    self.tmp, schema, compression="zstd", write_statistics=False
                )
            self.parquet.write_table(df.select(_PARQUET_COLUMNS).to_arrow().cast(schema))
            return
        if self.raw is None:
            self.raw = self.tmp.open("wb")
            if self.fmt == "jsonl.gz":
                # mtime=0 and no file name in the header: same bytes for the same seed.
                self.gz = gzip.GzipFile(
                    filename="", mode="wb", fileobj=self.raw, mtime=0, compresslevel=GZIP_LEVEL
                )
        df.write_csv(self.gz or self.raw, include_header=False, quote_style="never")

    def close(self) -> None:
        for handle in (self.parquet, self.gz, self.raw):
            if handle is not None:
                handle.close()
        self.tmp.replace(self.path)


def _file_bounds(arrival: np.ndarray, p0: int, start: date, files: int | None, fmt: str):
    """(name, first, end) per file over the arrival-ordered rows; names sort in that order."""
    total = len(arrival)
    if total == 0:
        return []
    if files is None:
        day_idx = (arrival - p0) // DAY
        cuts = np.flatnonzero(np.diff(day_idx)) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [total]])
        return [
            (
                f"events-{(start + timedelta(days=int(day_idx[s]))).isoformat()}.{fmt}",
                int(s),
                int(e),
            )
            for s, e in zip(starts, ends, strict=True)
        ]
    k = min(files, total)
    edges = [total * i // k for i in range(k + 1)]
    bounds = []
    for i in range(k):
        first_day = datetime.fromtimestamp(int(arrival[edges[i]]), UTC).date()
        name = f"events-{first_day.isoformat()}-part{i + 1:04d}.{fmt}"
        bounds.append((name, edges[i], edges[i + 1]))
    return bounds


def _relative_to(path: Path, base: Path) -> str:
    """`path` relative to the manifest's folder when inside it: manifests stay byte-identical."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def generate_events(
    catalog_dir: Path,
    out_dir: Path,
    events: int,
    days: int,
    seed: int,
    start: date,
    fmt: str = "jsonl",
    files: int | None = None,
    bad_share: float = 0.01,
) -> Manifest:
    """Write `events` records for the catalog's accounts to `out_dir/landing/`, return the manifest.

    `events` counts every record written, planted faults included (`round(events * bad_share)`
    of them). The data period is `[start, start + days)` UTC; run ingestion with the manifest's
    `recommended_as_of` (start + days + 1 day). Files are one per arrival day, or `files`
    equal parts in arrival order; names sort in ingestion order. Also writes
    `out_dir/manifest.json` and `out_dir/planted.csv` (one row per planted bad record).
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if events < 0 or days < 1 or not 0 <= bad_share <= 1:
        raise ValueError("need events >= 0, days >= 1 and 0 <= bad_share <= 1")
    if files is not None and files < 1:
        raise ValueError("files must be at least 1")
    view = read_catalog(Path(catalog_dir))
    if not view.accounts or not view.schemas:
        raise ValueError(f"catalog {catalog_dir} has no accounts or no event schemas")
    rng = np.random.default_rng([seed, 0xE7E7])
    p0 = _epoch(start)
    p1 = p0 + days * DAY
    ctx = _build_context(view, seed, p0, p1, rng)

    cov = _coverage_arrays(ctx)
    active = cov[3] > cov[2]
    if not active.any():
        raise ValueError("no account of the catalog has a plan assignment covering the period")

    # Heavy-tailed volume per account (lognormal), scaled by the share of the period it is on a
    # plan; each account has its own mix of event schemas.
    n_acc = len(view.accounts)
    coverage_share = (cov[3] - cov[2]) / (p1 - p0)
    weights = rng.lognormal(0.0, 1.6, n_acc) * np.where(active, coverage_share, 0.0)
    weights /= weights.sum()
    mix = rng.dirichlet(np.full(len(view.schemas), 0.8), size=n_acc)
    base = {
        "gb": rng.lognormal(3.0, 1.5, n_acc),
        "users": np.maximum(1, rng.lognormal(3.0, 1.2, n_acc)).astype(np.int64),
        "home": rng.integers(0, 1 << 30, n_acc),
    }
    dim_choices = _dim_choices(ctx)

    # Parquet rows are always parseable; a catalog without attributes has no value to spoil.
    kinds = [k for k in FAULT_STATUS if not (fmt == "parquet" and k == "unparseable")]
    if not any(sv.attributes for sv in view.schemas):
        kinds = [k for k in kinds if k not in ("non_numeric_attribute", "nan_attribute")]
    counts = allocate(round(events * bad_share), kinds)
    n_exact, n_conf = counts["exact_duplicate"], counts["conflicting_duplicate"]
    n_dup = n_exact + n_conf
    n_clean = events - sum(counts.values())
    n_base = events - n_dup  # clean records, then one template per non-duplicate fault

    # Layout: [clean | fault templates | duplicates]. The duplicate slots are sampled too and
    # then overwritten with copies of their originals (no second allocation of every column).
    rows = _sample_rows(rng, ctx, events, weights, cov, mix)
    # Number clean records (and, apart, the templates) in time order: ids grow with time and
    # the arrival-order gathers while writing stay nearly sequential (cache-friendly).
    by_time = np.concatenate(
        [
            np.argsort(rows["ts"][:n_clean], kind="stable"),
            n_clean + np.argsort(rows["ts"][n_clean:n_base], kind="stable"),
            np.arange(n_base, events),
        ]
    )
    rows = _take(rows, by_time)
    rows["n"] = np.arange(events, dtype=np.int32)
    rows["id_mode"] = np.zeros(events, dtype=np.int8)
    rows["kind"] = np.zeros(events, dtype=np.int8)
    at = n_clean
    for kind in kinds:
        if kind not in ("exact_duplicate", "conflicting_duplicate"):
            rows["kind"][at : at + counts[kind]] = KIND[kind]
            at += counts[kind]
    rows["kind"][n_base : n_base + n_exact] = KIND["exact_duplicate"]
    rows["kind"][n_base + n_exact :] = KIND["conflicting_duplicate"]
    # A bad value needs an attribute to spoil: such templates use a schema that has one.
    with_attrs = [s for s, sv in enumerate(view.schemas) if sv.attributes]
    needs_attr = np.flatnonzero(
        np.isin(rows["kind"], [KIND["non_numeric_attribute"], KIND["nan_attribute"]])
    )
    rows["schema"][needs_attr] = np.asarray(with_attrs)[
        rng.integers(0, len(with_attrs), len(needs_attr))
    ]
    _fill_payload(rng, ctx, rows, base, dim_choices)

    # A few clean records without an id; the derived id hashes the payload, so id-less rows
    # must all differ (first of identical payloads keeps no id, the rest get theirs back).
    no_id = np.flatnonzero(rng.random(n_clean) < _SHARE_NO_ID)
    if len(no_id):
        payload_cols = ["acct_ref", "schema", "ts", "ts_fmt", "shape", "unit_on"]
        payload_cols += [f"{c}{j}" for c in "vs" for j in range(ctx.n_attr)]
        payload_cols += [f"d{j}" for j in range(ctx.n_dim)]
        key = np.column_stack([rows[c][no_id] for c in payload_cols]).astype(np.int64)
        _, first = np.unique(key, axis=0, return_index=True)
        no_id = no_id[np.sort(first)]
        rows["id_mode"][no_id] = 1
    _plant(rng, ctx, rows, fmt)

    # Arrival: a clean record lands seconds to hours after its timestamp; records timed outside
    # the period arrive at some moment in it. Seconds from the period start fit in int32.
    latency = np.minimum(rng.lognormal(3.0, 1.5, events), 6 * 3600).astype(np.int64)
    inside = (rows["ts"] >= p0) & (rows["ts"] < p1)
    rows["arrival"] = np.where(
        inside, np.minimum(rows["ts"] - p0 + latency, p1 - p0 - 1), rng.integers(0, p1 - p0, events)
    ).astype(np.int32)

    # Resends of clean records that carry an id: distinct originals, each resent once, later.
    originals = np.flatnonzero(rows["id_mode"][:n_clean] == 0)
    if len(originals) < n_dup:
        raise ValueError(
            "too few clean records to plant duplicates; raise events or lower bad_share"
        )
    picked = np.sort(rng.choice(originals, size=n_dup, replace=False))
    dup = np.arange(n_base, events)
    for col, values in rows.items():
        if col != "kind":
            values[dup] = values[picked]
    conf = dup[n_exact:]
    has_attr = np.array(
        [bool(view.schemas[s].attributes) for s in rows["schema"][conf]], dtype=bool
    )
    rows["v0"][conf[has_attr]] += 1  # same id, one attribute value changed
    rows["ts"][conf[~has_attr]] += 1
    quick = rng.random(n_dup) < 0.5
    delay = np.where(quick, rng.integers(1, 600, n_dup), rng.integers(600, 3 * DAY, n_dup))
    rows["arrival"][dup] = np.minimum(rows["arrival"][dup] + delay, p1 - p0 - 1)

    # Ingestion order = arrival order, ties by position (a duplicate sits after its original).
    # Rows stay put; each file chunk gathers its rows.
    order = np.argsort(rows["arrival"], kind="stable")
    arrival = rows["arrival"][order].astype(np.int64) + p0
    bounds = _file_bounds(arrival, p0, start, files, fmt)
    total = len(order)

    out = Path(out_dir)
    landing = out / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    names = {b[0] for b in bounds}
    for old in landing.glob("events-*"):
        # Stale output of an earlier run of the generator would break the manifest's counts.
        if old.name not in names and old.is_file():
            old.unlink()
    # One writer thread, fed in order: the next chunk renders while the last one is written
    # (compression and the kernel's copy overlap polars' work). At most one chunk waits.
    pools = _pools(ctx)
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        for name, s, e in bounds:
            sink = _FileSink(landing / name, fmt)
            for c in range(s, e, CHUNK_ROWS):
                frame = _render(ctx, _take(rows, order[c : min(c + CHUNK_ROWS, e)]), fmt, pools)
                if pending is not None:
                    pending.result()
                pending = writer.submit(sink.write, frame)
            pending.result()
            pending = writer.submit(sink.close)
        if pending is not None:
            pending.result()

    # Planted records with where they landed (raw_ref as the pipeline log spells it).
    bad_pos = np.flatnonzero(rows["kind"][order] != KIND[CLEAN])
    bad = order[bad_pos]
    file_starts = np.array([b[1] for b in bounds], dtype=np.int64)
    file_idx = np.searchsorted(file_starts, bad_pos, side="right") - 1
    bad_files = [bounds[i][0] for i in file_idx]
    bad_lines = bad_pos - file_starts[file_idx] + 1 if len(bad_pos) else bad_pos
    bad_kinds = [KIND_NAMES[c] for c in rows["kind"][bad]]
    # Unparseable records have no usable id; the pipeline identifies them by raw_ref alone.
    id_mode = np.where(rows["kind"][bad] == KIND["unparseable"], 1, rows["id_mode"][bad])
    planted = pl.DataFrame(
        {
            "raw_ref": [f"{f}:{ln}" for f, ln in zip(bad_files, bad_lines, strict=True)],
            "source_file": bad_files,
            "line": bad_lines,
            "event_id": [
                f"evt-{seed}-{n}" if m == 0 else ""
                for n, m in zip(rows["n"][bad], id_mode, strict=True)
            ],
            "kind": bad_kinds,
            "expected_status": [FAULT_STATUS[k] for k in bad_kinds],
        },
        schema={
            "raw_ref": pl.String,
            "source_file": pl.String,
            "line": pl.Int64,
            "event_id": pl.String,
            "kind": pl.String,
            "expected_status": pl.String,
        },
    )
    planted_path = out / "planted.csv"
    planted.write_csv(planted_path)

    kind_counts = {CLEAN: int(n_clean), **{k: int(counts[k]) for k in kinds}}
    status_counts: dict[str, int] = {}
    decided: dict[str, int] = {}
    for kind, c in kind_counts.items():
        status = CLEAN if kind == CLEAN else FAULT_STATUS[kind]
        status_counts[status] = status_counts.get(status, 0) + c
        if kind in INGESTION_DECIDED_KINDS:
            decided[status] = decided.get(status, 0) + c
    notes = [
        "clean = METERED or NO_MATCHING_METERS, depending on meter filters",
        "undeclared_attribute is INVALID but catalog-dependent (recomputed every run)",
        "timestamps of clean records lie in [period_start, period_end); future_timestamp ones "
        "are after recommended_as_of + 2 days",
    ]
    if fmt == "parquet":
        notes.append("parquet: no unparseable kind; missing fields are nulls")
    manifest = Manifest(
        seed=seed,
        format=fmt,
        catalog_dir=_relative_to(Path(catalog_dir), out),
        landing_dir="landing",
        period_start=_iso(p0),
        period_end=_iso(p1),
        recommended_as_of=_iso(ctx.as_of),
        records_total=int(total),
        files=[b[0] for b in bounds],
        records_per_file={b[0]: b[2] - b[1] for b in bounds},
        kind_counts=kind_counts,
        kind_expected_status={CLEAN: CLEAN, **{k: FAULT_STATUS[k] for k in kinds}},
        expected_status_counts=status_counts,
        ingestion_decided_kinds=[k for k in kinds if k in INGESTION_DECIDED_KINDS],
        ingestion_decided_status_counts=decided,
        ingestion_decided_statuses=list(INGESTION_DECIDED_STATUSES),
        catalog_dependent_statuses=list(CATALOG_DEPENDENT_STATUSES),
        clean_without_id=int(len(no_id)),
        bad_share=float(bad_share),
        planted_records_file=planted_path.name,
        notes=notes,
    )
    manifest.write(out / "manifest.json")
    return manifest
