with source as (select * from {{ source('catalog', 'account_aliases') }})
select alias, account_id from source
