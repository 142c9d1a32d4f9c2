"""A catalog small enough to bill by hand: one plan, one meter, two accounts.

Plan `basic` (USD, monthly from the 1st, 3 grace days): `token_usage` at 0.01 per token
(one TIERED slab) and a flat `platform_fee` of 10.00 (not prorated).

Events (UTC accounts):
  acc_a  October: 1,000 + 234 tokens → 12.34 + 10.00 = 22.34
  acc_b  October:   500 tokens       →  5.00 + 10.00 = 15.00
  acc_a  November:  300 tokens       →  3.00 + 10.00 = 13.00
  acc_b  November:  no usage         →          10.00 = 10.00
Billed as of 2026-12-05 (November finalizes on 2026-12-04): four DUE invoices, and two
December drafts of 10.00 each.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

AS_OF = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)

PRICING = """\
event_schemas:
  - name: api_call
    attributes: [{name: tokens, unit: tokens}]
    dimensions: []
usage_meters:
  - id: tokens
    name: Tokens
    event_schema: api_call
    aggregation: SUM
    value: {"var": "attributes.tokens"}
price_plans:
  - id: basic
    name: Basic
    currency: USD
    billing_cycle: {interval: MONTHLY, anchor_day: 1, grace_period_days: 3}
    rate_cards:
      - id: token_usage
        type: USAGE
        meter: tokens
        pricing_model: TIERED
        slabs:
          - {start_after: "0", rate: "RATE"}
      - {id: platform_fee, type: FIXED_FEE, amount: "10.00", proration: false}
"""

EVENTS = [
    ("evt-a-1", "2026-10-03T10:00:00Z", "acc_a", 1000),
    ("evt-a-2", "2026-10-20T10:00:00Z", "acc_a", 234),
    ("evt-b-1", "2026-10-11T10:00:00Z", "acc_b", 500),
    ("evt-a-3", "2026-11-15T10:00:00Z", "acc_a", 300),
]


def write_catalog(folder: Path, *, rate: str = "0.01", since: str = "2026-10-01") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pricing.yaml").write_text(PRICING.replace("RATE", rate))
    (folder / "customers.csv").write_text(
        "customer_id,name,email\ncus_a,A Inc.,a@example.com\ncus_b,B Inc.,b@example.com\n"
    )
    (folder / "accounts.csv").write_text(
        "account_id,customer_id,name,currency,timezone,aliases\n"
        "acc_a,cus_a,A,USD,UTC,\nacc_b,cus_b,B,USD,UTC,\n"
    )
    (folder / "plan_assignments.csv").write_text(
        "assignment_id,account_id,plan_id,effective_from,effective_until\n"
        f"asg_a,acc_a,basic,{since},\nasg_b,acc_b,basic,{since},\n"
    )
    return folder


def write_events(landing: Path, events=EVENTS, name: str = "events-1.jsonl") -> Path:
    landing.mkdir(parents=True, exist_ok=True)
    path = landing / name
    with path.open("w") as stream:
        for event_id, timestamp, account, tokens in events:
            record = {
                "id": event_id,
                "schemaName": "api_call",
                "timestamp": timestamp,
                "accountId": account,
                "attributes": {"tokens": tokens},
            }
            stream.write(json.dumps(record) + "\n")
    return path
