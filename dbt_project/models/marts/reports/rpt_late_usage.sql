-- Late usage (CONTRACT §2, SEMANTICS 8): records received after their cycle's invoice was
-- finalized. Kept and logged, never billed; finance reads them here.
-- A table on Spark: the Python side reads Spark's tables as Parquet files, which a view has not.
{{ config(materialized=('table' if target.type == 'spark' else 'view')) }}

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
