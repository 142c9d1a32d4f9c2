-- Every credit movement: GRANTED, APPLIED (by a finalized invoice), EXPIRED.
{{ config(materialized=view_unless_spark()) }}
select * from {{ source('billing', 'credit_ledger') }}
