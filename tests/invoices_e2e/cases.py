"""Worked invoice cases: one catalog, two landing files, expectations worked out by hand.

Every account below is one case. All accounts are UTC, all plans MONTHLY (anchor day 1) with
3 days of grace, so a November invoice falls due at 2026-12-04T00:00:00Z (SEMANTICS 8).

Two nights are run on the same warehouse (conftest.billed):

- RUN_1 = 2026-11-30T12:00Z: November is open, every November invoice is a DRAFT; December
  has not begun, so no December invoice exists yet.
- RUN_2 = 2026-12-15T02:00Z: past November's grace, every November invoice is finalized
  (DUE or PAID); December has begun, its invoices are DRAFTs (due 2027-01-04).
  LANDING_2 (December usage and one late November event) is dropped in before RUN_2.

Every amount in this file was computed by hand from docs/semantics.md (rules 11-17 and the
readings), docs/invoices.md and docs/pricing-rules.md; the "how" comments show the
arithmetic. None is computed by code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RUN_1 = "2026-11-30T12:00:00Z"
RUN_2 = "2026-12-15T02:00:00Z"
NOV = "2026-11-01"
DEC = "2026-12-01"
NOV_DUE = "2026-12-04T00:00:00+00:00"  # 2026-12-01 + 3 days of grace, UTC midnight

# ---------------------------------------------------------------- catalog


def slab(start_after, rate, flat_fee=None, package_size=None) -> dict:
    out = {"start_after": str(start_after), "rate": str(rate)}
    if flat_fee is not None:
        out["flat_fee"] = str(flat_fee)
    if package_size is not None:
        out["package_size"] = str(package_size)
    return out


def usage(card_id: str, meter: str, slabs: list[dict], model: str = "TIERED") -> dict:
    return {"id": card_id, "type": "USAGE", "meter": meter, "pricing_model": model, "slabs": slabs}


def fee(card_id: str, amount: str, proration: bool = True) -> dict:
    return {"id": card_id, "type": "FIXED_FEE", "amount": amount, "proration": proration}


def commitment(card_id: str, amount: str) -> dict:
    return {"id": card_id, "type": "MINIMUM_COMMITMENT", "amount": amount}


def update(rule_id, order, computation, target, condition=None, name=None) -> dict:
    rule = {"id": rule_id, "name": name or rule_id, "order": order}
    if condition is not None:
        rule["condition"] = condition
    rule["computation"] = computation
    rule["action"] = {"type": "UPDATE", "target": target}
    return rule


def add(rule_id, order, computation, code, condition=None) -> dict:
    rule = {"id": rule_id, "name": rule_id, "order": order}
    if condition is not None:
        rule["condition"] = condition
    rule["computation"] = computation
    rule["action"] = {"type": "ADD", "code": code, "description": f"{code} line"}
    return rule


def var(name: str) -> dict:
    return {"var": name}


# The slabs of docs/pricing-rules.md §1 (TIERED: 25,000,000 units = 263.00,
# 10,000,001 units = 137.00).
DOC_SLABS = [
    slab(0, "0.000015"),
    slab(1000000, "0.000012", flat_fee="5.00"),
    slab(10000000, "9.00", package_size=1000000),
]

# plan id -> (currency, rate cards, pricing rules)
PLANS: dict[str, tuple[str, list[dict], list[dict]]] = {
    # docs/invoices.md §2, the worked example
    "growth": (
        "USD",
        [
            usage("api_calls", "m_a", [slab(0, "0.01")]),
            fee("platform_fee", "99.00"),
            commitment("commitment", "1200.00"),
        ],
        [
            update(
                "volume_discount",
                1,
                {"*": [var("revenue.api_calls"), "0.9"]},
                "revenue.api_calls",
                condition={">": [var("revenue.api_calls"), 1000]},
                name="10% off API calls above $1,000",
            ),
            add("support_addon", 2, {"*": [var("subtotal"), "0.05"]}, "premium_support"),
        ],
    ),
    # UPDATE usage.X, re-rated through the card's slabs (docs/pricing-rules.md, Actions)
    "ratecap": (
        "USD",
        [usage("tok", "m_a", DOC_SLABS)],
        [update("cap", 1, {"min": [var("usage.tok"), 10000001]}, "usage.tok")],
    ),
    # a rule dividing by zero between two rules that apply
    "div0": (
        "USD",
        [usage("api", "m_a", [slab(0, "1.00")]), usage("calls", "m_b", [slab(0, "0.10")])],
        [
            add("setup", 1, 5, "setup"),
            add("per_call", 2, {"/": [var("subtotal"), var("usage.calls")]}, "per_call"),
            update("half_off", 3, {"*": [var("revenue.api"), "0.5"]}, "revenue.api"),
            # a condition that divides by zero: CONDITION_ERROR, nothing applied
            add(
                "guarded",
                4,
                1,
                "guarded",
                condition={">": [{"/": [var("revenue.api"), var("usage.calls")]}, 1]},
            ),
        ],
    ),
    # a discount that drives the subtotal below zero, with a commitment behind it
    "floor": (
        "USD",
        [usage("api", "m_a", [slab(0, "1.00")]), commitment("commit", "25.00")],
        [add("loyalty", 1, -50, "loyalty")],
    ),
    # a negative ADD lowers what credits may cover (they never exceed the subtotal)
    "cards_discount": (
        "USD",
        [usage("api", "m_a", [slab(0, "1.00")])],
        [add("promo", 1, -30, "promo")],
    ),
    # an UPDATE usage.X to a negative usage: rated as 0 (no minimum), flagged
    "neg_usage": (
        "USD",
        [{**usage("tok", "m_a", [slab(0, "1.00")]), "minimum": "5.00"}],
        [update("refund", 1, {"-": [var("usage.tok"), 100]}, "usage.tok")],
    ),
    "commit": (
        "USD",
        [usage("api", "m_a", [slab(0, "1.00")]), commitment("commit", "100.00")],
        [],
    ),
    # credit ordering
    "cards": (
        "USD",
        [
            usage("api", "m_a", [slab(0, "1.00")]),
            usage("calls", "m_b", [slab(0, "1.00")]),
            fee("platform", "10.00"),
        ],
        [],
    ),
    "cards_rule": (
        "USD",
        [usage("api", "m_a", [slab(0, "1.00")]), fee("platform", "10.00")],
        [update("half", 1, {"*": [var("revenue.api"), "0.5"]}, "revenue.api")],
    ),
    # rounding
    "usd_half": (
        "USD",
        [usage("u", "m_a", [slab(0, "0.335")]), fee("fee", "2.005", proration=False)],
        [],
    ),
    "usd_neg_half": (
        "USD",
        [usage("v", "m_a", [slab(0, "0.001")])],
        [update("nudge", 1, {"-": [var("revenue.v"), "0.005"]}, "revenue.v")],
    ),
    "jpy": (
        "JPY",
        [usage("u", "m_a", [slab(0, "0.5")]), fee("fee", "1000")],
        [add("tax", 1, {"*": [var("subtotal"), "0.1"]}, "tax")],
    ),
    "kwd": (
        "KWD",
        [usage("u", "m_a", [slab(0, "0.0005")]), fee("fee", "10.0005", proration=False)],
        [add("tax", 1, {"*": [var("subtotal"), "0.1"]}, "tax")],
    ),
    # wallet
    "wallet": ("USD", [usage("u", "m_a", [slab(0, "1.00")])], []),
}

METERS = [
    {
        "id": meter_id,
        "name": meter_id,
        "event_schema": "usage",
        "aggregation": "SUM",
        "value": {"var": "attributes.qty"},
        "filter": {"==": [{"var": "dimensions.meter"}, meter_id]},
    }
    for meter_id in ("m_a", "m_b")
]

# account -> plan (every account is assigned from November 1st, open-ended)
ACCOUNTS: dict[str, str] = {
    "acc_acme": "growth",
    "acc_small": "growth",
    "acc_cap": "ratecap",
    "acc_div0": "div0",
    "acc_neg": "floor",
    "acc_commit": "commit",
    "acc_prio": "cards",
    "acc_expiry_order": "cards",
    "acc_tie": "cards",
    "acc_applies": "cards",
    "acc_carry": "cards",
    "acc_disc": "cards_rule",
    "acc_add_cap": "cards_discount",
    "acc_dated": "cards",
    "acc_neg_usage": "neg_usage",
    "acc_ny": "cards",
    "acc_usd_half": "usd_half",
    "acc_usd_neg": "usd_neg_half",
    "acc_jpy": "jpy",
    "acc_kwd": "kwd",
    "acc_wallet_split": "wallet",
    "acc_wallet_paid": "wallet",
    "acc_wallet_adj": "wallet",
    "acc_late": "wallet",
}

# credit_id, account, amount, priority, effective_from, effective_until, applies_to
CREDITS: list[tuple[str, str, str, int, str, str, str]] = [
    ("cr_welcome", "acc_acme", "150.00", 1, NOV, "2026-11-30", "platform_fee"),
    ("cr_promo", "acc_acme", "2000.00", 2, "2026-10-01", "", ""),
    ("cr_neg", "acc_neg", "100.00", 1, NOV, "", ""),
    ("cr_commit", "acc_commit", "50.00", 1, NOV, "", ""),
    # priority beats id: cr_z_p1 (priority 1) before cr_a_p2 (priority 2)
    ("cr_a_p2", "acc_prio", "100.00", 2, NOV, "", ""),
    ("cr_z_p1", "acc_prio", "25.00", 1, NOV, "", ""),
    # same priority: earliest effective_until first, whatever the id
    ("cr_a_late", "acc_expiry_order", "5.00", 1, NOV, "2026-12-31", ""),
    ("cr_z_early", "acc_expiry_order", "20.00", 1, NOV, "2026-11-30", ""),
    # same priority, same effective_until: credit_id decides
    ("cr_tie_a", "acc_tie", "10.00", 1, NOV, "2026-11-30", ""),
    ("cr_tie_b", "acc_tie", "100.00", 1, NOV, "2026-11-30", ""),
    ("cr_fee_only", "acc_applies", "50.00", 1, NOV, "2026-11-30", "platform"),
    ("cr_big", "acc_carry", "100.00", 1, NOV, "", ""),
    ("cr_api", "acc_disc", "100.00", 1, NOV, "", "api"),
    ("cr_jpy", "acc_jpy", "500.4", 1, NOV, "", ""),  # granted as 500 (JPY has no minor unit)
    ("cr_round", "acc_add_cap", "100.005", 1, NOV, "", ""),  # granted as 100.01 (half up)
    # begins Dec 1: not granted by RUN_1, not usable by November, used by December's DRAFT
    ("cr_dec", "acc_dated", "20.00", 1, DEC, "", ""),
    # October only, before the account's first invoice: granted, then expired unused
    ("cr_oct", "acc_dated", "15.00", 1, "2026-10-01", "2026-10-31", ""),
    # New York days: Nov 1 00:00 EDT to Dec 1 00:00 EST
    ("cr_ny", "acc_ny", "50.00", 1, NOV, "2026-11-30", "platform"),
]

# transaction_id, account, type, amount, occurred_at
WALLET: list[tuple[str, str, str, str, str]] = [
    ("wt_acme", "acc_acme", "TOPUP", "150.00", "2026-11-20T00:00:00Z"),
    ("wt_kwd", "acc_kwd", "TOPUP", "5.0005", "2026-11-15T00:00:00Z"),  # 5.001 KWD
    ("wt_split_before", "acc_wallet_split", "TOPUP", "30.00", "2026-11-20T10:00:00Z"),
    ("wt_split_at", "acc_wallet_split", "TOPUP", "40.00", "2026-12-04T00:00:00Z"),
    ("wt_split_after", "acc_wallet_split", "TOPUP", "25.00", "2026-12-05T09:00:00Z"),
    ("wt_paid", "acc_wallet_paid", "TOPUP", "100.00", "2026-11-10T00:00:00Z"),
    ("wt_adj_top", "acc_wallet_adj", "TOPUP", "50.00", "2026-11-05T00:00:00Z"),
    ("wt_adj_neg", "acc_wallet_adj", "ADJUSTMENT", "-80.00", "2026-11-06T00:00:00Z"),
    # after UTC midnight of Dec 4 but before New York's (05:00Z): November's to draw
    ("wt_ny", "acc_ny", "TOPUP", "20.00", "2026-12-04T03:00:00Z"),
]


# Every account is UTC but this one: its days, grace and credit dates are New York days.
# November there is [2026-11-01T04:00Z (EDT), 2026-12-01T05:00Z (EST)); it falls due at
# local midnight of Dec 4 = 2026-12-04T05:00Z.
TIMEZONES = {"acc_ny": "America/New_York"}
NY_DUE = "2026-12-04T05:00:00+00:00"


def timezone_of(account: str) -> str:
    return TIMEZONES.get(account, "UTC")


def currency_of(account: str) -> str:
    return PLANS[ACCOUNTS[account]][0]


def pricing() -> dict:
    return {
        "event_schemas": [
            {
                "name": "usage",
                "attributes": [{"name": "qty", "unit": "units"}],
                "dimensions": ["meter"],
            }
        ],
        "usage_meters": METERS,
        "price_plans": [
            {
                "id": plan_id,
                "name": plan_id,
                "currency": currency,
                "billing_cycle": {"interval": "MONTHLY", "anchor_day": 1, "grace_period_days": 3},
                "rate_cards": cards,
                **({"pricing_rules": rules} if rules else {}),
            }
            for plan_id, (currency, cards, rules) in PLANS.items()
        ],
    }


def account_rows() -> list[list[str]]:
    return [[a, "cus_inv", a, currency_of(a), timezone_of(a), ""] for a in ACCOUNTS]


def assignment_rows() -> list[list[str]]:
    return [[f"asg_{a[4:]}", a, plan, NOV, ""] for a, plan in ACCOUNTS.items()]


def credit_rows() -> list[list[str]]:
    return [
        [cid, acc, amount, currency_of(acc), str(prio), start, until, applies]
        for cid, acc, amount, prio, start, until, applies in CREDITS
    ]


def wallet_rows() -> list[list[str]]:
    return [[tid, acc, kind, amount, currency_of(acc), at] for tid, acc, kind, amount, at in WALLET]


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Event:
    event_id: str
    account: str
    when: str
    meter: str
    qty: str
    revenue: str  # the unrounded rated amount attributed to it (one event per card and cycle)
    landing: int = 1  # 1: ingested by RUN_1; 2: dropped in before RUN_2

    def record(self) -> dict:
        return {
            "id": self.event_id,
            "schemaName": "usage",
            "timestamp": self.when,
            "accountId": self.account,
            "attributes": {"qty": self.qty},
            "dimensions": {"meter": self.meter},
        }


EVENTS: list[Event] = [
    Event("acme-1", "acc_acme", "2026-11-10T10:00:00Z", "m_a", "100010", "1000.10"),  # × 0.01
    Event("small-1", "acc_small", "2026-11-10T10:00:00Z", "m_a", "1000", "10.00"),  # × 0.01
    Event("cap-1", "acc_cap", "2026-11-10T10:00:00Z", "m_a", "25000000", "263.00"),
    Event("div0-1", "acc_div0", "2026-11-10T10:00:00Z", "m_a", "10", "10.00"),
    Event("neg-1", "acc_neg", "2026-11-10T10:00:00Z", "m_a", "20", "20.00"),
    Event("commit-1", "acc_commit", "2026-11-10T10:00:00Z", "m_a", "30", "30.00"),
    Event("prio-1", "acc_prio", "2026-11-10T10:00:00Z", "m_a", "30", "30.00"),
    Event("expiry-1", "acc_expiry_order", "2026-11-10T10:00:00Z", "m_a", "30", "30.00"),
    Event("tie-1", "acc_tie", "2026-11-10T10:00:00Z", "m_a", "15", "15.00"),
    Event("applies-1", "acc_applies", "2026-11-10T10:00:00Z", "m_a", "30", "30.00"),
    Event("carry-1", "acc_carry", "2026-11-10T10:00:00Z", "m_a", "30", "30.00"),
    Event("carry-2", "acc_carry", "2026-12-05T10:00:00Z", "m_a", "70", "70.00", landing=2),
    Event("disc-1", "acc_disc", "2026-11-10T10:00:00Z", "m_a", "40", "40.00"),
    Event("addcap-1", "acc_add_cap", "2026-11-10T10:00:00Z", "m_a", "40", "40.00"),
    Event("dated-1", "acc_dated", "2026-11-10T10:00:00Z", "m_a", "30", "30.00"),
    Event("ny-1", "acc_ny", "2026-11-10T10:00:00Z", "m_a", "30", "30.00"),
    Event("negusage-1", "acc_neg_usage", "2026-11-10T10:00:00Z", "m_a", "30", "30.00"),
    Event("usdhalf-1", "acc_usd_half", "2026-11-10T10:00:00Z", "m_a", "3", "1.005"),  # × 0.335
    Event("usdneg-1", "acc_usd_neg", "2026-11-10T10:00:00Z", "m_a", "1004", "1.004"),  # × 0.001
    Event("jpy-1", "acc_jpy", "2026-11-10T10:00:00Z", "m_a", "2501", "1250.5"),  # × 0.5
    Event("kwd-1", "acc_kwd", "2026-11-10T10:00:00Z", "m_a", "7", "0.0035"),  # × 0.0005
    Event("split-1", "acc_wallet_split", "2026-11-10T10:00:00Z", "m_a", "50", "50.00"),
    Event("split-2", "acc_wallet_split", "2026-12-06T10:00:00Z", "m_a", "100", "100.00", 2),
    Event("paid-1", "acc_wallet_paid", "2026-11-10T10:00:00Z", "m_a", "40", "40.00"),
    Event("adj-1", "acc_wallet_adj", "2026-11-10T10:00:00Z", "m_a", "10", "10.00"),
    Event("late-1", "acc_late", "2026-11-10T10:00:00Z", "m_a", "10", "10.00"),
    # Received by RUN_2, dated in November: RUN_2 is the run that finalizes November, and it
    # finalizes "with every event known to that run" (rule 8): billed, not PAST_GRACE_PERIOD.
    Event("late-2", "acc_late", "2026-11-25T10:00:00Z", "m_a", "5", "5.00", landing=2),
]


# ---------------------------------------------------------------- invoices


@dataclass(frozen=True)
class InvoiceCase:
    """One invoice as one run sees it.

    `lines` in line_number order: (line_type, ref, amount) where ref is the rate card for
    USAGE / FIXED_FEE / MINIMUM_COMMITMENT_TRUE_UP, "rule>card" for PRICING_RULE_UPDATE,
    "rule:code" for PRICING_RULE_ADDITION, the code for ADJUSTMENT, the credit for CREDIT.
    """

    case_id: str
    account: str
    run: int  # 1 or 2
    period: str  # NOV or DEC
    lines: tuple[tuple[str, str, str], ...]
    status: str
    subtotal: str
    true_up: str = "0"
    credits: str = "0"
    total: str = "0"
    wallet: str = "0"
    due: str = "0"
    review: bool = False
    review_contains: tuple[str, ...] = field(default=())
    how: str = ""


U, F, UPD, ADD, ADJ, TU, CR = (
    "USAGE",
    "FIXED_FEE",
    "PRICING_RULE_UPDATE",
    "PRICING_RULE_ADDITION",
    "ADJUSTMENT",
    "MINIMUM_COMMITMENT_TRUE_UP",
    "CREDIT",
)

ACME_NOV_LINES = (
    (U, "api_calls", "1000.10"),  # 100,010 × 0.01
    (F, "platform_fee", "99.00"),  # 1 × 99.00
    (UPD, "volume_discount>api_calls", "-100.01"),  # 1,000.10 × 0.9 = 900.09; − 1,000.10
    (ADD, "support_addon:premium_support", "49.95"),  # (900.09 + 99) × 0.05 = 49.9545
    (TU, "commitment", "150.96"),  # 1,200.00 − 1,049.04
    (CR, "cr_welcome", "-99.00"),  # priority 1, platform_fee only: all 99.00 of it
    (CR, "cr_promo", "-900.09"),  # api_calls net of its discount: 1,000.10 − 100.01
)

# fmt: off
INVOICES: list[InvoiceCase] = [
    # ---- docs/invoices.md §2, UPDATE revenue (900.09 exactly), ADD, true-up, credits, wallet
    InvoiceCase(
        "acme_draft", "acc_acme", 1, NOV, ACME_NOV_LINES, "DRAFT",
        subtotal="1049.04",  # 1,000.10 + 99.00 − 100.01 + 49.95
        true_up="150.96", credits="999.09", total="200.91",  # 1,049.04 + 150.96 − 999.09
        wallet="150.00", due="50.91",  # a DRAFT shows the wallet it would draw
        how="docs/invoices.md worked example, before it falls due",
    ),
    InvoiceCase(
        "acme_due", "acc_acme", 2, NOV, ACME_NOV_LINES, "DUE",
        subtotal="1049.04", true_up="150.96", credits="999.09", total="200.91",
        wallet="150.00", due="50.91",  # the 150.00 top-up of Nov 20 came before Dec 4
        how="docs/invoices.md worked example, finalized",
    ),
    InvoiceCase(
        "acme_dec_draft", "acc_acme", 2, DEC,
        (
            (U, "api_calls", "0.00"),  # no December usage; the line exists at zero
            (F, "platform_fee", "99.00"),
            # volume_discount: 0 > 1000 is false, no line
            (ADD, "support_addon:premium_support", "4.95"),  # 99.00 × 0.05
            (TU, "commitment", "1096.05"),  # 1,200.00 − 103.95
            (CR, "cr_promo", "-99.00"),  # carried over: 1,099.91 left; covers platform_fee
        ),
        "DRAFT", subtotal="103.95", true_up="1096.05", credits="99.00",
        total="1101.00",  # 103.95 + 1,096.05 − 99.00
        wallet="0.00", due="1101.00",  # the 150.00 top-up was drawn by November
        how="cr_welcome ended Nov 30: not usable; cr_promo carries 1,099.91",
    ),
    # ---- condition false
    InvoiceCase(
        "condition_false", "acc_small", 2, NOV,
        (
            (U, "api_calls", "10.00"),  # 1,000 × 0.01
            (F, "platform_fee", "99.00"),
            # volume_discount: 10.00 > 1000 is false: nothing applied, no line
            (ADD, "support_addon:premium_support", "5.45"),  # (10 + 99) × 0.05
            (TU, "commitment", "1085.55"),  # 1,200.00 − 114.45
        ),
        "DUE", subtotal="114.45", true_up="1085.55", total="1200.00", wallet="0.00",
        due="1200.00",
    ),
    # ---- UPDATE usage.X, re-rated through the slabs
    InvoiceCase(
        "update_usage", "acc_cap", 2, NOV,
        (
            (U, "tok", "263.00"),  # 15 + 9,000,000 × 0.000012 + 5 + 9.00 × 15 packages
            (UPD, "cap>tok", "-126.00"),  # 10,000,001 units → 137.00 (128 + 9 × 1); − 263
        ),
        "DUE", subtotal="137.00", total="137.00", wallet="0.00", due="137.00",
    ),
    InvoiceCase(
        "update_zero_delta", "acc_cap", 2, DEC,
        (
            (U, "tok", "0.00"),
            (UPD, "cap>tok", "0.00"),  # min(0, 10,000,001) = 0: an UPDATE always has its line
        ),
        "DRAFT", subtotal="0.00", total="0.00", wallet="0.00", due="0.00",
    ),
    # ---- division by zero: logged, flagged, the other rules still applied
    InvoiceCase(
        "div_by_zero", "acc_div0", 2, NOV,
        (
            (U, "api", "10.00"),  # 10 × 1.00
            (U, "calls", "0.00"),  # no calls
            (ADD, "setup:setup", "5.00"),  # rule 1
            # rule 2: subtotal / usage.calls = 15 / 0: COMPUTATION_ERROR, nothing applied
            (UPD, "half_off>api", "-5.00"),  # rule 3: 10 × 0.5 = 5; 5 − 10
            # rule 4: condition 5 / 0: CONDITION_ERROR, nothing applied
        ),
        "DUE", subtotal="10.00", total="10.00", wallet="0.00", due="10.00", review=True,
        review_contains=(
            "pricing rule 'per_call' (order 2): COMPUTATION_ERROR",
            "pricing rule 'guarded' (order 4): CONDITION_ERROR",
        ),
    ),
    # ---- subtotal driven below zero
    InvoiceCase(
        "negative_subtotal", "acc_neg", 2, NOV,
        (
            (U, "api", "20.00"),
            (ADD, "loyalty:loyalty", "-50.00"),  # a negative ADD is applied as it is
            (ADJ, "negative_subtotal", "30.00"),  # 20 − 50 = −30 brought up to 0
            (TU, "commit", "25.00"),  # 25.00 − 0; cr_neg may cover nothing (subtotal 0)
        ),
        "DUE", subtotal="0.00", true_up="25.00", total="25.00", wallet="0.00", due="25.00",
        review=True, review_contains=("below zero",),
    ),
    # ---- minimum commitment true-up; credits never reduce it
    InvoiceCase(
        "true_up", "acc_commit", 2, NOV,
        (
            (U, "api", "30.00"),
            (TU, "commit", "70.00"),  # 100.00 − 30.00
            (CR, "cr_commit", "-30.00"),  # covers api only (50.00 held): never the true-up
        ),
        "DUE", subtotal="30.00", true_up="70.00", credits="30.00",
        total="70.00",  # 30 + 70 − 30
        wallet="0.00", due="70.00",
    ),
    # ---- credit ordering
    InvoiceCase(
        "credit_priority", "acc_prio", 2, NOV,
        (
            (U, "api", "30.00"),
            (U, "calls", "0.00"),
            (F, "platform", "10.00"),
            (CR, "cr_z_p1", "-25.00"),  # priority 1 first: api, min(25, 30)
            (CR, "cr_a_p2", "-15.00"),  # then priority 2: api 5 + platform 10
        ),
        "PAID", subtotal="40.00", credits="40.00", total="0.00", wallet="0.00", due="0.00",
        how="amount_due 0 when it falls due: PAID at once",
    ),
    InvoiceCase(
        "credit_priority_draft", "acc_prio", 1, NOV,
        (
            (U, "api", "30.00"),
            (U, "calls", "0.00"),
            (F, "platform", "10.00"),
            (CR, "cr_z_p1", "-25.00"),
            (CR, "cr_a_p2", "-15.00"),
        ),
        "DRAFT", subtotal="40.00", credits="40.00", total="0.00", wallet="0.00", due="0.00",
        how="a DRAFT at 0 is still a DRAFT",
    ),
    InvoiceCase(
        "credit_priority_dec", "acc_prio", 2, DEC,
        (
            (U, "api", "0.00"),
            (U, "calls", "0.00"),
            (F, "platform", "10.00"),
            (CR, "cr_a_p2", "-10.00"),  # cr_z_p1 is spent; cr_a_p2 has 85.00 left
        ),
        "DRAFT", subtotal="10.00", credits="10.00", total="0.00", wallet="0.00", due="0.00",
    ),
    InvoiceCase(
        "credit_earliest_expiry", "acc_expiry_order", 2, NOV,
        (
            (U, "api", "30.00"),
            (U, "calls", "0.00"),
            (F, "platform", "10.00"),
            (CR, "cr_z_early", "-20.00"),  # same priority; ends Nov 30 < Dec 31: first, api 20
            (CR, "cr_a_late", "-5.00"),  # then api 5
        ),
        "DUE", subtotal="40.00", credits="25.00", total="15.00", wallet="0.00", due="15.00",
    ),
    InvoiceCase(
        "credit_id_tie", "acc_tie", 2, NOV,
        (
            (U, "api", "15.00"),
            (U, "calls", "0.00"),
            (F, "platform", "10.00"),
            (CR, "cr_tie_a", "-10.00"),  # same priority and end: id order, api 10
            (CR, "cr_tie_b", "-15.00"),  # api 5 + platform 10
        ),
        "PAID", subtotal="25.00", credits="25.00", total="0.00", wallet="0.00", due="0.00",
    ),
    InvoiceCase(
        "credit_applies_to", "acc_applies", 2, NOV,
        (
            (U, "api", "30.00"),
            (U, "calls", "0.00"),
            (F, "platform", "10.00"),
            (CR, "cr_fee_only", "-10.00"),  # applies to platform only; 40.00 left, expires
        ),
        "DUE", subtotal="40.00", credits="10.00", total="30.00", wallet="0.00", due="30.00",
    ),
    InvoiceCase(
        "credit_carry_over_nov", "acc_carry", 2, NOV,
        (
            (U, "api", "30.00"),
            (U, "calls", "0.00"),
            (F, "platform", "10.00"),
            (CR, "cr_big", "-40.00"),  # 100.00 credit, 40.00 invoice: 60.00 carries over
        ),
        "PAID", subtotal="40.00", credits="40.00", total="0.00", wallet="0.00", due="0.00",
    ),
    InvoiceCase(
        "credit_carry_over_dec", "acc_carry", 2, DEC,
        (
            (U, "api", "70.00"),  # December event, received by RUN_2
            (U, "calls", "0.00"),
            (F, "platform", "10.00"),
            (CR, "cr_big", "-60.00"),  # what November left: api 60 of 70
        ),
        "DRAFT", subtotal="80.00", credits="60.00", total="20.00", wallet="0.00", due="20.00",
    ),
    InvoiceCase(
        "credit_net_of_update", "acc_disc", 2, NOV,
        (
            (U, "api", "40.00"),
            (F, "platform", "10.00"),
            (UPD, "half>api", "-20.00"),  # 40 × 0.5 = 20; 20 − 40
            (CR, "cr_api", "-20.00"),  # applies to api: net 40 − 20 = 20, not 40
        ),
        "DUE", subtotal="30.00", credits="20.00", total="10.00", wallet="0.00", due="10.00",
    ),
    InvoiceCase(
        "credit_capped_by_negative_add", "acc_add_cap", 2, NOV,
        (
            (U, "api", "40.00"),
            (ADD, "promo:promo", "-30.00"),
            (CR, "cr_round", "-10.00"),  # api's net is 40, but credits never exceed 10.00
        ),
        "PAID", subtotal="10.00", credits="10.00", total="0.00", wallet="0.00", due="0.00",
    ),
    InvoiceCase(
        "credit_not_yet_begun_nov", "acc_dated", 2, NOV,
        (
            (U, "api", "30.00"),
            (U, "calls", "0.00"),
            (F, "platform", "10.00"),
            # cr_dec begins Dec 1, cr_oct ended Oct 31: neither overlaps November
        ),
        "DUE", subtotal="40.00", total="40.00", wallet="0.00", due="40.00",
    ),
    InvoiceCase(
        "credit_begun_dec", "acc_dated", 2, DEC,
        (
            (U, "api", "0.00"),
            (U, "calls", "0.00"),
            (F, "platform", "10.00"),
            (CR, "cr_dec", "-10.00"),
        ),
        "DRAFT", subtotal="10.00", credits="10.00", total="0.00", wallet="0.00", due="0.00",
    ),
    InvoiceCase(
        "update_usage_negative", "acc_neg_usage", 2, NOV,
        (
            (U, "tok", "30.00"),  # 30 × 1.00 (above the 5.00 minimum)
            (UPD, "refund>tok", "-30.00"),  # 30 − 100 = −70 units: rated 0, no minimum; 0 − 30
        ),
        "PAID", subtotal="0.00", total="0.00", wallet="0.00", due="0.00", review=True,
        review_contains=("tok",),
        how="amount_due 0 at the due moment: PAID",
    ),
    InvoiceCase(
        "timezone_new_york", "acc_ny", 2, NOV,
        (
            (U, "api", "30.00"),
            (U, "calls", "0.00"),
            (F, "platform", "10.00"),
            (CR, "cr_ny", "-10.00"),  # platform only; 40.00 left expires
        ),
        "DUE", subtotal="40.00", credits="10.00", total="30.00",
        wallet="20.00",  # 03:00Z on Dec 4 is before New York's midnight (05:00Z)
        due="10.00",
    ),
    # ---- rounding per currency
    InvoiceCase(
        "usd_half_cent", "acc_usd_half", 2, NOV,
        (
            (U, "u", "1.01"),  # 3 × 0.335 = 1.005: exactly half a cent, rounds up
            (F, "fee", "2.01"),  # 2.005: half up
        ),
        "DUE", subtotal="3.02", total="3.02", wallet="0.00", due="3.02",
        how="sum of rounded lines 1.01 + 2.01 = 3.02, not round(1.005 + 2.005) = 3.01",
    ),
    InvoiceCase(
        "usd_negative_half", "acc_usd_neg", 2, NOV,
        (
            (U, "v", "1.00"),  # 1,004 × 0.001 = 1.004
            (UPD, "nudge>v", "-0.01"),  # 0.999 − 1.004 = −0.005: away from zero
        ),
        "DUE", subtotal="0.99", total="0.99", wallet="0.00", due="0.99",
        how="docs/invoices.md §1.3: 1.004 → 0.999 gives −0.01, though both round to 1.00",
    ),
    InvoiceCase(
        "jpy_zero_places", "acc_jpy", 2, NOV,
        (
            (U, "u", "1251"),  # 2,501 × 0.5 = 1,250.5 → 1,251
            (F, "fee", "1000"),
            (ADD, "tax:tax", "225"),  # (1,250.5 + 1,000) × 0.1 = 225.05 → 225
            (CR, "cr_jpy", "-500"),  # 500.4 granted as 500; covers u
        ),
        "DUE", subtotal="2476", credits="500", total="1976", wallet="0", due="1976",
    ),
    InvoiceCase(
        "kwd_three_places", "acc_kwd", 2, NOV,
        (
            (U, "u", "0.004"),  # 7 × 0.0005 = 0.0035 → 0.004
            (F, "fee", "10.001"),  # 10.0005 → 10.001
            (ADD, "tax:tax", "1.000"),  # (0.0035 + 10.0005) × 0.1 = 1.0004 → 1.000
        ),
        "DUE", subtotal="11.005", total="11.005",
        wallet="5.001", due="6.004",  # top-up 5.0005 → 5.001; 11.005 − 5.001
    ),
    InvoiceCase(
        "kwd_three_places_draft", "acc_kwd", 1, NOV,
        (
            (U, "u", "0.004"),
            (F, "fee", "10.001"),
            (ADD, "tax:tax", "1.000"),
        ),
        "DRAFT", subtotal="11.005", total="11.005", wallet="5.001", due="6.004",
    ),
    # ---- wallet
    InvoiceCase(
        "wallet_before_due_draft", "acc_wallet_split", 1, NOV,
        ((U, "u", "50.00"),),
        "DRAFT", subtotal="50.00", total="50.00",
        wallet="30.00", due="20.00",  # only wt_split_before is before Dec 4
    ),
    InvoiceCase(
        "wallet_before_due", "acc_wallet_split", 2, NOV,
        ((U, "u", "50.00"),),
        "DUE", subtotal="50.00", total="50.00",
        wallet="30.00",  # 40.00 at exactly Dec 4 00:00 and 25.00 on Dec 5 are not before it
        due="20.00",
    ),
    InvoiceCase(
        "wallet_after_due_next_invoice", "acc_wallet_split", 2, DEC,
        ((U, "u", "100.00"),),
        "DRAFT", subtotal="100.00", total="100.00",
        wallet="65.00",  # 30 + 40 + 25 − 30 drawn by November
        due="35.00",
    ),
    InvoiceCase(
        "wallet_covers_all_paid", "acc_wallet_paid", 2, NOV,
        ((U, "u", "40.00"),),
        "PAID", subtotal="40.00", total="40.00", wallet="40.00", due="0.00",
    ),
    InvoiceCase(
        "wallet_negative_balance", "acc_wallet_adj", 2, NOV,
        ((U, "u", "10.00"),),
        "DUE", subtotal="10.00", total="10.00",
        wallet="0.00",  # 50 − 80 = −30: a negative balance draws nothing
        due="10.00",
    ),
    # ---- an event received by the run that finalizes its cycle is billed
    InvoiceCase(
        "late_event_draft", "acc_late", 1, NOV, ((U, "u", "10.00"),),
        "DRAFT", subtotal="10.00", total="10.00", wallet="0.00", due="10.00",
    ),
    InvoiceCase(
        "late_event_finalized", "acc_late", 2, NOV, ((U, "u", "15.00"),),  # 10 + 5
        "DUE", subtotal="15.00", total="15.00", wallet="0.00", due="15.00",
    ),
]


# fmt: on

# ---------------------------------------------------------------- rule log (RUN_2, November)


@dataclass(frozen=True)
class RuleLogCase:
    case_id: str
    account: str
    rule_id: str
    outcome: str
    variables: dict[str, str]
    result: str | None
    old_usage: str | None = None
    new_usage: str | None = None
    old_revenue: str | None = None
    new_revenue: str | None = None
    error_contains: str | None = None


# fmt: off
RULE_LOGS: list[RuleLogCase] = [
    RuleLogCase(
        "update_revenue_exact", "acc_acme", "volume_discount", "CONDITION_TRUE",
        {"revenue.api_calls": "1000.10"}, "900.09",  # 1,000.10 × 0.9, exactly
        old_usage="100010", new_usage="100010", old_revenue="1000.10", new_revenue="900.09",
    ),
    RuleLogCase(
        "add_sees_discount", "acc_acme", "support_addon", "CONDITION_TRUE",
        {"subtotal": "999.09"}, "49.9545",  # (900.09 + 99.00) × 0.05 at full precision
    ),
    RuleLogCase(
        "condition_false", "acc_small", "volume_discount", "CONDITION_FALSE",
        {"revenue.api_calls": "10"}, None,  # the computation did not run
        old_usage="1000", new_usage=None, old_revenue="10", new_revenue=None,
    ),
    RuleLogCase(
        "update_usage", "acc_cap", "cap", "CONDITION_TRUE",
        {"usage.tok": "25000000"}, "10000001",
        old_usage="25000000", new_usage="10000001", old_revenue="263", new_revenue="137",
    ),
    RuleLogCase("div0_before", "acc_div0", "setup", "CONDITION_TRUE", {}, "5"),
    RuleLogCase(
        "div0", "acc_div0", "per_call", "COMPUTATION_ERROR",
        {"subtotal": "15", "usage.calls": "0"},  # 10 + 0 + 5 (setup)
        None, error_contains="zero",
    ),
    RuleLogCase(
        "div0_after", "acc_div0", "half_off", "CONDITION_TRUE", {"revenue.api": "10"}, "5",
        old_usage="10", new_usage="10", old_revenue="10", new_revenue="5",
    ),
    RuleLogCase(
        "condition_error", "acc_div0", "guarded", "CONDITION_ERROR",
        {"revenue.api": "5", "usage.calls": "0"},  # revenue.api as half_off left it
        None, error_contains="zero",
    ),
    RuleLogCase(
        "update_usage_negative", "acc_neg_usage", "refund", "CONDITION_TRUE",
        {"usage.tok": "30"}, "-70",
        old_usage="30", new_usage="-70", old_revenue="30", new_revenue="0",
    ),
    RuleLogCase(
        "negative_half", "acc_usd_neg", "nudge", "CONDITION_TRUE", {"revenue.v": "1.004"},
        "0.999", old_usage="1004", new_usage="1004", old_revenue="1.004", new_revenue="0.999",
    ),
    RuleLogCase("jpy_tax", "acc_jpy", "tax", "CONDITION_TRUE", {"subtotal": "2250.5"}, "225.05"),
    RuleLogCase("kwd_tax", "acc_kwd", "tax", "CONDITION_TRUE", {"subtotal": "10.004"}, "1.0004"),
]


# fmt: on

# ---------------------------------------------------------------- ledgers (after RUN_2)

# credit -> [(entry_type, invoice account|None, amount, balance_after, occurred_at)] in order
CREDIT_LEDGER: dict[str, list[tuple[str, str | None, str, str, str]]] = {
    "cr_promo": [
        ("GRANTED", None, "2000.00", "2000.00", "2026-10-01T00:00:00+00:00"),
        ("APPLIED", "acc_acme", "-900.09", "1099.91", NOV_DUE),
    ],
    "cr_welcome": [
        ("GRANTED", None, "150.00", "150.00", "2026-11-01T00:00:00+00:00"),
        ("APPLIED", "acc_acme", "-99.00", "51.00", NOV_DUE),
        ("EXPIRED", None, "-51.00", "0.00", NOV_DUE),  # later of Dec 1 and its last entry
    ],
    # used nothing: the subtotal was 0 after the adjustment; open-ended, never expires
    "cr_neg": [("GRANTED", None, "100.00", "100.00", "2026-11-01T00:00:00+00:00")],
    "cr_commit": [
        ("GRANTED", None, "50.00", "50.00", "2026-11-01T00:00:00+00:00"),
        ("APPLIED", "acc_commit", "-30.00", "20.00", NOV_DUE),
    ],
    "cr_a_p2": [
        ("GRANTED", None, "100.00", "100.00", "2026-11-01T00:00:00+00:00"),
        ("APPLIED", "acc_prio", "-15.00", "85.00", NOV_DUE),
    ],
    "cr_z_p1": [
        ("GRANTED", None, "25.00", "25.00", "2026-11-01T00:00:00+00:00"),
        ("APPLIED", "acc_prio", "-25.00", "0.00", NOV_DUE),
    ],
    "cr_a_late": [
        ("GRANTED", None, "5.00", "5.00", "2026-11-01T00:00:00+00:00"),
        ("APPLIED", "acc_expiry_order", "-5.00", "0.00", NOV_DUE),
    ],
    "cr_z_early": [  # fully used: no EXPIRED entry
        ("GRANTED", None, "20.00", "20.00", "2026-11-01T00:00:00+00:00"),
        ("APPLIED", "acc_expiry_order", "-20.00", "0.00", NOV_DUE),
    ],
    "cr_tie_a": [
        ("GRANTED", None, "10.00", "10.00", "2026-11-01T00:00:00+00:00"),
        ("APPLIED", "acc_tie", "-10.00", "0.00", NOV_DUE),
    ],
    "cr_tie_b": [
        ("GRANTED", None, "100.00", "100.00", "2026-11-01T00:00:00+00:00"),
        ("APPLIED", "acc_tie", "-15.00", "85.00", NOV_DUE),
        ("EXPIRED", None, "-85.00", "0.00", NOV_DUE),
    ],
    "cr_fee_only": [
        ("GRANTED", None, "50.00", "50.00", "2026-11-01T00:00:00+00:00"),
        ("APPLIED", "acc_applies", "-10.00", "40.00", NOV_DUE),
        ("EXPIRED", None, "-40.00", "0.00", NOV_DUE),
    ],
    "cr_big": [  # the December DRAFT's 60.00 is not written until December falls due
        ("GRANTED", None, "100.00", "100.00", "2026-11-01T00:00:00+00:00"),
        ("APPLIED", "acc_carry", "-40.00", "60.00", NOV_DUE),
    ],
    "cr_api": [
        ("GRANTED", None, "100.00", "100.00", "2026-11-01T00:00:00+00:00"),
        ("APPLIED", "acc_disc", "-20.00", "80.00", NOV_DUE),
    ],
    "cr_round": [
        ("GRANTED", None, "100.01", "100.01", "2026-11-01T00:00:00+00:00"),  # 100.005 → 100.01
        ("APPLIED", "acc_add_cap", "-10.00", "90.01", NOV_DUE),
    ],
    "cr_dec": [("GRANTED", None, "20.00", "20.00", "2026-12-01T00:00:00+00:00")],
    "cr_oct": [  # written by RUN_1 already: the range ended Nov 1, no invoice could use it
        ("GRANTED", None, "15.00", "15.00", "2026-10-01T00:00:00+00:00"),
        ("EXPIRED", None, "-15.00", "0.00", "2026-11-01T00:00:00+00:00"),
    ],
    "cr_ny": [
        ("GRANTED", None, "50.00", "50.00", "2026-11-01T04:00:00+00:00"),  # midnight EDT
        ("APPLIED", "acc_ny", "-10.00", "40.00", NY_DUE),
        ("EXPIRED", None, "-40.00", "0.00", NY_DUE),  # later of Dec 1 05:00Z and Dec 4 05:00Z
    ],
    "cr_jpy": [
        ("GRANTED", None, "500", "500", "2026-11-01T00:00:00+00:00"),  # 500.4 → 500
        ("APPLIED", "acc_jpy", "-500", "0", NOV_DUE),
    ],
}

# account -> [(entry_type, transaction_id | "invoice", amount, balance_after, occurred_at)]
WALLET_LEDGER: dict[str, list[tuple[str, str, str, str, str]]] = {
    "acc_acme": [
        ("TOPUP", "wt_acme", "150.00", "150.00", "2026-11-20T00:00:00+00:00"),
        ("APPLIED", "invoice", "-150.00", "0.00", NOV_DUE),
    ],
    "acc_kwd": [
        ("TOPUP", "wt_kwd", "5.001", "5.001", "2026-11-15T00:00:00+00:00"),  # 5.0005 → 5.001
        ("APPLIED", "invoice", "-5.001", "0.000", NOV_DUE),
    ],
    "acc_wallet_split": [
        ("TOPUP", "wt_split_before", "30.00", "30.00", "2026-11-20T10:00:00+00:00"),
        ("APPLIED", "invoice", "-30.00", "0.00", NOV_DUE),  # the draw before the top-up
        ("TOPUP", "wt_split_at", "40.00", "40.00", NOV_DUE),  # at the same instant
        ("TOPUP", "wt_split_after", "25.00", "65.00", "2026-12-05T09:00:00+00:00"),
    ],
    "acc_ny": [
        ("TOPUP", "wt_ny", "20.00", "20.00", "2026-12-04T03:00:00+00:00"),
        ("APPLIED", "invoice", "-20.00", "0.00", NY_DUE),
    ],
    "acc_wallet_paid": [
        ("TOPUP", "wt_paid", "100.00", "100.00", "2026-11-10T00:00:00+00:00"),
        ("APPLIED", "invoice", "-40.00", "60.00", NOV_DUE),
    ],
    "acc_wallet_adj": [  # a negative balance draws nothing: no APPLIED entry
        ("TOPUP", "wt_adj_top", "50.00", "50.00", "2026-11-05T00:00:00+00:00"),
        ("ADJUSTMENT", "wt_adj_neg", "-80.00", "-30.00", "2026-11-06T00:00:00+00:00"),
    ],
}
