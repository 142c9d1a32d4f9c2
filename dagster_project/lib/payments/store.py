"""The workflow's durable state in the warehouse (schema billing): runs, action logs and the
payments recorded against invoices. Every write commits before the workflow moves on, so a
crash loses at most the action in flight, which the next run finds again at the provider."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
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


# json.dumps(value, sort_keys=True, default=str) without building an encoder per call: a
# night writes a request and a response per action log row.
_JSON = json.JSONEncoder(sort_keys=True, default=str)


def _json(value) -> str | None:
    return None if value is None else _JSON.encode(value)


def _arrow(rows: list[dict], columns: dict[str, str]):
    import pyarrow as pa

    def text(value):
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, dict | list):
            return _json(value)
        return value

    # Only text columns need converting (JSON, exact decimals); integers and timestamps go
    # to Arrow as they are: a night writes ~4 log rows per invoice.
    # Text cells (most of them) are tested inline rather than through a call per cell.
    return pa.table(
        {
            name: pa.array(
                [v if (v := r.get(name)) is None or type(v) is str else text(v) for r in rows]
                if kind in ("varchar", MONEY)
                else [r.get(name) for r in rows],
                type=_ARROW[kind],
            )
            for name, kind in columns.items()
        }
    )


def _arrow_types():
    import pyarrow as pa

    return {
        "varchar": pa.string(),
        MONEY: pa.string(),
        "integer": pa.int64(),
        "timestamptz": pa.timestamp("us", tz="UTC"),
    }


_ARROW: dict = {}


class WorkflowStore:
    """Reads and writes the workflow tables over one warehouse connection, a batch of runs
    at a time (one statement per batch, not per run: nights can have tens of thousands)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        ensure_payment_tables(con)
        if not _ARROW:
            _ARROW.update(_arrow_types())

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

    def _insert(self, table: str, rows: list[dict]) -> None:
        if not rows:
            return
        columns = PAYMENT_TABLES[table]
        self.con.register("new_rows", _arrow(rows, columns))
        select = ", ".join(f"cast({name} as {kind}) as {name}" for name, kind in columns.items())
        try:
            self.con.execute(f"insert into billing.{table} select {select} from new_rows")
        finally:
            self.con.unregister("new_rows")

    # ------------------------------------------------------------ runs

    def runs_of(self, run_ids: list[str]) -> tuple[dict[str, dict], dict[str, int]]:
        """The stored runs among `run_ids`: those not yet SUCCEEDED, with the results of
        their actions that succeeded; and the SUCCEEDED ones with their attempts. Read for
        the given runs only, so paid history costs nothing per night."""
        if not run_ids:
            return {}, {}
        self.con.register("ids", _arrow([{"run_id": r} for r in run_ids], {"run_id": "varchar"}))
        try:
            stored = self.rows(
                "select * from billing.workflow_runs where run_id in (select run_id from ids)"
            )
            runs = {r["run_id"]: {**r, "done": {}} for r in stored if r["status"] != "SUCCEEDED"}
            succeeded = {r["run_id"]: r["attempts"] for r in stored if r["status"] == "SUCCEEDED"}
            if runs:
                for r in self.rows(
                    """select l.run_id, l.action, l.response from billing.workflow_action_logs l
                       join billing.workflow_runs r using (run_id)
                       where r.status <> 'SUCCEEDED' and l.status = 'SUCCEEDED'
                         and l.run_id in (select run_id from ids)
                       order by l.attempt, l.try_number"""
                ):
                    runs[r["run_id"]]["done"][r["action"]] = json.loads(r["response"])
        finally:
            self.con.unregister("ids")
        return runs, succeeded

    def begin_attempts(self, new_runs: list[dict], resumed: list[dict]) -> None:
        """Insert new runs (attempt 1); move resumed ones to their next attempt."""
        with self.transaction():
            self._insert("workflow_runs", new_runs)
            if resumed:
                self.con.register("resumed", _arrow(resumed, WORKFLOW_RUN_COLUMNS))
                try:
                    self.con.execute(
                        """update billing.workflow_runs w
                           set status = 'IN_PROGRESS', attempts = r.attempts,
                               failed_action = null, failure_reason = null,
                               finished_at = null, provider = r.provider
                           from resumed r where w.run_id = r.run_id"""
                    )
                finally:
                    self.con.unregister("resumed")

    def finish_runs(self, finished: list[dict]) -> None:
        """Rows with run_id, status, finished_at, failed_action, failure_reason."""
        if not finished:
            return
        self.con.register("finished", _arrow(finished, WORKFLOW_RUN_COLUMNS))
        try:
            self.con.execute(
                """update billing.workflow_runs w
                   set status = f.status, finished_at = cast(f.finished_at as timestamptz),
                       failed_action = f.failed_action, failure_reason = f.failure_reason
                   from finished f where w.run_id = f.run_id"""
            )
        finally:
            self.con.unregister("finished")

    # ------------------------------------------------------------ action logs, payments

    def append_logs(self, logs: list[dict]) -> None:
        for row in logs:
            row["log_id"] = (
                f"{row['run_id']}:{row['attempt']}:{row['action_order']}:{row['try_number']}"
            )
        self._insert("workflow_action_logs", logs)

    def recorded_runs(self, run_ids: list[str]) -> set[str]:
        if not run_ids:
            return set()
        self.con.register("ids", _arrow([{"run_id": r} for r in run_ids], {"run_id": "varchar"}))
        try:
            return {
                r[0]
                for r in self.con.execute(
                    "select run_id from billing.invoice_payments where run_id in (select run_id from ids)"
                ).fetchall()
            }
        finally:
            self.con.unregister("ids")

    def record_payments(self, payments: list[dict]) -> None:
        self._insert("invoice_payments", payments)
