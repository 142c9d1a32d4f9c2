with source as (select * from {{ source('catalog', 'wallet_transactions') }})
select transaction_id, account_id, transaction_type, amount, currency, occurred_at from source
