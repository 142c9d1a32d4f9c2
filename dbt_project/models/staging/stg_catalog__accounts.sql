with source as (select * from {{ source('catalog', 'accounts') }})
select account_id, customer_id, account_name, currency, timezone from source
