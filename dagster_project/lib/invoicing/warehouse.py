"""Reads rated lines and the catalog from the warehouse, builds invoices, writes the results.

Set-based I/O around the pure builder, a group of accounts at a time: one query per input
and one insert per output for each group, all writes in one transaction. Finalized invoices
are stored once and never rewritten; the ledgers are append-only; an account's drafts are
replaced whenever what they are built from changed since they were priced (priced_accounts
below), and kept as they are otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, getcontext

import duckdb
import pyarrow as pa

from dagster_project.lib.code_version import code_version
from dagster_project.lib.gc_pause import gc_paused
from dagster_project.lib.warehouse import table_rows_hash
from rule_engine import RuleSpec, Slab, UsagePricing, compile_rules, load_logic

from .build import build_invoices, prior_state_from_ledgers
from .credits import CreditGrant
from .invoice import FixedFeeLineInput, InvoiceInput, UsageLineInput, utc
from .wallet import WalletTransaction

MONEY = "decimal(38, 12)"

# Column order and types of the tables this module writes (schema billing).
INVOICE_COLUMNS = {
    "invoice_id": "varchar",
    "account_id": "varchar",
    "customer_id": "varchar",
    "plan_id": "varchar",
    "assignment_id": "varchar",
    "currency": "varchar",
    "period_start": "timestamptz",
    "period_end": "timestamptz",
    "status": "varchar",
    "subtotal": MONEY,
    "minimum_commitment_true_up": MONEY,
    "credits_applied": MONEY,
    "total": MONEY,
    "wallet_applied": MONEY,
    "amount_paid": MONEY,
    "amount_due": MONEY,
    "finalized_at": "timestamptz",
    "needs_review": "boolean",
    "review_reasons": "varchar[]",
    "finalized_through_record_seq": "bigint",
}
LINE_COLUMNS = {
    "line_item_id": "varchar",
    "invoice_id": "varchar",
    "line_number": "integer",
    "line_type": "varchar",
    "rate_card_id": "varchar",
    "meter_id": "varchar",
    "rule_id": "varchar",
    "credit_id": "varchar",
    "code": "varchar",
    "quantity": MONEY,
    "unit_amount": MONEY,
    "amount": MONEY,
    "description": "varchar",
}
RULE_LOG_COLUMNS = {
    "log_id": "varchar",
    "invoice_id": "varchar",
    "rule_id": "varchar",
    "rule_name": "varchar",
    "rule_order": "integer",
    "outcome": "varchar",
    "variables": "varchar",
    "computation_result": MONEY,
    "action_type": "varchar",
    "target": "varchar",
    "old_usage": MONEY,
    "new_usage": MONEY,
    "old_revenue": MONEY,
    "new_revenue": MONEY,
    "error_message": "varchar",
}
CREDIT_LEDGER_COLUMNS = {
    "entry_id": "varchar",
    "credit_id": "varchar",
    "account_id": "varchar",
    "entry_type": "varchar",
    "invoice_id": "varchar",
    "amount": MONEY,
    "balance_after": MONEY,
    "occurred_at": "timestamptz",
}
WALLET_LEDGER_COLUMNS = {
    "entry_id": "varchar",
    "account_id": "varchar",
    "entry_type": "varchar",
    "invoice_id": "varchar",
    "transaction_id": "varchar",
    "amount": MONEY,
    "balance_after": MONEY,
    "occurred_at": "timestamptz",
}

BILLING_TABLES = {
    "finalized_invoices": INVOICE_COLUMNS,
    "finalized_invoice_line_items": LINE_COLUMNS,
    "finalized_pricing_rule_log": RULE_LOG_COLUMNS,
    "draft_invoices": INVOICE_COLUMNS,
    "draft_invoice_line_items": LINE_COLUMNS,
    "draft_pricing_rule_log": RULE_LOG_COLUMNS,
    "credit_ledger": CREDIT_LEDGER_COLUMNS,
    "wallet_ledger": WALLET_LEDGER_COLUMNS,
}


@dataclass(frozen=True)
class InvoicingSummary:
    drafts: int
    finalized_now: int
    finalized_before: int
    needs_review: int
    priced_accounts: frozenset[str]  # accounts built this run (the others' drafts were kept)


# Bookkeeping, not an output: per account, what its stored drafts were built from and at
# which clock (see _accounts_to_price).
PRICED_ACCOUNTS_COLUMNS = {
    "account_id": "varchar",
    "inputs_hash": "varchar",
    "pricing_version": "varchar",
    "priced_as_of": "timestamptz",
}


# Bookkeeping of billing.invoice_periods (lib/invoice_periods.py): per assignment, what its
# stored pieces were laid out from, up to which horizon, and where its first piece not laid
# out begins (NULL: it has none).
INVOICE_PERIOD_LAYOUTS_COLUMNS = {
    "assignment_id": "varchar",
    "inputs_hash": "varchar",
    "code_version": "varchar",
    "laid_out_until": "timestamptz",
    "next_period_start": "timestamptz",
}


STORED_TABLES = {
    **BILLING_TABLES,
    "priced_accounts": PRICED_ACCOUNTS_COLUMNS,
    "invoice_period_layouts": INVOICE_PERIOD_LAYOUTS_COLUMNS,
}


def ensure_billing_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists billing")
    for table, columns in STORED_TABLES.items():
        body = ", ".join(f"{name} {kind}" for name, kind in columns.items())
        con.execute(f"create table if not exists billing.{table} ({body})")


def _trimmed(value: Decimal | None) -> Decimal | None:
    """A DECIMAL(38,12) value without its padding zeros (1000.100000000000 → 1000.1), so
    the variables a rule logs read as finance wrote them; the value is unchanged."""
    if value is None:
        return None
    normalized = value.normalize()
    return normalized.quantize(Decimal(1)) if normalized.as_tuple().exponent > 0 else normalized


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _trimmed_text(text: str | None) -> Decimal | None:
    """_trimmed(Decimal(text)) for DuckDB's decimal text ("1000.100000000000" → 1000.1),
    trimming the zeros as text: the same value and exponent at half the cost. A number
    with more digits than the context's precision goes through _trimmed, which rounds it
    there (normalize), so the result stays what _trimmed gives."""
    if text is None:
        return None
    if len(text) > getcontext().prec:
        return _trimmed(Decimal(text))
    if "." in text:
        text = text.rstrip("0").rstrip(".")
        if text in ("", "-"):
            text += "0"
    return Decimal(text)


def _utc(moment: datetime | None) -> datetime | None:
    """A naive UTC timestamp (`at time zone 'UTC'` in SQL) as the zone-aware instant."""
    return None if moment is None else moment.replace(tzinfo=UTC)


def _rows(con, sql: str, params=None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _usage_pricings(con) -> dict[tuple[str, str], UsagePricing]:
    cards = _rows(
        con,
        """select plan_id, rate_card_id, pricing_model, minimum_amount, maximum_amount
           from catalog.rate_cards where rate_card_type = 'USAGE'""",
    )
    slabs: dict[tuple[str, str], list[Slab]] = defaultdict(list)
    for s in _rows(
        con,
        """select plan_id, rate_card_id, start_after, rate, flat_fee, package_size
           from catalog.rate_card_slabs order by plan_id, rate_card_id, slab_index""",
    ):
        slabs[(s["plan_id"], s["rate_card_id"])].append(
            Slab(s["start_after"], s["rate"], s["flat_fee"] or Decimal(0), s["package_size"])
        )
    return {
        (c["plan_id"], c["rate_card_id"]): UsagePricing(
            c["pricing_model"],
            tuple(slabs[(c["plan_id"], c["rate_card_id"])]),
            c["minimum_amount"],
            c["maximum_amount"],
        )
        for c in cards
    }


def _compiled_rules(con) -> dict[str, list]:
    """Each plan's rules compiled once (the catalog asset already validated them)."""
    cards: dict[str, dict[str, set[str]]] = defaultdict(
        lambda: {"USAGE": set(), "FIXED_FEE": set()}
    )
    for c in _rows(con, "select plan_id, rate_card_id, rate_card_type from catalog.rate_cards"):
        if c["rate_card_type"] in ("USAGE", "FIXED_FEE"):
            cards[c["plan_id"]][c["rate_card_type"]].add(c["rate_card_id"])
    specs: dict[str, list[RuleSpec]] = defaultdict(list)
    for r in _rows(con, "select * from catalog.pricing_rules order by plan_id, rule_order"):
        specs[r["plan_id"]].append(
            RuleSpec(
                rule_id=r["rule_id"],
                rule_name=r["rule_name"] or "",
                rule_order=r["rule_order"],
                condition=load_logic(r["condition_logic"]) if r["condition_logic"] else None,
                computation=load_logic(r["computation_logic"]),
                action_type=r["action_type"],
                target=r["target"],
                code=r["code"],
                description=r["description"],
            )
        )
    return {
        plan_id: compile_rules(
            plan_specs,
            usage_cards=cards[plan_id]["USAGE"],
            fixed_fee_cards=cards[plan_id]["FIXED_FEE"],
        )
        for plan_id, plan_specs in specs.items()
    }


# Only open invoices are built: a finalized invoice is stored once and never rebuilt, so its
# lines are not read either (most of the warehouse's lines after the first months).
NOT_FINALIZED = "invoice_id not in (select invoice_id from billing.finalized_invoices)"
# Of an account's rows, only those of the accounts being priced (_accounts_registered: a
# group of this run's at a time).
TO_PRICE = "account_id in (select account_id from accounts_to_price)"

# Instants as naive UTC and decimals as text, made exact Python values by _invoice_inputs:
# DuckDB builds a zone-aware datetime or a Decimal per value several times slower.
OPEN_PERIODS_SQL = f"""
select i.invoice_id, i.account_id, a.customer_id, i.plan_id, i.assignment_id, i.currency,
       i.period_start at time zone 'UTC', i.period_end at time zone 'UTC',
       cast(i.period_days as varchar), cast(i.share as varchar),
       i.finalizes_at at time zone 'UTC'
from intermediate.int_invoices i
join catalog.accounts a using (account_id)
where i.{NOT_FINALIZED} and i.{TO_PRICE}
order by i.account_id, i.period_start, i.invoice_id
"""


def _invoice_inputs(
    con, pricings: dict[tuple[str, str], UsagePricing], rules: dict[str, list]
) -> list[InvoiceInput]:
    usage: dict[str, list[UsageLineInput]] = defaultdict(list)
    # Rows as tuples and amounts as text (Decimal(text) is exact and several times faster
    # than DuckDB building a Decimal per value): ~375k rated lines on a 10k-account night.
    for invoice_id, plan_id, rate_card_id, meter_id, quantity, amount in con.execute(
        f"""select invoice_id, plan_id, rate_card_id, meter_id,
                  cast(quantity as varchar), cast(amount as varchar)
           from intermediate.int_rated_usage where {NOT_FINALIZED} and {TO_PRICE}
           order by invoice_id, rate_card_id"""
    ).fetchall():
        usage[invoice_id].append(
            UsageLineInput(
                rate_card_id=rate_card_id,
                meter_id=meter_id,
                quantity=_trimmed_text(quantity),
                amount=_trimmed_text(amount),
                pricing=pricings[(plan_id, rate_card_id)],
            )
        )
    fees: dict[str, list[FixedFeeLineInput]] = defaultdict(list)
    commitments: dict[str, tuple[str, Decimal]] = {}
    for (
        invoice_id,
        rate_card_id,
        line_type,
        quantity,
        unit_amount,
        amount,
        commitment_amount,
    ) in con.execute(
        f"""select invoice_id, rate_card_id, line_type, cast(quantity as varchar),
                  cast(unit_amount as varchar), cast(amount as varchar),
                  cast(commitment_amount as varchar)
           from intermediate.int_fixed_fee_lines where {NOT_FINALIZED} and {TO_PRICE}
           order by invoice_id, rate_card_id"""
    ).fetchall():
        if line_type == "FIXED_FEE":
            fees[invoice_id].append(
                FixedFeeLineInput(
                    rate_card_id=rate_card_id,
                    quantity=_trimmed_text(quantity),
                    unit_amount=_trimmed_text(unit_amount),
                    amount=_trimmed_text(amount),
                )
            )
        else:
            commitments[invoice_id] = (rate_card_id, _trimmed_text(commitment_amount))
    inputs = []
    for (
        invoice_id,
        account_id,
        customer_id,
        plan_id,
        assignment_id,
        currency,
        period_start,
        period_end,
        period_days,
        share,
        finalizes_at,
    ) in con.execute(OPEN_PERIODS_SQL).fetchall():
        commitment = commitments.get(invoice_id)
        inputs.append(
            InvoiceInput(
                invoice_id=invoice_id,
                account_id=account_id,
                customer_id=customer_id,
                plan_id=plan_id,
                assignment_id=assignment_id,
                currency=currency,
                period_start=_utc(period_start),
                period_end=_utc(period_end),
                cycle_days=_decimal(period_days),
                share=_decimal(share),
                finalizes_at=_utc(finalizes_at),
                usage_lines=tuple(usage.get(invoice_id, ())),
                fixed_fee_lines=tuple(fees.get(invoice_id, ())),
                commitment_amount=commitment[1] if commitment else None,
                commitment_rate_card_id=commitment[0] if commitment else None,
                rules=tuple(rules.get(plan_id, ())),
            )
        )
    return inputs


def _credit_grants(con) -> list[CreditGrant]:
    return [
        CreditGrant(
            credit_id=c["credit_id"],
            account_id=c["account_id"],
            amount=c["amount"],
            currency=c["currency"],
            priority=c["priority"],
            effective_from=c["effective_from"],
            effective_until=c["effective_until"],
            applies_to=tuple(c["applies_to"] or ()),
            timezone=c["timezone"],
        )
        for c in _rows(
            con,
            """select g.*, a.timezone from catalog.credit_grants g
               join catalog.accounts a using (account_id) order by credit_id""",
        )
    ]


def _wallet_transactions(con) -> list[WalletTransaction]:
    return [
        WalletTransaction(
            transaction_id=w["transaction_id"],
            account_id=w["account_id"],
            type=w["transaction_type"],
            amount=w["amount"],
            currency=w["currency"],
            occurred_at=w["occurred_at"],
        )
        for w in _rows(
            con,
            f"select * from catalog.wallet_transactions where {TO_PRICE} order by transaction_id",
        )
    ]


# Cell types Arrow takes as they are; anything else goes through _cell.
_PLAIN = frozenset({str, int, bool, datetime, list})


def _cell(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def _table(rows: list[dict], columns: dict[str, str]) -> pa.Table:
    """Rows as Arrow, money as decimal text: DuckDB casts it exactly into the column type.

    Column by column, with the common cell types tested inline (a night writes ~600k
    rows): the same values as _cell on every cell, without a call per cell."""
    data = {}
    for name, kind in columns.items():
        if kind == MONEY:
            values = [
                format(v, "f")
                if type(v := r.get(name)) is Decimal
                else v
                if v is None or type(v) is str
                else _cell(v)
                for r in rows
            ]
        else:
            values = [
                v if (v := r.get(name)) is None or type(v) in _PLAIN else _cell(v) for r in rows
            ]
        data[name] = _array(values, kind)
    return pa.table(data)


def _array(values: list, kind: str) -> pa.Array:
    # Text columns say their type (Arrow infers it from every value otherwise, ~4x slower);
    # a value that is not text falls back to inference, as before.
    if kind in ("varchar", MONEY):
        try:
            return pa.array(values, type=pa.string())
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            pass
    return pa.array(values)


def _insert(con, table: str, rows: list[dict]) -> None:
    columns = STORED_TABLES[table]
    if not rows:
        return
    con.register("new_rows", _table(rows, columns))
    select = ", ".join(f"cast({name} as {kind}) as {name}" for name, kind in columns.items())
    con.execute(f"insert into billing.{table} select {select} from new_rows")
    con.unregister("new_rows")


# ---------------------------------------------------------------- which accounts to price

# An account's invoices are a function of the rows below, the pricing catalog, the code and
# the run's clock; the clock only through comparisons with the account's own moments (a
# period falls due, a credit starts or ends, a wallet transaction occurs). So when none of
# those changed and no moment of the account lies between the clock its drafts were priced
# at and this run's, building them again gives the same rows: they are kept (docs/invoices.md,
# "Re-pricing"). A finalized invoice always crosses such a moment, so it is always built.
#
# The hash recorded is the one of the rows as this run leaves them (its finalized invoices
# gone from the open ones, its ledger entries written): building the drafts from those rows
# gives the drafts this run built, because a finalized invoice comes before every draft of
# its account in both orders that spend money (credits by period, the wallet by due time).
# Except when a draft's period starts before one finalized now (a plan change gave the
# earlier piece a longer grace): it took credits first here, so it is priced again next run.
ACCOUNT_INPUTS_SQL = f"""
with input_rows as (
    select i.account_id,
           hash('period', i.invoice_id, a.customer_id, i.plan_id, i.assignment_id, i.currency,
                i.period_start, i.period_end, i.period_days, i.share, i.finalizes_at) as h
    from intermediate.int_invoices i join catalog.accounts a using (account_id)
    where i.{NOT_FINALIZED}
    union all
    select account_id,
           hash('usage', invoice_id, plan_id, rate_card_id, meter_id, quantity, amount)
    from intermediate.int_rated_usage where {NOT_FINALIZED}
    union all
    select account_id,
           hash('fee', invoice_id, rate_card_id, line_type, quantity, unit_amount, amount,
                commitment_amount)
    from intermediate.int_fixed_fee_lines where {NOT_FINALIZED}
    union all
    select g.account_id,
           hash('credit', g.credit_id, g.amount, g.currency, g.priority, g.effective_from,
                g.effective_until, g.applies_to, a.timezone)
    from catalog.credit_grants g join catalog.accounts a using (account_id)
    union all
    select account_id,
           hash('wallet', transaction_id, transaction_type, amount, currency, occurred_at)
    from catalog.wallet_transactions
    union all
    select account_id,
           hash('credit_ledger', entry_id, credit_id, entry_type, invoice_id, amount,
                balance_after, occurred_at)
    from billing.credit_ledger
    union all
    select account_id,
           hash('wallet_ledger', entry_id, entry_type, invoice_id, transaction_id, amount,
                balance_after, occurred_at)
    from billing.wallet_ledger
)
select account_id, cast(hash(list(h order by h)) as varchar) from input_rows group by account_id
"""

# The moments of an account that the clock is compared with, besides its credits' (whose
# local midnights CreditGrant works out).
ACCOUNT_MOMENTS_SQL = f"""
select account_id, finalizes_at at time zone 'UTC' from intermediate.int_invoices
where {NOT_FINALIZED}
union all
select account_id, occurred_at at time zone 'UTC' from catalog.wallet_transactions
"""

# Catalog tables every account is priced by: a change to any of them prices every account.
PRICING_CATALOG_TABLES = ("price_plans", "rate_cards", "rate_card_slabs", "pricing_rules")


def _pricing_version(con) -> str:
    digest = hashlib.sha256(code_version().encode())
    for table in PRICING_CATALOG_TABLES:
        digest.update(f"{table}:{table_rows_hash(con, f'catalog.{table}')};".encode())
    return digest.hexdigest()


def _inputs_hashes(con) -> dict[str, str]:
    return dict(con.execute(ACCOUNT_INPUTS_SQL).fetchall())


def _accounts_to_price(
    con, as_of: datetime, grants: list[CreditGrant], pricing_version: str
) -> set[str]:
    """The accounts whose invoices this run builds (and whose stored drafts it replaces)."""
    inputs = _inputs_hashes(con)
    stored = {
        account_id: (inputs_hash, version, priced_as_of)
        for account_id, inputs_hash, version, priced_as_of in con.execute(
            "select account_id, inputs_hash, pricing_version, priced_as_of from "
            "billing.priced_accounts"
        ).fetchall()
    }
    moments: dict[str, list[datetime]] = defaultdict(list)
    for account_id, moment in con.execute(ACCOUNT_MOMENTS_SQL).fetchall():
        moments[account_id].append(_utc(moment))
    for grant in grants:
        moments[grant.account_id].append(grant.starts_at)
        if grant.ends_at is not None:
            moments[grant.account_id].append(grant.ends_at)

    def unchanged(account_id: str) -> bool:
        if account_id not in stored or account_id not in inputs:
            return False
        inputs_hash, version, priced_as_of = stored[account_id]
        return (
            version == pricing_version
            and inputs_hash == inputs[account_id]
            and all((m <= priced_as_of) == (m <= as_of) for m in moments[account_id])
        )

    # An account gone from the inputs is priced too: its drafts are deleted.
    return {a for a in inputs.keys() | stored.keys() if not unchanged(a)}


def _earlier_drafts(invoices: tuple[dict, ...]) -> set[str]:
    """Accounts with a draft whose period starts before one of their invoices finalized now
    (see ACCOUNT_INPUTS_SQL): priced again by the next run, whatever it finds."""
    first_draft: dict[str, datetime] = {}
    last_finalized: dict[str, datetime] = {}
    for invoice in invoices:
        account, start = invoice["account_id"], invoice["period_start"]
        if invoice["status"] == "DRAFT":
            first_draft[account] = min(first_draft.get(account, start), start)
        else:
            last_finalized[account] = max(last_finalized.get(account, start), start)
    return {
        account
        for account, start in first_draft.items()
        if start < last_finalized.get(account, start)
    }


def _priced_rows(
    con, to_price: set[str], earlier_drafts: set[str], pricing_version: str, as_of: datetime
) -> list[dict]:
    """billing.priced_accounts rows of this run's accounts, from the rows it leaves behind."""
    inputs = _inputs_hashes(con)
    return [
        {
            "account_id": account,
            # No hash: priced again by the next run, whatever it finds.
            "inputs_hash": None if account in earlier_drafts else inputs[account],
            "pricing_version": pricing_version,
            "priced_as_of": as_of,
        }
        for account in sorted(to_price & inputs.keys())
    ]


# Accounts are priced this many at a time. All an invoice is built from (its credits, its
# wallet, its ledgers) is its account's, so groups are independent, and a run holds one
# group's Python objects at a time: all 10k accounts' at once were ~1 GiB beside DuckDB's
# buffers, the night's peak (bench/profile.md, "Peak RSS by step").
ACCOUNTS_PER_GROUP = 1000


def write_invoices(con: duckdb.DuckDBPyConnection, as_of: datetime) -> InvoicingSummary:
    """Build every open invoice and store the results; finalized invoices are frozen."""
    with gc_paused():
        return _write_invoices(con, as_of)


@contextmanager
def _accounts_registered(con, accounts: list[str]):
    """The accounts TO_PRICE reads, for the statements inside the block."""
    con.register("accounts_to_price", pa.table({"account_id": pa.array(accounts, pa.string())}))
    try:
        yield
    finally:
        con.unregister("accounts_to_price")


@dataclass(frozen=True)
class _GroupResult:
    finalized_now: int
    finalized_needing_review: int
    earlier_drafts: frozenset[str]  # see _earlier_drafts


def _write_invoices(con: duckdb.DuckDBPyConnection, as_of: datetime) -> InvoicingSummary:
    ensure_billing_tables(con)
    as_of = utc(as_of, "as_of")
    grants = _credit_grants(con)
    pricing_version = _pricing_version(con)
    to_price = _accounts_to_price(con, as_of, grants, pricing_version)
    pricings, rules = _usage_pricings(con), _compiled_rules(con)
    # Events received up to this run are the ones a newly finalized invoice bills; later ones
    # for its period are PAST_GRACE_PERIOD.
    through_seq = con.execute(
        "select coalesce(max(record_seq), 0) from raw.event_records"
    ).fetchall()[0][0]
    before = con.execute("select count(*) from billing.finalized_invoices").fetchall()[0][0]
    accounts = sorted(to_price)
    results: list[_GroupResult] = []
    con.execute("begin transaction")
    try:
        for first in range(0, len(accounts), ACCOUNTS_PER_GROUP):
            group = accounts[first : first + ACCOUNTS_PER_GROUP]
            members = set(group)
            with _accounts_registered(con, group):
                results.append(
                    _price_group(
                        con,
                        as_of,
                        [g for g in grants if g.account_id in members],
                        pricings,
                        rules,
                        through_seq,
                    )
                )
        earlier_drafts = set().union(*(r.earlier_drafts for r in results))
        _insert(
            con,
            "priced_accounts",
            _priced_rows(con, to_price, earlier_drafts, pricing_version, as_of),
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    drafts, drafts_for_review = con.execute(
        "select count(*), count(*) filter (where needs_review) from billing.draft_invoices"
    ).fetchall()[0]
    return InvoicingSummary(
        drafts=drafts,
        finalized_now=sum(r.finalized_now for r in results),
        finalized_before=before,
        needs_review=drafts_for_review + sum(r.finalized_needing_review for r in results),
        priced_accounts=frozenset(to_price),
    )


def _price_group(
    con,
    as_of: datetime,
    grants: list[CreditGrant],
    pricings: dict[tuple[str, str], UsagePricing],
    rules: dict[str, list],
    through_seq: int,
) -> _GroupResult:
    """Build the registered accounts' open invoices and write them, inside _write_invoices'
    transaction."""
    prior = prior_state_from_ledgers(
        _rows(
            con,
            f"select * from billing.credit_ledger where {TO_PRICE} order by occurred_at, entry_id",
        ),
        _rows(
            con,
            f"select * from billing.wallet_ledger where {TO_PRICE} order by occurred_at, entry_id",
        ),
    )
    run = build_invoices(
        _invoice_inputs(con, pricings, rules), grants, _wallet_transactions(con), prior, as_of
    )
    finalized_ids = {i["invoice_id"] for i in run.invoices if i["status"] != "DRAFT"}
    for invoice in run.invoices:
        invoice["finalized_through_record_seq"] = (
            through_seq if invoice["invoice_id"] in finalized_ids else None
        )

    def split(rows):
        done = [r for r in rows if r["invoice_id"] in finalized_ids]
        draft = [r for r in rows if r["invoice_id"] not in finalized_ids]
        return done, draft

    invoices_done, invoices_draft = split(run.invoices)
    lines_done, lines_draft = split(run.line_items)
    logs_done, logs_draft = split(run.rule_logs)
    _insert(con, "finalized_invoices", invoices_done)
    _insert(con, "finalized_invoice_line_items", lines_done)
    _insert(con, "finalized_pricing_rule_log", logs_done)
    # The priced accounts' drafts are replaced; the others' are what they would be again.
    for table in ("draft_invoice_line_items", "draft_pricing_rule_log"):
        con.execute(
            f"""delete from billing.{table} where invoice_id in
                (select invoice_id from billing.draft_invoices where {TO_PRICE})"""
        )
    for table in ("draft_invoices", "priced_accounts"):
        con.execute(f"delete from billing.{table} where {TO_PRICE}")
    _insert(con, "draft_invoices", invoices_draft)
    _insert(con, "draft_invoice_line_items", lines_draft)
    _insert(con, "draft_pricing_rule_log", logs_draft)
    _insert(con, "credit_ledger", run.credit_ledger)
    _insert(con, "wallet_ledger", run.wallet_ledger)
    return _GroupResult(
        finalized_now=len(invoices_done),
        finalized_needing_review=sum(1 for i in invoices_done if i["needs_review"]),
        earlier_drafts=frozenset(_earlier_drafts(run.invoices)),
    )
