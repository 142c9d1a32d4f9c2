"""One small billed warehouse for every dashboard test, with its figures worked out by hand.

Catalog: tests/dashboards/fixture_catalog (two customers, three accounts, two USD plans).

    starter: calls TIERED 0.10 up to 10 calls, 0.05 above; storage 2.00/GB; platform 10.00;
             rule `loyalty` ADDs -10% of the subtotal when the subtotal is above 15.
    growth:  calls VOLUME 0.08 (0.04 above 50); storage 1.50/GB; platform 25.00;
             minimum commitment 40.00.

Run 1 (as of 2026-11-20) bills the first landing file; run 2 (as of 2026-11-21) receives one
more October call for acc_a1, after October was finalized: PAST_GRACE_PERIOD.

    acc_a1 Oct (starter, DUE): 12 calls = 10 × 0.10 + 2 × 0.05 = 1.10; 3 GB × 2.00 = 6.00;
        platform 10.00; subtotal before the rule 17.10 > 15, so loyalty -1.71; subtotal 15.39;
        credit cr_a1_storage (8.00, storage only) covers storage 6.00 → total 9.39;
        wallet topup 4.00 (Oct 1) drawn when it fell due → amount due 5.39.
    acc_a1 Nov (starter, DRAFT): 5 calls = 0.50; platform 10.00 → 10.50 (rule false).
    acc_a2 Nov (starter, DRAFT): 3 calls = 0.30; platform 10.00 → 10.30.
    acc_b1 Oct (starter, DUE): 20 calls = 1.00 + 0.50 = 1.50; platform 10.00 → 11.50; its
        wallet topup (Nov 10) came after it fell due (Nov 4): nothing drawn.
    acc_b1 Nov (growth, DRAFT): 1 call = 0.08; 4 GB × 1.50 = 6.00; platform 25.00 →
        subtotal 31.08; true-up 40.00 - 31.08 = 8.92 → total 40.00.

    cust_a invoiced 9.39 + 10.50 + 10.30 = 30.19; cust_b 11.50 + 40.00 = 51.50;
    starter 41.69, growth 40.00; all 81.69.
    Credits (cust_a): granted 8.00, applied 6.00, available 2.00.
    Wallets: acc_a1 4.00 - 4.00 = 0.00; acc_b1 50.00.
    Usage: cust_a API calls 12 + 1 late (Oct) + 5 + 3 (Nov) = 21, storage 3 GB;
           cust_b API calls 21, storage 4 GB.
    Records: 43 METERED, 1 PAST_GRACE_PERIOD, 1 DUPLICATE, 1 ACCOUNT_NOT_FOUND, 1 INVALID.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dagster_project.cli import run_nightly
from dagster_project.settings import Settings, parse_as_of

FIXTURE_CATALOG = Path(__file__).parent / "fixture_catalog"
SECRET = "tallyhouse-test-secret-0123456789abcdef"
RUN_1_AS_OF = "2026-11-20T00:00:00Z"
RUN_2_AS_OF = "2026-11-21T00:00:00Z"
# An event id full of SQL metacharacters, billed like any other (acc_a2, November).
TRICKY_EVENT_ID = "evt-a2-o'brien\"; drop table marts.fct_invoices; --"
LATE_EVENT_ID = "evt-a1-oct-late"


def _call(event_id: str, account: str, at: datetime) -> dict:
    return {
        "id": event_id,
        "schemaName": "api_call",
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "accountId": account,
        "attributes": [],
        "dimensions": {"endpoint": "/v1/score"},
    }


def _storage(event_id: str, account: str, at: datetime, gb: str) -> dict:
    return {
        "id": event_id,
        "schemaName": "storage",
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "accountId": account,
        "attributes": [{"name": "gb", "value": gb, "unit": "GB"}],
        "dimensions": {},
    }


def first_landing_file() -> list[dict | str]:
    hour = timedelta(hours=1)
    oct5, oct6 = datetime(2026, 10, 5, 8, tzinfo=UTC), datetime(2026, 10, 6, 8, tzinfo=UTC)
    nov3, nov4 = datetime(2026, 11, 3, 8, tzinfo=UTC), datetime(2026, 11, 4, 8, tzinfo=UTC)
    records: list[dict | str] = []
    records += [_call(f"evt-a1-oct-{i:02d}", "acc_a1", oct5 + i * hour) for i in range(1, 13)]
    records.append(
        _storage("evt-a1-oct-storage", "acc_a1", datetime(2026, 10, 10, tzinfo=UTC), "3")
    )
    # Events may name an account by alias.
    records += [_call(f"evt-a1-nov-{i:02d}", "acme-prod", nov3 + i * hour) for i in range(1, 6)]
    records += [_call(f"evt-a2-nov-{i:02d}", "acc_a2", nov4 + i * hour) for i in range(1, 3)]
    records.append(_call(TRICKY_EVENT_ID, "acc_a2", nov4 + 3 * hour))
    records += [_call(f"evt-b1-oct-{i:02d}", "acc_b1", oct6 + i * hour) for i in range(1, 21)]
    records.append(_call("evt-b1-nov-01", "acc_b1", datetime(2026, 11, 5, 9, tzinfo=UTC)))
    records.append(
        _storage("evt-b1-nov-storage", "acc_b1", datetime(2026, 11, 5, 10, tzinfo=UTC), "4")
    )
    # Data-quality cases: a resend (same payload), an unknown account, no timestamp.
    records.append(_call("evt-a1-nov-01", "acme-prod", nov3 + hour))
    records.append(_call("evt-ghost-01", "acc_ghost", nov3))
    records.append({"id": "evt-bad-01", "schemaName": "api_call", "accountId": "acc_a1"})
    return records


def _write_jsonl(path: Path, records: list[dict | str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@dataclass(frozen=True)
class DashboardWarehouse:
    root: Path
    settings: Settings

    @property
    def serving(self) -> Path:
        return self.settings.serving


@pytest.fixture(scope="session")
def dashboard_warehouse(tmp_path_factory) -> DashboardWarehouse:
    """Billed twice through the real nightly job; the serving snapshot is its last output."""
    root = tmp_path_factory.mktemp("dashboards")
    catalog = root / "catalog"
    shutil.copytree(FIXTURE_CATALOG, catalog)
    landing = root / "landing"
    _write_jsonl(landing / "2026-11-19-events.jsonl", first_landing_file())
    settings = Settings.from_env({}).with_overrides(
        catalog=catalog,
        landing=landing,
        warehouse=root / "warehouse.duckdb",
        serving=root / "serving.duckdb",
        as_of=parse_as_of(RUN_1_AS_OF),
    )
    run_nightly(settings)
    late = _call(LATE_EVENT_ID, "acc_a1", datetime(2026, 10, 20, 12, tzinfo=UTC))
    _write_jsonl(landing / "2026-11-20-late.jsonl", [late])
    settings = settings.with_overrides(as_of=parse_as_of(RUN_2_AS_OF))
    run_nightly(settings)
    return DashboardWarehouse(root=root, settings=settings)


@pytest.fixture(scope="session")
def app_env(dashboard_warehouse) -> Iterator[DashboardWarehouse]:
    """The app's settings (serving snapshot and token secret) as the app reads them."""
    saved = {k: os.environ.get(k) for k in ("TALLYHOUSE_SERVING", "TALLYHOUSE_PORTAL_SECRET")}
    os.environ["TALLYHOUSE_SERVING"] = str(dashboard_warehouse.serving)
    os.environ["TALLYHOUSE_PORTAL_SECRET"] = SECRET
    yield dashboard_warehouse
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


APP = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"


def token(scope: str, customer: str | None = None, accounts=None, **options) -> str:
    from dagster_project.lib.tokens import issue_token

    return issue_token(SECRET, scope=scope, customer_id=customer, accounts=accounts, **options)


def open_page(page: str | None, token: str | None):
    """Run the app as a browser would open `page` with `?token=`; returns the AppTest."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    if token is not None:
        at.query_params["token"] = token
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def shown_text(at) -> str:
    """Everything a page shows as text: markdown, messages, metrics and table cells."""
    parts = [
        e.value
        for kind in ("title", "subheader", "markdown", "caption", "info", "error", "warning")
        for e in getattr(at, kind)
    ]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return "\n".join(str(p) for p in parts)
