"""Planted fault kinds of the synthetic event stream and the pipeline status each one must get."""

from __future__ import annotations

# Every planted record carries exactly one fault, so its status is certain under the precedence
# of docs/semantics.md ("Which status wins"). Order here is the order of the manifest and docs.
CLEAN = "clean"

FAULT_STATUS: dict[str, str] = {
    "exact_duplicate": "DUPLICATE",
    "conflicting_duplicate": "DUPLICATE_CONFLICT",
    "unparseable": "INVALID",
    "missing_timestamp": "INVALID",
    "missing_account_id": "INVALID",
    "missing_schema_name": "INVALID",
    "bad_id": "INVALID",
    "bad_timestamp": "INVALID",
    "non_numeric_attribute": "INVALID",
    "nan_attribute": "INVALID",
    "future_timestamp": "INVALID",
    "unknown_account": "ACCOUNT_NOT_FOUND",
    "unknown_schema": "SCHEMA_NOT_DEFINED",
    "undeclared_attribute": "INVALID",
    "before_plan": "NO_PRICE_PLAN",
}

# Kinds whose status is fixed when the record is ingested (parse, validation, dedupe); the
# rest depend on the catalog and are recomputed by every run for open cycles.
INGESTION_DECIDED_KINDS = frozenset(
    {
        "exact_duplicate",
        "conflicting_duplicate",
        "unparseable",
        "missing_timestamp",
        "missing_account_id",
        "missing_schema_name",
        "bad_id",
        "bad_timestamp",
        "non_numeric_attribute",
        "nan_attribute",
        "future_timestamp",
    }
)

INGESTION_DECIDED_STATUSES = ("INVALID", "DUPLICATE", "DUPLICATE_CONFLICT")
CATALOG_DEPENDENT_STATUSES = (
    "ACCOUNT_NOT_FOUND",
    "SCHEMA_NOT_DEFINED",
    "INVALID",  # only the undeclared-attribute kind
    "NO_PRICE_PLAN",
    "NO_MATCHING_METERS",
    "METERED",
)

# Relative frequency of each kind among the bad records: resends dominate real feeds.
_WEIGHTS: dict[str, float] = {
    "exact_duplicate": 30,
    "conflicting_duplicate": 8,
    "unparseable": 6,
    "missing_timestamp": 4,
    "missing_account_id": 4,
    "missing_schema_name": 3,
    "bad_id": 3,
    "bad_timestamp": 4,
    "non_numeric_attribute": 6,
    "nan_attribute": 3,
    "future_timestamp": 4,
    "unknown_account": 8,
    "unknown_schema": 4,
    "undeclared_attribute": 5,
    "before_plan": 8,
}


def allocate(n_bad: int, kinds: list[str]) -> dict[str, int]:
    """Split n_bad records over kinds: one of each first (when possible), the rest by weight."""
    counts = dict.fromkeys(kinds, 0)
    if n_bad <= 0 or not kinds:
        return counts
    if n_bad < len(kinds):
        # Too few to plant every kind: the heaviest kinds first, deterministic.
        for kind in sorted(kinds, key=lambda k: (-_WEIGHTS[k], kinds.index(k)))[:n_bad]:
            counts[kind] = 1
        return counts
    for kind in kinds:
        counts[kind] = 1
    rest = n_bad - len(kinds)
    total_w = sum(_WEIGHTS[k] for k in kinds)
    shares = {k: rest * _WEIGHTS[k] / total_w for k in kinds}
    for k in kinds:
        counts[k] += int(shares[k])
    # Largest remainder, ties by kind order, so the split always sums to n_bad.
    left = n_bad - sum(counts.values())
    by_rem = sorted(kinds, key=lambda k: (-(shares[k] - int(shares[k])), kinds.index(k)))
    for k in by_rem[:left]:
        counts[k] += 1
    return counts
