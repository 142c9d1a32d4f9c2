"""Deterministic synthetic catalog (pricing.yaml and the entity CSVs) in the contract's §1.2 format."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

# Pricing is fixed text (it is code, reviewed like code); only the entities vary with the seed.
# Three plans: USD graduated, USD volume/package/flat-fee/commitment, EUR. Rate-card ids are
# globally unique so credits' `applies_to` is unambiguous across plans.
PRICING_YAML = """\
# Synthetic pricing catalog written by `tallyhouse generate` (deterministic, seed-independent).
event_schemas:
  - name: llm_call
    attributes: [{name: input_tokens, unit: tokens}, {name: output_tokens, unit: tokens}]
    dimensions: [model, region]
  - name: api_request
    attributes: [{name: bytes, unit: bytes}, {name: user_id}]
    dimensions: [endpoint, method]
  - name: storage_snapshot
    attributes: [{name: gb_stored, unit: GB}]
    dimensions: [region]

usage_meters:
  - id: llm_calls
    name: LLM calls
    event_schema: llm_call
    aggregation: COUNT
  - id: llm_input_tokens
    name: LLM input tokens
    event_schema: llm_call
    aggregation: SUM
    value: {"var": "attributes.input_tokens"}
  - id: llm_input_tokens_opus
    name: Opus input tokens
    event_schema: llm_call
    aggregation: SUM
    value: {"var": "attributes.input_tokens"}
    filter: {"==": [{"var": "dimensions.model"}, "opus"]}
  - id: llm_input_tokens_other
    name: Sonnet and Haiku input tokens
    event_schema: llm_call
    aggregation: SUM
    value: {"var": "attributes.input_tokens"}
    filter: {"in": [{"var": "dimensions.model"}, ["sonnet", "haiku"]]}
  - id: llm_output_tokens
    name: LLM output tokens
    event_schema: llm_call
    aggregation: SUM
    value: {"var": "attributes.output_tokens"}
  - id: api_requests
    name: API requests (health checks are free)
    event_schema: api_request
    aggregation: COUNT
    filter: {"!=": [{"var": "dimensions.endpoint"}, "/v1/health"]}
  - id: api_egress_gb
    name: API egress (GB)
    event_schema: api_request
    aggregation: SUM
    value: {"/": [{"var": "attributes.bytes"}, 1000000000]}
    filter: {"!=": [{"var": "dimensions.endpoint"}, "/v1/health"]}
  - id: active_users
    name: Monthly active API users
    event_schema: api_request
    aggregation: UNIQUE_COUNT
    value: {"var": "attributes.user_id"}
    filter: {"and": [{"!=": [{"var": "dimensions.endpoint"}, "/v1/health"]}, {"!!": [{"var": "attributes.user_id"}]}]}
  - id: storage_peak_gb
    name: Peak storage (GB)
    event_schema: storage_snapshot
    aggregation: MAX
    value: {"var": "attributes.gb_stored"}
  - id: storage_latest_gb
    name: Storage at cycle end (GB)
    event_schema: storage_snapshot
    aggregation: LATEST
    value: {"var": "attributes.gb_stored"}

price_plans:
  - id: starter_usd
    name: Starter (USD)
    currency: USD
    billing_cycle: {interval: MONTHLY, anchor_day: 1, grace_period_days: 3}
    rate_cards:
      - id: starter_input_tokens
        type: USAGE
        meter: llm_input_tokens
        pricing_model: TIERED
        slabs:
          - {start_after: 0, rate: "0.000003"}
          - {start_after: 10000000, rate: "0.0000025"}
          - {start_after: 100000000, rate: "0.000002"}
      - id: starter_output_tokens
        type: USAGE
        meter: llm_output_tokens
        pricing_model: TIERED
        slabs:
          - {start_after: 0, rate: "0.000015"}
          - {start_after: 10000000, rate: "0.000012"}
      - id: starter_api_requests
        type: USAGE
        meter: api_requests
        pricing_model: TIERED
        slabs:
          - {start_after: 100000, rate: "0.0004"}
      - id: starter_storage
        type: USAGE
        meter: storage_peak_gb
        pricing_model: TIERED
        slabs:
          - {start_after: 5, rate: "0.12"}
      - {id: starter_platform_fee, type: FIXED_FEE, amount: "29.00", proration: true}
    pricing_rules:
      - id: starter_api_cap
        name: API requests capped at $200 a cycle
        order: 1
        condition: {">": [{"var": "revenue.starter_api_requests"}, 200]}
        computation: 200
        action: {type: UPDATE, target: revenue.starter_api_requests}

  - id: scale_usd
    name: Scale (USD)
    currency: USD
    billing_cycle: {interval: MONTHLY, anchor_day: 15, grace_period_days: 5}
    rate_cards:
      - id: scale_input_tokens
        type: USAGE
        meter: llm_input_tokens
        pricing_model: VOLUME
        slabs:
          - {start_after: 0, rate: "0.0000028"}
          - {start_after: 50000000, rate: "0.0000022", flat_fee: "50.00"}
          - {start_after: 500000000, rate: "0.0000018", flat_fee: "200.00"}
      - id: scale_output_tokens
        type: USAGE
        meter: llm_output_tokens
        pricing_model: VOLUME
        slabs:
          - {start_after: 0, rate: "0.000013"}
          - {start_after: 20000000, rate: "0.000011"}
      - id: scale_api_requests
        type: USAGE
        meter: api_requests
        pricing_model: VOLUME
        slabs:
          - {start_after: 0, rate: "0.30", package_size: 1000}
          - {start_after: 10000000, rate: "0.20", package_size: 1000}
      - id: scale_egress
        type: USAGE
        meter: api_egress_gb
        pricing_model: TIERED
        slabs:
          - {start_after: 0, rate: "0.09"}
        maximum: "5000.00"
      - id: scale_active_users
        type: USAGE
        meter: active_users
        pricing_model: TIERED
        slabs:
          - {start_after: 50, rate: "2.00"}
      - id: scale_storage
        type: USAGE
        meter: storage_peak_gb
        pricing_model: VOLUME
        slabs:
          - {start_after: 0, rate: "0.10"}
          - {start_after: 1000, rate: "0.08"}
        minimum: "10.00"
      - {id: scale_platform_fee, type: FIXED_FEE, amount: "499.00", proration: true}
      - {id: scale_commitment, type: MINIMUM_COMMITMENT, amount: "2000.00"}
    pricing_rules:
      - id: scale_token_discount
        name: 10% off input tokens above $1,000
        order: 1
        condition: {">": [{"var": "revenue.scale_input_tokens"}, 1000]}
        computation: {"*": [{"var": "revenue.scale_input_tokens"}, 0.9]}
        action: {type: UPDATE, target: revenue.scale_input_tokens}
      - id: scale_premium_support
        name: Premium support (5%, at least $100)
        order: 2
        computation: {"max": [{"*": [{"var": "subtotal"}, 0.05]}, 100]}
        action: {type: ADD, code: premium_support, description: "Premium support (5% of subtotal, min $100)"}

  - id: growth_eur
    name: Growth (EUR)
    currency: EUR
    billing_cycle: {interval: MONTHLY, anchor_day: 1, grace_period_days: 3}
    rate_cards:
      - id: growth_opus_input
        type: USAGE
        meter: llm_input_tokens_opus
        pricing_model: TIERED
        slabs:
          - {start_after: 0, rate: "0.000014"}
          - {start_after: 5000000, rate: "0.000011"}
      - id: growth_other_input
        type: USAGE
        meter: llm_input_tokens_other
        pricing_model: TIERED
        slabs:
          - {start_after: 1000000, rate: "0.0000025"}
      - id: growth_output_tokens
        type: USAGE
        meter: llm_output_tokens
        pricing_model: TIERED
        slabs:
          - {start_after: 0, rate: "0.000014"}
      - id: growth_llm_calls
        type: USAGE
        meter: llm_calls
        pricing_model: VOLUME
        slabs:
          - {start_after: 0, rate: "0.50", package_size: 1000}
      - id: growth_storage
        type: USAGE
        meter: storage_latest_gb
        pricing_model: TIERED
        slabs:
          - {start_after: 0, rate: "0.09"}
      - {id: growth_platform_fee, type: FIXED_FEE, amount: "79.00", proration: false}
    pricing_rules:
      - id: growth_loyalty
        name: Loyalty discount (3% above EUR 500, at most EUR 150)
        order: 1
        condition: {"and": [{"==": [{"var": "account.currency"}, "EUR"]}, {">": [{"var": "subtotal"}, 500]}]}
        computation: {"-": [0, {"min": [{"*": [{"var": "subtotal"}, 0.03]}, 150]}]}
        action: {type: ADD, code: loyalty_discount, description: "Loyalty discount"}
      - id: growth_short_cycle_calls
        name: Calls free in cycles shorter than a week
        order: 2
        condition: {"<": [{"var": "cycle.days"}, 7]}
        computation: {"if": [{">": [{"var": "usage.growth_llm_calls"}, 0]}, 0, {"var": "revenue.growth_llm_calls"}]}
        action: {type: UPDATE, target: revenue.growth_llm_calls}
"""

PLAN_CURRENCY = {"starter_usd": "USD", "scale_usd": "USD", "growth_eur": "EUR"}
PLAN_USAGE_CARDS = {
    "starter_usd": [
        "starter_input_tokens",
        "starter_output_tokens",
        "starter_api_requests",
        "starter_storage",
    ],
    "scale_usd": [
        "scale_input_tokens",
        "scale_output_tokens",
        "scale_api_requests",
        "scale_egress",
        "scale_active_users",
        "scale_storage",
    ],
    "growth_eur": [
        "growth_opus_input",
        "growth_other_input",
        "growth_output_tokens",
        "growth_llm_calls",
        "growth_storage",
    ],
}
PLAN_FIXED_FEES = {
    "starter_usd": "starter_platform_fee",
    "scale_usd": "scale_platform_fee",
    "growth_eur": "growth_platform_fee",
}

# Timezones with their weights; Asia/Kolkata has a half-hour offset and the Americas and
# Europe change to and from daylight saving, which the pipeline must not trip over.
USD_TIMEZONES = (
    ("UTC", 0.30),
    ("America/New_York", 0.22),
    ("America/Los_Angeles", 0.14),
    ("Asia/Tokyo", 0.12),
    ("Asia/Kolkata", 0.07),
    ("Australia/Sydney", 0.06),
    ("America/Sao_Paulo", 0.05),
    ("Europe/London", 0.04),
)
EUR_TIMEZONES = (
    ("Europe/Berlin", 0.45),
    ("Europe/Paris", 0.25),
    ("Europe/Amsterdam", 0.15),
    ("UTC", 0.15),
)

_ADJECTIVES = (
    "Acme Blue Bright Cedar Delta Ember Falcon Granite Harbor Indigo Juniper Kestrel Lumen "
    "Maple Nimbus Onyx Pioneer Quartz Riverside Summit Tidal Umber Vertex Willow Zephyr"
).split()
_NOUNS = (
    "Analytics Robotics Labs Health Logistics Media Systems Foods Energy Studios Capital "
    "Networks Bio Learning Retail Security Travel Games"
).split()
_ENVS = ("prod", "staging", "eu", "batch")


def _money(cents: int) -> str:
    """Integer cents as a decimal string ("-25.00"), never a float."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def generate_catalog(out_dir: Path, accounts: int, seed: int, start: date) -> Path:
    """Write a valid synthetic catalog to `out_dir/catalog/` and return that folder.

    Accounts are spread over several IANA timezones, ~10% carry aliases; most are on a plan
    since before `start`, ~15% onboard during the first weeks after it, a few change plan
    (USD to USD, so the currency holds) or churn mid-period. Credits and wallet movements are
    in the account's currency.
    """
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    rng = np.random.default_rng([seed, 0xCA7A])
    catalog = Path(out_dir) / "catalog"
    catalog.mkdir(parents=True, exist_ok=True)
    (catalog / "pricing.yaml").write_text(PRICING_YAML, encoding="utf-8")

    # Customers own one to three accounts (prod, staging, ...).
    customer_rows: list[list[str]] = []
    account_rows: list[list[str]] = []
    used_ids: set[str] = set()
    used_slugs: set[str] = set()
    acc_plans: list[str] = []
    acc_ids: list[str] = []
    n_cust = 0
    while len(acc_ids) < accounts:
        n_cust += 1
        adj = _ADJECTIVES[int(rng.integers(len(_ADJECTIVES)))]
        noun = _NOUNS[int(rng.integers(len(_NOUNS)))]
        slug = f"{adj}{noun}".lower()
        if slug in used_slugs:
            slug = f"{slug}{n_cust}"
        used_slugs.add(slug)
        cust_id = f"cus_{n_cust:05d}"
        customer_rows.append([cust_id, f"{adj} {noun}", f"billing@{slug}.example.com"])
        plan = str(rng.choice(list(PLAN_CURRENCY), p=[0.5, 0.25, 0.25]))
        zones = EUR_TIMEZONES if PLAN_CURRENCY[plan] == "EUR" else USD_TIMEZONES
        tz = str(rng.choice([z for z, _ in zones], p=[w for _, w in zones]))
        n_acc = min(int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1])), accounts - len(acc_ids))
        for k in range(n_acc):
            acc_id = f"acc_{slug}_{_ENVS[k]}"
            used_ids.add(acc_id)
            acc_ids.append(acc_id)
            acc_plans.append(plan)
            account_rows.append(
                [acc_id, cust_id, f"{adj} {noun} {_ENVS[k]}", PLAN_CURRENCY[plan], tz, ""]
            )

    # ~10% of accounts have aliases (an external id, sometimes also a legacy one); aliases
    # never collide with an account id or with each other.
    used_aliases: set[str] = set()
    for i in range(len(account_rows)):
        if rng.random() < 0.10:
            aliases = []
            for prefix in ("ext-", "legacy_") if rng.random() < 0.3 else ("ext-",):
                while True:
                    alias = f"{prefix}{int(rng.integers(10**6, 10**7))}"
                    if alias not in used_aliases and alias not in used_ids:
                        break
                used_aliases.add(alias)
                aliases.append(alias)
            account_rows[i][5] = ";".join(aliases)

    # Plan assignments: dates are local days, effective_until inclusive, empty = open-ended.
    assignment_rows: list[list[str]] = []
    n_asg = 0
    for acc_id, plan in zip(acc_ids, acc_plans, strict=True):
        roll = rng.random()
        if roll < 0.15:
            first = start + timedelta(days=int(rng.integers(2, 21)))  # onboards mid-period
        else:
            first = start - timedelta(days=int(rng.integers(1, 400)))
        change_roll = rng.random()
        if plan != "growth_eur" and roll >= 0.15 and change_roll < 0.10:
            # Mid-period plan change A -> B on day X: A ends X-1, B starts X (same currency).
            switch = start + timedelta(days=int(rng.integers(5, 26)))
            other = "scale_usd" if plan == "starter_usd" else "starter_usd"
            n_asg += 1
            assignment_rows.append(
                [
                    f"asg_{n_asg:06d}",
                    acc_id,
                    plan,
                    first.isoformat(),
                    (switch - timedelta(days=1)).isoformat(),
                ]
            )
            n_asg += 1
            assignment_rows.append([f"asg_{n_asg:06d}", acc_id, other, switch.isoformat(), ""])
        elif roll >= 0.15 and change_roll > 0.97:
            # Churned: the assignment ends a few weeks into the period, nothing follows.
            until = start + timedelta(days=int(rng.integers(10, 40)))
            n_asg += 1
            assignment_rows.append(
                [f"asg_{n_asg:06d}", acc_id, plan, first.isoformat(), until.isoformat()]
            )
        else:
            n_asg += 1
            assignment_rows.append([f"asg_{n_asg:06d}", acc_id, plan, first.isoformat(), ""])

    # Credits: promotional or goodwill grants in the account's currency, some restricted to
    # rate cards of the account's first plan.
    credit_rows: list[list[str]] = []
    wallet_rows: list[list[str]] = []
    n_credit = n_wallet = 0
    for acc_id, plan in zip(acc_ids, acc_plans, strict=True):
        currency = PLAN_CURRENCY[plan]
        if rng.random() < 0.20:
            n_credit += 1
            cents = int(rng.choice([5000, 10000, 25000, 50000]))
            eff_from = start - timedelta(days=int(rng.integers(0, 60)))
            eff_until = eff_from + timedelta(days=int(rng.integers(30, 366)))
            applies: list[str] = []
            if rng.random() < 0.5:
                cards = PLAN_USAGE_CARDS[plan] + [PLAN_FIXED_FEES[plan]]
                k = int(rng.integers(1, 3))
                applies = sorted(str(c) for c in rng.choice(cards, size=k, replace=False))
            credit_rows.append(
                [
                    f"cr_{n_credit:05d}",
                    acc_id,
                    _money(cents),
                    currency,
                    str(int(rng.integers(1, 4))),
                    eff_from.isoformat(),
                    eff_until.isoformat(),
                    ";".join(applies),
                ]
            )
        if rng.random() < 0.25:
            base = datetime(start.year, start.month, start.day)
            for txn_type in ("TOPUP", "ADJUSTMENT") if rng.random() < 0.2 else ("TOPUP",):
                n_wallet += 1
                when = base + timedelta(seconds=int(rng.integers(-30 * 86400, 20 * 86400)))
                if txn_type == "TOPUP":
                    cents = int(rng.choice([10000, 50000, 100000, 250000]))
                else:
                    cents = int(rng.choice([-2500, -1000, 1550, 5000]))
                wallet_rows.append(
                    [
                        f"wt_{n_wallet:06d}",
                        acc_id,
                        txn_type,
                        _money(cents),
                        currency,
                        when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    ]
                )

    _write_csv(catalog / "customers.csv", ["customer_id", "name", "email"], customer_rows)
    _write_csv(
        catalog / "accounts.csv",
        ["account_id", "customer_id", "name", "currency", "timezone", "aliases"],
        account_rows,
    )
    _write_csv(
        catalog / "plan_assignments.csv",
        ["assignment_id", "account_id", "plan_id", "effective_from", "effective_until"],
        assignment_rows,
    )
    _write_csv(
        catalog / "credit_grants.csv",
        [
            "credit_id",
            "account_id",
            "amount",
            "currency",
            "priority",
            "effective_from",
            "effective_until",
            "applies_to",
        ],
        credit_rows,
    )
    _write_csv(
        catalog / "wallet_transactions.csv",
        ["transaction_id", "account_id", "type", "amount", "currency", "occurred_at"],
        wallet_rows,
    )
    return catalog
