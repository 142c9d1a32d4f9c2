"""Worked invoices through the real pipeline (SEMANTICS 11-17, docs/invoices.md).

Every case of cases.py is its own account in one shared catalog; conftest.nights bills them
with two real nightly runs (Dagster → dbt → the invoicing asset → the invoice marts). These
tests only query the warehouse and compare with the hand-worked numbers of cases.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from .cases import (
    ACCOUNTS,
    CREDIT_LEDGER,
    CREDITS,
    DEC,
    EVENTS,
    INVOICES,
    NOV,
    NOV_DUE,
    NY_DUE,
    RULE_LOGS,
    RUN_1,
    WALLET,
    WALLET_LEDGER,
    InvoiceCase,
    RuleLogCase,
    timezone_of,
)

pytestmark = pytest.mark.slow

D = Decimal
SUBTOTAL_LINES = (
    "USAGE",
    "FIXED_FEE",
    "PRICING_RULE_UPDATE",
    "PRICING_RULE_ADDITION",
    "ADJUSTMENT",
)
ENTRY_RANK = {"GRANTED": 0, "APPLIED": 1, "EXPIRED": 2}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def dec(value) -> Decimal | None:
    return None if value is None else D(str(value))


def rows(con, sql: str, params=()) -> list[dict]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def period_start(account: str, period: str) -> datetime:
    """Local midnight of the period's first day in the account's timezone."""
    return datetime.fromisoformat(period).replace(tzinfo=ZoneInfo(timezone_of(account)))


def due_of(account: str) -> datetime:
    return at(NY_DUE if account == "acc_ny" else NOV_DUE)


def invoice_of(con, account: str, period: str) -> dict:
    found = rows(
        con,
        "select * from marts.fct_invoices where account_id = ? and period_start = ?",
        [account, period_start(account, period)],
    )
    assert len(found) == 1, f"{account} {period}: expected one invoice, got {found}"
    return found[0]


def ref(line: dict) -> str:
    kind = line["line_type"]
    if kind == "PRICING_RULE_UPDATE":
        return f"{line['rule_id']}>{line['rate_card_id']}"
    if kind == "PRICING_RULE_ADDITION":
        return f"{line['rule_id']}:{line['code']}"
    if kind == "ADJUSTMENT":
        return line["code"]
    if kind == "CREDIT":
        return line["credit_id"]
    return line["rate_card_id"]


def lines_of(con, invoice_id: str) -> list[dict]:
    return rows(
        con,
        "select * from marts.fct_invoice_line_items where invoice_id = ? order by line_number",
        [invoice_id],
    )


# ---------------------------------------------------------------- the worked invoices


@pytest.mark.parametrize("case", INVOICES, ids=[c.case_id for c in INVOICES])
def test_worked_invoice(nights, run1, run2, case: InvoiceCase):
    con = run1 if case.run == 1 else run2
    invoice = invoice_of(con, case.account, case.period)
    lines = lines_of(con, invoice["invoice_id"])
    got_lines = [(x["line_type"], ref(x), x["amount"]) for x in lines]
    expected_lines = [(t, r, D(a)) for t, r, a in case.lines]
    assert got_lines == expected_lines, case.how
    got = {
        k: invoice[k]
        for k in (
            "status",
            "subtotal",
            "minimum_commitment_true_up",
            "credits_applied",
            "total",
            "wallet_applied",
            "amount_paid",
            "amount_due",
            "needs_review",
        )
    }
    assert got == {
        "status": case.status,
        "subtotal": D(case.subtotal),
        "minimum_commitment_true_up": D(case.true_up),
        "credits_applied": D(case.credits),
        "total": D(case.total),
        "wallet_applied": D(case.wallet),
        "amount_paid": D(0),
        "amount_due": D(case.due),
        "needs_review": case.review,
    }, case.how
    if case.status == "DRAFT":
        assert invoice["finalized_at"] is None
    else:  # the moment it fell due, not the run's clock
        assert invoice["finalized_at"] == due_of(case.account)
    reasons = invoice["review_reasons"] or []
    assert bool(reasons) == case.review
    for fragment in case.review_contains:
        assert any(fragment in reason for reason in reasons), reasons
    assert invoice["currency"] == (
        "JPY" if case.account == "acc_jpy" else "KWD" if case.account == "acc_kwd" else "USD"
    )


def test_invoices_of_each_night(run1, run2):
    """RUN_1: one DRAFT per account (November); December has not begun. RUN_2: November
    finalized for every account, December a DRAFT (due 2027-01-04)."""
    first = rows(run1, "select account_id, period_start, status from marts.fct_invoices")
    assert sorted((r["account_id"], r["period_start"], r["status"]) for r in first) == sorted(
        (a, period_start(a, NOV), "DRAFT") for a in ACCOUNTS
    )
    second = rows(
        run2,
        "select account_id, period_start, status, finalized_at from marts.fct_invoices",
    )
    got = sorted(
        (r["account_id"], r["period_start"], r["status"] == "DRAFT", r["finalized_at"])
        for r in second
    )
    expected = sorted(
        [(a, period_start(a, NOV), False, due_of(a)) for a in ACCOUNTS]
        + [(a, period_start(a, DEC), True, None) for a in ACCOUNTS]
    )
    assert got == expected
    assert {r["status"] for r in second} == {"DRAFT", "DUE", "PAID"}


def test_finalized_lines_keep_their_ids(run1, run2):
    """A line's id is a stable hash: the DRAFT's lines reappear with the same ids when the
    invoice is finalized (the acme invoice did not change between the two nights)."""
    draft = invoice_of(run1, "acc_acme", NOV)["invoice_id"]
    final = invoice_of(run2, "acc_acme", NOV)["invoice_id"]
    assert draft == final
    assert [x["line_item_id"] for x in lines_of(run1, draft)] == [
        x["line_item_id"] for x in lines_of(run2, final)
    ]


# ---------------------------------------------------------------- pricing rule log


@pytest.mark.parametrize("case", RULE_LOGS, ids=[c.case_id for c in RULE_LOGS])
def test_pricing_rule_log(run2, case: RuleLogCase):
    invoice_id = invoice_of(run2, case.account, NOV)["invoice_id"]
    found = rows(
        run2,
        "select * from marts.fct_pricing_rule_log where invoice_id = ? and rule_id = ?",
        [invoice_id, case.rule_id],
    )
    assert len(found) == 1, found
    log = found[0]
    assert log["outcome"] == case.outcome, log
    variables = json.loads(log["variables"], parse_float=D, parse_int=D)
    assert {k: D(str(v)) for k, v in variables.items()} == {
        k: D(v) for k, v in case.variables.items()
    }
    assert dec(log["computation_result"]) == dec(case.result)
    for column in ("old_usage", "new_usage", "old_revenue", "new_revenue"):
        assert dec(log[column]) == dec(getattr(case, column)), column
    if case.error_contains is None:
        assert log["error_message"] is None
    else:
        assert case.error_contains in (log["error_message"] or ""), log["error_message"]


def test_every_rule_is_logged_once_per_invoice(run2):
    """One log row per rule per invoice, in every November and December invoice of a plan
    with rules (SEMANTICS 11; CONTRACT §2)."""
    counts = rows(
        run2,
        """
        select i.account_id, i.period_start, count(l.log_id) as n,
               count(distinct l.rule_id) as rules
        from marts.fct_invoices i
        left join marts.fct_pricing_rule_log l using (invoice_id)
        group by all
        """,
    )
    from .cases import PLANS

    for row in counts:
        expected = len(PLANS[ACCOUNTS[row["account_id"]]][2])
        assert (row["n"], row["rules"]) == (expected, expected), row


# ---------------------------------------------------------------- ledgers


def _credit_entries(con) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for row in rows(con, "select * from marts.fct_credit_ledger"):
        out[row["credit_id"]].append(row)
    for entries in out.values():
        entries.sort(key=lambda r: (r["occurred_at"], ENTRY_RANK[r["entry_type"]]))
    return out


def _wallet_entries(con) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for row in rows(con, "select * from marts.fct_wallet_ledger"):
        out[row["account_id"]].append(row)
    for entries in out.values():
        # at one instant the draw comes before a top-up (docs/invoices.md §4)
        entries.sort(key=lambda r: (r["occurred_at"], r["entry_type"] != "APPLIED"))
    return out


def test_credit_ledger_after_the_first_night(run1):
    """RUN_1 (2026-11-30T12:00) writes the entries whose moment has come: GRANTED for the
    credits begun (not cr_dec), EXPIRED for cr_oct (over, usable by no invoice). DRAFTs
    write no APPLIED; credits ending Nov 30 still cover the open November."""
    got = {
        cid: [(e["entry_type"], e["amount"], e["balance_after"], e["occurred_at"]) for e in es]
        for cid, es in _credit_entries(run1).items()
    }
    expected: dict[str, list] = {}
    for cid, entries in CREDIT_LEDGER.items():
        kept = [
            (kind, D(amount), D(balance), at(when))
            for kind, _, amount, balance, when in entries
            if kind != "APPLIED" and at(when) <= at(RUN_1)
        ]
        if kept:
            expected[cid] = kept
    assert "cr_dec" not in expected and len(expected["cr_oct"]) == 2
    assert got == expected


def test_credit_ledger_after_the_second_night(run2):
    invoice_ids = {a: invoice_of(run2, a, NOV)["invoice_id"] for a in ACCOUNTS}
    got = {
        cid: [
            (e["entry_type"], e["invoice_id"], e["amount"], e["balance_after"], e["occurred_at"])
            for e in es
        ]
        for cid, es in _credit_entries(run2).items()
    }
    expected = {
        cid: [
            (kind, invoice_ids[acc] if acc else None, D(amount), D(balance), at(when))
            for kind, acc, amount, balance, when in entries
        ]
        for cid, entries in CREDIT_LEDGER.items()
    }
    assert got == expected
    accounts = {cid: acc for cid, acc, *_ in CREDITS}
    for cid, entries in _credit_entries(run2).items():
        assert {e["account_id"] for e in entries} == {accounts[cid]}


def test_wallet_ledger_after_the_first_night(run1):
    """Transactions whose moment has come (<= 2026-11-30T12:00); no draw yet."""
    got = {
        acc: [(e["entry_type"], e["transaction_id"], e["amount"], e["balance_after"]) for e in es]
        for acc, es in _wallet_entries(run1).items()
    }
    expected: dict[str, list] = {}
    for acc, entries in WALLET_LEDGER.items():
        kept = [
            (kind, tid, D(amount), D(balance))
            for kind, tid, amount, balance, when in entries
            if kind != "APPLIED" and at(when) <= at(RUN_1)
        ]
        if kept:
            expected[acc] = kept
    assert got == expected


def test_wallet_ledger_after_the_second_night(run2):
    invoice_ids = {a: invoice_of(run2, a, NOV)["invoice_id"] for a in ACCOUNTS}
    got = {
        acc: [
            (
                e["entry_type"],
                e["transaction_id"] or e["invoice_id"],
                e["amount"],
                e["balance_after"],
                e["occurred_at"],
            )
            for e in es
        ]
        for acc, es in _wallet_entries(run2).items()
    }
    expected = {
        acc: [
            (kind, invoice_ids[acc] if tid == "invoice" else tid, D(amount), D(bal), at(when))
            for kind, tid, amount, bal, when in entries
        ]
        for acc, entries in WALLET_LEDGER.items()
    }
    assert got == expected
    transactions = {tid for tid, *_ in WALLET}
    assert {e["transaction_id"] for es in _wallet_entries(run2).values() for e in es} - {
        None
    } == transactions


# ---------------------------------------------------------------- reconciliation


@pytest.mark.parametrize("night", ["run1", "run2"])
def test_every_invoice_adds_up_to_its_lines(request, night):
    con = request.getfixturevalue(night)
    invoices = rows(con, "select * from marts.fct_invoices")
    assert len(invoices) >= len(ACCOUNTS)
    for invoice in invoices:
        lines = lines_of(con, invoice["invoice_id"])
        by_type: dict[str, Decimal] = defaultdict(lambda: D(0))
        for line in lines:
            by_type[line["line_type"]] += line["amount"]
        what = invoice["invoice_id"], invoice["account_id"]
        assert invoice["total"] == sum(x["amount"] for x in lines), what
        assert invoice["subtotal"] == sum(by_type[t] for t in SUBTOTAL_LINES), what
        assert invoice["subtotal"] >= 0, what
        assert invoice["minimum_commitment_true_up"] == by_type["MINIMUM_COMMITMENT_TRUE_UP"]
        assert invoice["credits_applied"] == -by_type["CREDIT"], what
        assert invoice["credits_applied"] <= invoice["subtotal"], what
        assert invoice["total"] == (
            invoice["subtotal"] + invoice["minimum_commitment_true_up"] - invoice["credits_applied"]
        ), what
        assert invoice["total"] >= 0, what
        assert invoice["amount_due"] == (
            invoice["total"] - invoice["wallet_applied"] - invoice["amount_paid"]
        ), what
        assert [x["line_number"] for x in lines] == list(range(1, len(lines) + 1)), what
        assert all(x["amount"] <= 0 for x in lines if x["line_type"] == "CREDIT"), what


@pytest.mark.parametrize("night", ["run1", "run2"])
def test_credit_ledgers_reconcile(request, night):
    """GRANTED − APPLIED − EXPIRED = the last balance_after (signed amounts: GRANTED +,
    APPLIED and EXPIRED −), balance_after a running total never below zero, and the APPLIED
    entries are exactly the CREDIT lines of the finalized invoices."""
    con = request.getfixturevalue(night)
    ledger = _credit_entries(con)
    assert set(ledger) <= {cid for cid, *_ in CREDITS}
    if night == "run2":
        assert set(ledger) == {cid for cid, *_ in CREDITS}
    for cid, entries in ledger.items():
        assert [e["entry_type"] for e in entries].count("GRANTED") == 1, cid
        assert entries[0]["entry_type"] == "GRANTED", cid
        assert [e["entry_type"] for e in entries].count("EXPIRED") <= 1, cid
        balance = D(0)
        for e in entries:
            sign = 1 if e["entry_type"] == "GRANTED" else -1
            assert e["amount"] * sign > 0, (cid, e)
            balance += e["amount"]
            assert e["balance_after"] == balance, (cid, e)
            assert balance >= 0, (cid, e)
        granted = sum(e["amount"] for e in entries if e["entry_type"] == "GRANTED")
        applied = -sum(e["amount"] for e in entries if e["entry_type"] == "APPLIED")
        expired = -sum(e["amount"] for e in entries if e["entry_type"] == "EXPIRED")
        assert granted - applied - expired == entries[-1]["balance_after"], cid

    applied_entries = {
        (e["credit_id"], e["invoice_id"]): -e["amount"]
        for es in ledger.values()
        for e in es
        if e["entry_type"] == "APPLIED"
    }
    credit_lines = {
        (r["credit_id"], r["invoice_id"]): -r["amount"]
        for r in rows(
            con,
            """select l.credit_id, l.invoice_id, l.amount
               from marts.fct_invoice_line_items l join marts.fct_invoices i using (invoice_id)
               where l.line_type = 'CREDIT' and i.status <> 'DRAFT'""",
        )
    }
    assert applied_entries == credit_lines


@pytest.mark.parametrize("night", ["run1", "run2"])
def test_wallet_ledgers_reconcile(request, night):
    """balance_after runs per account; the last one is top-ups + adjustments − draws; every
    draw is the wallet_applied of a finalized invoice, and every finalized invoice's
    wallet_applied is drawn."""
    con = request.getfixturevalue(night)
    ledger = _wallet_entries(con)
    for acc, entries in ledger.items():
        balance = D(0)
        for e in entries:
            balance += e["amount"]
            assert e["balance_after"] == balance, (acc, e)
            if e["entry_type"] == "APPLIED":
                assert e["amount"] < 0 and e["invoice_id"] and not e["transaction_id"], e
            else:
                assert e["transaction_id"] and not e["invoice_id"], e
        moves = sum(e["amount"] for e in entries if e["entry_type"] != "APPLIED")
        drawn = -sum(e["amount"] for e in entries if e["entry_type"] == "APPLIED")
        assert moves - drawn == entries[-1]["balance_after"], acc
    draws = {
        e["invoice_id"]: -e["amount"]
        for es in ledger.values()
        for e in es
        if e["entry_type"] == "APPLIED"
    }
    finalized = {
        r["invoice_id"]: r["wallet_applied"]
        for r in rows(
            con,
            "select invoice_id, wallet_applied from marts.fct_invoices "
            "where status <> 'DRAFT' and wallet_applied > 0",
        )
    }
    assert draws == finalized


# ---------------------------------------------------------------- pipeline log


def test_pipeline_log_names_each_events_invoice(run1, run2):
    """Every case event is METERED, tied to its account's invoice for its cycle, with the
    revenue it was rated at (unrounded, before pricing rules; SEMANTICS 18)."""
    log = {r["event_id"]: r for r in rows(run2, "select * from marts.fct_event_pipeline_log")}
    assert set(log) == {e.event_id for e in EVENTS}
    for event in EVENTS:
        row = log[event.event_id]
        period = DEC if event.when.startswith("2026-12") else NOV
        invoice = invoice_of(run2, event.account, period)
        assert row["status"] == "METERED", row
        assert row["account_id"] == event.account
        assert row["invoice_id"] == invoice["invoice_id"], event.event_id
        assert row["cycle_start"] == invoice["period_start"]
        assert list(row["matched_meter_ids"]) == [event.meter]
        assert row["revenue"] == D(event.revenue), event.event_id
        assert row["revenue_computed"] is True
    first = {r["event_id"] for r in rows(run1, "select event_id from marts.fct_event_pipeline_log")}
    assert first == {e.event_id for e in EVENTS if e.landing == 1}
