-- Every wallet movement: TOPUP, ADJUSTMENT, APPLIED (by an invoice that fell due).
{{ config(materialized=view_unless_spark()) }}
select * from {{ source('billing', 'wallet_ledger') }}
