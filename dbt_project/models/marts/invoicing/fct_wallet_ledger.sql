-- Every wallet movement: TOPUP, ADJUSTMENT, APPLIED (by an invoice that fell due).
select * from {{ source('billing', 'wallet_ledger') }}
