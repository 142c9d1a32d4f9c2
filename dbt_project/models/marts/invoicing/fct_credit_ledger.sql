-- Every credit movement: GRANTED, APPLIED (by a finalized invoice), EXPIRED.
select * from {{ source('billing', 'credit_ledger') }}
