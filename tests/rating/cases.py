"""The rating cases: one catalog, one landing file, expectations worked out by hand.

Every expected amount below was computed on paper from SEMANTICS 9-10, 17-18 and
docs/pricing-rules.md (the "how" comment says how); none is computed by code. Each usage case
bills its own account on a plan of PLANS, in the November 2026 cycle (UTC, monthly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

AS_OF = "2026-11-30T12:00:00Z"  # November is the running cycle; December has not begun
NOV = "2026-11-01"


def slab(start_after, rate, flat_fee=None, package_size=None) -> dict:
    out = {"start_after": str(start_after), "rate": str(rate)}
    if flat_fee is not None:
        out["flat_fee"] = str(flat_fee)
    if package_size is not None:
        out["package_size"] = str(package_size)
    return out


def usage_card(card_id, meter, model, slabs, minimum=None, maximum=None) -> dict:
    card = {"id": card_id, "type": "USAGE", "meter": meter, "pricing_model": model, "slabs": slabs}
    if minimum is not None:
        card["minimum"] = str(minimum)
    if maximum is not None:
        card["maximum"] = str(maximum)
    return card


DOC_SLABS = [
    slab(0, "0.000015"),
    slab(1000000, "0.000012", flat_fee="5.00"),
    slab(10000000, "9.00", package_size=1000000),
]

# plan id -> (currency, rate cards). The usage card of a single-card plan is called "u".
PLANS: dict[str, tuple[str, list[dict]]] = {
    "tiered": ("USD", [usage_card("u", "m_sum", "TIERED", DOC_SLABS)]),
    "volume": ("USD", [usage_card("u", "m_sum", "VOLUME", DOC_SLABS)]),
    "allow": ("USD", [usage_card("u", "m_sum", "TIERED", [slab(100, "0.50")])]),
    "allow_vol": ("USD", [usage_card("u", "m_sum", "VOLUME", [slab(100, "1"), slab(1000, "0.5")])]),
    "pkg": ("USD", [usage_card("u", "m_sum", "TIERED", [slab(0, "2.00", package_size=10)])]),
    "pkg_fine": ("USD", [usage_card("u", "m_sum", "TIERED", [slab(0, "1", package_size="0.001")])]),
    "big": ("USD", [usage_card("u", "m_sum", "VOLUME", [slab(0, "10.00")])]),
    "clamp": (
        "USD",
        [usage_card("u", "m_sum", "TIERED", [slab(0, "2.00")], minimum="10.00", maximum="100.00")],
    ),
    "clamp_allow": ("USD", [usage_card("u", "m_sum", "TIERED", [slab(100, "1")], minimum="10.00")]),
    "flat": (
        "USD",
        [
            usage_card(
                "u",
                "m_sum",
                "TIERED",
                [slab(0, "0", flat_fee="5.00"), slab(10, "1.00", flat_fee="2.00")],
            )
        ],
    ),
    "flat_vol": (
        "USD",
        [
            usage_card(
                "u", "m_sum", "VOLUME", [slab(0, "1", flat_fee="3"), slab(10, "0.5", flat_fee="20")]
            )
        ],
    ),
    "half": ("USD", [usage_card("u", "m_sum", "TIERED", [slab(0, "0.005")])]),
    "jpy": ("JPY", [usage_card("u", "m_sum", "TIERED", [slab(0, "0.5")])]),
    "kwd": ("KWD", [usage_card("u", "m_sum", "TIERED", [slab(0, "0.0005")])]),
    "count": ("USD", [usage_card("u", "m_count", "TIERED", [slab(0, "1.00")])]),
    "sum": ("USD", [usage_card("u", "m_sum", "TIERED", [slab(0, "1.00")])]),
    "max": ("USD", [usage_card("u", "m_max", "TIERED", [slab(0, "1.00")])]),
    "unique": ("USD", [usage_card("u", "m_unique", "TIERED", [slab(0, "1.00")])]),
    "latest": ("USD", [usage_card("u", "m_latest", "TIERED", [slab(0, "1.00")])]),
    "two": (
        "USD",
        [
            usage_card("u", "m_sum", "TIERED", [slab(0, "1")]),
            usage_card("calls", "m_count", "TIERED", [slab(0, "0.10")]),
        ],
    ),
    "attr": (
        "USD",
        [usage_card("u", "m_sum", "TIERED", [slab(0, "1.00"), slab(10, "0.50", flat_fee="3.00")])],
    ),
    "attr_vol": ("USD", [usage_card("u", "m_sum", "VOLUME", [slab(0, "1"), slab(10, "0.5")])]),
    "count_vol": ("USD", [usage_card("u", "m_count", "VOLUME", [slab(0, "0", flat_fee="1.00")])]),
    "fee_a": (
        "USD",
        [
            usage_card("u", "m_sum", "TIERED", [slab(0, "1")]),
            {"id": "fee", "type": "FIXED_FEE", "amount": "99.00", "proration": True},
            {"id": "commit", "type": "MINIMUM_COMMITMENT", "amount": "60.00"},
        ],
    ),
    "fee_b": (
        "USD",
        [
            usage_card("u", "m_sum", "TIERED", [slab(0, "2")]),
            {"id": "fee", "type": "FIXED_FEE", "amount": "12.00", "proration": False},
        ],
    ),
}

METERS = [
    {
        "id": "m_count",
        "name": "count",
        "event_schema": "usage",
        "aggregation": "COUNT",
        "filter": {"==": [{"var": "dimensions.meter"}, "count"]},
    },
    {
        "id": "m_sum",
        "name": "sum",
        "event_schema": "usage",
        "aggregation": "SUM",
        "value": {"var": "attributes.qty"},
        "filter": {"==": [{"var": "dimensions.meter"}, "sum"]},
    },
    {
        "id": "m_max",
        "name": "max",
        "event_schema": "usage",
        "aggregation": "MAX",
        "value": {"var": "attributes.qty"},
        "filter": {"==": [{"var": "dimensions.meter"}, "max"]},
    },
    {
        "id": "m_unique",
        "name": "unique users",
        "event_schema": "usage",
        "aggregation": "UNIQUE_COUNT",
        "value": {"var": "dimensions.user"},
        "filter": {"==": [{"var": "dimensions.meter"}, "unique"]},
    },
    {
        "id": "m_latest",
        "name": "latest",
        "event_schema": "usage",
        "aggregation": "LATEST",
        "value": {"var": "attributes.qty"},
        "filter": {"==": [{"var": "dimensions.meter"}, "latest"]},
    },
]

ABSENT = object()  # an event without the qty attribute


@dataclass(frozen=True)
class Ev:
    """One event of a case: local November day/time, quantity (str, None = JSON null,
    ABSENT = no attribute), optional user. Ids are <case>-<nn> in list order."""

    when: str
    qty: object = ABSENT
    user: str | None = None


@dataclass(frozen=True)
class Case:
    case_id: str
    plan: str
    meter: str  # the dimension value routing events to a meter: sum, count, max, ...
    events: tuple[Ev, ...]
    quantity: str
    amount: str
    how: str
    rounded: str | None = None
    # event number (1-based) -> attributed amount; the others must be 0 when `exhaustive`
    attributions: dict[int, str] = field(default_factory=dict)
    card: str = "u"


def e(*qtys, day=2, meter_user=None) -> tuple[Ev, ...]:
    """Events of one quantity each, one hour apart, on November `day`."""
    return tuple(Ev(f"2026-11-{day:02d}T{10 + i:02d}:00:00Z", str(q)) for i, q in enumerate(qtys))


CASES: list[Case] = [
    # --- TIERED, the pricing-rules doc's slabs -------------------------------------------
    Case("t_zero", "tiered", "sum", (), "0", "0", "no usage: 0, line still exists"),
    Case(
        "t_boundary",
        "tiered",
        "sum",
        e(1000000),
        "1000000",
        "15.00",
        "1,000,000 × 0.000015; exactly on start_after of slab 2: no flat fee",
    ),
    Case(
        "t_one_past",
        "tiered",
        "sum",
        e(1000000, 1),
        "1000001",
        "20.000012",
        "15 + 1 × 0.000012 + 5.00 flat",
    ),
    Case(
        "t_slab2_full",
        "tiered",
        "sum",
        e(10000000),
        "10000000",
        "128.00",
        "15 + 9,000,000 × 0.000012 + 5",
    ),
    Case(
        "t_pkg_one_unit",
        "tiered",
        "sum",
        e(10000001),
        "10000001",
        "137.00",
        "128 + 9.00 × 1 package (1 unit is a whole package)",
    ),
    Case(
        "t_pkg_exact",
        "tiered",
        "sum",
        e(25000000),
        "25000000",
        "263.00",
        "128 + 9.00 × 15 packages",
    ),
    Case(
        "t_pkg_remainder",
        "tiered",
        "sum",
        e(25000001),
        "25000001",
        "272.00",
        "128 + 9.00 × 16 packages (15,000,001 units)",
    ),
    Case("t_fraction", "tiered", "sum", e("0.5"), "0.5", "0.0000075", "0.5 × 0.000015"),
    Case(
        "t_fraction_sum",
        "tiered",
        "sum",
        e("0.25", "0.25", "0.000001"),
        "0.500001",
        "0.000007500015",
        "0.500001 × 0.000015",
    ),
    # --- VOLUME --------------------------------------------------------------------------
    Case(
        "v_boundary",
        "volume",
        "sum",
        e(1000000),
        "1000000",
        "15.00",
        "slab 1: 1,000,000 × 0.000015",
    ),
    Case(
        "v_one_past",
        "volume",
        "sum",
        e(1000001),
        "1000001",
        "17.000012",
        "slab 2: 1,000,001 × 0.000012 + 5.00",
    ),
    Case(
        "v_slab2_top",
        "volume",
        "sum",
        e(10000000),
        "10000000",
        "125.00",
        "slab 2: 10,000,000 × 0.000012 + 5",
    ),
    Case(
        "v_jump_down",
        "volume",
        "sum",
        e(10000001),
        "10000001",
        "99.00",
        "slab 3: 9.00 × 11 packages (less than at 10,000,000)",
    ),
    Case("v_zero_one", "volume", "sum", e(1), "1", "0.000015", "slab 1: 1 × 0.000015"),
    # --- free allowance ------------------------------------------------------------------
    Case("a_150", "allow", "sum", e(150), "150", "25.00", "(150 − 100) × 0.50"),
    Case("a_at_start", "allow", "sum", e(100), "100", "0", "all inside the allowance"),
    Case("a_one_past", "allow", "sum", e(101), "101", "0.50", "1 × 0.50"),
    Case(
        "av_1001",
        "allow_vol",
        "sum",
        e(1001),
        "1001",
        "450.50",
        "slab 2 contains 1,001: (1,001 − 100) × 0.5",
    ),
    Case(
        "av_1000",
        "allow_vol",
        "sum",
        e(1000),
        "1000",
        "900",
        "slab 1 contains 1,000: (1,000 − 100) × 1",
    ),
    Case("av_inside", "allow_vol", "sum", e(50), "50", "0", "inside the allowance"),
    # --- packages ------------------------------------------------------------------------
    Case("p_one", "pkg", "sum", e(1), "1", "2.00", "ceil(1/10) = 1 package × 2.00"),
    Case("p_ten", "pkg", "sum", e(10), "10", "2.00", "exactly 1 package"),
    Case(
        "p_eleven",
        "pkg",
        "sum",
        e(5, 6),
        "11",
        "4.00",
        "ceil(11/10) = 2 packages",
        attributions={1: "1.818181818181", 2: "2.181818181819"},
    ),
    Case(
        "p_fraction",
        "pkg",
        "sum",
        e("10.000000000001"),
        "10.000000000001",
        "4.00",
        "a 10^-12 remainder is a second package",
    ),
    Case(
        "p_golden",
        "pkg_fine",
        "sum",
        e("2051.021"),
        "2051.021",
        "2051021",
        "2,051.021 / 0.001 = 2,051,021 packages × 1 (a DOUBLE ceil says 2,051,022)",
    ),
    Case(
        "big_golden",
        "big",
        "sum",
        e(1000000000),
        "1000000000",
        "10000000000.00",
        "10^9 × 10.00 exactly",
        rounded="10000000000.00",
    ),
    # --- minimum / maximum ---------------------------------------------------------------
    Case("c_min", "clamp", "sum", e(1), "1", "10.00", "2.00 raised to the minimum 10.00"),
    Case("c_zero", "clamp", "sum", (), "0", "0", "no usage: the minimum does not apply"),
    Case("c_max", "clamp", "sum", e(1000), "1000", "100.00", "2,000 capped at 100.00"),
    Case("c_between", "clamp", "sum", e(20), "20", "40.00", "20 × 2.00, within the clamps"),
    Case(
        "c_negative",
        "clamp",
        "sum",
        e(3, -8),
        "-5",
        "0",
        "negative total rates as 0, no minimum; marginal shares +6.00 then −6.00",
        attributions={1: "6.00", 2: "-6.00"},
    ),
    Case(
        "c_allowance_min",
        "clamp_allow",
        "sum",
        e(50),
        "50",
        "10.00",
        "inside the allowance is still usage: the minimum applies",
    ),
    Case(
        "c_min_attr",
        "clamp",
        "sum",
        e(1, 2),
        "3",
        "10.00",
        "6.00 → 10.00; slab shares 2.00, 4.00; the 4.00 clamp by units: 1.333333333333, rest",
        attributions={1: "3.333333333333", 2: "6.666666666667"},
    ),
    # --- flat fees -----------------------------------------------------------------------
    Case(
        "f_at_start",
        "flat",
        "sum",
        e(10),
        "10",
        "5.00",
        "slab 1: 10 × 0 + 5.00; 10 is not above slab 2's start_after",
    ),
    Case(
        "f_past",
        "flat",
        "sum",
        e(10, "0.5"),
        "10.5",
        "7.50",
        "5 + 0.5 × 1.00 + 2.00",
        attributions={1: "5.00", 2: "2.50"},
    ),
    Case("fv_at_start", "flat_vol", "sum", e(10), "10", "13", "slab 1: 10 × 1 + 3"),
    Case("fv_jump_up", "flat_vol", "sum", e(11), "11", "25.50", "slab 2: 11 × 0.5 + 20"),
    # --- rounding (SEMANTICS 17) ---------------------------------------------------------
    Case(
        "r_half_cent",
        "half",
        "sum",
        e(1),
        "1",
        "0.005",
        "0.005 is exactly half a cent",
        rounded="0.01",
    ),
    Case(
        "r_one_and_half",
        "half",
        "sum",
        e(3),
        "3",
        "0.015",
        "half-up, not half-even",
        rounded="0.02",
    ),
    Case(
        "r_below_half",
        "half",
        "sum",
        e("0.9998"),
        "0.9998",
        "0.004999",
        "just below half a cent",
        rounded="0.00",
    ),
    Case("r_jpy_half", "jpy", "sum", e(1), "1", "0.5", "JPY has 0 places", rounded="1"),
    Case("r_jpy_1_5", "jpy", "sum", e(3), "3", "1.5", "1.5 yen → 2", rounded="2"),
    Case("r_kwd", "kwd", "sum", e(1), "1", "0.0005", "KWD has 3 places", rounded="0.001"),
    # --- aggregations (SEMANTICS 5) ------------------------------------------------------
    Case(
        "agg_count",
        "count",
        "count",
        (
            Ev("2026-11-02T10:00:00Z", "1"),
            Ev("2026-11-02T11:00:00Z", None),
            Ev("2026-11-02T12:00:00Z"),
            Ev("2026-11-02T13:00:00Z", "abc"),
        ),
        "3",
        "3.00",
        "COUNT counts null and absent values; 'abc' is INVALID",
    ),
    Case(
        "agg_sum_nulls",
        "sum",
        "sum",
        (
            Ev("2026-11-02T10:00:00Z", "5"),
            Ev("2026-11-02T11:00:00Z", None),
            Ev("2026-11-02T12:00:00Z"),
            Ev("2026-11-02T13:00:00Z", "abc"),
        ),
        "5",
        "5.00",
        "null and absent count 0 for SUM; 'abc' is INVALID",
        attributions={1: "5.00", 2: "0", 3: "0"},
    ),
    Case(
        "agg_max",
        "max",
        "max",
        e(3, 7, 7, 2),
        "7",
        "7.00",
        "MAX 7 held by events 2 and 3: equal shares",
        attributions={1: "0", 2: "3.50", 3: "3.50", 4: "0"},
    ),
    Case(
        "agg_max_thirds",
        "max",
        "max",
        e(1, 1, 1),
        "1",
        "1.00",
        "three holders of the max: 1/3 cut to 12 places, remainder to the last",
        attributions={1: "0.333333333333", 2: "0.333333333333", 3: "0.333333333334"},
    ),
    Case(
        "agg_unique",
        "unique",
        "unique",
        (
            Ev("2026-11-02T10:00:00Z", user="a"),
            Ev("2026-11-02T11:00:00Z", user="b"),
            Ev("2026-11-02T12:00:00Z", user="a"),
            Ev("2026-11-02T13:00:00Z", user="c"),
            Ev("2026-11-02T14:00:00Z"),
        ),
        "3",
        "3.00",
        "distinct users a, b, c; the first event of each value pays",
        attributions={1: "1.00", 2: "1.00", 3: "0", 4: "1.00", 5: "0"},
    ),
    Case(
        "agg_latest_tie",
        "latest",
        "latest",
        (
            Ev("2026-11-02T10:00:00Z", "100"),
            Ev("2026-11-20T10:00:00Z", "9"),
            Ev("2026-11-20T10:00:00Z", "4"),
            Ev("2026-11-25T10:00:00Z"),
        ),
        "4",
        "4.00",
        "events 2 and 3 tie on timestamp: the greater id (-03) wins; event 4 has no value",
        attributions={1: "0", 2: "0", 3: "4.00", 4: "0"},
    ),
    # --- lineage (SEMANTICS 18) ----------------------------------------------------------
    Case(
        "attr_tiered",
        "attr",
        "sum",
        (
            Ev("2026-11-02T10:00:00Z", "6"),
            Ev("2026-11-03T10:00:00Z", "6"),
            Ev("2026-11-03T10:00:00Z", "4"),
        ),
        "16",
        "16.00",
        "10 × 1 + 6 × 0.5 + 3; event 2 crosses 10: 4 × 1 + 2 × 0.5 + 3 flat; "
        "event 3 (same time, greater id) 4 × 0.5",
        attributions={1: "6.00", 2: "8.00", 3: "2.00"},
    ),
    Case(
        "attr_volume",
        "attr_vol",
        "sum",
        e(6, 6, 4),
        "16",
        "8.00",
        "16 × 0.5, shared 6:6:4",
        attributions={1: "3.00", 2: "3.00", 3: "2.00"},
    ),
    Case(
        "attr_remainder",
        "count_vol",
        "count",
        (Ev("2026-11-02T10:00:00Z"), Ev("2026-11-02T11:00:00Z"), Ev("2026-11-02T12:00:00Z")),
        "3",
        "1.00",
        "a 1.00 flat fee over 3 events: thirds cut, remainder to the last",
        attributions={1: "0.333333333333", 2: "0.333333333333", 3: "0.333333333334"},
    ),
    # --- every usage card has a line -----------------------------------------------------
    Case("two_used", "two", "sum", e(7), "7", "7", "the sum card: 7 × 1"),
    Case(
        "two_unused",
        "two",
        "sum",
        e(7),
        "0",
        "0",
        "the COUNT card of the same plan, no count events: a line at 0",
        card="calls",
    ),
]


# --- fixed fees and a plan that changes twice in one cycle --------------------------------
# acc_change: fee_a Nov 1-10, fee_b Nov 11-20, fee_a again from Nov 21 (three 10-day pieces
# of the 30-day November cycle, share 1/3 each); 5 units on each piece.
# acc_fee_uncut: fee_a all November. acc_fee_late: fee_a from Nov 24 (7 of 30 days).
# (account, piece start, rate card, line type, quantity, amount, commitment_amount, how)
FEE_CASES = [
    ("acc_change", "2026-11-01", "u", "USAGE", "5", "5", None, "piece 1, fee_a: 5 × 1"),
    ("acc_change", "2026-11-11", "u", "USAGE", "5", "10", None, "piece 2, fee_b: 5 × 2"),
    ("acc_change", "2026-11-21", "u", "USAGE", "5", "5", None, "piece 3, fee_a again: 5 × 1"),
    (
        "acc_change",
        "2026-11-01",
        "fee",
        "FIXED_FEE",
        "0.333333333333",
        "33.00",
        None,
        "99.00 × 10/30 (prorated)",
    ),
    (
        "acc_change",
        "2026-11-11",
        "fee",
        "FIXED_FEE",
        "1",
        "12.00",
        None,
        "proration false: in full on the piece",
    ),
    (
        "acc_change",
        "2026-11-21",
        "fee",
        "FIXED_FEE",
        "0.333333333333",
        "33.00",
        None,
        "99.00 × 10/30",
    ),
    (
        "acc_change",
        "2026-11-01",
        "commit",
        "MINIMUM_COMMITMENT",
        "0.333333333333",
        "0",
        "20.00",
        "60.00 × 1/3",
    ),
    ("acc_fee_uncut", "2026-11-01", "fee", "FIXED_FEE", "1", "99.00", None, "uncut: in full"),
    (
        "acc_fee_uncut",
        "2026-11-01",
        "commit",
        "MINIMUM_COMMITMENT",
        "1",
        "0",
        "60.00",
        "uncut: share 1",
    ),
    (
        "acc_fee_late",
        "2026-11-24",
        "fee",
        "FIXED_FEE",
        "0.233333333333",
        "23.10",
        None,
        "99.00 × 7/30; 7/30 = 0.2333… cut at 12 places",
    ),
    (
        "acc_fee_late",
        "2026-11-24",
        "commit",
        "MINIMUM_COMMITMENT",
        "0.233333333333",
        "0",
        "14.00",
        "60.00 × 7/30",
    ),
]


def _event_rows(case: Case) -> list[dict]:
    rows = []
    for n, ev in enumerate(case.events, start=1):
        attributes = {} if ev.qty is ABSENT else {"qty": ev.qty}
        dimensions = {"meter": case.meter}
        if ev.user is not None:
            dimensions["user"] = ev.user
        rows.append(
            {
                "id": f"{case.case_id}-{n:02d}",
                "schemaName": "usage",
                "timestamp": ev.when,
                "accountId": f"acc_{case.case_id}",
                "attributes": attributes,
                "dimensions": dimensions,
            }
        )
    return rows


def _sum_event(event_id: str, account: str, when: str, qty: str) -> dict:
    return {
        "id": event_id,
        "schemaName": "usage",
        "timestamp": when,
        "accountId": account,
        "attributes": {"qty": qty},
        "dimensions": {"meter": "sum"},
    }


# December has not begun at AS_OF: its period exists only because of this early event
# (dated within a day of the run's clock), for acc_future on plan "sum".
FUTURE_EVENT = _sum_event("future-01", "acc_future", "2026-12-01T06:00:00Z", "4")


def events() -> list[dict]:
    rows = [row for case in CASES for row in _event_rows(case)]
    rows += [
        _sum_event("change-01", "acc_change", "2026-11-05T10:00:00Z", "5"),
        _sum_event("change-02", "acc_change", "2026-11-15T10:00:00Z", "5"),
        _sum_event("change-03", "acc_change", "2026-11-25T10:00:00Z", "5"),
        FUTURE_EVENT,
    ]
    return rows


def pricing() -> dict:
    plans = []
    for plan_id, (currency, cards) in PLANS.items():
        plans.append(
            {
                "id": plan_id,
                "name": plan_id,
                "currency": currency,
                "billing_cycle": {"interval": "MONTHLY", "anchor_day": 1, "grace_period_days": 3},
                "rate_cards": cards,
            }
        )
    return {
        "event_schemas": [
            {
                "name": "usage",
                "attributes": [{"name": "qty", "unit": "units"}],
                "dimensions": ["meter", "user"],
            }
        ],
        "usage_meters": METERS,
        "price_plans": plans,
    }


def account_rows() -> list[list[str]]:
    rows = [
        [f"acc_{c.case_id}", "cus_rating", c.case_id, PLANS[c.plan][0], "UTC", ""] for c in CASES
    ]
    rows += [
        [a, "cus_rating", a, "USD", "UTC", ""]
        for a in ("acc_change", "acc_fee_uncut", "acc_fee_late", "acc_future")
    ]
    return rows


def assignment_rows() -> list[list[str]]:
    rows = [[f"asg_{c.case_id}", f"acc_{c.case_id}", c.plan, NOV, ""] for c in CASES]
    rows += [
        ["asg_change_1", "acc_change", "fee_a", NOV, "2026-11-10"],
        ["asg_change_2", "acc_change", "fee_b", "2026-11-11", "2026-11-20"],
        ["asg_change_3", "acc_change", "fee_a", "2026-11-21", ""],
        ["asg_fee_uncut", "acc_fee_uncut", "fee_a", NOV, ""],
        ["asg_fee_late", "acc_fee_late", "fee_a", "2026-11-24", ""],
        ["asg_future", "acc_future", "sum", NOV, ""],
    ]
    return rows


def as_decimal(text: str) -> Decimal:
    return Decimal(text)
