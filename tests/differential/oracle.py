"""An independent rater for the differential test, written from docs/semantics.md.

It reads a catalog folder (pricing.yaml + CSVs) and a JSONL landing folder with plain
json/csv/yaml/zoneinfo/decimal and computes, for one as-of, what SEMANTICS says one run
produces: a status per record, the invoice periods, every invoice line and every invoice
amount. It shares no code with the pipeline (dbt models, `dagster_project.lib`) nor with
`rule_engine.rules`/`rule_engine.slabs`: the only thing it borrows is the reference JSON
Logic evaluation (`rule_engine.evaluate`/`load_logic`), which SEMANTICS names as the
reference for meters and rules.

Deliberately simple: per-record and per-invoice Python loops, exact `Decimal` everywhere.
Assumes every record was received by one run whose clock is `received_at` (the landing
folder is ingested once, as in the differential test).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from rule_engine import evaluate, load_logic

EXACT = Context(prec=200)  # far beyond anything the catalogs need: effectively exact
MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "KWD": 3}
ZERO = Decimal(0)
FAR = datetime(9999, 1, 1, tzinfo=UTC)


def money(x: Decimal, currency: str) -> Decimal:
    """Round once, half-up (away from zero on ties), to the currency's minor unit."""
    return x.quantize(Decimal(1).scaleb(-MINOR_UNITS[currency]), rounding=ROUND_HALF_UP)


def dec(x: object) -> Decimal | None:
    if x is None or x == "":
        return None
    return Decimal(str(x))


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    # fold=0: a repeated midnight is its first occurrence; a skipped one maps to the jump.
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


# ------------------------------------------------------------------------------ catalog


@dataclass
class Card:
    id: str
    type: str
    meter: str | None = None
    model: str | None = None
    slabs: list[dict] = field(default_factory=list)
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    amount: Decimal | None = None
    proration: bool = False


@dataclass
class Plan:
    id: str
    currency: str
    cycle: dict
    cards: list[Card]
    rules: list[dict]

    def usage_cards(self) -> list[Card]:
        return sorted((c for c in self.cards if c.type == "USAGE"), key=lambda c: c.id)

    def fee_cards(self) -> list[Card]:
        return sorted((c for c in self.cards if c.type == "FIXED_FEE"), key=lambda c: c.id)

    def commitment(self) -> Decimal | None:
        found = [c.amount for c in self.cards if c.type == "MINIMUM_COMMITMENT"]
        return found[0] if found else None


@dataclass
class Catalog:
    schemas: dict[str, set[str]]
    meters: dict[str, dict]
    plans: dict[str, Plan]
    accounts: dict[str, dict]
    refs: dict[str, str]
    assignments: list[dict]
    credits: list[dict]
    wallet: list[dict]


def _csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def read_catalog(folder: Path) -> Catalog:
    pricing = yaml.safe_load((folder / "pricing.yaml").read_text())
    schemas = {
        s["name"]: {a["name"] if isinstance(a, dict) else a for a in s.get("attributes") or []}
        for s in pricing["event_schemas"]
    }
    meters = {}
    for m in pricing["usage_meters"]:
        meters[m["id"]] = {
            "id": m["id"],
            "schema": m["event_schema"],
            "aggregation": m["aggregation"],
            "value": load_logic(m["value"]) if m.get("value") is not None else None,
            "filter": load_logic(m["filter"]) if m.get("filter") is not None else None,
        }
    plans = {}
    for p in pricing["price_plans"]:
        cards = []
        for c in p.get("rate_cards") or []:
            cards.append(
                Card(
                    id=c["id"],
                    type=c["type"],
                    meter=c.get("meter"),
                    model=c.get("pricing_model"),
                    slabs=[
                        {
                            "start_after": dec(s["start_after"]),
                            "rate": dec(s["rate"]),
                            "flat_fee": dec(s.get("flat_fee")),
                            "package_size": dec(s.get("package_size")),
                        }
                        for s in c.get("slabs") or []
                    ],
                    minimum=dec(c.get("minimum")),
                    maximum=dec(c.get("maximum")),
                    amount=dec(c.get("amount")),
                    proration=bool(c.get("proration", False)),
                )
            )
        rules = sorted(
            (
                {
                    "id": r["id"],
                    "name": r.get("name"),
                    "order": r["order"],
                    "condition": load_logic(r["condition"])
                    if r.get("condition") is not None
                    else None,
                    "computation": load_logic(r["computation"]),
                    "action": r["action"],
                }
                for r in p.get("pricing_rules") or []
            ),
            key=lambda r: r["order"],
        )
        plans[p["id"]] = Plan(p["id"], p["currency"], dict(p["billing_cycle"]), cards, rules)
    accounts, refs = {}, {}
    for row in _csv(folder / "accounts.csv"):
        row["zone"] = ZoneInfo(row.get("timezone") or "UTC")
        accounts[row["account_id"]] = row
        refs[row["account_id"]] = row["account_id"]
    for row in accounts.values():
        for alias in filter(None, (row.get("aliases") or "").split(";")):
            refs.setdefault(alias, row["account_id"])
    assignments = _csv(folder / "plan_assignments.csv")
    for a in assignments:
        a["from"] = date.fromisoformat(a["effective_from"])
        a["until"] = date.fromisoformat(a["effective_until"]) if a["effective_until"] else None
    credits = _csv(folder / "credit_grants.csv")
    wallet = _csv(folder / "wallet_transactions.csv")
    return Catalog(schemas, meters, plans, accounts, refs, assignments, credits, wallet)


# ------------------------------------------------------------------------------ records

TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_timestamp(text: str) -> datetime | None:
    m = TS_RE.match(text.strip())
    if not m:
        return None
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    try:
        micro = int((frac or "0").ljust(6, "0")[:6])
        naive = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), micro)
    except ValueError:
        return None
    if off is None or off == "Z":
        return naive.replace(tzinfo=UTC)
    sign = -1 if off[0] == "-" else 1
    digits = off[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return (naive - sign * delta).replace(tzinfo=UTC)


def numeric(value: object) -> Decimal | None:
    """An attribute value as an exact decimal, or None when it is not a valid number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, str) and NUM_RE.match(value.strip()):
        d = Decimal(value.strip())
    else:
        return None
    if not d.is_finite() or d.normalize(EXACT).as_tuple().exponent < -12:
        return None
    if abs(d) >= Decimal(10) ** 26:
        return None
    return d


def canonical(x: object, top: bool = True) -> object:
    """A comparable canonical payload: numbers by value, types distinct, nulls absent."""
    if isinstance(x, dict):
        return tuple(sorted((k, canonical(v, False)) for k, v in x.items() if v is not None))
    if isinstance(x, list):
        return ("list", tuple(canonical(v, False) for v in x))
    if isinstance(x, bool):
        return ("bool", x)
    if isinstance(x, Decimal):
        return ("num", x.normalize(EXACT))
    return ("str", x) if isinstance(x, str) else ("other", repr(x))


def canonical_record(rec: dict) -> object:
    rec = dict(rec)
    attrs = rec.get("attributes")
    if isinstance(attrs, list):  # keys beyond name/value/unit do not take part
        rec["attributes"] = [
            {k: v for k, v in a.items() if k in ("name", "value", "unit")}
            if isinstance(a, dict)
            else a
            for a in attrs
        ]
    return canonical(rec)


@dataclass
class Event:
    raw_ref: str
    event_id: str
    timestamp: datetime
    account_id: str
    schema: str
    attributes: dict[str, Decimal]
    dimensions: dict[str, str]
    status: str = ""
    meters: dict[str, object] = field(default_factory=dict)  # meter -> value
    assignment: dict | None = None
    invoice_id: str | None = None


def _attributes(raw: object) -> dict[str, Decimal] | str:
    """Parsed attributes, or the text of the validation problem."""
    if raw is None:
        return {}
    pairs: list[tuple[str, object]] = []
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        for entry in raw:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                return "attributes"
            pairs.append((entry["name"], entry.get("value")))
    else:
        return "attributes"
    out: dict[str, Decimal] = {}
    seen: set[str] = set()
    for name, value in pairs:
        if name in seen:
            return f"attribute {name} named twice"
        seen.add(name)
        if value is None:
            continue
        d = numeric(value)
        if d is None:
            return f"attribute {name}"
        out[name] = d
    return out


def classify_records(
    landing: Path, received_at: datetime
) -> tuple[list[tuple[str, str]], list[Event]]:
    """Ingestion statuses, in ingestion order: [(raw_ref, status or 'ACCEPTED')], accepted events."""
    statuses: list[tuple[str, str]] = []
    accepted: list[Event] = []
    claimed: dict[str, object] = {}
    for path in sorted(landing.iterdir()):
        name = path.name
        if name.startswith(".") or name.endswith((".tmp", ".partial")):
            continue
        if not name.endswith(".jsonl"):
            raise ValueError(f"the oracle reads JSONL only: {name}")
        for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
            if not line.strip():
                continue
            ref = f"{name}:{n}"
            try:
                rec = json.loads(
                    line,
                    parse_float=Decimal,
                    parse_int=Decimal,
                    parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)),
                )
            except ValueError:
                statuses.append((ref, "INVALID"))
                continue
            if not isinstance(rec, dict):
                statuses.append((ref, "INVALID"))
                continue
            canon = canonical_record(rec)
            raw_id = rec.get("id")
            if raw_id is None:
                event_id = "sha256:" + hashlib.sha256(repr(canon).encode()).hexdigest()
            else:
                event_id = raw_id if isinstance(raw_id, str) else None
            if event_id is not None and event_id in claimed:
                statuses.append(
                    (ref, "DUPLICATE" if claimed[event_id] == canon else "DUPLICATE_CONFLICT")
                )
                continue
            if raw_id is not None and not (isinstance(raw_id, str) and 1 <= len(raw_id) <= 512):
                statuses.append((ref, "INVALID"))
                continue
            fields = [rec.get(k) for k in ("timestamp", "accountId", "schemaName")]
            if not all(isinstance(f, str) for f in fields):
                statuses.append((ref, "INVALID"))
                continue
            ts = parse_timestamp(fields[0])
            attrs = _attributes(rec.get("attributes"))
            dims = rec.get("dimensions")
            dims = {} if dims is None else dims
            dims_ok = isinstance(dims, dict) and all(
                v is None or isinstance(v, str) for v in dims.values()
            )
            if ts is None or isinstance(attrs, str) or not dims_ok:
                statuses.append((ref, "INVALID"))
                continue
            if ts > received_at + timedelta(days=1):
                statuses.append((ref, "INVALID"))
                continue
            claimed[event_id] = canon
            statuses.append((ref, "ACCEPTED"))
            accepted.append(
                Event(
                    ref,
                    event_id,
                    ts,
                    fields[1],
                    fields[2],
                    attrs,
                    {k: v for k, v in dims.items() if v is not None},
                )
            )
    return statuses, accepted


# ------------------------------------------------------------------------------ cycles


def _add_months(y: int, m: int, k: int) -> tuple[int, int]:
    t = y * 12 + (m - 1) + k
    return t // 12, t % 12 + 1


def _anchor(y: int, m: int, day: int) -> date:
    return date(y, m, min(day, monthrange(y, m)[1]))


def cycle_of(spec: dict, day: date) -> tuple[date, date]:
    """The local-day cycle [start, end) containing `day`."""
    interval = spec["interval"]
    if interval == "WEEKLY":
        start = day - timedelta(days=(day.isoweekday() - int(spec.get("anchor_weekday", 1))) % 7)
        return start, start + timedelta(days=7)
    step = {"MONTHLY": 1, "QUARTERLY": 3, "ANNUALLY": 12}[interval]
    anchor_day = int(spec.get("anchor_day", 1))
    anchor_month = int(spec.get("anchor_month", 1)) if step > 1 else 1
    # candidate start months: anchor_month + k*step; find the last start <= day
    y, m = day.year, day.month
    while (m - anchor_month) % step:
        y, m = _add_months(y, m, -1)
    start = _anchor(y, m, anchor_day)
    if start > day:
        y, m = _add_months(y, m, -step)
        start = _anchor(y, m, anchor_day)
    ny, nm = _add_months(y, m, step)
    return start, _anchor(ny, nm, anchor_day)


@dataclass
class Period:
    invoice_id: str
    account_id: str
    assignment_id: str
    plan: Plan
    zone: ZoneInfo
    cycle_start: datetime
    cycle_end: datetime
    start: datetime
    end: datetime
    share: Decimal
    days: Decimal
    finalizes_at: datetime


def invoice_id(account_id: str, assignment_id: str, start: datetime) -> str:
    key = f"{account_id}|{assignment_id}|{int(start.timestamp())}"
    return "inv_" + hashlib.md5(key.encode()).hexdigest()


def _q18(x: Decimal) -> Decimal:
    return x.quantize(Decimal("1e-18"), rounding=ROUND_HALF_EVEN, context=EXACT)


def periods_of(cat: Catalog, a: dict, until: datetime) -> list[Period]:
    """Every period (cycle cut to the assignment) of `a` starting before `until`."""
    acc = cat.accounts[a["account_id"]]
    zone, plan = acc["zone"], cat.plans[a["plan_id"]]
    lo = local_midnight(a["from"], zone)
    hi = local_midnight(a["until"] + timedelta(days=1), zone) if a["until"] else FAR
    out = []
    day = a["from"]
    while True:
        c0, c1 = cycle_of(plan.cycle, day)
        cs, ce = local_midnight(c0, zone), local_midnight(c1, zone)
        ps, pe = max(cs, lo), min(ce, hi)
        if ps >= until or ps >= hi:
            break
        if pe > ps:
            total = Decimal((ce - cs).total_seconds())
            pos0 = _q18(EXACT.divide(Decimal((ps - cs).total_seconds()), total))
            pos1 = _q18(EXACT.divide(Decimal((pe - cs).total_seconds()), total))
            end_day = pe.astimezone(zone).date()
            grace = int(plan.cycle.get("grace_period_days", 0))
            out.append(
                Period(
                    invoice_id(a["account_id"], a["assignment_id"], ps),
                    a["account_id"],
                    a["assignment_id"],
                    plan,
                    zone,
                    cs,
                    ce,
                    ps,
                    pe,
                    pos1 - pos0,
                    _q18(EXACT.divide(Decimal((pe - ps).total_seconds()), Decimal(86400))),
                    local_midnight(end_day + timedelta(days=grace), zone),
                )
            )
        day = c1
    return out


# ------------------------------------------------------------------------------ rating


def rate(card: Card, units: Decimal) -> tuple[Decimal, bool]:
    """(amount, negative-usage flag) for a usage card, exact."""
    if units < 0:
        return ZERO, True
    if units == 0:
        return ZERO, False
    slabs = card.slabs
    first = slabs[0]["start_after"]

    def charge(slab: dict, n: Decimal) -> Decimal:
        if slab["package_size"]:
            n = EXACT.divide(n, slab["package_size"]).to_integral_value(rounding=ROUND_CEILING)
        return EXACT.add(EXACT.multiply(slab["rate"], n), slab["flat_fee"] or ZERO)

    amount = ZERO
    if card.model == "TIERED":
        for i, slab in enumerate(slabs):
            upper = slabs[i + 1]["start_after"] if i + 1 < len(slabs) else None
            top = units if upper is None else min(units, upper)
            inside = top - slab["start_after"]
            if inside > 0:
                amount = EXACT.add(amount, charge(slab, inside))
    elif card.model == "VOLUME":
        if units > first:
            containing = [s for s in slabs if s["start_after"] < units][-1]
            amount = charge(containing, units - first)
    else:
        raise ValueError(card.model)
    if card.minimum is not None:
        amount = max(amount, card.minimum)
    if card.maximum is not None:
        amount = min(amount, card.maximum)
    return amount, False


def aggregate(aggregation: str, events: list[Event], meter_id: str) -> Decimal:
    if aggregation == "COUNT":
        return Decimal(len(events))
    valued = [e for e in events if e.meters[meter_id] is not None]
    if not valued:
        return ZERO
    values = [e.meters[meter_id] for e in valued]
    if aggregation == "SUM":
        return sum(values, ZERO)
    if aggregation == "MAX":
        return max(values)
    if aggregation == "UNIQUE_COUNT":
        return Decimal(len(set(values)))
    if aggregation == "LATEST":
        return max(valued, key=lambda e: (e.timestamp, e.event_id)).meters[meter_id]
    raise ValueError(aggregation)


# ------------------------------------------------------------------------------ invoices


@dataclass
class Line:
    line_type: str
    amount: Decimal  # rounded
    rate_card_id: str | None = None
    rule_id: str | None = None
    credit_id: str | None = None
    code: str | None = None
    quantity: Decimal | None = None

    def key(self) -> tuple:
        return (self.line_type, self.rate_card_id, self.rule_id, self.credit_id, self.code)


@dataclass
class Invoice:
    period: Period
    currency: str
    lines: list[Line] = field(default_factory=list)
    subtotal: Decimal = ZERO
    true_up: Decimal = ZERO
    credits_applied: Decimal = ZERO
    total: Decimal = ZERO
    wallet_applied: Decimal = ZERO
    amount_due: Decimal = ZERO
    status: str = "DRAFT"
    needs_review: bool = False
    rule_outcomes: dict[str, str] = field(default_factory=dict)


def _is_number(x: object) -> bool:
    return isinstance(x, Decimal) and not isinstance(x, bool) and x.is_finite()


def build_invoice(p: Period, events: list[Event], cat: Catalog) -> Invoice:
    plan, acc = p.plan, cat.accounts[p.account_id]
    cur = plan.currency
    inv = Invoice(p, cur)
    usage: dict[str, Decimal] = {}
    revenue: dict[str, Decimal] = {}
    for card in plan.usage_cards():
        meter = cat.meters[card.meter]
        mine = [e for e in events if card.meter in e.meters]
        usage[card.id] = aggregate(meter["aggregation"], mine, card.meter)
        revenue[card.id], flagged = rate(card, usage[card.id])
        inv.needs_review |= flagged
    for card in plan.fee_cards():
        usage[card.id] = p.share if card.proration else Decimal(1)
        revenue[card.id] = EXACT.multiply(card.amount, usage[card.id])
    for card in plan.usage_cards() + plan.fee_cards():
        inv.lines.append(
            Line(
                "USAGE" if card.type == "USAGE" else "FIXED_FEE",
                money(revenue[card.id], cur),
                rate_card_id=card.id,
                quantity=usage[card.id],
            )
        )
    cards = {c.id: c for c in plan.cards}
    additions = ZERO
    for rule in plan.rules:
        data = {
            "usage": dict(usage),
            "revenue": dict(revenue),
            "subtotal": EXACT.add(sum(revenue.values(), ZERO), additions),
            "account": {"id": p.account_id, "currency": acc["currency"]},
            "cycle": {"start": p.start.isoformat(), "end": p.end.isoformat(), "days": p.days},
        }
        if rule["condition"] is not None:
            try:
                passed = evaluate({"!!": [rule["condition"]]}, data)
            except Exception:
                inv.rule_outcomes[rule["id"]] = "CONDITION_ERROR"
                inv.needs_review = True
                continue
            if not passed:
                inv.rule_outcomes[rule["id"]] = "CONDITION_FALSE"
                continue
        try:
            result = evaluate(rule["computation"], data)
            if not _is_number(result):
                raise ValueError(f"not a number: {result!r}")
            action = rule["action"]
            if action["type"] == "UPDATE":
                kind, target = action["target"].split(".", 1)
                old = revenue[target]
                if kind == "revenue":
                    new = result
                else:
                    new, flagged = rate(cards[target], result)
                    inv.needs_review |= flagged
                    usage[target] = result
                revenue[target] = new
                inv.lines.append(
                    Line(
                        "PRICING_RULE_UPDATE",
                        money(new - old, cur),
                        rate_card_id=target,
                        rule_id=rule["id"],
                    )
                )
            else:
                additions += result
                inv.lines.append(
                    Line(
                        "PRICING_RULE_ADDITION",
                        money(result, cur),
                        rule_id=rule["id"],
                        code=action.get("code"),
                    )
                )
        except Exception:
            inv.rule_outcomes[rule["id"]] = "COMPUTATION_ERROR"
            inv.needs_review = True
            continue
        inv.rule_outcomes[rule["id"]] = "CONDITION_TRUE"
    subtotal = sum((ln.amount for ln in inv.lines), ZERO)
    if subtotal < 0:
        inv.lines.append(Line("ADJUSTMENT", -subtotal, code="negative_subtotal"))
        inv.needs_review = True
        subtotal = ZERO
    inv.subtotal = subtotal
    commitment = plan.commitment()
    if commitment is not None:
        due = money(EXACT.multiply(commitment, p.share), cur)
        inv.true_up = max(ZERO, due - subtotal)
        if inv.true_up > 0:
            inv.lines.append(Line("MINIMUM_COMMITMENT_TRUE_UP", inv.true_up))
    return inv


def apply_credits(invoices: list[Invoice], cat: Catalog) -> None:
    """Credits per account, chronologically (period_start, invoice_id)."""
    remaining: dict[str, Decimal] = {}
    grants = []
    for c in cat.credits:
        acc = cat.accounts.get(c["account_id"])
        if acc is None:
            continue
        zone = acc["zone"]
        lo = local_midnight(date.fromisoformat(c["effective_from"]), zone)
        until = c["effective_until"]
        hi = local_midnight(date.fromisoformat(until) + timedelta(days=1), zone) if until else FAR
        remaining[c["credit_id"]] = money(Decimal(c["amount"]), c["currency"])
        grants.append(
            {
                **c,
                "lo": lo,
                "hi": hi,
                "applies": [x for x in (c["applies_to"] or "").split(";") if x],
                "order": (int(c["priority"] or 0), 0 if until else 1, until or "", c["credit_id"]),
            }
        )
    grants.sort(key=lambda g: g["order"])
    for inv in sorted(invoices, key=lambda i: (i.period.start, i.period.invoice_id)):
        p = inv.period
        # Net amount per card: its line plus the update lines aimed at it, floored at 0.
        net: dict[str, Decimal] = {}
        for ln in inv.lines:
            if ln.line_type in ("USAGE", "FIXED_FEE"):
                net[ln.rate_card_id] = net.get(ln.rate_card_id, ZERO) + ln.amount
        for ln in inv.lines:
            if ln.line_type == "PRICING_RULE_UPDATE":
                net[ln.rate_card_id] += ln.amount
        net = {k: max(ZERO, v) for k, v in net.items()}
        order = [ln.rate_card_id for ln in inv.lines if ln.line_type in ("USAGE", "FIXED_FEE")]
        room = inv.subtotal
        for g in grants:
            if g["account_id"] != p.account_id or g["currency"] != inv.currency:
                continue
            if not (g["lo"] < p.end and p.start < g["hi"]):
                continue
            used = ZERO
            for card_id in order:
                if g["applies"] and card_id not in g["applies"]:
                    continue
                take = min(remaining[g["credit_id"]] - used, net[card_id], room)
                if take > 0:
                    used += take
                    net[card_id] -= take
                    room -= take
            if used > 0:
                remaining[g["credit_id"]] -= used
                inv.lines.append(Line("CREDIT", -used, credit_id=g["credit_id"]))
                inv.credits_applied += used
        inv.total = inv.subtotal + inv.true_up - inv.credits_applied


def apply_wallet(invoices: list[Invoice], cat: Catalog) -> None:
    txns: dict[str, list[tuple[datetime, Decimal]]] = {}
    for t in cat.wallet:
        at = datetime.fromisoformat(t["occurred_at"].replace("Z", "+00:00"))
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        txns.setdefault(t["account_id"], []).append(
            (at, money(Decimal(t["amount"]), t["currency"]))
        )
    drawn: dict[str, Decimal] = {}
    for inv in sorted(
        invoices, key=lambda i: (i.period.finalizes_at, i.period.start, i.period.invoice_id)
    ):
        acc = inv.period.account_id
        balance = sum(
            (amt for at, amt in txns.get(acc, []) if at < inv.period.finalizes_at), ZERO
        ) - drawn.get(acc, ZERO)
        inv.wallet_applied = min(max(balance, ZERO), inv.total)
        drawn[acc] = drawn.get(acc, ZERO) + inv.wallet_applied
        inv.amount_due = inv.total - inv.wallet_applied


# ------------------------------------------------------------------------------ one run


@dataclass
class Result:
    statuses: dict[str, str]  # raw_ref -> pipeline status
    event_invoice: dict[str, str | None]  # raw_ref -> invoice_id (METERED only)
    invoices: dict[str, Invoice]


def assignment_on(cat: Catalog, account_id: str, ts: datetime) -> dict | None:
    acc = cat.accounts[account_id]
    day = ts.astimezone(acc["zone"]).date()
    for a in cat.assignments:
        if (
            a["account_id"] == account_id
            and a["from"] <= day
            and (a["until"] is None or day <= a["until"])
        ):
            return a
    return None


def run(catalog_dir: Path, landing: Path, *, received_at: datetime, as_of: datetime) -> Result:
    """What one run at `as_of` shows, every record having been received at `received_at`."""
    cat = read_catalog(catalog_dir)
    ingestion, accepted = classify_records(landing, received_at)
    statuses = dict(ingestion)
    for e in accepted:
        acc_id = cat.refs.get(e.account_id)
        if acc_id is None:
            e.status = "ACCOUNT_NOT_FOUND"
        elif e.schema not in cat.schemas:
            e.status = "SCHEMA_NOT_DEFINED"
        elif set(e.attributes) - cat.schemas[e.schema]:
            e.status = "INVALID"
        else:
            e.account_id = acc_id
            e.assignment = assignment_on(cat, acc_id, e.timestamp)
            if e.assignment is None:
                e.status = "NO_PRICE_PLAN"
            else:
                data = {"attributes": e.attributes, "dimensions": e.dimensions}
                for meter in cat.meters.values():
                    if meter["schema"] != e.schema:
                        continue
                    if meter["filter"] is not None:
                        try:
                            if not evaluate({"!!": [meter["filter"]]}, data):
                                continue
                        except Exception:
                            continue
                    value = None
                    if meter["aggregation"] != "COUNT" and meter["value"] is not None:
                        try:
                            value = evaluate(meter["value"], data)
                        except Exception:
                            value = None
                        if meter["aggregation"] == "UNIQUE_COUNT":
                            # distinct values of any type: numbers by value, strings as
                            # themselves, 5 and "5" distinct (a JavaScript Set)
                            if isinstance(value, bool):
                                value = ("bool", value)
                        elif isinstance(value, bool):
                            value = None
                        elif isinstance(value, str):
                            value = numeric(value)
                    e.meters[meter["id"]] = value
                e.status = "METERED" if e.meters else "NO_MATCHING_METERS"
        statuses[e.raw_ref] = e.status

    metered = [e for e in accepted if e.status == "METERED"]
    periods: list[Period] = []
    horizon = max(
        as_of, max((e.timestamp for e in metered), default=as_of) + timedelta(microseconds=1)
    )
    for a in cat.assignments:
        periods += periods_of(cat, a, horizon)
    by_assignment: dict[str, list[Period]] = {}
    for p in periods:
        by_assignment.setdefault(p.assignment_id, []).append(p)
    per_period: dict[str, list[Event]] = {p.invoice_id: [] for p in periods}
    event_invoice: dict[str, str | None] = {}
    for e in metered:
        for p in by_assignment.get(e.assignment["assignment_id"], []):
            if p.start <= e.timestamp < p.end:
                per_period[p.invoice_id].append(e)
                event_invoice[e.raw_ref] = p.invoice_id
                break
    # A period exists when it has begun by the as-of, or when it has events.
    periods = [p for p in periods if p.start < as_of or per_period[p.invoice_id]]
    invoices = [build_invoice(p, per_period[p.invoice_id], cat) for p in periods]
    apply_credits(invoices, cat)
    apply_wallet(invoices, cat)
    for inv in invoices:
        if as_of >= inv.period.finalizes_at:
            inv.status = "PAID" if inv.amount_due == 0 else "DUE"
    return Result(statuses, event_invoice, {i.period.invoice_id: i for i in invoices})
