-- Late usage (CONTRACT §2, SEMANTICS 8): records received after their cycle's invoice was
-- finalized. Kept and logged, never billed; finance reads them here.
{{ config(materialized=view_unless_spark()) }}

select
    event_id,
    raw_ref,
    source_file,
    received_at,
    event_timestamp,
    schema_name,
    account_id,
    customer_id,
    matched_meter_ids,
    meter_units,
    plan_id,
    cycle_start,
    cycle_end,
    invoice_id,
    status_reason
from {{ ref('fct_event_pipeline_log') }}
where status = 'PAST_GRACE_PERIOD'
