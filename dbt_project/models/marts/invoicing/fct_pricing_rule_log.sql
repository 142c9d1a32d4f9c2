-- One row per pricing rule evaluated on one invoice, with the variables it read.
{{ config(materialized=view_unless_spark()) }}
with logs as (
    select * from {{ source('billing', 'finalized_pricing_rule_log') }}
    union all
    select * from {{ source('billing', 'draft_pricing_rule_log') }}
)

select * from logs
