-- One collect_payment run per DUE invoice (CONTRACT §2): its latest status and how many
-- nightly attempts it took.
{{ config(materialized=view_unless_spark()) }}
select run_id, workflow, invoice_id, account_id, customer_id, idempotency_key, amount,
       currency, provider, status, attempts, failed_action, failure_reason, started_at,
       finished_at
from {{ source('billing', 'workflow_runs') }}
