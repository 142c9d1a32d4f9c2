"""One night of collection in its own process, as a drill runs it: `python -m
tests.payments.drill WAREHOUSE PROVIDER API_BASE FAULTS METHODS`. A crash fault ends this
process with CRASH_EXIT_CODE right after the action is logged."""

import sys
from datetime import UTC, datetime

import duckdb

from dagster_project.lib.payments import (
    FaultInjector,
    RetryPolicy,
    SandboxProvider,
    StripeProvider,
    collect_due_invoices,
    parse_faults,
    parse_payment_methods,
)

PAID_AT = datetime(2026, 12, 15, 2, tzinfo=UTC)
API_KEY = "sk_test_tallyhouse"


def provider_for(con, name: str, api_base: str):
    return SandboxProvider(con) if name == "sandbox" else StripeProvider(API_KEY, api_base)


def night(con, provider, faults: str = "", methods: str = ""):
    return collect_due_invoices(
        con,
        provider,
        paid_at=PAID_AT,
        faults=FaultInjector(parse_faults(faults)),
        retry=RetryPolicy(max_tries=3, backoff_seconds=0, sleep=lambda _: None),
        payment_methods=parse_payment_methods(methods),
    )


if __name__ == "__main__":
    warehouse, name, api_base, faults, methods = sys.argv[1:6]
    con = duckdb.connect(warehouse)
    summary = night(con, provider_for(con, name, api_base), faults, methods)
    con.close()
    print(summary)
