with source as (select * from {{ source('catalog', 'customers') }})
select customer_id, customer_name, email from source
