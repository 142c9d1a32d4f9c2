"""The workflow's durable state in the warehouse (schema billing): runs, action logs and the
payments recorded against invoices. Every write commits before the workflow moves on, so a
crash loses at most the action in flight, which the next run finds again at the provider."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

import duckdb

MONEY = "decimal(38, 12)"

WORKFLOW_RUN_COLUMNS = {
    "run_id": "varchar",
    "workflow": "varchar",
    "invoice_id": "varchar",
    "account_id": "varchar",
    "customer_id": "varchar",
    "idempotency_key": "varchar",
    "amount": MONEY,
    "currency": "varchar",
    "provider": "varchar",
    "status": "varchar",
    "attempts": "integer",
    "failed_action": "varchar",
    "failure_reason": "varchar",
    "started_at": "timestamptz",
    "finished_at": "timestamptz",
}
ACTION_LOG_COLUMNS = {
    "log_id": "varchar",
    "run_id": "varchar",
    "attempt": "integer",
    "action_order": "integer",
    "action": "varchar",
    "try_number": "integer",
    "status": "varchar",
    "request": "varchar",
    "response": "varchar",
    "error": "varchar",
    "started_at": "timestamptz",
    "finished_at": "timestamptz",
}
INVOICE_PAYMENT_COLUMNS = {
    "invoice_id": "varchar",
    "run_id": "varchar",
    "amount": MONEY,
    "currency": "varchar",
    "provider": "varchar",
    "provider_payment_id": "varchar",
    "paid_at": "timestamptz",
}
PAYMENT_TABLES = {
    "workflow_runs": WORKFLOW_RUN_COLUMNS,
    "workflow_action_logs": ACTION_LOG_COLUMNS,
    "invoice_payments": INVOICE_PAYMENT_COLUMNS,
}


def ensure_payment_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists billing")
    for table, columns in PAYMENT_TABLES.items():
        body = ", ".join(f"{name} {kind}" for name, kind in columns.items())
        con.execute(f"create table if not exists billing.{table} ({body})")


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


class WorkflowStore:
    """Reads and writes the workflow tables over one warehouse connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        ensure_payment_tables(con)

    def rows(self, sql: str, params=()) -> list[dict]:
        cursor = self.con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("begin transaction")
        try:
            yield
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise

    # ------------------------------------------------------------ runs

    def run(self, run_id: str) -> dict | None:
        found = self.rows("select * from billing.workflow_runs where run_id = ?", [run_id])
        return found[0] if found else None

    def begin_attempt(self, run: dict, now: datetime) -> int:
        """A new run (attempt 1) or the next attempt of an unfinished one."""
        existing = self.run(run["run_id"])
        if existing is None:
            row = {**run, "status": "IN_PROGRESS", "attempts": 1, "started_at": now}
            names = ", ".join(WORKFLOW_RUN_COLUMNS)
            marks = ", ".join("?" for _ in WORKFLOW_RUN_COLUMNS)
            self.con.execute(
                f"insert into billing.workflow_runs ({names}) values ({marks})",
                [row.get(name) for name in WORKFLOW_RUN_COLUMNS],
            )
            return 1
        attempt = existing["attempts"] + 1
        self.con.execute(
            """update billing.workflow_runs
               set status = 'IN_PROGRESS', attempts = ?, failed_action = null,
                   failure_reason = null, finished_at = null, provider = ?
               where run_id = ?""",
            [attempt, run["provider"], run["run_id"]],
        )
        return attempt

    def finish_run(
        self,
        run_id: str,
        status: str,
        now: datetime,
        failed_action: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.con.execute(
            """update billing.workflow_runs
               set status = ?, finished_at = ?, failed_action = ?, failure_reason = ?
               where run_id = ?""",
            [status, now, failed_action, reason, run_id],
        )

    # ------------------------------------------------------------ action logs

    def done_actions(self, run_id: str) -> dict[str, dict]:
        """Each action that succeeded in some attempt, with its recorded result."""
        return {
            r["action"]: json.loads(r["response"])
            for r in self.rows(
                """select action, response from billing.workflow_action_logs
                   where run_id = ? and status = 'SUCCEEDED'
                   order by attempt, try_number""",
                [run_id],
            )
        }

    def log_action(
        self,
        *,
        run_id: str,
        attempt: int,
        action_order: int,
        action: str,
        try_number: int,
        status: str,
        request,
        response,
        error: str | None,
        started_at: datetime,
        finished_at: datetime,
    ) -> None:
        self.con.execute(
            f"insert into billing.workflow_action_logs ({', '.join(ACTION_LOG_COLUMNS)}) "
            f"values ({', '.join('?' for _ in ACTION_LOG_COLUMNS)})",
            [
                f"{run_id}:{attempt}:{action_order}:{try_number}",
                run_id,
                attempt,
                action_order,
                action,
                try_number,
                status,
                _json(request),
                _json(response),
                error,
                started_at,
                finished_at,
            ],
        )

    # ------------------------------------------------------------ payments

    def record_payment(
        self,
        *,
        invoice_id: str,
        run_id: str,
        amount: Decimal,
        currency: str,
        provider: str,
        provider_payment_id: str,
        paid_at: datetime,
    ) -> bool:
        """Store the payment once per run; False when it was already there."""
        if self.rows("select 1 from billing.invoice_payments where run_id = ?", [run_id]):
            return False
        self.con.execute(
            "insert into billing.invoice_payments values (?, ?, cast(? as decimal(38, 12)), ?, ?, ?, ?)",
            [
                invoice_id,
                run_id,
                format(amount, "f"),
                currency,
                provider,
                provider_payment_id,
                paid_at,
            ],
        )
        return True
